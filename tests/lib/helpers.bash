# shellcheck shell=bash
# shellcheck disable=SC2016 # jq filters name their own $variables
# The one test library, loaded by every bats suite (`load ../lib/helpers`): requests,
# problem+json assertions, SQL as the app users, services, waits, load generation.
# The stack is started by tests/lib/test.sh (or tests/lib/test-hosts.sh), which exports
# BASE_URL, STACK_DIR, PM2_HOME and the .env variables. Waiting for a condition is
# wait_for SECONDS CMD... (tests/lib/stack.sh).
bats_require_minimum_version 1.5.0
source "$PROJECT_ROOT/scripts/deploy/lib/env.sh"
source "$PROJECT_ROOT/tests/lib/stack.sh"

common_setup() {
	bats_load_library bats-support
	bats_load_library bats-assert
}

# ---- Requests ---------------------------------------------------------------

# http METHOD PATH [curl args...]: prints the status; body and headers go to files.
http() {
	local method=$1 path=$2
	shift 2
	local how=(-X "$method")
	[ "$method" = HEAD ] && how=(--head)
	curl -sS --max-time 20 "${how[@]}" -o "$BATS_TEST_TMPDIR/body" \
		-D "$BATS_TEST_TMPDIR/headers" -w '%{http_code}' "$@" "$BASE_URL$path"
}

# header NAME: the value of a header of the last response.
header() {
	grep -i "^$1:" "$BATS_TEST_TMPDIR/headers" | tail -n 1 | cut -d: -f2- | sed 's/^ *//; s/\r$//'
}

body() {
	cat "$BATS_TEST_TMPDIR/body"
}

# jqb FILTER [jq args...]: asserts FILTER holds on the last response body.
jqb() {
	local filter=$1
	shift
	run jq -e "$@" "$filter" "$BATS_TEST_TMPDIR/body"
	assert_success
}

# create_movie JSON: POSTs a movie, prints its id; fails unless the answer is 201.
create_movie() {
	local status
	status=$(http POST /api/movies -H 'Content-Type: application/json' --data-binary "$1")
	if [ "$status" != 201 ]; then
		echo "create_movie $1 -> $status: $(head -c 300 "$BATS_TEST_TMPDIR/body")" >&2
		return 1
	fi
	jq -er .id "$BATS_TEST_TMPDIR/body"
}

# create_titled TITLE: creates a movie with that title and no description; prints its id.
create_titled() {
	create_movie "$(jq -cn --arg t "$1" '{title: $t}')"
}

# parallel_http N METHOD PATH [JSON]: N requests, 32 at a time; prints one status per line.
parallel_http() {
	local n=$1 method=$2 path=$3 data=${4-} cfg i
	cfg=$(mktemp "$BATS_TEST_TMPDIR/parallel.XXXXXX")
	data=${data//\\/\\\\}
	data=${data//\"/\\\"}
	for ((i = 1; i <= n; i++)); do
		# "next" separates requests; one after the last would start an empty one
		[ "$i" -eq 1 ] || echo next
		printf 'url = "%s%s"\nrequest = "%s"\n' "$BASE_URL" "$path" "$method"
		if [ -n "$data" ]; then
			printf 'header = "Content-Type: application/json"\ndata = "%s"\n' "$data"
		fi
		printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n'
	done >"$cfg"
	curl -sS --no-progress-meter --max-time 60 --parallel --parallel-max 32 -K "$cfg"
}

tcp_open() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# inventory_listening: every inventory backend of this host listens (its unix socket is
# there, or its TCP port accepts).
inventory_listening() {
	local addr
	while IFS= read -r addr; do
		if [[ $addr == unix:* ]]; then
			[ -S "${addr#unix:}" ] || return 1
		else
			tcp_open "${addr%:*}" "${addr##*:}" || return 1
		fi
	done < <(inventory_backend_addrs)
}

# inventory_tcp_port: the port this host's inventory listens on, nothing on unix sockets.
inventory_tcp_port() {
	[[ $INVENTORY_LISTEN_ADDR == unix:* ]] || echo "${INVENTORY_LISTEN_ADDR##*:}"
}

# inventory_address_re: an ERE for the inventory's address as a body could leak it.
inventory_address_re() {
	if [[ $INVENTORY_LISTEN_ADDR == unix:* ]]; then
		echo '127\.0\.0\.1|localhost|\.sock|'"${INVENTORY_LISTEN_ADDR#unix:}"
	else
		echo "127\\.0\\.0\\.1|localhost|${INVENTORY_LISTEN_ADDR##*:}"
	fi
}

# ---- Errors -----------------------------------------------------------------

# assert_problem STATUS [FIELD]: the last response is an RFC 9457 problem for STATUS:
# Content-Type application/problem+json, string type, title and detail, and, when FIELD
# is given and not "", a "field" member that is FIELD.
assert_problem() {
	local ct
	ct=$(header Content-Type)
	[ "$ct" = application/problem+json ] ||
		fail "Content-Type is '$ct', want application/problem+json; body: $(head -c 300 "$BATS_TEST_TMPDIR/body")"
	jqb '(.type | type == "string") and (.title | type == "string")
	     and .status == $s and (.detail | type == "string")' --argjson s "$1"
	if [ -n "${2-}" ]; then
		jqb '.field == $f' --arg f "$2"
	fi
}

# ---- Services -----------------------------------------------------------------

queue_has_consumer() {
	rabbit_url_parts
	rabbitmqctl_ list_queues -p "$AMQP_VHOST" -q --no-table-headers name consumers 2>/dev/null |
		awk -v q="$QUEUE_NAME" '$1 == q && $2 > 0 { found = 1 } END { exit !found }'
}

app_stop() {
	"$PM2" stop "$1" >/dev/null
}

# app_start NAME: starts a PM2 app and returns once it serves.
app_start() {
	"$PM2" start "$1" >/dev/null
	case $1 in
	inventory_app) wait_for 30 inventory_listening ;;
	api_gateway_app) wait_for 30 tcp_open 127.0.0.1 "$API_GATEWAY_PORT" ;;
	billing_app) wait_for 60 queue_has_consumer ;;
	esac
}

app_online() {
	[ "$("$PM2" jlist | jq -r --arg n "$1" '.[] | select(.name == $n) | .pm2_env.status')" = online ]
}

# restore_services: what an outage test calls from teardown, so that a test that
# failed half-way still leaves every service running for the next one.
restore_services() {
	private_pg_start
	private_rabbit_start
	local app
	for app in inventory_app billing_app api_gateway_app; do
		app_online "$app" || app_start "$app"
	done
}

# amqp_publish BODY [-H "NAME: VALUE"]...: a raw persistent message straight to the queue,
# with those headers, handed to the node by rabbitmqctl (as queue_count asks it), so that
# no AMQP password is on a command line.
amqp_publish() {
	local body=$1 headers=() value
	shift
	while [ "${1-}" = -H ] && [ $# -ge 2 ]; do
		value=${2#*:}
		value=${value#"${value%%[! ]*}"}
		headers+=("{$(erlang_binary "${2%%:*}"), longstr, $(erlang_binary "$value")}")
		shift 2
	done
	[ $# -eq 0 ] || { echo "amqp_publish: unknown arguments: $*" >&2; return 1; }
	rabbit_url_parts
	rabbitmqctl_ eval "rabbit_basic:publish(rabbit_misc:r($(erlang_binary "$AMQP_VHOST"), exchange, <<>>),
		$(erlang_binary "$QUEUE_NAME"), [{delivery_mode, 2}, {content_type, <<\"application/json\">>},
		{headers, [$(IFS=,; echo "${headers[*]}")]}], $(erlang_binary "$body"))." >/dev/null
}

# erlang_binary TEXT: TEXT as an Erlang binary written byte by byte (nothing to escape).
erlang_binary() {
	printf '<<%s>>' "$(printf '%s' "$1" | od -An -tu1 -v | xargs | tr ' ' ',')"
}

# ---- Secrets --------------------------------------------------------------------

# secrets: every password of ENV_FILE (PostgreSQL's two, RabbitMQ's), one per line.
secrets() {
	rabbit_url_parts
	printf '%s\n' "$POSTGRES_PASSWORD" "$POSTGRES_BILLING_PASSWORD" "$AMQP_PASS"
}

# assert_no_secret_in FILE_OR_FOLDER...: no password of ENV_FILE occurs in any of them.
assert_no_secret_in() {
	local hits
	hits=$(grep -rlF -f <(secrets) "$@" 2>/dev/null || true)
	[ -z "$hits" ] || fail "a password from $ENV_FILE is in: $hits"
}

# ---- SQL as the applications' own users --------------------------------------
# The SQL goes to psql on its standard input: a command line argument is limited to
# 128 KiB, and a test may ask about thousands of orders at once.

sql_movies() {
	app_psql POSTGRES <<<"$1"
}

# sql_billing SQL: in the three-host test (HOSTS_DIR set), from inside the billing host,
# whose PostgreSQL listens on its loopback only.
sql_billing() {
	if [ -n "${HOSTS_DIR:-}" ]; then
		in_host "$BILLING_HOST" app_psql POSTGRES_BILLING <<<"$1"
	else
		app_psql POSTGRES_BILLING <<<"$1"
	fi
}

order_count_is() {
	[ "$(sql_billing "SELECT count(*) FROM orders WHERE message_id = '$1'")" = "$2" ]
}

# ---- The three-host test ------------------------------------------------------

# in_host HOST CMD...: CMD, a program or one of the functions exported below, inside
# HOST's network namespace (on_host comes from tests/lib/test-hosts.sh).
in_host() {
	local host=$1
	shift
	on_host "$host" bash -c '"$@"' _ "$@"
}
export -f app_psql tcp_open

# ---- Load ---------------------------------------------------------------------

# Background clients (the operations suite) that record one line per request ("STATUS"
# or, for orders, "STATUS KEY"), so that a test can count what failed while it restarted
# something. curl writes 000 for a request that got no answer at all.
#   fresh      a new connection for every request (a curl process each); each request is
#              also recorded with when it started and ended ("START END STATUS [KEY]",
#              seconds since the epoch) in CLIENT.times (load_timed_lines)
#   keepalive  one curl process sends 100 requests on one connection, then the next 100
# Orders carry their own Idempotency-Key, which is also their message_id in billing_db.

LOAD_DIR=
LOAD_PIDS=()
LOAD_SECONDS_MAX=120

# load_request_config METHOD PATH CLIENT BATCH: a curl config of 100 requests.
load_request_config() {
	local method=$1 path=$2 client=$3 batch=$4 i key
	for ((i = 0; i < 100; i++)); do
		[ "$i" -eq 0 ] || echo next
		printf 'url = "%s%s"\nrequest = "%s"\noutput = "/dev/null"\nmax-time = 10\n' \
			"$BASE_URL" "$path" "$method"
		if [ "$method" = POST ]; then
			key=load-$client-$batch-$i-$RANDOM$RANDOM
			printf 'header = "Content-Type: application/json"\nheader = "Idempotency-Key: %s"\n' "$key"
			printf 'data = "{\\"user_id\\": \\"7\\", \\"number_of_items\\": 1, \\"total_amount\\": \\"2.50\\"}"\n'
			printf 'write-out = "%%{http_code} %s\\n"\n' "$key"
		else
			printf 'write-out = "%%{http_code}\\n"\n'
		fi
	done
}

# load_client KIND METHOD PATH CLIENT: runs until the stop file exists; what it records
# goes to CLIENT.before, or to CLIENT.after once the mark file exists.
load_client() {
	local kind=$1 method=$2 path=$3 client=$4 batch=0 cfg out started answer deadline=$((SECONDS + LOAD_SECONDS_MAX))
	cfg=$LOAD_DIR/$client.cfg
	while [ ! -e "$LOAD_DIR/stop" ] && [ "$SECONDS" -lt "$deadline" ]; do
		out=$LOAD_DIR/$client.before
		[ ! -e "$LOAD_DIR/mark" ] || out=$LOAD_DIR/$client.after
		batch=$((batch + 1))
		load_request_config "$method" "$path" "$client" "$batch" >"$cfg"
		if [ "$kind" = fresh ]; then
			# One curl per request: split the config at its "next" lines.
			awk -v dir="$LOAD_DIR" -v c="$client" 'BEGIN { n = 0 } $0 == "next" { n++; next }
				{ print > (dir "/" c ".req" n) }' "$cfg"
			for req in "$LOAD_DIR/$client".req*; do
				[ ! -e "$LOAD_DIR/stop" ] || break
				started=$EPOCHREALTIME
				answer=$(curl -sS -K "$req" 2>/dev/null) || true
				echo "$answer" >>"$out"
				echo "$started $EPOCHREALTIME $answer" >>"$LOAD_DIR/$client.times"
			done
			rm -f "$LOAD_DIR/$client".req*
		else
			curl -sS -K "$cfg" >>"$out" 2>/dev/null || true
		fi
	done
}

# load_start KIND CLIENTS METHOD PATH: starts CLIENTS background clients of that kind.
load_start() {
	local kind=$1 n=$2 method=$3 path=$4 i
	LOAD_DIR=${LOAD_DIR:-$(mktemp -d "$BATS_TEST_TMPDIR/load.XXXXXX")}
	for ((i = 1; i <= n; i++)); do
		load_client "$kind" "$method" "$path" "$kind-$method-${#LOAD_PIDS[@]}" 3>&- &
		LOAD_PIDS+=($!)
	done
}

# load_lines before|after|all: the lines recorded so far in that phase.
load_lines() {
	local phase phases=("$1")
	[ "$1" != all ] || phases=(before after)
	for phase in "${phases[@]}"; do
		cat "$LOAD_DIR"/*."$phase" 2>/dev/null || true
	done
}

# load_timed_lines: "START END STATUS [KEY]" of every request of the fresh clients.
load_timed_lines() {
	cat "$LOAD_DIR"/*.times 2>/dev/null || true
}

# load_count PHASE: requests answered so far; load_failures PHASE: those not 2xx.
load_count() {
	load_lines "$1" | grep -c . || true
}

load_failures() {
	load_lines "$1" | grep -vc '^2' || true
}

load_reached() {
	[ "$(load_count all)" -ge "$1" ]
}

# load_wait_for N: returns once N more requests were recorded (at most 30 s).
load_wait_for() {
	wait_for 30 load_reached $(($(load_count all) + $1))
}

load_mark() {
	touch "$LOAD_DIR/mark"
}

load_stop() {
	touch "$LOAD_DIR/stop"
	wait "${LOAD_PIDS[@]}" 2>/dev/null || true
	LOAD_PIDS=()
}

# load_accepted_orders: the Idempotency-Keys of the orders answered 200.
load_accepted_orders() {
	load_lines all | awk '$1 == 200 && NF == 2 { print $2 }'
}
