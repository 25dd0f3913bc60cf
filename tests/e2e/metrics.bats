#!/usr/bin/env bats
# Metrics (README, Observability). A real Prometheus, on a private port (the admin
# listen's + 1), with the tree's scrape config and rules (scripts/monitoring/; only its
# scrape and evaluation intervals cut to 1 s, so that waits are short), scrapes every
# page of the gateway's admin listen and RabbitMQ's rabbitmq_prometheus. A known number
# of requests of each kind, failures on purpose included, must show up in its answers
# exactly. The admin listen is unreachable from the public port.
# shellcheck disable=SC2016 # jq filters name their own $variables
load ../lib/helpers

setup_file() {
	export PROM_DIR=$BATS_FILE_TMPDIR/prometheus
	export PROM_URL=http://127.0.0.1:$((METRICS_PORT + 1))
	export ADMIN_URL=http://127.0.0.1:$METRICS_PORT
	local src=$PROJECT_ROOT/scripts/monitoring
	mkdir -p "$PROM_DIR/targets"
	sed -E 's/^( +)(scrape|evaluation)_interval: .*/\1\2_interval: 1s/' "$src/prometheus.yml" \
		>"$PROM_DIR/prometheus.yml"
	cp "$src/rules.yml" "$PROM_DIR/"
	"$src/targets.sh" >"$PROM_DIR/targets/platform.json"
	prometheus --config.file="$PROM_DIR/prometheus.yml" --storage.tsdb.path="$PROM_DIR/data" \
		--web.listen-address="${PROM_URL#http://}" --log.level=warn \
		>"$PROM_DIR/log" 2>&1 3>&- &
	echo $! >"$PROM_DIR/pid"
	wait_for 60 all_targets_up || {
		curl -sS "$PROM_URL/api/v1/targets" | jq -c '.data.activeTargets[]? | [.scrapeUrl, .health, .lastError]' >&3
		cat "$PROM_DIR/log" >&3
		return 1
	}
}

teardown_file() {
	local pid
	pid=$(cat "$PROM_DIR/pid")
	kill "$pid"
	wait_for 30 eval '! kill -0 '"$pid"
}

setup() {
	common_setup
}

# all_targets_up: Prometheus scraped every target of the targets file, each up.
all_targets_up() {
	local want
	want=$(jq '[.[].targets[]] | length' "$PROM_DIR/targets/platform.json")
	curl -fsS "$PROM_URL/api/v1/targets" | jq -e --argjson n "$want" \
		'[.data.activeTargets[].health] | length == $n and all(. == "up")'
}

# prom QUERY: the query's one value (an instant vector summed by the query), "none" if empty.
prom() {
	curl -fsS -G --data-urlencode "query=$1" "$PROM_URL/api/v1/query" |
		jq -r '.data.result[0].value[1] // "none"'
}

# prom_above QUERY N: Prometheus answers a number over N.
prom_above() {
	local v
	v=$(prom "$1")
	[ "$v" != none ] && awk -v v="$v" -v n="$2" 'BEGIN { exit !(v > n) }'
}

# prom_is QUERY VALUE: Prometheus answers VALUE now.
prom_is() {
	[ "$(prom "$1")" = "$2" ]
}

# pages JOB: the admin pages of that job in the targets file, one URL a line.
pages() {
	jq -r --arg j "$1" '.[] | select(.labels.job == $j) | "http://" + .targets[0] + .labels.__metrics_path__' \
		"$PROM_DIR/targets/platform.json"
}

# page_sum JOB SERIES: SERIES (name{labels} as the page writes it, or a bare name) summed
# over that job's pages, read from the programs directly: the truth Prometheus must match.
page_sum() {
	local url
	for url in $(pages "$1"); do curl -fsS "$url"; done |
		awk -v s="$2" 'index($0, s " ") == 1 { n += $NF } END { printf "%d\n", n }'
}

# wait_prom_matches JOB SERIES QUERY EXPECTED: Prometheus's QUERY reaches EXPECTED, and
# the programs' own pages say the same.
wait_prom_matches() {
	wait_for 30 prom_is "$3" "$4" || fail "Prometheus: $3 = $(prom "$3"), expected $4"
	[ "$(page_sum "$1" "$2")" = "$4" ] || fail "the pages: $2 = $(page_sum "$1" "$2"), expected $4"
}

order() {
	jq -cn --arg u "$1" '{user_id: $u, number_of_items: 1, total_amount: "2.50"}'
}

@test "the rules file and the scrape config load; Prometheus has every rule, healthy" {
	run promtool check rules "$PROJECT_ROOT/scripts/monitoring/rules.yml"
	assert_success
	run promtool check config "$PROM_DIR/prometheus.yml"
	assert_success
	want=$(grep -c '^ *- alert:' "$PROJECT_ROOT/scripts/monitoring/rules.yml")
	# A rule's health is "unknown" until its first evaluation (every second here).
	wait_for 30 rules_healthy "$want" ||
		fail "healthy rules: $(rules_healthy_count), expected $want"
}

rules_healthy_count() {
	curl -fsS "$PROM_URL/api/v1/rules" | jq '[.data.groups[].rules[] | select(.health == "ok")] | length'
}

rules_healthy() {
	[ "$(rules_healthy_count)" = "$1" ]
}

# The platform's pages pass promtool check metrics outright. RabbitMQ's own pass its
# parser, but not its naming lint (erlang_vm_* and other names RabbitMQ chose), which
# is not ours to change.
@test "promtool check metrics accepts every scrape target's page" {
	local urls
	urls=$(jq -r '.[] | .labels.job + " http://" + .targets[0] + .labels.__metrics_path__ +
		(.labels | to_entries | map(select(.key | startswith("__param_"))) |
		 if length == 0 then "" else "?" + (map((.key | ltrimstr("__param_")) + "=" + .value) | join("&")) end)' \
		"$PROM_DIR/targets/platform.json")
	while read -r job url; do
		curl -fsS "$url" >"$BATS_TEST_TMPDIR/page" || fail "$url did not answer"
		run promtool check metrics <"$BATS_TEST_TMPDIR/page"
		if [[ $job == rabbitmq* ]]; then
			[[ $output != *"parsing error"* ]] || fail "$url: $output"
		else
			[ "$status" -eq 0 ] || fail "$url: $output"
		fi
	done <<<"$urls"
}

@test "the public port serves no metrics page; the admin listen serves nothing else" {
	for path in /metrics/gateway /metrics/inventory/0 /metrics/publisher /metrics/billing_app/0 /metrics; do
		run http GET "$path"
		assert_output 404
		assert_problem 404
	done
	run curl -sS -o /dev/null -w '%{http_code}' "$ADMIN_URL/api/movies"
	assert_output 403
	run curl -sS -o /dev/null -w '%{http_code}' -X POST --data '' "$ADMIN_URL/metrics/gateway"
	assert_output 403
	run curl -sS -o /dev/null -w '%{http_code}' "$ADMIN_URL/metrics/inventory/99"
	assert_output 404
}

@test "inventory requests by route, method and status: Prometheus counts exactly what was sent" {
	local list item bad other hist gw
	list=$(page_sum inventory 'inventory_requests_total{route="/api/movies",method="GET",code="200"}')
	item=$(page_sum inventory 'inventory_requests_total{route="/api/movies/:id",method="GET",code="404"}')
	bad=$(page_sum inventory 'inventory_requests_total{route="/api/movies",method="POST",code="400"}')
	other=$(page_sum inventory 'inventory_requests_total{route="/api/movies",method="other",code="405"}')
	hist=$(page_sum inventory inventory_request_duration_seconds_count)
	# From the gateway's page, not Prometheus: its last scrape may predate earlier requests.
	gw=$(pages gateway | xargs curl -fsS |
		awk 'index($0, "lighttpd_backend_requests_total{backend=\"inventory-") == 1 { n += $NF }
			END { printf "%d\n", n }')
	for _ in 1 2 3; do run http GET /api/movies; assert_output 200; done
	for _ in 1 2; do run http GET /api/movies/999999999; assert_output 404; done
	for _ in 1 2; do
		run http POST /api/movies -H 'Content-Type: application/json' --data-binary '{"title":'
		assert_output 400
	done
	run http PATCH /api/movies
	assert_output 405

	wait_prom_matches inventory 'inventory_requests_total{route="/api/movies",method="GET",code="200"}' \
		'sum(inventory_requests_total{route="/api/movies",method="GET",code="200"})' $((list + 3))
	wait_prom_matches inventory 'inventory_requests_total{route="/api/movies/:id",method="GET",code="404"}' \
		'sum(inventory_requests_total{route="/api/movies/:id",method="GET",code="404"})' $((item + 2))
	wait_prom_matches inventory 'inventory_requests_total{route="/api/movies",method="POST",code="400"}' \
		'sum(inventory_requests_total{route="/api/movies",method="POST",code="400"})' $((bad + 2))
	wait_prom_matches inventory 'inventory_requests_total{route="/api/movies",method="other",code="405"}' \
		'sum(inventory_requests_total{route="/api/movies",method="other",code="405"})' $((other + 1))
	wait_prom_matches inventory inventory_request_duration_seconds_count \
		'sum(inventory_request_duration_seconds_count)' $((hist + 8))
	# The gateway's own count of requests it handed to the inventory backends.
	wait_for 30 prom_is 'sum(lighttpd_backend_requests_total{backend=~"inventory-.*"})' $((gw + 8))
	# Every instance is scraped on its own, and none is busy now.
	run prom 'count(inventory_worker_threads_busy == 0)'
	assert_output "$(pages inventory | wc -l)"
}

@test "orders by outcome, stored, duplicates skipped and dead-lettered: Prometheus counts exactly" {
	local confirmed rejected stored dups dead hist key user=metrics-$RANDOM
	confirmed=$(page_sum billing_publisher 'billing_orders_total{outcome="confirmed"}')
	rejected=$(page_sum billing_publisher 'billing_orders_total{outcome="rejected_bad_input"}')
	hist=$(page_sum billing_publisher billing_confirm_duration_seconds_count)
	stored=$(page_sum billing_app billing_app_orders_stored_total)
	dups=$(page_sum billing_app billing_app_duplicates_skipped_total)
	dead=$(page_sum billing_app billing_app_dead_lettered_total)

	for _ in 1 2; do
		run http POST /api/billing -H 'Content-Type: application/json' --data-binary "$(order "$user")"
		assert_output 200
	done
	# The same order twice under one Idempotency-Key: two 200s, one row, one duplicate.
	key=metrics-key-$RANDOM$RANDOM
	for _ in 1 2; do
		run http POST /api/billing -H 'Content-Type: application/json' -H "Idempotency-Key: $key" \
			--data-binary "$(order "$user")"
		assert_output 200
	done
	run http POST /api/billing -H 'Content-Type: application/json' --data-binary '{"user_id":'
	assert_output 400
	run http POST /api/billing -H 'Content-Type: application/json' \
		--data-binary "{\"user_id\": \"$user\", \"number_of_items\": -1, \"total_amount\": \"1\"}"
	assert_output 400
	amqp_publish 'not json: a dead letter on purpose'

	wait_prom_matches billing_publisher 'billing_orders_total{outcome="confirmed"}' \
		'sum(billing_orders_total{outcome="confirmed"})' $((confirmed + 4))
	wait_prom_matches billing_publisher 'billing_orders_total{outcome="rejected_bad_input"}' \
		'sum(billing_orders_total{outcome="rejected_bad_input"})' $((rejected + 2))
	wait_prom_matches billing_publisher billing_confirm_duration_seconds_count \
		'sum(billing_confirm_duration_seconds_count)' $((hist + 4))
	wait_prom_matches billing_app billing_app_orders_stored_total \
		'sum(billing_app_orders_stored_total)' $((stored + 3))
	wait_prom_matches billing_app billing_app_duplicates_skipped_total \
		'sum(billing_app_duplicates_skipped_total)' $((dups + 1))
	wait_prom_matches billing_app billing_app_dead_lettered_total \
		'sum(billing_app_dead_lettered_total)' $((dead + 1))
	run sql_billing "SELECT count(*) FROM orders WHERE user_id = '$user'"
	assert_output 3
	# RabbitMQ's own figures reach Prometheus too, and the dead letter fires its alert.
	wait_for 30 prom_above 'sum(rabbitmq_detailed_queue_messages{queue="billing_queue.dead"})' 0
	wait_for 30 alert_firing BillingDeadLetter || fail "BillingDeadLetter is not firing"
}

# alert_firing NAME: Prometheus lists the alert as firing.
alert_firing() {
	curl -fsS "$PROM_URL/api/v1/alerts" |
		jq -e --arg n "$1" 'any(.data.alerts[]; .labels.alertname == $n and .state == "firing")'
}

# vhost_connections_allowed N|-1: the broker's connection limit on the billing vhost.
vhost_connections() {
	rabbit_url_parts
	rabbitmqctl_ set_vhost_limits -p "$AMQP_VHOST" "{\"max-connections\": $1}" >/dev/null
}

@test "an order refused with the broker unreachable is counted, and so are the reconnects after" {
	local refused failures app_reconnects
	refused=$(page_sum billing_publisher 'billing_orders_total{outcome="refused_broker_down"}')
	failures=$(page_sum billing_publisher billing_publisher_broker_connect_failures_total)
	app_reconnects=$(page_sum billing_app billing_app_broker_reconnects_total)
	# No connection may open on the vhost, and those open are closed: a broker out of reach.
	vhost_connections 0
	rabbit_url_parts
	rabbitmqctl_ close_all_connections -p "$AMQP_VHOST" "metrics test" >/dev/null
	run http POST /api/billing -H 'Content-Type: application/json' --data-binary "$(order metrics-refused)"
	vhost_connections -1
	assert_output 503
	run http POST /api/billing -H 'Content-Type: application/json' --data-binary "$(order metrics-after)"
	assert_output 200

	wait_prom_matches billing_publisher 'billing_orders_total{outcome="refused_broker_down"}' \
		'sum(billing_orders_total{outcome="refused_broker_down"})' $((refused + 1))
	wait_for 30 alert_firing BillingOrdersRefused || fail "BillingOrdersRefused is not firing"
	# Its second attempt found no broker to connect to; its first too when the thread that
	# took the order had never connected (which of 32 it was is the kernel's choice).
	wait_for 30 prom_above 'sum(billing_publisher_broker_connect_failures_total)' "$failures"
	run page_sum billing_publisher billing_publisher_broker_connect_failures_total
	[ "$output" -ge $((failures + 1)) ] && [ "$output" -le $((failures + 2)) ]
	# billing_app lost its connection too and comes back by itself: one reconnect.
	wait_for 60 queue_has_consumer
	wait_prom_matches billing_app billing_app_broker_reconnects_total \
		'sum(billing_app_broker_reconnects_total)' $((app_reconnects + 1))
}

@test "make metrics prints the key figures of the running platform" {
	run make -s -C "$PROJECT_ROOT" metrics
	assert_success
	assert_output --regexp 'orders +confirmed [0-9]+'
	assert_output --regexp 'inventory-0 +[0-9]+ requests'
	assert_output --regexp 'billing_queue +[0-9]+ messages'
}
