/*
 * Unit tests for the database tier's health check: the parser of Patroni's GET /cluster
 * (a valid cluster, no leader, lag "unknown", junk, wrong types, too many members,
 * overlong or odd strings), the HTTP client (status and body, an oversized answer, a
 * peer that never answers, a refused connection) against a real loopback server this
 * test runs, and the check's up/down/unknown over HEALTH_DB_APIS. Prints "N passed, N
 * failed" last.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "billing/database_tier.h"
#include "billing/patroni_cluster.h"
#include "common/http_get.h"
#include "common/monotonic.h"

#include "check.h"

/* Three members as Patroni 3.0.2 lists them (patroni/utils.py cluster_as_json). */
static const char healthy[] =
	"{\"members\":["
	"{\"name\":\"db-vm-1\",\"role\":\"leader\",\"state\":\"running\",\"api_url\":"
	"\"http://10.0.0.16:8008/patroni\",\"host\":\"10.0.0.16\",\"port\":5432,\"timeline\":3,"
	"\"tags\":{\"nofailover\":false}},"
	"{\"name\":\"db-vm-2\",\"role\":\"sync_standby\",\"state\":\"streaming\",\"api_url\":"
	"\"http://10.0.0.17:8008/patroni\",\"host\":\"10.0.0.17\",\"port\":5432,\"timeline\":3,"
	"\"lag\":0},"
	"{\"name\":\"db-vm-3\",\"role\":\"replica\",\"state\":\"streaming\",\"api_url\":"
	"\"http://10.0.0.18:8008/patroni\",\"host\":\"10.0.0.18\",\"port\":5432,\"timeline\":3,"
	"\"lag\":4096}]}";

static int parse(const char *json, struct patroni_cluster *c, char *why, size_t why_size)
{
	return patroni_cluster_parse(json, strlen(json), c, why, why_size);
}

static void test_valid_cluster(void)
{
	struct patroni_cluster c;
	char why[160] = "";

	CHECK(parse(healthy, &c, why, sizeof(why)) == 0);
	CHECK(c.nmembers == 3);
	CHECK(strcmp(c.members[0].name, "db-vm-1") == 0 && c.members[0].role == PATRONI_PRIMARY);
	CHECK(strcmp(c.members[0].host, "10.0.0.16") == 0 && c.members[0].port == 5432);
	CHECK(c.members[0].lag_bytes == 0 && c.members[0].timeline == 3);
	CHECK(c.members[1].role == PATRONI_SYNC_STANDBY && c.members[1].lag_bytes == 0);
	CHECK(strcmp(c.members[1].state, "streaming") == 0);
	CHECK(c.members[2].role == PATRONI_REPLICA && c.members[2].lag_bytes == 4096);
	CHECK(patroni_cluster_primary(&c) == &c.members[0]);
	CHECK(strcmp(patroni_role_name(c.members[0].role), "primary") == 0);
	CHECK(strcmp(patroni_role_name(c.members[1].role), "sync_standby") == 0);
	CHECK(strcmp(patroni_role_name(PATRONI_OTHER_ROLE), "unknown") == 0);

	/* Optional fields absent: no host, port or timeline; lag "unknown"; an empty list. */
	CHECK(parse("{\"members\":[{\"name\":\"a\",\"role\":\"replica\",\"state\":\"stopped\","
		    "\"lag\":\"unknown\"},{\"name\":\"b\",\"role\":\"standby_leader\",\"state\":"
		    "\"\"}]}", &c, why, sizeof(why)) == 0);
	CHECK(c.nmembers == 2 && c.members[0].lag_bytes == -1 && c.members[0].timeline == -1);
	CHECK(c.members[0].host[0] == '\0' && c.members[0].port == 0);
	CHECK(c.members[1].role == PATRONI_OTHER_ROLE && c.members[1].lag_bytes == -1);
	CHECK(patroni_cluster_primary(&c) == NULL);
	CHECK(parse("{\"members\":[]}", &c, why, sizeof(why)) == 0 && c.nmembers == 0);
}

static void test_no_running_leader(void)
{
	struct patroni_cluster c;
	char why[160];

	/* A leader whose PostgreSQL is not running is no primary. */
	CHECK(parse("{\"members\":[{\"name\":\"a\",\"role\":\"leader\",\"state\":\"stopped\"},"
		    "{\"name\":\"b\",\"role\":\"replica\",\"state\":\"running\",\"lag\":7}]}",
		    &c, why, sizeof(why)) == 0);
	CHECK(patroni_cluster_primary(&c) == NULL);
	CHECK(parse("{\"members\":[{\"name\":\"b\",\"role\":\"replica\",\"state\":\"running\"}]}",
		    &c, why, sizeof(why)) == 0);
	CHECK(patroni_cluster_primary(&c) == NULL);
}

/* json is refused, and why mentions expect (and never the secret the junk holds). */
static void refused(const char *json, const char *expect)
{
	struct patroni_cluster c;
	char why[160] = "";
	int rc = parse(json, &c, why, sizeof(why));

	CHECK(rc == -1);
	CHECK(c.nmembers == 0);
	if (strstr(why, expect) == NULL)
		printf("  why was \"%s\", wanted \"%s\"\n", why, expect);
	CHECK(strstr(why, expect) != NULL);
	CHECK(strstr(why, "SECRET") == NULL);
}

static void test_junk(void)
{
	refused("", "not JSON");
	refused("SECRET", "not JSON");
	refused("{\"members\":[", "not JSON");
	refused("{\"members\":[]} trailing", "not JSON");
	refused("{\"members\":[],}", "not JSON");
	refused("\"\\u0000\"", "no \"members\"");
	refused("[]", "no \"members\"");
	refused("{}", "no \"members\"");
	refused("{\"members\":{}}", "no \"members\"");
	refused("{\"members\":null}", "no \"members\"");
	refused("{\"members\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}", "not JSON");
	CHECK(patroni_cluster_parse("{\"members\":[]}\0xx", 17, &(struct patroni_cluster){0},
				    (char[80]){0}, 80) == -1);
}

static void test_wrong_types(void)
{
	refused("{\"members\":[1]}", "member 0 is not an object");
	refused("{\"members\":[{\"role\":\"leader\",\"state\":\"running\"}]}", "member 0 has no name");
	refused("{\"members\":[{\"name\":7,\"role\":\"leader\"}]}", "name is not a string");
	refused("{\"members\":[{\"name\":\"a\"}]}", "member 0 has no role");
	refused("{\"members\":[{\"name\":\"a\",\"role\":\"leader\",\"state\":1}]}",
		"state is not a string");
	refused("{\"members\":[{\"name\":\"a\",\"role\":\"replica\",\"lag\":\"12\"}]}",
		"lag is not a number");
	refused("{\"members\":[{\"name\":\"a\",\"role\":\"replica\",\"lag\":-1}]}",
		"lag is not a number");
	refused("{\"members\":[{\"name\":\"a\",\"role\":\"replica\",\"lag\":1.5}]}",
		"lag is not a number");
	refused("{\"members\":[{\"name\":\"a\",\"role\":\"replica\",\"lag\":"
		"99999999999999999999}]}", "lag is not a number");
	refused("{\"members\":[{\"name\":\"a\",\"role\":\"replica\",\"port\":65536}]}",
		"port is not a number");
	refused("{\"members\":[{\"name\":\"a\",\"role\":\"replica\",\"timeline\":true}]}",
		"timeline is not a number");
	refused("{\"members\":[{\"name\":\"a\",\"role\":\"replica\",\"host\":[]}]}",
		"host is not a string");
}

static void test_too_many_members(void)
{
	char json[4096] = "{\"members\":[";

	for (int i = 0; i <= PATRONI_MEMBERS_MAX; i++)
		snprintf(json + strlen(json), sizeof(json) - strlen(json),
			 "%s{\"name\":\"m%d\",\"role\":\"replica\",\"state\":\"running\"}",
			 i > 0 ? "," : "", i);
	strcat(json, "]}");
	refused(json, "17 members, more than the 16");
}

static void test_strings(void)
{
	char json[512];
	char name[PATRONI_NAME_MAX + 2];
	struct patroni_cluster c;
	char why[160];

	memset(name, 'n', sizeof(name) - 1);
	name[PATRONI_NAME_MAX] = '\0';                    /* the longest accepted */
	snprintf(json, sizeof(json), "{\"members\":[{\"name\":\"%s\",\"role\":\"replica\"}]}", name);
	CHECK(parse(json, &c, why, sizeof(why)) == 0 && strlen(c.members[0].name) == PATRONI_NAME_MAX);
	name[PATRONI_NAME_MAX] = 'n';                     /* one more */
	name[PATRONI_NAME_MAX + 1] = '\0';
	snprintf(json, sizeof(json), "{\"members\":[{\"name\":\"%s\",\"role\":\"replica\"}]}", name);
	refused(json, "name is not 1 to 64 plain characters");
	refused("{\"members\":[{\"name\":\"\",\"role\":\"replica\"}]}", "name is not 1 to 64");
	refused("{\"members\":[{\"name\":\"<b>SECRET\",\"role\":\"replica\"}]}", "name is not");
	refused("{\"members\":[{\"name\":\"a\\u0000b\",\"role\":\"replica\"}]}", "name is not");
	refused("{\"members\":[{\"name\":\"a\\\"b\",\"role\":\"replica\"}]}", "name is not");
	refused("{\"members\":[{\"name\":\"a\",\"role\":\"replica\",\"state\":"
		"\"running and running and running!\"}]}", "state is not 0 to 32");
	refused("{\"members\":[{\"name\":\"a\",\"role\":\"replica\",\"host\":\"10.0.0.1/SECRET\"}]}",
		"host is not");
	refused("{\"members\":[{\"name\":\"\xff\",\"role\":\"replica\"}]}", "not JSON");
}

/* ---- A real HTTP peer on loopback ------------------------------------------------ */

struct peer {
	int listen_fd, port;
	const char *answer;      /* written after the request's head; NULL: say nothing */
	size_t answer_len;
	int connections;         /* how many to serve */
	pthread_t thread;
};

static void *serve(void *arg)
{
	struct peer *p = arg;

	for (int i = 0; i < p->connections; i++) {
		char head[2048];
		size_t len = 0;
		int fd = accept(p->listen_fd, NULL, NULL);

		if (fd < 0)
			return NULL;
		while (len < sizeof(head) - 1) {
			ssize_t n = read(fd, head + len, sizeof(head) - 1 - len);

			if (n <= 0)
				break;
			len += (size_t)n;
			head[len] = '\0';
			if (strstr(head, "\r\n\r\n") != NULL)
				break;
		}
		if (p->answer != NULL) {
			if (write(fd, p->answer, p->answer_len) < 0)
				perror("write");
		} else {
			char byte;

			(void)!read(fd, &byte, 1);   /* until the client gives up */
		}
		close(fd);
	}
	return NULL;
}

static int peer_start(struct peer *p, const char *answer, size_t len, int connections)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t salen = sizeof(sa);

	p->answer = answer;
	p->answer_len = len;
	p->connections = connections;
	p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(p->listen_fd, 8) != 0 ||
	    getsockname(p->listen_fd, (struct sockaddr *)&sa, &salen) != 0)
		return -1;
	p->port = ntohs(sa.sin_port);
	return pthread_create(&p->thread, NULL, serve, p) == 0 ? 0 : -1;
}

static void peer_stop(struct peer *p)
{
	pthread_join(p->thread, NULL);
	close(p->listen_fd);
}

static char *http_answer(int status, const char *body)
{
	size_t size = strlen(body) + 128;
	char *s = malloc(size);

	if (s != NULL)
		snprintf(s, size, "HTTP/1.0 %d X\r\nContent-Type: application/json\r\n\r\n%s",
			 status, body);
	return s;
}

static void test_http_get(void)
{
	struct http_get_answer a;
	struct peer p;
	char addr[32], why[160] = "", *ok = http_answer(200, healthy), *big;
	size_t big_len = HTTP_GET_BODY_MAX + 8192;
	long long t0;

	CHECK(ok != NULL && peer_start(&p, ok, strlen(ok), 1) == 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", p.port);
	CHECK(http_get(addr, "/cluster", 2000, &a, why, sizeof(why)) == 0);
	CHECK(a.status == 200 && a.body_len == strlen(healthy) && strcmp(a.body, healthy) == 0);
	http_get_answer_free(&a);
	peer_stop(&p);

	/* Larger than the bound: refused, not cut. */
	big = malloc(big_len);
	CHECK(big != NULL);
	memset(big, 'x', big_len);
	memcpy(big, "HTTP/1.1 200 OK\r\n\r\n", 19);
	CHECK(peer_start(&p, big, big_len, 1) == 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", p.port);
	CHECK(http_get(addr, "/cluster", 2000, &a, why, sizeof(why)) == -1);
	CHECK(strstr(why, "an answer over") != NULL && a.body == NULL);
	peer_stop(&p);

	/* Not HTTP. */
	CHECK(peer_start(&p, "SSH-2.0-x\r\n\r\n", 13, 1) == 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", p.port);
	CHECK(http_get(addr, "/cluster", 2000, &a, why, sizeof(why)) == -1);
	CHECK(strstr(why, "status line") != NULL);
	peer_stop(&p);

	/* A peer that never answers costs the timeout, not more. */
	CHECK(peer_start(&p, NULL, 0, 1) == 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", p.port);
	t0 = monotonic_ms();
	CHECK(http_get(addr, "/cluster", 300, &a, why, sizeof(why)) == -1);
	CHECK(monotonic_ms() - t0 >= 290 && monotonic_ms() - t0 < 1000);
	CHECK(strstr(why, "no answer in time") != NULL);
	peer_stop(&p);

	/* Nobody listening (the port just closed). */
	CHECK(http_get(addr, "/cluster", 300, &a, why, sizeof(why)) == -1);
	CHECK(strstr(why, "Connection refused") != NULL);
	CHECK(http_get("unix:/tmp/x", "/cluster", 300, &a, why, sizeof(why)) == -1);
	free(ok);
	free(big);
}

static void test_check(void)
{
	struct database_tier_result c;
	struct peer up, junk;
	char env[128], *ok = http_answer(200, healthy),
	     *leaderless = http_answer(200, "{\"members\":[{\"name\":\"a\",\"role\":\"replica\"}]}"),
	     *bad = http_answer(200, "{\"members\":7}");

	/* The first API refuses the connection, the second answers junk, the third well. */
	CHECK(peer_start(&junk, bad, strlen(bad), 1) == 0);
	CHECK(peer_start(&up, ok, strlen(ok), 1) == 0);
	snprintf(env, sizeof(env), "127.0.0.1:1,127.0.0.1:%d, 127.0.0.1:%d", junk.port, up.port);
	setenv("HEALTH_DB_APIS", env, 1);
	CHECK(database_tier_init() == 0 && database_tier_configured());
	database_tier_check(&c);
	CHECK(c.status == DATABASE_TIER_UP && c.cluster.nmembers == 3 && c.why[0] == '\0');
	snprintf(env, sizeof(env), "127.0.0.1:%d", up.port);
	CHECK(strcmp(c.source, env) == 0);
	peer_stop(&junk);
	peer_stop(&up);

	CHECK(peer_start(&up, leaderless, strlen(leaderless), 1) == 0);
	snprintf(env, sizeof(env), "127.0.0.1:%d", up.port);
	setenv("HEALTH_DB_APIS", env, 1);
	CHECK(database_tier_init() == 0);
	database_tier_check(&c);
	CHECK(c.status == DATABASE_TIER_DOWN && c.cluster.nmembers == 1);
	CHECK(strstr(c.why, "no running primary") != NULL);
	peer_stop(&up);

	/* Nobody answers: unknown, saying why. */
	database_tier_check(&c);
	CHECK(c.status == DATABASE_TIER_UNKNOWN && c.cluster.nmembers == 0);
	CHECK(strstr(c.why, "no Patroni REST API answered (1 of 1") != NULL);
	CHECK(strstr(c.why, "Connection refused") != NULL);

	setenv("HEALTH_DB_APIS", "", 1);
	CHECK(database_tier_init() == 0 && !database_tier_configured());
	setenv("HEALTH_DB_APIS", "a:1,b:2,c:3,d:4,e:5,f:6,g:7,h:8,i:9", 1);
	CHECK(database_tier_init() == -1);
	free(ok);
	free(leaderless);
	free(bad);
}

int main(void)
{
	test_valid_cluster();
	test_no_running_leader();
	test_junk();
	test_wrong_types();
	test_too_many_members();
	test_strings();
	test_http_get();
	test_check();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
