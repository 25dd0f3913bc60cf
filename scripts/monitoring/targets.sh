#!/usr/bin/env bash
# Prints Prometheus's targets (file_sd JSON) for this host's platform, from .env: the
# pages of the gateway's admin listen (scripts/deploy/lib/metrics_settings.sh) and
# RabbitMQ's own (rabbitmq_prometheus), and PostgreSQL's exporter when POSTGRES_EXPORTER_PORT
# turns it on (scripts/deploy/lib/postgres_exporter.sh). Usage: targets.sh > targets/platform.json
set -euo pipefail
source "$(dirname "$0")/../deploy/lib/env.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/rabbitmq.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/metrics_settings.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/postgres_exporter.sh"
load_env
derive_env

admin=${METRICS_BIND:-127.0.0.1}:${METRICS_PORT:-9180}
[ "${METRICS_PORT:-9180}" != 0 ] || { echo "METRICS_PORT=0: the admin listen is off" >&2; exit 1; }
rabbit_url_parts

# target JOB ADDRESS PATH [PARAM=VALUE]: one target group; its instance is ADDRESS+PATH.
target() {
	jq -cn --arg job "$1" --arg addr "$2" --arg path "$3" --arg param "${4-}" '
		{ targets: [$addr], labels: ({ job: $job, instance: ($addr + $path),
			__metrics_path__: $path } +
			(if $param == "" then {} else { ("__param_" + ($param | split("=")[0])):
				($param | split("=")[1]) } end)) }'
}

{
	target gateway "$admin" /metrics/gateway
	n=$(inventory_metrics_addrs | wc -l)
	for ((i = 0; i < n; i++)); do target inventory "$admin" "/metrics/inventory/$i"; done
	target billing_publisher "$admin" /metrics/publisher
	for ((i = 0; i < ${BILLING_INSTANCES:-1}; i++)); do
		target billing_app "$admin" "/metrics/billing_app/$i"
	done
	rabbit=${METRICS_BIND:-127.0.0.1}:$(rabbit_prometheus_port)
	target rabbitmq "$rabbit" /metrics
	# Per-queue figures (billing_queue's depth, its dead-letter queue).
	target rabbitmq_queues "$rabbit" /metrics/detailed family=queue_coarse_metrics
	if postgres_exporter_enabled; then
		target postgres "$(postgres_exporter_listen)" /metrics
	fi
} | jq -s .
