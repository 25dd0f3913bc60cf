/*
 * The end of a plain-CGI request: what is left of its body on stdin.
 */
#ifndef COMMON_CGI_STDIN_H
#define COMMON_CGI_STDIN_H

/*
 * Reads and drops what the handler left of the body (CONTENT_LENGTH bytes at most),
 * until end of input, or until nothing came for a second. Under Apache's mod_cgid, stdin
 * and stdout are one unix socket: a program that answers without reading the body (415,
 * 404, 405) and exits with bytes still queued there makes the kernel reset the socket,
 * and Apache drops the answer it was reading. Does nothing without a CONTENT_LENGTH, so
 * a program started by hand never waits on a terminal.
 */
void cgi_stdin_drain(void);

#endif
