/* transport.h — what the client core needs of a connection to liaisond,
 * as a small table of operations: a request and its reply, the events the
 * server pushed, close. net/link.c implements it over libwebsockets; a unit
 * test implements it with a fake server (tests/unit/test_client_core.c).
 * The core calls only the conn_* functions below, which go through ops. */
#ifndef LIAISON_TRANSPORT_H
#define LIAISON_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "ident.h"
#include "sigs.h"

/* What the server said in its hello event. */
struct link_hello {
	char server[LSN_SERVER_NAME_MAX + 1];
	char version[64];
	int64_t protocol;
	int64_t max_frame;
	uint8_t challenge[LSN_CHALLENGE_BYTES];
	bool challenge_fresh; /* not yet used by a login */
};

struct link;

struct link;

struct link_ops {
	/* Send {"id":N,"op":op,...body} (body stolen, may be NULL) and wait for
	 * its reply: LSN_OK with *reply the whole reply object (caller
	 * json_decref's), or the server's error in st, or LSN_ERR_INTERNAL for a
	 * local failure (connection lost, timeout). */
	enum lsn_err (*request)(struct link *c, const char *op, json_t *body, json_t **reply,
				struct lsn_status *st);
	/* The oldest pushed event not yet taken (caller json_decref's), or NULL. */
	json_t *(*next_event)(struct link *c);
	/* Wait up to timeout_ms for an event; true when one is waiting. */
	bool (*wait_event)(struct link *c, int timeout_ms);
	/* Make a running wait_event return (safe from a signal handler). */
	void (*interrupt)(struct link *c);
	bool (*alive)(const struct link *c);
	/* Events lost because the buffer was full (the caller then resyncs). */
	uint64_t (*events_dropped)(const struct link *c);
	const struct link_hello *(*hello)(const struct link *c);
	bool (*take_challenge)(struct link *c, uint8_t out[LSN_CHALLENGE_BYTES]);
	/* Close and free everything. */
	void (*close)(struct link *c);
	/* Attachment chunks in binary frames (PROTOCOL.md "Binary chunk
	 * frames"); all three NULL, or binary() false (the server did not
	 * agree at login, or the client turned it off): link_chunk_put and
	 * link_chunk_get use the JSON form through request instead. */
	bool (*binary)(const struct link *c);
	enum lsn_err (*chunk_put)(struct link *c, const char *idem,
				  const uint8_t attachment[LSN_ID_BYTES], int64_t index,
				  const uint8_t *data, size_t len, struct lsn_status *st);
	enum lsn_err (*chunk_get)(struct link *c, const uint8_t attachment[LSN_ID_BYTES],
				  int64_t index, uint8_t *out, size_t cap, size_t *len,
				  struct lsn_status *st);
};

/* Every transport begins with this; its ops know the rest. */
struct link {
	const struct link_ops *ops;
};

const struct link_hello *link_hello(const struct link *c);

/* The hello challenge, once: true and copies it if not yet taken. */
bool link_take_challenge(struct link *c, uint8_t out[LSN_CHALLENGE_BYTES]);

/* ops->request: a server error returns its code in st->err with a readable
 * st->msg; a local failure (connection lost, timeout) LSN_ERR_INTERNAL. */
enum lsn_err link_request(struct link *c, const char *op, json_t *body, json_t **reply,
			  struct lsn_status *st);

/* True while the connection can still carry requests. */
bool link_alive(const struct link *c);

/* The oldest buffered event (caller json_decref's), or NULL. */
json_t *link_next_event(struct link *c);
/* Service the connection until an event is buffered, the connection
 * closes, or timeout_ms pass (an interrupted wait returns early too: see
 * link_interrupt). True when an event is waiting. */
bool link_wait_event(struct link *c, int timeout_ms);
/* Make a running link_wait_event return (safe from a signal handler; NULL
 * is fine). */
void link_interrupt(struct link *c);
/* How many events were dropped because the queue was full (then resync). */
uint64_t link_events_dropped(const struct link *c);

/* One attachment chunk up (attachment_put with idem) or down
 * (attachment_get into out, cap bytes): in a binary frame when the
 * transport and the server agreed on it, else in JSON with base64. Errors
 * as link_request's. */
enum lsn_err link_chunk_put(struct link *c, const char *idem,
			    const uint8_t attachment[LSN_ID_BYTES], int64_t index,
			    const uint8_t *data, size_t len, struct lsn_status *st);
enum lsn_err link_chunk_get(struct link *c, const uint8_t attachment[LSN_ID_BYTES],
			    int64_t index, uint8_t *out, size_t cap, size_t *len,
			    struct lsn_status *st);
/* The chunk of an attachment_get reply in JSON ("data", base64) into out
 * (cap bytes); bad_json when it is missing or malformed. The one reader of
 * that form, for link_chunk_get and for a transport's binary path that
 * got a JSON reply all the same. */
enum lsn_err link_chunk_from_json(json_t *reply, int64_t index, uint8_t *out, size_t cap,
				  size_t *len, struct lsn_status *st);

/* Close politely (bounded wait) and free everything. NULL is fine. */
void link_close(struct link *c);

#endif
