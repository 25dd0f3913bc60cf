#!/usr/bin/env bats
# The database tier under load (issue 20). Run by tests/lib/test-db.sh: three DB hosts
# (etcd, Patroni, PostgreSQL 15), the gateway, an inventory host and billing. Under a
# continuous load of GET /api/movies/:id, POST /api/movies and POST /api/billing, the
# primary is lost three ways: its host crashes (SIGKILL to every process), its link goes
# down (a partition), and a planned `patronictl switchover`. Each time a new primary
# takes the writes, the old one comes back as a replica (pg_rewind through Patroni) and
# the cluster has three members with a sync standby again; every movie answered 201 is
# in movies_db once and every order answered 200 in billing_db once. Last, each DB host's
# PostgreSQL exporter (opt-in; test-db.sh turns it on) is checked where the three left it,
# and `make reload` on the primary's host restarts it alone.
bats_require_minimum_version 1.5.0

load ../lib/helpers
load cluster
load db

setup_file() {
	common_setup
	wait_for 180 db_healthy || fail "the database cluster is not three healthy members"
	TEST_STARTED=$SECONDS assert_health_lists_db_tier
	MOVIE=/api/movies/$(curl -fsS -X POST "$BASE_URL/api/movies" -H 'Content-Type: application/json' \
		-d '{"title":"Replicated","description":"on a Patroni cluster"}' | jq -r .id)
	export MOVIE
}

setup() {
	scenario_setup
	# shellcheck disable=SC2034 # read by db.bash (db_scenario_row, movie_client)
	FAULT_AT='' MOVIES_CHECKED='' RUN_TAG=$RANDOM$RANDOM
}

teardown() {
	[ -n "$LOAD_DIR" ] || return 0
	load_stop
	db_scenario_row
}

# db_scenario HOW: the primary is lost HOW (kill, link or switchover) under load.
db_scenario() {
	local how=$1 old new candidate took window
	wait_for 180 db_healthy || fail "the cluster is not three healthy members before"
	old=$(db_primary)
	candidate=$(db_sync_standby)
	load_start fresh 3 GET "$MOVIE"
	load_start fresh 1 POST /api/billing
	movie_writes_start 2
	wait_for 60 movies_created_after 0 20 || fail "movies were not created before"
	load_wait_for 50

	FAULT_AT=$EPOCHREALTIME
	case $how in
	kill) say "killing every process of the primary, $old"; kill_db_host "$old" ;;
	link) say "taking the primary's link down ($old)"; ip -n "$old" link set eth0 down ;;
	switchover)
		# On the primary's own host, as an operator would.
		say "patronictl switchover from $old to $candidate"
		on_host "$old" patronictl -c "$HOSTS_DIR/$old/db/patroni.yml" switchover \
			--leader "$old" --candidate "$candidate" --force >/dev/null
		;;
	esac
	wait_for 60 db_new_primary "$old" || fail "no new primary"
	new=$(db_primary)
	took=$(awk -v a="$FAULT_AT" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	say "new primary $new, seen running after $took s"
	[ "$how" = switchover ] || [ "$new" = "$candidate" ] || fail "$new was promoted, not the sync standby $candidate"
	NEW_AT=$EPOCHREALTIME

	if [ "$how" = link ]; then
		# No split brain: cut off from etcd's quorum, the old primary demoted itself and
		# takes no write, not even from its own superuser on its own socket.
		wait_for 30 not_primary "$old" || fail "the partitioned $old is still a primary"
		[ -d "$HOSTS_DIR/$old/db/run" ] || fail "no socket folder for $old's PostgreSQL"
		run on_db "$old" "INSERT INTO movies (title) VALUES ('split-brain')"
		assert_failure
		assert_output --regexp "read-only transaction|shutting down|starting up|No such file or directory"
		say "the partitioned $old takes no write: ${output//$'\n'/ }"
	fi
	wait_for 60 movies_created_after "$NEW_AT" 20 || fail "writes did not resume on $new"

	case $how in
	kill) say "bringing $old back (pm2 resurrect)"; db_host_back "$old" ;;
	link) say "taking $old's link up"; ip -n "$old" link set eth0 up ;;
	esac
	wait_for 240 db_healthy || fail "the cluster is not back to three members with a sync standby"
	run db_role "$old"
	assert_output --regexp '^(replica|sync_standby)$'
	say "$old rejoined as $output"
	assert_health_lists_db_tier
	load_wait_for 50
	load_stop

	window=$(failure_window "$FAULT_AT")
	say "failed writes started at (s after the fault): $(failures_of movie | awk -v t="$FAULT_AT" '{ printf "%.1f ", $1 - t }')"
	say "$new's PostgreSQL was asked to promote $(promote_asked_after "$new" "$FAULT_AT") s after the fault"
	say "failures ended within $window s of the fault; $(failures_of get | grep -c . || true) GET, $(failures_of movie | grep -c . || true) POST /api/movies failed"
	# Orders are answered once the broker has them: the database is not on their path.
	run failures_of order
	assert_output ""
	case $how in
	switchover)
		run failures_of get
		assert_output ""
		# Writes fail only while no primary exists: none started after the new one ran.
		run bash -c "awk -v t='$NEW_AT' '\$1 > t' <<<\"\$1\"" _ "$(failures_of movie)"
		assert_output ""
		;;
	*)
		awk -v w="$window" -v t="$DB_FAILOVER_TARGET" 'BEGIN { exit !(w <= t) }' ||
			fail "requests failed for $window s after the fault, over the $DB_FAILOVER_TARGET s target"
		;;
	esac
	assert_movies_exist
	assert_orders_exactly_once
}

@test "the primary's host crashes (SIGKILL to every process) under load: the sync standby takes over within the target, the old primary rejoins as a replica, no acknowledged write lost" {
	scenario_name "primary killed"
	db_scenario kill
}

@test "the primary's link goes down under load: it demotes itself (no split brain), the sync standby takes over within the target, it rejoins as a replica" {
	scenario_name "primary partitioned"
	db_scenario link
}

@test "a planned switchover under load: no GET fails, writes fail only while no primary exists" {
	scenario_name "patronictl switchover"
	db_scenario switchover
}

@test "each DB host runs PostgreSQL's exporter beside its PostgreSQL, as prometheus, on loopback; the primary's page lists its two standbys" {
	local host other primary pid
	wait_for 180 db_healthy || fail "the cluster is not three healthy members"
	primary=$(db_primary)
	for host in $(hosts_in "$DB_HOSTS"); do
		# The crashed host's came back with its other processes (pm2 resurrect).
		wait_for 30 on_host "$host" curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$POSTGRES_EXPORTER_PORT/metrics" ||
			fail "no exporter answers on $host"
		run on_host "$host" curl -fsS --max-time 10 "http://127.0.0.1:$POSTGRES_EXPORTER_PORT/metrics"
		assert_success
		assert_line 'pg_up 1'
		if [ "$host" = "$primary" ]; then
			for other in $(hosts_in "$DB_HOSTS"); do
				[ "$other" = "$primary" ] ||
					assert_line --regexp "^pg_stat_replication_[a-z_]+\{.*application_name=\"$other\""
			done
		fi
		run on_host "$host" ss -ltnHp "sport = :$POSTGRES_EXPORTER_PORT"
		assert_equal "$(awk '{ print $4 }' <<<"$output")" "127.0.0.1:$POSTGRES_EXPORTER_PORT"
		pid=$(grep -o 'pid=[0-9]*' <<<"$output" | cut -d= -f2)
		run stat -c %U "/proc/$pid"
		assert_output prometheus
	done
}

@test "make reload on a DB host restarts its exporter and leaves etcd, Patroni and PostgreSQL running" {
	local host postmaster
	host=$(db_primary)
	postmaster=$(head -n 1 "$HOSTS_DIR/$host/db/pg/postmaster.pid")
	run on_host "$host" "$PROJECT_ROOT/scripts/deploy/reload.sh"
	assert_success
	assert_line --partial 'etcd: left running'
	assert_line --partial 'patroni: left running'
	assert_line "postgres_exporter: started on 127.0.0.1:$POSTGRES_EXPORTER_PORT"
	assert_equal "$(head -n 1 "$HOSTS_DIR/$host/db/pg/postmaster.pid")" "$postmaster"
	assert_equal "$(db_primary)" "$host"
	wait_for 30 on_host "$host" curl -fsS --max-time 5 -o /dev/null "http://127.0.0.1:$POSTGRES_EXPORTER_PORT/metrics" ||
		fail "the exporter does not answer after the reload"
}
