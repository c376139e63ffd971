/* keyshare_send.c — seal key-share plaintexts for devices, queue them with
 * to_device_send in batches, and record who got what (keyshare_send.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "keyshare.h"
#include "keyshare_send.h"
#include "tr.h"
#include "wire.h"

#define BATCH_ENTRIES 200
#define BATCH_BYTES   (160 * 1024)

/* A share that becomes a shared_with row once the server has it. */
struct pending {
	uint8_t sid[LOCAL_SID_BYTES];
	uint8_t user[LSN_ID_BYTES];
	uint8_t device[LSN_ID_BYTES];
	int64_t state;
	size_t msg;                /* its entry in the batch's messages */
};

struct batch {
	json_t *messages;
	size_t bytes;
	struct pending *pend;
	size_t n_pend;
};

static void
batch_init(struct batch *b)
{
	memset(b, 0, sizeof *b);
	b->messages = json_array();
	b->pend = calloc(BATCH_ENTRIES, sizeof *b->pend);
}

static void
batch_free(struct batch *b)
{
	json_decref(b->messages);
	free(b->pend);
	memset(b, 0, sizeof *b);
}

static enum lsn_err
batch_flush(struct e2e *e, struct batch *b, struct lsn_status *st)
{
	if (json_array_size(b->messages) == 0)
		return LSN_OK;
	json_t *reply = NULL;
	/* partial: an entry the server's bounds refuse (the recipient's queue
	 * full, no channel in common) is skipped, not the whole batch; it is
	 * not recorded as shared, so the next send shares it again */
	json_t *body = json_pack("{s:O, s:b}", "messages", b->messages, "partial", 1);
	enum lsn_err err = e2e_write(e, "to_device_send", body, &reply, st);
	bool refused[BATCH_ENTRIES + 1] = {false};
	json_t *list = json_object_get(reply, "refused"), *r;
	size_t i, n_refused = 0;
	json_array_foreach(list, i, r) {
		json_int_t at = json_integer_value(json_object_get(r, "index"));
		if (at >= 0 && at <= BATCH_ENTRIES && !refused[at]) {
			refused[at] = true;
			n_refused++;
		}
	}
	const char *why = json_string_value(json_object_get(json_array_get(list, 0), "message"));
	if (err == LSN_OK && n_refused > 0)
		lsn_warn(&e->warnings, _("the server did not queue %zu key share(s): %s"), n_refused,
			 why ? why : "?");
	json_decref(reply);
	for (i = 0; i < b->n_pend && err == LSN_OK; i++)
		if (!refused[b->pend[i].msg])
			err = local_shared_add(e->p, b->pend[i].sid, b->pend[i].user,
					       b->pend[i].device, b->pend[i].state, st);
	json_array_clear(b->messages);
	b->bytes = 0;
	b->n_pend = 0;
	return err;
}

/* Seal plain for device d of user and queue it; rec (may be NULL) is
 * recorded after the flush. */
static enum lsn_err
batch_add(struct e2e *e, struct batch *b, const uint8_t user[LSN_ID_BYTES],
	  const struct peer_device *d, json_t *plain, const struct pending *rec,
	  struct lsn_status *st)
{
	if (b->messages == NULL || b->pend == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	char *text = json_dumps(plain, JSON_COMPACT);
	if (text == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	struct lsn_ks_addr from, to;
	memcpy(from.user, e->p->user, LSN_ID_BYTES);
	memcpy(from.device, e->p->device, LSN_ID_BYTES);
	memcpy(to.user, user, LSN_ID_BYTES);
	memcpy(to.device, d->id, LSN_ID_BYTES);
	uint8_t *env = NULL;
	size_t env_len = 0, text_len = strlen(text);
	int rc = lsn_ks_seal(&from, e->p->keys->dk_sk, &to, d->ak_id, d->ak, (uint8_t *)text,
			     text_len, &env, &env_len);
	sodium_memzero(text, text_len);
	free(text);
	if (rc != 0)
		return lsn_fail(st, LSN_ERR_INTERNAL, "cannot seal a key share for a device");
	json_array_append_new(b->messages, json_pack("{s:o, s:o, s:o}", "user", wire_id(user),
						     "device", wire_id(d->id), "body",
						     wire_b64(env, env_len)));
	b->bytes += env_len * 4 / 3 + 120;
	free(env);
	if (rec) {
		b->pend[b->n_pend] = *rec;
		b->pend[b->n_pend++].msg = json_array_size(b->messages) - 1;
	}
	if (json_array_size(b->messages) >= BATCH_ENTRIES || b->bytes >= BATCH_BYTES)
		return batch_flush(e, b, st);
	return LSN_OK;
}

/* ---- plaintexts ------------------------------------------------------------ */

/* head: the sender's verified membership-log head ("mlog", stolen; may be NULL) */
static json_t *
room_key_json(const struct lsn_gs_inbound *in, const uint8_t sender_user[LSN_ID_BYTES],
	      bool history, bool forwarded, json_t *head)
{
	json_t *o = json_pack("{s:s, s:o, s:o, s:I, s:o, s:b, s:b, s:o, s:o}", "type", "room_key",
			 "channel", wire_id(in->channel), "session_id",
			 wire_b64(in->session_id, 32), "index", (json_int_t)in->first_index,
			 "chain_key", wire_b64(in->chain_key, 32), "history", history,
			 "forwarded", forwarded, "sender_user", wire_id(sender_user),
			 "sender_device", wire_id(in->sender_device));
	if (o && head)
		json_object_set_new(o, "mlog", head);
	else
		json_decref(head);
	return o;
}

static json_t *
withheld_json(const uint8_t channel[LSN_ID_BYTES], const uint8_t sid[32], const char *reason)
{
	return json_pack("{s:s, s:o, s:o, s:s}", "type", "room_key_withheld", "channel",
			 wire_id(channel), "session_id", wire_b64(sid, 32), "reason", reason);
}

/* ---- outbound sharing ------------------------------------------------------------ */

/* Once per user and run. */
static void
warn_blocked(struct e2e *e, struct peer *pr, const char *why)
{
	char who[200], hex[LSN_ID_HEX + 1];
	if (pr->warned)
		return;
	pr->warned = true;
	e2e_person(e, pr->user, who, sizeof who);
	lsn_id_to_hex(pr->user, hex);
	if (!pr->me && !pr->trusted) {
		char what[LSN_WARN_LEN], todo[LSN_WARN_LEN];
		peers_changed_text(e, pr, what, sizeof what, todo, sizeof todo);
		lsn_warn(&e->warnings, "WARNING: %s;", what);
		lsn_warn(&e->warnings, "%s", todo);
		return;
	}
	lsn_warn(&e->warnings, "WARNING: not sharing keys with %s: %s; compare safety numbers "
		 "with liaison verify %s, then add --accept", who, why, hex);
}

static enum lsn_err
share_to_peer(struct e2e *e, const struct chan_view *v, struct batch *b, struct peer *pr,
	      const struct lsn_gs_inbound *in, size_t *count, struct lsn_status *st)
{
	const char *blocked = peers_blocked(e, pr);
	if (blocked[0])
		warn_blocked(e, pr, blocked);
	enum lsn_err err = LSN_OK;
	for (size_t i = 0; i < pr->n_devices && err == LSN_OK; i++) {
		const struct peer_device *d = &pr->devices[i];
		if (memcmp(d->id, e->p->device, LSN_ID_BYTES) == 0 || !d->chain_ok)
			continue;
		int64_t state = local_shared_state(e->p, in->session_id, d->id);
		struct pending rec;
		memcpy(rec.sid, in->session_id, 32);
		memcpy(rec.user, pr->user, LSN_ID_BYTES);
		memcpy(rec.device, d->id, LSN_ID_BYTES);
		json_t *plain = NULL;
		if (blocked[0] && state == LOCAL_SHARED_NONE) {
			rec.state = LOCAL_SHARED_WITHHELD;
			plain = withheld_json(in->channel, in->session_id, blocked);
		} else if (!blocked[0] && state < 0) {
			rec.state = in->first_index;
			plain = room_key_json(in, e->p->user, false, false,
					      chan_view_head_json(v));
			(*count)++;
		}
		if (plain)
			err = batch_add(e, b, pr->user, d, plain, &rec, st);
		json_decref(plain);
	}
	return err;
}

enum lsn_err
share_outbound(struct e2e *e, const struct chan_view *v, const struct local_outbound *o,
	       size_t *count, struct lsn_status *st)
{
	*count = 0;
	if (!v->valid)
		return lsn_fail(st, LSN_ERR_BAD_SIGNATURE, "channel is INVALID: %s", v->reason);
	struct lsn_gs_inbound in;
	lsn_gs_inbound_from_outbound(&in, &o->gs, e->p->device);
	struct batch b;
	batch_init(&b);
	enum lsn_err err = LSN_OK;
	for (size_t i = 0; i < v->state->count && err == LSN_OK; i++) {
		struct peer *pr = peers_get(e->peers, v->state->members[i].user);
		if (pr)
			err = share_to_peer(e, v, &b, pr, &in, count, st);
	}
	if (err == LSN_OK)
		err = batch_flush(e, &b, st);
	batch_free(&b);
	sodium_memzero(&in, sizeof in);
	return err;
}

/* ---- rotation ------------------------------------------------------------------- */

/* A device that had the session is gone (revoked) or its owner is no longer
 * trusted. */
static void
check_recipients(struct e2e *e, const struct chan_view *v, const struct local_outbound *o,
		 char *why, size_t len)
{
	enum { MAX_SHARED = 4096 };
	uint8_t (*devices)[LSN_ID_BYTES] = calloc(MAX_SHARED, LSN_ID_BYTES);
	uint8_t (*users)[LSN_ID_BYTES] = calloc(MAX_SHARED, LSN_ID_BYTES);
	size_t n = 0;
	struct lsn_status st;
	if (devices && users &&
	    local_shared_devices(e->p, o->gs.sign_pk, devices, users, MAX_SHARED, &n, &st) != LSN_OK)
		n = 0;
	for (size_t i = 0; i < n && !why[0]; i++) {
		const struct peer *pr = peers_get(e->peers, users[i]);
		char who[200];
		if (pr == NULL || chan_view_member(v, users[i]) == NULL)
			continue;
		e2e_person(e, users[i], who, sizeof who);
		bool active = false;
		for (size_t j = 0; j < pr->n_devices && !active; j++)
			active = memcmp(pr->devices[j].id, devices[i], LSN_ID_BYTES) == 0 &&
				 pr->devices[j].chain_ok;
		if (!active)
			snprintf(why, len, "a device of %s was revoked or no longer verifies", who);
		else if (peers_blocked(e, pr)[0])
			snprintf(why, len, "%s: %s", who, peers_blocked(e, pr));
	}
	free(devices);
	free(users);
}

void
share_rotation_reason(struct e2e *e, const struct chan_view *v, const struct local_outbound *o,
		      char *why, size_t len)
{
	why[0] = '\0';
	if (o->rotate[0])
		snprintf(why, len, "%s", o->rotate);
	else if (v->last_departure_seq > o->created_log_seq)
		snprintf(why, len, "a member left or was removed");
	else if (o->sent >= (int64_t)LSN_GS_ROTATE_MESSAGES ||
		 lsn_gs_outbound_needs_rotation(&o->gs, lsn_clock_now_ms()))
		snprintf(why, len, "the session reached %u messages or 7 days",
			 LSN_GS_ROTATE_MESSAGES);
	else
		check_recipients(e, v, o, why, len);
}

/* ---- history, single shares, requests ---------------------------------------------- */

struct history_walk {
	struct e2e *e;
	const struct chan_view *v;
	struct batch *b;
	const struct peer *pr;
	size_t count;
	enum lsn_err err;
	struct lsn_status *st;
};

static bool
forward_one(void *arg, const struct local_inbound *in)
{
	struct history_walk *w = arg;
	json_t *plain = room_key_json(&in->gs, in->sender_user, true, true,
				      chan_view_head_json(w->v));
	for (size_t i = 0; i < w->pr->n_devices && w->err == LSN_OK; i++) {
		const struct peer_device *d = &w->pr->devices[i];
		if (d->chain_ok)
			w->err = batch_add(w->e, w->b, w->pr->user, d, plain, NULL, w->st);
	}
	json_decref(plain);
	w->count++;
	return w->err == LSN_OK;
}

enum lsn_err
share_history(struct e2e *e, const struct chan_view *v, const uint8_t newcomer[LSN_ID_BYTES],
	      size_t *count, struct lsn_status *st)
{
	*count = 0;
	const uint8_t (*one)[LSN_ID_BYTES] = (const uint8_t (*)[LSN_ID_BYTES])newcomer;
	enum lsn_err err = peers_load(e, one, 1, true, st);
	struct peer *pr = err == LSN_OK ? peers_get(e->peers, newcomer) : NULL;
	if (err != LSN_OK || pr == NULL)
		return err;
	if (peers_blocked(e, pr)[0]) {
		warn_blocked(e, pr, peers_blocked(e, pr));
		return LSN_OK;
	}
	struct batch b;
	batch_init(&b);
	struct history_walk w = {e, v, &b, pr, 0, LSN_OK, st};
	err = local_inbound_each(e->p, v->channel, forward_one, &w, st);
	if (err == LSN_OK)
		err = w.err;
	if (err == LSN_OK)
		err = batch_flush(e, &b, st);
	batch_free(&b);
	*count = w.count;
	return err;
}

enum lsn_err
share_session_to(struct e2e *e, const struct chan_view *v, const struct local_inbound *in,
		 uint32_t index, const uint8_t user[LSN_ID_BYTES],
		 const uint8_t device[LSN_ID_BYTES], struct lsn_status *st)
{
	const struct peer_device *d = NULL;
	enum lsn_err err = peers_device(e, user, device, false, &d, st);
	if (err != LSN_OK || d == NULL || !d->chain_ok)
		return err;
	struct lsn_gs_inbound at = in->gs;
	if (lsn_gs_advance(in->gs.chain_key, in->gs.first_index, index, at.chain_key) != 0)
		return LSN_OK;
	at.first_index = index;
	bool own = memcmp(in->gs.sender_device, e->p->device, LSN_ID_BYTES) == 0;
	json_t *plain = room_key_json(&at, in->sender_user, !own, !own, chan_view_head_json(v));
	sodium_memzero(&at, sizeof at);
	struct batch b;
	batch_init(&b);
	err = batch_add(e, &b, user, d, plain, NULL, st);
	if (err == LSN_OK)
		err = batch_flush(e, &b, st);
	json_decref(plain);
	batch_free(&b);
	return err;
}

enum lsn_err
share_request_key(struct e2e *e, const uint8_t channel[LSN_ID_BYTES],
		  const uint8_t sender_user[LSN_ID_BYTES], const uint8_t session_id[LOCAL_SID_BYTES],
		  uint32_t index, struct lsn_status *st)
{
	const uint8_t (*one)[LSN_ID_BYTES] = (const uint8_t (*)[LSN_ID_BYTES])sender_user;
	enum lsn_err err = peers_load(e, one, 1, false, st);
	const struct peer *pr = err == LSN_OK ? peers_get(e->peers, sender_user) : NULL;
	if (pr == NULL)
		return err;
	json_t *plain = json_pack("{s:s, s:o, s:o, s:I}", "type", "key_request", "channel",
				  wire_id(channel), "session_id", wire_b64(session_id, 32), "index",
				  (json_int_t)index);
	struct batch b;
	batch_init(&b);
	for (size_t i = 0; i < pr->n_devices && err == LSN_OK; i++)
		if (pr->devices[i].chain_ok &&
		    memcmp(pr->devices[i].id, e->p->device, LSN_ID_BYTES) != 0)
			err = batch_add(e, &b, pr->user, &pr->devices[i], plain, NULL, st);
	if (err == LSN_OK)
		err = batch_flush(e, &b, st);
	json_decref(plain);
	batch_free(&b);
	if (err == LSN_OK)
		err = local_key_request_put(e->p, session_id, channel, lsn_clock_now_ms(), st);
	return err;
}
