/* profile_db.c — profile.db: table meta (clear key/value) and table sealed
 * (name, nonce, ciphertext) holding every private key under the local key. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "profile_db.h"
#include "seal.h"

/* Format 1: the identity of the device. Later formats are migrations
 * (profile_migrate.c), applied to new and old profiles alike. */
static const char schema_sql[] =
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE sealed (name TEXT PRIMARY KEY, nonce BLOB NOT NULL,"
	" ct BLOB NOT NULL) WITHOUT ROWID;"
	"PRAGMA user_version = 1;";

/* The sealed items of a format-1 profile, by name, and where they live in
 * memory. The enrolment writes all three; format 3 (profile_migrate.c) moves
 * "ak_sk" to "ak_sk:<hex ak_id>", so only the first two are read from here:
 * agreement keys are read from table agreement_keys (load_agreement_keys). */
struct sealed_item {
	const char *name;
	size_t offset;
	size_t len;
};
static const struct sealed_item sealed_items[] = {
	{"dk_sk", offsetof(struct profile_keys, dk_sk), crypto_sign_SECRETKEYBYTES},
	{"ik_sk", offsetof(struct profile_keys, ik_sk), crypto_sign_SECRETKEYBYTES},
	{"ak_sk", offsetof(struct profile_keys, ak_sk), crypto_kx_SECRETKEYBYTES},
};
#define SEALED_ITEM_COUNT (sizeof sealed_items / sizeof sealed_items[0])
#define IDENTITY_ITEM_COUNT 2   /* dk_sk (read first: a wrong passphrase), ik_sk */

static enum lsn_err
db_error(sqlite3 *db, const char *what, struct lsn_status *st)
{
	return lsn_fail(st, LSN_ERR_INTERNAL, "%s: %s", what,
			db ? sqlite3_errmsg(db) : "out of memory");
}

static enum lsn_err
db_open(const char *path, bool create, sqlite3 **db, struct lsn_status *st)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | (create ? SQLITE_OPEN_CREATE : 0);
	if (sqlite3_open_v2(path, db, flags, NULL) != SQLITE_OK) {
		enum lsn_err err = db_error(*db, "cannot open the profile database", st);
		sqlite3_close(*db);
		*db = NULL;
		return err;
	}
	sqlite3_busy_timeout(*db, 2000);
	/* deleted or overwritten secrets must not linger in free pages */
	sqlite3_exec(*db, "PRAGMA secure_delete = ON", NULL, NULL, NULL);
	return LSN_OK;
}

/* ---- meta: reading ------------------------------------------------------ */

/* Step the lookup of key; SQLITE_ROW leaves the value in column 0. */
static int
meta_lookup(sqlite3 *db, const char *key, sqlite3_stmt **stmt)
{
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, stmt, NULL) !=
	    SQLITE_OK)
		return SQLITE_ERROR;
	sqlite3_bind_text(*stmt, 1, key, -1, SQLITE_STATIC);
	return sqlite3_step(*stmt);
}

static enum lsn_err
damaged(const char *key, struct lsn_status *st)
{
	return lsn_fail(st, LSN_ERR_INTERNAL,
			"the profile database is damaged (entry \"%s\"); enrol again with a new "
			"invite under another --profile name", key);
}

static enum lsn_err
meta_text(sqlite3 *db, const char *key, bool required, char **out, struct lsn_status *st)
{
	sqlite3_stmt *stmt = NULL;
	int rc = meta_lookup(db, key, &stmt);
	enum lsn_err err = LSN_OK;
	if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) == SQLITE_TEXT) {
		*out = strdup((const char *)sqlite3_column_text(stmt, 0));
		if (*out == NULL)
			err = lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	} else if (rc != SQLITE_DONE || required) {
		err = damaged(key, st);
	}
	sqlite3_finalize(stmt);
	return err;
}

static enum lsn_err
meta_blob(sqlite3 *db, const char *key, uint8_t *out, size_t want, struct lsn_status *st)
{
	sqlite3_stmt *stmt = NULL;
	int rc = meta_lookup(db, key, &stmt);
	enum lsn_err err = LSN_OK;
	if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) == SQLITE_BLOB &&
	    (size_t)sqlite3_column_bytes(stmt, 0) == want)
		memcpy(out, sqlite3_column_blob(stmt, 0), want);
	else
		err = damaged(key, st);
	sqlite3_finalize(stmt);
	return err;
}

static enum lsn_err
meta_int(sqlite3 *db, const char *key, int64_t *out, struct lsn_status *st)
{
	sqlite3_stmt *stmt = NULL;
	int rc = meta_lookup(db, key, &stmt);
	enum lsn_err err = LSN_OK;
	if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) == SQLITE_INTEGER)
		*out = sqlite3_column_int64(stmt, 0);
	else
		err = damaged(key, st);
	sqlite3_finalize(stmt);
	return err;
}

static enum lsn_err
meta_id(sqlite3 *db, const char *key, uint8_t id[LSN_ID_BYTES], struct lsn_status *st)
{
	char *hex = NULL;
	enum lsn_err err = meta_text(db, key, true, &hex, st);
	if (err == LSN_OK && !lsn_id_from_hex(hex, id))
		err = damaged(key, st);
	free(hex);
	return err;
}

static enum lsn_err
check_version(sqlite3 *db, struct lsn_status *st)
{
	sqlite3_stmt *stmt = NULL;
	int version = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (version >= 1 && version <= PROFILE_DB_VERSION)
		return LSN_OK; /* older formats are migrated once the profile is unlocked */
	if (version > PROFILE_DB_VERSION)
		return lsn_fail(st, LSN_ERR_INTERNAL,
				"this profile was written by a newer liaison (format %d); upgrade "
				"liaison", version);
	return lsn_fail(st, LSN_ERR_INTERNAL, "this is not a liaison profile database (%s)",
			version < 0 ? sqlite3_errmsg(db) : "unknown format");
}

static enum lsn_err
load_fields(sqlite3 *db, struct profile *p, struct lsn_status *st)
{
	enum lsn_err err = check_version(db, st);
	if (err == LSN_OK) err = meta_text(db, "server_url", true, &p->server_url, st);
	if (err == LSN_OK) err = meta_text(db, "server_name", true, &p->server_name, st);
	if (err == LSN_OK) err = meta_text(db, "device_name", true, &p->device_name, st);
	if (err == LSN_OK) err = meta_text(db, "ca_pem", false, &p->ca_pem, st);
	if (err == LSN_OK) err = meta_id(db, "user_id", p->user, st);
	if (err == LSN_OK) err = meta_id(db, "device_id", p->device, st);
	if (err == LSN_OK) err = meta_id(db, "ak_id", p->ak_id, st);
	if (err == LSN_OK) err = meta_blob(db, "ik_pk", p->ik_pk, sizeof p->ik_pk, st);
	if (err == LSN_OK) err = meta_blob(db, "dk_pk", p->dk_pk, sizeof p->dk_pk, st);
	if (err == LSN_OK) err = meta_blob(db, "ak_pk", p->ak_pk, sizeof p->ak_pk, st);
	if (err == LSN_OK) err = meta_int(db, "dk_ts", &p->dk_ts, st);
	if (err == LSN_OK) err = meta_int(db, "ak_ts", &p->ak_ts, st);
	if (err == LSN_OK) err = meta_int(db, "created_at", &p->created_at, st);
	return err;
}

enum lsn_err
profile_db_load(struct profile *p, const char *path, struct lsn_status *st)
{
	sqlite3 *db = NULL;
	enum lsn_err err = db_open(path, false, &db, st);
	if (err == LSN_OK)
		err = load_fields(db, p, st);
	sqlite3_close(db);
	return err;
}

/* ---- sealed: unsealing -------------------------------------------------- */

static enum lsn_err
load_kdf(sqlite3 *db, struct seal_kdf *kdf, struct lsn_status *st)
{
	int64_t alg = 0;
	enum lsn_err err = meta_blob(db, "kdf_salt", kdf->salt, sizeof kdf->salt, st);
	if (err == LSN_OK) err = meta_int(db, "kdf_opslimit", &kdf->opslimit, st);
	if (err == LSN_OK) err = meta_int(db, "kdf_memlimit", &kdf->memlimit, st);
	if (err == LSN_OK) err = meta_int(db, "kdf_alg", &alg, st);
	kdf->alg = (int)alg;
	return err;
}

/* Open the sealed item name into out (len bytes); false if missing or not opening. */
static bool
unseal_named(sqlite3 *db, const uint8_t *key, const char *name, size_t len, uint8_t *out)
{
	sqlite3_stmt *stmt = NULL;
	bool ok = false;
	if (sqlite3_prepare_v2(db, "SELECT nonce, ct FROM sealed WHERE name = ?", -1, &stmt,
			       NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW &&
	    sqlite3_column_bytes(stmt, 0) == SEAL_NONCEBYTES &&
	    (size_t)sqlite3_column_bytes(stmt, 1) == len + SEAL_ABYTES)
		ok = seal_open_item(key, name, sqlite3_column_blob(stmt, 0),
				    sqlite3_column_blob(stmt, 1), len + SEAL_ABYTES, out);
	sqlite3_finalize(stmt);
	return ok;
}

static bool
unseal_one(sqlite3 *db, const uint8_t *key, const struct sealed_item *item, uint8_t *out)
{
	return unseal_named(db, key, item->name, item->len, out);
}

/* An agreement key's private half from its item, checked against its public half. */
static bool
unseal_ak(sqlite3 *db, const uint8_t *key, const uint8_t id[LSN_ID_BYTES],
	  const uint8_t pk[crypto_kx_PUBLICKEYBYTES], uint8_t sk[crypto_kx_SECRETKEYBYTES])
{
	char item[PROFILE_AK_ITEM_BUF];
	uint8_t derived[crypto_kx_PUBLICKEYBYTES];
	profile_ak_item(id, item);
	return unseal_named(db, key, item, crypto_kx_SECRETKEYBYTES, sk) &&
	       crypto_scalarmult_base(derived, sk) == 0 &&
	       sodium_memcmp(derived, pk, sizeof derived) == 0;
}

/* The current agreement key (it must be the one meta names) into
 * p->keys->ak_sk, and the others still held (previous or pending, newest
 * first, at most PROFILE_AK_KEEP - 1) into p->held_ak. Format 3. */
static enum lsn_err
load_agreement_keys(sqlite3 *db, const uint8_t *key, struct profile *p, struct lsn_status *st)
{
	static const char sql[] =
		"SELECT ak_id, ak_pk, ak_ts, state FROM agreement_keys"
		" WHERE state IN ('current', 'previous', 'pending')"
		" ORDER BY state = 'current' DESC, state = 'pending' DESC, ak_ts DESC";
	sqlite3_stmt *stmt = NULL;
	bool current = false, ok = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK;
	p->n_held_ak = 0;
	while (ok && sqlite3_step(stmt) == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(stmt, 3);
		if (sqlite3_column_bytes(stmt, 0) != LSN_ID_BYTES ||
		    sqlite3_column_bytes(stmt, 1) != crypto_kx_PUBLICKEYBYTES || state == NULL) {
			ok = false;
		} else if (strcmp(state, "current") == 0) {
			ok = !current && memcmp(sqlite3_column_blob(stmt, 0), p->ak_id,
						LSN_ID_BYTES) == 0 &&
			     unseal_ak(db, key, p->ak_id, p->ak_pk, p->keys->ak_sk);
			current = true;
		} else if (p->n_held_ak < PROFILE_AK_KEEP - 1) {
			struct profile_ak *a = &p->held_ak[p->n_held_ak];
			memcpy(a->id, sqlite3_column_blob(stmt, 0), LSN_ID_BYTES);
			memcpy(a->pk, sqlite3_column_blob(stmt, 1), crypto_kx_PUBLICKEYBYTES);
			a->ts = sqlite3_column_int64(stmt, 2);
			a->pending = strcmp(state, "pending") == 0;
			ok = unseal_ak(db, key, a->id, a->pk, p->keys->held_ak_sk[p->n_held_ak]);
			p->n_held_ak++;
		}
	}
	sqlite3_finalize(stmt);
	if (!ok || !current) {
		p->n_held_ak = 0;
		return damaged("agreement_keys", st);
	}
	return LSN_OK;
}

/* The unsealed private keys must match the public keys in the clear table. */
static bool
keys_match(const struct profile *p)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	crypto_sign_ed25519_sk_to_pk(pk, p->keys->ik_sk);
	bool ok = sodium_memcmp(pk, p->ik_pk, sizeof pk) == 0;
	crypto_sign_ed25519_sk_to_pk(pk, p->keys->dk_sk);
	ok = ok && sodium_memcmp(pk, p->dk_pk, sizeof pk) == 0;
	ok = ok && crypto_scalarmult_base(pk, p->keys->ak_sk) == 0 &&
	     sodium_memcmp(pk, p->ak_pk, sizeof pk) == 0;
	return ok;
}

/* The identity keys (IK, DK): before any migration, so that a wrong
 * passphrase changes nothing. */
static enum lsn_err
unseal_identity(sqlite3 *db, const uint8_t *key, struct profile *p, struct lsn_status *st)
{
	for (size_t i = 0; i < IDENTITY_ITEM_COUNT; i++) {
		const struct sealed_item *item = &sealed_items[i];
		if (unseal_one(db, key, item, (uint8_t *)p->keys + item->offset))
			continue;
		if (i == 0)
			return lsn_fail(st, LSN_ERR_BAD_SIGNATURE,
					"wrong passphrase for profile \"%s\"", p->name);
		return damaged(item->name, st);
	}
	return LSN_OK;
}

enum lsn_err
profile_db_unseal(struct profile *p, const char *path, const char *passphrase,
		  struct lsn_status *st)
{
	sqlite3 *db = NULL;
	struct seal_kdf kdf;
	uint8_t *key = NULL;
	enum lsn_err err = db_open(path, false, &db, st);
	if (err == LSN_OK)
		err = load_kdf(db, &kdf, st);
	if (err == LSN_OK)
		err = seal_derive(&kdf, passphrase, &key, st);
	if (err == LSN_OK && p->keys == NULL && (p->keys = profile_keys_new()) == NULL)
		err = lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	if (err == LSN_OK)
		err = unseal_identity(db, key, p, st);
	if (err == LSN_OK)
		err = profile_migrate(db, key, st);
	if (err == LSN_OK)
		err = load_agreement_keys(db, key, p, st);
	if (err == LSN_OK && !keys_match(p))
		err = damaged("sealed keys", st);
	if (err != LSN_OK) {
		if (p->keys)
			sodium_free(p->keys);
		p->keys = NULL;
		seal_key_free(key);
		sqlite3_close(db);
		return err;
	}
	p->local_key = key;
	p->db = db; /* stays open for the end-to-end store until profile_close */
	return LSN_OK;
}

/* ---- creation ----------------------------------------------------------- */

/* Bind helper: value is bound by the caller at index 2. */
static bool
meta_put(sqlite3 *db, const char *key, int type, const void *value, size_t len, int64_t num)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO meta (key, value) VALUES (?, ?)", -1, &stmt,
			       NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	if (type == SQLITE_TEXT)
		sqlite3_bind_text(stmt, 2, value, -1, SQLITE_STATIC);
	else if (type == SQLITE_BLOB)
		sqlite3_bind_blob(stmt, 2, value, (int)len, SQLITE_STATIC);
	else
		sqlite3_bind_int64(stmt, 2, num);
	bool ok = sqlite3_step(stmt) == SQLITE_DONE;
	sqlite3_finalize(stmt);
	return ok;
}

static bool
meta_put_id(sqlite3 *db, const char *key, const uint8_t id[LSN_ID_BYTES])
{
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(id, hex);
	return meta_put(db, key, SQLITE_TEXT, hex, 0, 0);
}

static bool
store_fields(sqlite3 *db, const struct profile *p)
{
	return meta_put(db, "server_url", SQLITE_TEXT, p->server_url, 0, 0) &&
	       meta_put(db, "server_name", SQLITE_TEXT, p->server_name, 0, 0) &&
	       meta_put(db, "device_name", SQLITE_TEXT, p->device_name, 0, 0) &&
	       (p->ca_pem == NULL || meta_put(db, "ca_pem", SQLITE_TEXT, p->ca_pem, 0, 0)) &&
	       meta_put_id(db, "user_id", p->user) && meta_put_id(db, "device_id", p->device) &&
	       meta_put_id(db, "ak_id", p->ak_id) &&
	       meta_put(db, "ik_pk", SQLITE_BLOB, p->ik_pk, sizeof p->ik_pk, 0) &&
	       meta_put(db, "dk_pk", SQLITE_BLOB, p->dk_pk, sizeof p->dk_pk, 0) &&
	       meta_put(db, "ak_pk", SQLITE_BLOB, p->ak_pk, sizeof p->ak_pk, 0) &&
	       meta_put(db, "dk_ts", SQLITE_INTEGER, NULL, 0, p->dk_ts) &&
	       meta_put(db, "ak_ts", SQLITE_INTEGER, NULL, 0, p->ak_ts) &&
	       meta_put(db, "created_at", SQLITE_INTEGER, NULL, 0, p->created_at);
}

static bool
store_kdf(sqlite3 *db, const struct seal_kdf *kdf)
{
	return meta_put(db, "kdf_salt", SQLITE_BLOB, kdf->salt, sizeof kdf->salt, 0) &&
	       meta_put(db, "kdf_opslimit", SQLITE_INTEGER, NULL, 0, kdf->opslimit) &&
	       meta_put(db, "kdf_memlimit", SQLITE_INTEGER, NULL, 0, kdf->memlimit) &&
	       meta_put(db, "kdf_alg", SQLITE_INTEGER, NULL, 0, kdf->alg);
}

static bool
store_sealed(sqlite3 *db, const uint8_t *key, const struct profile *p)
{
	for (size_t i = 0; i < SEALED_ITEM_COUNT; i++) {
		const struct sealed_item *item = &sealed_items[i];
		uint8_t nonce[SEAL_NONCEBYTES], ct[crypto_sign_SECRETKEYBYTES + SEAL_ABYTES];
		sqlite3_stmt *stmt = NULL;
		if (!seal_item(key, item->name, (const uint8_t *)p->keys + item->offset, item->len,
			       nonce, ct) ||
		    sqlite3_prepare_v2(db, "INSERT INTO sealed (name, nonce, ct) VALUES (?, ?, ?)",
				       -1, &stmt, NULL) != SQLITE_OK)
			return false;
		sqlite3_bind_text(stmt, 1, item->name, -1, SQLITE_STATIC);
		sqlite3_bind_blob(stmt, 2, nonce, sizeof nonce, SQLITE_STATIC);
		sqlite3_bind_blob(stmt, 3, ct, (int)(item->len + SEAL_ABYTES), SQLITE_STATIC);
		bool ok = sqlite3_step(stmt) == SQLITE_DONE;
		sqlite3_finalize(stmt);
		if (!ok)
			return false;
	}
	return true;
}

enum lsn_err
profile_db_create(struct profile *p, const char *path, const char *passphrase,
		  struct lsn_status *st)
{
	sqlite3 *db = NULL;
	struct seal_kdf kdf;
	uint8_t *key = NULL;
	seal_kdf_new(&kdf);
	enum lsn_err err = seal_derive(&kdf, passphrase, &key, st);
	if (err == LSN_OK)
		err = db_open(path, true, &db, st);
	if (err == LSN_OK) {
		chmod(path, 0600);
		bool ok = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK &&
			  sqlite3_exec(db, schema_sql, NULL, NULL, NULL) == SQLITE_OK &&
			  store_fields(db, p) && store_kdf(db, &kdf) && store_sealed(db, key, p) &&
			  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
		if (!ok)
			err = db_error(db, "cannot write the new profile", st);
		else
			err = profile_migrate(db, key, st);
	}
	seal_key_free(key);
	sqlite3_close(db);
	return err;
}
