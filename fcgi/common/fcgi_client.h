/*
 * The client side of FastCGI, as small as one question needs: a request with no body to
 * a responder over TCP or a unix socket, within a deadline, keeping only the answer's HTTP status. The
 * billing publisher asks the inventory's health route with it (billing/platform_health.c).
 */
#ifndef COMMON_FCGI_CLIENT_H
#define COMMON_FCGI_CLIENT_H

#include <stddef.h>

/*
 * Sends one request to the responder at addr ("host:port", "[v6]:port", "unix:PATH"): params are
 * "NAME=value" strings, NULL-terminated, and the body is empty. Everything (resolving a
 * numeric address, connecting, writing, reading the whole answer) happens within
 * timeout_ms. Returns the status the responder answered (its Status: header; 200 without
 * one), or -1 with why describing the failure.
 */
int fcgi_client_request(const char *addr, const char *const *params, int timeout_ms,
			char *why, size_t why_size);

#endif
