/* Message ids: what a client may choose (Idempotency-Key) and what we generate. */
#ifndef BILLING_MESSAGE_ID_H
#define BILLING_MESSAGE_ID_H

#include <stddef.h>

#define MESSAGE_ID_MAX 200   /* fits an AMQP shortstr and a btree index entry */
#define MESSAGE_ID_UUID_LEN 36

/* 1 when s[0..len) is 1..MESSAGE_ID_MAX visible ASCII characters (no space), else 0. */
int message_id_valid(const char *s, size_t len);

/* Writes a random UUIDv4 (36 characters and NUL). Returns 0, or -1 when getrandom fails. */
int message_id_generate(char out[MESSAGE_ID_UUID_LEN + 1]);

#endif
