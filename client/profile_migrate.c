/* profile_migrate.c — the formats of profile.db after the first, as
 * migrations: each step runs in its own transaction and sets user_version,
 * so an old profile is upgraded in place the first time it is unlocked.
 *
 * Format 2, the end-to-end store (store.h). Only public or server-visible
 * data is in the clear (ids, sequence numbers, times, public keys); every
 * chain key, session signing key and decrypted message is in a `sealed`
 * column: nonce(24) || XChaCha20-Poly1305 under the local key, with
 * AD = "liaison-local-v1" || item name (seal.h), the name binding the row. */
#include <sqlite3.h>

#include "profile_db.h"

static const char migrate_v2[] =
	/* identity keys of other users, trust on first use (CRYPTO.md §2) */
	"CREATE TABLE pins (user BLOB PRIMARY KEY, ik BLOB NOT NULL, rpps TEXT,"
	" verified INTEGER NOT NULL DEFAULT 0, changed_ik BLOB, pinned_at INTEGER NOT NULL,"
	" verified_at INTEGER, changed_at INTEGER) WITHOUT ROWID;"
	/* every IK ever accepted for a user: old device certificates stay valid */
	"CREATE TABLE pin_history (user BLOB NOT NULL, ik BLOB NOT NULL,"
	" accepted_at INTEGER NOT NULL, PRIMARY KEY (user, ik)) WITHOUT ROWID;"
	/* names of professionals as the directory shows them, for display */
	"CREATE TABLE people (user BLOB PRIMARY KEY, name TEXT, profession TEXT, rpps TEXT,"
	" updated_at INTEGER NOT NULL) WITHOUT ROWID;"
	/* per channel: sync position and the last verified state of its log */
	"CREATE TABLE channels (channel BLOB PRIMARY KEY, kind TEXT, history TEXT,"
	" last_seq INTEGER NOT NULL DEFAULT 0, log_seq INTEGER NOT NULL DEFAULT -1,"
	" log_hash BLOB, valid INTEGER NOT NULL DEFAULT 1, reason TEXT,"
	" topic_seq INTEGER, topic BLOB, updated_at INTEGER NOT NULL) WITHOUT ROWID;"
	/* our sending session per channel: sealed = S_sk(64) CK(32) index(u32) */
	"CREATE TABLE outbound (channel BLOB PRIMARY KEY, session_id BLOB NOT NULL,"
	" created_at INTEGER NOT NULL, created_log_seq INTEGER NOT NULL,"
	" sent INTEGER NOT NULL DEFAULT 0, next_index INTEGER NOT NULL,"
	" rotate TEXT, sealed BLOB NOT NULL) WITHOUT ROWID;"
	/* which devices got which outbound session, from which index */
	"CREATE TABLE shared_with (session_id BLOB NOT NULL, device BLOB NOT NULL,"
	" user BLOB NOT NULL, idx INTEGER NOT NULL, shared_at INTEGER NOT NULL,"
	" PRIMARY KEY (session_id, device)) WITHOUT ROWID;"
	/* sessions we can decrypt: sealed = CK at first_index (32) || u32 first_index;
	 * forwarded_by gave us the key at first_index (history), direct_index is
	 * the lowest index the sender itself gave us (-1: none) */
	"CREATE TABLE inbound (session_id BLOB PRIMARY KEY, channel BLOB NOT NULL,"
	" sender_user BLOB NOT NULL, sender_device BLOB NOT NULL,"
	" first_index INTEGER NOT NULL, forwarded_by BLOB, via_device BLOB,"
	" direct_index INTEGER NOT NULL DEFAULT -1,"
	" history INTEGER NOT NULL DEFAULT 0, received_at INTEGER NOT NULL,"
	" backed_up INTEGER NOT NULL DEFAULT 0, sealed BLOB NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX inbound_by_channel ON inbound (channel);"
	/* a sender told us it withheld a session from this device, and why */
	"CREATE TABLE withheld (session_id BLOB PRIMARY KEY, channel BLOB NOT NULL,"
	" sender_user BLOB NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL)"
	" WITHOUT ROWID;"
	/* (session, index) -> hash of the envelope: duplicate or alarm */
	"CREATE TABLE seen_msg (session_id BLOB NOT NULL, idx INTEGER NOT NULL,"
	" env_hash BLOB NOT NULL, channel BLOB, seq INTEGER,"
	" PRIMARY KEY (session_id, idx)) WITHOUT ROWID;"
	"CREATE TABLE seen_share (share_id BLOB PRIMARY KEY, seen_at INTEGER NOT NULL)"
	" WITHOUT ROWID;"
	/* the thread as this device has seen it; sealed = plaintext JSON */
	"CREATE TABLE messages (channel BLOB NOT NULL, seq INTEGER NOT NULL,"
	" ts INTEGER NOT NULL, sender_user BLOB, sender_device BLOB, session_id BLOB,"
	" idx INTEGER, status TEXT NOT NULL, detail TEXT, envelope BLOB,"
	" first_seen INTEGER NOT NULL, shared_by BLOB, sealed BLOB,"
	" PRIMARY KEY (channel, seq)) WITHOUT ROWID;"
	"CREATE INDEX messages_by_status ON messages (channel, status);"
	/* key requests we sent, so that we do not repeat them at every read */
	"CREATE TABLE key_requests (session_id BLOB PRIMARY KEY, channel BLOB NOT NULL,"
	" requested_at INTEGER NOT NULL) WITHOUT ROWID;"
	"PRAGMA user_version = 2;";

static const char *const migrations[] = {
	NULL,       /* 0 -> 1: the enrolment writes format 1 */
	NULL,       /* (unused) */
	migrate_v2, /* 1 -> 2 */
};

static int
current_version(sqlite3 *db)
{
	sqlite3_stmt *stmt = NULL;
	int version = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return version;
}

enum lsn_err
profile_migrate(sqlite3 *db, struct lsn_status *st)
{
	int version = current_version(db);
	if (version < 1)
		return lsn_fail(st, LSN_ERR_INTERNAL, "this is not a liaison profile database");
	for (int next = version + 1; next <= PROFILE_DB_VERSION; next++) {
		bool ok = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK &&
			  sqlite3_exec(db, migrations[next], NULL, NULL, NULL) == SQLITE_OK &&
			  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
		if (!ok) {
			lsn_fail(st, LSN_ERR_INTERNAL,
				 "cannot upgrade the profile database to format %d: %s; free disk "
				 "space and retry", next, sqlite3_errmsg(db));
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return st->err;
		}
	}
	return LSN_OK;
}
