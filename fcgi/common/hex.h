/* Hexadecimal digits, as ids, digests, JSON escapes and URLs write bytes with them. */
#ifndef COMMON_HEX_H
#define COMMON_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes the 2 * n lowercase hex digits of in[0..n) to out; adds no NUL. */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* The value of one hex digit, either case; -1 when c is not one. */
int hex_digit_value(char c);

#endif
