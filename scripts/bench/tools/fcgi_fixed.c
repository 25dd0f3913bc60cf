/*
 * fcgi_fixed: the FastCGI hop's own limit, scenario (k). The inventory's server (the
 * same listener, thread pool and reply code, fcgi_server.h) with a handler that answers
 * every request with one fixed movie, touching no database.
 *
 * Usage: FIXED_FCGI_ADDR=host:port|unix:PATH [FIXED_THREADS=32] fcgi_fixed
 */
#include <stddef.h>

#include "../../../fcgi/common/env.h"
#include "../../../fcgi/common/fcgi_server.h"
#include "../../../fcgi/common/log.h"

static const char movie[] = "{\"id\":1,\"title\":\"A fixed movie\",\"description\":"
			    "\"The FastCGI ceiling: no database behind this answer.\"}";

static void *fixed_new(void)
{
	return NULL;
}

static void fixed_free(void *worker)
{
	(void)worker;
}

static int fixed_handle(void *worker, const struct http_req *req)
{
	struct http_body b;

	(void)worker;
	http_body_begin(&b, req, 200, "application/json", NULL);
	http_body_add(&b, movie, sizeof(movie) - 1);
	return http_body_end(&b);
}

int main(void)
{
	static const struct fcgi_app app = {
		.name = "fcgi_fixed",
		.listen_var = "FIXED_FCGI_ADDR",
		.listen_default = NULL,
		.worker_new = fixed_new,
		.worker_free = fixed_free,
		.handle = fixed_handle,
	};

	log_init(app.name);
	return fcgi_server_run(&app, (int)env_long("FIXED_THREADS", 32, 1, 256));
}
