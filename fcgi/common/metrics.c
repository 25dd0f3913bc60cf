#define _POSIX_C_SOURCE 200809L
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const unsigned long long metric_latency_bounds_us[METRIC_LATENCY_NBOUNDS] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};

void metric_observe_us(struct metric_histogram *h, long long us)
{
	unsigned long long v = us > 0 ? (unsigned long long)us : 0;
	size_t i = 0;

	while (i < h->nbounds && v > h->bounds_us[i])
		i++;
	atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, v, memory_order_relaxed);
}

long long metrics_now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void metrics_text_init(struct metrics_text *t)
{
	memset(t, 0, sizeof(*t));
}

void metrics_text_free(struct metrics_text *t)
{
	free(t->data);
	memset(t, 0, sizeof(*t));
}

static int reserve(struct metrics_text *t, size_t more)
{
	size_t cap;
	char *grown;

	if (t->failed)
		return -1;
	if (t->len + more + 1 <= t->cap)
		return 0;
	cap = t->cap ? t->cap : 1024;
	while (cap < t->len + more + 1)
		cap *= 2;
	grown = realloc(t->data, cap);
	if (grown == NULL) {
		t->failed = 1;
		return -1;
	}
	t->data = grown;
	t->cap = cap;
	return 0;
}

static void put(struct metrics_text *t, const char *s, size_t n)
{
	if (reserve(t, n) != 0)
		return;
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len] = '\0';
}

static void puts_(struct metrics_text *t, const char *s)
{
	put(t, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
static void putf(struct metrics_text *t, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		t->failed = 1;
		return;
	}
	put(t, buf, (size_t)n);
}

/* Label values escape \ " and line feed; HELP text escapes \ and line feed only. */
static void put_escaped(struct metrics_text *t, const char *s, int quotes)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			puts_(t, "\\\\");
		else if (*s == '\n')
			puts_(t, "\\n");
		else if (*s == '"' && quotes)
			puts_(t, "\\\"");
		else
			put(t, s, 1);
	}
}

void metrics_text_escaped(struct metrics_text *t, const char *s)
{
	put_escaped(t, s, 1);
}

void metrics_text_family(struct metrics_text *t, const char *name, const char *type,
			 const char *help)
{
	puts_(t, "# HELP ");
	puts_(t, name);
	puts_(t, " ");
	put_escaped(t, help, 0);
	puts_(t, "\n# TYPE ");
	puts_(t, name);
	puts_(t, " ");
	puts_(t, type);
	puts_(t, "\n");
}

/* name{a="x",b="y"  — left open when extra (the le label) follows, else closed. */
static void put_series(struct metrics_text *t, const char *name, const char *suffix,
		       const char *const *labels, const char *le)
{
	const char *sep = "{";

	puts_(t, name);
	puts_(t, suffix);
	for (size_t i = 0; labels != NULL && labels[i] != NULL; i += 2) {
		puts_(t, sep);
		puts_(t, labels[i]);
		puts_(t, "=\"");
		put_escaped(t, labels[i + 1], 1);
		puts_(t, "\"");
		sep = ",";
	}
	if (le != NULL) {
		puts_(t, sep);
		puts_(t, "le=\"");
		puts_(t, le);
		puts_(t, "\"");
		sep = ",";
	}
	if (sep[0] == ',')
		puts_(t, "}");
	puts_(t, " ");
}

void metrics_text_sample(struct metrics_text *t, const char *name, const char *const *labels,
			 unsigned long long value)
{
	put_series(t, name, "", labels, NULL);
	putf(t, "%llu\n", value);
}

void metrics_text_sample_signed(struct metrics_text *t, const char *name,
				const char *const *labels, long long value)
{
	put_series(t, name, "", labels, NULL);
	putf(t, "%lld\n", value);
}

void metrics_text_counter(struct metrics_text *t, const char *name, const char *help,
			  unsigned long long value)
{
	metrics_text_family(t, name, "counter", help);
	metrics_text_sample(t, name, NULL, value);
}

void metrics_text_gauge(struct metrics_text *t, const char *name, const char *help,
			long long value)
{
	metrics_text_family(t, name, "gauge", help);
	metrics_text_sample_signed(t, name, NULL, value);
}

/* Microseconds as seconds, exactly: "0.0025", "10", "0". */
static void format_seconds(char *buf, size_t size, unsigned long long us)
{
	int n = snprintf(buf, size, "%llu.%06llu", us / 1000000, us % 1000000);

	if (n <= 0 || (size_t)n >= size)
		return;
	while (buf[n - 1] == '0')
		buf[--n] = '\0';
	if (buf[n - 1] == '.')
		buf[n - 1] = '\0';
}

void metrics_text_histogram(struct metrics_text *t, const char *name,
			    const char *const *labels, struct metric_histogram *h)
{
	unsigned long long cumulative = 0, sum_us;
	char le[32];

	for (size_t i = 0; i <= h->nbounds; i++) {
		cumulative += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
		if (i < h->nbounds)
			format_seconds(le, sizeof(le), h->bounds_us[i]);
		put_series(t, name, "_bucket", labels, i < h->nbounds ? le : "+Inf");
		putf(t, "%llu\n", cumulative);
	}
	/* Read after the buckets: a concurrent observation shows in _sum no earlier. */
	sum_us = atomic_load_explicit(&h->sum_us, memory_order_relaxed);
	format_seconds(le, sizeof(le), sum_us);
	put_series(t, name, "_sum", labels, NULL);
	puts_(t, le);
	puts_(t, "\n");
	put_series(t, name, "_count", labels, NULL);
	putf(t, "%llu\n", cumulative);
}

static unsigned long long process_start_us;   /* CLOCK_REALTIME; set before any thread */

void metrics_process_started(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
		process_start_us = (unsigned long long)ts.tv_sec * 1000000 +
				   (unsigned long long)ts.tv_nsec / 1000;
}

void metrics_text_process_start(struct metrics_text *t)
{
	char value[32];

	format_seconds(value, sizeof(value), process_start_us);
	metrics_text_family(t, "process_start_time_seconds", "gauge",
			    "When the process started, since the Unix epoch.");
	puts_(t, "process_start_time_seconds ");
	puts_(t, value);
	puts_(t, "\n");
}
