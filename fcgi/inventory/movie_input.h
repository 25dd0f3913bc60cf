/* Validation of the movie fields a client sends in POST and PUT bodies. */
#ifndef INVENTORY_MOVIE_INPUT_H
#define INVENTORY_MOVIE_INPUT_H

#include <stddef.h>

#define MOVIE_TITLE_MAX 255         /* characters, as the column allows */
#define MOVIE_DESCRIPTION_MAX 10000 /* characters */

struct movie_input {
	int has_title;
	int has_description;        /* present, possibly null */
	const char *title;          /* NUL-terminated, borrowed from the parsed body */
	const char *description;    /* NULL for JSON null */
	void *owner;                /* the parsed body the strings point into */
};

enum movie_mode { MOVIE_CREATE, MOVIE_UPDATE };

/*
 * Parses and validates body. Returns 0 with in filled (release it with movie_input_free),
 * or 400 with *field (NULL when the body as a whole is at fault) and *detail set.
 * Create needs a title; update needs title or description. Other fields are ignored.
 */
int movie_input_parse(const char *body, size_t len, enum movie_mode mode,
		      struct movie_input *in, const char **field, const char **detail);
void movie_input_free(struct movie_input *in);

/* Parses a path segment as a movie id: a positive integer within bigint. 0 when invalid. */
long long movie_id_parse(const char *s, size_t len);

#endif
