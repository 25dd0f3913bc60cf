#!/usr/bin/env bash
# The one way to set up a host: provision.sh ROLE... with roles gateway, inventory,
# billing, or all (what `make run` does on one machine). It installs packages, builds,
# creates databases and tables, starts the services and registers the role's apps in
# root's PM2 (saved, and started at boot where systemd runs). Safe to run again.
#
# Hosts: on a multi-host deployment set GATEWAY_HOST, INVENTORY_HOST and BILLING_HOST
# (names or addresses every host resolves); the Vagrantfile does. Unset, all is local.
# With STACK_DIR set, PostgreSQL and RabbitMQ are private ones under that folder
# (the three-host test runs each role like this inside its network namespace).
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$PROJECT_ROOT/scripts/deploy/stack.sh"

usage() {
	echo "usage: $0 gateway|inventory|billing|all..." >&2
	exit 2
}

roles=()
for r in "$@"; do
	case $r in
	all) roles+=(gateway inventory billing) ;;
	gateway | inventory | billing) roles+=("$r") ;;
	*) usage ;;
	esac
done
[ ${#roles[@]} -gt 0 ] || usage
has_role() { [[ " ${roles[*]} " == *" $1 "* ]]; }

NODE_RUNTIME_ONLY=1 "$PROJECT_ROOT/scripts/deploy/install-deps.sh"
make -C "$PROJECT_ROOT" --no-print-directory all
load_env
refuse_default_secrets

# first_ipv4 NAME: the IPv4 address NAME resolves to (libfcgi's allow-list takes addresses).
first_ipv4() {
	getent ahostsv4 "$1" | awk 'NR == 1 { print $1 }'
}

# Points each service at the hosts named by GATEWAY_HOST, INVENTORY_HOST, BILLING_HOST.
apply_hosts() {
	if [ -n "${INVENTORY_HOST:-}" ]; then
		export INVENTORY_FCGI_ADDR=$INVENTORY_HOST:${INVENTORY_FCGI_ADDR##*:}
		derive_env
	fi
	if [ -n "${BILLING_HOST:-}" ]; then
		rabbit_url_parts
		# The apps derive RABBITMQ_URL on this address themselves (env.sh, derive_env);
		# the broker, on the billing host, listens on that address only.
		export RABBITMQ_ADDR=$BILLING_HOST:$AMQP_PORT
		derive_env
		RABBITMQ_BIND=$(first_ipv4 "$BILLING_HOST")
		[ -n "$RABBITMQ_BIND" ] || { echo "cannot resolve $BILLING_HOST" >&2; exit 1; }
		export RABBITMQ_BIND
	fi
	if [ -n "${GATEWAY_HOST:-}" ]; then
		FCGI_WEB_SERVER_ADDRS=$(first_ipv4 "$GATEWAY_HOST")
		[ -n "$FCGI_WEB_SERVER_ADDRS" ] || { echo "cannot resolve $GATEWAY_HOST" >&2; exit 1; }
		export FCGI_WEB_SERVER_ADDRS
	fi
}

# The PostgreSQL roles of this host's apps, the only ones its cluster lets in.
pg_prefixes=()
! has_role inventory || pg_prefixes+=(POSTGRES)
! has_role billing || pg_prefixes+=(POSTGRES_BILLING)

pg_ready() {
	pg_up
	pg_allow_only "${pg_prefixes[@]}"
}

provision_inventory() {
	ensure_app_users inventory_app
	pg_ready
	db_setup_movies
	allow_listener_handover
	apps+=(inventory_app)
}

provision_billing() {
	ensure_app_users billing_app
	rabbit_configure
	rabbit_up
	rabbit_setup
	pg_ready
	db_setup_billing
	apps+=(billing_app)
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

apply_hosts
apps=()
for r in "${roles[@]}"; do
	"provision_$r"
done
only=$(IFS=,; echo "${apps[*]}")
"$PROJECT_ROOT/scripts/deploy/reload.sh" "${apps[@]}"
pm2_boot
echo "provisioned: ${roles[*]} (PM2 apps: $only)"
