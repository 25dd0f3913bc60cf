/*
 * The inventory instance's answer to the health check: is its database answering?
 * Asked by the billing publisher over FastCGI (billing/platform_health.c), never routed
 * by the gateway itself.
 */
#ifndef INVENTORY_SELF_CHECK_H
#define INVENTORY_SELF_CHECK_H

#include "movies.h"

/* The SCRIPT_NAME the publisher's health request carries. */
#define SELF_CHECK_SCRIPT_NAME "/api/health"

/*
 * 200 {"status":"up","database":"up"} when one SELECT 1 answers within a short time,
 * else 503 problem+json with "database":"down". Returns the status sent.
 */
int self_check_answer(struct inventory *inv, const struct http_req *r);

#endif
