/*
 * The id in a path and the query string. Input: "<path segment>\n<query string>".
 * Oracles: an id is accepted only as 1 to 19 digits whose value it is exactly; a query
 * parameter is found only when present, decodes into its buffer with room for the NUL,
 * never holds a NUL, and is never longer than what was written.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "common/http.h"
#include "inventory/movie_input.h"
#include "oracle.h"

static int all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static void check_id(const uint8_t *data, const char *s, size_t len, size_t size)
{
	long long id = movie_id_parse(s, len);
	char digits[24];

	if (id == 0)
		return;
	ORACLE(id > 0 && len >= 1 && len <= 19 && all_digits(s, len), data, size);
	memcpy(digits, s, len);
	digits[len] = '\0';
	ORACLE(strtoll(digits, NULL, 10) == id, data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *names[] = { "title", "limit", "offset", "a" };
	const char *nl = memchr(data, '\n', size);
	size_t seg_len = nl ? (size_t)(nl - (const char *)data) : size;
	char *query;

	check_id(data, (const char *)data, seg_len, size);
	if (nl == NULL)
		return 0;
	/* a CGI parameter is a C string: what follows a NUL never reaches the program */
	query = strndup(nl + 1, size - seg_len - 1);
	ORACLE(query != NULL, data, size);
	for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
		char out[64];
		int rc = http_query_param(query, names[n], out, sizeof(out));

		ORACLE(rc >= -1 && rc <= 1, data, size);
		if (rc == 1) {
			ORACLE(strlen(out) <= strlen(query), data, size);
			ORACLE(strstr(query, names[n]) != NULL, data, size);
		}
	}
	free(query);
	return 0;
}
