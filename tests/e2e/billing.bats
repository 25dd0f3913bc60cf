#!/usr/bin/env bats
# POST /api/billing through the gateway: validation, the confirmation, and the order
# landing in billing_db through billing_app. Also run against the plain-CGI gateway.
load ../lib/helpers

setup() {
	common_setup
}

# send_order JSON [curl args...]: POSTs an order; prints the status.
send_order() {
	local json=$1
	shift
	http POST /api/billing/ -H 'Content-Type: application/json' --data-binary "$json" "$@"
}

order_row() {
	sql_billing "SELECT user_id, number_of_items, total_amount FROM orders WHERE message_id = '$1'"
}

@test "an order sent as strings is confirmed with 200 and lands in orders as sent" {
	run send_order '{"user_id": "20", "number_of_items": "99", "total_amount": "250"}'
	assert_output 200
	assert_equal "$(header Content-Type)" "application/json"
	run jq -e '.status == "accepted" and (.message_id | length) > 0' "$BATS_TEST_TMPDIR/body"
	assert_success
	id=$(message_id)
	wait_for 15 order_count_is "$id" 1
	run order_row "$id"
	assert_output "20|99|250.00"
}

@test "an order sent as numbers lands the same way" {
	run -0 http POST /api/billing -H 'Content-Type: application/json' \
		-d '{"user_id": 21, "number_of_items": 2, "total_amount": 19.99}'
	assert_output 200
	id=$(message_id)
	wait_for 15 order_count_is "$id" 1
	run order_row "$id"
	assert_output "21|2|19.99"
}

@test "the same Idempotency-Key twice makes one order" {
	key=retry-$RANDOM-$RANDOM
	# the message id is the key and the order's digest (docs/billing.md), computed here apart
	id=$key:$(printf '%s\n%s\n%s' 30 1 5.00 | sha256sum | cut -c1-32)
	run send_order '{"user_id": "30", "number_of_items": 1, "total_amount": "5.00"}' -H "Idempotency-Key: $key"
	assert_output 200
	assert_equal "$(message_id)" "$id"
	run send_order '{"user_id": "30", "number_of_items": 1, "total_amount": "5.00"}' -H "Idempotency-Key: $key"
	assert_output 200
	assert_equal "$(message_id)" "$id"
	wait_for 15 order_count_is "$id" 1
	# a later order passes through the same consumer: by then the retry was handled too
	run send_order '{"user_id": "31", "number_of_items": 1, "total_amount": "1"}'
	assert_output 200
	wait_for 15 order_count_is "$(message_id)" 1
	run sql_billing "SELECT count(*) FROM orders WHERE message_id LIKE '$key%'"
	assert_output 1
}

@test "each order without a key gets its own message_id" {
	run send_order '{"user_id": "32", "number_of_items": 1, "total_amount": "1"}'
	assert_output 200
	first=$(message_id)
	assert_regex "$first" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
	run send_order '{"user_id": "32", "number_of_items": 1, "total_amount": "1"}'
	assert_output 200
	assert_regex "$(message_id)" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
	refute [ "$(message_id)" = "$first" ]
}

@test "money keeps its cents exactly" {
	run send_order '{"user_id": "33", "number_of_items": 1, "total_amount": 0.1}'
	assert_output 200
	a=$(message_id)
	run send_order '{"user_id": "33", "number_of_items": 1, "total_amount": "9999999999.99"}'
	assert_output 200
	b=$(message_id)
	wait_for 15 order_count_is "$b" 1
	wait_for 15 order_count_is "$a" 1
	run order_row "$a"
	assert_output "33|1|0.10"
	run order_row "$b"
	assert_output "33|1|9999999999.99"
}

@test "zero is a valid total" {
	run send_order '{"user_id": "34", "number_of_items": 1, "total_amount": "0"}'
	assert_output 200
}

@test "invalid fields are 400 problems naming the field" {
	while IFS='|' read -r body field; do
		run send_order "$body"
		assert_equal "$output $body" "400 $body"
		assert_problem 400 "$field"
	done <<'CASES'
{"number_of_items": 1, "total_amount": "1"}|user_id
{"user_id": "", "number_of_items": 1, "total_amount": "1"}|user_id
{"user_id": "   ", "number_of_items": 1, "total_amount": "1"}|user_id
{"user_id": null, "number_of_items": 1, "total_amount": "1"}|user_id
{"user_id": true, "number_of_items": 1, "total_amount": "1"}|user_id
{"user_id": 1.5, "number_of_items": 1, "total_amount": "1"}|user_id
{"user_id": ["20"], "number_of_items": 1, "total_amount": "1"}|user_id
{"user_id": "20", "total_amount": "1"}|number_of_items
{"user_id": "20", "number_of_items": 0, "total_amount": "1"}|number_of_items
{"user_id": "20", "number_of_items": -3, "total_amount": "1"}|number_of_items
{"user_id": "20", "number_of_items": "-3", "total_amount": "1"}|number_of_items
{"user_id": "20", "number_of_items": 1.5, "total_amount": "1"}|number_of_items
{"user_id": "20", "number_of_items": "1.5", "total_amount": "1"}|number_of_items
{"user_id": "20", "number_of_items": "abc", "total_amount": "1"}|number_of_items
{"user_id": "20", "number_of_items": 99999999999999999999, "total_amount": "1"}|number_of_items
{"user_id": "20", "number_of_items": "", "total_amount": "1"}|number_of_items
{"user_id": "20", "number_of_items": null, "total_amount": "1"}|number_of_items
{"user_id": "20", "number_of_items": 1}|total_amount
{"user_id": "20", "number_of_items": 1, "total_amount": "-1"}|total_amount
{"user_id": "20", "number_of_items": 1, "total_amount": -0.01}|total_amount
{"user_id": "20", "number_of_items": 1, "total_amount": "1.999"}|total_amount
{"user_id": "20", "number_of_items": 1, "total_amount": 1.999}|total_amount
{"user_id": "20", "number_of_items": 1, "total_amount": "1e3"}|total_amount
{"user_id": "20", "number_of_items": 1, "total_amount": 1e3}|total_amount
{"user_id": "20", "number_of_items": 1, "total_amount": "abc"}|total_amount
{"user_id": "20", "number_of_items": 1, "total_amount": ""}|total_amount
{"user_id": "20", "number_of_items": 1, "total_amount": "12345678901.00"}|total_amount
{"user_id": "20", "number_of_items": 1, "total_amount": 1e400}|total_amount
{"user_id": "20", "number_of_items": 1, "total_amount": true}|total_amount
{"user_id": "20", "number_of_items": 1, "total_amount": null}|total_amount
CASES
}

@test "bodies that are not a JSON object are 400 problems" {
	for body in '' '[]' '"order"' '42' 'null' '{"user_id": "20",' '{"user_id": "20"} x' "{'user_id': '20'}"; do
		run send_order "$body"
		assert_equal "$output <$body>" "400 <$body>"
		assert_problem 400 ""
	done
}

@test "invalid UTF-8 is a 400 problem" {
	printf '{"user_id": "\xff\xfe", "number_of_items": 1, "total_amount": "1"}' > "$BATS_TEST_TMPDIR/bad.json"
	run http POST /api/billing -H 'Content-Type: application/json' --data-binary @"$BATS_TEST_TMPDIR/bad.json"
	assert_output 400
	assert_problem 400 ""
}

@test "a body that is not JSON by Content-Type is 415" {
	run http POST /api/billing -H 'Content-Type: text/plain' -d '{"user_id": "20", "number_of_items": 1, "total_amount": "1"}'
	assert_output 415
	assert_problem 415 ""
}

@test "a body over the limit is 413" {
	head -c $(((REQUEST_BODY_MAX_KB + 1) * 1024)) /dev/zero | tr '\0' ' ' > "$BATS_TEST_TMPDIR/big.json"
	run http POST /api/billing -H 'Content-Type: application/json' --data-binary @"$BATS_TEST_TMPDIR/big.json"
	assert_output 413
	assert_problem 413 ""
}

@test "any method but POST is 405 with Allow: POST" {
	for method in GET PUT DELETE PATCH; do
		run http "$method" /api/billing/
		assert_equal "$output $method" "405 $method"
		assert_equal "$(header Allow)" "POST"
		assert_problem 405 ""
	done
}

# key_refused KEY FIELD: an order of user USER_ID with that Idempotency-Key is a 400
# problem naming FIELD ("" for none).
key_refused() {
	local status
	status=$(send_order "{\"user_id\": \"$USER_ID\", \"number_of_items\": 1, \"total_amount\": \"1\"}" \
		-H "Idempotency-Key: $1")
	assert_equal "$status $(printf %q "$1")" "400 $(printf %q "$1")"
	# Apache refuses a malformed header before it reads any .htaccess, so a site set up
	# by .htaccess alone gets Apache's HTML page there (README, Shared hosting); the
	# Apache runner says so with HEADER_ERRORS_HTML=1.
	[ -z "$2" ] && [ "${HEADER_ERRORS_HTML:-0}" = 1 ] && return 0
	assert_problem 400 "$2"
}

@test "an Idempotency-Key that is not visible ASCII is a 400 problem" {
	local key
	USER_ID=invisible-key-$RANDOM$RANDOM
	# Short keys (the length limit is hostile_input.bats'). A space, a tab and bytes
	# outside ASCII (UTF-8, and a byte that is not) reach the publisher, which names the field.
	for key in 'key with space' $'tab\there' $'caf\xc3\xa9' $'raw\xff'; do
		key_refused "$key" Idempotency-Key
	done
	# Control characters and DEL are not valid in a header: the web server refuses the request.
	for key in $'bell\x07' $'\x01lead' $'esc\x1b[31m' $'del\x7f'; do
		key_refused "$key" ""
	done
	# None of them became an order: a later order through the same consumer has landed.
	run send_order '{"user_id": "35", "number_of_items": 1, "total_amount": "1"}' -H "Idempotency-Key: visible-$RANDOM"
	assert_output 200
	wait_for 15 order_count_is "$(message_id)" 1
	assert_equal "$(sql_billing "SELECT count(*) FROM orders WHERE user_id = '$USER_ID'")" 0
}

@test "paths below /api/billing other than the endpoint are 404" {
	run http POST /api/billing/extra -H 'Content-Type: application/json' -d '{}'
	assert_output 404
	assert_problem 404 ""
}
