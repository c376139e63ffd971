/* link_diag.h — diagnostics of the connection: lws logging kept quiet
 * (unless LIAISON_DEBUG is set) but remembered, and the wording of
 * connection failures (refused, unknown host, certificate, handshake).
 * It never prints: debug lines go to the sink the program sets. */
#ifndef LIAISON_LINK_DIAG_H
#define LIAISON_LINK_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include "tr.h" /* N_() */

/* Where debug lines go ("lws: …", "debug: …", one line each, no newline);
 * none set: they are dropped. The CLI prints them on stderr. */
typedef void (*link_diag_sink_fn)(const char *line);
void link_diag_set_sink(link_diag_sink_fn fn);

/* Route lws logs: errors only, captured; with LIAISON_DEBUG, more and shown. */
void link_diag_setup(void);
/* True if lws could not load the CA certificate given to it. */
bool link_diag_ca_load_failed(void);
/* The last error line lws logged ("" if none). */
const char *link_diag_last_error(void);
/* A debug line to the sink when LIAISON_DEBUG is set. */
void link_diag_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Turn lws's connection error text (in, len; may be NULL) into a message
 * that says what went wrong and what to do next, into out. lws 4.1 does not
 * say why a TCP connection failed, so for that case this makes one short
 * probe connection to host:port to learn the cause (refused, unreachable,
 * unknown host). */
void link_diag_connect_error(char *out, size_t outlen, const char *url, const char *host,
				 int port, const char *ca_label, const void *in, size_t len);

/* When the server cannot be reached at all (refused, no answer, unknown
 * host, timeout), the message starts with LINK_DIAG_UNREACHABLE, then says
 * what to do, then, after a newline, the URL and the technical cause. */
#define LINK_DIAG_UNREACHABLE N_("the Liaison server cannot be reached")
bool link_diag_unreachable(const char *message);
/* That message for a connection that got no answer within seconds. */
void link_diag_timeout(char *out, size_t outlen, const char *url, int seconds);

#endif
