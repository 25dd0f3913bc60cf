#!/usr/bin/env bats
# Routine operations on a live platform lose no request: rolling restarts of the
# inventory and billing instances, a graceful gateway reload, `make run` again, and an
# inventory instance killed outright. Each test makes its own load (tests/lib/helpers.bash):
# clients on a new connection per request, and keep-alive clients.
bats_require_minimum_version 1.5.0

load ../lib/helpers

setup_file() {
	local id
	id=$(curl -fsS -X POST "$BASE_URL/api/movies" -H 'Content-Type: application/json' \
		-d '{"title":"Operations","description":"served through every restart"}' | jq -r .id)
	export MOVIE=/api/movies/$id
}

setup() {
	common_setup
	LOAD_DIR=
	TCP_INSTANCE=
}

teardown() {
	[ -z "$LOAD_DIR" ] || load_stop
	if [ -n "${TCP_INSTANCE:-}" ]; then
		kill "$TCP_INSTANCE" 2>/dev/null || true
		"$PROJECT_ROOT/scripts/deploy/reload.sh" api_gateway_app >/dev/null
	fi
	restore_services
	wait_for 30 instances_online inventory_app "${INVENTORY_INSTANCES:-2}"
}

# movie_load: GET /api/movies/:id from 4 new-connection and 2 keep-alive clients.
movie_load() {
	load_start fresh 4 GET "$MOVIE"
	load_start keepalive 2 GET "$MOVIE"
	load_wait_for 200
}

# order_load: POST /api/billing from 2 new-connection and 1 keep-alive client.
order_load() {
	load_start fresh 2 POST /api/billing
	load_start keepalive 1 POST /api/billing
	load_wait_for 100
}

# assert_no_failure: every request answered 2xx, none refused or cut.
assert_no_failure() {
	load_stop
	echo "# $(load_count all) requests, $(load_failures all) failed" >&3
	[ "$(load_count all)" -gt 0 ]
	assert_equal "$(load_failures all)" 0
}

@test "pm2 reload inventory_app under load: instances replaced one at a time, no request fails" {
	local before after
	before=$(pm2_online_pids inventory_app | sort)
	[ -n "$before" ] || fail "no inventory_app instance online before the reload"
	movie_load
	"$PM2" reload inventory_app
	wait_for 30 instances_online inventory_app 2
	load_wait_for 200
	assert_no_failure
	after=$(pm2_online_pids inventory_app | sort)
	[ -z "$(comm -12 <(echo "$before") <(echo "$after"))" ]
}

@test "make reload under load (gateway graceful restart and rolling restarts): no request fails, every order lands once" {
	local pid
	pid=$(cat "$RUN_DIR/lighttpd.pid")
	movie_load
	order_load
	run -0 "$PROJECT_ROOT/scripts/deploy/reload.sh"
	assert_output --partial "api_gateway_app: graceful restart"
	load_wait_for 300
	assert_no_failure
	# The same lighttpd process: the port never closed.
	assert_equal "$(cat "$RUN_DIR/lighttpd.pid")" "$pid"
	assert_orders_exactly_once
}

# post_answers STATUS BODY: POST /api/movies with BODY is answered STATUS.
post_answers() {
	[ "$(http POST /api/movies -H 'Content-Type: application/json' -d "$2")" = "$1" ]
}

@test "a changed setting is applied by make reload: the gateway's body limit changes, same process" {
	local body pid
	pid=$(cat "$RUN_DIR/lighttpd.pid")
	body="{\"title\":\"$(head -c 3000 /dev/zero | tr '\0' x)\"}"
	post_answers 400 "$body"
	run -0 env REQUEST_BODY_MAX_KB=2 "$PROJECT_ROOT/scripts/deploy/reload.sh" api_gateway_app
	wait_for 10 post_answers 413 "$body"
	run -0 "$PROJECT_ROOT/scripts/deploy/reload.sh" api_gateway_app
	wait_for 10 post_answers 400 "$body"
	assert_equal "$(cat "$RUN_DIR/lighttpd.pid")" "$pid"
}

@test "make run again under load: no request fails, every order lands once" {
	movie_load
	order_load
	run -0 "$PROJECT_ROOT/scripts/deploy/run.sh"
	load_wait_for 300
	assert_no_failure
	assert_orders_exactly_once
}

@test "pm2 reload billing_app under order load: no request fails, every order lands once" {
	order_load
	"$PM2" reload billing_app
	wait_for 60 queue_has_consumer
	load_wait_for 100
	assert_no_failure
	assert_orders_exactly_once
}

@test "two billing_app instances compete for the queue and every order lands once" {
	"$PM2" scale billing_app 2
	wait_for 60 queue_consumers_are 2
	order_load
	load_wait_for 300
	assert_no_failure
	assert_orders_exactly_once
	"$PM2" scale billing_app "${BILLING_INSTANCES:-1}"
}

@test "an inventory instance killed with SIGKILL costs at most the requests it held, none after 1 s" {
	local victim
	movie_load
	victim=$(pm2_online_pids inventory_app | head -n 1)
	kill -KILL "$victim"
	sleep 1 # the second after the kill is the window the test measures, not a wait
	load_mark
	load_wait_for 300
	load_stop
	echo "# within 1 s of the kill: $(load_failures before) of $(load_count before) failed; after: $(load_failures after) of $(load_count after)" >&3
	[ "$(load_failures before)" -le 6 ]
	[ "$(load_count after)" -gt 0 ]
	assert_equal "$(load_failures after)" 0
}

@test "a broken lighttpd.conf is refused with lighttpd's message and the gateway keeps serving" {
	local conf pid
	pid=$(cat "$RUN_DIR/lighttpd.pid")
	conf=$(tr '\0' '\n' <"/proc/$pid/cmdline" | sed -n '/^-f$/{n;p;q}')
	cp "$conf" "$BATS_TEST_TMPDIR/lighttpd.conf.good"
	echo 'server.port = "not a port' >>"$conf"
	run "$PROJECT_ROOT/scripts/deploy/reload.sh" api_gateway_app
	cp "$BATS_TEST_TMPDIR/lighttpd.conf.good" "$conf"
	assert_failure
	assert_output --partial "reload refused"
	assert_output --partial "parser failed"
	assert_equal "$(http GET "$MOVIE")" 200
	assert_equal "$(cat "$RUN_DIR/lighttpd.pid")" "$pid"
}

process_gone() {
	[ ! -e "/proc/$1" ]
}

# inventory_sockets_settled: each inventory unix socket has been there for 4 s, past the
# 3 s after which a stopping sibling knows the gateway uses it again and leaves at once
# (fcgi/common/listener.c); always true over TCP.
inventory_sockets_settled() {
	local addr now
	now=$(date +%s)
	while IFS= read -r addr; do
		[[ $addr == unix:* ]] || continue
		[ $((now - $(stat -c %Z "${addr#unix:}"))) -ge 4 ] || return 1
	done < <(inventory_backend_addrs)
}

# health_lists_up ADDR: /api/health lists ADDR among the inventory backends, up.
health_lists_up() {
	curl -sS "$BASE_URL/api/health" |
		jq -e --arg a "$1" '.parts.inventory.backends[] | select(.address == $a and .status == "up")' >/dev/null
}

@test "one backend list mixes this host's unix sockets and a TCP address" {
	local tcp=127.0.0.1:$((API_GATEWAY_PORT + 7)) user=()
	[[ $INVENTORY_LISTEN_ADDR == unix:* ]] || skip "the inventory is on TCP here"
	[ "$(id -u)" != 0 ] || user=(setpriv --reuid=inventory --regid=inventory --init-groups --)
	# An inventory instance on TCP, as another host's would be.
	INVENTORY_LISTEN_ADDR=$tcp INVENTORY_THREADS=4 "${user[@]}" "$BUILD_DIR/inventory_app" \
		>"$BATS_TEST_TMPDIR/tcp-instance.log" 2>&1 3>&- &
	TCP_INSTANCE=$!
	wait_for 10 tcp_open "${tcp%:*}" "${tcp##*:}"
	run -0 env INVENTORY_FCGI_ADDR="$INVENTORY_FCGI_ADDR,$tcp" \
		"$PROJECT_ROOT/scripts/deploy/reload.sh" api_gateway_app
	wait_for 10 health_lists_up "$tcp"
	# This host's instances stopped: the TCP one serves alone, and the other way round.
	app_stop inventory_app
	assert_equal "$(http GET "$MOVIE")" 200
	app_start inventory_app
	# lighttpd takes a backend it could not reach again a second or two later.
	wait_for 10 inventory_sockets_settled
	kill "$TCP_INSTANCE"
	wait "$TCP_INSTANCE" || true
	assert_equal "$(http GET "$MOVIE")" 200
}

# seconds_to_exit PID: sends SIGTERM and prints how long the process took to go.
seconds_to_exit() {
	local start=$EPOCHREALTIME
	kill -TERM "$1"
	wait_for 10 process_gone "$1"
	echo "$EPOCHREALTIME - $start" | bc
}

# inventory_by_hand ADDR N: an inventory_app outside PM2 as instance N of INVENTORY_LISTEN_ADDR
# ADDR (on unix:PATH, it listens on PATH-N), as its user.
inventory_by_hand() {
	local user=()
	[ "$(id -u)" != 0 ] || user=(setpriv --reuid=inventory --regid=inventory --init-groups --)
	INVENTORY_LISTEN_ADDR=$1 NODE_APP_INSTANCE=$2 INVENTORY_THREADS=2 "${user[@]}" "$BUILD_DIR/inventory_app" \
		>>"$BATS_TEST_TMPDIR/by-hand.log" 2>&1 3>&- &
	echo $!
}

@test "a stopping instance on a unix socket waits until a late sibling has listened 3 s" {
	local path=${INVENTORY_LISTEN_ADDR#unix:} stopping sibling took
	[[ $INVENTORY_LISTEN_ADDR == unix:* ]] || skip "the inventory is on TCP here"
	path=${path%/*}/by-hand.sock
	stopping=$(inventory_by_hand "unix:$path" 1)
	wait_for 10 test -S "$path-1"
	# PM2 stops the next instance right after it started the replacement of the one
	# before, which may not listen yet: here it comes a second later.
	kill -TERM "$stopping"
	sleep 1 # the sibling's late start is what the test is about
	sibling=$(inventory_by_hand "unix:$path" 0)
	wait_for 10 test -S "$path-0"
	assert [ -S "$path-1" ]
	wait_for 10 process_gone "$stopping"
	took=$(($(date +%s) - $(stat -c %Z "$path-0")))
	echo "# the stopping instance left ${took} s after its sibling listened" >&3
	kill -TERM "$sibling"
	wait_for 10 process_gone "$sibling"
	[ "$took" -ge 3 ]
	assert [ ! -e "$path-1" ]
}

@test "idle daemons exit within 1 s of SIGTERM" {
	local pid took
	wait_for 30 billing_queue_empty
	wait_for 10 inventory_sockets_settled
	for app in inventory_app billing_app; do
		pid=$("$PM2" jlist | jq -r --arg n "$app" '[.[] | select(.name == $n and .pm2_env.status == "online")][0].pid')
		took=$(seconds_to_exit "$pid")
		echo "# $app exited in $took s" >&3
		[ "$(echo "$took < 1" | bc)" = 1 ]
	done
	# this stack's publisher: lighttpd's child (another stack may run the same program)
	pid=$(process_pids billing_publisher)
	[[ $pid =~ ^[1-9][0-9]*$ ]] || fail "no billing_publisher running"
	took=$(seconds_to_exit "$pid")
	echo "# billing_publisher exited in $took s" >&3
	[ "$(echo "$took < 1" | bc)" = 1 ]
}
