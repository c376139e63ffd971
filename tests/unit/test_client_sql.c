/* test_client_sql.c — the one SQLite idiom of client/store/ (sql.h):
 * binding every argument kind and reading it back, a failed statement as a
 * user-facing error, nested transactions (savepoints), the WAL journal, and
 * two processes each doing read-modify-write on one database at once inside
 * sql_begin/sql_commit without losing an update — all on a database
 * encrypted as a whole (SQLCipher, as the profile is); a wrong key, a file
 * in the clear, plain opening of an encrypted file; the upsert without
 * ON CONFLICT (SQLite 3.15); rekey inside a transaction; export. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ident.h"
#include "sql.h"

#define RMW_ROUNDS 150

/* The database key of the fixture, and another one. */
static const uint8_t KEY[SQL_KEYBYTES] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
					  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
					  31, 32};
static const uint8_t OTHER[SQL_KEYBYTES] = {32, 31, 30};

struct fixture {
	char dir[64];
	char path[128];
	struct profile_db *db;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/lsn-client-sql-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/profile.db", f->dir);
	struct lsn_status st = {0};
	/* created like an enrolment, then opened like a profile (WAL) */
	struct profile_db *db = sql_open_key(f->path, true, KEY, NULL, &st);
	assert_non_null(db);
	assert_int_equal(sql_script(db, &st, "CREATE TABLE t (id BLOB PRIMARY KEY, k BLOB, b BLOB,"
					     " s TEXT, n INTEGER, z);"
					     "CREATE TABLE counter (n INTEGER NOT NULL);"
					     "INSERT INTO counter VALUES (0);"), LSN_OK);
	sql_close(db);
	f->db = sql_open_key(f->path, false, KEY, NULL, &st);
	assert_non_null(f->db);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	sql_close(f->db);
	char p[160];
	const char *suffixes[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static int64_t
count_rows(struct profile_db *db)
{
	struct lsn_status st = {0};
	struct sql_q q;
	int64_t n = -1;
	assert_true(sql_query(db, &q, &st, "SELECT count(*) FROM t", ""));
	if (sql_next(&q))
		n = sql_int(&q, 0);
	assert_int_equal(sql_end(&q, &st), LSN_OK);
	return n;
}

static void
test_bind_and_read(void **state)
{
	struct fixture *f = *state;
	struct lsn_status st = {0};
	uint8_t id[LSN_ID_BYTES], key[32], blob[5] = {1, 2, 3, 4, 5}, out[32];
	memset(id, 0xa1, sizeof id);
	memset(key, 0x5c, sizeof key);
	assert_int_equal(sql_exec(f->db, &st, "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", "ikbtnz", id,
				  key, blob, sizeof blob, "texte é", (int64_t)-42), LSN_OK);
	assert_int_equal(sql_changes(f->db), 1);
	struct sql_q q;
	assert_true(sql_query(f->db, &q, &st, "SELECT id, k, b, s, n, z FROM t WHERE id = ?", "i",
			      id));
	assert_true(sql_next(&q));
	assert_true(sql_copy(&q, 0, out, LSN_ID_BYTES));
	assert_memory_equal(out, id, LSN_ID_BYTES);
	assert_true(sql_copy(&q, 1, out, 32));
	assert_memory_equal(out, key, 32);
	assert_false(sql_copy(&q, 2, out, 4));   /* a blob of another length */
	size_t len = 0;
	const uint8_t *b = sql_blob(&q, 2, &len);
	assert_int_equal(len, sizeof blob);
	assert_memory_equal(b, blob, sizeof blob);
	assert_true(sql_is_text(&q, 3));
	assert_string_equal(sql_text(&q, 3), "texte é");
	assert_true(sql_is_int(&q, 4));
	assert_int_equal(sql_int(&q, 4), -42);
	assert_true(sql_is_null(&q, 5));
	assert_null(sql_text(&q, 5));
	assert_false(sql_next(&q));
	assert_int_equal(sql_end(&q, &st), LSN_OK);

	/* NULL text and blob bind NULL */
	uint8_t id2[LSN_ID_BYTES];
	memset(id2, 0xb2, sizeof id2);
	assert_int_equal(sql_exec(f->db, &st, "INSERT INTO t (id, b, s) VALUES (?, ?, ?)", "ibt",
				  id2, (const uint8_t *)NULL, (size_t)0, (const char *)NULL), LSN_OK);
	assert_true(sql_query(f->db, &q, &st, "SELECT b, s FROM t WHERE id = ?", "i", id2));
	assert_true(sql_next(&q));
	assert_true(sql_is_null(&q, 0) && sql_is_null(&q, 1));
	assert_int_equal(sql_end(&q, &st), LSN_OK);
}

static void
test_failures_are_messages(void **state)
{
	struct fixture *f = *state;
	struct lsn_status st = {0};
	uint8_t id[LSN_ID_BYTES];
	memset(id, 7, sizeof id);
	assert_int_equal(sql_exec(f->db, &st, "INSERT INTO t (id) VALUES (?)", "i", id), LSN_OK);
	/* the same primary key again: a failed step */
	assert_int_equal(sql_exec(f->db, &st, "INSERT INTO t (id) VALUES (?)", "i", id),
			 LSN_ERR_INTERNAL);
	assert_non_null(strstr(st.msg, "in the profile database"));
	assert_non_null(strstr(st.msg, "UNIQUE"));
	/* a statement that does not prepare */
	struct sql_q q;
	memset(&st, 0, sizeof st);
	assert_false(sql_query(f->db, &q, &st, "SELECT nothing FROM nowhere", ""));
	assert_int_equal(st.err, LSN_ERR_INTERNAL);
	assert_false(sql_next(&q));
	assert_int_equal(sql_end(&q, &st), LSN_OK); /* allowed after a failed query */
	/* an unknown format letter */
	assert_false(sql_query(f->db, &q, &st, "SELECT ?", "x", 1));
	/* commit without begin */
	assert_int_equal(sql_commit(f->db, &st), LSN_ERR_INTERNAL);
}

static void
test_nested_transactions(void **state)
{
	struct fixture *f = *state;
	struct lsn_status st = {0};
	uint8_t a[LSN_ID_BYTES], b[LSN_ID_BYTES], c[LSN_ID_BYTES];
	memset(a, 0xa, sizeof a);
	memset(b, 0xb, sizeof b);
	memset(c, 0xc, sizeof c);

	/* an inner rollback undoes only the inner part */
	assert_int_equal(sql_begin(f->db, &st), LSN_OK);
	assert_int_equal(sql_exec(f->db, &st, "INSERT INTO t (id) VALUES (?)", "i", a), LSN_OK);
	assert_int_equal(sql_begin(f->db, &st), LSN_OK);
	assert_int_equal(sql_exec(f->db, &st, "INSERT INTO t (id) VALUES (?)", "i", b), LSN_OK);
	sql_rollback(f->db);
	assert_int_equal(sql_commit(f->db, &st), LSN_OK);
	assert_int_equal(count_rows(f->db), 1);

	/* an inner commit is undone by the outer rollback */
	assert_int_equal(sql_begin(f->db, &st), LSN_OK);
	assert_int_equal(sql_begin(f->db, &st), LSN_OK);
	assert_int_equal(sql_exec(f->db, &st, "INSERT INTO t (id) VALUES (?)", "i", c), LSN_OK);
	assert_int_equal(sql_commit(f->db, &st), LSN_OK);
	sql_rollback(f->db);
	assert_int_equal(count_rows(f->db), 1);

	/* three levels, all committed */
	assert_int_equal(sql_begin(f->db, &st), LSN_OK);
	assert_int_equal(sql_begin(f->db, &st), LSN_OK);
	assert_int_equal(sql_begin(f->db, &st), LSN_OK);
	assert_int_equal(sql_exec(f->db, &st, "INSERT INTO t (id) VALUES (?)", "i", c), LSN_OK);
	assert_int_equal(sql_commit(f->db, &st), LSN_OK);
	assert_int_equal(sql_commit(f->db, &st), LSN_OK);
	assert_int_equal(sql_commit(f->db, &st), LSN_OK);
	assert_int_equal(count_rows(f->db), 2);
	sql_rollback(f->db); /* nothing open: harmless */
	assert_int_equal(count_rows(f->db), 2);
}

static void
test_wal(void **state)
{
	struct fixture *f = *state;
	struct lsn_status st = {0};
	struct sql_q q;
	assert_true(sql_query(f->db, &q, &st, "PRAGMA journal_mode", ""));
	assert_true(sql_next(&q));
	assert_string_equal(sql_text(&q, 0), "wal");
	assert_int_equal(sql_end(&q, &st), LSN_OK);
}

/* One process: RMW_ROUNDS times, read the counter and write it + 1 in one
 * transaction, on its own connection. Exit status: 0 if every round
 * committed. */
static int
increment(const char *path)
{
	struct lsn_status st = {0};
	struct profile_db *db = sql_open_key(path, false, KEY, NULL, &st);
	if (db == NULL)
		return 2;
	int failed = 0;
	for (int i = 0; i < RMW_ROUNDS; i++) {
		struct sql_q q;
		int64_t n = -1;
		enum lsn_err err = sql_begin(db, &st);
		if (err == LSN_OK && sql_query(db, &q, &st, "SELECT n FROM counter", "")) {
			if (sql_next(&q))
				n = sql_int(&q, 0);
			err = sql_end(&q, &st);
		}
		if (err == LSN_OK && n >= 0)
			err = sql_exec(db, &st, "UPDATE counter SET n = ?", "n", n + 1);
		if (err == LSN_OK && n >= 0)
			err = sql_commit(db, &st);
		else
			sql_rollback(db);
		failed += err != LSN_OK || n < 0;
	}
	sql_close(db);
	return failed ? 1 : 0;
}

static void
test_two_processes_read_modify_write(void **state)
{
	struct fixture *f = *state;
	pid_t pids[2];
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(increment(f->path));
	}
	for (int i = 0; i < 2; i++) {
		int status = 0;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	struct lsn_status st = {0};
	struct sql_q q;
	assert_true(sql_query(f->db, &q, &st, "SELECT n FROM counter", ""));
	assert_true(sql_next(&q));
	assert_int_equal(sql_int(&q, 0), 2 * RMW_ROUNDS); /* no update lost */
	assert_int_equal(sql_end(&q, &st), LSN_OK);
}

/* Only the key opens it: a wrong key says so (wrong_key), plain SQLite
 * reads nothing, and the file holds nothing of what was written. */
static void
test_encrypted(void **state)
{
	struct fixture *f = *state;
	struct lsn_status st = {0};
	assert_int_equal(sql_exec(f->db, &st, "INSERT INTO t (id, s) VALUES (?, ?)", "it",
				  (const uint8_t *)"0123456789abcdef", "Dr Claire Martin"), LSN_OK);
	bool wrong = false;
	assert_null(sql_open_key(f->path, false, OTHER, &wrong, &st));
	assert_true(wrong);
	assert_non_null(strstr(st.msg, "not a database"));
	assert_null(sql_open(f->path, false, &st)); /* no key: page 1 does not decrypt */
	char p[160];
	snprintf(p, sizeof p, "%s-wal", f->path);
	const char *files[] = {f->path, p};
	for (int i = 0; i < 2; i++) {
		FILE *fp = fopen(files[i], "rb");
		assert_non_null(fp);
		static char buf[1 << 20];
		size_t n = fread(buf, 1, sizeof buf, fp);
		fclose(fp);
		assert_true(n > 0);
		assert_null(memmem(buf, n, "Claire", 6));
		assert_null(memmem(buf, n, "0123456789abcdef", 16));
		assert_null(memmem(buf, n, "SQLite format 3", 15));
	}
	/* a database in the clear opened with a key: refused the same way */
	char clear[160];
	snprintf(clear, sizeof clear, "%s/clear.db", f->dir);
	struct profile_db *db = sql_open(clear, true, &st);
	assert_non_null(db);
	assert_int_equal(sql_script(db, &st, "CREATE TABLE x (y)"), LSN_OK);
	sql_close(db);
	wrong = false;
	assert_null(sql_open_key(clear, false, KEY, &wrong, &st));
	assert_true(wrong);
	unlink(clear);
}

static int64_t
row_n(struct profile_db *db, const char *key)
{
	struct lsn_status st = {0};
	struct sql_q q;
	int64_t v = -1;
	assert_true(sql_query(db, &q, &st, "SELECT n FROM t WHERE s = ?", "t", key));
	if (sql_next(&q))
		v = sql_int(&q, 0);
	assert_int_equal(sql_end(&q, &st), LSN_OK);
	return v;
}

/* INSERT OR IGNORE then UPDATE: a new row as inserted, an existing one
 * updated only where the update's WHERE says, inside or outside a
 * transaction; a failing update leaves nothing of the insert. */
static void
test_upsert(void **state)
{
	struct fixture *f = *state;
	struct lsn_status st = {0};
	static const char ins[] = "INSERT OR IGNORE INTO t (id, s, n) VALUES (?1, ?2, ?3)";
	static const char upd[] = "UPDATE t SET n = max(n, ?3) WHERE id = ?1";
	const uint8_t *id = (const uint8_t *)"0123456789abcdef";
	assert_int_equal(sql_upsert(f->db, &st, ins, upd, "itn", id, "a", (int64_t)5), LSN_OK);
	assert_int_equal(row_n(f->db, "a"), 5);
	assert_int_equal(sql_upsert(f->db, &st, ins, upd, "itn", id, "a", (int64_t)3), LSN_OK);
	assert_int_equal(row_n(f->db, "a"), 5); /* max: kept */
	assert_int_equal(sql_begin(f->db, &st), LSN_OK);
	assert_int_equal(sql_upsert(f->db, &st, ins, upd, "itn", id, "a", (int64_t)9), LSN_OK);
	assert_int_equal(sql_commit(f->db, &st), LSN_OK);
	assert_int_equal(row_n(f->db, "a"), 9);
	assert_int_equal(count_rows(f->db), 1);
	const uint8_t *id2 = (const uint8_t *)"fedcba9876543210";
	assert_int_not_equal(sql_upsert(f->db, &st, ins, "UPDATE nosuchtable SET n = ?3", "itn",
					id2, "b", (int64_t)1), LSN_OK);
	assert_int_equal(count_rows(f->db), 1); /* the insert was rolled back with it */
	assert_int_equal(f->db->depth, 0);
}

/* PRAGMA rekey inside a transaction commits what the transaction wrote with
 * the pages under the new key: another connection with the old key can no
 * longer read, the new key reads both. */
static void
test_rekey_in_transaction(void **state)
{
	struct fixture *f = *state;
	struct lsn_status st = {0};
	struct profile_db *old = sql_open_key(f->path, false, KEY, NULL, &st);
	assert_non_null(old);
	assert_int_equal(count_rows(old), 0);
	assert_int_equal(sql_begin(f->db, &st), LSN_OK);
	assert_int_equal(sql_exec(f->db, &st, "INSERT INTO t (id, s) VALUES (?, 'x')", "i",
				  (const uint8_t *)"0123456789abcdef"), LSN_OK);
	assert_int_equal(sql_rekey(f->db, OTHER, &st), LSN_OK);
	assert_int_equal(sql_commit(f->db, &st), LSN_OK);
	struct sql_q q;
	bool read = sql_query(old, &q, &st, "SELECT count(*) FROM t", "") && sql_next(&q);
	sql_end(&q, NULL);
	assert_false(read);
	sql_close(old);
	bool wrong = false;
	assert_null(sql_open_key(f->path, false, KEY, &wrong, &st));
	assert_true(wrong);
	struct profile_db *db = sql_open_key(f->path, false, OTHER, NULL, &st);
	assert_non_null(db);
	assert_int_equal(count_rows(db), 1);
	sql_close(db);
}

/* sqlcipher_export: every row and the user_version, under the new key. */
static void
test_export(void **state)
{
	struct fixture *f = *state;
	struct lsn_status st = {0};
	assert_int_equal(sql_script(f->db, &st, "PRAGMA user_version = 7;"
						"INSERT INTO t (id) VALUES (x'00');"), LSN_OK);
	char copy[160];
	snprintf(copy, sizeof copy, "%s/copy.db", f->dir);
	unlink(copy);
	assert_int_equal(sql_export(f->db, copy, OTHER, &st), LSN_OK);
	assert_int_not_equal(sql_export(f->db, copy, OTHER, &st), LSN_OK); /* never over a file */
	struct profile_db *db = sql_open_key(copy, false, OTHER, NULL, &st);
	assert_non_null(db);
	assert_int_equal(count_rows(db), 1);
	struct sql_q q;
	assert_true(sql_query(db, &q, &st, "PRAGMA user_version", ""));
	assert_true(sql_next(&q));
	assert_int_equal(sql_int(&q, 0), 7);
	assert_int_equal(sql_end(&q, &st), LSN_OK);
	sql_close(db);
	char p[200];
	const char *suffixes[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", copy, suffixes[i]);
		unlink(p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures_are_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_processes_read_modify_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_encrypted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upsert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_in_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
