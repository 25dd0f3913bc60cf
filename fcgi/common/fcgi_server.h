/*
 * The process around a request handler: a pool of threads serving FastCGI on a
 * listening socket until SIGTERM/SIGINT, or one request when run as plain CGI.
 */
#ifndef COMMON_FCGI_SERVER_H
#define COMMON_FCGI_SERVER_H

#include "http.h"

struct fcgi_app {
	const char *name;
	/* Per-thread state (a database or broker connection), made in the thread that uses it. */
	void *(*worker_new)(void);
	void (*worker_free)(void *worker);
	void (*handle)(void *worker, const struct http_req *req);
};

/*
 * Serves app. listen_addr is "host:port" (a TCP address of its own) or NULL for the
 * socket a web server hands over on fd 0; when fd 0 is no socket, the program was
 * started as plain CGI and serves the one request in its environment.
 * Returns the process exit status.
 */
int fcgi_server_run(const struct fcgi_app *app, const char *listen_addr, int threads);

#endif
