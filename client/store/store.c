/* store.c — transactions, statement binding, sealing of rows and settings
 * of the end-to-end store (store.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store.h"

enum lsn_err
store_fail(struct profile *p, struct lsn_status *st, const char *what)
{
	return lsn_fail(st, LSN_ERR_INTERNAL, "%s in the profile database: %s; check free disk "
			"space and retry", what, p->db ? sqlite3_errmsg(p->db) : "not open");
}

enum lsn_err
store_begin(struct profile *p, struct lsn_status *st)
{
	if (sqlite3_exec(p->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(p, st, "cannot start a transaction");
	return LSN_OK;
}

enum lsn_err
store_commit(struct profile *p, struct lsn_status *st)
{
	if (sqlite3_exec(p->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return LSN_OK;
	enum lsn_err err = store_fail(p, st, "cannot save");
	store_rollback(p);
	return err;
}

void
store_rollback(struct profile *p)
{
	if (!sqlite3_get_autocommit(p->db))
		sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
}

static bool
bind_args(sqlite3_stmt *stmt, const char *fmt, va_list ap)
{
	int col = 1, rc = SQLITE_OK;
	for (const char *f = fmt; f && *f && rc == SQLITE_OK; f++, col++) {
		switch (*f) {
		case 'i':
			rc = sqlite3_bind_blob(stmt, col, va_arg(ap, const uint8_t *), LSN_ID_BYTES,
					       SQLITE_TRANSIENT);
			break;
		case 'k':
			rc = sqlite3_bind_blob(stmt, col, va_arg(ap, const uint8_t *), 32,
					       SQLITE_TRANSIENT);
			break;
		case 'b': {
			const uint8_t *data = va_arg(ap, const uint8_t *);
			size_t len = va_arg(ap, size_t);
			rc = data ? sqlite3_bind_blob(stmt, col, data, (int)len, SQLITE_TRANSIENT)
				  : sqlite3_bind_null(stmt, col);
			break;
		}
		case 't': {
			const char *text = va_arg(ap, const char *);
			rc = text ? sqlite3_bind_text(stmt, col, text, -1, SQLITE_TRANSIENT)
				  : sqlite3_bind_null(stmt, col);
			break;
		}
		case 'n':
			rc = sqlite3_bind_int64(stmt, col, va_arg(ap, int64_t));
			break;
		case 'z':
			rc = sqlite3_bind_null(stmt, col);
			break;
		default:
			return false;
		}
	}
	return rc == SQLITE_OK;
}

static sqlite3_stmt *
prepare_va(struct profile *p, struct lsn_status *st, const char *sql, const char *fmt,
	   va_list ap)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(p->db, sql, -1, &stmt, NULL) != SQLITE_OK ||
	    !bind_args(stmt, fmt, ap)) {
		store_fail(p, st, "cannot read or write");
		sqlite3_finalize(stmt);
		return NULL;
	}
	return stmt;
}

sqlite3_stmt *
store_prepare(struct profile *p, struct lsn_status *st, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sqlite3_stmt *stmt = prepare_va(p, st, sql, fmt, ap);
	va_end(ap);
	return stmt;
}

enum lsn_err
store_exec(struct profile *p, struct lsn_status *st, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sqlite3_stmt *stmt = prepare_va(p, st, sql, fmt, ap);
	va_end(ap);
	if (stmt == NULL)
		return st->err;
	int rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_fail(p, st, "cannot write");
	return LSN_OK;
}

/* ---- sealing ------------------------------------------------------------ */

bool
store_seal(const struct profile *p, const char *name, const uint8_t *plain, size_t len,
	   uint8_t **blob, size_t *blob_len)
{
	*blob = NULL;
	if (p->local_key == NULL || len > STORE_PLAIN_MAX)
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
store_unseal(const struct profile *p, const char *name, const uint8_t *blob, size_t blob_len,
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
store_secret_put(struct profile *p, const char *name, const uint8_t *data, size_t len,
		 struct lsn_status *st)
{
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	if (!store_seal(p, name, data, len, &blob, &blob_len))
		return lsn_fail(st, LSN_ERR_INTERNAL, "cannot seal %s", name);
	enum lsn_err err = store_exec(p, st, "INSERT OR REPLACE INTO sealed (name, nonce, ct) "
					     "VALUES (?, ?, ?)", "tbb", name, blob,
				      (size_t)SEAL_NONCEBYTES, blob + SEAL_NONCEBYTES,
				      blob_len - SEAL_NONCEBYTES);
	sodium_memzero(blob, blob_len);
	free(blob);
	return err;
}

bool
store_secret_get(struct profile *p, const char *name, uint8_t *out, size_t len)
{
	struct lsn_status st;
	sqlite3_stmt *stmt = store_prepare(p, &st, "SELECT nonce, ct FROM sealed WHERE name = ?",
					   "t", name);
	bool ok = stmt && sqlite3_step(stmt) == SQLITE_ROW &&
		  sqlite3_column_bytes(stmt, 0) == SEAL_NONCEBYTES &&
		  (size_t)sqlite3_column_bytes(stmt, 1) == len + SEAL_ABYTES &&
		  seal_open_item(p->local_key, name, sqlite3_column_blob(stmt, 0),
				 sqlite3_column_blob(stmt, 1), len + SEAL_ABYTES, out);
	sqlite3_finalize(stmt);
	if (!ok)
		sodium_memzero(out, len);
	return ok;
}

/* ---- settings ----------------------------------------------------------- */

int64_t
store_setting(struct profile *p, const char *key, int64_t fallback)
{
	struct lsn_status st;
	sqlite3_stmt *stmt = store_prepare(p, &st, "SELECT value FROM meta WHERE key = ?", "t",
					   key);
	int64_t value = fallback;
	if (stmt && sqlite3_step(stmt) == SQLITE_ROW &&
	    sqlite3_column_type(stmt, 0) == SQLITE_INTEGER)
		value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return value;
}

enum lsn_err
store_set_setting(struct profile *p, const char *key, int64_t value, struct lsn_status *st)
{
	return store_exec(p, st, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", "tn",
			  key, value);
}

/* ---- item names ----------------------------------------------------------- */

void
store_name_outbound(const uint8_t channel[LSN_ID_BYTES], char out[SEAL_NAME_BUF])
{
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(channel, hex);
	snprintf(out, SEAL_NAME_BUF, "out:%s", hex);
}

void
store_name_inbound(const uint8_t session_id[STORE_SID_BYTES], char out[SEAL_NAME_BUF])
{
	char b64[sodium_base64_ENCODED_LEN(STORE_SID_BYTES,
					   sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	sodium_bin2base64(b64, sizeof b64, session_id, STORE_SID_BYTES,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(out, SEAL_NAME_BUF, "in:%s", b64);
}

void
store_name_message(const uint8_t channel[LSN_ID_BYTES], int64_t seq, char out[SEAL_NAME_BUF])
{
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(channel, hex);
	snprintf(out, SEAL_NAME_BUF, "msg:%s:%lld", hex, (long long)seq);
}

void
store_name_topic(const uint8_t channel[LSN_ID_BYTES], char out[SEAL_NAME_BUF])
{
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(channel, hex);
	snprintf(out, SEAL_NAME_BUF, "topic:%s", hex);
}
