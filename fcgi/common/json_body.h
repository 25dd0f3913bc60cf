/*
 * A JSON request body, read and checked in one step by every program that takes one, so
 * that all of them answer a bad body with the same statuses and the same words.
 */
#ifndef COMMON_JSON_BODY_H
#define COMMON_JSON_BODY_H

#include <stddef.h>
#include <json-c/json.h>

#include "http.h"

/*
 * Reads r's body as one JSON object: Content-Type application/json (else 415), at most
 * max bytes (else 413), parsed strictly by json_parse_checked (else 400, or 413 for more
 * than JSON_MAX_VALUES values).
 * Returns 0 with *root set (the caller puts it), or the status it answered with.
 */
int json_body_read(const struct http_req *r, size_t max, json_object **root);

#endif
