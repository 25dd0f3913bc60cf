# Sourced by every script: the project's paths and its configuration from .env.
# A variable already set in the environment wins over .env, and .env over .env.example.

PROJECT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export PROJECT_ROOT

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
		[ -n "${!name+set}" ] || export "$name=$value"
	done < "$1"
}

# What the gateway config needs in pieces, derived from the one address.
derive_env() {
	export INVENTORY_FCGI_HOST=${INVENTORY_FCGI_ADDR%:*}
	export INVENTORY_FCGI_PORT=${INVENTORY_FCGI_ADDR##*:}
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
