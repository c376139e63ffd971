/* dispatch.h — from one received text frame to its result: op lookup,
 * rate limits, login and revocation checks, idempotency, then the handler
 * (handle_*.c); a writing op runs inside its own savepoint of the open
 * batch (opened by commit.h, never here), so the result says whether it
 * must be held until the batch commits.
 *
 * Contract: no libwebsockets and no connection state beyond the session:
 * the network layer feeds frames in and gives the result to commit.h, so
 * handlers are testable without sockets. Calls down only: handle_*.c,
 * store.h, commit.h (the savepoint), metrics.h. */
#ifndef LSN_DISPATCH_H
#define LSN_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "effects.h"
#include "err.h"
#include "handlers.h"
#include "ratelimit.h"
#include "result.h"
#include "session.h"
#include "store.h"

void dispatch_frame(struct server_ctx *srv, struct session *sess, const char *buf, size_t len,
		    struct dispatch_result *out);
/* One received binary frame: an attachment chunk (PROTOCOL.md "Binary
 * chunk frames") from a client that logged in with "binary":true; from
 * any other, bad_json as for every binary frame before. */
void dispatch_binary(struct server_ctx *srv, struct session *sess, const uint8_t *buf,
		     size_t len, struct dispatch_result *out);
/* A reply for a frame that could not even be read (too large). */
void dispatch_error(enum lsn_err err, const char *message, struct dispatch_result *out);
void dispatch_result_free(struct dispatch_result *out);
/* The "hello" event that greets a new connection; draws sess's login
 * challenge. malloc'd JSON text, NULL when out of memory. */
char *dispatch_hello(const struct server_ctx *srv, struct session *sess, size_t *len);

/* The rate limits of cfg (docs/OPERATIONS.md); NULL when out of memory.
 * Free with ratelimit_free(). */
struct ratelimit *dispatch_ratelimit_new(const struct config *cfg);

/* For /metrics. */
size_t dispatch_op_count(void);
const char *dispatch_op_name(size_t index);

#endif
