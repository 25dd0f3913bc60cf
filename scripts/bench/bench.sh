#!/usr/bin/env bash
# make bench: the API's speed through the gateway, measured against the machine's own
# ceilings in the same run, on a private stack (PostgreSQL, RabbitMQ, lighttpd, PM2 on
# their own ports and folders, different from the test suite's) stopped on exit.
#
#   scenarios  (a) GET /api/movies/:id  (b) GET /api/movies (1,000 rows)  (c) POST /api/movies
#              (d) POST /api/billing    (e) drain of 20,000 queued orders into billing_db
#              (r) GET /api/movies/:id for 20 s during a rolling restart of the inventory
#                  tier and a graceful gateway reload (failed requests, 1-s rates)
#              (t) (a) through a side gateway whose inventory instances listen on TCP,
#                  as a remote inventory host's do, instead of the stack's unix sockets:
#                  the transport A/B, beside (a) in the same run
#   ceilings   (g) lighttpd serving a small static file
#              (h) pgbench -S, (i) single-row INSERT commits: each the best of TCP and
#                  unix socket, -M simple and prepared, 8 and 32 clients
#              (j) RabbitMQ alone: persistent messages with confirms, 32 in flight
#              (k) lighttpd and FastCGI alone: a responder with a fixed answer, no
#                  database, over TCP and over unix sockets
#   counters   (m) the metrics counters' CPU per request (tools/metrics_cost.c) against
#              each of (a) to (e) and (t)'s whole-stack CPU per request (counters.sh)
#   memory     RSS of every C process before and after, and of the four (lighttpd, the first
#              inventory_app, the publisher, billing_app) during a 1M-request soak
#
# wrk: 2 threads, 32 connections, 10 s after a 2 s warm-up; every wrk and pgbench figure
# is the median of 3 such rounds (shared hardware moves). Durability stays as
# configured (fsync, synchronous_commit, persistent messages, confirms, manual acks).
#
# Usage: scripts/bench/bench.sh            full run; writes docs/bench/results.md and chart.png
#        QUICK=1 scripts/bench/bench.sh    smoke run (1 s per scenario, 16 s for (r), 500
#                                    orders, no soak); writes under the stack's temporary folder
#        scripts/bench/bench.sh a d soak   only these scenarios (while working on one)
#        PROFILE=1 scripts/bench/bench.sh  also a whole-machine perf profile of each wrk
#                                    scenario, summed up in profile-KEY.txt beside the
#                                    results (perf costs some speed: rates run lower)
# Exit status: 1 when a scenario failed to run; in a full run, 2 when a target was missed.
#
# This file: options, the scenario list and the order of the run. Beside it: numbers.sh
# (arithmetic, formatting), teardown.sh (stopping the stack on exit), measure.sh (wrk and
# pgbench rounds, medians), resources.sh (/proc CPU, perf), scenarios.sh (set-up
# and what each scenario does), ceilings.sh ((h) to (k), each the best of several ways),
# sidecars.sh (the side gateways of (k) and (t)), rolling.sh ((r) and its results),
# counters.sh ((m)), report.sh and targets.sh (results.md, chart.png).
set -euo pipefail
# shellcheck source=scripts/deploy/lib/env.sh
source "$(dirname "$0")/../deploy/lib/env.sh"
# shellcheck source=tests/lib/stack.sh
source "$PROJECT_ROOT/tests/lib/stack.sh"
# c_processes, process_pids, snapshot_rss, rss_table, stop_leftovers: shared with the soak
# shellcheck source=tests/lib/procs.sh
source "$PROJECT_ROOT/tests/lib/procs.sh"

BENCH_DIR=$PROJECT_ROOT/scripts/bench
[[ ${PROFILE:-} =~ ^(|0|no|false)$ ]] && PROFILE=0 || PROFILE=1
export BENCH_LUA_DIR=$BENCH_DIR

THREADS=2
CONNECTIONS=32
MOVIES=1000
SOAK_SAMPLE_SECONDS=10
DRAIN_TIMEOUT_SECONDS=600
if [[ ${QUICK:-} =~ ^(|0|no|false)$ ]]; then
	QUICK=0
	DURATION=10 WARMUP=2 ORDERS=20000 PGBENCH_SECONDS=10 PGBENCH_SCALE=10 ROUNDS=3
	SOAK_REQUESTS=${BENCH_SOAK_REQUESTS:-1000000}
	ROLLING_SECONDS=20 ROLLING_INVENTORY_AT=5 ROLLING_GATEWAY_AT=12
else
	QUICK=1
	DURATION=1 WARMUP=0 ORDERS=500 PGBENCH_SECONDS=1 PGBENCH_SCALE=1 SOAK_REQUESTS=0 ROUNDS=1
	# A rolling restart of two unix-socket instances takes about 7 s (each stopping one waits
	# until its sibling has listened 3 s), the gateway's reload about 3 s more.
	ROLLING_SECONDS=16 ROLLING_INVENTORY_AT=0.5 ROLLING_GATEWAY_AT=9
fi

# Ports of their own, so that the benchmark and the test suite can run at the same time;
# TEST_GATEWAY_PORT, TEST_INVENTORY_PORT, TEST_PG_PORT, TEST_RABBIT_PORT when set (the side
# gateways take the 3 ports above the gateway's, their backends the 2 above the inventory's).
export TEST_GATEWAY_PORT=${TEST_GATEWAY_PORT:-28080} TEST_INVENTORY_PORT=${TEST_INVENTORY_PORT:-29000}
export TEST_PG_PORT=${TEST_PG_PORT:-25532} TEST_RABBIT_PORT=${TEST_RABBIT_PORT:-26672}
private_stack_env bench
BASE_URL=http://127.0.0.1:$API_GATEWAY_PORT
WORK=$STACK_DIR/bench
if [ "$QUICK" = 1 ]; then OUT=$WORK; else OUT=$PROJECT_ROOT/docs/bench; fi
mkdir -p "$WORK/raw" "$WORK/result" "$OUT"

FAILED=()
ONLY=("$@")

# shellcheck source=scripts/bench/numbers.sh
source "$BENCH_DIR/numbers.sh"
# shellcheck source=scripts/bench/teardown.sh
source "$BENCH_DIR/teardown.sh"
trap cleanup EXIT
# shellcheck source=scripts/bench/measure.sh
source "$BENCH_DIR/measure.sh"
# shellcheck source=scripts/bench/resources.sh
source "$BENCH_DIR/resources.sh"
# shellcheck source=scripts/bench/scenarios.sh
source "$BENCH_DIR/scenarios.sh"
# shellcheck source=scripts/bench/ceilings.sh
source "$BENCH_DIR/ceilings.sh"
# shellcheck source=scripts/bench/sidecars.sh
source "$BENCH_DIR/sidecars.sh"
# shellcheck source=scripts/bench/rolling.sh
source "$BENCH_DIR/rolling.sh"
# shellcheck source=scripts/bench/report.sh
source "$BENCH_DIR/report.sh"
# shellcheck source=scripts/bench/targets.sh
source "$BENCH_DIR/targets.sh"
# shellcheck source=scripts/bench/counters.sh
source "$BENCH_DIR/counters.sh"

# ---- The scenarios -----------------------------------------------------------------

declare -A LABEL=(
	[a]="(a) GET /api/movies/:id through the gateway"
	[b]="(b) GET /api/movies (1,000 rows) through the gateway"
	[c]="(c) POST /api/movies through the gateway"
	[d]="(d) POST /api/billing through the gateway (confirmed)"
	[e]="(e) drain of queued orders into billing_db"
	[g]="(g) ceiling: lighttpd, static JSON file"
	[h]="(h) ceiling: pgbench -S, best way"
	[i]="(i) ceiling: single-row INSERT commits, best way"
	[j]="(j) ceiling: RabbitMQ, persistent messages with confirms, 32 in flight"
	[k]="(k) ceiling: lighttpd + FastCGI, fixed answer, best transport"
	[t]="(t) GET /api/movies/:id, inventory over TCP (side gateway)"
	[r]="(r) GET /api/movies/:id during a rolling restart and a gateway reload"
)
declare -A SHORT=(
	[a]="(a) GET /movies/:id" [b]="(b) GET /movies" [c]="(c) POST /movies"
	[d]="(d) POST /billing" [e]="(e) drain" [g]="(g) static file"
	[h]="(h) pgbench -S" [i]="(i) INSERT commit" [j]="(j) broker alone"
	[k]="(k) FastCGI alone" [t]="(t) GET, TCP" [r]="(r) rolling restart"
)
declare -A UNIT=([a]=req/s [b]=req/s [c]=req/s [d]=req/s [e]=msg/s [g]=req/s [h]=tx/s [i]=tx/s
	[j]=msg/s [k]=req/s [t]=req/s [r]=req/s)
SCENARIOS=(a t b c d e g h i j k r)
# The four processes whose memory the memory soak samples (process_pids: the first of each).
PROCESSES=(lighttpd inventory_app billing_publisher billing_app)

# selected KEY: whether the scenario is to run (all of them unless named on the command line).
selected() { [ "${#ONLY[@]}" -eq 0 ] || [[ " ${ONLY[*]} " == *" $1 "* ]]; }

# run_scenario KEY FUNCTION ARGS...: runs it in a subshell with errexit in force; a
# failure is recorded and the run goes on with the next scenario.
run_scenario() {
	local key=$1 status
	shift
	selected "$key" || return 0
	echo "== ($key) $*"
	set +e
	(set -e; "$@")
	status=$?
	set -e
	if [ "$status" -ne 0 ] || [ ! -s "$WORK/result/$key" ]; then
		echo "   ($key) FAILED to run" >&2
		FAILED+=("$key")
	fi
	if [ -s "$WORK/result/$key" ]; then
		echo "   ($key) $(thousands "$(result "$key" rate)")/s" \
			"p50 $(ms "$(result "$key" p50)") p99 $(ms "$(result "$key" p99)")" \
			"errors $(result "$key" non2xx)+$(result "$key" socket)"
	fi
}

# ---- Main ------------------------------------------------------------------------

main() {
	local tool missed
	for tool in wrk pgbench gnuplot psql curl "$TOOLS_DIR/fcgi_fixed" "$TOOLS_DIR/amqp_confirm_bench" \
		"$TOOLS_DIR/metrics_cost"; do
		command -v "$tool" > /dev/null || { echo "bench: $tool is missing" >&2; exit 1; }
	done
	LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
	if counters_wanted; then counters_measure; fi
	echo "== starting a private stack in $STACK_DIR (gateway on $BASE_URL)"
	private_stack_up
	echo "== seeding $MOVIES movies and bench_db (pgbench scale $PGBENCH_SCALE)"
	seed_movies
	prepare_bench_db
	sidecars_up
	snapshot_rss "$WORK/rss-before"

	run_scenario g ceiling_static
	run_scenario k ceiling_fcgi
	run_scenario a scenario_get_by_id
	run_scenario t scenario_get_by_id_tcp
	run_scenario b scenario_list
	run_scenario c scenario_post_movie
	run_scenario d scenario_billing
	run_scenario j ceiling_broker
	run_scenario e scenario_drain
	run_scenario h ceiling_pk_read
	run_scenario i ceiling_insert
	if [ "$SOAK_REQUESTS" -gt 0 ]; then run_scenario soak soak; fi
	snapshot_rss "$WORK/rss-after"
	# Last: it replaces the inventory processes and the publisher whose RSS is measured.
	run_scenario r scenario_rolling

	write_results
	draw_chart
	echo
	sed -n '/^| scenario | rate/,/^$/p;/^## Targets/,/^## Resident/p' "$OUT/results.md" | sed '$d'
	echo "Results: $OUT/results.md and $OUT/chart.png"
	if [ "${#FAILED[@]}" -gt 0 ]; then
		echo "bench: failed to run: ${FAILED[*]}" >&2
		exit 1
	fi
	missed=$(grep -c '| MISS |$' "$OUT/results.md" || true)
	if [ "$QUICK" = 0 ] && [ "$missed" -gt 0 ]; then
		echo "bench: $missed target(s) missed" >&2
		exit 2
	fi
}

main "$@"
