#!/usr/bin/env bats
# The inventory through restarts and outages: inventory_app stopped or restarted,
# PostgreSQL stopped. Each test puts back what it stopped, even when it fails.
# shellcheck disable=SC2016 # jq filters name their own $variables
bats_require_minimum_version 1.5.0

load ../lib/helpers

setup() {
	common_setup
	TAG="o${BATS_TEST_NUMBER}x${RANDOM}${RANDOM}"
	JSON=(-H 'Content-Type: application/json')
	APP_STOPPED=0
	PG_STOPPED=0
}

teardown() {
	if [ "$PG_STOPPED" = 1 ]; then
		private_pg_start
	fi
	if [ "$APP_STOPPED" = 1 ]; then
		app_start inventory_app
	fi
}

# assert_no_backend_details: the body names no backend address or software.
assert_no_backend_details() {
	run grep -Eqi "$(inventory_address_re)|lighttpd|fastcgi|postgres|libpq|<html" \
		"$BATS_TEST_TMPDIR/body"
	assert_failure
}

# status_is CODE METHOD PATH [curl args...]: succeeds when the request answers CODE.
# answers_503 METHOD PATH [curl args]: the request is answered 503 problem+json.
answers_503() {
	run -0 http "$@"
	assert_output 503
	assert_problem 503
}

status_is() {
	local want=$1
	shift
	[ "$(http "$@")" = "$want" ]
}

app_pid() {
	"$PM2" pid inventory_app
}

@test "movies persist across a restart of inventory_app" {
	local id pids
	id=$(create_titled "$TAG persistent")
	pids=$(app_pid)
	[[ $pids =~ ^[1-9][0-9]*($'\n'[1-9][0-9]*)*$ ]] || fail "inventory_app's pids: '$pids'"
	APP_STOPPED=1
	app_stop inventory_app
	app_start inventory_app
	APP_STOPPED=0
	# every instance is a new process
	assert_equal "$(comm -12 <(sort <<<"$pids") <(app_pid | sort))" ""
	run wait_for 30 status_is 200 GET "/api/movies/$id"
	assert_success
	jqb '. == {id: $id, title: $t, description: null}' --argjson id "$id" --arg t "$TAG persistent"
	# and it still writes
	run -0 http PUT "/api/movies/$id" "${JSON[@]}" --data-binary '{"description":"after restart"}'
	assert_output 200
	jqb '.description == "after restart"'
}

@test "inventory_app stopped: 503 problem+json, then recovery once it is back" {
	local id
	id=$(create_titled "$TAG app down")
	APP_STOPPED=1
	app_stop inventory_app
	answers_503 GET /api/movies
	assert_no_backend_details
	answers_503 GET "/api/movies/$id"
	answers_503 POST /api/movies "${JSON[@]}" --data-binary "{\"title\":\"$TAG while down\"}"
	app_start inventory_app
	APP_STOPPED=0
	run wait_for 30 status_is 200 GET "/api/movies/$id"
	assert_success
	jqb '.title == $t' --arg t "$TAG app down"
	run -0 http POST /api/movies "${JSON[@]}" --data-binary "{\"title\":\"$TAG after\"}"
	assert_output 201
	assert_equal "$(sql_movies "SELECT count(*) FROM movies WHERE title = '$TAG while down'")" 0
}

@test "PostgreSQL stopped: 503 problem+json with Retry-After, then recovery without restarting the app" {
	local id pid
	id=$(create_titled "$TAG pg down")
	pid=$(app_pid)
	# one pid a line, one per instance
	[[ $pid =~ ^[1-9][0-9]*($'\n'[1-9][0-9]*)*$ ]] || fail "inventory_app's pids: '$pid'"
	PG_STOPPED=1
	private_pg_stop
	answers_503 GET /api/movies
	assert_no_backend_details
	[ -n "$(header Retry-After)" ] || fail "no Retry-After"
	answers_503 GET "/api/movies/$id"
	answers_503 POST /api/movies "${JSON[@]}" --data-binary "{\"title\":\"$TAG while down\"}"
	answers_503 DELETE "/api/movies/$id"
	# validation needs no database: still a 400
	run -0 http POST /api/movies "${JSON[@]}" --data-binary '{"title":""}'
	assert_output 400
	private_pg_start
	PG_STOPPED=0
	run wait_for 30 status_is 200 GET "/api/movies/$id"
	assert_success
	jqb '.title == $t' --arg t "$TAG pg down"
	run -0 http POST /api/movies "${JSON[@]}" --data-binary "{\"title\":\"$TAG after\"}"
	assert_output 201
	assert_equal "$(app_pid)" "$pid"
	assert_equal "$(sql_movies "SELECT count(*) FROM movies WHERE title = '$TAG while down'")" 0
}

@test "after a PostgreSQL restart every write succeeds at once, whichever worker takes it" {
	local statuses
	# Give many worker threads a connection of their own, which the restart then closes.
	statuses=$(parallel_http 200 GET "/api/movies?limit=1")
	assert_equal "$(grep -vc '^200$' <<<"$statuses")" 0
	PG_STOPPED=1
	private_pg_stop
	private_pg_start
	PG_STOPPED=0
	# A POST is never retried on a connection that failed mid-statement, so a worker
	# must notice its closed connection before sending the insert.
	statuses=$(parallel_http 200 POST /api/movies "{\"title\":\"$TAG after restart\"}")
	assert_equal "$(sort <<<"$statuses" | uniq -c | sed 's/^ *//')" "200 201"
	assert_equal "$(sql_movies "SELECT count(*) FROM movies WHERE title = '$TAG after restart'")" 200
}
