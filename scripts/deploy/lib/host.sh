# shellcheck shell=bash
# Sourced: this host's part of provisioning that no one service owns: waiting for a
# condition, the daemons' system users, which host of a list this one is, and the
# kernel setting that lets inventory instances hand over queued connections.

# wait_for SECONDS CMD...: re-runs CMD every 0.1 s until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# ensure_app_users APP...: the unprivileged system user (and group) each daemon runs as
# (app.sh), with no home and no shell. Only root can, and needs to: others run as themselves.
ensure_app_users() {
	local app user
	[ "$(id -u)" = 0 ] || return 0
	for app in "$@"; do
		user=$(app_user "$app")
		id -u "$user" >/dev/null 2>&1 ||
			useradd --system --user-group --no-create-home --home-dir /nonexistent \
				--shell /usr/sbin/nologin "$user"
	done
}

# first_ipv4 NAME: the IPv4 address NAME resolves to (libfcgi's allow-list takes addresses).
first_ipv4() {
	getent ahostsv4 "$1" | awk 'NR == 1 { print $1 }'
}

# this_host_in LIST: the first name (or address) of the comma list that resolves to an
# address of this host: which inventory host or broker node this one is.
this_host_in() {
	local item addr mine
	mine=$(ip -4 -o addr show | awk '{ sub("/.*", "", $4); print $4 }')
	for item in $(list_words "$1"); do
		addr=$(first_ipv4 "$item")
		if [ -n "$addr" ] && grep -qxF "$addr" <<<"$mine"; then
			echo "$item"
			return 0
		fi
	done
	return 1
}

# allow_listener_handover: when an inventory instance stops, the kernel hands the
# connections still queued on its socket to a sibling on the same port instead of
# resetting them (Linux >= 5.14; per network namespace).
allow_listener_handover() {
	sysctl -qw net.ipv4.tcp_migrate_req=1 2>/dev/null ||
		echo "warning: could not set net.ipv4.tcp_migrate_req=1: a restart may reset queued requests" >&2
}

# quiet_unless_failed CMD...: runs CMD, showing what it printed only when it fails (the
# CLI logs a node's passing complaints while it joins a cluster).
quiet_unless_failed() {
	local out
	out=$("$@" 2>&1) && return 0
	printf '%s\n' "$out" >&2
	return 1
}

# app_user APP: the unprivileged system user a daemon runs as (created by provisioning).
app_user() {
	case $1 in
	inventory_app) echo inventory ;;
	billing_app) echo billing ;;
	*) echo "no system user for $1" >&2; return 1 ;;
	esac
}
