#!/usr/bin/env bash
# The one way to set up a host: provision.sh ROLE... with roles gateway, inventory,
# billing, broker (a RabbitMQ node of the cluster only), or all (what `make run` does on
# one machine). It installs packages, builds,
# creates databases and tables, starts the services and registers the role's apps in
# root's PM2 (saved, and started at boot where systemd runs). Safe to run again.
#
# Hosts: on a multi-host deployment set GATEWAY_HOST, INVENTORY_HOST and BILLING_HOST
# (names or addresses every host resolves); the Vagrantfile does. Unset, all is local.
# INVENTORY_HOST may list several inventory hosts (comma-separated): the first holds
# movies_db, the others use it. RABBITMQ_NODES lists the broker cluster's nodes, the
# first being the seed the others join (billing's own node, when it is one of them).
# DB_HOSTS lists the hosts of the optional database tier (role db, lib/patroni.sh): one
# Patroni cluster holds movies_db and billing_db, and the apps use every DB host
# (libpq's multi-host form); unset, each role keeps its own PostgreSQL as before.
# With STACK_DIR set, PostgreSQL and RabbitMQ are private ones under that folder
# (the three-host test runs each role like this inside its network namespace).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/postgres.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/rabbitmq.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/pm2.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/patroni.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/postgres_exporter.sh"

usage() {
	echo "usage: $0 gateway|inventory|billing|broker|db|all..." >&2
	exit 2
}

roles=()
for r in "$@"; do
	case $r in
	all) roles+=(gateway inventory billing) ;;
	gateway | inventory | billing | broker | db) roles+=("$r") ;;
	*) usage ;;
	esac
done
[ ${#roles[@]} -gt 0 ] || usage
has_role() { [[ " ${roles[*]} " == *" $1 "* ]]; }

NODE_RUNTIME_ONLY=1 "$PROJECT_ROOT/scripts/deploy/install-deps.sh"
make -C "$PROJECT_ROOT" --no-print-directory all
load_env
ensure_erlang_cookie
ensure_db_secrets
ensure_postgres_exporter_secret
refuse_default_secrets

# must_resolve NAME: NAME's IPv4 address, or the provisioning stops.
must_resolve() {
	local addr
	addr=$(first_ipv4 "$1")
	[ -n "$addr" ] || { echo "cannot resolve $1" >&2; return 1; }
	echo "$addr"
}

# apply_inventory_hosts: the gateway balances over every inventory host on the FastCGI
# port INVENTORY_TCP_PORT. An inventory host listens on its own; the first holds
# movies_db, listening on its own address too for the others, whose inventory_app uses
# it (POSTGRES_HOST).
apply_inventory_hosts() {
	local port=${INVENTORY_TCP_PORT:-9000} hosts host self first addrs=()
	mapfile -t hosts < <(list_words "$INVENTORY_HOST")
	first=${hosts[0]}
	INVENTORY_FCGI_ADDR=$(IFS=,; echo "${hosts[*]/%/:$port}")
	export INVENTORY_FCGI_ADDR
	derive_env
	has_role inventory || return 0
	self=$(this_host_in "$INVENTORY_HOST") || { echo "this host is not one of INVENTORY_HOST ($INVENTORY_HOST)" >&2; exit 1; }
	export INVENTORY_LISTEN_ADDR=$self:$port
	derive_env
	if [ "$self" != "$first" ]; then
		MOVIES_DB_HERE=0
		export POSTGRES_HOST=$first
	elif [ ${#hosts[@]} -gt 1 ]; then
		PG_EXTRA_LISTEN=$(must_resolve "$first")
		# Every instance's threads hold a connection each, one instance more per host
		# during a rolling reload; and a few for provisioning and the superuser.
		PG_MAX_CONNECTIONS=$((${#hosts[@]} * (${INVENTORY_INSTANCES:-2} + 1) * ${INVENTORY_THREADS:-32} + 10))
		for host in "${hosts[@]}"; do
			addrs+=("$(must_resolve "$host")")
		done
		# shellcheck disable=SC2034 # pg_allow_only reads it as POSTGRES's CLIENT_ADDRS
		POSTGRES_CLIENT_ADDRS=${addrs[*]}
	fi
}

# Points each service at the hosts named by GATEWAY_HOST, INVENTORY_HOST, BILLING_HOST
# and RABBITMQ_NODES.
apply_hosts() {
	[ -z "${INVENTORY_HOST:-}" ] || apply_inventory_hosts
	if [ -n "${RABBITMQ_NODES:-}" ]; then
		# Each app derives the list of RABBITMQ_URLs itself (env.sh, derive_env); each
		# node listens on its host's address (lib/rabbitmq_cluster.sh, rabbit_cluster_env).
		unset RABBITMQ_ADDR
		derive_env
	elif [ -n "${BILLING_HOST:-}" ]; then
		rabbit_url_parts
		# The apps derive RABBITMQ_URL on this address themselves (env.sh, derive_env);
		# the broker, on the billing host, listens on that address only.
		export RABBITMQ_ADDR=$BILLING_HOST:$AMQP_PORT
		derive_env
		RABBITMQ_BIND=$(must_resolve "$BILLING_HOST")
		export RABBITMQ_BIND
	fi
	if [ -n "${GATEWAY_HOST:-}" ]; then
		FCGI_WEB_SERVER_ADDRS=$(must_resolve "$GATEWAY_HOST")
		export FCGI_WEB_SERVER_ADDRS
	fi
}

# Whether this host holds movies_db: with several inventory hosts, the first only; with
# a database tier (DB_HOSTS), none: the DB hosts hold movies_db and billing_db.
MOVIES_DB_HERE=1
apply_hosts
if [ -n "${DB_HOSTS:-}" ]; then
	MOVIES_DB_HERE=0
	db_cluster_env
fi

# The PostgreSQL roles of this host's apps, the only ones its cluster lets in.
pg_prefixes=()
! has_role inventory || [ "$MOVIES_DB_HERE" = 0 ] || pg_prefixes+=(POSTGRES)
! has_role billing || [ -n "${DB_HOSTS:-}" ] || pg_prefixes+=(POSTGRES_BILLING)
# PostgreSQL's exporter (lib/postgres_exporter.sh), opt-in, where a PostgreSQL runs here:
# one this provisioning sets up, or a DB host's (whose pg_hba is Patroni's: lib/patroni.sh).
pg_exporter_here=0
if [ ${#pg_prefixes[@]} -gt 0 ]; then
	pg_exporter_here=1
	! postgres_exporter_enabled || pg_prefixes+=(POSTGRES_EXPORTER)
fi
! has_role db || pg_exporter_here=1

pg_ready() {
	pg_up
	pg_allow_only "${pg_prefixes[@]}"
}

provision_inventory() {
	ensure_app_users inventory_app
	if [ "$MOVIES_DB_HERE" = 1 ]; then
		pg_ready
		db_setup_movies
	fi
	allow_listener_handover
	apps+=(inventory_app)
}

# rabbit_node: this host's RabbitMQ node, started, in the cluster when RABBITMQ_NODES
# names one, and (on a single node or the seed) with the apps' user. Users and
# permissions are the cluster's: the seed's reach a node when it joins.
rabbit_node() {
	rabbit_configure
	rabbit_up
	if rabbit_clustered; then
		rabbit_join_seed
		[ "$RABBIT_SELF" != "$(rabbit_seed)" ] || rabbit_setup
	else
		rabbit_setup
	fi
}

provision_billing() {
	ensure_app_users billing_app
	# In a cluster the billing host runs a node when RABBITMQ_NODES lists it.
	if ! rabbit_clustered || this_host_in "$RABBITMQ_NODES" >/dev/null; then
		rabbit_node
	fi
	if [ -z "${DB_HOSTS:-}" ]; then
		pg_ready
		db_setup_billing
	fi
	apps+=(billing_app)
}

provision_broker() {
	rabbit_clustered || { echo "the broker role needs RABBITMQ_NODES" >&2; exit 1; }
	rabbit_node
}

# provision_db: a DB host of the database tier (lib/patroni.sh): etcd, Patroni and
# PostgreSQL 15 from Debian's packages, under PM2; the leader's provisioning (the first
# DB host's, which bootstraps the cluster) creates the databases.
provision_db() {
	[ -n "${DB_HOSTS:-}" ] || { echo "the db role needs DB_HOSTS" >&2; exit 1; }
	NODE_RUNTIME_ONLY=1 "$PROJECT_ROOT/scripts/deploy/install-deps.sh" patroni etcd-server etcd-client
	db_tier_start
	db_setup_on_leader
	"$PM2" save >/dev/null 2>&1 || true
}

# provision_postgres_exporter: with POSTGRES_EXPORTER_PORT set, Debian's exporter (its
# package's own service is left off: install-deps.sh) and its pg_monitor role (on a DB
# host the leader's provisioning made it: db_setup_on_leader), and reload.sh starts or
# restarts its PM2 app; set to 0 since, reload.sh removes the app.
provision_postgres_exporter() {
	if postgres_exporter_enabled; then
		postgres_exporter_listen >/dev/null
		NODE_RUNTIME_ONLY=1 "$PROJECT_ROOT/scripts/deploy/install-deps.sh" prometheus-postgres-exporter
		has_role db || pg_ensure_metrics_role
		apps+=(postgres_exporter)
	elif "$PM2" describe postgres_exporter >/dev/null 2>&1; then
		apps+=(postgres_exporter)
	fi
}

provision_gateway() {
	mkdir -p "$RUN_DIR"
	apps+=(api_gateway_app)
}

# Registers root's PM2 with the init system so that the saved apps come back at boot.
pm2_boot() {
	if [ -d /run/systemd/system ]; then
		"$PM2" startup systemd -u root --hp /root >/dev/null
	else
		echo "no systemd here: skipping 'pm2 startup' (apps are saved with 'pm2 save')"
	fi
}

apps=()
for r in "${roles[@]}"; do
	"provision_$r"
done
[ "$pg_exporter_here" = 0 ] || provision_postgres_exporter
only=$(IFS=,; echo "${apps[*]}")
# A broker node alone has no app: PM2 is left alone.
if [ ${#apps[@]} -gt 0 ]; then
	"$PROJECT_ROOT/scripts/deploy/reload.sh" "${apps[@]}"
	pm2_boot
fi
echo "provisioned: ${roles[*]} (PM2 apps: ${only:-none})"
