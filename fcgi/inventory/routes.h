/* Maps a method and a path under /api/movies to its handler; returns the status sent. */
#ifndef INVENTORY_ROUTES_H
#define INVENTORY_ROUTES_H

#include "movies.h"

int routes_dispatch(struct inventory *inv, const struct http_req *r);

#endif
