/* Validation of the movie fields a client sends in POST and PUT bodies. */
#ifndef INVENTORY_MOVIE_INPUT_H
#define INVENTORY_MOVIE_INPUT_H

#include <stddef.h>
#include <json-c/json.h>

#define MOVIE_TITLE_MAX 255         /* characters, as the column allows */
#define MOVIE_DESCRIPTION_MAX 10000 /* characters */

struct movie_input {
	int has_title;
	int has_description;        /* present, possibly null */
	const char *title;          /* NUL-terminated, borrowed from the parsed body */
	const char *description;    /* NULL for JSON null; also borrowed */
};

enum movie_mode { MOVIE_CREATE, MOVIE_UPDATE };

/*
 * Validates the movie fields of a parsed body. Returns 0 with in pointing into root (valid
 * while root is), or 400 with *field (NULL when the body as a whole is at fault) and
 * *detail set. Create needs a title; update needs title or description. Other fields
 * are ignored.
 */
int movie_input_from_object(json_object *root, enum movie_mode mode, struct movie_input *in,
			    const char **field, const char **detail);

/* Parses a path segment as a movie id: a positive integer within bigint. 0 when invalid. */
long long movie_id_parse(const char *s, size_t len);

#endif
