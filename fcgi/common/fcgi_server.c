#define _POSIX_C_SOURCE 200809L
#include "fcgi_server.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

extern char **environ;

struct worker_thread {
	pthread_t thread;
	const struct fcgi_app *app;
	int listen_fd;
};

/* Splits "host:port" (or "[v6]:port") and binds a listening socket; -1 on failure. */
static int listen_tcp(const char *addr)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct addrinfo hints = {0}, *res = NULL, *ai;
	size_t hlen;
	int fd = -1, rc, one = 1;

	if (colon == NULL || colon[1] == '\0') {
		log_warnx("listen address %s: expected host:port", addr);
		return -1;
	}
	hlen = (size_t)(colon - addr);
	if (hlen >= 2 && addr[0] == '[' && addr[hlen - 1] == ']') {
		addr++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host)) {
		log_warnx("listen address %s: host too long", addr);
		return -1;
	}
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(hlen && strcmp(host, "*") != 0 ? host : NULL, colon + 1, &hints, &res);
	if (rc != 0) {
		log_warnx("listen address %s: %s", addr, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
			break;
		log_warn("listen on %s", addr);
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
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

		t->app->handle(state, &req);
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

	app->handle(state, &req);
	app->worker_free(state);
	return fflush(stdout) == 0 ? 0 : 1;
}

int fcgi_server_run(const struct fcgi_app *app, const char *listen_addr, int threads)
{
	struct worker_thread *pool;
	sigset_t stop_signals;
	int listen_fd = 0, started = 0, sig = 0;

	if (FCGX_Init() != 0)
		fatalx("FCGX_Init failed");
	if (listen_addr == NULL && FCGX_IsCGI())
		return serve_cgi(app);

	/*
	 * libfcgi's own SIGTERM handler only sets a flag that threads blocked in accept()
	 * never see. Block the signals everywhere and wait for them here instead.
	 */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &stop_signals, NULL) != 0)
		fatalx("pthread_sigmask failed");
	signal(SIGPIPE, SIG_IGN);

	if (listen_addr != NULL) {
		listen_fd = listen_tcp(listen_addr);
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
		if (sigwait(&stop_signals, &sig) != 0)
			log_warnx("sigwait failed");
		log_info("shutting down on signal %d", sig);
	}
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
