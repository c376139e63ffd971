/* store_row.c — bind parameters, read columns into structs, step (store_row.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_internal.h"
#include "store_row.h"

static void
store_bind_blob(sqlite3_stmt *st, int col, const void *data, size_t len)
{
	sqlite3_bind_blob(st, col, data, (int)len, SQLITE_TRANSIENT);
}

static void
store_bind_text_or_null(sqlite3_stmt *st, int col, const char *text)
{
	if (text == NULL || *text == '\0')
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_text(st, col, text, -1, SQLITE_TRANSIENT);
}

static void
store_col_blob(sqlite3_stmt *st, int col, void *out, size_t len)
{
	const void *p = sqlite3_column_blob(st, col);
	if (p && (size_t)sqlite3_column_bytes(st, col) == len)
		memcpy(out, p, len);
	else
		memset(out, 0, len);
}

static void
store_col_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
	const unsigned char *p = sqlite3_column_text(st, col);
	snprintf(out, cap, "%s", p ? (const char *)p : "");
}

/* ---- the cached statement, errors, statements without rows -------------- */

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
	if (st == NULL)
		return LSN_ERR_STORAGE;
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_error(s, what);
	if (want_change && sqlite3_changes(s->db) == 0)
		return LSN_ERR_NOT_FOUND;
	return LSN_OK;
}

/* ---- parameters ---------------------------------------------------------- */

void
store_bind(sqlite3_stmt *st, const struct store_param *params, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		const struct store_param *p = &params[k];
		int i = (int)k + 1;
		switch (p->kind) {
		case SP_NULL:
			sqlite3_bind_null(st, i);
			break;
		case SP_INT:
			sqlite3_bind_int64(st, i, p->i);
			break;
		case SP_INT_OPT:
			if (p->i)
				sqlite3_bind_int64(st, i, p->i);
			else
				sqlite3_bind_null(st, i);
			break;
		case SP_TEXT:
			if (p->p)
				sqlite3_bind_text(st, i, p->p, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, i);
			break;
		case SP_TEXT_OPT:
			store_bind_text_or_null(st, i, p->p);
			break;
		case SP_BLOB:
			if (p->p)
				store_bind_blob(st, i, p->p, p->n);
			else
				sqlite3_bind_null(st, i);
			break;
		}
	}
}

sqlite3_stmt *
store_prepare(struct store *s, int slot, const char *sql, const struct store_param *params,
	      size_t n)
{
	sqlite3_stmt *st = store_stmt(s, slot, sql);
	if (st)
		store_bind(st, params, n);
	return st;
}

/* ---- columns and rows ----------------------------------------------------- */

static void
free_copies(const struct store_col *cols, size_t upto, unsigned char *base)
{
	for (size_t k = 0; k < upto; k++)
		if (cols[k].kind == SC_BLOB_DUP || cols[k].kind == SC_TEXT_DUP) {
			void **slot = (void **)(base + cols[k].off);
			free(*slot);
			*slot = NULL;
		}
}

bool
store_read(sqlite3_stmt *st, int base, const struct store_col *cols, size_t n, void *out)
{
	unsigned char *o = out;
	for (size_t k = 0; k < n; k++) {
		const struct store_col *c = &cols[k];
		int i = base + c->col;
		void *f = o + c->off;
		switch (c->kind) {
		case SC_BLOB:
			store_col_blob(st, i, f, c->size);
			break;
		case SC_TEXT:
			store_col_text(st, i, f, c->size);
			break;
		case SC_I64:
			*(int64_t *)f = sqlite3_column_int64(st, i);
			break;
		case SC_INT:
			*(int *)f = (int)sqlite3_column_int64(st, i);
			break;
		case SC_UINT:
			*(unsigned *)f = (unsigned)sqlite3_column_int64(st, i);
			break;
		case SC_BOOL:
			*(bool *)f = sqlite3_column_int64(st, i) != 0;
			break;
		case SC_IS_NULL:
			*(bool *)f = sqlite3_column_type(st, i) == SQLITE_NULL;
			break;
		case SC_NOT_NULL:
			*(bool *)f = sqlite3_column_type(st, i) != SQLITE_NULL;
			break;
		case SC_IS_BLOB:
			*(bool *)f = sqlite3_column_type(st, i) == SQLITE_BLOB;
			break;
		case SC_BLOB_REF:
			*(const void **)f = sqlite3_column_blob(st, i);
			*(size_t *)(o + c->off2) = (size_t)sqlite3_column_bytes(st, i);
			break;
		case SC_TEXT_REF:
			*(const char **)f = (const char *)sqlite3_column_text(st, i);
			break;
		case SC_BLOB_DUP: {
			const void *p = sqlite3_column_blob(st, i);
			size_t len = (size_t)sqlite3_column_bytes(st, i);
			uint8_t *copy = malloc(len ? len : 1);
			if (copy == NULL) {
				free_copies(cols, k, o);
				return false;
			}
			if (len)
				memcpy(copy, p, len);
			*(uint8_t **)f = copy;
			*(size_t *)(o + c->off2) = len;
			break;
		}
		case SC_TEXT_DUP: {
			const unsigned char *p = sqlite3_column_text(st, i);
			char *copy = strdup(p ? (const char *)p : "");
			if (copy == NULL) {
				free_copies(cols, k, o);
				return false;
			}
			*(char **)f = copy;
			break;
		}
		}
	}
	return true;
}

enum lsn_err
store_one(struct store *s, sqlite3_stmt *st, const struct store_col *cols, size_t n, void *out,
	  const char *what)
{
	if (st == NULL)
		return LSN_ERR_STORAGE;
	int rc = sqlite3_step(st);
	enum lsn_err err = LSN_OK;
	if (rc == SQLITE_ROW) {
		if (!store_read(st, 0, cols, n, out))
			err = LSN_ERR_INTERNAL;
	} else {
		err = rc == SQLITE_DONE ? LSN_ERR_NOT_FOUND : store_db_error(s, what);
	}
	sqlite3_reset(st);
	return err;
}

bool
store_next(struct store *s, sqlite3_stmt *st, const struct store_col *cols, size_t n, void *out,
	   enum lsn_err *err, const char *what)
{
	if (st == NULL) {
		*err = LSN_ERR_STORAGE;
		return false;
	}
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (store_read(st, 0, cols, n, out))
			return true;
		*err = LSN_ERR_INTERNAL;
	} else {
		*err = rc == SQLITE_DONE ? LSN_OK : store_db_error(s, what);
	}
	sqlite3_reset(st);
	return false;
}

struct scalar_row {
	int64_t v;
};

static const struct store_col scalar_cols[] = {COL_I64(0, struct scalar_row, v)};

enum lsn_err
store_scalar(struct store *s, sqlite3_stmt *st, int64_t *out, const char *what)
{
	struct scalar_row r;
	enum lsn_err err = store_one(s, st, STORE_COLS(scalar_cols), &r, what);
	if (err == LSN_OK)
		*out = r.v;
	return err == LSN_ERR_NOT_FOUND ? store_db_error(s, what) : err;
}
