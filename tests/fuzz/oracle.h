/*
 * What the fuzz targets check besides "no crash, no sanitizer error": an independent
 * reading of RFC 8259 and of UTF-8, written apart from fcgi/common/json_input.c so that
 * the two can disagree, and a reader of the CGI replies the programs write.
 */
#ifndef FUZZ_ORACLE_H
#define FUZZ_ORACLE_H

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry point, defined by each target. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts (a finding) with what failed and the input's first bytes. */
#define ORACLE(cond, data, size) oracle_check((cond), #cond, __FILE__, __LINE__, (data), (size))
void oracle_check(int ok, const char *what, const char *file, int line, const void *data,
		  size_t size);

/* 1 when s[0..len) is well-formed UTF-8 (RFC 3629's table; NUL allowed). */
int oracle_utf8(const char *s, size_t len);

/* 1 when text is one JSON value by RFC 8259, whitespace around it allowed. */
int oracle_json(const char *text, size_t len);

/*
 * The decoded value of the top-level member name, when text is a JSON object that has it
 * as a string: 1 with out[0..*outlen) (may hold NUL; NUL-terminated when it fits), else 0.
 */
int oracle_json_member(const char *text, size_t len, const char *name, char *out,
		       size_t outsize, size_t *outlen);

/*
 * A CGI reply as the programs write it: "Status: ...\r\n", header lines, "\r\n", body.
 * Returns 1 with the body's place, or 0 when the head is malformed (a bare CR or LF, a
 * header line without ": ", no blank line). header(name) finds a header's value.
 */
struct oracle_reply {
	const char *head;
	size_t head_len;
	const char *body;
	size_t body_len;
};
int oracle_reply_parse(const char *buf, size_t len, struct oracle_reply *r);
/* The value of header name (case-sensitive), NUL-terminated in out; 0 when absent. */
int oracle_reply_header(const struct oracle_reply *r, const char *name, char *out,
			size_t outsize);

/*
 * What a CGI-mode program writes to stdout between begin and end: stdout is swapped for a
 * memory stream. end returns the bytes (the caller frees *buf).
 */
void oracle_capture_begin(void);
void oracle_capture_end(char **buf, size_t *len);

#endif
