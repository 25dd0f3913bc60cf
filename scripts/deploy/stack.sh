# shellcheck shell=bash
# Sourced: start, stop and set up the services the apps need (PostgreSQL, RabbitMQ).
# "system" functions drive Debian's own cluster and node (make run); "private"
# functions run throw-away ones under $STACK_DIR on their own ports (tests, bench).

PG_BIN=/usr/lib/postgresql/15/bin
RABBIT_BIN=/usr/lib/rabbitmq/bin

# wait_for SECONDS CMD...: re-runs CMD every 0.1 s until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# allow_listener_handover: when an inventory instance stops, the kernel hands the
# connections still queued on its socket to a sibling on the same port instead of
# resetting them (Linux >= 5.14; per network namespace).
allow_listener_handover() {
	sysctl -qw net.ipv4.tcp_migrate_req=1 2>/dev/null ||
		echo "warning: could not set net.ipv4.tcp_migrate_req=1: a restart may reset queued requests" >&2
}

# ---- PostgreSQL -------------------------------------------------------------

system_pg_start() {
	pg_lsclusters -h | grep -q '^15 *main' || pg_createcluster 15 main
	pg_ctlcluster 15 main status >/dev/null 2>&1 || pg_ctlcluster 15 main start
	wait_for 30 runuser -u postgres -- psql -qAtc 'SELECT 1'
}

private_pg_start() {
	local dir=$STACK_DIR/pg
	if [ -f "$dir/postmaster.pid" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
		return 0
	fi
	if [ ! -f "$dir/PG_VERSION" ]; then
		mkdir -p "$dir"
		chown postgres: "$STACK_DIR" "$dir"
		printf '%s\n' "$POSTGRES_PASSWORD" > "$STACK_DIR/pwfile"
		chown postgres: "$STACK_DIR/pwfile"
		chmod 600 "$STACK_DIR/pwfile"
		runuser -u postgres -- "$PG_BIN/initdb" -D "$dir" -U "$POSTGRES_USER" \
			--pwfile="$STACK_DIR/pwfile" --auth-local=trust --auth-host=scram-sha-256 \
			-E UTF8 --locale=C.UTF-8 >"$STACK_DIR/initdb.log"
		rm -f "$STACK_DIR/pwfile"
	fi
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir" -l "$STACK_DIR/pg.log" -w -t 30 \
		-o "-p $POSTGRES_PORT -k $dir -c listen_addresses=127.0.0.1" start >/dev/null 3>&-
}

private_pg_stop() {
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$STACK_DIR/pg" -m fast -w stop >/dev/null
}

# Admin SQL: on the system cluster as the postgres OS user, on a private one as its superuser.
pg_admin() {
	if [ -n "${STACK_DIR:-}" ]; then
		psql -qAtX -v ON_ERROR_STOP=1 -h "$STACK_DIR/pg" -p "$POSTGRES_PORT" -U "$POSTGRES_USER" -d postgres "$@"
	else
		runuser -u postgres -- psql -qAtX -v ON_ERROR_STOP=1 -d postgres "$@"
	fi
}

# pg_ensure_role USER PASSWORD: creates or updates a login role (values passed as psql
# variables, never spliced into SQL text).
pg_ensure_role() {
	pg_admin -v u="$1" -v p="$2" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'u') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'u')\gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'u', :'p')\gexec
SQL
}

pg_ensure_db() {
	pg_admin -v d="$1" -v o="$2" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I TEMPLATE template0 ENCODING ''UTF8'' LOCALE ''C.UTF-8''', :'d', :'o') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'d')\gexec
SQL
}

# app_psql PREFIX [psql args...]: psql as an application's own user, over TCP with its
# password, on the database that PREFIX names (POSTGRES: movies, POSTGRES_BILLING: orders).
# The password travels in the environment of psql alone, never on a command line.
app_psql() {
	local p=$1
	shift
	local host=${p}_HOST port=${p}_PORT user=${p}_USER pass=${p}_PASSWORD db=${p}_DB
	PGPASSWORD=${!pass} psql -qAtX -v ON_ERROR_STOP=1 -h "${!host}" -p "${!port}" \
		-U "${!user}" -d "${!db}" "$@"
}

# pg_apply_schema PREFIX FILE: runs FILE as the application's own user, which also
# proves the credentials in .env work.
pg_apply_schema() {
	app_psql "$1" -f "$2"
}

db_setup_movies() {
	pg_ensure_role "$POSTGRES_USER" "$POSTGRES_PASSWORD"
	pg_ensure_db "$POSTGRES_DB" "$POSTGRES_USER"
	pg_apply_schema POSTGRES "$PROJECT_ROOT/sql/movies.sql"
}

db_setup_billing() {
	pg_ensure_role "$POSTGRES_BILLING_USER" "$POSTGRES_BILLING_PASSWORD"
	pg_ensure_db "$POSTGRES_BILLING_DB" "$POSTGRES_BILLING_USER"
	pg_apply_schema POSTGRES_BILLING "$PROJECT_ROOT/sql/billing.sql"
}

db_setup() {
	db_setup_movies
	db_setup_billing
}

# ---- RabbitMQ ---------------------------------------------------------------

# rabbit_url_parts: sets AMQP_SCHEME AMQP_USER AMQP_PASS AMQP_HOST AMQP_PORT AMQP_VHOST
# from RABBITMQ_URL, percent-decoded. No vhost, or a trailing "/" alone, means the
# default vhost "/" (as the programs read it: fcgi/billing/broker.c).
rabbit_url_parts() {
	local re='^(amqps?)://(([^:@/]*)(:([^@/]*))?@)?([^:/]+)(:([0-9]+))?(/(.*))?$'
	[[ $RABBITMQ_URL =~ $re ]] || { echo "RABBITMQ_URL is not an amqp:// URL" >&2; return 1; }
	AMQP_SCHEME=${BASH_REMATCH[1]}
	AMQP_USER=$(percent_decode "${BASH_REMATCH[3]:-guest}")
	AMQP_PASS=$(percent_decode "${BASH_REMATCH[5]:-guest}")
	AMQP_HOST=${BASH_REMATCH[6]}
	AMQP_PORT=${BASH_REMATCH[8]:-5672}
	[ -n "${BASH_REMATCH[8]}" ] || [ "$AMQP_SCHEME" = amqp ] || AMQP_PORT=5671
	AMQP_VHOST=$(percent_decode "${BASH_REMATCH[10]:-/}")
}

# rabbit_url [HOST [PORT]]: RABBITMQ_URL rebuilt from its parts, on HOST and PORT when
# given. The default vhost is written as no path at all: every client reads that as "/",
# while rabbitmq-c's tools (amqp-publish) read a trailing "/" as the empty vhost.
rabbit_url() {
	rabbit_url_parts || return 1
	local path=
	[ "$AMQP_VHOST" = / ] || path=/$(percent_encode "$AMQP_VHOST")
	printf '%s://%s:%s@%s:%s%s\n' "$AMQP_SCHEME" "$(percent_encode "$AMQP_USER")" \
		"$(percent_encode "$AMQP_PASS")" "${1:-$AMQP_HOST}" "${2:-$AMQP_PORT}" "$path"
}

# percent_encode TEXT: every byte outside RFC 3986's unreserved characters as %XX.
percent_encode() {
	local LC_ALL=C text=$1 out='' c i
	for ((i = 0; i < ${#text}; i++)); do
		c=${text:i:1}
		case $c in
		[A-Za-z0-9._~-]) out+=$c ;;
		*) out+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	printf '%s\n' "$out"
}

# percent_decode TEXT: %XX sequences back to bytes (a backslash stays a backslash).
percent_decode() {
	local text=${1//\\/\\\\}
	printf '%b\n' "${text//%/\\x}"
}

rabbitmqctl_() {
	if [ -n "${STACK_DIR:-}" ]; then
		# No crash dump in the caller's folder when the node or its folder is gone.
		HOME=$STACK_DIR/rabbit ERL_CRASH_DUMP_SECONDS=0 \
			"$RABBIT_BIN/rabbitmqctl" -n "$RABBITMQ_NODENAME" "$@"
	else
		rabbitmqctl "$@"
	fi
}

system_rabbit_start() {
	if ! rabbitmqctl status >/dev/null 2>&1; then
		rabbitmq-server -detached
	fi
	# await_startup fails at once while the node has not registered yet.
	wait_for 60 rabbitmqctl await_startup --timeout 60
}

# The broker's own config file: /etc/rabbitmq/rabbitmq.conf, or the private node's.
rabbit_conf_file() {
	if [ -n "${STACK_DIR:-}" ]; then
		echo "$STACK_DIR/rabbit/rabbitmq.conf"
	else
		echo /etc/rabbitmq/rabbitmq.conf
	fi
}

# RabbitMQ lets guest log in from loopback only. When RABBITMQ_URL names guest and the
# broker is on another host (BILLING_HOST set), that must be allowed explicitly:
# acceptable for development, never for production (README, Deployment).
rabbit_configure() {
	local conf
	conf=$(rabbit_conf_file)
	rabbit_url_parts
	mkdir -p "$(dirname "$conf")"
	touch "$conf"
	if [ "$AMQP_USER" = guest ] && [ -n "${BILLING_HOST:-}" ]; then
		grep -q '^loopback_users' "$conf" || echo 'loopback_users = none' >> "$conf"
	else
		sed -i '/^loopback_users/d' "$conf"
	fi
}

private_rabbit_env() {
	export RABBITMQ_NODENAME=${RABBITMQ_NODENAME:-movies-$$@localhost}
	export RABBITMQ_NODE_IP_ADDRESS=${RABBITMQ_BIND:-127.0.0.1}
	export RABBITMQ_NODE_PORT=$AMQP_PORT
	export RABBITMQ_DIST_PORT=$((AMQP_PORT + 100))
	export RABBITMQ_MNESIA_BASE=$STACK_DIR/rabbit/mnesia
	export RABBITMQ_LOG_BASE=$STACK_DIR/rabbit/log
	export RABBITMQ_PID_FILE=$STACK_DIR/rabbit/pid
	export RABBITMQ_ENABLED_PLUGINS_FILE=$STACK_DIR/rabbit/enabled_plugins
	export RABBITMQ_CONFIG_FILE=$STACK_DIR/rabbit/rabbitmq
	export RABBITMQ_ADVANCED_CONFIG_FILE=$STACK_DIR/rabbit/advanced.config
	export ERL_CRASH_DUMP=$STACK_DIR/rabbit/erl_crash.dump
}

private_rabbit_start() {
	rabbit_url_parts
	private_rabbit_env
	rabbitmqctl_ status >/dev/null 2>&1 && return 0
	mkdir -p "$STACK_DIR/rabbit/mnesia" "$STACK_DIR/rabbit/log"
	[ -f "$RABBITMQ_ENABLED_PLUGINS_FILE" ] || echo '[].' > "$RABBITMQ_ENABLED_PLUGINS_FILE"
	# A private Erlang cookie: HOME is where the node and rabbitmqctl look for it.
	HOME=$STACK_DIR/rabbit "$RABBIT_BIN/rabbitmq-server" >"$STACK_DIR/rabbit/stdout.log" 2>&1 3>&- &
	rabbitmqctl_ wait --timeout 60 "$RABBITMQ_PID_FILE" >/dev/null
	rabbitmqctl_ await_startup >/dev/null
}

private_rabbit_stop() {
	rabbitmqctl_ stop "$RABBITMQ_PID_FILE" >/dev/null
}

# Creates the user and vhost that RABBITMQ_URL names; guest/"/" exist already.
rabbit_setup() {
	rabbit_url_parts
	if [ "$AMQP_VHOST" != / ]; then
		rabbitmqctl_ add_vhost "$AMQP_VHOST" >/dev/null 2>&1 || true
	fi
	if [ "$AMQP_USER" != guest ]; then
		rabbitmqctl_ add_user "$AMQP_USER" "$AMQP_PASS" >/dev/null 2>&1 ||
			rabbitmqctl_ change_password "$AMQP_USER" "$AMQP_PASS" >/dev/null
		rabbitmqctl_ set_permissions -p "$AMQP_VHOST" "$AMQP_USER" '.*' '.*' '.*' >/dev/null
	fi
}

# queue_count NAME: messages in the queue (ready and unacknowledged), 0 when it is absent.
queue_count() {
	rabbit_url_parts
	rabbitmqctl_ list_queues -p "$AMQP_VHOST" -q --no-table-headers name messages 2>/dev/null |
		awk -v q="$1" '$1 == q { n = $2 } END { print n + 0 }'
}

# ---- Either kind, by whether STACK_DIR is set ---------------------------------

pg_up() {
	if [ -n "${STACK_DIR:-}" ]; then private_pg_start; else system_pg_start; fi
}

rabbit_up() {
	if [ -n "${STACK_DIR:-}" ]; then private_rabbit_start; else system_rabbit_start; fi
}

# ---- A whole private stack (tests, benchmark) -------------------------------

# private_stack_env NAME: a temporary STACK_DIR and private ports and folders, over
# .env's settings. Credentials stay .env's: the private services are set up with them.
private_stack_env() {
	STACK_DIR=$(mktemp -d "/tmp/movies-$1.XXXXXX")
	chmod 755 "$STACK_DIR"
	export STACK_DIR
	load_env
	export API_GATEWAY_PORT=${TEST_GATEWAY_PORT:-18080} GATEWAY_BIND=127.0.0.1
	export INVENTORY_FCGI_ADDR=127.0.0.1:${TEST_INVENTORY_PORT:-19000}
	export POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=${TEST_PG_PORT:-15432}
	export POSTGRES_BILLING_HOST=127.0.0.1 POSTGRES_BILLING_PORT=$POSTGRES_PORT
	RABBITMQ_URL=$(rabbit_url 127.0.0.1 "${TEST_RABBIT_PORT:-16672}")
	export RABBITMQ_URL
	export RUN_DIR=$STACK_DIR/run PM2_HOME=$STACK_DIR/pm2
	export BUILD_DIR=$PROJECT_ROOT/${BUILD:-build/release}
	derive_env
}

private_stack_up() {
	allow_listener_handover
	private_pg_start
	db_setup
	private_rabbit_start
	rabbit_setup
	pm2_ start "$PROJECT_ROOT/scripts/deploy/ecosystem.config.js" >/dev/null
	wait_for 30 curl -fsS -o /dev/null "http://127.0.0.1:$API_GATEWAY_PORT/api/movies" ||
		{ echo "the gateway did not come up" >&2; return 1; }
}

private_stack_down() {
	"$PM2" kill >/dev/null 2>&1 || true
	private_rabbit_stop >/dev/null 2>&1 || true
	private_pg_stop >/dev/null 2>&1 || true
}
