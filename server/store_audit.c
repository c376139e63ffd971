/* store_audit.c — the audit table: read the chain head, insert an entry,
 * list entries in order. The chain (encoding, hashes, verification) is in
 * audit.c; this file only moves rows. */
#include "store_internal.h"

enum {
	SLOT_BASE = 320,
	ST_AUDIT_HEAD = SLOT_BASE, ST_AUDIT_INSERT, ST_AUDIT_LIST,
};

#define AUDIT_COLUMNS \
	"seq, at, action, outcome, origin, actor_user, actor_device, target_user, " \
	"target_device, channel_id, case_id, peer, detail, prev_hash, hash"

enum lsn_err
store_audit_head(struct store *s, int64_t *seq, uint8_t hash[32])
{
	sqlite3_stmt *st = store_stmt(s, ST_AUDIT_HEAD,
				      "SELECT seq, hash FROM audit_head WHERE one = 1");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		store_col_blob(st, 1, hash, 32);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return LSN_OK;
	return rc == SQLITE_DONE ? LSN_ERR_NOT_FOUND : store_db_error(s, "read audit head");
}

static void
bind_id(sqlite3_stmt *st, int col, bool present, const uint8_t id[LSN_ID_BYTES])
{
	if (present)
		store_bind_blob(st, col, id, LSN_ID_BYTES);
	else
		sqlite3_bind_null(st, col);
}

enum lsn_err
store_audit_insert(struct store *s, const struct store_audit *e)
{
	sqlite3_stmt *st = store_stmt(s, ST_AUDIT_INSERT,
		"INSERT INTO audit(" AUDIT_COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, e->seq);
	sqlite3_bind_int64(st, 2, e->at);
	sqlite3_bind_text(st, 3, e->action, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, e->outcome, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, e->origin, -1, SQLITE_TRANSIENT);
	bind_id(st, 6, e->has_actor_user, e->actor_user);
	bind_id(st, 7, e->has_actor_device, e->actor_device);
	bind_id(st, 8, e->has_target_user, e->target_user);
	bind_id(st, 9, e->has_target_device, e->target_device);
	bind_id(st, 10, e->has_channel, e->channel);
	bind_id(st, 11, e->has_case, e->case_id);
	sqlite3_bind_text(st, 12, e->peer, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 13, e->detail, -1, SQLITE_TRANSIENT);
	store_bind_blob(st, 14, e->prev_hash, 32);
	store_bind_blob(st, 15, e->hash, 32);
	return store_exec(s, st, "insert audit entry", false);
}

/* A text column that must fit cap (with its NUL); anything else marks the
 * row malformed rather than being silently cut. */
static void
read_text(sqlite3_stmt *st, int col, char *out, size_t cap, bool *malformed)
{
	const unsigned char *p = sqlite3_column_text(st, col);
	int len = sqlite3_column_bytes(st, col);
	if (sqlite3_column_type(st, col) != SQLITE_TEXT || p == NULL || (size_t)len >= cap ||
	    memchr(p, '\0', (size_t)len) != NULL) {
		*malformed = true;
		out[0] = '\0';
		return;
	}
	memcpy(out, p, (size_t)len);
	out[len] = '\0';
}

/* NULL (absent) or a blob of exactly len bytes. */
static void
read_blob(sqlite3_stmt *st, int col, uint8_t *out, size_t len, bool *present, bool *malformed)
{
	int type = sqlite3_column_type(st, col);
	memset(out, 0, len);
	if (present)
		*present = false;
	if (type == SQLITE_NULL && present)
		return;
	const void *p = sqlite3_column_blob(st, col);
	if (type != SQLITE_BLOB || p == NULL || (size_t)sqlite3_column_bytes(st, col) != len) {
		*malformed = true;
		return;
	}
	memcpy(out, p, len);
	if (present)
		*present = true;
}

static void
read_entry(sqlite3_stmt *st, struct store_audit *e)
{
	memset(e, 0, sizeof *e);
	bool *bad = &e->malformed;
	if (sqlite3_column_type(st, 0) != SQLITE_INTEGER || sqlite3_column_type(st, 1) != SQLITE_INTEGER)
		*bad = true;
	e->seq = sqlite3_column_int64(st, 0);
	e->at = sqlite3_column_int64(st, 1);
	read_text(st, 2, e->action, sizeof e->action, bad);
	read_text(st, 3, e->outcome, sizeof e->outcome, bad);
	read_text(st, 4, e->origin, sizeof e->origin, bad);
	read_blob(st, 5, e->actor_user, LSN_ID_BYTES, &e->has_actor_user, bad);
	read_blob(st, 6, e->actor_device, LSN_ID_BYTES, &e->has_actor_device, bad);
	read_blob(st, 7, e->target_user, LSN_ID_BYTES, &e->has_target_user, bad);
	read_blob(st, 8, e->target_device, LSN_ID_BYTES, &e->has_target_device, bad);
	read_blob(st, 9, e->channel, LSN_ID_BYTES, &e->has_channel, bad);
	read_blob(st, 10, e->case_id, LSN_ID_BYTES, &e->has_case, bad);
	read_text(st, 11, e->peer, sizeof e->peer, bad);
	read_text(st, 12, e->detail, sizeof e->detail, bad);
	read_blob(st, 13, e->prev_hash, 32, NULL, bad);
	read_blob(st, 14, e->hash, 32, NULL, bad);
}

enum lsn_err
store_audit_list(struct store *s, const struct store_audit_filter *f, store_audit_cb cb, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_AUDIT_LIST,
		"SELECT " AUDIT_COLUMNS " FROM audit "
		"WHERE (?1 IS NULL OR actor_user = ?1 OR target_user = ?1) "
		"AND (?2 IS NULL OR case_id = ?2) "
		"AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4) "
		"ORDER BY seq");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	if (f && f->user)
		store_bind_blob(st, 1, f->user, LSN_ID_BYTES);
	if (f && f->case_id)
		store_bind_blob(st, 2, f->case_id, LSN_ID_BYTES);
	if (f && f->since)
		sqlite3_bind_int64(st, 3, f->since);
	if (f && f->until)
		sqlite3_bind_int64(st, 4, f->until);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_audit e;
		read_entry(st, &e);
		cb(&e, arg);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "list audit entries");
}

enum lsn_err
store_audit_snapshot_begin(struct store *s)
{
	if (s->in_batch)
		return LSN_OK;   /* already one transaction */
	char *msg = NULL;
	/* a deferred transaction takes its snapshot at the first read */
	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, &msg) != SQLITE_OK) {
		sqlite3_free(msg);
		return store_db_error(s, "begin read snapshot");
	}
	return LSN_OK;
}

void
store_audit_snapshot_end(struct store *s)
{
	if (s->in_batch || sqlite3_get_autocommit(s->db))
		return;
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}
