/* profile_migrate.c — the formats of profile.db after the first, as
 * migrations: each step runs in its own transaction and sets user_version,
 * so an old profile is upgraded in place the first time it is unlocked.
 *
 * Format 2, the end-to-end store (local.h). Only public or server-visible
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
 * unsealed and sealed again under its new name, which needs the local key.
 *
 * Format 4, membership alarms (CRYPTO.md "Membership bound into messages",
 * local.h): table mlog_alarms keeps every membership-log head, carried by a
 * message or key share, that the served log did not contain (pending until
 * the log is fetched again, then active or dropped) and every rollback this
 * device saw, with when it was raised and cleared.
 *
 * Format 5, gaps and per-sender links (CRYPTO.md "Gaps and the per-sender
 * link"): messages.env_hash is the BLAKE2b-256 of each message's envelope
 * (to find the message a later one names as its "link"),
 * messages.prev_missing the hash a message named that this device never
 * held. Rows of an older profile get env_hash from
 * seen_msg (decrypted ones) or from their kept envelope. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "group_session.h"
#include "profile_db.h"
#include "seal.h"
#include "sql.h"

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

static const char migrate_v4[] =
	/* source: message, key_share, rollback; state: pending, active, cleared */
	"CREATE TABLE IF NOT EXISTS mlog_alarms (id INTEGER PRIMARY KEY, channel BLOB NOT NULL,"
	" head_seq INTEGER NOT NULL, head_hash BLOB NOT NULL, source TEXT NOT NULL"
	" CHECK (source IN ('message', 'key_share', 'rollback')), by_user BLOB,"
	" msg_seq INTEGER, state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'cleared')),"
	" noted_at INTEGER NOT NULL, raised_at INTEGER, cleared_at INTEGER);"
	"CREATE INDEX IF NOT EXISTS mlog_alarms_by_channel ON mlog_alarms (channel, state);"
	"PRAGMA user_version = 4;";

static const char migrate_v5[] =
	"ALTER TABLE messages ADD COLUMN env_hash BLOB;"
	"ALTER TABLE messages ADD COLUMN prev_missing BLOB;"
	"UPDATE messages SET env_hash = (SELECT s.env_hash FROM seen_msg s"
	" WHERE s.session_id = messages.session_id AND s.idx = messages.idx)"
	" WHERE env_hash IS NULL AND session_id IS NOT NULL;"
	"CREATE INDEX IF NOT EXISTS messages_by_env_hash ON messages (channel, env_hash);"
	"CREATE INDEX IF NOT EXISTS seen_msg_by_env_hash ON seen_msg (channel, env_hash);"
	"PRAGMA user_version = 5;";

/* The seqs this device had that the server no longer shows (its channel
 * counter set back below them): cut_from..cut_to, 0 none. */
static const char migrate_v6[] =
	"ALTER TABLE channels ADD COLUMN cut_from INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE channels ADD COLUMN cut_to INTEGER NOT NULL DEFAULT 0;"
	"PRAGMA user_version = 6;";

/* The kept envelopes (messages not decrypted) hashed into env_hash. */
static const char *
migrate_v5_hash(struct profile_db *db, const uint8_t *key, struct lsn_status *st)
{
	(void)key;
	struct sql_q q;
	size_t n = 0, cap = 0;
	struct row { uint8_t channel[LSN_ID_BYTES]; int64_t seq; uint8_t hash[32]; } *rows = NULL;
	if (!sql_query(db, &q, st, "SELECT channel, seq, envelope FROM messages WHERE env_hash IS "
				   "NULL AND envelope IS NOT NULL", ""))
		return st->msg;
	const char *why = NULL;
	while (why == NULL && sql_next(&q)) {
		size_t len = 0;
		const uint8_t *env = sql_blob(&q, 2, &len);
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct row *grown = realloc(rows, ncap * sizeof *grown);
			if (grown == NULL) {
				why = "out of memory";
				break;
			}
			rows = grown;
			cap = ncap;
		}
		if (!sql_copy(&q, 0, rows[n].channel, LSN_ID_BYTES) || env == NULL)
			continue;
		rows[n].seq = sql_int(&q, 1);
		lsn_gs_envelope_hash(env, len, rows[n].hash);
		n++;
	}
	sql_end(&q, NULL);
	for (size_t i = 0; i < n && why == NULL; i++)
		if (sql_exec(db, st, "UPDATE messages SET env_hash = ? WHERE channel = ? AND seq = ?",
			     "kin", rows[i].hash, rows[i].channel, rows[i].seq) != LSN_OK)
			why = st->msg;
	free(rows);
	return why;
}

/* Insert the sealed private half of ak_id under its own item name. */
static bool
put_ak_item(struct profile_db *db, const uint8_t *key, const uint8_t id[LSN_ID_BYTES],
	    const uint8_t sk[crypto_kx_SECRETKEYBYTES], struct lsn_status *st)
{
	uint8_t nonce[SEAL_NONCEBYTES], ct[crypto_kx_SECRETKEYBYTES + SEAL_ABYTES];
	char item[PROFILE_AK_ITEM_BUF];
	profile_ak_item(id, item);
	return seal_item(key, item, sk, crypto_kx_SECRETKEYBYTES, nonce, ct) &&
	       sql_exec(db, st, "INSERT INTO sealed (name, nonce, ct) VALUES (?, ?, ?)", "tbb",
			item, nonce, sizeof nonce, ct, sizeof ct) == LSN_OK;
}

/* Is the AK meta names already the current row (its item moved)? A step
 * that finds its work done does nothing: e.g. a format-3 profile whose
 * user_version was set back (the integration tests make "old" profiles so). */
static bool
ak_already_moved(struct profile_db *db)
{
	static const char sql[] =
		"SELECT 1 FROM agreement_keys a, meta m, sealed s WHERE m.key = 'ak_id'"
		" AND a.state = 'current' AND lower(hex(a.ak_id)) = m.value"
		" AND s.name = 'ak_sk:' || m.value"
		" AND NOT EXISTS (SELECT 1 FROM sealed WHERE name = 'ak_sk')";
	struct lsn_status st;
	struct sql_q q;
	bool done = sql_query(db, &q, &st, sql, "") && sql_next(&q);
	sql_end(&q, NULL);
	return done;
}

/* The single agreement key of a format-2 profile becomes the current one.
 * NULL on success, else what went wrong (in st->msg). */
static const char *
migrate_v3_move_ak(struct profile_db *db, const uint8_t *key, struct lsn_status *st)
{
	if (ak_already_moved(db))
		return NULL;
	static const char sql[] =
		"SELECT (SELECT value FROM meta WHERE key = 'ak_id'),"
		" (SELECT value FROM meta WHERE key = 'ak_pk'),"
		" (SELECT value FROM meta WHERE key = 'ak_ts'),"
		" nonce, ct FROM sealed WHERE name = 'ak_sk'";
	struct sql_q q;
	uint8_t id[LSN_ID_BYTES], pk[crypto_kx_PUBLICKEYBYTES], sk[crypto_kx_SECRETKEYBYTES];
	uint8_t nonce[SEAL_NONCEBYTES], ct[crypto_kx_SECRETKEYBYTES + SEAL_ABYTES];
	const char *why = NULL;
	int64_t ts = 0;
	if (!sql_query(db, &q, st, sql, "")) {
		why = st->msg;
	} else if (!sql_next(&q) || !sql_is_text(&q, 0) || !lsn_id_from_hex(sql_text(&q, 0), id) ||
		   !sql_copy(&q, 1, pk, sizeof pk) || !sql_is_int(&q, 2) ||
		   !sql_copy(&q, 3, nonce, sizeof nonce) || !sql_copy(&q, 4, ct, sizeof ct) ||
		   !seal_open_item(key, "ak_sk", nonce, ct, sizeof ct, sk)) {
		why = "the agreement key (entry \"ak_sk\") is damaged";
	} else {
		ts = sql_int(&q, 2);
	}
	sql_end(&q, NULL);
	if (why == NULL) {
		bool ok = put_ak_item(db, key, id, sk, st) &&
			  sql_exec(db, st, "INSERT INTO agreement_keys (ak_id, ak_pk, ak_ts,"
					   " state, added_at) VALUES (?, ?, ?, 'current', ?)",
				   "iknn", id, pk, ts, ts) == LSN_OK &&
			  /* the old item goes (secure_delete wipes its content) */
			  sql_exec(db, st, "DELETE FROM sealed WHERE name = 'ak_sk'", "") == LSN_OK;
		if (!ok)
			why = st->msg;
	}
	sodium_memzero(sk, sizeof sk);
	return why;
}

/* Format n: its SQL, then (if any) a step that needs the local key. */
static const struct {
	const char *sql;
	const char *(*fn)(struct profile_db *db, const uint8_t *key, struct lsn_status *st);
} migrations[] = {
	{NULL, NULL},                       /* 0 -> 1: the enrolment writes format 1 */
	{NULL, NULL},                       /* (unused) */
	{migrate_v2, NULL},                 /* 1 -> 2 */
	{migrate_v3, migrate_v3_move_ak},   /* 2 -> 3 */
	{migrate_v4, NULL},                 /* 3 -> 4 */
	{migrate_v5, migrate_v5_hash},      /* 4 -> 5 */
	{migrate_v6, NULL},                 /* 5 -> 6 */
};

enum lsn_err
profile_migrate(struct profile_db *db, const uint8_t *key, struct lsn_status *st)
{
	int version = profile_db_version(db);
	if (version < 1)
		return lsn_fail(st, LSN_ERR_INTERNAL, "this is not a liaison profile database");
	for (int next = version + 1; next <= PROFILE_DB_VERSION; next++) {
		struct lsn_status wst = {0};
		const char *why = NULL;
		bool ok = sql_begin(db, &wst) == LSN_OK &&
			  sql_script(db, &wst, migrations[next].sql) == LSN_OK &&
			  (migrations[next].fn == NULL ||
			   (why = migrations[next].fn(db, key, &wst)) == NULL) &&
			  sql_commit(db, &wst) == LSN_OK;
		if (!ok) {
			lsn_fail(st, LSN_ERR_INTERNAL,
				 "cannot upgrade the profile database to format %d: %s; free disk "
				 "space and retry", next, why ? why : wst.msg);
			sql_rollback(db);
			return st->err;
		}
	}
	return LSN_OK;
}
