#define _POSIX_C_SOURCE 200809L
#include "cgi_stdin.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

/* The web server sends the body as the client does; past this pause, stop waiting. */
#define DRAIN_WAIT_MS 1000

void cgi_stdin_drain(void)
{
	const char *cl = getenv("CONTENT_LENGTH");
	unsigned long long left;
	char buf[8192], *end;

	if (cl == NULL || *cl < '0' || *cl > '9')
		return;
	errno = 0;
	left = strtoull(cl, &end, 10);
	if (errno != 0 || *end != '\0')
		return;
	while (left > 0) {
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		ssize_t n;
		int rc = poll(&p, 1, DRAIN_WAIT_MS);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return;
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		left = (unsigned long long)n >= left ? 0 : left - (unsigned long long)n;
	}
}
