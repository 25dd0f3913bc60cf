/*
 * The JSON body reader every program uses (json_parse_checked). Oracles: an accepted text
 * is RFC 8259 JSON by an independent reading and an object; its strings are UTF-8 without
 * NUL; written back and read again it is the same tree; a refusal is 400 or 413 in words
 * that are UTF-8 and name, if anything, a member the text has.
 */
#define _GNU_SOURCE    /* memmem */
#include <string.h>

#include "common/json_input.h"
#include "oracle.h"

/* Every string and name of the tree is UTF-8 without NUL. */
static int strings_clean(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_string:
		return utf8_length(json_object_get_string(o),
				   (size_t)json_object_get_string_len(o)) >= 0;
	case json_type_object: {
		json_object_object_foreach(o, key, child)
			if (utf8_length(key, strlen(key)) < 0 || !strings_clean(child))
				return 0;
		return 1;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (!strings_clean(json_object_array_get_idx(o, i)))
				return 0;
		return 1;
	default:
		return 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct json_error e, e2;
	json_object *root, *again;
	const char *written;
	int status = json_parse_checked(text, size, &root, &e);

	if (status != 0) {
		ORACLE(root == NULL, data, size);
		ORACLE(status == 400 || status == 413, data, size);
		ORACLE(e.detail[0] != '\0' && oracle_utf8(e.detail, strlen(e.detail)), data, size);
		ORACLE(e.field[0] == '\0' || memmem(text, size, e.field, strlen(e.field)) != NULL,
		       data, size);
		return 0;
	}
	ORACLE(oracle_json(text, size), data, size);
	ORACLE(json_object_is_type(root, json_type_object), data, size);
	ORACLE(strings_clean(root), data, size);
	written = json_text(root);
	ORACLE(json_parse_checked(written, strlen(written), &again, &e2) == 0, data, size);
	ORACLE(json_object_equal(root, again), data, size);
	json_object_put(again);
	json_object_put(root);
	return 0;
}
