#!/usr/bin/env bats
# shellcheck disable=SC2016 # the bash -c scripts name their own $variables
# The scrape surface on three hosts (README, Observability): through the gateway's admin
# listen, every inventory instance on inventory-vm answers its own page, and billing_app
# on billing-vm answers its own; the listeners behind them bind the hosts' private
# addresses and answer the gateway only. Run by tests/lib/test-hosts.sh (see
# three_hosts.bats for what it exports).
load ../lib/helpers

setup() {
	common_setup
	ADMIN_URL=http://${METRICS_BIND:-127.0.0.1}:${METRICS_PORT:-9180}
	INVENTORY_METRICS_PORT=${INVENTORY_METRICS_PORT:-9190}
	BILLING_METRICS_PORT=${BILLING_METRICS_PORT:-9290}
}

# admin_page PATH FILE: GET PATH on the admin listen, from the gateway's host (where it
# listens), into FILE; prints the status.
admin_page() {
	in_host "$GATEWAY_HOST" curl -sS -o "$2" -w '%{http_code}' --max-time 10 "$ADMIN_URL$1"
}

# sample NAME FILE: the value of the page's sample NAME (no labels).
sample() {
	awk -v n="$1" '$1 == n { print $2 }' "$2"
}

# metrics_fcgi IP PORT [SCRIPT_NAME]: a FastCGI GET of SCRIPT_NAME (/metrics) to IP:PORT
# from where it runs; the answer.
metrics_fcgi() {
	SCRIPT_NAME=${3:-/metrics} REQUEST_METHOD=GET timeout 10 cgi-fcgi -bind -connect "$1:$2" \
		2>/dev/null || true
}
export -f metrics_fcgi

@test "every inventory instance on inventory-vm answers its own page through the admin listen" {
	local i page starts=()
	for ((i = 0; i < INVENTORY_INSTANCES; i++)); do
		page=$BATS_TEST_TMPDIR/inventory-$i
		run admin_page "/metrics/inventory/$i" "$page"
		assert_output 200
		grep -q '^inventory_worker_threads ' "$page" || fail "/metrics/inventory/$i: $(head -c 300 "$page")"
		run promtool check metrics <"$page"
		assert_success
		starts+=("$(sample process_start_time_seconds "$page")")
	done
	# Asked again, each path is the same process: not one of the port's at random.
	for ((i = 0; i < INVENTORY_INSTANCES; i++)); do
		page=$BATS_TEST_TMPDIR/again-$i
		for _ in 1 2 3; do
			run admin_page "/metrics/inventory/$i" "$page"
			assert_output 200
			assert_equal "$(sample process_start_time_seconds "$page")" "${starts[$i]}"
		done
	done
	# One page per process: as many distinct start times as PM2 runs instances there.
	assert_equal "$(printf '%s\n' "${starts[@]}" | sort -u | grep -c .)" "$INVENTORY_INSTANCES"
	run admin_page "/metrics/inventory/$INVENTORY_INSTANCES" "$BATS_TEST_TMPDIR/none"
	assert_output 404
}

# starts_now: each inventory instance's process_start_time_seconds, one a line (a failed
# page: status 1).
starts_now() {
	local i page=$BATS_TEST_TMPDIR/start
	for ((i = 0; i < INVENTORY_INSTANCES; i++)); do
		[ "$(admin_page "/metrics/inventory/$i" "$page")" = 200 ] || return 1
		sample process_start_time_seconds "$page"
	done
}

@test "after a rolling reload of inventory-vm, each instance's page comes from its new process" {
	local before
	before=$(starts_now)
	run on_host "$INVENTORY_HOST" "$PM2" reload inventory_app
	assert_success
	# Each page answers again, from a process none of the old ones was.
	all_new() {
		local now
		now=$(starts_now) || return 1
		[ "$(grep -cxFf <(echo "$before") <<<"$now")" = 0 ] &&
			[ "$(sort -u <<<"$now" | grep -c .)" = "$INVENTORY_INSTANCES" ]
	}
	wait_for 30 all_new
}

@test "billing_app on billing-vm answers its page through the admin listen, and counts an order" {
	local i page before message_id
	stored_total() {
		local i total=0 page=$BATS_TEST_TMPDIR/billing-sum
		for ((i = 0; i < BILLING_INSTANCES; i++)); do
			[ "$(admin_page "/metrics/billing_app/$i" "$page")" = 200 ] || return 1
			total=$((total + $(sample billing_app_orders_stored_total "$page")))
		done
		echo "$total"
	}
	for ((i = 0; i < BILLING_INSTANCES; i++)); do
		page=$BATS_TEST_TMPDIR/billing-$i
		run admin_page "/metrics/billing_app/$i" "$page"
		assert_output 200
		run promtool check metrics <"$page"
		assert_success
		# Served live by the process: as of its last tick, well under a minute ago.
		[ $(($(date +%s) - $(sample billing_app_page_written_timestamp_seconds "$page"))) -lt 60 ] ||
			fail "billing_app $i: $(grep page_written "$page")"
	done
	before=$(stored_total)
	run http POST /api/billing/ -H 'Content-Type: application/json' \
		-d '{"user_id": "31", "number_of_items": "1", "total_amount": "9.99"}'
	assert_output 200
	message_id=$(jq -r .message_id "$BATS_TEST_TMPDIR/body")
	wait_for 30 order_count_is "$message_id" 1
	after_is() { [ "$(stored_total)" = "$1" ]; }
	wait_for 10 after_is $((before + 1))
}

@test "the hosts' metrics listeners bind their private address and answer the gateway only" {
	local i addr
	for ((i = 0; i < INVENTORY_INSTANCES; i++)); do
		run on_host "$INVENTORY_HOST" ss -ltnH "sport = :$((INVENTORY_METRICS_PORT + i))"
		assert_success
		assert_equal "$(awk '{ print $4 }' <<<"$output")" "$INVENTORY_IP:$((INVENTORY_METRICS_PORT + i))"
	done
	for ((i = 0; i < BILLING_INSTANCES; i++)); do
		run on_host "$BILLING_HOST" ss -ltnH "sport = :$((BILLING_METRICS_PORT + i))"
		assert_success
		assert_equal "$(awk '{ print $4 }' <<<"$output")" "$BILLING_IP:$((BILLING_METRICS_PORT + i))"
	done
	# From the gateway's host the page comes; from this machine (not in
	# FCGI_WEB_SERVER_ADDRS) the connection is closed without a byte.
	run in_host "$GATEWAY_HOST" metrics_fcgi "$INVENTORY_IP" "$INVENTORY_METRICS_PORT"
	assert_line --partial 'inventory_worker_threads '
	run metrics_fcgi "$INVENTORY_IP" "$INVENTORY_METRICS_PORT"
	assert_output ''
	run in_host "$GATEWAY_HOST" metrics_fcgi "$BILLING_IP" "$BILLING_METRICS_PORT"
	assert_line --partial 'billing_app_orders_stored_total '
	# Nothing but the page, even from the gateway.
	for addr in "$INVENTORY_IP:$INVENTORY_METRICS_PORT" "$BILLING_IP:$BILLING_METRICS_PORT"; do
		run in_host "$GATEWAY_HOST" metrics_fcgi "${addr%:*}" "${addr#*:}" /api/movies
		assert_line --regexp '^Status: 404'
		assert_line --regexp '^Content-Type: application/problem\+json'
	done
	run metrics_fcgi "$BILLING_IP" "$BILLING_METRICS_PORT"
	assert_output ''
}

@test "provisioning runs PostgreSQL's exporter beside each host's PostgreSQL, as prometheus, on loopback" {
	local host pid
	for host in "$INVENTORY_HOST" "$BILLING_HOST"; do
		run on_host "$host" curl -fsS --max-time 10 "http://127.0.0.1:$POSTGRES_EXPORTER_PORT/metrics"
		assert_success
		assert_line 'pg_up 1'
		run on_host "$host" ss -ltnHp "sport = :$POSTGRES_EXPORTER_PORT"
		assert_equal "$(awk '{ print $4 }' <<<"$output")" "127.0.0.1:$POSTGRES_EXPORTER_PORT"
		pid=$(grep -o 'pid=[0-9]*' <<<"$output" | cut -d= -f2)
		run stat -c %U "/proc/$pid"
		assert_output prometheus
	done
	# Not on the gateway's host: no PostgreSQL there.
	run on_host "$GATEWAY_HOST" ss -ltnH "sport = :$POSTGRES_EXPORTER_PORT"
	assert_output ''
}
