#define _DEFAULT_SOURCE     /* SO_REUSEPORT */
#include "listener.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "log.h"
#include "monotonic.h"

#define LISTEN_BACKLOG 1024
#define TCP_LISTEN_STATE 0x0A     /* TCP_LISTEN as /proc/net/tcp prints it */
#define SIBLING_POLL_MS 10
#define UNIX_ACCEPTCON_FLAG 0x10000  /* __SO_ACCEPTCON: a listening socket in /proc/net/unix */
/*
 * A sibling on a unix socket that has listened this long is used by the gateway: lighttpd
 * leaves out a backend it could not reach for disable-time (1 s, lighttpd.conf) and
 * checks once a second, counting whole seconds, so it takes it again within 3 s.
 */
#define UNIX_SETTLED_MS 3000
/*
 * How long a stopping instance on a unix socket waits for such a sibling. PM2 starts a
 * restarted sibling's replacement without waiting for it to listen, and stops the next
 * one at once: that one may find no sibling listening yet, only later a young one.
 */
#define UNIX_STOP_MAX_MS 5000

/*
 * The unix socket this process listens on: the path it published and the file the bind
 * made, to tell whether the path still names it (a process has one listener).
 */
static struct {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
} own_unix = { .fd = -1 };

/*
 * Binds a name of its own beside path (mode 0666: the directory decides who may
 * connect), listens, then renames it over path in one step: a connect finds the old
 * instance or this one, never nothing.
 */
static int unix_listener_open(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, n;

	n = snprintf(sun.sun_path, sizeof(sun.sun_path), "%s.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(sun.sun_path)) {
		log_warnx("listen address unix:%s: the path is too long", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_warn("socket");
		return -1;
	}
	if ((unlink(sun.sun_path) == 0 || errno == ENOENT) &&
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	    chmod(sun.sun_path, 0666) == 0 && stat(sun.sun_path, &st) == 0 &&
	    listen(fd, LISTEN_BACKLOG) == 0 && rename(sun.sun_path, path) == 0) {
		own_unix.fd = fd;
		own_unix.dev = st.st_dev;
		own_unix.ino = st.st_ino;
		memcpy(own_unix.path, path, strlen(path) + 1);
		return fd;
	}
	log_warn("listen on unix:%s", path);
	if (unlink(sun.sun_path) != 0 && errno != ENOENT)
		log_warn("unlink %s", sun.sun_path);
	close(fd);
	return -1;
}

/* 1 while own_unix.path names this process's socket. */
static int unix_path_is_own(void)
{
	struct stat st;

	return stat(own_unix.path, &st) == 0 && st.st_dev == own_unix.dev &&
	       st.st_ino == own_unix.ino;
}

int listener_is_unix(int fd)
{
	return fd >= 0 && fd == own_unix.fd;
}

int listener_instance_parse(const char *text)
{
	int n = 0;

	for (const char *p = text != NULL ? text : ""; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (*p - '0');
		if (n > LISTENER_INSTANCE_MAX)
			return -1;
	}
	return n;
}

int listener_instance_address(const char *addr, int n, char *out, size_t size)
{
	int len;

	if (strncmp(addr, ADDRESS_UNIX_PREFIX, strlen(ADDRESS_UNIX_PREFIX)) == 0)
		len = snprintf(out, size, "%s-%d", addr, n);
	else
		len = snprintf(out, size, "%s", addr);
	return len >= 0 && (size_t)len < size ? 0 : -1;
}

int listener_open(const char *addr)
{
	struct addrinfo hints = {0}, *res = NULL, *ai;
	struct address a;
	char why[96];
	int fd = -1, rc, one = 1;

	if (address_parse(addr, &a, why, sizeof(why)) != 0) {
		log_warnx("listen address %s: %s", addr, why);
		return -1;
	}
	if (a.is_unix)
		return unix_listener_open(a.path);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(a.host[0] != '\0' && strcmp(a.host, "*") != 0 ? a.host : NULL, a.port,
			 &hints, &res);
	if (rc != 0) {
		log_warnx("listen address %s: %s", addr, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
		    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == 0 &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, LISTEN_BACKLOG) == 0)
			break;
		log_warn("listen on %s", addr);
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/*
 * The local address of fd as the kernel prints it in /proc/net/tcp or tcp6: each 32-bit
 * word of the address in host order as %08X, then ":%04X" for the port.
 */
static int proc_net_key(int fd, char *key, size_t size, const char **table)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int n;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		log_warn("getsockname");
		return -1;
	}
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;

		*table = "/proc/net/tcp";
		n = snprintf(key, size, "%08X:%04X", (unsigned)sin->sin_addr.s_addr,
			     (unsigned)ntohs(sin->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
		uint32_t w[4];

		memcpy(w, &sin6->sin6_addr, sizeof(w));
		*table = "/proc/net/tcp6";
		n = snprintf(key, size, "%08X%08X%08X%08X:%04X", (unsigned)w[0], (unsigned)w[1],
			     (unsigned)w[2], (unsigned)w[3], (unsigned)ntohs(sin6->sin6_port));
	} else {
		return -1;
	}
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/*
 * 1 when another socket listens on fd's exact TCP address, 0 when none, -1 when unknown
 * (/proc/net/tcp or tcp6 lists every listener, one line each).
 */
static int tcp_has_sibling(int fd)
{
	char key[64], line[512], local[64];
	const char *table = NULL;
	unsigned state;
	int listeners = 0;
	FILE *f;

	if (proc_net_key(fd, key, sizeof(key), &table) != 0)
		return -1;
	f = fopen(table, "r");
	if (f == NULL) {
		log_warn("%s", table);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " %*u: %63s %*s %x", local, &state) == 2 &&
		    state == TCP_LISTEN_STATE && strcmp(local, key) == 0)
			listeners++;
	}
	if (fclose(f) != 0)
		log_warn("%s", table);
	return listeners > 1;
}

/*
 * How long the socket at path has been there, in ms (its inode changed last at the
 * rename that published it); -1 when it is not a socket.
 */
static long long socket_age_ms(const char *path)
{
	struct timespec now;
	struct stat st;

	if (stat(path, &st) != 0 || !S_ISSOCK(st.st_mode) ||
	    clock_gettime(CLOCK_REALTIME, &now) != 0)
		return -1;
	return (long long)(now.tv_sec - st.st_ctim.tv_sec) * 1000 +
	       (now.tv_nsec - st.st_ctim.tv_nsec) / 1000000;
}

/*
 * The siblings of an instance listening on PATH-N are the instances listening on PATH-M
 * (listener_instance_address names them so). /proc/net/unix lists each listening socket by
 * the name it was bound to, PATH-M.PID before the rename. Returns 1 when one of them has
 * listened for UNIX_SETTLED_MS, 0 when some listen but none that long, -1 when none.
 */
static int unix_sibling_state(void)
{
	const char *own = own_unix.path, *dash = strrchr(own, '-'), *p;
	char line[512], bound[sizeof(own_unix.path)], path[sizeof(own_unix.path)];
	unsigned flags;
	size_t base, n;
	long long age;
	int state = -1;
	FILE *f;

	if (dash == NULL || dash[1] == '\0' || dash[1 + strspn(dash + 1, "0123456789")] != '\0')
		return -1;
	base = (size_t)(dash - own) + 1;
	f = fopen("/proc/net/unix", "r");
	if (f == NULL) {
		log_warn("/proc/net/unix");
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%*s %*x %*x %x %*x %*x %*u %107s", &flags, bound) != 2 ||
		    !(flags & UNIX_ACCEPTCON_FLAG) || strncmp(bound, own, base) != 0)
			continue;
		p = bound + base;
		n = strspn(p, "0123456789");
		if (n == 0 || p[n] != '.' || (n == strlen(dash + 1) && strncmp(p, dash + 1, n) == 0))
			continue;
		memcpy(path, bound, base + n);
		path[base + n] = '\0';
		age = socket_age_ms(path);
		if (age >= 0 && state < 1)
			state = age >= UNIX_SETTLED_MS;
	}
	if (fclose(f) != 0)
		log_warn("/proc/net/unix");
	return state;
}

/*
 * A unix socket's stop: see listener.h. Waits until a sibling has listened for
 * UNIX_SETTLED_MS, at most UNIX_STOP_MAX_MS.
 */
static int unix_await_handover(void)
{
	const struct timespec tick = { 0, SIBLING_POLL_MS * 1000000L };
	long long start = monotonic_ms();
	int found = 0;

	for (;;) {
		if (!unix_path_is_own()) {
			found = 1;
			break;
		}
		if (unix_sibling_state() == 1) {
			found = 1;
			break;
		}
		if (monotonic_ms() - start >= UNIX_STOP_MAX_MS)
			break;
		nanosleep(&tick, NULL);
	}
	/* New connects now fail (ENOENT) and go to another backend. */
	if (unix_path_is_own() && unlink(own_unix.path) != 0)
		log_warn("unlink %s", own_unix.path);
	return found;
}

int listener_await_sibling(int fd, int timeout_ms)
{
	const struct timespec tick = { 0, SIBLING_POLL_MS * 1000000L };
	long long start = monotonic_ms();
	int found;

	if (listener_is_unix(fd))
		return unix_await_handover();
	while ((found = tcp_has_sibling(fd)) == 0 && monotonic_ms() - start < timeout_ms)
		nanosleep(&tick, NULL);
	return found == 1;
}
