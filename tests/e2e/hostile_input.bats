#!/usr/bin/env bats
# Hostile bodies through the gateway (issue 11): JSON that is not RFC 8259, numbers out of
# range, member names twice or cut at \u0000, invisible user ids, bodies whose shape would
# cost memory, and an Idempotency-Key reused for another order.
load ../lib/helpers

setup() {
	common_setup
}

# post PATH JSON [curl args...]: POSTs JSON; prints the status.
post() {
	local path=$1 json=$2
	shift 2
	http POST "$path" -H 'Content-Type: application/json' --data-binary "$json" "$@"
}

# order_digest USER_ID ITEMS AMOUNT: the digest part of an order's message id, as
# docs/billing.md defines it, computed here independently of the publisher.
order_digest() {
	printf '%s\n%s\n%s' "$1" "$2" "$3" | sha256sum | cut -c1-32
}

# assert_no_movie TITLE: no movie has that title.
assert_no_movie() {
	run sql_movies "SELECT count(*) FROM movies WHERE title = '$1'"
	assert_output 0
}

# assert_user_stored JSON USER_ID: the order is accepted and stored with exactly that user_id.
assert_user_stored() {
	local id
	run post /api/billing "$1"
	assert_output 200
	id=$(message_id)
	wait_for 15 order_count_is "$id" 1
	run sql_billing "SELECT user_id FROM orders WHERE message_id = '$id'"
	assert_equal "$output" "$2"
}

# refused STATUS FIELD PATH JSON: the body is refused with that problem, naming FIELD ("" none).
refused() {
	local want=$1 field=$2
	shift 2
	run post "$@"
	assert_output "$want"
	assert_problem "$want" "$field"
}

# inventory_rss_kb: the resident memory of every inventory_app instance, summed, in kB;
# fails when none is online or one is gone.
inventory_rss_kb() {
	local kb total=0
	# shellcheck disable=SC2046 # one pid per word
	for kb in $(rss_kb $(pm2_online_pids inventory_app)); do
		[[ $kb =~ ^[0-9]+$ ]] || return 1
		total=$((total + kb))
	done
	[ "$total" -gt 0 ] && echo "$total"
}

# post_file_parallel N PATH FILE: N POSTs of FILE at once; prints one status per line.
post_file_parallel() {
	local n=$1 path=$2 file=$3 cfg i
	cfg=$BATS_TEST_TMPDIR/parallel.cfg
	for ((i = 1; i <= n; i++)); do
		[ "$i" -eq 1 ] || echo next
		printf 'url = "%s%s"\nrequest = "POST"\n' "$BASE_URL" "$path"
		printf 'header = "Content-Type: application/json"\ndata-binary = "@%s"\n' "$file"
		printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n'
	done >"$cfg"
	curl -sS --no-progress-meter --max-time 60 --parallel --parallel-max "$n" -K "$cfg"
}

# tiny_members_body FILE: {"a":[{},{},...]} of just under 64 KB (REQUEST_BODY_MAX_KB).
tiny_members_body() {
	{
		printf '{"a":[{}'
		printf ',{}%.0s' $(seq 21700)
		printf ']}'
	} >"$1"
}

@test "the same Idempotency-Key with another order makes a second order, not a dropped one" {
	key=reuse-$RANDOM-$RANDOM
	run post /api/billing '{"user_id": "40", "number_of_items": 1, "total_amount": "5.00"}' -H "Idempotency-Key: $key"
	assert_output 200
	first=$(message_id)
	run post /api/billing '{"user_id": "40", "number_of_items": 1, "total_amount": "6.00"}' -H "Idempotency-Key: $key"
	assert_output 200
	second=$(message_id)
	refute [ "$first" = "$second" ]
	assert_equal "$second" "$key:$(order_digest 40 1 6.00)"
	wait_for 15 order_count_is "$first" 1
	wait_for 15 order_count_is "$second" 1
	run sql_billing "SELECT string_agg(total_amount::text, ',' ORDER BY total_amount) FROM orders WHERE message_id LIKE '$key:%'"
	assert_output "5.00,6.00"
}

@test "the same Idempotency-Key with the same order, written differently, is one order" {
	key=same-$RANDOM-$RANDOM
	run post /api/billing '{"user_id": "41", "number_of_items": 2, "total_amount": "5"}' -H "Idempotency-Key: $key"
	assert_output 200
	assert_equal "$(message_id)" "$key:$(order_digest 41 2 5.00)"
	run post /api/billing '{"total_amount": 5.00, "number_of_items": "2", "user_id": "41"}' -H "Idempotency-Key: $key"
	assert_output 200
	assert_equal "$(message_id)" "$key:$(order_digest 41 2 5.00)"
	wait_for 15 order_count_is "$(message_id)" 1
	# a later order passes through the same consumer: by then the retry was handled too
	run post /api/billing '{"user_id": "41", "number_of_items": 1, "total_amount": "1"}'
	assert_output 200
	wait_for 15 order_count_is "$(message_id)" 1
	run sql_billing "SELECT count(*) FROM orders WHERE message_id LIKE '$key:%'"
	assert_output 1
}

@test "an Idempotency-Key longer than 167 characters is a 400 problem" {
	run post /api/billing '{"user_id": "42", "number_of_items": 1, "total_amount": "1"}' -H "Idempotency-Key: $(printf 'k%.0s' {1..167})"
	assert_output 200
	refused 400 Idempotency-Key /api/billing '{"user_id": "42", "number_of_items": 1, "total_amount": "1"}' -H "Idempotency-Key: $(printf 'k%.0s' {1..168})"
}

@test "integers beyond 64 bits are refused on both sides, in orders and in movies" {
	refused 400 user_id /api/billing '{"user_id": -99999999999999999999, "number_of_items": 1, "total_amount": "1"}'
	refused 400 user_id /api/billing '{"user_id": 99999999999999999999, "number_of_items": 1, "total_amount": "1"}'
	refused 400 user_id /api/billing '{"user_id": -9223372036854775809, "number_of_items": 1, "total_amount": "1"}'
	refused 400 n /api/movies '{"title": "range", "n": -99999999999999999999}'
	refused 400 n /api/movies '{"title": "range", "n": 1e400}'
	assert_no_movie range
}

@test "the smallest int64 user_id is stored exactly as sent" {
	assert_user_stored '{"user_id": -9223372036854775808, "number_of_items": 1, "total_amount": "1"}' -9223372036854775808
}

@test "numbers with leading zeros are refused" {
	refused 400 a /api/movies '{"title": "zeros", "a": 00}'
	refused 400 number_of_items /api/billing '{"user_id": "43", "number_of_items": 01, "total_amount": "1"}'
	refused 400 total_amount /api/billing '{"user_id": "43", "number_of_items": 1, "total_amount": -01.5}'
	assert_no_movie zeros
}

@test "single-quoted names are refused, and the control bytes they could hide never reach a title" {
	refused 400 "" /api/movies "{'title': \"quoted\"}"
	refused 400 "" /api/movies "$(printf '{"title": "hidden", '"'"'x"'"'"': "\001"}')"
	assert_no_movie hidden
}

@test "a member named twice is refused, whichever of its values is malformed" {
	refused 400 "" /api/movies '{"title": "dup-first", "title": "dup-second"}'
	refused 400 "" /api/movies '{"title": "dup-first", "\u0074itle": "dup-second"}'
	refused 400 n /api/movies '{"title": "dup", "n": 01, "n": 1}'
	refused 400 "" /api/billing '{"user_id": "44", "user_id": "45", "number_of_items": 1, "total_amount": "1"}'
	id=$(create_titled dup-target)
	run http PUT "/api/movies/$id" -H 'Content-Type: application/json' --data-binary '{"title": "dup-a", "title": "dup-b"}'
	assert_output 400
	assert_problem 400
	run sql_movies "SELECT count(*) FROM movies WHERE title IN ('dup-first', 'dup-second', 'dup', 'dup-a', 'dup-b')"
	assert_output 0
}

@test "a string with \\u0000, in a name or a value, is refused" {
	refused 400 "" /api/movies '{"title\u0000junk": "evil"}'
	refused 400 title /api/movies '{"title": "evil\u0000junk"}'
	refused 400 user_id /api/billing '{"user_id": "4\u00006", "number_of_items": 1, "total_amount": "1"}'
	assert_no_movie evil
}

@test "a lone UTF-16 surrogate escape is refused" {
	refused 400 title /api/movies '{"title": "half \ud800 a pair"}'
	run post /api/movies '{"title": "a pair \ud83c\udfac"}'
	assert_output 201
	jqb '.title == "a pair 🎬"'
	# json-c 0.16 alone read this pair as U+FFFD (found by tests/fuzz)
	run post /api/movies '{"title": "sign \ud836\udc00"}'
	assert_output 201
	jqb '.title == "sign \ud836\udc00"'
	run sql_movies "SELECT count(*) FROM movies WHERE title = 'sign ' || U&'\+01D800'"
	assert_output 1
}

@test "user_id must hold a visible character and no control character" {
	refused 400 user_id /api/billing '{"user_id": "a\u0001b", "number_of_items": 1, "total_amount": "1"}'
	refused 400 user_id /api/billing '{"user_id": "\u2003\u2009", "number_of_items": 1, "total_amount": "1"}'
	refused 400 user_id /api/billing '{"user_id": "\u200b\ufeff", "number_of_items": 1, "total_amount": "1"}'
	refused 400 user_id /api/billing '{"user_id": "x\u0085", "number_of_items": 1, "total_amount": "1"}'
	assert_user_stored '{"user_id": " Zoë ", "number_of_items": 1, "total_amount": "1"}' " Zoë "
}

@test "more than 256 JSON values is a 413 problem, before anything is built" {
	# the object, the title, the array and 253 elements: 256 values
	body=$(printf '{"title":"many","a":[%s1]}' "$(printf '1,%.0s' {1..252})")
	run post /api/movies "$body"
	assert_output 201
	body=$(printf '{"title":"many","a":[%s1]}' "$(printf '1,%.0s' {1..253})")
	refused 413 "" /api/movies "$body"
	refused 413 "" /api/billing "$body"
}

@test "eight concurrent 64 KB bodies of tiny members are refused and cost the inventory under 16 MB" {
	tiny_members_body "$BATS_TEST_TMPDIR/tiny.json"
	size=$(stat -c %s "$BATS_TEST_TMPDIR/tiny.json")
	assert [ "$size" -gt 60000 ]
	assert [ "$size" -le 65536 ]
	before=$(inventory_rss_kb)
	run post_file_parallel 8 /api/movies "$BATS_TEST_TMPDIR/tiny.json"
	after=$(inventory_rss_kb)
	echo "# inventory_app resident memory: $before kB before, $after kB after" >&3
	[ $((after - before)) -lt 16384 ]
	assert_output "$(printf '413\n%.0s' {1..8})"
}
