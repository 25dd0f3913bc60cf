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

teardown() {
	if [ -n "${BILLING_STOPPED:-}" ]; then
		app_start billing_app
	fi
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
# a request per value) is replaced: each answer is a 200 with a new trace (flags 00), and
# no VALUE's trace id is anywhere in the answers.
fresh_trace_for() {
	local args=() files=() ids=() value
	for value in "$@"; do
		files+=("$BATS_TEST_TMPDIR/headers.${#files[@]}")
		ids+=(-e "${value:3:32}")
		[ ${#args[@]} -eq 0 ] || args+=(--next)
		args+=(-sS --max-time 20 -o /dev/null -D "${files[-1]}"
			-H "traceparent: $value" -H 'tracestate: rojo=1' "$BASE_URL/api/movies")
	done
	curl "${args[@]}"
	run awk -v trace="$TRACE" '
		FNR == 1 { seen[FILENAME] = 1; ok[FILENAME] = $2 == 200 }
		tolower($1) == "traceresponse:" { tr[FILENAME] = $2; sub(/\r$/, "", tr[FILENAME]) }
		END {
			for (f in seen) {
				v = tr[f]
				if (!ok[f] || v !~ /^00-[0-9a-f]+-[0-9a-f]+-00$/ || length(v) != 55 ||
				    substr(v, 4, 32) == trace || substr(v, 4, 32) ~ /^0+$/) {
					print f ": " v
					bad = 1
				}
			}
			exit bad
		}' "${files[@]}"
	assert_success
	assert_equal "${#lines[@]}" 0
	run grep -iF "${ids[@]}" "${files[@]}"
	assert_failure
}

# amqp_take_headers: takes the next message off QUEUE_NAME (billing_app stopped) and prints
# its AMQP headers as RabbitMQ holds them, "NAME: VALUE" a line, asking the node through
# rabbitmqctl as amqp_publish does.
amqp_take_headers() {
	rabbit_url_parts
	rabbitmqctl_ eval "{ok, Q} = rabbit_amqqueue:lookup(rabbit_misc:r($(erlang_binary "$AMQP_VHOST"),
			queue, $(erlang_binary "$QUEUE_NAME"))),
		{ok, _, {_, _, _, _, M}, _} = rabbit_amqqueue:basic_get(Q, true, none, <<\"trace\">>,
			rabbit_queue_type:init()),
		Content = rabbit_binary_parser:ensure_content_decoded(element(4, M)),
		[io:format(\"~s: ~s~n\", [K, V]) || {K, _, V} <- element(4, element(3, Content))],
		ok."
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

@test "the order's AMQP message carries its traceparent and its tracestate, cut to 512 characters" {
	local state="" want="" i tp
	for i in 0 1 2 3 4 5 6 7 8 9; do
		state+="${state:+,}key$i=$(printf '%055d' "$i")"       # 10 members of 60 characters
		[ "$i" -ge 8 ] || want=$state                          # the 8 that fit in 512
	done
	wait_for 30 queue_figure_is messages 0  # so that the next message is this test's order
	BILLING_STOPPED=1
	app_stop billing_app
	run -0 http POST /api/billing -H 'Content-Type: application/json' \
		-H "traceparent: 00-$TRACE-00f067aa0ba902b7-01" -H "tracestate: $state" \
		-d '{"user_id": "traced", "number_of_items": 1, "total_amount": "2.50"}'
	assert_output 200
	tp=$(header traceresponse)
	run -0 amqp_take_headers
	assert_line "traceparent: $tp"
	assert_line "tracestate: $want"
	assert_line "x-request-id: $(header X-Request-Id)"
}
