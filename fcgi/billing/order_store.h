/*
 * The orders table in billing_db. Inserts are idempotent on message_id, so a message
 * redelivered after a crash never doubles an order.
 */
#ifndef BILLING_ORDER_STORE_H
#define BILLING_ORDER_STORE_H

#include <stddef.h>

#include "../common/metrics.h"
#include "../common/request_id.h"
#include "../common/trace_context.h"
#include "message_id.h"
#include "order.h"

struct order_row {
	char message_id[MESSAGE_ID_MAX + 1];
	char request_id[REQUEST_ID_MAX + 1];   /* the POST that placed it, for the log; "" none */
	char traceparent[TRACEPARENT_LEN + 1]; /* its W3C trace context, for the log; "" none */
	struct order order;
};

enum store_result {
	STORE_OK,           /* committed (duplicates silently skipped) */
	STORE_UNAVAILABLE,  /* nothing committed; the database is down or broken: retry later */
	STORE_REJECTED,     /* nothing committed; the data is at fault (SQLSTATE 22/23) */
};

struct order_store;

/* Rows the inserts actually added (a duplicate adds none), in this process. */
extern struct metric_counter order_store_rows_inserted;

struct order_store *order_store_new(void);
void order_store_free(struct order_store *s);

/* 0 when the database answers (connecting if needed), else -1. */
int order_store_ready(struct order_store *s);

/* Inserts all rows as one statement, which commits them together or not at all. */
enum store_result order_store_insert_all(struct order_store *s, const struct order_row *rows,
					 size_t n);

/* Inserts one row; on STORE_REJECTED, reason holds the database's message. */
enum store_result order_store_insert_one(struct order_store *s, const struct order_row *row,
					 char *reason, size_t size);

#endif
