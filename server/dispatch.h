/* dispatch.h — from one decoded text frame to its reply: op lookup, login
 * and revocation checks, idempotency, the per-request savepoint, metrics.
 * No libwebsockets here: the network layer feeds frames in and sends out
 * what comes back, so handlers are testable without sockets. */
#ifndef LSN_DISPATCH_H
#define LSN_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "config.h"
#include "effects.h"
#include "err.h"
#include "ratelimit.h"
#include "session.h"
#include "store.h"

struct server_ctx {
	struct store *store;
	const struct config *cfg;
	struct ratelimit *rl;    /* rate limits; NULL: none (unit tests) */
};

struct dispatch_result {
	int64_t id;              /* request id, -1 when unknown */
	char *reply;             /* malloc'd JSON text; NULL only when out of memory */
	size_t reply_len;
	enum lsn_err err;        /* LSN_OK or the error sent */
	bool in_batch;           /* ran inside the open batch: hold until commit */
	bool close_after;        /* close this connection after the reply */
	int close_code;
	char close_reason[96];
	struct effects effects;
};

void dispatch_frame(struct server_ctx *srv, struct session *sess, const char *buf, size_t len,
		    struct dispatch_result *out);
/* A reply for a frame that could not even be read (too large, binary). */
void dispatch_error(enum lsn_err err, const char *message, struct dispatch_result *out);
void dispatch_result_free(struct dispatch_result *out);

/* The rate limits of cfg (docs/OPERATIONS.md); NULL when out of memory.
 * Free with ratelimit_free(). */
struct ratelimit *dispatch_ratelimit_new(const struct config *cfg);

/* For /metrics. */
size_t dispatch_op_count(void);
const char *dispatch_op_name(size_t index);

#endif
