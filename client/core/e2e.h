/* e2e.h — what the end-to-end commands (channel, send, read, watch, verify)
 * share: the logged-in session with its unlocked store, a cache of other
 * users' verified keys for this run (peers.h), idempotent writes that
 * survive one reconnection, and resolving USER and CHANNEL arguments. */
#ifndef LIAISON_E2E_H
#define LIAISON_E2E_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cli.h"
#include "ident.h"
#include "session.h"

struct peers;

struct e2e {
	const struct cli *cli;
	struct session s;
	struct profile *p;      /* = s.profile */
	struct peers *peers;
	bool strict;            /* share keys only with verified users */
	char me_hex[LSN_ID_HEX + 1];
};

/* session_start, then the store and the peer cache. Prints the error and
 * returns the exit code on failure. */
int e2e_start(const struct cli *cli, struct e2e *e);
void e2e_end(struct e2e *e);

/* A write with a fresh idem key: if the connection drops before the reply,
 * reconnect and log in once, then resend the same request (same idem, so the
 * server applies it once). body is stolen. */
enum lsn_err e2e_write(struct e2e *e, const char *op, json_t *body, json_t **reply,
		       struct lsn_status *st);
/* Open a new connection and log in (the old one is closed). */
enum lsn_err e2e_reconnect(struct e2e *e, struct lsn_status *st);
/* A read; reconnects once like e2e_write. */
enum lsn_err e2e_read(struct e2e *e, const char *op, json_t *body, json_t **reply,
		      struct lsn_status *st);

/* 32 random hex characters. */
void e2e_idem(char out[33]);

/* USER as a user id (32 hex) or a unique directory match (name part or RPPS
 * prefix). Ambiguous: prints the candidates and returns CLI_USAGE; none:
 * CLI_USAGE with a message; CLI_OK with user filled. */
int e2e_resolve_user(struct e2e *e, const char *text, uint8_t user[LSN_ID_BYTES]);
/* CHANNEL as a channel id, or a unique prefix (4+ hex characters) of the id of
 * a channel of yours. Same exit codes. */
int e2e_resolve_channel(struct e2e *e, const char *text, uint8_t channel[LSN_ID_BYTES]);

/* "Dr Claire Martin (Médecin généraliste)" from the people cache, else the
 * first 8 hex characters of the id. */
void e2e_person(struct e2e *e, const uint8_t user[LSN_ID_BYTES], char *out, size_t len);
/* Remember names from a USER object of a server reply. */
void e2e_remember_user(struct e2e *e, json_t *user);

#endif
