#!/usr/bin/env bash
# Starts PostgreSQL's exporter (lib/postgres_exporter.sh) for PM2
# (postgres_exporter.config.js), replacing this shell (exec) so that PM2's signals reach
# it, as the package's unprivileged prometheus user (setpriv, when started as root). Its
# connection string, password included, reaches it in its environment
# (DATA_SOURCE_NAME), which only that user and root can read, never on a command line
# (ps shows those); no other setting of .env goes with it.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/postgres_exporter.sh"
load_env
postgres_exporter_enabled || { echo "POSTGRES_EXPORTER_PORT=0: the exporter is off" >&2; exit 1; }
listen=$(postgres_exporter_listen)
dsn=$(postgres_exporter_dsn)
for name in $(compgen -e); do
	# shellcheck disable=SC2163 # un-exports the variable that name names
	export -n "$name"
done
export PATH=/usr/sbin:/usr/bin:/sbin:/bin DATA_SOURCE_NAME=$dsn
args=(--web.listen-address="$listen" --log.level=warn)
if [ "$(id -u)" = 0 ]; then
	exec setpriv --reuid=prometheus --regid=prometheus --init-groups --no-new-privs -- \
		/usr/bin/prometheus-postgres-exporter "${args[@]}"
fi
exec /usr/bin/prometheus-postgres-exporter "${args[@]}"
