/*
 * The counters' own CPU cost per request (make bench's (m), README Observability): the
 * metrics calls each C program makes per request or message, made here with the
 * programs' own objects (their archives) in a loop, timed in thread CPU time on 1 and on
 * 2 threads updating the same counters (the worst of the threads is kept).
 *   inventory_app      per request (inventory/main.c): the scrape check, then
 *                      inventory_metrics_begin and _end (gauge, counter, histogram).
 *   billing_publisher  per order (publisher.c): the scrape check, the start time,
 *                      publisher_metrics_published and _answered.
 *   billing_app        per message (consumer.c): consumer_metrics_tick(0) (each turn of
 *                      the delivery loop), the redelivered check, and a batch's start
 *                      time, count and latency as if every batch held one message.
 *   billing_app_page   per page write (consumer_metrics_tick(1)), once a second at most.
 * Latencies are observed as 3 ms, so histograms search as for a real request.
 * Usage: metrics_cost [REQUESTS [PAGE_WRITES]]   (5,000,000 and 2,000 by default)
 * Prints "HOOKS THREADS NS" lines: thread CPU ns per request (per page write).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../../../fcgi/billing/consumer_metrics.h"
#include "../../../fcgi/billing/publisher_metrics.h"
#include "../../../fcgi/common/http.h"
#include "../../../fcgi/common/metrics.h"
#include "../../../fcgi/common/metrics_http.h"
#include "../../../fcgi/inventory/inventory_metrics.h"

#define LATENCY_US 3000
#define MAX_THREADS 2

static char *inventory_env[] = { "REQUEST_METHOD=GET", "SCRIPT_NAME=/api/movies",
				 "PATH_INFO=/42", "REQUEST_URI=/api/movies/42", NULL };
static char *billing_env[] = { "REQUEST_METHOD=POST", "SCRIPT_NAME=/api/billing",
			       "PATH_INFO=", "REQUEST_URI=/api/billing", NULL };
static long requests = 5000000;
static volatile int redelivered;  /* read per message, as consume() reads env.redelivered */

static int inventory_request(void)
{
	struct http_req r = { inventory_env, NULL, NULL };
	long long started;

	if (metrics_is_scrape(&r))
		return -1;
	started = inventory_metrics_begin();
	inventory_metrics_end(&r, 200, started - LATENCY_US);
	return 0;
}

static int publisher_request(void)
{
	struct http_req r = { billing_env, NULL, NULL };
	long long started;

	if (metrics_is_scrape(&r))
		return -1;
	started = metrics_now_us();
	publisher_metrics_published(0, started - LATENCY_US);
	publisher_metrics_answered(200);
	return 0;
}

static int consumer_message(void)
{
	long long started;

	consumer_metrics_tick(0);
	if (redelivered)
		metric_inc(&consumer_metrics.redelivered);
	started = metrics_now_us();
	metric_add(&consumer_metrics.committed, 1);
	metric_observe_us(&consumer_metrics.batch_latency, metrics_now_us() - started + LATENCY_US);
	return 0;
}

static int consumer_page(void)
{
	consumer_metrics_tick(1);
	return 0;
}

struct run {
	int (*hook)(void);
	long n;
	double ns;    /* out: thread CPU per call */
	int failed;
};

static double cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return -1;
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *loop(void *arg)
{
	struct run *run = arg;
	double start = cpu_ns(), end;

	for (long i = 0; i < run->n; i++)
		if (run->hook() != 0)
			run->failed = 1;
	end = cpu_ns();
	if (start < 0 || end < 0)
		run->failed = 1;
	run->ns = (end - start) / (double)run->n;
	return NULL;
}

/* Runs hook n times on each of threads threads; prints the worst thread's ns per call. */
static int measure(const char *name, int (*hook)(void), long n, int threads)
{
	struct run runs[MAX_THREADS];
	pthread_t th[MAX_THREADS];
	double worst = 0;
	int started = 0, failed = 0;

	for (int i = 0; i < threads; i++) {
		runs[i] = (struct run){ hook, n, 0, 0 };
		if (pthread_create(&th[i], NULL, loop, &runs[i]) != 0)
			break;
		started++;
	}
	for (int i = 0; i < started; i++) {
		if (pthread_join(th[i], NULL) != 0 || runs[i].failed)
			failed = 1;
		else if (runs[i].ns > worst)
			worst = runs[i].ns;
	}
	if (started < threads || failed) {
		fprintf(stderr, "metrics_cost: %s on %d thread(s) failed\n", name, threads);
		return -1;
	}
	printf("%s %d %.1f\n", name, threads, worst);
	return fflush(stdout) == 0 ? 0 : -1;
}

/* billing_app's page, written to a file of this process's own that is removed after. */
static int measure_page(long writes)
{
	char path[256], tmp[300];
	const char *dir = getenv("TMPDIR");
	int status, n = snprintf(path, sizeof(path), "%s/metrics_cost.%ld.prom",
				 dir ? dir : "/tmp", (long)getpid());

	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);  /* consumer_metrics.c's own name */
	if (n < 0 || (size_t)n >= sizeof(tmp) || setenv("BILLING_METRICS_FILE", path, 1) != 0)
		return -1;
	consumer_metrics_init();
	status = measure("billing_app_page", consumer_page, writes, 1);
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "metrics_cost: the page %s was not written\n", path);
		status = -1;
	}
	unlink(path);
	unlink(tmp);
	return status;
}

int main(int argc, char **argv)
{
	long writes = 2000;
	static const struct { const char *name; int (*hook)(void); } sets[] = {
		{ "inventory_app", inventory_request },
		{ "billing_publisher", publisher_request },
		{ "billing_app", consumer_message },
	};

	if (argc > 1)
		requests = strtol(argv[1], NULL, 10);
	if (argc > 2)
		writes = strtol(argv[2], NULL, 10);
	if (argc > 3 || requests < 1 || writes < 1) {
		fprintf(stderr, "usage: metrics_cost [REQUESTS [PAGE_WRITES]]\n");
		return 2;
	}
	inventory_metrics_init(MAX_THREADS);
	/* The page file is unset until measure_page: tick(0) reads the clock, writes nothing. */
	for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++)
		for (int threads = 1; threads <= MAX_THREADS; threads++)
			if (measure(sets[s].name, sets[s].hook, requests, threads) != 0)
				return 1;
	return measure_page(writes) == 0 ? 0 : 1;
}
