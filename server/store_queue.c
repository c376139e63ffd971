/* store_queue.c — the durable to-device queue, attachment chunks and key
 * backup blobs (SQLite). Everything stored here is opaque ciphertext. */
#include <stdlib.h>

#include <sodium.h>

#include "store_internal.h"

enum {
	SLOT_BASE = 128,
	ST_TD_INSERT = SLOT_BASE, ST_TD_LIST, ST_TD_ACK, ST_ATT_INSERT, ST_ATT_GET, ST_CHUNK_PUT,
	ST_CHUNK_GET, ST_CHUNK_ALL, ST_ATT_DONE, ST_BKID_PUT, ST_BKID_GET, ST_BK_PUT, ST_BK_LIST,
};

/* ---- to-device ---------------------------------------------------------- */

enum lsn_err
store_todevice_put(struct store *s, struct store_todevice *t)
{
	sqlite3_stmt *st = store_stmt(s, ST_TD_INSERT,
		"INSERT INTO to_device(recipient_device, sender_user, sender_device, ts, body) "
		"VALUES (?,?,?,?,?)");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, t->recipient, LSN_ID_BYTES);
	store_bind_blob(st, 2, t->sender_user, LSN_ID_BYTES);
	store_bind_blob(st, 3, t->sender_device, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 4, t->ts);
	store_bind_blob(st, 5, t->body, t->body_len);
	enum lsn_err err = store_exec(s, st, "queue to-device", false);
	if (err == LSN_OK)
		t->id = sqlite3_last_insert_rowid(s->db);
	return err;
}

enum lsn_err
store_todevice_list(struct store *s, const uint8_t device[LSN_ID_BYTES], int64_t after, int limit,
		    store_todevice_cb cb, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_TD_LIST,
		"SELECT id, recipient_device, sender_user, sender_device, ts, body FROM to_device "
		"WHERE recipient_device = ? AND id > ? ORDER BY id LIMIT ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, device, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int(st, 3, limit);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_todevice t;
		t.id = sqlite3_column_int64(st, 0);
		store_col_blob(st, 1, t.recipient, sizeof t.recipient);
		store_col_blob(st, 2, t.sender_user, sizeof t.sender_user);
		store_col_blob(st, 3, t.sender_device, sizeof t.sender_device);
		t.ts = sqlite3_column_int64(st, 4);
		t.body = sqlite3_column_blob(st, 5);
		t.body_len = (size_t)sqlite3_column_bytes(st, 5);
		cb(&t, arg);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "list to-device");
}

enum lsn_err
store_todevice_ack(struct store *s, const uint8_t device[LSN_ID_BYTES], int64_t upto,
		   int64_t *deleted)
{
	sqlite3_stmt *st = store_stmt(s, ST_TD_ACK,
		"DELETE FROM to_device WHERE recipient_device = ? AND id <= ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, device, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 2, upto);
	enum lsn_err err = store_exec(s, st, "ack to-device", false);
	*deleted = err == LSN_OK ? sqlite3_changes(s->db) : 0;
	return err;
}

/* ---- attachments -------------------------------------------------------- */

enum lsn_err
store_attachment_create(struct store *s, const struct store_attachment *a)
{
	sqlite3_stmt *st = store_stmt(s, ST_ATT_INSERT,
		"INSERT INTO attachments(id, channel_id, uploader, size, chunks, complete, created_at) "
		"VALUES (?,?,?,?,?,0,?)");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, a->id, LSN_ID_BYTES);
	store_bind_blob(st, 2, a->channel, LSN_ID_BYTES);
	store_bind_blob(st, 3, a->uploader, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 4, a->size);
	sqlite3_bind_int64(st, 5, a->chunks);
	sqlite3_bind_int64(st, 6, a->created_at);
	return store_exec(s, st, "insert attachment", false);
}

enum lsn_err
store_attachment_get(struct store *s, const uint8_t id[LSN_ID_BYTES], struct store_attachment *out)
{
	sqlite3_stmt *st = store_stmt(s, ST_ATT_GET,
		"SELECT id, channel_id, uploader, size, chunks, complete, created_at FROM attachments "
		"WHERE id = ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, id, LSN_ID_BYTES);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		store_col_blob(st, 0, out->id, sizeof out->id);
		store_col_blob(st, 1, out->channel, sizeof out->channel);
		store_col_blob(st, 2, out->uploader, sizeof out->uploader);
		out->size = sqlite3_column_int64(st, 3);
		out->chunks = sqlite3_column_int64(st, 4);
		out->complete = sqlite3_column_int64(st, 5) != 0;
		out->created_at = sqlite3_column_int64(st, 6);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return LSN_OK;
	return rc == SQLITE_DONE ? LSN_ERR_NOT_FOUND : store_db_error(s, "read attachment");
}

enum lsn_err
store_attachment_put_chunk(struct store *s, const uint8_t id[LSN_ID_BYTES], int64_t index,
			   const uint8_t *data, size_t len)
{
	/* a retried upload of the same chunk replaces it */
	sqlite3_stmt *st = store_stmt(s, ST_CHUNK_PUT,
		"INSERT OR REPLACE INTO attachment_chunks(attachment_id, idx, data) VALUES (?,?,?)");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, id, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 2, index);
	store_bind_blob(st, 3, data, len);
	return store_exec(s, st, "store chunk", false);
}

enum lsn_err
store_attachment_get_chunk(struct store *s, const uint8_t id[LSN_ID_BYTES], int64_t index,
			   uint8_t **data, size_t *len)
{
	sqlite3_stmt *st = store_stmt(s, ST_CHUNK_GET,
		"SELECT data FROM attachment_chunks WHERE attachment_id = ? AND idx = ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, id, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 2, index);
	int rc = sqlite3_step(st);
	enum lsn_err err = LSN_OK;
	if (rc == SQLITE_ROW) {
		*len = (size_t)sqlite3_column_bytes(st, 0);
		*data = malloc(*len ? *len : 1);
		if (*data)
			memcpy(*data, sqlite3_column_blob(st, 0), *len);
		else
			err = LSN_ERR_INTERNAL;
	} else {
		err = rc == SQLITE_DONE ? LSN_ERR_NOT_FOUND : store_db_error(s, "read chunk");
	}
	sqlite3_reset(st);
	return err;
}

enum lsn_err
store_attachment_finish(struct store *s, const uint8_t id[LSN_ID_BYTES], const uint8_t hash[32],
			struct lsn_status *status)
{
	struct store_attachment a;
	enum lsn_err err = store_attachment_get(s, id, &a);
	if (err != LSN_OK)
		return err;
	sqlite3_stmt *st = store_stmt(s, ST_CHUNK_ALL,
		"SELECT idx, data FROM attachment_chunks WHERE attachment_id = ? ORDER BY idx");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, id, LSN_ID_BYTES);
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, 32);
	int64_t expect = 0, total = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && sqlite3_column_int64(st, 0) == expect) {
		size_t n = (size_t)sqlite3_column_bytes(st, 1);
		crypto_generichash_update(&h, sqlite3_column_blob(st, 1), n);
		total += (int64_t)n;
		expect++;
	}
	sqlite3_reset(st);
	uint8_t got[32];
	crypto_generichash_final(&h, got, sizeof got);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_db_error(s, "read chunks");
	if (expect != a.chunks || rc == SQLITE_ROW)
		return lsn_fail(status, LSN_ERR_CONFLICT, "chunk %lld is missing; upload it and finish again",
				(long long)expect);
	if (total != a.size)
		return lsn_fail(status, LSN_ERR_CONFLICT, "the chunks add up to %lld bytes, not %lld",
				(long long)total, (long long)a.size);
	if (sodium_memcmp(got, hash, 32) != 0)
		return lsn_fail(status, LSN_ERR_CONFLICT,
				"the uploaded bytes do not match the hash; upload the chunks again");
	st = store_stmt(s, ST_ATT_DONE, "UPDATE attachments SET complete = 1, hash = ? WHERE id = ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, hash, 32);
	store_bind_blob(st, 2, id, LSN_ID_BYTES);
	return store_exec(s, st, "complete attachment", true);
}

/* ---- key backup --------------------------------------------------------- */

enum lsn_err
store_backup_identity_put(struct store *s, const uint8_t user[LSN_ID_BYTES], const uint8_t *blob,
			  size_t len, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, ST_BKID_PUT,
		"INSERT INTO backup_identity(user_id, blob, updated_at) VALUES (?,?,?) "
		"ON CONFLICT (user_id) DO UPDATE SET blob = excluded.blob, updated_at = excluded.updated_at");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, user, LSN_ID_BYTES);
	store_bind_blob(st, 2, blob, len);
	sqlite3_bind_int64(st, 3, now);
	return store_exec(s, st, "store identity backup", false);
}

enum lsn_err
store_backup_identity_get(struct store *s, const uint8_t user[LSN_ID_BYTES], uint8_t **blob,
			  size_t *len)
{
	sqlite3_stmt *st = store_stmt(s, ST_BKID_GET, "SELECT blob FROM backup_identity WHERE user_id = ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, user, LSN_ID_BYTES);
	int rc = sqlite3_step(st);
	enum lsn_err err = LSN_OK;
	if (rc == SQLITE_ROW) {
		*len = (size_t)sqlite3_column_bytes(st, 0);
		*blob = malloc(*len ? *len : 1);
		if (*blob)
			memcpy(*blob, sqlite3_column_blob(st, 0), *len);
		else
			err = LSN_ERR_INTERNAL;
	} else {
		err = rc == SQLITE_DONE ? LSN_ERR_NOT_FOUND : store_db_error(s, "read identity backup");
	}
	sqlite3_reset(st);
	return err;
}

enum lsn_err
store_backup_put(struct store *s, const uint8_t user[LSN_ID_BYTES],
		 const struct store_backup_entry *e, int64_t now, bool *stored)
{
	sqlite3_stmt *st = store_stmt(s, ST_BK_PUT,
		"INSERT INTO backup_sessions(user_id, channel_id, session_id, first_index, data, updated_at) "
		"VALUES (?,?,?,?,?,?) ON CONFLICT (user_id, channel_id, session_id) DO UPDATE SET "
		"first_index = excluded.first_index, data = excluded.data, updated_at = excluded.updated_at "
		"WHERE excluded.first_index < first_index");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, user, LSN_ID_BYTES);
	store_bind_blob(st, 2, e->channel, LSN_ID_BYTES);
	store_bind_blob(st, 3, e->session_id, 32);
	sqlite3_bind_int64(st, 4, e->first_index);
	store_bind_blob(st, 5, e->data, e->data_len);
	sqlite3_bind_int64(st, 6, now);
	enum lsn_err err = store_exec(s, st, "store session backup", true);
	*stored = err == LSN_OK;
	return err == LSN_ERR_NOT_FOUND ? LSN_OK : err;
}

enum lsn_err
store_backup_list(struct store *s, const uint8_t user[LSN_ID_BYTES], int64_t after, int limit,
		  store_backup_cb cb, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_BK_LIST,
		"SELECT id, channel_id, session_id, first_index, data FROM backup_sessions "
		"WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, user, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int(st, 3, limit);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_backup_entry e;
		e.id = sqlite3_column_int64(st, 0);
		store_col_blob(st, 1, e.channel, sizeof e.channel);
		store_col_blob(st, 2, e.session_id, sizeof e.session_id);
		e.first_index = sqlite3_column_int64(st, 3);
		e.data = sqlite3_column_blob(st, 4);
		e.data_len = (size_t)sqlite3_column_bytes(st, 4);
		cb(&e, arg);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "list session backups");
}
