/* SHA-256 (FIPS 180-4), for ids derived from an order's content. */
#ifndef BILLING_SHA256_H
#define BILLING_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_SIZE 32

/* The digest of data[0..len) into out. */
void sha256(const void *data, size_t len, uint8_t out[SHA256_SIZE]);

#endif
