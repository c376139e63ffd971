/* test_store_row.c — the store's row helper (server/store_row.h) on a real
 * SQLite store: parameters bind as their kind says (NULL for an absent blob,
 * an empty optional text or a zero optional integer), columns land in the
 * struct fields their table names (cut, zeroed, flagged, referenced or
 * copied), one row / each row / no row / an aggregate, constraint errors map
 * to conflict, a statement that cannot be prepared answers storage, and a
 * statement stays prepared across calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_internal.h"
#include "store_row.h"

struct ctx {
	char dir[64], path[128];
	struct store *s;
};

static int
row_setup(void **state)
{
	struct ctx *c = calloc(1, sizeof *c);
	snprintf(c->dir, sizeof c->dir, "/tmp/lsn-row-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	snprintf(c->path, sizeof c->path, "%s/row.db", c->dir);
	struct store_options opt = {.sync = STORE_SYNC_NORMAL, .create = true};
	struct lsn_status st = {0};
	assert_int_equal(store_open(&c->s, c->path, &opt, &st), LSN_OK);
	assert_int_equal(sqlite3_exec(c->s->db,
		"CREATE TABLE t(k INTEGER PRIMARY KEY, id BLOB, name TEXT, n INTEGER, opt_n INTEGER, "
		"opt_blob BLOB, opt_text TEXT, data BLOB, UNIQUE(name))", NULL, NULL, NULL), SQLITE_OK);
	*state = c;
	return 0;
}

static int
row_teardown(void **state)
{
	struct ctx *c = *state;
	store_close(c->s);
	char p[160];
	const char *suffixes[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", c->path, suffixes[i]);
		unlink(p);
	}
	rmdir(c->dir);
	free(c);
	return 0;
}

enum { SL_INSERT = STORE_SLOT_TEST, SL_GET, SL_LIST, SL_COUNT, SL_BAD };

struct row {
	int64_t k;
	uint8_t id[LSN_ID_BYTES];
	char name[6];                  /* "" when NULL, cut to 5 characters */
	int64_t n;
	bool opt_n_null, opt_blob_is_blob, opt_text_set;
	const void *data;
	size_t data_len;
	char *name_copy;
	uint8_t *data_copy;
	size_t data_copy_len;
	unsigned n_u;
	int n_i;
	bool n_true;
};

static const struct store_col row_cols[] = {
	COL_I64(0, struct row, k),
	COL_BLOB(1, struct row, id),
	COL_TEXT(2, struct row, name),
	COL_I64(3, struct row, n),
	COL_IS_NULL(4, struct row, opt_n_null),
	COL_IS_BLOB(5, struct row, opt_blob_is_blob),
	COL_NOT_NULL(6, struct row, opt_text_set),
	COL_BLOB_REF(7, struct row, data, data_len),
	COL_TEXT_DUP(2, struct row, name_copy),
	COL_BLOB_DUP(7, struct row, data_copy, data_copy_len),
	COL_UINT(3, struct row, n_u),
	COL_INT(3, struct row, n_i),
	COL_BOOL(3, struct row, n_true),
};

#define SELECT_ROW "SELECT k, id, name, n, opt_n, opt_blob, opt_text, data FROM t "

static enum lsn_err
insert(struct store *s, const uint8_t *id, const char *name, int64_t n, int64_t opt_n,
       const uint8_t *opt_blob, const char *opt_text, const void *data, size_t len)
{
	return store_exec(s, STORE_Q(s, SL_INSERT,
		"INSERT INTO t(id, name, n, opt_n, opt_blob, opt_text, data) VALUES (?,?,?,?,?,?,?)",
		P_ID(id), P_TEXT(name), P_INT(n), P_INT_OPT(opt_n), P_BLOB(opt_blob, 4),
		P_TEXT_OPT(opt_text), P_BLOB(data, len)), "insert", false);
}

static void
test_bind_and_read(void **state)
{
	struct ctx *c = *state;
	uint8_t id[LSN_ID_BYTES], blob4[4] = {1, 2, 3, 4};
	memset(id, 0xab, sizeof id);
	/* absent: zero optional integer, NULL blob, empty optional text */
	assert_int_equal(insert(c->s, id, "abcdefgh", 7, 0, NULL, "", "xyz", 3), LSN_OK);
	/* present */
	assert_int_equal(insert(c->s, id, "b", -3, 5, blob4, "t", "", 0), LSN_OK);

	struct row r;
	memset(&r, 0, sizeof r);
	assert_int_equal(store_one(c->s, STORE_Q(c->s, SL_GET, SELECT_ROW "WHERE name = ?",
						 P_TEXT("abcdefgh")),
				   STORE_COLS(row_cols), &r, "get"), LSN_OK);
	assert_memory_equal(r.id, id, sizeof id);
	assert_string_equal(r.name, "abcde");            /* cut to the field */
	assert_string_equal(r.name_copy, "abcdefgh");    /* the copy is whole */
	assert_int_equal(r.n, 7);
	assert_true(r.opt_n_null);
	assert_false(r.opt_blob_is_blob);
	assert_false(r.opt_text_set);
	assert_int_equal(r.data_copy_len, 3);
	assert_memory_equal(r.data_copy, "xyz", 3);
	assert_int_equal(r.n_u, 7);
	assert_int_equal(r.n_i, 7);
	assert_true(r.n_true);
	free(r.name_copy);
	free(r.data_copy);

	memset(&r, 0, sizeof r);
	assert_int_equal(store_one(c->s, STORE_Q(c->s, SL_GET, SELECT_ROW "WHERE name = ?",
						 P_TEXT("b")),
				   STORE_COLS(row_cols), &r, "get"), LSN_OK);
	assert_int_equal(r.n, -3);
	assert_int_equal(r.n_i, -3);
	assert_false(r.opt_n_null);
	assert_true(r.opt_blob_is_blob);
	assert_true(r.opt_text_set);
	assert_int_equal(r.data_copy_len, 0);
	assert_non_null(r.data_copy);                    /* an empty copy is still a buffer */
	free(r.name_copy);
	free(r.data_copy);

	/* no row */
	assert_int_equal(store_one(c->s, STORE_Q(c->s, SL_GET, SELECT_ROW "WHERE name = ?",
						 P_TEXT("none")),
				   STORE_COLS(row_cols), &r, "get"), LSN_ERR_NOT_FOUND);
	/* a uniqueness violation is a conflict */
	assert_int_equal(insert(c->s, id, "b", 1, 0, NULL, NULL, NULL, 0), LSN_ERR_CONFLICT);
}

static void
test_each_row_and_scalar(void **state)
{
	struct ctx *c = *state;
	uint8_t id[LSN_ID_BYTES] = {1};
	const char *names[] = {"c", "a", "b"};
	for (int i = 0; i < 3; i++)
		assert_int_equal(insert(c->s, id, names[i], i * 10, 0, NULL, NULL, names[i], 1), LSN_OK);
	/* a blob of another size than the field reads as zeroes */
	assert_int_equal(sqlite3_exec(c->s->db, "UPDATE t SET id = x'0102' WHERE name = 'b'",
				      NULL, NULL, NULL), SQLITE_OK);

	struct row r;
	enum lsn_err err = LSN_ERR_INTERNAL;
	char order[4] = "";
	size_t n = 0;
	sqlite3_stmt *st = STORE_Q(c->s, SL_LIST, SELECT_ROW "WHERE n >= ? ORDER BY name", P_INT(0));
	memset(&r, 0, sizeof r);
	while (store_next(c->s, st, STORE_COLS(row_cols), &r, &err, "list")) {
		order[n++] = r.name[0];
		assert_int_equal(r.data_len, 1);
		assert_memory_equal(r.data, r.name, 1);      /* a reference into the row */
		if (r.name[0] == 'b') {
			uint8_t zero[LSN_ID_BYTES] = {0};
			assert_memory_equal(r.id, zero, sizeof zero);
		} else {
			assert_int_equal(r.id[0], 1);
		}
		free(r.name_copy);
		free(r.data_copy);
	}
	assert_int_equal(err, LSN_OK);
	assert_int_equal(n, 3);
	assert_string_equal(order, "abc");

	/* the same slot: the statement stays prepared, with new parameters */
	sqlite3_stmt *again = STORE_Q(c->s, SL_LIST, SELECT_ROW "WHERE n >= ? ORDER BY name",
				      P_INT(15));
	assert_ptr_equal(again, st);
	n = 0;
	while (store_next(c->s, again, STORE_COLS(row_cols), &r, &err, "list")) {
		n++;
		free(r.name_copy);
		free(r.data_copy);
	}
	assert_int_equal(err, LSN_OK);
	assert_int_equal(n, 1);                          /* only "b" (n = 20) */

	int64_t count = -1;
	assert_int_equal(store_scalar(c->s, STORE_Q(c->s, SL_COUNT,
						    "SELECT count(*) FROM t WHERE n < ?", P_INT(15)),
				      &count, "count"), LSN_OK);
	assert_int_equal(count, 2);
}

static void
test_unprepared_statement(void **state)
{
	struct ctx *c = *state;
	struct row r;
	enum lsn_err err = LSN_OK;
	sqlite3_stmt *st = STORE_Q(c->s, SL_BAD, "SELECT nope FROM missing WHERE x = ?", P_INT(1));
	assert_null(st);
	assert_int_equal(store_one(c->s, st, STORE_COLS(row_cols), &r, "bad"), LSN_ERR_STORAGE);
	assert_false(store_next(c->s, st, STORE_COLS(row_cols), &r, &err, "bad"));
	assert_int_equal(err, LSN_ERR_STORAGE);
	assert_int_equal(store_exec(c->s, st, "bad", false), LSN_ERR_STORAGE);
	int64_t v = 0;
	assert_int_equal(store_scalar(c->s, st, &v, "bad"), LSN_ERR_STORAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind_and_read, row_setup, row_teardown),
		cmocka_unit_test_setup_teardown(test_each_row_and_scalar, row_setup, row_teardown),
		cmocka_unit_test_setup_teardown(test_unprepared_statement, row_setup, row_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
