/*
 * Unit tests for the inventory's input validation: movie_input_from_object, movie_id_parse,
 * and the JSON helpers they stand on (json_parse_object, utf8_length).
 * Prints "N passed, N failed" last; exits non-zero when anything failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_input.h"
#include "inventory/movie_input.h"

#include "check.h"

/* The body the last accepted parse_movie points into. */
static json_object *parsed_body;

/* The words of the last refused text, which parse_movie's *field and *detail point into. */
static struct json_error text_error;

/* The inventory's way from text to fields: json_parse_checked, then movie_input_from_object. */
static int parse_movie(const char *body, size_t len, enum movie_mode mode, struct movie_input *in,
		       const char **field, const char **detail)
{
	json_object *root;
	int status = json_parse_checked(body, len, &root, &text_error);

	*field = NULL;
	if (status != 0) {
		*field = text_error.field[0] ? text_error.field : NULL;
		*detail = text_error.detail;
		return status;
	}
	status = movie_input_from_object(root, mode, in, field, detail);
	if (status != 0)
		json_object_put(root);
	else
		parsed_body = root;
	return status;
}

static void release_body(void)
{
	json_object_put(parsed_body);
	parsed_body = NULL;
}

/* NULL-safe string equality for fields that may legitimately be NULL. */
static int same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* A string of n copies of unit (which may be multibyte); the caller frees it. */
static char *repeat(const char *unit, size_t n)
{
	size_t ulen = strlen(unit);
	char *s = malloc(ulen * n + 1);

	if (s == NULL) {
		perror("malloc");
		exit(2);
	}
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * ulen, unit, ulen);
	s[ulen * n] = '\0';
	return s;
}

/* {"<name>":"<value>"}; the caller frees it. */
static char *object_with(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 8;
	char *s = malloc(n);

	if (s == NULL) {
		perror("malloc");
		exit(2);
	}
	snprintf(s, n, "{\"%s\":\"%s\"}", name, value);
	return s;
}

/* Expects body to be accepted: 1 with in pointing into the parsed body (release_body frees it). */
static int parse_ok(const char *body, size_t len, enum movie_mode mode, struct movie_input *in)
{
	const char *field = "unset", *detail = "unset";
	int status = parse_movie(body, len, mode, in, &field, &detail);

	if (status != 0)
		printf("  parse of %.80s: status %d field %s detail %s\n", body, status,
		       field ? field : "(null)", detail ? detail : "(null)");
	return status == 0;
}

/* Expects body to be rejected with 400 naming field (NULL: the body as a whole). */
static int parse_fails(const char *body, size_t len, enum movie_mode mode, const char *want_field)
{
	struct movie_input in;
	const char *field = "unset", *detail = NULL;
	int status = parse_movie(body, len, mode, &in, &field, &detail);

	if (status == 0) {
		release_body();
		printf("  %.80s was accepted\n", body);
		return 0;
	}
	if (status != 400 || !same(field, want_field) || detail == NULL || detail[0] == '\0') {
		printf("  %.80s: status %d field %s detail %s\n", body, status,
		       field ? field : "(null)", detail ? detail : "(null)");
		return 0;
	}
	return 1;
}

#define FAILS(body, mode, field) CHECK(parse_fails((body), strlen(body), (mode), (field)))

/* Expects body to be rejected with 400, whichever field (if any) is blamed. */
static int parse_rejects(const char *body, size_t len)
{
	struct movie_input in;
	const char *field, *detail = NULL;
	int status = parse_movie(body, len, MOVIE_CREATE, &in, &field, &detail);

	if (status == 0) {
		release_body();
		printf("  %.80s was accepted\n", body);
		return 0;
	}
	return status == 400 && detail != NULL;
}

#define REJECTS(body) CHECK(parse_rejects((body), strlen(body)))

static void test_create_valid(void)
{
	struct movie_input in;
	const char *b;

	b = "{\"title\":\"Alien\",\"description\":\"In space\"}";
	CHECK(parse_ok(b, strlen(b), MOVIE_CREATE, &in));
	CHECK(in.has_title && same(in.title, "Alien"));
	CHECK(in.has_description && same(in.description, "In space"));
	release_body();

	b = "{\"title\":\"Alien\"}";
	CHECK(parse_ok(b, strlen(b), MOVIE_CREATE, &in));
	CHECK(in.has_title && !in.has_description && in.description == NULL);
	release_body();

	b = "{\"title\":\"Alien\",\"description\":null}";
	CHECK(parse_ok(b, strlen(b), MOVIE_CREATE, &in));
	CHECK(in.has_description && in.description == NULL);
	release_body();

	/* unknown fields are ignored, whitespace around the object is JSON */
	b = "  {\"title\" : \"x\", \"year\": 1979, \"tags\": [1, {\"a\": null}]}";
	CHECK(parse_ok(b, strlen(b), MOVIE_CREATE, &in));
	CHECK(same(in.title, "x"));
	release_body();

	/* escapes decode; SQL metacharacters are just text */
	b = "{\"title\":\"Robert'); DROP TABLE movies;--\\\"\\u00e9\\n\"}";
	CHECK(parse_ok(b, strlen(b), MOVIE_CREATE, &in));
	CHECK(same(in.title, "Robert'); DROP TABLE movies;--\"\xc3\xa9\n"));
	release_body();

	/* a surrogate pair escape becomes one 4-byte character */
	b = "{\"title\":\"\\ud83c\\udfac\"}";
	CHECK(parse_ok(b, strlen(b), MOVIE_CREATE, &in));
	CHECK(same(in.title, "\xf0\x9f\x8e\xac"));
	release_body();

	/* only len bytes count: what follows them is not read */
	b = "{\"title\":\"a\"}GARBAGE";
	CHECK(parse_ok(b, strlen("{\"title\":\"a\"}"), MOVIE_CREATE, &in));
	release_body();
}

/* RFC 8259: JSON-text = ws value ws. A trailing newline (curl --data-binary @file) is valid. */
static void test_trailing_whitespace(void)
{
	struct movie_input in;
	const char *b = "{\"title\":\"Alien\"}\n";
	const char *c = "{\"title\":\"Alien\"} \t\r\n";

	CHECK(parse_ok(b, strlen(b), MOVIE_CREATE, &in));
	release_body();
	CHECK(parse_ok(c, strlen(c), MOVIE_CREATE, &in));
	release_body();
}

static void test_title_lengths(void)
{
	struct movie_input in;
	char *t, *b;

	t = repeat("a", 255);
	b = object_with("title", t);
	CHECK(parse_ok(b, strlen(b), MOVIE_CREATE, &in));
	release_body();
	free(b);
	free(t);

	t = repeat("a", 256);
	b = object_with("title", t);
	FAILS(b, MOVIE_CREATE, "title");
	free(b);
	free(t);

	/* characters, not bytes: 255 x U+6771 (3 bytes each) and 255 x U+1F3AC (4 bytes) */
	t = repeat("\xe6\x9d\xb1", 255);
	b = object_with("title", t);
	CHECK(parse_ok(b, strlen(b), MOVIE_CREATE, &in));
	release_body();
	free(b);
	free(t);

	t = repeat("\xf0\x9f\x8e\xac", 255);
	b = object_with("title", t);
	CHECK(parse_ok(b, strlen(b), MOVIE_CREATE, &in));
	release_body();
	free(b);
	free(t);

	t = repeat("\xe6\x9d\xb1", 256);
	b = object_with("title", t);
	FAILS(b, MOVIE_CREATE, "title");
	free(b);
	free(t);

	/* escaped characters count once: 255 x \u00e9 */
	t = repeat("\\u00e9", 255);
	b = object_with("title", t);
	CHECK(parse_ok(b, strlen(b), MOVIE_CREATE, &in));
	CHECK(in.title != NULL && strlen(in.title) == 510);
	release_body();
	free(b);
	free(t);
}

static void test_description_lengths(void)
{
	struct movie_input in;
	char *d, *b;
	size_t n;

	d = repeat("d", 10000);
	n = strlen(d) + 32;
	b = malloc(n);
	CHECK(b != NULL);
	if (b == NULL)
		exit(2);
	snprintf(b, n, "{\"title\":\"t\",\"description\":\"%s\"}", d);
	CHECK(parse_ok(b, strlen(b), MOVIE_CREATE, &in));
	release_body();
	free(b);
	free(d);

	d = repeat("d", 10001);
	b = object_with("description", d);
	FAILS(b, MOVIE_UPDATE, "description");
	free(b);
	free(d);

	d = repeat("\xc3\xa9", 10000);
	b = object_with("description", d);
	CHECK(parse_ok(b, strlen(b), MOVIE_UPDATE, &in));
	release_body();
	free(b);
	free(d);

	d = repeat("\xc3\xa9", 10001);
	b = object_with("description", d);
	FAILS(b, MOVIE_UPDATE, "description");
	free(b);
	free(d);
}

static void test_create_errors(void)
{
	/* the body as a whole */
	FAILS("", MOVIE_CREATE, NULL);
	FAILS(" ", MOVIE_CREATE, NULL);
	FAILS("null", MOVIE_CREATE, NULL);
	FAILS("[]", MOVIE_CREATE, NULL);
	FAILS("[{\"title\":\"x\"}]", MOVIE_CREATE, NULL);
	FAILS("\"title\"", MOVIE_CREATE, NULL);
	FAILS("42", MOVIE_CREATE, NULL);
	FAILS("true", MOVIE_CREATE, NULL);
	FAILS("{", MOVIE_CREATE, NULL);
	FAILS("{\"title\":\"x\"", MOVIE_CREATE, NULL);
	FAILS("{\"title\":\"x\"}}", MOVIE_CREATE, NULL);
	FAILS("{\"title\":\"x\"} {}", MOVIE_CREATE, NULL);
	FAILS("{\"title\":\"x\"}x", MOVIE_CREATE, NULL);
	FAILS("{\"title\":\"x\",}", MOVIE_CREATE, NULL);
	FAILS("{'title':'x'}", MOVIE_CREATE, NULL);
	FAILS("{title:\"x\"}", MOVIE_CREATE, NULL);
	FAILS("{\"title\":\"x\" /* c */}", MOVIE_CREATE, NULL);
	FAILS("{\"title\":\"\\x41\"}", MOVIE_CREATE, NULL);
	FAILS("{\"title\":\"x\",\"n\":01}", MOVIE_CREATE, "n");   /* the member at fault */
	FAILS("{\"title\":\"x\",\"n\":.5}", MOVIE_CREATE, NULL);
	/* not JSON either (RFC 8259), though json-c's strict mode lets them through */
	FAILS("{\"title\":\"x\",\"n\":NaN}", MOVIE_CREATE, NULL);
	FAILS("{\"title\":\"x\",\"n\":-Infinity}", MOVIE_CREATE, NULL);
	FAILS("{\"title\":\"x\",\"n\":1.}", MOVIE_CREATE, NULL);
	REJECTS("{\"title\":\"a\tb\"}");                  /* raw control characters */
	REJECTS("{\"title\":\"a\x01\"}");
	/* invalid UTF-8 anywhere in the body */
	FAILS("{\"title\":\"\xff\"}", MOVIE_CREATE, NULL);
	FAILS("{\"title\":\"\xc3\"}", MOVIE_CREATE, NULL);
	FAILS("{\"title\":\"x\",\"other\":\"\xfe\"}", MOVIE_CREATE, NULL);
	REJECTS("{\"title\":\"\xc0\xaf\"}");            /* overlong '/' */
	REJECTS("{\"title\":\"\xed\xa0\x80\"}");        /* surrogate U+D800 */
	REJECTS("{\"title\":\"\xf4\x90\x80\x80\"}");    /* U+110000 */
	REJECTS("{\"title\":\"x\",\"other\":\"\xc0\xaf\"}");
	REJECTS("{\"title\":\"x\",\"other\":\"\xed\xa0\x80\"}");
	REJECTS("{\"title\":\"x\",\"other\":\"\xf4\x90\x80\x80\"}");
	REJECTS("{\"title\":\"x\",\"\xc0\xaf\":1}");    /* in a key */
	/* a NUL byte inside the body */
	CHECK(parse_fails("{\"title\":\"a\0b\"}", 15, MOVIE_CREATE, NULL));
	CHECK(parse_fails("{\"title\":\"ab\"}\0", 15, MOVIE_CREATE, NULL));

	/* title */
	FAILS("{}", MOVIE_CREATE, "title");
	FAILS("{\"description\":\"d\"}", MOVIE_CREATE, "title");
	FAILS("{\"Title\":\"x\"}", MOVIE_CREATE, "title");
	FAILS("{\"title\":\"\"}", MOVIE_CREATE, "title");
	FAILS("{\"title\":null}", MOVIE_CREATE, "title");
	FAILS("{\"title\":42}", MOVIE_CREATE, "title");
	FAILS("{\"title\":1.5}", MOVIE_CREATE, "title");
	FAILS("{\"title\":true}", MOVIE_CREATE, "title");
	FAILS("{\"title\":[\"x\"]}", MOVIE_CREATE, "title");
	FAILS("{\"title\":{\"x\":1}}", MOVIE_CREATE, "title");
	FAILS("{\"title\":\"a\\u0000b\"}", MOVIE_CREATE, "title");
	/* a lone surrogate escape is refused or replaced, never stored as invalid UTF-8 */
	{
		const char *lone[] = { "{\"title\":\"\\ud800\"}", "{\"title\":\"\\udc00x\"}",
				       "{\"title\":\"\\ud83c\\u0041\"}" };

		for (size_t i = 0; i < sizeof(lone) / sizeof(lone[0]); i++) {
			struct movie_input in;
			const char *field, *detail;

			if (parse_movie(lone[i], strlen(lone[i]), MOVIE_CREATE, &in, &field,
					      &detail) == 0) {
				CHECK(utf8_length(in.title, strlen(in.title)) > 0);
				release_body();
			} else {
				CHECK(same(field, "title"));
			}
		}
	}
	/* a bad title is reported before a bad description */
	FAILS("{\"title\":1,\"description\":2}", MOVIE_CREATE, "title");

	/* description */
	FAILS("{\"title\":\"x\",\"description\":42}", MOVIE_CREATE, "description");
	FAILS("{\"title\":\"x\",\"description\":false}", MOVIE_CREATE, "description");
	FAILS("{\"title\":\"x\",\"description\":[]}", MOVIE_CREATE, "description");
	FAILS("{\"title\":\"x\",\"description\":{}}", MOVIE_CREATE, "description");
	FAILS("{\"title\":\"x\",\"description\":\"\\u0000\"}", MOVIE_CREATE, "description");
	FAILS("{\"description\":7}", MOVIE_CREATE, "description");
}

static void test_depth(void)
{
	struct movie_input in;
	char *open = repeat("[", 14), *close = repeat("]", 14);
	char b[128];

	/* the object plus 14 arrays plus one object inside: 16 levels */
	snprintf(b, sizeof(b), "{\"title\":\"x\",\"n\":%s{}%s}", open, close);
	CHECK(parse_ok(b, strlen(b), MOVIE_CREATE, &in));
	release_body();
	free(open);
	free(close);

	open = repeat("[", 200);
	close = repeat("]", 200);
	{
		char *deep = malloc(512);

		CHECK(deep != NULL);
		if (deep == NULL)
			exit(2);
		snprintf(deep, 512, "{\"title\":\"x\",\"n\":%s%s}", open, close);
		FAILS(deep, MOVIE_CREATE, NULL);
		free(deep);
	}
	free(open);
	free(close);
}

static void test_update(void)
{
	struct movie_input in;
	const char *b;

	b = "{\"title\":\"New\"}";
	CHECK(parse_ok(b, strlen(b), MOVIE_UPDATE, &in));
	CHECK(in.has_title && !in.has_description);
	release_body();

	b = "{\"description\":\"only\"}";
	CHECK(parse_ok(b, strlen(b), MOVIE_UPDATE, &in));
	CHECK(!in.has_title && in.title == NULL && in.has_description &&
	      same(in.description, "only"));
	release_body();

	b = "{\"description\":null}";
	CHECK(parse_ok(b, strlen(b), MOVIE_UPDATE, &in));
	CHECK(!in.has_title && in.has_description && in.description == NULL);
	release_body();

	b = "{\"title\":\"T\",\"description\":\"D\"}";
	CHECK(parse_ok(b, strlen(b), MOVIE_UPDATE, &in));
	CHECK(same(in.title, "T") && same(in.description, "D"));
	release_body();

	b = "{\"description\":\"\"}";
	CHECK(parse_ok(b, strlen(b), MOVIE_UPDATE, &in));
	CHECK(same(in.description, ""));
	release_body();

	FAILS("{}", MOVIE_UPDATE, NULL);
	FAILS("{\"other\":1}", MOVIE_UPDATE, NULL);
	FAILS("[]", MOVIE_UPDATE, NULL);
	FAILS("", MOVIE_UPDATE, NULL);
	FAILS("{\"title\":null}", MOVIE_UPDATE, "title");
	FAILS("{\"title\":\"\"}", MOVIE_UPDATE, "title");
	FAILS("{\"title\":5}", MOVIE_UPDATE, "title");
	FAILS("{\"title\":\"ok\",\"description\":5}", MOVIE_UPDATE, "description");
}

static void test_movie_id(void)
{
#define ID(s) movie_id_parse((s), strlen(s))
	CHECK(ID("1") == 1);
	CHECK(ID("7") == 7);
	CHECK(ID("42") == 42);
	CHECK(ID("9223372036854775807") == 9223372036854775807LL);
	CHECK(ID("9223372036854775806") == 9223372036854775806LL);
	CHECK(ID("9223372036854775808") == 0);
	CHECK(ID("9999999999999999999") == 0);
	CHECK(ID("99999999999999999999") == 0);
	CHECK(ID("18446744073709551617") == 0);  /* wraps to 1 in 64 bits */
	CHECK(ID("") == 0);
	CHECK(ID("0") == 0);
	CHECK(ID("-1") == 0);
	CHECK(ID("+1") == 0);
	CHECK(ID(" 1") == 0);
	CHECK(ID("1 ") == 0);
	CHECK(ID("abc") == 0);
	CHECK(ID("1a") == 0);
	CHECK(ID("1.5") == 0);
	CHECK(ID("1e3") == 0);
	CHECK(ID("0x10") == 0);
	CHECK(ID("1/2") == 0);
	CHECK(ID("\xd9\xa1") == 0);              /* ARABIC-INDIC DIGIT ONE */
	/* only len bytes are read */
	CHECK(movie_id_parse("12/", 2) == 12);
	CHECK(movie_id_parse("12", 0) == 0);
	CHECK(movie_id_parse("1\0" "2", 3) == 0);
#undef ID
}

static void test_utf8_length(void)
{
#define LEN(s) utf8_length((s), sizeof(s) - 1)
	CHECK(LEN("") == 0);
	CHECK(LEN("abc") == 3);
	CHECK(LEN("\x7f") == 1);
	CHECK(LEN("\xc2\x80") == 1);                     /* U+0080, smallest 2-byte */
	CHECK(LEN("\xdf\xbf") == 1);                     /* U+07FF */
	CHECK(LEN("\xe0\xa0\x80") == 1);                 /* U+0800 */
	CHECK(LEN("\xef\xbf\xbf") == 1);                 /* U+FFFF */
	CHECK(LEN("\xed\x9f\xbf") == 1);                 /* U+D7FF, just below surrogates */
	CHECK(LEN("\xee\x80\x80") == 1);                 /* U+E000, just above */
	CHECK(LEN("\xf0\x90\x80\x80") == 1);             /* U+10000 */
	CHECK(LEN("\xf4\x8f\xbf\xbf") == 1);             /* U+10FFFF */
	CHECK(LEN("Am\xc3\xa9lie \xe2\x80\x94 \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x8e\xac") == 13);

	/* overlong forms */
	CHECK(LEN("\xc0\x80") == -1);
	CHECK(LEN("\xc0\xaf") == -1);
	CHECK(LEN("\xc1\xbf") == -1);
	CHECK(LEN("\xe0\x80\x80") == -1);
	CHECK(LEN("\xe0\x9f\xbf") == -1);                /* U+07FF in 3 bytes */
	CHECK(LEN("\xf0\x80\x80\x80") == -1);
	CHECK(LEN("\xf0\x8f\xbf\xbf") == -1);            /* U+FFFF in 4 bytes */
	/* surrogates */
	CHECK(LEN("\xed\xa0\x80") == -1);                /* U+D800 */
	CHECK(LEN("\xed\xbf\xbf") == -1);                /* U+DFFF */
	CHECK(LEN("\xed\xa0\xbd\xed\xb2\xa9") == -1);    /* CESU-8 pair */
	/* past U+10FFFF, and lead bytes that can never appear */
	CHECK(LEN("\xf4\x90\x80\x80") == -1);            /* U+110000 */
	CHECK(LEN("\xf5\x80\x80\x80") == -1);
	CHECK(LEN("\xf7\xbf\xbf\xbf") == -1);
	CHECK(LEN("\xf8\x88\x80\x80\x80") == -1);
	CHECK(LEN("\xfc\x84\x80\x80\x80\x80") == -1);
	CHECK(LEN("\xfe") == -1);
	CHECK(LEN("\xff") == -1);
	/* stray continuation bytes */
	CHECK(LEN("\x80") == -1);
	CHECK(LEN("a\xbf") == -1);
	/* truncated sequences, at the end and in the middle */
	CHECK(LEN("\xc3") == -1);
	CHECK(LEN("\xe6\x9d") == -1);
	CHECK(LEN("\xf0\x9f\x8e") == -1);
	CHECK(LEN("a\xf0\x9f") == -1);
	CHECK(LEN("\xe6\x9dx") == -1);
	CHECK(LEN("\xc3z") == -1);
	CHECK(utf8_length("\xc3\xa9", 1) == -1);         /* len cuts the character */
	CHECK(utf8_length("\xc3\xa9", 2) == 1);
	/* NUL, wherever it is */
	CHECK(LEN("\0") == -1);
	CHECK(LEN("a\0b") == -1);
	CHECK(LEN("ab\0") == -1);
	CHECK(utf8_length("ab\0", 2) == 2);
#undef LEN
}

static void test_json_parse_object(void)
{
	const char *err;
	json_object *o;

	err = NULL;
	o = json_parse_object("{}", 2, &err);
	CHECK(o != NULL && json_object_is_type(o, json_type_object));
	json_object_put(o);

	{
		const char *t = " {\"a\":{\"b\":[1,2.5e3,{\"c\":null},true]}}\r\n";

		o = json_parse_object(t, strlen(t), &err);
	}
	CHECK(o != NULL);
	json_object_put(o);

	err = NULL;
	CHECK(json_parse_object("", 0, &err) == NULL && err != NULL);
	err = NULL;
	CHECK(json_parse_object("{}", 0, &err) == NULL && err != NULL);
	err = NULL;
	CHECK(json_parse_object("{} x", 4, &err) == NULL && err != NULL);
	err = NULL;
	CHECK(json_parse_object("{}{}", 4, &err) == NULL && err != NULL);
	err = NULL;
	CHECK(json_parse_object("{}]", 3, &err) == NULL && err != NULL);
	err = NULL;
	CHECK(json_parse_object("[1]", 3, &err) == NULL && err != NULL);
	err = NULL;
	CHECK(json_parse_object("\"s\"", 3, &err) == NULL && err != NULL);
	err = NULL;
	CHECK(json_parse_object("1", 1, &err) == NULL && err != NULL);
	err = NULL;
	CHECK(json_parse_object("null", 4, &err) == NULL && err != NULL);
	err = NULL;
	CHECK(json_parse_object("{\"a\":\"\xc3\x28\"}", 10, &err) == NULL && err != NULL);
	/* len shorter than the text: an incomplete object */
	err = NULL;
	CHECK(json_parse_object("{\"a\":1}", 6, &err) == NULL && err != NULL);

	/* depth: 16 levels pass, 17 do not */
	{
		char b[64];
		char *open = repeat("[", 15), *close = repeat("]", 15);

		snprintf(b, sizeof(b), "{\"a\":%s%s}", open, close);
		o = json_parse_object(b, strlen(b), &err);
		CHECK(o != NULL);
		json_object_put(o);
		free(open);
		free(close);

		open = repeat("[", 16);
		close = repeat("]", 16);
		snprintf(b, sizeof(b), "{\"a\":%s%s}", open, close);
		err = NULL;
		CHECK(json_parse_object(b, strlen(b), &err) == NULL && err != NULL);
		free(open);
		free(close);
	}
	/* a very deep body fails cleanly instead of exhausting the stack */
	{
		size_t n = 100000;
		char *deep = repeat("[", n);

		deep[0] = '{';
		err = NULL;
		CHECK(json_parse_object(deep, n, &err) == NULL && err != NULL);
		free(deep);
	}
}

/* status of json_parse_checked on a NUL-terminated text; puts what it built. */
static int checked(const char *text)
{
	struct json_error e;
	json_object *o;
	int status = json_parse_checked(text, strlen(text), &o, &e);

	json_object_put(o);
	return status;
}

/* The text's check: RFC 8259 exactly, numbers in range, names once, bounded values. */
static void test_json_text_rules(void)
{
	char body[2048];
	int n;

	CHECK(checked("{\"a\":00}") == 400);
	CHECK(checked("{\"a\":-01}") == 400);
	CHECK(checked("{\"a\":0,\"b\":-0,\"c\":0.5,\"d\":0e1}") == 0);
	CHECK(checked("{'a':1}") == 400);
	CHECK(checked("{\"a\":'x'}") == 400);
	CHECK(checked("{\"a\":1,}") == 400);
	CHECK(checked("{\"a\":[1,]}") == 400);
	CHECK(checked("{\"a\":tru}") == 400);
	CHECK(checked("{\"a\":\"\\u12\"}") == 400);
	/* integers within int64, other numbers within a double */
	CHECK(checked("{\"a\":9223372036854775807,\"b\":-9223372036854775808}") == 0);
	CHECK(checked("{\"a\":9223372036854775808}") == 400);
	CHECK(checked("{\"a\":-9223372036854775809}") == 400);
	CHECK(checked("{\"a\":-99999999999999999999}") == 400);
	CHECK(checked("{\"a\":1e308,\"b\":-1.5e-400}") == 0);
	CHECK(checked("{\"a\":1e309}") == 400);
	CHECK(checked("{\"a\":-1E+400}") == 400);
	/* a name twice, however written and at any depth; the same name in two objects is fine */
	CHECK(checked("{\"a\":1,\"a\":1}") == 400);
	CHECK(checked("{\"a\":1,\"\\u0061\":2}") == 400);
	CHECK(checked("{\"x\":[{\"b\":1},{\"c\":1,\"c\":2}]}") == 400);
	CHECK(checked("{\"n\":01,\"n\":1}") == 400);
	CHECK(checked("{\"x\":{\"b\":1},\"y\":{\"b\":2},\"b\":[{\"b\":3}]}") == 0);
	/* \u0000 cut json-c's names: {"title\u0000junk":"evil"} set the title */
	CHECK(checked("{\"title\\u0000junk\":\"evil\"}") == 400);
	CHECK(checked("{\"t\":\"\\u0000\"}") == 400);
	/* surrogate escapes only in pairs */
	CHECK(checked("{\"t\":\"\\ud83c\\udfac\"}") == 0);
	CHECK(checked("{\"t\":\"\\ud83c\"}") == 400);
	CHECK(checked("{\"t\":\"\\ud83cx\"}") == 400);
	CHECK(checked("{\"t\":\"\\udfac\"}") == 400);
	CHECK(checked("{\"t\":\"\\ud83c\\u0041\"}") == 400);
	/* pairs json-c 0.16 alone decodes as U+FFFD keep their character */
	{
		struct movie_input in;
		const char *field, *detail;
		const char *t = "{\"title\":\"\\ud836\\udc00 \\\\ud836 \\ud837\\udfac\"}";

		CHECK(parse_movie(t, strlen(t), MOVIE_CREATE, &in, &field, &detail) == 0 &&
		      strcmp(in.title, "\xf0\x9d\xa0\x80 \\ud836 \xf0\x9d\xbe\xac") == 0);
		release_body();
	}
	/* JSON's whitespace only */
	CHECK(checked("\f{}") == 400);
	CHECK(checked(" \t\r\n{ } \n") == 0);
	/* 256 values pass (the object, the array, 254 elements), 257 are 413 */
	n = snprintf(body, sizeof(body), "{\"a\":[");
	for (int i = 0; i < 254; i++)
		n += snprintf(body + n, sizeof(body) - (size_t)n, "%s0", i ? "," : "");
	snprintf(body + n, sizeof(body) - (size_t)n, "]}");
	CHECK(checked(body) == 0);
	snprintf(body + n, sizeof(body) - (size_t)n, ",0]}");
	CHECK(checked(body) == 413);
}

/* A refusal names the top-level member at fault, and its detail starts with that name. */
static void test_json_error_words(void)
{
	struct json_error e;
	json_object *o;
	const char *t = "{\"ok\":1,\"total\":{\"deep\":[01]}}";

	CHECK(json_parse_checked(t, strlen(t), &o, &e) == 400 && o == NULL);
	CHECK(strcmp(e.field, "total") == 0 && strncmp(e.detail, "total ", 6) == 0);
	t = "{\"ok\":1,\"total\":1,,}";
	CHECK(json_parse_checked(t, strlen(t), &o, &e) == 400);
	CHECK(e.field[0] == '\0' && strncmp(e.detail, "the body ", 9) == 0);
	t = "{\"t\\u0061\":01}";                 /* an escaped name is not echoed */
	CHECK(json_parse_checked(t, strlen(t), &o, &e) == 400 && e.field[0] == '\0');
}

/* Visible text: what user_id needs. */
static void test_utf8_visible_text(void)
{
#define VISIBLE(s) utf8_visible_text((s), sizeof(s) - 1)
	CHECK(VISIBLE("a") == 1);
	CHECK(VISIBLE(" a ") == 1);
	CHECK(VISIBLE("\xe2\x80\x83\xc3\xa9") == 1);       /* em space, é */
	CHECK(VISIBLE("") == 0);
	CHECK(VISIBLE(" ") == 0);
	CHECK(VISIBLE("\xe2\x80\x83\xe2\x80\x89") == 0);  /* em space, thin space */
	CHECK(VISIBLE("\xe2\x80\x8b\xef\xbb\xbf") == 0);  /* zero width space, BOM */
	CHECK(VISIBLE("\xe3\x85\xa4") == 0);              /* U+3164 Hangul filler */
	CHECK(VISIBLE("a\x01") == -1);
	CHECK(VISIBLE("a\t") == -1);
	CHECK(VISIBLE("a\x7f") == -1);
	CHECK(VISIBLE("a\xc2\x85") == -1);                 /* U+0085, a C1 control */
	CHECK(VISIBLE("a\xff") == -1);
#undef VISIBLE
}

int main(void)
{
	test_create_valid();
	test_trailing_whitespace();
	test_title_lengths();
	test_description_lengths();
	test_create_errors();
	test_depth();
	test_update();
	test_movie_id();
	test_utf8_length();
	test_json_parse_object();
	test_json_text_rules();
	test_json_error_words();
	test_utf8_visible_text();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
