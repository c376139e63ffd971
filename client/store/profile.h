/* profile.h — the local profile of one enrolled device (CRYPTO.md §7): the
 * directory profiles/NAME/ with profile.db (SQLite encrypted as a whole
 * with SQLCipher, WAL journal), profile.key (the salt and limits of the key
 * derivation, nothing else, in the clear) and a lock file. Every private key
 * is also sealed item by item under the key derived from the passphrase
 * (Argon2id, INTERACTIVE); the database's key is a subkey of it.
 *
 * Several liaison processes may use one profile at once (watch in one
 * terminal, send in another): every change of the end-to-end store is one
 * SQLite transaction that takes the write lock first and reads what it
 * changes inside it (local.h). The lock file is only for the few steps that
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
#include "profile_data.h"

/* How long a step that needs the profile alone waits for another process
 * holding the lock file before giving up with a message. */
#define PROFILE_LOCK_WAIT_MS 30000

/* 1..64 characters from [A-Za-z0-9._-], not starting with a dot. */
bool profile_name_valid(const char *name);

/* Find an existing profile (no lock is held: other liaison processes may
 * use the profile meanwhile). Nothing is read until profile_unlock: the
 * fields of p are filled then. Free with profile_close. */
enum lsn_err profile_open(const char *name, struct profile **out, struct lsn_status *st);

/* Derive the local key from the passphrase, open the database with its
 * subkey, read the profile's fields and unseal the private keys into
 * p->keys; then keep the key (p->local_key) and the database open (p->db),
 * migrated to the current format, for the end-to-end store. A profile
 * written in the clear by an earlier liaison is encrypted first (once). The
 * lock file is held meanwhile and released before this returns. A
 * wrong passphrase fails with a message saying so, and with
 * LSN_ERR_BAD_SIGNATURE, which nothing else here returns: see
 * profile_wrong_passphrase. */
enum lsn_err profile_unlock(struct profile *p, const char *passphrase, struct lsn_status *st);
static inline bool
profile_wrong_passphrase(enum lsn_err err)
{
	return err == LSN_ERR_BAD_SIGNATURE;
}

/* A new passphrase for an unlocked profile: every sealed item is sealed
 * again under a key derived from it (new salt) and the database re-encrypted
 * under the new subkey, in one transaction — a crash leaves the old
 * passphrase or the new one (profile.key lists both meanwhile). The lock file is held
 * meanwhile. Other processes that have the profile open stop at their next
 * write (local_begin) and must be started again. */
enum lsn_err profile_rekey(struct profile *p, const char *new_passphrase, struct lsn_status *st);

/* Enrolment: create and lock profiles/NAME/ for a new profile (the lock is
 * held until profile_close); fails if a profile of that name exists.
 * Nothing is written until profile_write_new. */
enum lsn_err profile_reserve(const char *name, struct profile **out, struct lsn_status *st);


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
