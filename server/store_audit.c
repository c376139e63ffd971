/* store_audit.c — the audit table: read the chain head, insert an entry,
 * list entries in order. The chain (encoding, hashes, verification) is in
 * audit.c; this file only moves rows. */
#include "store_internal.h"
#include "store_row.h"

enum {
	SLOT_BASE = 320,
	ST_AUDIT_HEAD = SLOT_BASE, ST_AUDIT_INSERT, ST_AUDIT_LIST,
};

#define AUDIT_COLUMNS \
	"seq, at, action, outcome, origin, actor_user, actor_device, target_user, " \
	"target_device, channel_id, case_id, peer, detail, prev_hash, hash"

struct head_row {
	int64_t seq;
	uint8_t hash[32];
};

static const struct store_col head_cols[] = {
	COL_I64(0, struct head_row, seq),
	COL_BLOB(1, struct head_row, hash),
};

enum lsn_err
store_audit_head(struct store *s, int64_t *seq, uint8_t hash[32])
{
	struct head_row r;
	enum lsn_err err = store_one(s, store_stmt(s, ST_AUDIT_HEAD,
						   "SELECT seq, hash FROM audit_head WHERE one = 1"),
				     STORE_COLS(head_cols), &r, "read audit head");
	if (err == LSN_OK) {
		*seq = r.seq;
		memcpy(hash, r.hash, 32);
	}
	return err;
}

/* An optional id: NULL when absent. */
#define P_ID_IF(present, id) P_BLOB((present) ? (id) : NULL, LSN_ID_BYTES)

enum lsn_err
store_audit_insert(struct store *s, const struct store_audit *e)
{
	return store_exec(s, STORE_Q(s, ST_AUDIT_INSERT,
		"INSERT INTO audit(" AUDIT_COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		P_INT(e->seq), P_INT(e->at), P_TEXT(e->action), P_TEXT(e->outcome), P_TEXT(e->origin),
		P_ID_IF(e->has_actor_user, e->actor_user), P_ID_IF(e->has_actor_device, e->actor_device),
		P_ID_IF(e->has_target_user, e->target_user),
		P_ID_IF(e->has_target_device, e->target_device), P_ID_IF(e->has_channel, e->channel),
		P_ID_IF(e->has_case, e->case_id), P_TEXT(e->peer), P_TEXT(e->detail),
		P_BLOB(e->prev_hash, 32), P_BLOB(e->hash, 32)), "insert audit entry", false);
}

/* Reading an entry is stricter than the column tables (store_row.h): the
 * chain must show a tampered row as malformed, never cut or zero it
 * silently, so its columns are checked by hand below; binding and stepping
 * still go through the row helper. */

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
	sqlite3_stmt *st = STORE_Q(s, ST_AUDIT_LIST,
		"SELECT " AUDIT_COLUMNS " FROM audit "
		"WHERE (?1 IS NULL OR actor_user = ?1 OR target_user = ?1) "
		"AND (?2 IS NULL OR case_id = ?2) "
		"AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4) "
		"ORDER BY seq",
		P_BLOB(f ? f->user : NULL, LSN_ID_BYTES), P_BLOB(f ? f->case_id : NULL, LSN_ID_BYTES),
		P_INT_OPT(f ? f->since : 0), P_INT_OPT(f ? f->until : 0));
	enum lsn_err err;
	/* no column table: the row is read by read_entry, while st is on it */
	while (store_next(s, st, NULL, 0, NULL, &err, "list audit entries")) {
		struct store_audit e;
		read_entry(st, &e);
		cb(&e, arg);
	}
	return err;
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
