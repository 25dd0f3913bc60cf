#!/usr/bin/env bash
# make run: the whole platform on this host: all three roles through the one
# provisioning path, then the URL and a few curl examples.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/postgres.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/rabbitmq.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/pm2.sh"

"$PROJECT_ROOT/scripts/deploy/provision.sh" all
load_env
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
