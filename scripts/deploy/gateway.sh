#!/usr/bin/env bash
# api_gateway_app: lighttpd in the foreground, configured from .env.
# Extra arguments go to lighttpd (for example -tt to check the config). GATEWAY_CONF
# picks another config (cgi-bin/lighttpd-cgi.conf serves the API as plain CGI).
set -euo pipefail
source "$(dirname "$0")/env.sh"
load_env

# lighttpd drops root for this user; the publisher it spawns runs as the same user.
if [ "$(id -u)" = 0 ]; then
	export GATEWAY_USER=${GATEWAY_USER:-www-data}
else
	export GATEWAY_USER=${GATEWAY_USER:-$(id -un)}
fi
export BILLING_PUBLISHER_BIN=$BUILD_DIR/billing_publisher
mkdir -p "$RUN_DIR/uploads"
chown "$GATEWAY_USER" "$RUN_DIR" "$RUN_DIR/uploads"
touch "$RUN_DIR/access.log"
chown "$GATEWAY_USER" "$RUN_DIR/access.log"
exec lighttpd -D -f "${GATEWAY_CONF:-$PROJECT_ROOT/lighttpd.conf}" "$@"
