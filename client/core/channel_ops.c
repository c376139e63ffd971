/* channel_ops.c — channel creation and membership changes (channel_ops.h). */
#include <string.h>

#include "channel_ops.h"
#include "clock.h"
#include "keyshare_send.h"
#include "local.h"
#include "thread.h"
#include "wire.h"

static enum lsn_err
create_entry(struct e2e *e, enum lsn_chan_kind kind, enum lsn_history history,
	     uint8_t channel[LSN_ID_BYTES], struct lsn_status *st)
{
	struct lsn_mlog_entry en;
	memset(&en, 0, sizeof en);
	lsn_id_random(channel);
	memcpy(en.channel, channel, LSN_ID_BYTES);
	memcpy(en.actor, e->p->user, LSN_ID_BYTES);
	memcpy(en.actor_device, e->p->device, LSN_ID_BYTES);
	memcpy(en.subject, e->p->user, LSN_ID_BYTES);
	en.action = LSN_MLOG_CREATE;
	en.role = LSN_CROLE_ADMIN;
	en.kind = kind;
	en.history = history;
	en.ts = lsn_clock_now_ms();
	lsn_mlog_sign(&en, e->p->keys->dk_sk);
	json_t *reply = NULL;
	enum lsn_err err = e2e_write(e, "channel_create",
				     json_pack("{s:o}", "entry", lsn_mlog_to_json(&en)), &reply, st);
	json_decref(reply);
	return err;
}

enum lsn_err
chan_ops_create(struct e2e *e, enum lsn_chan_kind kind, enum lsn_history history,
		const char *topic, uint8_t channel[LSN_ID_BYTES], struct lsn_status *st)
{
	enum lsn_err err = create_entry(e, kind, history, channel, st);
	if (err != LSN_OK || topic == NULL)
		return err;
	struct chan_view v;
	int64_t seq = 0, ts = 0;
	memset(&v, 0, sizeof v);
	err = chan_view_load(e, channel, &v, st);
	if (err == LSN_OK)
		err = thread_send(e, &v, json_pack("{s:s, s:s}", "type", "topic", "topic", topic),
				  &seq, &ts, st);
	chan_view_free(&v);
	return err;
}

enum lsn_err
chan_ops_load_valid(struct e2e *e, const uint8_t channel[LSN_ID_BYTES], struct chan_view *v,
		    struct lsn_status *st)
{
	enum lsn_err err = chan_view_load(e, channel, v, st);
	if (err == LSN_OK && !v->valid)
		err = lsn_fail(st, LSN_ERR_BAD_SIGNATURE, "channel is INVALID: %s; nothing was "
			       "changed (tell your administrator)", v->reason);
	return err;
}

/* After an add: history (when shared) and our current session. */
static void
share_with_newcomer(struct e2e *e, struct chan_view *v, const uint8_t user[LSN_ID_BYTES],
		    size_t *forwarded)
{
	struct lsn_status st = {0};
	*forwarded = 0;
	if (v->state->history == LSN_HISTORY_SHARED &&
	    share_history(e, v, user, forwarded, &st) != LSN_OK)
		lsn_warn(&e->warnings, "the member was added, but sharing the history failed: %s; "
			 "run liaison send in the channel to share current keys", st.msg);
	struct local_outbound o;
	bool found = false;
	size_t count = 0;
	if (local_outbound_get(e->p, v->channel, &o, &found, &st) == LSN_OK && found) {
		if (share_outbound(e, v, &o, &count, &st) != LSN_OK)
			lsn_warn(&e->warnings, "could not share the current session: %s", st.msg);
		lsn_gs_outbound_wipe(&o.gs);
	}
}

enum lsn_err
chan_ops_change(struct e2e *e, const uint8_t channel[LSN_ID_BYTES], enum lsn_mlog_action action,
		const uint8_t user[LSN_ID_BYTES], enum lsn_chan_role role, int64_t *seq,
		size_t *forwarded, struct lsn_status *st)
{
	struct chan_view v;
	memset(&v, 0, sizeof v);
	*forwarded = 0;
	enum lsn_err err = chan_ops_load_valid(e, channel, &v, st);
	if (err == LSN_OK)
		err = chan_append(e, &v, action, user, role, seq, st);
	if (err == LSN_OK && (action == LSN_MLOG_REMOVE || action == LSN_MLOG_LEAVE))
		local_outbound_mark_rotate(e->p, channel, "a member left or was removed", st);
	if (err == LSN_OK && action == LSN_MLOG_ADD) {
		chan_view_free(&v);
		memset(&v, 0, sizeof v);
		if ((err = chan_ops_load_valid(e, channel, &v, st)) == LSN_OK)
			share_with_newcomer(e, &v, user, forwarded);
	}
	chan_view_free(&v);
	return err;
}
