#include "request_id.h"

#include <stdint.h>
#include <string.h>

#include "hex.h"
#include "token.h"

/* One per thread: every worker serves one request at a time. */
static _Thread_local char current[REQUEST_ID_MAX + 1];

int request_id_valid(const char *s, size_t len)
{
	return token_valid(s, len, REQUEST_ID_MAX);
}

int request_id_generate(char out[REQUEST_ID_FRESH_LEN + 1])
{
	uint8_t b[REQUEST_ID_FRESH_LEN / 2];

	if (token_random(b, sizeof(b)) != 0)
		return -1;
	hex_encode(b, sizeof(b), out);
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
