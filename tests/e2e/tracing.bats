#!/usr/bin/env bats
# A request id through every hop: the answer, lighttpd's access log, the publisher's log,
# the AMQP message and billing_app's log line for the commit.
load ../lib/helpers

setup() {
	common_setup
}

# The publisher is spawned by lighttpd, so its stderr is the gateway's (PM2's log).
publisher_log() {
	cat "$PM2_HOME"/logs/api-gateway-app-*.log
}

billing_log() {
	cat "$PM2_HOME"/logs/billing-app-*.log
}

# in_access_log RID: a line of the access log has RID as its request id, the field before
# the last (lighttpd writes it within about a second).
in_access_log() {
	grep -qF " $1 " "$RUN_DIR/access.log"
}

billing_logged() {
	billing_log | grep -qF "$1"
}

# traced_order [curl args...]: one order through the gateway; sets the caller's rid and
# mid from the answer.
traced_order() {
	run -0 http POST /api/billing -H 'Content-Type: application/json' "$@" \
		-d '{"user_id": "traced", "number_of_items": 1, "total_amount": "2.50"}'
	assert_output 200
	rid=$(header X-Request-Id)
	mid=$(jq -r .message_id "$BATS_TEST_TMPDIR/body")
}

@test "a request without X-Request-Id gets a fresh one, and it is in the access log" {
	local fresh
	run -0 http GET /api/movies
	assert_output 200
	fresh=$(header X-Request-Id)
	assert_regex "$fresh" '^[0-9a-f]{32}$'
	wait_for 5 in_access_log "$fresh"
	run -0 http GET /api/movies
	assert_output 200
	assert [ "$(header X-Request-Id)" != "$fresh" ]
}

@test "a client's valid X-Request-Id is kept; an invalid one is replaced by a fresh one" {
	run -0 http GET /api/movies -H "X-Request-Id: client-$RANDOM.trace"
	assert_output 200
	assert_regex "$(header X-Request-Id)" '^client-[0-9]+\.trace$'
	run -0 http GET /api/movies -H "X-Request-Id: $(printf 'x%.0s' {1..129})"
	assert_output 200
	assert_regex "$(header X-Request-Id)" '^[0-9a-f]{32}$'
	run -0 http GET /api/movies -H 'X-Request-Id: two words'
	assert_output 200
	assert_regex "$(header X-Request-Id)" '^[0-9a-f]{32}$'
}

@test "an order's request id is in the access log, the publisher's log and billing_app's commit line" {
	local rid mid
	traced_order
	assert_regex "$rid" '^[0-9a-f]{32}$'
	wait_for 5 in_access_log "$rid"
	run -0 publisher_log
	assert_line --regexp "rid=$rid trace=00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2} order $mid confirmed by RabbitMQ"
	wait_for 30 billing_logged "$mid $rid"
	run -0 billing_log
	assert_line --regexp "billing_app info: committed [0-9]+ orders \(message_id request_id traceparent\): .*$mid $rid 00-"
	order_count_is "$mid" 1
}

@test "a client's request id goes with its order to billing_app" {
	local rid mid
	traced_order -H "X-Request-Id: order-trace-$RANDOM"
	assert_regex "$rid" '^order-trace-[0-9]+$'
	wait_for 30 billing_logged "$mid $rid"
	wait_for 5 in_access_log "$rid"
}

@test "a dead-lettered message keeps its request id in billing_app's log" {
	local rid mid
	rid=dead-trace-$RANDOM
	amqp_publish "{\"message_id\": \"dead-$rid\", \"user_id\": \"traced\",
		\"number_of_items\": 0, \"total_amount\": \"1\"}" -H "x-request-id: $rid"
	wait_for 30 billing_logged "rid=$rid dead-lettered message dead-$rid"
}
