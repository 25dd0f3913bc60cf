#!/usr/bin/env bash
# make test-db: the database tier (issue 20), proven on this machine. Network namespaces
# named like the VMs (tests/lib/hosts.sh): three DB hosts (etcd, Patroni, PostgreSQL 15
# each; scripts/deploy/lib/patroni.sh), the gateway, an inventory host and billing (with
# its RabbitMQ node), each provisioned by its role's entry. tests/cluster/db_failover.bats
# then kills, cuts off and switches over the primary under load; the table at the end
# says what each cost. Everything is removed on exit, failed or not.
set -euo pipefail
source "$(dirname "$0")/../../scripts/deploy/lib/env.sh"
source "$PROJECT_ROOT/tests/lib/tally.sh"
source "$PROJECT_ROOT/tests/lib/hosts.sh"
hold_netns_lock "$@"

mapfile -t db_hosts < <(hosts_of_role db)
export GATEWAY_HOST=${ROLE_HOST[gateway]} INVENTORY_HOST=${ROLE_HOST[inventory]}
export BILLING_HOST=${ROLE_HOST[billing]} DB_HOSTS
DB_HOSTS=$(IFS=,; echo "${db_hosts[*]}")
# In start order: the DB hosts (the first bootstraps the cluster), then the apps' hosts.
HOSTS=("${db_hosts[@]}" "$BILLING_HOST" "$INVENTORY_HOST" "$GATEWAY_HOST")
if [ ${#db_hosts[@]} -lt 3 ]; then
	echo "scripts/deploy/hosts.conf: want three db hosts" >&2
	exit 1
fi
hosts_begin

# print_figures: the scenarios' rows (tests/cluster/db_failover.bats) as a table.
print_figures() {
	echo "== [$SECONDS s] what each database failure cost"
	{
		echo "scenario|GET made/failed|POST movies made/failed|POST billing made/failed|seconds with errors|window (s)|movies checked|orders checked"
		cat "$HOSTS_DIR/figures" 2>/dev/null || true
	} | column -t -s '|'
}

echo "== checks on the deployment files"
"$PROJECT_ROOT/scripts/deploy/install-deps.sh" vagrant bsdextrautils patroni etcd-server etcd-client
ruby -c "$PROJECT_ROOT/Vagrantfile" >/dev/null
vagrant_validate DB_VMS=${#db_hosts[@]}
make -C "$PROJECT_ROOT" --no-print-directory all

echo "== [$SECONDS s] ${#HOSTS[@]} hosts on $SUBNET.0/24: database tier on $DB_HOSTS"
make_network
provision_hosts

load_env
export BASE_URL=http://$GATEWAY_IP:$API_GATEWAY_PORT
echo "== [$SECONDS s] scenarios under load against $BASE_URL"
run_bats "$PROJECT_ROOT/tests/cluster/db_failover.bats"
print_figures
tally_report
