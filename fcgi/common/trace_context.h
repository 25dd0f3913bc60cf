/*
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) for the request a thread is
 * serving, beside its request id (request_id.h). A client's valid traceparent keeps its
 * trace id and flags; the program serving the request is one span of that trace, with a
 * fresh parent-id (span id) of its own. A missing or invalid traceparent starts a new
 * trace, and its tracestate is dropped with it. The result is answered as the
 * traceresponse header (http.c), prefixed to the thread's log lines (log.c) and sent
 * on in the AMQP headers traceparent and tracestate (publisher.c).
 */
#ifndef COMMON_TRACE_CONTEXT_H
#define COMMON_TRACE_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#define TRACEPARENT_LEN 55        /* version 00: 2-32-16-2 lowercase hex with dashes */
#define TRACE_ID_LEN 16           /* bytes */
#define TRACE_SPAN_ID_LEN 8       /* bytes: the parent-id field */
/* A tracestate over this many characters is cut (W3C: pass on at least 512). */
#define TRACESTATE_MAX 512
#define TRACESTATE_MEMBERS_MAX 32 /* W3C's limit on list-members */

struct traceparent {
	uint8_t trace_id[TRACE_ID_LEN];
	uint8_t parent_id[TRACE_SPAN_ID_LEN];
	uint8_t flags;
};

/*
 * Reads s[0..len) as a traceparent: 0 and *out filled, or -1 when it is invalid and must
 * be replaced: not lowercase hex, wrong lengths or separators, version ff, an all-zero
 * trace id or parent id, a version-00 value with anything after the flags. A later
 * version is read by its first 55 characters, as the specification says, when the 56th
 * is a dash or there is none.
 */
int traceparent_parse(const char *s, size_t len, struct traceparent *out);

/* Writes tp as a version-00 traceparent (55 characters and NUL). */
void traceparent_format(const struct traceparent *tp, char out[TRACEPARENT_LEN + 1]);

/*
 * Copies the tracestate s (several headers arrive joined by commas) to out, at most
 * TRACESTATE_MAX characters: when longer, list-members over 128 characters go first,
 * then members from the end, as W3C says. Empty members and spaces around commas are
 * dropped. Returns the length written; 0 ("" in out) when s is empty or not a valid
 * tracestate (bad key or value, over 32 members, a key twice).
 */
size_t tracestate_bound(const char *s, char out[TRACESTATE_MAX + 1]);

/*
 * Makes the thread's context the client's (its traceparent and tracestate headers, ""
 * when absent) with a new span id, or a new trace (flags 00: nothing here records it)
 * when the traceparent is invalid. None, should getrandom fail. trace_context_end ends it.
 */
void trace_context_begin(const char *traceparent, const char *tracestate);

/* Makes traceparent the thread's context as it is when valid (a message's), else none. */
void trace_context_set(const char *traceparent);
void trace_context_end(void);

/* The thread's traceparent and tracestate, "" when none. */
const char *trace_context_traceparent(void);
const char *trace_context_tracestate(void);

#endif
