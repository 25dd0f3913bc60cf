#!/usr/bin/env bash
# Starts one of the C daemons with the configuration from .env, replacing this shell
# (exec) so that PM2's signals reach the daemon itself.
set -euo pipefail
source "$(dirname "$0")/env.sh"
load_env
# inventory_app binds its host's own address; the gateway's list may name several hosts.
[ "$1" != inventory_app ] || export INVENTORY_FCGI_ADDR=$INVENTORY_LISTEN_ADDR
exec "$BUILD_DIR/$1"
