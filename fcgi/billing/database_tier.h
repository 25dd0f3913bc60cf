/*
 * The database tier's part of GET /api/health (billing/platform_health.c): with
 * HEALTH_DB_APIS (the Patroni REST API of every DB host, host:port, comma-separated;
 * written by scripts/deploy/lib/gateway_settings.sh from DB_HOSTS), it asks GET /cluster
 * of the first that answers and lists each DB host with its role, state, replication lag
 * and timeline. Unset or empty: no database tier, and the health answer is as before.
 *
 * Its status: "up" with a running primary; "down" when Patroni answers but lists none
 * (writes cannot succeed: /api/health answers 503); "unknown" when no Patroni answers
 * validly. Unknown is not counted as down: the inventory's own check already says
 * whether the apps reach a primary, and a Patroni REST API the gateway cannot reach is a
 * blind spot of the monitor, not an outage of the platform.
 */
#ifndef BILLING_DATABASE_TIER_H
#define BILLING_DATABASE_TIER_H

#include "../common/http.h"
#include "patroni_cluster.h"

#define DATABASE_TIER_APIS_MAX 8
#define DATABASE_TIER_ADDR_MAX 128
#define DATABASE_TIER_WHY_MAX 200

enum database_tier_status { DATABASE_TIER_UNKNOWN, DATABASE_TIER_UP, DATABASE_TIER_DOWN };

struct database_tier_result {
	enum database_tier_status status;
	char source[DATABASE_TIER_ADDR_MAX];       /* the Patroni API that answered */
	char why[DATABASE_TIER_WHY_MAX];           /* unknown or down: why */
	struct patroni_cluster cluster;
};

/* Reads HEALTH_DB_APIS. 0, or -1 after logging what is wrong with it. */
int database_tier_init(void);

/* A database tier is configured (HEALTH_DB_APIS lists at least one API). */
int database_tier_configured(void);

/* Asks the APIs in turn, all within about 800 ms; fills c. */
void database_tier_check(struct database_tier_result *c);

/* ,"database_tier":{...} for the health answer's "parts". */
void database_tier_add_part(struct http_body *b, const struct database_tier_result *c);

#endif
