#!/usr/bin/env bash
# make bench: the API's speed through the gateway, measured against the machine's own
# ceilings in the same run, on a private stack (PostgreSQL, RabbitMQ, lighttpd, PM2 on
# their own ports and folders, different from the test suite's) stopped on exit.
#
#   scenarios  (a) GET /api/movies/:id  (b) GET /api/movies (1,000 rows)  (c) POST /api/movies
#              (d) POST /api/billing    (e) drain of 20,000 queued orders into billing_db
#   ceilings   (g) lighttpd serving a small static file  (h) pgbench -S, 8 clients
#              (i) single-row INSERT commits, 32 clients
#   memory     RSS of the four processes before and after, and during a 1M-request soak
#
# wrk: 2 threads, 32 connections, 10 s after a 2 s warm-up; every wrk and pgbench figure
# is the median of 3 such rounds (shared hardware moves). Durability stays as
# configured (fsync, synchronous_commit, persistent messages, confirms, manual acks).
#
# Usage: scripts/bench/bench.sh            full run; writes docs/bench/results.md and chart.png
#        QUICK=1 scripts/bench/bench.sh    smoke run (1 s per scenario, 500 orders, no soak);
#                                    writes under the stack's temporary folder
#        scripts/bench/bench.sh a d soak   only these scenarios (while working on one)
#        PROFILE=1 scripts/bench/bench.sh  also a whole-machine perf profile of each wrk
#                                    scenario, summed up in profile-KEY.txt beside the
#                                    results (perf costs some speed: rates run lower)
# Exit status: 1 when a scenario failed to run; in a full run, 2 when a target was missed.
set -euo pipefail
# shellcheck source=scripts/deploy/env.sh
source "$(dirname "$0")/../deploy/env.sh"
# shellcheck source=scripts/deploy/stack.sh
source "$PROJECT_ROOT/scripts/deploy/stack.sh"

LUA_DIR=$PROJECT_ROOT/scripts/bench
[[ ${PROFILE:-} =~ ^(|0|no|false)$ ]] && PROFILE=0 || PROFILE=1
export BENCH_LUA_DIR=$LUA_DIR

THREADS=2
CONNECTIONS=32
MOVIES=1000
SOAK_SAMPLE_SECONDS=10
DRAIN_TIMEOUT_SECONDS=600
if [[ ${QUICK:-} =~ ^(|0|no|false)$ ]]; then
	QUICK=0
	DURATION=10 WARMUP=2 ORDERS=20000 PGBENCH_SECONDS=10 PGBENCH_SCALE=10 ROUNDS=3
	SOAK_REQUESTS=${BENCH_SOAK_REQUESTS:-1000000}
else
	QUICK=1
	DURATION=1 WARMUP=0 ORDERS=500 PGBENCH_SECONDS=1 PGBENCH_SCALE=1 SOAK_REQUESTS=0 ROUNDS=1
fi

# Ports of their own, so that the benchmark and the test suite can run at the same time.
export TEST_GATEWAY_PORT=28080 TEST_INVENTORY_PORT=29000 TEST_PG_PORT=25532 TEST_RABBIT_PORT=26672
private_stack_env bench
BASE_URL=http://127.0.0.1:$API_GATEWAY_PORT
WORK=$STACK_DIR/bench
if [ "$QUICK" = 1 ]; then OUT=$WORK; else OUT=$PROJECT_ROOT/docs/bench; fi
mkdir -p "$WORK/raw" "$WORK/result" "$OUT"

FAILED=()
ONLY=("$@")

cleanup() {
	local status=$? pids
	read -r -a pids <<< "$(cat "$PM2_HOME/pm2.pid" 2>/dev/null || true) $(process_pids)"
	private_stack_down
	stop_leftovers "${pids[@]}"
	if [ "$status" = 1 ] || [ "$status" -gt 2 ]; then
		echo "--- logs of the failed run (kept in $STACK_DIR)"
		tail -n 30 "$PM2_HOME"/logs/*.log 2>/dev/null || true
	elif [ "$QUICK" = 1 ]; then
		rm -rf "$STACK_DIR/pg" "$STACK_DIR/rabbit" "$STACK_DIR/pm2" "$STACK_DIR/run"
	else
		rm -rf "$STACK_DIR"
	fi
}
trap cleanup EXIT

# stop_leftovers PID...: the stack's processes that `pm2 kill` left running, if any.
stop_leftovers() {
	local pid left=() tries=0
	# pm2 kill returns while its daemon may still be exiting: give it 3 s.
	while [ "$tries" -lt 30 ]; do
		left=()
		for pid in "$@"; do
			if [[ $pid =~ ^[1-9][0-9]*$ ]] && kill -0 "$pid" 2>/dev/null; then left+=("$pid"); fi
		done
		[ "${#left[@]}" -gt 0 ] || return 0
		sleep 0.1
		tries=$((tries + 1))
	done
	left=()
	for pid in "$@"; do
		if [[ $pid =~ ^[1-9][0-9]*$ ]] && [ "$pid" != $$ ] && kill -0 "$pid" 2>/dev/null; then
			left+=("$pid")
		fi
	done
	[ "${#left[@]}" -gt 0 ] || return 0
	echo "bench: stopping processes pm2 kill left behind: ${left[*]}" >&2
	kill "${left[@]}" 2>/dev/null || true
}

# ---- Small helpers -------------------------------------------------------------

now_ms() { date +%s%3N; }

# calc EXPR: floating-point arithmetic.
calc() { awk "BEGIN { print ($1) }"; }

# thousands N: 12345.6 -> 12,346
thousands() { printf '%.0f' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }

# ms MICROSECONDS: "1.23 ms", or "—" when not measured.
ms() { if [ "$1" = - ]; then echo —; else awk -v us="$1" 'BEGIN { printf "%.2f ms", us / 1000 }'; fi; }

# sql DB STATEMENT / billing_sql STATEMENT: as the application's user, over TCP.
sql() {
	PGPASSWORD=$POSTGRES_PASSWORD psql -qAtX -v ON_ERROR_STOP=1 -h "$POSTGRES_HOST" \
		-p "$POSTGRES_PORT" -U "$POSTGRES_USER" -d "$1" -c "$2"
}
billing_sql() {
	PGPASSWORD=$POSTGRES_BILLING_PASSWORD psql -qAtX -v ON_ERROR_STOP=1 \
		-h "$POSTGRES_BILLING_HOST" -p "$POSTGRES_BILLING_PORT" -U "$POSTGRES_BILLING_USER" \
		-d "$POSTGRES_BILLING_DB" -c "$1"
}
orders_count() { billing_sql 'SELECT count(*) FROM orders'; }

# pgbench_ ARGS...: pgbench on bench_db, same server and user as the inventory.
pgbench_() {
	PGPASSWORD=$POSTGRES_PASSWORD pgbench -h "$POSTGRES_HOST" -p "$POSTGRES_PORT" \
		-U "$POSTGRES_USER" "$@" bench_db
}

# save_result KEY RATE P50_US P99_US NON2XX SOCKET: one scenario's numbers ("-" = n/a).
save_result() { echo "${*:2}" > "$WORK/result/$1"; }

# result KEY FIELD: rate p50 p99 non2xx socket; empty when the scenario has no result.
result() {
	local rate p50 p99 non2xx socket
	[ -s "$WORK/result/$1" ] || return 0
	read -r rate p50 p99 non2xx socket < "$WORK/result/$1"
	echo "${!2}"
}

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

# ---- wrk -----------------------------------------------------------------------

# wrk_ SECONDS SCRIPT PATH [SCRIPT ARGS...]: one wrk run through the gateway.
wrk_() {
	local seconds=$1 script=$2 path=$3
	shift 3
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"${seconds}s" -s "$LUA_DIR/$script" \
		"$BASE_URL$path" -- "$@"
}

# bench_line FILE FIELD: a field of the BENCH line that common.lua's done() printed.
bench_line() { sed -n "s/^BENCH .*\<$2=\([0-9.]*\).*/\1/p" "$1"; }

# wrk_round KEY ROUND SCRIPT PATH [ARGS...]: one measured run; saves its numbers.
wrk_round() {
	local key=$1 round=$2 out=$WORK/raw/$1.txt requests non2xx socket cpu_before cpu_after
	local perf_pid=""
	shift 2
	if [ "$PROFILE" = 1 ] && [ "$round" = 1 ]; then
		perf record -a -g -F 499 -o "$WORK/raw/$key.perf" -- sleep "$DURATION" \
			> "$WORK/raw/$key.perf.log" 2>&1 &
		perf_pid=$!
	fi
	cpu_before=$(cpu_sample)
	wrk_ "$DURATION" "$@" > "$out"
	cpu_after=$(cpu_sample)
	if [ -n "$perf_pid" ]; then
		wait "$perf_pid"
		profile_summary "$key" > "$OUT/profile-$key.txt"
	fi
	requests=$(bench_line "$out" requests)
	non2xx=$(bench_line "$out" non2xx)
	socket=$(bench_line "$out" socket)
	if [ -z "$requests" ]; then
		cat "$out" >&2
		return 1
	fi
	[ "$requests" -gt 0 ] && save_cpu "$key" "$requests" "$cpu_before" "$cpu_after"
	save_result "$key" "$(bench_line "$out" rps)" "$(bench_line "$out" p50_us)" \
		"$(bench_line "$out" p99_us)" "$non2xx" "$socket"
	if [ $((requests - non2xx)) -le 0 ]; then
		echo "   no request succeeded" >&2
		return 1
	fi
}

# rounds KEY FUNCTION ARGS...: FUNCTION KEY ROUND ARGS... for ROUNDS rounds. KEY keeps
# the round with the median rate (its latencies and CPU), with the errors of every round.
rounds() {
	local key=$1 fn=$2 r median non2xx=0 socket=0 v
	shift 2
	for ((r = 1; r <= ROUNDS; r++)); do
		"$fn" "$key" "$r" "$@"
		mv "$WORK/result/$key" "$WORK/result/$key.round$r"
		if [ -f "$WORK/result/$key.cpu" ]; then
			mv "$WORK/result/$key.cpu" "$WORK/result/$key.cpu.round$r"
		fi
		read -r -a v < "$WORK/result/$key.round$r"
		non2xx=$((non2xx + v[3])) socket=$((socket + v[4]))
		[ "$ROUNDS" = 1 ] || echo "   round $r: $(thousands "${v[0]}")/s"
	done
	median=$(for ((r = 1; r <= ROUNDS; r++)); do
		echo "$(cut -d' ' -f1 "$WORK/result/$key.round$r") $r"
	done | sort -g | sed -n "$(((ROUNDS + 1) / 2))p" | cut -d' ' -f2)
	read -r -a v < "$WORK/result/$key.round$median"
	save_result "$key" "${v[0]}" "${v[1]}" "${v[2]}" "$non2xx" "$socket"
	if [ -f "$WORK/result/$key.cpu.round$median" ]; then
		cp "$WORK/result/$key.cpu.round$median" "$WORK/result/$key.cpu"
	fi
}

# run_wrk KEY SCRIPT PATH [ARGS...]: warm-up, then ROUNDS measured runs.
run_wrk() {
	local key=$1
	shift
	if [ "$WARMUP" -gt 0 ]; then
		wrk_ "$WARMUP" "$@" > "$WORK/raw/$key.warmup.txt"
	fi
	rounds "$key" wrk_round "$@"
}

# ---- Set-up --------------------------------------------------------------------

# seed_movies: exactly $MOVIES movies, about 125 bytes each as JSON (125 KB for the list).
seed_movies() {
	sql "$POSTGRES_DB" 'DELETE FROM movies'
	sql "$POSTGRES_DB" "INSERT INTO movies (title, description)
		SELECT format('Benchmark movie %s', g),
		       format('Movie number %s of the benchmark, with a description of a usual length.', g)
		FROM generate_series(1, $MOVIES) g"
	sql "$POSTGRES_DB" 'ANALYZE movies'
	read -r FIRST_ID LAST_ID < <(sql "$POSTGRES_DB" 'SELECT min(id), max(id) FROM movies' | tr '|' ' ')
	LIST_BYTES=$(curl -fsS "$BASE_URL/api/movies" | wc -c)
}

# prepare_bench_db: pgbench's tables and the INSERT target in bench_db, then a checkpoint
# so that the load does not spill into the measurements.
prepare_bench_db() {
	pg_ensure_db bench_db "$POSTGRES_USER"
	pgbench_ -i -q -s "$PGBENCH_SCALE" > "$WORK/raw/pgbench-init.txt" 2>&1
	sql bench_db 'CREATE TABLE IF NOT EXISTS bench_insert (
		id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		client_id integer NOT NULL,
		created_at timestamptz NOT NULL DEFAULT now())'
	pg_admin -c 'CHECKPOINT'
}

# ---- Memory ----------------------------------------------------------------------

PROCESSES=(lighttpd inventory_app billing_publisher billing_app)

# process_pids: the pids of PROCESSES, in order ("-" for one not running): children of
# this stack's PM2 daemon (app.sh and gateway.sh exec the programs), the publisher a
# child of lighttpd. Read from /proc rather than asked of the pm2 CLI, which is slow.
process_pids() {
	local daemon gw="" inv="" pub="" app=""
	daemon=$(cat "$PM2_HOME/pm2.pid" 2>/dev/null || true)
	if [[ $daemon =~ ^[1-9][0-9]*$ ]]; then
		gw=$(pgrep -P "$daemon" -x lighttpd | head -n 1 || true)
		inv=$(pgrep -P "$daemon" -x inventory_app | head -n 1 || true)
		app=$(pgrep -P "$daemon" -x billing_app | head -n 1 || true)
	fi
	if [ -n "$gw" ]; then pub=$(pgrep -P "$gw" -f billing_publisher | head -n 1 || true); fi
	echo "${gw:--} ${inv:--} ${pub:--} ${app:--}"
}

# rss_kb PID...: resident memory in KB of each ("-" for a process that is gone).
rss_kb() {
	local pid kb values=()
	for pid in "$@"; do
		kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
		values+=("${kb:--}")
	done
	echo "${values[*]}"
}

# snapshot_rss NAME: the four processes' RSS into $WORK/rss-NAME.
snapshot_rss() {
	local pids
	read -r -a pids < <(process_pids)
	rss_kb "${pids[@]}" > "$WORK/rss-$1"
}

# ---- CPU -------------------------------------------------------------------------
# Where a scenario's CPU goes: ticks each part of the stack used during the measured
# run, per request. "rest" is the machine's busy time the parts do not account for:
# the load generator (wrk or pgbench), PM2 and kernel work not charged to a process.

CPU_PARTS=(lighttpd inventory_app billing_publisher billing_app PostgreSQL RabbitMQ)
CLK_TCK=$(getconf CLK_TCK)

# proc_ticks PID: CPU ticks of PID and of its children it has reaped.
proc_ticks() {
	local t
	t=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }' || true)
	echo "${t:-0}"
}

# tree_ticks PID: proc_ticks of PID and of its living children (server processes).
tree_ticks() {
	local sum child
	[[ $1 =~ ^[1-9][0-9]*$ ]] || { echo 0; return; }
	sum=$(proc_ticks "$1")
	for child in $(pgrep -P "$1" || true); do sum=$((sum + $(proc_ticks "$child"))); done
	echo "$sum"
}

# cpu_sample: "busy total" ticks of the machine, then the ticks of each of CPU_PARTS.
cpu_sample() {
	local pids pg rabbit
	read -r -a pids < <(process_pids)
	pg=$(head -n 1 "$STACK_DIR/pg/postmaster.pid" 2>/dev/null || true)
	rabbit=$(cat "$STACK_DIR/rabbit/pid" 2>/dev/null || true)
	awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; printf "%d %d", b, b + $5 + $6 }' /proc/stat
	# lighttpd alone: the publisher, its child, is a part of its own
	echo " $(proc_ticks "${pids[0]}") $(tree_ticks "${pids[1]}") $(tree_ticks "${pids[2]}")" 		"$(tree_ticks "${pids[3]}") $(tree_ticks "$pg") $(tree_ticks "$rabbit")"
}

# save_cpu KEY REQUESTS BEFORE AFTER: machine busy % and CPU µs per request of each
# part and of the rest, from two cpu_sample lines.
save_cpu() {
	awk -v n="$2" -v hz="$CLK_TCK" -v a="$3" -v b="$4" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2])
		parts = 0
		for (i = 3; i <= 8; i++) {
			d = y[i] - x[i]; parts += d
			printf " %.0f", d * 1e6 / hz / n
		}
		printf " %.0f %.0f\n", (y[1] - x[1] - parts) * 1e6 / hz / n, (y[1] - x[1]) * 1e6 / hz / n
	}' > "$WORK/result/$1.cpu"
}

# profile_summary KEY: from the whole-machine perf record of a scenario, the share of
# each process, then the hottest functions of each of our C programs and of lighttpd.
profile_summary() {
	local data=$WORK/raw/$1.perf comm
	echo "perf record -a -g -F 499 during the measured run of ${LABEL[$1]}."
	echo
	echo "== share of all samples, by process (swapper = idle)"
	perf report -i "$data" --no-children --sort comm --stdio -g none 2>/dev/null |
		grep -v '^#' | grep -v '^$' > "$data.comms" || true
	head -n 15 "$data.comms"
	# perf truncates process names to 15 characters
	for comm in lighttpd inventory_app billing_publish; do
		grep -q " $comm *\$" "$data.comms" || continue
		perf report -i "$data" --no-children --comm "$comm" --percentage relative \
			--sort dso,sym --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' \
			> "$data.$comm" || true
		echo
		echo "== $comm: hottest functions, share of its own samples" \
			"(in the kernel: $(awk '$3 == "[k]" { k += $1 } END { printf "%.0f", k }' "$data.$comm") %)"
		head -n 15 "$data.$comm"
	done
}

# ---- Scenarios -------------------------------------------------------------------

# (g) The HTTP ceiling: the same lighttpd and settings serving a ~120-byte JSON file
# from its document root, which exists only for the duration of this scenario.
ceiling_static() {
	local root=$RUN_DIR/no-static-files
	mkdir -p "$root"
	printf '%s\n' '{"id":1,"title":"A static movie","description":"The HTTP ceiling: lighttpd sends this file from its document root."}' \
		> "$root/movie.json"
	curl -fsS -o /dev/null "$BASE_URL/movie.json"
	run_wrk g get.lua /movie.json
	rm -rf "$root"
}

# (a) GET /api/movies/:id with random existing ids.
scenario_get_by_id() { run_wrk a get_by_id.lua "/api/movies/$FIRST_ID" "$FIRST_ID" "$LAST_ID"; }

# (b) GET /api/movies: the whole list of 1,000 rows.
scenario_list() { run_wrk b get.lua /api/movies; }

# (c) POST /api/movies.
scenario_post_movie() { run_wrk c post_movie.lua /api/movies; }

# (d) POST /api/billing, answered after the broker's confirm.
scenario_billing() { run_wrk d billing.lua /api/billing; }

# post_order: one order with curl; fails unless it is accepted (200).
post_order() {
	[ "$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		-d '{"user_id":"20","number_of_items":"2","total_amount":"19.99"}' \
		"$BASE_URL/api/billing")" = 200 ]
}

# publish_orders N: queues N orders through the gateway with wrk (billing_n.lua: each
# thread sends its share, then stops), then tops up with curl if some were refused.
publish_orders() {
	local n=$1 flags=$WORK/publish-flags pid deadline start queued
	rm -rf "$flags"
	mkdir -p "$flags"
	start=$(now_ms)
	wrk -t"$THREADS" -c"$CONNECTIONS" -d3600s -s "$LUA_DIR/billing_n.lua" "$BASE_URL/api/billing" \
		-- "$n" "$THREADS" "$flags" "/api/movies/$FIRST_ID" > "$WORK/raw/e-publish.txt" &
	pid=$!
	deadline=$((SECONDS + 60 + n / 50))
	# Every thread stops itself once its orders are answered; wrk itself waits for -d.
	while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ] &&
		[ "$(find "$flags" -name 'thread-*' | wc -l)" -lt "$THREADS" ]; do
		sleep 0.1
	done
	kill -INT "$pid" 2>/dev/null || true
	wait "$pid" || true
	echo "   published $n orders in $(($(now_ms) - start)) ms (accepted, refused per thread:" \
		"$(cat "$flags"/thread-* 2>/dev/null | tr '\n' ' '))"
	queued=$(queue_count "$QUEUE_NAME")
	while [ "$queued" -lt "$n" ]; do
		echo "   topping up $((n - queued)) orders with curl"
		for _ in $(seq "$((n - queued))"); do post_order; done
		queued=$(queue_count "$QUEUE_NAME")
	done
}

# (e) The drain: N orders queued while billing_app is stopped, then the time from
# `pm2 start billing_app` until all N new rows are in billing_db (polled every 50 ms).
scenario_drain() {
	local base target queued start started first end n deadline
	"$PM2" stop billing_app > /dev/null
	# Orders left from (d) are not part of this measurement.
	rabbit_url_parts
	rabbitmqctl_ purge_queue -p "$AMQP_VHOST" "$QUEUE_NAME" > /dev/null 2>&1 || true
	queued=$(queue_count "$QUEUE_NAME")
	[ "$queued" -eq 0 ] || { echo "billing_queue still holds $queued messages" >&2; return 1; }
	base=$(orders_count)
	publish_orders "$ORDERS"
	queued=$(queue_count "$QUEUE_NAME")
	[ "$queued" -eq "$ORDERS" ] ||
		{ echo "billing_queue holds $queued messages, not $ORDERS" >&2; return 1; }
	target=$((base + ORDERS))
	deadline=$((SECONDS + DRAIN_TIMEOUT_SECONDS))
	start=$(now_ms)
	"$PM2" start billing_app > /dev/null
	started=$(now_ms)
	while n=$(orders_count) && [ "$n" -lt "$target" ]; do
		[ "$SECONDS" -lt "$deadline" ] ||
			{ echo "only $((n - base)) of $ORDERS orders landed" >&2; return 1; }
		sleep 0.05
	done
	end=$(now_ms)
	[ "$n" -eq "$target" ] || { echo "$((n - target)) orders landed twice" >&2; return 1; }
	# When the first new row's transaction began (created_at defaults to now()).
	first=$(billing_sql "SELECT (extract(epoch FROM min(created_at)) * 1000)::bigint
		FROM orders WHERE created_at >= to_timestamp($start / 1000.0)")
	echo "$((end - start)) $((started - start)) $((${first:-$start} - start))" > "$WORK/drain-times"
	echo "   drain: $ORDERS rows in $((end - start)) ms from pm2 start (the command took" \
		"$((started - start)) ms; first row's transaction at $((${first:-$start} - start)) ms)"
	save_result e "$(calc "$ORDERS * 1000 / $((end - start))")" - - 0 0
}

# run_pgbench KEY CLIENTS ARGS...: warm-up, then ROUNDS measured runs, each with a
# per-transaction log for the latency percentiles.
run_pgbench() {
	local key=$1 clients=$2
	shift 2
	if [ "$WARMUP" -gt 0 ]; then
		pgbench_ -c "$clients" -j "$THREADS" -T "$WARMUP" "$@" > /dev/null 2>&1
	fi
	rounds "$key" pgbench_round "$clients" "$@"
}

# pgbench_round KEY ROUND CLIENTS ARGS...: one measured pgbench run; saves its numbers.
pgbench_round() {
	local key=$1 clients=$3 out=$WORK/raw/$1.txt logs=$WORK/pgbench-$1 tps failed p50 p99 txs
	local cpu_before cpu_after
	shift 3
	rm -rf "$logs"
	mkdir -p "$logs"
	cpu_before=$(cpu_sample)
	pgbench_ -c "$clients" -j "$THREADS" -T "$PGBENCH_SECONDS" -l --log-prefix="$logs/tx" "$@" \
		> "$out" 2>&1
	cpu_after=$(cpu_sample)
	tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$out")
	failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
	[ -n "$tps" ] || { cat "$out" >&2; return 1; }
	# Field 3 of a log line is the transaction's latency in microseconds.
	read -r p50 p99 < <(cat "$logs"/tx.* | awk '{ print $3 }' | sort -n |
		awk '{ v[NR] = $1 } END { print v[int(NR * 0.50 + 0.999)], v[int(NR * 0.99 + 0.999)] }')
	txs=$(cat "$logs"/tx.* | wc -l)
	rm -rf "$logs"
	save_result "$key" "$tps" "$p50" "$p99" "${failed:-0}" 0
	[ "$txs" -gt 0 ] && save_cpu "$key" "$txs" "$cpu_before" "$cpu_after"
}

# (h) The ceiling of a primary-key read.
ceiling_pk_read() { run_pgbench h 8 -S; }

# (i) The ceiling of a durable write: single-row INSERT commits.
ceiling_insert() { run_pgbench i 32 -n -f "$LUA_DIR/insert.sql"; }

# soak_sample ELAPSED: one line of the soak table (requests counted in the access log).
soak_sample() {
	local served
	served=$(($(wc -l < "$RUN_DIR/access.log") - SOAK_LOG_START))
	echo "$1 $served $(rss_kb "${SOAK_PIDS[@]}")" >> "$WORK/soak"
}

# Memory soak: about SOAK_REQUESTS GET /api/movies/:id, in as many wrk runs as it takes
# at the rate measured in (a), sampling the four processes' RSS every 10 s.
soak() {
	local rate seconds served=0 start next pid run=0 requests
	rate=$(result a rate)
	rate=${rate:-1000}
	read -r -a SOAK_PIDS < <(process_pids)
	SOAK_LOG_START=$(wc -l < "$RUN_DIR/access.log")
	: > "$WORK/soak"
	start=$SECONDS
	soak_sample 0
	next=$((start + SOAK_SAMPLE_SECONDS))
	while [ "$served" -lt "$SOAK_REQUESTS" ] && [ $((SECONDS - start)) -lt 1800 ]; do
		seconds=$(calc "int(($SOAK_REQUESTS - $served) / $rate * 1.05) + 1")
		[ "$seconds" -ge 10 ] || seconds=10
		run=$((run + 1))
		echo "   soak run $run: ${seconds} s for $((SOAK_REQUESTS - served)) more requests"
		wrk_ "$seconds" get_by_id.lua "/api/movies/$FIRST_ID" "$FIRST_ID" "$LAST_ID" \
			> "$WORK/raw/soak-$run.txt" &
		pid=$!
		while kill -0 "$pid" 2>/dev/null; do
			if [ "$SECONDS" -ge "$next" ]; then
				soak_sample $((SECONDS - start))
				next=$((next + SOAK_SAMPLE_SECONDS))
			fi
			sleep 1
		done
		wait "$pid"
		requests=$(bench_line "$WORK/raw/soak-$run.txt" requests)
		served=$((served + ${requests:-0}))
		[ -n "$requests" ] && [ "$requests" -gt 0 ] || return 1
	done
	soak_sample $((SECONDS - start))
	echo "$served $((SECONDS - start))" > "$WORK/soak-total"
	save_result soak "$(calc "$served / ($SECONDS - $start)")" - - \
		"$(awk '{ n += $0 } END { print n + 0 }' < <(for f in "$WORK"/raw/soak-*.txt; do bench_line "$f" non2xx; done))" \
		"$(awk '{ n += $0 } END { print n + 0 }' < <(for f in "$WORK"/raw/soak-*.txt; do bench_line "$f" socket; done))"
}

# ---- Report ----------------------------------------------------------------------

declare -A LABEL=(
	[a]="(a) GET /api/movies/:id through the gateway"
	[b]="(b) GET /api/movies (1,000 rows) through the gateway"
	[c]="(c) POST /api/movies through the gateway"
	[d]="(d) POST /api/billing through the gateway (confirmed)"
	[e]="(e) drain of queued orders into billing_db"
	[g]="(g) ceiling: lighttpd, static JSON file"
	[h]="(h) ceiling: pgbench -S, 8 clients"
	[i]="(i) ceiling: single-row INSERT commits, 32 clients"
)
declare -A SHORT=(
	[a]="(a) GET /movies/:id" [b]="(b) GET /movies" [c]="(c) POST /movies"
	[d]="(d) POST /billing" [e]="(e) drain" [g]="(g) static file"
	[h]="(h) pgbench -S" [i]="(i) INSERT commit"
)
declare -A UNIT=([a]=req/s [b]=req/s [c]=req/s [d]=req/s [e]=msg/s [g]=req/s [h]=tx/s [i]=tx/s)
SCENARIOS=(a b c d e g h i)

results_table() {
	local key rate
	echo "| scenario | rate | p50 | p99 | non-2xx + socket errors |"
	echo "|---|---:|---:|---:|---:|"
	for key in "${SCENARIOS[@]}"; do
		rate=$(result "$key" rate)
		if [ -z "$rate" ]; then
			echo "| ${LABEL[$key]} | $(selected "$key" && echo "failed to run" || echo "not run") | | | |"
			continue
		fi
		echo "| ${LABEL[$key]} | $(thousands "$rate") ${UNIT[$key]} | $(ms "$(result "$key" p50)")" \
			"| $(ms "$(result "$key" p99)") | $(result "$key" non2xx) + $(result "$key" socket) |"
	done
}

# verdict OK: PASS when OK is 1, else MISS.
verdict() { if [ "$1" = 1 ]; then echo PASS; else echo MISS; fi; }

# not_measured KEY...: FAILED when one of the scenarios was to run and has no result,
# else "not run".
not_measured() {
	local key
	for key in "$@"; do
		if selected "$key" && [ -z "$(result "$key" rate)" ]; then echo FAILED; return; fi
	done
	echo "not run"
}

# ratio_row LABEL NUM_KEY DEN_KEY MIN: a ratio of two rates against its minimum.
ratio_row() {
	local num den r
	num=$(result "$2" rate) den=$(result "$3" rate)
	if [ -z "$num" ] || [ -z "$den" ]; then
		echo "| $1 | not measured | >= $4 | $(not_measured "$2" "$3") |"
		return
	fi
	r=$(calc "$num / $den")
	echo "| $1 | $(printf '%.2f' "$r") ($(thousands "$num") / $(thousands "$den")) | >= $4" \
		"| $(verdict "$(calc "$r >= $4")") |"
}

# rate_row LABEL KEY MIN [MAX_ERRORS]: a rate against its minimum (and an error budget).
rate_row() {
	local rate errors ok
	rate=$(result "$2" rate)
	if [ -z "$rate" ]; then
		echo "| $1 | not measured | >= $(thousands "$3") ${UNIT[$2]} | $(not_measured "$2") |"
		return
	fi
	errors=$(($(result "$2" non2xx) + $(result "$2" socket)))
	ok=$(calc "$rate >= $3")
	if [ -n "${4:-}" ]; then
		[ "$errors" -le "$4" ] || ok=0
		echo "| $1 | $(thousands "$rate") ${UNIT[$2]}, $errors non-2xx | >= $(thousands "$3")" \
			"${UNIT[$2]}, $4 non-2xx | $(verdict "$ok") |"
	else
		echo "| $1 | $(thousands "$rate") ${UNIT[$2]} | >= $(thousands "$3") ${UNIT[$2]}" \
			"| $(verdict "$ok") |"
	fi
}

# max_rss_row: the largest RSS any of the four processes had in any sample.
max_rss_row() {
	local max=0 who="" i kb line
	for line in "$WORK"/rss-before "$WORK"/rss-after "$WORK"/soak; do
		[ -s "$line" ] || continue
		while read -r -a kb; do
			[ "${#kb[@]}" -eq 4 ] || kb=("${kb[@]:2}")
			for i in 0 1 2 3; do
				if [[ ${kb[$i]} =~ ^[0-9]+$ ]] && [ "${kb[$i]}" -gt "$max" ]; then
					max=${kb[$i]} who=${PROCESSES[$i]}
				fi
			done
		done < "$line"
	done
	echo "| RSS of every C process (before, after, soak) | max $(thousands "$max") KB ($who)" \
		"| < 20,480 KB | $(verdict "$([ "$max" -gt 0 ] && [ "$max" -lt 20480 ] && echo 1)") |"
}

ratios_table() {
	echo "| target | measured | wanted | result |"
	echo "|---|---:|---:|---|"
	ratio_row "(a) / (h): GET by id vs primary-key read" a h 0.4
	rate_row "(b) GET /api/movies" b 1050
	ratio_row "(c) / (i): POST movie vs INSERT commit" c i 0.5
	rate_row "(d) POST /api/billing" d 10000 0
	rate_row "(e) drain" e 15000
	max_rss_row
}

# Ratios without a target, to see where time goes.
info_ratios() {
	local pair num den
	for pair in a/g b/g c/g d/g a/h; do
		num=$(result "${pair%/*}" rate) den=$(result "${pair#*/}" rate)
		if [ -z "$num" ] || [ -z "$den" ]; then continue; fi
		echo "- ${SHORT[${pair%/*}]} / ${SHORT[${pair#*/}]}: $(printf '%.3f' "$(calc "$num / $den")")"
	done
}

# cpu_table: the CPU per request of each part, for the scenarios wrk measured.
cpu_table() {
	local key c
	echo "| scenario | machine busy | lighttpd | inventory_app | billing_publisher | billing_app" \
		"| PostgreSQL | RabbitMQ | rest (wrk or pgbench, kernel) | total |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for key in a b c d g h i; do
		[ -s "$WORK/result/$key.cpu" ] || continue
		read -r -a c < "$WORK/result/$key.cpu"
		echo "| ${SHORT[$key]} | ${c[0]} % | ${c[1]} | ${c[2]} | ${c[3]} | ${c[4]} | ${c[5]}" \
			"| ${c[6]} | ${c[7]} | ${c[8]} |"
	done
}

rss_table() {
	local before after i
	read -r -a before < "$WORK/rss-before" || before=(- - - -)
	read -r -a after < "$WORK/rss-after" || after=(- - - -)
	echo "| process | before (KB) | after (KB) |"
	echo "|---|---:|---:|"
	for i in 0 1 2 3; do
		echo "| ${PROCESSES[$i]} | ${before[$i]:--} | ${after[$i]:--} |"
	done
}

soak_table() {
	local total
	if [ ! -s "$WORK/soak" ]; then
		if [ "$QUICK" = 1 ]; then echo "Skipped (QUICK mode).";
		elif selected soak; then echo "Failed to run."; else echo "Not run."; fi
		return
	fi
	if [ -s "$WORK/soak-total" ]; then
		read -r -a total < "$WORK/soak-total"
		echo "$(thousands "${total[0]}") requests of GET /api/movies/:id in ${total[1]} s" \
			"($(thousands "$(result soak rate)") req/s; non-2xx + socket errors:" \
			"$(result soak non2xx) + $(result soak socket)). RSS in KB:"
		echo
	fi
	echo "| elapsed (s) | requests served | lighttpd | inventory_app | billing_publisher | billing_app |"
	echo "|---:|---:|---:|---:|---:|---:|"
	while read -r -a s; do
		echo "| ${s[0]} | $(thousands "${s[1]}") | ${s[2]} | ${s[3]} | ${s[4]} | ${s[5]} |"
	done < "$WORK/soak"
}

machine() {
	echo "- nproc: $(nproc)"
	echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "- memory: $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "- kernel: $(uname -srm)"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "- load average at start / end: $LOAD_START / $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- PostgreSQL: $(pg_admin -c 'SELECT version()' | cut -d' ' -f1-2);" \
		"fsync=$(pg_admin -c 'SHOW fsync'), synchronous_commit=$(pg_admin -c 'SHOW synchronous_commit')," \
		"full_page_writes=$(pg_admin -c 'SHOW full_page_writes')"
	echo "- wrk: $(dpkg-query -W -f='${Version}' wrk 2>/dev/null), -t$THREADS -c$CONNECTIONS," \
		"${DURATION} s per round after a ${WARMUP} s warm-up, median of $ROUNDS round(s)," \
		"load generator on the same machine"
	echo "- mode: $([ "$QUICK" = 1 ] && echo "QUICK (smoke)" || echo full)"
}

write_results() {
	local drain="" times
	if [ -s "$WORK/drain-times" ]; then
		read -r -a times < "$WORK/drain-times"
		drain="It took ${times[0]} ms from running \`pm2 start billing_app\` to seeing the last of"
		drain+=" the $(thousands "$ORDERS") rows (polling every 50 ms); \`pm2 start\` itself took ${times[1]} ms"
		drain+=" and the first row's transaction began at ${times[2]} ms, so the consumer's own rate was about"
		drain+=" $(thousands "$(calc "$ORDERS * 1000 / (${times[0]} - ${times[2]} > 0 ? ${times[0]} - ${times[2]} : 1)")") msg/s."
	fi
	{
		echo "# make bench: results"
		echo
		echo "Written by \`scripts/bench/bench.sh\` ($([ "$QUICK" = 1 ] && echo "make bench QUICK=1" || echo "make bench"))."
		echo "1,000 movies seeded; the list answer is $(thousands "$LIST_BYTES") bytes."
		echo "(e): $(thousands "$ORDERS") orders queued while billing_app was stopped. $drain"
		echo
		results_table
		echo
		echo "## Targets"
		echo
		ratios_table
		echo
		echo "Other ratios:"
		echo
		info_ratios
		echo
		echo "## Where the CPU goes"
		echo
		echo "CPU time per request in µs during each measured run ($(nproc) cores =" \
			"$(thousands "$(calc "$(nproc) * 1000000")") µs of CPU per second), from /proc."
		echo "A scenario whose machine busy is near 100 % is bound by CPU: its rate is about"
		echo "$(nproc),000,000 / total."
		echo
		cpu_table
		echo
		echo "## Resident memory"
		echo
		echo "Before the first scenario and after the last (billing_app is restarted by (e))."
		echo
		rss_table
		echo
		echo "## Memory soak"
		echo
		soak_table
		echo
		echo "## Machine"
		echo
		machine
		if [ "${#FAILED[@]}" -gt 0 ]; then
			echo
			echo "**Failed** (did not run, or no request succeeded): ${FAILED[*]}"
		fi
	} > "$OUT/results.md"
}

draw_chart() {
	local key rate data=$WORK/chart.tsv
	: > "$data"
	for key in "${SCENARIOS[@]}"; do
		rate=$(result "$key" rate)
		[ -n "$rate" ] || continue
		printf '%s\t%s\t%s\n' "${SHORT[$key]}" "$rate" "$([[ $key =~ [ghi] ]] && echo 2 || echo 1)" >> "$data"
	done
	[ -s "$data" ] || return 0
	gnuplot -e "datafile='$data'; outfile='$OUT/chart.png'; subtitle='$(nproc) cores, $(date -u +%Y-%m-%d), wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s'" \
		"$LUA_DIR/chart.gp"
}

# ---- Main ------------------------------------------------------------------------

main() {
	local tool missed
	for tool in wrk pgbench gnuplot psql curl; do
		command -v "$tool" > /dev/null || { echo "bench: $tool is missing" >&2; exit 1; }
	done
	LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
	echo "== starting a private stack in $STACK_DIR (gateway on $BASE_URL)"
	private_stack_up
	echo "== seeding $MOVIES movies and bench_db (pgbench scale $PGBENCH_SCALE)"
	seed_movies
	prepare_bench_db
	snapshot_rss before

	run_scenario g ceiling_static
	run_scenario a scenario_get_by_id
	run_scenario b scenario_list
	run_scenario c scenario_post_movie
	run_scenario d scenario_billing
	run_scenario e scenario_drain
	run_scenario h ceiling_pk_read
	run_scenario i ceiling_insert
	if [ "$SOAK_REQUESTS" -gt 0 ]; then run_scenario soak soak; fi
	snapshot_rss after

	write_results
	draw_chart
	echo
	sed -n '/^| scenario/,/^$/p;/^## Targets/,/^## Resident/p' "$OUT/results.md" | sed '$d'
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
