/*
 * The daemon's listening socket. Every instance on a host binds the same address with
 * SO_REUSEPORT, so one can be replaced while the others keep serving: with the sysctl
 * net.ipv4.tcp_migrate_req = 1 the kernel hands the connections still queued on a
 * closing listener to a sibling instead of resetting them.
 *
 * A unix socket ("unix:PATH") cannot be shared that way: each instance has a path of its
 * own, PATH-N for instance N, and a replacement takes the path over with a rename. A
 * stopping instance whose path was taken over, or which removed it, gets no new
 * connection, and its workers accept what is still queued before they leave. PM2 starts
 * a restarted process's replacement only after it exits, so the gateway finds no socket
 * at PATH-N meanwhile and sends its requests to a sibling, PATH-M.
 */
#ifndef COMMON_LISTENER_H
#define COMMON_LISTENER_H

#include <stddef.h>

/* The highest instance number a program takes from PM2 (NODE_APP_INSTANCE). */
#define LISTENER_INSTANCE_MAX 999

/*
 * An instance number as PM2 writes it: digits only, at most LISTENER_INSTANCE_MAX; NULL
 * or "" is 0. -1 for anything else.
 */
int listener_instance_parse(const char *text);

/*
 * Where instance n listens when every instance needs an address of its own: "unix:PATH-n"
 * for "unix:PATH"; any other addr as it is, since a TCP port is shared. 0, or -1 when
 * that does not fit in size.
 */
int listener_instance_address(const char *addr, int n, char *out, size_t size);

/*
 * Binds and listens on "host:port" ("[v6]:port", "*:port") or "unix:PATH"; -1 on
 * failure (logged).
 */
int listener_open(const char *addr);

/* 1 when fd is the unix socket listener_open made. */
int listener_is_unix(int fd);

/*
 * Waits until a sibling listens on fd's address, or timeout_ms passes. A daemon calls it
 * on SIGTERM before it closes its listener: during a rolling restart the replacement
 * may still be starting, and closing the last listener would refuse connections.
 * Returns 1 when a sibling was found.
 *
 * On a unix socket, timeout_ms does not apply: it waits until its path is taken over,
 * or a sibling (PATH-M) has listened long enough for the gateway to use it again after
 * its own restart (3 s), at most 5 s. The path, if still its own, is removed before it
 * returns.
 */
int listener_await_sibling(int fd, int timeout_ms);

#endif
