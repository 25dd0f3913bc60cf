/*
 * inventory_app: the movie inventory, a multi-threaded FastCGI daemon in front of
 * PostgreSQL. Each worker thread owns its database connection.
 */
#include <stdlib.h>

#include "../common/env.h"
#include "../common/fcgi_server.h"
#include "../common/log.h"
#include "../common/metrics_http.h"
#include "../common/metrics_listener.h"
#include "inventory_metrics.h"
#include "movies.h"
#include "routes.h"

static size_t max_body;

static void *inventory_new(void)
{
	struct inventory *inv = calloc(1, sizeof(*inv));

	if (inv == NULL)
		fatalx("out of memory");
	inv->db = db_new("POSTGRES", "inventory_app", movie_statements, movie_statement_count);
	inv->max_body = max_body;
	return inv;
}

static void inventory_free(void *worker)
{
	struct inventory *inv = worker;

	db_free(inv->db);
	free(inv);
}

static int inventory_handle(void *worker, const struct http_req *req)
{
	long long started;
	int status;

	if (metrics_is_scrape(req))
		return inventory_metrics_answer(req);
	started = inventory_metrics_begin();
	status = routes_dispatch(worker, req);
	inventory_metrics_end(req, status, started);
	return status;
}

int main(void)
{
	static const struct fcgi_app app = {
		.name = "inventory_app",
		.listen_var = "INVENTORY_LISTEN_ADDR",
		.listen_default = "unix:/run/movies/inventory.sock",
		.per_instance_socket = 1,           /* PM2 runs several: PATH-N each */
		.worker_new = inventory_new,
		.worker_free = inventory_free,
		.handle = inventory_handle,
	};
	struct metrics_listener *own_page;
	int threads, status;

	log_init(app.name);
	threads = (int)env_long("INVENTORY_THREADS", 32, 1, 256);
	max_body = (size_t)env_long("REQUEST_BODY_MAX_KB", 64, 1, 16384) * 1024;
	inventory_metrics_init(threads);
	/*
	 * Instances sharing a TCP port each serve their page on a port of their own too
	 * (INVENTORY_METRICS_ADDR, set by scripts/deploy/app.sh): a scrape of the shared
	 * port reaches one of them at random.
	 */
	own_page = metrics_listener_start("INVENTORY_METRICS_ADDR", inventory_metrics_answer);
	status = fcgi_server_run(&app, threads);
	metrics_listener_stop(own_page);
	return status;
}
