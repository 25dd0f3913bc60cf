/*
 * billing_app: drains the billing queue into billing_db. Deliveries are gathered into
 * batches; each batch is one INSERT (one transaction), then one multiple-ack. Nothing
 * is acked before it is committed, and inserts are idempotent on message_id, so a
 * crash at any point loses nothing and doubles nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "../common/env.h"
#include "../common/log.h"
#include "../common/metrics_listener.h"
#include "../common/signals.h"
#include "../common/request_id.h"
#include "../common/trace_context.h"
#include "broker.h"
#include "consumer_metrics.h"
#include "order_batch.h"
#include "order_store.h"
#include "publish.h"

#define BACKOFF_MAX_S 30
#define IDLE_TICK_MS 200       /* how often an idle consumer looks at the stop flag */
#define STABLE_SESSION_S 30    /* a session this long resets the backoff */
#define HEARTBEAT_S 10         /* a silent broker node is left after about 20 s */

struct consumer {
	struct broker_config cfg;
	struct broker *link;       /* consumes */
	struct broker *dead_link;  /* its own connection: confirm waits must not eat deliveries */
	struct order_store *store;
	struct order_batch batch;
	int prefetch;
	int batch_wait_ms;         /* how long a partial batch waits for more */
	int backoff_s;
	sigset_t signals;          /* blocked; taken between deliveries (signals.h) */
	int stop_requested;        /* a SIGTERM or SIGINT came */
	unsigned long stored, dead_lettered;
};

enum run_end { RUN_CONTINUE, RUN_STOPPED, RUN_BROKER_LOST, RUN_DB_LOST };

/* Whether a stop signal came, waiting up to timeout_ms for one. */
static int stop_signalled(struct consumer *c, int timeout_ms)
{
	consumer_metrics_tick(0);
	if (!c->stop_requested && signals_await_stop(&c->signals, timeout_ms) != 0)
		c->stop_requested = 1;
	return c->stop_requested;
}

/* Waits the current backoff (a stop signal ends the wait), then doubles it. */
static void pause_backoff(struct consumer *c)
{
	stop_signalled(c, c->backoff_s * 1000);
	c->backoff_s = c->backoff_s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : c->backoff_s * 2;
}

/*
 * Logs which orders (message id, and the request id and traceparent of the POST that
 * placed each, "-" when none) are now in the table: the last hop of a trace. Several
 * orders share a line, so a busy consumer writes a line per few orders, not one each.
 */
static void log_committed(const struct order_row *rows, size_t n)
{
	char line[900];
	size_t len = 0, count = 0;

	for (size_t i = 0; i < n; i++) {
		const char *rid = rows[i].request_id[0] ? rows[i].request_id : "-";
		const char *tp = rows[i].traceparent[0] ? rows[i].traceparent : "-";
		size_t need = strlen(rows[i].message_id) + strlen(rid) + strlen(tp) + 4;

		if (len > 0 && len + need >= sizeof(line)) {
			log_info("committed %lu orders (message_id request_id traceparent): %s",
				 (unsigned long)count, line);
			len = count = 0;
		}
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s %s %s",
					len > 0 ? ", " : "", rows[i].message_id, rid, tp);
		count++;
	}
	if (count > 0)
		log_info("committed %lu orders (message_id request_id traceparent): %s",
			 (unsigned long)count, line);
}

/* Rows the batch statement refused: try them one by one to find the poison ones. */
static enum store_result store_one_by_one(struct consumer *c)
{
	struct order_batch *b = &c->batch;
	size_t nrows = b->nrows;

	for (size_t i = 0; i < nrows; i++) {
		char reason[256];
		enum store_result r = order_store_insert_one(c->store, &b->rows[i], reason,
							     sizeof(reason));

		if (r == STORE_UNAVAILABLE)
			return r;
		if (r == STORE_REJECTED)
			order_batch_reject_row(b, i, reason);
		else
			log_committed(&b->rows[i], 1);
	}
	return STORE_OK;
}

/* Publishes every dead letter to <queue>.dead, confirmed; 0, or -1 when the broker failed. */
static int dead_letter_all(struct consumer *c)
{
	for (size_t i = 0; i < c->batch.ndead; i++) {
		const struct dead_letter *d = &c->batch.dead[i];
		const char *id = d->message_id[0] ? d->message_id : NULL;
		struct outgoing_message m = { c->cfg.dead_queue, id, d->body, d->len, d->reason,
					      d->request_id, d->traceparent, NULL };
		int status;

		request_id_set(d->request_id);          /* its log lines carry the POST's id */
		trace_context_set(d->traceparent);      /* and its trace */
		status = publish_confirmed(c->dead_link, &m);
		if (status == 0) {
			log_warnx("dead-lettered message %s to %s: %s", id ? id : "(no id)",
				  c->cfg.dead_queue, d->reason);
			c->dead_lettered++;
			metric_inc(&consumer_metrics.dead_lettered);
		}
		request_id_end();
		trace_context_end();
		if (status != 0)
			return -1;
	}
	return 0;
}

/* Commit, dead-letter, then ack: the order that makes a crash anywhere harmless. */
static enum run_end flush_batch(struct consumer *c)
{
	struct order_batch *b = &c->batch;
	size_t poison_before = b->ndead;
	long long started = metrics_now_us();
	enum store_result r;
	int status;

	if (b->deliveries == 0)
		return RUN_CONTINUE;
	r = order_store_insert_all(c->store, b->rows, b->nrows);
	if (r == STORE_OK)
		log_committed(b->rows, b->nrows);
	else if (r == STORE_REJECTED)
		r = store_one_by_one(c);
	if (r != STORE_OK)
		return RUN_DB_LOST;
	if (dead_letter_all(c) != 0)
		return RUN_BROKER_LOST;
	status = broker_ack_through(c->link, b->last_tag);
	if (status != AMQP_STATUS_OK) {
		log_warnx("RabbitMQ: ack failed after commit: %s", amqp_error_string2(status));
		return RUN_BROKER_LOST;
	}
	c->stored += b->nrows - (b->ndead - poison_before);
	metric_add(&consumer_metrics.committed, b->nrows - (b->ndead - poison_before));
	metric_observe_us(&consumer_metrics.batch_latency, metrics_now_us() - started);
	order_batch_clear(b);
	c->backoff_s = 1;
	return RUN_CONTINUE;
}

/* A frame other than a delivery is pending: anything but a stray ack means reconnect. */
static int handle_other_frame(struct consumer *c)
{
	amqp_frame_t f;
	int status = broker_wait_frame(c->link, &f, NULL);

	if (status != AMQP_STATUS_OK) {
		log_warnx("RabbitMQ: %s", amqp_error_string2(status));
		return -1;
	}
	if (f.frame_type != AMQP_FRAME_METHOD)
		return 0;
	switch (f.payload.method.id) {
	case AMQP_BASIC_ACK_METHOD:
		return 0;
	case AMQP_BASIC_CANCEL_METHOD:
		log_warnx("RabbitMQ cancelled the consumer (queue %s deleted?)", c->cfg.queue);
		return -1;
	case AMQP_CHANNEL_CLOSE_METHOD:
	case AMQP_CONNECTION_CLOSE_METHOD:
		log_warnx("RabbitMQ closed the channel or connection");
		return -1;
	default:
		log_warnx("RabbitMQ: unexpected method 0x%08x", f.payload.method.id);
		return -1;
	}
}

static enum run_end consume(struct consumer *c)
{
	enum run_end end;

	while (!stop_signalled(c, 0)) {
		int wait_ms = c->batch.deliveries > 0 ? c->batch_wait_ms : IDLE_TICK_MS;
		struct timeval tv = { wait_ms / 1000, (wait_ms % 1000) * 1000 };
		amqp_envelope_t env;
		amqp_rpc_reply_t r;
		char why[256];

		r = broker_next_delivery(c->link, &env, &tv);
		if (r.reply_type == AMQP_RESPONSE_NORMAL) {
			if (env.redelivered)
				metric_inc(&consumer_metrics.redelivered);
			order_batch_add(&c->batch, &env);
			amqp_destroy_envelope(&env);
			if (order_batch_full(&c->batch) && (end = flush_batch(c)) != RUN_CONTINUE)
				return end;
			continue;
		}
		if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
		    r.library_error == AMQP_STATUS_TIMEOUT) {
			/* The queue is quiet for now: commit what is in hand. */
			if ((end = flush_batch(c)) != RUN_CONTINUE)
				return end;
			continue;
		}
		if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
		    r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
			if (handle_other_frame(c) != 0)
				return RUN_BROKER_LOST;
			continue;
		}
		log_warnx("RabbitMQ: consuming failed: %s", broker_reply_text(r, why, sizeof(why)));
		return RUN_BROKER_LOST;
	}
	end = flush_batch(c);
	return end == RUN_CONTINUE ? RUN_STOPPED : end;
}

static void run(struct consumer *c)
{
	while (!stop_signalled(c, 0)) {
		time_t started;
		enum run_end end;

		if (order_store_ready(c->store) != 0) {
			log_warnx("PostgreSQL unavailable; not consuming, retrying in %d s",
				  c->backoff_s);
			pause_backoff(c);
			continue;
		}
		if (broker_consume(c->link, c->prefetch) != 0) {
			log_warnx("RabbitMQ unavailable; reconnecting in %d s", c->backoff_s);
			pause_backoff(c);
			continue;
		}
		log_info("consuming from %s (prefetch %d, batch %lu)", c->cfg.queue, c->prefetch,
			 (unsigned long)c->batch.cap);
		started = time(NULL);
		end = consume(c);
		if (end == RUN_STOPPED)
			return;
		/* Closing hands every unacked delivery back to the queue; none was committed. */
		broker_disconnect(c->link, end == RUN_DB_LOST);
		order_batch_clear(&c->batch);
		if (time(NULL) - started >= STABLE_SESSION_S)
			c->backoff_s = 1;
		if (stop_signalled(c, 0))
			return;
		log_warnx("%s; messages in hand returned to the queue, reconnecting in %d s",
			  end == RUN_DB_LOST ? "PostgreSQL failed" : "RabbitMQ connection lost",
			  c->backoff_s);
		pause_backoff(c);
	}
}

int main(void)
{
	static struct consumer c;
	struct metrics_listener *page;
	long batch_size;

	log_init("billing_app");
	c.prefetch = (int)env_long("BILLING_PREFETCH", 1000, 1, 65535);
	batch_size = env_long("BILLING_BATCH_SIZE", 500, 1, 10000);
	c.batch_wait_ms = (int)env_long("BILLING_BATCH_WAIT_MS", 20, 1, 1000);
	if (broker_config_from_env(&c.cfg) != 0)
		return 1;
	signals_block(&c.signals);
	c.link = broker_new(&c.cfg, 0);
	broker_set_heartbeat(c.link, HEARTBEAT_S);
	c.dead_link = broker_new(&c.cfg, 1);
	c.store = order_store_new();
	order_batch_init(&c.batch, (size_t)batch_size);
	c.batch.max_body = (size_t)env_long("BILLING_MESSAGE_MAX_KB",
					    ORDER_BATCH_MAX_BODY_DEFAULT / 1024, 1, 131072) * 1024;
	c.backoff_s = 1;
	consumer_metrics_init();
	page = metrics_listener_start("BILLING_METRICS_ADDR", consumer_metrics_answer);

	run(&c);
	consumer_metrics_tick(1);
	metrics_listener_stop(page);

	log_info("shutting down: %lu orders stored, %lu messages dead-lettered", c.stored,
		 c.dead_lettered);
	broker_free(c.link);
	broker_free(c.dead_link);
	order_batch_free(&c.batch);
	order_store_free(c.store);
	broker_config_free(&c.cfg);
	return 0;
}
