/*
 * The deliveries the consumer holds between two commits: the ones that are orders
 * (rows to insert) and the ones that cannot be (dead letters, with the reason).
 * Every delivery is one or the other, so one ack of the last tag settles them all.
 */
#ifndef BILLING_ORDER_BATCH_H
#define BILLING_ORDER_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <amqp.h>

#include "order_store.h"

struct dead_letter {
	char *body;                            /* the original bytes (or the row as JSON) */
	size_t len;
	char message_id[MESSAGE_ID_MAX + 1];   /* "" when the message had no usable id */
	char request_id[REQUEST_ID_MAX + 1];   /* its x-request-id header, "" when none */
	char traceparent[TRACEPARENT_LEN + 1]; /* its traceparent header, "" when none */
	char reason[256];
};

struct order_batch {
	struct order_row *rows;
	size_t nrows;
	struct dead_letter *dead;
	size_t ndead;
	size_t cap;            /* deliveries per batch */
	size_t deliveries;     /* nrows + ndead, before rows are rejected by the database */
	uint64_t last_tag;     /* delivery tag of the newest delivery */
	size_t max_body;       /* larger messages are neither parsed nor kept whole */
};

/* An order is a few hundred bytes; 64 KiB is the publisher's own body limit. */
#define ORDER_BATCH_MAX_BODY_DEFAULT (64 * 1024)

/* An empty batch of cap deliveries, with max_body ORDER_BATCH_MAX_BODY_DEFAULT. */
void order_batch_init(struct order_batch *b, size_t cap);
void order_batch_free(struct order_batch *b);
void order_batch_clear(struct order_batch *b);
int order_batch_full(const struct order_batch *b);

/*
 * Files a delivery. Its message_id is the AMQP property or, when that is absent, the
 * body's "message_id" member; a message with neither is a dead letter, because an
 * order without a stable id could be stored twice on redelivery. Its request id is the
 * x-request-id header when that is a valid one, its traceparent the traceparent header
 * when that is a valid one (trace_context.h). A body over max_body is a dead letter at
 * once, unparsed, and only its first max_body bytes are kept.
 */
void order_batch_add(struct order_batch *b, const amqp_envelope_t *env);

/* Row i was refused by the database: it becomes a dead letter carrying reason. */
void order_batch_reject_row(struct order_batch *b, size_t i, const char *reason);

/* Picks the message id as order_batch_add does; 0, or -1 with *detail set. root may be NULL. */
int order_batch_message_id(const amqp_basic_properties_t *p, json_object *root,
			   char out[MESSAGE_ID_MAX + 1], const char **detail);

#endif
