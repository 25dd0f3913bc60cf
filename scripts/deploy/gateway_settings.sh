# shellcheck shell=bash
# Sourced by gateway.sh and reload.sh: the part of the gateway's configuration that comes
# from .env, written as lighttpd `var.` settings into a file that lighttpd.conf includes.
# lighttpd re-reads that file on a graceful restart (SIGUSR1), while its own environment
# stays the one it started with: that is how `make reload` applies an edited .env
# without closing the port.

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

# inventory_backends: one lighttpd backend per host:port (or unix:PATH, a local socket)
# of INVENTORY_FCGI_ADDR.
inventory_backends() {
	local addrs addr host port sep=''
	IFS=', ' read -r -a addrs <<<"$INVENTORY_FCGI_ADDR"
	[ ${#addrs[@]} -gt 0 ] || { echo "INVENTORY_FCGI_ADDR is empty" >&2; return 1; }
	printf '(\n'
	for addr in "${addrs[@]}"; do
		if [[ $addr == unix:/* && $addr != *[\"\\]* ]]; then
			printf '%s    var.inventory_backend + ( "socket" => "%s" )' "$sep" "${addr#unix:}"
			sep=$',\n'
			continue
		fi
		host=${addr%:*} port=${addr##*:}
		host=${host#[} host=${host%]}
		if [ -z "$host" ] || [[ ! $port =~ ^[0-9]+$ ]] || [[ $host == *[\"\\]* ]]; then
			echo "INVENTORY_FCGI_ADDR: '$addr' is not host:port" >&2
			return 1
		fi
		printf '%s    var.inventory_backend + ( "host" => "%s", "port" => %s )' "$sep" "$host" "$port"
		sep=$',\n'
	done
	printf '\n)'
}

# The publisher's environment: lighttpd passes only these (and PATH) to the programs it
# spawns, so a reload hands the new values to the new publisher. It answers /api/health
# too, asking each inventory address.
PUBLISHER_ENV=(RABBITMQ_URL QUEUE_NAME REQUEST_BODY_MAX_KB BILLING_CONFIRM_TIMEOUT_MS
	BILLING_PUBLISHER_THREADS INVENTORY_FCGI_ADDR)

gateway_settings() {
	local name backends
	backends=$(inventory_backends) || return 1
	echo "# Written from .env by scripts/deploy/gateway.sh and make reload: edit .env, not this."
	echo "var.gateway_bind = $(lighttpd_string GATEWAY_BIND)"
	echo "var.gateway_port = $(lighttpd_string API_GATEWAY_PORT)"
	echo "var.request_body_max_kb = $(lighttpd_string REQUEST_BODY_MAX_KB)"
	echo "var.inventory_backends = $backends"
	echo "var.publisher_environment = ("
	for name in "${PUBLISHER_ENV[@]}"; do
		[ -n "${!name-}" ] || continue
		echo "    \"$name\" => $(lighttpd_string "$name"),"
	done
	echo ")"
}

# write_gateway_settings FILE: FILE holds a password (RABBITMQ_URL), so it is readable by
# root and the gateway's group only; it is replaced in one rename.
write_gateway_settings() {
	local file=$1 tmp
	tmp=$(mktemp "$file.XXXXXX")
	if ! gateway_settings >"$tmp"; then
		rm -f "$tmp"
		return 1
	fi
	chmod 640 "$tmp"
	chgrp "$GATEWAY_USER" "$tmp"
	mv -f "$tmp" "$file"
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
