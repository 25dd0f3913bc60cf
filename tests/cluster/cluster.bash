# shellcheck shell=bash
# shellcheck disable=SC2016 # jq filters and bash -c scripts name their own $variables
# Loaded by tests/cluster/*.bats after ../lib/helpers: the scale-out hosts, their broker
# nodes, the checks every scenario ends with and the figures the runner's table prints.
# Run by tests/lib/test-cluster.sh, which exports BASE_URL, HOSTS_DIR, ENV_FILE,
# GATEWAY_HOST, INVENTORY_HOST and RABBITMQ_NODES (comma lists), BILLING_HOST and on_host.
source "$PROJECT_ROOT/tests/lib/hosts.sh"


# The test files' hooks, the same for every scenario: a movie for the load to GET (MOVIE,
# its path); each test starts with no load, no kill and no figures (scenario_setup), and
# ends by stopping its load and adding its figures to the table (scenario_teardown).
setup_file() {
	MOVIE=/api/movies/$(curl -fsS -X POST "$BASE_URL/api/movies" -H 'Content-Type: application/json' \
		-d '{"title":"Scale-out","description":"served by whichever host lives"}' | jq -r .id)
	export MOVIE
}

setup() {
	scenario_setup
}

teardown() {
	scenario_teardown
}

# hosts_in LIST: the hosts of a comma list, one a line.
hosts_in() {
	tr ',' '\n' <<<"$1" | grep .
}

# ip_host ADDRESS: the host that has this address.
ip_host() {
	local host
	for host in "${!HOST_IP[@]}"; do
		[ "${HOST_IP[$host]}" != "$1" ] || { echo "$host"; return 0; }
	done
	return 1
}

# on_stack HOST SCRIPT: bash SCRIPT (which may call tests/lib/stack.sh's functions)
# inside HOST, with its settings loaded and its RabbitMQ node's name and folders, as
# provisioning has them.
on_stack() {
	on_host "$1" bash -c 'source "$PROJECT_ROOT/scripts/deploy/lib/env.sh"
		source "$PROJECT_ROOT/tests/lib/stack.sh"
		load_env; rabbit_url_parts; private_rabbit_env; eval "$1"' _ "$2"
}

# ---- Broker nodes -------------------------------------------------------------------

# queue_json HOST: billing_queue's (QUEUE_NAME's) leader, members, online members,
# consumers and messages, as HOST's node sees them (JSON).
queue_json() {
	on_stack "$1" 'rabbitmqctl_ list_queues -p "$AMQP_VHOST" --formatter json \
		name leader members online consumers messages' |
		jq -c --arg q "$QUEUE_NAME" '.[] | select(.name == $q)'
}

# queue_leader HOST: the host whose node leads billing_queue.
queue_leader() {
	local node
	node=$(queue_json "$1" | jq -r .leader)
	echo "${node#*@}"
}

# queue_members_online HOST N: N members of billing_queue, every one online.
queue_members_online() {
	queue_json "$1" | jq -e --argjson n "$2" '(.members | length) == $n and (.online | length) == $n'
}

# queue_consumed HOST: billing_queue has a consumer (the consumer reconnected).
queue_consumed() {
	queue_json "$1" | jq -e '.consumers > 0'
}

# node_running HOST NODE_HOST: HOST's node counts NODE_HOST's among the cluster's running nodes.
node_running() {
	on_stack "$1" 'rabbitmqctl_ cluster_status --formatter json' |
		jq -e --arg n "$2" '.running_nodes | map(sub(".*@"; "")) | index($n)'
}

# broker_peer HOST PROGRAM: the broker host most of PROGRAM's AMQP connections from HOST
# go to (ss in HOST's namespace; ss shows a program's name cut to 15 characters).
broker_peer() {
	local ip
	ip=$(on_host "$1" ss -Htnp state established '( dport = :5672 )' |
		awk -v p="\"${2:0:15}\"" 'index($0, p) { sub(":[0-9]+$", "", $4); print $4 }' |
		sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')
	[ -n "$ip" ] || { echo "$2 on $1 holds no broker connection" >&2; return 1; }
	ip_host "$ip"
}

# publisher_node: the broker host the publisher (on the gateway) is connected to.
publisher_node() {
	broker_peer "$GATEWAY_HOST" billing_publisher
}

# consumer_not_on HOST: billing_app is connected to a node other than HOST's.
consumer_not_on() {
	local node
	node=$(broker_peer "$BILLING_HOST" billing_app) && [ "$node" != "$1" ]
}

# kill_broker HOST: SIGKILL to HOST's RabbitMQ node (its Erlang VM), nothing else of HOST.
kill_broker() {
	kill -9 "$(cat "$HOSTS_DIR/$1/rabbit/pid")"
}

# start_broker HOST: HOST's node started again as provisioning starts it.
start_broker() {
	on_stack "$1" private_rabbit_start
}

# ---- Inventory hosts ------------------------------------------------------------------

# passive_opens HOST: TCP connections HOST has accepted so far (its namespace's counter):
# on an inventory host other than the first, only the gateway connects.
passive_opens() {
	on_host "$1" awk '$1 == "Tcp:" && !names { for (i = 1; i <= NF; i++) col[$i] = i; names = 1; next }
		$1 == "Tcp:" { print $(col["PassiveOpens"]) }' /proc/net/snmp
}

# accepted_more HOST COUNT N: HOST accepted N connections more than COUNT.
accepted_more() {
	[ "$(passive_opens "$1")" -ge $(($2 + $3)) ]
}

# ---- The load's record ------------------------------------------------------------------

# time_plus TIME SECONDS: TIME (seconds since the epoch, as EPOCHREALTIME) plus SECONDS.
time_plus() {
	awk -v t="$1" -v s="$2" 'BEGIN { printf "%.6f\n", t + s }'
}

# requests_started_after TIME N: N requests started after TIME (seconds since the epoch).
requests_started_after() {
	[ "$(load_timed_lines | awk -v t="$1" '$1 >= t' | grep -c .)" -ge "$2" ]
}

# ok_orders_after TIME N: N orders started after TIME were answered 200.
ok_orders_after() {
	[ "$(load_timed_lines | awk -v t="$1" '$1 >= t && $3 == 200 && NF == 4' | grep -c .)" -ge "$2" ]
}

# failures_started_after TIME: the requests started after TIME that failed (not 2xx).
failures_started_after() {
	load_timed_lines | awk -v t="$1" '$1 >= t && $3 !~ /^2/'
}

# order_statuses: each status the orders were answered with, and how many times.
order_statuses() {
	load_timed_lines | awk 'NF == 4 { n[$3]++ } END { for (s in n) print s, n[s] }' | sort
}

# ---- After each scenario ------------------------------------------------------------------
# assert_orders_exactly_once (tests/lib/load.bash) checks the orders: it finds billing_queue
# on the billing host through queue_json above.

# scenario_setup: what each test starts from (its load, kills, name and figures).
scenario_setup() {
	common_setup
	LOAD_DIR='' KILLS=() TEST_STARTED=$SECONDS SCENARIO=$BATS_TEST_DESCRIPTION ORDERS_CHECKED=''
}

# scenario_name TEXT: the scenario's name in the runner's table.
scenario_name() {
	SCENARIO=$1
}

# scenario_teardown: stops the load and adds the scenario's rows to the runner's table
# (HOSTS_DIR/figures), passed or failed. For the movie requests and for the orders: how
# many were made, how many failed, the seconds in which a failed one ended, the longest a
# failure ended after the kill before it (KILLS), the slowest answer, and the orders checked.
scenario_teardown() {
	[ -n "$LOAD_DIR" ] || return 0
	load_stop
	load_timed_lines | awk -v name="$SCENARIO" -v kills="${KILLS[*]}" -v orders="${ORDERS_CHECKED:--}" '
		BEGIN { n = split(kills, k, " "); kinds[1] = "GET /api/movies/:id"; kinds[2] = "POST /api/billing" }
		{ kind = NF == 4 ? 2 : 1; made[kind]++; if ($2 - $1 > slowest[kind]) slowest[kind] = $2 - $1 }
		$3 !~ /^2/ {
			failed[kind]++; second[kind, int($2)]
			for (i = n; i >= 1; i--) if (k[i] <= $2) {
				if ($2 - k[i] > late[kind]) late[kind] = $2 - k[i]
				break
			}
		}
		END {
			for (ks in second) { split(ks, part, SUBSEP); secs[part[1]]++ }
			for (i = 1; i <= 2; i++)
				printf "%s|%s|%d|%d|%d|%s|%.1f|%s\n", name, kinds[i], made[i], failed[i], secs[i],
					failed[i] ? sprintf("%.1f", late[i]) : "-", slowest[i], i == 2 ? orders : "-"
		}' >>"$HOSTS_DIR/figures"
}

# say TEXT: a progress line in bats' output, with the seconds since the test began.
say() {
	echo "# [$((SECONDS - TEST_STARTED)) s] $*" >&3
}
