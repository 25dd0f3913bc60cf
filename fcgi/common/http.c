#define _POSIX_C_SOURCE 200809L
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hex.h"
#include "log.h"
#include "request_id.h"
#include "trace_context.h"

const char *http_param(const struct http_req *r, const char *name)
{
	const char *v = FCGX_GetParam(name, r->envp);

	return v ? v : "";
}

/* Reads exactly n bytes; returns the count read (short means the client went away). */
static size_t read_in(const struct http_req *r, char *buf, size_t n)
{
	if (r->in != NULL)
		return (size_t)FCGX_GetStr(buf, (int)n, r->in);
	return fread(buf, 1, n, stdin);
}

int http_read_body(const struct http_req *r, size_t max, char **body, size_t *len)
{
	const char *cl = http_param(r, "CONTENT_LENGTH");
	unsigned long long n;
	char *end, *buf;

	*body = NULL;
	*len = 0;
	if (*cl == '\0')
		n = 0;                  /* no body: the caller decides whether that is allowed */
	else {
		if (*cl < '0' || *cl > '9')
			return 400;
		errno = 0;
		n = strtoull(cl, &end, 10);
		if (errno != 0 || *end != '\0')
			return 400;
	}
	if (n > max)
		return 413;
	buf = malloc((size_t)n + 1);
	if (buf == NULL)
		return 500;
	if (read_in(r, buf, (size_t)n) != (size_t)n) {
		free(buf);
		return 400;
	}
	buf[n] = '\0';
	*body = buf;
	*len = (size_t)n;
	return 0;
}

int http_require_json(const struct http_req *r)
{
	const char *ct = http_param(r, "CONTENT_TYPE");
	size_t n = strlen("application/json");

	while (*ct == ' ')
		ct++;
	if (strncasecmp(ct, "application/json", n) != 0)
		return 415;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return (*ct == '\0' || *ct == ';') ? 0 : 415;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default:  return "Unknown";
	}
}

int http_client_gone(const struct http_req *r)
{
	return r->out != NULL ? FCGX_GetError(r->out) != 0 : ferror(stdout) != 0;
}

/* Once a write failed, the rest of the reply has nowhere to go: said once, then dropped. */
static void write_out(const struct http_req *r, const char *buf, size_t len)
{
	if (http_client_gone(r))
		return;
	if (r->out != NULL) {
		if (FCGX_PutStr(buf, (int)len, r->out) < 0)
			log_warnx("client went away while the reply was written; dropping the rest");
	} else if (fwrite(buf, 1, len, stdout) != len) {
		log_warn("write to stdout");
	}
}

static int is_head(const struct http_req *r)
{
	return strcmp(http_param(r, "REQUEST_METHOD"), "HEAD") == 0;
}

/* The status line and headers; with_length is 0 for a streamed body of unknown length. */
static void write_head(const struct http_req *r, int status, const char *content_type,
		       const char *extra_headers, int with_length, size_t len)
{
	const char *rid = request_id_current();     /* request_id_begin chose it */
	const char *tp = trace_context_traceparent();   /* W3C Trace Context Level 2 */
	char head[1024], length[48] = "";
	int n;

	if (with_length)
		snprintf(length, sizeof(length), "Content-Length: %lu\r\n", (unsigned long)len);
	n = snprintf(head, sizeof(head),
		     "Status: %d %s\r\nContent-Type: %s\r\n%s%s%s%s%s%s%s%s\r\n",
		     status, http_reason(status), content_type, length,
		     *rid ? "X-Request-Id: " : "", rid, *rid ? "\r\n" : "",
		     *tp ? "traceresponse: " : "", tp, *tp ? "\r\n" : "",
		     extra_headers ? extra_headers : "");
	if (n < 0 || (size_t)n >= sizeof(head)) {
		log_warnx("reply headers too long for status %d", status);
		return;
	}
	write_out(r, head, (size_t)n);
}

void http_body_begin(struct http_body *b, const struct http_req *r, int status,
		     const char *content_type, const char *extra_headers)
{
	b->r = r;
	b->status = status;
	b->content_type = content_type;
	b->extra_headers = extra_headers;
	b->streaming = 0;
	b->len = 0;
}

static void body_flush(struct http_body *b)
{
	if (!b->streaming) {
		write_head(b->r, b->status, b->content_type, b->extra_headers, 0, 0);
		b->streaming = 1;
	}
	if (!is_head(b->r))
		write_out(b->r, b->buf, b->len);
	b->len = 0;
}

void http_body_add(struct http_body *b, const char *s, size_t n)
{
	while (n > 0) {
		size_t room = sizeof(b->buf) - b->len, take = n < room ? n : room;

		memcpy(b->buf + b->len, s, take);
		b->len += take;
		s += take;
		n -= take;
		if (b->len == sizeof(b->buf))
			body_flush(b);
	}
}

void http_body_add_str(struct http_body *b, const char *s)
{
	http_body_add(b, s, strlen(s));
}

void http_body_add_json_string(struct http_body *b, const char *s, size_t n)
{
	size_t plain = 0;

	http_body_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = { '\\', 0 };
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		http_body_add(b, s + plain, i - plain);   /* the run of characters before c */
		plain = i + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			hex_encode(&c, 1, esc + 4);
			elen = 6;
		}
		http_body_add(b, esc, elen);
	}
	http_body_add(b, s + plain, n - plain);
	http_body_add(b, "\"", 1);
}

void http_body_add_int(struct http_body *b, long long n)
{
	char digits[24];
	int len = snprintf(digits, sizeof(digits), "%lld", n);

	if (len > 0)
		http_body_add(b, digits, (size_t)len);
}

int http_body_end(struct http_body *b)
{
	if (b->streaming) {
		body_flush(b);
	} else {
		write_head(b->r, b->status, b->content_type, b->extra_headers, 1, b->len);
		if (!is_head(b->r))
			write_out(b->r, b->buf, b->len);
	}
	if (b->r->out == NULL)
		fflush(stdout);
	return b->status;
}

/* Adds a NUL-terminated string as a JSON string literal. */
static void add_json_cstring(struct http_body *b, const char *s)
{
	http_body_add_json_string(b, s, strlen(s));
}

void http_problem_begin(struct http_body *b, const struct http_req *r, int status,
			const char *extra_headers, const char *detail)
{
	http_body_begin(b, r, status, "application/problem+json", extra_headers);
	http_body_add_str(b, "{\"type\":\"about:blank\",\"title\":");
	add_json_cstring(b, http_reason(status));
	http_body_add_str(b, ",\"status\":");
	http_body_add_int(b, status);
	http_body_add_str(b, ",\"detail\":");
	add_json_cstring(b, detail);
}

int http_problem_end(struct http_body *b)
{
	http_body_add_str(b, "}");
	return http_body_end(b);
}

int http_problem(const struct http_req *r, int status, const char *extra_headers,
		 const char *field, const char *detail)
{
	struct http_body b;

	http_problem_begin(&b, r, status, extra_headers, detail);
	if (field != NULL) {
		http_body_add_str(&b, ",\"field\":");
		add_json_cstring(&b, field);
	}
	return http_problem_end(&b);
}

/* Percent-decodes src[0..len) into out; -1 on a bad escape or when out is too small. */
static int url_decode(const char *src, size_t len, char *out, size_t outsize)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = src[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -1;
			hi = hex_digit_value(src[i + 1]);
			lo = hex_digit_value(src[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			if (c == '\0')
				return -1;      /* C strings and PostgreSQL text cannot hold NUL */
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (o + 1 >= outsize)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int http_query_param(const char *query, const char *name, char *out, size_t outsize)
{
	size_t nlen = strlen(name);
	const char *p = query;

	while (p != NULL && *p != '\0') {
		const char *amp = strchr(p, '&');
		size_t plen = amp ? (size_t)(amp - p) : strlen(p);

		if (plen >= nlen && strncmp(p, name, nlen) == 0 &&
		    (plen == nlen || p[nlen] == '=')) {
			const char *v = plen == nlen ? p + plen : p + nlen + 1;
			size_t vlen = plen == nlen ? 0 : plen - nlen - 1;

			return url_decode(v, vlen, out, outsize) == 0 ? 1 : -1;
		}
		p = amp ? amp + 1 : NULL;
	}
	return 0;
}
