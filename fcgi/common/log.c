#define _POSIX_C_SOURCE 200809L
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "request_id.h"
#include "trace_context.h"

static const char *log_program = "app";

void log_init(const char *program)
{
	log_program = program;
}

/*
 * Formats the whole record first so that one write keeps lines from threads apart. A line
 * written while a request is served carries its id ("rid=..."), so grep finds them all,
 * and its traceparent ("trace=..."), so a tracing tool's trace id finds them too.
 */
static __attribute__((format(printf, 3, 0)))
void log_emit(const char *level, const char *suffix, const char *fmt, va_list ap)
{
	const char *rid = request_id_current();
	const char *tp = trace_context_traceparent();
	char msg[1024], stamp[32];
	struct timespec now;
	struct tm tm;

	if (clock_gettime(CLOCK_REALTIME, &now) != 0 || gmtime_r(&now.tv_sec, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		stamp[0] = '\0';
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	fprintf(stderr, "%s %s %s: %s%s%s%s%s%s%s%s%s\n", stamp, log_program, level,
		*rid ? "rid=" : "", rid, *rid ? " " : "", *tp ? "trace=" : "", tp, *tp ? " " : "",
		msg, suffix ? ": " : "", suffix ? suffix : "");
	fflush(stderr);
}

#define LOG_BODY(level, suffix)                  \
	do {                                     \
		va_list ap;                      \
		va_start(ap, fmt);               \
		log_emit(level, suffix, fmt, ap); \
		va_end(ap);                      \
	} while (0)

void log_info(const char *fmt, ...)
{
	LOG_BODY("info", NULL);
}

void log_warn(const char *fmt, ...)
{
	char err[128];
	int saved = errno;

	if (strerror_r(saved, err, sizeof(err)) != 0)
		snprintf(err, sizeof(err), "errno %d", saved);
	LOG_BODY("warn", err);
}

void log_warnx(const char *fmt, ...)
{
	LOG_BODY("warn", NULL);
}

void fatal(const char *fmt, ...)
{
	char err[128];
	int saved = errno;

	if (strerror_r(saved, err, sizeof(err)) != 0)
		snprintf(err, sizeof(err), "errno %d", saved);
	LOG_BODY("fatal", err);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	LOG_BODY("fatal", NULL);
	exit(1);
}
