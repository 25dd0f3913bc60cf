#!/usr/bin/env bats
# Production hardening, on the private stack: the daemons' users and PostgreSQL roles, no
# password where others can read it, what listens where, the per-address connection
# limit and the optional authentication of writes (README: Security).
bats_require_minimum_version 1.5.0

load ../lib/helpers

setup() {
	common_setup
	source "$PROJECT_ROOT/scripts/deploy/lib/gateway_settings.sh"
	gateway_env
}

teardown() {
	# A test that changed the gateway's settings puts .env's back, failed or not.
	if [ -n "${GATEWAY_CHANGED-}" ]; then
		"$PROJECT_ROOT/scripts/deploy/reload.sh" api_gateway_app >/dev/null
	fi
}

# ---- helpers ------------------------------------------------------------------

publisher_pids() {
	pgrep -P "$(cat "$RUN_DIR/lighttpd.pid")" -f billing_publisher
}

# users_of: the users the processes whose pids come on stdin run as, sorted and unique.
users_of() {
	ps -o user= -p "$(paste -sd, -)" | sort -u
}

# set_gateway NAME=VALUE...: applies those settings over .env's with make reload.
set_gateway() {
	GATEWAY_CHANGED=1
	run -0 env "$@" "$PROJECT_ROOT/scripts/deploy/reload.sh" api_gateway_app
}

post_movie() {
	http POST /api/movies -H 'Content-Type: application/json' -d '{"title":"Guarded"}' "$@"
}

# local_addresses PORT: the addresses something listens on at PORT over TCP.
local_addresses() {
	ss -ltnH "sport = :$1" | awk '{ print $4 }'
}

answers() {
	[ "$(http GET /api/movies/)" = "$1" ]
}

# ---- least privilege -------------------------------------------------------------

@test "the daemons run as their own unprivileged users, never root" {
	[ "$(id -u)" = 0 ] || skip "only root can switch users"
	assert_equal "$(pm2_online_pids inventory_app | users_of)" inventory
	assert_equal "$(pm2_online_pids billing_app | users_of)" billing
	assert_equal "$(publisher_pids | users_of)" "$GATEWAY_USER"
	run id -u inventory
	refute_output 0
	run getent passwd billing
	assert_output --partial /usr/sbin/nologin
}

@test "each daemon's environment holds its own passwords only" {
	local pid environ
	rabbit_url_parts
	pid=$(pm2_online_pids inventory_app | head -n 1)
	environ=$(tr '\0' '\n' <"/proc/$pid/environ")
	assert_equal "$(grep -c "^POSTGRES_PASSWORD=" <<<"$environ")" 1
	[[ $environ != *"$POSTGRES_BILLING_PASSWORD"* && $environ != *"$AMQP_PASS"* ]]
	pid=$(pm2_online_pids billing_app | head -n 1)
	environ=$(tr '\0' '\n' <"/proc/$pid/environ")
	[[ $environ != *"$POSTGRES_PASSWORD"* ]]
	environ=$(tr '\0' '\n' <"/proc/$(cat "$RUN_DIR/lighttpd.pid")/environ")
	[[ $environ != *"$POSTGRES_PASSWORD"* && $environ != *"$POSTGRES_BILLING_PASSWORD"* && $environ != *"$AMQP_PASS"* ]]
}

@test "the applications' PostgreSQL roles are no superusers and each owns its database only" {
	run pg_admin -c "SELECT rolname, rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls
		FROM pg_roles WHERE rolname IN ('$POSTGRES_USER', '$POSTGRES_BILLING_USER') ORDER BY 1"
	assert_success
	assert_output "$(printf '%s|f\n' "$POSTGRES_USER" "$POSTGRES_BILLING_USER" | sort)"
	run pg_admin -c "SELECT datname FROM pg_database WHERE pg_get_userbyid(datdba) = '$POSTGRES_USER'"
	assert_output "$POSTGRES_DB"
	run pg_admin -c "SELECT datname FROM pg_database WHERE pg_get_userbyid(datdba) = '$POSTGRES_BILLING_USER'"
	assert_output "$POSTGRES_BILLING_DB"
}

@test "pg_stat_activity shows the apps connected as their roles, and no superuser session but this one" {
	# inventory_app's threads connect on their first request
	run parallel_http 32 GET /api/movies/
	assert_success
	assert_equal "$(grep -c '^200$' <<<"$output")" 32
	run pg_admin -c "SELECT count(*) FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename
		WHERE a.backend_type = 'client backend' AND r.rolsuper AND a.pid <> pg_backend_pid()"
	assert_output 0
	run pg_admin -c "SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name IN ('inventory_app', 'billing_app') ORDER BY 1"
	assert_output "$(printf '%s\n' "$POSTGRES_BILLING_USER" "$POSTGRES_USER" | sort)"
}

@test "an application's role cannot run programs, read the server's files or enter the other database" {
	run sql_movies "COPY (SELECT 1) TO PROGRAM 'true'"
	assert_failure
	assert_output --partial "must be superuser"
	run sql_billing "SELECT pg_read_file('PG_VERSION')"
	assert_failure
	assert_output --partial "permission denied"
	run env POSTGRES_DB="$POSTGRES_BILLING_DB" bash -c 'app_psql POSTGRES -c "SELECT 1"'
	assert_failure
	assert_output --partial "permission denied for database"
}

@test "the postgres superuser has no password and is let in by peer on the local socket only" {
	run pg_admin -c "SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'postgres'"
	assert_output t
	run pg_admin -c "SELECT type, database, user_name, auth_method FROM pg_hba_file_rules
		WHERE 'postgres' = ANY(user_name) OR 'all' = ANY(user_name) ORDER BY line_number"
	assert_output "local|{all}|{postgres}|peer"
	run env POSTGRES_USER=postgres bash -c 'app_psql POSTGRES -c "SELECT 1"'
	assert_failure
	# refused for who it is, not because nothing answered
	assert_output --regexp 'no pg_hba\.conf entry|authentication failed'
}

# ---- secrets -------------------------------------------------------------------

@test "the settings file is mode 600" {
	assert_equal "$(stat -c %a "$ENV_FILE")" 600
}

@test "no password shows in ps while provisioning runs, nor in the logs, PM2's process list or its dump" {
	local samples=$BATS_TEST_TMPDIR/ps.txt out=$BATS_TEST_TMPDIR/provision.txt
	# RabbitMQ's user too, as on a first provisioning
	rm -f "$(rabbit_setup_stamp)"
	sample_ps "$samples" "$PROJECT_ROOT/scripts/deploy/provision.sh" all >"$out" 2>&1 ||
		fail "provisioning failed: $(tail -n 20 "$out")"
	grep -q rabbitmqctl "$samples" || fail "ps caught no rabbitmqctl"
	grep -q psql "$samples" || fail "ps caught no psql"
	"$PM2" jlist >"$BATS_TEST_TMPDIR/jlist.json"
	[ -s "$PM2_HOME/dump.pm2" ]
	assert_no_secret_in "$samples" "$out" "$BATS_TEST_TMPDIR/jlist.json" "$PM2_HOME/dump.pm2" \
		"$PM2_HOME/pm2.log" "$PM2_HOME/logs" "$RUN_DIR/access.log" "$STACK_DIR/pg.log" \
		"$STACK_DIR/rabbit/log"
}

@test "RabbitMQ has no guest, and the application's user may use the billing queues only" {
	rabbit_url_parts
	run rabbitmqctl_ list_users -q --no-table-headers
	assert_output "$AMQP_USER"$'\t[]'
	run rabbitmqctl_ list_user_permissions -q --no-table-headers "$AMQP_USER"
	assert_output "$(printf '%s\t%s\t%s\t%s' "$AMQP_VHOST" "^$QUEUE_NAME(\\.dead)?\$" '^amq\.default$' \
		"^$QUEUE_NAME(\\.dead)?\$")"
	# guest's well-known password opens nothing
	local guest=guest
	run amqp-declare-queue --url="amqp://$guest:$guest@127.0.0.1:$AMQP_PORT" -q guest-probe
	assert_failure
	assert_output --partial ACCESS_REFUSED
}

# ---- network surface -----------------------------------------------------------

@test "every service of a one-host stack listens on loopback only" {
	local port
	rabbit_url_parts
	# No port for the inventory when it is reached over unix sockets (the next test).
	for port in "$API_GATEWAY_PORT" $(inventory_tcp_port) "$POSTGRES_PORT" "$AMQP_PORT"; do
		run local_addresses "$port"
		assert_success
		[ -n "$output" ] || fail "nothing listens on $port"
		refute_output --regexp '(^|[[:space:]])(0\.0\.0\.0|\*|\[::\]):'
	done
}

# inventory_health_as USER SOCKET: the inventory's health route asked over FastCGI as USER.
inventory_health_as() {
	env -i REQUEST_METHOD=GET SCRIPT_NAME=/api/health PATH_INFO= \
		setpriv --reuid="$1" --regid="$1" --init-groups cgi-fcgi -bind -connect "$2"
}

@test "the inventory's unix sockets admit the gateway's user only" {
	local path=${INVENTORY_LISTEN_ADDR#unix:} sock
	[[ $INVENTORY_LISTEN_ADDR == unix:* ]] || skip "the inventory is reached over TCP here"
	[ "$(id -u)" = 0 ] || skip "the daemons run as the starting user"
	run -0 stat -c '%U %G %a' "${path%/*}"
	assert_output "inventory www-data 750"
	while IFS= read -r sock; do
		sock=${sock#unix:}
		run -0 stat -c '%U %F' "$sock"
		assert_output "inventory socket"
		run inventory_health_as www-data "$sock"
		assert_success
		assert_line --partial 'Content-Type: application/json'
		run inventory_health_as billing "$sock"
		assert_failure
		refute_output --partial 'Content-Type'
	done < <(inventory_backend_addrs)
}

@test "the gateway limits connections per client address, with a 429 problem" {
	local limit
	limit=$(sed -n 's/.*"GATEWAY_MAX_CONNS_PER_IP" => "\([0-9]*\)".*/\1/p' "$GATEWAY_SETTINGS")
	assert_equal "$limit" "$GATEWAY_MAX_CONNS_PER_IP"
	set_gateway GATEWAY_MAX_CONNS_PER_IP=3
	exec 5<>"/dev/tcp/127.0.0.1/$API_GATEWAY_PORT" 6<>"/dev/tcp/127.0.0.1/$API_GATEWAY_PORT" \
		7<>"/dev/tcp/127.0.0.1/$API_GATEWAY_PORT"
	wait_for 10 answers 429
	assert_problem 429
	exec 5>&- 6>&- 7>&-
	wait_for 10 answers 200
}

# ---- authentication of writes ------------------------------------------------------

# with_htpasswd: a user with a random password in an htpasswd file the gateway can read,
# and a curl config carrying those credentials (CURL_AUTH), so that no command line does.
with_htpasswd() {
	local pass
	pass=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
	HTPASSWD=$STACK_DIR/htpasswd
	printf 'tester:%s\n' "$(openssl passwd -apr1 -stdin <<<"$pass")" >"$HTPASSWD"
	chgrp "$GATEWAY_USER" "$HTPASSWD"
	chmod 640 "$HTPASSWD"
	CURL_AUTH=$BATS_TEST_TMPDIR/auth.curl
	printf 'user = "tester:%s"\n' "$pass" >"$CURL_AUTH"
	printf 'user = "tester:wrong-%s"\n' "$pass" >"$CURL_AUTH.wrong"
}

@test "without GATEWAY_HTPASSWD writes need no authentication" {
	[ -z "${GATEWAY_HTPASSWD-}" ]
	run ! grep -q 'auth\.require' "$GATEWAY_SETTINGS"
	run post_movie
	assert_output 201
}

@test "with GATEWAY_HTPASSWD, writes to /api/movies need HTTP Basic; reads and orders do not" {
	local id
	with_htpasswd
	id=$(create_titled "Before authentication")
	set_gateway GATEWAY_HTPASSWD="$HTPASSWD"
	run post_movie
	assert_output 401
	assert_problem 401
	assert_equal "$(header WWW-Authenticate)" 'Basic realm="movies API", charset="UTF-8"'
	run post_movie -K "$CURL_AUTH.wrong"
	assert_output 401
	run http PUT "/api/movies/$id" -H 'Content-Type: application/json' -d '{"title":"x"}'
	assert_output 401
	run http DELETE "/api/movies/$id"
	assert_output 401
	run http DELETE /api/movies/
	assert_output 401
	run http GET "/api/movies/$id"
	assert_output 200
	run http GET /api/movies/
	assert_output 200
	run http POST /api/billing -H 'Content-Type: application/json' \
		-d '{"user_id": "auth", "number_of_items": 1, "total_amount": "1"}'
	assert_output 200
	run post_movie -K "$CURL_AUTH"
	assert_output 201
	run http PUT "/api/movies/$id" -K "$CURL_AUTH" -H 'Content-Type: application/json' -d '{"title":"y"}'
	assert_output 200
	run http DELETE "/api/movies/$id" -K "$CURL_AUTH"
	assert_output 200
}

@test "an htpasswd file the gateway cannot read is refused and the running gateway keeps its settings" {
	local pid
	with_htpasswd
	chmod 600 "$HTPASSWD"
	pid=$(cat "$RUN_DIR/lighttpd.pid")
	GATEWAY_CHANGED=1
	run env GATEWAY_HTPASSWD="$HTPASSWD" "$PROJECT_ROOT/scripts/deploy/reload.sh" api_gateway_app
	assert_failure
	assert_output --partial "GATEWAY_HTPASSWD"
	run post_movie
	assert_output 201
	assert_equal "$(cat "$RUN_DIR/lighttpd.pid")" "$pid"
}
