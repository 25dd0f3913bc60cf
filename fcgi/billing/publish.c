#define _POSIX_C_SOURCE 200809L
#include "publish.h"

#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "../common/log.h"
#include "../common/monotonic.h"

enum attempt { ATTEMPT_ACKED, ATTEMPT_REFUSED, ATTEMPT_LOST, ATTEMPT_TIMEOUT };

static int tag_matches(uint64_t got, int multiple, uint64_t want)
{
	return got == want || (multiple && got >= want);
}

/*
 * rabbitmq-c 0.11 has no amqp_publisher_confirm_wait: read frames until the ack or
 * nack for tag. A basic.return (unroutable) arrives before the ack and means the
 * message went nowhere, so it counts as refused even though an ack follows.
 */
static enum attempt wait_for_confirm(struct broker *b, uint64_t tag, const char **why)
{
	long long deadline = monotonic_ms() + broker_timeout_ms(b);
	int returned = 0;

	for (;;) {
		long long left = deadline - monotonic_ms();
		struct timeval tv;
		amqp_frame_t f;
		int status;

		if (left <= 0) {
			*why = "no confirm from the broker in time";
			return ATTEMPT_TIMEOUT;
		}
		tv.tv_sec = (time_t)(left / 1000);
		tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
		status = broker_wait_frame(b, &f, &tv);
		if (status == AMQP_STATUS_TIMEOUT)
			continue;
		if (status != AMQP_STATUS_OK) {
			*why = amqp_error_string2(status);
			return ATTEMPT_LOST;
		}
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		switch (f.payload.method.id) {
		case AMQP_BASIC_ACK_METHOD: {
			amqp_basic_ack_t *ack = f.payload.method.decoded;

			if (tag_matches(ack->delivery_tag, ack->multiple, tag))
				return returned ? ATTEMPT_REFUSED : ATTEMPT_ACKED;
			break;
		}
		case AMQP_BASIC_NACK_METHOD: {
			amqp_basic_nack_t *nack = f.payload.method.decoded;

			if (tag_matches(nack->delivery_tag, nack->multiple, tag)) {
				*why = "the broker refused the message (nack)";
				return ATTEMPT_REFUSED;
			}
			break;
		}
		case AMQP_BASIC_RETURN_METHOD:
			if (broker_drop_returned(b, f.channel) != 0) {
				*why = "could not read a returned message";
				return ATTEMPT_LOST;
			}
			*why = "the message was unroutable (is the queue gone?)";
			returned = 1;
			break;
		default:
			*why = "the broker closed the channel or connection";
			return ATTEMPT_LOST;
		}
	}
}

/* Appends a string header to p, whose headers.entries has room for it. */
static void add_header(amqp_basic_properties_t *p, const char *key, const char *value)
{
	amqp_table_entry_t *e = &p->headers.entries[p->headers.num_entries++];

	e->key = amqp_cstring_bytes(key);
	e->value.kind = AMQP_FIELD_KIND_UTF8;
	e->value.value.bytes = amqp_cstring_bytes(value);
	p->_flags |= AMQP_BASIC_HEADERS_FLAG;
}

static enum attempt publish_once(struct broker *b, const struct outgoing_message *m,
				 const char **why)
{
	amqp_basic_properties_t p;
	amqp_table_entry_t headers[4];
	amqp_bytes_t body = { m->len, (void *)m->body };
	uint64_t tag;
	int status;

	memset(&p, 0, sizeof(p));
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
		   AMQP_BASIC_TIMESTAMP_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	p.timestamp = (uint64_t)time(NULL);
	if (m->message_id != NULL) {
		p._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
		p.message_id = amqp_cstring_bytes(m->message_id);
	}
	p.headers.entries = headers;
	if (m->request_id != NULL && m->request_id[0] != '\0')
		add_header(&p, "x-request-id", m->request_id);
	if (m->reject_reason != NULL)
		add_header(&p, "x-reject-reason", m->reject_reason);
	if (m->traceparent != NULL && m->traceparent[0] != '\0')
		add_header(&p, "traceparent", m->traceparent);
	if (m->tracestate != NULL && m->tracestate[0] != '\0')
		add_header(&p, "tracestate", m->tracestate);
	if (broker_connect(b) != 0) {
		*why = "RabbitMQ is unavailable";
		return ATTEMPT_LOST;
	}
	status = broker_publish(b, m->queue, &p, body, &tag);
	if (status != AMQP_STATUS_OK) {
		*why = amqp_error_string2(status);
		return ATTEMPT_LOST;
	}
	return wait_for_confirm(b, tag, why);
}

static int outcome_failure(enum attempt a)
{
	return a == ATTEMPT_TIMEOUT ? PUBLISH_TIMEOUT :
	       a == ATTEMPT_REFUSED ? PUBLISH_REFUSED : PUBLISH_BROKER_DOWN;
}

int publish_confirmed(struct broker *b, const struct outgoing_message *m)
{
	const char *id = m->message_id ? m->message_id : "(no id)";
	const char *first_why = NULL, *why = NULL;
	enum attempt last = ATTEMPT_LOST;

	for (int attempt = 0; attempt < 2; attempt++) {
		enum attempt outcome = last = publish_once(b, m, &why);

		if (outcome == ATTEMPT_ACKED) {
			if (first_why != NULL)
				log_info("message %s confirmed on retry (first attempt: %s)", id,
					 first_why);
			return 0;
		}
		if (first_why == NULL)
			first_why = why;
		/* A fresh connection redeclares the queue and resets the delivery tags. */
		broker_disconnect(b, outcome == ATTEMPT_REFUSED);
	}
	log_warnx("message %s not stored by RabbitMQ: %s; retried once: %s", id, first_why, why);
	return outcome_failure(last);
}
