/* store_messages.c — the thread as this device has seen it (decrypted text
 * sealed per (channel, seq), so that `read` shows history even after the
 * user was removed), per-channel sync state, and display names. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "store.h"

void
store_msg_clear(struct store_msg *m)
{
	free(m->envelope);
	if (m->plain) {
		sodium_memzero(m->plain, m->plain_len);
		free(m->plain);
	}
	memset(m, 0, sizeof *m);
}

enum lsn_err
store_msg_put(struct profile *p, const struct store_msg *m, struct lsn_status *st)
{
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	if (m->plain) {
		char name[SEAL_NAME_BUF];
		store_name_message(m->channel, m->seq, name);
		if (!store_seal(p, name, (const uint8_t *)m->plain, m->plain_len, &blob, &blob_len))
			return lsn_fail(st, LSN_ERR_INTERNAL, "cannot seal a message");
	}
	enum lsn_err err = store_exec(
		p, st, "INSERT OR REPLACE INTO messages (channel, seq, ts, sender_user, "
		       "sender_device, session_id, idx, status, detail, envelope, first_seen, "
		       "shared_by, sealed) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
		"innbbbnttbnbb", m->channel, m->seq, m->ts, m->sender_user, (size_t)LSN_ID_BYTES,
		m->sender_device, (size_t)LSN_ID_BYTES, m->has_session ? m->session_id : NULL,
		(size_t)STORE_SID_BYTES, (int64_t)m->index, m->status,
		m->detail[0] ? m->detail : NULL, m->plain ? NULL : m->envelope, m->env_len,
		m->first_seen ? m->first_seen : lsn_clock_now_ms(),
		m->shared ? m->shared_by : NULL, (size_t)LSN_ID_BYTES, blob, blob_len);
	free(blob);
	return err;
}

#define MSG_COLUMNS \
	"seq, ts, sender_user, sender_device, session_id, idx, status, detail, envelope, " \
	"first_seen, shared_by, sealed"

static void
copy_blob(sqlite3_stmt *stmt, int col, uint8_t *out, size_t len, bool *present)
{
	bool ok = sqlite3_column_bytes(stmt, col) == (int)len;
	if (ok)
		memcpy(out, sqlite3_column_blob(stmt, col), len);
	if (present)
		*present = ok;
}

/* One row into m (m->channel set by the caller); false if it does not open. */
static bool
msg_row(struct profile *p, sqlite3_stmt *stmt, struct store_msg *m)
{
	m->seq = sqlite3_column_int64(stmt, 0);
	m->ts = sqlite3_column_int64(stmt, 1);
	copy_blob(stmt, 2, m->sender_user, LSN_ID_BYTES, NULL);
	copy_blob(stmt, 3, m->sender_device, LSN_ID_BYTES, NULL);
	copy_blob(stmt, 4, m->session_id, STORE_SID_BYTES, &m->has_session);
	m->index = (uint32_t)sqlite3_column_int64(stmt, 5);
	snprintf(m->status, sizeof m->status, "%s", (const char *)sqlite3_column_text(stmt, 6));
	const char *detail = (const char *)sqlite3_column_text(stmt, 7);
	snprintf(m->detail, sizeof m->detail, "%s", detail ? detail : "");
	m->first_seen = sqlite3_column_int64(stmt, 9);
	copy_blob(stmt, 10, m->shared_by, LSN_ID_BYTES, &m->shared);
	size_t env_len = (size_t)sqlite3_column_bytes(stmt, 8);
	if (env_len > 0 && (m->envelope = malloc(env_len)) != NULL) {
		memcpy(m->envelope, sqlite3_column_blob(stmt, 8), env_len);
		m->env_len = env_len;
	}
	size_t sealed_len = (size_t)sqlite3_column_bytes(stmt, 11);
	if (sealed_len == 0)
		return true;
	char name[SEAL_NAME_BUF];
	store_name_message(m->channel, m->seq, name);
	m->plain = malloc(sealed_len + 1);
	if (m->plain == NULL ||
	    !store_unseal(p, name, sqlite3_column_blob(stmt, 11), sealed_len, (uint8_t *)m->plain,
			  sealed_len, &m->plain_len)) {
		free(m->plain);
		m->plain = NULL;
		return false;
	}
	m->plain[m->plain_len] = '\0';
	return true;
}

enum lsn_err
store_msg_get(struct profile *p, const uint8_t channel[LSN_ID_BYTES], int64_t seq,
	      struct store_msg *out, bool *found, struct lsn_status *st)
{
	*found = false;
	memset(out, 0, sizeof *out);
	sqlite3_stmt *stmt = store_prepare(p, st, "SELECT " MSG_COLUMNS " FROM messages WHERE "
						  "channel = ? AND seq = ?", "in", channel, seq);
	if (stmt == NULL)
		return st->err;
	enum lsn_err err = LSN_OK;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		memcpy(out->channel, channel, LSN_ID_BYTES);
		if (msg_row(p, stmt, out))
			*found = true;
		else
			err = lsn_fail(st, LSN_ERR_INTERNAL, "a cached message does not open; the "
				       "profile database is damaged");
	}
	sqlite3_finalize(stmt);
	if (!*found)
		store_msg_clear(out);
	return err;
}

/* Step stmt (rows of MSG_COLUMNS) through fn. */
static void
msg_walk(struct profile *p, sqlite3_stmt *stmt, const uint8_t channel[LSN_ID_BYTES],
	 bool (*fn)(void *arg, struct store_msg *m), void *arg)
{
	bool go = true;
	while (go && sqlite3_step(stmt) == SQLITE_ROW) {
		struct store_msg m;
		memset(&m, 0, sizeof m);
		memcpy(m.channel, channel, LSN_ID_BYTES);
		if (!msg_row(p, stmt, &m)) {
			snprintf(m.status, sizeof m.status, "damaged");
			snprintf(m.detail, sizeof m.detail,
				 "the cached copy does not open (profile damaged)");
		}
		go = fn(arg, &m);
		store_msg_clear(&m);
	}
	sqlite3_finalize(stmt);
}

enum lsn_err
store_msg_each(struct profile *p, const uint8_t channel[LSN_ID_BYTES], long limit,
	       bool (*fn)(void *arg, struct store_msg *m), void *arg, struct lsn_status *st)
{
	sqlite3_stmt *stmt = store_prepare(
		p, st, "SELECT * FROM (SELECT " MSG_COLUMNS " FROM messages WHERE channel = ? "
		       "ORDER BY seq DESC LIMIT ?) ORDER BY seq", "in", channel,
		(int64_t)(limit > 0 ? limit : -1));
	if (stmt == NULL)
		return st->err;
	msg_walk(p, stmt, channel, fn, arg);
	return LSN_OK;
}

enum lsn_err
store_msg_since(struct profile *p, const uint8_t channel[LSN_ID_BYTES], int64_t after,
		bool (*fn)(void *arg, struct store_msg *m), void *arg, struct lsn_status *st)
{
	sqlite3_stmt *stmt = store_prepare(
		p, st, "SELECT " MSG_COLUMNS " FROM messages WHERE channel = ? AND seq > ? "
		       "ORDER BY seq", "in", channel, after);
	if (stmt == NULL)
		return st->err;
	msg_walk(p, stmt, channel, fn, arg);
	return LSN_OK;
}

enum lsn_err
store_msg_with_status(struct profile *p, const uint8_t channel[LSN_ID_BYTES], const char *status,
		      bool (*fn)(void *arg, struct store_msg *m), void *arg, struct lsn_status *st)
{
	sqlite3_stmt *stmt = store_prepare(
		p, st, "SELECT " MSG_COLUMNS " FROM messages WHERE channel = ? AND status = ? "
		       "ORDER BY seq", "it", channel, status);
	if (stmt == NULL)
		return st->err;
	msg_walk(p, stmt, channel, fn, arg);
	return LSN_OK;
}

enum lsn_err
store_msg_pending(struct profile *p, const uint8_t channel[LSN_ID_BYTES], int64_t *seqs,
		  size_t max, size_t *n, struct lsn_status *st)
{
	*n = 0;
	sqlite3_stmt *stmt = store_prepare(
		p, st, "SELECT seq FROM messages WHERE channel = ? AND envelope IS NOT NULL AND "
		       "status IN ('waiting', 'withheld', 'unknown_session', 'before_first') "
		       "ORDER BY seq", "i", channel);
	if (stmt == NULL)
		return st->err;
	while (*n < max && sqlite3_step(stmt) == SQLITE_ROW)
		seqs[(*n)++] = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return LSN_OK;
}

/* ---- channels ------------------------------------------------------------ */

enum lsn_err
store_channel_get(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
		  struct store_channel *out, struct lsn_status *st)
{
	memset(out, 0, sizeof *out);
	out->log_seq = -1;
	out->valid = true;
	sqlite3_stmt *stmt = store_prepare(
		p, st, "SELECT last_seq, log_seq, log_hash, valid, reason, kind, history "
		       "FROM channels WHERE channel = ?", "i", channel);
	if (stmt == NULL)
		return st->err;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		out->present = true;
		out->last_seq = sqlite3_column_int64(stmt, 0);
		out->log_seq = sqlite3_column_int64(stmt, 1);
		copy_blob(stmt, 2, out->log_hash, 32, &out->has_log_hash);
		out->valid = sqlite3_column_int(stmt, 3) != 0;
		const char *reason = (const char *)sqlite3_column_text(stmt, 4);
		const char *kind = (const char *)sqlite3_column_text(stmt, 5);
		const char *history = (const char *)sqlite3_column_text(stmt, 6);
		snprintf(out->reason, sizeof out->reason, "%s", reason ? reason : "");
		snprintf(out->kind, sizeof out->kind, "%s", kind ? kind : "");
		snprintf(out->history, sizeof out->history, "%s", history ? history : "");
	}
	sqlite3_finalize(stmt);
	return LSN_OK;
}

enum lsn_err
store_channel_put(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
		  const struct store_channel *c, struct lsn_status *st)
{
	return store_exec(
		p, st, "INSERT INTO channels (channel, kind, history, last_seq, log_seq, log_hash, "
		       "valid, reason, updated_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9) "
		       "ON CONFLICT (channel) DO UPDATE SET kind = ?2, history = ?3, log_seq = ?5, "
		       "log_hash = ?6, valid = ?7, reason = ?8, updated_at = ?9",
		"ittnnbntn", channel, c->kind[0] ? c->kind : NULL,
		c->history[0] ? c->history : NULL, c->last_seq, c->log_seq,
		c->has_log_hash ? c->log_hash : NULL, (size_t)32, (int64_t)c->valid,
		c->reason[0] ? c->reason : NULL, lsn_clock_now_ms());
}

enum lsn_err
store_channel_set_last_seq(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
			   int64_t last_seq, struct lsn_status *st)
{
	return store_exec(p, st, "UPDATE channels SET last_seq = ?, updated_at = ? WHERE "
				 "channel = ?", "nni", last_seq, lsn_clock_now_ms(), channel);
}

enum lsn_err
store_channel_set_topic(struct profile *p, const uint8_t channel[LSN_ID_BYTES], int64_t seq,
			const char *topic, struct lsn_status *st)
{
	char name[SEAL_NAME_BUF];
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	store_name_topic(channel, name);
	if (!store_seal(p, name, (const uint8_t *)topic, strlen(topic), &blob, &blob_len))
		return lsn_fail(st, LSN_ERR_INTERNAL, "cannot seal the topic");
	enum lsn_err err = store_exec(
		p, st, "UPDATE channels SET topic = ?, topic_seq = ? WHERE channel = ? AND "
		       "(topic_seq IS NULL OR topic_seq <= ?)", "bnin", blob, blob_len, seq, channel,
		seq);
	free(blob);
	return err;
}

void
store_channel_topic(struct profile *p, const uint8_t channel[LSN_ID_BYTES], char *buf,
		    size_t len)
{
	struct lsn_status st;
	char name[SEAL_NAME_BUF];
	size_t got = 0;
	buf[0] = '\0';
	store_name_topic(channel, name);
	sqlite3_stmt *stmt = store_prepare(p, &st, "SELECT topic FROM channels WHERE channel = ?",
					   "i", channel);
	if (stmt && sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_bytes(stmt, 0) > 0 &&
	    store_unseal(p, name, sqlite3_column_blob(stmt, 0),
			 (size_t)sqlite3_column_bytes(stmt, 0), (uint8_t *)buf, len - 1, &got))
		buf[got] = '\0';
	sqlite3_finalize(stmt);
}

/* ---- people -------------------------------------------------------------- */

enum lsn_err
store_person_put(struct profile *p, const uint8_t user[LSN_ID_BYTES], const char *name,
		 const char *profession, const char *rpps, struct lsn_status *st)
{
	return store_exec(p, st, "INSERT OR REPLACE INTO people (user, name, profession, rpps, "
				 "updated_at) VALUES (?,?,?,?,?)", "itttn", user, name, profession,
			  rpps, lsn_clock_now_ms());
}

bool
store_person_get(struct profile *p, const uint8_t user[LSN_ID_BYTES], char *name,
		 size_t name_len, char *profession, size_t prof_len)
{
	struct lsn_status st;
	sqlite3_stmt *stmt = store_prepare(p, &st, "SELECT name, profession FROM people WHERE "
						   "user = ?", "i", user);
	bool found = stmt && sqlite3_step(stmt) == SQLITE_ROW;
	if (found) {
		const char *n = (const char *)sqlite3_column_text(stmt, 0);
		const char *pr = (const char *)sqlite3_column_text(stmt, 1);
		snprintf(name, name_len, "%s", n ? n : "");
		snprintf(profession, prof_len, "%s", pr ? pr : "");
	}
	sqlite3_finalize(stmt);
	return found;
}
