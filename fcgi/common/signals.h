/*
 * What a daemon does with each signal, decided once for every program:
 * - TERM, INT: stop gracefully (each program finishes what it holds first).
 * - PIPE: ignored; a peer that went away is a write error (EPIPE) where it happens.
 * - QUIT and the faults (SEGV, BUS, FPE, ILL, TRAP, ABRT, SYS): left to their default,
 *   a core dump, which is what they are for. CHLD, CONT, URG, WINCH: default (nothing).
 * - Every other signal (HUP, USR1, USR2, ALRM, TSTP, the real-time ones...) is logged and
 *   otherwise ignored. Configuration is read once at start (a restart applies a change)
 *   and logs go to stderr, so HUP has nothing to reload or reopen; USR1 would otherwise
 *   reach libfcgi's handler, which quietly stops every worker thread after its next
 *   request while the process stays alive.
 * The handled signals are blocked and taken synchronously (sigwait), so no handler runs
 * in a worker thread and threads started later inherit the mask.
 */
#ifndef COMMON_SIGNALS_H
#define COMMON_SIGNALS_H

#include <signal.h>

/* Blocks the handled signals in the calling thread, fills handled with them, ignores PIPE. */
void signals_block(sigset_t *handled);

/*
 * Takes the pending handled signals, waiting up to timeout_ms (-1: for ever) for one that
 * stops; logs the ignored ones. Returns the stop signal, or 0 when none came in time.
 */
int signals_await_stop(const sigset_t *handled, int timeout_ms);

#endif
