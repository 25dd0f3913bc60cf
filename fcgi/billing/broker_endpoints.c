#define _POSIX_C_SOURCE 200809L
#include "broker_endpoints.h"

#include <stdlib.h>
#include <string.h>

#include "../common/log.h"

/* Parses one URL of len bytes into ep; n is its place in the list, for the messages. */
static int parse_one(struct broker_endpoint *ep, const char *url, size_t len, int n)
{
	int status;

	if (len == 0) {
		log_warnx("RABBITMQ_URL: entry %d is empty (URLs are separated by single commas)",
			  n);
		return -1;
	}
	ep->url_copy = strndup(url, len);
	if (ep->url_copy == NULL)
		fatalx("out of memory");
	amqp_default_connection_info(&ep->info);
	/* The message names the entry, not the URL: it holds a password. */
	status = amqp_parse_url(ep->url_copy, &ep->info);
	if (status != AMQP_STATUS_OK) {
		log_warnx("RABBITMQ_URL: entry %d is not a valid amqp:// URL: %s", n,
			  amqp_error_string2(status));
		return -1;
	}
	if (ep->info.ssl) {
		log_warnx("RABBITMQ_URL: entry %d: amqps:// is not supported; use amqp://", n);
		return -1;
	}
	/* rabbitmq-c reads "amqp://host/" as vhost "", which RabbitMQ rejects; people mean "/". */
	if (ep->info.vhost[0] == '\0')
		ep->info.vhost = "/";
	return 0;
}

int broker_endpoints_parse(struct broker_endpoints *e, const char *urls)
{
	const char *at = urls;

	memset(e, 0, sizeof(*e));
	for (;;) {
		size_t len = strcspn(at, ",");

		if (e->count == BROKER_ENDPOINTS_MAX) {
			log_warnx("RABBITMQ_URL lists more than %d brokers", BROKER_ENDPOINTS_MAX);
			goto fail;
		}
		if (parse_one(&e->list[e->count], at, len, e->count + 1) != 0) {
			e->count++;                  /* so that its copy is freed */
			goto fail;
		}
		e->count++;
		if (at[len] == '\0')
			return 0;
		at += len + 1;
	}
fail:
	broker_endpoints_free(e);
	return -1;
}

void broker_endpoints_free(struct broker_endpoints *e)
{
	for (int i = 0; i < e->count; i++)
		free(e->list[i].url_copy);
	memset(e, 0, sizeof(*e));
}

void broker_rotation_init(struct broker_rotation *r)
{
	r->start = 0;
	r->last = -1;
}

int broker_rotation_nth(const struct broker_rotation *r, int count, int attempt)
{
	return (r->start + attempt) % count;
}

void broker_rotation_connected(struct broker_rotation *r, int index)
{
	r->last = index;
	r->start = index;
}

void broker_rotation_lost(struct broker_rotation *r, int count)
{
	if (r->last >= 0)
		r->start = (r->last + 1) % count;
}
