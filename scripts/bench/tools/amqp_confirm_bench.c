/*
 * amqp_confirm_bench: the broker's own limit for scenario (d), without HTTP. CONNECTIONS
 * threads each open their own AMQP connection and channel in confirm mode and keep
 * INFLIGHT persistent messages outstanding on the durable queue (a new one for each
 * confirm), for SECONDS; then wait for the last confirms. The messages are orders like
 * the publisher's, each with a message id of its own, so the consumer stores them.
 *
 * Usage: AMQP_PASSWORD=... amqp_confirm_bench HOST PORT VHOST USER QUEUE CONNECTIONS
 *        INFLIGHT SECONDS
 * Prints "AMQP confirmed=N seconds=S rate=R nacked=N failed=N"; exit 1 on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define CHANNEL 1
#define WAIT_SECONDS 10
#define MAX_THREADS 256

struct settings {
	const char *host, *vhost, *user, *password, *queue;
	int port, inflight;
	double seconds;
};

struct worker {
	pthread_t thread;
	const struct settings *s;
	int no;
	long long confirmed, nacked;
	int failed;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int rpc_ok(amqp_connection_state_t c, const char *what)
{
	amqp_rpc_reply_t r = amqp_get_rpc_reply(c);

	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return 1;
	fprintf(stderr, "amqp_confirm_bench: %s failed\n", what);
	return 0;
}

/* Login, channel, confirm mode; the queue must exist (passive declare). */
static int open_channel(amqp_connection_state_t c, const struct settings *s)
{
	amqp_socket_t *sock = amqp_tcp_socket_new(c);
	amqp_rpc_reply_t r;

	if (sock == NULL || amqp_socket_open(sock, s->host, s->port) != AMQP_STATUS_OK) {
		fprintf(stderr, "amqp_confirm_bench: cannot connect to %s:%d\n", s->host, s->port);
		return -1;
	}
	r = amqp_login(c, s->vhost, 0, AMQP_DEFAULT_FRAME_SIZE, 0, AMQP_SASL_METHOD_PLAIN,
		       s->user, s->password);
	if (r.reply_type != AMQP_RESPONSE_NORMAL) {
		fprintf(stderr, "amqp_confirm_bench: login failed\n");
		return -1;
	}
	amqp_channel_open(c, CHANNEL);
	if (!rpc_ok(c, "channel.open"))
		return -1;
	amqp_queue_declare(c, CHANNEL, amqp_cstring_bytes(s->queue), 1, 0, 0, 0, amqp_empty_table);
	if (!rpc_ok(c, "queue.declare (passive)"))
		return -1;
	amqp_confirm_select(c, CHANNEL);
	return rpc_ok(c, "confirm.select") ? 0 : -1;
}

/* One order, persistent, mandatory, with the headers the publisher sets. */
static int publish(amqp_connection_state_t c, const struct worker *w, long long n)
{
	char id[64], body[256];
	amqp_basic_properties_t p;

	snprintf(id, sizeof(id), "bench-%ld-%d-%lld", (long)time(NULL), w->no, n);
	snprintf(body, sizeof(body), "{\"message_id\":\"%s\",\"user_id\":\"20\","
		 "\"number_of_items\":2,\"total_amount\":\"19.99\"}", id);
	memset(&p, 0, sizeof(p));
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
		   AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	p.timestamp = (uint64_t)time(NULL);
	p.message_id = amqp_cstring_bytes(id);
	return amqp_basic_publish(c, CHANNEL, amqp_empty_bytes, amqp_cstring_bytes(w->s->queue),
				  1, 0, &p, amqp_cstring_bytes(body)) == AMQP_STATUS_OK ? 0 : -1;
}

/*
 * Reads one confirm (ack or nack, maybe for several tags) and returns how many tags it
 * settles, given the highest tag settled so far; -1 on a timeout or any other frame.
 */
static long long read_confirm(amqp_connection_state_t c, uint64_t settled, int *nack)
{
	struct timeval tv = { WAIT_SECONDS, 0 };
	amqp_frame_t f;
	uint64_t tag;
	int multiple;

	amqp_maybe_release_buffers(c);
	if (amqp_simple_wait_frame_noblock(c, &f, &tv) != AMQP_STATUS_OK ||
	    f.frame_type != AMQP_FRAME_METHOD)
		return -1;
	if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
		amqp_basic_ack_t *a = f.payload.method.decoded;

		tag = a->delivery_tag, multiple = a->multiple, *nack = 0;
	} else if (f.payload.method.id == AMQP_BASIC_NACK_METHOD) {
		amqp_basic_nack_t *a = f.payload.method.decoded;

		tag = a->delivery_tag, multiple = a->multiple, *nack = 1;
	} else {
		return -1;
	}
	if (tag <= settled)
		return 0;
	return multiple ? (long long)(tag - settled) : 1;
}

static void run(struct worker *w, amqp_connection_state_t c)
{
	const struct settings *s = w->s;
	long long published = 0, settled = 0, got;
	double end;
	int nack;

	if (open_channel(c, s) != 0) {
		w->failed = 1;
		return;
	}
	end = now_s() + s->seconds;
	while (published < s->inflight)
		if (publish(c, w, ++published) != 0)
			goto fail;
	while (settled < published) {
		/* Acks of single tags arrive in order; "multiple" ones settle up to their tag. */
		if ((got = read_confirm(c, (uint64_t)settled, &nack)) < 0)
			goto fail;
		settled += got;
		if (nack)
			w->nacked += got;
		else
			w->confirmed += got;
		while (now_s() < end && published - settled < s->inflight)
			if (publish(c, w, ++published) != 0)
				goto fail;
	}
	amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	return;
fail:
	fprintf(stderr, "amqp_confirm_bench: connection %d failed after %lld confirms\n", w->no,
		w->confirmed);
	w->failed = 1;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	amqp_connection_state_t c = amqp_new_connection();

	if (c == NULL) {
		w->failed = 1;
		return NULL;
	}
	run(w, c);
	amqp_destroy_connection(c);
	return NULL;
}

int main(int argc, char **argv)
{
	struct settings s;
	struct worker *pool;
	long long confirmed = 0, nacked = 0;
	int connections, started = 0, failed = 0;
	double start, elapsed;

	if (argc != 9 || getenv("AMQP_PASSWORD") == NULL) {
		fprintf(stderr, "usage: AMQP_PASSWORD=... %s HOST PORT VHOST USER QUEUE "
			"CONNECTIONS INFLIGHT SECONDS\n", argv[0]);
		return 2;
	}
	s = (struct settings){ argv[1], argv[3], argv[4], getenv("AMQP_PASSWORD"), argv[5],
			       atoi(argv[2]), atoi(argv[7]), atof(argv[8]) };
	connections = atoi(argv[6]);
	if (s.port <= 0 || connections < 1 || connections > MAX_THREADS || s.inflight < 1 ||
	    s.seconds <= 0) {
		fprintf(stderr, "amqp_confirm_bench: bad PORT, CONNECTIONS, INFLIGHT or SECONDS\n");
		return 2;
	}
	pool = calloc((size_t)connections, sizeof(*pool));
	if (pool == NULL)
		return 1;
	start = now_s();
	for (int i = 0; i < connections; i++) {
		pool[i].s = &s;
		pool[i].no = i;
		if (pthread_create(&pool[i].thread, NULL, worker_main, &pool[i]) != 0)
			break;
		started++;
	}
	for (int i = 0; i < started; i++) {
		pthread_join(pool[i].thread, NULL);
		confirmed += pool[i].confirmed;
		nacked += pool[i].nacked;
		failed += pool[i].failed;
	}
	elapsed = now_s() - start;
	free(pool);
	failed += connections - started;
	printf("AMQP confirmed=%lld seconds=%.3f rate=%.1f nacked=%lld failed=%d\n", confirmed,
	       elapsed, (double)confirmed / elapsed, nacked, failed);
	return failed == 0 && nacked == 0 ? 0 : 1;
}
