#include "self_check.h"

#include <string.h>

/* Well under the publisher's wait for the whole answer (billing/platform_health.c). */
#define DB_PING_TIMEOUT_MS 400

int self_check_answer(struct inventory *inv, const struct http_req *r)
{
	const char *method = http_param(r, "REQUEST_METHOD");
	struct http_body b;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return http_problem(r, 405, "Allow: GET, HEAD\r\n", NULL,
				    "the health check is read-only");
	if (db_ping(inv->db, DB_PING_TIMEOUT_MS) != 0) {
		http_problem_begin(&b, r, 503, "Cache-Control: no-store\r\n",
				   "the movie database does not answer");
		http_body_add_str(&b, ",\"database\":\"down\"");
		return http_problem_end(&b);
	}
	http_body_begin(&b, r, 200, "application/json", "Cache-Control: no-store\r\n");
	http_body_add_str(&b, "{\"status\":\"up\",\"database\":\"up\"}");
	return http_body_end(&b);
}
