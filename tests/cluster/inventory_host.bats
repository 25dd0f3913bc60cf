#!/usr/bin/env bats
# An inventory host dies under load and comes back (issue 12). Run by
# tests/lib/test-cluster.sh: two inventory hosts behind the gateway, the second of which
# loses every process to SIGKILL, then its network link. The gateway's connect timeout
# bounds the outage. The gateway takes its backends in turn (lighttpd.conf,
# fastcgi.balance "round-robin"), so the last host serves every other movie request
# whatever the load: how much traffic a host took is its own count of accepted
# connections (passive_opens: only the gateway connects to it).
bats_require_minimum_version 1.5.0

load ../lib/helpers
load cluster

# backend_setting NAME DEFAULT: a setting of the gateway's inventory backends, in seconds
# (lighttpd.conf, var.inventory_backend), or lighttpd's DEFAULT when the file has none.
backend_setting() {
	local value
	value=$(sed -n "/^var.inventory_backend/,/^)/s/.*\"$1\" *=> *\([0-9]*\).*/\1/p" \
		"$PROJECT_ROOT/lighttpd.conf")
	echo "${value:-$2}"
}

# inventory_serves HOST: HOST's inventory_app answers FastCGI on its port again.
inventory_serves() {
	in_host "$GATEWAY_HOST" tcp_open "$1" "$INVENTORY_TCP_PORT"
}

# inventory_outage HOW: the last inventory host is lost under load, HOW being "kill" (every
# process of it gets SIGKILL; it comes back as after a reboot, by PM2's resurrect) or
# "link" (its network link goes down, then up again). Movie requests fail only if they
# started before the gateway's connect timeout had passed; the host takes traffic again.
inventory_outage() {
	local how=$1 victim timeout disable lost_at opens
	victim=$(hosts_in "$INVENTORY_HOST" | tail -n 1)
	timeout=$(backend_setting connect-timeout "")
	[[ $timeout =~ ^[0-9]+$ ]] || fail "no connect-timeout for the inventory in lighttpd.conf"
	disable=$(backend_setting disable-time 1)
	load_start fresh 4 GET "$MOVIE"
	load_start fresh 2 POST /api/billing
	# Both inventory hosts serve before: the victim takes its turn.
	opens=$(passive_opens "$victim")
	wait_for 30 accepted_more "$victim" "$opens" 20 || fail "$victim took no traffic before"
	load_wait_for 100

	lost_at=$EPOCHREALTIME
	KILLS+=("$lost_at")
	case $how in
	kill) say "killing every process of $victim"; kill_host_processes "$victim" ;;
	link) say "taking $victim's link down"; ip -n "$victim" link set eth0 down ;;
	esac
	# The host stays lost long enough for the gateway to set it aside (a connect timeout)
	# and try it again (after disable-time) twice.
	wait_for 60 requests_started_after "$(time_plus "$lost_at" $((2 * (timeout + disable) + 1)))" 50

	case $how in
	kill) say "bringing $victim back (pm2 resurrect)"; on_host "$victim" "$PM2" resurrect >/dev/null ;;
	link) say "taking $victim's link up"; ip -n "$victim" link set eth0 up ;;
	esac
	wait_for 30 inventory_serves "$victim" || fail "$victim's FastCGI port accepts no connection again"
	# Set aside for at most disable-time more, then given its turn again.
	opens=$(passive_opens "$victim")
	wait_for 30 accepted_more "$victim" "$opens" 20 || fail "$victim took no traffic once back"
	load_wait_for 100
	load_stop

	run failures_started_after "$(time_plus "$lost_at" "$timeout")"
	assert_output ""
	assert_orders_exactly_once
}

# The movie requests are spread whatever the load: with no concurrency at all (one
# request at a time, so every backend is idle at each pick), the last inventory host
# serves exactly its share. Under least-connection it would serve none: lighttpd gives a
# tie to the first backend of the list.
@test "movie requests take the inventory hosts in turn: one at a time, the last host serves exactly its share" {
	local hosts victim opens i rounds=10
	mapfile -t hosts < <(hosts_in "$INVENTORY_HOST")
	victim=${hosts[-1]}
	opens=$(passive_opens "$victim")
	for ((i = 0; i < rounds * ${#hosts[@]}; i++)); do
		run http GET "$MOVIE"
		assert_output 200
	done
	assert_equal "$(($(passive_opens "$victim") - opens))" "$rounds"
}

@test "an inventory host killed (SIGKILL, every process) under load: movies fail only in flight, none after the connect timeout; back, it takes traffic again" {
	scenario_name "inventory host killed (SIGKILL)"
	inventory_outage kill
}

@test "an inventory host's link down under load: movies fail only in flight, none after the connect timeout; back, it takes traffic again" {
	scenario_name "inventory host's link down"
	inventory_outage link
}
