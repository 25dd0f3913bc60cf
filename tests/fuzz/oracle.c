#define _POSIX_C_SOURCE 200809L
#include "oracle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void oracle_check(int ok, const char *what, const char *file, int line, const void *data,
		  size_t size)
{
	if (ok)
		return;
	fprintf(stderr, "ORACLE FAILED %s:%d: %s\ninput (%lu bytes): %.*s\n", file, line, what,
		(unsigned long)size, size > 300 ? 300 : (int)size, (const char *)data);
	abort();
}

int oracle_utf8(const char *s, size_t len)
{
	/* RFC 3629, section 4: the first byte decides the range of the second */
	static const struct { unsigned char lo, hi, second_lo, second_hi, tail; } forms[] = {
		{ 0x00, 0x7F, 0, 0, 0 },       { 0xC2, 0xDF, 0x80, 0xBF, 1 },
		{ 0xE0, 0xE0, 0xA0, 0xBF, 2 }, { 0xE1, 0xEC, 0x80, 0xBF, 2 },
		{ 0xED, 0xED, 0x80, 0x9F, 2 }, { 0xEE, 0xEF, 0x80, 0xBF, 2 },
		{ 0xF0, 0xF0, 0x90, 0xBF, 3 }, { 0xF1, 0xF3, 0x80, 0xBF, 3 },
		{ 0xF4, 0xF4, 0x80, 0x8F, 3 },
	};
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		size_t f = 0, n = sizeof(forms) / sizeof(forms[0]);

		while (f < n && !(*p >= forms[f].lo && *p <= forms[f].hi))
			f++;
		if (f == n || (size_t)(end - p) <= forms[f].tail)
			return 0;
		if (forms[f].tail > 0 && (p[1] < forms[f].second_lo || p[1] > forms[f].second_hi))
			return 0;
		for (unsigned k = 2; k <= forms[f].tail; k++)
			if (p[k] < 0x80 || p[k] > 0xBF)
				return 0;
		p += 1 + forms[f].tail;
	}
	return 1;
}

/* ---- RFC 8259, read by a plain recursive descent over a cursor ---------------------- */

struct cursor {
	const unsigned char *at, *end;
	char *out;              /* where a string being decoded goes, or NULL */
	size_t outsize, outlen;
};

static int peek(const struct cursor *c)
{
	return c->at < c->end ? *c->at : -1;
}

static void blanks(struct cursor *c)
{
	while (peek(c) == ' ' || peek(c) == '\t' || peek(c) == '\n' || peek(c) == '\r')
		c->at++;
}

static void put(struct cursor *c, unsigned char b)
{
	if (c->out != NULL && c->outlen + 1 < c->outsize)
		c->out[c->outlen] = (char)b;
	c->outlen++;
}

static void emit(struct cursor *c, unsigned long cp)
{
	unsigned char b[4];
	size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;

	if (n == 1)
		b[0] = (unsigned char)cp;
	else {
		for (size_t k = n - 1; k > 0; k--, cp >>= 6)
			b[k] = (unsigned char)(0x80 | (cp & 0x3F));
		b[0] = (unsigned char)((0xF00 >> n) | cp);
	}
	for (size_t k = 0; k < n; k++)
		put(c, b[k]);
}

static long hex_unit(struct cursor *c)
{
	char digits[5] = { 0 };
	char *stop;

	if (c->end - c->at < 4)
		return -1;
	memcpy(digits, c->at, 4);
	for (int k = 0; k < 4; k++)
		if (strchr("0123456789abcdefABCDEF", digits[k]) == NULL || digits[k] == 0)
			return -1;
	c->at += 4;
	return strtol(digits, &stop, 16);
}

/* A string literal; its decoded bytes go to c->out when set (lone surrogates as U+FFFD). */
static int string_literal(struct cursor *c)
{
	static const char plain[] = "\"\\/bfnrt", meant[] = "\"\\/\b\f\n\r\t";

	if (peek(c) != '"')
		return 0;
	c->at++;
	for (;;) {
		int ch = peek(c);

		if (ch < 0x20)            /* the end, or a raw control character */
			return 0;
		c->at++;
		if (ch == '"')
			break;
		if (ch != '\\') {
			put(c, (unsigned char)ch);    /* UTF-8 passes through byte by byte */
			continue;
		}
		ch = peek(c);
		c->at++;
		if (ch == 'u') {
			long u = hex_unit(c), low;

			if (u < 0)
				return 0;
			if (u >= 0xD800 && u <= 0xDBFF && c->end - c->at >= 6 && c->at[0] == '\\' &&
			    c->at[1] == 'u') {
				const unsigned char *back = c->at;

				c->at += 2;
				low = hex_unit(c);
				if (low >= 0xDC00 && low <= 0xDFFF)
					u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
				else
					c->at = back;
			}
			emit(c, u >= 0xD800 && u <= 0xDFFF ? 0xFFFD : (unsigned long)u);
		} else if (ch > 0 && strchr(plain, ch) != NULL) {
			emit(c, (unsigned char)meant[strchr(plain, ch) - plain]);
		} else {
			return 0;
		}
	}
	return 1;
}

static int digits(struct cursor *c)
{
	const unsigned char *from = c->at;

	while (peek(c) >= '0' && peek(c) <= '9')
		c->at++;
	return c->at > from;
}

static int number_literal(struct cursor *c)
{
	if (peek(c) == '-')
		c->at++;
	if (peek(c) == '0')
		c->at++;
	else if (!digits(c))
		return 0;
	if (peek(c) == '.') {
		c->at++;
		if (!digits(c))
			return 0;
	}
	if (peek(c) == 'e' || peek(c) == 'E') {
		c->at++;
		if (peek(c) == '+' || peek(c) == '-')
			c->at++;
		if (!digits(c))
			return 0;
	}
	return 1;
}

static int word(struct cursor *c, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(c->end - c->at) < n || memcmp(c->at, w, n) != 0)
		return 0;
	c->at += n;
	return 1;
}

static int any_value(struct cursor *c, int depth);

/* The members or elements after '{' or '[' up to close. */
static int sequence(struct cursor *c, int depth, int close)
{
	c->at++;
	blanks(c);
	if (peek(c) == close) {
		c->at++;
		return 1;
	}
	for (;;) {
		if (close == '}') {
			if (!string_literal(c))
				return 0;
			blanks(c);
			if (peek(c) != ':')
				return 0;
			c->at++;
		}
		if (!any_value(c, depth + 1))
			return 0;
		blanks(c);
		if (peek(c) == close) {
			c->at++;
			return 1;
		}
		if (peek(c) != ',')
			return 0;
		c->at++;
		blanks(c);
	}
}

static int any_value(struct cursor *c, int depth)
{
	int ok;

	if (depth > 512)
		return 0;
	blanks(c);
	switch (peek(c)) {
	case '{': ok = sequence(c, depth, '}'); break;
	case '[': ok = sequence(c, depth, ']'); break;
	case '"': ok = string_literal(c); break;
	case 't': ok = word(c, "true"); break;
	case 'f': ok = word(c, "false"); break;
	case 'n': ok = word(c, "null"); break;
	default:  ok = number_literal(c); break;
	}
	blanks(c);
	return ok;
}

int oracle_json(const char *text, size_t len)
{
	struct cursor c = { (const unsigned char *)text, (const unsigned char *)text + len,
			    NULL, 0, 0 };

	return oracle_utf8(text, len) && any_value(&c, 0) && c.at == c.end;
}

int oracle_json_member(const char *text, size_t len, const char *name, char *out,
		       size_t outsize, size_t *outlen)
{
	struct cursor c = { (const unsigned char *)text, (const unsigned char *)text + len,
			    NULL, 0, 0 };
	char key[256];

	if (!oracle_json(text, len))
		return 0;
	blanks(&c);
	if (peek(&c) != '{')
		return 0;
	c.at++;
	blanks(&c);
	while (peek(&c) == '"') {
		c.out = key;
		c.outsize = sizeof(key);
		c.outlen = 0;
		string_literal(&c);
		key[c.outlen < sizeof(key) ? c.outlen : sizeof(key) - 1] = '\0';
		blanks(&c);
		c.at++;                 /* ':' */
		blanks(&c);
		if (strcmp(key, name) == 0 && c.outlen == strlen(name) && peek(&c) == '"') {
			c.out = out;
			c.outsize = outsize;
			c.outlen = 0;
			string_literal(&c);
			*outlen = c.outlen;
			if (c.outlen < outsize)
				out[c.outlen] = '\0';
			return 1;
		}
		c.out = NULL;
		any_value(&c, 1);
		if (peek(&c) == ',')
			c.at++;
		blanks(&c);
	}
	return 0;
}

/* ---- CGI replies ---------------------------------------------------------------------- */

int oracle_reply_parse(const char *buf, size_t len, struct oracle_reply *r)
{
	size_t i = 0;

	if (len < 8 || strncmp(buf, "Status: ", 8) != 0)
		return 0;
	for (;;) {
		size_t start = i;

		while (i < len && buf[i] != '\r' && buf[i] != '\n')
			i++;
		if (i + 1 >= len || buf[i] != '\r' || buf[i + 1] != '\n')
			return 0;       /* a bare CR or LF, or the head never ends */
		if (i == start)
			break;          /* the blank line */
		if (memchr(buf + start, ':', i - start) == NULL)
			return 0;
		i += 2;
	}
	r->head = buf;
	r->head_len = i;
	r->body = buf + i + 2;
	r->body_len = len - i - 2;
	return 1;
}

int oracle_reply_header(const struct oracle_reply *r, const char *name, char *out,
			size_t outsize)
{
	size_t n = strlen(name);
	const char *p = r->head, *end = r->head + r->head_len;

	while (p < end) {
		const char *eol = memchr(p, '\r', (size_t)(end - p));

		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > n + 1 && memcmp(p, name, n) == 0 && p[n] == ':' &&
		    p[n + 1] == ' ') {
			snprintf(out, outsize, "%.*s", (int)(eol - p - n - 2), p + n + 2);
			return 1;
		}
		p = eol + 2;
	}
	return 0;
}

/* ---- Capturing stdout ----------------------------------------------------------------- */

static FILE *real_stdout;
static char *captured;
static size_t captured_len;

void oracle_capture_begin(void)
{
	FILE *mem = open_memstream(&captured, &captured_len);

	if (mem == NULL)
		abort();
	real_stdout = stdout;
	stdout = mem;
}

void oracle_capture_end(char **buf, size_t *len)
{
	if (fclose(stdout) != 0)
		abort();
	stdout = real_stdout;
	*buf = captured;
	*len = captured_len;
	captured = NULL;
}
