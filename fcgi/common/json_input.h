/* Strict parsing of request bodies and message payloads. */
#ifndef COMMON_JSON_INPUT_H
#define COMMON_JSON_INPUT_H

#include <stddef.h>
#include <json-c/json.h>

#include "utf8.h"

/*
 * Bounds on what json-c is asked to build, so that a text's memory follows its size and
 * not its shape: an empty object costs json-c about 800 bytes, so a 64 KB body of "{},"
 * would cost 17 MB. Request bodies are flat objects of a few members.
 */
#define JSON_MAX_DEPTH 16       /* nested objects and arrays, the outer object included */
#define JSON_MAX_VALUES 256     /* every value: objects, arrays, members' values, elements */

/* Why a text was refused, in words fit for a client. */
struct json_error {
	int status;           /* 400; 413 too large or over JSON_MAX_VALUES; 500 out of memory */
	char field[64];       /* the top-level member whose value is at fault, or "" */
	/* starts with field when there is one, else with "the body"; or "out of memory" */
	char detail[192];
};

/*
 * Parses text as exactly one JSON object. The text itself is checked first, before json-c
 * builds anything: RFC 8259's grammar exactly (no leading zeros, single quotes, NaN or
 * trailing commas), valid UTF-8, no control character or \u0000 in a string, no lone
 * surrogate escape, integers within int64 and other numbers within a double, at most
 * JSON_MAX_DEPTH levels and JSON_MAX_VALUES values; then no member name twice in one
 * object. Returns 0 with *root set (the caller puts it), or the status with *root NULL
 * and e filled in.
 */
int json_parse_checked(const char *text, size_t len, json_object **root, struct json_error *e);

/*
 * json_parse_checked for callers that need only the words: the object, or NULL with *err
 * set to the detail (valid until this thread's next call).
 */
json_object *json_parse_object(const char *text, size_t len, const char **err);

/* Serialises compactly, without escaping '/'. The string belongs to o. */
const char *json_text(json_object *o);

#endif
