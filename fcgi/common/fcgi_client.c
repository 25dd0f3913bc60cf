#define _POSIX_C_SOURCE 200809L
#include "fcgi_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "address.h"
#include "monotonic.h"

/* The FastCGI 1.0 record types and role this client uses. */
enum { FCGI_BEGIN_REQUEST = 1, FCGI_END_REQUEST = 3, FCGI_PARAMS = 4, FCGI_STDIN = 5,
       FCGI_STDOUT = 6, FCGI_RESPONDER = 1 };
#define FCGI_HEADER_LEN 8
#define FCGI_REQUEST_ID 1
#define PARAMS_MAX 4096       /* the encoded parameters: a few short ones */
#define HEAD_MAX 2048         /* the answer's headers: enough to find Status: */

/* Waits until fd is ready for events or the deadline passes; 0 ready, -1 timed out. */
static int wait_ready(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		long long left = deadline - monotonic_ms();
		int n;

		if (left <= 0)
			return -1;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* Connects fd (non-blocking) to sa within the deadline; 0, or an errno value. */
static int connect_within(int fd, const struct sockaddr *sa, socklen_t salen, long long deadline)
{
	int err = 0;
	socklen_t elen = sizeof(err);

	if (connect(fd, sa, salen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EAGAIN)
		return errno;
	if (wait_ready(fd, POLLOUT, deadline) != 0)
		return ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
		return errno;
	return err;
}

/* A non-blocking socket connected to sa (addr names it in why), or -1 with why set. */
static int open_connected(const struct sockaddr *sa, socklen_t salen, long long deadline,
			  const char *addr, char *why, size_t why_size)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = fd < 0 ? errno : connect_within(fd, sa, salen, deadline);

	if (err == 0)
		return fd;
	snprintf(why, why_size, "connecting to %s: %s", addr, strerror(err));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* A non-blocking connection to addr (address.h), or -1 with why set. */
static int connect_by(const char *addr, long long deadline, char *why, size_t why_size)
{
	struct addrinfo hints = {0}, *res = NULL;
	struct address a;
	char bad[96];
	int fd, rc;

	if (address_parse(addr, &a, bad, sizeof(bad)) != 0) {
		snprintf(why, why_size, "%s: %s", addr, bad);
		return -1;
	}
	if (a.is_unix) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		memcpy(sun.sun_path, a.path, sizeof(a.path));
		return open_connected((struct sockaddr *)&sun, sizeof(sun), deadline, addr, why,
				      why_size);
	}
	if (a.host[0] == '\0') {
		snprintf(why, why_size, "%s: no host to connect to", addr);
		return -1;
	}
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(a.host, a.port, &hints, &res);
	if (rc != 0) {
		snprintf(why, why_size, "%s: %s", addr, gai_strerror(rc));
		return -1;
	}
	fd = open_connected(res->ai_addr, res->ai_addrlen, deadline, addr, why, why_size);
	freeaddrinfo(res);
	return fd;
}

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

static int write_all(int fd, const uint8_t *p, size_t len, long long deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return -1;
		} else if (wait_ready(fd, POLLOUT, deadline) != 0) {
			return -1;
		}
	}
	return 0;
}

/* Reads exactly len bytes (or discards them when p is NULL); 0, or -1 on EOF or timeout. */
static int read_exact(int fd, uint8_t *p, size_t len, long long deadline)
{
	uint8_t sink[512];

	while (len > 0) {
		uint8_t *to = p ? p : sink;
		size_t want = p ? len : (len < sizeof(sink) ? len : sizeof(sink));
		ssize_t n = recv(fd, to, want, 0);

		if (n > 0) {
			if (p)
				p += n;
			len -= (size_t)n;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			return -1;
		} else if (wait_ready(fd, POLLIN, deadline) != 0) {
			return -1;
		}
	}
	return 0;
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

		if (read_exact(fd, h, sizeof(h), deadline) != 0)
			break;
		clen = (size_t)h[4] << 8 | h[5];
		if (h[1] == FCGI_STDOUT)
			keep = clen < HEAD_MAX - hlen ? clen : HEAD_MAX - hlen;
		if (read_exact(fd, (uint8_t *)head + hlen, keep, deadline) != 0 ||
		    read_exact(fd, NULL, clen - keep + h[6], deadline) != 0)
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
	fd = connect_by(addr, deadline, why, why_size);
	if (fd < 0)
		return -1;
	if (write_all(fd, request, len, deadline) != 0) {
		snprintf(why, why_size, "sending to %s: %s", addr,
			 monotonic_ms() >= deadline ? "timed out" : strerror(errno));
		status = -1;
	} else {
		status = read_answer(fd, deadline, why, why_size);
	}
	close(fd);
	return status;
}
