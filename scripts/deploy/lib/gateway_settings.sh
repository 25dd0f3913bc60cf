# shellcheck shell=bash
# Sourced by gateway.sh and reload.sh: the part of the gateway's configuration that comes
# from .env, written as lighttpd `var.` settings into a file that lighttpd.conf includes.
# lighttpd re-reads that file on a graceful restart (SIGUSR1), while its own environment
# stays the one it started with: that is how `make reload` applies an edited .env
# without closing the port.
source "$(dirname "${BASH_SOURCE[0]}")/gateway_tls.sh"

source "$PROJECT_ROOT/scripts/deploy/lib/metrics_settings.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/host.sh"

# lighttpd_string NAME: the variable's value as a quoted lighttpd string. Quotes,
# backslashes and line breaks are refused rather than escaped: no setting needs them.
lighttpd_string() {
	local value=${!1-}
	if [[ $value == *[\"\\$'\n']* ]]; then
		echo "$1: a quote, backslash or line break cannot go into lighttpd.conf" >&2
		return 1
	fi
	printf '"%s"' "$value"
}

# inventory_backends ADDR...: one lighttpd backend per address, host:port (TCP) or
# unix:PATH (a socket of an instance on this host), keyed inventory-N (N from 0 in this
# order): the key names the backend in lighttpd's statistics (/metrics/gateway).
inventory_backends() {
	local addr host port sep='' n=0
	[ $# -gt 0 ] || { echo "INVENTORY_FCGI_ADDR is empty" >&2; return 1; }
	printf '(\n'
	for addr in "$@"; do
		if [[ $addr == unix:/* && $addr != *[\"\\]* ]]; then
			printf '%s    "inventory-%d" => var.inventory_socket_backend + ( "socket" => "%s" )' "$sep" "$n" "${addr#unix:}"
			n=$((n + 1))
			sep=$',\n'
			continue
		fi
		host=${addr%:*} port=${addr##*:}
		host=${host#[} host=${host%]}
		if [ -z "$host" ] || [[ ! $port =~ ^[0-9]+$ ]] || [[ $host == *[\"\\]* ]]; then
			echo "INVENTORY_FCGI_ADDR: '$addr' is not host:port" >&2
			return 1
		fi
		printf '%s    "inventory-%d" => var.inventory_backend + ( "host" => "%s", "port" => %s )' "$sep" "$n" "$host" "$port"
		n=$((n + 1))
		sep=$',\n'
	done
	printf '\n)'
}

# The publisher's environment: lighttpd passes only these (and PATH) to the programs it
# spawns, so a reload hands the new values to the new publisher. It answers /api/health
# too, asking each inventory backend: HEALTH_INVENTORY_ADDRS is the gateway's own list
# (INVENTORY_FCGI_ADDR) written out, one address per backend.
PUBLISHER_ENV=(RABBITMQ_URL RABBITMQ_QUEUE_TYPE QUEUE_NAME REQUEST_BODY_MAX_KB BILLING_CONFIRM_TIMEOUT_MS
	BILLING_PUBLISHER_THREADS)

gateway_settings() {
	local name backends addrs inventory_backend_list health_db_apis
	mapfile -t addrs < <(inventory_backend_addrs)
	backends=$(inventory_backends "${addrs[@]}") || return 1
	health_db_apis=$(database_tier_apis) || return 1
	# shellcheck disable=SC2034 # lighttpd_string reads it by name
	inventory_backend_list=$(IFS=,; echo "${addrs[*]}")
	echo "# Written from .env by scripts/deploy/gateway.sh and make reload: edit .env, not this."
	listen_settings || return 1
	echo "var.gateway_port = $(lighttpd_string API_GATEWAY_PORT)"
	echo "var.request_body_max_kb = $(lighttpd_string REQUEST_BODY_MAX_KB)"
	echo "var.inventory_backends = $backends"
	conn_limit_settings || return 1
	auth_settings || return 1
	tls_settings || return 1
	metrics_settings "${addrs[@]}" || return 1
	echo "var.publisher_environment = ("
	for name in "${PUBLISHER_ENV[@]}"; do
		[ -n "${!name-}" ] || continue
		echo "    \"$name\" => $(lighttpd_string "$name"),"
	done
	echo "    \"HEALTH_INVENTORY_ADDRS\" => $(lighttpd_string inventory_backend_list),"
	[ -z "$health_db_apis" ] || echo "    \"HEALTH_DB_APIS\" => $(lighttpd_string health_db_apis),"
	echo ")"
}

# database_tier_apis: with a database tier (DB_HOSTS, lib/patroni.sh), each DB host's
# Patroni REST API as address:DB_API_PORT, comma-separated: the publisher's HEALTH_DB_APIS,
# which /api/health asks for each host's role and lag (billing/database_tier.c). The
# names are resolved here, as provisioning resolves DB_HOSTS, so that the health check
# never waits on a lookup. Nothing without DB_HOSTS.
database_tier_apis() {
	local host addr port=${DB_API_PORT:-8008} apis=()
	[ -n "${DB_HOSTS:-}" ] || return 0
	if [[ ! $port =~ ^[0-9]+$ ]]; then
		echo "DB_API_PORT must be a port number" >&2
		return 1
	fi
	for host in $(list_words "$DB_HOSTS"); do
		addr=$(first_ipv4 "$host")
		[ -n "$addr" ] || { echo "DB_HOSTS: cannot resolve $host" >&2; return 1; }
		apis+=("$addr:$port")
	done
	(IFS=,; echo "${apis[*]}")
}

# conn_limit_settings: GATEWAY_MAX_CONNS_PER_IP for scripts/gateway/conn_limit.lua, which
# lighttpd runs first for every request (0: no limit).
conn_limit_settings() {
	if [[ ! ${GATEWAY_MAX_CONNS_PER_IP-} =~ ^[0-9]+$ ]]; then
		echo "GATEWAY_MAX_CONNS_PER_IP must be a number (0: no limit)" >&2
		return 1
	fi
	echo "setenv.set-environment = ( \"GATEWAY_MAX_CONNS_PER_IP\" => \"$GATEWAY_MAX_CONNS_PER_IP\" )"
}

# auth_settings: with GATEWAY_HTPASSWD set (an htpasswd file the gateway's user can read),
# lighttpd itself asks for HTTP Basic authentication on the writes to /api/movies (POST,
# PUT, DELETE); reads stay open. Unset or empty: no authentication.
auth_settings() {
	local file
	[ -n "${GATEWAY_HTPASSWD:-}" ] || return 0
	if ! gateway_user_reads "$GATEWAY_HTPASSWD"; then
		echo "GATEWAY_HTPASSWD: $GATEWAY_HTPASSWD is not a file that $GATEWAY_USER can read" >&2
		return 1
	fi
	file=$(lighttpd_string GATEWAY_HTPASSWD) || return 1
	cat <<CONF
auth.backend = "htpasswd"
auth.backend.htpasswd.userfile = $file
\$HTTP["url"] =~ "^/api/movies(/|\$)" {
    \$HTTP["request-method"] =~ "^(POST|PUT|DELETE)\$" {
        auth.require = ( "" => ( "method" => "basic", "realm" => "movies API", "require" => "valid-user" ) )
    }
}
CONF
}

# gateway_user_reads FILE: the gateway's user (lighttpd after it drops root) can read FILE.
gateway_user_reads() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid="$GATEWAY_USER" --regid="$GATEWAY_USER" --init-groups test -f "$1" -a -r "$1"
	else
		[ -f "$1" ] && [ -r "$1" ]
	fi
}

# write_gateway_settings FILE: FILE holds a password (RABBITMQ_URL), so it is readable by
# root and the gateway's group only; it is replaced in one rename.
write_gateway_settings() {
	local file=$1 tmp
	tls_prepare || return 1
	tmp=$(mktemp "$file.XXXXXX")
	if ! gateway_settings >"$tmp"; then
		rm -f "$tmp"
		return 1
	fi
	chmod 640 "$tmp"
	chgrp "$GATEWAY_USER" "$tmp"
	mv -f "$tmp" "$file"
}

# gateway_run_dir: RUN_DIR stays the starting user's (root's): it holds the settings file,
# which lighttpd reads before it drops root. The gateway's user may write its uploads, its
# sockets (the publisher's) and the access log (reopened after a graceful restart) only.
gateway_run_dir() {
	mkdir -p "$RUN_DIR/uploads" "$RUN_DIR/sockets"
	chown "$(id -u):$(id -g)" "$RUN_DIR"
	chmod 755 "$RUN_DIR"
	touch "$RUN_DIR/access.log"
	chown "$GATEWAY_USER" "$RUN_DIR/uploads" "$RUN_DIR/sockets" "$RUN_DIR/access.log"
}

# gateway_env: what lighttpd.conf takes from the environment, fixed for the life of the
# gateway process: the user it drops root for (the publisher it spawns runs as that user
# too), the settings file's path and the publisher's binary.
gateway_env() {
	if [ "$(id -u)" = 0 ]; then
		export GATEWAY_USER=${GATEWAY_USER:-www-data}
	else
		export GATEWAY_USER=${GATEWAY_USER:-$(id -un)}
	fi
	export GATEWAY_SETTINGS=$RUN_DIR/gateway-settings.conf
	export BILLING_PUBLISHER_BIN=$BUILD_DIR/billing_publisher
}
