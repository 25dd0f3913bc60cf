#!/usr/bin/env bats
# The three-host deployment, from outside, as the README's Deployment section tells it.
# Run by tests/lib/test-hosts.sh, which exports BASE_URL (the gateway's address),
# GATEWAY_HOST, INVENTORY_HOST, BILLING_HOST (the hosts' names), INVENTORY_IP, BILLING_IP,
# OUTSIDE_IP (this machine on the hosts' network: the address that must be refused),
# ENV_FILE (the hosts' settings) and on_host.
load ../lib/helpers

setup() {
	common_setup
}

# on_billing CMD...: what `vagrant ssh billing-vm` then `sudo CMD` does.
on_billing() {
	on_host "$BILLING_HOST" "$@"
}

# fcgi_get FROM_HOST: a FastCGI GET /api/movies/ sent straight to inventory-vm:9000,
# from inside FROM_HOST's namespace ("outside" for the machine itself).
fcgi_get() {
	local cmd=(env REQUEST_METHOD=GET SCRIPT_NAME=/api/movies PATH_INFO=/ QUERY_STRING=
		cgi-fcgi -bind -connect "$INVENTORY_IP:9000")
	if [ "$1" = outside ]; then
		timeout 10 "${cmd[@]}" </dev/null
	else
		on_host "$1" timeout 10 "${cmd[@]}" </dev/null
	fi
}

# assert_apps_online HOST NAME N: HOST's PM2 runs N processes, every one NAME and online.
assert_apps_online() {
	run on_host "$1" "$PM2" jlist
	assert_success
	assert_equal "$(jq -r '.[] | "\(.name) \(.pm2_env.status)"' <<<"$output" | sort | uniq -c | sed 's/^ *//')" \
		"$3 $2 online"
}

@test "every host runs its PM2 apps under root's PM2" {
	assert_apps_online "$GATEWAY_HOST" api_gateway_app 1
	assert_apps_online "$INVENTORY_HOST" inventory_app "$INVENTORY_INSTANCES"
	assert_apps_online "$BILLING_HOST" billing_app "$BILLING_INSTANCES"
}

@test "inventory CRUD through the gateway reaches movies_db on inventory-vm" {
	run http POST /api/movies/ -H 'Content-Type: application/json' \
		-d '{"title":"Three hosts","description":"crossed a network"}'
	assert_output 201
	id=$(jq -r .id "$BATS_TEST_TMPDIR/body")
	run http GET "/api/movies/$id/"
	assert_output 200
	run jq -r .title "$BATS_TEST_TMPDIR/body"
	assert_output "Three hosts"
	run http PUT "/api/movies/$id" -H 'Content-Type: application/json' -d '{"title":"Renamed"}'
	assert_output 200
	run http GET "/api/movies/?title=renamed"
	assert_output 200
	run jq -r --argjson id "$id" '.[] | select(.id == $id) | .title' "$BATS_TEST_TMPDIR/body"
	assert_output Renamed
	run http DELETE "/api/movies/$id"
	assert_output 200
	run http GET "/api/movies/$id"
	assert_output 404
}

@test "an order posted while billing_app is stopped lands exactly once after it starts" {
	run on_billing "$PM2" stop billing_app
	assert_success
	run http POST /api/billing/ -H 'Content-Type: application/json' \
		-d '{"user_id": "22", "number_of_items": "3", "total_amount": "30.50"}'
	assert_output 200
	message_id=$(jq -r .message_id "$BATS_TEST_TMPDIR/body")
	run sql_billing "SELECT count(*) FROM orders WHERE message_id = '$message_id'"
	assert_output 0
	run on_billing "$PM2" start billing_app
	assert_success
	wait_for 30 order_count_is "$message_id" 1
	run sql_billing "SELECT user_id, number_of_items, total_amount FROM orders WHERE message_id = '$message_id'"
	assert_output "22|3|30.50"
}

@test "inventory-vm serves FastCGI to the gateway only" {
	run fcgi_get "$GATEWAY_HOST"
	assert_success
	assert_line --partial "Content-Type: application/json"
	# libfcgi closes a connection from an address not in FCGI_WEB_SERVER_ADDRS unanswered
	run fcgi_get outside
	refute_output --partial "Content-Type: application/json"
}

@test "PostgreSQL stays local to its host; the gateway reaches RabbitMQ on billing-vm" {
	run tcp_open "$INVENTORY_IP" 5432
	assert_failure
	run in_host "$GATEWAY_HOST" tcp_open "$BILLING_HOST" 5432
	assert_failure
	run in_host "$GATEWAY_HOST" tcp_open "$BILLING_HOST" 5672
	assert_success
}

# host_app_users HOST NAME: the users NAME's processes on HOST run as, sorted and unique.
host_app_users() {
	on_host "$1" "$PM2" jlist | jq -r --arg n "$2" '.[] | select(.name == $n) | .pid' |
		paste -sd, - | xargs ps -o user= -p | sort -u
}

@test "on each host the daemons run as their own unprivileged users, never root" {
	assert_equal "$(host_app_users "$INVENTORY_HOST" inventory_app)" inventory
	assert_equal "$(host_app_users "$BILLING_HOST" billing_app)" billing
	for host in "$GATEWAY_HOST" "$INVENTORY_HOST" "$BILLING_HOST"; do
		run bash -c "ip netns pids '$host' | paste -sd, - | xargs ps -o user=,comm= -p"
		assert_success
		refute_line --regexp '^root +(inventory_app|billing_app|billing_publi)'
	done
	run bash -c "ip netns pids '$GATEWAY_HOST' | paste -sd, - | xargs ps -o user=,comm= -p"
	assert_line --regexp '^www-data +billing_publi'
}

@test "no password from the hosts' settings in ps during provisioning, in any log or PM2 dump" {
	assert_equal "$(stat -c %a "$ENV_FILE")" 600
	[ "$(grep -c 'rabbitmqctl\|psql' "$HOSTS_DIR/ps.txt")" -gt 0 ] || fail "ps caught no provisioning step"
	for host in "$GATEWAY_HOST" "$INVENTORY_HOST" "$BILLING_HOST"; do
		[ -s "$HOSTS_DIR/$host/pm2/dump.pm2" ] || fail "$host: PM2 saved nothing"
	done
	assert_no_secret_in "$HOSTS_DIR/ps.txt" "$HOSTS_DIR/provision.log" "$HOSTS_DIR"/*/pm2 \
		"$HOSTS_DIR"/*/run/access.log "$HOSTS_DIR"/*/pg.log "$HOSTS_DIR"/*/rabbit/log
}

@test "RabbitMQ listens on billing-vm's address only and lets no one in as guest" {
	local guest=guest
	run on_billing ss -ltnH "sport = :5672"
	assert_success
	assert_equal "$(awk '{ print $4 }' <<<"$output")" "$BILLING_IP:5672"
	# From outside: the port answers, the well-known login does not.
	run tcp_open "$BILLING_IP" 5672
	assert_success
	run timeout 10 amqp-declare-queue --url="amqp://$guest:$guest@$BILLING_IP:5672" -q probe
	assert_failure
	assert_output --partial ACCESS_REFUSED
	run on_billing bash -c "source '$PROJECT_ROOT/scripts/deploy/lib/env.sh'
		source '$PROJECT_ROOT/tests/lib/stack.sh'; load_env
		rabbit_url_parts; private_rabbit_env; rabbitmqctl_ list_users -q --no-table-headers"
	assert_success
	refute_line --partial "$guest"
}
