#define _POSIX_C_SOURCE 200809L
#include "patroni_cluster.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define JSON_DEPTH 16            /* members[].tags may hold objects of their own */

/* Characters a field may hold: what Patroni writes there, nothing to escape. */
#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define HOST_CHARS NAME_CHARS ":"
#define STATE_CHARS "abcdefghijklmnopqrstuvwxyz _"

/*
 * Copies member field key, a string of min..max characters from allowed, into out;
 * absent (or null) leaves out "" when min is 0. 0, or -1 with why set.
 */
static int take_string(json_object *m, const char *key, size_t min, size_t max,
		       const char *allowed, char *out, int i, char *why, size_t why_size)
{
	json_object *v = NULL;
	const char *s;
	size_t len;

	out[0] = '\0';
	if (!json_object_object_get_ex(m, key, &v) || v == NULL) {
		if (min == 0)
			return 0;
		snprintf(why, why_size, "member %d has no %s", i, key);
		return -1;
	}
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(why, why_size, "member %d: %s is not a string", i, key);
		return -1;
	}
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (len < min || len > max || strspn(s, allowed) != len) {
		snprintf(why, why_size, "member %d: %s is not %zu to %zu plain characters", i, key,
			 min, max);
		return -1;
	}
	memcpy(out, s, len + 1);
	return 0;
}

/*
 * Member field key as an integer in [min, max] into *out, or absent: *out = absent.
 * With unknown_ok, the string "unknown" (Patroni's lag of a member without a position)
 * gives absent too. 0, or -1 with why set.
 */
static int take_int(json_object *m, const char *key, long long min, long long max,
		    int unknown_ok, long long absent, long long *out, int i, char *why,
		    size_t why_size)
{
	json_object *v = NULL;
	int64_t n;

	*out = absent;
	if (!json_object_object_get_ex(m, key, &v) || v == NULL)
		return 0;
	if (unknown_ok && json_object_is_type(v, json_type_string) &&
	    strcmp(json_object_get_string(v), "unknown") == 0)
		return 0;
	n = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || n < min || n > max) {
		snprintf(why, why_size, "member %d: %s is not a number from %lld to %lld", i, key,
			 min, max);
		return -1;
	}
	*out = n;
	return 0;
}

static enum patroni_role role_of(const char *role)
{
	if (strcmp(role, "leader") == 0)
		return PATRONI_PRIMARY;
	if (strcmp(role, "sync_standby") == 0)
		return PATRONI_SYNC_STANDBY;
	if (strcmp(role, "replica") == 0)
		return PATRONI_REPLICA;
	return PATRONI_OTHER_ROLE;
}

static int take_member(json_object *m, struct patroni_member *out, int i, char *why,
		       size_t why_size)
{
	char role[PATRONI_STATE_MAX + 1];
	long long port;

	if (!json_object_is_type(m, json_type_object)) {
		snprintf(why, why_size, "member %d is not an object", i);
		return -1;
	}
	if (take_string(m, "name", 1, PATRONI_NAME_MAX, NAME_CHARS, out->name, i, why,
			why_size) != 0 ||
	    take_string(m, "role", 1, PATRONI_STATE_MAX, STATE_CHARS, role, i, why,
			why_size) != 0 ||
	    take_string(m, "state", 0, PATRONI_STATE_MAX, STATE_CHARS, out->state, i, why,
			why_size) != 0 ||
	    take_string(m, "host", 0, PATRONI_NAME_MAX, HOST_CHARS, out->host, i, why,
			why_size) != 0 ||
	    take_int(m, "port", 1, 65535, 0, 0, &port, i, why, why_size) != 0 ||
	    take_int(m, "timeline", 1, INT32_MAX, 0, -1, &out->timeline, i, why,
		     why_size) != 0)
		return -1;
	out->port = (int)port;
	out->role = role_of(role);
	/* Patroni gives no lag for the leader: the others' lag is measured from it. */
	return take_int(m, "lag", 0, INT64_MAX - 1, 1, out->role == PATRONI_PRIMARY ? 0 : -1,
			&out->lag_bytes, i, why, why_size);
}

/* The parsed answer (the caller puts it), or NULL with why set. */
static json_object *parse_json(const char *json, size_t len, char *why, size_t why_size)
{
	json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
	json_object *root;
	enum json_tokener_error e;

	if (tok == NULL) {
		snprintf(why, why_size, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = len > INT32_MAX ? NULL : json_tokener_parse_ex(tok, json, (int)len);
	e = json_tokener_get_error(tok);
	if (root == NULL || e != json_tokener_success || json_tokener_get_parse_end(tok) != len) {
		snprintf(why, why_size, "not JSON (%s)", json_tokener_error_desc(e));
		json_object_put(root);
		root = NULL;
	}
	json_tokener_free(tok);
	return root;
}

int patroni_cluster_parse(const char *json, size_t len, struct patroni_cluster *c,
			  char *why, size_t why_size)
{
	json_object *root = parse_json(json, len, why, why_size), *members = NULL;
	int rc = -1;
	size_t n = 0;

	c->nmembers = 0;
	if (root == NULL)
		return -1;
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "members", &members) ||
	    !json_object_is_type(members, json_type_array)) {
		snprintf(why, why_size, "no \"members\" list");
		goto out;
	}
	n = json_object_array_length(members);
	if (n > PATRONI_MEMBERS_MAX) {
		snprintf(why, why_size, "%zu members, more than the %d this check lists", n,
			 PATRONI_MEMBERS_MAX);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (take_member(json_object_array_get_idx(members, i), &c->members[i], (int)i,
				why, why_size) != 0)
			goto out;
	c->nmembers = (int)n;
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

const struct patroni_member *patroni_cluster_primary(const struct patroni_cluster *c)
{
	for (int i = 0; i < c->nmembers; i++)
		if (c->members[i].role == PATRONI_PRIMARY &&
		    strcmp(c->members[i].state, "running") == 0)
			return &c->members[i];
	return NULL;
}

const char *patroni_role_name(enum patroni_role role)
{
	switch (role) {
	case PATRONI_PRIMARY: return "primary";
	case PATRONI_SYNC_STANDBY: return "sync_standby";
	case PATRONI_REPLICA: return "replica";
	default: return "unknown";
	}
}
