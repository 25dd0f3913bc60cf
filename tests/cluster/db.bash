# shellcheck shell=bash
# shellcheck disable=SC2016 # jq filters and bash -c scripts name their own $variables
# Loaded by tests/cluster/db_failover.bats after ../lib/helpers and cluster: the database
# tier's hosts (Patroni's REST API, read from outside), the movie writes of the load, and
# the row each scenario adds to the runner's table. Run by tests/lib/test-db.sh, which
# exports DB_HOSTS besides what tests/cluster/cluster.bash reads.

# How long requests may fail after the primary is lost: the target of issue 20 with
# Patroni's ttl 6, loop_wait 1, retry_timeout 2 (scripts/deploy/lib/patroni.sh).
export DB_FAILOVER_TARGET=15

# ---- The cluster, as Patroni's REST API tells it -----------------------------------

# db_cluster_json: GET /cluster from the first DB host whose Patroni answers.
db_cluster_json() {
	local host
	for host in $(hosts_in "$DB_HOSTS"); do
		curl -fsS --max-time 2 "http://${HOST_IP[$host]}:8008/cluster" 2>/dev/null && return 0
	done
	return 1
}

# db_primary: the leader whose PostgreSQL runs.
db_primary() {
	db_cluster_json | jq -er '.members[] | select(.role == "leader" and .state == "running") | .name'
}

# db_new_primary OLD: a running leader other than OLD.
db_new_primary() {
	local p
	p=$(db_primary) && [ "$p" != "$1" ]
}

# db_sync_standby: the synchronous standby.
db_sync_standby() {
	db_cluster_json | jq -er '.members[] | select(.role == "sync_standby") | .name'
}

# db_healthy: three members, a running leader, a sync standby, and every replica
# running or streaming on the leader's timeline.
db_healthy() {
	db_cluster_json | jq -e '
		(.members | length) == 3 and
		([.members[] | select(.role == "leader" and .state == "running")] | length) == 1 and
		([.members[] | select(.role == "sync_standby")] | length) == 1 and
		([.members[] | select(.state == "running" or .state == "streaming")] | length) == 3 and
		(([.members[] | .timeline] | unique | length) == 1)'
}

# db_role HOST: HOST's role as the cluster sees it.
db_role() {
	db_cluster_json | jq -er --arg n "$1" '.members[] | select(.name == $n) | .role'
}

# health_lists_db_tier: GET /api/health through the gateway lists the DB hosts Patroni
# lists, by name, with one primary (Patroni's leader), one sync standby and a lag in
# bytes for each (billing/database_tier.c).
health_lists_db_tier() {
	local health cluster
	health=$(curl -fsS --max-time 5 "$BASE_URL/api/health") && cluster=$(db_cluster_json) || return 1
	jq -e --argjson c "$cluster" '
		.parts.database_tier as $t | $t.status == "up" and
		([$t.hosts[].name] | sort) == ([$c.members[].name] | sort) and ($t.hosts | length) == 3 and
		[$t.hosts[] | select(.role == "primary") | .name] == [$c.members[] | select(.role == "leader") | .name] and
		([$t.hosts[] | select(.role == "sync_standby")] | length) == 1 and
		all($t.hosts[]; (.lag_bytes | type) == "number")' <<<"$health" >/dev/null
}

# assert_health_lists_db_tier: health_lists_db_tier within a few checks (the answer is
# kept for a second), then says what it lists.
assert_health_lists_db_tier() {
	wait_for 10 health_lists_db_tier ||
		fail "GET /api/health does not list the DB hosts as Patroni does: $(curl -sS --max-time 5 "$BASE_URL/api/health")"
	say "/api/health: $(curl -fsS --max-time 5 "$BASE_URL/api/health" |
		jq -r '[.parts.database_tier.hosts[] | "\(.name) \(.role) lag \(.lag_bytes)"] | join(", ")')"
}

# on_db HOST SQL: SQL as the postgres superuser on HOST's own PostgreSQL (its socket),
# inside HOST: what Patroni's node itself holds, whatever the cluster thinks.
on_db() {
	on_host "$1" runuser -u postgres -- psql -qAtX -h "$HOSTS_DIR/$1/db/run" \
		-p "$POSTGRES_PORT" -d "$POSTGRES_DB" -c "$2"
}

# not_primary HOST: HOST's PostgreSQL is no primary: a standby, or stopped (Patroni
# stops it when it was the leader and cannot reach etcd's quorum: demote "offline").
not_primary() {
	[ "$(on_db "$1" 'SELECT pg_is_in_recovery()' 2>/dev/null)" != f ]
}

# kill_db_host HOST: SIGKILL to every process of HOST (PM2, etcd, Patroni, PostgreSQL),
# a crash. It comes back as after a reboot, by PM2's resurrect.
kill_db_host() {
	kill_host_processes "$1"
}

db_host_back() {
	on_host "$1" "$PM2" resurrect >/dev/null
}

# ---- The databases, through the apps' own roles, from the apps' own hosts ------------

# db_psql PREFIX [psql args...]: psql as an app's role on the cluster's primary (libpq's
# multi-host form, as the apps connect).
db_psql() {
	POSTGRES_HOST=$DB_HOSTS POSTGRES_BILLING_HOST=$DB_HOSTS PGTARGETSESSIONATTRS=read-write \
		PGCONNECT_TIMEOUT=2 app_psql "$@"
}
export -f db_psql

# helpers.bash's sql_billing, on the cluster from the billing host.
sql_billing() {
	in_host "$BILLING_HOST" db_psql POSTGRES_BILLING <<<"$1"
}

sql_movies() {
	in_host "$INVENTORY_HOST" db_psql POSTGRES <<<"$1"
}

# cluster.bash's queue_json for a single RabbitMQ node (billing's): its queue's messages
# and consumers (billing_queue_empty reads it).
queue_json() {
	on_stack "$1" 'rabbitmqctl_ list_queues -p "$AMQP_VHOST" --formatter json name messages consumers' |
		jq -c --arg q "$QUEUE_NAME" '.[] | select(.name == $q)'
}

# ---- Movie writes under load ---------------------------------------------------------

# movie_client N: POSTs movies titled db-load-N-<i> until the stop file exists, recording
# "START END STATUS TITLE" in LOAD_DIR/movies-N.writes.
movie_client() {
	local n=$1 i=0 title started answer deadline=$((SECONDS + LOAD_SECONDS_MAX))
	while [ ! -e "$LOAD_DIR/stop" ] && [ "$SECONDS" -lt "$deadline" ]; do
		i=$((i + 1))
		title=db-load-$RUN_TAG-$n-$i
		started=$EPOCHREALTIME
		answer=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -X POST "$BASE_URL/api/movies" \
			-H 'Content-Type: application/json' -d "{\"title\":\"$title\"}" 2>/dev/null) || true
		echo "$started $EPOCHREALTIME ${answer:-000} $title" >>"$LOAD_DIR/movies-$n.writes"
	done
}

# movie_writes_start N: N movie-writing clients beside load.bash's.
movie_writes_start() {
	local i
	LOAD_DIR=${LOAD_DIR:-$(mktemp -d "$BATS_TEST_TMPDIR/load.XXXXXX")}
	for ((i = 1; i <= $1; i++)); do
		movie_client "$i" 3>&- &
		LOAD_PIDS+=($!)
	done
}

movie_lines() {
	cat "$LOAD_DIR"/*.writes 2>/dev/null || true
}

# movies_created_after TIME N: N movies started after TIME were answered 201.
movies_created_after() {
	[ "$(movie_lines | awk -v t="$1" '$1 >= t && $3 == 201' | grep -c .)" -ge "$2" ]
}

# movies_not_once: of the movies answered 201, how many are not in movies_db exactly once.
movies_not_once() {
	local titles
	titles=$(movie_lines | awk '$3 == 201 { print $4 }' | paste -sd,)
	sql_movies "SELECT count(*) FROM unnest(string_to_array('$titles', ',')) AS answered(t)
		WHERE (SELECT count(*) FROM movies WHERE title = answered.t) <> 1"
}

# assert_movies_exist: every movie answered 201 is in movies_db exactly once.
# MOVIES_CHECKED: how many were.
assert_movies_exist() {
	local n bad
	n=$(movie_lines | awk '$3 == 201' | grep -c . || true)
	[ "$n" -gt 0 ] || fail "no movie was answered 201"
	bad=$(movies_not_once)
	echo "# movies answered 201: $n, not in movies_db exactly once: $bad" >&3
	assert_equal "$bad" 0
	# shellcheck disable=SC2034 # db_scenario_row reads it
	MOVIES_CHECKED=$n
}

# all_lines: every request of the scenario, "START END STATUS KIND": get, movie, order.
all_lines() {
	load_timed_lines | awk '{ print $1, $2, $3, (NF == 4 ? "order" : "get") }'
	movie_lines | awk '{ print $1, $2, $3, "movie" }'
}

# failures_of KIND: the failed requests (not 2xx) of that kind, "START END STATUS KIND".
failures_of() {
	all_lines | awk -v k="$1" '$4 == k && $3 !~ /^2/'
}

# failure_window SINCE: seconds from SINCE to the end of the last failed request (0: none).
failure_window() {
	all_lines | awk -v t="$1" '$3 !~ /^2/ && $2 - t > w { w = $2 - t } END { printf "%.1f\n", w }'
}

# promote_asked_after HOST TIME: seconds from TIME (epoch) to HOST's PostgreSQL logging
# its last promote request (Patroni's promotion), from its log; "?" when none is logged.
# With the clients' failure window it tells a late promotion from a late reconnect.
promote_asked_after() {
	local line
	line=$(grep -h 'received promote request' "$HOSTS_DIR/$1"/pm2/logs/patroni-*.log 2>/dev/null | tail -n 1)
	[ -n "$line" ] || { echo '?'; return 0; }
	awk -v a="$2" -v b="$(date -d "$(cut -d' ' -f1-3 <<<"$line")" +%s.%N)" 'BEGIN { printf "%.1f\n", b - a }'
}

# db_scenario_row: the scenario's row in the runner's table (HOSTS_DIR/figures): each
# kind's requests and failures, the seconds in which a failed one ended, the window
# (FAULT_AT to the last failure's end), the movies and orders checked.
db_scenario_row() {
	all_lines | awk -v name="$SCENARIO" -v since="${FAULT_AT:-0}" \
		-v movies="${MOVIES_CHECKED:--}" -v orders="${ORDERS_CHECKED:--}" '
		{ made[$4]++ }
		$3 !~ /^2/ { failed[$4]++; sec[int($2)]; if ($2 - since > w) w = $2 - since }
		END {
			for (s in sec) n++
			printf "%s|%d/%d|%d/%d|%d/%d|%d|%.1f|%s|%s\n", name, made["get"], failed["get"],
				made["movie"], failed["movie"], made["order"], failed["order"], n, w, movies, orders
		}' >>"$HOSTS_DIR/figures"
}
