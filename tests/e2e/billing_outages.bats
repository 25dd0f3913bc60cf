#!/usr/bin/env bats
# Orders survive whatever stops: the consumer, the broker, PostgreSQL, a SIGKILL.
# Every test leaves every service running, as it found them.
load ../lib/helpers

setup() {
	common_setup
}

teardown() {
	restore_services
}

# post_orders N USER: N orders for USER through the gateway, 32 at a time;
# prints how many were confirmed with 200.
post_orders() {
	parallel_http "$1" POST /api/billing \
		"{\"user_id\": \"$2\", \"number_of_items\": 1, \"total_amount\": \"1.00\"}" |
		grep -c '^200$' || true
}

rows_of() {
	sql_billing "SELECT count(*) FROM orders WHERE user_id = '$1'"
}

rows_of_are() {
	[ "$(rows_of "$1")" = "$2" ]
}

rows_of_are_more_than() {
	[ "$(rows_of "$1")" -gt "$2" ]
}

distinct_rows_of() {
	sql_billing "SELECT count(DISTINCT message_id) FROM orders WHERE user_id = '$1'"
}

queue_holds() {
	[ "$(queue_count "$1")" -ge "$2" ]
}

# queue_count_is QUEUE N: the broker reports exactly N messages ready in QUEUE. Waited
# for, not read once, as queue_consumers_are is: a quorum queue's counters reach
# list_queues a few seconds late.
queue_count_is() {
	[ "$(queue_count "$1")" = "$2" ]
}

billing_pid() {
	"$PM2" pid billing_app
}

# billing_pid_other_than PID: billing_app runs, with another pid than PID.
billing_pid_other_than() {
	local pid
	pid=$(billing_pid)
	[[ $pid =~ ^[1-9][0-9]*$ ]] && [ "$pid" != "$1" ]
}

@test "orders posted while billing_app is stopped wait in the queue and land once it starts" {
	user=stopped-$RANDOM
	app_stop billing_app
	run post_orders 2 "$user"
	assert_output 2
	wait_for 10 queue_count_is "$QUEUE_NAME" 2
	assert_equal "$(rows_of "$user")" 0
	app_start billing_app
	wait_for 30 rows_of_are "$user" 2
	assert_equal "$(distinct_rows_of "$user")" 2
	wait_for 10 queue_count_is "$QUEUE_NAME" 0
}

@test "with the broker down the publisher answers 503, and 200 again once it is back" {
	private_rabbit_stop
	run http POST /api/billing -H 'Content-Type: application/json' \
		-d '{"user_id": "down", "number_of_items": 1, "total_amount": "1"}'
	private_rabbit_start
	assert_output 503
	assert_equal "$(header Content-Type)" "application/problem+json"
	refute [ -z "$(header Retry-After)" ]
	user=back-$RANDOM
	run post_orders 1 "$user"
	assert_output 1
	# billing_app found the broker again too
	wait_for 60 rows_of_are "$user" 1
}

@test "orders waiting in the queue survive a broker restart" {
	user=durable-$RANDOM
	app_stop billing_app
	run post_orders 3 "$user"
	assert_output 3
	private_rabbit_stop
	private_rabbit_start
	wait_for 10 queue_count_is "$QUEUE_NAME" 3
	app_start billing_app
	wait_for 30 rows_of_are "$user" 3
}

@test "billing_app killed with SIGKILL while draining 5,000 orders loses and doubles none" {
	user=killed-$RANDOM
	app_stop billing_app
	run post_orders 5000 "$user"
	assert_output 5000
	"$PM2" start billing_app >/dev/null
	# kill it as soon as the first rows are committed, in the middle of the drain
	wait_for 30 rows_of_are_more_than "$user" 0
	killed=$(billing_pid)
	kill -9 "$killed"
	# PM2 restarts it, as it would after any crash
	wait_for 30 billing_pid_other_than "$killed"
	wait_for 60 queue_has_consumer
	wait_for 60 rows_of_are "$user" 5000
	assert_equal "$(distinct_rows_of "$user")" 5000
	wait_for 10 queue_count_is "$QUEUE_NAME" 0
}

@test "orders keep arriving while PostgreSQL is down and land once it is back" {
	user=pgdown-$RANDOM
	private_pg_stop
	run post_orders 3 "$user"
	status_ok=$output
	# billing_app holds nothing it cannot commit: the orders wait in the queue
	wait_for 30 queue_holds "$QUEUE_NAME" 3
	private_pg_start
	assert_equal "$status_ok" 3
	wait_for 60 rows_of_are "$user" 3
	assert_equal "$(distinct_rows_of "$user")" 3
	run app_online billing_app
	assert_success
}

@test "poison messages go to the dead-letter queue and billing_app keeps working" {
	before=$(queue_count "$QUEUE_NAME.dead")
	amqp_publish 'not json at all'
	amqp_publish '{"user_id": "p", "number_of_items": -1, "total_amount": "1"}'
	amqp_publish '[1, 2, 3]'
	wait_for 30 queue_holds "$QUEUE_NAME.dead" $((before + 3))
	user=after-poison-$RANDOM
	run post_orders 1 "$user"
	assert_output 1
	wait_for 30 rows_of_are "$user" 1
	run app_online billing_app
	assert_success
}

@test "SIGTERM makes billing_app stop consuming and exit, with nothing left behind" {
	pid=$(billing_pid)
	app_stop billing_app
	run kill -0 "$pid"
	assert_failure
	wait_for 10 queue_consumers_are 0
	app_start billing_app
}
