/*
 * Blocking-style socket I/O on a non-blocking socket, every step bounded by one deadline
 * (monotonic_ms()): the clients of the health check (fcgi_client.c, http_get.c) share it,
 * so that a peer that stops answering costs at most the time the caller allowed.
 */
#ifndef COMMON_DEADLINE_IO_H
#define COMMON_DEADLINE_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A non-blocking connection to addr ("host:port", "[v6]:port", "unix:PATH"; address.h)
 * made before deadline, or -1 with why set. The host goes to getaddrinfo, which does not
 * honour the deadline: the settings pass numeric addresses (or names in /etc/hosts).
 */
int deadline_connect(const char *addr, long long deadline, char *why, size_t why_size);

/* Sends all len bytes; 0, or -1 (errno set, or the deadline passed). */
int deadline_write_all(int fd, const uint8_t *p, size_t len, long long deadline);

/* Reads exactly len bytes (or discards them when p is NULL); 0, or -1 on EOF or timeout. */
int deadline_read_exact(int fd, uint8_t *p, size_t len, long long deadline);

/*
 * Reads what arrives, up to size bytes, waiting no later than deadline: the count (0 at
 * the end of the stream), or -1 on an error or timeout.
 */
ssize_t deadline_read_some(int fd, uint8_t *p, size_t size, long long deadline);

#endif
