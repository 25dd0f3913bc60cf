#define _POSIX_C_SOURCE 200809L
#include "db.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "log.h"
#include "monotonic.h"

/*
 * A statement still running when the gateway gives up (lighttpd's read-timeout, 30 s)
 * only holds a connection and a worker: PostgreSQL cancels it a little before.
 */
#define STATEMENT_TIMEOUT_MS_DEFAULT 25000

struct db_metrics db_metrics;

/*
 * With several hosts (a Patroni cluster) libpq tries each in turn for the one that takes
 * writes, each within connect_timeout (2 s, libpq's least); a host whose link is down
 * costs that much once. A statement sent to a host that stopped answering fails after
 * tcp_user_timeout instead of hanging until the gateway gives up, and idle connections are
 * probed by keepalives: either way the next request reconnects to the new primary.
 * One host has no other to try, so it gets longer: many threads reconnecting at once
 * after a restart each wait for a backend's fork and a scram exchange, which on a busy
 * machine took over libpq's 2 s (in whole seconds, so 1 to 2).
 */
#define CONNECT_TIMEOUT_CLUSTER_S "2"
#define CONNECT_TIMEOUT_ONE_HOST_S "5"
#define TCP_USER_TIMEOUT_MS "5000"
/* While no host takes writes, a read tries the cluster for one at most this often. */
#define PRIMARY_RETRY_MS 500

enum { KEY_SESSION_ATTRS = 9, KEY_COUNT = 14 };

struct db {
	PGconn *conn;
	const char *keys[KEY_COUNT + 1];
	const char *values[KEY_COUNT + 1];
	char options[64];      /* the session settings sent at connect time */
	const struct db_stmt *stmts;
	int nstmts;
	int was_down;          /* log "connected" again only after an outage */
	int read_only;         /* conn is a standby's, taken for reads while no primary was found */
	long long primary_tried_ms; /* when a read last looked for a primary (monotonic) */
};

static const char *db_var(const char *prefix, const char *suffix)
{
	char name[64];

	snprintf(name, sizeof(name), "%s_%s", prefix, suffix);
	return env_str(name, NULL);
}

/* Several hosts (a comma in the host list): a cluster whose primary may move. */
static int db_is_cluster(const struct db *db)
{
	return db->values[0] != NULL && strchr(db->values[0], ',') != NULL;
}

struct db *db_new(const char *env_prefix, const char *app_name,
		  const struct db_stmt *stmts, int nstmts)
{
	struct db *db = calloc(1, sizeof(*db));
	const char *keys[] = { "host", "port", "dbname", "user", "password",
			       "connect_timeout", "application_name", "client_encoding",
			       "options", "target_session_attrs", "tcp_user_timeout",
			       "keepalives_idle", "keepalives_interval", "keepalives_count",
			       NULL };
	const char *suffixes[] = { "HOST", "PORT", "DB", "USER", "PASSWORD" };
	long timeout_ms = env_long("DB_STATEMENT_TIMEOUT_MS", STATEMENT_TIMEOUT_MS_DEFAULT, 0,
				   3600000);

	if (db == NULL)
		fatalx("out of memory");
	for (int i = 0; i < 5; i++)
		db->values[i] = db_var(env_prefix, suffixes[i]);
	db->values[5] = db_is_cluster(db) ? CONNECT_TIMEOUT_CLUSTER_S : CONNECT_TIMEOUT_ONE_HOST_S;
	db->values[6] = app_name;
	/* Text is UTF-8 both ways whatever PGCLIENTENCODING or the server's default says. */
	db->values[7] = "UTF8";
	snprintf(db->options, sizeof(db->options), "-c statement_timeout=%ld", timeout_ms);
	db->values[8] = db->options;
	db->values[KEY_SESSION_ATTRS] = "read-write";
	db->values[10] = TCP_USER_TIMEOUT_MS;
	db->values[11] = "5";  /* keepalives: idle 5 s, then 3 probes 1 s apart */
	db->values[12] = "1";
	db->values[13] = "3";
	db->values[KEY_COUNT] = NULL;
	memcpy(db->keys, keys, sizeof(keys));
	db->stmts = stmts;
	db->nstmts = nstmts;
	return db;
}

void db_free(struct db *db)
{
	if (db == NULL)
		return;
	PQfinish(db->conn);
	free(db);
}

/* Length of a libpq message without the newlines it ends with, for one-line logs. */
static int db_msg_len(const char *msg)
{
	size_t len = strlen(msg);

	while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
		len--;
	return len > 4096 ? 4096 : (int)len;
}

/* Server notices (such as a shutdown notice) go to the log, not raw to stderr. */
static void db_notice(void *arg, const char *msg)
{
	(void)arg;
	log_warnx("database notice: %.*s", db_msg_len(msg), msg);
}

static int db_prepare_all(struct db *db)
{
	for (int i = 0; i < db->nstmts; i++) {
		PGresult *res = PQprepare(db->conn, db->stmts[i].name, db->stmts[i].sql,
					  db->stmts[i].nparams, NULL);
		int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

		if (!ok)
			log_warnx("prepare %s: %.*s", db->stmts[i].name,
				  db_msg_len(PQerrorMessage(db->conn)), PQerrorMessage(db->conn));
		PQclear(res);
		if (!ok)
			return -1;
	}
	return 0;
}

static void db_drop(struct db *db)
{
	PQfinish(db->conn);
	db->conn = NULL;
}

/* Drops a connection that failed; the next one that works is logged as a return. */
static void db_down(struct db *db)
{
	db->was_down = 1;
	db_drop(db);
}

/* A statement found the connection dead: says so, with what happens next, and drops it. */
static void db_connection_lost(struct db *db, const char *next)
{
	metric_inc(&db_metrics.connections_lost);
	log_warnx("database connection lost%s", next);
	db_down(db);
}

/* Whether an idle connection is still open. Reading what the server sent while idle
 * reveals a closed one before a statement that must not be retried is sent on it; a
 * shutdown sends a notice and then EOF, which takes one read each. */
static int db_alive(PGconn *conn)
{
	struct pollfd pfd = { .fd = PQsocket(conn), .events = POLLIN };

	for (int reads = 0; reads < 8; reads++) {
		int ready;

		if (PQstatus(conn) != CONNECTION_OK)
			return 0;
		ready = poll(&pfd, 1, 0);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			return ready == 0;
		if (PQconsumeInput(conn) != 1)
			return 0;
	}
	return 0; /* a stream of unsolicited data: not a connection to trust */
}

/* Connects with target_session_attrs attrs and prepares the statements; 0 on success. */
static int db_connect(struct db *db, const char *attrs)
{
	db_drop(db);
	db->values[KEY_SESSION_ATTRS] = attrs;
	db->conn = PQconnectdbParams(db->keys, db->values, 0);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		const char *why = db->conn ? PQerrorMessage(db->conn) : "out of memory";

		if (!db->was_down)
			log_warnx("database %s unavailable (%s): %.*s",
				  db->values[2] ? db->values[2] : "", attrs, db_msg_len(why), why);
		metric_inc(&db_metrics.connect_failures);
		db_drop(db);
		return -1;
	}
	PQsetNoticeProcessor(db->conn, db_notice, NULL);
	if (db_prepare_all(db) != 0) {
		metric_inc(&db_metrics.connect_failures);
		db_drop(db);
		return -1;
	}
	return 0;
}

/*
 * A connection to the primary; or, for a read (read set) while no host takes writes (a
 * switchover, a failover), to any host that answers, a standby, until a primary is back.
 */
static int db_ready_for(struct db *db, int read)
{
	const char *name = db->values[2] ? db->values[2] : "";

	if (db->conn != NULL && db_alive(db->conn)) {
		if (!db->read_only)
			return 0;
		if (read && monotonic_ms() - db->primary_tried_ms < PRIMARY_RETRY_MS)
			return 0;
	}
	db->primary_tried_ms = monotonic_ms();
	if (db_connect(db, "read-write") == 0) {
		if (db->was_down) {
			log_info("database %s connected", name);
			metric_inc(&db_metrics.reconnects);
		}
		db->was_down = 0;
		db->read_only = 0;
		return 0;
	}
	if (!db->was_down)
		db->was_down = 1;
	/* One server has no standby to fall back on. */
	if (read && db_is_cluster(db) && db_connect(db, "any") == 0) {
		if (!db->read_only)
			log_warnx("database %s: no host takes writes; reads go to a standby", name);
		db->read_only = 1;
		return 0;
	}
	db->read_only = 0;
	return -1;
}

int db_ready(struct db *db)
{
	return db_ready_for(db, 0);
}

/* A result that says the connection, not the statement, failed. */
static int db_lost(struct db *db, const PGresult *res)
{
	return res == NULL || PQstatus(db->conn) != CONNECTION_OK ||
	       (PQresultStatus(res) == PGRES_FATAL_ERROR &&
		PQresultErrorField(res, PG_DIAG_SQLSTATE) == NULL);
}

PGresult *db_exec(struct db *db, int index, const char *const *params, int retry_safe)
{
	const struct db_stmt *stmt = &db->stmts[index];

	for (int attempt = 0; attempt < 2; attempt++) {
		PGresult *res;

		if (db_ready_for(db, retry_safe == DB_READ) != 0)
			return NULL;
		res = PQexecPrepared(db->conn, stmt->name, stmt->nparams, params, NULL, NULL, 0);
		if (!db_lost(db, res))
			return res;
		PQclear(res);
		db_connection_lost(db, retry_safe && attempt == 0 ? "; reconnecting" : "");
		if (!retry_safe)
			return NULL;
	}
	return NULL;
}

PGresult *db_stream_first(struct db *db, int index, const char *const *params)
{
	const struct db_stmt *stmt = &db->stmts[index];

	for (int attempt = 0; attempt < 2; attempt++) {
		PGresult *res = NULL;

		if (db_ready_for(db, 1) != 0)
			return NULL;
		if (PQsendQueryPrepared(db->conn, stmt->name, stmt->nparams, params, NULL, NULL,
					0) == 1 && PQsetSingleRowMode(db->conn) == 1)
			res = PQgetResult(db->conn);
		if (!db_lost(db, res))
			return res;
		PQclear(res);
		db_connection_lost(db, attempt == 0 ? "; reconnecting" : "");
	}
	return NULL;
}

PGresult *db_stream_next(struct db *db)
{
	return db->conn != NULL ? PQgetResult(db->conn) : NULL;
}

void db_stream_end(struct db *db)
{
	PGresult *res;

	if (db->conn == NULL)
		return;
	while ((res = PQgetResult(db->conn)) != NULL)
		PQclear(res);
	if (PQstatus(db->conn) != CONNECTION_OK)
		db_connection_lost(db, " while rows were read");
}

/* Waits for the answer to a query sent with PQsendQuery; 0 when it all came in time. */
static int db_await(PGconn *conn, int timeout_ms)
{
	struct pollfd pfd = { .fd = PQsocket(conn), .events = POLLIN };

	while (PQisBusy(conn)) {
		int ready = poll(&pfd, 1, timeout_ms);   /* a ping's answer is one read or two */

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0 || PQconsumeInput(conn) != 1)
			return -1;
	}
	return 0;
}

int db_ping(struct db *db, int timeout_ms)
{
	PGresult *res;
	int ok = 1;

	if (db_ready(db) != 0)
		return -1;
	if (PQsendQuery(db->conn, "SELECT 1") != 1 || db_await(db->conn, timeout_ms) != 0) {
		log_warnx("database %s did not answer a ping within %d ms",
			  db->values[2] ? db->values[2] : "", timeout_ms);
		db_down(db);
		return -1;
	}
	while ((res = PQgetResult(db->conn)) != NULL) {
		ok = ok && PQresultStatus(res) == PGRES_TUPLES_OK;
		PQclear(res);
	}
	return ok ? 0 : -1;
}

enum db_error db_classify(const PGresult *res)
{
	const char *state;

	if (res == NULL)
		return DB_ERR_TRANSIENT;
	switch (PQresultStatus(res)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
	case PGRES_SINGLE_TUPLE:
		return DB_ERR_NONE;
	default:
		break;
	}
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state == NULL)
		return DB_ERR_TRANSIENT;
	if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
		return DB_ERR_DATA;
	/* 08 connection, 53 resources, 57 operator intervention, 40 rollback/deadlock,
	 * 25006 a write on a server that had just become a standby */
	if (strcmp(state, "25006") == 0 || strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
	    strncmp(state, "57", 2) == 0 || strncmp(state, "40", 2) == 0)
		return DB_ERR_TRANSIENT;
	return DB_ERR_OTHER;
}
