# shellcheck shell=bash
# Sourced by gateway_settings.sh: where the gateway listens (GATEWAY_BIND, on both address
# families) and HTTPS (GATEWAY_TLS_*), written as lighttpd settings like the rest of .env.
# README, HTTPS; docs/security.md, TLS.

# The TLS policy. TLS 1.2 is the floor (1.3 is taken whenever the client offers it: the
# highest common version always wins). TLS 1.2 gets only forward-secret AEAD suites, for
# ECDSA and RSA certificates alike (Mozilla's "intermediate" list without DHE, which
# would need a dhparam file); TLS 1.3 keeps OpenSSL's own three suites. No session
# tickets: lighttpd's ticket key would outlive a certificate change in one process.
TLS_CIPHERS=ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305
TLS_GROUPS=X25519:prime256v1:secp384r1

# host_has_ipv6 [loopback]: this host (its network namespace) has an IPv6 address; with
# "loopback", the address ::1 itself.
host_has_ipv6() {
	[ -r /proc/net/if_inet6 ] || return 1
	if [ "${1-}" = loopback ]; then
		grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6
	else
		[ -s /proc/net/if_inet6 ]
	fi
}

# gateway_addrs: the addresses the gateway listens on, one a line, IPv6 ones bracketed.
# GATEWAY_BIND is one address or a comma-separated list of either family. The loopback
# 127.0.0.1 brings [::1], and the wildcard 0.0.0.0 brings [::], when the host has IPv6;
# any other address, or a list, is taken as written.
gateway_addrs() {
	local addr list=()
	IFS=, read -ra list <<<"${GATEWAY_BIND:-127.0.0.1}"
	[ ${#list[@]} -gt 0 ] || list=(127.0.0.1)
	if [ ${#list[@]} -eq 1 ]; then
		case ${list[0]} in
		127.0.0.1) host_has_ipv6 loopback && list+=('::1') ;;
		0.0.0.0) host_has_ipv6 && list+=('::') ;;
		esac
	fi
	for addr in "${list[@]}"; do
		addr=${addr//[[:space:]]/}
		addr=${addr#[} addr=${addr%]}
		if [[ ! $addr =~ ^[0-9A-Za-z.:%_-]+$ ]]; then
			echo "GATEWAY_BIND: '$addr' is not an address" >&2
			return 1
		fi
		[[ $addr == *:* ]] && addr="[$addr]"
		echo "$addr"
	done
}

# listen_settings: the first address is server.bind (lighttpd.conf), every other one a
# listener of its own on the same port. lighttpd sets IPV6_V6ONLY, so [::] and 0.0.0.0
# bind side by side.
listen_settings() {
	local out addrs addr
	out=$(gateway_addrs) || return 1
	mapfile -t addrs <<<"$out"
	addr=${addrs[0]#[} addr=${addr%]}
	echo "var.gateway_bind = \"$addr\""
	for addr in "${addrs[@]:1}"; do
		echo "\$SERVER[\"socket\"] == \"$addr:$API_GATEWAY_PORT\" { }"
	done
}

# on_off NAME: the variable is 0 (or empty) or 1; prints it.
on_off() {
	case ${!1:-0} in
	0 | 1) echo "${!1:-0}" ;;
	*) echo "$1 must be 0 or 1" >&2; return 1 ;;
	esac
}

# tls_prepare: with GATEWAY_TLS_SELF_SIGNED=1 (a development host), a self-signed pair
# where GATEWAY_TLS_CERT and GATEWAY_TLS_KEY point, or in RUN_DIR/tls/ when they are
# empty; an existing pair is kept. Never without that setting: production certificates
# come from the operator (README, HTTPS).
tls_prepare() {
	local self dir key_tmp
	[ -n "${GATEWAY_TLS_PORT:-}" ] || return 0
	self=$(on_off GATEWAY_TLS_SELF_SIGNED) || return 1
	[ "$self" = 1 ] || return 0
	export GATEWAY_TLS_CERT=${GATEWAY_TLS_CERT:-$RUN_DIR/tls/gateway.crt}
	export GATEWAY_TLS_KEY=${GATEWAY_TLS_KEY:-$RUN_DIR/tls/gateway.key}
	[ -e "$GATEWAY_TLS_CERT" ] && [ -e "$GATEWAY_TLS_KEY" ] && return 0
	dir=$(dirname "$GATEWAY_TLS_KEY")
	mkdir -p "$dir" "$(dirname "$GATEWAY_TLS_CERT")"
	key_tmp=$(mktemp "$GATEWAY_TLS_KEY.XXXXXX")
	if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 \
		-subj "/CN=$(hostname)" -keyout "$key_tmp" -out "$GATEWAY_TLS_CERT" \
		-addext "subjectAltName=DNS:localhost,DNS:$(hostname),IP:127.0.0.1,IP:::1" 2>/dev/null; then
		rm -f "$key_tmp"
		echo "GATEWAY_TLS_SELF_SIGNED: openssl could not make a certificate" >&2
		return 1
	fi
	install_tls_key "$key_tmp" "$GATEWAY_TLS_KEY"
	chmod 644 "$GATEWAY_TLS_CERT"
	echo "GATEWAY_TLS_SELF_SIGNED=1: made a self-signed certificate for development, $GATEWAY_TLS_CERT (never use one in production)" >&2
}

# install_tls_key TMP KEY: TMP renamed to KEY, readable by root and the gateway's group
# only. lighttpd reads its key as root at start, but again as the gateway's user on each
# graceful restart (make reload), so that user must be able to read it.
install_tls_key() {
	chmod 640 "$1"
	chgrp "$GATEWAY_USER" "$1"
	mv -f "$1" "$2"
}

# tls_settings: with GATEWAY_TLS_PORT set, HTTPS on that port on every address the plain
# port has, with HTTP/2 (ALPN h2, and HTTP/1.1), HSTS (GATEWAY_HSTS_SECONDS) and the plain
# port answering 308 to HTTPS (GATEWAY_TLS_REDIRECT=1). Empty: plain HTTP only.
tls_settings() {
	local out addrs addr name hsts redirect cert key port
	[ -n "${GATEWAY_TLS_PORT:-}" ] || return 0
	if [[ ! $GATEWAY_TLS_PORT =~ ^[0-9]+$ ]] || [ "$GATEWAY_TLS_PORT" -lt 1 ] ||
		[ "$GATEWAY_TLS_PORT" -gt 65535 ] || [ "$GATEWAY_TLS_PORT" = "$API_GATEWAY_PORT" ]; then
		echo "GATEWAY_TLS_PORT must be a port number other than API_GATEWAY_PORT (empty: no HTTPS)" >&2
		return 1
	fi
	for name in GATEWAY_TLS_CERT GATEWAY_TLS_KEY; do
		if [ -z "${!name:-}" ] || ! gateway_user_reads "${!name}"; then
			echo "$name: '${!name:-}' is not a file that $GATEWAY_USER can read (GATEWAY_TLS_PORT is set)" >&2
			return 1
		fi
	done
	hsts=${GATEWAY_HSTS_SECONDS:-0}
	if [[ ! $hsts =~ ^[0-9]+$ ]]; then
		echo "GATEWAY_HSTS_SECONDS must be a number of seconds (0: no HSTS header)" >&2
		return 1
	fi
	redirect=$(on_off GATEWAY_TLS_REDIRECT) || return 1
	cert=$(lighttpd_string GATEWAY_TLS_CERT) || return 1
	key=$(lighttpd_string GATEWAY_TLS_KEY) || return 1
	out=$(gateway_addrs) || return 1
	mapfile -t addrs <<<"$out"
	cat <<CONF
server.modules += ( "mod_openssl", "mod_redirect" )
server.feature-flags += ( "server.h2proto" => "enable" )
ssl.pemfile = $cert
ssl.privkey = $key
ssl.openssl.ssl-conf-cmd = (
    "MinProtocol"  => "TLSv1.2",
    "CipherString" => "$TLS_CIPHERS",
    "Groups"       => "$TLS_GROUPS",
    "Options"      => "-SessionTicket",
)
CONF
	for addr in "${addrs[@]}"; do
		echo "\$SERVER[\"socket\"] == \"$addr:$GATEWAY_TLS_PORT\" { ssl.engine = \"enable\" }"
	done
	if [ "$hsts" -gt 0 ]; then
		echo "\$HTTP[\"scheme\"] == \"https\" { setenv.add-response-header = ( \"Strict-Transport-Security\" => \"max-age=$hsts\" ) }"
	fi
	if [ "$redirect" = 1 ]; then
		port=":$GATEWAY_TLS_PORT"
		[ "$GATEWAY_TLS_PORT" != 443 ] || port=
		# %1: the Host header's name without its port; $1: the path and query as asked.
		cat <<CONF
\$HTTP["scheme"] == "http" {
    \$HTTP["host"] =~ "^(\\[[0-9A-Fa-f:.]+\\]|[^:]+)(:[0-9]+)?\$" {
        url.redirect = ( "^(.*)\$" => "https://%1$port\$1" )
        url.redirect-code = 308
    }
}
CONF
	fi
}
