# shellcheck shell=bash
# Sourced by every script: the project's paths and its configuration from .env.
# A variable already set in the environment wins over .env, and .env over .env.example.
# ENV_FILE names another settings file than the repository's .env (the three-host test
# gives all its hosts one, as Vagrant gives its VMs the synced .env).

# PROJECT_ROOT: the checkout, or in a tree that make install wrote, its share folder
# (laid out the same way). Only an installed tree has lib/installed.sh, written by make
# install: it points BUILD_DIR at the installed programs and ENV_FILE, RUN_DIR and PM2 at
# the installed places, each unless already set (see the Makefile's install).
# (The folder by expansion, not dirname: every test sources this, thousands of times a run.)
PROJECT_ROOT=${BASH_SOURCE[0]%/*}
[ "$PROJECT_ROOT" != "${BASH_SOURCE[0]}" ] || PROJECT_ROOT=.
PROJECT_ROOT=$(cd "$PROJECT_ROOT/../../.." && pwd)
export PROJECT_ROOT
if [ -f "$PROJECT_ROOT/scripts/deploy/lib/installed.sh" ]; then
	# shellcheck source=/dev/null # written by make install; no checkout has one
	source "$PROJECT_ROOT/scripts/deploy/lib/installed.sh"
fi
export ENV_FILE=${ENV_FILE:-$PROJECT_ROOT/.env}
source "$PROJECT_ROOT/scripts/deploy/lib/amqp_url.sh"

# NAME -> value of what load_env took from .env or .env.example or derived (see pm2_).
declare -gA ENV_FILE_VALUES=()

# Where .env.example has a password, it says this; provisioning refuses it as a password.
SECRET_PLACEHOLDER=change-me

# export_default NAME VALUE: exports NAME=VALUE unless NAME is set already. A value equal
# to the file's counts as the file's, whoever exported it (a parent script's load_env).
export_default() {
	if [ -n "${!1+set}" ]; then
		[ "${!1}" != "$2" ] || ENV_FILE_VALUES[$1]=$2
		return 0
	fi
	export "$1=$2"
	# shellcheck disable=SC2034 # pm2_ (lib/pm2.sh) reads it
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

random_secret() {
	od -An -tx1 -N16 /dev/urandom | tr -d ' \n'
}

# create_env_file FILE: .env.example with a random password of its own in place of each
# placeholder, written with mode 600 (mktemp's) and renamed into place.
create_env_file() {
	local line tmp
	tmp=$(mktemp "$1.XXXXXX")
	while IFS= read -r line || [ -n "$line" ]; do
		while [[ $line != \#* && $line == *"$SECRET_PLACEHOLDER"* ]]; do
			line=${line/"$SECRET_PLACEHOLDER"/$(random_secret)}
		done
		printf '%s\n' "$line"
	done <"$PROJECT_ROOT/.env.example" >"$tmp"
	mv -f "$tmp" "$1"
	echo "created $1 with random passwords" >&2
}

# is_secret NAME: the variable holds a password or the broker cluster's Erlang cookie.
is_secret() {
	[[ $1 == *_PASSWORD || $1 == BROKER_ERLANG_COOKIE ]]
}

# ensure_erlang_cookie: with RABBITMQ_NODES (a broker cluster), every node reads the one
# BROKER_ERLANG_COOKIE of the hosts' shared .env: a .env without it gets a random one
# appended. A single node keeps the cookie Debian made for it, and .env names none. A
# .env of an older layout named it RABBITMQ_ERLANG_COOKIE, which RabbitMQ's own CLI reads
# from the environment (so `set -a; . ./.env` broke rabbitmqctl): that line is renamed
# in a cluster and dropped on a single node.
ensure_erlang_cookie() {
	local cookie tmp
	[ -O "$ENV_FILE" ] || return 0
	if grep -q '^[[:space:]]*RABBITMQ_ERLANG_COOKIE=' "$ENV_FILE"; then
		tmp=$(mktemp "$ENV_FILE.XXXXXX")
		if [ -n "${RABBITMQ_NODES:-}" ]; then
			sed 's/^\([[:space:]]*\)RABBITMQ_ERLANG_COOKIE=/\1BROKER_ERLANG_COOKIE=/' "$ENV_FILE" >"$tmp"
		else
			grep -v '^[[:space:]]*RABBITMQ_ERLANG_COOKIE=' "$ENV_FILE" >"$tmp" || true
		fi
		mv -f "$tmp" "$ENV_FILE"
		echo "$ENV_FILE: RABBITMQ_ERLANG_COOKIE (a name rabbitmqctl reads) is now BROKER_ERLANG_COOKIE, in a cluster only" >&2
		[ -z "${RABBITMQ_NODES:-}" ] || export_default BROKER_ERLANG_COOKIE "${RABBITMQ_ERLANG_COOKIE-}"
		unset RABBITMQ_ERLANG_COOKIE
	fi
	[ -n "${RABBITMQ_NODES:-}" ] || return 0
	grep -q '^[[:space:]]*BROKER_ERLANG_COOKIE=' "$ENV_FILE" && return 0
	cookie=$(random_secret)
	printf 'BROKER_ERLANG_COOKIE=%s\n' "$cookie" >>"$ENV_FILE"
	[ -n "${BROKER_ERLANG_COOKIE-}" ] || derive_value BROKER_ERLANG_COOKIE "$cookie"
	echo "added a random BROKER_ERLANG_COOKIE to $ENV_FILE" >&2
}

# refuse_default_secrets: fails when a password or the Erlang cookie is still
# .env.example's placeholder, or RABBITMQ_URL names RabbitMQ's built-in guest user
# (provisioning removes it).
refuse_default_secrets() {
	local name bad=()
	for name in $(compgen -e); do
		is_secret "$name" && [ "${!name}" = "$SECRET_PLACEHOLDER" ] && bad+=("$name")
	done
	rabbit_url_parts
	[ "$AMQP_PASS" != "$SECRET_PLACEHOLDER" ] || bad+=("RABBITMQ_URL's password")
	[ "$AMQP_USER" != guest ] || bad+=("RABBITMQ_URL's user guest")
	[ ${#bad[@]} -eq 0 ] && return 0
	echo "$ENV_FILE: set a password of your own for: ${bad[*]}" >&2
	echo "(or move $ENV_FILE away: provisioning then writes one with random passwords)" >&2
	return 1
}

# derive_value NAME VALUE: exports NAME=VALUE as if .env said so (pm2_ leaves it out).
derive_value() {
	export "$1=$2"
	# shellcheck disable=SC2034 # pm2_ (lib/pm2.sh) reads it
	ENV_FILE_VALUES[$1]=$2
}

# list_words LIST: a comma (or space) separated list, one item a line.
list_words() {
	local items
	IFS=', ' read -r -a items <<<"$1"
	[ ${#items[@]} -eq 0 ] || printf '%s\n' "${items[@]}"
}

# inventory_instances: how many inventory_app processes PM2 runs on this host
# (INVENTORY_INSTANCES, read as scripts/deploy/ecosystem.config.js reads it).
inventory_instances() {
	local n=${INVENTORY_INSTANCES:-}
	[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] 2>/dev/null || n=2
	echo "$((10#$n))"
}

# inventory_backend_addrs: INVENTORY_FCGI_ADDR one address a line, each unix:PATH entry
# written out as the sockets of this host's instances, unix:PATH-0, unix:PATH-1...
# (instance N listens on PATH-N, as lighttpd names the sockets of its own max-procs).
inventory_backend_addrs() {
	local addr i n
	n=$(inventory_instances)
	while IFS= read -r addr; do
		if [[ $addr == unix:* ]]; then
			for ((i = 0; i < n; i++)); do echo "$addr-$i"; done
		else
			echo "$addr"
		fi
	done < <(list_words "$INVENTORY_FCGI_ADDR")
}

# RABBITMQ_ADDR (host:port), set by provisioning from BILLING_HOST and by the private
# stacks, moves RABBITMQ_URL to that address; otherwise RABBITMQ_NODES (the broker
# cluster's nodes) makes it one URL per node. Each app derives the URL itself, so the
# password in it never passes through PM2. A cluster's queues are quorum queues unless
# RABBITMQ_QUEUE_TYPE says otherwise.
derive_env() {
	local nodes
	mapfile -t nodes < <(list_words "${RABBITMQ_NODES:-}")
	if [ -n "${RABBITMQ_ADDR:-}" ]; then
		nodes=("${RABBITMQ_ADDR%:*}")
		derive_value RABBITMQ_URL "$(rabbit_url "${RABBITMQ_ADDR%:*}" "${RABBITMQ_ADDR##*:}")"
	elif [ ${#nodes[@]} -gt 0 ]; then
		derive_value RABBITMQ_URL "$(rabbit_url_list "${nodes[@]}")"
	fi
	if [ -z "${RABBITMQ_QUEUE_TYPE:-}" ] || [ "$RABBITMQ_QUEUE_TYPE" = "${DERIVED_QUEUE_TYPE-}" ]; then
		DERIVED_QUEUE_TYPE=classic
		[ ${#nodes[@]} -lt 2 ] || DERIVED_QUEUE_TYPE=quorum
		derive_value RABBITMQ_QUEUE_TYPE "$DERIVED_QUEUE_TYPE"
	fi
}

load_env() {
	[ -e "$ENV_FILE" ] || create_env_file "$ENV_FILE"
	# It holds every password: its owner alone reads it.
	[ ! -O "$ENV_FILE" ] || chmod 600 "$ENV_FILE"
	# A plain-CGI program runs as the gateway's user, which cannot read it: the gateway
	# hands it what it needs (cgi-bin/lighttpd-cgi.conf).
	[ ! -r "$ENV_FILE" ] || load_env_file "$ENV_FILE"
	load_env_file "$PROJECT_ROOT/.env.example"
	derive_env
	export RUN_DIR=${RUN_DIR:-$PROJECT_ROOT/.run}
	export BUILD_DIR=${BUILD_DIR:-$PROJECT_ROOT/build/release}
	export PM2=${PM2:-$PROJECT_ROOT/scripts/node_modules/.bin/pm2}
}
