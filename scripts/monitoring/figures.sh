#!/usr/bin/env bash
# make metrics: the key figures of the platform running on this host, read from the
# gateway's admin listen (METRICS_BIND:METRICS_PORT) and RabbitMQ's rabbitmq_prometheus,
# one part a line. Exits 1 when a page does not answer (that part is down).
set -euo pipefail
source "$(dirname "$0")/../deploy/lib/env.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/rabbitmq.sh"
source "$PROJECT_ROOT/scripts/deploy/lib/metrics_settings.sh"
load_env
derive_env
rabbit_url_parts

admin=http://${METRICS_BIND:-127.0.0.1}:${METRICS_PORT:-9180}
[ "${METRICS_PORT:-9180}" != 0 ] || { echo "METRICS_PORT=0: the admin listen is off" >&2; exit 1; }
status=0

# page URL: the page, or nothing (and status 1) when it does not answer.
page() {
	curl -fsS --max-time 5 "$1" 2>/dev/null || { status=1; return 0; }
}

# sum SERIES_PREFIX: the sum of the page's samples (stdin) whose line starts with it.
sum() {
	awk -v s="$1" 'index($0, s) == 1 { n += $NF } END { printf "%d", n }'
}

p=$(page "$admin/metrics/gateway")
printf '%-16s active requests %s; connect failures:' gateway "$(sum lighttpd_active_requests <<<"$p")"
grep -E '^lighttpd_backend_connect_failures_total\{backend="(inventory-[0-9]+|billing)"' <<<"$p" |
	sed -E 's/.*backend="([^"]*)".* ([0-9]+)$/ \1 \2/' | tr -d '\n' || true
echo
n=$(inventory_metrics_addrs | wc -l)
for ((i = 0; i < n; i++)); do
	p=$(page "$admin/metrics/inventory/$i")
	[ -n "$p" ] || { printf '%-16s DOWN (no page)\n' "inventory-$i"; continue; }
	printf '%-16s %s requests (5xx %s), %s/%s threads busy, db reconnects %s\n' "inventory-$i" \
		"$(sum inventory_requests_total <<<"$p")" \
		"$(grep -E '^inventory_requests_total.*code="5' <<<"$p" | sum inventory_requests_total)" \
		"$(sum inventory_worker_threads_busy <<<"$p")" "$(sum 'inventory_worker_threads ' <<<"$p")" \
		"$(sum inventory_db_reconnects_total <<<"$p")"
done
p=$(page "$admin/metrics/publisher")
printf '%-16s confirmed %s, refused %s (broker down %s, confirm timeout %s), rejected %s, failed %s\n' \
	orders "$(sum 'billing_orders_total{outcome="confirmed"}' <<<"$p")" \
	"$(sum 'billing_orders_total{outcome="refused_' <<<"$p")" \
	"$(sum 'billing_orders_total{outcome="refused_broker_down"}' <<<"$p")" \
	"$(sum 'billing_orders_total{outcome="refused_confirm_timeout"}' <<<"$p")" \
	"$(sum 'billing_orders_total{outcome="rejected_bad_input"}' <<<"$p")" \
	"$(sum 'billing_orders_total{outcome="failed"}' <<<"$p")"
for ((i = 0; i < ${BILLING_INSTANCES:-1}; i++)); do
	p=$(page "$admin/metrics/billing_app/$i")
	[ -n "$p" ] || { printf '%-16s DOWN (no page)\n' "billing_app-$i"; continue; }
	printf '%-16s stored %s, duplicates %s, dead-lettered %s, redelivered %s, page %s s old\n' \
		"billing_app-$i" "$(sum billing_app_orders_stored_total <<<"$p")" \
		"$(sum billing_app_duplicates_skipped_total <<<"$p")" \
		"$(sum billing_app_dead_lettered_total <<<"$p")" \
		"$(sum billing_app_redelivered_total <<<"$p")" \
		$(($(date +%s) - $(sum billing_app_page_written_timestamp_seconds <<<"$p")))
done
p=$(page "http://${METRICS_BIND:-127.0.0.1}:$(rabbit_prometheus_port)/metrics/detailed?family=queue_coarse_metrics")
for q in "$QUEUE_NAME" "$QUEUE_NAME.dead"; do
	printf '%-16s %s messages\n' "$q" "$(sum "rabbitmq_detailed_queue_messages{vhost=\"$AMQP_VHOST\",queue=\"$q\"}" <<<"$p")"
done
exit "$status"
