#define _POSIX_C_SOURCE 200809L
#include "json_body.h"

#include <stdio.h>
#include <stdlib.h>

#include "json_input.h"

int json_body_read(const struct http_req *r, size_t max, json_object **root)
{
	char *body, detail[80];
	struct json_error e;
	size_t len;
	int status;

	*root = NULL;
	if (http_require_json(r) != 0)
		return http_problem(r, 415, NULL, NULL, "Content-Type must be application/json");
	status = http_read_body(r, max, &body, &len);
	if (status == 413) {
		snprintf(detail, sizeof(detail), "the body is larger than the %lu KB this service accepts",
			 (unsigned long)(max / 1024));
		return http_problem(r, 413, NULL, NULL, detail);
	}
	if (status != 0)
		return http_problem(r, status, NULL, NULL, "the body could not be read");
	status = json_parse_checked(body, len, root, &e);
	free(body);
	if (status != 0)
		return http_problem(r, status, NULL, e.field[0] ? e.field : NULL, e.detail);
	return 0;
}
