/* audit.h — the audit trail: append-only, hash-chained entries for
 * security-relevant actions (docs/AUDIT.md). An entry holds opaque ids, an
 * action, an outcome, a time, the peer address and at most a step key, a
 * state or a report period: never clinical content, never a signature.
 *
 * Entries are written in the caller's transaction: inside a request's
 * savepoint an entry is undone with the request and committed with it. */
#ifndef LSN_AUDIT_H
#define LSN_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store.h"

struct handler_ctx;
struct session;

#define AUDIT_HASH_BYTES 32
/* The canonical encoding is never longer than this (docs/AUDIT.md). */
#define AUDIT_ENCODED_MAX 512

/* The canonical bytes of e (everything but prev_hash and hash); returns
 * their length, 0 if a text field does not fit its limit. */
size_t audit_encode(const struct store_audit *e, uint8_t out[AUDIT_ENCODED_MAX]);
/* BLAKE2b-256(prev || bytes). */
void audit_chain_hash(const uint8_t prev[AUDIT_HASH_BYTES], const uint8_t *bytes, size_t len,
		      uint8_t out[AUDIT_HASH_BYTES]);
/* Set e's seq and prev_hash from the chain head, compute its hash and
 * insert it, in the caller's transaction. */
enum lsn_err audit_append(struct store *s, struct store_audit *e);

/* What an action concerns, besides who did it. NULL = not applicable. */
struct audit_ids {
	const uint8_t *actor_user, *actor_device;   /* default: the logged-in session */
	const uint8_t *target_user, *target_device;
	const uint8_t *channel, *case_id;
	const char *detail;                          /* step key and state, a period */
};

/* Record an action of a client request (origin "net", outcome "ok"). On
 * failure the request fails too (storage), so no action goes unrecorded. */
enum lsn_err audit_request(struct handler_ctx *hc, const char *action, const struct audit_ids *ids);
/* Record a refused login after its savepoint was rolled back: the user and
 * device it claimed (when they are ids), the peer and the reason code. */
void audit_login_failed(struct store *s, const struct session *sess, json_t *req,
			enum lsn_err reason, int64_t now);
/* Record an administrator command (origin "admin"). */
enum lsn_err audit_admin(struct store *s, const char *action, const struct audit_ids *ids,
			 int64_t now);

/* ---- verification ---- */
#define AUDIT_PROBLEMS_MAX 10
struct audit_report {
	int64_t entries;               /* entries read */
	int64_t head_seq;              /* what the head table records */
	uint8_t head_hash[AUDIT_HASH_BYTES];
	int64_t first_bad;             /* seq of the first bad entry, 0 = none */
	int problems;                  /* number of problems found (all counted) */
	char problem[AUDIT_PROBLEMS_MAX][200];
};
/* Walk the whole chain. LSN_OK when it is intact; LSN_ERR_CONFLICT when an
 * entry was changed, removed or reordered (report says which); storage
 * errors as such. */
enum lsn_err audit_verify(struct store *s, struct audit_report *report);

#endif
