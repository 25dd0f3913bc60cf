/*
 * The consumer filing one delivery (order_batch_add). Input: a flags byte; when bit 0 is
 * set, a length byte and that many bytes of message_id property; the rest is the body.
 * Oracles: every delivery is a row or a dead letter, never both or neither; a row has a
 * valid message id and an order that reads back the same from its body; a dead letter
 * keeps the original bytes and carries a reason that is UTF-8 (an AMQP utf8 header).
 */
#include <string.h>

#include "billing/message_id.h"
#include "billing/order_batch.h"
#include "common/json_input.h"
#include "oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	amqp_envelope_t env;
	struct order_batch b;
	size_t at = 1;

	if (size < 1)
		return 0;
	memset(&env, 0, sizeof(env));
	env.delivery_tag = 7;
	if ((data[0] & 1) && size >= 2) {
		size_t n = data[1] < size - 2 ? data[1] : size - 2;

		env.message.properties._flags = AMQP_BASIC_MESSAGE_ID_FLAG;
		env.message.properties.message_id.bytes = (void *)(data + 2);
		env.message.properties.message_id.len = n;
		at = 2 + n;
	}
	env.message.body.bytes = (void *)(data + at);
	env.message.body.len = size - at;

	order_batch_init(&b, 4);
	order_batch_add(&b, &env);
	ORACLE(b.deliveries == 1 && b.nrows + b.ndead == 1 && b.last_tag == 7, data, size);
	if (b.nrows == 1) {
		const struct order_row *row = &b.rows[0];
		const char *field, *detail, *err;
		json_object *root = json_parse_object(env.message.body.bytes, env.message.body.len,
						      &err);
		struct order again;

		ORACLE(message_id_valid(row->message_id, strlen(row->message_id)), data, size);
		ORACLE(root != NULL && order_from_object(root, &again, &field, &detail) == 0, data,
		       size);
		ORACLE(strcmp(again.user_id, row->order.user_id) == 0 &&
		       again.number_of_items == row->order.number_of_items &&
		       strcmp(again.total_amount, row->order.total_amount) == 0, data, size);
		json_object_put(root);
	} else {
		const struct dead_letter *d = &b.dead[0];

		ORACLE(d->len == env.message.body.len &&
		       (d->len == 0 || memcmp(d->body, env.message.body.bytes, d->len) == 0),
		       data, size);
		ORACLE(d->reason[0] != '\0' && oracle_utf8(d->reason, strlen(d->reason)), data, size);
	}
	order_batch_free(&b);
	return 0;
}
