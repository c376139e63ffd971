/* transport.h — what the client core needs of a connection to liaisond,
 * as a small table of operations: a request and its reply, the events the
 * server pushed, close. net/conn.c implements it over libwebsockets; a unit
 * test implements it with a fake server (tests/unit/test_client_core.c).
 * The core calls only the conn_* functions below, which go through ops. */
#ifndef LIAISON_TRANSPORT_H
#define LIAISON_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "sigs.h"

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

struct conn;

struct conn_ops {
	/* Send {"id":N,"op":op,...body} (body stolen, may be NULL) and wait for
	 * its reply: LSN_OK with *reply the whole reply object (caller
	 * json_decref's), or the server's error in st, or LSN_ERR_INTERNAL for a
	 * local failure (connection lost, timeout). */
	enum lsn_err (*request)(struct conn *c, const char *op, json_t *body, json_t **reply,
				struct lsn_status *st);
	/* The oldest pushed event not yet taken (caller json_decref's), or NULL. */
	json_t *(*next_event)(struct conn *c);
	/* Wait up to timeout_ms for an event; true when one is waiting. */
	bool (*wait_event)(struct conn *c, int timeout_ms);
	/* Make a running wait_event return (safe from a signal handler). */
	void (*interrupt)(struct conn *c);
	bool (*alive)(const struct conn *c);
	/* Events lost because the buffer was full (the caller then resyncs). */
	uint64_t (*events_dropped)(const struct conn *c);
	const struct conn_hello *(*hello)(const struct conn *c);
	bool (*take_challenge)(struct conn *c, uint8_t out[LSN_CHALLENGE_BYTES]);
	/* Close and free everything. */
	void (*close)(struct conn *c);
};

/* Every transport begins with this; its ops know the rest. */
struct conn {
	const struct conn_ops *ops;
};

const struct conn_hello *conn_hello(const struct conn *c);

/* The hello challenge, once: true and copies it if not yet taken. */
bool conn_take_challenge(struct conn *c, uint8_t out[LSN_CHALLENGE_BYTES]);

/* ops->request: a server error returns its code in st->err with a readable
 * st->msg; a local failure (connection lost, timeout) LSN_ERR_INTERNAL. */
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
/* Make a running conn_wait_event return (safe from a signal handler; NULL
 * is fine). */
void conn_interrupt(struct conn *c);
/* How many events were dropped because the queue was full (then resync). */
uint64_t conn_events_dropped(const struct conn *c);

/* Close politely (bounded wait) and free everything. NULL is fine. */
void conn_close(struct conn *c);

#endif
