/*
 * billing_publisher: POST /api/billing as a multi-threaded FastCGI program. It checks
 * an order, publishes it to RabbitMQ as a persistent message and answers 200 only
 * once the broker confirmed it. Each worker thread owns its AMQP connection. It also
 * answers GET /api/health (platform_health.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/env.h"
#include "../common/fcgi_server.h"
#include "../common/json_body.h"
#include "../common/log.h"
#include "../common/metrics_http.h"
#include "../common/request_id.h"
#include "../common/trace_context.h"
#include "message_id.h"
#include "order.h"
#include "platform_health.h"
#include "publish.h"
#include "publisher_metrics.h"

static struct broker_config broker_cfg;
static size_t max_body;

/* Connecting waits for the first request, so start-up does not need the broker. */
static void *publisher_new(void)
{
	return broker_new(&broker_cfg, 1);
}

static void publisher_free(void *worker)
{
	broker_free(worker);
}

/* {"status":"accepted","message_id":"..."}; a client's id may hold quotes, so it is escaped. */
static int answer_accepted(const struct http_req *r, const char *message_id)
{
	struct http_body b;

	http_body_begin(&b, r, 200, "application/json", NULL);
	http_body_add_str(&b, "{\"status\":\"accepted\",\"message_id\":");
	http_body_add_json_string(&b, message_id, strlen(message_id));
	http_body_add_str(&b, "}");
	return http_body_end(&b);
}

/* A key leaves room in the message id for ':' and the order's digest. */
#define IDEMPOTENCY_KEY_MAX 167
_Static_assert(IDEMPOTENCY_KEY_MAX + 1 + ORDER_DIGEST_HEX <= MESSAGE_ID_MAX,
	       "an Idempotency-Key and its digest fit in a message id");
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

/*
 * Without an Idempotency-Key, a fresh UUID. With one, an id derived from the key and the
 * order (order_message_id): the publisher keeps no memory of keys, so it cannot answer
 * 422 to a key reused for another order; it makes that order a separate one instead of
 * one the consumer would drop as a duplicate. 0, or the status sent.
 */
static int choose_message_id(const struct http_req *r, const struct order *order, char *out,
			     size_t size)
{
	const char *key = http_param(r, "HTTP_IDEMPOTENCY_KEY");
	size_t len = strlen(key);

	if (len == 0) {
		if (message_id_generate(out) != 0) {
			log_warn("getrandom");
			return http_problem(r, 500, NULL, NULL, "could not generate a message id");
		}
		return 0;
	}
	if (len > IDEMPOTENCY_KEY_MAX || !message_id_valid(key, len) ||
	    order_message_id(order, key, out, size) != 0)
		return http_problem(r, 400, NULL, "Idempotency-Key",
				    "Idempotency-Key must be 1 to " STRINGIFY(IDEMPOTENCY_KEY_MAX)
				    " visible ASCII characters");
	return 0;
}

static int create_order(struct broker *b, const struct http_req *r)
{
	char message_id[MESSAGE_ID_MAX + 1], *message;
	const char *field, *detail;
	struct outgoing_message m;
	struct order order;
	json_object *body;
	long long started;
	int status;

	if ((status = json_body_read(r, max_body, &body)) != 0)
		return status;
	status = order_from_object(body, &order, &field, &detail);
	json_object_put(body);
	if (status != 0)
		return http_problem(r, status, NULL, field, detail);
	if ((status = choose_message_id(r, &order, message_id, sizeof(message_id))) != 0)
		return status;
	message = order_to_json(&order, message_id);
	if (message == NULL) {
		log_warnx("out of memory building message %s", message_id);
		return http_problem(r, 500, NULL, NULL, "the order could not be prepared");
	}
	m = (struct outgoing_message){ broker_cfg.queue, message_id, message, strlen(message),
				       NULL, request_id_current(), trace_context_traceparent(),
				       trace_context_tracestate() };
	started = metrics_now_us();
	status = publish_confirmed(b, &m);
	publisher_metrics_published(status, started);
	if (status == 0) {
		log_info("order %s confirmed by RabbitMQ", message_id);
		status = answer_accepted(r, message_id);
	} else {
		status = http_problem(r, 503, "Retry-After: 1\r\n", NULL,
				      "billing is unavailable; the order was not accepted, try again");
	}
	free(message);
	return status;
}

/*
 * lighttpd rewrites /api/health to /api/billing/health (lighttpd.conf) and passes the
 * path the client asked for as REQUEST_URI: only that reaches the health check.
 */
static int asked_for_health(const struct http_req *r)
{
	const char *uri = http_param(r, "REQUEST_URI");
	size_t len = strcspn(uri, "?");

	return strcmp(http_param(r, "PATH_INFO"), "/health") == 0 &&
	       (len == strlen("/api/health") || len == strlen("/api/health/")) &&
	       strncmp(uri, "/api/health/", len) == 0;
}

static int publisher_handle(void *worker, const struct http_req *r)
{
	const char *path = http_param(r, "PATH_INFO");
	const char *method = http_param(r, "REQUEST_METHOD");
	char detail[64];
	int status;

	if (metrics_is_scrape(r))
		return publisher_metrics_answer(r);
	if (asked_for_health(r))
		return platform_health_answer(r);
	if (path[0] != '\0' && strcmp(path, "/") != 0)
		return http_problem(r, 404, NULL, NULL, "no such resource");
	if (strcmp(method, "POST") != 0) {
		snprintf(detail, sizeof(detail), "%.16s is not supported here", method);
		return http_problem(r, 405, "Allow: POST\r\n", NULL, detail);
	}
	status = create_order(worker, r);
	publisher_metrics_answered(status);
	return status;
}

int main(void)
{
	static const struct fcgi_app app = {
		.name = "billing_publisher",
		.listen_var = "BILLING_FCGI_ADDR",      /* unset: spawned by lighttpd, or CGI */
		.listen_default = NULL,
		.worker_new = publisher_new,
		.worker_free = publisher_free,
		.handle = publisher_handle,
	};
	int threads, status;

	log_init(app.name);
	threads = (int)env_long("BILLING_PUBLISHER_THREADS", 32, 1, 256);
	max_body = (size_t)env_long("REQUEST_BODY_MAX_KB", 64, 1, 16384) * 1024;
	if (broker_config_from_env(&broker_cfg) != 0 || platform_health_init() != 0)
		return 1;
	status = fcgi_server_run(&app, threads);
	platform_health_free();
	broker_config_free(&broker_cfg);
	return status;
}
