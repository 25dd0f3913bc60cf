#define _POSIX_C_SOURCE 200809L
#include "database_tier.h"

#include <stdio.h>
#include <string.h>

#include "../common/env.h"
#include "../common/http_get.h"
#include "../common/log.h"
#include "../common/monotonic.h"

/*
 * Each API gets 400 ms (Patroni answers /cluster in a few); the whole check stops after
 * 800 ms, as the inventory's does, so the health answer stays within about a second.
 */
#define API_TIMEOUT_MS 400
#define CHECK_BUDGET_MS 800

static struct {
	char apis[DATABASE_TIER_APIS_MAX][DATABASE_TIER_ADDR_MAX];
	int napis;
} tier;

int database_tier_init(void)
{
	const char *list = env_str("HEALTH_DB_APIS", "");

	tier.napis = 0;
	while (*list != '\0') {
		size_t len = strcspn(list, ", ");

		if (len > 0) {
			if (tier.napis == DATABASE_TIER_APIS_MAX || len >= DATABASE_TIER_ADDR_MAX) {
				log_warnx("HEALTH_DB_APIS: at most %d addresses of up to %d characters",
					  DATABASE_TIER_APIS_MAX, DATABASE_TIER_ADDR_MAX - 1);
				return -1;
			}
			memcpy(tier.apis[tier.napis], list, len);
			tier.apis[tier.napis++][len] = '\0';
		}
		list += len + (list[len] != '\0');
	}
	return 0;
}

int database_tier_configured(void)
{
	return tier.napis > 0;
}

/* Asks one API for GET /cluster; 0 with cluster filled, or -1 with why set. */
static int ask(const char *api, int timeout_ms, struct patroni_cluster *cluster, char *why,
	       size_t why_size)
{
	struct http_get_answer answer;
	char bad[96];
	int rc = -1;

	if (http_get(api, "/cluster", timeout_ms, &answer, bad, sizeof(bad)) != 0) {
		snprintf(why, why_size, "%s: %s", api, bad);
		return -1;
	}
	if (answer.status != 200)
		snprintf(why, why_size, "%s: GET /cluster answered %d", api, answer.status);
	else if (patroni_cluster_parse(answer.body, answer.body_len, cluster, bad,
				       sizeof(bad)) != 0)
		snprintf(why, why_size, "%s: GET /cluster: %s", api, bad);
	else
		rc = 0;
	http_get_answer_free(&answer);
	return rc;
}

void database_tier_check(struct database_tier_result *c)
{
	long long deadline = monotonic_ms() + CHECK_BUDGET_MS;
	char last[DATABASE_TIER_WHY_MAX - 80] = "";   /* the last API's failure, cut to fit */
	int asked = 0;

	c->status = DATABASE_TIER_UNKNOWN;
	c->source[0] = '\0';
	for (; asked < tier.napis; asked++) {
		long long left = deadline - monotonic_ms();

		if (left <= 0)
			break;
		if (ask(tier.apis[asked], left < API_TIMEOUT_MS ? (int)left : API_TIMEOUT_MS,
			&c->cluster, last, sizeof(last)) != 0)
			continue;
		snprintf(c->source, sizeof(c->source), "%s", tier.apis[asked]);
		if (patroni_cluster_primary(&c->cluster) != NULL) {
			c->status = DATABASE_TIER_UP;
			c->why[0] = '\0';
		} else {
			c->status = DATABASE_TIER_DOWN;
			snprintf(c->why, sizeof(c->why), "Patroni lists no running primary");
		}
		return;
	}
	c->cluster.nmembers = 0;
	snprintf(c->why, sizeof(c->why), "no Patroni REST API answered (%d of %d asked in time); "
		 "last: %s", asked, tier.napis, last);
}

static void add_pair(struct http_body *b, const char *key, const char *value)
{
	http_body_add_str(b, ",\"");
	http_body_add_str(b, key);
	http_body_add_str(b, "\":");
	http_body_add_json_string(b, value, strlen(value));
}

/* A number, or null for a negative (unknown) one. */
static void add_number(struct http_body *b, const char *key, long long n)
{
	http_body_add_str(b, ",\"");
	http_body_add_str(b, key);
	http_body_add_str(b, "\":");
	if (n < 0)
		http_body_add_str(b, "null");
	else
		http_body_add_int(b, n);
}

static void add_host(struct http_body *b, const struct patroni_member *m)
{
	char address[PATRONI_NAME_MAX + 16];

	http_body_add_str(b, "{\"name\":");
	http_body_add_json_string(b, m->name, strlen(m->name));
	if (m->host[0] != '\0' && m->port > 0) {
		snprintf(address, sizeof(address), strchr(m->host, ':') ? "[%s]:%d" : "%s:%d",
			 m->host, m->port);
		add_pair(b, "address", address);
	} else {
		http_body_add_str(b, ",\"address\":null");
	}
	add_pair(b, "role", patroni_role_name(m->role));
	add_pair(b, "state", m->state);
	add_number(b, "lag_bytes", m->lag_bytes);
	add_number(b, "timeline", m->timeline);
	http_body_add_str(b, "}");
}

void database_tier_add_part(struct http_body *b, const struct database_tier_result *c)
{
	static const char *const names[] = { [DATABASE_TIER_UNKNOWN] = "unknown",
					     [DATABASE_TIER_UP] = "up", [DATABASE_TIER_DOWN] = "down" };

	http_body_add_str(b, ",\"database_tier\":{\"status\":");
	http_body_add_json_string(b, names[c->status], strlen(names[c->status]));
	if (c->source[0] != '\0')
		add_pair(b, "source", c->source);
	if (c->why[0] != '\0')
		add_pair(b, "detail", c->why);
	http_body_add_str(b, ",\"hosts\":[");
	for (int i = 0; i < c->cluster.nmembers; i++) {
		http_body_add_str(b, i > 0 ? "," : "");
		add_host(b, &c->cluster.members[i]);
	}
	http_body_add_str(b, "]}");
}
