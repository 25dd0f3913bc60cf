# shellcheck shell=bash
# Sourced by every script: the project's paths and its configuration from .env.
# A variable already set in the environment wins over .env, and .env over .env.example.

PROJECT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PROJECT_ROOT

# NAME -> value of what load_env took from .env or .env.example or derived (see pm2_).
declare -gA ENV_FILE_VALUES=()

# export_default NAME VALUE: exports NAME=VALUE unless NAME is set already. A value equal
# to the file's counts as the file's, whoever exported it (a parent script's load_env).
export_default() {
	if [ -n "${!1+set}" ]; then
		[ "${!1}" != "$2" ] || ENV_FILE_VALUES[$1]=$2
		return 0
	fi
	export "$1=$2"
	ENV_FILE_VALUES[$1]=$2
}

# load_env_file FILE: exports each NAME=value line whose NAME is not set yet.
load_env_file() {
	local line name value
	while IFS= read -r line || [ -n "$line" ]; do
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		if [[ ! $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
			echo "$1: ignoring a line that is not NAME=value: $line" >&2
			continue
		fi
		name=${BASH_REMATCH[1]}
		value=${BASH_REMATCH[2]}
		if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then
			value=${BASH_REMATCH[1]}
		fi
		export_default "$name" "$value"
	done < "$1"
}

# INVENTORY_FCGI_ADDR lists every inventory address the gateway balances over; an
# inventory host listens on INVENTORY_LISTEN_ADDR, by default the list's first entry.
# derive_env runs again after a caller changes INVENTORY_FCGI_ADDR: a derived
# INVENTORY_LISTEN_ADDR follows the list, a configured one stays.
derive_env() {
	if [ "${INVENTORY_LISTEN_ADDR-}" = "${DERIVED_LISTEN_ADDR-unset}" ]; then
		unset INVENTORY_LISTEN_ADDR
	fi
	export_default INVENTORY_LISTEN_ADDR "${INVENTORY_FCGI_ADDR%%,*}"
	DERIVED_LISTEN_ADDR=${ENV_FILE_VALUES[INVENTORY_LISTEN_ADDR]-unset}
	export INVENTORY_FCGI_HOST=${INVENTORY_LISTEN_ADDR%:*}
	export INVENTORY_FCGI_PORT=${INVENTORY_LISTEN_ADDR##*:}
	ENV_FILE_VALUES[INVENTORY_FCGI_HOST]=$INVENTORY_FCGI_HOST
	ENV_FILE_VALUES[INVENTORY_FCGI_PORT]=$INVENTORY_FCGI_PORT
}

load_env() {
	[ -f "$PROJECT_ROOT/.env" ] || cp "$PROJECT_ROOT/.env.example" "$PROJECT_ROOT/.env"
	load_env_file "$PROJECT_ROOT/.env"
	load_env_file "$PROJECT_ROOT/.env.example"
	derive_env
	export RUN_DIR=${RUN_DIR:-$PROJECT_ROOT/.run}
	export BUILD_DIR=${BUILD_DIR:-$PROJECT_ROOT/build/release}
	export PM2=${PM2:-$PROJECT_ROOT/scripts/node_modules/.bin/pm2}
}

# pm2_ ARGS...: PM2 without the values that came from .env unchanged, so that every app
# reads .env afresh each time it starts (app.sh, gateway.sh) and no password from it is
# kept in PM2's process list or dump. What the caller set itself (a test's private
# ports, a VM's hosts) still reaches the apps.
pm2_() {
	local name unset=()
	for name in "${!ENV_FILE_VALUES[@]}"; do
		[ "${!name-}" != "${ENV_FILE_VALUES[$name]}" ] || unset+=(-u "$name")
	done
	env "${unset[@]}" "$PM2" "$@"
}
