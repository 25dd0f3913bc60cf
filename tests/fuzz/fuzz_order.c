/*
 * An order as the publisher reads it, the message it becomes, and the consumer reading
 * that message back. Oracles: a user_id sent as a string is stored as sent and is visible
 * text; the amount keeps its value in cents and has two decimals; the message, read again
 * as the consumer does, is the same order; the id derived from a key is a valid message id
 * and the same for the same order.
 */
#include <stdlib.h>
#include <string.h>

#include "billing/message_id.h"
#include "billing/order.h"
#include "common/json_input.h"
#include "oracle.h"

/* The value in cents of digits[.d[d]], skipping leading zeros; -1 when not that shape. */
static long long cents(const char *s, size_t len)
{
	long long units = 0, frac = 0;
	size_t i = 0, fdigits = 0;

	while (i < len && s[i] == '0')
		i++;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (units > 1000000000000LL)
			return -1;
		units = units * 10 + (s[i] - '0');
	}
	if (i < len && s[i] == '.')
		for (i++; i < len && s[i] >= '0' && s[i] <= '9' && fdigits < 2; i++, fdigits++)
			frac = frac * 10 + (s[i] - '0');
	if (i != len || len == 0)
		return -1;
	return units * 100 + (fdigits == 1 ? frac * 10 : frac);
}

/* "<digits>.<2 digits>" without a needless leading zero. */
static int amount_shape(const char *a)
{
	size_t n = strlen(a);

	return n >= 4 && a[n - 3] == '.' && strspn(a, "0123456789") == n - 3 &&
	       strspn(a + n - 2, "0123456789") == 2 && (a[0] != '0' || n == 4);
}

static void check_normalize(const uint8_t *data, size_t size)
{
	char out[ORDER_AMOUNT_INT_DIGITS + 4];

	if (order_amount_normalize((const char *)data, size, out) != 0)
		return;
	ORACLE(amount_shape(out), data, size);
	ORACLE(cents((const char *)data, size) == cents(out, strlen(out)), data, size);
}

static void check_order(const uint8_t *data, size_t size, const struct order *o)
{
	static char sent[4096];
	size_t sent_len;
	struct json_error e;
	json_object *root;
	struct order back;
	const char *field, *detail;
	char *message, id[MESSAGE_ID_MAX + 1], id2[MESSAGE_ID_MAX + 1];

	ORACLE(utf8_visible_text(o->user_id, strlen(o->user_id)) == 1, data, size);
	if (oracle_json_member((const char *)data, size, "user_id", sent, sizeof(sent), &sent_len))
		ORACLE(sent_len == strlen(o->user_id) && memcmp(sent, o->user_id, sent_len) == 0,
		       data, size);
	ORACLE(o->number_of_items >= 1 && o->number_of_items <= ORDER_ITEMS_MAX, data, size);
	ORACLE(amount_shape(o->total_amount), data, size);
	if (oracle_json_member((const char *)data, size, "total_amount", sent, sizeof(sent),
			       &sent_len))
		ORACLE(cents(sent, sent_len) == cents(o->total_amount, strlen(o->total_amount)),
		       data, size);

	ORACLE(order_message_id(o, "fuzz-key", id, sizeof(id)) == 0, data, size);
	ORACLE(message_id_valid(id, strlen(id)), data, size);
	ORACLE(order_message_id(o, "fuzz-key", id2, sizeof(id2)) == 0 && strcmp(id, id2) == 0,
	       data, size);

	message = order_to_json(o, id);
	ORACLE(message != NULL, data, size);
	ORACLE(json_parse_checked(message, strlen(message), &root, &e) == 0, data, size);
	ORACLE(order_from_object(root, &back, &field, &detail) == 0, data, size);
	ORACLE(strcmp(back.user_id, o->user_id) == 0 && back.number_of_items == o->number_of_items &&
	       strcmp(back.total_amount, o->total_amount) == 0, data, size);
	json_object_put(root);
	free(message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_error e;
	json_object *root;
	struct order o;
	const char *field, *detail;

	check_normalize(data, size);
	if (json_parse_checked((const char *)data, size, &root, &e) != 0)
		return 0;
	if (order_from_object(root, &o, &field, &detail) == 0)
		check_order(data, size, &o);
	else
		ORACLE(field != NULL && strncmp(detail, field, strlen(field)) == 0, data, size);
	json_object_put(root);
	return 0;
}
