# shellcheck shell=bash
# Sourced: RabbitMQ. "system_" functions drive Debian's node (make run, provisioning);
# "private_" ones a throw-away node under $STACK_DIR on its own ports (tests, bench, the
# namespace hosts); rabbit_up picks by whether STACK_DIR is set. Then the apps' user,
# vhost and permissions, and the queue's depth.

source "$PROJECT_ROOT/scripts/deploy/lib/host.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/amqp_url.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/rabbitmq_cluster.sh"

RABBIT_BIN=/usr/lib/rabbitmq/bin

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

# rabbit_prometheus_port: where rabbitmq_prometheus serves RabbitMQ's metrics: a private
# node's AMQP port + 200, the system node's RABBITMQ_PROMETHEUS_PORT (default 15692).
rabbit_prometheus_port() {
	if [ -n "${STACK_DIR:-}" ]; then
		echo $((AMQP_PORT + 200))
	else
		echo "${RABBITMQ_PROMETHEUS_PORT:-15692}"
	fi
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
		grep -vE '^(loopback_users|listeners\.tcp\.|cluster_partition_handling|prometheus\.tcp\.)' "$conf" || true
		# rabbitmq_prometheus (enabled by rabbit_prometheus_enable) on the metrics address.
		echo "prometheus.tcp.ip = ${METRICS_BIND:-127.0.0.1}"
		echo "prometheus.tcp.port = $(rabbit_prometheus_port)"
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
	[ -n "${STACK_DIR:-}" ] || rabbit_prometheus_enable
}

# rabbit_prometheus_enable: the system node loads rabbitmq_prometheus (RabbitMQ's own
# metrics, README Observability) from its next start; RABBIT_CONF_CHANGED=1 when that is news.
rabbit_prometheus_enable() {
	local file=/etc/rabbitmq/enabled_plugins
	! grep -q rabbitmq_prometheus "$file" 2>/dev/null || return 0
	rabbitmq-plugins --offline enable rabbitmq_prometheus >/dev/null
	RABBIT_CONF_CHANGED=1
}

# private_rabbit_env: the private node's settings; in a cluster its name and addresses
# come from RABBITMQ_NODES (rabbit_cluster_env), whatever RABBITMQ_NODENAME said.
private_rabbit_env() {
	# Its schedulers sleep when idle instead of spinning (Erlang's default busy wait): a
	# private node shares the machine with the test suites, other nodes or a benchmark's
	# clients (make test runs three nodes on two cores).
	export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="+sbwt none +sbwtdcpu none +sbwtdio none"
	if rabbit_clustered; then
		rabbit_cluster_env
		export RABBITMQ_NODENAME=$RABBIT_NODE RABBITMQ_USE_LONGNAME=$RABBIT_LONGNAMES
		export ERL_EPMD_ADDRESS=$RABBITMQ_BIND
		RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS+=" $(rabbit_dist_args)"
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
	# RabbitMQ's own metrics (rabbitmq_prometheus) on a port of this stack's, this host only.
	[ -f "$RABBITMQ_ENABLED_PLUGINS_FILE" ] || echo '[rabbitmq_prometheus].' > "$RABBITMQ_ENABLED_PLUGINS_FILE"
	[ -f "$STACK_DIR/rabbit/rabbitmq.conf" ] ||
		printf 'prometheus.tcp.ip = 127.0.0.1\nprometheus.tcp.port = %s\n' \
			"$(rabbit_prometheus_port)" >"$STACK_DIR/rabbit/rabbitmq.conf"
	# A private Erlang cookie (the cluster's, or one the node makes): HOME is where the
	# node and rabbitmqctl look for it.
	rabbit_install_cookie
	env -u RABBITMQ_ERLANG_COOKIE HOME="$STACK_DIR/rabbit" "$RABBIT_BIN/rabbitmq-server" \
		>"$STACK_DIR/rabbit/stdout.log" 2>&1 3>&- &
	rabbitmqctl_ wait --timeout 60 "$RABBITMQ_PID_FILE" >/dev/null
	# Bounded: a node that failed to start must fail the caller, not hang it.
	rabbitmqctl_ await_startup --timeout 120 >/dev/null
}

private_rabbit_stop() {
	local pid
	# No pid written, no node: rabbitmqctl stop would wait for the file for ever.
	pid=$(cat "${RABBITMQ_PID_FILE:-}" 2>/dev/null || true)
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
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

rabbit_up() {
	if [ -n "${STACK_DIR:-}" ]; then private_rabbit_start; else system_rabbit_start; fi
}
