#define _POSIX_C_SOURCE 200809L
#include "signals.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* The signals left to their default action (signals.h says why); PIPE is ignored. */
static const int default_signals[] = {
	SIGKILL, SIGSTOP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS,
	SIGCHLD, SIGCONT, SIGURG, SIGWINCH, SIGPIPE,
};

void signals_block(sigset_t *handled)
{
	struct sigaction ignore;
	int rc;

	memset(&ignore, 0, sizeof(ignore));
	ignore.sa_handler = SIG_IGN;
	if (sigemptyset(&ignore.sa_mask) != 0 || sigfillset(handled) != 0)
		fatal("sigset");
	for (size_t i = 0; i < sizeof(default_signals) / sizeof(default_signals[0]); i++)
		if (sigdelset(handled, default_signals[i]) != 0)
			fatal("sigdelset %d", default_signals[i]);
	if (sigaction(SIGPIPE, &ignore, NULL) != 0)
		fatal("sigaction SIGPIPE");
	if ((rc = pthread_sigmask(SIG_BLOCK, handled, NULL)) != 0)
		fatalx("pthread_sigmask: %s", strerror(rc));
}

/* Milliseconds from now until deadline, at least 0. */
static long ms_until(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return 0;
	ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

int signals_await_stop(const sigset_t *handled, int timeout_ms)
{
	struct timespec deadline = { 0, 0 };

	if (timeout_ms >= 0 && clock_gettime(CLOCK_MONOTONIC, &deadline) == 0) {
		deadline.tv_sec += timeout_ms / 1000;
		deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
	}
	for (;;) {
		int sig;

		if (timeout_ms < 0) {
			sig = sigwaitinfo(handled, NULL);
		} else {
			long left = ms_until(&deadline);
			struct timespec wait = { left / 1000, (left % 1000) * 1000000L };

			sig = sigtimedwait(handled, NULL, &wait);
		}
		if (sig < 0 && errno == EINTR)
			continue;
		if (sig < 0 && errno == EAGAIN)
			return 0;
		if (sig < 0) {
			log_warn("waiting for signals");
			return 0;
		}
		if (sig == SIGTERM || sig == SIGINT)
			return sig;
		log_info("signal %d (%s) ignored: nothing to reload, configuration is read at start",
			 sig, strsignal(sig));
	}
}
