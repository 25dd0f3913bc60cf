/*
 * Unit tests for the small shared helpers of fcgi/common: socket addresses as settings
 * write them (address.h), an instance's own address (listener.h), hex digits (hex.h)
 * and the monotonic clock (monotonic.h).
 * Prints "N passed, N failed" last; exits non-zero when anything failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/address.h"
#include "common/hex.h"
#include "common/listener.h"
#include "common/monotonic.h"

#include "check.h"

/* 1 when text parses as TCP with exactly this host and port. */
static int tcp_is(const char *text, const char *host, const char *port)
{
	struct address a;
	char why[96] = "";

	if (address_parse(text, &a, why, sizeof(why)) != 0 || a.is_unix ||
	    strcmp(a.host, host) != 0 || strcmp(a.port, port) != 0) {
		printf("  %s: why \"%s\" host \"%s\" port \"%s\"\n", text, why, a.host, a.port);
		return 0;
	}
	return 1;
}

/* 1 when text parses as a unix socket at path. */
static int unix_is(const char *text, const char *path)
{
	struct address a;
	char why[96] = "";

	if (address_parse(text, &a, why, sizeof(why)) != 0 || !a.is_unix ||
	    strcmp(a.path, path) != 0) {
		printf("  %s: why \"%s\" path \"%s\"\n", text, why, a.path);
		return 0;
	}
	return 1;
}

/* 1 when text is refused with a reason that contains words. */
static int refused(const char *text, const char *words)
{
	struct address a;
	char why[96] = "";

	if (address_parse(text, &a, why, sizeof(why)) == 0 || strstr(why, words) == NULL) {
		printf("  %s: why \"%s\", expected a refusal saying \"%s\"\n", text, why, words);
		return 0;
	}
	return 1;
}

static void test_address(void)
{
	char path[200], host[300], why[96];
	struct address a;

	CHECK(tcp_is("127.0.0.1:9000", "127.0.0.1", "9000"));
	CHECK(tcp_is("inventory-1.internal:9000", "inventory-1.internal", "9000"));
	CHECK(tcp_is("[::1]:9000", "::1", "9000"));
	CHECK(tcp_is("[fe80::1%eth0]:9000", "fe80::1%eth0", "9000"));
	CHECK(tcp_is("::1:9000", "::1", "9000"));          /* the port follows the last ':' */
	CHECK(tcp_is("*:9000", "*", "9000"));              /* a listener's "every interface" */
	CHECK(tcp_is(":9000", "", "9000"));
	CHECK(tcp_is("[]:9000", "", "9000"));
	CHECK(tcp_is("localhost:http", "localhost", "http"));  /* a service name: getaddrinfo's */

	CHECK(unix_is("unix:/run/movies/inventory.sock", "/run/movies/inventory.sock"));
	CHECK(unix_is("unix:/run/movies/inventory.sock-0", "/run/movies/inventory.sock-0"));
	CHECK(unix_is("unix:relative.sock", "relative.sock"));
	CHECK(unix_is("unix:/a:b", "/a:b"));               /* a ':' in a path is the path's */
	memset(path, 'p', sizeof(path));
	memcpy(path, "unix:/", 6);
	path[5 + 107] = '\0';                               /* 107 bytes: the most that fits */
	CHECK(unix_is(path, path + 5));

	CHECK(refused("", "expected host:port"));
	CHECK(refused("localhost", "expected host:port"));
	CHECK(refused("/run/movies/inventory.sock", "expected host:port"));
	CHECK(refused("localhost:", "port is missing"));
	CHECK(refused("[::1]", "expected [v6]:port"));
	CHECK(refused("[::1:9000", "expected [v6]:port"));
	CHECK(refused("[::1]:", "port is missing"));
	CHECK(refused("host:123456789012345678901234567890123", "port is too long"));
	CHECK(refused("unix:", "path is missing"));
	path[5 + 107] = 'p';
	path[5 + 108] = '\0';                               /* 108 bytes: no room for the NUL */
	CHECK(refused(path, "path is too long"));
	memset(host, 'h', sizeof(host));
	memcpy(host + 256, ":80", 4);                       /* 256 bytes of host: too long */
	CHECK(refused(host, "host is too long"));
	memcpy(host + 255, ":80", 4);                       /* 255 bytes fit */
	CHECK(address_parse(host, &a, why, sizeof(why)) == 0 && strlen(a.host) == 255 &&
	      strcmp(a.port, "80") == 0);
}

/* 1 when instance n of addr listens on want. */
static int instance_is(const char *addr, int n, const char *want)
{
	char out[128];

	if (listener_instance_address(addr, n, out, sizeof(out)) != 0 || strcmp(out, want) != 0) {
		printf("  %s instance %d: \"%s\", want \"%s\"\n", addr, n, out, want);
		return 0;
	}
	return 1;
}

static void test_instance(void)
{
	char small[10];

	CHECK(listener_instance_parse(NULL) == 0);
	CHECK(listener_instance_parse("") == 0);
	CHECK(listener_instance_parse("0") == 0);
	CHECK(listener_instance_parse("1") == 1);
	CHECK(listener_instance_parse("17") == 17);
	CHECK(listener_instance_parse("999") == LISTENER_INSTANCE_MAX);
	CHECK(listener_instance_parse("1000") == -1);
	CHECK(listener_instance_parse("99999999999999999999") == -1);
	CHECK(listener_instance_parse("-1") == -1);
	CHECK(listener_instance_parse("+1") == -1);
	CHECK(listener_instance_parse(" 1") == -1);
	CHECK(listener_instance_parse("1 ") == -1);
	CHECK(listener_instance_parse("1a") == -1);
	CHECK(listener_instance_parse("0x1") == -1);
	CHECK(listener_instance_parse("\xd9\xa1") == -1);   /* ARABIC-INDIC DIGIT ONE */

	CHECK(instance_is("unix:/run/movies/inventory.sock", 0, "unix:/run/movies/inventory.sock-0"));
	CHECK(instance_is("unix:/run/movies/inventory.sock", 12, "unix:/run/movies/inventory.sock-12"));
	CHECK(instance_is("127.0.0.1:9000", 3, "127.0.0.1:9000"));      /* a shared port */
	CHECK(instance_is("[::1]:9000", 1, "[::1]:9000"));
	CHECK(listener_instance_address("unix:/a.sock", 1, small, sizeof(small)) == -1);
	CHECK(listener_instance_address("unix:/a", 1, small, sizeof(small)) == 0 &&
	      strcmp(small, "unix:/a-1") == 0);                          /* exactly fits */
}

static void test_hex(void)
{
	const uint8_t bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char out[2 * sizeof(bytes) + 2];

	memset(out, '#', sizeof(out));
	hex_encode(bytes, sizeof(bytes), out);
	CHECK(memcmp(out, "00017f80abff", 12) == 0);
	CHECK(out[12] == '#' && out[13] == '#');           /* exactly 2n digits, no NUL */
	hex_encode(bytes, 0, out);
	CHECK(out[0] == '0');                               /* nothing written for n = 0 */

	CHECK(hex_digit_value('0') == 0 && hex_digit_value('9') == 9);
	CHECK(hex_digit_value('a') == 10 && hex_digit_value('f') == 15);
	CHECK(hex_digit_value('A') == 10 && hex_digit_value('F') == 15);
	CHECK(hex_digit_value('g') == -1 && hex_digit_value('G') == -1);
	CHECK(hex_digit_value('/') == -1 && hex_digit_value(':') == -1);
	CHECK(hex_digit_value('@') == -1 && hex_digit_value('`') == -1);
	CHECK(hex_digit_value('\0') == -1 && hex_digit_value((char)0xc3) == -1);
}

static void test_monotonic(void)
{
	const struct timespec pause = { 0, 20 * 1000000L };
	long long before = monotonic_ms(), after;

	nanosleep(&pause, NULL);
	after = monotonic_ms();
	CHECK(before > 0);
	CHECK(after - before >= 20 && after - before < 5000);
}

int main(void)
{
	test_address();
	test_instance();
	test_hex();
	test_monotonic();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
