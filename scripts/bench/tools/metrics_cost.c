/*
 * The counters' own cost per inventory request (README, Observability): the hooks
 * inventory_app runs around each request (inventory_metrics_begin and _end: a gauge,
 * a counter chosen by route, method and status, a histogram, two clock reads), timed in
 * thread CPU time over 5,000,000 requests on 1 or N threads sharing the counters.
 * Usage: metrics_cost [THREADS]
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "../../../fcgi/common/http.h"
#include "../../../fcgi/common/metrics.h"
#include "../../../fcgi/inventory/inventory_metrics.h"

static char *envp[] = { "REQUEST_METHOD=GET", "SCRIPT_NAME=/api/movies", "PATH_INFO=/42",
			"REQUEST_URI=/api/movies/42", NULL };
#define N 5000000L

static void *loop(void *arg)
{
	struct http_req r = { envp, NULL, NULL };
	struct timespec a, b;
	(void)arg;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (long i = 0; i < N; i++) {
		long long t = inventory_metrics_begin();
		inventory_metrics_end(&r, 200, t);
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	printf("  thread CPU: %.1f ns per request\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / N);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 1;
	pthread_t th[8];

	if (threads < 1 || threads > 8)
		threads = 1;
	long long t0 = metrics_now_us();

	for (int i = 0; i < threads; i++)
		if (pthread_create(&th[i], NULL, loop, NULL) != 0)
			return 1;
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	printf("%d thread(s): %.1f ns per request hook pair (wall, per thread)\n", threads,
	       (double)(metrics_now_us() - t0) * 1000.0 / N);
	return 0;
}
