#!/usr/bin/env bats
# PostgreSQL's own metrics (README, Observability; scripts/deploy/lib/postgres_exporter.sh).
# The real prometheus-postgres-exporter, started by the script PM2 runs
# (scripts/deploy/postgres_exporter.sh) on a private port (the stack's PostgreSQL port
# + 1), against this stack's PostgreSQL, logged in as a role that the provisioning's own
# functions create and let in (pg_ensure_metrics_role, pg_allow_only). It reports the
# server, and the role reads statistics only.
load ../lib/helpers
source "$PROJECT_ROOT/scripts/deploy/lib/postgres_exporter.sh"

setup_file() {
	export METRICS_BIND=127.0.0.1 POSTGRES_EXPORTER_PORT=$((POSTGRES_PORT + 1))
	export POSTGRES_EXPORTER_USER=${POSTGRES_EXPORTER_USER:-metrics_reader}
	# .env has none unless provisioning turned the exporter on: one for this run.
	[ -n "${POSTGRES_EXPORTER_PASSWORD:-}" ] || POSTGRES_EXPORTER_PASSWORD=$(random_secret)
	export POSTGRES_EXPORTER_PASSWORD
	export EXPORTER_URL=http://127.0.0.1:$POSTGRES_EXPORTER_PORT/metrics
	export EXPORTER_DIR=$BATS_FILE_TMPDIR/exporter
	mkdir -p "$EXPORTER_DIR"
	pg_ensure_metrics_role
	pg_allow_only POSTGRES POSTGRES_BILLING POSTGRES_EXPORTER
	"$PROJECT_ROOT/scripts/deploy/postgres_exporter.sh" >"$EXPORTER_DIR/log" 2>&1 3>&- &
	echo $! >"$EXPORTER_DIR/pid"
	wait_for 30 pg_up_is 1 || {
		cat "$EXPORTER_DIR/log" >&3
		return 1
	}
}

teardown_file() {
	local pid
	pid=$(cat "$EXPORTER_DIR/pid")
	kill "$pid"
	wait_for 30 eval '! kill -0 '"$pid"
	# The stack's PostgreSQL as the other suites know it: the apps' roles only.
	pg_allow_only POSTGRES POSTGRES_BILLING
	pg_admin -v u="$POSTGRES_EXPORTER_USER" <<<"SELECT format('DROP ROLE %I', :'u') WHERE EXISTS (SELECT FROM pg_roles WHERE rolname = :'u')\\gexec"
}

setup() {
	common_setup
}

# scrape: the exporter's page.
scrape() {
	curl -fsS --max-time 10 "$EXPORTER_URL"
}

# pg_up_is VALUE: the page says pg_up VALUE.
pg_up_is() {
	scrape 2>/dev/null | grep -qx "pg_up $1"
}

# as_metrics_role DB SQL: SQL as the exporter's role, over loopback TCP with its password.
as_metrics_role() {
	PGPASSWORD=$POSTGRES_EXPORTER_PASSWORD psql -qAtX -v ON_ERROR_STOP=1 -h 127.0.0.1 \
		-p "$POSTGRES_PORT" -U "$POSTGRES_EXPORTER_USER" -d "$1" <<<"$2"
}

@test "the exporter reports the server up and movies_db's statistics; promtool accepts its page" {
	scrape >"$BATS_TEST_TMPDIR/page"
	run grep -x 'pg_up 1' "$BATS_TEST_TMPDIR/page"
	assert_success
	run grep -E "^pg_stat_database_xact_commit\\{.*datname=\"$POSTGRES_DB\".*\\} [0-9.e+]+$" "$BATS_TEST_TMPDIR/page"
	assert_success
	# Its page parses; promtool's naming lint (status 3) flags names the exporter chose
	# (pg_stat_database_xact_commit, a counter without _total), not ours to change.
	run promtool check metrics <"$BATS_TEST_TMPDIR/page"
	[ "$status" -eq 0 ] || [ "$status" -eq 3 ] || fail "promtool: $output"
	[[ $output != *"parsing error"* ]] || fail "promtool: $output"
}

@test "the exporter runs as prometheus on METRICS_BIND only, its password on no command line" {
	local pid
	pid=$(cat "$EXPORTER_DIR/pid")
	run stat -c %U "/proc/$pid"
	assert_output prometheus
	run cat "/proc/$pid/comm"
	assert_output --partial prometheus-post
	run ss -Hltn "sport = :$POSTGRES_EXPORTER_PORT"
	assert_output --regexp "127\\.0\\.0\\.1:$POSTGRES_EXPORTER_PORT "
	assert_equal "$(wc -l <<<"$output")" 1
	# (The password goes to grep through a pipe: grep's own arguments are in ps too.)
	ps -eo args >"$BATS_TEST_TMPDIR/ps"
	run grep -cF -f <(printf '%s\n' "$POSTGRES_EXPORTER_PASSWORD") "$BATS_TEST_TMPDIR/ps"
	assert_output 0
	# Its environment carries the connection string, and no password of the apps'.
	run grep -zc '^DATA_SOURCE_NAME=host=127\.0\.0\.1 ' "/proc/$pid/environ"
	assert_output 1
	run grep -zcF -f <(secrets) "/proc/$pid/environ"
	assert_output 0
}

@test "the exporter's role reads statistics only: pg_monitor, no table, no database of the apps" {
	run as_metrics_role postgres "SELECT string_agg(r.rolname, ',') FROM pg_auth_members m
		JOIN pg_roles r ON r.oid = m.roleid WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
	assert_output pg_monitor
	run as_metrics_role postgres "SELECT rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls
		FROM pg_roles WHERE rolname = current_user"
	assert_output f
	# It sees every database's statistics from its own...
	run as_metrics_role postgres "SELECT count(*) FROM pg_stat_database WHERE datname = '$POSTGRES_DB'"
	assert_output 1
	# ...but may not connect to movies_db, and, were it let in, not read the table.
	run as_metrics_role "$POSTGRES_DB" 'SELECT 1'
	assert_failure
	assert_output --partial 'permission denied for database'
	pg_admin -v d="$POSTGRES_DB" -v u="$POSTGRES_EXPORTER_USER" <<<"SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'d', :'u')\\gexec"
	run as_metrics_role "$POSTGRES_DB" 'SELECT count(*) FROM movies'
	pg_admin -v d="$POSTGRES_DB" -v u="$POSTGRES_EXPORTER_USER" <<<"SELECT format('REVOKE CONNECT ON DATABASE %I FROM %I', :'d', :'u')\\gexec"
	assert_failure
	assert_output --partial 'permission denied for table movies'
}

@test "targets.sh lists the exporter when POSTGRES_EXPORTER_PORT is set" {
	run bash -c '"$PROJECT_ROOT/scripts/monitoring/targets.sh" | jq -r ".[] | select(.labels.job == \"postgres\") | .targets[0] + .labels.__metrics_path__"'
	assert_success
	assert_output "127.0.0.1:$POSTGRES_EXPORTER_PORT/metrics"
}
