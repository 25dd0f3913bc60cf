# shellcheck shell=bash
# Sourced by bench.sh: the machine's own ceilings, each the best of several ways of
# reaching it, measured in the same run as the scenarios.
#   (h) pgbench -S and (i) single-row INSERT commits: over TCP (the application's user,
#       as the programs connect) and over the unix socket (the postgres superuser by
#       peer), -M simple and -M prepared, 8 and 32 clients;
#   (j) the broker alone: tools/amqp_confirm_bench, persistent messages with confirms on
#       billing_queue, 32 in flight like (d), spread over 32, 8 or 2 connections;
#   (k) the FastCGI hop alone: a side gateway (the same lighttpd.conf) in front of
#       tools/fcgi_fixed, which answers a fixed movie without a database, over TCP and
#       over unix sockets (sidecars.sh).
# Every way is run once (the screen); the best is then measured in ROUNDS rounds.

TOOLS_DIR=$PROJECT_ROOT/${BUILD:-build/release}/bench

# ---- Best of several ways ----------------------------------------------------------

# best_of KEY FUNCTION WAY...: each WAY is "label|args"; FUNCTION KEY ROUND ARGS... runs
# one round. The screen's rates go to KEY.ways ("label rate" lines), the winner's label
# to KEY.won, and KEY holds the winner's median over ROUNDS rounds.
best_of() {
	local key=$1 fn=$2 way best="" best_rate=0 rate label args
	shift 2
	: > "$WORK/result/$key.ways"
	for way in "$@"; do
		label=${way%%|*} args=${way#*|}
		# shellcheck disable=SC2086 # args are words by design
		"$fn" "$key" 1 $args || { echo "   $label: failed" >&2; continue; }
		rate=$(result "$key" rate)
		echo "$label $rate" >> "$WORK/result/$key.ways"
		echo "   $label: $(thousands "$rate")/s"
		if [ "$(calc "$rate > $best_rate")" = 1 ]; then
			best=$way best_rate=$rate
			cp "$WORK/result/$key" "$WORK/result/$key.best"
			[ ! -f "$WORK/result/$key.cpu" ] || cp "$WORK/result/$key.cpu" "$WORK/result/$key.best.cpu"
		fi
	done
	rm -f "$WORK/result/$key" "$WORK/result/$key.cpu"
	[ -n "$best" ] || return 1
	echo "${best%%|*}" > "$WORK/result/$key.won"
	if [ "$ROUNDS" -gt 1 ]; then
		# shellcheck disable=SC2086
		rounds "$key" "$fn" ${best#*|}
	else
		mv "$WORK/result/$key.best" "$WORK/result/$key"
		[ ! -f "$WORK/result/$key.best.cpu" ] || mv "$WORK/result/$key.best.cpu" "$WORK/result/$key.cpu"
	fi
	echo "   best: ${best%%|*}"
}

# won KEY: the label of the way that won KEY's screen, or "".
won() { cat "$WORK/result/$1.won" 2>/dev/null || true; }

# ---- (h), (i): PostgreSQL ------------------------------------------------------------

# pg_way KEY ROUND VIA CLIENTS PGBENCH-ARGS...: one pgbench round over VIA (tcp or unix).
pg_way() {
	local key=$1 round=$2 via=$3
	shift 3
	PGBENCH_VIA=$via pgbench_round "$key" "$round" "$@"
}

# pg_ways ARGS...: the eight ways of running pgbench with ARGS.
pg_ways() {
	local via mode clients ways=()
	for via in tcp unix; do
		for mode in simple prepared; do
			for clients in 8 32; do
				ways+=("$via -M $mode, $clients clients|$via $clients -M $mode $*")
			done
		done
	done
	printf '%s\n' "${ways[@]}"
}

# (h) The ceiling of a primary-key read.
ceiling_pk_read() {
	local ways
	mapfile -t ways < <(pg_ways -S)
	best_of h pg_way "${ways[@]}"
}

# (i) The ceiling of a durable write: single-row INSERT commits.
ceiling_insert() {
	local ways
	mapfile -t ways < <(pg_ways -n -f "$BENCH_DIR/insert.sql")
	best_of i pg_way "${ways[@]}"
}

# ---- (j): RabbitMQ -------------------------------------------------------------------

# amqp_round KEY ROUND CONNECTIONS INFLIGHT: one run of the confirm benchmark.
amqp_round() {
	local key=$1 connections=$3 inflight=$4 out=$WORK/raw/$1.txt cpu_before cpu_after n rc=0
	rabbit_url_parts
	cpu_before=$(cpu_sample)
	AMQP_PASSWORD=$AMQP_PASS "$TOOLS_DIR/amqp_confirm_bench" "$AMQP_HOST" "$AMQP_PORT" \
		"$AMQP_VHOST" "$AMQP_USER" "$QUEUE_NAME" "$connections" "$inflight" "$DURATION" \
		> "$out" 2>&1 || rc=$?
	cpu_after=$(cpu_sample)
	n=$(sed -n 's/^AMQP confirmed=\([0-9]*\).*/\1/p' "$out")
	if [ "$rc" != 0 ] || [ -z "$n" ] || [ "$n" = 0 ]; then
		cat "$out" >&2
		return 1
	fi
	save_cpu "$key" "$n" "$cpu_before" "$cpu_after"
	save_result "$key" "$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' "$out")" - - 0 0
}

# (j) The broker's own limit: 32 confirms in flight, as (d) has at most.
ceiling_broker() {
	best_of j amqp_round "32 connections x 1 in flight|32 1" \
		"8 connections x 4 in flight|8 4" "2 connections x 16 in flight|2 16"
}

# ---- (k): the FastCGI hop ------------------------------------------------------------

# side_wrk_round KEY ROUND SIDE SCRIPT PATH [ARGS...]: wrk_round against a side gateway,
# its CPU counted as lighttpd's and the inventory's.
side_wrk_round() {
	local key=$1 round=$2 side=$3
	shift 3
	SIDE_CPU=$side BASE_URL=http://127.0.0.1:${SIDE_PORT[$side]} wrk_round "$key" "$round" "$@"
}

# (k) lighttpd and the FastCGI hop with nothing behind: over TCP, over unix sockets.
ceiling_fcgi() {
	best_of k side_wrk_round \
		"TCP|fixed-tcp get.lua /api/movies/1" "unix sockets|fixed-unix get.lua /api/movies/1"
}
