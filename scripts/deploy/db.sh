#!/usr/bin/env bash
# Starts etcd or Patroni on a DB host (scripts/deploy/db.config.js), replacing this shell
# (exec) so that PM2's signals reach the daemon itself, as its own unprivileged user
# (etcd, postgres): setpriv changes the user and execs in place. Provisioning wrote what
# each reads into DB_DIR (scripts/deploy/lib/patroni.sh).
set -euo pipefail
dir=${DB_DIR:?DB_DIR names the database tier folder}
case $1 in
etcd)
	mapfile -t args <"$dir/etcd.args"
	exec setpriv --reuid=etcd --regid=etcd --init-groups --no-new-privs -- /usr/bin/etcd "${args[@]}"
	;;
patroni)
	exec setpriv --reuid=postgres --regid=postgres --init-groups --no-new-privs -- \
		/usr/bin/patroni "$dir/patroni.yml"
	;;
*) echo "usage: $0 etcd|patroni" >&2; exit 2 ;;
esac
