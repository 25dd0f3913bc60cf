/*
 * The one reply writer (http_body_*, http_problem) in CGI mode. Input: a flags byte, then
 * strings separated by 0xFE (never in UTF-8). Oracles: the head is well formed, with a
 * Content-Length equal to the body when it has one; the body is UTF-8 JSON by an
 * independent reading, and json-c reads back every string exactly as written; a HEAD
 * reply has no body.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "common/http.h"
#include "oracle.h"

#define MAX_STRINGS 64

struct strings {
	const char *s[MAX_STRINGS];
	size_t len[MAX_STRINGS];
	size_t n;
};

/* Splits at 0xFE; 0 when a piece is not UTF-8, which no caller ever passes. */
static int split(const uint8_t *data, size_t size, struct strings *out)
{
	const char *p = (const char *)data, *end = p + size;

	out->n = 0;
	while (p <= end && out->n < MAX_STRINGS) {
		const char *sep = memchr(p, 0xFE, (size_t)(end - p));
		size_t len = sep ? (size_t)(sep - p) : (size_t)(end - p);

		if (!oracle_utf8(p, len))
			return 0;
		out->s[out->n] = p;
		out->len[out->n++] = len;
		if (sep == NULL)
			break;
		p = sep + 1;
	}
	return 1;
}

/* The reply as read back: head, length, body, and the strings (in order) it holds. */
static void check_reply(const uint8_t *data, size_t size, const struct strings *in,
			unsigned repeat, int head_only)
{
	struct oracle_reply r;
	char *buf, length[32];
	size_t len;
	json_object *root, *items;

	oracle_capture_end(&buf, &len);
	ORACLE(oracle_reply_parse(buf, len, &r), data, size);
	ORACLE(strncmp(buf, "Status: 200 OK\r\n", 16) == 0, data, size);
	if (!head_only && oracle_reply_header(&r, "Content-Length", length, sizeof(length)))
		ORACLE(strtoul(length, NULL, 10) == r.body_len, data, size);
	if (head_only) {
		ORACLE(r.body_len == 0, data, size);
		free(buf);
		return;
	}
	ORACLE(oracle_json(r.body, r.body_len), data, size);
	root = json_tokener_parse(r.body);        /* the body is NUL-terminated by the stream */
	ORACLE(root != NULL && json_object_object_get_ex(root, "items", &items), data, size);
	ORACLE(json_object_array_length(items) == in->n * repeat, data, size);
	for (size_t i = 0; i < in->n * repeat; i++) {
		json_object *v = json_object_array_get_idx(items, i);
		size_t k = i % in->n;

		ORACLE((size_t)json_object_get_string_len(v) == in->len[k] &&
		       memcmp(json_object_get_string(v), in->s[k], in->len[k]) == 0, data, size);
	}
	json_object_put(root);
	free(buf);
}

/* A problem whose detail and field are the first two strings up to any NUL. */
static void check_problem(const uint8_t *data, size_t size, const struct strings *in,
			  char **env)
{
	struct http_req req = { .envp = env };
	struct oracle_reply r;
	char *detail = strndup(in->s[0], in->len[0]);
	char *field = in->n > 1 ? strndup(in->s[1], in->len[1]) : NULL;
	char *buf;
	size_t len;

	oracle_capture_begin();
	ORACLE(http_problem(&req, 422, NULL, field, detail) == 422, data, size);
	oracle_capture_end(&buf, &len);
	ORACLE(oracle_reply_parse(buf, len, &r), data, size);
	ORACLE(r.body_len == 0 || oracle_json(r.body, r.body_len), data, size);
	free(buf);
	free(detail);
	free(field);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char get[] = "REQUEST_METHOD=GET", head[] = "REQUEST_METHOD=HEAD";
	char *env[] = { get, NULL };
	struct http_req req = { .envp = env };
	struct http_body b;
	struct strings in;
	unsigned repeat;

	if (size < 1 || !split(data + 1, size - 1, &in))
		return 0;
	repeat = (data[0] & 15u) + 1;       /* up to 16 times: past the 16 KB buffer */
	if (data[0] & 16u)
		env[0] = head;
	oracle_capture_begin();
	http_body_begin(&b, &req, 200, "application/json", NULL);
	http_body_add_str(&b, "{\"items\":[");
	for (unsigned r = 0; r < repeat; r++)
		for (size_t i = 0; i < in.n; i++) {
			if (r + i > 0)
				http_body_add(&b, ",", 1);
			http_body_add_json_string(&b, in.s[i], in.len[i]);
		}
	http_body_add_str(&b, "],\"n\":");
	http_body_add_int(&b, (long long)size * (data[0] & 32u ? -1 : 1));
	http_body_add_str(&b, "}");
	ORACLE(http_body_end(&b) == 200, data, size);
	check_reply(data, size, &in, repeat, env[0] == head);
	env[0] = get;
	check_problem(data, size, &in, env);
	return 0;
}
