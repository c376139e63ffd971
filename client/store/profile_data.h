/* profile_data.h — what a profile holds, apart from where it lives: the
 * structures of an enrolled device's profile (clear fields, private keys,
 * the agreement keys still held), their sizes, and the few functions on
 * them that need no directory and no lock. Below both profile.h (the
 * directory, its lock, open/unlock/close) and profile_db.h (profile.db),
 * so that neither has to include the other's header. */
#ifndef LIAISON_PROFILE_DATA_H
#define LIAISON_PROFILE_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "err.h"
#include "ident.h"

#define PROFILE_NAME_MAX 64

/* The start of the message of a wrong passphrase (profile_unlock). */
#define PROFILE_WRONG_PASSPHRASE "wrong passphrase for profile"

/* CRYPTO.md §1: a device keeps the private half of its last 3 agreement keys
 * (the current one and 2 previous ones) to open shares sent late. */
#define PROFILE_AK_KEEP 3
/* Sealed item of an agreement key's private half: "ak_sk:" + 32 hex ak_id. */
#define PROFILE_AK_ITEM_BUF 40

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
	 * every secret of the local store, and the open database (local.h) */
	uint8_t *local_key;
	struct profile_db *db;
	/* the salt the local key was derived with: another process that changes
	 * the passphrase changes it, and this one stops writing (local_begin) */
	uint8_t kdf_salt[crypto_pwhash_SALTBYTES];
};

/* A zeroed, sodium_malloc'd key block; NULL on failure. Freed by profile_close. */
struct profile_keys *profile_keys_new(void);

/* The sealed item name of an agreement key's private half: "ak_sk:<hex id>". */
void profile_ak_item(const uint8_t ak_id[LSN_ID_BYTES], char out[PROFILE_AK_ITEM_BUF]);

/* Read again, from the database, the agreement keys this device holds
 * (current, previous, pending) into p: another liaison process may have
 * rotated them since p was unlocked. p is unchanged on failure. */
enum lsn_err profile_ak_reload(struct profile *p, struct lsn_status *st);

#endif
