#!/usr/bin/env bash
# make test-hosts: the three-VM deployment, proven on this machine. Three network
# namespaces named like the VMs, with their addresses (scripts/deploy/hosts.conf, which
# the Vagrantfile reads too), joined by a bridge;
# each runs its role's provisioning entry (its own PostgreSQL, RabbitMQ node and PM2
# home under a private folder), then tests/hosts/ runs against the gateway's address
# from outside. Everything is removed on exit, failed or not.
set -euo pipefail
source "$(dirname "$0")/../../scripts/deploy/env.sh"
source "$PROJECT_ROOT/scripts/deploy/stack.sh"
source "$PROJECT_ROOT/tests/lib/tally.sh"

# read_hosts: HOST_IP and HOST_ROLE by host name, and ROLE_HOST by role, from hosts.conf.
declare -A HOST_IP=() HOST_ROLE=() ROLE_HOST=()
read_hosts() {
	local name ip role
	while read -r name ip role _; do
		[[ -z $name || $name == \#* ]] && continue
		HOST_IP[$name]=$ip HOST_ROLE[$name]=$role ROLE_HOST[$role]=$name
	done <"$PROJECT_ROOT/scripts/deploy/hosts.conf"
}
read_hosts
# In start order: what the others depend on first.
HOSTS=("${ROLE_HOST[billing]}" "${ROLE_HOST[inventory]}" "${ROLE_HOST[gateway]}")
# Where each role lives, as provisioning and tests/hosts/ read it.
export GATEWAY_HOST=${ROLE_HOST[gateway]} INVENTORY_HOST=${ROLE_HOST[inventory]}
export BILLING_HOST=${ROLE_HOST[billing]}
GATEWAY_IP=${HOST_IP[$GATEWAY_HOST]}
SUBNET=${GATEWAY_IP%.*}
OUTSIDE_IP=$SUBNET.1
BRIDGE=moviesbr0

HOSTS_DIR=$(mktemp -d /tmp/movies-hosts.XXXXXX)
chmod 755 "$HOSTS_DIR"
export HOSTS_DIR
# The hosts' one settings file, as Vagrant syncs .env to every VM: the first host's
# provisioning creates it from .env.example with random passwords of this run only, so
# anything hard-coded instead of read from it fails to log in.
export ENV_FILE=$HOSTS_DIR/env
# The gateway serves every interface, as on its VM (Vagrantfile).
export GATEWAY_BIND=0.0.0.0

# on_host HOST CMD...: runs CMD inside HOST's namespace with that host's private folders.
on_host() {
	local host=$1
	shift
	ip netns exec "$host" env \
		STACK_DIR="$HOSTS_DIR/$host" PM2_HOME="$HOSTS_DIR/$host/pm2" RUN_DIR="$HOSTS_DIR/$host/run" \
		RABBITMQ_NODENAME="movies@localhost" POSTGRES_HOST=127.0.0.1 POSTGRES_BILLING_HOST=127.0.0.1 \
		"$@"
}
export -f on_host

remove_hosts_on_exit() {
	local status=$? host
	for host in "${HOSTS[@]}"; do
		ip netns pids "$host" >/dev/null 2>&1 || continue
		on_host "$host" bash -c 'source scripts/deploy/env.sh; source scripts/deploy/stack.sh; load_env;
			rabbit_url_parts; private_rabbit_env; private_stack_down' >/dev/null 2>&1 || true
	done
	remove_network
	if [ "$status" -ne 0 ]; then
		echo "--- logs of the failed run"
		tail -n 20 "$HOSTS_DIR"/*/pm2/logs/*.log 2>/dev/null || true
	fi
	# A PM2 daemon that is going away may still write its last files for a moment.
	wait_for 10 rm -rf "$HOSTS_DIR"
}
trap remove_hosts_on_exit EXIT
trap 'exit 130' INT TERM

# remove_network: the namespaces, with anything still running in them, and the bridge;
# also what an interrupted run (killed before its EXIT trap) left.
remove_network() {
	local host
	for host in "${HOSTS[@]}"; do
		ip netns pids "$host" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "$host" 2>/dev/null || true
		rm -rf "/etc/netns/$host"
	done
	ip link del "$BRIDGE" 2>/dev/null || true
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

# No tracked file carries a credential.
check_no_credentials_in_tree() {
	local hits
	hits=$(git -C "$PROJECT_ROOT" grep -nE 'guest[:]guest|(PASSWORD|password)[=:][[:space:]]*"?postgres' \
		-- ':!.env.example' ':!README.md' ':!docs' || true)
	[ -z "$hits" ] || { echo "credentials outside .env:"; echo "$hits"; return 1; }
}

echo "== checks on the deployment files"
"$PROJECT_ROOT/scripts/deploy/install-deps.sh" vagrant
check_no_credentials_in_tree
ruby -c "$PROJECT_ROOT/Vagrantfile" >/dev/null
(cd "$PROJECT_ROOT" && vagrant validate --ignore-provider >/dev/null)
echo "Vagrantfile: syntax and configuration valid (VirtualBox itself is not run here)"
make -C "$PROJECT_ROOT" --no-print-directory all

echo "== three hosts on $SUBNET.0/24"
make_network
provision_hosts() {
	local host
	for host in "${HOSTS[@]}"; do
		echo "== provisioning $host (${HOST_ROLE[$host]})"
		on_host "$host" "$PROJECT_ROOT/scripts/deploy/provision.sh" "${HOST_ROLE[$host]}"
	done
}
# What ps showed meanwhile, and what provisioning printed: tests/hosts/ looks for passwords.
sample_ps "$HOSTS_DIR/ps.txt" provision_hosts 2>&1 | tee "$HOSTS_DIR/provision.log"

load_env
export BASE_URL=http://$GATEWAY_IP:$API_GATEWAY_PORT
export OUTSIDE_IP INVENTORY_IP=${HOST_IP[$INVENTORY_HOST]} BILLING_IP=${HOST_IP[$BILLING_HOST]}
echo "== end-to-end tests against $BASE_URL"
run_bats "$PROJECT_ROOT/tests/hosts"
tally_report
