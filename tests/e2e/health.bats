#!/usr/bin/env bats
# GET /api/health: one entry per part, 503 naming what is down, always within about a
# second, and no more than one check a second whatever the rate of calls.
# The outage tests stop real services and put everything back in teardown.
# shellcheck disable=SC2016 # jq filters name their own $variables
load ../lib/helpers

setup() {
	common_setup
}

teardown() {
	restore_services
	# A test that gave the gateway other settings puts .env's back, failed or not.
	if [ -n "${GATEWAY_CHANGED-}" ]; then
		"$PROJECT_ROOT/scripts/deploy/reload.sh" api_gateway_app >/dev/null
	fi
}

# health: GET /api/health; prints the status. An answer slower than 1.2 s is noted in
# $BATS_TEST_TMPDIR/slow, which answers_were_quick checks at the end of a test.
health() {
	local out
	out=$(curl -sS --max-time 20 -o "$BATS_TEST_TMPDIR/body" -D "$BATS_TEST_TMPDIR/headers" \
		-w '%{http_code} %{time_total}' "$BASE_URL/api/health")
	awk -v t="${out#* }" 'BEGIN { exit !(t < 1.2) }' ||
		echo "GET /api/health answered ${out% *} in ${out#* } s" >>"$BATS_TEST_TMPDIR/slow"
	echo "${out% *}"
}

answers_were_quick() {
	[ ! -e "$BATS_TEST_TMPDIR/slow" ] || fail "$(cat "$BATS_TEST_TMPDIR/slow")"
}

# health_names_down NAME: the answer is a 503 whose "down" holds NAME.
health_names_down() {
	[ "$(health)" = 503 ] && jq -e --arg n "$1" '.down | index($n) != null' \
		"$BATS_TEST_TMPDIR/body" >/dev/null
}

# health_is_up: 200, every part up.
health_is_up() {
	[ "$(health)" = 200 ]
}

@test "GET /api/health answers 200 with every part when all is up" {
	wait_for 30 queue_has_consumer
	wait_for 5 health_is_up
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$(header Cache-Control)" no-store
	assert_regex "$(header X-Request-Id)" '^[0-9a-f]{32}$'
	jqb '.status == "up"'
	jqb '.parts.gateway.status == "up"'
	jqb '.parts.inventory.status == "up" and .parts.inventory.database == "up"'
	jqb '.parts.inventory.backends | length > 0 and all(.status == "up" and .database == "up")'
	jqb '.parts.billing_publisher.status == "up" and .parts.billing_publisher.broker == "up"'
	jqb '.parts.queue.status == "up" and .parts.queue.name == $q' --arg q "$QUEUE_NAME"
	jqb '(.parts.queue.messages | type == "number") and .parts.queue.consumers >= 1'
	jqb '.parts | has("database_tier") | not'  # no DB_HOSTS: no database tier
	run -0 http GET /api/health/
	assert_output 200
	run -0 http HEAD /api/health
	assert_output 200
	run -0 http POST /api/health --data-binary ''
	assert_output 405
	assert_problem 405
	assert_equal "$(header Allow)" "GET, HEAD"
	answers_were_quick
}

# health_shows_waiting_orders: up, with no consumer and at least one message queued.
health_shows_waiting_orders() {
	health_is_up &&
		jq -e '.parts.queue.consumers == 0 and .parts.queue.messages >= 1' \
			"$BATS_TEST_TMPDIR/body" >/dev/null
}

@test "make status shows the processes and one line per part" {
	local addr
	wait_for 5 health_is_up
	run -0 "$PROJECT_ROOT/scripts/deploy/status.sh"
	assert_output --partial inventory_app
	assert_line --regexp '^health: up  \(checked [0-9T:.-]+Z\)$'
	assert_line --regexp '^  inventory +up +database up$'
	while IFS= read -r addr; do
		assert_line --regexp "^    $addr +up +database up\$"
	done < <(inventory_backend_addrs)
	assert_line --regexp '^  billing_publisher +up +broker up$'
	assert_line --regexp "^  queue $QUEUE_NAME +up +[0-9]+ messages waiting, [0-9]+ consumers\$"
}

@test "the queue's depth and consumer count are live; no consumer is not an outage" {
	app_stop billing_app
	wait_for 5 queue_consumers_are 0
	run -0 http POST /api/billing -H 'Content-Type: application/json' \
		-d '{"user_id": "health", "number_of_items": 1, "total_amount": "1"}'
	assert_output 200
	wait_for 5 health_shows_waiting_orders
	answers_were_quick
}

@test "with the broker stopped: 503 naming the broker, within a second" {
	private_rabbit_stop
	wait_for 5 health_names_down broker
	assert_problem 503
	jqb '.parts.billing_publisher.broker == "down" and .parts.queue.status == "unknown"'
	jqb '.parts.inventory.status == "up" and .parts.gateway.status == "up"'
	jqb '.down == ["broker"]'
	run -1 "$PROJECT_ROOT/scripts/deploy/status.sh"
	assert_line --regexp '^health: DOWN: broker  \(checked .*\)$'
	assert_line --regexp '^  billing_publisher +up +broker down  \(RabbitMQ is unavailable\)$'
	private_rabbit_start
	wait_for 30 health_is_up
	answers_were_quick
}

@test "with inventory_app stopped: 503 naming the inventory, within a second" {
	app_stop inventory_app
	wait_for 5 health_names_down inventory
	assert_problem 503
	jqb '.down == ["inventory"] and .parts.inventory.status == "down"'
	jqb '.parts.inventory.backends | all(.status == "down" and (.detail | type == "string"))'
	jqb '.parts.billing_publisher.broker == "up"'
	app_start inventory_app
	wait_for 10 health_is_up
	answers_were_quick
}

@test "with the movie database stopped: 503 naming the inventory's database" {
	private_pg_stop
	wait_for 5 health_names_down inventory_database
	assert_problem 503
	jqb '.parts.inventory.status == "up" and .parts.inventory.database == "down"'
	private_pg_start
	wait_for 10 health_is_up
	answers_were_quick
}

# health_database_tier_unknown: up, the database tier unknown because no Patroni answered.
health_database_tier_unknown() {
	health_is_up && jq -e '.parts.database_tier.status == "unknown"' "$BATS_TEST_TMPDIR/body" >/dev/null
}

@test "with a database tier whose Patroni REST API does not answer: unknown, saying why, not an outage" {
	# Nothing listens on port 1: each DB host refuses the connection. The names are
	# resolved by the gateway's settings (localhost: 127.0.0.1).
	GATEWAY_CHANGED=1
	run -0 env DB_HOSTS=localhost,127.0.0.1 DB_API_PORT=1 \
		"$PROJECT_ROOT/scripts/deploy/reload.sh" api_gateway_app
	wait_for 10 health_database_tier_unknown
	# The claim is the answer's time with every Patroni API refusing, not the first
	# answers of the publisher that the reload has just started: timed from here.
	rm -f "$BATS_TEST_TMPDIR/slow"
	run -0 health_database_tier_unknown
	jqb '.parts.database_tier.hosts == [] and (.parts.database_tier | has("source") | not)'
	jqb '.parts.database_tier.detail | test("^no Patroni REST API answered \\(2 of 2 asked in time\\); last: 127\\.0\\.0\\.1:1: .*Connection refused$")'
	answers_were_quick
}

# check_times N: N calls, 8 at once; prints the check time of each answer. One curl
# makes them all (--parallel), each answer to a file of its own.
check_times() {
	local dir=$BATS_TEST_TMPDIR/check_times i
	mkdir -p "$dir"
	for ((i = 1; i <= $1; i++)); do
		[ "$i" -eq 1 ] || echo next
		printf 'url = "%s/api/health"\noutput = "%s/%d"\n' "$BASE_URL" "$dir" "$i"
	done >"$dir.cfg"
	curl -sS --max-time 20 --parallel --parallel-max 8 -K "$dir.cfg"
	jq -r .checked_at "$dir"/*
}

@test "repeated calls run at most one check a second" {
	local start end times seen
	start=$(date +%s%N)
	times=$(check_times 400)
	end=$(date +%s%N)
	# every call was answered with its check's time
	assert_equal "$(grep -c '^[0-9T:.-]*Z$' <<<"$times")" 400
	seen=$(sort -u <<<"$times" | wc -l)
	# one check per started second of the burst, plus the one cached before it
	assert [ "$seen" -le $(((end - start) / 1000000000 + 2)) ]
}
