/* local_messages.c — the thread as this device has seen it (decrypted text
 * sealed per (channel, seq), so that `read` shows history even after the
 * user was removed), per-channel sync state, and display names. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "group_session.h"
#include "sql.h"
#include "local.h"

void
local_msg_clear(struct local_msg *m)
{
	free(m->envelope);
	if (m->plain) {
		sodium_memzero(m->plain, m->plain_len);
		free(m->plain);
	}
	memset(m, 0, sizeof *m);
}

enum lsn_err
local_msg_put(struct profile *p, const struct local_msg *m, struct lsn_status *st)
{
	uint8_t *blob = NULL, hash[32];
	size_t blob_len = 0;
	bool has_hash = m->has_env_hash;
	if (m->envelope && m->env_len > 0) {
		lsn_gs_envelope_hash(m->envelope, m->env_len, hash);
		has_hash = true;
	} else if (has_hash) {
		memcpy(hash, m->env_hash, sizeof hash);
	}
	if (m->plain) {
		char name[SEAL_NAME_BUF];
		local_name_message(m->channel, m->seq, name);
		if (!local_seal(p, name, (const uint8_t *)m->plain, m->plain_len, &blob, &blob_len))
			return lsn_fail(st, LSN_ERR_INTERNAL, "cannot seal a message");
	}
	enum lsn_err err = sql_exec(
		p->db, st, "INSERT OR REPLACE INTO messages (channel, seq, ts, sender_user, "
		       "sender_device, session_id, idx, status, detail, envelope, first_seen, "
		       "shared_by, sealed, env_hash, prev_missing) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		"innbbbnttbnbbbb", m->channel, m->seq, m->ts, m->sender_user, (size_t)LSN_ID_BYTES,
		m->sender_device, (size_t)LSN_ID_BYTES, m->has_session ? m->session_id : NULL,
		(size_t)LOCAL_SID_BYTES, (int64_t)m->index, m->status,
		m->detail[0] ? m->detail : NULL, m->plain ? NULL : m->envelope, m->env_len,
		m->first_seen ? m->first_seen : lsn_clock_now_ms(),
		m->shared ? m->shared_by : NULL, (size_t)LSN_ID_BYTES, blob, blob_len,
		has_hash ? hash : NULL, sizeof hash, m->prev_missing ? m->prev : NULL,
		sizeof m->prev);
	free(blob);
	return err;
}

#define MSG_COLUMNS \
	"seq, ts, sender_user, sender_device, session_id, idx, status, detail, envelope, " \
	"first_seen, shared_by, sealed, env_hash, prev_missing"

static void
copy_blob(struct sql_q *q, int col, uint8_t *out, size_t len, bool *present)
{
	bool ok = sql_copy(q, col, out, len);
	if (present)
		*present = ok;
}

/* One row into m (m->channel set by the caller); false if it does not open. */
static bool
msg_row(struct profile *p, struct sql_q *q, struct local_msg *m)
{
	m->seq = sql_int(q, 0);
	m->ts = sql_int(q, 1);
	copy_blob(q, 2, m->sender_user, LSN_ID_BYTES, NULL);
	copy_blob(q, 3, m->sender_device, LSN_ID_BYTES, NULL);
	copy_blob(q, 4, m->session_id, LOCAL_SID_BYTES, &m->has_session);
	m->index = (uint32_t)sql_int(q, 5);
	const char *status = sql_text(q, 6), *detail = sql_text(q, 7);
	snprintf(m->status, sizeof m->status, "%s", status ? status : "");
	snprintf(m->detail, sizeof m->detail, "%s", detail ? detail : "");
	m->first_seen = sql_int(q, 9);
	copy_blob(q, 10, m->shared_by, LSN_ID_BYTES, &m->shared);
	copy_blob(q, 12, m->env_hash, sizeof m->env_hash, &m->has_env_hash);
	copy_blob(q, 13, m->prev, sizeof m->prev, &m->prev_missing);
	size_t env_len = 0, sealed_len = 0;
	const uint8_t *env = sql_blob(q, 8, &env_len);
	if (env && env_len > 0 && (m->envelope = malloc(env_len)) != NULL) {
		memcpy(m->envelope, env, env_len);
		m->env_len = env_len;
	}
	const uint8_t *sealed = sql_blob(q, 11, &sealed_len);
	if (sealed == NULL || sealed_len == 0)
		return true;
	char name[SEAL_NAME_BUF];
	local_name_message(m->channel, m->seq, name);
	m->plain = malloc(sealed_len + 1);
	if (m->plain == NULL ||
	    !local_unseal(p, name, sealed, sealed_len, (uint8_t *)m->plain, sealed_len,
			  &m->plain_len)) {
		free(m->plain);
		m->plain = NULL;
		return false;
	}
	m->plain[m->plain_len] = '\0';
	return true;
}

/* The cached message (channel, seq) into m; *found false if absent. A row
 * that does not open: m->status "damaged", and *damaged. */
static enum lsn_err
msg_load(struct profile *p, const uint8_t channel[LSN_ID_BYTES], int64_t seq,
	 struct local_msg *m, bool *found, bool *damaged, struct lsn_status *st)
{
	*found = *damaged = false;
	memset(m, 0, sizeof *m);
	struct sql_q q;
	if (!sql_query(p->db, &q, st, "SELECT " MSG_COLUMNS " FROM messages WHERE channel = ? "
				      "AND seq = ?", "in", channel, seq))
		return st->err;
	if (sql_next(&q)) {
		*found = true;
		memcpy(m->channel, channel, LSN_ID_BYTES);
		if (!msg_row(p, &q, m)) {
			*damaged = true;
			snprintf(m->status, sizeof m->status, "damaged");
			snprintf(m->detail, sizeof m->detail,
				 "the cached copy does not open (profile damaged)");
		}
	}
	return sql_end(&q, st);
}

enum lsn_err
local_msg_get(struct profile *p, const uint8_t channel[LSN_ID_BYTES], int64_t seq,
	      struct local_msg *out, bool *found, struct lsn_status *st)
{
	bool damaged = false;
	enum lsn_err err = msg_load(p, channel, seq, out, found, &damaged, st);
	if (err == LSN_OK && damaged)
		err = lsn_fail(st, LSN_ERR_INTERNAL, "a cached message does not open; the "
			       "profile database is damaged");
	if (err != LSN_OK)
		*found = false;
	if (!*found)
		local_msg_clear(out);
	return err;
}

/* The seqs the query (one column: seq) selects, then each message through fn.
 * The statement is finished before fn runs, so fn may write: a write from
 * inside an open read would fail at once when another process has written
 * since the read began. */
static enum lsn_err
msg_walk(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
	 bool (*fn)(void *arg, struct local_msg *m), void *arg, struct lsn_status *st,
	 const char *sql, const char *fmt, ...)
{
	struct sql_q q;
	va_list ap;
	va_start(ap, fmt);
	bool ok = sql_query_va(p->db, &q, st, sql, fmt, ap);
	va_end(ap);
	if (!ok)
		return st->err;
	size_t n = 0, cap = 0;
	int64_t *seqs = NULL;
	enum lsn_err err = LSN_OK;
	while (err == LSN_OK && sql_next(&q)) {
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			int64_t *grown = realloc(seqs, ncap * sizeof *seqs);
			if (grown == NULL) {
				err = lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
				break;
			}
			seqs = grown;
			cap = ncap;
		}
		seqs[n++] = sql_int(&q, 0);
	}
	enum lsn_err qerr = sql_end(&q, st);
	err = err != LSN_OK ? err : qerr;
	bool go = true;
	for (size_t i = 0; i < n && go && err == LSN_OK; i++) {
		struct local_msg m;
		bool found = false, damaged = false;
		err = msg_load(p, channel, seqs[i], &m, &found, &damaged, st);
		if (err == LSN_OK && found)
			go = fn(arg, &m);
		local_msg_clear(&m);
	}
	free(seqs);
	return err;
}

enum lsn_err
local_msg_each(struct profile *p, const uint8_t channel[LSN_ID_BYTES], long limit,
	       bool (*fn)(void *arg, struct local_msg *m), void *arg, struct lsn_status *st)
{
	return msg_walk(p, channel, fn, arg, st,
			"SELECT seq FROM (SELECT seq FROM messages WHERE channel = ? "
			"ORDER BY seq DESC LIMIT ?) ORDER BY seq", "in", channel,
			(int64_t)(limit > 0 ? limit : -1));
}

enum lsn_err
local_msg_since(struct profile *p, const uint8_t channel[LSN_ID_BYTES], int64_t after,
		bool (*fn)(void *arg, struct local_msg *m), void *arg, struct lsn_status *st)
{
	return msg_walk(p, channel, fn, arg, st,
			"SELECT seq FROM messages WHERE channel = ? AND seq > ? ORDER BY seq", "in",
			channel, after);
}

enum lsn_err
local_msg_with_status(struct profile *p, const uint8_t channel[LSN_ID_BYTES], const char *status,
		      bool (*fn)(void *arg, struct local_msg *m), void *arg, struct lsn_status *st)
{
	return msg_walk(p, channel, fn, arg, st,
			"SELECT seq FROM messages WHERE channel = ? AND status = ? ORDER BY seq",
			"it", channel, status);
}

enum lsn_err
local_msg_pending(struct profile *p, const uint8_t channel[LSN_ID_BYTES], int64_t *seqs,
		  size_t max, size_t *n, struct lsn_status *st)
{
	*n = 0;
	struct sql_q q;
	if (!sql_query(p->db, &q, st, "SELECT seq FROM messages WHERE channel = ? AND envelope IS "
				      "NOT NULL AND status IN ('waiting', 'withheld', "
				      "'unknown_session', 'before_first') ORDER BY seq", "i",
		       channel))
		return st->err;
	while (*n < max && sql_next(&q))
		seqs[(*n)++] = sql_int(&q, 0);
	return sql_end(&q, st);
}

enum lsn_err
local_msg_briefs(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
		 struct local_msg_brief **out, size_t *n, struct lsn_status *st)
{
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	struct sql_q q;
	if (!sql_query(p->db, &q, st, "SELECT seq, status, prev_missing IS NOT NULL FROM messages "
				      "WHERE channel = ? ORDER BY seq", "i", channel))
		return st->err;
	enum lsn_err err = LSN_OK;
	while (err == LSN_OK && sql_next(&q)) {
		if (*n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct local_msg_brief *grown = realloc(*out, ncap * sizeof *grown);
			if (grown == NULL) {
				err = lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
				break;
			}
			*out = grown;
			cap = ncap;
		}
		struct local_msg_brief *b = &(*out)[(*n)++];
		const char *status = sql_text(&q, 1);
		b->seq = sql_int(&q, 0);
		snprintf(b->status, sizeof b->status, "%s", status ? status : "");
		b->prev_missing = sql_int(&q, 2) != 0;
	}
	enum lsn_err qerr = sql_end(&q, st);
	err = err != LSN_OK ? err : qerr;
	if (err != LSN_OK) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return err;
}

enum lsn_err
local_msg_hash_held(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
		    const uint8_t hash[32], bool *held, struct lsn_status *st)
{
	/* seen_msg also answers for messages cached before env_hash existed */
	struct sql_q q;
	*held = false;
	if (!sql_query(p->db, &q, st, "SELECT 1 FROM messages WHERE channel = ?1 AND env_hash = ?2 "
				      "UNION ALL SELECT 1 FROM seen_msg WHERE channel = ?1 AND "
				      "env_hash = ?2 LIMIT 1", "ib", channel, hash, (size_t)32))
		return st->err;
	*held = sql_next(&q);
	return sql_end(&q, st);
}

enum lsn_err
local_msg_last_of_device(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
			 const uint8_t device[LSN_ID_BYTES], uint8_t hash[32], bool *found,
			 struct lsn_status *st)
{
	struct sql_q q;
	*found = false;
	if (!sql_query(p->db, &q, st, "SELECT env_hash FROM messages WHERE channel = ? AND "
				      "sender_device = ? AND status = 'ok' AND env_hash IS NOT NULL "
				      "ORDER BY seq DESC LIMIT 1", "ii", channel, device))
		return st->err;
	if (sql_next(&q))
		*found = sql_copy(&q, 0, hash, 32);
	return sql_end(&q, st);
}

/* ---- channels ------------------------------------------------------------ */

enum lsn_err
local_channel_get(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
		  struct local_channel *out, struct lsn_status *st)
{
	memset(out, 0, sizeof *out);
	out->log_seq = -1;
	out->valid = true;
	struct sql_q q;
	if (!sql_query(p->db, &q, st, "SELECT last_seq, log_seq, log_hash, valid, reason, kind, "
				      "history, cut_from, cut_to FROM channels WHERE channel = ?", "i",
				      channel))
		return st->err;
	if (sql_next(&q)) {
		out->present = true;
		out->last_seq = sql_int(&q, 0);
		out->log_seq = sql_int(&q, 1);
		copy_blob(&q, 2, out->log_hash, 32, &out->has_log_hash);
		out->valid = sql_int(&q, 3) != 0;
		const char *reason = sql_text(&q, 4);
		const char *kind = sql_text(&q, 5);
		const char *history = sql_text(&q, 6);
		snprintf(out->reason, sizeof out->reason, "%s", reason ? reason : "");
		snprintf(out->kind, sizeof out->kind, "%s", kind ? kind : "");
		snprintf(out->history, sizeof out->history, "%s", history ? history : "");
		out->cut_from = sql_int(&q, 7);
		out->cut_to = sql_int(&q, 8);
	}
	return sql_end(&q, st);
}

enum lsn_err
local_channel_find(struct profile *p, const char *prefix, uint8_t channel[LSN_ID_BYTES],
		   size_t *n, struct lsn_status *st)
{
	struct sql_q q;
	char pattern[LSN_ID_HEX + 2];
	*n = 0;
	snprintf(pattern, sizeof pattern, "%.*s%%", LSN_ID_HEX, prefix);
	if (!sql_query(p->db, &q, st, "SELECT channel FROM channels WHERE lower(hex(channel)) "
				      "LIKE lower(?) LIMIT 2", "t", pattern))
		return st->err;
	while (sql_next(&q))
		if ((*n)++ == 0)
			sql_copy(&q, 0, channel, LSN_ID_BYTES);
	return sql_end(&q, st);
}

enum lsn_err
local_channel_put(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
		  const struct local_channel *c, struct lsn_status *st)
{
	return sql_upsert(
		p->db, st, "INSERT OR IGNORE INTO channels (channel, kind, history, last_seq, log_seq, "
		       "log_hash, valid, reason, updated_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
		       "UPDATE channels SET kind = ?2, history = ?3, log_seq = ?5, "
		       "log_hash = ?6, valid = ?7, reason = ?8, updated_at = ?9 "
		       /* another process may have verified further meanwhile; an
			* INVALID verdict always lands */
		       "WHERE channel = ?1 AND (?5 >= channels.log_seq OR ?7 = 0)",
		"ittnnbntn", channel, c->kind[0] ? c->kind : NULL,
		c->history[0] ? c->history : NULL, c->last_seq, c->log_seq,
		c->has_log_hash ? c->log_hash : NULL, (size_t)32, (int64_t)c->valid,
		c->reason[0] ? c->reason : NULL, lsn_clock_now_ms());
}

enum lsn_err
local_channel_set_last_seq(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
			   int64_t last_seq, struct lsn_status *st)
{
	/* a position only moves forward: another process may have fetched further */
	return sql_exec(p->db, st, "UPDATE channels SET last_seq = max(last_seq, ?), updated_at = ? "
				   "WHERE channel = ?", "nni", last_seq, lsn_clock_now_ms(), channel);
}

enum lsn_err
local_channel_set_cut(struct profile *p, const uint8_t channel[LSN_ID_BYTES], int64_t from,
		      int64_t to, struct lsn_status *st)
{
	return sql_exec(p->db, st, "UPDATE channels SET cut_from = CASE WHEN cut_from = 0 THEN ?1 "
				   "ELSE min(cut_from, ?1) END, cut_to = max(cut_to, ?2), "
				   "updated_at = ?3 WHERE channel = ?4", "nnni", from, to,
			lsn_clock_now_ms(), channel);
}

enum lsn_err
local_channel_set_topic(struct profile *p, const uint8_t channel[LSN_ID_BYTES], int64_t seq,
			const char *topic, struct lsn_status *st)
{
	char name[SEAL_NAME_BUF];
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	local_name_topic(channel, name);
	if (!local_seal(p, name, (const uint8_t *)topic, strlen(topic), &blob, &blob_len))
		return lsn_fail(st, LSN_ERR_INTERNAL, "cannot seal the topic");
	enum lsn_err err = sql_exec(
		p->db, st, "UPDATE channels SET topic = ?, topic_seq = ? WHERE channel = ? AND "
		       "(topic_seq IS NULL OR topic_seq <= ?)", "bnin", blob, blob_len, seq, channel,
		seq);
	free(blob);
	return err;
}

void
local_channel_topic(struct profile *p, const uint8_t channel[LSN_ID_BYTES], char *buf,
		    size_t len)
{
	struct lsn_status st;
	char name[SEAL_NAME_BUF];
	size_t got = 0;
	buf[0] = '\0';
	local_name_topic(channel, name);
	struct sql_q q;
	size_t blob_len = 0;
	const uint8_t *blob = NULL;
	if (sql_query(p->db, &q, &st, "SELECT topic FROM channels WHERE channel = ?", "i",
		      channel) && sql_next(&q) && (blob = sql_blob(&q, 0, &blob_len)) != NULL &&
	    blob_len > 0 && local_unseal(p, name, blob, blob_len, (uint8_t *)buf, len - 1, &got))
		buf[got] = '\0';
	sql_end(&q, NULL);
}

/* ---- people -------------------------------------------------------------- */

enum lsn_err
local_person_put(struct profile *p, const uint8_t user[LSN_ID_BYTES], const char *name,
		 const char *profession, const char *rpps, struct lsn_status *st)
{
	return sql_exec(p->db, st, "INSERT OR REPLACE INTO people (user, name, profession, rpps, "
				   "updated_at) VALUES (?,?,?,?,?)", "itttn", user, name, profession,
			rpps, lsn_clock_now_ms());
}

bool
local_person_get(struct profile *p, const uint8_t user[LSN_ID_BYTES], char *name,
		 size_t name_len, char *profession, size_t prof_len)
{
	struct lsn_status st;
	struct sql_q q;
	bool found = sql_query(p->db, &q, &st, "SELECT name, profession FROM people WHERE "
					       "user = ?", "i", user) && sql_next(&q);
	if (found) {
		const char *n = sql_text(&q, 0);
		const char *pr = sql_text(&q, 1);
		snprintf(name, name_len, "%s", n ? n : "");
		snprintf(profession, prof_len, "%s", pr ? pr : "");
	}
	sql_end(&q, NULL);
	return found;
}
