/* profile_rekey.c — a new passphrase (profile.h, profile_rekey): every
 * secret sealed under the local key is opened with the old key and sealed
 * again under a key derived from the new passphrase (fresh salt, Argon2id),
 * and the new key derivation parameters replace the old ones, all in one
 * SQLite transaction: a crash midway leaves the old passphrase or the new
 * one, never a mix. The sealed items (CRYPTO.md §7): table sealed (device
 * keys, agreement keys, backup key), and the sealed columns of outbound,
 * inbound, messages and channels (topic), each bound to its row by its
 * item name. The database as a whole is re-encrypted (PRAGMA rekey) under
 * the new subkey inside that same transaction: SQLCipher commits the pages
 * under the new key and the resealed items together. profile.key lists the
 * new parameters and the old ones meanwhile, so that whichever state a
 * crash leaves, its passphrase opens it (profile_keyfile.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "local.h"
#include "profile.h"
#include "profile_db.h"
#include "profile_keyfile.h"
#include "seal.h"
#include "sql.h"
#include "tr.h"

/* One sealed value read before it is written again (a table is read
 * whole first, so that no row is visited twice while it is updated). */
struct item {
	uint8_t key[LOCAL_SID_BYTES]; /* the row's id: channel or session id */
	size_t key_len;
	int64_t seq;                  /* messages: the row's seq */
	char name[SEAL_NAME_BUF];     /* table sealed: the item's name */
	uint8_t *blob;                /* nonce || ct */
	size_t len;
};

struct items {
	struct item *v;
	size_t n, cap;
};

static void
items_free(struct items *it)
{
	for (size_t i = 0; i < it->n; i++) {
		if (it->v[i].blob)
			sodium_memzero(it->v[i].blob, it->v[i].len);
		free(it->v[i].blob);
	}
	free(it->v);
	memset(it, 0, sizeof *it);
}

static struct item *
items_add(struct items *it)
{
	if (it->n == it->cap) {
		size_t cap = it->cap ? 2 * it->cap : 64;
		struct item *grown = realloc(it->v, cap * sizeof *grown);
		if (grown == NULL)
			return NULL;
		it->v = grown;
		it->cap = cap;
	}
	struct item *item = &it->v[it->n++];
	memset(item, 0, sizeof *item);
	return item;
}

/* The rows of sql: column 0 the row's id (blob) or the item name (text),
 * column 1 a seq, column 2 the sealed blob (or, for table sealed, the
 * nonce in 2 and the ct in 3). */
static enum lsn_err
collect(struct profile_db *db, const char *sql, bool named, struct items *it,
	struct lsn_status *st)
{
	struct sql_q q;
	if (!sql_query(db, &q, st, sql, ""))
		return st->err;
	bool ok = true;
	while (ok && sql_next(&q)) {
		struct item *item = items_add(it);
		size_t key_len = 0, a_len = 0, b_len = 0;
		const uint8_t *key = named ? NULL : sql_blob(&q, 0, &key_len);
		const char *name = named ? sql_text(&q, 0) : NULL;
		const uint8_t *a = sql_blob(&q, 2, &a_len);
		const uint8_t *b = named ? sql_blob(&q, 3, &b_len) : NULL;
		ok = item != NULL && a != NULL && (named ? name && b && a_len == SEAL_NONCEBYTES &&
							   strlen(name) <= SEAL_NAME_MAX
							 : key && key_len <= sizeof item->key);
		if (!ok)
			break;
		item->len = a_len + b_len;
		item->blob = malloc(item->len ? item->len : 1);
		if (item->blob == NULL) {
			ok = false;
			break;
		}
		memcpy(item->blob, a, a_len);
		if (b)
			memcpy(item->blob + a_len, b, b_len);
		if (named) {
			snprintf(item->name, sizeof item->name, "%s", name);
		} else {
			memcpy(item->key, key, key_len);
			item->key_len = key_len;
			item->seq = sql_int(&q, 1);
		}
	}
	enum lsn_err err = sql_end(&q, st);
	if (err == LSN_OK && !ok)
		err = lsn_fail(st, LSN_ERR_INTERNAL, "the profile database is damaged (a sealed "
			       "item is malformed); the passphrase was not changed");
	return err;
}

/* blob (nonce || ct) sealed for name under old: sealed again under new, in place. */
static bool
reseal(const uint8_t *old_key, const uint8_t *new_key, const char *name, uint8_t *blob,
       size_t len)
{
	if (len < SEAL_NONCEBYTES + SEAL_ABYTES)
		return false;
	size_t plain_len = len - SEAL_NONCEBYTES - SEAL_ABYTES;
	uint8_t *plain = sodium_malloc(plain_len ? plain_len : 1);
	if (plain == NULL)
		return false;
	bool ok = seal_open_item(old_key, name, blob, blob + SEAL_NONCEBYTES,
				 len - SEAL_NONCEBYTES, plain) &&
		  seal_item(new_key, name, plain, plain_len, blob, blob + SEAL_NONCEBYTES);
	sodium_free(plain);
	return ok;
}

/* The sealed columns outside table sealed, and how their item is named. */
enum kind { K_OUTBOUND, K_INBOUND, K_MESSAGE, K_TOPIC };
static const struct {
	enum kind kind;
	const char *select;
	const char *update;
} columns[] = {
	{K_OUTBOUND, "SELECT channel, 0, sealed FROM outbound",
	 "UPDATE outbound SET sealed = ? WHERE channel = ?"},
	{K_INBOUND, "SELECT session_id, 0, sealed FROM inbound",
	 "UPDATE inbound SET sealed = ? WHERE session_id = ?"},
	{K_MESSAGE, "SELECT channel, seq, sealed FROM messages WHERE sealed IS NOT NULL",
	 "UPDATE messages SET sealed = ? WHERE channel = ? AND seq = ?"},
	{K_TOPIC, "SELECT channel, 0, topic FROM channels WHERE topic IS NOT NULL",
	 "UPDATE channels SET topic = ? WHERE channel = ?"},
};

static void
item_name(enum kind kind, const struct item *item, char name[SEAL_NAME_BUF])
{
	switch (kind) {
	case K_OUTBOUND: local_name_outbound(item->key, name); break;
	case K_INBOUND: local_name_inbound(item->key, name); break;
	case K_MESSAGE: local_name_message(item->key, item->seq, name); break;
	case K_TOPIC: local_name_topic(item->key, name); break;
	}
}

static bool
key_fits(enum kind kind, const struct item *item)
{
	return item->key_len == (kind == K_INBOUND ? LOCAL_SID_BYTES : LSN_ID_BYTES);
}

static enum lsn_err
rekey_column(struct profile_db *db, size_t c, const uint8_t *old_key, const uint8_t *new_key,
	     struct lsn_status *st)
{
	struct items it = {0};
	enum lsn_err err = collect(db, columns[c].select, false, &it, st);
	for (size_t i = 0; err == LSN_OK && i < it.n; i++) {
		struct item *item = &it.v[i];
		char name[SEAL_NAME_BUF];
		if (!key_fits(columns[c].kind, item)) {
			err = lsn_fail(st, LSN_ERR_INTERNAL, "the profile database is damaged (a "
				       "row id is malformed); the passphrase was not changed");
			break;
		}
		item_name(columns[c].kind, item, name);
		if (!reseal(old_key, new_key, name, item->blob, item->len)) {
			err = lsn_fail(st, LSN_ERR_INTERNAL, "the sealed item %s does not open; the "
				       "passphrase was not changed", name);
			break;
		}
		if (columns[c].kind == K_MESSAGE)
			err = sql_exec(db, st, columns[c].update, "bbn", item->blob, item->len,
				       item->key, item->key_len, item->seq);
		else
			err = sql_exec(db, st, columns[c].update, "bb", item->blob, item->len,
				       item->key, item->key_len);
	}
	items_free(&it);
	return err;
}

static enum lsn_err
rekey_sealed_table(struct profile_db *db, const uint8_t *old_key, const uint8_t *new_key,
		   struct lsn_status *st)
{
	struct items it = {0};
	enum lsn_err err = collect(db, "SELECT name, 0, nonce, ct FROM sealed", true, &it, st);
	for (size_t i = 0; err == LSN_OK && i < it.n; i++) {
		struct item *item = &it.v[i];
		if (!reseal(old_key, new_key, item->name, item->blob, item->len)) {
			err = lsn_fail(st, LSN_ERR_INTERNAL, "the sealed item %s does not open; the "
				       "passphrase was not changed", item->name);
			break;
		}
		err = sql_exec(db, st, "UPDATE sealed SET nonce = ?, ct = ? WHERE name = ?", "bbt",
			       item->blob, (size_t)SEAL_NONCEBYTES, item->blob + SEAL_NONCEBYTES,
			       item->len - SEAL_NONCEBYTES, item->name);
	}
	items_free(&it);
	return err;
}

static enum lsn_err
put_kdf(struct profile_db *db, const struct seal_kdf *kdf, struct lsn_status *st)
{
	static const char sql[] = "UPDATE meta SET value = ? WHERE key = ?";
	enum lsn_err err = sql_exec(db, st, sql, "bt", kdf->salt, sizeof kdf->salt, "kdf_salt");
	if (err == LSN_OK)
		err = sql_exec(db, st, sql, "nt", kdf->opslimit, "kdf_opslimit");
	if (err == LSN_OK)
		err = sql_exec(db, st, sql, "nt", kdf->memlimit, "kdf_memlimit");
	if (err == LSN_OK)
		err = sql_exec(db, st, sql, "nt", (int64_t)kdf->alg, "kdf_alg");
	return err;
}

/* profile.key with the new parameters first and the old ones (those of
 * p->kdf_salt) after them; just the new ones once the change is done. */
static enum lsn_err
put_keyfile(struct profile *p, const struct seal_kdf *new_kdf, bool keep_old, bool drop_new,
	    struct lsn_status *st)
{
	char path[4096];
	struct keyfile kf, now;
	if ((size_t)snprintf(path, sizeof path, "%s/%s", p->dir, PROFILE_KEYFILE) >= sizeof path)
		return lsn_fail(st, LSN_ERR_INTERNAL, _("the profile path is too long"));
	enum lsn_err err = keyfile_read(path, &now, st);
	if (err == LSN_ERR_NOT_FOUND)
		err = lsn_fail(st, LSN_ERR_INTERNAL, _("the profile key file %s is missing"), path);
	if (err != LSN_OK)
		return err;
	memset(&kf, 0, sizeof kf);
	if (!drop_new)
		kf.kdf[kf.n++] = *new_kdf;
	for (size_t i = 0; keep_old && i < now.n; i++)
		if (memcmp(now.kdf[i].salt, p->kdf_salt, sizeof p->kdf_salt) == 0) {
			kf.kdf[kf.n++] = now.kdf[i];
			break;
		}
	if (kf.n == 0 || (keep_old && kf.n != (drop_new ? 1u : 2u)))
		return lsn_fail(st, LSN_ERR_INTERNAL, _("the profile key file %s does not match the "
				"open profile; the passphrase was not changed"), path);
	return keyfile_write(path, &kf, st);
}

enum lsn_err
profile_rekey(struct profile *p, const char *new_passphrase, struct lsn_status *st)
{
	if (p->db == NULL || p->local_key == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "the profile is not unlocked");
	struct seal_kdf kdf;
	uint8_t *new_key = NULL;
	uint8_t dbk[SEAL_DB_KEYBYTES];
	seal_kdf_new(&kdf);
	enum lsn_err err = seal_derive(&kdf, new_passphrase, &new_key, st);
	if (err != LSN_OK)
		return err;
	err = profile_lock(p, "changing the passphrase", st);
	if (err != LSN_OK) {
		seal_key_free(new_key);
		return err;
	}
	/* both parameter lines first: a crash in the transaction leaves either */
	err = put_keyfile(p, &kdf, true, false, st);
	/* one transaction: the old key and its items, or the new ones */
	if (err == LSN_OK && (err = sql_begin(p->db, st)) == LSN_OK) {
		err = rekey_sealed_table(p->db, p->local_key, new_key, st);
		for (size_t c = 0; err == LSN_OK && c < sizeof columns / sizeof columns[0]; c++)
			err = rekey_column(p->db, c, p->local_key, new_key, st);
		if (err == LSN_OK)
			err = put_kdf(p->db, &kdf, st);
		bool rekeyed = false;
		if (err == LSN_OK) {
			/* last: it commits the pages, under the new key, with all the above */
			seal_db_key(new_key, dbk);
			err = sql_rekey(p->db, dbk, st);
			sodium_memzero(dbk, sizeof dbk);
			rekeyed = true;
		}
		if (err == LSN_OK)
			err = sql_commit(p->db, st);
		else
			sql_rollback(p->db);
		if (err != LSN_OK && rekeyed) {
			/* SQLCipher may keep the new key for writing after a failed
			 * rekey: this connection writes nothing more */
			profile_db_close(p->db);
			p->db = NULL;
		}
		/* just the line that now opens it; if this fails, the next unlock
		 * tries both and keeps the right one */
		struct lsn_status ignored;
		put_keyfile(p, &kdf, err != LSN_OK, err != LSN_OK, &ignored);
	}
	profile_lock_release(p);
	if (err != LSN_OK) {
		seal_key_free(new_key);
		return err;
	}
	seal_key_free(p->local_key);
	p->local_key = new_key;
	memcpy(p->kdf_salt, kdf.salt, sizeof p->kdf_salt);
	return LSN_OK;
}
