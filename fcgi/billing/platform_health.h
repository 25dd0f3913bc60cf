/*
 * GET /api/health, answered by the billing publisher: the one program of the gateway
 * that already talks to the broker. It asks the broker about the queue (a passive
 * queue.declare: depth and consumers) and every inventory backend about its database
 * (a FastCGI request to the inventory's health route); that lighttpd passed the request
 * on is the gateway's part.
 *
 * Bounded and cheap: every check has a short timeout and they run side by side, so an
 * answer takes at most about a second; the result is kept for a second and only one
 * check runs at a time in the process, so no rate of calls reaches the database or the
 * broker more than about once a second.
 */
#ifndef BILLING_PLATFORM_HEALTH_H
#define BILLING_PLATFORM_HEALTH_H

#include "../common/http.h"

/*
 * Reads HEALTH_INVENTORY_ADDRS, HEALTH_DB_APIS (database_tier.h), RABBITMQ_URL (one or
 * more nodes), RABBITMQ_QUEUE_TYPE and QUEUE_NAME. 0, or -1 after logging.
 */
int platform_health_init(void);
void platform_health_free(void);

/*
 * 200 application/json with one entry per part, or 503 problem+json whose "down" names
 * the parts that are down, with the same per-part detail. Returns the status sent.
 */
int platform_health_answer(const struct http_req *r);

#endif
