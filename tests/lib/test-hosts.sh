#!/usr/bin/env bash
# make test-hosts: the three-VM deployment, proven on this machine. Three network
# namespaces named like the VMs, with their addresses (tests/lib/hosts.sh);
# each runs its role's provisioning entry (its own PostgreSQL, RabbitMQ node and PM2
# home under a private folder), then tests/hosts/ runs against the gateway's address
# from outside. Everything is removed on exit, failed or not.
set -euo pipefail
source "$(dirname "$0")/../../scripts/deploy/lib/env.sh"
source "$PROJECT_ROOT/tests/lib/tally.sh"
source "$PROJECT_ROOT/tests/lib/hosts.sh"
hold_netns_lock "$@"

# In start order: what the others depend on first.
HOSTS=("${ROLE_HOST[billing]}" "${ROLE_HOST[inventory]}" "${ROLE_HOST[gateway]}")
# Where each role lives, as provisioning and tests/hosts/ read it.
export GATEWAY_HOST=${ROLE_HOST[gateway]} INVENTORY_HOST=${ROLE_HOST[inventory]}
export BILLING_HOST=${ROLE_HOST[billing]}
# PostgreSQL's exporter, opt-in, on: its provisioning is proven here (tests/hosts/metrics.bats).
export POSTGRES_EXPORTER_PORT=9187
hosts_begin

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
# shellcheck disable=SC2119 # no setting: the defaults
vagrant_validate
make -C "$PROJECT_ROOT" --no-print-directory all

echo "== three hosts on $SUBNET.0/24"
make_network
# What ps showed meanwhile, and what provisioning printed: tests/hosts/ looks for passwords.
sample_ps "$HOSTS_DIR/ps.txt" provision_hosts 2>&1 | tee "$HOSTS_DIR/provision.log"

load_env
export BASE_URL=http://$GATEWAY_IP:$API_GATEWAY_PORT
export OUTSIDE_IP INVENTORY_IP=${HOST_IP[$INVENTORY_HOST]} BILLING_IP=${HOST_IP[$BILLING_HOST]}
echo "== end-to-end tests against $BASE_URL"
run_bats "$PROJECT_ROOT/tests/hosts"
tally_report
