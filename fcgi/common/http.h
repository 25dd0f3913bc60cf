/*
 * The HTTP side of a request as a CGI-style program sees it: parameters, body, reply.
 * The same request type serves FastCGI (streams from libfcgi) and plain CGI
 * (environ, stdin, stdout), so business code never knows which one it runs under.
 */
#ifndef COMMON_HTTP_H
#define COMMON_HTTP_H

#include <stddef.h>
#include <fcgiapp.h>

/*
 * What request code returns, in every program:
 * - A check reads the request and sends nothing (http_read_body, http_require_json, the
 *   programs' input validators): 0 when the request may go on, else the HTTP status the
 *   caller should answer with.
 * - Anything that may answer (every handler, http_problem, http_body_end, and the helpers
 *   that answer their own errors): the status it sent, or 0 when it sent nothing and the
 *   caller goes on. A handler always answers, so it never returns 0.
 */

struct http_req {
	char **envp;       /* NAME=value parameters */
	FCGX_Stream *in;   /* NULL in CGI mode: stdin */
	FCGX_Stream *out;  /* NULL in CGI mode: stdout */
};

/* A request parameter (REQUEST_METHOD, PATH_INFO, HTTP_*), or "" when absent. */
const char *http_param(const struct http_req *r, const char *name);

/*
 * Reads the whole body into a NUL-terminated buffer the caller frees.
 * Returns 0, or the status to answer with (400, 413, 500).
 */
int http_read_body(const struct http_req *r, size_t max, char **body, size_t *len);

/* 0 when Content-Type is application/json (parameters allowed), else 415. */
int http_require_json(const struct http_req *r);

/*
 * Every reply, JSON included, is written this one way: in pieces, into a buffer. Headers
 * wait until the buffer first fills: a body that fits is sent with Content-Length, a
 * larger one streams without it. JSON is written by hand, not built as a json-c tree and
 * serialised, so that a 1,000-row list goes from the database result to the client
 * without ever sitting in memory whole. extra_headers is NULL or "Name: value\r\n" lines.
 */
struct http_body {
	const struct http_req *r;
	int status;
	const char *content_type;
	const char *extra_headers;
	int streaming;              /* headers sent, buffer flushed at least once */
	size_t len;
	char buf[16384];
};

void http_body_begin(struct http_body *b, const struct http_req *r, int status,
		     const char *content_type, const char *extra_headers);
void http_body_add(struct http_body *b, const char *s, size_t n);
void http_body_add_str(struct http_body *b, const char *s);
/* Adds s[0..n) as a JSON string literal: quoted, with '"', '\\' and controls escaped. */
void http_body_add_json_string(struct http_body *b, const char *s, size_t n);
/* Adds n as a JSON number. */
void http_body_add_int(struct http_body *b, long long n);
/* Sends what is left; returns the status sent. */
int http_body_end(struct http_body *b);

/*
 * Whether a write of the reply failed (the client, or lighttpd for it, went away). The
 * failure is logged once; later writes are dropped, so a long reply can stop early.
 */
int http_client_gone(const struct http_req *r);

/*
 * Sends an RFC 9457 problem (application/problem+json): type, title, status, detail,
 * plus "field" when the problem is about one input field (field may be NULL).
 * Returns the status sent.
 */
int http_problem(const struct http_req *r, int status, const char *extra_headers,
		 const char *field, const char *detail);

/*
 * A problem with members of the caller's own, written in three steps: http_problem_begin
 * writes type, title, status and detail and leaves the object open; the caller adds its
 * members, each starting with ','; http_problem_end closes the object and sends it,
 * returning the status sent.
 */
void http_problem_begin(struct http_body *b, const struct http_req *r, int status,
			const char *extra_headers, const char *detail);
int http_problem_end(struct http_body *b);

/* The reason phrase for a status code. */
const char *http_reason(int status);

/*
 * Copies the value of query parameter name from query (percent-decoded, '+' as space)
 * into out. Returns 1 found, 0 absent, -1 malformed or longer than outsize - 1.
 */
int http_query_param(const char *query, const char *name, char *out, size_t outsize);

#endif
