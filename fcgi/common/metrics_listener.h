/*
 * A metrics page on an address of its own: one thread answering FastCGI requests there
 * with the program's page (SCRIPT_NAME /metrics, metrics_http.h) and 404 to anything
 * else. For what the gateway cannot reach otherwise: one of several inventory_app
 * instances sharing a TCP port (a scrape of the port reaches one at random), or
 * billing_app, which serves no requests, on a host other than the gateway's. The
 * address is a TCP one (listener.h; SO_REUSEPORT, so a rolling reload's old and new
 * process may hold it together for a moment), and libfcgi accepts connections from
 * FCGI_WEB_SERVER_ADDRS only, when that is set, as on the FastCGI port.
 */
#ifndef COMMON_METRICS_LISTENER_H
#define COMMON_METRICS_LISTENER_H

#include "http.h"

struct metrics_listener;

/* Sends the page for r (metrics_send); returns the status sent. */
typedef int metrics_page_fn(const struct http_req *r);

/*
 * Serves page on the address in the environment variable var ("host:port"). NULL when
 * var is unset or empty, or when the address cannot be listened on (logged): the program
 * goes on without, and the gateway's scrape of it fails (the BackendDown alert).
 */
struct metrics_listener *metrics_listener_start(const char *var, metrics_page_fn *page);

/* Stops accepting, waits for the request in hand, frees ml (NULL: nothing). */
void metrics_listener_stop(struct metrics_listener *ml);

#endif
