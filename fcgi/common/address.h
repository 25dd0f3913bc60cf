/*
 * A socket address as the settings write it: "host:port", "[v6]:port" or "unix:PATH".
 * Parsed here for the listener and the FastCGI client alike; what the host means is
 * theirs to decide (a listener takes "" and "*" for every interface).
 */
#ifndef COMMON_ADDRESS_H
#define COMMON_ADDRESS_H

#include <stddef.h>
#include <sys/un.h>

#define ADDRESS_UNIX_PREFIX "unix:"

struct address {
	int is_unix;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];  /* unix: the socket's path */
	char host[256];        /* TCP: "[v6]" without its brackets; "" when none was written */
	char port[32];         /* TCP: a number, or a service name for getaddrinfo */
};

/*
 * Splits text into a: "unix:" and a path that fits a sockaddr_un, or a host and a port
 * separated by the last ':' (so "::1:9000" works too), the port not empty. Returns 0, or
 * -1 with why saying what is wrong (the caller names text).
 */
int address_parse(const char *text, struct address *a, char *why, size_t why_size);

#endif
