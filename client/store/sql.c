/* sql.c — the one SQLite idiom of client/store/ (sql.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident.h"
#include "sql.h"

enum lsn_err
sql_fail(struct profile_db *db, struct lsn_status *st, const char *what)
{
	if (db && db->h && (sqlite3_errcode(db->h) & 0xff) == SQLITE_BUSY)
		return lsn_fail(st, LSN_ERR_INTERNAL, "%s in the profile database: another liaison "
				"process kept it busy for more than %d s; retry", what,
				SQL_BUSY_MS / 1000);
	return lsn_fail(st, LSN_ERR_INTERNAL, "%s in the profile database: %s; check free disk "
			"space and retry", what, db && db->h ? sqlite3_errmsg(db->h) : "not open");
}

const char *
sql_errmsg(struct profile_db *db)
{
	return db && db->h ? sqlite3_errmsg(db->h) : "not open";
}

struct profile_db *
sql_open(const char *path, bool create, struct lsn_status *st)
{
	struct profile_db *db = calloc(1, sizeof *db);
	if (db == NULL) {
		lsn_fail(st, LSN_ERR_INTERNAL, "cannot open the profile database: out of memory");
		return NULL;
	}
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | (create ? SQLITE_OPEN_CREATE : 0);
	if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
		lsn_fail(st, LSN_ERR_INTERNAL, "cannot open the profile database: %s",
			 db->h ? sqlite3_errmsg(db->h) : "out of memory");
		sql_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db->h, SQL_BUSY_MS);
	/* deleted or overwritten secrets must not linger in free pages */
	sqlite3_exec(db->h, "PRAGMA secure_delete = ON", NULL, NULL, NULL);
	/* several liaison processes on one profile (watch beside send): readers
	 * never wait for the writer; a WAL file is always complete transactions */
	if (!create)
		sqlite3_exec(db->h, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
	return db;
}

void
sql_close(struct profile_db *db)
{
	if (db == NULL)
		return;
	sqlite3_close(db->h);
	free(db);
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

bool
sql_query_va(struct profile_db *db, struct sql_q *q, struct lsn_status *st, const char *sql,
	     const char *fmt, va_list ap)
{
	q->stmt = NULL;
	q->db = db;
	q->rc = SQLITE_OK;
	if (db == NULL || db->h == NULL) {
		sql_fail(db, st, "cannot read or write");
		return false;
	}
	if (sqlite3_prepare_v2(db->h, sql, -1, &q->stmt, NULL) != SQLITE_OK ||
	    !bind_args(q->stmt, fmt, ap)) {
		sql_fail(db, st, "cannot read or write");
		sqlite3_finalize(q->stmt);
		q->stmt = NULL;
		return false;
	}
	return true;
}

bool
sql_query(struct profile_db *db, struct sql_q *q, struct lsn_status *st, const char *sql,
	  const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool ok = sql_query_va(db, q, st, sql, fmt, ap);
	va_end(ap);
	return ok;
}

bool
sql_next(struct sql_q *q)
{
	if (q->stmt == NULL)
		return false;
	q->rc = sqlite3_step(q->stmt);
	return q->rc == SQLITE_ROW;
}

enum lsn_err
sql_end(struct sql_q *q, struct lsn_status *st)
{
	enum lsn_err err = LSN_OK;
	if (q->stmt && q->rc != SQLITE_OK && q->rc != SQLITE_ROW && q->rc != SQLITE_DONE)
		err = sql_fail(q->db, st, "cannot read or write");
	sqlite3_finalize(q->stmt);
	q->stmt = NULL;
	return err;
}

enum lsn_err
sql_exec(struct profile_db *db, struct lsn_status *st, const char *sql, const char *fmt, ...)
{
	struct sql_q q;
	va_list ap;
	va_start(ap, fmt);
	bool ok = sql_query_va(db, &q, st, sql, fmt, ap);
	va_end(ap);
	if (!ok)
		return st->err;
	sql_next(&q);
	if (q.rc != SQLITE_DONE && q.rc != SQLITE_ROW) {
		enum lsn_err err = sql_fail(db, st, "cannot write");
		sqlite3_finalize(q.stmt);
		return err;
	}
	return sql_end(&q, st);
}

enum lsn_err
sql_script(struct profile_db *db, struct lsn_status *st, const char *sql)
{
	if (db == NULL || sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sql_fail(db, st, "cannot write");
	return LSN_OK;
}

int64_t
sql_changes(struct profile_db *db)
{
	return sqlite3_changes64(db->h);
}

/* ---- columns ------------------------------------------------------------- */

bool
sql_is_null(struct sql_q *q, int col)
{
	return sqlite3_column_type(q->stmt, col) == SQLITE_NULL;
}

bool
sql_is_int(struct sql_q *q, int col)
{
	return sqlite3_column_type(q->stmt, col) == SQLITE_INTEGER;
}

bool
sql_is_text(struct sql_q *q, int col)
{
	return sqlite3_column_type(q->stmt, col) == SQLITE_TEXT;
}

int64_t
sql_int(struct sql_q *q, int col)
{
	return sqlite3_column_int64(q->stmt, col);
}

const char *
sql_text(struct sql_q *q, int col)
{
	return (const char *)sqlite3_column_text(q->stmt, col);
}

const uint8_t *
sql_blob(struct sql_q *q, int col, size_t *len)
{
	const uint8_t *data = sqlite3_column_blob(q->stmt, col);
	*len = (size_t)sqlite3_column_bytes(q->stmt, col);
	return data;
}

bool
sql_copy(struct sql_q *q, int col, uint8_t *out, size_t len)
{
	size_t have = 0;
	const uint8_t *data = sql_blob(q, col, &have);
	if (data == NULL || have != len)
		return false;
	memcpy(out, data, len);
	return true;
}

/* ---- transactions ----------------------------------------------------------- */

enum lsn_err
sql_begin(struct profile_db *db, struct lsn_status *st)
{
	char sql[32];
	if (db == NULL)
		return sql_fail(db, st, "cannot start a transaction");
	if (db->depth > 0 && sqlite3_get_autocommit(db->h))
		db->depth = 0; /* SQLite rolled the transaction back itself (an I/O error) */
	if (db->depth == 0)
		snprintf(sql, sizeof sql, "BEGIN IMMEDIATE");
	else
		snprintf(sql, sizeof sql, "SAVEPOINT s%d", db->depth);
	if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sql_fail(db, st, "cannot start a transaction");
	db->depth++;
	return LSN_OK;
}

enum lsn_err
sql_commit(struct profile_db *db, struct lsn_status *st)
{
	char sql[32];
	if (db == NULL || db->depth == 0)
		return lsn_fail(st, LSN_ERR_INTERNAL, "no transaction to save (a bug)");
	if (db->depth == 1)
		snprintf(sql, sizeof sql, "COMMIT");
	else
		snprintf(sql, sizeof sql, "RELEASE s%d", db->depth - 1);
	if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) == SQLITE_OK) {
		db->depth--;
		return LSN_OK;
	}
	enum lsn_err err = sql_fail(db, st, "cannot save");
	sql_rollback(db);
	return err;
}

void
sql_rollback(struct profile_db *db)
{
	char sql[64];
	if (db == NULL || db->depth == 0)
		return;
	if (sqlite3_get_autocommit(db->h)) {
		db->depth = 0; /* already rolled back by SQLite */
		return;
	}
	if (db->depth == 1)
		snprintf(sql, sizeof sql, "ROLLBACK");
	else
		snprintf(sql, sizeof sql, "ROLLBACK TO s%d; RELEASE s%d", db->depth - 1,
			 db->depth - 1);
	sqlite3_exec(db->h, sql, NULL, NULL, NULL);
	db->depth--;
}
