/*
 * Unit tests for W3C trace context (common/trace_context.h): which traceparent values
 * are kept and which replaced, the version-00 form written, how tracestate is checked
 * and cut to its bound, and the thread's context a request runs under.
 * Prints "N passed, N failed" last; exits non-zero when anything failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/trace_context.h"

#include "check.h"

#define VALID "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
#define TRACE_HEX "4bf92f3577b34da6a3ce929d0e0e4736"

static int parses(const char *s)
{
	struct traceparent tp;

	return traceparent_parse(s, strlen(s), &tp) == 0;
}

/* 1 when s is a version-00 traceparent: 55 characters, lowercase hex and dashes. */
static int well_formed(const char *s)
{
	return strlen(s) == TRACEPARENT_LEN && strncmp(s, "00-", 3) == 0 && s[35] == '-' &&
	       s[52] == '-' && strspn(s + 3, "0123456789abcdef") == 32 &&
	       strspn(s + 36, "0123456789abcdef") == 16 && strspn(s + 53, "0123456789abcdef") == 2;
}

static void test_parse_valid(void)
{
	static const uint8_t trace[TRACE_ID_LEN] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d,
		0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
	static const uint8_t parent[TRACE_SPAN_ID_LEN] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9,
		0x02, 0xb7 };
	struct traceparent tp;
	char out[TRACEPARENT_LEN + 1];

	CHECK(traceparent_parse(VALID, strlen(VALID), &tp) == 0);
	CHECK(memcmp(tp.trace_id, trace, sizeof(trace)) == 0);
	CHECK(memcmp(tp.parent_id, parent, sizeof(parent)) == 0);
	CHECK(tp.flags == 0x01);
	traceparent_format(&tp, out);
	CHECK(strcmp(out, VALID) == 0);
	/* Flags are a bit field: unknown bits are kept. */
	CHECK(parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff"));
}

static void test_parse_invalid(void)
{
	CHECK(!parses(""));
	CHECK(!parses("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
	CHECK(!parses("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
	CHECK(!parses("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
	CHECK(!parses("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
	CHECK(!parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01"));
	CHECK(!parses("0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
	CHECK(!parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A"));
	CHECK(!parses("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"));     /* 54 */
	CHECK(!parses("00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01"));   /* 33 */
	CHECK(!parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01"));     /* 15 */
	CHECK(!parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"));
	CHECK(!parses("00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01"));
	CHECK(!parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7 01"));
	CHECK(!parses("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902g7-01"));
	CHECK(!parses(" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
	/* Version 00 has nothing after the flags. */
	CHECK(!parses(VALID "-"));
	CHECK(!parses(VALID "-extra"));
}

static void test_parse_future_version(void)
{
	struct traceparent tp;
	const char *later = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-more";
	char out[TRACEPARENT_LEN + 1];

	CHECK(parses("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
	CHECK(traceparent_parse(later, strlen(later), &tp) == 0 && tp.flags == 0x09);
	traceparent_format(&tp, out);
	CHECK(strcmp(out, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09") == 0);
	/* What follows the flags must start a new field. */
	CHECK(!parses("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"));
	CHECK(!parses("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"));
	CHECK(!parses("cc-00000000000000000000000000000000-00f067aa0ba902b7-01"));
}

/* 1 when tracestate_bound(in) writes want (and returns its length). */
static int bound_is(const char *in, const char *want)
{
	char out[TRACESTATE_MAX + 1];
	size_t n = tracestate_bound(in, out);

	if (n != strlen(want) || strcmp(out, want) != 0) {
		printf("  tracestate \"%.60s\": got \"%.60s\" (%lu), want \"%.60s\"\n", in, out,
		       (unsigned long)n, want);
		return 0;
	}
	return 1;
}

static void test_tracestate_checked(void)
{
	char many[40 * 8 + 1] = "";

	CHECK(bound_is("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
		       "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"));
	CHECK(bound_is(" rojo=1 ,\t, congo=2\t", "rojo=1,congo=2"));
	CHECK(bound_is("tenant1@vendor=x y,a_b-c*d/e=~!", "tenant1@vendor=x y,a_b-c*d/e=~!"));
	CHECK(bound_is("", ""));
	CHECK(bound_is(NULL, ""));
	CHECK(bound_is("Rojo=1", ""));          /* keys are lowercase */
	CHECK(bound_is("1abc=1", ""));          /* a simple key starts with a letter */
	CHECK(bound_is("rojo", ""));
	CHECK(bound_is("rojo=", ""));
	CHECK(bound_is("rojo=a=b", ""));
	CHECK(bound_is("rojo=1,rojo=2", ""));   /* a key twice */
	CHECK(bound_is("t@=1", "") && bound_is("@v=1", "") && bound_is("t@Vendor=1", ""));
	CHECK(bound_is("rojo=caf\xc3\xa9", ""));
	CHECK(bound_is("rojo=a\x01z", ""));
	for (int i = 0; i < 32; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%sk%d=v",
			 i ? "," : "", i);
	CHECK(bound_is(many, many));            /* 32 members: the most there may be */
	strcat(many, ",k32=v");
	CHECK(bound_is(many, ""));
}

static void test_tracestate_cut(void)
{
	char in[1200], want[TRACESTATE_MAX + 1], member[100];
	char long_member[200];

	/* 10 members of 60 characters: 609 in all; the last two go. */
	in[0] = want[0] = '\0';
	for (int i = 0; i < 10; i++) {
		snprintf(member, sizeof(member), "key%d=%0*d", i, 60 - 5, i);
		CHECK(strlen(member) == 60);
		snprintf(in + strlen(in), sizeof(in) - strlen(in), "%s%s", i ? "," : "", member);
		if (i < 8)
			snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s",
				 i ? "," : "", member);
	}
	CHECK(strlen(want) <= TRACESTATE_MAX);
	CHECK(bound_is(in, want));
	/* A member over 128 characters goes before any short one. */
	snprintf(long_member, sizeof(long_member), "big=%0*d", 150, 7);
	snprintf(in, sizeof(in), "%s,%s", long_member, want);
	CHECK(bound_is(in, want));
	/* Under the bound nothing is cut, long members included. */
	snprintf(in, sizeof(in), "%s,a=1", long_member);
	CHECK(bound_is(in, in));
}

static void test_thread_context(void)
{
	char first[TRACEPARENT_LEN + 1];

	CHECK(trace_context_traceparent()[0] == '\0' && trace_context_tracestate()[0] == '\0');

	/* A valid one: same trace and flags, a span of our own, its state kept. */
	trace_context_begin(VALID, "rojo=1");
	CHECK(well_formed(trace_context_traceparent()));
	CHECK(strncmp(trace_context_traceparent(), "00-" TRACE_HEX "-", 36) == 0);
	CHECK(strncmp(trace_context_traceparent() + 36, "00f067aa0ba902b7", 16) != 0);
	CHECK(strcmp(trace_context_traceparent() + 53, "01") == 0);
	CHECK(strcmp(trace_context_tracestate(), "rojo=1") == 0);
	trace_context_end();
	CHECK(trace_context_traceparent()[0] == '\0' && trace_context_tracestate()[0] == '\0');

	/* None, or an invalid one: a new trace, not sampled, and no state of another's. */
	trace_context_begin("", "rojo=1");
	CHECK(well_formed(trace_context_traceparent()));
	CHECK(strcmp(trace_context_traceparent() + 53, "00") == 0);
	CHECK(trace_context_tracestate()[0] == '\0');
	memcpy(first, trace_context_traceparent(), sizeof(first));
	trace_context_begin("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "rojo=1");
	CHECK(well_formed(trace_context_traceparent()));
	CHECK(strncmp(trace_context_traceparent() + 3, TRACE_HEX, 32) != 0);
	CHECK(strncmp(trace_context_traceparent() + 3, first + 3, 32) != 0);
	CHECK(trace_context_tracestate()[0] == '\0');
	trace_context_begin(NULL, NULL);
	CHECK(well_formed(trace_context_traceparent()));

	/* A later version is answered as 00. */
	trace_context_begin("cc-" TRACE_HEX "-00f067aa0ba902b7-01-more", NULL);
	CHECK(strncmp(trace_context_traceparent(), "00-" TRACE_HEX "-", 36) == 0);
	trace_context_end();

	/* A message's traceparent is taken as it is, or not at all. */
	trace_context_set(VALID);
	CHECK(strcmp(trace_context_traceparent(), VALID) == 0);
	trace_context_set("00-" TRACE_HEX "-0000000000000000-01");
	CHECK(trace_context_traceparent()[0] == '\0');
	trace_context_set(VALID "-x");
	CHECK(trace_context_traceparent()[0] == '\0');
	trace_context_set(NULL);
	CHECK(trace_context_traceparent()[0] == '\0');
	trace_context_end();
}

int main(void)
{
	test_parse_valid();
	test_parse_invalid();
	test_parse_future_version();
	test_tracestate_checked();
	test_tracestate_cut();
	test_thread_context();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
