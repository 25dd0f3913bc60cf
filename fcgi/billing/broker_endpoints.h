/*
 * The broker nodes a program may use (RABBITMQ_URL: one or more amqp:// URLs separated
 * by commas, one per node of a cluster) and the order in which one connection tries them.
 * After a lost connection the next attempt starts at the node after the one that was
 * lost, so a dead node is not the first one retried (round-robin).
 */
#ifndef BILLING_BROKER_ENDPOINTS_H
#define BILLING_BROKER_ENDPOINTS_H

#include <amqp.h>

#define BROKER_ENDPOINTS_MAX 16

struct broker_endpoint {
	char *url_copy;                      /* amqp_parse_url points info's fields into it */
	struct amqp_connection_info info;
};

struct broker_endpoints {
	struct broker_endpoint list[BROKER_ENDPOINTS_MAX];
	int count;
};

/*
 * Parses urls (amqp://user:pass@host:port/vhost[,amqp://...]; a bare trailing '/' means
 * vhost "/"). Returns 0, or -1 after logging which entry is wrong (never its password).
 */
int broker_endpoints_parse(struct broker_endpoints *e, const char *urls);
void broker_endpoints_free(struct broker_endpoints *e);

/* Where one connection stands in the list. */
struct broker_rotation {
	int start;                           /* the endpoint the next connect tries first */
	int last;                            /* the endpoint last connected to; -1: none yet */
};

void broker_rotation_init(struct broker_rotation *r);
/* The endpoint a connect tries at its attempt-th try (0-based), of count endpoints. */
int broker_rotation_nth(const struct broker_rotation *r, int count, int attempt);
void broker_rotation_connected(struct broker_rotation *r, int index);
/* The connection to the last endpoint was lost: start after it next time. */
void broker_rotation_lost(struct broker_rotation *r, int count);

#endif
