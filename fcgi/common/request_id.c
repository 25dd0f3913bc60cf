#define _DEFAULT_SOURCE
#include "request_id.h"

#include <stdint.h>
#include <string.h>
#include <sys/random.h>

/* One per thread: every worker serves one request at a time. */
static _Thread_local char current[REQUEST_ID_MAX + 1];

int request_id_valid(const char *s, size_t len)
{
	if (len == 0 || len > REQUEST_ID_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

int request_id_generate(char out[REQUEST_ID_FRESH_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[REQUEST_ID_FRESH_LEN / 2];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n < 0)
			return -1;
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(b); i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[REQUEST_ID_FRESH_LEN] = '\0';
	return 0;
}

void request_id_begin(const char *client_id)
{
	if (request_id_valid(client_id, strlen(client_id)))
		request_id_set(client_id);
	else if (request_id_generate(current) != 0)
		current[0] = '\0';
}

void request_id_set(const char *id)
{
	size_t len = id ? strlen(id) : 0;

	if (!request_id_valid(id, len)) {
		current[0] = '\0';
		return;
	}
	memcpy(current, id, len + 1);
}

void request_id_end(void)
{
	current[0] = '\0';
}

const char *request_id_current(void)
{
	return current;
}
