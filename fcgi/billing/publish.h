/* Publishing one persistent message and waiting until the broker has it (publisher confirms). */
#ifndef BILLING_PUBLISH_H
#define BILLING_PUBLISH_H

#include <stddef.h>

#include "broker.h"

struct outgoing_message {
	const char *queue;          /* routing key on the default exchange */
	const char *message_id;     /* NULL: no message_id property */
	const char *body;           /* JSON */
	size_t len;
	const char *reject_reason;  /* non-NULL: sent as header x-reject-reason (dead letters) */
	const char *request_id;     /* non-NULL, not "": sent as header x-request-id (tracing) */
	const char *traceparent;    /* non-NULL, not "": sent as header traceparent (W3C) */
	const char *tracestate;     /* non-NULL, not "": sent as header tracestate (W3C) */
};

/* Why a message cannot be taken as stored: the last attempt's failure (for the metrics). */
enum publish_failure {
	PUBLISH_BROKER_DOWN = -1,   /* no connection, or it broke */
	PUBLISH_TIMEOUT = -2,       /* no confirm within the configured timeout */
	PUBLISH_REFUSED = -3,       /* nacked, or returned as unroutable */
};

/*
 * Publishes m (persistent, mandatory) on b, which must be in confirm mode, and waits up
 * to the configured timeout for the ack. A nack, a return (unroutable), a timeout or
 * a connection error leads to one reconnect and one more attempt with the same message.
 * Returns 0 once the broker acked, else an enum publish_failure (negative).
 */
int publish_confirmed(struct broker *b, const struct outgoing_message *m);

#endif
