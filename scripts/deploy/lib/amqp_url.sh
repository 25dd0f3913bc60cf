# shellcheck shell=bash
# Sourced (by env.sh and rabbitmq.sh): RABBITMQ_URL taken apart and put back together.

# rabbit_url_parts: sets AMQP_SCHEME AMQP_USER AMQP_PASS AMQP_HOST AMQP_PORT AMQP_VHOST
# from RABBITMQ_URL (its first URL, when it lists one per broker node), percent-decoded.
# No vhost, or a trailing "/" alone, means the default vhost "/" (as the programs read
# it: fcgi/billing/broker.c).
rabbit_url_parts() {
	local re='^(amqps?)://(([^:@/]*)(:([^@/]*))?@)?([^:/]+)(:([0-9]+))?(/(.*))?$'
	[[ ${RABBITMQ_URL%%,*} =~ $re ]] || { echo "RABBITMQ_URL is not an amqp:// URL" >&2; return 1; }
	AMQP_SCHEME=${BASH_REMATCH[1]}
	AMQP_USER=$(percent_decode "${BASH_REMATCH[3]:-guest}")
	AMQP_PASS=$(percent_decode "${BASH_REMATCH[5]:-guest}")
	AMQP_HOST=${BASH_REMATCH[6]}
	AMQP_PORT=${BASH_REMATCH[8]:-5672}
	[ -n "${BASH_REMATCH[8]}" ] || [ "$AMQP_SCHEME" = amqp ] || AMQP_PORT=5671
	AMQP_VHOST=$(percent_decode "${BASH_REMATCH[10]:-/}")
}

# rabbit_url [HOST [PORT]]: RABBITMQ_URL rebuilt from its parts, on HOST and PORT when
# given. The default vhost is written as no path at all: every client reads that as "/",
# while rabbitmq-c's tools (amqp-publish) read a trailing "/" as the empty vhost.
rabbit_url() {
	rabbit_url_parts || return 1
	local path=
	[ "$AMQP_VHOST" = / ] || path=/$(percent_encode "$AMQP_VHOST")
	printf '%s://%s:%s@%s:%s%s\n' "$AMQP_SCHEME" "$(percent_encode "$AMQP_USER")" \
		"$(percent_encode "$AMQP_PASS")" "${1:-$AMQP_HOST}" "${2:-$AMQP_PORT}" "$path"
}

# rabbit_url_list HOST...: one URL per broker node, comma-separated, each on the AMQP
# port with RABBITMQ_URL's user, password and vhost.
rabbit_url_list() {
	local host urls=()
	for host in "$@"; do
		urls+=("$(rabbit_url "$host")") || return 1
	done
	(IFS=,; printf '%s\n' "${urls[*]}")
}

# percent_encode TEXT: every byte outside RFC 3986's unreserved characters as %XX.
percent_encode() {
	local LC_ALL=C text=$1 out='' c i
	for ((i = 0; i < ${#text}; i++)); do
		c=${text:i:1}
		case $c in
		[A-Za-z0-9._~-]) out+=$c ;;
		*) out+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	printf '%s\n' "$out"
}

# percent_decode TEXT: %XX sequences back to bytes (a backslash stays a backslash).
percent_decode() {
	local text=${1//\\/\\\\}
	printf '%b\n' "${text//%/\\x}"
}
