/*
 * Per-process counters and the Prometheus text exposition format 0.0.4 they are read in.
 * Updating is one relaxed atomic add (C11 atomics), so worker threads never wait on each
 * other to count; reading (a scrape) is rare and need not be one consistent snapshot.
 * A program defines its counters as static objects and writes its page with the
 * metrics_text_* functions, one family at a time.
 */
#ifndef COMMON_METRICS_H
#define COMMON_METRICS_H

#include <stdatomic.h>
#include <stddef.h>

/* The media type of the page (Prometheus text format 0.0.4). */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metric_counter {
	atomic_ullong value;
};

struct metric_gauge {
	atomic_llong value;
};

#define METRIC_BUCKETS_MAX 16

/*
 * Observations in microseconds, counted per bucket (not cumulated: the writer sums them,
 * so an observation costs two adds and a short search). bounds_us ascend; the bucket
 * after the last bound is +Inf.
 */
struct metric_histogram {
	const unsigned long long *bounds_us;
	size_t nbounds;                              /* at most METRIC_BUCKETS_MAX */
	atomic_ullong buckets[METRIC_BUCKETS_MAX + 1];
	atomic_ullong sum_us;
};

/* Bounds for request and confirm latencies: 1 ms to 10 s. */
#define METRIC_LATENCY_NBOUNDS 13
extern const unsigned long long metric_latency_bounds_us[METRIC_LATENCY_NBOUNDS];
/* An initializer: struct metric_histogram h = METRIC_LATENCY_HISTOGRAM; */
#define METRIC_LATENCY_HISTOGRAM { metric_latency_bounds_us, METRIC_LATENCY_NBOUNDS, { 0 }, 0 }

static inline void metric_inc(struct metric_counter *c)
{
	atomic_fetch_add_explicit(&c->value, 1, memory_order_relaxed);
}

static inline void metric_add(struct metric_counter *c, unsigned long long n)
{
	atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

static inline void metric_gauge_add(struct metric_gauge *g, long long delta)
{
	atomic_fetch_add_explicit(&g->value, delta, memory_order_relaxed);
}

void metric_observe_us(struct metric_histogram *h, long long us);

/* Microseconds on CLOCK_MONOTONIC: when something started, for a histogram. */
long long metrics_now_us(void);

/*
 * The page being written: a growing buffer with one owner. An allocation failure is
 * remembered (failed) and later writes are dropped, so callers check once at the end.
 */
struct metrics_text {
	char *data;
	size_t len, cap;
	int failed;
};

/*
 * Labels: an array of name, value pairs ended by a NULL name (NULL: none). Names are the
 * program's own ([a-zA-Z_][a-zA-Z0-9_]*); values may hold anything and are escaped
 * (\ " and line feed).
 */
void metrics_text_init(struct metrics_text *t);
void metrics_text_free(struct metrics_text *t);
/* # HELP and # TYPE lines; type is "counter", "gauge" or "histogram". */
void metrics_text_family(struct metrics_text *t, const char *name, const char *type,
			 const char *help);
void metrics_text_sample(struct metrics_text *t, const char *name, const char *const *labels,
			 unsigned long long value);
void metrics_text_sample_signed(struct metrics_text *t, const char *name,
				const char *const *labels, long long value);
/* A family of one unlabelled sample: its HELP and TYPE lines, then the value. */
void metrics_text_counter(struct metrics_text *t, const char *name, const char *help,
			  unsigned long long value);
void metrics_text_gauge(struct metrics_text *t, const char *name, const char *help,
			long long value);
/* The _bucket lines (cumulative, ending with le="+Inf"), _sum (seconds) and _count. */
void metrics_text_histogram(struct metrics_text *t, const char *name,
			    const char *const *labels, struct metric_histogram *h);
/* Appends s as a label value would be written: \ " and line feed escaped. */
void metrics_text_escaped(struct metrics_text *t, const char *s);

/*
 * The process's start, for process_start_time_seconds: called once by main before any
 * thread starts. The page then tells two processes apart (and a restart), microseconds
 * included, as each inventory instance behind one port must be.
 */
void metrics_process_started(void);
/* The gauge process_start_time_seconds. */
void metrics_text_process_start(struct metrics_text *t);

static inline unsigned long long metric_read(struct metric_counter *c)
{
	return atomic_load_explicit(&c->value, memory_order_relaxed);
}

static inline long long metric_gauge_read(struct metric_gauge *g)
{
	return atomic_load_explicit(&g->value, memory_order_relaxed);
}

#endif
