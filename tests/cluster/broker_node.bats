#!/usr/bin/env bats
# A broker node dies under load and comes back (issue 12). Run by
# tests/lib/test-cluster.sh: three RabbitMQ nodes (RABBITMQ_NODES) holding billing_queue
# as a quorum queue; first the node the publisher is connected to, then the queue's
# leader, is killed with SIGKILL and restarted.
bats_require_minimum_version 1.5.0

load ../lib/helpers
load cluster

# The broker nodes, the seed first.
mapfile -t NODES < <(hosts_in "$RABBITMQ_NODES")

# surviving_node DEAD: a node other than DEAD's, to ask about the cluster.
surviving_node() {
	local node
	for node in "${NODES[@]}"; do
		[ "$node" = "$1" ] || { echo "$node"; return 0; }
	done
}

# stored_orders: rows in billing_db.
stored_orders() {
	sql_billing "SELECT count(*) FROM orders"
}

orders_grew() {
	[ "$(stored_orders)" -ge $(($1 + $2)) ]
}

# kill_node_and_recover HOST: HOST's node killed with SIGKILL; the surviving nodes keep
# the queue consumed and orders landing; HOST's node restarted rejoins the cluster and
# the queue has all its members again. Appends the time of the kill to KILLS.
kill_node_and_recover() {
	local dead=$1 other killed_at rows
	other=$(surviving_node "$dead")
	say "killing the node on $dead"
	rows=$(stored_orders)
	killed_at=$EPOCHREALTIME
	kill_broker "$dead"
	KILLS+=("$killed_at")
	# Orders are taken again, a consumer reconnected to a surviving node, and it drains.
	wait_for 60 ok_orders_after "$(time_plus "$killed_at" 1)" 20 ||
		fail "no order answered 200 after $dead's node died"
	wait_for 60 consumer_not_on "$dead" || fail "the consumer did not move to a surviving node"
	wait_for 60 queue_consumed "$other" || fail "billing_queue has no consumer"
	wait_for 60 orders_grew "$rows" 20 || fail "orders stopped landing after $dead's node died"
	say "the surviving nodes take and drain orders; restarting $dead's node"
	start_broker "$dead"
	wait_for 60 node_running "$other" "$dead" || fail "$dead's node did not rejoin the cluster"
	wait_for 60 queue_members_online "$other" "${#NODES[@]}" ||
		fail "billing_queue has not all its members again: $(queue_json "$other")"
	say "$dead's node is back, billing_queue has its ${#NODES[@]} members"
}

@test "broker nodes killed (SIGKILL): the publisher's, then the queue's leader: orders answered 200 or 503 only, the consumer moves on, the nodes rejoin" {
	local first leader other
	[ "${#NODES[@]}" -ge 3 ] || fail "RABBITMQ_NODES names ${#NODES[@]} nodes"
	run -0 queue_members_online "$BILLING_HOST" "${#NODES[@]}"
	load_start fresh 4 POST /api/billing
	load_start fresh 2 GET "$MOVIE"
	wait_for 30 ok_orders_after 0 50

	first=$(publisher_node)
	scenario_name "broker node $first killed (the publisher's)"
	kill_node_and_recover "$first"
	leader=$(queue_leader "$(surviving_node "")")
	[[ " ${NODES[*]} " == *" $leader "* ]] || fail "billing_queue's leader is '$leader', not one of the nodes"
	scenario_name "broker nodes $first (the publisher's), then $leader (the leader) killed"
	kill_node_and_recover "$leader"
	load_wait_for 100
	load_stop

	# Never anything but 200 or 503 for an order.
	other=$(order_statuses | awk '$1 != 200 && $1 != 503')
	[ -z "$other" ] || fail "orders answered other than 200 or 503 (status count): $other"
	assert_orders_exactly_once
}
