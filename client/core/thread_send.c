/* thread_send.c — send a message with our outbound group session: rotate
 * when needed, share with every member's devices first, commit the
 * ratcheted state, then seal and send (thread.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "key_backup.h"
#include "keyshare_send.h"
#include "peers.h"
#include "thread.h"
#include "tr.h"
#include "wire.h"

#define SEND_ATTEMPTS 4

/* A fresh session, committed with its inbound copy (so we read our own
 * messages and can forward it as history). */
static enum lsn_err
new_session(struct e2e *e, const struct chan_view *v, struct local_outbound *o,
	    struct lsn_status *st)
{
	memset(o, 0, sizeof *o);
	lsn_gs_outbound_new(&o->gs, v->channel, lsn_clock_now_ms());
	o->created_log_seq = (int64_t)v->n_entries - 1;
	struct local_inbound in;
	memset(&in, 0, sizeof in);
	lsn_gs_inbound_from_outbound(&in.gs, &o->gs, e->p->device);
	memcpy(in.sender_user, e->p->user, LSN_ID_BYTES);
	memcpy(in.via_device, e->p->device, LSN_ID_BYTES);
	in.direct_index = 0;
	in.received_at = lsn_clock_now_ms();
	enum lsn_err err = local_begin(e->p, st);
	if (err == LSN_OK)
		err = local_outbound_put(e->p, o, st);
	if (err == LSN_OK)
		err = local_inbound_put(e->p, &in, st);
	if (err == LSN_OK)
		err = local_commit(e->p, st);
	else
		local_rollback(e->p);
	sodium_memzero(&in, sizeof in);
	return err;
}

/* The session to send with, shared with every member's devices. */
static enum lsn_err
ready_session(struct e2e *e, const struct chan_view *v, struct local_outbound *o,
	      struct lsn_status *st)
{
	uint8_t (*members)[LSN_ID_BYTES] = calloc(v->state->count, LSN_ID_BYTES);
	if (members == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	for (size_t i = 0; i < v->state->count; i++)
		memcpy(members[i], v->state->members[i].user, LSN_ID_BYTES);
	enum lsn_err err = peers_load(e, (const uint8_t (*)[LSN_ID_BYTES])members,
				      v->state->count, true, st);
	free(members);
	bool found = false;
	if (err == LSN_OK)
		err = local_outbound_get(e->p, v->channel, o, &found, st);
	char why[200] = "";
	if (err == LSN_OK && found)
		share_rotation_reason(e, v, o, why, sizeof why);
	if (err == LSN_OK && (!found || why[0])) {
		lsn_gs_outbound_wipe(&o->gs);
		err = new_session(e, v, o, st);
		struct lsn_status bst = {0};
		if (err == LSN_OK && key_backup_flush(e, NULL, &bst) != LSN_OK)
			lsn_warn(&e->warnings, "could not upload the new session to the key "
				 "backup (%s); will retry", bst.msg);
	}
	size_t count = 0;
	if (err == LSN_OK)
		err = share_outbound(e, v, o, &count, st);
	return err;
}

/* "link": the hash of this device's previous message in the channel (the
 * latest the server accepted), so that a receiver sees one removed even
 * under renumbered seqs (CRYPTO.md "Gaps and the per-sender link"). Absent
 * for the device's first message there. */
static void
link_prev(struct e2e *e, const struct chan_view *v, json_t *content)
{
	uint8_t hash[32];
	char hex[65];
	bool found = false;
	struct lsn_status st = {0};
	if (local_msg_last_of_device(e->p, v->channel, e->p->device, hash, &found, &st) == LSN_OK &&
	    found)
		json_object_set_new(content, "link", json_string(sodium_bin2hex(hex, sizeof hex,
										 hash, sizeof hash)));
}

static char *
plaintext(struct e2e *e, const struct chan_view *v, json_t *content)
{
	char channel[LSN_ID_HEX + 1];
	lsn_id_to_hex(v->channel, channel);
	json_object_set_new(content, "channel", json_string(channel));
	json_object_set_new(content, "sender", json_string(e->me_hex));
	link_prev(e, v, content);
	json_object_set_new(content, "mlog", chan_view_head_json(v)); /* CRYPTO: bound */
	return json_dumps(content, JSON_COMPACT);
}

/* Ratchet, commit, seal. *env malloc'd. The session is read again under the
 * write lock and stepped from what is stored, not from o: another liaison
 * process on this profile may have sent with it since ready_session read it
 * (its index is then further), or replaced it or marked it for rotation
 * (*changed: nothing is stepped, the caller gets the session ready again). */
static enum lsn_err
seal_next(struct e2e *e, struct local_outbound *o, const char *plain, int64_t ts,
	  uint8_t **env, size_t *env_len, uint32_t *index, bool *changed, struct lsn_status *st)
{
	uint8_t mk[32] = {0};
	struct local_outbound cur;
	bool found = false;
	memset(&cur, 0, sizeof cur);
	*changed = false;
	enum lsn_err err = local_begin(e->p, st);
	if (err == LSN_OK)
		err = local_outbound_get(e->p, o->gs.channel, &cur, &found, st);
	if (err == LSN_OK && (!found || cur.rotate[0] ||
			      sodium_memcmp(cur.gs.sign_pk, o->gs.sign_pk, 32) != 0))
		*changed = true;
	if (err == LSN_OK && !*changed) {
		lsn_gs_outbound_wipe(&o->gs);
		*o = cur;
		lsn_gs_ratchet_step(&o->gs, mk, index);
		o->sent++;
		err = local_outbound_put(e->p, o, st);
	}
	lsn_gs_outbound_wipe(&cur.gs);
	if (err == LSN_OK && !*changed)
		err = local_commit(e->p, st); /* CRYPTO §4: before the envelope leaves */
	else
		local_rollback(e->p);
	if (*changed)
		return err;
	/* Fault injection for the crash test (tests/integration/test_e2e_replay.py):
	 * die like SIGKILL between the committed ratchet step and the send. */
	const char *crash = getenv("LIAISON_TEST_CRASH");
	if (err == LSN_OK && crash && strcmp(crash, "after_ratchet") == 0)
		_exit(137);
	if (err == LSN_OK && lsn_gs_seal(&o->gs, *index, mk, e->p->device, (uint64_t)ts,
					 (const uint8_t *)plain, strlen(plain), env, env_len) != 0)
		err = lsn_fail(st, LSN_ERR_TOO_LARGE, "the message is too large to send (at most "
			       "%d bytes); send documents with --attach", THREAD_TEXT_MAX);
	sodium_memzero(mk, sizeof mk);
	return err;
}

/* Fault injection for tests/integration/test_e2e_replay_shared.py: with
 * LIAISON_TEST_SEND_PAUSE_MS=n, wait n ms between reading the session and
 * stepping it, so that two processes sending at once overlap there. */
static void
test_pause(void)
{
	const char *pause = getenv("LIAISON_TEST_SEND_PAUSE_MS");
	long ms = pause ? strtol(pause, NULL, 10) : 0;
	if (ms > 0 && ms <= 10000) {
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* Cache what we sent, so our own history reads back even if keys change. */
static enum lsn_err
cache_sent(struct e2e *e, const struct chan_view *v, const struct local_outbound *o,
	   uint32_t index, const uint8_t *env, size_t env_len, char *plain, int64_t seq,
	   int64_t ts, struct lsn_status *st)
{
	struct local_msg m;
	memset(&m, 0, sizeof m);
	memcpy(m.channel, v->channel, LSN_ID_BYTES);
	m.seq = seq;
	m.ts = ts;
	memcpy(m.sender_user, e->p->user, LSN_ID_BYTES);
	memcpy(m.sender_device, e->p->device, LSN_ID_BYTES);
	m.has_session = true;
	memcpy(m.session_id, o->gs.sign_pk, LOCAL_SID_BYTES);
	m.index = index;
	snprintf(m.status, sizeof m.status, "ok");
	m.plain = plain;
	m.plain_len = strlen(plain);
	m.first_seen = lsn_clock_now_ms();
	uint8_t hash[32];
	enum local_seen seen;
	int64_t first_seq;
	lsn_gs_envelope_hash(env, env_len, hash);
	memcpy(m.env_hash, hash, sizeof hash);
	m.has_env_hash = true;
	enum lsn_err err = local_begin(e->p, st);
	if (err == LSN_OK)
		err = local_seen_msg(e->p, m.session_id, index, hash, v->channel, seq, &seen,
				     &first_seq, st);
	if (err == LSN_OK)
		err = local_msg_put(e->p, &m, st);
	json_t *content = err == LSN_OK ? json_loads(plain, 0, NULL) : NULL;
	if (content)
		err = thread_note_content(e, v->channel, seq, content, st);
	json_decref(content);
	if (err == LSN_OK)
		err = local_commit(e->p, st);
	else
		local_rollback(e->p);
	return err;
}

static enum lsn_err
send_envelope(struct e2e *e, const struct chan_view *v, const uint8_t *env, size_t env_len,
	      int64_t *seq, int64_t *ts, struct lsn_status *st)
{
	json_t *reply = NULL;
	enum lsn_err err = e2e_write(e, "send", json_pack("{s:o, s:o}", "channel",
							  wire_id(v->channel), "envelope",
							  wire_b64(env, env_len)), &reply, st);
	if (err == LSN_OK) {
		struct lsn_status pst;
		if (wire_get_int(reply, "seq", true, 1, WIRE_ID_MAX, seq, &pst) != LSN_OK ||
		    wire_get_int(reply, "ts", true, 0, WIRE_ID_MAX, ts, &pst) != LSN_OK)
			err = lsn_fail(st, LSN_ERR_BAD_JSON, "the server's send reply is malformed");
	}
	json_decref(reply);
	return err;
}

/* Before any key leaves: the latest messages (and, at login, the key
 * shares) may carry the head of a newer log than the one the server serves
 * us; their pending heads are checked against the log fetched again. An
 * active membership alarm refuses the send. */
static enum lsn_err
check_membership_evidence(struct e2e *e, struct chan_view *v, struct lsn_status *st)
{
	struct thread_fetch_result r;
	enum lsn_err err = thread_fetch(e, v, &r, st);
	if (err == LSN_OK)
		err = chan_settle_pending(e, v->channel, st);
	char text[320];
	if (err == LSN_OK && chan_alarm_active(e, v->channel, text, sizeof text))
		err = lsn_fail(st, LSN_ERR_BAD_SIGNATURE, _("not sent, membership alarm: %s; no "
							    "key is shared here until the server "
							    "shows it again: tell your administrator"),
			       text);
	return err;
}

enum lsn_err
thread_send(struct e2e *e, struct chan_view *v, json_t *content, int64_t *seq, int64_t *ts,
	    struct lsn_status *st)
{
	if (!v->valid && !v->alarm) {
		json_decref(content);
		return lsn_fail(st, LSN_ERR_BAD_SIGNATURE, "channel is INVALID: %s; no keys are "
				"shared in it", v->reason);
	}
	enum lsn_err ferr = check_membership_evidence(e, v, st);
	if (ferr != LSN_OK) {
		json_decref(content);
		return ferr;
	}
	if (!v->valid) {
		json_decref(content);
		return lsn_fail(st, LSN_ERR_BAD_SIGNATURE, "channel is INVALID: %s; no keys are "
				"shared in it", v->reason);
	}
	if (!v->me_member) {
		json_decref(content);
		return lsn_fail(st, LSN_ERR_FORBIDDEN, "you are not a member of this channel; "
				"ask one of its admins to add you");
	}
	struct local_outbound o;
	uint8_t *env = NULL;
	size_t env_len = 0;
	uint32_t index = 0;
	memset(&o, 0, sizeof o);
	int64_t now = lsn_clock_now_ms();
	char *plain = plaintext(e, v, content);
	json_decref(content);
	enum lsn_err err = plain ? LSN_OK : lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	if (err == LSN_OK && strlen(plain) > THREAD_TEXT_MAX + 1024)
		err = lsn_fail(st, LSN_ERR_TOO_LARGE, "the message is too large (at most %d bytes "
			       "of text); send documents with --attach", THREAD_TEXT_MAX);
	/* ready, then step: again if another process changed the session between */
	for (int attempt = 0; err == LSN_OK; attempt++) {
		bool changed = false;
		err = ready_session(e, v, &o, st);
		if (err == LSN_OK)
			test_pause();
		if (err == LSN_OK)
			err = seal_next(e, &o, plain, now, &env, &env_len, &index, &changed, st);
		if (err != LSN_OK || !changed)
			break;
		lsn_gs_outbound_wipe(&o.gs);
		if (attempt >= SEND_ATTEMPTS - 1)
			err = lsn_fail(st, LSN_ERR_CONFLICT, "the sending session of this channel "
				       "keeps changing in another liaison process; send again");
	}
	if (err == LSN_OK)
		err = send_envelope(e, v, env, env_len, seq, ts, st);
	if (err == LSN_OK)
		err = cache_sent(e, v, &o, index, env, env_len, plain, *seq, *ts, st);
	lsn_gs_outbound_wipe(&o.gs);
	free(env);
	if (plain) {
		sodium_memzero(plain, strlen(plain));
		free(plain);
	}
	return err;
}
