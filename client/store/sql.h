/* sql.h — the one way client/store/ talks to SQLite (private to store/):
 * open a profile database, run a statement, walk its rows, nest
 * transactions. Nothing outside client/store/ includes it: profile.h only
 * names the opaque struct profile_db.
 *
 *     struct sql_q q;
 *     if (!sql_query(db, &q, st, "SELECT a, b FROM t WHERE id = ?", "i", id))
 *             return st->err;
 *     while (sql_next(&q))
 *             use(sql_int(&q, 0), sql_text(&q, 1));
 *     return sql_end(&q, st);
 *
 * Arguments are bound from fmt, one letter each:
 *   'i' 16-byte id (const uint8_t *)      'k' 32-byte key or hash (const uint8_t *)
 *   'b' blob (const uint8_t *, size_t; NULL binds NULL)
 *   't' text (const char *, NULL binds NULL)
 *   'n' int64_t                            'z' NULL */
#ifndef LIAISON_SQL_H
#define LIAISON_SQL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "err.h"

/* How long a statement waits for another liaison process holding the
 * profile's write lock (a transaction, never a network round trip longer
 * than one request) before it gives up with a message. */
#define SQL_BUSY_MS 30000

struct profile_db {
	sqlite3 *h;
	int depth;            /* open transactions: 0 none, 1 BEGIN, >1 savepoints */
};

struct sql_q {
	sqlite3_stmt *stmt;
	struct profile_db *db;
	int rc;               /* last sqlite3_step result */
};

/* The raw key of an encrypted database (SQLCipher): 32 bytes. */
#define SQL_KEYBYTES 32

/* Open (create: or create) the database at path in the clear: WAL journal,
 * busy timeout, secure_delete. NULL and st set on failure. Only for a
 * profile written before the profiles were encrypted (its conversion). */
struct profile_db *sql_open(const char *path, bool create, struct lsn_status *st);
/* The same for a database encrypted as a whole with key (SQLCipher, raw key:
 * its PBKDF2 is skipped). A key that does not open it, or a file that is not
 * an encrypted database, fails with *wrong_key set (wrong_key may be NULL). */
struct profile_db *sql_open_key(const char *path, bool create, const uint8_t key[SQL_KEYBYTES],
				bool *wrong_key, struct lsn_status *st);
/* Re-encrypt every page under key (PRAGMA rekey): inside an open
 * transaction, what it changed is committed with the new key at once. */
enum lsn_err sql_rekey(struct profile_db *db, const uint8_t key[SQL_KEYBYTES],
		       struct lsn_status *st);
/* Copy the whole database into a new file at path (which must not exist)
 * encrypted with key (sqlcipher_export: schema, rows; and user_version). */
enum lsn_err sql_export(struct profile_db *db, const char *path, const uint8_t key[SQL_KEYBYTES],
			struct lsn_status *st);
void sql_close(struct profile_db *db);

/* Prepare sql and bind fmt's arguments. false (st set) on failure; q is
 * then empty and sql_end is still allowed. */
bool sql_query(struct profile_db *db, struct sql_q *q, struct lsn_status *st, const char *sql,
	       const char *fmt, ...);
bool sql_query_va(struct profile_db *db, struct sql_q *q, struct lsn_status *st,
		  const char *sql, const char *fmt, va_list ap);
/* Step: true while there is a row. */
bool sql_next(struct sql_q *q);
/* Finalize; a failed step becomes a user-facing error. */
enum lsn_err sql_end(struct sql_q *q, struct lsn_status *st);
/* Prepare, bind, step to completion. */
enum lsn_err sql_exec(struct profile_db *db, struct lsn_status *st, const char *sql,
		      const char *fmt, ...);
/* INSERT ... ON CONFLICT DO UPDATE without it (SQLite 3.24; SQLCipher's
 * is 3.15): insert ("INSERT OR IGNORE ..."), then update (its WHERE naming
 * the row), both with the same numbered arguments (?1, ?2, ...: fmt binds
 * them once for each), in one transaction (a savepoint inside another).
 * The update must leave a row just inserted as the insert wrote it. */
enum lsn_err sql_upsert(struct profile_db *db, struct lsn_status *st, const char *insert,
			const char *update, const char *fmt, ...);
/* Run a script of statements without arguments (schema, migrations). */
enum lsn_err sql_script(struct profile_db *db, struct lsn_status *st, const char *sql);
/* Rows changed by the last statement. */
int64_t sql_changes(struct profile_db *db);

/* Columns of the current row. */
bool sql_is_null(struct sql_q *q, int col);
bool sql_is_int(struct sql_q *q, int col);
bool sql_is_text(struct sql_q *q, int col);
int64_t sql_int(struct sql_q *q, int col);
const char *sql_text(struct sql_q *q, int col);       /* NULL when NULL */
const uint8_t *sql_blob(struct sql_q *q, int col, size_t *len);
/* Copy a blob of exactly len bytes into out; false (out untouched) if the
 * column is not a blob of that length. */
bool sql_copy(struct sql_q *q, int col, uint8_t *out, size_t len);

/* Transactions: the outermost is BEGIN IMMEDIATE (the write lock is taken
 * at once, so what is read inside is what gets written: no other process
 * can change it in between); inner ones are savepoints. commit of the
 * outermost fails with a message; a failed commit is rolled back. */
enum lsn_err sql_begin(struct profile_db *db, struct lsn_status *st);
enum lsn_err sql_commit(struct profile_db *db, struct lsn_status *st);
void sql_rollback(struct profile_db *db);

/* The last failure on db was a page that does not decrypt and authenticate
 * (SQLITE_NOTADB): another key, e.g. after another process's rekey. */
bool sql_key_rejected(struct profile_db *db);
/* SQLite's message for the last failure on db. */
const char *sql_errmsg(struct profile_db *db);
/* A database failure as a user-facing error: what + SQLite's message. */
enum lsn_err sql_fail(struct profile_db *db, struct lsn_status *st, const char *what);

#endif
