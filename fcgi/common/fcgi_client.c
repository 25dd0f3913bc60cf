#define _POSIX_C_SOURCE 200809L
#include "fcgi_client.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "deadline_io.h"
#include "monotonic.h"

/* The FastCGI 1.0 record types and role this client uses. */
enum { FCGI_BEGIN_REQUEST = 1, FCGI_END_REQUEST = 3, FCGI_PARAMS = 4, FCGI_STDIN = 5,
       FCGI_STDOUT = 6, FCGI_RESPONDER = 1 };
#define FCGI_HEADER_LEN 8
#define FCGI_REQUEST_ID 1
#define PARAMS_MAX 4096       /* the encoded parameters: a few short ones */
#define HEAD_MAX 2048         /* the answer's headers: enough to find Status: */

static size_t put_header(uint8_t *p, int type, size_t content_len)
{
	p[0] = 1;                                  /* version */
	p[1] = (uint8_t)type;
	p[2] = 0;
	p[3] = FCGI_REQUEST_ID;
	p[4] = (uint8_t)(content_len >> 8);
	p[5] = (uint8_t)(content_len & 0xff);
	p[6] = 0;                                  /* no padding */
	p[7] = 0;
	return FCGI_HEADER_LEN;
}

/* A name-value length: one byte below 128, else four with the top bit set. */
static size_t put_length(uint8_t *p, size_t n)
{
	if (n < 128) {
		p[0] = (uint8_t)n;
		return 1;
	}
	p[0] = (uint8_t)((n >> 24) | 0x80);
	p[1] = (uint8_t)(n >> 16);
	p[2] = (uint8_t)(n >> 8);
	p[3] = (uint8_t)n;
	return 4;
}

/*
 * The whole request in out: BEGIN_REQUEST, the params and their end, the empty stdin.
 * Returns its length, or 0 when the params do not fit.
 */
static size_t encode_request(const char *const *params, uint8_t *out, size_t size)
{
	uint8_t body[PARAMS_MAX];
	size_t blen = 0, len = 0;

	for (size_t i = 0; params[i] != NULL; i++) {
		const char *eq = strchr(params[i], '=');
		size_t nlen = eq ? (size_t)(eq - params[i]) : strlen(params[i]);
		size_t vlen = eq ? strlen(eq + 1) : 0;

		if (blen + 8 + nlen + vlen > sizeof(body))
			return 0;
		blen += put_length(body + blen, nlen);
		blen += put_length(body + blen, vlen);
		memcpy(body + blen, params[i], nlen);
		blen += nlen;
		if (vlen > 0)
			memcpy(body + blen, eq + 1, vlen);
		blen += vlen;
	}
	if (4 * FCGI_HEADER_LEN + 8 + blen > size)
		return 0;
	len += put_header(out + len, FCGI_BEGIN_REQUEST, 8);
	memset(out + len, 0, 8);
	out[len + 1] = FCGI_RESPONDER;             /* flags 0: close when done */
	len += 8;
	len += put_header(out + len, FCGI_PARAMS, blen);
	memcpy(out + len, body, blen);
	len += blen;
	len += put_header(out + len, FCGI_PARAMS, 0);
	len += put_header(out + len, FCGI_STDIN, 0);
	return len;
}

/* The status in a CGI-style head: its "Status: NNN" line, or 200 without one. */
static int head_status(const char *head)
{
	for (const char *line = head; line != NULL && *line != '\0';) {
		if (strncasecmp(line, "Status:", 7) == 0) {
			int status = atoi(line + 7);

			return status >= 100 && status <= 599 ? status : -1;
		}
		if (strncmp(line, "\r\n", 2) == 0)
			break;
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return 200;
}

/* Reads records until END_REQUEST, keeping the start of stdout; the status, or -1. */
static int read_answer(int fd, long long deadline, char *why, size_t why_size)
{
	char head[HEAD_MAX + 1];
	size_t hlen = 0;

	for (;;) {
		uint8_t h[FCGI_HEADER_LEN];
		size_t clen, keep = 0;

		if (deadline_read_exact(fd, h, sizeof(h), deadline) != 0)
			break;
		clen = (size_t)h[4] << 8 | h[5];
		if (h[1] == FCGI_STDOUT)
			keep = clen < HEAD_MAX - hlen ? clen : HEAD_MAX - hlen;
		if (deadline_read_exact(fd, (uint8_t *)head + hlen, keep, deadline) != 0 ||
		    deadline_read_exact(fd, NULL, clen - keep + h[6], deadline) != 0)
			break;
		hlen += keep;
		if (h[1] == FCGI_END_REQUEST) {
			int status;

			head[hlen] = '\0';
			status = head_status(head);
			if (status < 0)
				snprintf(why, why_size, "an answer without a valid status");
			return status;
		}
	}
	snprintf(why, why_size, "%s", monotonic_ms() >= deadline ? "no answer in time"
				      : "the connection closed before the answer ended");
	return -1;
}

int fcgi_client_request(const char *addr, const char *const *params, int timeout_ms,
			char *why, size_t why_size)
{
	long long deadline = monotonic_ms() + timeout_ms;
	uint8_t request[PARAMS_MAX + 64];
	size_t len = encode_request(params, request, sizeof(request));
	int fd, status;

	if (len == 0) {
		snprintf(why, why_size, "the request parameters are too long");
		return -1;
	}
	fd = deadline_connect(addr, deadline, why, why_size);
	if (fd < 0)
		return -1;
	if (deadline_write_all(fd, request, len, deadline) != 0) {
		snprintf(why, why_size, "sending to %s: %s", addr,
			 monotonic_ms() >= deadline ? "timed out" : strerror(errno));
		status = -1;
	} else {
		status = read_answer(fd, deadline, why, why_size);
	}
	close(fd);
	return status;
}
