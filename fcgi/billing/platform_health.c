#define _POSIX_C_SOURCE 200809L
#include "platform_health.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/env.h"
#include "../common/fcgi_client.h"
#include "../common/log.h"
#include "../common/monotonic.h"
#include "../common/request_id.h"
#include "../common/trace_context.h"
#include "broker.h"
#include "database_tier.h"

#define CACHE_MS 1000            /* how long a result answers every caller */
#define BROKER_TIMEOUT_MS 400    /* connect, and each AMQP round trip */
#define INVENTORY_TIMEOUT_MS 800 /* the whole FastCGI exchange (its ping waits 400) */
#define BACKENDS_MAX 8
#define ADDR_MAX 128
#define WHY_MAX 160

struct backend_check {
	char addr[ADDR_MAX];
	char request_id[REQUEST_ID_MAX + 1];   /* so the inventory logs the same id */
	char traceparent[TRACEPARENT_LEN + 1]; /* and joins the same trace */
	int answered;                          /* it answered at all */
	int database_up;                       /* it answered 200: its database answered */
	char why[WHY_MAX];
	pthread_t thread;
	int threaded;
};

struct health_result {
	long long at_ms;                       /* 0: never checked */
	char checked_at[48];
	struct backend_check backends[BACKENDS_MAX];
	int nbackends;
	int broker_up, queue_up;
	unsigned long messages, consumers;
	char broker_why[WHY_MAX];
	struct database_tier_result db;               /* with a database tier (HEALTH_DB_APIS) */
};

static struct {
	pthread_mutex_t lock;                  /* held through a check: one at a time */
	struct broker_config cfg;
	struct broker *broker;                 /* its own connection, short timeouts */
	struct health_result last;
} platform = { .lock = PTHREAD_MUTEX_INITIALIZER };

/*
 * Splits HEALTH_INVENTORY_ADDRS into the backends: the gateway's inventory backends
 * written out (host:port or unix:PATH, an instance's own socket), comma- or
 * space-separated.
 */
static int read_backends(struct health_result *res)
{
	const char *list = env_str("HEALTH_INVENTORY_ADDRS", "");

	res->nbackends = 0;
	while (*list != '\0') {
		size_t len = strcspn(list, ", ");

		if (len > 0) {
			if (res->nbackends == BACKENDS_MAX || len >= ADDR_MAX) {
				log_warnx("HEALTH_INVENTORY_ADDRS: at most %d addresses of up to %d "
					  "characters", BACKENDS_MAX, ADDR_MAX - 1);
				return -1;
			}
			memcpy(res->backends[res->nbackends].addr, list, len);
			res->backends[res->nbackends++].addr[len] = '\0';
		}
		list += len + (list[len] != '\0');
	}
	return 0;
}

int platform_health_init(void)
{
	if (read_backends(&platform.last) != 0 || database_tier_init() != 0 ||
	    broker_config_from_env(&platform.cfg) != 0)
		return -1;
	/* Short limits: the check answers within about a second, one node or several. */
	platform.cfg.timeout_ms = BROKER_TIMEOUT_MS;
	platform.broker = broker_new(&platform.cfg, 0);
	return 0;
}

void platform_health_free(void)
{
	broker_free(platform.broker);
	platform.broker = NULL;
	broker_config_free(&platform.cfg);
}

static void *check_backend(void *arg)
{
	struct backend_check *c = arg;
	char rid_param[sizeof("HTTP_X_REQUEST_ID=") + REQUEST_ID_MAX];
	char tp_param[sizeof("HTTP_TRACEPARENT=") + TRACEPARENT_LEN];
	const char *params[] = { "GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=GET",
				 "SCRIPT_NAME=/api/health", "PATH_INFO=", "REQUEST_URI=/api/health",
				 "SERVER_PROTOCOL=HTTP/1.1", rid_param, tp_param, NULL };
	int status;

	snprintf(rid_param, sizeof(rid_param), "HTTP_X_REQUEST_ID=%s", c->request_id);
	snprintf(tp_param, sizeof(tp_param), "HTTP_TRACEPARENT=%s", c->traceparent);
	status = fcgi_client_request(c->addr, params, INVENTORY_TIMEOUT_MS, c->why,
				     sizeof(c->why));
	c->answered = status > 0;
	c->database_up = status == 200;
	if (status > 0 && status != 200 && status != 503)
		snprintf(c->why, sizeof(c->why), "answered %d", status);
	else if (status == 503)
		snprintf(c->why, sizeof(c->why), "its database does not answer");
	return NULL;
}

static void *check_db_tier(void *arg)
{
	database_tier_check(arg);
	return NULL;
}

/*
 * The queue's figures; a stale connection (its node restarted or died) gets one fresh
 * try, which starts at the next node of a cluster: any node that answers is healthy.
 */
static void check_broker(struct health_result *res)
{
	uint32_t messages = 0, consumers = 0;

	res->broker_up = res->queue_up = 0;
	for (int attempt = 0; attempt < 2 && !res->queue_up; attempt++) {
		if (broker_connect(platform.broker) != 0) {
			snprintf(res->broker_why, sizeof(res->broker_why), "RabbitMQ is unavailable");
			return;
		}
		res->broker_up = 1;
		if (broker_queue_stats(platform.broker, &messages, &consumers, res->broker_why,
				       sizeof(res->broker_why)) == 0)
			res->queue_up = 1;
		else
			broker_disconnect(platform.broker, 0);
	}
	res->messages = messages;
	res->consumers = consumers;
}

/*
 * Runs every check, the inventory backends and the database tier each in a thread
 * beside the broker's.
 */
static void run_checks(struct health_result *res)
{
	const char *rid = request_id_current(), *tp = trace_context_traceparent();
	struct timespec now;
	struct tm tm;
	char stamp[24];
	pthread_t db_thread;
	int db_threaded = 0;

	for (int i = 0; i < res->nbackends; i++) {
		struct backend_check *c = &res->backends[i];

		snprintf(c->request_id, sizeof(c->request_id), "%s", rid);
		snprintf(c->traceparent, sizeof(c->traceparent), "%s", tp);
		c->why[0] = '\0';
		c->threaded = pthread_create(&c->thread, NULL, check_backend, c) == 0;
		if (!c->threaded)
			check_backend(c);
	}
	if (database_tier_configured()) {
		db_threaded = pthread_create(&db_thread, NULL, check_db_tier, &res->db) == 0;
		if (!db_threaded)
			database_tier_check(&res->db);
	}
	check_broker(res);
	if (db_threaded)
		pthread_join(db_thread, NULL);
	for (int i = 0; i < res->nbackends; i++)
		if (res->backends[i].threaded)
			pthread_join(res->backends[i].thread, NULL);
	/* With milliseconds: callers (and the tests) can tell one check from the next. */
	if (clock_gettime(CLOCK_REALTIME, &now) != 0 || gmtime_r(&now.tv_sec, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		res->checked_at[0] = '\0';
	else
		snprintf(res->checked_at, sizeof(res->checked_at), "%s.%03dZ", stamp,
			 (int)(now.tv_nsec / 1000000) % 1000);
	res->at_ms = monotonic_ms();
}

/* A copy of a result at most CACHE_MS old, checking afresh when needed. */
static void current_result(struct health_result *out)
{
	if (pthread_mutex_lock(&platform.lock) != 0) {
		log_warnx("platform health: could not take the lock");
		memset(out, 0, sizeof(*out));
		return;
	}
	if (platform.last.at_ms == 0 || monotonic_ms() - platform.last.at_ms >= CACHE_MS)
		run_checks(&platform.last);
	*out = platform.last;
	pthread_mutex_unlock(&platform.lock);
}

static void add_pair(struct http_body *b, const char *sep, const char *key, const char *value)
{
	http_body_add_str(b, sep);
	http_body_add_json_string(b, key, strlen(key));
	http_body_add_str(b, ":");
	http_body_add_json_string(b, value, strlen(value));
}

static const char *up_down(int up)
{
	return up ? "up" : "down";
}

static void add_backends(struct http_body *b, const struct health_result *res)
{
	http_body_add_str(b, ",\"backends\":[");
	for (int i = 0; i < res->nbackends; i++) {
		const struct backend_check *c = &res->backends[i];

		add_pair(b, i > 0 ? ",{" : "{", "address", c->addr);
		add_pair(b, ",", "status", up_down(c->answered));
		if (c->answered)
			add_pair(b, ",", "database", up_down(c->database_up));
		if (c->why[0] != '\0')
			add_pair(b, ",", "detail", c->why);
		http_body_add_str(b, "}");
	}
	http_body_add_str(b, "]");
}

/* "parts": one object per part of the platform. */
static void add_parts(struct http_body *b, const struct health_result *res, int inventory_up,
		      int database_up)
{
	http_body_add_str(b, "\"parts\":{\"gateway\":{\"status\":\"up\"},\"inventory\":{");
	add_pair(b, "", "status", up_down(inventory_up));
	add_pair(b, ",", "database", inventory_up ? up_down(database_up) : "unknown");
	add_backends(b, res);
	http_body_add_str(b, "},\"billing_publisher\":{\"status\":\"up\"");
	add_pair(b, ",", "broker", up_down(res->broker_up));
	if (!res->queue_up)
		add_pair(b, ",", "detail", res->broker_why);
	http_body_add_str(b, "},\"queue\":{");
	add_pair(b, "", "status", res->broker_up ? up_down(res->queue_up) : "unknown");
	add_pair(b, ",", "name", platform.cfg.queue);
	if (res->queue_up) {
		http_body_add_str(b, ",\"messages\":");
		http_body_add_int(b, (long long)res->messages);
		http_body_add_str(b, ",\"consumers\":");
		http_body_add_int(b, (long long)res->consumers);
	}
	http_body_add_str(b, "}");
	if (database_tier_configured())
		database_tier_add_part(b, &res->db);
	http_body_add_str(b, "}");
	add_pair(b, ",", "checked_at", res->checked_at);
}

int platform_health_answer(const struct http_req *r)
{
	const char *method = http_param(r, "REQUEST_METHOD");
	const char *down[5];
	struct health_result res;
	struct http_body b;
	char detail[96] = "down:";
	int ndown = 0, inventory_up = 0, database_up = 0;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return http_problem(r, 405, "Allow: GET, HEAD\r\n", NULL,
				    "the health check is read-only");
	current_result(&res);
	for (int i = 0; i < res.nbackends; i++) {
		inventory_up |= res.backends[i].answered;
		database_up |= res.backends[i].database_up;
	}
	if (!inventory_up)
		down[ndown++] = "inventory";
	else if (!database_up)
		down[ndown++] = "inventory_database";
	if (!res.broker_up)
		down[ndown++] = "broker";
	else if (!res.queue_up)
		down[ndown++] = "queue";
	if (database_tier_configured() && res.db.status == DATABASE_TIER_DOWN)
		down[ndown++] = "database_tier";
	if (ndown == 0) {
		http_body_begin(&b, r, 200, "application/json", "Cache-Control: no-store\r\n");
		http_body_add_str(&b, "{\"status\":\"up\",");
	} else {
		for (int i = 0; i < ndown; i++)
			snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), " %s",
				 down[i]);
		http_problem_begin(&b, r, 503, "Cache-Control: no-store\r\nRetry-After: 1\r\n",
				   detail);
		http_body_add_str(&b, ",\"down\":[");
		for (int i = 0; i < ndown; i++) {
			http_body_add_str(&b, i > 0 ? "," : "");
			http_body_add_json_string(&b, down[i], strlen(down[i]));
		}
		http_body_add_str(&b, "],");
	}
	add_parts(&b, &res, inventory_up, database_up);
	if (ndown > 0)
		return http_problem_end(&b);
	http_body_add_str(&b, "}");
	return http_body_end(&b);
}
