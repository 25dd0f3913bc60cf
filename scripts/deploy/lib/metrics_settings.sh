# shellcheck shell=bash
# Sourced by gateway_settings.sh: the gateway's admin listen for Prometheus (README,
# Observability), written into the settings file. METRICS_BIND:METRICS_PORT (default
# 127.0.0.1:9180; METRICS_PORT=0 turns it off) serves only these GET paths:
#   /metrics/gateway          lighttpd's own counters (scripts/gateway/metrics.lua)
#   /metrics/inventory/N      inventory instance N of inventory_metrics_addrs (below):
#                             unix:PATH-0, -1... for this host's, then for each
#                             host:port backend one per instance, on its own port
#   /metrics/publisher        billing_publisher, on the socket lighttpd spawned it on
#   /metrics/billing_app/N    billing_app instance N's page: a file it rewrites itself,
#                             or, on a billing host of its own, its own port there
# The public listen routes none of them (fastcgi.server maps only /api/movies and
# /api/billing there), and every other path on the admin listen is a 403.

# metrics_port BASE I NAME: port BASE + I, or a message naming the setting NAME.
metrics_port() {
	if [[ ! $1 =~ ^[0-9]{1,5}$ ]] || [[ ! $2 =~ ^[0-9]{1,5}$ ]] || [ $((10#$1 + 10#$2)) -gt 65535 ]; then
		echo "$3=$1: expected a port number (0: off) with room for instance $2" >&2
		return 1
	fi
	echo $((10#$1 + 10#$2))
}

# inventory_metrics_addrs: the inventory instances the admin listen scrapes, one a line,
# in the order of /metrics/inventory/N. Each unix:PATH-I of inventory_backend_addrs is
# one instance. INVENTORY_INSTANCES processes share a host:port backend's port (a scrape
# there reaches one of them at random), so instance I of that host serves its page on
# the same host's port INVENTORY_METRICS_PORT + I too (scripts/deploy/app.sh):
# host:INVENTORY_METRICS_PORT+I for each I. INVENTORY_METRICS_PORT=0: host:port once.
inventory_metrics_addrs() {
	local addr n i port base=${INVENTORY_METRICS_PORT:-9190}
	n=$(inventory_instances)
	while IFS= read -r addr; do
		if [[ $addr == unix:* ]] || [ "$base" = 0 ]; then
			echo "$addr"
			continue
		fi
		for ((i = 0; i < n; i++)); do
			port=$(metrics_port "$base" "$i" INVENTORY_METRICS_PORT) || return 1
			echo "${addr%:*}:$port"
		done
	done < <(inventory_backend_addrs)
}

# billing_metrics_addr I: where billing_app instance I serves its page over FastCGI:
# BILLING_HOST:BILLING_METRICS_PORT+I when billing has a host of its own (BILLING_HOST
# set, as on a multi-host deployment) and BILLING_METRICS_PORT is not 0. Otherwise none
# (status 1): its page is a file on this host, which the admin listen serves.
billing_metrics_addr() {
	local base=${BILLING_METRICS_PORT:-9290} port
	[ -n "${BILLING_HOST:-}" ] && [ "$base" != 0 ] || return 1
	port=$(metrics_port "$base" "$1" BILLING_METRICS_PORT) || return 2
	echo "$BILLING_HOST:$port"
}

# metrics_fcgi_route PATH NAME ADDR: the admin listen's route of PATH to the metrics page
# on ADDR (unix:PATH or host:port), as lighttpd backend NAME.
# shellcheck disable=SC2016 # the $HTTP of lighttpd conditions, not a shell expansion
metrics_fcgi_route() {
	local host port
	printf '    $HTTP["url"] == "%s" {\n' "$1"
	printf '        fastcgi.server = ( "/metrics" => ( "%s" => (\n' "$2"
	if [[ $3 == unix:/* ]]; then
		printf '            "socket" => "%s", "check-local" => "disable" ) ) )\n    }\n' "${3#unix:}"
	else
		host=${3%:*} port=${3##*:}
		host=${host#[} host=${host%]}
		printf '            "host" => "%s", "port" => %s, "check-local" => "disable" ) ) )\n    }\n' "$host" "$port"
	fi
}

# metrics_settings: the admin listen's block (the inventory's pages: inventory_metrics_addrs).
# shellcheck disable=SC2016 # the $HTTP of lighttpd conditions, not a shell expansion
metrics_settings() {
	local i addr addrs list status
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
	list=$(inventory_metrics_addrs) || return 1
	mapfile -t addrs <<<"$list"
	for i in "${!addrs[@]}"; do
		metrics_fcgi_route "/metrics/inventory/$i" "metrics-inventory-$i" "${addrs[$i]}"
	done
	for ((i = 0; i < ${BILLING_INSTANCES:-1}; i++)); do
		status=0
		addr=$(billing_metrics_addr "$i") || status=$?
		if [ "$status" = 0 ]; then
			metrics_fcgi_route "/metrics/billing_app/$i" "metrics-billing_app-$i" "$addr"
			continue
		fi
		[ "$status" = 1 ] || return 1
		printf '    $HTTP["url"] == "/metrics/billing_app/%d" {\n' "$i"
		printf '        alias.url = ( "/metrics/billing_app/%d" => env.RUN_DIR + "/metrics/billing_app-%d.prom" )\n' "$i" "$i"
		printf '        mimetype.assign = ( "" => "text/plain; version=0.0.4; charset=utf-8" )\n'
		printf '        setenv.set-response-header = ( "Cache-Control" => "no-store" )\n    }\n'
	done
	echo "}"
}
