#define _POSIX_C_SOURCE 200809L
#include "signals.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "monotonic.h"

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

int signals_await_stop(const sigset_t *handled, int timeout_ms)
{
	long long deadline = monotonic_ms() + timeout_ms;

	for (;;) {
		int sig;

		if (timeout_ms < 0) {
			sig = sigwaitinfo(handled, NULL);
		} else {
			long long left = deadline - monotonic_ms();
			struct timespec wait;

			if (left < 0)
				left = 0;
			wait.tv_sec = (time_t)(left / 1000);
			wait.tv_nsec = (long)(left % 1000) * 1000000L;
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
