#!/usr/bin/env bash
# Starts one of the C daemons with the configuration from .env, replacing this shell
# (exec) so that PM2's signals reach the daemon itself. Started as root (root's PM2), it
# reads .env as root and then runs the daemon as its own unprivileged user (app_user in
# env.sh): setpriv changes the user and execs in place, so the pid stays the same.
set -euo pipefail
source "$(dirname "$0")/env.sh"
load_env
# inventory_app binds its host's own address; the gateway's list may name several hosts.
[ "$1" != inventory_app ] || export INVENTORY_FCGI_ADDR=$INVENTORY_LISTEN_ADDR
# Each daemon's environment holds its own passwords only, and none the broker's cookie.
unset RABBITMQ_ERLANG_COOKIE
case $1 in
inventory_app) unset POSTGRES_BILLING_PASSWORD RABBITMQ_URL ;;
billing_app) unset POSTGRES_PASSWORD ;;
esac
if [ "$(id -u)" = 0 ]; then
	user=$(app_user "$1")
	exec setpriv --reuid="$user" --regid="$user" --init-groups --no-new-privs -- "$BUILD_DIR/$1"
fi
exec "$BUILD_DIR/$1"
