#!/usr/bin/env bats
# shellcheck disable=SC2016 # the bash -c scripts name their own $variables
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

# tcp_connect IP PORT: how a TCP connect to IP:PORT ends: "open", "refused" (the host
# answered, nothing listens there) or "no connection: WHY" (within 10 s).
tcp_connect() {
	local err
	if err=$(timeout 10 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>&1); then
		echo open
	elif [[ $err == *"Connection refused"* ]]; then
		echo refused
	else
		echo "no connection: ${err:-timed out}"
	fi
}

# fcgi_exchange IP PORT REPLY: one FastCGI GET /api/movies/ on a new TCP connection, the
# request in one write (FCGI_KEEP_CONN unset: the application closes after its answer),
# the answer to the file REPLY. Prints how it went: "accepted, closed after N bytes" (the
# peer closed), "accepted, reset after N bytes" (it reset the connection), "no
# connection: WHY", or "no end within 10 s".
fcgi_exchange() {
	local out
	# BEGIN_REQUEST (responder), PARAMS (69 bytes of name-value pairs), an empty PARAMS,
	# an empty STDIN.
	local request='\x01\x01\x00\x01\x00\x08\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00'
	request+='\x01\x04\x00\x01\x00\x45\x00\x00'
	request+='\x0e\x03REQUEST_METHODGET\x0b\x0bSCRIPT_NAME/api/movies\x09\x01PATH_INFO/\x0c\x00QUERY_STRING'
	request+='\x01\x04\x00\x01\x00\x00\x00\x00\x01\x05\x00\x01\x00\x00\x00\x00'
	: >"$3"
	out=$(timeout 10 bash -c '
		trap "" PIPE
		if ! { exec 3<>"/dev/tcp/$1/$2"; } 2>"$4"; then
			echo "no connection: $(sed -n "1s/.*: //p" "$4")"
			exit
		fi
		printf "$3" >&3
		if cat <&3 >"$4" 2>/dev/null; then how=closed; else how=reset; fi
		echo "accepted, $how after $(wc -c <"$4") bytes"' _ "$1" "$2" "$request" "$3") || true
	echo "${out:-no end within 10 s}"
}
export -f tcp_connect fcgi_exchange

# assert_apps_online HOST "N NAME"...: HOST's PM2 runs N processes of each NAME (in
# NAME order), every one online, and nothing else.
assert_apps_online() {
	local host=$1
	shift
	run on_host "$host" "$PM2" jlist
	assert_success
	assert_equal "$(jq -r '.[] | "\(.name) \(.pm2_env.status)"' <<<"$output" | sort | uniq -c | sed 's/^ *//')" \
		"$(printf '%s online\n' "$@")"
}

@test "every host runs its PM2 apps under root's PM2" {
	# PostgreSQL's exporter where a PostgreSQL runs: test-hosts.sh turns it on.
	assert_apps_online "$GATEWAY_HOST" "1 api_gateway_app"
	assert_apps_online "$INVENTORY_HOST" "$INVENTORY_INSTANCES inventory_app" "1 postgres_exporter"
	assert_apps_online "$BILLING_HOST" "$BILLING_INSTANCES billing_app" "1 postgres_exporter"
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
	local reply=$BATS_TEST_TMPDIR/reply
	# From the gateway: the port answers the request.
	run in_host "$GATEWAY_HOST" fcgi_exchange "$INVENTORY_IP" "$INVENTORY_TCP_PORT" "$reply"
	assert_output --regexp '^accepted, closed after [1-9][0-9]* bytes$'
	run grep -ac 'Content-Type: application/json' "$reply"
	assert_output 1
	# From this machine, not in FCGI_WEB_SERVER_ADDRS: the same port accepts the
	# connection, and libfcgi closes it at once without reading it (a reset when the
	# request was there already) and without a byte of answer.
	run fcgi_exchange "$INVENTORY_IP" "$INVENTORY_TCP_PORT" "$reply"
	assert_output --regexp '^accepted, (closed|reset) after 0 bytes$'
}

@test "PostgreSQL stays local to its host; the gateway reaches RabbitMQ on billing-vm" {
	# Refused, not unreachable: the host answers, nothing listens on its address's 5432.
	run tcp_connect "$INVENTORY_IP" 5432
	assert_output refused
	run in_host "$GATEWAY_HOST" tcp_connect "$BILLING_HOST" 5432
	assert_output refused
	run in_host "$GATEWAY_HOST" tcp_connect "$BILLING_HOST" 5672
	assert_output open
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
	# Every place looked in exists (a path that does not would be searched in vain).
	for path in "$HOSTS_DIR/$GATEWAY_HOST/run/access.log" "$HOSTS_DIR/$INVENTORY_HOST/pg.log" \
		"$HOSTS_DIR/$BILLING_HOST/pg.log" "$HOSTS_DIR/$BILLING_HOST/rabbit/log"; do
		[ -e "$path" ] || fail "nothing at $path"
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
