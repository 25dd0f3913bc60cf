# shellcheck shell=bash
# Sourced by bench.sh: the data the scenarios need, and what each scenario does.

now_ms() { date +%s%3N; }

# ---- Set-up --------------------------------------------------------------------

# seed_movies: exactly $MOVIES movies, about 125 bytes each as JSON (125 KB for the list).
seed_movies() {
	app_psql POSTGRES -v movies="$MOVIES" <<'SQL'
DELETE FROM movies;
INSERT INTO movies (title, description)
	SELECT format('Benchmark movie %s', g),
	       format('Movie number %s of the benchmark, with a description of a usual length.', g)
	FROM generate_series(1, :'movies'::integer) g;
ANALYZE movies;
SQL
	read -r FIRST_ID LAST_ID < <(app_psql POSTGRES -c 'SELECT min(id), max(id) FROM movies' | tr '|' ' ')
	curl -fsS "$BASE_URL/api/movies" | wc -c > "$WORK/list-bytes"
}

# prepare_bench_db: pgbench's tables and the INSERT target in bench_db, then a checkpoint
# so that the load does not spill into the measurements.
prepare_bench_db() {
	pg_ensure_db bench_db "$POSTGRES_USER"
	pgbench_ -i -q -s "$PGBENCH_SCALE" > "$WORK/raw/pgbench-init.txt" 2>&1
	# psql takes the last -d: bench_db rather than app_psql's own POSTGRES_DB.
	app_psql POSTGRES -d bench_db -c 'CREATE TABLE IF NOT EXISTS bench_insert (
		id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		client_id integer NOT NULL,
		created_at timestamptz NOT NULL DEFAULT now())'
	pg_admin -c 'CHECKPOINT'
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

orders_count() { app_psql POSTGRES_BILLING -c 'SELECT count(*) FROM orders'; }

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
	wrk -t"$THREADS" -c"$CONNECTIONS" -d3600s -s "$BENCH_DIR/billing_n.lua" "$BASE_URL/api/billing" \
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
	local base target queued start started first end n deadline cpu_before
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
	cpu_before=$(cpu_sample)
	start=$(now_ms)
	"$PM2" start billing_app > /dev/null
	started=$(now_ms)
	while n=$(orders_count) && [ "$n" -lt "$target" ]; do
		[ "$SECONDS" -lt "$deadline" ] ||
			{ echo "only $((n - base)) of $ORDERS orders landed" >&2; return 1; }
		sleep 0.05
	done
	end=$(now_ms)
	# Its CPU per message includes billing_app's start and the polling's queries.
	save_cpu e "$ORDERS" "$cpu_before" "$(cpu_sample)"
	[ "$n" -eq "$target" ] || { echo "$((n - target)) orders landed twice" >&2; return 1; }
	# When the first new row's transaction began (created_at defaults to now()).
	first=$(app_psql POSTGRES_BILLING -v start_ms="$start" <<'SQL'
SELECT (extract(epoch FROM min(created_at)) * 1000)::bigint
	FROM orders WHERE created_at >= to_timestamp(:'start_ms'::bigint / 1000.0)
SQL
	)
	echo "$((end - start)) $((started - start)) $((${first:-$start} - start))" > "$WORK/drain-times"
	echo "   drain: $ORDERS rows in $((end - start)) ms from pm2 start (the command took" \
		"$((started - start)) ms; first row's transaction at $((${first:-$start} - start)) ms)"
	save_result e "$(calc "$ORDERS * 1000 / $((end - start))")" - - 0 0
}

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
	read -r -a SOAK_PIDS < <(process_pids "${PROCESSES[@]}")
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
