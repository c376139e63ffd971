/* session.h — what the server knows about one connection's peer: its login
 * state and its pending challenge. Kept in the peer (deliver.h), read and
 * updated by dispatch.c and the handlers. */
#ifndef LSN_SESSION_H
#define LSN_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "ident.h"
#include "ratelimit.h"
#include "sigs.h"

struct session {
	uint64_t conn_id;
	char peer[64];                 /* remote address, for logs and rate limits */
	bool logged_in;
	uint8_t user[LSN_ID_BYTES];
	uint8_t device[LSN_ID_BYTES];
	unsigned roles;
	uint8_t org[LSN_ID_BYTES];     /* the user's organisation, as at login */
	bool batch;                    /* the client takes {"batch":[...]} frames */
	bool binary;                   /* attachment chunks travel in binary frames */
	bool has_challenge;
	uint8_t challenge[LSN_CHALLENGE_BYTES];
	struct rl_bucket rl;           /* this connection's request rate (all zero: full) */
};

/* Draw a fresh single-use challenge. */
void session_new_challenge(struct session *sess);

#endif
