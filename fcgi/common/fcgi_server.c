#define _POSIX_C_SOURCE 200809L
#include "fcgi_server.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cgi_stdin.h"
#include "env.h"
#include "listener.h"
#include "log.h"
#include "signals.h"
#include "request_id.h"
#include "trace_context.h"

/*
 * On SIGTERM a daemon that is the last listener on its TCP address keeps serving this
 * long for a replacement to bind (a rolling restart starts the previous instance's
 * replacement just before it stops this one); with a sibling listening it stops
 * accepting at once. A unix socket's stop has its own rule (listener.h).
 */
#define SIBLING_WAIT_MS 800

extern char **environ;

struct worker_thread {
	pthread_t thread;
	const struct fcgi_app *app;
	int listen_fd;
};

/*
 * Runs the handler under the request's id (request_id.h) and trace context
 * (trace_context.h); should one send nothing (a bug), the client still gets an answer.
 */
static void serve_one(const struct fcgi_app *app, void *state, const struct http_req *req)
{
	request_id_begin(http_param(req, "HTTP_X_REQUEST_ID"));
	trace_context_begin(http_param(req, "HTTP_TRACEPARENT"),
			    http_param(req, "HTTP_TRACESTATE"));
	if (app->handle(state, req) == 0) {
		log_warnx("a handler sent no reply; answering 500");
		http_problem(req, 500, NULL, NULL, "the request could not be completed");
	}
	request_id_end();
	trace_context_end();
}

static void *worker_main(void *arg)
{
	struct worker_thread *t = arg;
	void *state = t->app->worker_new();
	FCGX_Request fr;

	if (FCGX_InitRequest(&fr, t->listen_fd, 0) != 0) {
		log_warnx("FCGX_InitRequest failed");
		t->app->worker_free(state);
		return NULL;
	}
	while (FCGX_Accept_r(&fr) == 0) {
		struct http_req req = { fr.envp, fr.in, fr.out };

		serve_one(t->app, state, &req);
		FCGX_Finish_r(&fr);
	}
	FCGX_Free(&fr, 1);
	t->app->worker_free(state);
	return NULL;
}

static int serve_cgi(const struct fcgi_app *app)
{
	void *state = app->worker_new();
	struct http_req req = { environ, NULL, NULL };
	int status;

	serve_one(app, state, &req);
	app->worker_free(state);
	status = fflush(stdout) == 0 ? 0 : 1;
	cgi_stdin_drain();
	return status;
}

/* fd 0 is a listening socket when a web server spawned us (lighttpd's bin-path). */
static int spawned_with_socket(void)
{
	int listening = 0;
	socklen_t len = sizeof(listening);

	return getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening;
}

/*
 * This instance's address for the app's: listener_instance_address with PM2's instance
 * number. A NODE_APP_INSTANCE that is no such number stops the program.
 */
static const char *instance_address(const struct fcgi_app *app, const char *addr, char *out,
				    size_t size)
{
	const char *text = env_str("NODE_APP_INSTANCE", NULL);
	int n = listener_instance_parse(text);

	if (n < 0)
		fatalx("NODE_APP_INSTANCE=%.40s: expected PM2's instance number, 0 to %d", text,
		       LISTENER_INSTANCE_MAX);
	if (listener_instance_address(addr, n, out, size) != 0)
		fatalx("%s: the address is too long", app->listen_var);
	return out;
}

int fcgi_server_run(const struct fcgi_app *app, int threads)
{
	const char *listen_addr = NULL;    /* NULL: the socket on fd 0 */
	char own_addr[512];
	struct worker_thread *pool;
	sigset_t handled;
	int listen_fd = 0, started = 0, sig = 0;

	if (FCGX_Init() != 0)
		fatalx("FCGX_Init failed");
	if (!spawned_with_socket()) {
		if (env_str("GATEWAY_INTERFACE", NULL) == NULL)
			listen_addr = env_str(app->listen_var, app->listen_default);
		if (listen_addr == NULL)
			return serve_cgi(app);
		if (app->per_instance_socket)
			listen_addr = instance_address(app, listen_addr, own_addr, sizeof(own_addr));
	}

	/*
	 * libfcgi's own TERM and USR1 handlers only set a flag that makes each worker leave
	 * after its next request. Block every signal we handle, before any thread starts,
	 * and take them here instead (signals.h).
	 */
	signals_block(&handled);

	if (listen_addr != NULL) {
		listen_fd = listener_open(listen_addr);
		if (listen_fd < 0)
			return 1;
	}
	pool = calloc((size_t)threads, sizeof(*pool));
	if (pool == NULL)
		fatalx("out of memory");
	for (int i = 0; i < threads; i++) {
		pool[i].app = app;
		pool[i].listen_fd = listen_fd;
		if (pthread_create(&pool[i].thread, NULL, worker_main, &pool[i]) != 0) {
			log_warnx("could not start worker thread %d", i);
			break;
		}
		started++;
	}
	if (started > 0) {
		log_info("serving on %s with %d threads", listen_addr ? listen_addr : "fd 0",
			 started);
		sig = signals_await_stop(&handled, -1);
		log_info("shutting down on signal %d", sig);
		if (listen_addr != NULL && !listener_await_sibling(listen_fd, SIBLING_WAIT_MS))
			log_info("no other instance listens on %s", listen_addr);
	}
	/*
	 * A unix socket's queue goes to no sibling: the workers accept what is queued there
	 * (no new connect reaches it now), then accept() fails and they leave.
	 */
	if (!listener_is_unix(listen_fd))
		FCGX_ShutdownPending();
	/* Wakes every thread blocked in accept(); each finishes its request first. */
	if (shutdown(listen_fd, SHUT_RDWR) != 0 && errno != ENOTCONN)
		log_warn("shutdown of the listening socket");
	for (int i = 0; i < started; i++)
		pthread_join(pool[i].thread, NULL);
	free(pool);
	if (listen_addr != NULL)
		close(listen_fd);
	return started > 0 ? 0 : 1;
}
