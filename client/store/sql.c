/* sql.c — the one SQLite idiom of client/store/ (sql.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "ident.h"
#include "sql.h"
#include "tr.h"

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

bool
sql_key_rejected(struct profile_db *db)
{
	return db && db->h && (sqlite3_errcode(db->h) & 0xff) == SQLITE_NOTADB;
}

const char *
sql_errmsg(struct profile_db *db)
{
	return db && db->h ? sqlite3_errmsg(db->h) : "not open";
}

/* The key as SQLCipher's raw-key literal: x'<64 hex digits>', so that its
 * own PBKDF2 is skipped (the key is already Argon2id-derived). */
static bool
apply_key(sqlite3 *h, const uint8_t key[SQL_KEYBYTES])
{
	char hex[2 * SQL_KEYBYTES + 1];
	char pragma[sizeof hex + 32];
	sodium_bin2hex(hex, sizeof hex, key, SQL_KEYBYTES);
	snprintf(pragma, sizeof pragma, "PRAGMA key = \"x'%s'\"", hex);
	bool ok = sqlite3_exec(h, pragma, NULL, NULL, NULL) == SQLITE_OK;
	sodium_memzero(hex, sizeof hex);
	sodium_memzero(pragma, sizeof pragma);
	return ok;
}

/* SQLCipher answers PRAGMA cipher_version; plain SQLite ignores it. A
 * liaison whose sqlite3_* calls reach plain SQLite would write the profile
 * in the clear: refused. */
static bool
has_cipher(sqlite3 *h)
{
	sqlite3_stmt *stmt = NULL;
	bool ok = sqlite3_prepare_v2(h, "PRAGMA cipher_version", -1, &stmt, NULL) == SQLITE_OK &&
		  sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != NULL;
	sqlite3_finalize(stmt);
	return ok;
}

/* The first read decrypts page 1: a wrong key (or a file in the clear, or
 * not a database) fails here with SQLITE_NOTADB. */
static int
first_read(sqlite3 *h)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(h, "SELECT count(*) FROM sqlite_master", -1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(stmt);
		rc = rc == SQLITE_ROW ? SQLITE_OK : rc;
	}
	sqlite3_finalize(stmt);
	return rc;
}

static struct profile_db *
open_db(const char *path, bool create, const uint8_t *key, bool *wrong_key,
	struct lsn_status *st)
{
	if (wrong_key)
		*wrong_key = false;
	struct profile_db *db = calloc(1, sizeof *db);
	if (db == NULL) {
		lsn_fail(st, LSN_ERR_INTERNAL, "cannot open the profile database: out of memory");
		return NULL;
	}
	/* SQLITE_OPEN_NOFOLLOW is SQLite 3.31: the link is refused here */
	struct stat sb;
	if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
		lsn_fail(st, LSN_ERR_INTERNAL, _("cannot open the profile database: %s is a symbolic "
			 "link"), path);
		free(db);
		return NULL;
	}
	int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
	if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
		lsn_fail(st, LSN_ERR_INTERNAL, "cannot open the profile database: %s",
			 db->h ? sqlite3_errmsg(db->h) : "out of memory");
		sql_close(db);
		return NULL;
	}
	if (key && (!has_cipher(db->h) || !apply_key(db->h, key))) {
		lsn_fail(st, LSN_ERR_INTERNAL, _("this liaison is not linked with SQLCipher (%s): it "
			 "cannot open an encrypted profile; rebuild it against libsqlcipher"),
			 sqlite3_libversion());
		sql_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db->h, SQL_BUSY_MS);
	int rc = first_read(db->h);
	if (rc != SQLITE_OK) {
		if (wrong_key)
			*wrong_key = (rc & 0xff) == SQLITE_NOTADB;
		lsn_fail(st, LSN_ERR_INTERNAL, "cannot open the profile database: %s",
			 sqlite3_errmsg(db->h));
		sql_close(db);
		return NULL;
	}
	/* deleted or overwritten secrets must not linger in free pages */
	sqlite3_exec(db->h, "PRAGMA secure_delete = ON", NULL, NULL, NULL);
	/* several liaison processes on one profile (watch beside send): readers
	 * never wait for the writer; a WAL file is always complete transactions */
	if (!create)
		sqlite3_exec(db->h, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
	return db;
}

struct profile_db *
sql_open(const char *path, bool create, struct lsn_status *st)
{
	return open_db(path, create, NULL, NULL, st);
}

struct profile_db *
sql_open_key(const char *path, bool create, const uint8_t key[SQL_KEYBYTES], bool *wrong_key,
	     struct lsn_status *st)
{
	return open_db(path, create, key, wrong_key, st);
}

enum lsn_err
sql_rekey(struct profile_db *db, const uint8_t key[SQL_KEYBYTES], struct lsn_status *st)
{
	char hex[2 * SQL_KEYBYTES + 1];
	char pragma[sizeof hex + 32];
	sodium_bin2hex(hex, sizeof hex, key, SQL_KEYBYTES);
	snprintf(pragma, sizeof pragma, "PRAGMA rekey = \"x'%s'\"", hex);
	int rc = db && db->h ? sqlite3_exec(db->h, pragma, NULL, NULL, NULL) : SQLITE_MISUSE;
	sodium_memzero(hex, sizeof hex);
	sodium_memzero(pragma, sizeof pragma);
	return rc == SQLITE_OK ? LSN_OK : sql_fail(db, st, "cannot change the key");
}

enum lsn_err
sql_export(struct profile_db *db, const char *path, const uint8_t key[SQL_KEYBYTES],
	   struct lsn_status *st)
{
	/* ATTACH opens with the connection's flags (no SQLITE_OPEN_CREATE): the
	 * new file is made here, empty (an empty database), readable by us only */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return lsn_fail(st, LSN_ERR_INTERNAL, _("cannot create %s: %s"), path, strerror(errno));
	close(fd);
	char hex[2 * SQL_KEYBYTES + 1];
	sodium_bin2hex(hex, sizeof hex, key, SQL_KEYBYTES);
	char *attach = sqlite3_mprintf("ATTACH DATABASE %Q AS export KEY \"x'%s'\"", path, hex);
	sodium_memzero(hex, sizeof hex);
	if (attach == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	int rc = sqlite3_exec(db->h, attach, NULL, NULL, NULL);
	sodium_memzero(attach, strlen(attach));
	sqlite3_free(attach);
	enum lsn_err err = LSN_OK;
	if (rc != SQLITE_OK)
		return sql_fail(db, st, "cannot create the encrypted copy");
	if (sqlite3_exec(db->h, "SELECT sqlcipher_export('export')", NULL, NULL, NULL) != SQLITE_OK)
		err = sql_fail(db, st, "cannot copy into the encrypted copy");
	/* sqlcipher_export (3.4) leaves user_version, the profile's format, at 0 */
	sqlite3_stmt *stmt = NULL;
	int version = -1;
	if (err == LSN_OK &&
	    sqlite3_prepare_v2(db->h, "PRAGMA main.user_version", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	char pragma[64];
	snprintf(pragma, sizeof pragma, "PRAGMA export.user_version = %d", version);
	if (err == LSN_OK &&
	    (version < 0 || sqlite3_exec(db->h, pragma, NULL, NULL, NULL) != SQLITE_OK))
		err = sql_fail(db, st, "cannot copy the format into the encrypted copy");
	sqlite3_exec(db->h, "DETACH DATABASE export", NULL, NULL, NULL);
	return err;
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
sql_upsert(struct profile_db *db, struct lsn_status *st, const char *insert, const char *update,
	   const char *fmt, ...)
{
	enum lsn_err err = sql_begin(db, st);
	if (err != LSN_OK)
		return err;
	struct sql_q q;
	va_list ap, again;
	va_start(ap, fmt);
	va_copy(again, ap);
	for (int i = 0; i < 2 && err == LSN_OK; i++) {
		if (!sql_query_va(db, &q, st, i == 0 ? insert : update, fmt, i == 0 ? ap : again)) {
			err = st->err;
			break;
		}
		sql_next(&q);
		if (q.rc != SQLITE_DONE && q.rc != SQLITE_ROW) {
			err = sql_fail(db, st, "cannot write");
			sqlite3_finalize(q.stmt);
		} else {
			err = sql_end(&q, st);
		}
	}
	va_end(again);
	va_end(ap);
	if (err == LSN_OK)
		return sql_commit(db, st);
	sql_rollback(db);
	return err;
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
	return sqlite3_changes(db->h);
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
