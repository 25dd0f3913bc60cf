#!/usr/bin/env bats
# W3C trace context through every hop: a client's valid traceparent keeps its trace id
# in the answer (traceresponse, written by the program that served it), the access log,
# the publisher's log, the AMQP message's headers (as billing_app, the real consumer,
# reads and logs them) and billing_app's commit line. An invalid one is replaced by a new
# trace and never echoed.
load ../lib/helpers

setup() {
	common_setup
}

TRACE=4bf92f3577b34da6a3ce929d0e0e4736
TP_RE='00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}'

publisher_log() {
	cat "$PM2_HOME"/logs/api-gateway-app-*.log
}

billing_log() {
	cat "$PM2_HOME"/logs/billing-app-*.log
}

billing_logged() {
	billing_log | grep -qF -- "$1"
}

# access_logged RID TRACERESPONSE: the access log has the request's line, both at the end.
access_logged() {
	grep -qF -- " $1 $2" "$RUN_DIR/access.log"
}

# fresh_trace_for VALUE...: each VALUE sent as traceparent to the inventory (one curl,
# a request per value) is replaced: the answer's trace is a new one (flags 00), and
# VALUE's trace id is nowhere in the answer.
fresh_trace_for() {
	local args=() i=0 tp value
	for value in "$@"; do
		[ $i -eq 0 ] || args+=(--next)
		args+=(-sS --max-time 20 -o /dev/null -D "$BATS_TEST_TMPDIR/headers.$i"
			-H "traceparent: $value" -H 'tracestate: rojo=1' "$BASE_URL/api/movies")
		i=$((i + 1))
	done
	curl "${args[@]}"
	i=0
	for value in "$@"; do
		cp "$BATS_TEST_TMPDIR/headers.$i" "$BATS_TEST_TMPDIR/headers"
		assert_regex "$(head -n 1 "$BATS_TEST_TMPDIR/headers")" "^HTTP/1\\.1 200 "
		tp=$(header traceresponse)
		assert_regex "$tp" "^00-[0-9a-f]{32}-[0-9a-f]{16}-00\$"
		assert [ "${tp:3:32}" != "$TRACE" ]
		assert [ "${tp:3:32}" != 00000000000000000000000000000000 ]
		run grep -qiF -- "${value:3:32}" "$BATS_TEST_TMPDIR/headers"
		assert_failure
		i=$((i + 1))
	done
}

@test "a request without traceparent starts a new trace, one per request" {
	local first
	run -0 http GET /api/movies
	assert_output 200
	first=$(header traceresponse)
	assert_regex "$first" "^00-[0-9a-f]{32}-[0-9a-f]{16}-00\$"
	run -0 http GET /api/movies
	assert_output 200
	assert_regex "$(header traceresponse)" "^$TP_RE\$"
	assert [ "$(header traceresponse | cut -d- -f2)" != "$(cut -d- -f2 <<<"$first")" ]
}

@test "a valid traceparent keeps its trace id and flags through the inventory, with a span of its own" {
	local rid tp
	run -0 http GET /api/movies -H "traceparent: 00-$TRACE-00f067aa0ba902b7-01"
	assert_output 200
	tp=$(header traceresponse)
	rid=$(header X-Request-Id)
	assert_regex "$tp" "^00-$TRACE-[0-9a-f]{16}-01\$"
	assert [ "${tp:36:16}" != 00f067aa0ba902b7 ]
	wait_for 5 access_logged "$rid" "$tp"
	# A later version is read by its first 55 characters and answered as 00.
	run -0 http GET /api/movies -H "traceparent: 5a-$TRACE-00f067aa0ba902b7-03-future"
	assert_output 200
	assert_regex "$(header traceresponse)" "^00-$TRACE-[0-9a-f]{16}-03\$"
}

@test "an invalid traceparent is replaced, never echoed" {
	fresh_trace_for \
		"ff-$TRACE-00f067aa0ba902b7-01" \
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01" \
		"00-$TRACE-0000000000000000-01" \
		"00-${TRACE^^}-00f067aa0ba902b7-01" \
		"00-$TRACE-00F067AA0BA902B7-01" \
		"00-${TRACE:0:31}-00f067aa0ba902b7-01" \
		"00-${TRACE}a-00f067aa0ba902b7-01" \
		"00-$TRACE-00f067aa0ba902b7-1" \
		"00-$TRACE-00f067aa0ba902b7-01-extra" \
		"00_${TRACE}_00f067aa0ba902b7_01" \
		"00-$TRACE-00f067aa0ba902b7-0g" \
		"5a-$TRACE-00f067aa0ba902b7-01x"
}

@test "an order's trace id goes through the publisher's log and the AMQP headers to billing_app's commit line" {
	local rid mid tp
	run -0 http POST /api/billing -H 'Content-Type: application/json' \
		-H "traceparent: 00-$TRACE-00f067aa0ba902b7-01" -H 'tracestate: rojo=00f067aa0ba902b7' \
		-d '{"user_id": "traced", "number_of_items": 1, "total_amount": "2.50"}'
	assert_output 200
	tp=$(header traceresponse)
	rid=$(header X-Request-Id)
	mid=$(jq -r .message_id "$BATS_TEST_TMPDIR/body")
	assert_regex "$tp" "^00-$TRACE-[0-9a-f]{16}-01\$"
	wait_for 5 access_logged "$rid" "$tp"
	run -0 publisher_log
	assert_line --partial "rid=$rid trace=$tp order $mid confirmed by RabbitMQ"
	# billing_app logs the traceparent header of the message it stored: the publisher's.
	wait_for 30 billing_logged "$mid $rid $tp"
	order_count_is "$mid" 1
}

@test "billing_app drops a message's invalid traceparent header; a dead letter keeps a valid one" {
	local id=trace-msg-$RANDOM good="00-$TRACE-00f067aa0ba902b7-01"
	amqp_publish "{\"message_id\": \"$id-bad\", \"user_id\": \"traced\",
		\"number_of_items\": 1, \"total_amount\": \"1\"}" \
		-H "x-request-id: $id-bad" -H "traceparent: 00-${TRACE^^}-00f067aa0ba902b7-01"
	amqp_publish "{\"message_id\": \"$id-dead\", \"user_id\": \"traced\",
		\"number_of_items\": 0, \"total_amount\": \"1\"}" \
		-H "x-request-id: $id-dead" -H "traceparent: $good"
	wait_for 30 billing_logged "$id-bad $id-bad -"
	wait_for 30 billing_logged "rid=$id-dead trace=$good dead-lettered message $id-dead"
	run -0 billing_log
	refute_output --partial "${TRACE^^}"
}
