/*
 * Unit tests for cgi_stdin_drain (cgi_stdin.h): what a plain-CGI request leaves of its
 * body is read to the end, and nothing is read without a CONTENT_LENGTH.
 * Prints "N passed, N failed" last; exits non-zero when anything failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cgi_stdin.h"

#include "check.h"

/*
 * Puts n bytes on a pipe that becomes stdin (its write end closed when eof), runs the
 * drain with CONTENT_LENGTH=cl (NULL: unset), and returns how many bytes it left there.
 */
static long left_after_drain(size_t n, const char *cl, int eof)
{
	char buf[4096];
	int fds[2], saved = dup(STDIN_FILENO);
	long left = 0;
	ssize_t got;

	memset(buf, 'x', sizeof(buf));
	if (saved < 0 || pipe(fds) != 0)
		return -1;
	for (size_t sent = 0; sent < n; sent += sizeof(buf))
		if (write(fds[1], buf, n - sent < sizeof(buf) ? n - sent : sizeof(buf)) < 0)
			return -1;
	if (eof)
		close(fds[1]);
	if (dup2(fds[0], STDIN_FILENO) < 0)
		return -1;
	if (cl != NULL)
		setenv("CONTENT_LENGTH", cl, 1);
	else
		unsetenv("CONTENT_LENGTH");
	cgi_stdin_drain();
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	while ((got = read(fds[0], buf, sizeof(buf))) > 0)
		left += got;
	dup2(saved, STDIN_FILENO);
	close(saved);
	close(fds[0]);
	if (!eof)
		close(fds[1]);
	return left;
}

int main(void)
{
	CHECK(left_after_drain(20000, "20000", 1) == 0);
	CHECK(left_after_drain(20000, "30000", 1) == 0);       /* the handler read some */
	CHECK(left_after_drain(20000, "30000", 0) == 0);       /* no EOF: a pause ends it */
	CHECK(left_after_drain(20000, "5000", 1) == 20000 - 8192);   /* whole reads, bounded */
	CHECK(left_after_drain(100, NULL, 0) == 100);          /* a terminal is never read */
	CHECK(left_after_drain(100, "", 0) == 100);
	CHECK(left_after_drain(100, "-1", 0) == 100);
	CHECK(left_after_drain(100, "12x", 0) == 100);
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
