/* test_store.c — the SQLite store: migrations from an empty database and
 * from the previous schema version, invites (single use, expiry data),
 * devices, idempotency records, savepoint rollback inside a batch, and
 * checkpoints on their own thread with the WAL bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "store.h"

struct fixture {
	char dir[64];
	char path[128];
	struct store *s;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/lsn-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/liaison.db", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->s);
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

static struct store *
open_at(struct fixture *f, int version)
{
	struct store_options opt = {.sync = STORE_SYNC_FULL, .create = true, .migrate_to = version};
	struct lsn_status st = {0};
	struct store *s = NULL;
	assert_int_equal(store_open(&s, f->path, &opt, &st), LSN_OK);
	return s;
}

/* Rows written with raw SQL, as an older liaisond would have, while no
 * store is open. */
static void
raw_sql(struct fixture *f, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("fixture: %s", msg);
	sqlite3_close(db);
}

/* Open with every migration applied, and check the version. */
static void
open_latest(struct fixture *f)
{
	f->s = open_at(f, 0);
	assert_int_equal(store_schema_version(f->s), store_schema_latest());
}

static struct store_org
make_org(const char *finess)
{
	struct store_org org = {0};
	randombytes_buf(org.id, sizeof org.id);
	snprintf(org.name, sizeof org.name, "CPTS Test");
	snprintf(org.finess, sizeof org.finess, "%s", finess);
	snprintf(org.kind, sizeof org.kind, "cpts");
	org.created_at = 1000;
	return org;
}

static struct store_user
make_user(const struct store_org *org, const char *rpps, const char *name)
{
	struct store_user u = {0};
	randombytes_buf(u.id, sizeof u.id);
	snprintf(u.rpps, sizeof u.rpps, "%s", rpps);
	snprintf(u.name, sizeof u.name, "%s", name);
	snprintf(u.profession, sizeof u.profession, "gp");
	u.roles = 1;
	randombytes_buf(u.ik, sizeof u.ik);
	u.created_at = 2000;
	u.org = *org;
	return u;
}

static void
count(const struct store_user *x, void *arg)
{
	(void)x;
	(*(int *)arg)++;
}

static void
test_migrate_empty(void **state)
{
	struct fixture *f = *state;
	f->s = open_at(f, 0);
	assert_int_equal(store_schema_version(f->s), store_schema_latest());
	assert_true(store_schema_latest() >= 2);
	struct lsn_status st = {0};
	assert_int_equal(store_check(f->s, &st), LSN_OK);
}

static void
test_migrate_from_previous(void **state)
{
	struct fixture *f = *state;
	/* from the first schema: every later migration runs over real rows */
	int previous = 1;
	struct store *old = open_at(f, previous);
	assert_int_equal(store_schema_version(old), previous);
	/* write data with the previous schema through raw SQL, as an older
	 * liaisond would have */
	store_close(old);
	raw_sql(f,
		"INSERT INTO orgs VALUES (x'00112233445566778899aabbccddeeff','CPTS Loire','450000005','cpts',1);"
		"INSERT INTO users(id, rpps, name, profession, org_id, roles, ik, created_at) "
		"VALUES (x'0102030405060708090a0b0c0d0e0f10','10101010105','Dr HÉLÈNE Durand','gp',"
		" x'00112233445566778899aabbccddeeff',1,zeroblob(32),2);");

	open_latest(f);
	struct store_user u;
	assert_int_equal(store_user_find_rpps(f->s, "10101010105", &u), LSN_OK);
	assert_string_equal(u.name, "Dr HÉLÈNE Durand");
	assert_string_equal(u.org.finess, "450000005");
	/* the migrated row is searchable by its ASCII part */
	struct store_user_query q = {.text = "durand", .limit = 10};
	int hits = 0;
	assert_int_equal(store_user_search(f->s, &q, count, &hits), LSN_OK);
	assert_int_equal(hits, 1);
}

static void
test_migrate_from_latest_minus_one(void **state)
{
	struct fixture *f = *state;
	struct store *old = open_at(f, store_schema_latest() - 1);
	struct store_org org = make_org("450000005");
	assert_int_equal(store_org_create(old, &org), LSN_OK);
	store_close(old);
	f->s = open_at(f, 0);
	assert_int_equal(store_schema_version(f->s), store_schema_latest());
	struct store_org got;
	assert_int_equal(store_org_get(f->s, org.id, &got), LSN_OK);
	struct lsn_status st = {0};
	assert_int_equal(store_check(f->s, &st), LSN_OK);
}

struct seen_messages {
	int n;
	int64_t seq[8];
	char env[8][8];
};

static void
collect_message(const struct store_message *m, void *arg)
{
	struct seen_messages *l = arg;
	if (l->n < 8) {
		l->seq[l->n] = m->seq;
		snprintf(l->env[l->n], sizeof l->env[0], "%.*s", (int)m->envelope_len,
			 (const char *)m->envelope);
	}
	l->n++;
}

/* 015: messages move from a WITHOUT ROWID table keyed by (channel, seq) to
 * one appended by rowid with a unique index on (channel, seq). Every
 * envelope stored before is there after, read back by channel in seq
 * order; the next append numbers on; a duplicate is still refused. */
static void
test_migrate_messages_rowid(void **state)
{
	struct fixture *f = *state;
	store_close(open_at(f, 14));     /* the last schema with the old table */
	raw_sql(f,
		"INSERT INTO orgs VALUES (x'00112233445566778899aabbccddeeff','CPTS Loire','450000005','cpts',1);"
		"INSERT INTO users(id, rpps, name, profession, org_id, roles, ik, created_at) "
		"VALUES (x'0102030405060708090a0b0c0d0e0f10','10101010105','Dr Durand','gp',"
		" x'00112233445566778899aabbccddeeff',1,zeroblob(32),2);"
		"INSERT INTO channels(id,kind,history,creator,created_at,log_seq,log_hash,last_seq) VALUES"
		" (x'a0000000000000000000000000000001','case','shared',x'0102030405060708090a0b0c0d0e0f10',1,1,zeroblob(32),3),"
		" (x'b0000000000000000000000000000002','case','shared',x'0102030405060708090a0b0c0d0e0f10',1,1,zeroblob(32),2);"
		/* inserted out of order: the old table sorted them, the new one must too */
		"INSERT INTO messages VALUES"
		" (x'b0000000000000000000000000000002',2,zeroblob(16),zeroblob(16),20,CAST('b2' AS BLOB)),"
		" (x'a0000000000000000000000000000001',3,zeroblob(16),zeroblob(16),13,CAST('a3' AS BLOB)),"
		" (x'a0000000000000000000000000000001',1,zeroblob(16),zeroblob(16),11,CAST('a1' AS BLOB)),"
		" (x'b0000000000000000000000000000002',1,zeroblob(16),zeroblob(16),10,CAST('b1' AS BLOB)),"
		" (x'a0000000000000000000000000000001',2,x'0102030405060708090a0b0c0d0e0f10',zeroblob(16),12,"
		"  CAST('a2' AS BLOB));");

	open_latest(f);
	uint8_t a[16] = {0xa0}, b[16] = {0xb0}, who[16];
	a[15] = 1;
	b[15] = 2;
	struct seen_messages la = {0}, lb = {0};
	assert_int_equal(store_message_list(f->s, a, 0, 3, 10, collect_message, &la), LSN_OK);
	assert_int_equal(store_message_list(f->s, b, 0, 2, 10, collect_message, &lb), LSN_OK);
	assert_int_equal(la.n, 3);
	assert_int_equal(lb.n, 2);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(la.seq[i], i + 1);
		char want[8];
		snprintf(want, sizeof want, "a%d", i + 1);
		assert_string_equal(la.env[i], want);
	}
	assert_string_equal(lb.env[0], "b1");
	assert_string_equal(lb.env[1], "b2");
	assert_int_equal(store_message_sender(f->s, a, 2, who), LSN_OK);
	assert_int_equal(who[0], 1);
	assert_int_equal(who[15], 0x10);

	struct store_message m = {.ts = 14, .envelope = (const uint8_t *)"a4", .envelope_len = 2};
	memcpy(m.channel, a, 16);
	assert_int_equal(store_message_append(f->s, &m), LSN_OK);
	assert_int_equal(m.seq, 4);
	la.n = 0;
	assert_int_equal(store_message_list(f->s, a, 2, 4, 10, collect_message, &la), LSN_OK);
	assert_int_equal(la.n, 2);
	assert_string_equal(la.env[1], "a4");
	/* (channel, seq) is still unique */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO messages(channel_id,seq,sender_user,"
		"sender_device,ts,envelope) VALUES (x'a0000000000000000000000000000001',2,"
		"zeroblob(16),zeroblob(16),1,x'00')", NULL, NULL, NULL), SQLITE_CONSTRAINT);
	sqlite3_close(db);
	struct lsn_status st = {0};
	assert_int_equal(store_check(f->s, &st), LSN_OK);
}

static void
test_newer_database_refused(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_at(f, 0);
	store_close(s);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	struct store_options opt = {.sync = STORE_SYNC_FULL};
	struct lsn_status st = {0};
	assert_int_equal(store_open(&s, f->path, &opt, &st), LSN_ERR_STORAGE);
	assert_non_null(strstr(st.msg, "newer liaisond"));
}

static void
test_missing_database_refused(void **state)
{
	struct fixture *f = *state;
	struct store_options opt = {.sync = STORE_SYNC_FULL, .create = false};
	struct lsn_status st = {0};
	struct store *s = NULL;
	assert_int_equal(store_open(&s, f->path, &opt, &st), LSN_ERR_NOT_FOUND);
	assert_non_null(strstr(st.msg, "liaisond init"));
	assert_null(s);
}

static void
test_invite_single_use(void **state)
{
	struct fixture *f = *state;
	f->s = open_at(f, 0);
	struct store_org org = make_org("450000005");
	assert_int_equal(store_org_create(f->s, &org), LSN_OK);
	struct store_invite inv = {0}, got;
	randombytes_buf(inv.hash, sizeof inv.hash);
	snprintf(inv.name, sizeof inv.name, "Dr A");
	snprintf(inv.profession, sizeof inv.profession, "gp");
	memcpy(inv.org_id, org.id, sizeof org.id);
	inv.roles = 1;
	inv.created_at = 10;
	inv.expires_at = 20;
	assert_int_equal(store_invite_create(f->s, &inv), LSN_OK);
	assert_int_equal(store_invite_get(f->s, inv.hash, &got), LSN_OK);
	assert_int_equal(got.expires_at, 20);
	assert_int_equal(got.used_at, 0);
	assert_string_equal(got.rpps, "");
	uint8_t user[16] = {1};
	assert_int_equal(store_invite_consume(f->s, inv.hash, user, 15), LSN_OK);
	assert_int_equal(store_invite_consume(f->s, inv.hash, user, 16), LSN_ERR_CONFLICT);
	assert_int_equal(store_invite_get(f->s, inv.hash, &got), LSN_OK);
	assert_int_equal(got.used_at, 15);
	uint8_t other[32] = {9};
	assert_int_equal(store_invite_get(f->s, other, &got), LSN_ERR_NOT_FOUND);
}

static void
test_users_devices(void **state)
{
	struct fixture *f = *state;
	f->s = open_at(f, 0);
	struct store_org org = make_org("450000005");
	assert_int_equal(store_org_create(f->s, &org), LSN_OK);
	struct store_org dup = make_org("450000005");
	assert_int_equal(store_org_create(f->s, &dup), LSN_ERR_CONFLICT);
	struct store_user u = make_user(&org, "10101010105", "Dr Élodie Lefèvre");
	assert_int_equal(store_user_create(f->s, &u), LSN_OK);
	struct store_user again = make_user(&org, "10101010105", "Someone");
	assert_int_equal(store_user_create(f->s, &again), LSN_ERR_CONFLICT);

	struct store_device d = {0}, got;
	randombytes_buf(d.id, sizeof d.id);
	memcpy(d.user_id, u.id, sizeof u.id);
	snprintf(d.name, sizeof d.name, "laptop");
	randombytes_buf(d.dk, sizeof d.dk);
	randombytes_buf(d.ak, sizeof d.ak);
	randombytes_buf(d.ak_id, sizeof d.ak_id);
	d.dk_ts = d.ak_ts = d.created_at = 3000;
	assert_int_equal(store_device_create(f->s, &d), LSN_OK);
	assert_int_equal(store_device_get(f->s, d.id, &got), LSN_OK);
	assert_memory_equal(got.ak, d.ak, 32);
	assert_int_equal(got.revoked_at, 0);
	assert_int_equal(store_device_touch(f->s, d.id, 3500), LSN_OK);
	assert_int_equal(store_device_revoke(f->s, d.id, 4000), LSN_OK);
	assert_int_equal(store_device_revoke(f->s, d.id, 4001), LSN_ERR_CONFLICT);
	assert_int_equal(store_device_get(f->s, d.id, &got), LSN_OK);
	assert_int_equal(got.revoked_at, 4000);
	assert_int_equal(got.last_seen_at, 3500);

	/* accent- and case-insensitive search, RPPS prefix, LIKE metacharacters */
	int hits = 0;
	struct store_user_query q = {.text = "ELODIE lefevre", .limit = 10};
	assert_int_equal(store_user_search(f->s, &q, count, &hits), LSN_OK);
	assert_int_equal(hits, 1);
	hits = 0;
	q.text = "1010101";
	assert_int_equal(store_user_search(f->s, &q, count, &hits), LSN_OK);
	assert_int_equal(hits, 1);
	hits = 0;
	q.text = "%";
	assert_int_equal(store_user_search(f->s, &q, count, &hits), LSN_OK);
	assert_int_equal(hits, 0);
}

static void
test_savepoint_rollback_in_batch(void **state)
{
	struct fixture *f = *state;
	f->s = open_at(f, 0);
	struct store_org a = make_org("450000005"), b = make_org("750012346");
	assert_int_equal(store_batch_begin(f->s), LSN_OK);
	assert_int_equal(store_req_begin(f->s), LSN_OK);
	assert_int_equal(store_org_create(f->s, &a), LSN_OK);
	store_req_end(f->s, true);
	assert_int_equal(store_req_begin(f->s), LSN_OK);
	assert_int_equal(store_org_create(f->s, &b), LSN_OK);
	store_req_end(f->s, false);                 /* this request failed */
	assert_int_equal(store_batch_commit(f->s), LSN_OK);
	struct store_org got;
	assert_int_equal(store_org_get(f->s, a.id, &got), LSN_OK);
	assert_int_equal(store_org_get(f->s, b.id, &got), LSN_ERR_NOT_FOUND);
	assert_false(store_in_batch(f->s));
}

static void
test_batch_rollback_discards(void **state)
{
	struct fixture *f = *state;
	f->s = open_at(f, 0);
	struct store_org a = make_org("450000005");
	assert_int_equal(store_batch_begin(f->s), LSN_OK);
	assert_int_equal(store_org_create(f->s, &a), LSN_OK);
	store_batch_rollback(f->s);
	struct store_org got;
	assert_int_equal(store_org_get(f->s, a.id, &got), LSN_ERR_NOT_FOUND);
}

static void
test_idempotency(void **state)
{
	struct fixture *f = *state;
	f->s = open_at(f, 0);
	char *op = NULL, *reply = NULL;
	assert_int_equal(store_idem_get(f->s, "device:x", "k1", &op, &reply), LSN_ERR_NOT_FOUND);
	assert_int_equal(store_idem_put(f->s, "device:x", "k1", "enrol", "{\"a\":1}", 5), LSN_OK);
	assert_int_equal(store_idem_put(f->s, "device:x", "k1", "enrol", "{}", 6), LSN_ERR_CONFLICT);
	assert_int_equal(store_idem_get(f->s, "device:x", "k1", &op, &reply), LSN_OK);
	assert_string_equal(op, "enrol");
	assert_string_equal(reply, "{\"a\":1}");
	free(op);
	free(reply);
	assert_int_equal(store_idem_get(f->s, "device:y", "k1", &op, &reply), LSN_ERR_NOT_FOUND);
}

static long long
file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

/* One batch of `n` idempotency records of about 3 KiB each (a page or so
 * apiece); keys numbered from *next. */
static void
write_batch(struct store *s, int n, int *next)
{
	static char reply[3000];
	memset(reply, 'r', sizeof reply - 1);
	assert_int_equal(store_batch_begin(s), LSN_OK);
	for (int i = 0; i < n; i++) {
		char key[32];
		snprintf(key, sizeof key, "k%06d", (*next)++);
		assert_int_equal(store_idem_put(s, "device:ckpt", key, "send", reply, 7), LSN_OK);
	}
	assert_int_equal(store_batch_commit(s), LSN_OK);
}

static void
test_checkpoint_thread(void **state)
{
	struct fixture *f = *state;
	f->s = open_at(f, 0);
	enum { START = 50, LIMIT = 200, BATCH = 8 };
	assert_false(store_checkpointer_start(f->s, 0, LIMIT));       /* refused */
	assert_false(store_checkpointer_start(f->s, LIMIT, START));
	assert_true(store_checkpointer_start(f->s, START, LIMIT));
	assert_false(store_checkpointer_start(f->s, START, LIMIT));   /* once */
	char wal[200];
	assert_int_equal(store_wal_path(f->s, wal, sizeof wal), LSN_OK);
	/* a writer that never pauses: 3,000 records, ~15 times LIMIT pages */
	int next = 0;
	long long largest = 0;
	for (int b = 0; b < 3000 / BATCH; b++) {
		write_batch(f->s, BATCH, &next);
		long long size = file_size(wal);
		if (size > largest)
			largest = size;
	}
	struct store_checkpoint_counts n = store_checkpoint_counts(f->s);
	print_message("# checkpoints: %llu by the thread, %llu by the writer; largest WAL "
		      "%lld bytes\n", (unsigned long long)n.by_thread,
		      (unsigned long long)n.by_writer, largest);
	assert_true(n.by_thread >= 1);
	/* restarted rather than grown. The writer copies past LIMIT pages;
	 * while the thread is copying, its attempt is refused (busy) and the
	 * next commits try again, so a few batches more may go in first
	 * (412 pages seen once in CI): under 4 * LIMIT + 128 pages, and the WAL
	 * header. Without the writer's copy past LIMIT it grew to 26 MB. */
	assert_true(largest > 0);
	assert_true(largest <= 32 + (long long)(4 * LIMIT + 128) * (4096 + 24));
	/* every record is there, and the database is whole */
	char *op = NULL, *reply = NULL;
	assert_int_equal(store_idem_get(f->s, "device:ckpt", "k000000", &op, &reply), LSN_OK);
	free(op);
	free(reply);
	assert_int_equal(store_idem_get(f->s, "device:ckpt", "k002999", &op, &reply), LSN_OK);
	assert_int_equal(strlen(reply), 2999);
	free(op);
	free(reply);
	struct lsn_status st = {0};
	assert_int_equal(store_check(f->s, &st), LSN_OK);
	/* stopped: SQLite's automatic checkpoint takes over, writes go on */
	store_checkpointer_stop(f->s);
	store_checkpointer_stop(f->s);
	write_batch(f->s, BATCH, &next);
	assert_int_equal(store_checkpoint_counts(f->s).by_thread, 0);
	/* and what the thread copied is in the database file itself */
	store_close(f->s);
	f->s = NULL;
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *q = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM idempotency WHERE "
					    "scope = 'device:ckpt'", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), next);
	sqlite3_finalize(q);
	sqlite3_close(db);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_previous, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_latest_minus_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_messages_rowid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_database_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_database_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invite_single_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_users_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_savepoint_rollback_in_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_rollback_discards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_thread, setup, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
