#include "metrics_http.h"

#include <string.h>

int metrics_is_scrape(const struct http_req *r)
{
	const char *script = http_param(r, "SCRIPT_NAME");

	return strncmp(script, "/metrics", 8) == 0 && (script[8] == '\0' || script[8] == '/');
}

int metrics_send(const struct http_req *r, struct metrics_text *t)
{
	const char *method = http_param(r, "REQUEST_METHOD");
	struct http_body b;
	int status;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		status = http_problem(r, 405, "Allow: GET, HEAD\r\n", NULL,
				      "the metrics page is read with GET");
	else if (t->failed)
		status = http_problem(r, 500, NULL, NULL, "out of memory writing the metrics");
	else {
		http_body_begin(&b, r, 200, METRICS_CONTENT_TYPE, "Cache-Control: no-store\r\n");
		http_body_add(&b, t->data, t->len);
		status = http_body_end(&b);
	}
	metrics_text_free(t);
	return status;
}
