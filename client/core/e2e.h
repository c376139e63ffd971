/* e2e.h — the context of the end-to-end commands (channel, send, read,
 * watch, verify…): the logged-in session with its unlocked store, a cache
 * of other users' verified keys for this run (peers.h), idempotent writes
 * that survive one reconnection, USER and CHANNEL arguments found, names,
 * and the warnings the core noticed and went past (warn.h). It sits just
 * above the session: peers, the channel view, key shares and sync build
 * on it; core.h opens it whole. It never prints. */
#ifndef LIAISON_E2E_H
#define LIAISON_E2E_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ident.h"
#include "login.h"
#include "warn.h"

struct peers;

struct e2e {
	struct login_config opts; /* how the session was opened (reconnect) */
	struct login s;
	struct profile *p;      /* = s.profile */
	struct peers *peers;
	bool strict;            /* share keys only with verified users */
	char me_hex[LSN_ID_HEX + 1];
	struct lsn_warnings warnings; /* for the caller to show, then clear */
	struct {                /* how far an attachment transfer is (may be unset) */
		void (*fn)(void *arg, const char *what, const char *name, uint64_t done,
			   uint64_t total);
		void *arg;
	} progress;
};

/* login_open (o is copied: its strings must outlive e), then the store
 * settings and our own names. The peer cache is the caller's (core.h). */
enum lsn_err e2e_open(const struct login_config *o, struct e2e *e, struct lsn_status *st);
void e2e_close(struct e2e *e);

/* A write with a fresh idem key: if the connection drops before the reply,
 * reconnect and log in once, then resend the same request (same idem, so the
 * server applies it once); refused with rate_limited, wait the server's
 * retry_after_ms and resend it, up to E2E_RATE_WAIT_MAX_MS of waiting in
 * all (see e2e_retry). body is stolen. */
enum lsn_err e2e_write(struct e2e *e, const char *op, json_t *body, json_t **reply,
		       struct lsn_status *st);
/* Open a new connection and log in (the old one is closed). */
enum lsn_err e2e_reconnect(struct e2e *e, struct lsn_status *st);
/* A read; reconnects once and waits out rate limits like e2e_write. */
enum lsn_err e2e_read(struct e2e *e, const char *op, json_t *body, json_t **reply,
		      struct lsn_status *st);

/* 32 random hex characters. */
void e2e_idem(char out[33]);

/* At most this much waiting for rate limits per request (then the
 * rate_limited error is the caller's). */
#define E2E_RATE_WAIT_MAX_MS 10000u

/* One request's retries so far (zeroed before the first try). */
struct e2e_retry {
	bool reconnected;
	uint32_t waited_ms;
};
/* The request failed with err (st: its status): true when it should be sent
 * again, the same request with the same idem key — after one reconnect and
 * login when the link was lost, or after sleeping the server's
 * retry_after_ms when it was refused with rate_limited (a refused request
 * ran nothing: PROTOCOL.md "Rate limits"), while the waits stay within
 * E2E_RATE_WAIT_MAX_MS. */
bool e2e_retry(struct e2e *e, enum lsn_err err, const struct lsn_status *st,
	       struct e2e_retry *r);

/* What a USER or CHANNEL argument did not name. */
struct e2e_pick {
	bool usage;          /* the text names no one / nothing (st says why) */
	json_t *candidates;  /* several people match: their USER objects (caller
				json_decref's; NULL otherwise) */
};
#define E2E_PICK_SHOWN 10 /* candidates worth showing */

/* USER as a user id (32 hex) or a unique directory match (name part or RPPS
 * prefix): LSN_OK with user filled. When the text matches no one or
 * several people, pick->usage is set, st says so and, if several,
 * pick->candidates lists them. Other errors: the request's. */
enum lsn_err e2e_find_user(struct e2e *e, const char *text, uint8_t user[LSN_ID_BYTES],
			   struct e2e_pick *pick, struct lsn_status *st);
/* CHANNEL as a channel id, or a unique prefix (4+ hex characters) of the id of
 * a channel of yours. Same outcomes (never candidates). */
enum lsn_err e2e_find_channel(struct e2e *e, const char *text, uint8_t channel[LSN_ID_BYTES],
			      struct e2e_pick *pick, struct lsn_status *st);

/* "Dr Claire Martin (Médecin généraliste)" from the people cache, else the
 * first 8 hex characters of the id. */
void e2e_person(struct e2e *e, const uint8_t user[LSN_ID_BYTES], char *out, size_t len);
/* obj[key] if it is a string, else NULL (any obj, even NULL). */
const char *e2e_str(json_t *obj, const char *key);
/* Remember names from a USER object of a server reply. */
void e2e_remember_user(struct e2e *e, json_t *user);

#endif
