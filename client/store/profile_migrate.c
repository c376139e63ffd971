/* profile_migrate.c — the formats of profile.db after the first, as
 * migrations: each step runs in its own transaction and sets user_version,
 * so an old profile is upgraded in place the first time it is unlocked.
 *
 * Format 2, the end-to-end store (store.h). Only public or server-visible
 * data is in the clear (ids, sequence numbers, times, public keys); every
 * chain key, session signing key and decrypted message is in a `sealed`
 * column: nonce(24) || XChaCha20-Poly1305 under the local key, with
 * AD = "liaison-local-v1" || item name (seal.h), the name binding the row.
 *
 * Format 3, several agreement keys (CRYPTO.md §1, agreement_keys.h): table
 * agreement_keys lists every AK of this device (public half, ak_id, ak_ts,
 * state); the private half of each one still held is the sealed item
 * "ak_sk:<hex ak_id>". The single AK of an older profile (meta ak_id/ak_pk/
 * ak_ts, sealed item "ak_sk") becomes the current one: its private half is
 * unsealed and sealed again under its new name, which needs the local key. */
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "profile_db.h"
#include "seal.h"

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

static const char migrate_v3[] =
	/* state: current (one), previous (private half kept), pending (drawn,
	 * publication not confirmed: ak_sig and idem to resend it), erased (private
	 * half deleted; the row stays so that a late share names the reason) */
	"CREATE TABLE IF NOT EXISTS agreement_keys (ak_id BLOB PRIMARY KEY, ak_pk BLOB NOT NULL,"
	" ak_ts INTEGER NOT NULL, state TEXT NOT NULL"
	" CHECK (state IN ('current', 'previous', 'pending', 'erased')),"
	" ak_sig BLOB, idem TEXT, added_at INTEGER NOT NULL, erased_at INTEGER) WITHOUT ROWID;"
	"CREATE UNIQUE INDEX IF NOT EXISTS agreement_keys_one_current ON agreement_keys (state)"
	" WHERE state IN ('current', 'pending');"
	"PRAGMA user_version = 3;";

/* Insert the sealed private half of ak_id under its own item name. */
static bool
put_ak_item(sqlite3 *db, const uint8_t *key, const uint8_t id[LSN_ID_BYTES],
	    const uint8_t sk[crypto_kx_SECRETKEYBYTES])
{
	uint8_t nonce[SEAL_NONCEBYTES], ct[crypto_kx_SECRETKEYBYTES + SEAL_ABYTES];
	char item[PROFILE_AK_ITEM_BUF];
	sqlite3_stmt *ins = NULL;
	profile_ak_item(id, item);
	bool ok = seal_item(key, item, sk, crypto_kx_SECRETKEYBYTES, nonce, ct) &&
		  sqlite3_prepare_v2(db, "INSERT INTO sealed (name, nonce, ct) VALUES (?, ?, ?)",
				     -1, &ins, NULL) == SQLITE_OK &&
		  sqlite3_bind_text(ins, 1, item, -1, SQLITE_STATIC) == SQLITE_OK &&
		  sqlite3_bind_blob(ins, 2, nonce, sizeof nonce, SQLITE_STATIC) == SQLITE_OK &&
		  sqlite3_bind_blob(ins, 3, ct, sizeof ct, SQLITE_STATIC) == SQLITE_OK &&
		  sqlite3_step(ins) == SQLITE_DONE;
	sqlite3_finalize(ins);
	return ok;
}

/* Is the AK meta names already the current row (its item moved)? A step
 * that finds its work done does nothing: e.g. a format-3 profile whose
 * user_version was set back (the integration tests make "old" profiles so). */
static bool
ak_already_moved(sqlite3 *db)
{
	static const char sql[] =
		"SELECT 1 FROM agreement_keys a, meta m, sealed s WHERE m.key = 'ak_id'"
		" AND a.state = 'current' AND lower(hex(a.ak_id)) = m.value"
		" AND s.name = 'ak_sk:' || m.value"
		" AND NOT EXISTS (SELECT 1 FROM sealed WHERE name = 'ak_sk')";
	sqlite3_stmt *stmt = NULL;
	bool done = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK &&
		    sqlite3_step(stmt) == SQLITE_ROW;
	sqlite3_finalize(stmt);
	return done;
}

/* The single agreement key of a format-2 profile becomes the current one.
 * NULL on success, else what went wrong. */
static const char *
migrate_v3_move_ak(sqlite3 *db, const uint8_t *key)
{
	if (ak_already_moved(db))
		return NULL;
	static const char sql[] =
		"SELECT (SELECT value FROM meta WHERE key = 'ak_id'),"
		" (SELECT value FROM meta WHERE key = 'ak_pk'),"
		" (SELECT value FROM meta WHERE key = 'ak_ts'),"
		" nonce, ct FROM sealed WHERE name = 'ak_sk'";
	sqlite3_stmt *stmt = NULL, *ins = NULL;
	uint8_t id[LSN_ID_BYTES], sk[crypto_kx_SECRETKEYBYTES];
	const char *why = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		why = sqlite3_errmsg(db);
	} else if (sqlite3_step(stmt) != SQLITE_ROW ||
		   sqlite3_column_type(stmt, 0) != SQLITE_TEXT ||
		   !lsn_id_from_hex((const char *)sqlite3_column_text(stmt, 0), id) ||
		   sqlite3_column_type(stmt, 1) != SQLITE_BLOB ||
		   sqlite3_column_bytes(stmt, 1) != crypto_kx_PUBLICKEYBYTES ||
		   sqlite3_column_type(stmt, 2) != SQLITE_INTEGER ||
		   sqlite3_column_bytes(stmt, 3) != SEAL_NONCEBYTES ||
		   sqlite3_column_bytes(stmt, 4) != crypto_kx_SECRETKEYBYTES + SEAL_ABYTES ||
		   !seal_open_item(key, "ak_sk", sqlite3_column_blob(stmt, 3),
				   sqlite3_column_blob(stmt, 4),
				   crypto_kx_SECRETKEYBYTES + SEAL_ABYTES, sk)) {
		why = "the agreement key (entry \"ak_sk\") is damaged";
	} else {
		bool ok = put_ak_item(db, key, id, sk) &&
			  sqlite3_prepare_v2(db, "INSERT INTO agreement_keys (ak_id, ak_pk, ak_ts,"
					     " state, added_at) VALUES (?, ?, ?, 'current', ?)",
					     -1, &ins, NULL) == SQLITE_OK &&
			  sqlite3_bind_blob(ins, 1, id, sizeof id, SQLITE_STATIC) == SQLITE_OK &&
			  sqlite3_bind_value(ins, 2, sqlite3_column_value(stmt, 1)) == SQLITE_OK &&
			  sqlite3_bind_value(ins, 3, sqlite3_column_value(stmt, 2)) == SQLITE_OK &&
			  sqlite3_bind_value(ins, 4, sqlite3_column_value(stmt, 2)) == SQLITE_OK &&
			  sqlite3_step(ins) == SQLITE_DONE &&
			  /* the old item goes (secure_delete wipes its content) */
			  sqlite3_exec(db, "DELETE FROM sealed WHERE name = 'ak_sk'", NULL, NULL,
				       NULL) == SQLITE_OK;
		if (!ok)
			why = sqlite3_errmsg(db);
	}
	sodium_memzero(sk, sizeof sk);
	sqlite3_finalize(ins);
	sqlite3_finalize(stmt);
	return why;
}

/* Format n: its SQL, then (if any) a step that needs the local key. */
static const struct {
	const char *sql;
	const char *(*fn)(sqlite3 *db, const uint8_t *key);
} migrations[] = {
	{NULL, NULL},                       /* 0 -> 1: the enrolment writes format 1 */
	{NULL, NULL},                       /* (unused) */
	{migrate_v2, NULL},                 /* 1 -> 2 */
	{migrate_v3, migrate_v3_move_ak},   /* 2 -> 3 */
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
profile_migrate(sqlite3 *db, const uint8_t *key, struct lsn_status *st)
{
	int version = current_version(db);
	if (version < 1)
		return lsn_fail(st, LSN_ERR_INTERNAL, "this is not a liaison profile database");
	for (int next = version + 1; next <= PROFILE_DB_VERSION; next++) {
		const char *why = NULL;
		bool ok = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK &&
			  sqlite3_exec(db, migrations[next].sql, NULL, NULL, NULL) == SQLITE_OK &&
			  (migrations[next].fn == NULL ||
			   (why = migrations[next].fn(db, key)) == NULL) &&
			  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
		if (!ok) {
			lsn_fail(st, LSN_ERR_INTERNAL,
				 "cannot upgrade the profile database to format %d: %s; free disk "
				 "space and retry", next, why ? why : sqlite3_errmsg(db));
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return st->err;
		}
	}
	return LSN_OK;
}
