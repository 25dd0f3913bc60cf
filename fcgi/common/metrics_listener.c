#define _POSIX_C_SOURCE 200809L
#include "metrics_listener.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "env.h"
#include "listener.h"
#include "log.h"
#include "metrics_http.h"

struct metrics_listener {
	pthread_t thread;
	int fd;
	metrics_page_fn *page;
	char addr[256];
};

static void *serve(void *arg)
{
	struct metrics_listener *ml = arg;
	FCGX_Request fr;

	if (FCGX_InitRequest(&fr, ml->fd, 0) != 0) {
		log_warnx("metrics listener %s: FCGX_InitRequest failed", ml->addr);
		return NULL;
	}
	/* Ends when metrics_listener_stop shuts the socket down: accept() fails. */
	while (FCGX_Accept_r(&fr) == 0) {
		struct http_req req = { fr.envp, fr.in, fr.out };

		if (metrics_is_scrape(&req))
			ml->page(&req);
		else
			http_problem(&req, 404, NULL, NULL, "only /metrics is served here");
		FCGX_Finish_r(&fr);
	}
	FCGX_Free(&fr, 1);
	return NULL;
}

struct metrics_listener *metrics_listener_start(const char *var, metrics_page_fn *page)
{
	const char *addr = env_str(var, NULL);
	struct metrics_listener *ml;
	sigset_t all, saved;
	int rc;

	if (addr == NULL || *addr == '\0')
		return NULL;
	if (FCGX_Init() != 0) {
		log_warnx("%s: FCGX_Init failed; no metrics page there", var);
		return NULL;
	}
	ml = calloc(1, sizeof(*ml));
	if (ml == NULL)
		fatalx("out of memory");
	ml->page = page;
	if (strlen(addr) >= sizeof(ml->addr) || strncmp(addr, "unix:", 5) == 0) {
		log_warnx("%s=%.100s: expected host:port; no metrics page there", var, addr);
		free(ml);
		return NULL;
	}
	memcpy(ml->addr, addr, strlen(addr) + 1);
	ml->fd = listener_open(ml->addr);
	if (ml->fd < 0) {
		log_warnx("%s: no metrics page on %s", var, ml->addr);
		free(ml);
		return NULL;
	}
	/* Every signal is the main thread's to take (signals.h): none may stop this one. */
	if (sigfillset(&all) != 0 || (rc = pthread_sigmask(SIG_BLOCK, &all, &saved)) != 0)
		fatalx("blocking signals for the metrics listener");
	rc = pthread_create(&ml->thread, NULL, serve, ml);
	if (pthread_sigmask(SIG_SETMASK, &saved, NULL) != 0)
		fatalx("restoring the signal mask");
	if (rc != 0) {
		log_warnx("metrics listener %s: could not start its thread: %s", ml->addr,
			  strerror(rc));
		close(ml->fd);
		free(ml);
		return NULL;
	}
	log_info("metrics page on %s", ml->addr);
	return ml;
}

void metrics_listener_stop(struct metrics_listener *ml)
{
	int rc;

	if (ml == NULL)
		return;
	if (shutdown(ml->fd, SHUT_RDWR) != 0 && errno != ENOTCONN)
		log_warn("shutdown of the metrics listener %s", ml->addr);
	if ((rc = pthread_join(ml->thread, NULL)) != 0)
		log_warnx("metrics listener %s: join: %s", ml->addr, strerror(rc));
	if (close(ml->fd) != 0)
		log_warn("close of the metrics listener %s", ml->addr);
	free(ml);
}
