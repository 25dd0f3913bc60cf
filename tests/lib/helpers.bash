# Loaded by every tests/e2e/*.bats file (`load ../lib/helpers`). The stack is started by
# tests/lib/test.sh, which exports BASE_URL, STACK_DIR, PM2_HOME and the .env variables.
bats_require_minimum_version 1.5.0
source "$PROJECT_ROOT/scripts/deploy/stack.sh"

common_setup() {
	bats_load_library bats-support
	bats_load_library bats-assert
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

# header NAME: the value of a header of the last response.
header() {
	grep -i "^$1:" "$BATS_TEST_TMPDIR/headers" | tail -n 1 | cut -d: -f2- | sed 's/^ *//; s/\r$//'
}

body() {
	cat "$BATS_TEST_TMPDIR/body"
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

# wait_until SECONDS CMD...: re-runs CMD every 0.1 s until it succeeds; 1 on timeout.
wait_until() {
	wait_for "$@"
}

tcp_open() {
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

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
	inventory_app) wait_for 30 tcp_open "$INVENTORY_FCGI_HOST" "$INVENTORY_FCGI_PORT" ;;
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

pg_stop() {
	private_pg_stop
}

pg_start() {
	private_pg_start
}

rabbit_stop() {
	private_rabbit_stop
}

rabbit_start() {
	private_rabbit_start
}

sql_movies() {
	PGPASSWORD=$POSTGRES_PASSWORD psql -qAtX -h "$POSTGRES_HOST" -p "$POSTGRES_PORT" \
		-U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "$1"
}

sql_billing() {
	PGPASSWORD=$POSTGRES_BILLING_PASSWORD psql -qAtX -h "$POSTGRES_BILLING_HOST" \
		-p "$POSTGRES_BILLING_PORT" -U "$POSTGRES_BILLING_USER" -d "$POSTGRES_BILLING_DB" -c "$1"
}

# amqp_publish BODY [amqp-publish args...]: a raw persistent message straight to the queue.
amqp_publish() {
	local body=$1
	shift
	# rabbitmq-c reads a trailing "/" as the empty vhost; without it the vhost is "/".
	amqp-publish --url="${RABBITMQ_URL%/}" -r "$QUEUE_NAME" -p -C application/json -b "$body" "$@"
}
