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
source "$PROJECT_ROOT/tests/lib/db-hosts.sh"
hold_netns_lock "$@"

# PostgreSQL's exporter, opt-in, on: each DB host runs one (db_failover.bats's last test).
export POSTGRES_EXPORTER_PORT=9187
db_hosts_begin

echo "== checks on the deployment files"
"$PROJECT_ROOT/scripts/deploy/install-deps.sh" vagrant bsdextrautils patroni etcd-server etcd-client \
	prometheus-postgres-exporter
ruby -c "$PROJECT_ROOT/Vagrantfile" >/dev/null
vagrant_validate DB_VMS="$(hosts_of_role db | grep -c .)"
make -C "$PROJECT_ROOT" --no-print-directory all

db_hosts_up
echo "== [$SECONDS s] scenarios under load against $BASE_URL"
run_bats "$PROJECT_ROOT/tests/cluster/db_failover.bats"
print_figures "what each database failure cost" \
	"scenario|GET made/failed|POST movies made/failed|POST billing made/failed|seconds with errors|window (s)|movies checked|orders checked"
tally_report
