/*
 * The movie handlers: one function per endpoint, SQL kept beside them. Each returns the
 * status it sent (http.h).
 */
#ifndef INVENTORY_MOVIES_H
#define INVENTORY_MOVIES_H

#include "../common/db.h"
#include "../common/http.h"

struct inventory {
	struct db *db;
	size_t max_body;
};

extern const struct db_stmt movie_statements[];
extern const int movie_statement_count;

int movies_list(struct inventory *inv, const struct http_req *r, long long id);
int movies_create(struct inventory *inv, const struct http_req *r, long long id);
int movies_delete_all(struct inventory *inv, const struct http_req *r, long long id);
int movies_get(struct inventory *inv, const struct http_req *r, long long id);
int movies_update(struct inventory *inv, const struct http_req *r, long long id);
int movies_delete(struct inventory *inv, const struct http_req *r, long long id);

#endif
