#!/usr/bin/env bash
# api_gateway_app: lighttpd in the foreground, configured from .env through the settings
# file that lighttpd.conf includes (gateway_settings.sh). Extra arguments go to lighttpd
# (for example -tt to check the config). GATEWAY_CONF picks another config
# (cgi-bin/lighttpd-cgi.conf serves the API as plain CGI).
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/gateway_settings.sh"
load_env
gateway_env

gateway_run_dir
write_gateway_settings "$GATEWAY_SETTINGS"
# lighttpd reads the passwords it needs from the settings file; plain CGI hands the
# programs its own environment (cgi-bin/lighttpd-cgi.conf), so it keeps them. No
# program needs the broker cluster's Erlang cookie.
unset BROKER_ERLANG_COOKIE
[ -n "${GATEWAY_CONF:-}" ] || unset POSTGRES_PASSWORD POSTGRES_BILLING_PASSWORD RABBITMQ_URL
exec lighttpd -D -f "${GATEWAY_CONF:-$PROJECT_ROOT/lighttpd.conf}" "$@"
