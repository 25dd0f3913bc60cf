#define _POSIX_C_SOURCE 200809L
#include "order.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/json_input.h"

#define AMOUNT_RULE "must be a non-negative decimal with at most two fraction digits " \
		    "and at most 10 integer digits, as a number or a string like \"9.99\""
#define ITEMS_RULE  "must be a whole number from 1 to 2147483647, " \
		    "as a number or a string of digits"

/* A member that is present and not null; JSON null counts as missing. */
static json_object *member(json_object *root, const char *name)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(root, name, &v))
		return NULL;
	return v;
}

static int only_ascii_space(const char *s)
{
	for (; *s != '\0'; s++)
		if (strchr(" \t\n\r\v\f", *s) == NULL)
			return 0;
	return 1;
}

static int parse_user_id(json_object *v, char *out, size_t outsize, const char **detail)
{
	const char *s;
	size_t len;
	long chars;

	if (v == NULL) {
		*detail = "user_id is required";
		return -1;
	}
	if (json_object_is_type(v, json_type_int)) {
		int64_t n = json_object_get_int64(v);

		/* json-c saturates larger integers silently; only the int64 range is exact. */
		if (n == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX) {
			*detail = "user_id as a number must fit in 64 bits; send it as a string";
			return -1;
		}
		snprintf(out, outsize, "%lld", (long long)n);
		return 0;
	}
	if (!json_object_is_type(v, json_type_string)) {
		*detail = "user_id must be a string or an integer";
		return -1;
	}
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	chars = utf8_length(s, len);

	if (chars < 0) {
		*detail = "user_id must be valid UTF-8 without NUL characters";
		return -1;
	}
	if (chars == 0 || only_ascii_space(s)) {
		*detail = "user_id must not be empty or only whitespace";
		return -1;
	}
	if (chars > ORDER_USER_ID_MAX || len >= outsize) {
		*detail = "user_id must be at most 255 characters";
		return -1;
	}
	memcpy(out, s, len + 1);
	return 0;
}

/* Digits only, no sign or space; -1 when not such a string or beyond max. */
static long digits_value(const char *s, size_t len, long max)
{
	long n = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (s[i] - '0');
		if (n > max)
			return -1;
	}
	return n;
}

static int parse_items(json_object *v, long *out, const char **detail)
{
	long n = -1;

	if (v == NULL) {
		*detail = "number_of_items is required";
		return -1;
	}
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);

		if (i >= 1 && i <= ORDER_ITEMS_MAX)
			n = (long)i;
	} else if (json_object_is_type(v, json_type_string)) {
		n = digits_value(json_object_get_string(v),
				 (size_t)json_object_get_string_len(v), ORDER_ITEMS_MAX);
	}
	if (n < 1) {
		*detail = "number_of_items " ITEMS_RULE;
		return -1;
	}
	*out = n;
	return 0;
}

int order_amount_normalize(const char *text, size_t len, char out[ORDER_AMOUNT_INT_DIGITS + 4])
{
	size_t i = 0, int_start, int_len, frac_len = 0;
	const char *frac = NULL;

	while (i < len && text[i] >= '0' && text[i] <= '9')
		i++;
	if (i == 0)
		return -1;
	int_len = i;
	if (i < len) {
		if (text[i] != '.')
			return -1;
		frac = text + i + 1;
		frac_len = len - i - 1;
		if (frac_len < 1 || frac_len > 2)
			return -1;
		for (size_t k = 0; k < frac_len; k++)
			if (frac[k] < '0' || frac[k] > '9')
				return -1;
	}
	for (int_start = 0; int_start + 1 < int_len && text[int_start] == '0'; int_start++)
		;
	int_len -= int_start;
	if (int_len > ORDER_AMOUNT_INT_DIGITS)
		return -1;
	memcpy(out, text + int_start, int_len);
	out[int_len] = '.';
	out[int_len + 1] = frac_len > 0 ? frac[0] : '0';
	out[int_len + 2] = frac_len > 1 ? frac[1] : '0';
	out[int_len + 3] = '\0';
	return 0;
}

static int parse_amount(json_object *v, char out[ORDER_AMOUNT_INT_DIGITS + 4], const char **detail)
{
	int rc = -1;

	if (v == NULL) {
		*detail = "total_amount is required";
		return -1;
	}
	if (json_object_is_type(v, json_type_int)) {
		int64_t n = json_object_get_int64(v);
		char digits[24];

		if (n >= 0) {
			snprintf(digits, sizeof(digits), "%lld", (long long)n);
			rc = order_amount_normalize(digits, strlen(digits), out);
		}
	} else if (json_object_is_type(v, json_type_double)) {
		/* A parsed number serialises as its original text, so no rounding happens. */
		const char *text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);

		rc = order_amount_normalize(text, strlen(text), out);
	} else if (json_object_is_type(v, json_type_string)) {
		rc = order_amount_normalize(json_object_get_string(v),
					    (size_t)json_object_get_string_len(v), out);
	}
	if (rc != 0)
		*detail = "total_amount " AMOUNT_RULE;
	return rc;
}

int order_from_object(json_object *root, struct order *o, const char **field,
		      const char **detail)
{
	memset(o, 0, sizeof(*o));
	*field = "user_id";
	if (parse_user_id(member(root, "user_id"), o->user_id, sizeof(o->user_id), detail) != 0)
		return 400;
	*field = "number_of_items";
	if (parse_items(member(root, "number_of_items"), &o->number_of_items, detail) != 0)
		return 400;
	*field = "total_amount";
	if (parse_amount(member(root, "total_amount"), o->total_amount, detail) != 0)
		return 400;
	*field = NULL;
	return 0;
}

char *order_to_json(const struct order *o, const char *message_id)
{
	json_object *msg = json_object_new_object();
	char *copy = NULL;

	if (msg != NULL &&
	    json_object_object_add(msg, "message_id", json_object_new_string(message_id)) == 0 &&
	    json_object_object_add(msg, "user_id", json_object_new_string(o->user_id)) == 0 &&
	    json_object_object_add(msg, "number_of_items",
				   json_object_new_int64(o->number_of_items)) == 0 &&
	    json_object_object_add(msg, "total_amount",
				   json_object_new_string(o->total_amount)) == 0)
		copy = strdup(json_text(msg));
	json_object_put(msg);
	return copy;
}
