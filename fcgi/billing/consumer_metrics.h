/*
 * billing_app's metrics. billing_app serves no requests, so on the gateway's host its
 * page is a file (BILLING_METRICS_FILE, which scripts/deploy/app.sh sets per instance)
 * rewritten at most once a second, and at least every pause of the consumer (30 s at
 * most); the gateway's admin listen serves it (lighttpd.conf). On a billing host of its
 * own, app.sh sets BILLING_METRICS_ADDR instead: a metrics listener (metrics_listener.h)
 * serves the page there, as of the consumer's last tick. Neither set: no page.
 */
#ifndef BILLING_CONSUMER_METRICS_H
#define BILLING_CONSUMER_METRICS_H

#include "../common/http.h"
#include "../common/metrics.h"

struct consumer_metrics {
	struct metric_counter committed;       /* rows committed, duplicates included */
	struct metric_counter dead_lettered;
	struct metric_counter redelivered;     /* deliveries flagged redelivered by RabbitMQ */
	struct metric_histogram batch_latency; /* a batch's INSERT through its ack */
};
extern struct consumer_metrics consumer_metrics;

/* Reads BILLING_METRICS_FILE. */
void consumer_metrics_init(void);
/* The page for the metrics listener; the status sent. */
int consumer_metrics_answer(const struct http_req *r);
/* Rewrites the page when the last write is a second old or more (force: now). */
void consumer_metrics_tick(int force);

#endif
