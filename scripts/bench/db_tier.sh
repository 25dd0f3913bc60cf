#!/usr/bin/env bash
# make bench-db: what synchronous replication costs in write speed on the database tier
# (issue 20). The six hosts of make test-db in network namespaces (tests/lib/db-hosts.sh:
# three DB hosts with etcd, Patroni and PostgreSQL 15, billing, an inventory host, the
# gateway), then make bench's (c) POST /api/movies and (d) POST /api/billing through the
# gateway, with make bench's wrk settings, lua scripts and measure.sh, and its (e), the
# drain of queued orders into billing_db (scenarios.sh's scenario_drain, run against
# billing-vm's PM2, RabbitMQ node and the cluster), once with Patroni's
# synchronous_mode on (as deployed: a commit returns once the sync standby has it) and
# once off (asynchronous replicas), per round. The rounds alternate the order (on off,
# off on, on off) so that a machine that gets busier or quieter during the run weighs on
# both alike; each rate is the median of its rounds, and the spread of the rounds is
# printed beside it. The run ends with synchronous_mode on again. Everything is removed
# on exit, failed or not (hosts_begin).
#
# Usage: scripts/bench/db_tier.sh          full run: 3 rounds of each (10 s after a 2 s
#                                          warm-up; 20,000 orders); writes docs/bench/db-tier.md
#        QUICK=1 scripts/bench/db_tier.sh  smoke run: 1 round of 1 s, no warm-up, 500 orders;
#                                          writes db-tier.md under a /tmp/movies-bench-db.* folder
# Takes the network-namespace lock of make test-hosts, test-cluster and test-db.
set -euo pipefail
# shellcheck source=scripts/deploy/lib/env.sh
source "$(dirname "$0")/../deploy/lib/env.sh"
# shellcheck source=tests/lib/hosts.sh
source "$PROJECT_ROOT/tests/lib/hosts.sh"
# shellcheck source=tests/lib/db-hosts.sh
source "$PROJECT_ROOT/tests/lib/db-hosts.sh"
hold_netns_lock "$@"
# The cluster as Patroni's REST API tells it (db_cluster_json, db_primary, db_healthy,
# on_db) and billing's queue (queue_json), as make test-db reads them.
# shellcheck source=tests/cluster/cluster.bash
source "$PROJECT_ROOT/tests/cluster/cluster.bash"
# shellcheck source=tests/cluster/db.bash
source "$PROJECT_ROOT/tests/cluster/db.bash"

BENCH_DIR=$PROJECT_ROOT/scripts/bench
export BENCH_LUA_DIR=$BENCH_DIR
# make bench's wrk settings (bench.sh). measure.sh's rounds run one round per call here
# (ROUNDS=1): this script interleaves the modes' rounds itself (SYNC_ROUNDS).
THREADS=2 CONNECTIONS=32 PROFILE=0 ROUNDS=1
if [[ ${QUICK:-} =~ ^(|0|no|false)$ ]]; then
	QUICK=0 DURATION=10 WARMUP=2 SYNC_ROUNDS=3 ORDERS=20000
else
	QUICK=1 DURATION=1 WARMUP=0 SYNC_ROUNDS=1 ORDERS=500
fi
# How long billing_app may take to store the orders (d) left in the queue, or (e)'s.
DRAIN_TIMEOUT_SECONDS=600

# shellcheck source=scripts/bench/numbers.sh
source "$BENCH_DIR/numbers.sh"
# shellcheck source=scripts/bench/measure.sh
source "$BENCH_DIR/measure.sh"
# shellcheck source=scripts/bench/resources.sh
source "$BENCH_DIR/resources.sh"
# shellcheck source=scripts/bench/scenarios.sh
source "$BENCH_DIR/scenarios.sh"

# cpu_sample (measure.sh's wrk_round takes one before and after each run): the whole
# machine only. The stack's parts that resources.sh's sample names run in the hosts'
# namespaces under PM2s of their own; save_cpu then gives machine busy %, CPU µs/request.
CPU_PARTS=()
cpu_sample() {
	awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; printf "%d %d\n", b, b + $5 + $6 }' /proc/stat
}

declare -A LABEL=([c]="(c) POST /api/movies" [d]="(d) POST /api/billing (confirmed)"
	[e]="(e) drain of $(thousands "$ORDERS") queued orders into billing_db")
declare -A UNIT=([c]=req/s [d]=req/s [e]=orders/s)
SCENARIO_KEYS=(c d e)

# ---- (e) on billing-vm -------------------------------------------------------------
# scenarios.sh's scenario_drain runs the stack's PM2, rabbitmqctl and psql on make bench's
# one host; here they are billing-vm's, and billing_db is the cluster's primary, reached
# from billing-vm (the only host its pg_hba admits billing's role from) as billing_app
# reaches it. These stand in for them while it runs.

# billing_pm2 ARGS...: PM2 of billing-vm (scenario_drain's "$PM2"; there, the real one).
billing_pm2() { PM2='' on_stack "$BILLING_HOST" "\"\$PM2\" $(printf '%q ' "$@")"; }

# rabbitmqctl_ ARGS...: rabbitmqctl on billing-vm's node.
rabbitmqctl_() { on_stack "$BILLING_HOST" "rabbitmqctl_ $(printf '%q ' "$@")"; }

# queue_count: the messages in billing's queue (QUEUE_NAME), on billing-vm's node.
queue_count() { queue_json "$BILLING_HOST" | jq -r .messages; }

# app_psql POSTGRES_BILLING ARGS...: psql as billing's role on the primary, from
# billing-vm (libpq's multi-host form, as billing_app connects).
app_psql() {
	on_stack "$BILLING_HOST" "POSTGRES_BILLING_HOST=\$DB_HOSTS POSTGRES_BILLING_PORT=\$POSTGRES_PORT \
		PGTARGETSESSIONATTRS=read-write PGCONNECT_TIMEOUT=2 app_psql $(printf '%q ' "$@")"
}

# ---- synchronous_mode ------------------------------------------------------------------

# sync_mode_is on|off: the cluster shows it, with its three members running: on, a
# sync_standby and the primary's synchronous_standby_names naming it; off, no
# sync_standby and synchronous_standby_names empty (commits wait for no replica).
sync_mode_is() {
	local names primary
	primary=$(db_primary) || return 1
	names=$(on_db "$primary" 'SHOW synchronous_standby_names' 2>/dev/null) || return 1
	if [ "$1" = on ]; then
		db_healthy >/dev/null && [ -n "$names" ]
	else
		db_cluster_json | jq -e '(.members | length) == 3 and
			([.members[] | select(.role == "sync_standby")] | length) == 0 and
			([.members[] | select(.state == "running" or .state == "streaming")] | length) == 3' \
			>/dev/null && [ -z "$names" ]
	fi
}

# set_sync_mode on|off: Patroni's synchronous_mode in the cluster's configuration (in
# etcd), changed the operator's way, patronictl edit-config on the primary's host as the
# postgres user; then waits until the cluster shows the change.
set_sync_mode() {
	local want=$1 value=false primary start=$SECONDS
	[ "$want" = off ] || value=true
	primary=$(db_primary)
	on_host "$primary" runuser -u postgres -- patronictl -c "$HOSTS_DIR/$primary/db/patroni.yml" \
		edit-config --set "synchronous_mode=$value" --force >"$WORK/raw/edit-config-$want.txt"
	wait_for 120 sync_mode_is "$want" ||
		{ echo "synchronous_mode $want: the cluster did not show it" >&2; db_cluster_json >&2; return 1; }
	echo "== [$SECONDS s] synchronous_mode $want (primary $primary; shown after $((SECONDS - start)) s):" \
		"$(db_cluster_json | jq -r '[.members[] | "\(.name) \(.role)"] | join(", ")')"
}

# orders_drained: billing's queue is empty, every order of (d) stored in billing_db.
orders_drained() {
	queue_json "$BILLING_HOST" | jq -e '.messages == 0' >/dev/null
}

# ---- Measuring ---------------------------------------------------------------------

# measure MODE ROUND: (c) and (d), keys c-MODE-ROUND and d-MODE-ROUND; then waits until
# billing_app has stored the orders (d) queued, so that its commits do not weigh on the
# next measurement.
measure() {
	local mode=$1 round=$2 key start
	for key in c d; do
		case $key in
		c) run_wrk "c-$mode-$round" post_movie.lua /api/movies ;;
		d) run_wrk "d-$mode-$round" billing.lua /api/billing ;;
		esac
		echo "   ${LABEL[$key]}, sync $mode, round $round:" \
			"$(thousands "$(result "$key-$mode-$round" rate)") ${UNIT[$key]}" \
			"p50 $(ms "$(result "$key-$mode-$round" p50)") p99 $(ms "$(result "$key-$mode-$round" p99)")" \
			"errors $(result "$key-$mode-$round" non2xx)+$(result "$key-$mode-$round" socket)," \
			"machine busy $(cut -d' ' -f1 "$WORK/result/$key-$mode-$round.cpu" 2>/dev/null || echo '?') %"
	done
	start=$SECONDS
	wait_for "$DRAIN_TIMEOUT_SECONDS" orders_drained ||
		{ echo "billing's queue did not drain in $DRAIN_TIMEOUT_SECONDS s" >&2; return 1; }
	echo "   the orders (d) queued were stored after $((SECONDS - start)) s more"
	# scenario_drain saves its result as e: this round's, under its own key.
	PM2=billing_pm2 scenario_drain
	mv "$WORK/result/e" "$WORK/result/e-$mode-$round"
	echo "   ${LABEL[e]}, sync $mode, round $round:" \
		"$(thousands "$(result "e-$mode-$round" rate)") ${UNIT[e]}"
}

# rates KEY MODE: the rates of its rounds, one a line, in round order.
rates() {
	local r
	for ((r = 1; r <= SYNC_ROUNDS; r++)); do result "$1-$2-$r" rate; done
}

# median_of: the median of the numbers on stdin (the lower middle one of an even count).
median_of() {
	local v
	mapfile -t v < <(sort -g)
	echo "${v[$(((${#v[@]} - 1) / 2))]}"
}

# spread KEY MODE: "a / b / c req/s (±N %)": the rounds' rates, and how far the farthest
# is from their median.
spread() {
	local median
	median=$(rates "$1" "$2" | median_of)
	echo "$(rates "$1" "$2" | while read -r v; do thousands "$v"; echo; done | paste -sd/ | sed 's,/, / ,g')" \
		"($(rates "$1" "$2" | awk -v m="$median" '{ d = ($1 > m ? $1 - m : m - $1) / m * 100; if (d > w) w = d }
			END { printf "±%.0f %%", w }'))"
}

# p50_of KEY MODE: the median round's p50 latency.
p50_of() {
	local median r
	median=$(rates "$1" "$2" | median_of)
	for ((r = 1; r <= SYNC_ROUNDS; r++)); do
		[ "$(result "$1-$2-$r" rate)" != "$median" ] || { ms "$(result "$1-$2-$r" p50)"; return; }
	done
}

# results_table: per scenario, the median rate with sync on and off, what sync costs
# (the share of the asynchronous rate lost), the p50s and the rounds.
results_table() {
	local key on off
	echo "| scenario | sync on /s | sync off /s | cost % | p50 on | p50 off | rounds on | rounds off |"
	echo "|---|---:|---:|---:|---:|---:|---|---|"
	for key in "${SCENARIO_KEYS[@]}"; do
		on=$(rates "$key" on | median_of)
		off=$(rates "$key" off | median_of)
		echo "| ${LABEL[$key]} | $(thousands "$on") ${UNIT[$key]} | $(thousands "$off") ${UNIT[$key]}" \
			"| $(calc "($off - $on) / $off * 100" | xargs printf '%.1f') | $(p50_of "$key" on)" \
			"| $(p50_of "$key" off) | $(spread "$key" on) | $(spread "$key" off) |"
	done
}

# write_results FILE: the table, how it was measured, and on what.
write_results() {
	{
		echo "# What synchronous replication costs in write speed (make bench-db)"
		echo
		echo "Written by \`make bench-db$([ "$QUICK" = 0 ] || echo ' QUICK=1')\` (scripts/bench/db_tier.sh)" \
			"at commit $COMMIT. The database tier of"
		echo "\`make test-db\` in network namespaces (three DB hosts with etcd 3.4, Patroni 3.0.2 and"
		echo "PostgreSQL 15; billing with its RabbitMQ node; an inventory host; the gateway), all on"
		echo "this one machine. \`make bench\`'s (c) and (d) through the gateway (wrk, $THREADS threads,"
		echo "$CONNECTIONS connections, $DURATION s after a $WARMUP s warm-up) and its (e) (the time from"
		echo "\`pm2 start billing_app\` until $(thousands "$ORDERS") queued orders are in billing_db), with Patroni's"
		echo "\`synchronous_mode\` on (as deployed) and off, in $SYNC_ROUNDS interleaved round(s)"
		echo "(on off, off on, ...); each rate is the median of its rounds, beside the rounds and how"
		echo "far the farthest is from the median. cost % = (off - on) / off."
		echo
		results_table
		echo
		echo "- nproc: $(nproc); CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
		echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); took $SECONDS s"
		echo "- load average at start / end: $LOAD_START / $(cut -d' ' -f1-3 /proc/loadavg)"
	} >"$1"
}

# ---- Main ------------------------------------------------------------------------

main() {
	local tool r mode modes current=on out
	for tool in wrk curl jq patronictl; do
		command -v "$tool" >/dev/null || { echo "bench-db: $tool is missing" >&2; exit 1; }
	done
	db_hosts_begin
	WORK=$HOSTS_DIR/bench
	mkdir -p "$WORK/raw" "$WORK/result"
	LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
	COMMIT=$(git -C "$PROJECT_ROOT" rev-parse --short HEAD)
	db_hosts_up
	# Provisioning returns once PM2 has started the gateway, before lighttpd listens.
	wait_for 60 curl -fsS -o /dev/null "$BASE_URL/api/movies" ||
		{ echo "the gateway does not answer at $BASE_URL" >&2; exit 1; }
	# publish_orders' filler GET (billing_n.lua) reads this movie.
	FIRST_ID=$(curl -fsS -X POST "$BASE_URL/api/movies" -H 'Content-Type: application/json' \
		-d '{"title":"bench-db","description":"read while orders are queued"}' | jq -er .id)
	echo "== [$SECONDS s] (c), (d) and (e) against $BASE_URL, synchronous_mode on and off"
	wait_for 180 sync_mode_is on ||
		{ echo "the cluster is not three healthy members with a sync standby" >&2; exit 1; }
	for ((r = 1; r <= SYNC_ROUNDS; r++)); do
		if ((r % 2)); then modes=(on off); else modes=(off on); fi
		for mode in "${modes[@]}"; do
			[ "$mode" = "$current" ] || set_sync_mode "$mode"
			current=$mode
			measure "$mode" "$r"
		done
	done
	[ "$current" = on ] || set_sync_mode on

	if [ "$QUICK" = 1 ]; then
		out=$(mktemp -d /tmp/movies-bench-db.XXXXXX)
	else
		out=$PROJECT_ROOT/docs/bench
	fi
	write_results "$out/db-tier.md"
	echo
	sed -n '/^| scenario/,/^$/p' "$out/db-tier.md"
	echo "Results: $out/db-tier.md ($SECONDS s)"
}

main "$@"
