/* local.c — transactions, sealing of rows and settings of the end-to-end
 * store (local.h); statements go through sql.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sql.h"
#include "local.h"

static enum lsn_err
changed(struct profile *p, struct lsn_status *st)
{
	return lsn_fail(st, LSN_ERR_CONFLICT, "the passphrase of profile \"%s\" was changed "
			"by another liaison process meanwhile; run the command again", p->name);
}

/* Inside the outermost transaction: the profile's key derivation salt is
 * still the one this process unlocked it with (profile_rekey). */
static enum lsn_err
same_passphrase(struct profile *p, struct lsn_status *st)
{
	struct sql_q q;
	bool same = sql_query(p->db, &q, st, "SELECT value FROM meta WHERE key = 'kdf_salt'", "") &&
		    sql_next(&q);
	if (same) {
		size_t len = 0;
		const uint8_t *salt = sql_blob(&q, 0, &len);
		same = salt && len == sizeof p->kdf_salt &&
		       memcmp(salt, p->kdf_salt, sizeof p->kdf_salt) == 0;
	}
	sql_end(&q, NULL);
	if (same)
		return LSN_OK;
	return changed(p, st);
}

enum lsn_err
local_begin(struct profile *p, struct lsn_status *st)
{
	bool outermost = p->db->depth == 0;
	enum lsn_err err = sql_begin(p->db, st);
	/* the pages re-encrypted under another key no longer authenticate */
	if (err != LSN_OK && outermost && sql_key_rejected(p->db))
		return changed(p, st);
	if (err == LSN_OK && outermost && (err = same_passphrase(p, st)) != LSN_OK)
		sql_rollback(p->db);
	return err;
}

enum lsn_err
local_commit(struct profile *p, struct lsn_status *st)
{
	return sql_commit(p->db, st);
}

void
local_rollback(struct profile *p)
{
	sql_rollback(p->db);
}

/* ---- sealing ------------------------------------------------------------ */

bool
local_seal(const struct profile *p, const char *name, const uint8_t *plain, size_t len,
	   uint8_t **blob, size_t *blob_len)
{
	*blob = NULL;
	if (p->local_key == NULL || len > LOCAL_PLAIN_MAX)
		return false;
	uint8_t *out = malloc(SEAL_NONCEBYTES + len + SEAL_ABYTES);
	if (out == NULL)
		return false;
	if (!seal_item(p->local_key, name, plain, len, out, out + SEAL_NONCEBYTES)) {
		free(out);
		return false;
	}
	*blob = out;
	*blob_len = SEAL_NONCEBYTES + len + SEAL_ABYTES;
	return true;
}

bool
local_unseal(const struct profile *p, const char *name, const uint8_t *blob, size_t blob_len,
	     uint8_t *plain, size_t cap, size_t *len)
{
	if (p->local_key == NULL || blob == NULL || blob_len < SEAL_NONCEBYTES + SEAL_ABYTES)
		return false;
	size_t plain_len = blob_len - SEAL_NONCEBYTES - SEAL_ABYTES;
	if (plain_len > cap)
		return false;
	if (!seal_open_item(p->local_key, name, blob, blob + SEAL_NONCEBYTES,
			    blob_len - SEAL_NONCEBYTES, plain))
		return false;
	*len = plain_len;
	return true;
}

/* ---- small secrets ------------------------------------------------------ */

enum lsn_err
local_secret_put(struct profile *p, const char *name, const uint8_t *data, size_t len,
		 struct lsn_status *st)
{
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	if (!local_seal(p, name, data, len, &blob, &blob_len))
		return lsn_fail(st, LSN_ERR_INTERNAL, "cannot seal %s", name);
	enum lsn_err err = sql_exec(p->db, st, "INSERT OR REPLACE INTO sealed (name, nonce, ct) "
					       "VALUES (?, ?, ?)", "tbb", name, blob,
				    (size_t)SEAL_NONCEBYTES, blob + SEAL_NONCEBYTES,
				    blob_len - SEAL_NONCEBYTES);
	sodium_memzero(blob, blob_len);
	free(blob);
	return err;
}

bool
local_secret_get(struct profile *p, const char *name, uint8_t *out, size_t len)
{
	struct lsn_status st;
	struct sql_q q;
	size_t nonce_len = 0, ct_len = 0;
	bool ok = false;
	if (sql_query(p->db, &q, &st, "SELECT nonce, ct FROM sealed WHERE name = ?", "t", name) &&
	    sql_next(&q)) {
		const uint8_t *nonce = sql_blob(&q, 0, &nonce_len);
		const uint8_t *ct = sql_blob(&q, 1, &ct_len);
		ok = nonce && ct && nonce_len == SEAL_NONCEBYTES && ct_len == len + SEAL_ABYTES &&
		     seal_open_item(p->local_key, name, nonce, ct, len + SEAL_ABYTES, out);
	}
	sql_end(&q, NULL);
	if (!ok)
		sodium_memzero(out, len);
	return ok;
}

/* ---- settings ----------------------------------------------------------- */

int64_t
local_setting(struct profile *p, const char *key, int64_t fallback)
{
	struct lsn_status st;
	struct sql_q q;
	int64_t value = fallback;
	if (sql_query(p->db, &q, &st, "SELECT value FROM meta WHERE key = ?", "t", key) &&
	    sql_next(&q) && sql_is_int(&q, 0))
		value = sql_int(&q, 0);
	sql_end(&q, NULL);
	return value;
}

enum lsn_err
local_set_setting(struct profile *p, const char *key, int64_t value, struct lsn_status *st)
{
	return sql_exec(p->db, st, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", "tn",
			key, value);
}

enum lsn_err
local_advance_setting(struct profile *p, const char *key, int64_t value, struct lsn_status *st)
{
	return sql_upsert(p->db, st, "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
			  "UPDATE meta SET value = max(value, ?2) WHERE key = ?1", "tn", key, value);
}

/* ---- item names ----------------------------------------------------------- */

void
local_name_outbound(const uint8_t channel[LSN_ID_BYTES], char out[SEAL_NAME_BUF])
{
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(channel, hex);
	snprintf(out, SEAL_NAME_BUF, "out:%s", hex);
}

void
local_name_inbound(const uint8_t session_id[LOCAL_SID_BYTES], char out[SEAL_NAME_BUF])
{
	char b64[sodium_base64_ENCODED_LEN(LOCAL_SID_BYTES,
					   sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	sodium_bin2base64(b64, sizeof b64, session_id, LOCAL_SID_BYTES,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(out, SEAL_NAME_BUF, "in:%s", b64);
}

void
local_name_message(const uint8_t channel[LSN_ID_BYTES], int64_t seq, char out[SEAL_NAME_BUF])
{
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(channel, hex);
	snprintf(out, SEAL_NAME_BUF, "msg:%s:%lld", hex, (long long)seq);
}

void
local_name_topic(const uint8_t channel[LSN_ID_BYTES], char out[SEAL_NAME_BUF])
{
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(channel, hex);
	snprintf(out, SEAL_NAME_BUF, "topic:%s", hex);
}
