#define _POSIX_C_SOURCE 200809L
#include "order_batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/json_input.h"
#include "../common/log.h"

void order_batch_init(struct order_batch *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->cap = cap;
	b->max_body = ORDER_BATCH_MAX_BODY_DEFAULT;
	b->rows = calloc(cap, sizeof(*b->rows));
	b->dead = calloc(cap, sizeof(*b->dead));
	if (b->rows == NULL || b->dead == NULL)
		fatalx("out of memory for a batch of %lu", (unsigned long)cap);
}

void order_batch_clear(struct order_batch *b)
{
	for (size_t i = 0; i < b->ndead; i++)
		free(b->dead[i].body);
	b->nrows = 0;
	b->ndead = 0;
	b->deliveries = 0;
	b->last_tag = 0;
}

void order_batch_free(struct order_batch *b)
{
	order_batch_clear(b);
	free(b->rows);
	free(b->dead);
	memset(b, 0, sizeof(*b));
}

int order_batch_full(const struct order_batch *b)
{
	return b->deliveries >= b->cap;
}

int order_batch_message_id(const amqp_basic_properties_t *p, json_object *root,
			   char out[MESSAGE_ID_MAX + 1], const char **detail)
{
	json_object *v;
	const char *id = NULL;
	size_t len = 0;

	if ((p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG) && p->message_id.len > 0) {
		id = p->message_id.bytes;
		len = p->message_id.len;
		*detail = "the message_id property must be 1 to 200 visible ASCII characters";
	} else if (root != NULL && json_object_object_get_ex(root, "message_id", &v) &&
		   json_object_is_type(v, json_type_string)) {
		id = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		*detail = "the message_id member must be 1 to 200 visible ASCII characters";
	} else {
		*detail = "no message_id: neither the AMQP property nor a body member";
		return -1;
	}
	if (!message_id_valid(id, len))
		return -1;
	memcpy(out, id, len);
	out[len] = '\0';
	return 0;
}

/* Adds a dead letter owning a copy of body[0..len). */
static void add_dead(struct order_batch *b, const void *body, size_t len,
		     const char *message_id, const char *request_id, const char *traceparent,
		     const char *reason)
{
	struct dead_letter *d = &b->dead[b->ndead];

	d->body = malloc(len + 1);
	if (d->body == NULL)
		fatalx("out of memory keeping a dead letter");
	if (len > 0)
		memcpy(d->body, body, len);
	d->body[len] = '\0';
	d->len = len;
	snprintf(d->message_id, sizeof(d->message_id), "%s", message_id);
	snprintf(d->request_id, sizeof(d->request_id), "%s", request_id);
	snprintf(d->traceparent, sizeof(d->traceparent), "%s", traceparent);
	snprintf(d->reason, sizeof(d->reason), "%s", reason);
	b->ndead++;
}

/* The string header key, or NULL when p has none. */
static const amqp_bytes_t *string_header(const amqp_basic_properties_t *p, const char *key)
{
	if (!(p->_flags & AMQP_BASIC_HEADERS_FLAG))
		return NULL;
	for (int i = 0; i < p->headers.num_entries; i++) {
		const amqp_table_entry_t *e = &p->headers.entries[i];

		if (e->key.len == strlen(key) && memcmp(e->key.bytes, key, e->key.len) == 0 &&
		    (e->value.kind == AMQP_FIELD_KIND_UTF8 ||
		     e->value.kind == AMQP_FIELD_KIND_BYTES))
			return &e->value.value.bytes;
	}
	return NULL;
}

/* The x-request-id header when it is a valid request id, else "". */
static void delivery_request_id(const amqp_basic_properties_t *p,
				char out[REQUEST_ID_MAX + 1])
{
	const amqp_bytes_t *v = string_header(p, "x-request-id");

	out[0] = '\0';
	if (v != NULL && request_id_valid(v->bytes, v->len)) {
		memcpy(out, v->bytes, v->len);
		out[v->len] = '\0';
	}
}

/* The traceparent header when it is a valid one of 55 characters, else "". */
static void delivery_traceparent(const amqp_basic_properties_t *p,
				 char out[TRACEPARENT_LEN + 1])
{
	const amqp_bytes_t *v = string_header(p, "traceparent");
	struct traceparent tp;

	out[0] = '\0';
	if (v != NULL && v->len == TRACEPARENT_LEN &&
	    traceparent_parse(v->bytes, v->len, &tp) == 0) {
		memcpy(out, v->bytes, v->len);
		out[v->len] = '\0';
	}
}

/* A message over max_body: its id from the properties alone, its body cut to max_body. */
static void too_large(struct order_batch *b, const amqp_envelope_t *env, const char *rid,
		      const char *tp)
{
	char id[MESSAGE_ID_MAX + 1] = "", reason[160];
	const char *detail;

	if (order_batch_message_id(&env->message.properties, NULL, id, &detail) != 0)
		id[0] = '\0';
	snprintf(reason, sizeof(reason),
		 "message of %lu bytes is over the %lu-byte limit; only its first %lu bytes are kept",
		 (unsigned long)env->message.body.len, (unsigned long)b->max_body,
		 (unsigned long)b->max_body);
	add_dead(b, env->message.body.bytes, b->max_body, id, rid, tp, reason);
}

void order_batch_add(struct order_batch *b, const amqp_envelope_t *env)
{
	const amqp_bytes_t *body = &env->message.body;
	struct order_row *row = &b->rows[b->nrows];
	const char *field, *detail, *id_detail;
	char id[MESSAGE_ID_MAX + 1] = "", rid[REQUEST_ID_MAX + 1], tp[TRACEPARENT_LEN + 1];
	json_object *root;

	b->deliveries++;
	b->last_tag = env->delivery_tag;
	delivery_request_id(&env->message.properties, rid);
	delivery_traceparent(&env->message.properties, tp);
	if (body->len > b->max_body) {
		too_large(b, env, rid, tp);
		return;
	}
	root = json_parse_object(body->bytes, body->len, &detail);
	if (order_batch_message_id(&env->message.properties, root, id, &id_detail) != 0)
		id[0] = '\0';
	if (root != NULL && order_from_object(root, &row->order, &field, &detail) == 0) {
		if (id[0] != '\0') {
			memcpy(row->message_id, id, sizeof(id));
			memcpy(row->request_id, rid, sizeof(rid));
			memcpy(row->traceparent, tp, sizeof(tp));
			b->nrows++;
			json_object_put(root);
			return;
		}
		detail = id_detail;
	}
	json_object_put(root);
	add_dead(b, body->bytes, body->len, id, rid, tp, detail);
}

void order_batch_reject_row(struct order_batch *b, size_t i, const char *reason)
{
	char *json = order_to_json(&b->rows[i].order, b->rows[i].message_id);

	if (json == NULL)
		fatalx("out of memory dead-lettering message %s", b->rows[i].message_id);
	add_dead(b, json, strlen(json), b->rows[i].message_id, b->rows[i].request_id,
		 b->rows[i].traceparent, reason);
	free(json);
}
