/* The clock every timeout and deadline is measured on. */
#ifndef COMMON_MONOTONIC_H
#define COMMON_MONOTONIC_H

/*
 * Milliseconds on CLOCK_MONOTONIC, which a change of the wall clock does not move; only
 * differences mean anything. 0 should the clock fail, which Linux never does.
 */
long long monotonic_ms(void);

#endif
