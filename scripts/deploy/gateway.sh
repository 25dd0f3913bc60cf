#!/usr/bin/env bash
# api_gateway_app: lighttpd in the foreground, configured from .env through the settings
# file that lighttpd.conf includes (gateway_settings.sh). Extra arguments go to lighttpd
# (for example -tt to check the config). GATEWAY_CONF picks another config
# (cgi-bin/lighttpd-cgi.conf serves the API as plain CGI).
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$PROJECT_ROOT/scripts/deploy/gateway_settings.sh"
load_env
gateway_env

mkdir -p "$RUN_DIR/uploads"
chown "$GATEWAY_USER" "$RUN_DIR" "$RUN_DIR/uploads"
touch "$RUN_DIR/access.log"
chown "$GATEWAY_USER" "$RUN_DIR/access.log"
write_gateway_settings "$GATEWAY_SETTINGS"
exec lighttpd -D -f "${GATEWAY_CONF:-$PROJECT_ROOT/lighttpd.conf}" "$@"
