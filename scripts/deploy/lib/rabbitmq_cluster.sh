# shellcheck shell=bash
# Sourced by rabbitmq.sh: a broker cluster (RABBITMQ_NODES). Each node is named
# PREFIX@ENTRY, ENTRY its name (or address) in RABBITMQ_NODES as every host resolves it:
# movies@ for the private nodes, rabbit@ (Debian's) for the system ones. Names with a dot
# need Erlang's long names, so then every node uses them. The first node is the seed that
# the others join; the cluster remembers its members, so a node that restarts rejoins by
# itself.

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

# rabbit_cookie_current: the cookie file holds BROKER_ERLANG_COOKIE (always true
# outside a cluster, where the node keeps the cookie it made itself).
rabbit_cookie_current() {
	rabbit_clustered || return 0
	[ "$(cat "$(rabbit_cookie_file)" 2>/dev/null)" = "$BROKER_ERLANG_COOKIE" ]
}

# rabbit_install_cookie: writes the shared cookie into the cookie file, mode 400 (printf
# is a shell builtin: the cookie is on no command line).
rabbit_install_cookie() {
	local file tmp
	! rabbit_cookie_current || return 0
	file=$(rabbit_cookie_file)
	mkdir -p "$(dirname "$file")"
	tmp=$(mktemp "$file.XXXXXX")
	printf '%s' "$BROKER_ERLANG_COOKIE" >"$tmp"
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
# Written by provisioning (scripts/deploy/lib/rabbitmq.sh, rabbit_configure): edit .env, not this.
NODENAME=$RABBIT_NODE
USE_LONGNAME=$RABBIT_LONGNAMES
ERL_EPMD_ADDRESS=$RABBITMQ_BIND
SERVER_ADDITIONAL_ERL_ARGS="$(rabbit_dist_args)"
CONF
}
