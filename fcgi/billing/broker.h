/*
 * One AMQP connection with channel 1 open and the billing queues declared, owned by
 * one thread. Connecting is lazy and repeatable: after any error the owner calls
 * broker_disconnect and the next broker_connect starts afresh. struct broker is private
 * to broker.c: publishing and consuming go through the functions below.
 */
#ifndef BILLING_BROKER_H
#define BILLING_BROKER_H

#include <stdint.h>
#include <sys/time.h>
#include <amqp.h>

#include "../common/metrics.h"
#include "broker_endpoints.h"

/* How billing_queue and billing_queue.dead are declared (RABBITMQ_QUEUE_TYPE). */
enum broker_queue_type {
	BROKER_QUEUE_CLASSIC,                /* durable, no arguments: one node holds it */
	BROKER_QUEUE_QUORUM,                 /* x-queue-type quorum: replicated by Raft */
};

/* Where the brokers are and what they hold, read once at start-up and shared read-only. */
struct broker_config {
	struct broker_endpoints endpoints;   /* the cluster's nodes, tried in turn */
	char *queue;                         /* QUEUE_NAME */
	char *dead_queue;                    /* "<queue>.dead": messages the consumer cannot store */
	enum broker_queue_type queue_type;
	int timeout_ms;                      /* connect (per node), RPC and confirm limit */
};

/*
 * Parses urls (broker_endpoints_parse) and derives the queue names; the queues are
 * classic. Returns 0, or -1 after logging what is wrong.
 */
int broker_config_init(struct broker_config *cfg, const char *urls, const char *queue,
		       int timeout_ms);
/* "classic" (or "") or "quorum" into *type; anything else: -1 after logging. */
int broker_queue_type_parse(const char *name, enum broker_queue_type *type);
/*
 * broker_config_init from RABBITMQ_URL, QUEUE_NAME and BILLING_CONFIRM_TIMEOUT_MS, with
 * the queue type of RABBITMQ_QUEUE_TYPE. 0, or -1 after logging: the program must not start.
 */
int broker_config_from_env(struct broker_config *cfg);
void broker_config_free(struct broker_config *cfg);

struct broker;

/* A disconnected broker on cfg (which must outlive it); confirms: publisher-confirm mode. */
struct broker *broker_new(const struct broker_config *cfg, int confirms);
/*
 * Heartbeats every seconds on the next connections, for an owner that always waits
 * inside rabbitmq-c (the consumer): a node that stops answering without closing the
 * connection (frozen, cut off) is then noticed within about two intervals. Default 0: none.
 */
void broker_set_heartbeat(struct broker *b, int seconds);
/* Closes the connection politely and frees b; NULL is fine. */
void broker_free(struct broker *b);

/*
 * Unless already connected: connects to the first node that answers, trying them from
 * the one after the node whose connection was last lost; opens the channel and declares
 * the queues. Logs the node it reaches when that is news. 0, or -1 when none answered.
 */
int broker_connect(struct broker *b);

/*
 * Closes politely when graceful (the link is believed healthy: the next connect tries the
 * same node first); otherwise drops it and counts an outage, so that the next
 * broker_connect starts at the next node and logs where it is connected again.
 */
void broker_disconnect(struct broker *b, int graceful);

/* Describes a failed RPC reply for a log line; returns buf. */
const char *broker_reply_text(amqp_rpc_reply_t r, char *buf, size_t size);

/* This process's connection events, over all its brokers (metrics.h). */
struct broker_metrics {
	struct metric_counter connect_failures;  /* broker_connect found no node answering */
	struct metric_counter reconnects;        /* connected again after a failure or a loss */
};
extern struct broker_metrics broker_metrics;

/* Publishing, on a connected broker. */

/* How long a publisher waits for a confirm: the configured timeout. */
int broker_timeout_ms(const struct broker *b);

/*
 * Publishes body to queue through the default exchange, mandatory, with properties p.
 * Sets *tag to the delivery tag its confirm will carry. Returns an AMQP status.
 */
int broker_publish(struct broker *b, const char *queue, const amqp_basic_properties_t *p,
		   amqp_bytes_t body, uint64_t *tag);

/* Waits up to timeout (NULL: no limit) for the next frame. Returns an AMQP status. */
int broker_wait_frame(struct broker *b, amqp_frame_t *f, const struct timeval *timeout);

/* Reads and drops the message that a basic.return on channel announced. 0 or -1. */
int broker_drop_returned(struct broker *b, amqp_channel_t channel);

/*
 * The queue's ready messages and consumers, from a passive queue.declare on a connected
 * broker (the health check). Returns 0, or -1 with why set; the caller then disconnects.
 */
int broker_queue_stats(struct broker *b, uint32_t *messages, uint32_t *consumers,
		       char *why, size_t why_size);

/* Consuming. */

/*
 * Connects if needed, allows prefetch unacked deliveries and starts consuming the queue
 * with manual acks. Returns 0, or -1 after logging and disconnecting.
 */
int broker_consume(struct broker *b, int prefetch);

/* The next delivery, waiting up to timeout; the reply is amqp_consume_message's. */
amqp_rpc_reply_t broker_next_delivery(struct broker *b, amqp_envelope_t *env,
				      const struct timeval *timeout);

/* Acks every delivery up to and including tag. Returns an AMQP status. */
int broker_ack_through(struct broker *b, uint64_t tag);

#endif
