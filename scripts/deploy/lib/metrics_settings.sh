# shellcheck shell=bash
# Sourced by gateway_settings.sh: the gateway's admin listen for Prometheus (README,
# Observability), written into the settings file. METRICS_BIND:METRICS_PORT (default
# 127.0.0.1:9180; METRICS_PORT=0 turns it off) serves only these GET paths:
#   /metrics/gateway          lighttpd's own counters (scripts/gateway/metrics.lua)
#   /metrics/inventory/N      inventory backend N of INVENTORY_FCGI_ADDR as the gateway
#                             lists it (unix:PATH-0, -1... then host:port ones)
#   /metrics/publisher        billing_publisher, on the socket lighttpd spawned it on
#   /metrics/billing_app/N    billing_app instance N's page, a file it rewrites itself
# The public listen routes none of them (fastcgi.server maps only /api/movies and
# /api/billing there), and every other path on the admin listen is a 403.

# metrics_settings ADDR...: the admin listen's block, for the inventory backends ADDR...
# shellcheck disable=SC2016 # the $HTTP of lighttpd conditions, not a shell expansion
metrics_settings() {
	local i addr host port
	[ "${METRICS_PORT:-9180}" != 0 ] || return 0
	if [[ ! ${METRICS_PORT:-9180} =~ ^[0-9]+$ ]] || [[ ${METRICS_BIND:-127.0.0.1} == *[\"\\\ ]* ]]; then
		echo "METRICS_BIND/METRICS_PORT: expected an address and a port number" >&2
		return 1
	fi
	cat <<CONF
\$SERVER["socket"] == "${METRICS_BIND:-127.0.0.1}:${METRICS_PORT:-9180}" {
    \$HTTP["url"] !~ "^/metrics/" {
        url.access-deny = ( "" )
    }
    \$HTTP["request-method"] !~ "^(GET|HEAD)\$" {
        url.access-deny = ( "" )
    }
    \$HTTP["url"] == "/metrics/gateway" {
        magnet.attract-raw-url-to = ( env.PROJECT_ROOT + "/scripts/gateway/metrics.lua" )
    }
    \$HTTP["url"] == "/metrics/publisher" {
        fastcgi.server = ( "/metrics" => ( "metrics-publisher" => (
            "socket" => env.RUN_DIR + "/sockets/billing.sock-0", "check-local" => "disable" ) ) )
    }
CONF
	i=0
	for addr in "$@"; do
		if [[ $addr == unix:/* ]]; then
			printf '    $HTTP["url"] == "/metrics/inventory/%d" {\n' "$i"
			printf '        fastcgi.server = ( "/metrics" => ( "metrics-inventory-%d" => (\n' "$i"
			printf '            "socket" => "%s", "check-local" => "disable" ) ) )\n    }\n' "${addr#unix:}"
		else
			host=${addr%:*} port=${addr##*:}
			host=${host#[} host=${host%]}
			printf '    $HTTP["url"] == "/metrics/inventory/%d" {\n' "$i"
			printf '        fastcgi.server = ( "/metrics" => ( "metrics-inventory-%d" => (\n' "$i"
			printf '            "host" => "%s", "port" => %s, "check-local" => "disable" ) ) )\n    }\n' "$host" "$port"
		fi
		i=$((i + 1))
	done
	for ((i = 0; i < ${BILLING_INSTANCES:-1}; i++)); do
		printf '    $HTTP["url"] == "/metrics/billing_app/%d" {\n' "$i"
		printf '        alias.url = ( "/metrics/billing_app/%d" => env.RUN_DIR + "/metrics/billing_app-%d.prom" )\n' "$i" "$i"
		printf '        mimetype.assign = ( "" => "text/plain; version=0.0.4; charset=utf-8" )\n'
		printf '        setenv.set-response-header = ( "Cache-Control" => "no-store" )\n    }\n'
	done
	echo "}"
}
