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

/* Every statement the server runs, prepared once and reused. */
enum stmt_id {
	ST_SAVEPOINT, ST_RELEASE, ST_ROLLBACK_TO,
	ST_ORG_INSERT, ST_ORG_GET, ST_ORG_BY_FINESS, ST_ORG_LIST,
	ST_INVITE_INSERT, ST_INVITE_GET, ST_INVITE_CONSUME,
	ST_USER_INSERT, ST_USER_GET, ST_USER_BY_RPPS, ST_USER_SEARCH,
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
			     "created_at, expires_at, user_id) VALUES (?,?,?,?,?,?,?,?,?)",
	[ST_INVITE_GET] = "SELECT hash, rpps, name, profession, org_id, roles, created_at, "
			  "expires_at, used_at, user_id FROM invites WHERE hash = ?",
	[ST_INVITE_CONSUME] = "UPDATE invites SET used_at = ?, used_by = ? "
			      "WHERE hash = ? AND used_at IS NULL",
	[ST_USER_INSERT] = "INSERT INTO users(id, rpps, name, profession, org_id, roles, ik, "
			   "created_at, search_key) VALUES (?,?,?,?,?,?,?,?,?)",
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

sqlite3_stmt *
store_stmt(struct store *s, int slot, const char *sql)
{
	sqlite3_stmt *st = s->stmt[slot];
	if (st == NULL) {
		if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
		    SQLITE_OK) {
			log_error("storage: cannot prepare statement %d: %s", slot, sqlite3_errmsg(s->db));
			return NULL;
		}
		s->stmt[slot] = st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

enum lsn_err
store_db_error(struct store *s, const char *what)
{
	int code = sqlite3_extended_errcode(s->db);
	if ((code & 0xff) == SQLITE_CONSTRAINT)
		return LSN_ERR_CONFLICT;
	log_error("storage: %s: %s (%d)", what, sqlite3_errmsg(s->db), code);
	return LSN_ERR_STORAGE;
}

enum lsn_err
store_exec(struct store *s, sqlite3_stmt *st, const char *what, bool want_change)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_error(s, what);
	if (want_change && sqlite3_changes(s->db) == 0)
		return LSN_ERR_NOT_FOUND;
	return LSN_OK;
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
	return LSN_OK;
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

/* ---- organisations ------------------------------------------------------ */

static void
read_org(sqlite3_stmt *st, int base, struct store_org *org)
{
	store_col_blob(st, base + 0, org->id, sizeof org->id);
	store_col_text(st, base + 1, org->name, sizeof org->name);
	store_col_text(st, base + 2, org->finess, sizeof org->finess);
	store_col_text(st, base + 3, org->kind, sizeof org->kind);
	org->created_at = sqlite3_column_int64(st, base + 4);
}

enum lsn_err
store_org_create(struct store *s, const struct store_org *org)
{
	sqlite3_stmt *st = stmt(s, ST_ORG_INSERT);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, org->id, sizeof org->id);
	sqlite3_bind_text(st, 2, org->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, org->finess, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, org->kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, org->created_at);
	return store_exec(s, st, "insert org", false);
}

static enum lsn_err
org_fetch(struct store *s, sqlite3_stmt *st, struct store_org *out)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_org(st, 0, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return LSN_OK;
	return rc == SQLITE_DONE ? LSN_ERR_NOT_FOUND : store_db_error(s, "read org");
}

enum lsn_err
store_org_get(struct store *s, const uint8_t id[LSN_ID_BYTES], struct store_org *out)
{
	sqlite3_stmt *st = stmt(s, ST_ORG_GET);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, id, LSN_ID_BYTES);
	return org_fetch(s, st, out);
}

enum lsn_err
store_org_find_finess(struct store *s, const char *finess, struct store_org *out)
{
	sqlite3_stmt *st = stmt(s, ST_ORG_BY_FINESS);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_text(st, 1, finess, -1, SQLITE_TRANSIENT);
	return org_fetch(s, st, out);
}

enum lsn_err
store_org_list(struct store *s, store_org_cb cb, void *arg)
{
	sqlite3_stmt *st = stmt(s, ST_ORG_LIST);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_org org;
		read_org(st, 0, &org);
		cb(&org, arg);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "list orgs");
}

/* ---- invites ------------------------------------------------------------ */

enum lsn_err
store_invite_create(struct store *s, const struct store_invite *inv)
{
	sqlite3_stmt *st = stmt(s, ST_INVITE_INSERT);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, inv->hash, sizeof inv->hash);
	store_bind_text_or_null(st, 2, inv->rpps);
	sqlite3_bind_text(st, 3, inv->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, inv->profession, -1, SQLITE_TRANSIENT);
	store_bind_blob(st, 5, inv->org_id, sizeof inv->org_id);
	sqlite3_bind_int64(st, 6, inv->roles);
	sqlite3_bind_int64(st, 7, inv->created_at);
	sqlite3_bind_int64(st, 8, inv->expires_at);
	if (inv->for_user)
		store_bind_blob(st, 9, inv->user_id, LSN_ID_BYTES);
	return store_exec(s, st, "insert invite", false);
}

enum lsn_err
store_invite_get(struct store *s, const uint8_t hash[32], struct store_invite *out)
{
	sqlite3_stmt *st = stmt(s, ST_INVITE_GET);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, hash, 32);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		store_col_blob(st, 0, out->hash, sizeof out->hash);
		store_col_text(st, 1, out->rpps, sizeof out->rpps);
		store_col_text(st, 2, out->name, sizeof out->name);
		store_col_text(st, 3, out->profession, sizeof out->profession);
		store_col_blob(st, 4, out->org_id, sizeof out->org_id);
		out->roles = (unsigned)sqlite3_column_int64(st, 5);
		out->created_at = sqlite3_column_int64(st, 6);
		out->expires_at = sqlite3_column_int64(st, 7);
		out->used_at = sqlite3_column_int64(st, 8);
		out->for_user = sqlite3_column_type(st, 9) == SQLITE_BLOB;
		store_col_blob(st, 9, out->user_id, sizeof out->user_id);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return LSN_OK;
	return rc == SQLITE_DONE ? LSN_ERR_NOT_FOUND : store_db_error(s, "read invite");
}

enum lsn_err
store_invite_consume(struct store *s, const uint8_t hash[32], const uint8_t user_id[LSN_ID_BYTES],
		     int64_t at)
{
	sqlite3_stmt *st = stmt(s, ST_INVITE_CONSUME);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, at);
	store_bind_blob(st, 2, user_id, LSN_ID_BYTES);
	store_bind_blob(st, 3, hash, 32);
	enum lsn_err err = store_exec(s, st, "consume invite", true);
	return err == LSN_ERR_NOT_FOUND ? LSN_ERR_CONFLICT : err;
}

/* ---- users -------------------------------------------------------------- */

static void
read_user(sqlite3_stmt *st, struct store_user *u)
{
	store_col_blob(st, 0, u->id, sizeof u->id);
	store_col_text(st, 1, u->rpps, sizeof u->rpps);
	store_col_text(st, 2, u->name, sizeof u->name);
	store_col_text(st, 3, u->profession, sizeof u->profession);
	u->roles = (unsigned)sqlite3_column_int64(st, 4);
	store_col_blob(st, 5, u->ik, sizeof u->ik);
	u->created_at = sqlite3_column_int64(st, 6);
	read_org(st, 7, &u->org);
}

enum lsn_err
store_user_create(struct store *s, const struct store_user *user)
{
	sqlite3_stmt *st = stmt(s, ST_USER_INSERT);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	char key[STORE_NAME_MAX * 2 + 1];
	store_fold(user->name, key, sizeof key);
	store_bind_blob(st, 1, user->id, sizeof user->id);
	store_bind_text_or_null(st, 2, user->rpps);
	sqlite3_bind_text(st, 3, user->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, user->profession, -1, SQLITE_TRANSIENT);
	store_bind_blob(st, 5, user->org.id, sizeof user->org.id);
	sqlite3_bind_int64(st, 6, user->roles);
	store_bind_blob(st, 7, user->ik, sizeof user->ik);
	sqlite3_bind_int64(st, 8, user->created_at);
	sqlite3_bind_text(st, 9, key, -1, SQLITE_TRANSIENT);
	return store_exec(s, st, "insert user", false);
}

static enum lsn_err
user_fetch(struct store *s, sqlite3_stmt *st, struct store_user *out)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_user(st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return LSN_OK;
	return rc == SQLITE_DONE ? LSN_ERR_NOT_FOUND : store_db_error(s, "read user");
}

enum lsn_err
store_user_get(struct store *s, const uint8_t id[LSN_ID_BYTES], struct store_user *out)
{
	sqlite3_stmt *st = stmt(s, ST_USER_GET);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, id, LSN_ID_BYTES);
	return user_fetch(s, st, out);
}

enum lsn_err
store_user_find_rpps(struct store *s, const char *rpps, struct store_user *out)
{
	sqlite3_stmt *st = stmt(s, ST_USER_BY_RPPS);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_text(st, 1, rpps, -1, SQLITE_TRANSIENT);
	return user_fetch(s, st, out);
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
	sqlite3_stmt *st = stmt(s, ST_USER_SEARCH);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	char folded[STORE_NAME_MAX * 2 + 1], name_like[STORE_NAME_MAX * 4 + 4];
	char rpps_like[STORE_NAME_MAX * 2 + 4];
	if (q->text && *q->text) {
		store_fold(q->text, folded, sizeof folded);
		like_pattern(folded, false, name_like, sizeof name_like);
		like_pattern(q->text, true, rpps_like, sizeof rpps_like);
		sqlite3_bind_text(st, 1, name_like, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, rpps_like, -1, SQLITE_TRANSIENT);
	}
	store_bind_text_or_null(st, 3, q->profession);
	if (q->org_id)
		store_bind_blob(st, 4, q->org_id, LSN_ID_BYTES);
	sqlite3_bind_int(st, 5, q->limit > 0 ? q->limit : 50);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_user u;
		read_user(st, &u);
		cb(&u, arg);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "search users");
}

/* ---- devices ------------------------------------------------------------ */

static void
read_device(sqlite3_stmt *st, struct store_device *d)
{
	store_col_blob(st, 0, d->id, sizeof d->id);
	store_col_blob(st, 1, d->user_id, sizeof d->user_id);
	store_col_text(st, 2, d->name, sizeof d->name);
	store_col_blob(st, 3, d->dk, sizeof d->dk);
	d->dk_ts = sqlite3_column_int64(st, 4);
	store_col_blob(st, 5, d->dk_sig, sizeof d->dk_sig);
	d->created_at = sqlite3_column_int64(st, 6);
	d->last_seen_at = sqlite3_column_int64(st, 7);
	d->revoked_at = sqlite3_column_int64(st, 8);
	store_col_blob(st, 9, d->ak_id, sizeof d->ak_id);
	store_col_blob(st, 10, d->ak, sizeof d->ak);
	d->ak_ts = sqlite3_column_int64(st, 11);
	store_col_blob(st, 12, d->ak_sig, sizeof d->ak_sig);
}

enum lsn_err
store_device_create(struct store *s, const struct store_device *dev)
{
	sqlite3_stmt *st = stmt(s, ST_DEVICE_INSERT);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, dev->id, sizeof dev->id);
	store_bind_blob(st, 2, dev->user_id, sizeof dev->user_id);
	sqlite3_bind_text(st, 3, dev->name, -1, SQLITE_TRANSIENT);
	store_bind_blob(st, 4, dev->dk, sizeof dev->dk);
	sqlite3_bind_int64(st, 5, dev->dk_ts);
	store_bind_blob(st, 6, dev->dk_sig, sizeof dev->dk_sig);
	sqlite3_bind_int64(st, 7, dev->created_at);
	enum lsn_err err = store_exec(s, st, "insert device", false);
	if (err != LSN_OK)
		return err;
	return store_device_add_ak(s, dev);
}

enum lsn_err
store_device_add_ak(struct store *s, const struct store_device *dev)
{
	sqlite3_stmt *st = stmt(s, ST_AK_INSERT);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, dev->id, sizeof dev->id);
	store_bind_blob(st, 2, dev->ak_id, sizeof dev->ak_id);
	store_bind_blob(st, 3, dev->ak, sizeof dev->ak);
	sqlite3_bind_int64(st, 4, dev->ak_ts);
	store_bind_blob(st, 5, dev->ak_sig, sizeof dev->ak_sig);
	sqlite3_bind_int64(st, 6, dev->created_at);
	return store_exec(s, st, "insert agreement key", false);
}

enum lsn_err
store_device_get(struct store *s, const uint8_t id[LSN_ID_BYTES], struct store_device *out)
{
	sqlite3_stmt *st = stmt(s, ST_DEVICE_GET);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, id, LSN_ID_BYTES);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_device(st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return LSN_OK;
	return rc == SQLITE_DONE ? LSN_ERR_NOT_FOUND : store_db_error(s, "read device");
}

enum lsn_err
store_device_list(struct store *s, const uint8_t user_id[LSN_ID_BYTES], store_device_cb cb,
		  void *arg)
{
	sqlite3_stmt *st = stmt(s, ST_DEVICE_LIST);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, user_id, LSN_ID_BYTES);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_device d;
		read_device(st, &d);
		cb(&d, arg);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "list devices");
}

enum lsn_err
store_data_version(struct store *s, int64_t *version)
{
	sqlite3_stmt *st = stmt(s, ST_DATA_VERSION);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? LSN_OK : store_db_error(s, "data_version");
}

enum lsn_err
store_devices_revoked_since(struct store *s, int64_t since, store_id_cb cb, void *arg)
{
	sqlite3_stmt *st = stmt(s, ST_DEVICE_REVOKED_SINCE);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, since);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (sqlite3_column_bytes(st, 0) == LSN_ID_BYTES)
			cb(sqlite3_column_blob(st, 0), arg);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "revoked devices");
}

enum lsn_err
store_device_revoke(struct store *s, const uint8_t id[LSN_ID_BYTES], int64_t at)
{
	sqlite3_stmt *st = stmt(s, ST_DEVICE_REVOKE);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, at);
	store_bind_blob(st, 2, id, LSN_ID_BYTES);
	enum lsn_err err = store_exec(s, st, "revoke device", true);
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
	sqlite3_stmt *st = stmt(s, ST_DEVICE_TOUCH);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, at);
	store_bind_blob(st, 2, id, LSN_ID_BYTES);
	return store_exec(s, st, "touch device", true);
}

/* ---- idempotency -------------------------------------------------------- */

enum lsn_err
store_idem_get(struct store *s, const char *scope, const char *key, char **op_out,
	       char **reply_out)
{
	sqlite3_stmt *st = stmt(s, ST_IDEM_GET);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_text(st, 1, scope, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	enum lsn_err err = LSN_OK;
	if (rc == SQLITE_ROW) {
		*op_out = strdup((const char *)sqlite3_column_text(st, 0));
		*reply_out = strdup((const char *)sqlite3_column_text(st, 1));
		if (*op_out == NULL || *reply_out == NULL) {
			free(*op_out);
			free(*reply_out);
			err = LSN_ERR_INTERNAL;
		}
	} else {
		err = rc == SQLITE_DONE ? LSN_ERR_NOT_FOUND : store_db_error(s, "read idempotency");
	}
	sqlite3_reset(st);
	return err;
}

enum lsn_err
store_idem_put(struct store *s, const char *scope, const char *key, const char *op,
	       const char *reply, int64_t at)
{
	sqlite3_stmt *st = stmt(s, ST_IDEM_PUT);
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_text(st, 1, scope, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, op, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, reply, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, at);
	return store_exec(s, st, "insert idempotency", false);
}
