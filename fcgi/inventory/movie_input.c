#include "movie_input.h"

#include <string.h>
#include <json-c/json.h>

#include "../common/json_input.h"

/* Checks one optional string field. Returns 0 ok (or absent), -1 with *detail set. */
static int string_field(json_object *body, const char *name, size_t max_chars, int nullable,
			int *present, const char **value, const char **detail)
{
	json_object *v;
	long chars;

	*present = json_object_object_get_ex(body, name, &v);
	*value = NULL;
	if (!*present)
		return 0;
	if (v == NULL) {
		if (nullable)
			return 0;
		*detail = "must be a string, not null";
		return -1;
	}
	if (!json_object_is_type(v, json_type_string)) {
		*detail = nullable ? "must be a string or null" : "must be a string";
		return -1;
	}
	chars = utf8_length(json_object_get_string(v), (size_t)json_object_get_string_len(v));
	if (chars < 0) {
		*detail = "must be valid UTF-8 without NUL characters";
		return -1;
	}
	if ((size_t)chars > max_chars) {
		*detail = max_chars == MOVIE_TITLE_MAX ? "must be at most 255 characters" :
							 "must be at most 10000 characters";
		return -1;
	}
	*value = json_object_get_string(v);
	return 0;
}

int movie_input_from_object(json_object *root, enum movie_mode mode, struct movie_input *in,
			    const char **field, const char **detail)
{
	memset(in, 0, sizeof(*in));
	*field = NULL;
	if (string_field(root, "title", MOVIE_TITLE_MAX, 0, &in->has_title, &in->title,
			 detail) != 0) {
		*field = "title";
		goto invalid;
	}
	if (in->has_title && in->title[0] == '\0') {
		*field = "title";
		*detail = "must not be empty";
		goto invalid;
	}
	if (string_field(root, "description", MOVIE_DESCRIPTION_MAX, 1, &in->has_description,
			 &in->description, detail) != 0) {
		*field = "description";
		goto invalid;
	}
	if (mode == MOVIE_CREATE && !in->has_title) {
		*field = "title";
		*detail = "is required";
		goto invalid;
	}
	if (mode == MOVIE_UPDATE && !in->has_title && !in->has_description) {
		*detail = "nothing to update: send title and/or description";
		goto invalid;
	}
	return 0;
invalid:
	memset(in, 0, sizeof(*in));
	return 400;
}

long long movie_id_parse(const char *s, size_t len)
{
	long long id = 0;

	if (len == 0 || len > 19)
		return 0;
	for (size_t i = 0; i < len; i++) {
		int d = s[i] - '0';

		if (d < 0 || d > 9)
			return 0;
		if (id > (9223372036854775807LL - d) / 10)
			return 0;
		id = id * 10 + d;
	}
	return id;
}
