#define _POSIX_C_SOURCE 200809L
#include "http_get.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "deadline_io.h"
#include "monotonic.h"

#define HEAD_MAX 4096            /* the status line and headers */
#define REQUEST_MAX 512

/*
 * Splits raw (the whole answer, NUL-terminated) into its status and body; 0, or -1 with
 * why set. Only the status line is read: HTTP/1.0 ends the body at the close.
 */
static int split_answer(char *raw, size_t len, struct http_get_answer *answer, char *why,
			size_t why_size)
{
	char *end = strstr(raw, "\r\n\r\n");
	int status = 0;

	if (end == NULL || (size_t)(end - raw) > HEAD_MAX) {
		snprintf(why, why_size, "an answer without a complete HTTP head");
		return -1;
	}
	if (strncmp(raw, "HTTP/1.", 7) != 0 || (raw[7] != '0' && raw[7] != '1') || raw[8] != ' ' ||
	    sscanf(raw + 9, "%3d", &status) != 1 || status < 100 || status > 599) {
		snprintf(why, why_size, "an answer without a valid HTTP status line");
		return -1;
	}
	answer->status = status;
	answer->body_len = len - (size_t)(end + 4 - raw);
	memmove(raw, end + 4, answer->body_len + 1);
	answer->body = raw;
	return 0;
}

/* Reads until the peer closes: the whole answer in *out (NUL-terminated), or -1. */
static int read_to_end(int fd, long long deadline, char **out, size_t *out_len, char *why,
		       size_t why_size)
{
	size_t cap = HEAD_MAX + HTTP_GET_BODY_MAX, len = 0;
	char *buf = malloc(cap + 1);

	if (buf == NULL) {
		snprintf(why, why_size, "out of memory");
		return -1;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			snprintf(why, why_size, "an answer over %d bytes", (int)cap);
			break;
		}
		n = deadline_read_some(fd, (uint8_t *)buf + len, cap - len, deadline);
		if (n == 0) {
			buf[len] = '\0';
			*out = buf;
			*out_len = len;
			return 0;
		}
		if (n < 0) {
			snprintf(why, why_size, "%s", monotonic_ms() >= deadline ? "no answer in time"
				 : "the connection failed before the answer ended");
			break;
		}
		len += (size_t)n;
	}
	free(buf);
	return -1;
}

int http_get(const char *addr, const char *path, int timeout_ms,
	     struct http_get_answer *answer, char *why, size_t why_size)
{
	long long deadline = monotonic_ms() + timeout_ms;
	struct address a;
	char request[REQUEST_MAX], bad[96], *raw = NULL;
	size_t raw_len = 0;
	int fd, n, rc;

	memset(answer, 0, sizeof(*answer));
	if (address_parse(addr, &a, bad, sizeof(bad)) != 0 || a.is_unix) {
		snprintf(why, why_size, "%s: not a host:port", addr);
		return -1;
	}
	n = snprintf(request, sizeof(request), "GET %s HTTP/1.0\r\nHost: %s%s%s:%s\r\n"
		     "Accept: application/json\r\nConnection: close\r\n\r\n", path,
		     strchr(a.host, ':') ? "[" : "", a.host, strchr(a.host, ':') ? "]" : "", a.port);
	if (n < 0 || (size_t)n >= sizeof(request)) {
		snprintf(why, why_size, "the request line is too long");
		return -1;
	}
	fd = deadline_connect(addr, deadline, why, why_size);
	if (fd < 0)
		return -1;
	if (deadline_write_all(fd, (const uint8_t *)request, (size_t)n, deadline) != 0) {
		snprintf(why, why_size, "sending to %s: %s", addr,
			 monotonic_ms() >= deadline ? "timed out" : strerror(errno));
		rc = -1;
	} else {
		rc = read_to_end(fd, deadline, &raw, &raw_len, why, why_size);
	}
	close(fd);
	if (rc == 0 && split_answer(raw, raw_len, answer, why, why_size) != 0) {
		free(raw);
		rc = -1;
	}
	return rc;
}

void http_get_answer_free(struct http_get_answer *answer)
{
	free(answer->body);
	answer->body = NULL;
	answer->body_len = 0;
}
