#define _POSIX_C_SOURCE 200809L
#include "consumer_metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "../common/db.h"
#include "../common/env.h"
#include "../common/log.h"
#include "../common/metrics_http.h"
#include "broker.h"
#include "order_store.h"

struct consumer_metrics consumer_metrics = { .batch_latency = METRIC_LATENCY_HISTOGRAM };

static const char *page_file;
static time_t last_write;
static int write_failed_logged;
/* The consumer's last tick, for the page served by the listener (another thread). */
static atomic_llong last_tick;

void consumer_metrics_init(void)
{
	page_file = env_str("BILLING_METRICS_FILE", NULL);
	atomic_store(&last_tick, (long long)time(NULL));
	metrics_process_started();
}

static void write_page(struct metrics_text *t, time_t now)
{
	unsigned long long committed = metric_read(&consumer_metrics.committed);
	unsigned long long inserted = metric_read(&order_store_rows_inserted);

	metrics_text_counter(t, "billing_app_orders_stored_total",
		"Orders inserted into billing_db.", inserted);
	metrics_text_counter(t, "billing_app_duplicates_skipped_total",
		"Messages whose order was already stored (ON CONFLICT DO NOTHING): a "
		"redelivery, or one order posted twice under one Idempotency-Key.",
		committed > inserted ? committed - inserted : 0);
	metrics_text_counter(t, "billing_app_dead_lettered_total",
		"Messages published to the dead-letter queue (confirmed).",
		metric_read(&consumer_metrics.dead_lettered));
	metrics_text_counter(t, "billing_app_redelivered_total",
		"Deliveries RabbitMQ flagged as redelivered.",
		metric_read(&consumer_metrics.redelivered));
	metrics_text_family(t, "billing_app_batch_commit_duration_seconds", "histogram",
			    "A batch's INSERT transaction through its multiple-ack.");
	metrics_text_histogram(t, "billing_app_batch_commit_duration_seconds", NULL,
			       &consumer_metrics.batch_latency);
	metrics_text_counter(t, "billing_app_db_connect_failures_total",
		"Connections to PostgreSQL that could not be made (or prepared).",
		metric_read(&db_metrics.connect_failures));
	metrics_text_counter(t, "billing_app_db_reconnects_total",
		"Connections to PostgreSQL made again after a failure or a loss.",
		metric_read(&db_metrics.reconnects));
	metrics_text_counter(t, "billing_app_broker_connect_failures_total",
		"Connects to RabbitMQ that reached no node.",
		metric_read(&broker_metrics.connect_failures));
	metrics_text_counter(t, "billing_app_broker_reconnects_total",
		"Connections to RabbitMQ made again after a failure or a loss.",
		metric_read(&broker_metrics.reconnects));
	metrics_text_gauge(t, "billing_app_page_written_timestamp_seconds",
			   "When billing_app last wrote this page: an old one means it is stuck "
			   "or gone.", (long long)now);
	metrics_text_process_start(t);
}

int consumer_metrics_answer(const struct http_req *r)
{
	struct metrics_text t;

	metrics_text_init(&t);
	write_page(&t, (time_t)atomic_load(&last_tick));
	return metrics_send(r, &t);
}

/* Written beside the page and renamed over it: a reader never sees half a page. */
static int replace_file(const struct metrics_text *t)
{
	char tmp[4096];
	FILE *f;
	int n = snprintf(tmp, sizeof(tmp), "%s.tmp", page_file);

	if (n < 0 || (size_t)n >= sizeof(tmp) || (f = fopen(tmp, "w")) == NULL)
		return -1;
	if (fwrite(t->data, 1, t->len, f) != t->len) {
		fclose(f);
		return -1;
	}
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, page_file);
}

void consumer_metrics_tick(int force)
{
	time_t now = time(NULL);
	struct metrics_text t;

	atomic_store(&last_tick, (long long)now);
	if (page_file == NULL || (!force && now == last_write))
		return;
	last_write = now;
	metrics_text_init(&t);
	write_page(&t, now);
	if (t.failed || replace_file(&t) != 0) {
		if (!write_failed_logged)
			log_warn("could not write the metrics page %.200s", page_file);
		write_failed_logged = 1;
	} else {
		write_failed_logged = 0;
	}
	metrics_text_free(&t);
}
