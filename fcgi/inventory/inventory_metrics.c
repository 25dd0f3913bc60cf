#include "inventory_metrics.h"

#include <stdio.h>
#include <string.h>

#include "../common/db.h"
#include "../common/metrics_http.h"
#include "self_check.h"

/* Fixed label values: a counter per combination, so counting never allocates or locks. */
static const char *const route_names[] = { "/api/movies", "/api/movies/:id", "health",
					   "other" };
static const char *const method_names[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "other" };
static const int status_codes[] = { 200, 201, 204, 400, 401, 404, 405, 406, 409, 411, 413,
				    415, 422, 500, 503 };
#define NROUTES (sizeof(route_names) / sizeof(route_names[0]))
#define NMETHODS (sizeof(method_names) / sizeof(method_names[0]))
#define NSTATUSES (sizeof(status_codes) / sizeof(status_codes[0]) + 1)  /* + "other" */

static struct metric_counter requests[NROUTES][NMETHODS][NSTATUSES];
static struct metric_histogram latency = METRIC_LATENCY_HISTOGRAM;
static struct metric_gauge busy;
static int thread_count;

void inventory_metrics_init(int threads)
{
	thread_count = threads;
	metrics_process_started();
}

long long inventory_metrics_begin(void)
{
	metric_gauge_add(&busy, 1);
	return metrics_now_us();
}

/*
 * PATH_INFO after /api/movies: "" or "/" the collection, one more segment an item (an
 * invalid id too: its 404 says so); the publisher's health check has its own.
 */
static size_t route_of(const struct http_req *r)
{
	const char *path = http_param(r, "PATH_INFO"), *slash;

	if (strcmp(http_param(r, "SCRIPT_NAME"), SELF_CHECK_SCRIPT_NAME) == 0)
		return 2;
	if (path[0] == '\0' || strcmp(path, "/") == 0)
		return 0;
	if (path[0] != '/')
		return 3;
	slash = strchr(path + 1, '/');
	return slash == NULL || slash[1] == '\0' ? 1 : 3;
}

static size_t method_of(const struct http_req *r)
{
	const char *method = http_param(r, "REQUEST_METHOD");
	size_t i = 0;

	while (i < NMETHODS - 1 && strcmp(method_names[i], method) != 0)
		i++;
	return i;
}

static size_t status_index(int status)
{
	size_t i = 0;

	while (i < NSTATUSES - 1 && status_codes[i] != status)
		i++;
	return i;
}

void inventory_metrics_end(const struct http_req *r, int status, long long started_us)
{
	metric_inc(&requests[route_of(r)][method_of(r)][status_index(status)]);
	metric_observe_us(&latency, metrics_now_us() - started_us);
	metric_gauge_add(&busy, -1);
}

static void write_requests(struct metrics_text *t)
{
	char code[8];
	const char *labels[] = { "route", NULL, "method", NULL, "code", code, NULL };

	metrics_text_family(t, "inventory_requests_total", "counter",
			    "Requests answered, by route, method and status code.");
	for (size_t i = 0; i < NROUTES; i++)
		for (size_t j = 0; j < NMETHODS; j++)
			for (size_t k = 0; k < NSTATUSES; k++) {
				unsigned long long n = metric_read(&requests[i][j][k]);

				if (n == 0)
					continue;       /* only what happened: a short page */
				labels[1] = route_names[i];
				labels[3] = method_names[j];
				if (k < NSTATUSES - 1)
					snprintf(code, sizeof(code), "%d", status_codes[k]);
				else
					strcpy(code, "other");
				metrics_text_sample(t, "inventory_requests_total", labels, n);
			}
}

int inventory_metrics_answer(const struct http_req *r)
{
	struct metrics_text t;

	metrics_text_init(&t);
	write_requests(&t);
	metrics_text_family(&t, "inventory_request_duration_seconds", "histogram",
			    "Time from the request reaching the instance to its answer sent.");
	metrics_text_histogram(&t, "inventory_request_duration_seconds", NULL, &latency);
	metrics_text_gauge(&t, "inventory_worker_threads_busy",
			   "Worker threads answering a request now (this scrape excluded).",
			   metric_gauge_read(&busy));
	metrics_text_gauge(&t, "inventory_worker_threads",
			   "Worker threads of the instance (INVENTORY_THREADS).", thread_count);
	metrics_text_counter(&t, "inventory_db_connect_failures_total",
			     "Connections to PostgreSQL that could not be made (or prepared).",
			     metric_read(&db_metrics.connect_failures));
	metrics_text_counter(&t, "inventory_db_connections_lost_total",
			     "Statements that found their PostgreSQL connection dead.",
			     metric_read(&db_metrics.connections_lost));
	metrics_text_counter(&t, "inventory_db_reconnects_total",
			     "Connections to PostgreSQL made again after a failure or a loss.",
			     metric_read(&db_metrics.reconnects));
	metrics_text_process_start(&t);
	return metrics_send(r, &t);
}
