/*
 * One AMQP connection with channel 1 open and the billing queues declared, owned by
 * one thread. Connecting is lazy and repeatable: after any error the owner calls
 * broker_disconnect and the next broker_connect starts afresh.
 */
#ifndef BILLING_BROKER_H
#define BILLING_BROKER_H

#include <stdint.h>
#include <amqp.h>

#define BROKER_CHANNEL 1

/* Where the broker is and what it holds, read once at start-up and shared read-only. */
struct broker_config {
	char *url_copy;                      /* amqp_parse_url points info's fields into it */
	struct amqp_connection_info info;
	char *queue;                         /* QUEUE_NAME */
	char *dead_queue;                    /* "<queue>.dead": messages the consumer cannot store */
	int timeout_ms;                      /* connect, RPC and publisher-confirm limit */
};

struct broker {
	const struct broker_config *cfg;
	amqp_connection_state_t conn;        /* NULL while disconnected */
	int confirms;                        /* put channel 1 in publisher-confirm mode */
	uint64_t next_tag;                   /* delivery tag the next publish will get */
	int was_down;                        /* log "connected" only after a failure */
};

/*
 * Parses url (amqp://user:pass@host:port/vhost; a bare trailing '/' means vhost "/")
 * and derives the queue names. Returns 0, or -1 after logging what is wrong.
 */
int broker_config_init(struct broker_config *cfg, const char *url, const char *queue,
		       int timeout_ms);
void broker_config_free(struct broker_config *cfg);

void broker_init(struct broker *b, const struct broker_config *cfg, int confirms);

/* Connects, opens the channel and declares the queues unless already connected. 0 or -1. */
int broker_connect(struct broker *b);

/* Closes politely when graceful (the link is believed healthy), else just drops it. */
void broker_disconnect(struct broker *b, int graceful);

/*
 * Declares the durable queue and its dead-letter queue. The one declaration used by
 * publisher and consumer alike: RabbitMQ refuses (406) a redeclaration that differs.
 */
int broker_declare_queues(amqp_connection_state_t conn, const struct broker_config *cfg);

/* Describes a failed RPC reply for a log line; returns buf. */
const char *broker_reply_text(amqp_rpc_reply_t r, char *buf, size_t size);

#endif
