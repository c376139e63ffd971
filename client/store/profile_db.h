/* profile_db.h — SQLite storage of a profile (internal to profile.c). */
#ifndef LIAISON_PROFILE_DB_H
#define LIAISON_PROFILE_DB_H

#include "profile_data.h"

/* 1: identity (meta, sealed). 2: end-to-end store (local.h). 3: several
 * agreement keys (agreement_keys.h). 4: membership alarms (local_alarm.h).
 * 5: envelope hashes and per-sender links. 6: ranges the server no longer
 * shows (channels.cut_from, cut_to; profile_migrate.c). */
#define PROFILE_DB_VERSION 6

/* Bring db from its format up to PROFILE_DB_VERSION, one transaction per
 * step (profile_migrate.c). Existing profiles keep working. key: the local
 * key (a step may need to seal again an item under a new name). */
enum lsn_err profile_migrate(struct profile_db *db, const uint8_t *key, struct lsn_status *st);
/* PRAGMA user_version; -1 if it cannot be read. */
int profile_db_version(struct profile_db *db);

/* malloc'd "dir/file"; NULL on allocation failure. */
char *profile_path(const char *dir, const char *file);
void profile_db_close(struct profile_db *db);

/* The files of a profile directory (profile.h). profile.key is the only
 * one in the clear (profile_keyfile.h); the two .db.* names exist only while
 * a profile written in the clear is being encrypted. */
#define PROFILE_DB          "profile.db"
#define PROFILE_DB_TMP      "profile.db.tmp"
#define PROFILE_KEYFILE     "profile.key"
#define PROFILE_DB_CONVERT  "profile.db.convert"
#define PROFILE_DB_PLAIN    "profile.db.plain"

/* Open p->dir's profile.db with the passphrase (a profile in the clear is
 * encrypted first), read its fields into p, unseal the private keys into
 * p->keys (with every agreement key still held: p->held_ak) and check them
 * against the public keys. */
enum lsn_err profile_db_unseal(struct profile *p, const char *passphrase, struct lsn_status *st);
/* Create a new database at path holding every field of p and its sealed
 * keys, encrypted, and write p->dir's profile.key for it. */
enum lsn_err profile_db_create(struct profile *p, const char *path, const char *passphrase,
			       struct lsn_status *st);

#endif
