/* store_queue.c — the durable to-device queue, attachment chunks and key
 * backup blobs (SQLite). Everything stored here is opaque ciphertext. */
#include <stdlib.h>

#include <sodium.h>

#include "store_internal.h"
#include "store_row.h"

enum {
	SLOT_BASE = 128,
	ST_TD_INSERT = SLOT_BASE, ST_TD_LIST, ST_TD_ACK, ST_ATT_INSERT, ST_ATT_GET, ST_CHUNK_PUT,
	ST_CHUNK_GET, ST_CHUNK_ALL, ST_ATT_DONE, ST_BKID_PUT, ST_BKID_GET, ST_BK_PUT, ST_BK_LIST,
	ST_BKID_FORGET, ST_BK_FORGET,
};

static const struct store_col todevice_cols[] = {
	COL_I64(0, struct store_todevice, id),
	COL_BLOB(1, struct store_todevice, recipient),
	COL_BLOB(2, struct store_todevice, sender_user),
	COL_BLOB(3, struct store_todevice, sender_device),
	COL_I64(4, struct store_todevice, ts),
	COL_BLOB_REF(5, struct store_todevice, body, body_len),
};

static const struct store_col attachment_cols[] = {
	COL_BLOB(0, struct store_attachment, id),
	COL_BLOB(1, struct store_attachment, channel),
	COL_BLOB(2, struct store_attachment, uploader),
	COL_I64(3, struct store_attachment, size),
	COL_I64(4, struct store_attachment, chunks),
	COL_BOOL(5, struct store_attachment, complete),
	COL_I64(6, struct store_attachment, created_at),
};

/* A blob copied out (chunk, identity backup). */
struct copy_row {
	uint8_t *data;
	size_t len;
};

static const struct store_col copy_cols[] = {COL_BLOB_DUP(0, struct copy_row, data, len)};

struct chunk_row {
	int64_t idx;
	const void *data;
	size_t len;
};

static const struct store_col chunk_cols[] = {
	COL_I64(0, struct chunk_row, idx),
	COL_BLOB_REF(1, struct chunk_row, data, len),
};

static const struct store_col backup_cols[] = {
	COL_I64(0, struct store_backup_entry, id),
	COL_BLOB(1, struct store_backup_entry, channel),
	COL_BLOB(2, struct store_backup_entry, session_id),
	COL_I64(3, struct store_backup_entry, first_index),
	COL_BLOB_REF(4, struct store_backup_entry, data, data_len),
};

/* ---- to-device ---------------------------------------------------------- */

enum lsn_err
store_todevice_put(struct store *s, struct store_todevice *t)
{
	enum lsn_err err = store_exec(s, STORE_Q(s, ST_TD_INSERT,
		"INSERT INTO to_device(recipient_device, sender_user, sender_device, ts, body) "
		"VALUES (?,?,?,?,?)",
		P_ID(t->recipient), P_ID(t->sender_user), P_ID(t->sender_device), P_INT(t->ts),
		P_BLOB(t->body, t->body_len)), "queue to-device", false);
	if (err == LSN_OK)
		t->id = sqlite3_last_insert_rowid(s->db);
	return err;
}

enum lsn_err
store_todevice_list(struct store *s, const uint8_t device[LSN_ID_BYTES], int64_t after, int limit,
		    store_todevice_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_TD_LIST,
		"SELECT id, recipient_device, sender_user, sender_device, ts, body FROM to_device "
		"WHERE recipient_device = ? AND id > ? ORDER BY id LIMIT ?",
		P_ID(device), P_INT(after), P_INT(limit));
	struct store_todevice t;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(todevice_cols), &t, &err, "list to-device"))
		cb(&t, arg);
	return err;
}

enum lsn_err
store_todevice_ack(struct store *s, const uint8_t device[LSN_ID_BYTES], int64_t upto,
		   int64_t *deleted)
{
	enum lsn_err err = store_exec(s, STORE_Q(s, ST_TD_ACK,
		"DELETE FROM to_device WHERE recipient_device = ? AND id <= ?",
		P_ID(device), P_INT(upto)), "ack to-device", false);
	*deleted = err == LSN_OK ? sqlite3_changes(s->db) : 0;
	return err;
}

/* ---- attachments -------------------------------------------------------- */

enum lsn_err
store_attachment_create(struct store *s, const struct store_attachment *a)
{
	return store_exec(s, STORE_Q(s, ST_ATT_INSERT,
		"INSERT INTO attachments(id, channel_id, uploader, size, chunks, complete, created_at) "
		"VALUES (?,?,?,?,?,0,?)",
		P_ID(a->id), P_ID(a->channel), P_ID(a->uploader), P_INT(a->size), P_INT(a->chunks),
		P_INT(a->created_at)), "insert attachment", false);
}

enum lsn_err
store_attachment_get(struct store *s, const uint8_t id[LSN_ID_BYTES], struct store_attachment *out)
{
	return store_one(s, STORE_Q(s, ST_ATT_GET,
		"SELECT id, channel_id, uploader, size, chunks, complete, created_at FROM attachments "
		"WHERE id = ?", P_ID(id)), STORE_COLS(attachment_cols), out, "read attachment");
}

enum lsn_err
store_attachment_put_chunk(struct store *s, const uint8_t id[LSN_ID_BYTES], int64_t index,
			   const uint8_t *data, size_t len)
{
	/* a retried upload of the same chunk replaces it */
	return store_exec(s, STORE_Q(s, ST_CHUNK_PUT,
		"INSERT OR REPLACE INTO attachment_chunks(attachment_id, idx, data) VALUES (?,?,?)",
		P_ID(id), P_INT(index), P_BLOB(data, len)), "store chunk", false);
}

enum lsn_err
store_attachment_get_chunk(struct store *s, const uint8_t id[LSN_ID_BYTES], int64_t index,
			   uint8_t **data, size_t *len)
{
	struct copy_row r;
	enum lsn_err err = store_one(s, STORE_Q(s, ST_CHUNK_GET,
		"SELECT data FROM attachment_chunks WHERE attachment_id = ? AND idx = ?",
		P_ID(id), P_INT(index)), STORE_COLS(copy_cols), &r, "read chunk");
	if (err == LSN_OK) {
		*data = r.data;
		*len = r.len;
	}
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
	sqlite3_stmt *st = STORE_Q(s, ST_CHUNK_ALL,
		"SELECT idx, data FROM attachment_chunks WHERE attachment_id = ? ORDER BY idx", P_ID(id));
	if (st == NULL)
		return LSN_ERR_STORAGE;
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, 32);
	int64_t expect = 0, total = 0;
	struct chunk_row c;
	bool gap = false;
	while (store_next(s, st, STORE_COLS(chunk_cols), &c, &err, "read chunks")) {
		if (c.idx != expect) {     /* a missing chunk: stop here */
			gap = true;
			sqlite3_reset(st);
			break;
		}
		crypto_generichash_update(&h, c.data, c.len);
		total += (int64_t)c.len;
		expect++;
	}
	uint8_t got[32];
	crypto_generichash_final(&h, got, sizeof got);
	if (!gap && err != LSN_OK)
		return err;
	if (expect != a.chunks || gap)
		return lsn_fail(status, LSN_ERR_CONFLICT, "chunk %lld is missing; upload it and finish again",
				(long long)expect);
	if (total != a.size)
		return lsn_fail(status, LSN_ERR_CONFLICT, "the chunks add up to %lld bytes, not %lld",
				(long long)total, (long long)a.size);
	if (sodium_memcmp(got, hash, 32) != 0)
		return lsn_fail(status, LSN_ERR_CONFLICT,
				"the uploaded bytes do not match the hash; upload the chunks again");
	return store_exec(s, STORE_Q(s, ST_ATT_DONE,
		"UPDATE attachments SET complete = 1, hash = ? WHERE id = ?",
		P_BLOB(hash, 32), P_ID(id)), "complete attachment", true);
}

/* ---- key backup --------------------------------------------------------- */

enum lsn_err
store_backup_identity_put(struct store *s, const uint8_t user[LSN_ID_BYTES], const uint8_t *blob,
			  size_t len, int64_t now)
{
	return store_exec(s, STORE_Q(s, ST_BKID_PUT,
		"INSERT INTO backup_identity(user_id, blob, updated_at) VALUES (?,?,?) "
		"ON CONFLICT (user_id) DO UPDATE SET blob = excluded.blob, updated_at = excluded.updated_at",
		P_ID(user), P_BLOB(blob, len), P_INT(now)), "store identity backup", false);
}

enum lsn_err
store_backup_forget(struct store *s, const uint8_t user[LSN_ID_BYTES])
{
	enum lsn_err err = store_exec(s, STORE_Q(s, ST_BKID_FORGET,
		"DELETE FROM backup_identity WHERE user_id = ?", P_ID(user)),
		"forget identity backup", false);
	if (err == LSN_OK)
		err = store_exec(s, STORE_Q(s, ST_BK_FORGET,
			"DELETE FROM backup_sessions WHERE user_id = ?", P_ID(user)),
			"forget session backup", false);
	return err;
}

enum lsn_err
store_backup_identity_get(struct store *s, const uint8_t user[LSN_ID_BYTES], uint8_t **blob,
			  size_t *len)
{
	struct copy_row r;
	enum lsn_err err = store_one(s, STORE_Q(s, ST_BKID_GET,
		"SELECT blob FROM backup_identity WHERE user_id = ?", P_ID(user)),
		STORE_COLS(copy_cols), &r, "read identity backup");
	if (err == LSN_OK) {
		*blob = r.data;
		*len = r.len;
	}
	return err;
}

enum lsn_err
store_backup_put(struct store *s, const uint8_t user[LSN_ID_BYTES],
		 const struct store_backup_entry *e, int64_t now, bool *stored)
{
	enum lsn_err err = store_exec(s, STORE_Q(s, ST_BK_PUT,
		"INSERT INTO backup_sessions(user_id, channel_id, session_id, first_index, data, updated_at) "
		"VALUES (?,?,?,?,?,?) ON CONFLICT (user_id, channel_id, session_id) DO UPDATE SET "
		"first_index = excluded.first_index, data = excluded.data, updated_at = excluded.updated_at "
		"WHERE excluded.first_index < first_index",
		P_ID(user), P_ID(e->channel), P_BLOB(e->session_id, 32), P_INT(e->first_index),
		P_BLOB(e->data, e->data_len), P_INT(now)), "store session backup", true);
	*stored = err == LSN_OK;
	return err == LSN_ERR_NOT_FOUND ? LSN_OK : err;
}

enum lsn_err
store_backup_list(struct store *s, const uint8_t user[LSN_ID_BYTES], int64_t after, int limit,
		  store_backup_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_BK_LIST,
		"SELECT id, channel_id, session_id, first_index, data FROM backup_sessions "
		"WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?",
		P_ID(user), P_INT(after), P_INT(limit));
	struct store_backup_entry e;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(backup_cols), &e, &err, "list session backups"))
		cb(&e, arg);
	return err;
}
