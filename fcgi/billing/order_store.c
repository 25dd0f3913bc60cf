#include "order_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/db.h"
#include "../common/log.h"

/* A growing text buffer, kept across batches so a steady stream allocates nothing. */
struct text_buf {
	char *data;
	size_t len, cap;
};

enum { COL_MESSAGE_ID, COL_USER_ID, COL_ITEMS, COL_AMOUNT, COL_COUNT };

struct order_store {
	struct db *db;
	struct text_buf columns[COL_COUNT];   /* one array literal per column */
};

enum { STMT_INSERT_ALL, STMT_INSERT_ONE };

/*
 * A whole batch travels as four arrays: one prepared statement whatever the batch
 * size, and a single statement is a single transaction.
 */
static const struct db_stmt order_statements[] = {
	[STMT_INSERT_ALL] = { "orders_insert_all",
		"INSERT INTO orders (message_id, user_id, number_of_items, total_amount)"
		" SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::numeric[])"
		" ON CONFLICT (message_id) DO NOTHING", 4 },
	[STMT_INSERT_ONE] = { "orders_insert_one",
		"INSERT INTO orders (message_id, user_id, number_of_items, total_amount)"
		" VALUES ($1::text, $2::text, $3::integer, $4::numeric)"
		" ON CONFLICT (message_id) DO NOTHING", 4 },
};

struct metric_counter order_store_rows_inserted;

struct order_store *order_store_new(void)
{
	struct order_store *s = calloc(1, sizeof(*s));

	if (s == NULL)
		fatalx("out of memory");
	s->db = db_new("POSTGRES_BILLING", "billing_app", order_statements,
		       (int)(sizeof(order_statements) / sizeof(order_statements[0])));
	return s;
}

void order_store_free(struct order_store *s)
{
	if (s == NULL)
		return;
	db_free(s->db);
	for (int i = 0; i < COL_COUNT; i++)
		free(s->columns[i].data);
	free(s);
}

int order_store_ready(struct order_store *s)
{
	return db_ready(s->db);
}

static int text_put(struct text_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->data, cap);
		if (p == NULL)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* Appends s as a quoted array element: only '"' and '\' need a backslash. */
static int text_put_element(struct text_buf *b, const char *s, int first)
{
	if (text_put(b, first ? "\"" : ",\"", first ? 1 : 2) != 0)
		return -1;
	for (const char *run = s;; s++) {
		if (*s == '"' || *s == '\\' || *s == '\0') {
			if (text_put(b, run, (size_t)(s - run)) != 0)
				return -1;
			if (*s == '\0')
				break;
			if (text_put(b, "\\", 1) != 0)
				return -1;
			run = s;
		}
	}
	return text_put(b, "\"", 1);
}

static int build_arrays(struct order_store *s, const struct order_row *rows, size_t n)
{
	char items[24];

	for (int c = 0; c < COL_COUNT; c++) {
		s->columns[c].len = 0;
		if (text_put(&s->columns[c], "{", 1) != 0)
			return -1;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(items, sizeof(items), "%ld", rows[i].order.number_of_items);
		if (text_put_element(&s->columns[COL_MESSAGE_ID], rows[i].message_id, i == 0) ||
		    text_put_element(&s->columns[COL_USER_ID], rows[i].order.user_id, i == 0) ||
		    text_put_element(&s->columns[COL_ITEMS], items, i == 0) ||
		    text_put_element(&s->columns[COL_AMOUNT], rows[i].order.total_amount, i == 0))
			return -1;
	}
	for (int c = 0; c < COL_COUNT; c++)
		if (text_put(&s->columns[c], "}", 1) != 0)
			return -1;
	return 0;
}

/* Turns a result into a store_result and clears it. */
static enum store_result store_outcome(PGresult *res, char *reason, size_t size)
{
	enum store_result r = STORE_UNAVAILABLE;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	switch (db_classify(res)) {
	case DB_ERR_NONE:
		r = STORE_OK;
		metric_add(&order_store_rows_inserted, strtoull(PQcmdTuples(res), NULL, 10));
		break;
	case DB_ERR_DATA:
		r = STORE_REJECTED;
		if (reason != NULL)
			snprintf(reason, size, "database rejected the row: %s %s", state ? state : "",
				 msg ? msg : "");
		break;
	case DB_ERR_TRANSIENT:
		break;
	case DB_ERR_OTHER:
		/* Schema missing or similar: nothing a retry of the data fixes, so hold off. */
		log_warnx("insert into orders failed: %s %s", state ? state : "", msg ? msg : "");
		break;
	}
	PQclear(res);
	return r;
}

enum store_result order_store_insert_all(struct order_store *s, const struct order_row *rows,
					 size_t n)
{
	const char *params[COL_COUNT];

	if (n == 0)
		return STORE_OK;
	if (build_arrays(s, rows, n) != 0) {
		log_warnx("out of memory building a batch of %lu orders", (unsigned long)n);
		return STORE_UNAVAILABLE;
	}
	for (int c = 0; c < COL_COUNT; c++)
		params[c] = s->columns[c].data;
	/* Safe to retry after a reconnect: ON CONFLICT makes the insert idempotent. */
	return store_outcome(db_exec(s->db, STMT_INSERT_ALL, params, DB_RETRY), NULL, 0);
}

enum store_result order_store_insert_one(struct order_store *s, const struct order_row *row,
					 char *reason, size_t size)
{
	char items[24];
	const char *params[COL_COUNT];

	snprintf(items, sizeof(items), "%ld", row->order.number_of_items);
	params[COL_MESSAGE_ID] = row->message_id;
	params[COL_USER_ID] = row->order.user_id;
	params[COL_ITEMS] = items;
	params[COL_AMOUNT] = row->order.total_amount;
	return store_outcome(db_exec(s->db, STMT_INSERT_ONE, params, DB_RETRY), reason, size);
}
