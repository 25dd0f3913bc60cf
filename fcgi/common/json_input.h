/* Strict parsing of request bodies and message payloads. */
#ifndef COMMON_JSON_INPUT_H
#define COMMON_JSON_INPUT_H

#include <stddef.h>
#include <json-c/json.h>

/*
 * Parses text as exactly one JSON object: strict grammar, valid UTF-8, bounded depth,
 * nothing after it. Returns the object (the caller puts it), or NULL with *err set to
 * a message fit for a client.
 */
json_object *json_parse_object(const char *text, size_t len, const char **err);

/* The number of code points in s[0..len), or -1 when it is not valid UTF-8 or holds NUL. */
long utf8_length(const char *s, size_t len);

/* Serialises compactly, without escaping '/'. The string belongs to o. */
const char *json_text(json_object *o);

#endif
