#define _POSIX_C_SOURCE 200809L
#include "deadline_io.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "address.h"
#include "monotonic.h"

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

int deadline_connect(const char *addr, long long deadline, char *why, size_t why_size)
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

int deadline_write_all(int fd, const uint8_t *p, size_t len, long long deadline)
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

int deadline_read_exact(int fd, uint8_t *p, size_t len, long long deadline)
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

ssize_t deadline_read_some(int fd, uint8_t *p, size_t size, long long deadline)
{
	for (;;) {
		ssize_t n = recv(fd, p, size, 0);

		if (n >= 0)
			return n;
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		if (wait_ready(fd, POLLIN, deadline) != 0)
			return -1;
	}
}
