#!/usr/bin/env bash
# Starts one of the C daemons with the configuration from .env, replacing this shell
# (exec) so that PM2's signals reach the daemon itself. Started as root (root's PM2), it
# reads .env as root and then runs the daemon as its own unprivileged user (app_user in
# env.sh): setpriv changes the user and execs in place, so the pid stays the same.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/host.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/metrics_settings.sh"
load_env
# inventory_socket_dir DIR: the folder of the inventory's unix sockets, made when missing:
# the instances (inventory) create their sockets in it, the gateway's user (its group)
# may connect, nobody else reaches them.
inventory_socket_dir() {
	[ ! -d "$1" ] || return 0
	if [ "$(id -u)" = 0 ]; then
		install -d -m 750 -o "$(app_user inventory_app)" -g "${GATEWAY_USER:-www-data}" "$1"
	else
		install -d -m 750 "$1"
	fi
}

# inventory_app listens on INVENTORY_LISTEN_ADDR itself (on unix:PATH, instance N on
# PATH-N); only the sockets' folder is made here, as root.
if [ "$1" = inventory_app ] && [[ $INVENTORY_LISTEN_ADDR == unix:* ]]; then
	socket=${INVENTORY_LISTEN_ADDR#unix:}
	inventory_socket_dir "${socket%/*}"
fi
# Instances sharing a TCP port: each serves its metrics page on a port of its own too,
# on the same host address (the private network's, never every address), which the
# gateway's admin listen scrapes (inventory_metrics_addrs in lib/metrics_settings.sh).
if [ "$1" = inventory_app ] && [[ $INVENTORY_LISTEN_ADDR != unix:* ]] &&
	[ "${INVENTORY_METRICS_PORT:-9190}" != 0 ]; then
	port=$(metrics_port "${INVENTORY_METRICS_PORT:-9190}" "${NODE_APP_INSTANCE:-0}" INVENTORY_METRICS_PORT)
	export INVENTORY_METRICS_ADDR=${INVENTORY_LISTEN_ADDR%:*}:$port
fi
# billing_app's metrics page: on a billing host of its own, a port per instance on that
# host's address; else a file per instance, in a folder only it writes, that the
# gateway's admin listen serves (both: billing_metrics_addr in lib/metrics_settings.sh).
if [ "$1" = billing_app ]; then
	status=0
	addr=$(billing_metrics_addr "${NODE_APP_INSTANCE:-0}") || status=$?
	case $status in
	0) export BILLING_METRICS_ADDR=$addr ;;
	1)
		export BILLING_METRICS_FILE=$RUN_DIR/metrics/billing_app-${NODE_APP_INSTANCE:-0}.prom
		if [ "$(id -u)" = 0 ]; then
			install -d -m 755 -o "$(app_user billing_app)" "$RUN_DIR/metrics"
		else
			install -d -m 755 "$RUN_DIR/metrics"
		fi
		;;
	*) exit 1 ;;
	esac
fi
# Each daemon's environment holds its own passwords only, and none the broker's cookie.
unset BROKER_ERLANG_COOKIE
case $1 in
inventory_app) unset POSTGRES_BILLING_PASSWORD RABBITMQ_URL ;;
billing_app) unset POSTGRES_PASSWORD ;;
esac
if [ "$(id -u)" = 0 ]; then
	user=$(app_user "$1")
	exec setpriv --reuid="$user" --regid="$user" --init-groups --no-new-privs -- "$BUILD_DIR/$1"
fi
exec "$BUILD_DIR/$1"
