/*
 * The process around a request handler: a pool of threads serving FastCGI on a
 * listening socket until SIGTERM/SIGINT, or one request when run as plain CGI.
 */
#ifndef COMMON_FCGI_SERVER_H
#define COMMON_FCGI_SERVER_H

#include "http.h"

struct fcgi_app {
	const char *name;
	/*
	 * Where the daemon listens when no web server handed it a socket: the environment
	 * variable holding "host:port" or "unix:PATH" (address.h), and the address when that
	 * is unset (NULL: none).
	 */
	const char *listen_var;
	const char *listen_default;
	/*
	 * Set for a program PM2 runs as several instances on one host: on "unix:PATH"
	 * instance N (NODE_APP_INSTANCE, 0 when unset) listens on PATH-N, a socket of its
	 * own (listener.h); "host:port" is shared as it is.
	 */
	int per_instance_socket;
	/* Per-thread state (a database or broker connection), made in the thread that uses it. */
	void *(*worker_new)(void);
	void (*worker_free)(void *worker);
	int (*handle)(void *worker, const struct http_req *req);   /* the status sent (http.h) */
};

/*
 * Serves app the way the program was started, decided here and nowhere else:
 * 1. fd 0 is a listening socket (lighttpd's bin-path, spawn-fcgi): FastCGI on it, whatever
 *    the environment says, since a spawner may pass on its own (lighttpd does, unless
 *    told which variables to copy);
 * 2. GATEWAY_INTERFACE is set (a web server ran it as CGI): the one request in environ,
 *    on stdin and stdout;
 * 3. app->listen_var, or else app->listen_default, names an address: FastCGI there
 *    (this instance's own, with per_instance_socket);
 * 4. otherwise plain CGI, as in 2.
 * Returns the process exit status.
 */
int fcgi_server_run(const struct fcgi_app *app, int threads);

#endif
