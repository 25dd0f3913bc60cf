/*
 * One PostgreSQL connection with its prepared statements, owned by one thread.
 * It reconnects by itself: a caller never sees a dead connection twice.
 */
#ifndef COMMON_DB_H
#define COMMON_DB_H

#include <libpq-fe.h>

#include "metrics.h"

struct db_stmt {
	const char *name;
	const char *sql;
	int nparams;
};

struct db;

/*
 * A connection configured from env_prefix_HOST/_PORT/_DB/_USER/_PASSWORD
 * (env_prefix is "POSTGRES" or "POSTGRES_BILLING"); stmts lives as long as the db.
 * Every session talks UTF-8 (client_encoding) and has a statement_timeout of
 * DB_STATEMENT_TIMEOUT_MS (default 25 s, under the gateway's 30 s; 0 = none); a statement
 * cancelled by it fails with SQLSTATE 57014, which db_classify calls transient.
 * Never NULL: connecting happens on first use, so start-up does not wait for the server.
 * env_prefix_HOST may list several hosts (a Patroni cluster, "db-vm-1,db-vm-2,db-vm-3"):
 * libpq's multi-host form with target_session_attrs=read-write finds the primary, so
 * after a failover the next connection goes to the new one.
 */
struct db *db_new(const char *env_prefix, const char *app_name,
		  const struct db_stmt *stmts, int nstmts);
void db_free(struct db *db);

/* 0 when connected to the primary (connecting and preparing if needed), -1 when none is reachable. */
int db_ready(struct db *db);

/* db_exec's retry_safe: DB_ONCE, a write whose outcome is unknown when the connection
 * drops (the caller answers 503); DB_RETRY, a statement that may run twice; DB_READ, a
 * read, which may also go to a standby while no primary exists (a switchover). */
enum { DB_ONCE = 0, DB_RETRY = 1, DB_READ = 2 };

/*
 * Runs prepared statement index with text params (NULL = SQL NULL).
 * When the connection turns out dead and retry_safe is set, reconnects and runs it once more.
 * Returns the result (PQclear it), or NULL when the database is unavailable.
 */
PGresult *db_exec(struct db *db, int index, const char *const *params, int retry_safe);

/*
 * One round trip (SELECT 1) within timeout_ms, connecting first if needed: the health
 * check. A connection that does not answer in time is dropped. 0 answered, else -1.
 */
int db_ping(struct db *db, int timeout_ms);

/*
 * Runs prepared statement index, a read (retried once on a dead connection, since no row
 * was seen yet; a standby serves it while no primary exists), in libpq's single-row mode: the rows come one at a time, so a large
 * result never sits whole in memory. Returns the first result, the caller's to PQclear:
 * PGRES_SINGLE_TUPLE holds one row, and db_stream_next gives the next result the same
 * way; PGRES_TUPLES_OK (no more rows), a failure, or NULL (database unavailable) ends the
 * rows. Finish every stream, at its end or early, with db_stream_end.
 */
PGresult *db_stream_first(struct db *db, int index, const char *const *params);
PGresult *db_stream_next(struct db *db);
/* Reads and discards what is left of the stream; drops a connection that broke. */
void db_stream_end(struct db *db);

/* How a failed result should be treated. */
enum db_error {
	DB_ERR_NONE,       /* the statement succeeded */
	DB_ERR_TRANSIENT,  /* connection lost, server shutting down, too many connections... */
	DB_ERR_DATA,       /* the input is at fault (SQLSTATE classes 22 and 23) */
	DB_ERR_OTHER,      /* a bug: schema missing, syntax... */
};
enum db_error db_classify(const PGresult *res);

/* This process's connection events, over all its threads (metrics.h). */
struct db_metrics {
	struct metric_counter connect_failures;  /* a connect or its prepares failed */
	struct metric_counter connections_lost;  /* a statement found its connection dead */
	struct metric_counter reconnects;        /* connected again after either */
};
extern struct db_metrics db_metrics;

#endif
