/*
 * Movie validation after the body reader, for create and update. Oracles: an accepted
 * title or description is exactly the string the client sent (decoded independently from
 * the text), UTF-8 without NUL, within its length; a title is never empty.
 */
#include <string.h>

#include "common/json_input.h"
#include "inventory/movie_input.h"
#include "oracle.h"

/* The field as validated equals the member as sent. */
static void check_field(const uint8_t *data, size_t size, const char *name, int present,
			const char *value, long max_chars)
{
	static char sent[65536];
	size_t sent_len = 0;

	if (!present || value == NULL)
		return;
	ORACLE(oracle_json_member((const char *)data, size, name, sent, sizeof(sent), &sent_len),
	       data, size);
	ORACLE(sent_len == strlen(value) && memcmp(sent, value, sent_len) == 0, data, size);
	ORACLE(utf8_length(value, strlen(value)) <= max_chars, data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum movie_mode modes[] = { MOVIE_CREATE, MOVIE_UPDATE };
	struct json_error e;
	json_object *root;

	if (json_parse_checked((const char *)data, size, &root, &e) != 0)
		return 0;
	for (size_t m = 0; m < 2; m++) {
		struct movie_input in;
		const char *field, *detail;

		if (movie_input_from_object(root, modes[m], &in, &field, &detail) != 0) {
			ORACLE(detail != NULL && detail[0] != '\0', data, size);
			continue;
		}
		ORACLE(modes[m] == MOVIE_UPDATE || in.has_title, data, size);
		ORACLE(!in.has_title || (in.title != NULL && in.title[0] != '\0'), data, size);
		check_field(data, size, "title", in.has_title, in.title, MOVIE_TITLE_MAX);
		check_field(data, size, "description", in.has_description, in.description,
			    MOVIE_DESCRIPTION_MAX);
	}
	json_object_put(root);
	return 0;
}
