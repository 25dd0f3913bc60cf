/*
 * Unit tests for the broker cluster settings: RABBITMQ_URL as a list of nodes (parsing,
 * the limits, no password in a refusal), the order in which a connection tries the nodes
 * (round-robin after a loss) and RABBITMQ_QUEUE_TYPE. Prints "N passed, N failed" last.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "billing/broker.h"
#include "billing/broker_endpoints.h"

#include "check.h"

static int endpoint_is(const struct broker_endpoints *e, int i, const char *host, int port,
		       const char *vhost)
{
	const struct amqp_connection_info *info = &e->list[i].info;

	return strcmp(info->host, host) == 0 && info->port == port &&
	       strcmp(info->vhost, vhost) == 0;
}

static void test_parse_list(void)
{
	struct broker_endpoints e;

	CHECK(broker_endpoints_parse(&e, "amqp://shop:pw@localhost:5672/") == 0);
	CHECK(e.count == 1 && endpoint_is(&e, 0, "localhost", 5672, "/"));
	broker_endpoints_free(&e);

	CHECK(broker_endpoints_parse(&e, "amqp://u:p@10.0.0.1:35671/,amqp://u:p@10.0.0.2:35672/"
					 "prod,amqp://u:p%2Cx@broker-3") == 0);
	CHECK(e.count == 3);
	CHECK(endpoint_is(&e, 0, "10.0.0.1", 35671, "/"));
	CHECK(endpoint_is(&e, 1, "10.0.0.2", 35672, "prod"));
	CHECK(endpoint_is(&e, 2, "broker-3", 5672, "/"));
	CHECK(strcmp(e.list[2].info.password, "p,x") == 0);  /* a comma in a password: %2C */
	broker_endpoints_free(&e);
	CHECK(e.count == 0);
}

/* A list of n copies of one URL. */
static char *repeated(int n)
{
	static const char url[] = "amqp://u:p@h:1/";
	char *s = malloc((size_t)n * sizeof(url) + 1);

	if (s == NULL)
		return NULL;
	s[0] = '\0';
	for (int i = 0; i < n; i++) {
		strcat(s, i > 0 ? "," : "");
		strcat(s, url);
	}
	return s;
}

static int parses(const char *urls)
{
	struct broker_endpoints e;
	int ok = broker_endpoints_parse(&e, urls) == 0;

	if (ok) {
		ok = e.count;
		broker_endpoints_free(&e);
	}
	return ok;
}

static void test_limits(void)
{
	char *most = repeated(BROKER_ENDPOINTS_MAX), *too_many = repeated(BROKER_ENDPOINTS_MAX + 1);

	CHECK(most != NULL && too_many != NULL);
	fprintf(stderr, "(the warnings below are expected)\n");
	CHECK(parses(most) == BROKER_ENDPOINTS_MAX);
	CHECK(!parses(too_many));
	CHECK(!parses(""));
	CHECK(!parses("amqp://h/,"));
	CHECK(!parses(",amqp://h/"));
	CHECK(!parses("amqp://a/,,amqp://b/"));
	CHECK(!parses("amqp://a/, amqp://b/"));
	CHECK(!parses("amqp://a/,amqps://b/"));
	CHECK(!parses("amqp://a/,http://b/"));
	free(most);
	free(too_many);
}

/* A refused entry is named by its place: its password never reaches the log. */
static void test_refusal_hides_password(void)
{
	char path[] = "/tmp/test_broker_endpoints.XXXXXX", text[512] = "";
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	ssize_t n = -1;

	CHECK(fd >= 0 && saved >= 0);
	if (fd < 0 || saved < 0)
		return;
	fflush(stderr);
	if (dup2(fd, STDERR_FILENO) >= 0) {
		CHECK(!parses("amqp://u:first-secret@a/,amqp://u:second-secret@b:port/"));
		fflush(stderr);
		dup2(saved, STDERR_FILENO);
		n = pread(fd, text, sizeof(text) - 1, 0);
	}
	CHECK(n > 0);
	text[n > 0 ? n : 0] = '\0';
	CHECK(strstr(text, "entry 2") != NULL);
	CHECK(strstr(text, "secret") == NULL);
	close(saved);
	close(fd);
	unlink(path);
}

/* Writes the order of a connect's tries as digits ("120") into out. */
static const char *order(const struct broker_rotation *r, int count, char *out)
{
	for (int i = 0; i < count; i++)
		out[i] = (char)('0' + broker_rotation_nth(r, count, i));
	out[count] = '\0';
	return out;
}

static void test_rotation(void)
{
	struct broker_rotation r;
	char buf[8];

	broker_rotation_init(&r);
	CHECK(strcmp(order(&r, 3, buf), "012") == 0);
	broker_rotation_lost(&r, 3);                 /* nothing was connected: nothing moves */
	CHECK(strcmp(order(&r, 3, buf), "012") == 0);
	broker_rotation_connected(&r, 0);
	CHECK(strcmp(order(&r, 3, buf), "012") == 0); /* a polite reconnect: the same node */
	broker_rotation_lost(&r, 3);
	CHECK(strcmp(order(&r, 3, buf), "120") == 0); /* the lost node is tried last */
	broker_rotation_connected(&r, 2);             /* node 1 did not answer either */
	broker_rotation_lost(&r, 3);
	CHECK(strcmp(order(&r, 3, buf), "012") == 0); /* round the list */
	broker_rotation_lost(&r, 3);                 /* no connect since: still after node 2 */
	CHECK(strcmp(order(&r, 3, buf), "012") == 0);

	broker_rotation_init(&r);                    /* one node: always that one */
	broker_rotation_connected(&r, 0);
	broker_rotation_lost(&r, 1);
	CHECK(strcmp(order(&r, 1, buf), "0") == 0);
}

static void test_queue_type(void)
{
	enum broker_queue_type t = BROKER_QUEUE_QUORUM;

	CHECK(broker_queue_type_parse("", &t) == 0 && t == BROKER_QUEUE_CLASSIC);
	CHECK(broker_queue_type_parse("quorum", &t) == 0 && t == BROKER_QUEUE_QUORUM);
	CHECK(broker_queue_type_parse("classic", &t) == 0 && t == BROKER_QUEUE_CLASSIC);
	CHECK(broker_queue_type_parse("Quorum", &t) != 0);
	CHECK(broker_queue_type_parse("stream", &t) != 0);
	CHECK(broker_queue_type_parse("classic ", &t) != 0);
}

/* broker_config_from_env with RABBITMQ_QUEUE_TYPE set to type (NULL: unset). */
static int config_from_env(const char *type, struct broker_config *cfg)
{
	int rc;

	if (type != NULL)
		setenv("RABBITMQ_QUEUE_TYPE", type, 1);
	else
		unsetenv("RABBITMQ_QUEUE_TYPE");
	rc = broker_config_from_env(cfg);
	if (rc == 0 && (cfg->endpoints.count != 2 || strcmp(cfg->dead_queue, "orders.dead") != 0))
		rc = -2;
	if (rc == 0)
		rc = cfg->queue_type == BROKER_QUEUE_QUORUM ? 1 : 0;
	if (rc >= 0 || rc == -2)
		broker_config_free(cfg);
	return rc;
}

static void test_config_from_env(void)
{
	struct broker_config cfg;

	setenv("RABBITMQ_URL", "amqp://u:p@a:1/,amqp://u:p@b:2/", 1);
	setenv("QUEUE_NAME", "orders", 1);
	CHECK(config_from_env(NULL, &cfg) == 0);
	CHECK(config_from_env("classic", &cfg) == 0);
	CHECK(config_from_env("quorum", &cfg) == 1);
	CHECK(config_from_env("quorm", &cfg) == -1);
}

int main(void)
{
	test_parse_list();
	test_limits();
	test_refusal_hides_password();
	test_rotation();
	test_queue_type();
	test_config_from_env();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
