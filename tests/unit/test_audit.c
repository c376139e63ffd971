/* test_audit.c — the audit chain (server/audit.c, docs/AUDIT.md): the
 * canonical encoding and chain hash against fixed vectors computed
 * independently (python hashlib.blake2b, see docs/AUDIT.md), appending in a
 * request's savepoint (undone with it), login and refused-login entries
 * through the dispatcher, and verification catching a changed, removed,
 * reordered or truncated chain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "audit.h"
#include "server_fixture.h"

static const char vec1_bytes[] =
	"4c534e415544303100000000000000010000019b76daa800056c6f67696e026f6b036e6574010001020304"
	"05060708090a0b0c0d0e0f01101112131415161718191a1b1c1d1e1f00000000093132372e302e302e3100";
static const char vec1_hash[] = "3a09d4a7f083fe29ef1236fdeae2f2e18fea2c1c1c650f53e0b306f339f320e6";
static const char vec2_bytes[] =
	"4c534e415544303100000000000000020000019b76daacd209737465705f646f6e65026f6b036e65740100"
	"0102030405060708090a0b0c0d0e0f01101112131415161718191a1b1c1d1e1f00000001f0f1f2f3f4f5f6"
	"f7f8f9fafbfcfdfeff033a3a311a737465703d63616c6c5f6a322330207374617475733d646f6e65";
static const char vec2_hash[] = "0cff5bfbea9df2314dc11eb357fc292318edbef22d196284fbccdbfa11952814";

static void
vector_entries(struct store_audit *e1, struct store_audit *e2)
{
	memset(e1, 0, sizeof *e1);
	e1->seq = 1;
	e1->at = 1767225600000;   /* 2026-01-01T00:00:00Z */
	snprintf(e1->action, sizeof e1->action, "login");
	snprintf(e1->outcome, sizeof e1->outcome, "ok");
	snprintf(e1->origin, sizeof e1->origin, "net");
	e1->has_actor_user = e1->has_actor_device = true;
	for (int i = 0; i < 16; i++) {
		e1->actor_user[i] = (uint8_t)i;
		e1->actor_device[i] = (uint8_t)(16 + i);
	}
	snprintf(e1->peer, sizeof e1->peer, "127.0.0.1");
	*e2 = *e1;
	e2->seq = 2;
	e2->at = 1767225601234;
	snprintf(e2->action, sizeof e2->action, "step_done");
	e2->has_case = true;
	for (int i = 0; i < 16; i++)
		e2->case_id[i] = (uint8_t)(0xf0 + i);
	snprintf(e2->peer, sizeof e2->peer, "::1");
	snprintf(e2->detail, sizeof e2->detail, "step=call_j2#0 status=done");
}

static void
assert_hex(const uint8_t *bytes, size_t len, const char *want)
{
	char hex[2 * AUDIT_ENCODED_MAX + 1];
	sodium_bin2hex(hex, sizeof hex, bytes, len);
	assert_string_equal(hex, want);
}

static void
test_vectors(void **state)
{
	(void)state;
	struct store_audit e1, e2;
	uint8_t bytes[AUDIT_ENCODED_MAX], zero[32] = {0}, h1[32], h2[32];
	vector_entries(&e1, &e2);
	size_t len = audit_encode(&e1, bytes);
	assert_int_equal(len, strlen(vec1_bytes) / 2);
	assert_hex(bytes, len, vec1_bytes);
	audit_chain_hash(zero, bytes, len, h1);
	assert_hex(h1, 32, vec1_hash);
	len = audit_encode(&e2, bytes);
	assert_hex(bytes, len, vec2_bytes);
	audit_chain_hash(h1, bytes, len, h2);
	assert_hex(h2, 32, vec2_hash);
	/* every field counts: one bit of the time changes the hash */
	e2.at ^= 1;
	len = audit_encode(&e2, bytes);
	audit_chain_hash(h1, bytes, len, h2);
	char hex[65];
	sodium_bin2hex(hex, sizeof hex, h2, 32);
	assert_string_not_equal(hex, vec2_hash);
	/* absent and present-but-zero ids differ */
	e2.at ^= 1;
	e2.has_target_user = true;
	assert_int_equal(audit_encode(&e2, bytes), strlen(vec2_bytes) / 2 + 16);
}

/* Append one admin entry inside a request savepoint, kept or undone. */
static void
append_in_savepoint(struct store *s, const char *action, bool keep)
{
	assert_int_equal(store_batch_begin(s), LSN_OK);
	assert_int_equal(store_req_begin(s), LSN_OK);
	assert_int_equal(audit_admin(s, action, NULL, 1767225600000), LSN_OK);
	store_req_end(s, keep);
	assert_int_equal(store_batch_commit(s), LSN_OK);
}

struct collect {
	int n;
	char action[16][STORE_AUDIT_WORD];
	char outcome[16][STORE_AUDIT_WORD];
	bool has_user[16];
};

static void
collect_one(const struct store_audit *e, void *arg)
{
	struct collect *c = arg;
	if (c->n >= 16)
		return;
	snprintf(c->action[c->n], STORE_AUDIT_WORD, "%s", e->action);
	snprintf(c->outcome[c->n], STORE_AUDIT_WORD, "%s", e->outcome);
	c->has_user[c->n] = e->has_actor_user;
	c->n++;
}

static void
test_savepoint_rollback(void **state)
{
	struct fx *f = *state;
	struct collect c = {0};
	struct audit_report r;
	append_in_savepoint(f->store, "kept_1", true);
	append_in_savepoint(f->store, "undone", false);
	append_in_savepoint(f->store, "kept_2", true);
	assert_int_equal(store_audit_list(f->store, NULL, collect_one, &c), LSN_OK);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.action[0], "kept_1");
	assert_string_equal(c.action[1], "kept_2");
	assert_int_equal(audit_verify(f->store, &r), LSN_OK);
	assert_int_equal(r.entries, 2);
	assert_int_equal(r.head_seq, 2);
}

static void
test_login_entries(void **state)
{
	struct fx *f = *state;
	struct device_keys k;
	struct collect c = {0};
	struct audit_report r;
	enrol_ok(f, &k, "10101010105");
	json_decref(call(f, "challenge", NULL, NULL));
	json_t *reply = call(f, "login", login_body(f, &k, true), NULL);
	assert_string_equal(err_code(reply), "bad_signature");
	json_decref(reply);
	json_decref(call(f, "challenge", NULL, NULL));
	reply = call(f, "login", login_body(f, &k, false), NULL);
	assert_true(json_is_true(json_object_get(reply, "ok")));
	json_decref(reply);
	assert_int_equal(store_audit_list(f->store, NULL, collect_one, &c), LSN_OK);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.action[0], "enrol");
	assert_string_equal(c.action[1], "login_failed");
	assert_string_equal(c.outcome[1], "bad_signature");
	assert_true(c.has_user[1]);     /* the user it claimed */
	assert_string_equal(c.action[2], "login");
	assert_string_equal(c.outcome[2], "ok");
	assert_int_equal(audit_verify(f->store, &r), LSN_OK);
	assert_int_equal(r.entries, 3);
}

/* Change the database behind the store's back, as an intruder would. */
static void
tamper(struct fx *f, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	char *msg = NULL;
	int rc = sqlite3_exec(db, "DROP TRIGGER IF EXISTS audit_no_update;"
			      "DROP TRIGGER IF EXISTS audit_no_delete;", NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fail_msg("tamper: %s", msg ? msg : "?");
	sqlite3_close(db);
}

static void
five_entries(struct fx *f)
{
	char action[16];
	for (int i = 1; i <= 5; i++) {
		snprintf(action, sizeof action, "act_%d", i);
		append_in_savepoint(f->store, action, true);
	}
	struct audit_report r;
	assert_int_equal(audit_verify(f->store, &r), LSN_OK);
}

static void
expect_broken(struct fx *f, int64_t first_bad, const char *word)
{
	struct audit_report r;
	assert_int_equal(audit_verify(f->store, &r), LSN_ERR_CONFLICT);
	assert_int_equal(r.first_bad, first_bad);
	assert_true(r.problems >= 1);
	if (strstr(r.problem[0], word) == NULL)
		fail_msg("expected \"%s\" in \"%s\"", word, r.problem[0]);
}

static void
test_changed(void **state)
{
	struct fx *f = *state;
	five_entries(f);
	tamper(f, "UPDATE audit SET outcome = 'not_ok' WHERE seq = 3");
	expect_broken(f, 3, "changed");
}

static void
test_removed(void **state)
{
	struct fx *f = *state;
	five_entries(f);
	tamper(f, "DELETE FROM audit WHERE seq = 2");
	expect_broken(f, 2, "missing");
}

static void
test_reordered(void **state)
{
	struct fx *f = *state;
	five_entries(f);
	tamper(f, "UPDATE audit SET seq = 100 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3;"
		  "UPDATE audit SET seq = 3 WHERE seq = 100");
	expect_broken(f, 2, "out of order");
	/* the moved entries' content is intact: reported as moved, not as changed */
	struct audit_report r;
	assert_int_equal(audit_verify(f->store, &r), LSN_ERR_CONFLICT);
	for (int i = 0; i < r.problems && i < AUDIT_PROBLEMS_MAX; i++)
		if (strstr(r.problem[i], "changed"))
			fail_msg("a moved entry reported as changed: %s", r.problem[i]);
}

static void
test_truncated(void **state)
{
	struct fx *f = *state;
	five_entries(f);
	tamper(f, "DELETE FROM audit WHERE seq = 5");
	expect_broken(f, 5, "missing");
}

static void
test_rehashed_entry(void **state)
{
	/* a changed entry whose own hash was recomputed still breaks the next link */
	struct fx *f = *state;
	five_entries(f);
	struct store_audit e;
	uint8_t bytes[AUDIT_ENCODED_MAX], hash[32];
	char sql[256], hex[65];
	memset(&e, 0, sizeof e);
	e.seq = 2;
	e.at = 1767225600000;
	snprintf(e.action, sizeof e.action, "forged");
	snprintf(e.outcome, sizeof e.outcome, "ok");
	snprintf(e.origin, sizeof e.origin, "admin");
	/* prev_hash of entry 2 is entry 1's hash: read it */
	sqlite3 *db;
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT prev_hash FROM audit WHERE seq = 2", -1, &q,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	memcpy(e.prev_hash, sqlite3_column_blob(q, 0), 32);
	sqlite3_finalize(q);
	sqlite3_close(db);
	size_t len = audit_encode(&e, bytes);
	audit_chain_hash(e.prev_hash, bytes, len, hash);
	sodium_bin2hex(hex, sizeof hex, hash, 32);
	snprintf(sql, sizeof sql, "UPDATE audit SET action = 'forged', hash = x'%s' WHERE seq = 2", hex);
	tamper(f, sql);
	expect_broken(f, 3, "entry 2 was changed or replaced");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test_setup_teardown(test_savepoint_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reordered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rehashed_entry, setup, teardown),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
