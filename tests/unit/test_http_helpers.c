/*
 * Unit tests for the common HTTP layer in CGI mode (no libfcgi streams): query parameters,
 * Content-Type checks, body reading from stdin (raw and as JSON), and the replies written
 * to stdout.
 * Prints "N passed, N failed" last; exits non-zero when anything failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "common/http.h"
#include "common/json_body.h"
#include "common/log.h"
#include "common/request_id.h"

#include "check.h"

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* Runs http_query_param into a buffer guarded by canaries; checks nothing was written past it. */
static int query(const char *q, const char *name, char *out, size_t outsize)
{
	char guarded[512];
	int rc;

	if (outsize + 16 > sizeof(guarded) || outsize > 496)
		die("outsize");
	memset(guarded, 0x5a, sizeof(guarded));
	rc = http_query_param(q, name, guarded + 8, outsize);
	for (size_t i = 0; i < 8; i++) {
		if (guarded[i] != 0x5a || guarded[8 + outsize + i] != 0x5a) {
			printf("  %s: write outside the %zu-byte buffer\n", q ? q : "(null)", outsize);
			return -99;
		}
	}
	memcpy(out, guarded + 8, outsize);
	return rc;
}

/* 1 when name in q is found and decodes to want. */
static int query_is(const char *q, const char *name, const char *want)
{
	char out[256];
	int rc = query(q, name, out, sizeof(out));

	if (rc != 1 || strcmp(out, want) != 0) {
		printf("  %s [%s]: rc %d value \"%s\", want \"%s\"\n", q, name, rc,
		       rc == 1 ? out : "", want);
		return 0;
	}
	return 1;
}

static int query_rc(const char *q, const char *name, size_t outsize)
{
	char out[496];

	return query(q, name, out, outsize);
}

static void test_query_param(void)
{
	char out[256];

	CHECK(query_is("title=abc", "title", "abc"));
	CHECK(query_is("a=1&title=abc&b=2", "title", "abc"));
	CHECK(query_is("limit=5&offset=10", "offset", "10"));
	CHECK(query_is("title=x%20y", "title", "x y"));
	CHECK(query_is("title=x+y", "title", "x y"));
	CHECK(query_is("title=a%2Bb", "title", "a+b"));
	CHECK(query_is("title=100%25%20Pure", "title", "100% Pure"));
	CHECK(query_is("title=a_b", "title", "a_b"));
	CHECK(query_is("title=a%5Fb", "title", "a_b"));
	CHECK(query_is("title=a%26b%3Dc", "title", "a&b=c"));
	CHECK(query_is("title=a=b", "title", "a=b"));
	CHECK(query_is("title=%C3%A9", "title", "\xc3\xa9"));
	CHECK(query_is("title=%c3%a9", "title", "\xc3\xa9"));
	CHECK(query_is("title=%41", "title", "A"));
	CHECK(query_is("title=ab%41", "title", "abA"));
	CHECK(query_is("title=%E6%9D%B1%F0%9F%8E%AC", "title", "\xe6\x9d\xb1\xf0\x9f\x8e\xac"));
	CHECK(query_is("title=", "title", ""));
	CHECK(query_is("title", "title", ""));
	CHECK(query_is("title&x=1", "title", ""));
	CHECK(query_is("title=&x=1", "title", ""));
	/* the first occurrence wins; names match whole, not as prefixes or suffixes */
	CHECK(query_is("title=a&title=b", "title", "a"));
	CHECK(query_is("titles=a&title=b", "title", "b"));
	CHECK(query_is("subtitle=a&title=b", "title", "b"));
	CHECK(query_is("&&title=c&", "title", "c"));

	/* absent */
	CHECK(query_rc("", "title", sizeof(out)) == 0);
	CHECK(query_rc(NULL, "title", sizeof(out)) == 0);
	CHECK(query_rc("limit=5", "title", sizeof(out)) == 0);
	CHECK(query_rc("titles=5", "title", sizeof(out)) == 0);
	CHECK(query_rc("xtitle=5", "title", sizeof(out)) == 0);
	CHECK(query_rc("Title=5", "title", sizeof(out)) == 0);
	CHECK(query_rc("tit", "title", sizeof(out)) == 0);
	/* a malformed parameter that is not the one asked for does not matter */
	CHECK(query_is("x=%zz&title=ok", "title", "ok"));

	/* bad escapes */
	CHECK(query_rc("title=%", "title", sizeof(out)) == -1);
	CHECK(query_rc("title=abc%", "title", sizeof(out)) == -1);
	CHECK(query_rc("title=%4", "title", sizeof(out)) == -1);
	CHECK(query_rc("title=%4&x=1", "title", sizeof(out)) == -1);
	CHECK(query_rc("title=%G1", "title", sizeof(out)) == -1);
	CHECK(query_rc("title=%4G", "title", sizeof(out)) == -1);
	CHECK(query_rc("title=%%41", "title", sizeof(out)) == -1);
	CHECK(query_rc("title=% 1", "title", sizeof(out)) == -1);
	/* %00 would cut the C string short and silently change the value: refused */
	CHECK(query_rc("title=%00", "title", sizeof(out)) == -1);
	CHECK(query_rc("title=a%00b", "title", sizeof(out)) == -1);

	/* the output buffer: value plus NUL must fit */
	CHECK(query_rc("title=abc", "title", 4) == 1);
	CHECK(query_rc("title=abcd", "title", 4) == -1);
	CHECK(query_rc("title=%41%42%43", "title", 4) == 1);
	CHECK(query_rc("title=%41%42%43%44", "title", 4) == -1);
	CHECK(query_rc("title=a+b", "title", 4) == 1);
	CHECK(query_rc("title=a+b+", "title", 4) == -1);
	CHECK(query_rc("title=", "title", 1) == 1);
	CHECK(query_rc("title", "title", 1) == 1);
	CHECK(query_rc("title=a", "title", 1) == -1);
	CHECK(query_rc("title=a", "title", 2) == 1);
	{
		char big[400];

		memset(big, 'x', sizeof(big));
		memcpy(big, "title=", 6);
		big[sizeof(big) - 1] = '\0';
		CHECK(query_rc(big, "title", 256) == -1);
		/* a 393-byte value */
		CHECK(query_rc(big, "title", 394) == 1);
		CHECK(query_rc(big, "title", 393) == -1);
	}
}

static void test_require_json(void)
{
	static const struct { const char *ct; int want; } cases[] = {
		{ "CONTENT_TYPE=application/json", 0 },
		{ "CONTENT_TYPE=application/json; charset=utf-8", 0 },
		{ "CONTENT_TYPE=application/json;charset=UTF-8", 0 },
		{ "CONTENT_TYPE=Application/JSON", 0 },
		{ "CONTENT_TYPE= application/json ", 0 },
		{ "CONTENT_TYPE=application/json ; charset=utf-8", 0 },
		{ "CONTENT_TYPE=", 415 },
		{ NULL, 415 },
		{ "CONTENT_TYPE=text/plain", 415 },
		{ "CONTENT_TYPE=application/x-www-form-urlencoded", 415 },
		{ "CONTENT_TYPE=application/jsonp", 415 },
		{ "CONTENT_TYPE=application/json-seq", 415 },
		{ "CONTENT_TYPE=application/problem+json", 415 },
		{ "CONTENT_TYPE=text/json", 415 },
		{ "CONTENT_TYPE=application", 415 },
		{ "CONTENT_TYPE=application/json,text/plain", 415 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *env[] = { (char *)cases[i].ct, NULL };
		struct http_req r = { env, NULL, NULL };
		int got = http_require_json(&r);

		if (got != cases[i].want)
			printf("  %s: %d, want %d\n", cases[i].ct ? cases[i].ct : "(none)", got,
			       cases[i].want);
		CHECK(got == cases[i].want);
	}
}

/* Points stdin at a file holding data[0..len). */
static void stdin_from(const char *data, size_t len)
{
	char path[] = "/tmp/test_http_helpers.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		die("mkstemp");
	if (write(fd, data, len) != (ssize_t)len)
		die("write");
	close(fd);
	if (freopen(path, "rb", stdin) == NULL)
		die("freopen");
	unlink(path);
}

static int read_body(const char *cl, const char *data, size_t len, size_t max, char **body,
		     size_t *blen)
{
	char *env[] = { (char *)cl, NULL };
	struct http_req r = { env, NULL, NULL };

	stdin_from(data, len);
	return http_read_body(&r, max, body, blen);
}

static void test_read_body(void)
{
	char *body;
	size_t len;

	CHECK(read_body("CONTENT_LENGTH=5", "hello", 5, 64, &body, &len) == 0);
	CHECK(body != NULL && len == 5 && memcmp(body, "hello", 6) == 0);
	free(body);

	/* only Content-Length bytes are read */
	CHECK(read_body("CONTENT_LENGTH=3", "hello", 5, 64, &body, &len) == 0);
	CHECK(body != NULL && len == 3 && strcmp(body, "hel") == 0);
	free(body);

	/* bytes are bytes: a NUL inside is kept and counted */
	CHECK(read_body("CONTENT_LENGTH=3", "a\0b", 3, 64, &body, &len) == 0);
	CHECK(body != NULL && len == 3 && memcmp(body, "a\0b\0", 4) == 0);
	free(body);

	CHECK(read_body(NULL, "", 0, 64, &body, &len) == 0);
	CHECK(body != NULL && len == 0 && body[0] == '\0');
	free(body);
	CHECK(read_body("CONTENT_LENGTH=0", "", 0, 64, &body, &len) == 0);
	CHECK(len == 0);
	free(body);

	/* exactly the limit passes, one more byte is 413 without reading */
	CHECK(read_body("CONTENT_LENGTH=4", "abcd", 4, 4, &body, &len) == 0);
	free(body);
	CHECK(read_body("CONTENT_LENGTH=5", "abcde", 5, 4, &body, &len) == 413);
	CHECK(body == NULL && len == 0);
	CHECK(read_body("CONTENT_LENGTH=18446744073709551615", "", 0, 65536, &body, &len) == 413);
	CHECK(body == NULL);

	/* malformed lengths */
	CHECK(read_body("CONTENT_LENGTH=abc", "", 0, 64, &body, &len) == 400);
	CHECK(body == NULL);
	CHECK(read_body("CONTENT_LENGTH=-1", "", 0, 64, &body, &len) == 400);
	CHECK(read_body("CONTENT_LENGTH=+1", "x", 1, 64, &body, &len) == 400);
	CHECK(read_body("CONTENT_LENGTH= 1", "x", 1, 64, &body, &len) == 400);
	CHECK(read_body("CONTENT_LENGTH=1x", "x", 1, 64, &body, &len) == 400);
	CHECK(read_body("CONTENT_LENGTH=1 ", "x", 1, 64, &body, &len) == 400);
	CHECK(read_body("CONTENT_LENGTH=99999999999999999999999", "", 0, 64, &body, &len) == 400);
	/* the client sent less than it announced */
	CHECK(read_body("CONTENT_LENGTH=10", "short", 5, 64, &body, &len) == 400);
	CHECK(body == NULL);
}

/* Runs fn with stdout captured; returns what it wrote (free it), its size in *len. */
static char *capture(void (*fn)(const struct http_req *), const struct http_req *r, size_t *len)
{
	char path[] = "/tmp/test_http_helpers.XXXXXX";
	int fd = mkstemp(path), saved;
	char *buf;
	off_t size;

	if (fd < 0)
		die("mkstemp");
	unlink(path);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(fd, STDOUT_FILENO) < 0)
		die("dup");
	fn(r);
	fflush(stdout);
	if (dup2(saved, STDOUT_FILENO) < 0)
		die("dup2");
	close(saved);
	size = lseek(fd, 0, SEEK_END);
	buf = malloc((size_t)size + 1);
	if (size < 0 || buf == NULL || pread(fd, buf, (size_t)size, 0) != (ssize_t)size)
		die("read back");
	buf[size] = '\0';
	close(fd);
	*len = (size_t)size;
	return buf;
}

/* The value of header name in a CGI reply (head ends at the blank line), or NULL. */
static char *reply_header(const char *reply, const char *name, char *out, size_t outsize)
{
	const char *end = strstr(reply, "\r\n\r\n");
	size_t nlen = strlen(name);

	for (const char *p = reply; p != NULL && end != NULL && p < end;) {
		const char *eol = strstr(p, "\r\n");

		if (strncmp(p, name, nlen) == 0 && p[nlen] == ':' && p[nlen + 1] == ' ') {
			size_t vlen = (size_t)(eol - p) - nlen - 2;

			if (vlen >= outsize)
				return NULL;
			memcpy(out, p + nlen + 2, vlen);
			out[vlen] = '\0';
			return out;
		}
		p = eol ? eol + 2 : NULL;
	}
	return NULL;
}

static const char *reply_body(const char *reply)
{
	const char *end = strstr(reply, "\r\n\r\n");

	return end ? end + 4 : NULL;
}

static void send_problem_404(const struct http_req *r)
{
	http_problem(r, 404, NULL, NULL, "no movie with id 7");
}

static void send_problem_field(const struct http_req *r)
{
	http_problem(r, 400, NULL, "title", "title must be a \"string\" </script>");
}

static void send_problem_405(const struct http_req *r)
{
	http_problem(r, 405, "Allow: GET, HEAD, POST, DELETE\r\n", NULL, "PATCH is not supported");
}

/* A problem with members of its own, as the health checks send. */
static void send_problem_members(const struct http_req *r)
{
	struct http_body b;

	http_problem_begin(&b, r, 503, "Retry-After: 1\r\n", "down: \"queue\"");
	http_body_add_str(&b, ",\"down\":[\"queue\"]");
	http_problem_end(&b);
}

static void send_created(const struct http_req *r)
{
	struct http_body b;

	http_body_begin(&b, r, 201, "application/json", "Location: /api/movies/7\r\n");
	http_body_add_str(&b, "{\"id\":");
	http_body_add_int(&b, 7);
	http_body_add_str(&b, "}");
	http_body_end(&b);
}

static void test_problem(void)
{
	char *env[] = { "REQUEST_METHOD=GET", NULL };
	struct http_req r = { env, NULL, NULL };
	char h[256], *out;
	const char *body;
	json_object *o, *v;
	size_t len;

	out = capture(send_problem_404, &r, &len);
	CHECK(strncmp(out, "Status: 404 Not Found\r\n", 23) == 0);
	CHECK(reply_header(out, "Content-Type", h, sizeof(h)) &&
	      strcmp(h, "application/problem+json") == 0);
	body = reply_body(out);
	CHECK(body != NULL);
	if (body == NULL) {
		free(out);
		return;
	}
	CHECK(reply_header(out, "Content-Length", h, sizeof(h)) &&
	      strtoul(h, NULL, 10) == strlen(body) && strlen(body) == len - (size_t)(body - out));
	CHECK(reply_header(out, "X-Request-Id", h, sizeof(h)) == NULL);
	CHECK(strcmp(body, "{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404,"
		      "\"detail\":\"no movie with id 7\"}") == 0);
	o = json_tokener_parse(body);
	CHECK(o != NULL && json_object_is_type(o, json_type_object));
	CHECK(json_object_object_get_ex(o, "type", &v) &&
	      strcmp(json_object_get_string(v), "about:blank") == 0);
	CHECK(json_object_object_get_ex(o, "title", &v) &&
	      strcmp(json_object_get_string(v), "Not Found") == 0);
	CHECK(json_object_object_get_ex(o, "status", &v) &&
	      json_object_is_type(v, json_type_int) && json_object_get_int(v) == 404);
	CHECK(json_object_object_get_ex(o, "detail", &v) &&
	      strcmp(json_object_get_string(v), "no movie with id 7") == 0);
	CHECK(!json_object_object_get_ex(o, "field", NULL));
	json_object_put(o);
	free(out);

	/* field, and a detail that needs escaping */
	out = capture(send_problem_field, &r, &len);
	CHECK(strncmp(out, "Status: 400 Bad Request\r\n", 25) == 0);
	body = reply_body(out);
	CHECK(body && strcmp(body, "{\"type\":\"about:blank\",\"title\":\"Bad Request\","
			     "\"status\":400,\"detail\":\"title must be a \\\"string\\\" </script>\","
			     "\"field\":\"title\"}") == 0);
	o = body ? json_tokener_parse(body) : NULL;
	CHECK(o != NULL);
	CHECK(o && json_object_object_get_ex(o, "field", &v) &&
	      strcmp(json_object_get_string(v), "title") == 0);
	CHECK(o && json_object_object_get_ex(o, "detail", &v) &&
	      strcmp(json_object_get_string(v), "title must be a \"string\" </script>") == 0);
	CHECK(o && json_object_object_get_ex(o, "status", &v) && json_object_get_int(v) == 400);
	json_object_put(o);
	free(out);

	/* extra headers come through */
	out = capture(send_problem_405, &r, &len);
	CHECK(strncmp(out, "Status: 405 Method Not Allowed\r\n", 32) == 0);
	CHECK(reply_header(out, "Allow", h, sizeof(h)) &&
	      strcmp(h, "GET, HEAD, POST, DELETE") == 0);
	free(out);

	/* begin and end around members of the caller's own */
	out = capture(send_problem_members, &r, &len);
	CHECK(strncmp(out, "Status: 503 Service Unavailable\r\n", 33) == 0);
	CHECK(reply_header(out, "Content-Type", h, sizeof(h)) &&
	      strcmp(h, "application/problem+json") == 0);
	CHECK(reply_header(out, "Retry-After", h, sizeof(h)) && strcmp(h, "1") == 0);
	body = reply_body(out);
	CHECK(body && strcmp(body, "{\"type\":\"about:blank\",\"title\":\"Service Unavailable\","
			     "\"status\":503,\"detail\":\"down: \\\"queue\\\"\","
			     "\"down\":[\"queue\"]}") == 0);
	CHECK(reply_header(out, "Content-Length", h, sizeof(h)) && body &&
	      strtoul(h, NULL, 10) == strlen(body));
	free(out);
}

/* capture() inside a request, as fcgi_server serves one: under its request id. */
static char *capture_request(void (*fn)(const struct http_req *), const struct http_req *r,
			     size_t *len)
{
	char *out;

	request_id_begin(http_param(r, "HTTP_X_REQUEST_ID"));
	out = capture(fn, r, len);
	request_id_end();
	return out;
}

/* 1 when the reply's X-Request-Id is a fresh id: 32 lowercase hex digits. */
static int fresh_request_id(const char *out)
{
	char h[256];

	if (!reply_header(out, "X-Request-Id", h, sizeof(h)) ||
	    strlen(h) != REQUEST_ID_FRESH_LEN)
		return 0;
	return strspn(h, "0123456789abcdef") == REQUEST_ID_FRESH_LEN;
}

/* What log_info writes to stderr, read back from a temporary file. */
static void capture_log(const char *msg, char *out, size_t size)
{
	char path[] = "/tmp/test_http_helpers_log.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	if (fd < 0 || saved < 0 || dup2(fd, 2) < 0)
		die("capture_log");
	log_info("%s", msg);
	if (dup2(saved, 2) < 0 || lseek(fd, 0, SEEK_SET) != 0)
		die("capture_log");
	n = read(fd, out, size - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	close(saved);
	unlink(path);
}

static void test_request_id(void)
{
	char line[512];

	char a[REQUEST_ID_FRESH_LEN + 1], b[REQUEST_ID_FRESH_LEN + 1];

	CHECK(request_id_valid("req-42_a.B:c", 12));
	CHECK(!request_id_valid("", 0) && !request_id_valid("a b", 3));
	CHECK(!request_id_valid("\xc3\xa9", 2));
	CHECK(request_id_generate(a) == 0 && request_id_generate(b) == 0);
	CHECK(strlen(a) == REQUEST_ID_FRESH_LEN && strcmp(a, b) != 0);
	CHECK(request_id_current()[0] == '\0');
	request_id_begin("client-7");
	CHECK(strcmp(request_id_current(), "client-7") == 0);
	request_id_end();
	CHECK(request_id_current()[0] == '\0');
	request_id_begin("bad id");
	CHECK(strlen(request_id_current()) == REQUEST_ID_FRESH_LEN);
	request_id_set("a\tb");
	CHECK(request_id_current()[0] == '\0');
	request_id_set("order-9");
	CHECK(strcmp(request_id_current(), "order-9") == 0);
	/* every log line written meanwhile names the request */
	capture_log("stored", line, sizeof(line));
	CHECK(strstr(line, " info: rid=order-9 stored\n") != NULL);
	request_id_end();
	capture_log("idle", line, sizeof(line));
	CHECK(strstr(line, " info: idle\n") != NULL);
}

static void test_send(void)
{
	char *get_env[] = { "REQUEST_METHOD=GET", "HTTP_X_REQUEST_ID=req-42_a.B:c", NULL };
	char *head_env[] = { "REQUEST_METHOD=HEAD", NULL };
	struct http_req r = { get_env, NULL, NULL };
	char h[256], *out;
	size_t len;

	out = capture_request(send_created, &r, &len);
	CHECK(strncmp(out, "Status: 201 Created\r\n", 21) == 0);
	CHECK(reply_header(out, "Location", h, sizeof(h)) && strcmp(h, "/api/movies/7") == 0);
	CHECK(reply_header(out, "X-Request-Id", h, sizeof(h)) &&
	      strcmp(h, "req-42_a.B:c") == 0);
	CHECK(reply_header(out, "Content-Length", h, sizeof(h)) && strcmp(h, "8") == 0);
	CHECK(reply_body(out) && strcmp(reply_body(out), "{\"id\":7}") == 0);
	free(out);

	/* HEAD: the same head, no body */
	r.envp = head_env;
	out = capture_request(send_created, &r, &len);
	CHECK(strncmp(out, "Status: 201 Created\r\n", 21) == 0);
	CHECK(reply_header(out, "Content-Length", h, sizeof(h)) && strcmp(h, "8") == 0);
	CHECK(reply_body(out) && reply_body(out)[0] == '\0');
	free(out);

	/* no request id: a fresh one */
	r.envp = head_env;
	out = capture_request(send_created, &r, &len);
	CHECK(fresh_request_id(out));
	free(out);

	/* request ids that could split headers or are too long are replaced by fresh ones */
	{
		static const char *bad[] = {
			"HTTP_X_REQUEST_ID=a b", "HTTP_X_REQUEST_ID=a\r\nSet-Cookie: x=1",
			"HTTP_X_REQUEST_ID=a\tb", "HTTP_X_REQUEST_ID=\xc3\xa9", "HTTP_X_REQUEST_ID=",
		};
		char *env[] = { "REQUEST_METHOD=GET", NULL, NULL };

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			env[1] = (char *)bad[i];
			r.envp = env;
			out = capture_request(send_created, &r, &len);
			CHECK(fresh_request_id(out));
			CHECK(strstr(out, "Set-Cookie") == NULL);
			free(out);
		}
	}
	{
		char id[160], *env[] = { "REQUEST_METHOD=GET", id, NULL };
		size_t pre = strlen("HTTP_X_REQUEST_ID=");

		r.envp = env;
		memcpy(id, "HTTP_X_REQUEST_ID=", pre);
		memset(id + pre, 'r', 128);
		id[pre + 128] = '\0';
		out = capture_request(send_created, &r, &len);
		CHECK(reply_header(out, "X-Request-Id", h, sizeof(h)) && strlen(h) == 128);
		free(out);
		id[pre + 128] = 'r';
		id[pre + 129] = '\0';
		out = capture_request(send_created, &r, &len);
		CHECK(fresh_request_id(out));
		free(out);
	}
}

static void send_escaped(const struct http_req *r)
{
	static const char raw[] = "a\"b\\c\n\r\t\b\f\x01\x1f/\xc3\xa9 end";
	struct http_body b;

	http_body_begin(&b, r, 200, "application/json", NULL);
	http_body_add_json_string(&b, raw, sizeof(raw) - 1);
	http_body_end(&b);
}

/* 40,000 bytes in 4-byte pieces: more than the body buffer, so it streams. */
static void send_large(const struct http_req *r)
{
	struct http_body b;

	http_body_begin(&b, r, 200, "application/json", NULL);
	for (int i = 0; i < 10000; i++)
		http_body_add(&b, "abcd", 4);
	http_body_end(&b);
}

static void test_body(void)
{
	char *get_env[] = { "REQUEST_METHOD=GET", NULL };
	char *head_env[] = { "REQUEST_METHOD=HEAD", NULL };
	struct http_req r = { get_env, NULL, NULL };
	const char *body;
	char h[64], *out;
	size_t len;

	/* a body that fits the buffer keeps its Content-Length */
	out = capture(send_escaped, &r, &len);
	body = reply_body(out);
	CHECK(body && strcmp(body, "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f/\xc3\xa9 end\"") == 0);
	CHECK(reply_header(out, "Content-Length", h, sizeof(h)) &&
	      (size_t)atoi(h) == strlen(body));
	free(out);

	/* a larger one streams whole, without Content-Length */
	out = capture(send_large, &r, &len);
	body = reply_body(out);
	CHECK(body && strlen(body) == 40000 && strncmp(body + 39996, "abcd", 4) == 0);
	CHECK(reply_header(out, "Content-Length", h, sizeof(h)) == NULL);
	CHECK(strncmp(out, "Status: 200 OK\r\n", 16) == 0);
	free(out);

	/* HEAD: headers only, even when the body would have streamed */
	r.envp = head_env;
	out = capture(send_large, &r, &len);
	CHECK(reply_body(out) && reply_body(out)[0] == '\0');
	free(out);
}

static json_object *json_body_root;
static int json_body_status;

static void read_json_body(const struct http_req *r)
{
	json_body_status = json_body_read(r, 1024, &json_body_root);
}

/* Runs json_body_read (limit 1 KB) on data; returns its status and what it sent in *reply. */
static int json_body(const char *content_type, const char *data, size_t len, char **reply)
{
	char cl[48], *env[] = { "REQUEST_METHOD=POST", cl, (char *)content_type, NULL };
	struct http_req r = { env, NULL, NULL };
	size_t n;

	snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", len);
	stdin_from(data, len);
	*reply = capture(read_json_body, &r, &n);
	return json_body_status;
}

/* A problem reply with this status whose detail contains words. */
static int problem_says(const char *reply, int status, const char *words)
{
	char want[32];
	const char *body = reply_body(reply);
	json_object *o = body ? json_tokener_parse(body) : NULL, *v;
	int ok;

	snprintf(want, sizeof(want), "Status: %d ", status);
	ok = strncmp(reply, want, strlen(want)) == 0 && o != NULL &&
	     json_object_object_get_ex(o, "detail", &v) &&
	     strstr(json_object_get_string(v), words) != NULL;
	json_object_put(o);
	return ok;
}

static void test_json_body(void)
{
	static const char json_ct[] = "CONTENT_TYPE=application/json";
	char big[1100], *reply;
	json_object *v;

	/* an object: nothing sent, the object handed over */
	CHECK(json_body(json_ct, "{\"a\":[1]}", 9, &reply) == 0);
	CHECK(reply[0] == '\0' && json_body_root != NULL &&
	      json_object_object_get_ex(json_body_root, "a", &v));
	json_object_put(json_body_root);
	free(reply);

	/* each failure answers its own problem */
	CHECK(json_body("CONTENT_TYPE=text/plain", "{}", 2, &reply) == 415);
	CHECK(problem_says(reply, 415, "application/json"));
	free(reply);
	CHECK(json_body(NULL, "{}", 2, &reply) == 415);
	free(reply);
	memset(big, ' ', sizeof(big));
	CHECK(json_body(json_ct, big, 1025, &reply) == 413);
	CHECK(problem_says(reply, 413, "1 KB"));
	free(reply);
	CHECK(json_body(json_ct, "[1]", 3, &reply) == 400);
	CHECK(problem_says(reply, 400, "object"));
	free(reply);
	CHECK(json_body(json_ct, "{\"a\":", 5, &reply) == 400);
	CHECK(problem_says(reply, 400, "not valid JSON"));
	free(reply);
	CHECK(json_body(json_ct, "", 0, &reply) == 400);
	CHECK(problem_says(reply, 400, "empty"));
	free(reply);
}

static void test_reason_and_param(void)
{
	char *env[] = { "REQUEST_METHOD=PUT", "PATH_INFO=/7", "EMPTY=", NULL };
	struct http_req r = { env, NULL, NULL };

	CHECK(strcmp(http_reason(200), "OK") == 0);
	CHECK(strcmp(http_reason(404), "Not Found") == 0);
	CHECK(strcmp(http_reason(405), "Method Not Allowed") == 0);
	CHECK(strcmp(http_reason(413), "Content Too Large") == 0);
	CHECK(strcmp(http_reason(415), "Unsupported Media Type") == 0);
	CHECK(strcmp(http_reason(503), "Service Unavailable") == 0);
	CHECK(http_reason(299) != NULL);

	CHECK(strcmp(http_param(&r, "REQUEST_METHOD"), "PUT") == 0);
	CHECK(strcmp(http_param(&r, "PATH_INFO"), "/7") == 0);
	CHECK(strcmp(http_param(&r, "EMPTY"), "") == 0);
	CHECK(strcmp(http_param(&r, "QUERY_STRING"), "") == 0);
	CHECK(strcmp(http_param(&r, "REQUEST"), "") == 0);
}

int main(void)
{
	test_query_param();
	test_require_json();
	test_read_body();
	test_problem();
	test_request_id();
	test_send();
	test_body();
	test_json_body();
	test_reason_and_param();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
