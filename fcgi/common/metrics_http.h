/*
 * Serving a program's metrics page over FastCGI. The gateway routes a SCRIPT_NAME under
 * /metrics only from its admin listen (METRICS_BIND:METRICS_PORT, lighttpd.conf): a
 * public request always carries the SCRIPT_NAME of an API route.
 */
#ifndef COMMON_METRICS_HTTP_H
#define COMMON_METRICS_HTTP_H

#include "http.h"
#include "metrics.h"

/* Whether r asks for the metrics page: SCRIPT_NAME /metrics or under /metrics/. */
int metrics_is_scrape(const struct http_req *r);

/* Sends page t (GET or HEAD; else 405), then frees it. Returns the status sent. */
int metrics_send(const struct http_req *r, struct metrics_text *t);

#endif
