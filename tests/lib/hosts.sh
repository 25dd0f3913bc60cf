# shellcheck shell=bash
# Sourced by tests/lib/test-hosts.sh and tests/lib/test-cluster.sh: the VMs of
# scripts/deploy/hosts.conf (which the Vagrantfile reads too) as network namespaces named
# like them, with their addresses, joined by a bridge; each host with its own private
# folders (PostgreSQL, RabbitMQ node, PM2 home). The runner sets HOSTS (the hosts it
# makes, in start order) and calls hosts_begin; everything is removed on exit, failed or not.
source "$PROJECT_ROOT/tests/lib/stack.sh"

# Both runners make the same bridge and namespaces: one at a time on this machine.
NETNS_LOCK=/tmp/movies-netns.lock

# hold_netns_lock ARGS...: re-runs the calling script under flock NETNS_LOCK, unless this
# process already holds it (a caller's `flock NETNS_LOCK CMD` hands its descriptor down).
# flock -o: the daemons the run starts do not keep the lock after it.
hold_netns_lock() {
	local fd
	[ -z "${NETNS_LOCK_HELD-}" ] || return 0
	for fd in /proc/"$$"/fd/*; do
		[ "$(readlink "$fd")" != "$NETNS_LOCK" ] || return 0
	done
	NETNS_LOCK_HELD=1 exec flock -o "$NETNS_LOCK" "$0" "$@"
}

# read_hosts: HOST_IP and HOST_ROLE by host name, ROLE_HOST by role (the first host of
# that role) and ALL_HOSTS (every name, in the file's order), from hosts.conf, whose
# scale-out hosts (lines "#+ name ...") come after the default ones.
declare -gA HOST_IP=() HOST_ROLE=() ROLE_HOST=()
ALL_HOSTS=()
read_hosts() {
	local name ip role
	while read -r name ip role _; do
		[[ -z $name || $name == \#* ]] && continue
		HOST_IP[$name]=$ip HOST_ROLE[$name]=$role
		ALL_HOSTS+=("$name")
		[ -n "${ROLE_HOST[$role]-}" ] || ROLE_HOST[$role]=$name
	done < <(sed 's/^#+[[:space:]]*//' "$PROJECT_ROOT/scripts/deploy/hosts.conf")
}
read_hosts

# hosts_of_role ROLE: the hosts of that role, in hosts.conf's order, one a line.
hosts_of_role() {
	local host
	for host in "${ALL_HOSTS[@]}"; do
		[ "${HOST_ROLE[$host]}" != "$1" ] || echo "$host"
	done
}

BRIDGE=moviesbr0
GATEWAY_IP=${HOST_IP[${ROLE_HOST[gateway]}]}
SUBNET=${GATEWAY_IP%.*}
OUTSIDE_IP=$SUBNET.1

# print_figures TITLE HEADER: the scenarios' rows (HOSTS_DIR/figures, a line each, fields
# separated by '|') under HEADER, as a table.
print_figures() {
	echo "== [$SECONDS s] $1"
	{
		echo "$2"
		cat "$HOSTS_DIR/figures" 2>/dev/null || true
	} | column -t -s '|'
}

# hosts_begin: the run's folder (HOSTS_DIR) and settings file, and the removal on exit.
hosts_begin() {
	HOSTS_DIR=$(mktemp -d /tmp/movies-hosts.XXXXXX)
	chmod 755 "$HOSTS_DIR"
	export HOSTS_DIR
	# The hosts' one settings file, as Vagrant syncs .env to every VM: the first host's
	# provisioning creates it from .env.example with random passwords of this run only, so
	# anything hard-coded instead of read from it fails to log in.
	export ENV_FILE=$HOSTS_DIR/env
	# The gateway serves every interface, as on its VM (Vagrantfile).
	export GATEWAY_BIND=0.0.0.0
	trap remove_hosts_on_exit EXIT
	trap 'exit 130' INT TERM
}

# on_host HOST CMD...: runs CMD inside HOST's namespace with that host's private folders.
# (A node of a broker cluster takes its name from RABBITMQ_NODES instead: scripts/deploy/lib/rabbitmq_cluster.sh.)
on_host() {
	local host=$1
	shift
	ip netns exec "$host" env \
		STACK_DIR="$HOSTS_DIR/$host" PM2_HOME="$HOSTS_DIR/$host/pm2" RUN_DIR="$HOSTS_DIR/$host/run" \
		RABBITMQ_NODENAME="movies@localhost" POSTGRES_HOST=127.0.0.1 POSTGRES_BILLING_HOST=127.0.0.1 \
		"$@"
}
export -f on_host

# stop_host_services HOST: its PM2 apps, RabbitMQ node and PostgreSQL, stopped in order.
stop_host_services() {
	on_host "$1" bash -c 'source scripts/deploy/lib/env.sh; source tests/lib/stack.sh; load_env;
		rabbit_url_parts; private_rabbit_env; private_stack_down' >/dev/null 2>&1 || true
}

remove_hosts_on_exit() {
	local status=$? host
	for host in "${HOSTS[@]}"; do
		ip netns pids "$host" >/dev/null 2>&1 || continue
		stop_host_services "$host"
	done
	remove_network
	if [ "$status" -ne 0 ]; then
		echo "--- logs of the failed run"
		tail -n 20 "$HOSTS_DIR"/*/pm2/logs/*.log 2>/dev/null || true
	fi
	# A PM2 daemon that is going away may still write its last files for a moment.
	wait_for 10 rm -rf "$HOSTS_DIR"
}

# kill_host_processes HOST: SIGKILL to every process in HOST's namespace.
kill_host_processes() {
	ip netns pids "$1" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
}

# remove_network: the namespaces, with anything still running in them, and the bridge;
# also what an interrupted run (killed before its EXIT trap) left.
remove_network() {
	local host link
	for host in "${!HOST_IP[@]}"; do
		kill_host_processes "$host"
		ip netns del "$host" 2>/dev/null || true
		rm -rf "/etc/netns/$host"
	done
	ip link del "$BRIDGE" 2>/dev/null || true
	# A host's link can outlive its name when something still holds the namespace.
	for link in $(ip -o link show | awk -F': ' '$2 ~ /^moviesv[0-9]+@/ { sub("@.*", "", $2); print $2 }'); do
		ip link del "$link" 2>/dev/null || true
	done
}

make_network() {
	local host i=0
	remove_network
	ip link add "$BRIDGE" type bridge
	ip addr add "$OUTSIDE_IP/24" dev "$BRIDGE"
	ip link set "$BRIDGE" up
	for host in "${HOSTS[@]}"; do
		i=$((i + 1))
		ip netns add "$host"
		ip link add "moviesv$i" type veth peer name eth0 netns "$host"
		ip link set "moviesv$i" master "$BRIDGE" up
		ip -n "$host" addr add "${HOST_IP[$host]}/24" dev eth0
		ip -n "$host" link set eth0 up
		ip -n "$host" link set lo up
		# `ip netns exec` shows /etc/netns/HOST/hosts as /etc/hosts inside the namespace.
		mkdir -p "/etc/netns/$host"
		{
			echo "127.0.0.1 localhost"
			for h in "${HOSTS[@]}"; do echo "${HOST_IP[$h]} $h"; done
		} > "/etc/netns/$host/hosts"
		mkdir -p "$HOSTS_DIR/$host"
	done
}

# provision_hosts: each host of HOSTS, in order, by its role's provisioning entry.
provision_hosts() {
	local host
	for host in "${HOSTS[@]}"; do
		echo "== provisioning $host (${HOST_ROLE[$host]})"
		on_host "$host" "$PROJECT_ROOT/scripts/deploy/provision.sh" "${HOST_ROLE[$host]}"
	done
}

# vagrant_validate [NAME=VALUE...]: `vagrant validate` of the Vagrantfile with those
# settings in its environment (VirtualBox itself is not run here).
vagrant_validate() {
	(cd "$PROJECT_ROOT" && env "$@" vagrant validate --ignore-provider >/dev/null)
	echo "Vagrantfile${*:+ with $*}: syntax and configuration valid (VirtualBox itself is not run here)"
}
