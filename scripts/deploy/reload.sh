#!/usr/bin/env bash
# make reload: applies an edited lighttpd.conf or .env to the apps of this host without
# failing a request, and starts those that do not run yet (provisioning ends here, so
# `make run` on a running platform is a reload too).
#   api_gateway_app  lighttpd -tt checks the config with the new settings first: a broken
#                    one is refused with lighttpd's message and the gateway is left as it
#                    is. Then SIGUSR1, lighttpd's graceful restart in place: the port never
#                    closes, requests in flight finish, and the billing publisher finishes
#                    its confirms before a new one takes over.
#   inventory_app,   pm2 reload, one instance at a time (see ecosystem.config.js), then as
#   billing_app      many instances as INVENTORY_INSTANCES / BILLING_INSTANCES say.
#   postgres_exporter restarted, or removed when POSTGRES_EXPORTER_PORT is 0 now.
#   etcd, patroni    a DB host's: left running.
# Usage: scripts/deploy/reload.sh [APP...]   (default: every app PM2 has on this host)
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/gateway_settings.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/host.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/pm2.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/postgres_exporter.sh"
load_env
gateway_env

ECOSYSTEM=$PROJECT_ROOT/scripts/deploy/ecosystem.config.js
# A PM2 daemon that this call starts prints its banner on stdout, which jlist's JSON must not carry.
pm2_ ping >/dev/null
# PM2's process list as it was before this reload, read once: each PM2 call costs about a
# second, and a rolling restart changes pids, not how many processes an app has.
PM2_LIST=$(pm2_ jlist)

# app_count NAME: how many processes PM2 had under that name (any status).
app_count() {
	jq --arg n "$1" '[.[] | select(.name == $n)] | length' <<<"$PM2_LIST"
}

# running_config PID: the config file a running lighttpd was started with (-f FILE).
running_config() {
	tr '\0' '\n' <"/proc/$1/cmdline" | sed -n '/^-f$/{n;p;q}'
}

reload_gateway() {
	local pid conf candidate out
	pid=$(cat "$RUN_DIR/lighttpd.pid" 2>/dev/null || true)
	if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
		pm2_ startOrRestart "$ECOSYSTEM" --only api_gateway_app >/dev/null
		echo "api_gateway_app: started"
		return
	fi
	conf=$(running_config "$pid")
	gateway_run_dir
	candidate=$GATEWAY_SETTINGS.new
	write_gateway_settings "$candidate"
	# lighttpd -tt exits 0 on an unknown key (a module missing from server.modules).
	if ! out=$(GATEWAY_SETTINGS=$candidate lighttpd -tt -f "$conf" 2>&1) ||
		grep -q 'unknown config-key' <<<"$out"; then
		rm -f "$candidate"
		printf '%s\n' "$out" >&2
		echo "reload refused: $conf does not check; the running gateway is unchanged" >&2
		return 1
	fi
	mv -f "$candidate" "$GATEWAY_SETTINGS"
	kill -USR1 "$pid"
	echo "api_gateway_app: graceful restart with $conf"
}

# foreign_instances NAME: NAME's running processes that are not its own system user's
# (started by an older version, as root). Instances of different users cannot share the
# inventory's port (SO_REUSEPORT), so these are replaced at once rather than in turn.
foreign_instances() {
	local user pid
	[ "$(id -u)" = 0 ] || return 0
	user=$(app_user "$1")
	for pid in $(jq -r --arg n "$1" '.[] | select(.name == $n and .pid > 0) | .pid' <<<"$PM2_LIST"); do
		[ "$(stat -c %U "/proc/$pid" 2>/dev/null || echo "$user")" = "$user" ] || echo "$pid"
	done
}

# reload_instances NAME WANTED: a rolling restart of NAME's processes, then WANTED of them.
reload_instances() {
	local name=$1 wanted=$2
	local count
	count=$(app_count "$name")
	if [ -n "$(foreign_instances "$name")" ]; then
		pm2_ delete "$name" >/dev/null
		echo "$name: stopped the instances running as another user than $(app_user "$name")"
		count=0
	fi
	if [ "$count" -eq 0 ]; then
		pm2_ start "$ECOSYSTEM" --only "$name" >/dev/null
		echo "$name: started"
		return
	fi
	pm2_ reload "$name" --update-env >/dev/null
	if [ "$count" -ne "$wanted" ]; then
		pm2_ scale "$name" "$wanted" >/dev/null
	fi
	echo "$name: rolling restart of $wanted instance(s)"
}

# reload_postgres_exporter: PostgreSQL's exporter (lib/postgres_exporter.sh) restarted
# with .env's settings (a scrape may miss it for a second), or removed when
# POSTGRES_EXPORTER_PORT is 0 now.
reload_postgres_exporter() {
	if postgres_exporter_enabled; then
		pm2_ startOrRestart "$PROJECT_ROOT/scripts/deploy/postgres_exporter.config.js" >/dev/null
		echo "postgres_exporter: started on $(postgres_exporter_listen)"
	elif [ "$(app_count postgres_exporter)" -gt 0 ]; then
		pm2_ delete postgres_exporter >/dev/null
		echo "postgres_exporter: removed (POSTGRES_EXPORTER_PORT=0)"
	fi
}

apps=("$@")
if [ ${#apps[@]} -eq 0 ]; then
	mapfile -t apps < <(jq -r '[.[].name] | unique | .[]' <<<"$PM2_LIST")
fi
[ ${#apps[@]} -gt 0 ] || { echo "no app runs here yet: make run" >&2; exit 1; }
for app in "${apps[@]}"; do
	case $app in
	api_gateway_app) reload_gateway ;;
	inventory_app) reload_instances "$app" "${INVENTORY_INSTANCES:-2}" ;;
	billing_app) reload_instances "$app" "${BILLING_INSTANCES:-1}" ;;
	postgres_exporter) reload_postgres_exporter ;;
	# A DB host's own (lib/patroni.sh): restarting Patroni restarts its PostgreSQL.
	etcd | patroni) echo "$app: left running (its settings: provision.sh db, patronictl edit-config)" ;;
	*) echo "unknown app: $app" >&2; exit 2 ;;
	esac
done
pm2_ save >/dev/null 2>&1 || true
