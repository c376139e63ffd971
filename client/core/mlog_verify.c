/* mlog_verify.c — fetch a channel's membership log, verify every entry and
 * its signer, replay the rules, compare with the server's member list and
 * with what we verified before (mlog_verify.h); sign and append entries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "tr.h"
#include "local_alarm.h"
#include "mlog_verify.h"
#include "peers.h"
#include "local.h"
#include "wire.h"

static bool
invalid(struct chan_view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool
invalid(struct chan_view *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof v->reason, fmt, ap);
	va_end(ap);
	v->valid = false;
	return false;
}

void
chan_view_free(struct chan_view *v)
{
	free(v->state);
	free(v->entries);
	free(v->ever);
	json_decref(v->members);
	memset(v, 0, sizeof *v);
}

const struct lsn_mlog_member *
chan_view_member(const struct chan_view *v, const uint8_t user[LSN_ID_BYTES])
{
	return v->state ? lsn_mlog_member(v->state, user) : NULL;
}

bool
chan_view_ever(const struct chan_view *v, const uint8_t user[LSN_ID_BYTES])
{
	for (size_t i = 0; i < v->n_ever; i++)
		if (memcmp(v->ever[i], user, LSN_ID_BYTES) == 0)
			return true;
	return false;
}

static void
ever_add(struct chan_view *v, const uint8_t user[LSN_ID_BYTES])
{
	if (!chan_view_ever(v, user))
		memcpy(v->ever[v->n_ever++], user, LSN_ID_BYTES);
}

/* ---- fetching -------------------------------------------------------------- */

static enum lsn_err
fetch_entries(struct e2e *e, struct chan_view *v, struct lsn_status *st)
{
	json_t *reply = NULL;
	enum lsn_err err = e2e_read(e, "channel_log", json_pack("{s:o}", "channel",
								 wire_id(v->channel)), &reply, st);
	if (err != LSN_OK)
		return err;
	json_t *entries = json_object_get(reply, "entries");
	size_t n = json_array_size(entries);
	v->entries = calloc(n ? n : 1, sizeof *v->entries);
	v->ever = calloc(n ? n : 1, LSN_ID_BYTES);
	if (v->entries == NULL || v->ever == NULL) {
		json_decref(reply);
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	}
	for (size_t i = 0; i < n && v->valid; i++) {
		struct lsn_status est;
		if (lsn_mlog_from_json(json_array_get(entries, i), &v->entries[i], &est) != LSN_OK)
			invalid(v, "membership log entry %zu is malformed (%s)", i, est.msg);
		else
			v->n_entries++;
	}
	json_decref(reply);
	if (v->valid && n == 0)
		invalid(v, "the server sent an empty membership log");
	return LSN_OK;
}

/* Keys of every actor, in one request. */
static enum lsn_err
load_actors(struct e2e *e, struct chan_view *v, struct lsn_status *st)
{
	uint8_t (*actors)[LSN_ID_BYTES] = calloc(v->n_entries ? v->n_entries : 1, LSN_ID_BYTES);
	if (actors == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	for (size_t i = 0; i < v->n_entries; i++)
		memcpy(actors[i], v->entries[i].actor, LSN_ID_BYTES);
	enum lsn_err err = peers_load(e, (const uint8_t (*)[LSN_ID_BYTES])actors, v->n_entries,
				      false, st);
	free(actors);
	return err;
}

/* ---- replay ------------------------------------------------------------------ */

/* The signer of entry i: a device of the actor, certified under an accepted
 * IK, not revoked before the entry, whose DK verifies the signature. */
static bool
check_signer(struct e2e *e, struct chan_view *v, size_t i, enum lsn_err *err,
	     struct lsn_status *st)
{
	const struct lsn_mlog_entry *en = &v->entries[i];
	const struct peer_device *d = NULL;
	char who[200];
	*err = peers_device(e, en->actor, en->actor_device, true, &d, st);
	if (*err != LSN_OK)
		return false;
	e2e_person(e, en->actor, who, sizeof who);
	if (d == NULL)
		return invalid(v, "log entry %zu was signed by a device that is not %s's", i, who);
	if (!d->chain_ok)
		return invalid(v, "log entry %zu: the device of %s that signed it is not certified "
			       "by their accepted identity key (identity key changed? see liaison "
			       "verify)", i, who);
	if (d->revoked_at > 0 && en->ts > d->revoked_at)
		return invalid(v, "log entry %zu was signed by a device of %s after it was revoked",
			       i, who);
	if (!lsn_mlog_verify_sig(en, d->dk))
		return invalid(v, "log entry %zu: the signature of %s does not verify", i, who);
	return true;
}

static void
note_entry(struct e2e *e, struct chan_view *v, const struct lsn_mlog_entry *en)
{
	if (en->action == LSN_MLOG_CREATE || en->action == LSN_MLOG_ADD)
		ever_add(v, en->subject);
	if (en->action == LSN_MLOG_REMOVE || en->action == LSN_MLOG_LEAVE) {
		v->last_departure_seq = (int64_t)en->seq;
		if (memcmp(en->subject, e->p->user, LSN_ID_BYTES) == 0)
			v->my_departure = en;
	}
	if ((en->action == LSN_MLOG_ADD || en->action == LSN_MLOG_CREATE) &&
	    memcmp(en->subject, e->p->user, LSN_ID_BYTES) == 0) {
		v->my_departure = NULL;
		v->my_join_ts = en->ts;
	}
}

static enum lsn_err
replay(struct e2e *e, struct chan_view *v, struct lsn_status *st)
{
	enum lsn_err err = load_actors(e, v, st);
	for (size_t i = 0; i < v->n_entries && err == LSN_OK && v->valid; i++) {
		const struct lsn_mlog_entry *en = &v->entries[i];
		struct lsn_status ast;
		if (memcmp(en->channel, v->channel, LSN_ID_BYTES) != 0)
			invalid(v, "log entry %zu belongs to another channel", i);
		else if (en->seq != i)
			invalid(v, "log entry %zu carries seq %llu", i, (unsigned long long)en->seq);
		else if (!check_signer(e, v, i, &err, st))
			continue;
		else if (lsn_mlog_apply(v->state, en, &ast) != LSN_OK)
			invalid(v, "log entry %zu breaks the rules (%s)", i, ast.msg);
		else {
			note_entry(e, v, en);
			v->n_verified = i + 1;
		}
	}
	return err;
}

/* ---- cross-checks --------------------------------------------------------------- */

/* The log must extend what we verified before. *rolled: it does not. */
static void
check_history(struct chan_view *v, const struct local_channel *prev, bool *rolled)
{
	if (!v->valid || !prev->present || prev->log_seq < 0 || !prev->has_log_hash)
		return;
	*rolled = (int64_t)v->n_entries <= prev->log_seq;
	if (!*rolled) {
		uint8_t h[32];
		lsn_mlog_hash(&v->entries[prev->log_seq], h);
		*rolled = sodium_memcmp(h, prev->log_hash, 32) != 0;
	}
	if ((int64_t)v->n_entries <= prev->log_seq) {
		invalid(v, "the server now serves %zu log entries but %lld were verified before "
			"(log rolled back)", v->n_entries, (long long)prev->log_seq + 1);
		return;
	}
	uint8_t hash[32];
	lsn_mlog_hash(&v->entries[prev->log_seq], hash);
	if (sodium_memcmp(hash, prev->log_hash, 32) != 0)
		invalid(v, "the server rewrote the membership log (entry %lld differs from the "
			"one verified before)", (long long)prev->log_seq);
}

/* The server's member list must be the verified log's. */
static void
check_members(struct e2e *e, struct chan_view *v)
{
	size_t i, listed = 0;
	json_t *m;
	json_array_foreach(v->members, i, m) {
		json_t *user = json_object_get(m, "user");
		uint8_t id[LSN_ID_BYTES];
		char who[200];
		e2e_remember_user(e, user);
		if (!lsn_id_from_hex(e2e_str(user, "id"), id))
			continue;
		listed++;
		const struct lsn_mlog_member *lm = chan_view_member(v, id);
		e2e_person(e, id, who, sizeof who);
		if (v->valid && lm == NULL)
			invalid(v, "the server lists %s as a member, but the signed membership log "
				"does not (added behind the log)", who);
		else if (v->valid && lsn_chan_role_parse(e2e_str(m, "role")) != lm->role)
			invalid(v, "the server gives %s another role than the signed log", who);
	}
	if (v->valid && listed != v->state->count)
		invalid(v, "the server lists %zu members but the signed log has %zu", listed,
			v->state->count);
}

static enum lsn_err
fetch_members(struct e2e *e, struct chan_view *v, struct lsn_status *st)
{
	json_t *reply = NULL;
	struct lsn_status mst = {0};
	enum lsn_err err = e2e_read(e, "channel_members", json_pack("{s:o}", "channel",
								     wire_id(v->channel)), &reply, &mst);
	if (err == LSN_ERR_FORBIDDEN || err == LSN_ERR_NOT_FOUND)
		return LSN_OK; /* a former member: nothing to compare */
	if (err != LSN_OK) {
		*st = mst;
		return err;
	}
	v->members = json_incref(json_object_get(reply, "members"));
	json_decref(reply);
	check_members(e, v);
	return LSN_OK;
}

/* Keys of the current members: their pins are checked on every use, so a
 * changed identity key is noticed even by someone who only reads. */
static enum lsn_err
load_members(struct e2e *e, struct chan_view *v, struct lsn_status *st)
{
	uint8_t (*users)[LSN_ID_BYTES] = calloc(v->state->count + 1, LSN_ID_BYTES);
	if (users == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	for (size_t i = 0; i < v->state->count; i++)
		memcpy(users[i], v->state->members[i].user, LSN_ID_BYTES);
	enum lsn_err err = peers_load(e, (const uint8_t (*)[LSN_ID_BYTES])users, v->state->count,
				      false, st);
	free(users);
	return err;
}

static enum lsn_err
save_position(struct e2e *e, struct chan_view *v, const struct local_channel *prev,
	      struct lsn_status *st)
{
	struct local_channel c = *prev;
	c.valid = v->valid;
	snprintf(c.reason, sizeof c.reason, "%s", v->valid ? "" : v->reason);
	if (v->valid) {
		c.log_seq = (int64_t)v->n_entries - 1;
		lsn_mlog_hash(&v->entries[v->n_entries - 1], c.log_hash);
		c.has_log_hash = true;
		snprintf(c.kind, sizeof c.kind, "%s", lsn_chan_kind_name(v->state->kind));
		snprintf(c.history, sizeof c.history, "%s", lsn_history_name(v->state->history));
	}
	return local_channel_put(e->p, v->channel, &c, st);
}

/* ---- membership alarms (local_alarm.h) ------------------------------------------ */

bool
chan_view_has_head(const struct chan_view *v, int64_t seq, const uint8_t hash[32])
{
	uint8_t h[32];
	if (seq < 0 || (uint64_t)seq >= v->n_verified)
		return false;
	lsn_mlog_hash(&v->entries[seq], h);
	return sodium_memcmp(h, hash, 32) == 0;
}

json_t *
chan_view_head_json(const struct chan_view *v)
{
	return v->n_verified ? lsn_mlog_head_json(&v->entries[v->n_verified - 1]) : NULL;
}

void
chan_alarm_text(struct e2e *e, const struct local_alarm *a, bool english, char *buf, size_t len)
{
	char who[200] = "someone";
	char prof[64];
	if (a->has_by && !local_person_get(e->p, a->by_user, who, sizeof who, prof, sizeof prof))
		e2e_person(e, a->by_user, who, sizeof who);
	if (strcmp(a->source, "rollback") == 0)
		snprintf(buf, len, english ? "this device verified membership change #%lld, which "
					     "the server no longer shows (log rolled back)"
			 : _("this device verified membership change #%lld, which the server no "
			     "longer shows (log rolled back)"), (long long)a->head_seq);
	else if (strcmp(a->source, "message") == 0)
		snprintf(buf, len, english ? "%s's message #%lld was sent after membership change "
					     "#%lld, which the server no longer shows"
			 : _("%s's message #%lld was sent after membership change #%lld, which the "
			     "server no longer shows"), who, (long long)a->msg_seq,
			 (long long)a->head_seq);
	else
		snprintf(buf, len, english ? "%s's key share was sent after membership change "
					     "#%lld, which the server no longer shows"
			 : _("%s's key share was sent after membership change #%lld, which the "
			     "server no longer shows"), who, (long long)a->head_seq);
}

#define ALARMS_MAX 64

struct alarm_list {
	size_t n;
	struct local_alarm a[ALARMS_MAX];
};

static bool
alarm_collect(void *arg, const struct local_alarm *a)
{
	struct alarm_list *l = arg;
	if (strcmp(a->state, "cleared") != 0 && l->n < ALARMS_MAX)
		l->a[l->n++] = *a;
	return l->n < ALARMS_MAX;
}

/* Every pending or active head of v's channel against the log just fetched:
 * pending and found: dropped; pending and missing: the alarm is raised;
 * active and found: cleared (kept, with when); active and missing: stays.
 * An active alarm makes the channel INVALID with the alarm as its reason. */
static enum lsn_err
settle_alarms(struct e2e *e, struct chan_view *v, struct lsn_status *st)
{
	struct alarm_list *l = calloc(1, sizeof *l);
	if (l == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	enum lsn_err err = local_alarm_each(e->p, v->channel, NULL, alarm_collect, l, st);
	int64_t now = lsn_clock_now_ms();
	for (size_t i = 0; i < l->n && err == LSN_OK; i++) {
		const struct local_alarm *a = &l->a[i];
		bool found = chan_view_has_head(v, a->head_seq, a->head_hash);
		bool pending = strcmp(a->state, "pending") == 0;
		char text[320], reason[320];
		chan_alarm_text(e, a, false, text, sizeof text);
		if (pending && found) {
			err = local_alarm_drop(e->p, a->id, st);
			continue;
		}
		if (found) {
			err = local_alarm_set_state(e->p, a->id, "cleared", now, st);
			lsn_warn(&e->warnings, _("the server shows membership change #%lld again: "
						 "the alarm is cleared (%s)"), (long long)a->head_seq,
				 text);
			continue;
		}
		if (pending) {
			err = local_alarm_set_state(e->p, a->id, "active", now, st);
			lsn_warn(&e->warnings, _("ALARM: %s; no keys are shared in this channel "
						 "until the server shows that change again"), text);
		}
		chan_alarm_text(e, a, true, reason, sizeof reason);
		if (!v->alarm)
			invalid(v, "membership alarm: %s", reason);
		v->alarm = true;
	}
	free(l);
	return err;
}

/* The log rolled back or rewritten: the entry verified before is the head
 * the server hides. */
static enum lsn_err
note_rollback(struct e2e *e, struct chan_view *v, const struct local_channel *prev,
	      struct lsn_status *st)
{
	struct local_alarm a;
	bool added = false;
	memset(&a, 0, sizeof a);
	memcpy(a.channel, v->channel, LSN_ID_BYTES);
	a.head_seq = prev->log_seq;
	memcpy(a.head_hash, prev->log_hash, 32);
	snprintf(a.source, sizeof a.source, "rollback");
	snprintf(a.state, sizeof a.state, "active");
	enum lsn_err err = local_alarm_note(e->p, &a, &added, st);
	if (err == LSN_OK && added)
		lsn_warn(&e->warnings, _("ALARM: the server no longer shows membership change "
					 "#%lld of this channel, which this device verified (log "
					 "rolled back); no keys are shared in it until the server "
					 "shows that change again"), (long long)prev->log_seq);
	return err;
}

enum lsn_err
chan_head_note(struct e2e *e, const struct chan_view *v, const uint8_t channel[LSN_ID_BYTES],
	       json_t *obj, const char *source, const uint8_t by[LSN_ID_BYTES], int64_t msg_seq,
	       bool *malformed, struct lsn_status *st)
{
	json_t *h = json_object_get(obj, "mlog");
	struct local_alarm a;
	*malformed = false;
	if (h == NULL)
		return LSN_OK; /* sent before heads existed: nothing to check */
	uint64_t seq = 0;
	memset(&a, 0, sizeof a);
	if (!lsn_mlog_head_parse(h, &seq, a.head_hash)) {
		*malformed = true;
		return LSN_OK;
	}
	a.head_seq = (int64_t)seq;
	if (v && chan_view_has_head(v, a.head_seq, a.head_hash))
		return LSN_OK;
	if (v == NULL) {
		struct local_channel c;
		enum lsn_err err = local_channel_get(e->p, channel, &c, st);
		if (err != LSN_OK)
			return err;
		if (c.present && c.has_log_hash && c.log_seq == a.head_seq &&
		    sodium_memcmp(c.log_hash, a.head_hash, 32) == 0)
			return LSN_OK;
	}
	memcpy(a.channel, channel, LSN_ID_BYTES);
	snprintf(a.source, sizeof a.source, "%s", source);
	a.has_by = true;
	memcpy(a.by_user, by, LSN_ID_BYTES);
	a.msg_seq = msg_seq;
	snprintf(a.state, sizeof a.state, "pending");
	return local_alarm_note(e->p, &a, NULL, st);
}

struct channel_set {
	size_t n;
	uint8_t ch[ALARMS_MAX][LSN_ID_BYTES];
	const uint8_t *only;
};

static bool
channel_collect(void *arg, const struct local_alarm *a)
{
	struct channel_set *s = arg;
	if (s->only && memcmp(s->only, a->channel, LSN_ID_BYTES) != 0)
		return true;
	for (size_t i = 0; i < s->n; i++)
		if (memcmp(s->ch[i], a->channel, LSN_ID_BYTES) == 0)
			return true;
	memcpy(s->ch[s->n++], a->channel, LSN_ID_BYTES);
	return s->n < ALARMS_MAX;
}

enum lsn_err
chan_settle_pending(struct e2e *e, const uint8_t *channel, struct lsn_status *st)
{
	struct channel_set *s = calloc(1, sizeof *s);
	if (s == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	s->only = channel;
	enum lsn_err err = local_alarm_each(e->p, channel, "pending", channel_collect, s, st);
	for (size_t i = 0; i < s->n && err == LSN_OK; i++) {
		struct chan_view t;
		struct lsn_status lst = {0};
		err = chan_view_load(e, s->ch[i], &t, &lst); /* settles its heads */
		chan_view_free(&t);
		if (err == LSN_ERR_FORBIDDEN || err == LSN_ERR_NOT_FOUND) /* not ours: nothing to */
			err = local_alarm_drop_pending(e->p, s->ch[i], st); /* compare with */
		else if (err != LSN_OK)
			*st = lst;
	}
	free(s);
	return err;
}

struct first_active {
	struct e2e *e;
	char *buf;
	size_t len;
	bool found;
};

static bool
first_active(void *arg, const struct local_alarm *a)
{
	struct first_active *f = arg;
	chan_alarm_text(f->e, a, false, f->buf, f->len);
	f->found = true;
	return false;
}

bool
chan_alarm_active(struct e2e *e, const uint8_t channel[LSN_ID_BYTES], char *buf, size_t len)
{
	struct first_active f = {e, buf, len, false};
	struct lsn_status st;
	buf[0] = '\0';
	local_alarm_each(e->p, channel, "active", first_active, &f, &st);
	return f.found;
}

enum lsn_err
chan_view_load(struct e2e *e, const uint8_t channel[LSN_ID_BYTES], struct chan_view *v,
	       struct lsn_status *st)
{
	memset(v, 0, sizeof *v);
	memcpy(v->channel, channel, LSN_ID_BYTES);
	v->valid = true;
	v->last_departure_seq = -1;
	v->state = malloc(sizeof *v->state);
	if (v->state == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	lsn_mlog_state_init(v->state);
	struct local_channel prev;
	enum lsn_err err = local_channel_get(e->p, channel, &prev, st);
	if (err == LSN_OK)
		err = fetch_entries(e, v, st);
	if (err == LSN_OK && v->valid)
		err = replay(e, v, st);
	bool rolled = false;
	if (err == LSN_OK)
		check_history(v, &prev, &rolled);
	if (err == LSN_OK && rolled)
		err = note_rollback(e, v, &prev, st);
	if (err == LSN_OK)
		err = settle_alarms(e, v, st);
	if (err == LSN_OK)
		err = fetch_members(e, v, st);
	if (err == LSN_OK && v->valid)
		err = load_members(e, v, st);
	if (err == LSN_OK)
		err = save_position(e, v, &prev, st);
	v->me_member = v->valid && chan_view_member(v, e->p->user) != NULL;
	return err;
}

/* ---- appending ---------------------------------------------------------------- */

static void
fill_entry(struct e2e *e, const struct chan_view *v, struct lsn_mlog_entry *en,
	   enum lsn_mlog_action action, const uint8_t subject[LSN_ID_BYTES],
	   enum lsn_chan_role role)
{
	memset(en, 0, sizeof *en);
	memcpy(en->channel, v->channel, LSN_ID_BYTES);
	en->seq = v->n_entries;
	if (v->n_entries > 0)
		lsn_mlog_hash(&v->entries[v->n_entries - 1], en->prev);
	memcpy(en->actor, e->p->user, LSN_ID_BYTES);
	memcpy(en->actor_device, e->p->device, LSN_ID_BYTES);
	en->action = action;
	memcpy(en->subject, subject, LSN_ID_BYTES);
	en->role = role;
	en->ts = lsn_clock_now_ms();
	lsn_mlog_sign(en, e->p->keys->dk_sk);
}

/* The rules, before anything is sent: the reason in the user's terms. */
static enum lsn_err
check_locally(const struct chan_view *v, const struct lsn_mlog_entry *en, struct lsn_status *st)
{
	struct lsn_mlog_state *copy = malloc(sizeof *copy);
	if (copy == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	memcpy(copy, v->state, sizeof *copy);
	struct lsn_status ast;
	enum lsn_err err = lsn_mlog_apply(copy, en, &ast);
	free(copy);
	if (err == LSN_ERR_FORBIDDEN)
		return lsn_fail(st, err, "%s; nothing was changed", ast.msg);
	return LSN_OK; /* a stale log is the server's to say (conflict, then retry) */
}

enum lsn_err
chan_append(struct e2e *e, struct chan_view *v, enum lsn_mlog_action action,
	    const uint8_t subject[LSN_ID_BYTES], enum lsn_chan_role role, int64_t *seq_out,
	    struct lsn_status *st)
{
	enum lsn_err err = LSN_ERR_CONFLICT;
	for (int attempt = 0; attempt < 2 && err == LSN_ERR_CONFLICT; attempt++) {
		if (attempt > 0) { /* stale: fetch and verify again */
			uint8_t channel[LSN_ID_BYTES];
			memcpy(channel, v->channel, LSN_ID_BYTES);
			chan_view_free(v);
			if ((err = chan_view_load(e, channel, v, st)) != LSN_OK)
				return err;
			if (!v->valid)
				return lsn_fail(st, LSN_ERR_BAD_SIGNATURE, "channel is INVALID: %s",
						v->reason);
		}
		struct lsn_mlog_entry en;
		fill_entry(e, v, &en, action, subject, role);
		if ((err = check_locally(v, &en, st)) != LSN_OK)
			return err;
		json_t *reply = NULL;
		err = e2e_write(e, "channel_append", json_pack("{s:o}", "entry", lsn_mlog_to_json(&en)),
				&reply, st);
		if (err == LSN_OK)
			*seq_out = (int64_t)en.seq;
		json_decref(reply);
	}
	return err;
}
