/* profile.h — the local profile of one enrolled device (CRYPTO.md §7): the
 * directory profiles/NAME/ with profile.db (SQLite, WAL journal) and a lock
 * file. Public data is stored in the clear; every private key is sealed
 * under a key derived from the passphrase (Argon2id, INTERACTIVE).
 *
 * Several liaison processes may use one profile at once (watch in one
 * terminal, send in another): every change of the end-to-end store is one
 * SQLite transaction that takes the write lock first and reads what it
 * changes inside it (store.h). The lock file is only for the few steps that
 * must run in one process at a time, each held just for that step:
 * enrolment (creating the profile), opening it (the format migration) and
 * the rotation of the agreement key (agreement_keys.h). */
#ifndef LIAISON_PROFILE_H
#define LIAISON_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include <sodium.h>

#include "err.h"
#include "ident.h"

#define PROFILE_NAME_MAX 64

/* CRYPTO.md §1: a device keeps the private half of its last 3 agreement keys
 * (the current one and 2 previous ones) to open shares sent late. */
#define PROFILE_AK_KEEP 3
/* Sealed item of an agreement key's private half: "ak_sk:" + 32 hex ak_id. */
#define PROFILE_AK_ITEM_BUF 40
/* How long a step that needs the profile alone waits for another process
 * holding the lock file before giving up with a message. */
#define PROFILE_LOCK_WAIT_MS 30000

/* The open profile database: opaque outside client/store/ (sql.h). */
struct profile_db;

/* Private keys, in sodium_malloc'd memory (guarded, wiped when freed). */
struct profile_keys {
	uint8_t ik_sk[crypto_sign_SECRETKEYBYTES];
	uint8_t dk_sk[crypto_sign_SECRETKEYBYTES];
	uint8_t ak_sk[crypto_kx_SECRETKEYBYTES];      /* the current agreement key */
	uint8_t held_ak_sk[PROFILE_AK_KEEP - 1][crypto_kx_SECRETKEYBYTES]; /* p->held_ak[i] */
};

/* An agreement key other than the current one whose private half this
 * device still holds: a previous one, or a new one being published. */
struct profile_ak {
	uint8_t id[LSN_ID_BYTES];
	uint8_t pk[crypto_kx_PUBLICKEYBYTES];
	int64_t ts;
	bool pending;          /* drawn, publication not yet confirmed (agreement_keys.h) */
};

struct profile {
	char name[PROFILE_NAME_MAX + 1];
	char *dir;             /* .../profiles/NAME */
	int lock_fd;           /* >= 0 while this process holds the lock file */
	bool reserved;         /* made by profile_reserve, not yet committed */
	bool committed;
	/* clear table */
	char *server_url;
	char *server_name;     /* from hello at enrolment; signed at every login */
	char *device_name;
	char *ca_pem;          /* CA used at enrolment, NULL: system trust store */
	uint8_t user[LSN_ID_BYTES];
	uint8_t device[LSN_ID_BYTES];
	uint8_t ak_id[LSN_ID_BYTES];
	uint8_t ik_pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t dk_pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t ak_pk[crypto_kx_PUBLICKEYBYTES];
	int64_t dk_ts;
	int64_t ak_ts;
	int64_t created_at;
	/* ak_id, ak_pk, ak_ts and keys->ak_sk are the current agreement key; once
	 * unlocked, the others still held (at most 2, newest first) are here */
	size_t n_held_ak;
	struct profile_ak held_ak[PROFILE_AK_KEEP - 1];
	/* sealed table, once unlocked (or freshly generated at enrolment) */
	struct profile_keys *keys;
	/* once unlocked: the local key (sodium_malloc'd, SEAL_KEYBYTES) that seals
	 * every secret of the end-to-end store, and the open database (store.h) */
	uint8_t *local_key;
	struct profile_db *db;
};

/* 1..64 characters from [A-Za-z0-9._-], not starting with a dot. */
bool profile_name_valid(const char *name);

/* Open an existing profile and read its clear table (no lock is held: other
 * liaison processes may use the profile meanwhile). The keys stay sealed
 * until profile_unlock. Free with profile_close. */
enum lsn_err profile_open(const char *name, struct profile **out, struct lsn_status *st);

/* Derive the local key from the passphrase and unseal the private keys into
 * p->keys; then keep the key (p->local_key) and the database open (p->db),
 * migrated to the current format, for the end-to-end store. The lock file is
 * held while the database is migrated and released before this returns. A
 * wrong passphrase fails with a message saying so. */
enum lsn_err profile_unlock(struct profile *p, const char *passphrase, struct lsn_status *st);

/* Enrolment: create and lock profiles/NAME/ for a new profile (the lock is
 * held until profile_close); fails if a profile of that name exists.
 * Nothing is written until profile_write_new. */
enum lsn_err profile_reserve(const char *name, struct profile **out, struct lsn_status *st);

/* A zeroed, sodium_malloc'd key block; NULL on failure. Freed by profile_close. */
struct profile_keys *profile_keys_new(void);

/* Enrolment: write every field of p and its sealed keys to a temporary file
 * beside profile.db. profile_commit_new then renames it into place, so a
 * profile exists only once the server has accepted the enrolment. */
enum lsn_err profile_write_new(struct profile *p, const char *passphrase, struct lsn_status *st);
enum lsn_err profile_commit_new(struct profile *p, struct lsn_status *st);

/* Our agreement key ak_id if this device holds its private half (the
 * current one, a previous one or one being published): *pk and *sk point
 * into p. false if it is not held (never ours, or erased). */
bool profile_ak_find(const struct profile *p, const uint8_t ak_id[LSN_ID_BYTES],
		     const uint8_t **pk, const uint8_t **sk);

/* The sealed item name of an agreement key's private half: "ak_sk:<hex id>". */
void profile_ak_item(const uint8_t ak_id[LSN_ID_BYTES], char out[PROFILE_AK_ITEM_BUF]);

/* Read again, from the database, the agreement keys this device holds
 * (current, previous, pending) into p: another liaison process may have
 * rotated them since p was unlocked. p is unchanged on failure. */
enum lsn_err profile_ak_reload(struct profile *p, struct lsn_status *st);

/* Take the profile's lock file for a step that must run in one process at
 * a time (why: a few words for the message), waiting up to
 * PROFILE_LOCK_WAIT_MS for another process to finish; LSN_ERR_CONFLICT
 * with a message saying so when it does not. release: let it go. */
enum lsn_err profile_lock(struct profile *p, const char *why, struct lsn_status *st);
void profile_lock_release(struct profile *p);

/* Release everything and the lock if held. A reserved profile that was never
 * committed is removed (temporary file, lock file and directory). */
void profile_close(struct profile *p);

#endif
