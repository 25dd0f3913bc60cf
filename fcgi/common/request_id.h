/*
 * The request id of the request a thread is serving: the client's X-Request-Id when it
 * is valid, else a fresh random one. It is echoed in the reply (http.c), prefixed to
 * every log line the thread writes meanwhile (log.c) and carried on to the broker, so
 * one grep follows a request through every hop.
 */
#ifndef COMMON_REQUEST_ID_H
#define COMMON_REQUEST_ID_H

#include <stddef.h>

#define REQUEST_ID_MAX 128        /* a client's id: 1 to 128 visible ASCII characters */
#define REQUEST_ID_FRESH_LEN 32   /* a generated id: 16 random bytes in hex */

/* 1 when s[0..len) is 1..REQUEST_ID_MAX visible ASCII characters (no space), else 0. */
int request_id_valid(const char *s, size_t len);

/* Writes a fresh id (32 hex digits and NUL). 0, or -1 when getrandom fails. */
int request_id_generate(char out[REQUEST_ID_FRESH_LEN + 1]);

/*
 * Makes the thread's current id the client's (its X-Request-Id, "" when absent) when
 * valid, otherwise a fresh one (none, should getrandom fail). request_id_end ends it.
 */
void request_id_begin(const char *client_id);

/* Makes id the thread's current one (NULL or "": none), e.g. while handling a message. */
void request_id_set(const char *id);
void request_id_end(void);

/* The thread's current id, or "" when it serves no request. */
const char *request_id_current(void);

#endif
