/*
 * The smallest HTTP client the health check needs: one GET over plain TCP, HTTP/1.0 (the
 * server closes after the body, so no chunked encoding and no keep-alive), within a
 * deadline, with a bounded body. The billing publisher asks Patroni's REST API with it
 * (billing/database_tier.c).
 */
#ifndef COMMON_HTTP_GET_H
#define COMMON_HTTP_GET_H

#include <stddef.h>

#define HTTP_GET_BODY_MAX (64 * 1024)   /* a larger answer is refused, not cut */

struct http_get_answer {
	int status;                          /* the status line's code */
	char *body;                          /* NUL-terminated, owned: http_get_answer_free */
	size_t body_len;
};

/*
 * GET path from addr ("host:port", "[v6]:port"; the host numeric or in /etc/hosts), all
 * of it (connecting, sending, reading to the end) within timeout_ms. 0 with *answer
 * filled, whatever the status; or -1 with why describing the failure (the answer empty).
 */
int http_get(const char *addr, const char *path, int timeout_ms,
	     struct http_get_answer *answer, char *why, size_t why_size);

void http_get_answer_free(struct http_get_answer *answer);

#endif
