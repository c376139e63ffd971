/* profile_tool.c — lsn-profile-tool, for the integration tests only: the
 * profile database is encrypted (SQLCipher), so a test that reads or
 * changes a client's profile with Python's sqlite3 (as a thief with the
 * passphrase, or to damage it on purpose) goes through a copy in the clear.
 *
 *   lsn-profile-tool clear DIR OUT      profile.db of DIR in the clear at OUT
 *   lsn-profile-tool encrypt DIR IN     IN (in the clear) encrypted in place of
 *                                       DIR/profile.db (no liaison may run on it)
 *   lsn-profile-tool legacy DIR IN      IN put in place of DIR/profile.db in the
 *                                       clear, profile.key removed: a profile as
 *                                       liaison wrote it before the encryption
 *
 * The passphrase is read from LIAISON_PASSPHRASE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "profile_db.h"
#include "profile_keyfile.h"
#include "seal.h"
#include "sql.h"

static int
fail(const char *what, const struct lsn_status *st)
{
	fprintf(stderr, "lsn-profile-tool: %s%s%s\n", what, st ? ": " : "", st ? st->msg : "");
	return 1;
}

/* The database key of DIR's profile for the passphrase (first line of profile.key). */
static int
db_key(const char *dir, uint8_t dbk[SEAL_DB_KEYBYTES])
{
	char path[4096];
	struct keyfile kf;
	struct lsn_status st = {0};
	uint8_t *key = NULL;
	const char *pass = getenv("LIAISON_PASSPHRASE");
	snprintf(path, sizeof path, "%s/%s", dir, PROFILE_KEYFILE);
	if (pass == NULL)
		return fail("set LIAISON_PASSPHRASE", NULL);
	if (keyfile_read(path, &kf, &st) != LSN_OK)
		return fail("profile.key", &st);
	if (seal_derive(&kf.kdf[0], pass, &key, &st) != LSN_OK)
		return fail("key derivation", &st);
	seal_db_key(key, dbk);
	seal_key_free(key);
	return 0;
}

static int
exec_sql(struct profile_db *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "lsn-profile-tool: %s: %s\n", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return 1;
	}
	return 0;
}

static int
to_clear(const char *dir, const char *out)
{
	uint8_t dbk[SEAL_DB_KEYBYTES];
	char path[4096];
	struct lsn_status st = {0};
	if (db_key(dir, dbk) != 0)
		return 1;
	snprintf(path, sizeof path, "%s/%s", dir, PROFILE_DB);
	struct profile_db *db = sql_open_key(path, false, dbk, NULL, &st);
	if (db == NULL)
		return fail("open", &st);
	unlink(out);
	FILE *made = fopen(out, "wb"); /* ATTACH does not create files here */
	if (made == NULL || fclose(made) != 0)
		return fail("cannot create the copy", NULL);
	char *attach = sqlite3_mprintf("ATTACH DATABASE %Q AS clear KEY ''", out);
	char version[64];
	snprintf(version, sizeof version, "PRAGMA clear.user_version = %d", profile_db_version(db));
	int rc = exec_sql(db, attach) || exec_sql(db, "SELECT sqlcipher_export('clear')") ||
		 exec_sql(db, version) || exec_sql(db, "DETACH DATABASE clear");
	sqlite3_free(attach);
	sql_close(db);
	return rc;
}

static void
remove_journal(const char *path)
{
	char p[4200];
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
}

static int
put_back(const char *dir, const char *in, bool legacy)
{
	uint8_t dbk[SEAL_DB_KEYBYTES];
	char path[4096], tmp[4200], key_path[4096];
	struct lsn_status st = {0};
	if (db_key(dir, dbk) != 0)
		return 1;
	snprintf(path, sizeof path, "%s/%s", dir, PROFILE_DB);
	snprintf(tmp, sizeof tmp, "%s.tool", path);
	snprintf(key_path, sizeof key_path, "%s/%s", dir, PROFILE_KEYFILE);
	struct profile_db *db = sql_open(in, false, &st);
	if (db == NULL)
		return fail("open", &st);
	unlink(tmp);
	int rc = 0;
	if (legacy) {
		/* the file in the clear as it is, its WAL folded in */
		rc = exec_sql(db, "PRAGMA wal_checkpoint(TRUNCATE)") ||
		     exec_sql(db, "PRAGMA journal_mode = DELETE");
		sql_close(db);
		char cmd[9000];
		FILE *src = fopen(in, "rb"), *dst = fopen(tmp, "wb");
		size_t n;
		while (rc == 0 && src && dst && (n = fread(cmd, 1, sizeof cmd, src)) > 0)
			rc = fwrite(cmd, 1, n, dst) != n;
		rc = rc || !src || !dst;
		if (src)
			fclose(src);
		if (dst && fclose(dst) != 0)
			rc = 1;
	} else {
		rc = sql_export(db, tmp, dbk, &st) != LSN_OK;
		sql_close(db);
		if (rc)
			return fail("export", &st);
	}
	remove_journal(path);
	if (rc || rename(tmp, path) != 0)
		return fail("cannot put the database in place", NULL);
	if (legacy)
		unlink(key_path);
	return 0;
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc == 4 && strcmp(argv[1], "clear") == 0)
		return to_clear(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "encrypt") == 0)
		return put_back(argv[2], argv[3], false);
	if (argc == 4 && strcmp(argv[1], "legacy") == 0)
		return put_back(argv[2], argv[3], true);
	fprintf(stderr, "usage: lsn-profile-tool clear|encrypt|legacy DIR FILE\n");
	return 2;
}
