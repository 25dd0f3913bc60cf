# shellcheck shell=bash
# Sourced by bench.sh: wrk and pgbench runs, in rounds whose median is kept; each
# scenario's numbers in $WORK/result/KEY.

# ---- Results -------------------------------------------------------------------

# save_result KEY RATE P50_US P99_US NON2XX SOCKET: one scenario's numbers ("-" = n/a).
save_result() { echo "${*:2}" > "$WORK/result/$1"; }

# result KEY FIELD: rate p50 p99 non2xx socket; empty when the scenario has no result.
result() {
	local -A at=([rate]=0 [p50]=1 [p99]=2 [non2xx]=3 [socket]=4)
	local fields
	[ -s "$WORK/result/$1" ] || return 0
	read -r -a fields < "$WORK/result/$1"
	echo "${fields[${at[$2]}]}"
}

# ---- wrk -----------------------------------------------------------------------

# wrk_ SECONDS SCRIPT PATH [SCRIPT ARGS...]: one wrk run through the gateway.
wrk_() {
	local seconds=$1 script=$2 path=$3
	shift 3
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"${seconds}s" -s "$BENCH_DIR/$script" \
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

# ---- pgbench -------------------------------------------------------------------

# pgbench_ ARGS...: pgbench on bench_db. PGBENCH_VIA=tcp: over TCP as the inventory's
# user, as the programs connect; unix: over the server's unix socket, as the postgres
# superuser (the only role the socket lets in, by peer).
PGBENCH_VIA=tcp
pgbench_() {
	if [ "$PGBENCH_VIA" = unix ]; then
		runuser -u postgres -- pgbench -h "$STACK_DIR/pg" -p "$POSTGRES_PORT" "$@" bench_db
	else
		PGPASSWORD=$POSTGRES_PASSWORD pgbench -h "$POSTGRES_HOST" -p "$POSTGRES_PORT" \
			-U "$POSTGRES_USER" "$@" bench_db
	fi
}

# pgbench_round KEY ROUND CLIENTS ARGS...: one measured pgbench run; saves its numbers.
pgbench_round() {
	local key=$1 clients=$3 out=$WORK/raw/$1.txt logs=$WORK/pgbench-$1 tps failed p50 p99 txs
	local cpu_before cpu_after
	shift 3
	rm -rf "$logs"
	mkdir -p "$logs"
	[ "$PGBENCH_VIA" = tcp ] || chown postgres "$logs"
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
