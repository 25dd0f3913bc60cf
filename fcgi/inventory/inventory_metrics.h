/*
 * inventory_app's metrics: requests by route, method and status, their latency, the
 * worker threads busy, and the database's connection events (db.h). Served on the
 * instance's own FastCGI socket at SCRIPT_NAME /metrics (metrics_http.h).
 */
#ifndef INVENTORY_INVENTORY_METRICS_H
#define INVENTORY_INVENTORY_METRICS_H

#include "../common/http.h"

/* The worker threads the instance runs, for the page. */
void inventory_metrics_init(int threads);
/* A request starts: one more thread busy. Returns the start time to hand to _end. */
long long inventory_metrics_begin(void);
/* A request was answered with status. */
void inventory_metrics_end(const struct http_req *r, int status, long long started_us);
/* The page. Returns the status sent. */
int inventory_metrics_answer(const struct http_req *r);

#endif
