#define _POSIX_C_SOURCE 200809L
#include "address.h"

#include <stdio.h>
#include <string.h>

static int refuse(char *why, size_t why_size, const char *what)
{
	snprintf(why, why_size, "%s", what);
	return -1;
}

int address_parse(const char *text, struct address *a, char *why, size_t why_size)
{
	const char *colon, *host = text;
	size_t hlen;

	memset(a, 0, sizeof(*a));
	if (strncmp(text, ADDRESS_UNIX_PREFIX, strlen(ADDRESS_UNIX_PREFIX)) == 0) {
		const char *path = text + strlen(ADDRESS_UNIX_PREFIX);

		if (*path == '\0')
			return refuse(why, why_size, "the unix socket's path is missing");
		if (strlen(path) >= sizeof(a->path))
			return refuse(why, why_size, "the unix socket's path is too long");
		a->is_unix = 1;
		memcpy(a->path, path, strlen(path) + 1);
		return 0;
	}
	colon = strrchr(text, ':');
	if (colon == NULL)
		return refuse(why, why_size, "expected host:port, [v6]:port or unix:PATH");
	if (colon[1] == '\0')
		return refuse(why, why_size, "the port is missing");
	if (strlen(colon + 1) >= sizeof(a->port))
		return refuse(why, why_size, "the port is too long");
	hlen = (size_t)(colon - text);
	if (hlen > 0 && text[0] == '[') {
		if (hlen < 2 || text[hlen - 1] != ']')
			return refuse(why, why_size, "expected [v6]:port");
		host++;
		hlen -= 2;
	}
	if (hlen >= sizeof(a->host))
		return refuse(why, why_size, "the host is too long");
	memcpy(a->host, host, hlen);
	a->host[hlen] = '\0';
	memcpy(a->port, colon + 1, strlen(colon + 1) + 1);
	return 0;
}
