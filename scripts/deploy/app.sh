#!/usr/bin/env bash
# Starts one of the C daemons with the configuration from .env, replacing this shell
# (exec) so that PM2's signals reach the daemon itself.
set -euo pipefail
source "$(dirname "$0")/env.sh"
load_env
exec "$BUILD_DIR/$1"
