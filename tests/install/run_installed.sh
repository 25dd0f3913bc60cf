#!/usr/bin/env bash
# The installed tree runs on its own: make install into a temporary PREFIX, then the
# gateway, inventory_app and billing_app started from that tree alone (a clean
# environment: no PROJECT_ROOT, BUILD_DIR or ENV_FILE, working folder /) against the
# private stack's PostgreSQL and RabbitMQ, with the installed .env (ENV_FILE's installed
# default) naming them. A movie and an order go through the installed gateway on its own
# port, and the installed cgi-bin entries serve requests as plain CGI, by hand and under
# the installed lighttpd-cgi.conf. Then make uninstall leaves nothing of ours.
# Run by tests/lib/test.sh once the private stack is up (it needs that stack's
# environment); it stops the stack's own billing_app meanwhile, so that the order can
# land only through the installed one. Last line: "N passed, N failed".
# shellcheck disable=SC2016 # jq filters name their own $variables
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build/release}
source "$ROOT/tests/install/check.sh"
# wait_for SECONDS CMD...
source "$ROOT/scripts/deploy/lib/host.sh"
: "${STACK_DIR:?run by tests/lib/test.sh with the private stack up}"
pids=()

work=$(mktemp -d "$STACK_DIR/install.XXXXXX")
# The gateway's and the daemons' users go through it to the installed files.
chmod 755 "$work"
prefix=$work/prefix
share=$prefix/share/movie-platform
sbin=$prefix/sbin
port=$((API_GATEWAY_PORT + 20))
cgi_port=$((API_GATEWAY_PORT + 21))
url=http://127.0.0.1:$port
socket=$work/inventory/inventory.sock
logs=$STACK_DIR/install
tag=installed-$RANDOM$RANDOM



# installed CMD...: CMD from /, in an environment holding nothing of the repository's
# (the sanitizers' options pass, for make test SANITIZE=1). start NAME CMD...: the same
# in the background, its output in $logs-NAME.log; the process itself is in pids (every
# entry point execs its program).
clean_env=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	HOME=/nonexistent LANG=C.UTF-8)
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
	[ -z "${!v-}" ] || clean_env+=("$v=${!v}")
done
installed() {
	(cd / && exec "${clean_env[@]}" "$@")
}
start() {
	local name=$1
	shift
	(cd / && exec "${clean_env[@]}" "$@") >"$logs-$name.log" 2>&1 3>&- &
	pids+=($!)
}

stop_started() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	pids=()
}

cleanup() {
	stop_started
	"$PM2" start billing_app >/dev/null 2>&1 || true
}
trap cleanup EXIT

# http METHOD URL [curl args...]: the status; the body in $work/body.
http() {
	local method=$1 target=$2
	shift 2
	curl -sS -o "$work/body" -w '%{http_code}' -X "$method" "$target" "$@"
}

# answers STATUS METHOD URL [curl args...]: the request is answered STATUS.
answers() {
	local want=$1
	shift
	[ "$(http "$@")" = "$want" ]
}

# body_has JQ_FILTER [jq args...]: the last body passes the filter.
body_has() {
	jq -e "$@" "$work/body"
}

# exe_is PID PROGRAM: the process runs PROGRAM.
exe_is() {
	[ "$(readlink "/proc/$1/exe")" = "$2" ]
}

# publisher_of PID: the billing_publisher that the lighttpd PID spawned.
publisher_of() {
	local child
	for child in $(pgrep -P "$1"); do
		exe_is "$child" "$sbin/billing_publisher" && return 0
	done
	return 1
}

# order_count MESSAGE_ID: the rows of billing_db's orders with that message_id.
order_count() {
	PGPASSWORD=$POSTGRES_BILLING_PASSWORD psql -qAtX -h "$POSTGRES_BILLING_HOST" \
		-p "$POSTGRES_BILLING_PORT" -U "$POSTGRES_BILLING_USER" -d "$POSTGRES_BILLING_DB" \
		-c "SELECT count(*) FROM orders WHERE message_id = '$1'"
}

order_landed() {
	[ "$(order_count "$1")" = 1 ]
}

# clear_of_repository PROGRAM: PROGRAM, stripped of its debug information (which names
# the sources where they were compiled), holds no path into the repository.
clear_of_repository() {
	strip -o "$work/stripped" "$1" && ! grep -qF "$ROOT" "$work/stripped"
}

# cgi PROGRAM METHOD PATH_INFO [BODY]: one request through an installed cgi-bin entry run
# as plain CGI; its output (CGI head and body) in $work/cgi.
cgi() {
	local body=${4-}
	printf '%s' "$body" | installed GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD="$2" \
		SCRIPT_NAME="/api/${1##*/}" PATH_INFO="$3" QUERY_STRING= SERVER_PROTOCOL=HTTP/1.1 \
		CONTENT_TYPE=application/json CONTENT_LENGTH=${#body} "$1" >"$work/cgi" 2>"$logs-cgi.log"
}

movie_by_cgi() {
	cgi "$share/cgi-bin/movies" GET "/${id:-0}" && cgi_status 200
}

order_by_cgi() {
	cgi "$share/cgi-bin/billing" POST "" '{"user_id": 41, "number_of_items": 1, "total_amount": 1}' &&
		cgi_status 200
}

# cgi_status STATUS: the CGI output's head says STATUS.
cgi_status() {
	head -n 1 "$work/cgi" | grep -q "^Status: $1 "
}

# cgi_body_has JQ_FILTER [jq args...]: the CGI output's body passes the filter.
cgi_body_has() {
	sed '1,/^\r\{0,1\}$/d' "$work/cgi" | jq -e "$@"
}

# ours_left: files under the prefix that are not the administrator's .env or the
# gateway's run folder (RUN_DIR: what it wrote while running).
ours_left() {
	find "$prefix" -type f ! -path "$prefix/etc/movie-platform/.env" \
		! -path "$prefix/var/run/movie-platform/*"
}

echo "installing into $prefix"
check "make install PREFIX=$prefix" make -s -C "$ROOT" BUILD="$BUILD" install PREFIX="$prefix"
check "no installed script or config names the repository ($ROOT)" \
	test -z "$(grep -rIlF "$ROOT" "$prefix")"
for p in inventory_app billing_publisher billing_app; do
	check "$p names no repository path (debug information aside)" clear_of_repository "$sbin/$p"
done

# The installed .env, where ENV_FILE points in the installed tree: the private stack's
# services, and the installed gateway's own port and inventory socket.
(
	umask 077
	for name in POSTGRES_USER POSTGRES_PASSWORD POSTGRES_DB POSTGRES_HOST POSTGRES_PORT \
		POSTGRES_BILLING_USER POSTGRES_BILLING_PASSWORD POSTGRES_BILLING_DB \
		POSTGRES_BILLING_HOST POSTGRES_BILLING_PORT RABBITMQ_URL QUEUE_NAME; do
		printf '%s=%s\n' "$name" "${!name}"
	done
	printf '%s\n' "API_GATEWAY_PORT=$port" GATEWAY_BIND=127.0.0.1 INVENTORY_INSTANCES=1 \
		INVENTORY_THREADS=4 BILLING_PUBLISHER_THREADS=4 METRICS_PORT=0 \
		"INVENTORY_FCGI_ADDR=unix:$socket" "INVENTORY_LISTEN_ADDR=unix:$socket"
) >"$prefix/etc/movie-platform/.env"

# Only the installed billing_app consumes the queue while this runs.
"$PM2" stop billing_app >/dev/null 2>&1 || true

start gateway "$share/scripts/deploy/gateway.sh"
gateway=${pids[-1]}
start inventory NODE_APP_INSTANCE=0 "$share/scripts/deploy/app.sh" inventory_app
inventory=${pids[-1]}
start billing "$share/scripts/deploy/app.sh" billing_app
billing=${pids[-1]}

check "the installed gateway answers on port $port" wait_for 30 answers 200 GET "$url/api/movies"
check "the gateway is lighttpd on the installed lighttpd.conf" \
	grep -qzxF -- "$share/lighttpd.conf" "/proc/$gateway/cmdline"
check "inventory_app runs from $sbin" exe_is "$inventory" "$sbin/inventory_app"
check "billing_app runs from $sbin" exe_is "$billing" "$sbin/billing_app"
check "the gateway's billing_publisher runs from $sbin" wait_for 10 publisher_of "$gateway"
check "RUN_DIR is the installed one" test -f "$prefix/var/run/movie-platform/lighttpd.pid"

check "POST /api/movies: 201" answers 201 POST "$url/api/movies" \
	-H 'Content-Type: application/json' --data-binary "{\"title\":\"$tag\",\"description\":\"from the installed tree\"}"
id=$(jq -r '.id // empty' "$work/body" 2>/dev/null || true)
check "GET /api/movies/ID: 200" answers 200 GET "$url/api/movies/${id:-0}"
check "GET /api/movies/ID: the movie" body_has '.title == $t' --arg t "$tag"

check "POST /api/billing: 200" answers 200 POST "$url/api/billing" \
	-H 'Content-Type: application/json' --data-binary '{"user_id": 40, "number_of_items": 1, "total_amount": "2.50"}'
check "POST /api/billing: accepted" body_has '.status == "accepted"'
order=$(jq -r '.message_id // empty' "$work/body" 2>/dev/null || true)
check "the order is in billing_db (through the installed billing_app)" \
	wait_for 15 order_landed "${order:-none}"
check "GET /api/health: 200, every part up" answers 200 GET "$url/api/health"

check "the API page (installed api-docs)" answers 200 GET "$url/api/docs/"
check "the API page's Swagger UI (installed swagger-ui-dist)" \
	answers 200 GET "$url/api/docs/swagger-ui-bundle.js"
check "the OpenAPI document" answers 200 GET "$url/api/openapi.yaml"
check "lighttpd's own 404 (installed error pages)" answers 404 GET "$url/api/nothing"
check "the 404 is problem+json" body_has '.status == 404'

# The cgi-bin entries as plain CGI: first by hand, as the web server would run them...
check "installed cgi-bin/movies as CGI: GET /ID is 200" movie_by_cgi
check "installed cgi-bin/movies as CGI: the movie as JSON" cgi_body_has '.title == $t' --arg t "$tag"
check "installed cgi-bin/billing as CGI: POST is 200" order_by_cgi
order=$(cgi_body_has -r '.message_id' 2>/dev/null || true)
check "the CGI order is in billing_db" wait_for 15 order_landed "${order:-none}"
# ...then under lighttpd's mod_cgi with the installed lighttpd-cgi.conf.
start cgi-gateway RUN_DIR="$work/run-cgi" API_GATEWAY_PORT="$cgi_port" \
	GATEWAY_CONF="$share/cgi-bin/lighttpd-cgi.conf" "$share/scripts/deploy/gateway.sh"
check "the installed plain-CGI gateway: GET /api/movies/ID is 200" \
	wait_for 30 answers 200 GET "http://127.0.0.1:$cgi_port/api/movies/${id:-0}"

stop_started
check "make uninstall PREFIX=$prefix" make -s -C "$ROOT" uninstall PREFIX="$prefix"
check "nothing of ours is left under the prefix" test -z "$(ours_left)"
check "no share/movie-platform folder is left" test ! -e "$share"
check "the administrator's .env is kept" test -f "$prefix/etc/movie-platform/.env"

if [ "$failed" -gt 0 ]; then
	for f in "$logs"-*.log; do
		echo "--- $f"
		tail -n 15 "$f"
	done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
