/*
 * Unit tests for billing order validation and normalisation (billing/order.c):
 * strings and numbers for every field, the money grammar, limits, wrong types,
 * missing fields and bodies that are not objects.
 * Prints "N passed, N failed" last; exits non-zero when anything failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "billing/order.h"
#include "common/json_input.h"

#include "check.h"

/* The words of the last refused text, which parse_order's *field and *detail point into. */
static struct json_error text_error;

/* The publisher's way from text to an order: json_parse_checked, then order_from_object. */
static int parse_order(const char *text, size_t len, struct order *o, const char **field,
		       const char **detail)
{
	json_object *root;
	int status = json_parse_checked(text, len, &root, &text_error);

	if (status != 0) {
		*field = text_error.field[0] ? text_error.field : NULL;
		*detail = text_error.detail;
		return status;
	}
	status = order_from_object(root, o, field, detail);
	json_object_put(root);
	return status;
}

/* Expects body to be accepted with exactly these normalised values. */
static int accepts(const char *body, const char *user_id, long items, const char *amount)
{
	const char *field = "unset", *detail = "unset";
	struct order o;
	int status = parse_order(body, strlen(body), &o, &field, &detail);

	if (status != 0) {
		printf("  %s: status %d field %s detail %s\n", body, status,
		       field ? field : "(null)", detail);
		return 0;
	}
	if (strcmp(o.user_id, user_id) != 0 || o.number_of_items != items ||
	    strcmp(o.total_amount, amount) != 0) {
		printf("  %s: got user_id %s items %ld amount %s\n", body, o.user_id,
		       o.number_of_items, o.total_amount);
		return 0;
	}
	return 1;
}

/* Expects a 400 naming field (NULL: the body as a whole) in "field" and in the detail. */
static int rejects(const char *body, size_t len, const char *want_field)
{
	const char *field = "unset", *detail = NULL;
	struct order o;
	int status = parse_order(body, len, &o, &field, &detail);

	if (status != 400 || detail == NULL) {
		printf("  %.80s: status %d, expected 400\n", body, status);
		return 0;
	}
	if (want_field == NULL ? field != NULL :
	    field == NULL || strcmp(field, want_field) != 0 ||
	    strncmp(detail, want_field, strlen(want_field)) != 0) {
		printf("  %.80s: field %s detail \"%s\", expected field %s\n", body,
		       field ? field : "(null)", detail, want_field ? want_field : "(null)");
		return 0;
	}
	return 1;
}

#define REJECTS(body, field) CHECK(rejects((body), strlen(body), (field)))

/* {"user_id":"20","number_of_items":1,"total_amount":<amount>} */
static int amount_rejected(const char *amount)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"user_id\":\"20\",\"number_of_items\":1,"
		 "\"total_amount\":%s}", amount);
	return rejects(body, strlen(body), "total_amount");
}

static int amount_accepted(const char *amount, const char *want)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"user_id\":\"20\",\"number_of_items\":1,"
		 "\"total_amount\":%s}", amount);
	return accepts(body, "20", 1, want);
}

static int items_rejected(const char *items)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"user_id\":\"20\",\"number_of_items\":%s,"
		 "\"total_amount\":\"1\"}", items);
	return rejects(body, strlen(body), "number_of_items");
}

static int user_rejected(const char *user)
{
	char body[2048];

	snprintf(body, sizeof(body), "{\"user_id\":%s,\"number_of_items\":1,"
		 "\"total_amount\":\"1\"}", user);
	return rejects(body, strlen(body), "user_id");
}

static void test_strings_and_numbers(void)
{
	CHECK(accepts("{\"user_id\": \"20\", \"number_of_items\": \"99\", \"total_amount\": \"250\"}",
		      "20", 99, "250.00"));
	CHECK(accepts("{\"user_id\":20,\"number_of_items\":99,\"total_amount\":250}",
		      "20", 99, "250.00"));
	CHECK(accepts("{\"user_id\":\"u-1\",\"number_of_items\":3,\"total_amount\":9.99}",
		      "u-1", 3, "9.99"));
	/* the normalised message format is accepted as it is */
	CHECK(accepts("{\"message_id\":\"m1\",\"user_id\":\"20\",\"number_of_items\":99,"
		      "\"total_amount\":\"250.00\"}", "20", 99, "250.00"));
	/* unknown members are ignored */
	CHECK(accepts("{\"user_id\":\"20\",\"number_of_items\":1,\"total_amount\":1,\"x\":[1]}",
		      "20", 1, "1.00"));
}

static void test_amounts(void)
{
	CHECK(amount_accepted("0", "0.00"));
	CHECK(amount_accepted("\"0\"", "0.00"));
	CHECK(amount_accepted("0.5", "0.50"));
	CHECK(amount_accepted("9.9", "9.90"));
	CHECK(amount_accepted("\"9.9\"", "9.90"));
	CHECK(amount_accepted("9.99", "9.99"));
	CHECK(amount_accepted("\"9.99\"", "9.99"));
	CHECK(amount_accepted("1.0", "1.00"));
	CHECK(amount_accepted("0.1", "0.10"));
	CHECK(amount_accepted("\"007.50\"", "7.50"));
	CHECK(amount_accepted("9999999999.99", "9999999999.99"));
	CHECK(amount_accepted("\"9999999999.99\"", "9999999999.99"));
	CHECK(amount_accepted("9999999999", "9999999999.00"));

	CHECK(amount_rejected("1.234"));
	CHECK(amount_rejected("\"1.234\""));
	CHECK(amount_rejected("1.000"));
	CHECK(amount_rejected("-1"));
	CHECK(amount_rejected("-0.5"));
	CHECK(amount_rejected("\"-1\""));
	CHECK(amount_rejected("\"+1\""));
	CHECK(amount_rejected("1e3"));
	CHECK(amount_rejected("1E2"));
	CHECK(amount_rejected("0.1e1"));
	CHECK(amount_rejected("\"1e3\""));
	CHECK(amount_rejected("10000000000"));
	CHECK(amount_rejected("\"10000000000\""));
	CHECK(amount_rejected("10000000000.5"));
	CHECK(amount_rejected("123456789012345678901234567890"));
	CHECK(amount_rejected("1e400"));
	CHECK(amount_rejected("\".5\""));
	CHECK(amount_rejected("\"5.\""));
	CHECK(amount_rejected("\"\""));
	CHECK(amount_rejected("\" 1\""));
	CHECK(amount_rejected("\"1 \""));
	CHECK(amount_rejected("\"1,50\""));
	CHECK(amount_rejected("\"abc\""));
	CHECK(amount_rejected("\"NaN\""));
	CHECK(amount_rejected("true"));
	CHECK(amount_rejected("null"));
	CHECK(amount_rejected("[1]"));
	CHECK(amount_rejected("{}"));
}

static void test_items(void)
{
	CHECK(accepts("{\"user_id\":\"1\",\"number_of_items\":1,\"total_amount\":1}", "1", 1, "1.00"));
	CHECK(accepts("{\"user_id\":\"1\",\"number_of_items\":2147483647,\"total_amount\":1}",
		      "1", 2147483647L, "1.00"));
	CHECK(accepts("{\"user_id\":\"1\",\"number_of_items\":\"2147483647\",\"total_amount\":1}",
		      "1", 2147483647L, "1.00"));
	CHECK(accepts("{\"user_id\":\"1\",\"number_of_items\":\"007\",\"total_amount\":1}",
		      "1", 7, "1.00"));

	CHECK(items_rejected("0"));
	CHECK(items_rejected("\"0\""));
	CHECK(items_rejected("-1"));
	CHECK(items_rejected("\"-1\""));
	CHECK(items_rejected("\"+1\""));
	CHECK(items_rejected("2147483648"));
	CHECK(items_rejected("\"2147483648\""));
	CHECK(items_rejected("99999999999999999999999"));
	CHECK(items_rejected("\"99999999999999999999999\""));
	CHECK(items_rejected("1.5"));
	CHECK(items_rejected("1.0"));
	CHECK(items_rejected("1e2"));
	CHECK(items_rejected("\"1.5\""));
	CHECK(items_rejected("\"\""));
	CHECK(items_rejected("\" 5\""));
	CHECK(items_rejected("\"5 \""));
	CHECK(items_rejected("true"));
	CHECK(items_rejected("null"));
	CHECK(items_rejected("[]"));
}

static void test_user_ids(void)
{
	char *long_id, body[2048];

	CHECK(accepts("{\"user_id\":-5,\"number_of_items\":1,\"total_amount\":1}", "-5", 1, "1.00"));
	CHECK(accepts("{\"user_id\":9223372036854775807,\"number_of_items\":1,\"total_amount\":1}",
		      "9223372036854775807", 1, "1.00"));
	CHECK(accepts("{\"user_id\":\" padded \",\"number_of_items\":1,\"total_amount\":1}",
		      " padded ", 1, "1.00"));
	CHECK(accepts("{\"user_id\":\"caf\\u00e9\",\"number_of_items\":1,\"total_amount\":1}",
		      "caf\xc3\xa9", 1, "1.00"));

	CHECK(user_rejected("\"\""));
	CHECK(user_rejected("\"   \""));
	CHECK(user_rejected("\" \\t\\n \""));
	CHECK(user_rejected("\"a\\u0000b\""));
	CHECK(user_rejected("9223372036854775808"));
	CHECK(user_rejected("99999999999999999999999"));
	/* the negative side too: json-c would saturate it to INT64_MIN */
	CHECK(user_rejected("-99999999999999999999"));
	CHECK(user_rejected("-9223372036854775809"));
	CHECK(accepts("{\"user_id\":-9223372036854775808,\"number_of_items\":1,\"total_amount\":1}",
		      "-9223372036854775808", 1, "1.00"));
	/* a visible character is needed; control characters are refused anywhere */
	CHECK(user_rejected("\"a\\u0001b\""));
	CHECK(user_rejected("\"a\\u007fb\""));
	CHECK(user_rejected("\"a\\u0085b\""));            /* C1 */
	CHECK(user_rejected("\"\\u2003\\u2009\""));       /* Unicode spaces only */
	CHECK(user_rejected("\"\\u00a0\\u3000\""));
	CHECK(user_rejected("\"\\u200b\\u200d\\ufeff\""));  /* invisible format characters */
	CHECK(user_rejected("\"\\udb40\\udc20\""));       /* U+E0020, a tag character */
	CHECK(accepts("{\"user_id\":\"\\u2003x\",\"number_of_items\":1,\"total_amount\":1}",
		      "\xe2\x80\x83x", 1, "1.00"));
	CHECK(accepts("{\"user_id\":\"\\ud83c\\udfac\",\"number_of_items\":1,\"total_amount\":1}",
		      "\xf0\x9f\x8e\xac", 1, "1.00"));
	CHECK(user_rejected("1.5"));
	CHECK(user_rejected("true"));
	CHECK(user_rejected("null"));
	CHECK(user_rejected("{}"));
	CHECK(user_rejected("[\"20\"]"));

	/* 255 characters pass, 256 do not; multibyte characters count once */
	long_id = malloc(256 * 2 + 1);
	if (long_id == NULL) {
		perror("malloc");
		exit(2);
	}
	memset(long_id, 'a', 255);
	long_id[255] = '\0';
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"number_of_items\":1,"
		 "\"total_amount\":1}", long_id);
	CHECK(accepts(body, long_id, 1, "1.00"));
	snprintf(body, sizeof(body), "\"%sa\"", long_id);
	CHECK(user_rejected(body));
	for (int i = 0; i < 255; i++)
		memcpy(long_id + 2 * i, "\xc3\xa9", 2);
	long_id[510] = '\0';
	snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"number_of_items\":1,"
		 "\"total_amount\":1}", long_id);
	CHECK(accepts(body, long_id, 1, "1.00"));
	snprintf(body, sizeof(body), "\"%s\xc3\xa9\"", long_id);
	CHECK(user_rejected(body));
	free(long_id);
}

static void test_missing_and_malformed(void)
{
	REJECTS("{\"number_of_items\":1,\"total_amount\":1}", "user_id");
	REJECTS("{\"user_id\":\"1\",\"total_amount\":1}", "number_of_items");
	REJECTS("{\"user_id\":\"1\",\"number_of_items\":1}", "total_amount");
	REJECTS("{}", "user_id");
	REJECTS("", NULL);
	REJECTS("{", NULL);
	REJECTS("[1,2]", NULL);
	REJECTS("\"order\"", NULL);
	REJECTS("12", NULL);
	REJECTS("null", NULL);
	REJECTS("{\"user_id\":\"1\",\"number_of_items\":1,\"total_amount\":1} x", NULL);
	REJECTS("{\"user_id\":\"1\",\"number_of_items\":1,\"total_amount\":1,}", NULL);
	REJECTS("{\"user_id\":\"\xff\",\"number_of_items\":1,\"total_amount\":1}", NULL);
	CHECK(rejects("{\"user_id\":\"1\"}\0", 16, NULL));
}

static void test_normalize_and_json(void)
{
	char out[ORDER_AMOUNT_INT_DIGITS + 4];
	struct order o, back;
	const char *field, *detail;
	const char *body = "{\"user_id\":\"a\\\"b\",\"number_of_items\":\"5\","
			   "\"total_amount\":\"1.5\"}";
	char *json;

	CHECK(order_amount_normalize("00", 2, out) == 0 && strcmp(out, "0.00") == 0);
	CHECK(order_amount_normalize("12.3", 4, out) == 0 && strcmp(out, "12.30") == 0);
	CHECK(order_amount_normalize("12.3", 2, out) == 0 && strcmp(out, "12.00") == 0);
	CHECK(order_amount_normalize("", 0, out) != 0);
	CHECK(order_amount_normalize(".", 1, out) != 0);
	CHECK(order_amount_normalize("00000000000000000001.5", 22, out) == 0 &&
	      strcmp(out, "1.50") == 0);

	CHECK(parse_order(body, strlen(body), &o, &field, &detail) == 0);
	json = order_to_json(&o, "id \"1\"/x");
	CHECK(json != NULL);
	if (json == NULL)
		return;
	CHECK(strcmp(json, "{\"message_id\":\"id \\\"1\\\"/x\",\"user_id\":\"a\\\"b\","
		      "\"number_of_items\":5,\"total_amount\":\"1.50\"}") == 0);
	CHECK(parse_order(json, strlen(json), &back, &field, &detail) == 0 &&
	      strcmp(back.user_id, o.user_id) == 0 &&
	      back.number_of_items == o.number_of_items &&
	      strcmp(back.total_amount, o.total_amount) == 0);
	free(json);
}

/* "<key>:<digest>": the same order under one key is one id, another order another id. */
static void test_message_ids_from_keys(void)
{
	struct order a = { "30", 1, "5.00" }, b = { "30", 1, "6.00" }, c = { "3", 1, "05.00" };
	char id_a[201], id_a2[201], id_b[201], id_c[201], small[40];

	CHECK(order_message_id(&a, "key", id_a, sizeof(id_a)) == 0);
	/* printf '30\n1\n5.00' | sha256sum */
	CHECK(strcmp(id_a, "key:4d9508b2ea4ed86479bd35546969ae96") == 0 || (printf("  %s\n", id_a), 0));
	CHECK(order_message_id(&a, "key", id_a2, sizeof(id_a2)) == 0 && strcmp(id_a, id_a2) == 0);
	CHECK(order_message_id(&b, "key", id_b, sizeof(id_b)) == 0 && strcmp(id_a, id_b) != 0);
	/* the fields are separated, so "30","1" and "3","01" cannot meet */
	CHECK(order_message_id(&c, "key", id_c, sizeof(id_c)) == 0 && strcmp(id_a, id_c) != 0);
	CHECK(order_message_id(&a, "a-key-too-long-for-this-small-buffer", small, sizeof(small)) == -1);
}

int main(void)
{
	test_strings_and_numbers();
	test_amounts();
	test_items();
	test_user_ids();
	test_missing_and_malformed();
	test_normalize_and_json();
	test_message_ids_from_keys();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
