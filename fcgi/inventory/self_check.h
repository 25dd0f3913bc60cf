/*
 * The inventory's side of GET /api/health: is this instance's database answering?
 * Asked by the billing publisher over FastCGI (billing/health.c), never routed by the
 * gateway itself.
 */
#ifndef INVENTORY_HEALTH_H
#define INVENTORY_HEALTH_H

#include "movies.h"

/* The SCRIPT_NAME the publisher's health request carries. */
#define INVENTORY_HEALTH_PATH "/api/health"

/*
 * 200 {"status":"up","database":"up"} when one SELECT 1 answers within a short time,
 * else 503 problem+json with "database":"down". Returns the status sent.
 */
int inventory_health(struct inventory *inv, const struct http_req *r);

#endif
