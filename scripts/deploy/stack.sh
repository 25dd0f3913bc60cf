# shellcheck shell=bash
# Sourced: start, stop and set up the services the apps need (PostgreSQL, RabbitMQ).
# "system" functions drive Debian's own cluster and node (make run); "private"
# functions run throw-away ones under $STACK_DIR on their own ports (tests, bench).

source "$PROJECT_ROOT/scripts/deploy/amqp_url.sh"

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

# sample_ps FILE CMD...: runs CMD while the arguments of every process on the machine are
# appended to FILE, again and again, until CMD ends (the tests look there for passwords).
sample_ps() {
	local file=$1 sampler status=0
	shift
	while :; do
		ps -eo args >>"$file"
		sleep 0.02 # sampling: each ps is a snapshot, so take many
	done 3>&- &
	sampler=$!
	"$@" || status=$?
	kill "$sampler"
	wait "$sampler" 2>/dev/null || true
	return "$status"
}

# ensure_app_users APP...: the unprivileged system user (and group) each daemon runs as
# (app.sh), with no home and no shell. Only root can, and needs to: others run as themselves.
ensure_app_users() {
	local app user
	[ "$(id -u)" = 0 ] || return 0
	for app in "$@"; do
		user=$(app_user "$app")
		id -u "$user" >/dev/null 2>&1 ||
			useradd --system --user-group --no-create-home --home-dir /nonexistent \
				--shell /usr/sbin/nologin "$user"
	done
}

# first_ipv4 NAME: the IPv4 address NAME resolves to (libfcgi's allow-list takes addresses).
first_ipv4() {
	getent ahostsv4 "$1" | awk 'NR == 1 { print $1 }'
}

# this_host_in LIST: the first name (or address) of the comma list that resolves to an
# address of this host: which inventory host or broker node this one is.
this_host_in() {
	local item addr mine
	mine=$(ip -4 -o addr show | awk '{ sub("/.*", "", $4); print $4 }')
	for item in $(list_words "$1"); do
		addr=$(first_ipv4 "$item")
		if [ -n "$addr" ] && grep -qxF "$addr" <<<"$mine"; then
			echo "$item"
			return 0
		fi
	done
	return 1
}

# allow_listener_handover: when an inventory instance stops, the kernel hands the
# connections still queued on its socket to a sibling on the same port instead of
# resetting them (Linux >= 5.14; per network namespace).
allow_listener_handover() {
	sysctl -qw net.ipv4.tcp_migrate_req=1 2>/dev/null ||
		echo "warning: could not set net.ipv4.tcp_migrate_req=1: a restart may reset queued requests" >&2
}

# ---- PostgreSQL -------------------------------------------------------------

# Set by provisioning on the first of several inventory hosts: PG_EXTRA_LISTEN, an
# address PostgreSQL listens on besides loopback, for the other inventory hosts, and
# PG_MAX_CONNECTIONS, room for all their inventory_app connections.

# pg_server_settings LOOPBACK: NAME=VALUE, a line each, of the server settings that
# provisioning chooses: where it listens (LOOPBACK and PG_EXTRA_LISTEN) and, when set,
# max_connections.
pg_server_settings() {
	echo "listen_addresses=$1${PG_EXTRA_LISTEN:+,$PG_EXTRA_LISTEN}"
	[ -z "${PG_MAX_CONNECTIONS:-}" ] || echo "max_connections=$PG_MAX_CONNECTIONS"
}

# pg_has_settings NAME=VALUE...: the running server has these settings already.
pg_has_settings() {
	local kv
	for kv in "$@"; do
		[ "$(pg_admin -c "SHOW ${kv%%=*}")" = "${kv#*=}" ] || return 1
	done
}

# system_pg_start: Debian's cluster; with PG_EXTRA_LISTEN, pg_server_settings too (set
# with ALTER SYSTEM, applied by a restart when they changed). Unset: left as it is.
system_pg_start() {
	local settings kv
	pg_lsclusters -h | grep -q '^15 *main' || pg_createcluster 15 main
	pg_ctlcluster 15 main status >/dev/null 2>&1 || pg_ctlcluster 15 main start
	wait_for 30 runuser -u postgres -- psql -qAtc 'SELECT 1'
	[ -n "${PG_EXTRA_LISTEN:-}" ] || return 0
	mapfile -t settings < <(pg_server_settings localhost)
	! pg_has_settings "${settings[@]}" || return 0
	for kv in "${settings[@]}"; do
		pg_admin -v v="${kv#*=}" <<<"ALTER SYSTEM SET ${kv%%=*} = :'v'"
	done
	pg_ctlcluster 15 main restart
	wait_for 30 runuser -u postgres -- psql -qAtc 'SELECT 1'
}

private_pg_start() {
	local dir=$STACK_DIR/pg settings kv opts=''
	mapfile -t settings < <(pg_server_settings 127.0.0.1)
	if [ -f "$dir/postmaster.pid" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
		! pg_has_settings "${settings[@]}" || return 0
		private_pg_stop
	fi
	for kv in "${settings[@]}"; do
		opts+=" -c $kv"
	done
	if [ ! -f "$dir/PG_VERSION" ]; then
		mkdir -p "$dir"
		chown postgres: "$STACK_DIR" "$dir"
		# As on Debian's cluster: the superuser is postgres, by peer on the socket only.
		runuser -u postgres -- "$PG_BIN/initdb" -D "$dir" -U postgres --auth-local=peer \
			--auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$STACK_DIR/initdb.log"
	fi
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir" -l "$STACK_DIR/pg.log" -w -t 30 \
		-o "-p $POSTGRES_PORT -k $dir$opts" start >/dev/null 3>&-
}

private_pg_stop() {
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$STACK_DIR/pg" -m fast -w stop >/dev/null
}

# pg_admin_on DB [psql args...]: admin SQL as the postgres superuser, from the postgres OS
# user on the local socket (the system cluster's, or a private one's).
pg_admin_on() {
	local db=$1 where=()
	shift
	[ -z "${STACK_DIR:-}" ] || where=(-h "$STACK_DIR/pg" -p "$POSTGRES_PORT")
	runuser -u postgres -- psql -qAtX -v ON_ERROR_STOP=1 "${where[@]}" -d "$db" "$@"
}

pg_admin() {
	pg_admin_on postgres "$@"
}

# pg_ensure_role USER PASSWORD: a login role with no other attribute (not a superuser, no
# CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS). The password reaches psql in its
# environment and the server in one statement that no setting of this session logs.
pg_ensure_role() {
	if [ "$1" = postgres ]; then
		echo "the applications' role cannot be postgres, the superuser: name another in $ENV_FILE" >&2
		return 1
	fi
	ROLE_PASSWORD=$2 pg_admin -v u="$1" <<'SQL'
SET log_statement = 'none';
SET log_min_duration_statement = -1;
SET log_min_error_statement = 'panic';
\getenv p ROLE_PASSWORD
SELECT format('CREATE ROLE %I', :'u') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'u')\gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L', :'u', :'p')\gexec
SQL
}

# pg_ensure_db DB OWNER: DB owned by OWNER, which alone (and the superuser) may connect to
# it; tables left in it by an older provisioning, as another role, become OWNER's too.
pg_ensure_db() {
	pg_admin -v d="$1" -v o="$2" <<'SQL'
SELECT format('CREATE DATABASE %I OWNER %I TEMPLATE template0 ENCODING ''UTF8'' LOCALE ''C.UTF-8''', :'d', :'o') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'d')\gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'d', :'o')\gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'d')\gexec
SQL
	pg_admin_on "$1" -v o="$2" <<'SQL'
SELECT format('ALTER TABLE %I.%I OWNER TO %I', n.nspname, c.relname, :'o')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND pg_get_userbyid(c.relowner) <> :'o'\gexec
SQL
}

# pg_allow_only PREFIX...: who the cluster lets in (its pg_hba.conf, then a reload): the
# postgres superuser from the postgres OS user on the local socket (its password, if an
# older provisioning set one, is removed), and each PREFIX's role (POSTGRES,
# POSTGRES_BILLING) over loopback TCP with its password, and from the addresses in
# PREFIX_CLIENT_ADDRS (provisioning lists the inventory hosts' in POSTGRES_CLIENT_ADDRS).
# Nobody else, from nowhere else.
pg_allow_only() {
	local hba prefix user clients addr
	hba=$(pg_admin -c 'SHOW hba_file')
	{
		echo "# Written by provisioning (scripts/deploy/stack.sh, pg_allow_only): edit that, not this."
		echo "local all postgres peer"
		for prefix in "$@"; do
			user=${prefix}_USER clients=${prefix}_CLIENT_ADDRS
			for addr in 127.0.0.1/32 ::1/128 ${!clients:-}; do
				[[ $addr == */* ]] || addr=$addr/32
				printf 'host all "%s" %s scram-sha-256\n' "${!user}" "$addr"
			done
		done
	} >"$hba"
	pg_admin -c 'ALTER ROLE postgres PASSWORD NULL' -c 'SELECT pg_reload_conf()' >/dev/null
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

# rabbit_cli TOOL ARGS...: one of RabbitMQ's command line tools (rabbitmqctl,
# rabbitmq-queues) on this host's node. The cookie comes from the node's cookie file,
# never from the environment (RabbitMQ would pass it on a command line).
rabbit_cli() {
	local tool=$1
	shift
	if [ -n "${STACK_DIR:-}" ]; then
		# No crash dump in the caller's folder when the node or its folder is gone.
		env -u RABBITMQ_ERLANG_COOKIE HOME="$STACK_DIR/rabbit" ERL_CRASH_DUMP_SECONDS=0 \
			"$RABBIT_BIN/$tool" -n "$RABBITMQ_NODENAME" "$@"
	else
		env -u RABBITMQ_ERLANG_COOKIE "$tool" "$@"
	fi
}

rabbitmqctl_() {
	rabbit_cli rabbitmqctl "$@"
}

# ---- A broker cluster (RABBITMQ_NODES) ----------------------------------------
# Each node is named PREFIX@ENTRY, ENTRY its name (or address) in RABBITMQ_NODES as every
# host resolves it: movies@ for the private nodes, rabbit@ (Debian's) for the system
# ones. Names with a dot need Erlang's long names, so then every node uses them. The
# first node is the seed that the others join; the cluster remembers its members, so a
# node that restarts rejoins by itself.

# rabbit_clustered: RABBITMQ_NODES names the broker nodes (RABBITMQ_ADDR, a private
# stack's single node, overrides it, as in derive_env).
rabbit_clustered() {
	[ -n "${RABBITMQ_NODES:-}" ] && [ -z "${RABBITMQ_ADDR:-}" ]
}

rabbit_node_name() {
	if [ -n "${STACK_DIR:-}" ]; then echo "movies@$1"; else echo "rabbit@$1"; fi
}

rabbit_seed() {
	list_words "$RABBITMQ_NODES" | head -n 1
}

# rabbit_cluster_env: RABBIT_SELF (this host's entry in RABBITMQ_NODES), RABBIT_NODE
# (its node name), RABBITMQ_BIND (its address, where AMQP, epmd and the Erlang
# distribution listen) and RABBIT_LONGNAMES (true or false).
rabbit_cluster_env() {
	if ! RABBIT_SELF=$(this_host_in "$RABBITMQ_NODES"); then
		echo "this host is not one of RABBITMQ_NODES ($RABBITMQ_NODES)" >&2
		return 1
	fi
	RABBIT_NODE=$(rabbit_node_name "$RABBIT_SELF")
	RABBITMQ_BIND=$(first_ipv4 "$RABBIT_SELF")
	export RABBITMQ_BIND
	RABBIT_LONGNAMES=false
	[[ $RABBITMQ_NODES != *.* ]] || RABBIT_LONGNAMES=true
}

# rabbit_dist_args: the Erlang distribution listens on this node's address only.
rabbit_dist_args() {
	echo "-kernel inet_dist_use_interface {${RABBITMQ_BIND//./,}}"
}

# rabbit_cookie_file: where the node and the CLI tools read the Erlang cookie.
rabbit_cookie_file() {
	if [ -n "${STACK_DIR:-}" ]; then
		echo "$STACK_DIR/rabbit/.erlang.cookie"
	else
		echo /var/lib/rabbitmq/.erlang.cookie
	fi
}

# rabbit_cookie_current: the cookie file holds RABBITMQ_ERLANG_COOKIE (always true
# outside a cluster, where the node keeps the cookie it made itself).
rabbit_cookie_current() {
	rabbit_clustered || return 0
	[ "$(cat "$(rabbit_cookie_file)" 2>/dev/null)" = "$RABBITMQ_ERLANG_COOKIE" ]
}

# rabbit_install_cookie: writes the shared cookie into the cookie file, mode 400 (printf
# is a shell builtin: the cookie is on no command line).
rabbit_install_cookie() {
	local file tmp
	! rabbit_cookie_current || return 0
	file=$(rabbit_cookie_file)
	mkdir -p "$(dirname "$file")"
	tmp=$(mktemp "$file.XXXXXX")
	printf '%s' "$RABBITMQ_ERLANG_COOKIE" >"$tmp"
	chmod 400 "$tmp"
	[ -n "${STACK_DIR:-}" ] || chown rabbitmq: "$tmp"
	mv -f "$tmp" "$file"
}

# rabbit_join_seed: unless this node is the seed or in the seed's cluster already, it
# joins it (a node outside the cluster holds nothing worth keeping: it is reset), then
# takes a replica of every quorum queue declared before it joined.
rabbit_join_seed() {
	local seed
	seed=$(rabbit_node_name "$(rabbit_seed)")
	[ "$RABBIT_NODE" != "$seed" ] || return 0
	if ! rabbitmqctl_ cluster_status --formatter json |
		jq -e --arg s "$seed" '.disk_nodes | index($s)' >/dev/null; then
		echo "RabbitMQ: $RABBIT_NODE joins $seed"
		quiet_unless_failed rabbitmqctl_ stop_app
		quiet_unless_failed rabbitmqctl_ reset
		quiet_unless_failed rabbitmqctl_ join_cluster "$seed"
		quiet_unless_failed rabbitmqctl_ start_app
	fi
	quiet_unless_failed rabbit_cli rabbitmq-queues grow "$RABBIT_NODE" all
}

# quiet_unless_failed CMD...: runs CMD, showing what it printed only when it fails (the
# CLI logs a node's passing complaints while it joins a cluster).
quiet_unless_failed() {
	local out
	out=$("$@" 2>&1) && return 0
	printf '%s\n' "$out" >&2
	return 1
}

# rabbit_systemd_epmd: under systemd, Debian's epmd.socket listens on every address;
# a drop-in keeps it to loopback and this node's address. Returns 0 when it changed.
rabbit_systemd_epmd() {
	local dir=/etc/systemd/system/epmd.socket.d tmp
	[ -d /run/systemd/system ] || return 1
	mkdir -p "$dir"
	tmp=$(mktemp)
	printf '%s\n' '[Socket]' 'ListenStream=' 'ListenStream=127.0.0.1:4369' \
		"ListenStream=$RABBITMQ_BIND:4369" 'FreeBind=true' >"$tmp"
	if cmp -s "$tmp" "$dir/movies.conf"; then
		rm -f "$tmp"
		return 1
	fi
	chmod 644 "$tmp"
	mv -f "$tmp" "$dir/movies.conf"
	systemctl daemon-reload
}

# rabbit_env_conf: /etc/rabbitmq/rabbitmq-env.conf for the system node of a cluster: its
# name, epmd and the distribution on its address.
rabbit_env_conf() {
	cat <<CONF
# Written by provisioning (scripts/deploy/stack.sh, rabbit_configure): edit .env, not this.
NODENAME=$RABBIT_NODE
USE_LONGNAME=$RABBIT_LONGNAMES
ERL_EPMD_ADDRESS=$RABBITMQ_BIND
SERVER_ADDITIONAL_ERL_ARGS="$(rabbit_dist_args)"
CONF
}

# replace_if_changed FILE: standard input becomes FILE (mode 644) unless FILE holds it
# already; sets RABBIT_CONF_CHANGED=1 when it changed.
replace_if_changed() {
	local tmp
	tmp=$(mktemp)
	cat >"$tmp"
	if cmp -s "$tmp" "$1"; then
		rm -f "$tmp"
		return 0
	fi
	chmod 644 "$tmp"
	mv -f "$tmp" "$1"
	RABBIT_CONF_CHANGED=1
}

system_rabbit_start() {
	# A changed config file or cookie (rabbit_configure) takes effect when the node starts.
	if { [ "${RABBIT_CONF_CHANGED:-0}" = 1 ] || ! rabbit_cookie_current; } &&
		rabbitmqctl_ status >/dev/null 2>&1; then
		echo "RabbitMQ: restarting on its new configuration"
		rabbitmqctl_ shutdown >/dev/null
	fi
	rabbit_install_cookie
	if rabbit_clustered && rabbit_systemd_epmd; then
		systemctl stop epmd.service 2>/dev/null || true
		systemctl restart epmd.socket
	fi
	if ! rabbitmqctl_ status >/dev/null 2>&1; then
		env -u RABBITMQ_ERLANG_COOKIE rabbitmq-server -detached
	fi
	# await_startup fails at once while the node has not registered yet.
	wait_for 60 rabbitmqctl_ await_startup --timeout 60
}

# The broker's own config file: /etc/rabbitmq/rabbitmq.conf, or the private node's.
rabbit_conf_file() {
	if [ -n "${STACK_DIR:-}" ]; then
		echo "$STACK_DIR/rabbit/rabbitmq.conf"
	else
		echo /etc/rabbitmq/rabbitmq.conf
	fi
}

# rabbit_configure: the broker's config file. The system node takes AMQP connections on
# RABBITMQ_BIND alone (provisioning sets the billing host's address, or in a cluster this
# node's), or on 127.0.0.1 when it is unset (the apps run on this host); a private node
# gets its address from private_rabbit_env. No exception for guest: rabbit_setup deletes
# that user. A cluster's nodes pause when they find themselves in a minority, so that
# clients move to the majority. Sets RABBIT_CONF_CHANGED=1 when a file changed.
rabbit_configure() {
	local conf addr i=0
	conf=$(rabbit_conf_file)
	rabbit_url_parts
	! rabbit_clustered || rabbit_cluster_env
	mkdir -p "$(dirname "$conf")"
	touch "$conf"
	{
		grep -vE '^(loopback_users|listeners\.tcp\.|cluster_partition_handling)' "$conf" || true
		if [ -z "${STACK_DIR:-}" ]; then
			for addr in ${RABBITMQ_BIND:-127.0.0.1}; do
				i=$((i + 1))
				echo "listeners.tcp.$i = $addr:$AMQP_PORT"
			done
		fi
		! rabbit_clustered || echo "cluster_partition_handling = pause_minority"
	} | replace_if_changed "$conf"
	if rabbit_clustered && [ -z "${STACK_DIR:-}" ]; then
		rabbit_env_conf | replace_if_changed /etc/rabbitmq/rabbitmq-env.conf
	fi
}

# private_rabbit_env: the private node's settings; in a cluster its name and addresses
# come from RABBITMQ_NODES (rabbit_cluster_env), whatever RABBITMQ_NODENAME said.
private_rabbit_env() {
	if rabbit_clustered; then
		rabbit_cluster_env
		export RABBITMQ_NODENAME=$RABBIT_NODE RABBITMQ_USE_LONGNAME=$RABBIT_LONGNAMES
		export ERL_EPMD_ADDRESS=$RABBITMQ_BIND
		RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=$(rabbit_dist_args)
		export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS
	fi
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
	# Its pid file says it runs: cheaper than rabbitmqctl, which takes seconds on a busy host.
	if [ -s "$RABBITMQ_PID_FILE" ] && kill -0 "$(cat "$RABBITMQ_PID_FILE")" 2>/dev/null; then
		rabbit_cookie_current && return 0
		private_rabbit_stop
	fi
	mkdir -p "$STACK_DIR/rabbit/mnesia" "$STACK_DIR/rabbit/log"
	[ -f "$RABBITMQ_ENABLED_PLUGINS_FILE" ] || echo '[].' > "$RABBITMQ_ENABLED_PLUGINS_FILE"
	# A private Erlang cookie (the cluster's, or one the node makes): HOME is where the
	# node and rabbitmqctl look for it.
	rabbit_install_cookie
	env -u RABBITMQ_ERLANG_COOKIE HOME="$STACK_DIR/rabbit" "$RABBIT_BIN/rabbitmq-server" \
		>"$STACK_DIR/rabbit/stdout.log" 2>&1 3>&- &
	rabbitmqctl_ wait --timeout 60 "$RABBITMQ_PID_FILE" >/dev/null
	rabbitmqctl_ await_startup >/dev/null
}

private_rabbit_stop() {
	rabbitmqctl_ stop "$RABBITMQ_PID_FILE" >/dev/null
}

# rabbit_setup: the vhost and user that RABBITMQ_URL names, allowed the billing queues
# (QUEUE_NAME and its dead-letter queue) and the default exchange, nothing else; and no
# guest, whose password everyone knows. The password reaches rabbitmqctl on its standard
# input, never on a command line.
rabbit_setup() {
	local verb=add_user queues users stamp want
	rabbit_url_parts
	# Done already for these settings: rabbitmqctl takes seconds a call on a busy host.
	stamp=$(rabbit_setup_stamp)
	want=$(printf '%s\n' "$AMQP_USER" "$AMQP_PASS" "$AMQP_VHOST" "$QUEUE_NAME" | sha256sum | cut -d' ' -f1)
	[ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || return 0
	if [ "$AMQP_VHOST" != / ]; then
		rabbitmqctl_ add_vhost "$AMQP_VHOST" >/dev/null 2>&1 || true
	fi
	users=$(rabbitmqctl_ list_users -q --no-table-headers | cut -f1)
	! grep -qxF "$AMQP_USER" <<<"$users" || verb=change_password
	printf '%s\n' "$AMQP_PASS" | rabbitmqctl_ "$verb" "$AMQP_USER" >/dev/null
	# shellcheck disable=SC2001,SC2016 # sed quotes every regex metacharacter of the name
	queues="^$(sed 's/[][\.*^$()+?{}|]/\\&/g' <<<"$QUEUE_NAME")(\\.dead)?\$"
	rabbitmqctl_ set_permissions -p "$AMQP_VHOST" "$AMQP_USER" "$queues" '^amq\.default$' "$queues" >/dev/null
	if [ "$AMQP_USER" != guest ] && grep -qx guest <<<"$users"; then
		rabbitmqctl_ delete_user guest >/dev/null
	fi
	(umask 077 && echo "$want" >"$stamp")
}

# rabbit_setup_stamp: where rabbit_setup notes (a digest of) the settings it applied: in
# the node's own data folder, so that a node made afresh is set up afresh.
rabbit_setup_stamp() {
	echo "${RABBITMQ_MNESIA_BASE:-/var/lib/rabbitmq/mnesia}/movies-setup.sha256"
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
	# Like make run, the inventory is reached over unix sockets, or over TCP (as a
	# remote host is) with TEST_INVENTORY_TRANSPORT=tcp.
	if [ "${TEST_INVENTORY_TRANSPORT:-unix}" = tcp ]; then
		export INVENTORY_FCGI_ADDR=127.0.0.1:${TEST_INVENTORY_PORT:-19000}
	else
		export INVENTORY_FCGI_ADDR=unix:$STACK_DIR/inventory/inventory.sock
	fi
	export POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=${TEST_PG_PORT:-15432}
	export POSTGRES_BILLING_HOST=127.0.0.1 POSTGRES_BILLING_PORT=$POSTGRES_PORT
	export RABBITMQ_ADDR=127.0.0.1:${TEST_RABBIT_PORT:-16672}
	export RUN_DIR=$STACK_DIR/run PM2_HOME=$STACK_DIR/pm2
	export BUILD_DIR=$PROJECT_ROOT/${BUILD:-build/release}
	derive_env
}

private_stack_up() {
	allow_listener_handover
	ensure_app_users inventory_app billing_app
	private_pg_start
	pg_allow_only POSTGRES POSTGRES_BILLING
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
