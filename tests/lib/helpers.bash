# shellcheck shell=bash
# shellcheck disable=SC2016 # jq filters name their own $variables
# The one test library, loaded by every bats suite (`load ../lib/helpers`): requests,
# problem+json assertions, SQL as the app users, services, waits; with it come
# tests/lib/procs.sh (the stack's processes, shared with the soak and the benchmark) and
# tests/lib/load.bash (background load and the orders it made).
# The stack is started by tests/lib/test.sh (or tests/lib/test-hosts.sh), which exports
# BASE_URL, STACK_DIR, PM2_HOME and the .env variables. Waiting for a condition is
# wait_for SECONDS CMD... (tests/lib/stack.sh).
bats_require_minimum_version 1.5.0
source "$PROJECT_ROOT/scripts/deploy/lib/env.sh"
source "$PROJECT_ROOT/tests/lib/stack.sh"
source "$PROJECT_ROOT/tests/lib/procs.sh"
source "$PROJECT_ROOT/tests/lib/load.bash"

common_setup() {
	bats_load_library bats-support
	bats_load_library bats-assert
}

# ---- Requests ---------------------------------------------------------------

# urlencode TEXT: percent-encodes every byte outside the unreserved set.
urlencode() {
	jq -rn --arg v "$1" '$v | @uri'
}

# http METHOD PATH [curl args...]: prints the status; body and headers go to files.
http() {
	local method=$1 path=$2
	shift 2
	local how=(-X "$method")
	[ "$method" = HEAD ] && how=(--head)
	curl -sS --max-time 20 "${how[@]}" -o "$BATS_TEST_TMPDIR/body" \
		-D "$BATS_TEST_TMPDIR/headers" -w '%{http_code}' "$@" "$BASE_URL$path"
}

# header NAME: the value of a header of the last response (its last one, when several).
header() {
	awk -v n="${1,,}" '{ sub(/\r$/, "") } (i = index($0, ":")) && tolower(substr($0, 1, i - 1)) == n {
		v = substr($0, i + 1); sub(/^ */, "", v) } END { print v }' "$BATS_TEST_TMPDIR/headers"
}

body() {
	cat "$BATS_TEST_TMPDIR/body"
}

# jqb FILTER [jq args...]: asserts FILTER holds on the last response body.
jqb() {
	local filter=$1
	shift
	jq -e "$@" "$filter" "$BATS_TEST_TMPDIR/body" >/dev/null ||
		fail "not true of the body: $filter ($*); body: $(head -c 300 "$BATS_TEST_TMPDIR/body")"
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

# message_id: the message_id of the last answer (an order's).
message_id() {
	jq -r .message_id "$BATS_TEST_TMPDIR/body"
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
	     and .status == $s and (.detail | type == "string") and ($f == "" or .field == $f)' \
		--argjson s "$1" --arg f "${2-}"
}

# ---- Services -----------------------------------------------------------------

queue_has_consumer() {
	rabbit_url_parts
	rabbitmqctl_ list_queues -p "$AMQP_VHOST" -q --no-table-headers name consumers 2>/dev/null |
		awk -v q="$QUEUE_NAME" '$1 == q && $2 > 0 { found = 1 } END { exit !found }'
}

# queue_figure_is FIELD N: the broker lists QUEUE_NAME with exactly N in FIELD (consumers,
# messages...: rabbitmqctl list_queues's columns); a broker that does not answer is no "0".
queue_figure_is() {
	rabbit_url_parts
	rabbitmqctl_ list_queues -p "$AMQP_VHOST" -q --no-table-headers name "$1" 2>/dev/null |
		awk -v q="$QUEUE_NAME" -v n="$2" '$1 == q && $2 == n { found = 1 } END { exit !found }'
}

queue_consumers_are() {
	queue_figure_is consumers "$1"
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

# apps_not_online NAME...: those of the PM2 apps NAME that have no process, or one not
# online; one a line. (One PM2 CLI call: each costs half a second of CPU.)
apps_not_online() {
	"$PM2" jlist | jq -rn '(try input catch [] | group_by(.name) | map({key: .[0].name, value: all(.pm2_env.status == "online")})
		| from_entries) as $online | $ARGS.positional[] | select($online[.] != true)' --args "$@"
}

# app_online NAME: every process of the PM2 app NAME is online.
app_online() {
	[ -z "$(apps_not_online "$1")" ]
}

# restore_services: what an outage test calls from teardown, so that a test that
# failed half-way still leaves every service running for the next one.
restore_services() {
	private_pg_start
	private_rabbit_start
	local app
	for app in $(apps_not_online inventory_app billing_app api_gateway_app); do
		app_start "$app"
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
