/* store_sqlite.c — the SQLite backend of store.h: connection set-up, schema
 * migrations, group-commit transactions and the prepared statements. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "schema.h"
#include "store.h"
#include "store_fold.h"
#include "store_internal.h"
#include "store_row.h"

/* Every statement the server runs, prepared once and reused. */
enum stmt_id {
	ST_SAVEPOINT, ST_RELEASE, ST_ROLLBACK_TO,
	ST_ORG_INSERT, ST_ORG_GET, ST_ORG_BY_FINESS, ST_ORG_LIST,
	ST_INVITE_INSERT, ST_INVITE_GET, ST_INVITE_CONSUME,
	ST_USER_INSERT, ST_USER_GET, ST_USER_BY_RPPS, ST_USER_SEARCH, ST_USER_SET_IK,
	ST_DEVICE_INSERT, ST_AK_INSERT, ST_DEVICE_GET, ST_DEVICE_LIST,
	ST_DEVICE_REVOKE, ST_DEVICE_TOUCH,
	ST_IDEM_GET, ST_IDEM_PUT,
	ST_DATA_VERSION, ST_DEVICE_REVOKED_SINCE,
	ST__COUNT
};

#define USER_COLUMNS \
	"u.id, u.rpps, u.name, u.profession, u.roles, u.ik, u.created_at, " \
	"o.id, o.name, o.finess, o.kind, o.created_at "
#define DEVICE_COLUMNS \
	"d.id, d.user_id, d.name, d.dk, d.dk_ts, d.dk_sig, d.created_at, d.last_seen_at, " \
	"d.revoked_at, a.ak_id, a.ak, a.ak_ts, a.ak_sig "
#define DEVICE_FROM \
	"FROM devices d JOIN agreement_keys a ON a.device_id = d.id AND a.ak_ts = " \
	"(SELECT max(ak_ts) FROM agreement_keys WHERE device_id = d.id) "

static const char *const stmt_sql[ST__COUNT] = {
	[ST_SAVEPOINT] = "SAVEPOINT req",
	[ST_RELEASE] = "RELEASE req",
	[ST_ROLLBACK_TO] = "ROLLBACK TO req",
	[ST_ORG_INSERT] = "INSERT INTO orgs(id, name, finess, kind, created_at) VALUES (?,?,?,?,?)",
	[ST_ORG_GET] = "SELECT id, name, finess, kind, created_at FROM orgs WHERE id = ?",
	[ST_ORG_BY_FINESS] = "SELECT id, name, finess, kind, created_at FROM orgs WHERE finess = ?",
	[ST_ORG_LIST] = "SELECT id, name, finess, kind, created_at FROM orgs ORDER BY name",
	[ST_INVITE_INSERT] = "INSERT INTO invites(hash, rpps, name, profession, org_id, roles, "
			     "created_at, expires_at, user_id, new_identity, email) "
			     "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
	[ST_INVITE_GET] = "SELECT hash, rpps, name, profession, org_id, roles, created_at, "
			  "expires_at, used_at, user_id, new_identity, email FROM invites WHERE hash = ?",
	[ST_INVITE_CONSUME] = "UPDATE invites SET used_at = ?, used_by = ? "
			      "WHERE hash = ? AND used_at IS NULL",
	[ST_USER_INSERT] = "INSERT INTO users(id, rpps, name, profession, org_id, roles, ik, "
			   "created_at, search_key) VALUES (?,?,?,?,?,?,?,?,?)",
	[ST_USER_SET_IK] = "UPDATE users SET ik = ? WHERE id = ?",
	[ST_USER_GET] = "SELECT " USER_COLUMNS "FROM users u JOIN orgs o ON o.id = u.org_id "
			"WHERE u.id = ?",
	[ST_USER_BY_RPPS] = "SELECT " USER_COLUMNS "FROM users u JOIN orgs o ON o.id = u.org_id "
			    "WHERE u.rpps = ?",
	[ST_USER_SEARCH] = "SELECT " USER_COLUMNS "FROM users u JOIN orgs o ON o.id = u.org_id "
			   "WHERE (?1 IS NULL OR u.search_key LIKE ?1 ESCAPE '\\' "
			   "       OR u.rpps LIKE ?2 ESCAPE '\\') "
			   "AND (?3 IS NULL OR u.profession = ?3) "
			   "AND (?4 IS NULL OR u.org_id = ?4) "
			   "ORDER BY u.search_key, u.id LIMIT ?5",
	[ST_DEVICE_INSERT] = "INSERT INTO devices(id, user_id, name, dk, dk_ts, dk_sig, created_at) "
			     "VALUES (?,?,?,?,?,?,?)",
	[ST_AK_INSERT] = "INSERT INTO agreement_keys(device_id, ak_id, ak, ak_ts, ak_sig, created_at) "
			 "VALUES (?,?,?,?,?,?)",
	[ST_DEVICE_GET] = "SELECT " DEVICE_COLUMNS DEVICE_FROM "WHERE d.id = ?",
	[ST_DEVICE_LIST] = "SELECT " DEVICE_COLUMNS DEVICE_FROM
			   "WHERE d.user_id = ? ORDER BY d.created_at, d.id",
	[ST_DEVICE_REVOKE] = "UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
	[ST_DATA_VERSION] = "PRAGMA data_version",
	[ST_DEVICE_REVOKED_SINCE] = "SELECT id FROM devices WHERE revoked_at >= ?",
	[ST_DEVICE_TOUCH] = "UPDATE devices SET last_seen_at = ? WHERE id = ?",
	[ST_IDEM_GET] = "SELECT op, reply FROM idempotency WHERE scope = ? AND idem = ?",
	[ST_IDEM_PUT] = "INSERT INTO idempotency(scope, idem, op, reply, created_at) VALUES (?,?,?,?,?)",
};


/* The prepared statement for id, reset and with bindings cleared. */
static sqlite3_stmt *
stmt(struct store *s, enum stmt_id id)
{
	return store_stmt(s, (int)id, stmt_sql[id]);
}

static enum lsn_err
exec_sql(struct store *s, const char *sql, const char *what)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("storage: %s: %s", what, msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return LSN_ERR_STORAGE;
	}
	return LSN_OK;
}

/* ---- lifecycle ---------------------------------------------------------- */

int
store_schema_latest(void)
{
	return schema_migration_count;
}

int
store_schema_version(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int version = -1;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return version;
}

/* Apply every migration above the current version up to target, all in one
 * transaction: either the database moves to target or it is left untouched. */
static enum lsn_err
store_migrate(struct store *s, int target, struct lsn_status *st)
{
	if (exec_sql(s, "BEGIN IMMEDIATE", "begin migration") != LSN_OK)
		return lsn_fail(st, LSN_ERR_STORAGE, "cannot lock the database for migration: %s",
				sqlite3_errmsg(s->db));
	int current = store_schema_version(s);
	if (current > schema_migration_count) {
		exec_sql(s, "ROLLBACK", "rollback migration");
		return lsn_fail(st, LSN_ERR_STORAGE,
				"the database is at schema version %d but this liaisond knows only "
				"up to %d; run a newer liaisond", current, schema_migration_count);
	}
	for (int i = current; i < target; i++) {
		const struct schema_migration *m = &schema_migrations[i];
		char *msg = NULL;
		if (sqlite3_exec(s->db, m->sql, NULL, NULL, &msg) != SQLITE_OK) {
			lsn_fail(st, LSN_ERR_STORAGE, "migration %s failed: %s", m->name,
				 msg ? msg : "unknown error");
			sqlite3_free(msg);
			exec_sql(s, "ROLLBACK", "rollback migration");
			return LSN_ERR_STORAGE;
		}
		char pragma[48];
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", m->version);
		if (exec_sql(s, pragma, "set user_version") != LSN_OK) {
			exec_sql(s, "ROLLBACK", "rollback migration");
			return lsn_fail(st, LSN_ERR_STORAGE, "cannot record schema version %d",
					m->version);
		}
		log_info("schema: applied %s", m->name);
	}
	if (exec_sql(s, "COMMIT", "commit migration") != LSN_OK)
		return lsn_fail(st, LSN_ERR_STORAGE, "cannot commit the migration");
	return LSN_OK;
}

static enum lsn_err
store_configure(struct store *s, const struct store_options *opt, struct lsn_status *st)
{
	sqlite3_busy_timeout(s->db, opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : 5000);
	sqlite3_extended_result_codes(s->db, 1);
	const char *sync = opt->sync == STORE_SYNC_NORMAL ? "PRAGMA synchronous = NORMAL"
							  : "PRAGMA synchronous = FULL";
	sqlite3_stmt *q = NULL;
	bool wal = false;
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		wal = strcmp((const char *)sqlite3_column_text(q, 0), "wal") == 0;
	sqlite3_finalize(q);
	if (!wal)
		return lsn_fail(st, LSN_ERR_STORAGE, "cannot switch the database to WAL mode: %s",
				sqlite3_errmsg(s->db));
	if (exec_sql(s, sync, "set synchronous") != LSN_OK ||
	    exec_sql(s, "PRAGMA foreign_keys = ON", "enable foreign keys") != LSN_OK ||
	    exec_sql(s, "PRAGMA trusted_schema = OFF", "distrust schema") != LSN_OK)
		return lsn_fail(st, LSN_ERR_STORAGE, "cannot configure the database");
	/* the server's 16 MiB (db_cache): at W1 the service thread read 2.3
	 * pages per message back from the files with SQLite's 2 MiB, 0.02
	 * with 16 (docs/PERFORMANCE.md) */
	if (opt->cache_bytes > 0) {
		char pragma[64];
		snprintf(pragma, sizeof pragma, "PRAGMA cache_size = -%zu", opt->cache_bytes / 1024);
		if (exec_sql(s, pragma, "set the page cache size") != LSN_OK)
			return lsn_fail(st, LSN_ERR_STORAGE, "cannot configure the database");
	}
	return LSN_OK;
}

void
store_process_init(void)
{
	/* fails (SQLITE_MISUSE) only once SQLite is initialised: then the
	 * statistics stay on, which is slower, not wrong */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

enum lsn_err
store_open(struct store **out, const char *path, const struct store_options *opt,
	   struct lsn_status *st)
{
	*out = NULL;
	if (!opt->create && access(path, F_OK) != 0)
		return lsn_fail(st, LSN_ERR_NOT_FOUND,
				"no database at %s; run \"liaisond init\" first (or check data_dir)",
				path);
	struct store *s = calloc(1, sizeof *s);
	if (s == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (opt->create ? SQLITE_OPEN_CREATE : 0);
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		lsn_fail(st, LSN_ERR_STORAGE, "cannot open %s: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		store_close(s);
		return LSN_ERR_STORAGE;
	}
	int target = opt->migrate_to > 0 ? opt->migrate_to : schema_migration_count;
	if (target > schema_migration_count)
		target = schema_migration_count;
	enum lsn_err err = store_configure(s, opt, st);
	if (err == LSN_OK)
		err = store_migrate(s, target, st);
	/* after the migrations: a request's savepoint journal and SQLite's
	 * temporary b-trees stay in memory, since spilled to files under load
	 * they cost a write per page (seen with strace: thousands a second of
	 * pwrite to etilqs_*); a migration's are as large as the table it
	 * copies (231 MB for 015 over 200,000 messages), so it keeps files */
	if (err == LSN_OK &&
	    exec_sql(s, "PRAGMA temp_store = MEMORY", "keep temporary files in memory") != LSN_OK)
		err = lsn_fail(st, LSN_ERR_STORAGE, "cannot configure the database");
	if (err != LSN_OK) {
		store_close(s);
		return err;
	}
	*out = s;
	return LSN_OK;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	store_checkpointer_stop(s);
	if (s->in_batch)
		store_batch_rollback(s);
	for (int i = 0; i < STORE_STMT_SLOTS; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	free(s);
}

enum lsn_err
store_check(struct store *s, struct lsn_status *st)
{
	sqlite3_stmt *q = NULL;
	enum lsn_err err = LSN_OK;
	if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &q, NULL) != SQLITE_OK)
		return lsn_fail(st, LSN_ERR_STORAGE, "integrity_check: %s", sqlite3_errmsg(s->db));
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(q, 0);
		if (line && strcmp(line, "ok") != 0) {
			lsn_fail(st, LSN_ERR_STORAGE, "integrity_check: %s", line);
			err = LSN_ERR_STORAGE;
			break;
		}
	}
	sqlite3_finalize(q);
	return err;
}

/* ---- group commit ------------------------------------------------------- */

enum lsn_err
store_batch_begin(struct store *s)
{
	if (s->in_batch)
		return LSN_OK;
	if (exec_sql(s, "BEGIN IMMEDIATE", "begin batch") != LSN_OK)
		return LSN_ERR_STORAGE;
	s->in_batch = true;
	return LSN_OK;
}

enum lsn_err
store_batch_commit(struct store *s)
{
	if (!s->in_batch)
		return LSN_OK;
	enum lsn_err err = exec_sql(s, "COMMIT", "commit batch");
	if (err != LSN_OK) {
		store_batch_rollback(s);
		return err;
	}
	s->in_batch = false;
	return LSN_OK;
}

void
store_batch_rollback(struct store *s)
{
	if (!s->in_batch)
		return;
	if (sqlite3_get_autocommit(s->db) == 0)
		exec_sql(s, "ROLLBACK", "rollback batch");
	s->in_batch = false;
	s->in_req = false;
}

bool
store_in_batch(const struct store *s)
{
	return s->in_batch;
}

enum lsn_err
store_set_sync(struct store *s, enum store_sync sync)
{
	if (s->in_batch)
		return LSN_ERR_STORAGE;
	return exec_sql(s, sync == STORE_SYNC_NORMAL ? "PRAGMA synchronous = NORMAL"
						     : "PRAGMA synchronous = FULL",
			"set synchronous");
}

enum lsn_err
store_wal_path(struct store *s, char *buf, size_t size)
{
	const char *db = sqlite3_db_filename(s->db, "main");
	const char *wal = db ? sqlite3_filename_wal(db) : NULL;
	if (wal == NULL || wal[0] == '\0' || strlen(wal) >= size)
		return LSN_ERR_STORAGE;
	memcpy(buf, wal, strlen(wal) + 1);
	return LSN_OK;
}

enum lsn_err
store_req_begin(struct store *s)
{
	sqlite3_stmt *st = stmt(s, ST_SAVEPOINT);
	if (st == NULL || store_exec(s, st, "savepoint", false) != LSN_OK)
		return LSN_ERR_STORAGE;
	s->in_req = true;
	return LSN_OK;
}

void
store_req_end(struct store *s, bool keep)
{
	if (!s->in_req)
		return;
	s->in_req = false;
	if (!keep) {
		sqlite3_stmt *rb = stmt(s, ST_ROLLBACK_TO);
		if (rb)
			store_exec(s, rb, "rollback to savepoint", false);
	}
	sqlite3_stmt *rel = stmt(s, ST_RELEASE);
	if (rel)
		store_exec(s, rel, "release savepoint", false);
}

/* The prepared statement for id with its parameters bound. */
#define Q(id, ...) STORE_Q(s, (int)(id), stmt_sql[id], __VA_ARGS__)

/* ---- organisations ------------------------------------------------------ */

static const struct store_col org_cols[] = {
	COL_BLOB(0, struct store_org, id),
	COL_TEXT(1, struct store_org, name),
	COL_TEXT(2, struct store_org, finess),
	COL_TEXT(3, struct store_org, kind),
	COL_I64(4, struct store_org, created_at),
};

enum lsn_err
store_org_create(struct store *s, const struct store_org *org)
{
	return store_exec(s, Q(ST_ORG_INSERT, P_BLOB(org->id, sizeof org->id), P_TEXT(org->name),
			       P_TEXT(org->finess), P_TEXT(org->kind), P_INT(org->created_at)),
			  "insert org", false);
}

enum lsn_err
store_org_get(struct store *s, const uint8_t id[LSN_ID_BYTES], struct store_org *out)
{
	return store_one(s, Q(ST_ORG_GET, P_ID(id)), STORE_COLS(org_cols), out, "read org");
}

enum lsn_err
store_org_find_finess(struct store *s, const char *finess, struct store_org *out)
{
	return store_one(s, Q(ST_ORG_BY_FINESS, P_TEXT(finess)), STORE_COLS(org_cols), out,
			 "read org");
}

enum lsn_err
store_org_list(struct store *s, store_org_cb cb, void *arg)
{
	sqlite3_stmt *st = stmt(s, ST_ORG_LIST);
	struct store_org org;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(org_cols), &org, &err, "list orgs"))
		cb(&org, arg);
	return err;
}

/* ---- invites ------------------------------------------------------------ */

static const struct store_col invite_cols[] = {
	COL_BLOB(0, struct store_invite, hash),
	COL_TEXT(1, struct store_invite, rpps),
	COL_TEXT(2, struct store_invite, name),
	COL_TEXT(3, struct store_invite, profession),
	COL_BLOB(4, struct store_invite, org_id),
	COL_UINT(5, struct store_invite, roles),
	COL_I64(6, struct store_invite, created_at),
	COL_I64(7, struct store_invite, expires_at),
	COL_I64(8, struct store_invite, used_at),
	COL_IS_BLOB(9, struct store_invite, for_user),
	COL_BLOB(9, struct store_invite, user_id),
	COL_BOOL(10, struct store_invite, new_identity),
	COL_TEXT(11, struct store_invite, email),
};

enum lsn_err
store_invite_create(struct store *s, const struct store_invite *inv)
{
	return store_exec(s, Q(ST_INVITE_INSERT, P_BLOB(inv->hash, sizeof inv->hash),
			       P_TEXT_OPT(inv->rpps), P_TEXT(inv->name), P_TEXT(inv->profession),
			       P_BLOB(inv->org_id, sizeof inv->org_id),
			       P_INT(inv->roles), P_INT(inv->created_at), P_INT(inv->expires_at),
			       P_BLOB(inv->for_user ? inv->user_id : NULL, LSN_ID_BYTES),
			       P_INT(inv->for_user && inv->new_identity), P_TEXT_OPT(inv->email)),
			  "insert invite", false);
}

enum lsn_err
store_invite_get(struct store *s, const uint8_t hash[32], struct store_invite *out)
{
	return store_one(s, Q(ST_INVITE_GET, P_BLOB(hash, 32)), STORE_COLS(invite_cols), out,
			 "read invite");
}

enum lsn_err
store_invite_consume(struct store *s, const uint8_t hash[32], const uint8_t user_id[LSN_ID_BYTES],
		     int64_t at)
{
	enum lsn_err err = store_exec(s, Q(ST_INVITE_CONSUME, P_INT(at), P_ID(user_id),
					   P_BLOB(hash, 32)), "consume invite", true);
	return err == LSN_ERR_NOT_FOUND ? LSN_ERR_CONFLICT : err;
}

/* ---- users -------------------------------------------------------------- */

static const struct store_col user_cols[] = {
	COL_BLOB(0, struct store_user, id),
	COL_TEXT(1, struct store_user, rpps),
	COL_TEXT(2, struct store_user, name),
	COL_TEXT(3, struct store_user, profession),
	COL_UINT(4, struct store_user, roles),
	COL_BLOB(5, struct store_user, ik),
	COL_I64(6, struct store_user, created_at),
	COL_BLOB(7, struct store_user, org.id),
	COL_TEXT(8, struct store_user, org.name),
	COL_TEXT(9, struct store_user, org.finess),
	COL_TEXT(10, struct store_user, org.kind),
	COL_I64(11, struct store_user, org.created_at),
};

enum lsn_err
store_user_set_ik(struct store *s, const uint8_t id[LSN_ID_BYTES], const uint8_t ik[32])
{
	return store_exec(s, Q(ST_USER_SET_IK, P_BLOB(ik, 32), P_ID(id)), "set identity key",
			  true);
}

enum lsn_err
store_user_create(struct store *s, const struct store_user *user)
{
	char key[STORE_NAME_MAX * 2 + 1];
	store_fold(user->name, key, sizeof key);
	return store_exec(s, Q(ST_USER_INSERT, P_BLOB(user->id, sizeof user->id),
			       P_TEXT_OPT(user->rpps), P_TEXT(user->name), P_TEXT(user->profession),
			       P_BLOB(user->org.id, sizeof user->org.id), P_INT(user->roles),
			       P_BLOB(user->ik, sizeof user->ik), P_INT(user->created_at),
			       P_TEXT(key)),
			  "insert user", false);
}

enum lsn_err
store_user_get(struct store *s, const uint8_t id[LSN_ID_BYTES], struct store_user *out)
{
	return store_one(s, Q(ST_USER_GET, P_ID(id)), STORE_COLS(user_cols), out, "read user");
}

enum lsn_err
store_user_find_rpps(struct store *s, const char *rpps, struct store_user *out)
{
	return store_one(s, Q(ST_USER_BY_RPPS, P_TEXT(rpps)), STORE_COLS(user_cols), out,
			 "read user");
}

/* "%" + text with LIKE metacharacters escaped + "%" (or prefix only). */
static void
like_pattern(const char *text, bool prefix_only, char *out, size_t cap)
{
	size_t o = 0;
	if (!prefix_only && o + 1 < cap)
		out[o++] = '%';
	for (const char *p = text; *p && o + 3 < cap; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			out[o++] = '\\';
		out[o++] = *p;
	}
	if (o + 1 < cap)
		out[o++] = '%';
	out[o] = '\0';
}

enum lsn_err
store_user_search(struct store *s, const struct store_user_query *q, store_user_cb cb, void *arg)
{
	char folded[STORE_NAME_MAX * 2 + 1], name_like[STORE_NAME_MAX * 4 + 4];
	char rpps_like[STORE_NAME_MAX * 2 + 4];
	bool text = q->text && *q->text;
	if (text) {
		store_fold(q->text, folded, sizeof folded);
		like_pattern(folded, false, name_like, sizeof name_like);
		like_pattern(q->text, true, rpps_like, sizeof rpps_like);
	}
	sqlite3_stmt *st = Q(ST_USER_SEARCH, P_TEXT(text ? name_like : NULL),
			     P_TEXT(text ? rpps_like : NULL), P_TEXT_OPT(q->profession),
			     P_BLOB(q->org_id, LSN_ID_BYTES), P_INT(q->limit > 0 ? q->limit : 50));
	struct store_user u;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(user_cols), &u, &err, "search users"))
		cb(&u, arg);
	return err;
}

/* ---- devices ------------------------------------------------------------ */

static const struct store_col device_cols[] = {
	COL_BLOB(0, struct store_device, id),
	COL_BLOB(1, struct store_device, user_id),
	COL_TEXT(2, struct store_device, name),
	COL_BLOB(3, struct store_device, dk),
	COL_I64(4, struct store_device, dk_ts),
	COL_BLOB(5, struct store_device, dk_sig),
	COL_I64(6, struct store_device, created_at),
	COL_I64(7, struct store_device, last_seen_at),
	COL_I64(8, struct store_device, revoked_at),
	COL_BLOB(9, struct store_device, ak_id),
	COL_BLOB(10, struct store_device, ak),
	COL_I64(11, struct store_device, ak_ts),
	COL_BLOB(12, struct store_device, ak_sig),
};

enum lsn_err
store_device_create(struct store *s, const struct store_device *dev)
{
	enum lsn_err err = store_exec(s, Q(ST_DEVICE_INSERT, P_BLOB(dev->id, sizeof dev->id),
					   P_BLOB(dev->user_id, sizeof dev->user_id),
					   P_TEXT(dev->name), P_BLOB(dev->dk, sizeof dev->dk),
					   P_INT(dev->dk_ts), P_BLOB(dev->dk_sig, sizeof dev->dk_sig),
					   P_INT(dev->created_at)),
				      "insert device", false);
	if (err != LSN_OK)
		return err;
	return store_device_add_ak(s, dev);
}

enum lsn_err
store_device_add_ak(struct store *s, const struct store_device *dev)
{
	return store_exec(s, Q(ST_AK_INSERT, P_BLOB(dev->id, sizeof dev->id),
			       P_BLOB(dev->ak_id, sizeof dev->ak_id), P_BLOB(dev->ak, sizeof dev->ak),
			       P_INT(dev->ak_ts), P_BLOB(dev->ak_sig, sizeof dev->ak_sig),
			       P_INT(dev->created_at)),
			  "insert agreement key", false);
}

enum lsn_err
store_device_get(struct store *s, const uint8_t id[LSN_ID_BYTES], struct store_device *out)
{
	return store_one(s, Q(ST_DEVICE_GET, P_ID(id)), STORE_COLS(device_cols), out,
			 "read device");
}

enum lsn_err
store_device_list(struct store *s, const uint8_t user_id[LSN_ID_BYTES], store_device_cb cb,
		  void *arg)
{
	sqlite3_stmt *st = Q(ST_DEVICE_LIST, P_ID(user_id));
	struct store_device d;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(device_cols), &d, &err, "list devices"))
		cb(&d, arg);
	return err;
}

enum lsn_err
store_data_version(struct store *s, int64_t *version)
{
	return store_scalar(s, stmt(s, ST_DATA_VERSION), version, "data_version");
}

struct id_row {
	const void *id;
	size_t len;
};

static const struct store_col id_ref_cols[] = {COL_BLOB_REF(0, struct id_row, id, len)};

enum lsn_err
store_devices_revoked_since(struct store *s, int64_t since, store_id_cb cb, void *arg)
{
	sqlite3_stmt *st = Q(ST_DEVICE_REVOKED_SINCE, P_INT(since));
	struct id_row r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(id_ref_cols), &r, &err, "revoked devices"))
		if (r.len == LSN_ID_BYTES)
			cb(r.id, arg);
	return err;
}

enum lsn_err
store_device_revoke(struct store *s, const uint8_t id[LSN_ID_BYTES], int64_t at)
{
	enum lsn_err err = store_exec(s, Q(ST_DEVICE_REVOKE, P_INT(at), P_ID(id)), "revoke device",
				      true);
	if (err == LSN_ERR_NOT_FOUND) {
		struct store_device d;
		if (store_device_get(s, id, &d) == LSN_OK)
			return LSN_ERR_CONFLICT;
	}
	return err;
}

enum lsn_err
store_device_touch(struct store *s, const uint8_t id[LSN_ID_BYTES], int64_t at)
{
	return store_exec(s, Q(ST_DEVICE_TOUCH, P_INT(at), P_ID(id)), "touch device", true);
}

/* ---- idempotency -------------------------------------------------------- */

struct idem_row {
	char *op, *reply;
};

static const struct store_col idem_cols[] = {
	COL_TEXT_DUP(0, struct idem_row, op),
	COL_TEXT_DUP(1, struct idem_row, reply),
};

enum lsn_err
store_idem_get(struct store *s, const char *scope, const char *key, char **op_out,
	       char **reply_out)
{
	struct idem_row r;
	enum lsn_err err = store_one(s, Q(ST_IDEM_GET, P_TEXT(scope), P_TEXT(key)),
				     STORE_COLS(idem_cols), &r, "read idempotency");
	if (err == LSN_OK) {
		*op_out = r.op;
		*reply_out = r.reply;
	}
	return err;
}

enum lsn_err
store_idem_put(struct store *s, const char *scope, const char *key, const char *op,
	       const char *reply, int64_t at)
{
	return store_exec(s, Q(ST_IDEM_PUT, P_TEXT(scope), P_TEXT(key), P_TEXT(op), P_TEXT(reply),
			       P_INT(at)),
			  "insert idempotency", false);
}
