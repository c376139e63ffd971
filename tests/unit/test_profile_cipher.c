/* test_profile_cipher.c — the profile encrypted as a whole (CRYPTO.md §7,
 * profile.h): a new profile's files hold nothing of it in the clear and
 * profile.key only its parameters; a wrong passphrase changes nothing;
 * profile_rekey re-encrypts the database in its transaction, after which
 * only the new passphrase opens it and another process that had it open
 * stops at its next write with a message; a change of passphrase cut short
 * at either side of its transaction (profile.key listing both parameter
 * lines) opens with the passphrase of the state the database is in, and the
 * unlock leaves one line; a profile in the clear (as liaison wrote it
 * before) is converted at its first unlock, not while another process
 * still has frames in its WAL, and what a conversion cut short left behind
 * is wiped. A real profile in a temporary LIAISON_HOME. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "clock.h"
#include "local.h"
#include "profile.h"
#include "profile_db.h"
#include "profile_keyfile.h"
#include "seal.h"
#include "sql.h"

#define PASS "correct horse battery staple"
#define NEW_PASS "a new passphrase, longer"

struct world {
	char home[64];
	char dir[128];
	uint8_t user[LSN_ID_BYTES];
};

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	assert_non_null(w);
	snprintf(w->home, sizeof w->home, "/tmp/lsn-pcipher-XXXXXX");
	assert_non_null(mkdtemp(w->home));
	setenv("LIAISON_HOME", w->home, 1);
	snprintf(w->dir, sizeof w->dir, "%s/profiles/p", w->home);
	struct lsn_status st = {0};
	struct profile *p = NULL;
	assert_int_equal(profile_reserve("p", &p, &st), LSN_OK);
	p->keys = profile_keys_new();
	assert_non_null(p->keys);
	lsn_id_random(p->user);
	memcpy(w->user, p->user, LSN_ID_BYTES);
	lsn_id_random(p->device);
	lsn_id_random(p->ak_id);
	crypto_sign_keypair(p->ik_pk, p->keys->ik_sk);
	crypto_sign_keypair(p->dk_pk, p->keys->dk_sk);
	crypto_kx_keypair(p->ak_pk, p->keys->ak_sk);
	p->created_at = p->dk_ts = p->ak_ts = lsn_clock_now_ms();
	p->server_url = strdup("wss://liaison.example:8443");
	p->server_name = strdup("liaison.example");
	p->device_name = strdup("poste-secretariat");
	assert_int_equal(profile_write_new(p, PASS, &st), LSN_OK);
	assert_int_equal(profile_commit_new(p, &st), LSN_OK);
	profile_close(p);
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", w->home);
	/* banned-ok(system): a test removing the directory its own mkdtemp
	   made from a fixed template: no outside input reaches the shell */
	assert_int_equal(system(cmd), 0);
	free(w);
	return 0;
}

static struct profile *
unlock(const char *pass, enum lsn_err want)
{
	struct lsn_status st = {0};
	struct profile *p = NULL;
	assert_int_equal(profile_open("p", &p, &st), LSN_OK);
	enum lsn_err err = profile_unlock(p, pass, &st);
	if (err != want)
		fail_msg("unlock: %d (%s), wanted %d", err, st.msg, want);
	if (err != LSN_OK) {
		profile_close(p);
		return NULL;
	}
	return p;
}

static size_t
read_file(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return 0;
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static struct keyfile
keyfile_of(struct world *w)
{
	char path[200];
	struct keyfile kf;
	struct lsn_status st = {0};
	snprintf(path, sizeof path, "%s/%s", w->dir, PROFILE_KEYFILE);
	assert_int_equal(keyfile_read(path, &kf, &st), LSN_OK);
	return kf;
}

static void
put_keyfile(struct world *w, const struct keyfile *kf)
{
	char path[200];
	struct lsn_status st = {0};
	snprintf(path, sizeof path, "%s/%s", w->dir, PROFILE_KEYFILE);
	assert_int_equal(keyfile_write(path, kf, &st), LSN_OK);
}

/* Nothing of the profile in its files; profile.key: the format line and one
 * parameter line; the wrong passphrase is refused as such and changes
 * nothing; the right one fills the fields that profile_open left empty. */
static void
test_new_profile(void **state)
{
	struct world *w = *state;
	static uint8_t buf[1 << 20];
	char path[200], hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(w->user, hex);
	const char *files[] = {PROFILE_DB, PROFILE_KEYFILE};
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s", w->dir, files[i]);
		size_t n = read_file(path, buf, sizeof buf);
		assert_true(n > 0);
		assert_null(memmem(buf, n, "poste-secretariat", 17));
		assert_null(memmem(buf, n, "liaison.example", 15));
		assert_null(memmem(buf, n, hex, LSN_ID_HEX));
		assert_null(memmem(buf, n, w->user, LSN_ID_BYTES));
		assert_null(memmem(buf, n, "SQLite format 3", 15));
	}
	struct keyfile kf = keyfile_of(w);
	assert_int_equal(kf.n, 1);
	assert_int_equal(kf.kdf[0].opslimit, crypto_pwhash_OPSLIMIT_INTERACTIVE);

	struct lsn_status st = {0};
	struct profile *p = NULL;
	assert_int_equal(profile_open("p", &p, &st), LSN_OK);
	assert_null(p->server_url); /* nothing is read before the passphrase */
	assert_int_equal(profile_unlock(p, "not it", &st), LSN_ERR_BAD_SIGNATURE);
	assert_true(profile_wrong_passphrase(st.err));
	assert_non_null(strstr(st.msg, PROFILE_WRONG_PASSPHRASE));
	assert_int_equal(profile_unlock(p, PASS, &st), LSN_OK);
	assert_string_equal(p->device_name, "poste-secretariat");
	assert_memory_equal(p->user, w->user, LSN_ID_BYTES);
	profile_close(p);
}

/* profile_rekey: the old passphrase no longer opens it, the new one does,
 * what was stored is still there; another process that had it open stops
 * at its next write with the message that the passphrase changed. */
static void
test_rekey(void **state)
{
	struct world *w = *state;
	struct lsn_status st = {0};
	struct profile *p = unlock(PASS, LSN_OK);
	struct profile *other = unlock(PASS, LSN_OK);
	assert_int_equal(local_set_setting(p, "kept", 42, &st), LSN_OK);
	struct keyfile before = keyfile_of(w);
	assert_int_equal(profile_rekey(p, NEW_PASS, &st), LSN_OK);
	struct keyfile after = keyfile_of(w);
	assert_int_equal(after.n, 1);
	assert_memory_not_equal(after.kdf[0].salt, before.kdf[0].salt, SEAL_SALTBYTES);
	/* this process goes on with the new key */
	assert_int_equal(local_set_setting(p, "after", 1, &st), LSN_OK);
	/* the other one stops */
	assert_int_not_equal(local_begin(other, &st), LSN_OK);
	assert_int_equal(st.err, LSN_ERR_CONFLICT);
	assert_non_null(strstr(st.msg, "was changed by another liaison process"));
	profile_close(other);
	profile_close(p);
	unlock(PASS, LSN_ERR_BAD_SIGNATURE);
	p = unlock(NEW_PASS, LSN_OK);
	assert_int_equal(local_setting(p, "kept", -1), 42);
	assert_int_equal(local_setting(p, "after", -1), 1);
	profile_close(p);
}

/* Cut short before its transaction committed: profile.key lists a new line
 * first and the old one, the database is still under the old key. The old
 * passphrase opens it, and the unlock keeps its line only. */
static void
test_rekey_cut_before_commit(void **state)
{
	struct world *w = *state;
	struct keyfile kf = keyfile_of(w);
	kf.kdf[1] = kf.kdf[0];
	seal_kdf_new(&kf.kdf[0]);
	kf.n = 2;
	put_keyfile(w, &kf);
	unlock(NEW_PASS, LSN_ERR_BAD_SIGNATURE);
	struct profile *p = unlock(PASS, LSN_OK);
	profile_close(p);
	struct keyfile now = keyfile_of(w);
	assert_int_equal(now.n, 1);
	assert_memory_equal(now.kdf[0].salt, kf.kdf[1].salt, SEAL_SALTBYTES);
}

/* Cut short after it: the database is under the new key, profile.key still
 * lists both. The new passphrase opens it; one line is left. */
static void
test_rekey_cut_after_commit(void **state)
{
	struct world *w = *state;
	struct lsn_status st = {0};
	struct keyfile old = keyfile_of(w);
	struct profile *p = unlock(PASS, LSN_OK);
	assert_int_equal(profile_rekey(p, NEW_PASS, &st), LSN_OK);
	profile_close(p);
	struct keyfile kf = keyfile_of(w);
	kf.kdf[1] = old.kdf[0];
	kf.n = 2;
	put_keyfile(w, &kf);
	unlock(PASS, LSN_ERR_BAD_SIGNATURE);
	p = unlock(NEW_PASS, LSN_OK);
	profile_close(p);
	struct keyfile now = keyfile_of(w);
	assert_int_equal(now.n, 1);
	assert_memory_equal(now.kdf[0].salt, kf.kdf[0].salt, SEAL_SALTBYTES);
}

/* A damaged or missing profile.key is said so, not taken for a wrong
 * passphrase. */
static void
test_keyfile_damaged(void **state)
{
	struct world *w = *state;
	char path[200];
	snprintf(path, sizeof path, "%s/%s", w->dir, PROFILE_KEYFILE);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("liaison-profile-key 1\nargon2id13 2 67108864 zz\n", f);
	fclose(f);
	struct lsn_status st = {0};
	struct profile *p = NULL;
	assert_int_equal(profile_open("p", &p, &st), LSN_OK);
	assert_int_equal(profile_unlock(p, PASS, &st), LSN_ERR_INTERNAL);
	assert_non_null(strstr(st.msg, "damaged"));
	unlink(path);
	assert_int_equal(profile_unlock(p, PASS, &st), LSN_ERR_INTERNAL);
	assert_non_null(strstr(st.msg, "missing"));
	profile_close(p);
}

static void
path_in(struct world *w, const char *file, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", w->dir, file);
}

static bool
exists(struct world *w, const char *file)
{
	char path[200];
	path_in(w, file, path, sizeof path);
	return access(path, F_OK) == 0;
}

static bool
is_clear(struct world *w)
{
	char path[200];
	uint8_t head[16] = {0};
	path_in(w, PROFILE_DB, path, sizeof path);
	return read_file(path, head, sizeof head) == sizeof head &&
	       memcmp(head, "SQLite format 3", 16) == 0;
}

/* The profile as an earlier liaison wrote it: the same database in the
 * clear (its user_version kept), no profile.key. */
static void
make_clear(struct world *w)
{
	char db_path[200], clear[200], key_path[200], sql[300];
	struct lsn_status st = {0};
	struct keyfile kf = keyfile_of(w);
	uint8_t *key = NULL, dbk[SEAL_DB_KEYBYTES];
	assert_int_equal(seal_derive(&kf.kdf[0], PASS, &key, &st), LSN_OK);
	seal_db_key(key, dbk);
	seal_key_free(key);
	path_in(w, PROFILE_DB, db_path, sizeof db_path);
	path_in(w, "clear.db", clear, sizeof clear);
	path_in(w, PROFILE_KEYFILE, key_path, sizeof key_path);
	struct profile_db *db = sql_open_key(db_path, false, dbk, NULL, &st);
	assert_non_null(db);
	FILE *f = fopen(clear, "wb"); /* ATTACH does not create it */
	assert_non_null(f);
	fclose(f);
	snprintf(sql, sizeof sql, "ATTACH DATABASE '%s' AS clear KEY ''", clear);
	assert_int_equal(sqlite3_exec(db->h, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db->h, "SELECT sqlcipher_export('clear')", NULL, NULL, NULL),
			 SQLITE_OK);
	snprintf(sql, sizeof sql, "PRAGMA clear.user_version = %d", profile_db_version(db));
	assert_int_equal(sqlite3_exec(db->h, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db->h, "DETACH DATABASE clear", NULL, NULL, NULL), SQLITE_OK);
	sql_close(db);
	assert_int_equal(rename(clear, db_path), 0);
	assert_int_equal(unlink(key_path), 0);
	assert_true(is_clear(w));
}

/* Converted once at the first unlock: a wrong passphrase leaves it in the
 * clear; another connection with frames in the WAL stops it (nothing
 * changed); then it is encrypted, its fields and format kept, nothing left
 * beside it; and a link to a clear file left by a conversion cut short is
 * wiped at the next unlock. */
static void
test_convert(void **state)
{
	struct world *w = *state;
	make_clear(w);
	unlock("not it", LSN_ERR_BAD_SIGNATURE);
	assert_true(is_clear(w));
	assert_false(exists(w, PROFILE_KEYFILE));

	/* an older liaison with the profile open, a write in its WAL */
	char db_path[200];
	struct lsn_status st = {0};
	path_in(w, PROFILE_DB, db_path, sizeof db_path);
	struct profile_db *old = sql_open(db_path, false, &st);
	assert_non_null(old);
	assert_int_equal(sql_exec(old, &st, "INSERT OR REPLACE INTO meta (key, value) "
				  "VALUES ('old_liaison', 1)", ""), LSN_OK);
	struct profile *p = NULL;
	assert_int_equal(profile_open("p", &p, &st), LSN_OK);
	assert_int_equal(profile_unlock(p, PASS, &st), LSN_ERR_CONFLICT);
	assert_non_null(strstr(st.msg, "another liaison process has profile.db open"));
	profile_close(p);
	assert_true(is_clear(w));
	assert_false(exists(w, PROFILE_KEYFILE));
	assert_false(exists(w, PROFILE_DB_CONVERT));
	assert_false(exists(w, PROFILE_DB_PLAIN));
	sql_close(old);

	p = unlock(PASS, LSN_OK);
	assert_string_equal(p->device_name, "poste-secretariat");
	assert_memory_equal(p->user, w->user, LSN_ID_BYTES);
	assert_int_equal(local_setting(p, "old_liaison", -1), 1); /* its last write kept */
	assert_int_equal(profile_db_version(p->db), PROFILE_DB_VERSION);
	profile_close(p);
	assert_false(is_clear(w));
	assert_int_equal(keyfile_of(w).n, 1);
	assert_false(exists(w, PROFILE_DB_CONVERT));
	assert_false(exists(w, PROFILE_DB_PLAIN));

	/* a clear file left as profile.db.plain (the rename done, the wipe not) */
	char plain[200];
	path_in(w, PROFILE_DB_PLAIN, plain, sizeof plain);
	FILE *f = fopen(plain, "wb");
	assert_non_null(f);
	fputs("SQLite format 3 ... Dr Claire Martin ...", f);
	fclose(f);
	p = unlock(PASS, LSN_OK);
	profile_close(p);
	assert_false(exists(w, PROFILE_DB_PLAIN));

	/* cut short before the rename: profile.db.plain is profile.db itself,
	 * only unlinked, and the clear profile converted again */
	make_clear(w);
	char db2[200];
	path_in(w, PROFILE_DB, db2, sizeof db2);
	assert_int_equal(link(db2, plain), 0);
	p = unlock(PASS, LSN_OK);
	assert_string_equal(p->device_name, "poste-secretariat");
	profile_close(p);
	assert_false(is_clear(w));
	assert_false(exists(w, PROFILE_DB_PLAIN));
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_profile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_cut_before_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_cut_after_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyfile_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_convert, setup, teardown),
	};
	return cmocka_run_group_tests_name("profile_cipher", tests, NULL, NULL);
}
