#define _POSIX_C_SOURCE 200809L
#include "order.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/hex.h"
#include "../common/json_input.h"
#include "sha256.h"

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

static int parse_user_id(json_object *v, char *out, size_t outsize, const char **detail)
{
	const char *s;
	size_t len;
	int visible;

	if (v == NULL) {
		*detail = "user_id is required";
		return -1;
	}
	/* the text's check let through only integers within int64 */
	if (json_object_is_type(v, json_type_int)) {
		snprintf(out, outsize, "%lld", (long long)json_object_get_int64(v));
		return 0;
	}
	if (!json_object_is_type(v, json_type_string)) {
		*detail = "user_id must be a string or an integer";
		return -1;
	}
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	visible = utf8_visible_text(s, len);
	if (visible < 0) {
		*detail = "user_id must be valid UTF-8 without NUL or other control characters";
		return -1;
	}
	if (visible == 0) {
		*detail = "user_id must hold a visible character, not only white space";
		return -1;
	}
	if (utf8_length(s, len) > ORDER_USER_ID_MAX || len >= outsize) {
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

int order_message_id(const struct order *o, const char *key, char *out, size_t size)
{
	char canonical[sizeof(o->user_id) + 48];
	uint8_t digest[SHA256_SIZE];
	int n = snprintf(canonical, sizeof(canonical), "%s\n%ld\n%s", o->user_id,
			 o->number_of_items, o->total_amount);
	size_t key_len = strlen(key);

	if (n < 0 || (size_t)n >= sizeof(canonical) || key_len + 1 + ORDER_DIGEST_HEX >= size)
		return -1;
	sha256(canonical, (size_t)n, digest);
	memcpy(out, key, key_len);
	out[key_len] = ':';
	hex_encode(digest, ORDER_DIGEST_HEX / 2, out + key_len + 1);
	out[key_len + 1 + ORDER_DIGEST_HEX] = '\0';
	return 0;
}
