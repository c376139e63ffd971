/* store_internal.h — what the SQLite store's files share: the handle, the
 * prepared-statement cache, small binding helpers and the row helper
 * (store_row.h) every statement goes through. Only store_*.c
 * include it; nothing outside the store speaks SQL. */
#ifndef LSN_STORE_INTERNAL_H
#define LSN_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_row.h"

/* Statement slots: store_sqlite.c 0..63, store_thread.c 64..127,
 * store_queue.c 128..191, store_case.c 192..255, store_report.c 256..319,
 * store_audit.c 320..351, unit tests of store_row.c 352..359. */
#define STORE_STMT_SLOTS 360
#define STORE_SLOT_TEST  352

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[STORE_STMT_SLOTS];
	bool in_batch;
	bool in_req;
};

/* The prepared statement of slot, prepared once with sql, reset and with
 * its bindings cleared; NULL (logged) when it cannot be prepared. */
sqlite3_stmt *store_stmt(struct store *s, int slot, const char *sql);
/* Map the last SQLite error: constraint → conflict, else storage (logged). */
enum lsn_err store_db_error(struct store *s, const char *what);
/* Step a statement that returns no rows. want_change: NOT_FOUND when it
 * changed nothing. */
enum lsn_err store_exec(struct store *s, sqlite3_stmt *st, const char *what, bool want_change);

static inline void
store_bind_blob(sqlite3_stmt *st, int col, const void *data, size_t len)
{
	sqlite3_bind_blob(st, col, data, (int)len, SQLITE_TRANSIENT);
}

static inline void
store_bind_text_or_null(sqlite3_stmt *st, int col, const char *text)
{
	if (text == NULL || *text == '\0')
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_text(st, col, text, -1, SQLITE_TRANSIENT);
}

static inline void
store_col_blob(sqlite3_stmt *st, int col, void *out, size_t len)
{
	const void *p = sqlite3_column_blob(st, col);
	if (p && (size_t)sqlite3_column_bytes(st, col) == len)
		memcpy(out, p, len);
	else
		memset(out, 0, len);
}

static inline void
store_col_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
	const unsigned char *p = sqlite3_column_text(st, col);
	snprintf(out, cap, "%s", p ? (const char *)p : "");
}

#endif
