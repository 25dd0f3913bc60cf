#include "trace_context.h"

#include <string.h>

#include "hex.h"
#include "token.h"

#define MEMBER_LONG 128   /* W3C: members over this are the first to go when cutting */

/* One per thread, like the request id: every worker serves one request at a time. */
static _Thread_local char current_parent[TRACEPARENT_LEN + 1];
static _Thread_local char current_state[TRACESTATE_MAX + 1];

/* Reads n lowercase hex digits of s into n / 2 bytes; -1 on anything else. */
static int lower_hex(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_digit_value(s[i]), lo = hex_digit_value(s[i + 1]);

		if (hi < 0 || lo < 0 || (s[i] >= 'A' && s[i] <= 'F') ||
		    (s[i + 1] >= 'A' && s[i + 1] <= 'F'))
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

int traceparent_parse(const char *s, size_t len, struct traceparent *out)
{
	uint8_t version;

	if (s == NULL || len < TRACEPARENT_LEN || lower_hex(s, 2, &version) != 0 ||
	    version == 0xff)
		return -1;
	/* Version 00 is exactly 55 characters; a later one may add fields after a dash. */
	if (len > TRACEPARENT_LEN && (version == 0 || s[TRACEPARENT_LEN] != '-'))
		return -1;
	if (s[2] != '-' || s[35] != '-' || s[52] != '-' ||
	    lower_hex(s + 3, 2 * TRACE_ID_LEN, out->trace_id) != 0 ||
	    lower_hex(s + 36, 2 * TRACE_SPAN_ID_LEN, out->parent_id) != 0 ||
	    lower_hex(s + 53, 2, &out->flags) != 0)
		return -1;
	if (all_zero(out->trace_id, TRACE_ID_LEN) || all_zero(out->parent_id, TRACE_SPAN_ID_LEN))
		return -1;
	return 0;
}

void traceparent_format(const struct traceparent *tp, char out[TRACEPARENT_LEN + 1])
{
	memcpy(out, "00-", 3);
	hex_encode(tp->trace_id, TRACE_ID_LEN, out + 3);
	out[35] = '-';
	hex_encode(tp->parent_id, TRACE_SPAN_ID_LEN, out + 36);
	out[52] = '-';
	hex_encode(&tp->flags, 1, out + 53);
	out[TRACEPARENT_LEN] = '\0';
}

static int lcalpha(char c)
{
	return c >= 'a' && c <= 'z';
}

static int key_char(char c)
{
	return lcalpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '*' ||
	       c == '/';
}

/* W3C's key: simple-key, or tenant-id "@" system-id. */
static int tracestate_key_valid(const char *k, size_t n)
{
	const char *at = memchr(k, '@', n);
	size_t head = at ? (size_t)(at - k) : n;

	if (head == 0 || !(lcalpha(k[0]) || (at && k[0] >= '0' && k[0] <= '9')))
		return 0;
	if (head > (at ? 241u : 256u))
		return 0;
	for (size_t i = 1; i < head; i++)
		if (!key_char(k[i]))
			return 0;
	if (at == NULL)
		return 1;
	k += head + 1;
	n -= head + 1;
	if (n == 0 || n > 14 || !lcalpha(k[0]))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!key_char(k[i]))
			return 0;
	return 1;
}

/* W3C's value: 1 to 256 printable ASCII characters but "," and "=", not ending in space. */
static int tracestate_value_valid(const char *v, size_t n)
{
	if (n == 0 || n > 256 || v[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e || v[i] == ',' || v[i] == '=')
			return 0;
	return 1;
}

struct member {
	const char *p;
	size_t len, key_len;
	int keep;
};

/* Splits s into members; the count, or -1 when one is invalid or there are too many. */
static int tracestate_split(const char *s, struct member m[TRACESTATE_MEMBERS_MAX])
{
	int n = 0;

	while (*s != '\0') {
		const char *end = strchr(s, ','), *eq;
		size_t len;

		if (end == NULL)
			end = s + strlen(s);
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		len = (size_t)(end - s);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len > 0) {
			eq = memchr(s, '=', len);
			if (n == TRACESTATE_MEMBERS_MAX || eq == NULL ||
			    !tracestate_key_valid(s, (size_t)(eq - s)) ||
			    !tracestate_value_valid(eq + 1, len - (size_t)(eq - s) - 1))
				return -1;
			m[n] = (struct member){ s, len, (size_t)(eq - s), 1 };
			for (int i = 0; i < n; i++)
				if (m[i].key_len == m[n].key_len &&
				    memcmp(m[i].p, s, m[n].key_len) == 0)
					return -1;
			n++;
		}
		s = *end ? end + 1 : end;
	}
	return n;
}

/* The length of the kept members joined by commas. */
static size_t joined_len(const struct member *m, int n)
{
	size_t len = 0;
	int kept = 0;

	for (int i = 0; i < n; i++)
		if (m[i].keep) {
			len += m[i].len;
			kept++;
		}
	return kept > 0 ? len + (size_t)kept - 1 : 0;
}

size_t tracestate_bound(const char *s, char out[TRACESTATE_MAX + 1])
{
	struct member m[TRACESTATE_MEMBERS_MAX];
	int n = s ? tracestate_split(s, m) : -1;
	size_t len = 0;

	out[0] = '\0';
	if (n <= 0)
		return 0;
	if (joined_len(m, n) > TRACESTATE_MAX)
		for (int i = 0; i < n; i++)
			if (m[i].len > MEMBER_LONG)
				m[i].keep = 0;
	for (int i = n - 1; i >= 0 && joined_len(m, n) > TRACESTATE_MAX; i--)
		m[i].keep = 0;
	for (int i = 0; i < n; i++) {
		if (!m[i].keep)
			continue;
		if (len > 0)
			out[len++] = ',';
		memcpy(out + len, m[i].p, m[i].len);
		len += m[i].len;
	}
	out[len] = '\0';
	return len;
}

/* Random bytes that are not all zero (W3C: an all-zero id is invalid). */
static int random_id(uint8_t *b, size_t n)
{
	if (token_random(b, n) != 0)
		return -1;
	if (all_zero(b, n))
		b[n - 1] = 1;
	return 0;
}

void trace_context_begin(const char *traceparent, const char *tracestate)
{
	struct traceparent tp;
	int joined = traceparent != NULL &&
		     traceparent_parse(traceparent, strlen(traceparent), &tp) == 0;

	current_parent[0] = current_state[0] = '\0';
	if (!joined) {
		tp.flags = 0;
		if (random_id(tp.trace_id, TRACE_ID_LEN) != 0)
			return;
	}
	if (random_id(tp.parent_id, TRACE_SPAN_ID_LEN) != 0)
		return;
	traceparent_format(&tp, current_parent);
	if (joined)     /* a new trace starts with no state: the old one was another trace's */
		tracestate_bound(tracestate, current_state);
}

void trace_context_set(const char *traceparent)
{
	struct traceparent tp;

	current_parent[0] = current_state[0] = '\0';
	if (traceparent != NULL && strlen(traceparent) == TRACEPARENT_LEN &&
	    traceparent_parse(traceparent, TRACEPARENT_LEN, &tp) == 0)
		memcpy(current_parent, traceparent, TRACEPARENT_LEN + 1);
}

void trace_context_end(void)
{
	current_parent[0] = current_state[0] = '\0';
}

const char *trace_context_traceparent(void)
{
	return current_parent;
}

const char *trace_context_tracestate(void)
{
	return current_state;
}
