#include "routes.h"

#include <stdio.h>
#include <string.h>

#include "movie_input.h"
#include "self_check.h"

typedef int (*movie_handler)(struct inventory *, const struct http_req *, long long);

struct route {
	const char *method;
	int on_item;            /* /api/movies/:id rather than /api/movies */
	movie_handler handler;
};

/* HEAD is answered as GET without a body (http_body_end leaves the body out). */
static const struct route routes[] = {
	{ "GET",    0, movies_list },
	{ "HEAD",   0, movies_list },
	{ "POST",   0, movies_create },
	{ "DELETE", 0, movies_delete_all },
	{ "GET",    1, movies_get },
	{ "HEAD",   1, movies_get },
	{ "PUT",    1, movies_update },
	{ "DELETE", 1, movies_delete },
};

static const char *const allow_header[2] = {
	"Allow: GET, HEAD, POST, DELETE\r\n",
	"Allow: GET, HEAD, PUT, DELETE\r\n",
};

/*
 * Splits PATH_INFO (what follows /api/movies): "" and "/" name the collection,
 * "/<id>" and "/<id>/" an item. Returns 0 collection, 1 item, -1 no such resource.
 */
static int parse_path(const char *path, long long *id)
{
	const char *seg, *end;

	if (path[0] == '\0' || strcmp(path, "/") == 0)
		return 0;
	if (path[0] != '/')
		return -1;
	seg = path + 1;
	end = strchr(seg, '/');
	if (end != NULL && end[1] != '\0')
		return -1;
	*id = movie_id_parse(seg, end ? (size_t)(end - seg) : strlen(seg));
	return *id > 0 ? 1 : -1;
}

int routes_dispatch(struct inventory *inv, const struct http_req *r)
{
	const char *method = http_param(r, "REQUEST_METHOD");
	long long id = 0;
	int on_item = parse_path(http_param(r, "PATH_INFO"), &id);
	char detail[96];

	if (strcmp(http_param(r, "SCRIPT_NAME"), SELF_CHECK_SCRIPT_NAME) == 0)
		return self_check_answer(inv, r);
	if (on_item < 0)
		return http_problem(r, 404, NULL, NULL, "no such resource");
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].on_item == on_item && strcmp(routes[i].method, method) == 0)
			return routes[i].handler(inv, r, id);
	snprintf(detail, sizeof(detail), "%.16s is not supported here", method);
	return http_problem(r, 405, allow_header[on_item], NULL, detail);
}
