/*
 * Patroni's GET /cluster answer, read into fixed-size fields: the members of the
 * database tier with their role, state, replication lag and timeline. Everything is
 * validated (types, ranges, lengths, characters), so what the health answer echoes is
 * bounded and plain; an answer that does not fit is refused whole, never cut.
 */
#ifndef BILLING_PATRONI_CLUSTER_H
#define BILLING_PATRONI_CLUSTER_H

#include <stddef.h>

#define PATRONI_MEMBERS_MAX 16
#define PATRONI_NAME_MAX 64      /* a member's name, and its PostgreSQL host */
#define PATRONI_STATE_MAX 32

enum patroni_role { PATRONI_PRIMARY, PATRONI_SYNC_STANDBY, PATRONI_REPLICA,
		    PATRONI_OTHER_ROLE };

struct patroni_member {
	char name[PATRONI_NAME_MAX + 1];
	char host[PATRONI_NAME_MAX + 1];  /* its PostgreSQL's address; "" when not given */
	int port;                         /* 0 when not given */
	enum patroni_role role;           /* Patroni's "leader" is the primary */
	char state[PATRONI_STATE_MAX + 1];  /* "running", "streaming", "stopped", ... */
	long long lag_bytes;              /* behind the primary; 0 for it; -1 unknown */
	long long timeline;               /* -1 when not given */
};

struct patroni_cluster {
	struct patroni_member members[PATRONI_MEMBERS_MAX];
	int nmembers;
};

/*
 * Parses json (len bytes) into c. 0, or -1 with why saying what is wrong without
 * echoing the answer.
 */
int patroni_cluster_parse(const char *json, size_t len, struct patroni_cluster *c,
			  char *why, size_t why_size);

/* The running primary (a leader whose state is "running"), or NULL. */
const struct patroni_member *patroni_cluster_primary(const struct patroni_cluster *c);

/* "primary", "sync_standby", "replica" or "unknown" (a role Patroni added since 3.0). */
const char *patroni_role_name(enum patroni_role role);

#endif
