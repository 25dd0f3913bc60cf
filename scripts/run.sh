#!/usr/bin/env bash
# make run: the whole platform on this host under root's PM2. Safe to run again:
# it starts what is stopped and restarts the apps on the current build and .env.
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$PROJECT_ROOT/scripts/stack.sh"
load_env

system_pg_start
db_setup
system_rabbit_start
rabbit_setup
mkdir -p "$RUN_DIR"
"$PM2" startOrRestart "$PROJECT_ROOT/scripts/ecosystem.config.js" --update-env >/dev/null
"$PM2" save >/dev/null
url=http://localhost:$API_GATEWAY_PORT
wait_for 30 curl -fsS -o /dev/null "$url/api/movies/" || {
	"$PM2" logs --nostream --lines 20
	echo "the gateway did not answer on $url" >&2
	exit 1
}
"$PM2" list
cat <<MSG

The platform is up at $url
  curl -sS $url/api/movies/
  curl -sS -X POST $url/api/movies/ -H 'Content-Type: application/json' \\
       -d '{"title":"A new movie","description":"Very short description"}'
  curl -sS -X POST $url/api/billing/ -H 'Content-Type: application/json' \\
       -d '{"user_id": "20", "number_of_items": "99", "total_amount": "250"}'
Stop it with: make stop
MSG
