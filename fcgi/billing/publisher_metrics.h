/*
 * billing_publisher's metrics: orders by outcome, how long the broker took to confirm,
 * and the broker's connection events (broker.h). Served on its FastCGI socket at
 * SCRIPT_NAME /metrics (metrics_http.h), which only the gateway's admin listen routes.
 */
#ifndef BILLING_PUBLISHER_METRICS_H
#define BILLING_PUBLISHER_METRICS_H

#include "../common/http.h"

/* A publish ended with publish_confirmed's result after starting at started_us. */
void publisher_metrics_published(int result, long long started_us);
/* POST /api/billing was answered with status: a 4xx is an order rejected as bad input. */
void publisher_metrics_answered(int status);
/* The page. Returns the status sent. */
int publisher_metrics_answer(const struct http_req *r);

#endif
