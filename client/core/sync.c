/* sync.c — process the to-device queue (sync.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agreement_keys.h"
#include "clock.h"
#include "key_backup.h"
#include "keyshare.h"
#include "keyshare_send.h"
#include "mlog_verify.h"
#include "peers.h"
#include "local.h"
#include "sync.h"
#include "tr.h"
#include "wire.h"

#define FETCH_LIMIT 100

/* One envelope being processed. */
struct share_in {
	struct e2e *e;
	struct lsn_ks_addr from;
	json_t *plain;
	struct sync_stats *ss;
	struct chan_view *view;      /* loaded on demand for key requests */
};

/* A rejected share is counted; only the first is described, and
 * warn_rejected makes one warning of them all: a flood of junk entries
 * gives one line, not one per entry. */
static void
reject(struct share_in *in, const char *why)
{
	char who[200];
	in->ss->rejected++;
	if (in->ss->warned++ > 0)
		return;
	e2e_person(in->e, in->from.user, who, sizeof who);
	snprintf(in->ss->first_warning, sizeof in->ss->first_warning, "%s: %s", who, why);
}

static void
warn_rejected(struct e2e *e, const struct sync_stats *ss)
{
	if (ss->warned == 1)
		lsn_warn(&e->warnings, _("ignored a key share from %s"), ss->first_warning);
	else if (ss->warned > 1)
		lsn_warn(&e->warnings, _("ignored %zu key shares that failed their checks (the first "
					 "from %s)"), ss->warned, ss->first_warning);
}

/* ---- room keys --------------------------------------------------------------- */

static bool
parse_room_key(struct share_in *in, struct local_inbound *k)
{
	struct lsn_status st;
	int64_t index = 0;
	bool forwarded = false, history = false;
	memset(k, 0, sizeof *k);
	if (wire_get_id(in->plain, "channel", true, k->gs.channel, NULL, &st) != LSN_OK ||
	    wire_get_b64(in->plain, "session_id", true, k->gs.session_id, 32, &st) != LSN_OK ||
	    wire_get_int(in->plain, "index", true, 0, UINT32_MAX - 1, &index, &st) != LSN_OK ||
	    wire_get_b64(in->plain, "chain_key", true, k->gs.chain_key, 32, &st) != LSN_OK ||
	    wire_get_bool(in->plain, "history", false, &history, &st) != LSN_OK ||
	    wire_get_bool(in->plain, "forwarded", false, &forwarded, &st) != LSN_OK ||
	    wire_get_id(in->plain, "sender_user", true, k->sender_user, NULL, &st) != LSN_OK ||
	    wire_get_id(in->plain, "sender_device", true, k->gs.sender_device, NULL, &st) != LSN_OK)
		return false;
	k->gs.first_index = (uint32_t)index;
	k->forwarded = forwarded;
	k->direct_index = forwarded ? -1 : index;
	k->history = history;
	memcpy(k->forwarded_by, in->from.user, LSN_ID_BYTES);
	memcpy(k->via_device, in->from.device, LSN_ID_BYTES);
	k->received_at = lsn_clock_now_ms();
	return true;
}

static enum lsn_err
merge_room_key(struct share_in *in, struct local_inbound *k, struct lsn_status *st)
{
	bool kept = false, conflict = false;
	enum lsn_err err = local_inbound_merge(in->e->p, k, &kept, &conflict, st);
	if (conflict)
		reject(in, "it contradicts a session key we already hold (possible forgery)");
	in->ss->keys += kept;
	return err;
}

static enum lsn_err
take_room_key(struct share_in *in, struct lsn_status *st)
{
	struct local_inbound k;
	enum lsn_err err = LSN_OK;
	bool malformed = false;
	if (!parse_room_key(in, &k))
		reject(in, "a malformed room key");
	else if (!k.forwarded && (memcmp(k.sender_user, in->from.user, LSN_ID_BYTES) != 0 ||
				  memcmp(k.gs.sender_device, in->from.device, LSN_ID_BYTES) != 0))
		reject(in, "a room key that claims another sender without being forwarded");
	/* the sharer's membership-log head (CRYPTO.md "Membership bound into
	 * messages"): noted pending unless it is the position we verified */
	else if ((err = chan_head_note(in->e, NULL, k.gs.channel, in->plain, "key_share",
				       in->from.user, 0, &malformed, st)) != LSN_OK)
		;
	else if (malformed)
		reject(in, "a room key whose membership-log head is malformed");
	else
		err = merge_room_key(in, &k, st);
	sodium_memzero(&k, sizeof k);
	return err;
}

/* ---- key requests -------------------------------------------------------------- */

static enum lsn_err
load_view(struct share_in *in, const uint8_t channel[LSN_ID_BYTES], struct lsn_status *st)
{
	if (in->view && memcmp(in->view->channel, channel, LSN_ID_BYTES) == 0)
		return LSN_OK;
	if (in->view)
		chan_view_free(in->view);
	else if ((in->view = calloc(1, sizeof *in->view)) == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	return chan_view_load(in->e, channel, in->view, st);
}

/* The index a requester may get: the earliest we hold when history is
 * shared, else not before what we shared with them ourselves. -1: refuse. */
static int64_t
allowed_index(struct share_in *in, const struct local_inbound *k)
{
	if (in->view->state->history == LSN_HISTORY_SHARED)
		return k->gs.first_index;
	int64_t min = local_shared_min_index(in->e->p, k->gs.session_id, in->from.user);
	if (min < 0)
		return -1;
	return min > (int64_t)k->gs.first_index ? min : k->gs.first_index;
}

static enum lsn_err
answer_request(struct share_in *in, struct lsn_status *st)
{
	uint8_t channel[LSN_ID_BYTES], sid[32];
	struct lsn_status pst;
	if (wire_get_id(in->plain, "channel", true, channel, NULL, &pst) != LSN_OK ||
	    wire_get_b64(in->plain, "session_id", true, sid, 32, &pst) != LSN_OK) {
		reject(in, "a malformed key request");
		return LSN_OK;
	}
	struct local_inbound k;
	bool found = false;
	enum lsn_err err = local_inbound_get(in->e->p, sid, &k, &found, st);
	if (err != LSN_OK || !found || memcmp(k.gs.channel, channel, LSN_ID_BYTES) != 0)
		return err; /* not ours to give */
	err = load_view(in, channel, st);
	struct peer *pr = peers_get(in->e->peers, in->from.user);
	int64_t index = err == LSN_OK && in->view->valid ? allowed_index(in, &k) : -1;
	if (err == LSN_OK && (index < 0 || chan_view_member(in->view, in->from.user) == NULL ||
			      pr == NULL || peers_blocked(in->e, pr)[0])) {
		in->ss->refused++;
	} else if (err == LSN_OK) {
		err = share_session_to(in->e, in->view, &k, (uint32_t)index, in->from.user,
				       in->from.device, st);
		in->ss->answered++;
	}
	sodium_memzero(&k, sizeof k);
	return err;
}

static enum lsn_err
take_withheld(struct share_in *in, struct lsn_status *st)
{
	uint8_t channel[LSN_ID_BYTES], sid[32];
	const char *reason = NULL;
	struct lsn_status pst;
	if (wire_get_id(in->plain, "channel", true, channel, NULL, &pst) != LSN_OK ||
	    wire_get_b64(in->plain, "session_id", true, sid, 32, &pst) != LSN_OK ||
	    wire_get_text(in->plain, "reason", true, 200, &reason, &pst) != LSN_OK) {
		reject(in, "a malformed withheld notice");
		return LSN_OK;
	}
	in->ss->withheld++;
	return local_withheld_put(in->e->p, sid, channel, in->from.user, reason, st);
}

/* ---- one envelope ------------------------------------------------------------------ */

/* Authenticate and open body from the server-named sender; *plain is the
 * decoded JSON object, or NULL after a rejection. */
static enum lsn_err
open_share(struct share_in *in, const uint8_t *body, size_t len, json_t **plain,
	   struct lsn_status *st)
{
	*plain = NULL;
	struct lsn_ks_parsed parsed;
	if (lsn_ks_parse(body, len, &parsed) != LSN_KS_OK ||
	    memcmp(&parsed.from, &in->from, sizeof in->from) != 0) {
		reject(in, "not a key-share envelope from the device the server names");
		return LSN_OK;
	}
	const struct peer_device *d = NULL;
	enum lsn_err err = peers_device(in->e, in->from.user, in->from.device, false, &d, st);
	struct peer *pr = peers_get(in->e->peers, in->from.user);
	if (err != LSN_OK)
		return err;
	if (pr && !pr->trusted && !pr->me) {
		char what[LSN_WARN_LEN], todo[LSN_WARN_LEN];
		peers_changed_text(in->e, pr, what, sizeof what, todo, sizeof todo);
		reject(in, what);
		return LSN_OK;
	}
	if (d == NULL || !d->chain_ok || pr == NULL || !pr->trusted) {
		reject(in, "the sending device does not verify");
		return LSN_OK;
	}
	struct lsn_ks_addr me;
	memcpy(me.user, in->e->p->user, LSN_ID_BYTES);
	memcpy(me.device, in->e->p->device, LSN_ID_BYTES);
	/* the agreement key the envelope names: current, or one of the last 3
	 * kept for shares sent late (CRYPTO.md §1, agreement_keys.h) */
	const uint8_t *ak_pk = NULL, *ak_sk = NULL;
	struct lsn_status rst;
	bool held = profile_ak_find(in->e->p, parsed.ak_id, &ak_pk, &ak_sk);
	/* another liaison process on this profile may have rotated the key */
	if (!held && profile_ak_reload(in->e->p, &rst) == LSN_OK)
		held = profile_ak_find(in->e->p, parsed.ak_id, &ak_pk, &ak_sk);
	if (!held) {
		enum lsn_ks_result r = lsn_ks_verify(&parsed, &me, d->dk);
		if (r != LSN_KS_OK)
			reject(in, lsn_ks_result_text(r));
		else if (ak_erased(in->e->p, parsed.ak_id))
			reject(in, "sent to an agreement key this device has erased (older than "
				   "the last 3)");
		else
			reject(in, "sealed for an agreement key this device never had");
		return LSN_OK;
	}
	uint8_t *text = NULL;
	size_t text_len = 0;
	enum lsn_ks_result r = lsn_ks_open(&parsed, &me, d->dk, ak_pk, ak_sk, &text, &text_len);
	if (r != LSN_KS_OK) {
		reject(in, lsn_ks_result_text(r));
		return LSN_OK;
	}
	bool seen = false;
	err = local_seen_share(in->e->p, parsed.share_id, &seen, st);
	if (err == LSN_OK && seen)
		in->ss->rejected++; /* a replay: already acted on once */
	else if (err == LSN_OK && (*plain = json_loadb((char *)text, text_len, 0, NULL)) == NULL)
		reject(in, "its content is not JSON");
	sodium_memzero(text, text_len);
	free(text);
	return err;
}

static enum lsn_err
process_entry(struct share_in *in, json_t *msg, struct lsn_status *st)
{
	struct lsn_status pst;
	const char *b64 = NULL;
	if (wire_get_id(msg, "sender_user", true, in->from.user, NULL, &pst) != LSN_OK ||
	    wire_get_id(msg, "sender_device", true, in->from.device, NULL, &pst) != LSN_OK ||
	    wire_get_str(msg, "body", true, 4 * LSN_KS_MAX_BYTES, &b64, &pst) != LSN_OK)
		return LSN_OK; /* unreadable: skipped, still acknowledged */
	in->ss->entries++;
	size_t len = 0;
	uint8_t *body = malloc(strlen(b64));
	if (body == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	enum lsn_err err = LSN_OK;
	if (!wire_b64_decode(b64, body, strlen(b64), &len))
		reject(in, "its body is not base64");
	else
		err = open_share(in, body, len, &in->plain, st);
	free(body);
	const char *type = json_string_value(json_object_get(in->plain, "type"));
	if (err == LSN_OK && in->plain && type) {
		if (strcmp(type, "room_key") == 0)
			err = take_room_key(in, st);
		else if (strcmp(type, "key_request") == 0)
			err = answer_request(in, st);
		else if (strcmp(type, "room_key_withheld") == 0)
			err = take_withheld(in, st);
	}
	json_decref(in->plain);
	in->plain = NULL;
	return err;
}

/* New keys go to the key backup at once (CRYPTO.md §7); a failure is only
 * a warning: they are retried at the next sync. */
static void
backup_new_keys(struct e2e *e, const struct sync_stats *ss)
{
	struct lsn_status st = {0};
	if (ss->keys > 0 && key_backup_flush(e, NULL, &st) != LSN_OK)
		lsn_warn(&e->warnings, "could not upload new keys to the key backup (%s); will retry",
			 st.msg);
}

/* Heads of room keys not found in the log we had: fetch those logs again
 * (a failure is a warning; the heads stay pending for the next sync). */
static void
settle_heads(struct e2e *e)
{
	struct lsn_status st = {0};
	if (chan_settle_pending(e, NULL, &st) != LSN_OK)
		lsn_warn(&e->warnings, "could not check a membership-log head against the "
			 "server's log (%s); will retry", st.msg);
}

/* ---- batches ------------------------------------------------------------------------- */

static enum lsn_err
ack(struct e2e *e, int64_t upto, struct lsn_status *st)
{
	json_t *reply = NULL;
	enum lsn_err err = e2e_read(e, "to_device_ack", json_pack("{s:I}", "upto",
								  (json_int_t)upto), &reply, st);
	json_decref(reply);
	return err;
}

/* Process a list of entries in one local transaction, then acknowledge.
 * The cursor is read again and moved in that transaction: an entry another
 * liaison process on this profile has already taken is skipped. */
static enum lsn_err
process_list(struct e2e *e, json_t *messages, struct sync_stats *ss, struct lsn_status *st)
{
	struct share_in in = {.e = e, .ss = ss};
	int64_t upto = -1;
	enum lsn_err err = local_begin(e->p, st);
	int64_t done = err == LSN_OK ? local_setting(e->p, "to_device_cursor", 0) : 0;
	size_t i;
	json_t *msg;
	json_array_foreach(messages, i, msg) {
		json_t *id = json_object_get(msg, "id");
		if (json_is_integer(id) && json_integer_value(id) <= done)
			continue;
		if (err == LSN_OK)
			err = process_entry(&in, msg, st);
		if (err == LSN_OK && json_is_integer(id) && json_integer_value(id) > upto)
			upto = json_integer_value(id);
	}
	if (err == LSN_OK && upto >= 0)
		err = local_advance_setting(e->p, "to_device_cursor", upto, st);
	if (in.view) {
		chan_view_free(in.view);
		free(in.view);
	}
	if (err != LSN_OK) {
		local_rollback(e->p);
		return err;
	}
	err = local_commit(e->p, st);
	if (err == LSN_OK && upto >= 0)
		err = ack(e, upto, st);
	return err;
}

enum lsn_err
sync_to_device(struct e2e *e, struct sync_stats *ss, struct lsn_status *st)
{
	memset(ss, 0, sizeof *ss);
	bool more = true;
	enum lsn_err err = LSN_OK;
	while (more && err == LSN_OK) {
		json_t *reply = NULL;
		int64_t after = local_setting(e->p, "to_device_cursor", 0);
		err = e2e_read(e, "to_device_fetch", json_pack("{s:I, s:i}", "after",
							       (json_int_t)after, "limit",
							       FETCH_LIMIT), &reply, st);
		if (err != LSN_OK)
			break;
		json_t *messages = json_object_get(reply, "messages");
		more = json_is_true(json_object_get(reply, "more")) && json_array_size(messages) > 0;
		err = process_list(e, messages, ss, st);
		json_decref(reply);
	}
	warn_rejected(e, ss);
	backup_new_keys(e, ss);
	if (err == LSN_OK)
		settle_heads(e);
	return err;
}

enum lsn_err
sync_to_device_event(struct e2e *e, json_t *ev, struct sync_stats *ss, struct lsn_status *st)
{
	json_t *list = json_array();
	memset(ss, 0, sizeof *ss);
	json_array_append(list, ev);
	enum lsn_err err = process_list(e, list, ss, st);
	json_decref(list);
	warn_rejected(e, ss);
	backup_new_keys(e, ss);
	if (err == LSN_OK)
		settle_heads(e);
	return err;
}
