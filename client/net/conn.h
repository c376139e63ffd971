/* conn.h — one WebSocket connection to liaisond, used synchronously: open
 * (TLS verified, subprotocol liaison.v1, wait for hello), then request/reply
 * one at a time over the libwebsockets event loop. Events the server pushes
 * meanwhile are kept in a bounded queue. Only this module calls lws. */
#ifndef LIAISON_CONN_H
#define LIAISON_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "sigs.h"

#define CONN_RX_MAX     (4u << 20) /* largest server message we reassemble */
#define CONN_EVENTS_MAX 256        /* buffered events; the oldest are dropped */

/* Which certificate authority to trust. Exactly one of file or pem, or
 * neither for the system trust store. label names it in error messages. */
struct conn_ca {
	const char *file;
	const char *pem;
	char label[320];
};

/* What the server said in its hello event. */
struct conn_hello {
	char server[LSN_SERVER_NAME_MAX + 1];
	char version[64];
	int64_t protocol;
	int64_t max_frame;
	uint8_t challenge[LSN_CHALLENGE_BYTES];
	bool challenge_fresh; /* not yet used by a login */
};

struct conn;

/* Connect to url (wss://HOST:PORT), wait for the hello event and check the
 * protocol version. timeout_ms bounds the connection and every request.
 * On failure st->msg says what went wrong and what to do next. */
enum lsn_err conn_open(const char *url, const struct conn_ca *ca, int timeout_ms,
		       struct conn **out, struct lsn_status *st);

const struct conn_hello *conn_hello(const struct conn *c);

/* The hello challenge, once: true and copies it if not yet taken. */
bool conn_take_challenge(struct conn *c, uint8_t out[LSN_CHALLENGE_BYTES]);

/* Send {"id":N,"op":op,...body} and wait for its reply. body (may be NULL) is
 * stolen. On success *reply is the whole reply object (caller json_decref's).
 * A server error returns its code in st->err with a readable st->msg; a
 * local failure (connection lost, timeout) returns LSN_ERR_INTERNAL. */
enum lsn_err conn_request(struct conn *c, const char *op, json_t *body, json_t **reply,
			  struct lsn_status *st);

/* True while the connection can still carry requests. */
bool conn_alive(const struct conn *c);

/* The oldest buffered event (caller json_decref's), or NULL. */
json_t *conn_next_event(struct conn *c);
/* Service the connection until an event is buffered, the connection
 * closes, or timeout_ms pass (an interrupted wait returns early too: see
 * conn_interrupt). True when an event is waiting. */
bool conn_wait_event(struct conn *c, int timeout_ms);
/* Make a running conn_wait_event return (safe from a signal handler). */
void conn_interrupt(struct conn *c);
/* How many events were dropped because the queue was full (then resync). */
uint64_t conn_events_dropped(const struct conn *c);

/* Close politely (bounded wait) and free everything. NULL is fine. */
void conn_close(struct conn *c);

#endif
