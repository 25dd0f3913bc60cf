#define _POSIX_C_SOURCE 200809L
#include "env.h"

#include <errno.h>
#include <stdlib.h>

#include "log.h"

const char *env_str(const char *name, const char *def)
{
	const char *v = getenv(name);

	return (v == NULL || *v == '\0') ? def : v;
}

const char *env_require(const char *name)
{
	const char *v = env_str(name, NULL);

	if (v == NULL)
		fatalx("%s must be set (see .env.example)", name);
	return v;
}

long env_long(const char *name, long def, long min, long max)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
		fatalx("%s=%s: expected a whole number from %ld to %ld", name, v, min, max);
	return n;
}
