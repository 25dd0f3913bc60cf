# shellcheck shell=bash
# Sourced by tests/lib/test-db.sh and scripts/bench/db_tier.sh after hosts.sh (whose
# hold_netns_lock the runner calls first): the six hosts of the database tier (issue 20)
# in network namespaces, each provisioned by its role's entry: three DB hosts (etcd,
# Patroni, PostgreSQL 15 each; scripts/deploy/lib/patroni.sh), billing (with its RabbitMQ
# node), an inventory host and the gateway. hosts_begin removes them all on exit.

# db_hosts_begin: DB_HOSTS, GATEWAY_HOST, INVENTORY_HOST and BILLING_HOST (exported), HOSTS
# in start order (the DB hosts, the first of which bootstraps the cluster, then the apps'
# hosts), and the run's folder with its removal on exit (hosts_begin).
db_hosts_begin() {
	local db_hosts
	mapfile -t db_hosts < <(hosts_of_role db)
	if [ ${#db_hosts[@]} -lt 3 ]; then
		echo "scripts/deploy/hosts.conf: want three db hosts" >&2
		exit 1
	fi
	export GATEWAY_HOST=${ROLE_HOST[gateway]} INVENTORY_HOST=${ROLE_HOST[inventory]}
	export BILLING_HOST=${ROLE_HOST[billing]} DB_HOSTS
	DB_HOSTS=$(IFS=,; echo "${db_hosts[*]}")
	HOSTS=("${db_hosts[@]}" "$BILLING_HOST" "$INVENTORY_HOST" "$GATEWAY_HOST")
	hosts_begin
}

# db_hosts_up: the network, each host provisioned in order, then the hosts' settings
# (their shared .env) loaded here and BASE_URL, the gateway's API from outside.
db_hosts_up() {
	echo "== [$SECONDS s] ${#HOSTS[@]} hosts on $SUBNET.0/24: database tier on $DB_HOSTS"
	make_network
	provision_hosts
	load_env
	export BASE_URL=http://$GATEWAY_IP:$API_GATEWAY_PORT
}
