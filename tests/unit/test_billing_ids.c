/*
 * Unit tests for billing identities and configuration: message ids (client-chosen
 * and generated), how the consumer picks a message's id, and RABBITMQ_URL parsing
 * (the trailing-slash vhost trap). Prints "N passed, N failed" last.
 */
#include <stdio.h>
#include <string.h>

#include "billing/broker.h"
#include "billing/message_id.h"
#include "billing/order_batch.h"
#include "common/json_input.h"

#include "check.h"

static void test_message_id_valid(void)
{
	char id[MESSAGE_ID_MAX + 2];

	memset(id, 'k', sizeof(id));
	CHECK(message_id_valid("a", 1));
	CHECK(message_id_valid("order-42:\"x\"", 12));
	CHECK(message_id_valid(id, MESSAGE_ID_MAX));
	CHECK(!message_id_valid(id, MESSAGE_ID_MAX + 1));
	CHECK(!message_id_valid("", 0));
	CHECK(!message_id_valid("a b", 3));
	CHECK(!message_id_valid("a\tb", 3));
	CHECK(!message_id_valid("a\x7f", 2));
	CHECK(!message_id_valid("caf\xc3\xa9", 5));
	CHECK(!message_id_valid("a\0b", 3));
}

static int is_uuid_v4(const char *s)
{
	if (strlen(s) != 36 || s[14] != '4' || strchr("89ab", s[19]) == NULL)
		return 0;
	for (int i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : strchr("0123456789abcdef", s[i]) == NULL)
			return 0;
	}
	return 1;
}

static void test_message_id_generate(void)
{
	char a[MESSAGE_ID_UUID_LEN + 1], b[MESSAGE_ID_UUID_LEN + 1];

	CHECK(message_id_generate(a) == 0 && is_uuid_v4(a));
	CHECK(message_id_generate(b) == 0 && is_uuid_v4(b));
	CHECK(strcmp(a, b) != 0);
	CHECK(message_id_valid(a, strlen(a)));
}

/* Picks the id of a message with the given property (NULL: none) and body. */
static int pick(const char *property, const char *body, char *out)
{
	amqp_basic_properties_t p;
	const char *detail = NULL, *err;
	json_object *root = json_parse_object(body, strlen(body), &err);
	int rc;

	memset(&p, 0, sizeof(p));
	if (property != NULL) {
		p._flags = AMQP_BASIC_MESSAGE_ID_FLAG;
		p.message_id = amqp_cstring_bytes(property);
	}
	rc = order_batch_message_id(&p, root, out, &detail);
	json_object_put(root);
	return rc == 0 ? 0 : (detail != NULL ? -1 : -2);
}

static void test_consumer_message_id(void)
{
	char id[MESSAGE_ID_MAX + 1];

	CHECK(pick("prop-1", "{\"message_id\":\"body-1\"}", id) == 0 && strcmp(id, "prop-1") == 0);
	CHECK(pick(NULL, "{\"message_id\":\"body-1\"}", id) == 0 && strcmp(id, "body-1") == 0);
	CHECK(pick("", "{\"message_id\":\"body-1\"}", id) == 0 && strcmp(id, "body-1") == 0);
	CHECK(pick(NULL, "{\"user_id\":\"1\"}", id) == -1);
	CHECK(pick(NULL, "not json", id) == -1);
	CHECK(pick(NULL, "{\"message_id\":42}", id) == -1);
	CHECK(pick(NULL, "{\"message_id\":\"has space\"}", id) == -1);
	CHECK(pick("bad id", "{\"message_id\":\"body-1\"}", id) == -1);
}

/* Parses url and compares the parts the connection uses. */
static int url_gives(const char *url, const char *host, int port, const char *vhost,
		     const char *user, const char *password)
{
	struct broker_config cfg;
	const struct amqp_connection_info *info = &cfg.endpoints.list[0].info;
	int ok;

	if (broker_config_init(&cfg, url, "billing_queue", 1000) != 0) {
		printf("  %s: rejected\n", url);
		return 0;
	}
	ok = strcmp(info->host, host) == 0 && info->port == port &&
	     strcmp(info->vhost, vhost) == 0 && strcmp(info->user, user) == 0 &&
	     strcmp(info->password, password) == 0 &&
	     strcmp(cfg.dead_queue, "billing_queue.dead") == 0;
	if (!ok)
		printf("  %s: host %s port %d vhost \"%s\" user %s\n", url, info->host,
		       info->port, info->vhost, info->user);
	broker_config_free(&cfg);
	return ok;
}

static int config_fails(const char *url, const char *queue)
{
	struct broker_config cfg;

	if (broker_config_init(&cfg, url, queue, 1000) == 0) {
		broker_config_free(&cfg);
		return 0;
	}
	return 1;
}

static void test_broker_url(void)
{
	char long_queue[300];

	CHECK(url_gives("amqp://shop:pw@localhost:5672/", "localhost", 5672, "/", "shop", "pw"));
	CHECK(url_gives("amqp://shop:pw@localhost:5672", "localhost", 5672, "/", "shop", "pw"));
	CHECK(url_gives("amqp://shop:pw@localhost:5672/%2f", "localhost", 5672, "/", "shop", "pw"));
	CHECK(url_gives("amqp://u:p%40ss@rabbit/prod", "rabbit", 5672, "prod", "u", "p@ss"));
	CHECK(url_gives("amqp://h:25672/", "h", 25672, "/", "guest", "guest"));
	fprintf(stderr, "(the warnings below are expected)\n");
	CHECK(config_fails("http://localhost/", "billing_queue"));
	CHECK(config_fails("amqp://localhost:notaport/", "billing_queue"));
	CHECK(config_fails("amqps://localhost/", "billing_queue"));
	memset(long_queue, 'q', sizeof(long_queue) - 1);
	long_queue[sizeof(long_queue) - 1] = '\0';
	CHECK(config_fails("amqp://localhost/", long_queue));
}

int main(void)
{
	test_message_id_valid();
	test_message_id_generate();
	test_consumer_message_id();
	test_broker_url();
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
