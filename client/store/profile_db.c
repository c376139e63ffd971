/* profile_db.c — profile.db: table meta (key/value: the device's public
 * identity) and table sealed (name, nonce, ciphertext) holding every private
 * key under the local key; the file as a whole encrypted with SQLCipher
 * under a subkey of the local key, whose derivation parameters are in
 * profile.key (profile_keyfile.h). A profile written before that (the file
 * in the clear) is converted at its first unlock. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profile_db.h"
#include "profile_keyfile.h"
#include "seal.h"
#include "sql.h"
#include "tr.h"

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

/* ---- meta: reading ------------------------------------------------------ */

static enum lsn_err
damaged(const char *key, struct lsn_status *st)
{
	return lsn_fail(st, LSN_ERR_INTERNAL,
			"the profile database is damaged (entry \"%s\"); enrol again with a new "
			"invite under another --profile name", key);
}

/* The value of key into q's column 0; false if absent (or not readable). */
static bool
meta_lookup(struct profile_db *db, struct sql_q *q, const char *key)
{
	struct lsn_status st;
	return sql_query(db, q, &st, "SELECT value FROM meta WHERE key = ?", "t", key) &&
	       sql_next(q);
}

static enum lsn_err
meta_text(struct profile_db *db, const char *key, bool required, char **out,
	  struct lsn_status *st)
{
	struct sql_q q;
	bool found = meta_lookup(db, &q, key);
	enum lsn_err err = LSN_OK;
	if (found && sql_is_text(&q, 0)) {
		/* unlock may run on a profile whose fields are set already (the
		 * enrolment unlocks the profile it has just written): replace */
		char *text = strdup(sql_text(&q, 0));
		if (text == NULL) {
			err = lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
		} else {
			free(*out);
			*out = text;
		}
	} else if (found || required || q.rc != SQLITE_DONE) {
		err = damaged(key, st);
	}
	sql_end(&q, NULL);
	return err;
}

static enum lsn_err
meta_blob(struct profile_db *db, const char *key, uint8_t *out, size_t want,
	  struct lsn_status *st)
{
	struct sql_q q;
	bool ok = meta_lookup(db, &q, key) && sql_copy(&q, 0, out, want);
	sql_end(&q, NULL);
	return ok ? LSN_OK : damaged(key, st);
}

static enum lsn_err
meta_int(struct profile_db *db, const char *key, int64_t *out, struct lsn_status *st)
{
	struct sql_q q;
	bool ok = meta_lookup(db, &q, key) && sql_is_int(&q, 0);
	if (ok)
		*out = sql_int(&q, 0);
	sql_end(&q, NULL);
	return ok ? LSN_OK : damaged(key, st);
}

static enum lsn_err
meta_id(struct profile_db *db, const char *key, uint8_t id[LSN_ID_BYTES], struct lsn_status *st)
{
	char *hex = NULL;
	enum lsn_err err = meta_text(db, key, true, &hex, st);
	if (err == LSN_OK && !lsn_id_from_hex(hex, id))
		err = damaged(key, st);
	free(hex);
	return err;
}

int
profile_db_version(struct profile_db *db)
{
	struct lsn_status st;
	struct sql_q q;
	int version = -1;
	if (sql_query(db, &q, &st, "PRAGMA user_version", "") && sql_next(&q))
		version = (int)sql_int(&q, 0);
	sql_end(&q, NULL);
	return version;
}

static enum lsn_err
check_version(struct profile_db *db, struct lsn_status *st)
{
	int version = profile_db_version(db);
	if (version >= 1 && version <= PROFILE_DB_VERSION)
		return LSN_OK; /* older formats are migrated once the profile is unlocked */
	if (version > PROFILE_DB_VERSION)
		return lsn_fail(st, LSN_ERR_INTERNAL,
				"this profile was written by a newer liaison (format %d); upgrade "
				"liaison", version);
	return lsn_fail(st, LSN_ERR_INTERNAL, "this is not a liaison profile database (%s)",
			version < 0 ? sql_errmsg(db) : "unknown format");
}

static enum lsn_err
load_fields(struct profile_db *db, struct profile *p, struct lsn_status *st)
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

void
profile_db_close(struct profile_db *db)
{
	sql_close(db);
}

/* ---- sealed: unsealing -------------------------------------------------- */

static enum lsn_err
load_kdf(struct profile_db *db, struct seal_kdf *kdf, struct lsn_status *st)
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
unseal_named(struct profile_db *db, const uint8_t *key, const char *name, size_t len,
	     uint8_t *out)
{
	struct lsn_status st;
	struct sql_q q;
	size_t nonce_len = 0, ct_len = 0;
	bool ok = false;
	if (sql_query(db, &q, &st, "SELECT nonce, ct FROM sealed WHERE name = ?", "t", name) &&
	    sql_next(&q)) {
		const uint8_t *nonce = sql_blob(&q, 0, &nonce_len);
		const uint8_t *ct = sql_blob(&q, 1, &ct_len);
		ok = nonce && ct && nonce_len == SEAL_NONCEBYTES && ct_len == len + SEAL_ABYTES &&
		     seal_open_item(key, name, nonce, ct, len + SEAL_ABYTES, out);
	}
	sql_end(&q, NULL);
	return ok;
}

static bool
unseal_one(struct profile_db *db, const uint8_t *key, const struct sealed_item *item,
	   uint8_t *out)
{
	return unseal_named(db, key, item->name, item->len, out);
}

/* An agreement key's private half from its item, checked against its public half. */
static bool
unseal_ak(struct profile_db *db, const uint8_t *key, const uint8_t id[LSN_ID_BYTES],
	  const uint8_t pk[crypto_kx_PUBLICKEYBYTES], uint8_t sk[crypto_kx_SECRETKEYBYTES])
{
	char item[PROFILE_AK_ITEM_BUF];
	uint8_t derived[crypto_kx_PUBLICKEYBYTES];
	profile_ak_item(id, item);
	return unseal_named(db, key, item, crypto_kx_SECRETKEYBYTES, sk) &&
	       crypto_scalarmult_base(derived, sk) == 0 &&
	       sodium_memcmp(derived, pk, sizeof derived) == 0;
}

/* The agreement keys of a profile as the database holds them. */
struct ak_set {
	uint8_t id[LSN_ID_BYTES];
	uint8_t pk[crypto_kx_PUBLICKEYBYTES];
	int64_t ts;
	size_t n_held;
	struct profile_ak held[PROFILE_AK_KEEP - 1];
};

/* The current agreement key (it must be the one meta names: set->id) into
 * keys->ak_sk, and the others still held (previous or pending, newest first,
 * at most PROFILE_AK_KEEP - 1) into set->held and keys->held_ak_sk. Format 3. */
static enum lsn_err
load_agreement_keys(struct profile_db *db, const uint8_t *key, struct ak_set *set,
		    struct profile_keys *keys, struct lsn_status *st)
{
	static const char sql[] =
		"SELECT ak_id, ak_pk, ak_ts, state FROM agreement_keys"
		" WHERE state IN ('current', 'previous', 'pending')"
		" ORDER BY state = 'current' DESC, state = 'pending' DESC, ak_ts DESC";
	struct sql_q q;
	bool current = false, ok = sql_query(db, &q, st, sql, "");
	set->n_held = 0;
	while (ok && sql_next(&q)) {
		const char *state = sql_text(&q, 3);
		uint8_t id[LSN_ID_BYTES], pk[crypto_kx_PUBLICKEYBYTES];
		if (!sql_copy(&q, 0, id, sizeof id) || !sql_copy(&q, 1, pk, sizeof pk) ||
		    state == NULL) {
			ok = false;
		} else if (strcmp(state, "current") == 0) {
			ok = !current && memcmp(id, set->id, LSN_ID_BYTES) == 0 &&
			     unseal_ak(db, key, set->id, set->pk, keys->ak_sk);
			current = true;
		} else if (set->n_held < PROFILE_AK_KEEP - 1) {
			struct profile_ak *a = &set->held[set->n_held];
			memcpy(a->id, id, LSN_ID_BYTES);
			memcpy(a->pk, pk, crypto_kx_PUBLICKEYBYTES);
			a->ts = sql_int(&q, 2);
			a->pending = strcmp(state, "pending") == 0;
			ok = unseal_ak(db, key, a->id, a->pk, keys->held_ak_sk[set->n_held]);
			set->n_held++;
		}
	}
	ok = sql_end(&q, st) == LSN_OK && ok;
	if (!ok || !current) {
		set->n_held = 0;
		return damaged("agreement_keys", st);
	}
	return LSN_OK;
}

static void
ak_set_apply(struct profile *p, const struct ak_set *set)
{
	memcpy(p->ak_id, set->id, sizeof p->ak_id);
	memcpy(p->ak_pk, set->pk, sizeof p->ak_pk);
	p->ak_ts = set->ts;
	p->n_held_ak = set->n_held;
	memcpy(p->held_ak, set->held, sizeof p->held_ak);
}

enum lsn_err
profile_ak_reload(struct profile *p, struct lsn_status *st)
{
	struct ak_set set;
	memset(&set, 0, sizeof set);
	struct profile_keys *keys = profile_keys_new();
	if (keys == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	/* one read transaction: meta and the table as one process left them */
	enum lsn_err err = sql_begin(p->db, st);
	if (err == LSN_OK)
		err = meta_id(p->db, "ak_id", set.id, st);
	if (err == LSN_OK)
		err = meta_blob(p->db, "ak_pk", set.pk, sizeof set.pk, st);
	if (err == LSN_OK)
		err = meta_int(p->db, "ak_ts", &set.ts, st);
	if (err == LSN_OK)
		err = load_agreement_keys(p->db, p->local_key, &set, keys, st);
	sql_rollback(p->db);
	if (err == LSN_OK) {
		ak_set_apply(p, &set);
		memcpy(p->keys->ak_sk, keys->ak_sk, sizeof keys->ak_sk);
		memcpy(p->keys->held_ak_sk, keys->held_ak_sk, sizeof keys->held_ak_sk);
	}
	sodium_free(keys);
	return err;
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
unseal_identity(struct profile_db *db, const uint8_t *key, struct profile *p,
		struct lsn_status *st)
{
	for (size_t i = 0; i < IDENTITY_ITEM_COUNT; i++) {
		const struct sealed_item *item = &sealed_items[i];
		if (unseal_one(db, key, item, (uint8_t *)p->keys + item->offset))
			continue;
		if (i == 0)
			return lsn_fail(st, LSN_ERR_BAD_SIGNATURE,
					PROFILE_WRONG_PASSPHRASE " \"%s\"", p->name);
		return damaged(item->name, st);
	}
	return LSN_OK;
}

char *
profile_path(const char *dir, const char *file)
{
	size_t len = strlen(dir) + 1 + strlen(file) + 1;
	char *path = malloc(len);
	if (path)
		snprintf(path, len, "%s/%s", dir, file);
	return path;
}

/* A profile written before the database was encrypted starts with SQLite's
 * own header; an encrypted one with random bytes (SQLCipher's salt). */
static bool
is_clear_db(const char *path)
{
	static const char magic[16] = "SQLite format 3";
	char head[16];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	bool clear = read(fd, head, sizeof head) == (ssize_t)sizeof head &&
		     memcmp(head, magic, sizeof magic) == 0;
	close(fd);
	return clear;
}

/* Overwrite the file at path with zeros, then remove it: what is left of a
 * profile in the clear after its conversion. On a journalling file system
 * or an SSD the old blocks may survive (docs/THREAT-MODEL.md). */
static void
wipe_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat sb;
	if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
		static const uint8_t zeros[4096];
		off_t left = sb.st_size;
		while (left > 0) {
			size_t n = left < (off_t)sizeof zeros ? (size_t)left : sizeof zeros;
			ssize_t w = write(fd, zeros, n);
			if (w <= 0)
				break;
			left -= w;
		}
		fsync(fd);
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
}

/* A conversion cut short: the link to the file in the clear is wiped once
 * profile.db is another file (the encrypted one), only unlinked otherwise. */
static void
finish_conversion(const char *dir)
{
	char *db_path = profile_path(dir, PROFILE_DB), *plain = profile_path(dir, PROFILE_DB_PLAIN);
	struct stat a, b;
	if (db_path && plain && lstat(plain, &a) == 0) {
		if (stat(db_path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			unlink(plain);
		else
			wipe_file(plain);
	}
	free(db_path);
	free(plain);
}

static void
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Copy the clear database into an encrypted one, write profile.key, put
 * the copy in place of the clear file (rename: a crash leaves one or the
 * other) and wipe the clear file. db is closed here. */
static enum lsn_err
encrypt_clear_db(struct profile_db *db, const char *dir, const struct seal_kdf *kdf,
		 const uint8_t *key, struct lsn_status *st)
{
	char *db_path = profile_path(dir, PROFILE_DB), *copy = profile_path(dir, PROFILE_DB_CONVERT);
	char *key_path = profile_path(dir, PROFILE_KEYFILE), *plain = profile_path(dir, PROFILE_DB_PLAIN);
	char *wal_path = profile_path(dir, PROFILE_DB "-wal");
	uint8_t dbk[SEAL_DB_KEYBYTES];
	seal_db_key(key, dbk);
	enum lsn_err err = LSN_OK;
	if (!db_path || !copy || !key_path || !plain || !wal_path)
		err = lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	int version = profile_db_version(db);
	if (err == LSN_OK) {
		unlink(copy);
		err = sql_export(db, copy, dbk, st);
	}
	sql_close(db); /* the last connection: its WAL is checkpointed and removed */
	/* frames left in the clear file's WAL: another process still has it
	 * open, and they would be read as pages of the encrypted file */
	struct stat wal;
	if (err == LSN_OK && wal_path && stat(wal_path, &wal) == 0 && wal.st_size > 0)
		err = lsn_fail(st, LSN_ERR_CONFLICT, _("another liaison process has profile.db open "
			       "(an older liaison?); close it, then run the command again"));
	if (err == LSN_OK) {
		struct profile_db *enc = sql_open_key(copy, false, dbk, NULL, st);
		if (enc == NULL)
			err = st->err;
		else if (profile_db_version(enc) != version)
			err = lsn_fail(st, LSN_ERR_INTERNAL, _("the encrypted copy of the profile is "
				       "incomplete; the profile was left as it was"));
		sql_close(enc);
	}
	if (err == LSN_OK) {
		struct keyfile kf = {.n = 1};
		kf.kdf[0] = *kdf;
		err = keyfile_write(key_path, &kf, st);
	}
	if (err == LSN_OK) {
		unlink(plain);
		if (link(db_path, plain) != 0 || rename(copy, db_path) != 0)
			err = lsn_fail(st, LSN_ERR_INTERNAL, _("cannot put the encrypted profile in place "
				       "(%s): %s"), db_path, strerror(errno));
		else
			sync_dir(dir);
	}
	if (err != LSN_OK)
		unlink(copy);
	sodium_memzero(dbk, sizeof dbk);
	free(db_path);
	free(copy);
	free(key_path);
	free(plain);
	free(wal_path);
	finish_conversion(dir);
	return err;
}

/* A profile in the clear: the passphrase is checked against it first (a
 * wrong one changes nothing), then it is encrypted as a whole. */
static enum lsn_err
convert_clear(struct profile *p, const char *passphrase, struct lsn_status *st)
{
	char *db_path = profile_path(p->dir, PROFILE_DB);
	if (db_path == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	struct seal_kdf kdf;
	uint8_t *key = NULL;
	struct profile_db *db = sql_open(db_path, false, st);
	free(db_path);
	enum lsn_err err = db ? check_version(db, st) : st->err;
	if (err == LSN_OK)
		err = load_kdf(db, &kdf, st);
	if (err == LSN_OK)
		err = seal_derive(&kdf, passphrase, &key, st);
	if (err == LSN_OK && p->keys == NULL && (p->keys = profile_keys_new()) == NULL)
		err = lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	if (err == LSN_OK)
		err = unseal_identity(db, key, p, st);
	if (err == LSN_OK) {
		err = encrypt_clear_db(db, p->dir, &kdf, key, st);
		db = NULL;
	}
	sql_close(db);
	seal_key_free(key);
	return err;
}

/* Open profile.db with the passphrase: each parameter line of profile.key
 * in turn (two only while a change of passphrase was cut short) until one
 * opens it. *key: the local key; *used: that line. */
static enum lsn_err
open_encrypted(struct profile *p, const struct keyfile *kf, const char *passphrase,
	       struct profile_db **out, uint8_t **key, size_t *used, struct lsn_status *st)
{
	char *db_path = profile_path(p->dir, PROFILE_DB);
	if (db_path == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	enum lsn_err err = LSN_OK;
	*out = NULL;
	for (size_t i = 0; i < kf->n && *out == NULL && err == LSN_OK; i++) {
		uint8_t dbk[SEAL_DB_KEYBYTES];
		bool wrong = false;
		err = seal_derive(&kf->kdf[i], passphrase, key, st);
		if (err != LSN_OK)
			break;
		seal_db_key(*key, dbk);
		*out = sql_open_key(db_path, false, dbk, &wrong, st);
		sodium_memzero(dbk, sizeof dbk);
		*used = i;
		if (*out == NULL) {
			seal_key_free(*key);
			*key = NULL;
			if (!wrong)
				err = st->err;
		}
	}
	free(db_path);
	if (err == LSN_OK && *out == NULL)
		err = lsn_fail(st, LSN_ERR_BAD_SIGNATURE, PROFILE_WRONG_PASSPHRASE " \"%s\"",
			       p->name);
	return err;
}

enum lsn_err
profile_db_unseal(struct profile *p, const char *passphrase, struct lsn_status *st)
{
	struct seal_kdf kdf;
	struct keyfile kf = {.n = 0};
	uint8_t *key = NULL;
	struct profile_db *db = NULL;
	size_t used = 0;
	struct ak_set set;
	memset(&set, 0, sizeof set);
	char *db_path = profile_path(p->dir, PROFILE_DB), *key_path = profile_path(p->dir, PROFILE_KEYFILE);
	enum lsn_err err = db_path && key_path ? LSN_OK
					       : lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	finish_conversion(p->dir);
	if (err == LSN_OK && is_clear_db(db_path))
		err = convert_clear(p, passphrase, st);
	if (err == LSN_OK) {
		err = keyfile_read(key_path, &kf, st);
		if (err == LSN_ERR_NOT_FOUND)
			err = lsn_fail(st, LSN_ERR_INTERNAL, _("the profile key file %s is missing; the "
				       "profile cannot be opened"), key_path);
	}
	if (err == LSN_OK)
		err = open_encrypted(p, &kf, passphrase, &db, &key, &used, st);
	if (err == LSN_OK)
		err = load_fields(db, p, st);
	if (err == LSN_OK)
		err = load_kdf(db, &kdf, st);
	if (err == LSN_OK && sodium_memcmp(kdf.salt, kf.kdf[used].salt, sizeof kdf.salt) != 0)
		err = damaged("kdf_salt", st);
	if (err == LSN_OK && p->keys == NULL && (p->keys = profile_keys_new()) == NULL)
		err = lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	if (err == LSN_OK)
		err = unseal_identity(db, key, p, st);
	if (err == LSN_OK)
		err = profile_migrate(db, key, st);
	if (err == LSN_OK) {
		/* meta as it is now: another process may have rotated the AK since
		 * load_fields read it */
		p->local_key = key;
		p->db = db;
		err = profile_ak_reload(p, st);
		p->local_key = NULL;
		p->db = NULL;
	}
	if (err == LSN_OK && !keys_match(p))
		err = damaged("sealed keys", st);
	if (err == LSN_OK && kf.n > 1) {
		/* a change of passphrase was cut short: keep the line that opened it */
		struct keyfile one = {.n = 1};
		one.kdf[0] = kf.kdf[used];
		struct lsn_status ignored;
		keyfile_write(key_path, &one, &ignored);
	}
	free(db_path);
	free(key_path);
	if (err != LSN_OK) {
		if (p->keys)
			sodium_free(p->keys);
		p->keys = NULL;
		seal_key_free(key);
		sql_close(db);
		return err;
	}
	p->local_key = key;
	p->db = db; /* stays open for the end-to-end store until profile_close */
	memcpy(p->kdf_salt, kdf.salt, sizeof p->kdf_salt);
	return LSN_OK;
}

/* ---- creation ----------------------------------------------------------- */

/* One meta row: fmt binds the key ('t') and its value. */
static bool
meta_put(struct profile_db *db, const char *fmt, ...)
{
	struct lsn_status st;
	struct sql_q q;
	va_list ap;
	va_start(ap, fmt);
	bool ok = sql_query_va(db, &q, &st, "INSERT INTO meta (key, value) VALUES (?, ?)", fmt,
			       ap);
	va_end(ap);
	ok = ok && !sql_next(&q) && q.rc == SQLITE_DONE;
	sql_end(&q, NULL);
	return ok;
}

static bool
meta_put_id(struct profile_db *db, const char *key, const uint8_t id[LSN_ID_BYTES])
{
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(id, hex);
	return meta_put(db, "tt", key, hex);
}

static bool
store_fields(struct profile_db *db, const struct profile *p)
{
	return meta_put(db, "tt", "server_url", p->server_url) &&
	       meta_put(db, "tt", "server_name", p->server_name) &&
	       meta_put(db, "tt", "device_name", p->device_name) &&
	       (p->ca_pem == NULL || meta_put(db, "tt", "ca_pem", p->ca_pem)) &&
	       meta_put_id(db, "user_id", p->user) && meta_put_id(db, "device_id", p->device) &&
	       meta_put_id(db, "ak_id", p->ak_id) &&
	       meta_put(db, "tk", "ik_pk", p->ik_pk) &&
	       meta_put(db, "tk", "dk_pk", p->dk_pk) &&
	       meta_put(db, "tk", "ak_pk", p->ak_pk) &&
	       meta_put(db, "tn", "dk_ts", p->dk_ts) &&
	       meta_put(db, "tn", "ak_ts", p->ak_ts) &&
	       meta_put(db, "tn", "created_at", p->created_at);
}

static bool
local_kdf(struct profile_db *db, const struct seal_kdf *kdf)
{
	return meta_put(db, "tb", "kdf_salt", kdf->salt, sizeof kdf->salt) &&
	       meta_put(db, "tn", "kdf_opslimit", kdf->opslimit) &&
	       meta_put(db, "tn", "kdf_memlimit", kdf->memlimit) &&
	       meta_put(db, "tn", "kdf_alg", (int64_t)kdf->alg);
}

static bool
local_sealed(struct profile_db *db, const uint8_t *key, const struct profile *p)
{
	struct lsn_status st;
	for (size_t i = 0; i < SEALED_ITEM_COUNT; i++) {
		const struct sealed_item *item = &sealed_items[i];
		uint8_t nonce[SEAL_NONCEBYTES], ct[crypto_sign_SECRETKEYBYTES + SEAL_ABYTES];
		if (!seal_item(key, item->name, (const uint8_t *)p->keys + item->offset, item->len,
			       nonce, ct) ||
		    sql_exec(db, &st, "INSERT INTO sealed (name, nonce, ct) VALUES (?, ?, ?)", "tbb",
			     item->name, nonce, sizeof nonce, ct, item->len + SEAL_ABYTES) != LSN_OK)
			return false;
	}
	return true;
}

enum lsn_err
profile_db_create(struct profile *p, const char *path, const char *passphrase,
		  struct lsn_status *st)
{
	struct profile_db *db = NULL;
	struct seal_kdf kdf;
	uint8_t *key = NULL;
	uint8_t dbk[SEAL_DB_KEYBYTES];
	struct keyfile kf = {.n = 1};
	char *key_path = profile_path(p->dir, PROFILE_KEYFILE);
	seal_kdf_new(&kdf);
	kf.kdf[0] = kdf;
	enum lsn_err err = key_path ? seal_derive(&kdf, passphrase, &key, st)
				    : lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	if (err == LSN_OK)
		err = keyfile_write(key_path, &kf, st);
	if (err == LSN_OK) {
		seal_db_key(key, dbk);
		db = sql_open_key(path, true, dbk, NULL, st);
		sodium_memzero(dbk, sizeof dbk);
		if (db == NULL)
			err = st->err;
	}
	if (err == LSN_OK) {
		chmod(path, 0600);
		struct lsn_status wst;
		bool ok = sql_begin(db, &wst) == LSN_OK && sql_script(db, &wst, schema_sql) == LSN_OK &&
			  store_fields(db, p) && local_kdf(db, &kdf) && local_sealed(db, key, p) &&
			  sql_commit(db, &wst) == LSN_OK;
		if (!ok) {
			err = lsn_fail(st, LSN_ERR_INTERNAL, "cannot write the new profile: %s",
				       sql_errmsg(db));
			sql_rollback(db);
		} else {
			err = profile_migrate(db, key, st);
		}
	}
	free(key_path);
	seal_key_free(key);
	sql_close(db);
	return err;
}

struct profile_keys *
profile_keys_new(void)
{
	struct profile_keys *k = sodium_malloc(sizeof *k);
	if (k)
		sodium_memzero(k, sizeof *k);
	return k;
}

void
profile_ak_item(const uint8_t ak_id[LSN_ID_BYTES], char out[PROFILE_AK_ITEM_BUF])
{
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(ak_id, hex);
	snprintf(out, PROFILE_AK_ITEM_BUF, "ak_sk:%s", hex);
}
