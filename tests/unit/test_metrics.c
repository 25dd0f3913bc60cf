/*
 * Unit tests for the Prometheus exposition writer (common/metrics.h): label values
 * escaped, histogram buckets cumulative up to +Inf, _sum in seconds and _count.
 * With --page, prints a page using every kind instead (for promtool check metrics).
 * Prints "N passed, N failed" last; exits non-zero when anything failed.
 */
#include <stdio.h>
#include <string.h>

#include "common/metrics.h"

#include "check.h"

static const unsigned long long bounds[] = { 1000, 2500, 1000000 };

/* A page with a counter whose label needs escaping, a gauge and a histogram. */
static void write_page(struct metrics_text *t, struct metric_histogram *h)
{
	static const char *const odd[] = { "path", "a\\b \"q\"\nz", "code", "200", NULL };
	static struct metric_counter c;
	static struct metric_gauge g;

	metric_add(&c, 3);
	metric_gauge_add(&g, -2);
	metrics_text_family(t, "demo_requests_total", "counter", "Requests; back\\slash\nnext");
	metrics_text_sample(t, "demo_requests_total", odd, metric_read(&c));
	metrics_text_family(t, "demo_busy", "gauge", "Busy threads.");
	metrics_text_sample_signed(t, "demo_busy", NULL, metric_gauge_read(&g));
	metrics_text_family(t, "demo_seconds", "histogram", "Latency.");
	metrics_text_histogram(t, "demo_seconds", odd + 2, h);
}

static int has(const struct metrics_text *t, const char *line)
{
	if (strstr(t->data, line) != NULL)
		return 1;
	printf("  missing: %s\n", line);
	return 0;
}

int main(int argc, char **argv)
{
	struct metric_histogram h = { bounds, 3, { 0 }, 0 };
	struct metric_histogram lat = METRIC_LATENCY_HISTOGRAM;
	struct metrics_text t;

	metric_observe_us(&h, 500);       /* <= 0.001 */
	metric_observe_us(&h, 1000);      /* <= 0.001: a bound is inclusive */
	metric_observe_us(&h, 2000);      /* <= 0.0025 */
	metric_observe_us(&h, 3000000);   /* +Inf only */
	metric_observe_us(&h, -5);        /* a clock step back counts as 0 */
	metrics_text_init(&t);
	write_page(&t, &h);
	if (argc > 1 && strcmp(argv[1], "--page") == 0) {
		fputs(t.data, stdout);
		metrics_text_free(&t);
		return 0;
	}
	CHECK(!t.failed);
	CHECK(has(&t, "# HELP demo_requests_total Requests; back\\\\slash\\nnext\n"
		      "# TYPE demo_requests_total counter\n"));
	CHECK(has(&t, "\ndemo_requests_total{path=\"a\\\\b \\\"q\\\"\\nz\",code=\"200\"} 3\n"));
	CHECK(has(&t, "\ndemo_busy -2\n"));
	CHECK(has(&t, "\ndemo_seconds_bucket{code=\"200\",le=\"0.001\"} 3\n"));
	CHECK(has(&t, "\ndemo_seconds_bucket{code=\"200\",le=\"0.0025\"} 4\n"));
	CHECK(has(&t, "\ndemo_seconds_bucket{code=\"200\",le=\"1\"} 4\n"));
	CHECK(has(&t, "\ndemo_seconds_bucket{code=\"200\",le=\"+Inf\"} 5\n"));
	CHECK(has(&t, "\ndemo_seconds_sum{code=\"200\"} 3.0035\n"));
	CHECK(has(&t, "\ndemo_seconds_count{code=\"200\"} 5\n"));
	metrics_text_free(&t);

	/* No labels at all: no braces but le's; an empty histogram is all zeros. */
	metrics_text_init(&t);
	metrics_text_histogram(&t, "x_seconds", NULL, &lat);
	CHECK(has(&t, "x_seconds_bucket{le=\"0.001\"} 0\n"));
	CHECK(has(&t, "x_seconds_bucket{le=\"10\"} 0\n"));
	CHECK(has(&t, "x_seconds_bucket{le=\"+Inf\"} 0\nx_seconds_sum 0\nx_seconds_count 0\n"));
	metrics_text_free(&t);

	/* The one-sample families. */
	metrics_text_init(&t);
	metrics_text_counter(&t, "c_total", "A counter.", 7);
	metrics_text_gauge(&t, "g", "A gauge.", -7);
	CHECK(has(&t, "# HELP c_total A counter.\n# TYPE c_total counter\nc_total 7\n"
		      "# HELP g A gauge.\n# TYPE g gauge\ng -7\n"));
	metrics_text_free(&t);

	/* A page far over the first allocation grows. */
	metrics_text_init(&t);
	for (int i = 0; i < 2000; i++)
		metrics_text_sample(&t, "many_total", NULL, (unsigned long long)i);
	CHECK(!t.failed && has(&t, "many_total 1999\n"));
	metrics_text_free(&t);

	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
