/* profile_db.h — SQLite storage of a profile (internal to profile.c). */
#ifndef LIAISON_PROFILE_DB_H
#define LIAISON_PROFILE_DB_H

#include "profile_data.h"

/* 1: identity (meta, sealed). 2: end-to-end store (local.h). 3: several
 * agreement keys (agreement_keys.h). */
#define PROFILE_DB_VERSION 4

/* Bring db from its format up to PROFILE_DB_VERSION, one transaction per
 * step (profile_migrate.c). Existing profiles keep working. key: the local
 * key (a step may need to seal again an item under a new name). */
enum lsn_err profile_migrate(struct profile_db *db, const uint8_t *key, struct lsn_status *st);
/* PRAGMA user_version; -1 if it cannot be read. */
int profile_db_version(struct profile_db *db);
void profile_db_close(struct profile_db *db);

/* Read the clear table of the database at path into p. */
enum lsn_err profile_db_load(struct profile *p, const char *path, struct lsn_status *st);
/* Unseal the private keys into p->keys (with every agreement key still held:
 * p->held_ak) and check them against the public keys. */
enum lsn_err profile_db_unseal(struct profile *p, const char *path, const char *passphrase,
			       struct lsn_status *st);
/* Create a new database at path holding every field of p and its sealed keys. */
enum lsn_err profile_db_create(struct profile *p, const char *path, const char *passphrase,
			       struct lsn_status *st);

#endif
