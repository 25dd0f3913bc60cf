#!/usr/bin/env bash
# make test-cluster: the scale-out layout (issue 12), proven on this machine. Network
# namespaces named like the VMs (tests/lib/hosts.sh): the gateway, two inventory hosts
# and three broker nodes, the first on the billing host. Each host runs its role's
# provisioning entry with the cluster's settings, then tests/cluster/ kills hosts and
# nodes under load; the table at the end says what each failure cost. Everything is
# removed on exit, failed or not.
set -euo pipefail
source "$(dirname "$0")/../../scripts/deploy/lib/env.sh"
source "$PROJECT_ROOT/tests/lib/tally.sh"
source "$PROJECT_ROOT/tests/lib/hosts.sh"
hold_netns_lock "$@"

mapfile -t inventory_hosts < <(hosts_of_role inventory)
mapfile -t broker_hosts < <(hosts_of_role broker)
export GATEWAY_HOST=${ROLE_HOST[gateway]} BILLING_HOST=${ROLE_HOST[billing]}
export INVENTORY_HOST RABBITMQ_NODES
INVENTORY_HOST=$(IFS=,; echo "${inventory_hosts[*]}")
# The billing host's node is the cluster's seed.
RABBITMQ_NODES=$(IFS=,; echo "$BILLING_HOST,${broker_hosts[*]}")
# In start order: the seed node and the other nodes, movies_db's host first, the gateway.
HOSTS=("$BILLING_HOST" "${broker_hosts[@]}" "${inventory_hosts[@]}" "$GATEWAY_HOST")
if [ ${#inventory_hosts[@]} -lt 2 ] || [ ${#broker_hosts[@]} -lt 2 ]; then
	echo "scripts/deploy/hosts.conf: want two inventory hosts and two broker hosts besides billing's" >&2
	exit 1
fi
hosts_begin

echo "== checks on the deployment files"
# bsdextrautils: column(1), for the table at the end (not in a minimal Debian).
"$PROJECT_ROOT/scripts/deploy/install-deps.sh" vagrant bsdextrautils
vagrant_validate INVENTORY_VMS=${#inventory_hosts[@]} BROKER_VMS=$((${#broker_hosts[@]} + 1))
make -C "$PROJECT_ROOT" --no-print-directory all

echo "== [$SECONDS s] ${#HOSTS[@]} hosts on $SUBNET.0/24: inventory on $INVENTORY_HOST, broker nodes $RABBITMQ_NODES"
make_network
provision_hosts

load_env
export BASE_URL=http://$GATEWAY_IP:$API_GATEWAY_PORT
echo "== [$SECONDS s] scenarios under load against $BASE_URL"
run_bats "$PROJECT_ROOT/tests/cluster/inventory_host.bats" "$PROJECT_ROOT/tests/cluster/broker_node.bats"
print_figures "what each failure cost" \
	"scenario|requests|made|failed|seconds with errors|last failure after a kill (s)|slowest (s)|orders checked"
tally_report
