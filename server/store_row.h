/* store_row.h — the one idiom the SQLite store's files use to run a
 * statement: parameters bound from a short typed list, columns read into a
 * struct through a descriptor table, and a step helper for "one row", "each
 * row" and "no row". Statements stay prepared once and cached
 * (store_stmt); the helpers only bind, step, read and reset.
 *
 * Contract: included only by store_*.c (next to store_internal.h); nothing
 * here changes what SQL runs. Every helper accepts a NULL statement (one
 * that could not be prepared, already logged) and answers LSN_ERR_STORAGE.
 *
 *   static const struct store_col org_cols[] = {
 *           COL_BLOB(0, struct store_org, id), COL_TEXT(1, struct store_org, name), ...};
 *   sqlite3_stmt *st = STORE_Q(s, SLOT, "SELECT ... WHERE id = ?", P_ID(id));
 *   return store_one(s, st, STORE_COLS(org_cols), out, "read org");
 *
 *   struct store_org org;
 *   enum lsn_err err;
 *   while (store_next(s, st, STORE_COLS(org_cols), &org, &err, "list orgs"))
 *           cb(&org, arg);
 *   return err;
 */
#ifndef LSN_STORE_ROW_H
#define LSN_STORE_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "err.h"
#include "ident.h"

struct store;

/* The prepared statement of slot, prepared once with sql, reset and with
 * its bindings cleared; NULL (logged) when it cannot be prepared. */
sqlite3_stmt *store_stmt(struct store *s, int slot, const char *sql);
/* Map the last SQLite error: constraint → conflict, else storage (logged). */
enum lsn_err store_db_error(struct store *s, const char *what);
/* Step a statement that returns no rows (LSN_ERR_STORAGE for a NULL one).
 * want_change: NOT_FOUND when it changed nothing. */
enum lsn_err store_exec(struct store *s, sqlite3_stmt *st, const char *what, bool want_change);

/* ---- parameters ---------------------------------------------------------- */

enum store_param_kind {
	SP_NULL,      /* NULL */
	SP_INT,       /* an integer */
	SP_INT_OPT,   /* an integer; NULL when 0 */
	SP_TEXT,      /* text; NULL when the pointer is NULL */
	SP_TEXT_OPT,  /* text; NULL when the pointer is NULL or the text empty */
	SP_BLOB,      /* a blob; NULL when the pointer is NULL */
};

struct store_param {
	enum store_param_kind kind;
	int64_t i;
	const void *p;
	size_t n;
};

#define P_NULL        ((struct store_param){.kind = SP_NULL})
#define P_INT(v)      ((struct store_param){.kind = SP_INT, .i = (int64_t)(v)})
#define P_INT_OPT(v)  ((struct store_param){.kind = SP_INT_OPT, .i = (int64_t)(v)})
#define P_TEXT(t)     ((struct store_param){.kind = SP_TEXT, .p = (t)})
#define P_TEXT_OPT(t) ((struct store_param){.kind = SP_TEXT_OPT, .p = (t)})
#define P_BLOB(b, len) ((struct store_param){.kind = SP_BLOB, .p = (b), .n = (len)})
#define P_ID(b)       P_BLOB((b), LSN_ID_BYTES)

/* Bind params[0..n) to ?1..?n of st (copies: SQLITE_TRANSIENT). */
void store_bind(sqlite3_stmt *st, const struct store_param *params, size_t n);
/* The cached statement of slot (store_stmt), with params bound; NULL when
 * it cannot be prepared. */
sqlite3_stmt *store_prepare(struct store *s, int slot, const char *sql,
			    const struct store_param *params, size_t n);
#define STORE_PARAMS(...) \
	((const struct store_param[]){__VA_ARGS__}), \
	(sizeof((const struct store_param[]){__VA_ARGS__}) / sizeof(struct store_param))
/* The statement of slot with its parameters: STORE_Q(s, slot, sql, P_ID(id), P_INT(at)). */
#define STORE_Q(s, slot, sql, ...) store_prepare((s), (slot), (sql), STORE_PARAMS(__VA_ARGS__))

/* ---- columns ------------------------------------------------------------- */

enum store_col_kind {
	SC_BLOB,      /* fixed-size byte array; zeroed when NULL or of another size */
	SC_TEXT,      /* char array; "" when NULL, cut to fit */
	SC_I64,       /* int64_t; 0 when NULL */
	SC_INT,       /* int */
	SC_UINT,      /* unsigned */
	SC_BOOL,      /* bool: the integer is not 0 */
	SC_IS_NULL,   /* bool: the column is NULL */
	SC_NOT_NULL,  /* bool: the column is not NULL */
	SC_IS_BLOB,   /* bool: the column is a blob */
	SC_BLOB_REF,  /* const void * and size_t (at off2): valid until the next step */
	SC_TEXT_REF,  /* const char *: valid until the next step */
	SC_BLOB_DUP,  /* uint8_t * (malloc'd, caller frees) and size_t (at off2) */
	SC_TEXT_DUP,  /* char * (malloc'd, caller frees) */
};

struct store_col {
	int col;                   /* column number in the result row */
	enum store_col_kind kind;
	size_t off, size;          /* the field in the struct */
	size_t off2;               /* SC_BLOB_REF, SC_BLOB_DUP: the size_t length field */
};

#define STORE_FIELD_SIZE(T, f) sizeof(((T *)0)->f)
/* 0, or a compile error when field f of T is not n bytes wide: a table
 * cannot write an int64_t into an int. */
#define STORE_WIDTH_(T, f, n) (0 * sizeof(char[STORE_FIELD_SIZE(T, f) == (n) ? 1 : -1]))
#define COL_(c, k, T, f)  {(c), (k), offsetof(T, f), STORE_FIELD_SIZE(T, f), 0}
#define COLW_(c, k, T, f, n) {(c), (k), offsetof(T, f) + STORE_WIDTH_(T, f, n), STORE_FIELD_SIZE(T, f), 0}
#define COL_BLOB(c, T, f)     COL_(c, SC_BLOB, T, f)
#define COL_TEXT(c, T, f)     COL_(c, SC_TEXT, T, f)
#define COL_I64(c, T, f)      COLW_(c, SC_I64, T, f, sizeof(int64_t))
#define COL_INT(c, T, f)      COLW_(c, SC_INT, T, f, sizeof(int))
#define COL_UINT(c, T, f)     COLW_(c, SC_UINT, T, f, sizeof(unsigned))
#define COL_BOOL(c, T, f)     COLW_(c, SC_BOOL, T, f, sizeof(bool))
#define COL_IS_NULL(c, T, f)  COLW_(c, SC_IS_NULL, T, f, sizeof(bool))
#define COL_NOT_NULL(c, T, f) COLW_(c, SC_NOT_NULL, T, f, sizeof(bool))
#define COL_IS_BLOB(c, T, f)  COLW_(c, SC_IS_BLOB, T, f, sizeof(bool))
#define COL_TEXT_REF(c, T, f) COLW_(c, SC_TEXT_REF, T, f, sizeof(const char *))
#define COL_TEXT_DUP(c, T, f) COLW_(c, SC_TEXT_DUP, T, f, sizeof(char *))
#define COL_BLOB_REF(c, T, f, len) \
	{(c), SC_BLOB_REF, offsetof(T, f) + STORE_WIDTH_(T, f, sizeof(const void *)), 0, \
	 offsetof(T, len) + STORE_WIDTH_(T, len, sizeof(size_t))}
#define COL_BLOB_DUP(c, T, f, len) \
	{(c), SC_BLOB_DUP, offsetof(T, f) + STORE_WIDTH_(T, f, sizeof(uint8_t *)), 0, \
	 offsetof(T, len) + STORE_WIDTH_(T, len, sizeof(size_t))}
#define STORE_COLS(table) (table), (sizeof(table) / sizeof((table)[0]))

/* Read the current row of st into out: each column number plus base. false
 * when a copy (SC_*_DUP) could not be allocated (the copies already made
 * are freed and set to NULL). */
bool store_read(sqlite3_stmt *st, int base, const struct store_col *cols, size_t n, void *out);

/* ---- stepping ------------------------------------------------------------ */

/* Exactly one row expected: LSN_OK with out filled, LSN_ERR_NOT_FOUND when
 * there is none, LSN_ERR_INTERNAL when a copy failed, else the mapped
 * database error (logged with what). st is reset. */
enum lsn_err store_one(struct store *s, sqlite3_stmt *st, const struct store_col *cols, size_t n,
		       void *out, const char *what);
/* The next row into out: true while there is one. At the end (or on an
 * error) st is reset, *err is LSN_OK or the error, and false is returned. */
bool store_next(struct store *s, sqlite3_stmt *st, const struct store_col *cols, size_t n,
		void *out, enum lsn_err *err, const char *what);
/* An aggregate that always returns one row (count(*), a PRAGMA): its first
 * column in *out; no row at all is a database error. */
enum lsn_err store_scalar(struct store *s, sqlite3_stmt *st, int64_t *out, const char *what);
/* A statement that returns no rows: store_exec (above). */

#endif
