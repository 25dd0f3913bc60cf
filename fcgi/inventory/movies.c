#define _POSIX_C_SOURCE 200809L
#include "movies.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/json_body.h"
#include "../common/json_input.h"
#include "../common/log.h"
#include "movie_input.h"

#define LIST_LIMIT_MAX 1000

/*
 * Statements return plain columns (id, title, description); C writes the JSON as it
 * reads the rows, so the list streams without PostgreSQL building one big string.
 */
#define MOVIE_COLUMNS "id, title, description"

enum { STMT_LIST, STMT_GET, STMT_INSERT, STMT_UPDATE, STMT_DELETE, STMT_DELETE_ALL };

const struct db_stmt movie_statements[] = {
	[STMT_LIST] = { "movies_list",
		"SELECT " MOVIE_COLUMNS " FROM movies"
		" WHERE $1::text IS NULL OR strpos(lower(title), lower($1::text)) > 0"
		" ORDER BY id LIMIT $2::bigint OFFSET $3::bigint", 3 },
	[STMT_GET] = { "movies_get",
		"SELECT " MOVIE_COLUMNS " FROM movies WHERE id = $1::bigint", 1 },
	[STMT_INSERT] = { "movies_insert",
		"INSERT INTO movies (title, description) VALUES ($1::text, $2::text)"
		" RETURNING " MOVIE_COLUMNS, 2 },
	[STMT_UPDATE] = { "movies_update",
		"UPDATE movies SET title = coalesce($2::text, title),"
		" description = CASE WHEN $3::boolean THEN $4::text ELSE description END"
		" WHERE id = $1::bigint RETURNING " MOVIE_COLUMNS, 4 },
	[STMT_DELETE] = { "movies_delete", "DELETE FROM movies WHERE id = $1::bigint", 1 },
	[STMT_DELETE_ALL] = { "movies_delete_all", "DELETE FROM movies", 0 },
};
const int movie_statement_count = sizeof(movie_statements) / sizeof(movie_statements[0]);

static int not_found(const struct http_req *r, long long id)
{
	char detail[64];

	snprintf(detail, sizeof(detail), "no movie with id %lld", id);
	return http_problem(r, 404, NULL, NULL, detail);
}

/*
 * Answers a failed statement and clears res; returns the status sent, or 0 when the
 * statement succeeded and res is the caller's. The one place where database outcomes
 * become HTTP statuses.
 */
static int answer_db_failure(const struct http_req *r, PGresult *res)
{
	int sent = 0;

	switch (db_classify(res)) {
	case DB_ERR_NONE:
		return 0;
	case DB_ERR_TRANSIENT:
		sent = http_problem(r, 503, "Retry-After: 1\r\n", NULL,
				    "the movie database is unavailable; try again shortly");
		break;
	case DB_ERR_DATA:
		sent = http_problem(r, 400, NULL, NULL, "the database rejected a value as invalid");
		break;
	case DB_ERR_OTHER:
		log_warnx("query failed: %s", PQresultErrorMessage(res));
		sent = http_problem(r, 500, NULL, NULL, "the request could not be completed");
		break;
	}
	PQclear(res);
	return sent;
}

/* {"id":1,"title":"...","description":"..." or null} from row of res. */
static void add_movie(struct http_body *b, const PGresult *res, int row)
{
	http_body_add_str(b, "{\"id\":");
	http_body_add_str(b, PQgetvalue(res, row, 0));
	http_body_add_str(b, ",\"title\":");
	http_body_add_json_string(b, PQgetvalue(res, row, 1), (size_t)PQgetlength(res, row, 1));
	http_body_add_str(b, ",\"description\":");
	if (PQgetisnull(res, row, 2))
		http_body_add_str(b, "null");
	else
		http_body_add_json_string(b, PQgetvalue(res, row, 2),
					  (size_t)PQgetlength(res, row, 2));
	http_body_add_str(b, "}");
}

static int send_movie(const struct http_req *r, int status, const char *extra_headers,
		      const PGresult *res)
{
	struct http_body b;

	http_body_begin(&b, r, status, "application/json", extra_headers);
	add_movie(&b, res, 0);
	return http_body_end(&b);
}

/* {"deleted":<count>}, and "id" when one movie (id > 0) was deleted. */
static int send_deleted(const struct http_req *r, const char *count, long long id)
{
	struct http_body b;

	http_body_begin(&b, r, 200, "application/json", NULL);
	http_body_add_str(&b, "{\"deleted\":");
	http_body_add_str(&b, count);
	if (id > 0) {
		http_body_add_str(&b, ",\"id\":");
		http_body_add_int(&b, id);
	}
	http_body_add_str(&b, "}");
	return http_body_end(&b);
}

/* Answers with the one movie res holds, or 404 when the statement matched none. */
static int answer_movie(const struct http_req *r, PGresult *res, long long id)
{
	int sent = answer_db_failure(r, res);

	if (sent != 0)
		return sent;
	sent = PQntuples(res) == 0 ? not_found(r, id) : send_movie(r, 200, NULL, res);
	PQclear(res);
	return sent;
}

/*
 * Streams the list whose first result is res: each row goes into the reply as it comes,
 * and only one row at a time is held, whatever the rows' sizes. When the rows break off
 * after part of the reply went out, the list is left unclosed so that no client takes it
 * for the whole list; when the client went away, the rest is read and dropped.
 */
static int send_list(struct inventory *inv, const struct http_req *r, PGresult *res)
{
	struct http_body b;
	int rows = 0, sent;

	http_body_begin(&b, r, 200, "application/json", NULL);
	http_body_add_str(&b, "[");
	while (PQresultStatus(res) == PGRES_SINGLE_TUPLE && !http_client_gone(r)) {
		if (rows++ > 0)
			http_body_add_str(&b, ",");
		add_movie(&b, res, 0);
		PQclear(res);
		res = db_stream_next(inv->db);
	}
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		http_body_add_str(&b, "]");
	} else if (!http_client_gone(r)) {
		const char *why = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		log_warnx("the movie list broke off after %d rows: %s", rows,
			  why != NULL ? why : "connection lost");
		if (!b.streaming) {     /* nothing sent yet: the failure can still be answered */
			sent = answer_db_failure(r, res);
			db_stream_end(inv->db);
			return sent;
		}
	}
	PQclear(res);
	db_stream_end(inv->db);
	return http_body_end(&b);
}

/* Reads a bounded whole number from the query; 0, or the status sent (400). */
static int query_number(const struct http_req *r, const char *name, long long min,
			long long max, long long *value)
{
	char buf[32], *end, detail[96];
	int found = http_query_param(http_param(r, "QUERY_STRING"), name, buf, sizeof(buf));
	long long n;

	if (found == 0)
		return 0;
	errno = 0;
	n = found > 0 && buf[0] >= '0' && buf[0] <= '9' ? strtoll(buf, &end, 10) : -1;
	if (found < 0 || n < min || n > max || errno != 0 || *end != '\0') {
		snprintf(detail, sizeof(detail), "%s must be a whole number from %lld to %lld",
			 name, min, max);
		return http_problem(r, 400, NULL, name, detail);
	}
	*value = n;
	return 0;
}

int movies_list(struct inventory *inv, const struct http_req *r, long long id)
{
	char title[4 * MOVIE_TITLE_MAX + 1], limit_s[24], offset_s[24];
	long long limit = LIST_LIMIT_MAX, offset = 0;
	int has_title, sent;
	long chars;
	PGresult *res;

	(void)id;
	has_title = http_query_param(http_param(r, "QUERY_STRING"), "title", title,
				     sizeof(title));
	chars = has_title > 0 ? utf8_length(title, strlen(title)) : 0;
	if (has_title < 0 || chars < 0 || chars > MOVIE_TITLE_MAX)
		return http_problem(r, 400, NULL, "title",
				    "title must be percent-encoded UTF-8 of at most 255 characters");
	if ((sent = query_number(r, "limit", 1, LIST_LIMIT_MAX, &limit)) != 0 ||
	    (sent = query_number(r, "offset", 0, 9223372036854775807LL, &offset)) != 0)
		return sent;
	snprintf(limit_s, sizeof(limit_s), "%lld", limit);
	snprintf(offset_s, sizeof(offset_s), "%lld", offset);
	const char *params[] = { has_title ? title : NULL, limit_s, offset_s };

	res = db_stream_first(inv->db, STMT_LIST, params);
	if ((sent = answer_db_failure(r, res)) != 0) {
		db_stream_end(inv->db);
		return sent;
	}
	return send_list(inv, r, res);
}

/*
 * Reads and validates a movie body: 0 with in pointing into *body (put it after use),
 * or the status sent.
 */
static int read_movie(struct inventory *inv, const struct http_req *r, enum movie_mode mode,
		      json_object **body, struct movie_input *in)
{
	const char *field, *detail;
	char message[160];
	int status = json_body_read(r, inv->max_body, body);

	if (status != 0)
		return status;
	status = movie_input_from_object(*body, mode, in, &field, &detail);
	if (status == 0)
		return 0;
	json_object_put(*body);
	if (field == NULL)
		return http_problem(r, status, NULL, NULL, detail);
	snprintf(message, sizeof(message), "%s %s", field, detail);
	return http_problem(r, status, NULL, field, message);
}

int movies_create(struct inventory *inv, const struct http_req *r, long long id)
{
	struct movie_input in;
	json_object *body;
	char location[64];
	PGresult *res;
	int sent;

	(void)id;
	if ((sent = read_movie(inv, r, MOVIE_CREATE, &body, &in)) != 0)
		return sent;
	const char *params[] = { in.title, in.description };

	/* Not retried on a lost connection: the insert may have happened. */
	res = db_exec(inv->db, STMT_INSERT, params, DB_ONCE);
	json_object_put(body);
	if ((sent = answer_db_failure(r, res)) != 0)
		return sent;
	snprintf(location, sizeof(location), "Location: /api/movies/%s\r\n",
		 PQgetvalue(res, 0, 0));
	sent = send_movie(r, 201, location, res);
	PQclear(res);
	return sent;
}

int movies_delete_all(struct inventory *inv, const struct http_req *r, long long id)
{
	PGresult *res;
	int sent;

	(void)id;
	res = db_exec(inv->db, STMT_DELETE_ALL, NULL, DB_RETRY);
	if ((sent = answer_db_failure(r, res)) != 0)
		return sent;
	sent = send_deleted(r, PQcmdTuples(res), 0);
	PQclear(res);
	return sent;
}

int movies_get(struct inventory *inv, const struct http_req *r, long long id)
{
	char id_s[24];

	snprintf(id_s, sizeof(id_s), "%lld", id);
	const char *params[] = { id_s };

	return answer_movie(r, db_exec(inv->db, STMT_GET, params, DB_READ), id);
}

int movies_update(struct inventory *inv, const struct http_req *r, long long id)
{
	struct movie_input in;
	json_object *body;
	char id_s[24];
	PGresult *res;
	int sent;

	if ((sent = read_movie(inv, r, MOVIE_UPDATE, &body, &in)) != 0)
		return sent;
	snprintf(id_s, sizeof(id_s), "%lld", id);
	const char *params[] = { id_s, in.has_title ? in.title : NULL,
				 in.has_description ? "true" : "false", in.description };

	res = db_exec(inv->db, STMT_UPDATE, params, DB_RETRY);
	json_object_put(body);
	return answer_movie(r, res, id);
}

int movies_delete(struct inventory *inv, const struct http_req *r, long long id)
{
	char id_s[24];
	PGresult *res;
	int sent;

	snprintf(id_s, sizeof(id_s), "%lld", id);
	const char *params[] = { id_s };

	res = db_exec(inv->db, STMT_DELETE, params, DB_RETRY);
	if ((sent = answer_db_failure(r, res)) != 0)
		return sent;
	if (strcmp(PQcmdTuples(res), "0") == 0)
		sent = not_found(r, id);
	else
		sent = send_deleted(r, PQcmdTuples(res), id);
	PQclear(res);
	return sent;
}
