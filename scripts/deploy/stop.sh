#!/usr/bin/env bash
# make stop: stops what `make run` started: the PM2 apps, RabbitMQ and PostgreSQL.
# Data stays; `make run` brings everything back.
set -euo pipefail
source "$(dirname "$0")/lib/env.sh"
load_env

"$PM2" delete "$PROJECT_ROOT/scripts/deploy/ecosystem.config.js" >/dev/null 2>&1 || true
"$PM2" delete "$PROJECT_ROOT/scripts/deploy/postgres_exporter.config.js" >/dev/null 2>&1 || true
"$PM2" save --force >/dev/null 2>&1 || true
rabbitmqctl stop >/dev/null 2>&1 || true
pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
echo "stopped"
