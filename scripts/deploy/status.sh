#!/usr/bin/env bash
# make status: this host's PM2 processes, then GET /api/health read out one part a line
# (the gateway, each inventory address with its database, the publisher with its broker,
# the queue's depth and consumers). Exits 1 when the health check finds a part down.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
load_env

# gateway_url: where this host's gateway answers (its bind address, or loopback for all).
gateway_url() {
	local host=${GATEWAY_BIND:-127.0.0.1}
	host=${host%%,*} # a list: its first address
	host=${host#[} host=${host%]}
	case $host in 0.0.0.0 | '*' | '') host=127.0.0.1 ;; :: ) host='[::1]' ;; *:*) host="[$host]" ;; esac
	echo "http://$host:$API_GATEWAY_PORT"
}

# The health answer (200 or 503 alike) as aligned lines; any other body (the gateway's
# own 503 when the publisher is down) as its status and detail.
# shellcheck disable=SC2016 # jq's own variables
HEALTH_LINES='
def pad($n): . + (" " * ([$n - length, 0] | max));
def row($name; $status; $rest): "  \($name | pad(22)) \($status | pad(8)) \($rest)";
def detail: if .detail then "  (\(.detail))" else "" end;
if (.parts | type) != "object" then
	"health: HTTP \($code): \(.detail // "no answer from the health check")"
else
	"health: \(if .down then "DOWN: " + (.down | join(", ")) else "up" end)  (checked \(.checked_at))",
	row("gateway"; .parts.gateway.status; ""),
	row("inventory"; .parts.inventory.status; "database \(.parts.inventory.database)"),
	(.parts.inventory.backends[] |
		row("  " + .address; .status; (if .database then "database \(.database)" else "" end) + detail)),
	(.parts.billing_publisher |
		row("billing_publisher"; .status; "broker \(.broker)" + detail)),
	(.parts.queue | row("queue " + .name; .status;
		if .messages != null then "\(.messages) messages waiting, \(.consumers) consumers" else "" end))
end'

# show_health URL: prints the parts; returns 1 unless every part is up.
show_health() {
	local body code
	body=$(mktemp)
	if ! code=$(curl -sS --max-time 5 -o "$body" -w '%{http_code}' "$1/api/health"); then
		echo "health: the gateway at $1 does not answer"
		rm -f "$body"
		return 1
	fi
	jq -r --arg code "$code" "$HEALTH_LINES" "$body" 2>/dev/null ||
		echo "health: HTTP $code, not a health answer"
	rm -f "$body"
	[ "$code" = 200 ]
}

# show_db_tier: with a database tier (DB_HOSTS, scripts/deploy/lib/patroni.sh), each DB
# host with its role (primary, sync standby, replica), state and replication lag, from
# Patroni's REST API (GET /cluster: read-only, no credentials), asked of the first host
# that answers. Returns 1 when none does, or the cluster has no running primary.
show_db_tier() {
	local host body
	[ -n "${DB_HOSTS:-}" ] || return 0
	for host in $(list_words "$DB_HOSTS"); do
		body=$(curl -fsS --max-time 3 "http://$host:${DB_API_PORT:-8008}/cluster" 2>/dev/null) && break
	done
	if [ -z "${body:-}" ]; then
		echo "database tier: no Patroni of $DB_HOSTS answers"
		return 1
	fi
	jq -r '
		def pad($n): . + (" " * ([$n - length, 0] | max));
		def role: {"leader": "primary", "sync_standby": "sync standby"}[.role] // .role;
		"database tier (Patroni cluster \(.scope // "movies")):",
		(.members[] | "  \(.name | pad(20)) \(role | pad(13)) \(.state | pad(10)) " +
			(if .role == "leader" then "timeline \(.timeline)"
			 else "lag \(.lag // "unknown") bytes, timeline \(.timeline // "?")" end))' <<<"$body"
	jq -e '[.members[] | select(.role == "leader" and .state == "running")] | length == 1' \
		<<<"$body" >/dev/null
}

"$PM2" list
db_ok=0
show_db_tier || db_ok=1
show_health "$(gateway_url)" && exit "$db_ok"
