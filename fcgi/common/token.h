/* The short identifiers that travel in headers and logs: message ids and request ids. */
#ifndef COMMON_TOKEN_H
#define COMMON_TOKEN_H

#include <stddef.h>

/* 1 when s[0..len) is 1..max visible ASCII characters (no space, nothing to escape in a
 * header or a log line), else 0. */
int token_valid(const char *s, size_t len, size_t max);

/* Fills buf with n random bytes from the kernel. 0, or -1 when getrandom fails. */
int token_random(void *buf, size_t n);

#endif
