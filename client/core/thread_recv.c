/* thread_recv.c — fetch, decrypt and cache the messages of a channel; every
 * message that cannot be read keeps its exact reason (thread.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "keyshare_send.h"
#include "msg_header.h"
#include "sync.h"
#include "thread.h"
#include "thread_gaps.h"
#include "wire.h"

#define FETCH_PAGE    200
#define PENDING_MAX   2000

static void
set_status(struct local_msg *m, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_status(struct local_msg *m, const char *status, const char *fmt, ...)
{
	va_list ap;
	snprintf(m->status, sizeof m->status, "%s", status);
	va_start(ap, fmt);
	vsnprintf(m->detail, sizeof m->detail, fmt, ap);
	va_end(ap);
}

/* The plaintext must repeat the header's channel and the session's sender. */
static bool
content_matches(const struct chan_view *v, const struct local_msg *m, json_t *obj)
{
	char channel[LSN_ID_HEX + 1], sender[LSN_ID_HEX + 1];
	lsn_id_to_hex(v->channel, channel);
	lsn_id_to_hex(m->sender_user, sender);
	const char *c = json_string_value(json_object_get(obj, "channel"));
	const char *s = json_string_value(json_object_get(obj, "sender"));
	return json_is_string(json_object_get(obj, "type")) && c && s &&
	       strcmp(c, channel) == 0 && strcmp(s, sender) == 0;
}

static void
no_session(struct e2e *e, const struct chan_view *v, struct local_msg *m)
{
	char reason[220], who[200];
	e2e_person(e, m->sender_user, who, sizeof who);
	if (local_withheld_get(e->p, m->session_id, reason, sizeof reason))
		set_status(m, "withheld", "key withheld by %s: %s", who, reason);
	else if (v->valid && v->state->history == LSN_HISTORY_FROM_JOIN && v->my_join_ts > 0 &&
		 m->ts < v->my_join_ts)
		set_status(m, "before_first", "no key for this message: it was sent before you "
			   "were added (history is not shared in this channel)");
	else
		set_status(m, "waiting", "waiting for the key from %s", who);
}

static void
gs_failure(const struct chan_view *v, struct local_msg *m, enum lsn_gs_result r)
{
	switch (r) {
	case LSN_GS_BAD_SIGNATURE:
		set_status(m, "bad_signature", "bad signature: not signed by the session of its "
			   "sender (forged or altered)");
		break;
	case LSN_GS_BEFORE_FIRST_KEY:
		set_status(m, "before_first", "no key for this message: it was sent before our "
			   "first key%s", v->state && v->state->history == LSN_HISTORY_FROM_JOIN
						  ? " (history is not shared in this channel)" : "");
		break;
	case LSN_GS_WRONG_SESSION:
	case LSN_GS_WRONG_SENDER:
		set_status(m, "unknown_session", "unknown session: %s", lsn_gs_result_text(r));
		break;
	default:
		set_status(m, "undecryptable", "%s", lsn_gs_result_text(r));
		break;
	}
}

/* The sender's previous message in this channel, named by "link": held
 * here (any status), or removed by the server (CRYPTO.md "Gaps and the
 * per-sender link"). */
static enum lsn_err
check_prev(struct e2e *e, const struct chan_view *v, struct local_msg *m, const uint8_t prev[32],
	   struct lsn_status *st)
{
	bool held = false;
	enum lsn_err err = local_msg_hash_held(e->p, v->channel, prev, &held, st);
	m->prev_missing = err == LSN_OK && !held;
	memcpy(m->prev, prev, sizeof m->prev);
	return err;
}

/* Duplicate / alarm, then the content checks. Takes plain. */
static enum lsn_err
accept_plain(struct e2e *e, const struct chan_view *v, struct local_msg *m,
	     const struct local_inbound *in, uint8_t *plain, size_t len, struct lsn_status *st)
{
	uint8_t hash[32], prev[32];
	bool has_prev = false;
	enum local_seen seen;
	int64_t first_seq = m->seq;
	bool bad_head = false;
	lsn_gs_envelope_hash(m->envelope, m->env_len, hash);
	enum lsn_err err = local_seen_msg(e->p, m->session_id, m->index, hash, v->channel, m->seq,
					  &seen, &first_seq, st);
	json_t *obj = err == LSN_OK ? json_loadb((char *)plain, len, 0, NULL) : NULL;
	if (err != LSN_OK) {
		/* reported by the caller */
	} else if (seen == LOCAL_SEEN_ALARM) {
		set_status(m, "alarm", "ALARM: another message already used index %u of this "
			   "session (message #%lld): replay or forgery", m->index,
			   (long long)first_seq);
	} else if (seen == LOCAL_SEEN_DUPLICATE && first_seq != m->seq) {
		set_status(m, "duplicate", "duplicate of message #%lld (sent again by the server)",
			   (long long)first_seq);
	} else if (obj == NULL || !content_matches(v, m, obj)) {
		set_status(m, "invalid", "its content names another channel or sender than its "
			   "envelope (rejected)");
	} else if (!thread_prev_parse(obj, &has_prev, prev)) {
		set_status(m, "invalid", "its link to the sender's previous message is malformed "
			   "(rejected)");
	} else if ((err = chan_head_note(e, v, v->channel, obj, "message", m->sender_user, m->seq,
					 &bad_head, st)) != LSN_OK || bad_head) {
		set_status(m, "invalid", "its membership-log head is malformed (rejected)");
	} else {
		set_status(m, "ok", "%s", chan_view_ever(v, m->sender_user) || !v->valid ? ""
				  : "WARNING: the sender is not in the signed membership log");
		err = thread_note_content(e, v->channel, m->seq, obj, st);
		if (err == LSN_OK && has_prev)
			err = check_prev(e, v, m, prev, st);
		m->plain = (char *)plain;
		m->plain_len = len;
		m->shared = in->forwarded &&
			    (in->direct_index < 0 || (int64_t)m->index < in->direct_index);
		memcpy(m->shared_by, in->forwarded_by, LSN_ID_BYTES);
		plain = NULL;
	}
	json_decref(obj);
	if (plain) {
		sodium_memzero(plain, len);
		free(plain);
	}
	return err;
}

/* Decrypt m->envelope into m (status, detail, plain). */
static enum lsn_err
decrypt_into(struct e2e *e, const struct chan_view *v, struct local_msg *m,
	     struct lsn_status *st)
{
	struct lsn_msg_header h;
	struct lsn_status hst;
	if (lsn_msg_header_parse(m->envelope, m->env_len, &h, &hst) != LSN_OK) {
		set_status(m, "invalid", "not a message envelope: %s", hst.msg);
		return LSN_OK;
	}
	m->has_session = true;
	memcpy(m->session_id, h.session_id, LOCAL_SID_BYTES);
	m->index = h.index;
	if (memcmp(h.channel, v->channel, LSN_ID_BYTES) != 0 ||
	    memcmp(h.sender_device, m->sender_device, LSN_ID_BYTES) != 0) {
		set_status(m, "invalid", "its header names another channel or device than the "
			   "server says");
		return LSN_OK;
	}
	struct local_inbound in;
	bool found = false;
	enum lsn_err err = local_inbound_get(e->p, h.session_id, &in, &found, st);
	if (err != LSN_OK)
		return err;
	if (!found) {
		no_session(e, v, m);
		return LSN_OK;
	}
	if (memcmp(in.sender_user, m->sender_user, LSN_ID_BYTES) != 0) {
		set_status(m, "unknown_session", "unknown session: the key we hold for it belongs "
			   "to another sender");
	} else {
		uint8_t *plain = NULL;
		size_t len = 0;
		enum lsn_gs_result r = lsn_gs_open(&in.gs, m->envelope, m->env_len, NULL, &plain,
						   &len);
		if (r == LSN_GS_OK)
			err = accept_plain(e, v, m, &in, plain, len, st);
		else
			gs_failure(v, m, r);
	}
	sodium_memzero(&in, sizeof in);
	return err;
}

enum lsn_err
thread_note_content(struct e2e *e, const uint8_t channel[LSN_ID_BYTES], int64_t seq,
		    json_t *content, struct lsn_status *st)
{
	const char *type = json_string_value(json_object_get(content, "type"));
	const char *topic = json_string_value(json_object_get(content, "topic"));
	if (type && strcmp(type, "topic") == 0 && topic && strlen(topic) < THREAD_TOPIC_MAX)
		return local_channel_set_topic(e->p, channel, seq, topic, st);
	return LSN_OK;
}

/* ---- taking messages ------------------------------------------------------------ */

static bool
parse_message(json_t *msg, struct local_msg *m)
{
	struct lsn_status st;
	const char *b64 = NULL;
	if (wire_get_int(msg, "seq", true, 1, WIRE_ID_MAX, &m->seq, &st) != LSN_OK ||
	    wire_get_int(msg, "ts", true, 0, WIRE_ID_MAX, &m->ts, &st) != LSN_OK ||
	    wire_get_id(msg, "sender_user", true, m->sender_user, NULL, &st) != LSN_OK ||
	    wire_get_id(msg, "sender_device", true, m->sender_device, NULL, &st) != LSN_OK ||
	    wire_get_str(msg, "envelope", true, 4 * LSN_MSG_MAX_BYTES / 3 + 4, &b64, &st) != LSN_OK)
		return false;
	size_t cap = strlen(b64);
	m->envelope = malloc(cap ? cap : 1);
	return m->envelope && wire_b64_decode(b64, m->envelope, cap, &m->env_len);
}

enum lsn_err
thread_take(struct e2e *e, const struct chan_view *v, json_t *msg, struct local_msg *m,
	    struct lsn_status *st)
{
	memset(m, 0, sizeof *m);
	memcpy(m->channel, v->channel, LSN_ID_BYTES);
	m->first_seen = lsn_clock_now_ms();
	if (!parse_message(msg, m))
		return lsn_fail(st, LSN_ERR_BAD_JSON, "the server sent a malformed message");
	/* our own message, cached when sent: keep that copy */
	struct local_msg old;
	bool found = false;
	enum lsn_err err = local_msg_get(e->p, v->channel, m->seq, &old, &found, st);
	bool keep = err == LSN_OK && found && strcmp(old.status, "ok") == 0;
	uint8_t hash[32];
	lsn_gs_envelope_hash(m->envelope, m->env_len, hash);
	if (keep && old.has_env_hash && sodium_memcmp(hash, old.env_hash, 32) != 0) {
		/* the server now puts another envelope at this seq: renumbered */
		set_status(&old, "ok", "WARNING: the server now shows another message at #%lld "
			   "than this one: messages before it were deleted and the rest "
			   "renumbered", (long long)m->seq);
		err = local_msg_put(e->p, &old, st);
	}
	local_msg_clear(&old);
	if (err == LSN_OK && keep) {
		int64_t seq = m->seq;
		local_msg_clear(m);
		return local_msg_get(e->p, v->channel, seq, m, &found, st);
	}
	if (err != LSN_OK)
		return err;
	err = decrypt_into(e, v, m, st);
	if (err == LSN_OK)
		err = local_msg_put(e->p, m, st);
	return err;
}

/* One page of new messages in one transaction. */
static enum lsn_err
fetch_page(struct e2e *e, const struct chan_view *v, struct thread_fetch_result *r, bool *more,
	   int64_t *shown, struct lsn_status *st)
{
	json_t *reply = NULL;
	enum lsn_err err = e2e_read(e, "messages", json_pack("{s:o, s:I, s:i}", "channel",
							      wire_id(v->channel), "after",
							      (json_int_t)r->last_seq, "limit",
							      FETCH_PAGE), &reply, st);
	if (err != LSN_OK)
		return err;
	json_t *messages = json_object_get(reply, "messages");
	*more = json_is_true(json_object_get(reply, "more")) && json_array_size(messages) > 0;
	json_t *count = json_object_get(reply, "last_seq");
	*shown = json_is_integer(count) ? json_integer_value(count) : -1;
	err = local_begin(e->p, st);
	size_t i;
	json_t *msg;
	json_array_foreach(messages, i, msg) {
		struct local_msg m;
		memset(&m, 0, sizeof m); /* cleared below even when nothing was taken */
		if (err == LSN_OK)
			err = thread_take(e, v, msg, &m, st);
		if (err == LSN_OK && m.seq > r->last_seq) {
			r->last_seq = m.seq;
			r->fetched++;
			r->decrypted += strcmp(m.status, "ok") == 0;
		}
		local_msg_clear(&m);
	}
	if (err == LSN_OK)
		err = local_channel_set_last_seq(e->p, v->channel, r->last_seq, st);
	if (err == LSN_OK)
		err = local_commit(e->p, st);
	else
		local_rollback(e->p);
	json_decref(reply);
	return err;
}

/* Messages that were waiting: try again with the keys we now hold. */
static enum lsn_err
retry_pending(struct e2e *e, const struct chan_view *v, struct thread_fetch_result *r,
	      struct lsn_status *st)
{
	int64_t *seqs = calloc(PENDING_MAX, sizeof *seqs);
	size_t n = 0;
	if (seqs == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	enum lsn_err err = local_msg_pending(e->p, v->channel, seqs, PENDING_MAX, &n, st);
	if (err == LSN_OK)
		err = local_begin(e->p, st);
	for (size_t i = 0; i < n && err == LSN_OK; i++) {
		struct local_msg m;
		bool found = false;
		err = local_msg_get(e->p, v->channel, seqs[i], &m, &found, st);
		if (err == LSN_OK && found && m.envelope) {
			err = decrypt_into(e, v, &m, st);
			if (err == LSN_OK)
				err = local_msg_put(e->p, &m, st);
			r->decrypted += strcmp(m.status, "ok") == 0;
			r->waiting += strcmp(m.status, "waiting") == 0;
		}
		local_msg_clear(&m);
	}
	if (err == LSN_OK && n > 0)
		err = local_commit(e->p, st);
	else
		local_rollback(e->p);
	free(seqs);
	return err;
}

/* The server's count of the channel's messages (the `messages` reply's
 * last_seq) below what this device synced: the last messages were deleted
 * and the counter set back. Noted (local_channel_set_cut); the copies held
 * here stay. */
static enum lsn_err
check_cut(struct e2e *e, const struct chan_view *v, int64_t synced, int64_t shown,
	  struct lsn_status *st)
{
	if (synced <= 0 || shown < 0 || shown >= synced)
		return LSN_OK;
	return local_channel_set_cut(e->p, v->channel, shown + 1, synced, st);
}

enum lsn_err
thread_fetch(struct e2e *e, const struct chan_view *v, struct thread_fetch_result *r,
	     struct lsn_status *st)
{
	memset(r, 0, sizeof *r);
	struct local_channel c;
	enum lsn_err err = local_channel_get(e->p, v->channel, &c, st);
	r->last_seq = c.last_seq;
	bool more = true, first = true;
	int64_t shown = -1;
	while (err == LSN_OK && more) {
		err = fetch_page(e, v, r, &more, &shown, st);
		if (err == LSN_OK && first)
			err = check_cut(e, v, c.last_seq, shown, st);
		first = false;
	}
	if (err == LSN_OK)
		err = retry_pending(e, v, r, st);
	if (err == LSN_OK) /* heads the log we had lacks: fetch it again */
		err = chan_settle_pending(e, v->channel, st);
	return err;
}

enum lsn_err
thread_retry(struct e2e *e, const struct chan_view *v, struct thread_fetch_result *r,
	     struct lsn_status *st)
{
	memset(r, 0, sizeof *r);
	struct local_channel c;
	enum lsn_err err = local_channel_get(e->p, v->channel, &c, st);
	r->last_seq = c.last_seq;
	if (err == LSN_OK)
		err = retry_pending(e, v, r, st);
	return err;
}

/* The event's message is the next one: take it from the event alone. */
static enum lsn_err
take_event(struct e2e *e, const struct chan_view *v, json_t *ev, struct thread_fetch_result *r,
	   struct lsn_status *st)
{
	struct local_msg m;
	memset(&m, 0, sizeof m);
	enum lsn_err err = local_begin(e->p, st);
	if (err == LSN_OK)
		err = thread_take(e, v, ev, &m, st);
	if (err == LSN_OK) {
		r->last_seq = m.seq;
		r->fetched = 1;
		r->decrypted = strcmp(m.status, "ok") == 0;
		r->waiting = strcmp(m.status, "waiting") == 0;
		err = local_channel_set_last_seq(e->p, v->channel, m.seq, st);
	}
	if (err == LSN_OK)
		err = local_commit(e->p, st);
	else
		local_rollback(e->p);
	local_msg_clear(&m);
	return err;
}

enum lsn_err
thread_deliver(struct e2e *e, const struct chan_view *v, json_t *ev,
	       struct thread_fetch_result *r, struct lsn_status *st)
{
	memset(r, 0, sizeof *r);
	struct local_channel c;
	int64_t seq = 0;
	struct lsn_status pst;
	enum lsn_err err = local_channel_get(e->p, v->channel, &c, st);
	if (err != LSN_OK)
		return err;
	r->last_seq = c.last_seq;
	if (wire_get_int(ev, "seq", true, 1, WIRE_ID_MAX, &seq, &pst) != LSN_OK)
		return lsn_fail(st, LSN_ERR_BAD_JSON, "the server sent a malformed message");
	if (seq <= c.last_seq)
		return LSN_OK; /* already synced (fetched before the event was read) */
	if (seq == c.last_seq + 1) {
		err = take_event(e, v, ev, r, st);
		return err == LSN_OK ? chan_settle_pending(e, v->channel, st) : err;
	}
	/* a gap: some event was missed; fetch from the last synced seq on */
	err = thread_fetch(e, v, r, st);
	r->refetched = true;
	return err;
}

/* ---- key requests ---------------------------------------------------------------- */

struct missing_walk {
	struct e2e *e;
	const struct chan_view *v;
	int64_t min_wait_ms;
	int64_t now;
	size_t sent;
	enum lsn_err err;
	struct lsn_status *st;
};

static bool
request_one(void *arg, struct local_msg *m)
{
	struct missing_walk *w = arg;
	if (strcmp(m->status, "waiting") != 0 || !m->has_session ||
	    w->now - m->first_seen < w->min_wait_ms)
		return true;
	int64_t at = local_key_request_at(w->e->p, m->session_id);
	if (at > 0 && w->now - at < THREAD_KEY_REQUEST_AGAIN_MS)
		return true;
	w->err = share_request_key(w->e, w->v->channel, m->sender_user, m->session_id, m->index,
				   w->st);
	w->sent++;
	return w->err == LSN_OK;
}

enum lsn_err
thread_request_missing(struct e2e *e, const struct chan_view *v, int64_t min_wait_ms,
		       size_t *sent, struct lsn_status *st)
{
	struct missing_walk w = {e, v, min_wait_ms, lsn_clock_now_ms(), 0, LSN_OK, st};
	enum lsn_err err = local_msg_with_status(e->p, v->channel, "waiting", request_one, &w, st);
	*sent = w.sent;
	return err == LSN_OK ? w.err : err;
}

/* ---- fetching with the keys chased ------------------------------------------------ */

/* Wait up to ms for a pushed to-device entry, then take the queue. Other
 * events are dropped: read fetches what it shows. */
static enum lsn_err
wait_for_keys(struct e2e *e, int ms, struct lsn_status *st)
{
	int64_t deadline = lsn_clock_now_ms() + ms;
	bool keys = false;
	while (!keys && link_alive(e->s.link)) {
		int64_t left = deadline - lsn_clock_now_ms();
		if (left <= 0 || !link_wait_event(e->s.link, (int)left))
			break;
		json_t *ev;
		while ((ev = link_next_event(e->s.link)) != NULL) {
			const char *name = json_string_value(json_object_get(ev, "ev"));
			keys = keys || (name && strcmp(name, "to_device") == 0);
			json_decref(ev);
		}
	}
	struct sync_stats ss;
	return keys ? sync_to_device(e, &ss, st) : LSN_OK;
}

enum lsn_err
thread_fetch_chase(struct e2e *e, const struct chan_view *v, struct thread_fetch_result *r,
		   struct lsn_status *st)
{
	enum lsn_err err = thread_fetch(e, v, r, st);
	if (err != LSN_OK || r->waiting == 0)
		return err;
	err = wait_for_keys(e, THREAD_KEY_REQUEST_DELAY_MS, st);
	struct thread_fetch_result again;
	if (err == LSN_OK)
		err = thread_fetch(e, v, &again, st);
	size_t sent = 0;
	if (err == LSN_OK && again.waiting > 0)
		err = thread_request_missing(e, v, THREAD_KEY_REQUEST_DELAY_MS, &sent, st);
	if (err == LSN_OK && sent > 0) {
		err = wait_for_keys(e, THREAD_ANSWER_WAIT_MS, st);
		if (err == LSN_OK)
			err = thread_fetch(e, v, &again, st);
	}
	return err;
}
