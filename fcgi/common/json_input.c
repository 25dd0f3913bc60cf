#define _POSIX_C_SOURCE 200809L
#include "json_input.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"

/*
 * The check of the text, before json-c sees it. json-c's strict mode still takes single
 * quotes, leading zeros in some places, raw control characters, keys cut at \u0000 and
 * silently saturated integers, and it builds a tree of any shape; so the text is read
 * here once, by RFC 8259's grammar, with the limits of json_input.h.
 */
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

struct scan {
	const char *p, *end;
	unsigned depth;
	unsigned values;
	unsigned objects;
	unsigned short members[JSON_MAX_VALUES];  /* each object's member count, in text order */
	unsigned long pairs;    /* surrogate pair escapes, which json-c 0.16 decodes wrongly */
	const char *member;     /* the name of the top-level member being read, or NULL */
	size_t member_len;
	struct json_error *e;
};

/*
 * Records why the text is refused. what follows a subject: the top-level member being
 * read, when the fault is in its value and its name is plain, else "the body".
 */
static int fail(struct scan *s, int status, const char *what)
{
	struct json_error *e = s->e;

	e->status = status;
	e->field[0] = '\0';
	if (s->member != NULL && s->member_len < sizeof(e->field)) {
		memcpy(e->field, s->member, s->member_len);
		e->field[s->member_len] = '\0';
	}
	snprintf(e->detail, sizeof(e->detail), "%s %s", e->field[0] ? e->field : "the body", what);
	return -1;
}

/* A fault of the whole text: a limit, or the grammar, which has no one member to name. */
static int fail_body(struct scan *s, int status, const char *what)
{
	s->member = NULL;
	return fail(s, status, what);
}

static int invalid(struct scan *s)
{
	return fail_body(s, 400, "is not valid JSON");
}

static void skip_space(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int is_digit(const struct scan *s)
{
	return s->p < s->end && *s->p >= '0' && *s->p <= '9';
}

static int hex4(struct scan *s, unsigned *unit)
{
	*unit = 0;
	for (int k = 0; k < 4; k++, s->p++) {
		int digit = hex_digit_value(s->p < s->end ? *s->p : '\0');

		if (digit < 0)
			return invalid(s);
		*unit = *unit << 4 | (unsigned)digit;
	}
	return 0;
}

#define LONE_SURROGATE "holds a lone UTF-16 surrogate escape, which is no character"

/* \uXXXX, after the 'u': no NUL (C strings and PostgreSQL text cannot hold it), no lone surrogate. */
static int scan_unicode_escape(struct scan *s)
{
	unsigned unit, low;

	if (hex4(s, &unit) != 0)
		return -1;
	if (unit == 0)
		return fail(s, 400, "holds \\u0000 in a string: text cannot hold NUL");
	if (unit >= 0xDC00 && unit <= 0xDFFF)
		return fail(s, 400, LONE_SURROGATE);
	if (unit < 0xD800 || unit > 0xDBFF)
		return 0;
	if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
		return fail(s, 400, LONE_SURROGATE);
	s->p += 2;
	if (hex4(s, &low) != 0)
		return -1;
	if (low < 0xDC00 || low > 0xDFFF)
		return fail(s, 400, LONE_SURROGATE);
	s->pairs++;
	return 0;
}

/* A string, from its opening quote. The text's UTF-8 was checked as a whole already. */
static int scan_string(struct scan *s)
{
	for (s->p++; s->p < s->end; s->p++) {
		unsigned char c = (unsigned char)*s->p;

		if (c == '"') {
			s->p++;
			return 0;
		}
		if (c < 0x20)
			return fail(s, 400, "holds a control character inside a string: "
					    "JSON requires an escape such as \\n");
		if (c != '\\')
			continue;
		if (++s->p == s->end)
			break;
		if (*s->p == 'u') {
			s->p++;
			if (scan_unicode_escape(s) != 0)
				return -1;
			s->p--;                 /* the loop steps past the last hex digit */
		} else if (strchr("\"\\/bfnrt", *s->p) == NULL || *s->p == '\0') {
			return invalid(s);
		}
	}
	return invalid(s);
}

/* Whether the digits of an integer (no sign, no leading zero) fit in int64. */
static int integer_fits(const char *digits, size_t n, int negative)
{
	const char *limit = negative ? "9223372036854775808" : "9223372036854775807";

	if (n != 19)
		return n < 19;
	return memcmp(digits, limit, n) <= 0;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? within range: json-c saturates the rest. */
static int scan_number(struct scan *s)
{
	const char *start = s->p, *digits;
	int negative = 0, integer = 1;

	if (*s->p == '-') {
		negative = 1;
		s->p++;
	}
	digits = s->p;
	if (!is_digit(s))
		return invalid(s);
	if (*s->p++ != '0')
		while (is_digit(s))
			s->p++;
	else if (is_digit(s))
		return fail(s, 400, "holds a number with a leading zero, which JSON does not allow");
	if (s->p < s->end && *s->p == '.') {
		integer = 0;
		s->p++;
		if (!is_digit(s))
			return invalid(s);
		while (is_digit(s))
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		integer = 0;
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!is_digit(s))
			return invalid(s);
		while (is_digit(s))
			s->p++;
	}
	/* a number ends the text only when the text is not an object: that fails anyway */
	if (s->p == s->end || strchr(" \t\n\r,]}", *s->p) == NULL || *s->p == '\0')
		return invalid(s);
	/* strtod reads exactly the number: the text is C-locale JSON and a delimiter follows */
	if (integer ? !integer_fits(digits, (size_t)(s->p - digits), negative) :
		      isinf(strtod(start, NULL)))
		return fail(s, 400, "holds a number out of range: integers must fit in 64 bits "
				    "(-9223372036854775808 to 9223372036854775807), others in a double");
	return 0;
}

static int scan_literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return invalid(s);
	s->p += n;
	return 0;
}

static int scan_value(struct scan *s);

/* The top-level member whose value comes next, named in errors when its name is plain. */
static void name_member(struct scan *s, const char *quoted)
{
	size_t len = (size_t)(s->p - quoted) - 2;

	s->member = memchr(quoted + 1, '\\', len) ? NULL : quoted + 1;
	s->member_len = len;
}

/* The members or elements of an object ('}') or an array (']'), from the opening bracket. */
static int scan_container(struct scan *s, char close)
{
	unsigned index = s->objects, count = 0;
	const char *key;

	if (++s->depth > JSON_MAX_DEPTH)
		return fail_body(s, 400, "is nested too deeply");
	if (close == '}')
		s->objects++;           /* objects <= values <= JSON_MAX_VALUES */
	s->p++;
	skip_space(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		s->depth--;
		return 0;
	}
	for (;; count++) {
		if (close == '}') {
			if (s->p == s->end || *s->p != '"')
				return invalid(s);
			key = s->p;
			if (scan_string(s) != 0)
				return -1;
			if (s->depth == 1)
				name_member(s, key);
			skip_space(s);
			if (s->p == s->end || *s->p++ != ':')
				return invalid(s);
			skip_space(s);
		}
		if (scan_value(s) != 0)
			return -1;
		if (s->depth == 1)
			s->member = NULL;
		skip_space(s);
		if (s->p == s->end)
			return invalid(s);
		if (*s->p == close)
			break;
		if (*s->p++ != ',')
			return invalid(s);
		skip_space(s);
	}
	s->p++;
	if (close == '}')
		s->members[index] = (unsigned short)(count + 1);
	s->depth--;
	return 0;
}

static int scan_value(struct scan *s)
{
	if (s->p == s->end)
		return invalid(s);
	if (++s->values > JSON_MAX_VALUES)
		return fail_body(s, 413, "holds more than " STRINGIFY(JSON_MAX_VALUES) " JSON values");
	switch (*s->p) {
	case '{': return scan_container(s, '}');
	case '[': return scan_container(s, ']');
	case '"': return scan_string(s);
	case 't': return scan_literal(s, "true");
	case 'f': return scan_literal(s, "false");
	case 'n': return scan_literal(s, "null");
	default:  return scan_number(s);
	}
}

/* 0 when text is one object by the rules above, else -1 with s->e filled in. */
static int scan_text(struct scan *s, const char *text, size_t len, struct json_error *e)
{
	memset(s, 0, sizeof(*s));
	s->p = text;
	s->end = text + len;
	s->e = e;
	if (utf8_length(text, len) < 0)
		return fail_body(s, 400, "is not valid UTF-8");
	skip_space(s);
	if (s->p == s->end)
		return fail_body(s, 400, "is empty; send a JSON object");
	if (*s->p != '{')
		return fail_body(s, 400, strchr("[\"-0123456789tfn", *s->p) ?
					 "must be a JSON object" : "is not valid JSON");
	if (scan_value(s) != 0)
		return -1;
	skip_space(s);
	return s->p == s->end ? 0 : invalid(s);
}

/*
 * json-c keeps the last of two members with one name. Refusing the body is the safe
 * reading (RFC 8259 leaves it open, and programs disagree on which one counts), so each
 * object of the tree, in the text's order, must hold as many members as the text wrote.
 */
static int names_unique(json_object *o, const struct scan *s, unsigned *next)
{
	switch (json_object_get_type(o)) {
	case json_type_object:
		if ((unsigned)json_object_object_length(o) != s->members[(*next)++])
			return 0;
		json_object_object_foreach(o, key, child) {
			(void)key;
			if (!names_unique(child, s, next))
				return 0;
		}
		return 1;
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (!names_unique(json_object_array_get_idx(o, i), s, next))
				return 0;
		return 1;
	default:
		return 1;
	}
}

/*
 * json-c 0.16 turns some surrogate pair escapes into U+FFFD (\ud836\udc00, U+1D800, among
 * others: found by tests/fuzz), so a text that has them is handed over with each pair
 * written as its UTF-8 bytes, which means the same JSON. The text was checked: a
 * backslash only starts an escape inside a string, and pairs are whole. The copy is
 * shorter than the text; the caller frees it.
 */
static char *pairs_as_utf8(const char *text, size_t len, size_t *out_len)
{
	char *out = malloc(len + 1);
	size_t o = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		struct scan hex = { .p = text + i + 2, .end = text + len };
		unsigned hi, lo;
		unsigned long cp;

		if (text[i] != '\\') {
			out[o++] = text[i];
			continue;
		}
		if (text[i + 1] != 'u' || hex4(&hex, &hi) != 0 || hi < 0xD800 || hi > 0xDBFF) {
			out[o++] = text[i];
			out[o++] = text[++i];   /* the escaped character, a backslash maybe */
			continue;
		}
		hex.p += 2;
		if (hex4(&hex, &lo) != 0)
			lo = 0xDC00;            /* cannot happen: the scan checked the pair */
		cp = 0x10000 + ((unsigned long)(hi - 0xD800) << 10) + (lo - 0xDC00);
		out[o++] = (char)(0xF0 | (cp >> 18));
		out[o++] = (char)(0x80 | ((cp >> 12) & 0x3F));
		out[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[o++] = (char)(0x80 | (cp & 0x3F));
		i += 11;
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

/* Fills e for a fault found after the text's check. */
static int refuse(struct json_error *e, int status, const char *detail)
{
	e->status = status;
	e->field[0] = '\0';
	snprintf(e->detail, sizeof(e->detail), "%s", detail);
	return status;
}

int json_parse_checked(const char *text, size_t len, json_object **root, struct json_error *e)
{
	struct scan s;
	json_tokener *tok;
	char *copy = NULL;
	unsigned next = 0;
	int status = 0;

	*root = NULL;
	if (len > INT_MAX)
		return refuse(e, 413, "the body is too large");
	if (scan_text(&s, text, len, e) != 0)
		return e->status;
	if (s.pairs > 0 && (copy = pairs_as_utf8(text, len, &len)) == NULL)
		return refuse(e, 500, "out of memory");
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (tok == NULL) {
		free(copy);
		return refuse(e, 500, "out of memory");
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	*root = json_tokener_parse_ex(tok, copy ? copy : text, (int)len);
	/* the text passed a stricter check: json-c refusing it would be json-c's quirk */
	if (*root == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len)
		status = refuse(e, 400, "the body is not valid JSON");
	else if (!names_unique(*root, &s, &next))
		status = refuse(e, 400, "the body names a member twice in one object");
	json_tokener_free(tok);
	free(copy);
	if (status != 0) {
		json_object_put(*root);
		*root = NULL;
	}
	return status;
}

json_object *json_parse_object(const char *text, size_t len, const char **err)
{
	static _Thread_local struct json_error e;
	json_object *root;

	json_parse_checked(text, len, &root, &e);
	*err = e.detail;
	return root;
}

const char *json_text(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}
