/*
 * An order as clients send it and as it travels on the queue: validation and
 * normalisation shared by the publisher (HTTP bodies) and the consumer (messages).
 * Money stays text from end to end; it never passes through a C double.
 */
#ifndef BILLING_ORDER_H
#define BILLING_ORDER_H

#include <stddef.h>
#include <json-c/json.h>

#define ORDER_USER_ID_MAX 255            /* characters */
#define ORDER_AMOUNT_INT_DIGITS 10       /* numeric(12,2) */
#define ORDER_ITEMS_MAX 2147483647L      /* the integer column */
#define ORDER_DIGEST_HEX 32              /* hex digits of the order's digest in a message id */

struct order {
	char user_id[ORDER_USER_ID_MAX * 4 + 1];  /* UTF-8, an integer given as its digits */
	long number_of_items;                     /* 1..ORDER_ITEMS_MAX */
	char total_amount[ORDER_AMOUNT_INT_DIGITS + 4];  /* "250.00": always two decimals */
};

/*
 * Validates the fields of a parsed body into o. Unknown members are ignored, so the
 * normalised message format is accepted as well. Returns 0, or 400 with *field
 * naming the culprit and *detail a sentence that starts with that name.
 */
int order_from_object(json_object *root, struct order *o, const char **field,
		      const char **detail);

/*
 * The normalised message:
 * {"message_id":"...","user_id":"20","number_of_items":99,"total_amount":"250.00"}.
 * Returns a string the caller frees, or NULL when out of memory.
 */
char *order_to_json(const struct order *o, const char *message_id);

/*
 * The message id of an order sent with an Idempotency-Key: "<key>:<digest>", where digest
 * is the first ORDER_DIGEST_HEX hex digits of the SHA-256 of the normalised order written
 * as "<user_id>\n<number_of_items>\n<total_amount>" (e.g. "20\n99\n250.00"). The same
 * key with the same order is the same id, so a retry is stored once; the same key with
 * another order is another id, so that order is not dropped as a duplicate.
 * Returns 0, or -1 when the id does not fit in size.
 */
int order_message_id(const struct order *o, const char *key, char *out, size_t size);

/*
 * Normalises a decimal written as digits with an optional '.' and one or two
 * fraction digits ("9.9" -> "9.90"); leading zeros are dropped.
 * Returns 0, or -1 when text is no such decimal or has more than
 * ORDER_AMOUNT_INT_DIGITS integer digits.
 */
int order_amount_normalize(const char *text, size_t len, char out[ORDER_AMOUNT_INT_DIGITS + 4]);

#endif
