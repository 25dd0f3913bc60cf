#define _POSIX_C_SOURCE 200809L
#include "broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <amqp_tcp_socket.h>

#include "../common/env.h"
#include "../common/log.h"

#define QUEUE_NAME_MAX 250   /* a shortstr is 255 bytes, and ".dead" must fit */
#define BROKER_CHANNEL 1

struct broker_metrics broker_metrics;

struct broker {
	const struct broker_config *cfg;
	amqp_connection_state_t conn;        /* NULL while disconnected */
	int confirms;                        /* put channel 1 in publisher-confirm mode */
	uint64_t next_tag;                   /* delivery tag the next publish will get */
	struct broker_rotation rotation;     /* which node to try first */
	int was_down;                        /* log "connected" only after a failure */
	uint32_t down_logged;                /* bit i: node i's failure is logged already */
	int heartbeat_s;                     /* 0: none */
};

_Static_assert(BROKER_ENDPOINTS_MAX <= 32, "down_logged has a bit per endpoint");

int broker_config_init(struct broker_config *cfg, const char *urls, const char *queue,
		       int timeout_ms)
{
	size_t qlen = strlen(queue);

	memset(cfg, 0, sizeof(*cfg));
	cfg->timeout_ms = timeout_ms;
	cfg->queue_type = BROKER_QUEUE_CLASSIC;
	if (qlen == 0 || qlen > QUEUE_NAME_MAX) {
		log_warnx("QUEUE_NAME must be 1 to %d characters", QUEUE_NAME_MAX);
		return -1;
	}
	if (broker_endpoints_parse(&cfg->endpoints, urls) != 0)
		return -1;
	cfg->queue = strdup(queue);
	cfg->dead_queue = malloc(qlen + sizeof(".dead"));
	if (cfg->queue == NULL || cfg->dead_queue == NULL)
		fatalx("out of memory");
	snprintf(cfg->dead_queue, qlen + sizeof(".dead"), "%s.dead", queue);
	return 0;
}

int broker_queue_type_parse(const char *name, enum broker_queue_type *type)
{
	if (name[0] == '\0' || strcmp(name, "classic") == 0) {
		*type = BROKER_QUEUE_CLASSIC;
		return 0;
	}
	if (strcmp(name, "quorum") == 0) {
		*type = BROKER_QUEUE_QUORUM;
		return 0;
	}
	log_warnx("RABBITMQ_QUEUE_TYPE must be classic or quorum, not \"%.40s\"", name);
	return -1;
}

int broker_config_from_env(struct broker_config *cfg)
{
	enum broker_queue_type type;

	if (broker_queue_type_parse(env_str("RABBITMQ_QUEUE_TYPE", ""), &type) != 0 ||
	    broker_config_init(cfg, env_require("RABBITMQ_URL"),
			       env_str("QUEUE_NAME", "billing_queue"),
			       (int)env_long("BILLING_CONFIRM_TIMEOUT_MS", 5000, 100, 60000)) != 0)
		return -1;
	cfg->queue_type = type;
	return 0;
}

void broker_config_free(struct broker_config *cfg)
{
	broker_endpoints_free(&cfg->endpoints);
	free(cfg->queue);
	free(cfg->dead_queue);
	memset(cfg, 0, sizeof(*cfg));
}

struct broker *broker_new(const struct broker_config *cfg, int confirms)
{
	struct broker *b = calloc(1, sizeof(*b));

	if (b == NULL)
		fatalx("out of memory");
	b->cfg = cfg;
	b->confirms = confirms;
	broker_rotation_init(&b->rotation);
	return b;
}

void broker_set_heartbeat(struct broker *b, int seconds)
{
	b->heartbeat_s = seconds;
}

void broker_free(struct broker *b)
{
	if (b == NULL)
		return;
	broker_disconnect(b, 1);
	free(b);
}

const char *broker_reply_text(amqp_rpc_reply_t r, char *buf, size_t size)
{
	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		snprintf(buf, size, "ok");
		break;
	case AMQP_RESPONSE_NONE:
		snprintf(buf, size, "no reply from the broker");
		break;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		snprintf(buf, size, "%s", amqp_error_string2(r.library_error));
		break;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			amqp_connection_close_t *m = r.reply.decoded;

			snprintf(buf, size, "connection closed by the broker: %u %.*s",
				 m->reply_code, (int)m->reply_text.len, (char *)m->reply_text.bytes);
		} else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_channel_close_t *m = r.reply.decoded;

			snprintf(buf, size, "channel closed by the broker: %u %.*s",
				 m->reply_code, (int)m->reply_text.len, (char *)m->reply_text.bytes);
		} else {
			snprintf(buf, size, "unexpected broker method 0x%08x", r.reply.id);
		}
		break;
	}
	return buf;
}

/*
 * Declares the durable queue and its dead-letter queue. The one declaration used by
 * publisher and consumer alike: RabbitMQ refuses (406) a redeclaration that differs.
 * Classic: no arguments. Quorum: x-queue-type quorum; such a queue
 * must be durable, neither exclusive nor auto-delete, as both kinds are declared here.
 */
static int broker_declare_queues(amqp_connection_state_t conn, const struct broker_config *cfg)
{
	const char *names[] = { cfg->queue, cfg->dead_queue };
	amqp_table_entry_t quorum = { .key = amqp_cstring_bytes("x-queue-type"),
				      .value = { .kind = AMQP_FIELD_KIND_UTF8,
						 .value.bytes = amqp_cstring_bytes("quorum") } };
	amqp_table_t args = amqp_empty_table;
	char why[256];

	if (cfg->queue_type == BROKER_QUEUE_QUORUM) {
		args.num_entries = 1;
		args.entries = &quorum;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		amqp_rpc_reply_t r;

		amqp_queue_declare(conn, BROKER_CHANNEL, amqp_cstring_bytes(names[i]),
				   0 /* passive */, 1 /* durable */, 0 /* exclusive */,
				   0 /* auto_delete */, args);
		r = amqp_get_rpc_reply(conn);
		if (r.reply_type != AMQP_RESPONSE_NORMAL) {
			log_warnx("declaring queue %s: %s", names[i],
				  broker_reply_text(r, why, sizeof(why)));
			return -1;
		}
	}
	return 0;
}

/* Login, channel and confirm mode on a fresh connection; why describes a failure. */
static int broker_open(struct broker *b, const struct amqp_connection_info *info, char *why,
		       size_t size)
{
	struct timeval tv = { b->cfg->timeout_ms / 1000, (b->cfg->timeout_ms % 1000) * 1000 };
	amqp_socket_t *sock = amqp_tcp_socket_new(b->conn);
	amqp_rpc_reply_t r;
	int status;

	if (sock == NULL) {
		snprintf(why, size, "could not create a socket");
		return -1;
	}
	status = amqp_socket_open_noblock(sock, info->host, info->port, &tv);
	if (status != AMQP_STATUS_OK) {
		snprintf(why, size, "%s", amqp_error_string2(status));
		return -1;
	}
	if (amqp_set_handshake_timeout(b->conn, &tv) != AMQP_STATUS_OK ||
	    amqp_set_rpc_timeout(b->conn, &tv) != AMQP_STATUS_OK) {
		snprintf(why, size, "could not set timeouts");
		return -1;
	}
	/*
	 * Heartbeat 0 unless the owner asked (broker_set_heartbeat): rabbitmq-c answers
	 * heartbeats only inside its own calls, and an idle publisher thread waits in
	 * accept(), so the broker would drop every quiet connection. The confirm timeout and
	 * the reconnect after any error catch a dead link instead.
	 */
	r = amqp_login(b->conn, info->vhost, 0, AMQP_DEFAULT_FRAME_SIZE, b->heartbeat_s,
		       AMQP_SASL_METHOD_PLAIN, info->user, info->password);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		broker_reply_text(r, why, size);
		return -1;
	}
	amqp_channel_open(b->conn, BROKER_CHANNEL);
	r = amqp_get_rpc_reply(b->conn);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		broker_reply_text(r, why, size);
		return -1;
	}
	if (broker_declare_queues(b->conn, b->cfg) != 0) {
		snprintf(why, size, "queue declaration failed");
		return -1;
	}
	if (b->confirms) {
		amqp_confirm_select(b->conn, BROKER_CHANNEL);
		r = amqp_get_rpc_reply(b->conn);
		if (r.reply_type != AMQP_RESPONSE_NORMAL) {
			broker_reply_text(r, why, size);
			return -1;
		}
	}
	b->next_tag = 1;
	return 0;
}

/* Drops a connection that never opened or was lost: no close handshake. */
static void broker_drop(struct broker *b)
{
	int status = amqp_destroy_connection(b->conn);

	if (status != AMQP_STATUS_OK)
		log_warnx("RabbitMQ: closing the connection: %s", amqp_error_string2(status));
	b->conn = NULL;
}

/* One node: 0 when connected, or -1 after logging its first failure in a row. */
static int broker_try(struct broker *b, int index)
{
	const struct amqp_connection_info *info = &b->cfg->endpoints.list[index].info;
	uint32_t bit = (uint32_t)1 << index;
	char why[256];

	b->conn = amqp_new_connection();
	if (b->conn == NULL) {
		log_warnx("RabbitMQ: out of memory");
		return -1;
	}
	if (broker_open(b, info, why, sizeof(why)) == 0) {
		b->down_logged &= ~bit;
		return 0;
	}
	if (!(b->down_logged & bit))
		log_warnx("RabbitMQ at %s:%d vhost %s unavailable: %s", info->host, info->port,
			  info->vhost, why);
	b->down_logged |= bit;
	broker_drop(b);
	return -1;
}

/* Says which node a connection reached, when that is news: a move, a return, a cluster. */
static void log_connected(const struct broker *b, int index)
{
	const struct broker_endpoints *e = &b->cfg->endpoints;
	const struct amqp_connection_info *info = &e->list[index].info;
	int last = b->rotation.last;

	if (last >= 0 && last != index)
		log_info("RabbitMQ: moved from %s:%d to %s:%d (node %d of %d)",
			 e->list[last].info.host, e->list[last].info.port, info->host, info->port,
			 index + 1, e->count);
	else if (b->was_down)
		log_info("RabbitMQ at %s:%d connected again", info->host, info->port);
	else if (last < 0 && e->count > 1)
		log_info("RabbitMQ: connected to %s:%d (node %d of %d)", info->host, info->port,
			 index + 1, e->count);
}

int broker_connect(struct broker *b)
{
	int count = b->cfg->endpoints.count;

	if (b->conn != NULL)
		return 0;
	for (int attempt = 0; attempt < count; attempt++) {
		int index = broker_rotation_nth(&b->rotation, count, attempt);

		if (broker_try(b, index) == 0) {
			log_connected(b, index);
			if (b->was_down)
				metric_inc(&broker_metrics.reconnects);
			broker_rotation_connected(&b->rotation, index);
			b->was_down = 0;
			return 0;
		}
	}
	b->was_down = 1;
	metric_inc(&broker_metrics.connect_failures);
	return -1;
}

void broker_disconnect(struct broker *b, int graceful)
{
	if (b->conn == NULL)
		return;
	if (!graceful) {
		b->was_down = 1;
		broker_rotation_lost(&b->rotation, b->cfg->endpoints.count);
	} else if (amqp_connection_close(b->conn, AMQP_REPLY_SUCCESS).reply_type !=
		   AMQP_RESPONSE_NORMAL) {
		log_warnx("RabbitMQ: the broker did not confirm the close");
	}
	broker_drop(b);
}

int broker_timeout_ms(const struct broker *b)
{
	return b->cfg->timeout_ms;
}

int broker_publish(struct broker *b, const char *queue, const amqp_basic_properties_t *p,
		   amqp_bytes_t body, uint64_t *tag)
{
	*tag = b->next_tag++;
	return amqp_basic_publish(b->conn, BROKER_CHANNEL, amqp_empty_bytes,
				  amqp_cstring_bytes(queue), 1 /* mandatory */, 0 /* immediate */,
				  p, body);
}

int broker_wait_frame(struct broker *b, amqp_frame_t *f, const struct timeval *timeout)
{
	amqp_maybe_release_buffers(b->conn);
	return amqp_simple_wait_frame_noblock(b->conn, f, timeout);
}

int broker_drop_returned(struct broker *b, amqp_channel_t channel)
{
	amqp_message_t returned;

	if (amqp_read_message(b->conn, channel, &returned, 0).reply_type != AMQP_RESPONSE_NORMAL)
		return -1;
	amqp_destroy_message(&returned);
	return 0;
}

int broker_queue_stats(struct broker *b, uint32_t *messages, uint32_t *consumers,
		       char *why, size_t why_size)
{
	amqp_queue_declare_ok_t *ok;

	ok = amqp_queue_declare(b->conn, BROKER_CHANNEL, amqp_cstring_bytes(b->cfg->queue),
				1 /* passive: only look */, 0, 0, 0, amqp_empty_table);
	if (ok == NULL) {
		broker_reply_text(amqp_get_rpc_reply(b->conn), why, why_size);
		return -1;
	}
	*messages = ok->message_count;
	*consumers = ok->consumer_count;
	return 0;
}

int broker_consume(struct broker *b, int prefetch)
{
	amqp_rpc_reply_t r;
	char why[256];

	if (broker_connect(b) != 0)
		return -1;
	/* Many unacked deliveries in flight let one commit and one ack cover a whole batch. */
	amqp_basic_qos(b->conn, BROKER_CHANNEL, 0, (uint16_t)prefetch, 0);
	r = amqp_get_rpc_reply(b->conn);
	if (r.reply_type == AMQP_RESPONSE_NORMAL) {
		amqp_basic_consume(b->conn, BROKER_CHANNEL, amqp_cstring_bytes(b->cfg->queue),
				   amqp_empty_bytes, 0 /* no_local */, 0 /* no_ack: we ack */,
				   0 /* exclusive */, amqp_empty_table);
		r = amqp_get_rpc_reply(b->conn);
	}
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		log_warnx("RabbitMQ: could not consume from %s: %s", b->cfg->queue,
			  broker_reply_text(r, why, sizeof(why)));
		broker_disconnect(b, 0);
		return -1;
	}
	return 0;
}

amqp_rpc_reply_t broker_next_delivery(struct broker *b, amqp_envelope_t *env,
				      const struct timeval *timeout)
{
	amqp_maybe_release_buffers(b->conn);
	return amqp_consume_message(b->conn, env, timeout, 0);
}

int broker_ack_through(struct broker *b, uint64_t tag)
{
	return amqp_basic_ack(b->conn, BROKER_CHANNEL, tag, 1 /* multiple */);
}
