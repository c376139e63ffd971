/* case.c — case domain helpers shared by the case handlers and the timer:
 * instantiating a template's steps for a case, assigning steps to case
 * members by role, rendering a case, and the periodic due/overdue/escalation
 * scan. */
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "log.h"
#include "pathway.h"
#include "wire.h"

/* ---- the case's CPTS ---------------------------------------------------- */

bool
case_coordinator_of(const struct session *sess, const struct store_case *c)
{
	if (!(sess->roles & LSN_ROLE_COORDINATOR))
		return false;
	if (!c->has_cpts)
		return (sess->roles & LSN_ROLE_TERRITORY) != 0;
	return memcmp(sess->org, c->cpts, LSN_ID_BYTES) == 0;
}

bool
case_user_coordinates(const struct store_user *u, const struct store_case *c)
{
	if (!(u->roles & LSN_ROLE_COORDINATOR))
		return false;
	if (!c->has_cpts)
		return (u->roles & LSN_ROLE_TERRITORY) != 0;
	return memcmp(u->org.id, c->cpts, LSN_ID_BYTES) == 0;
}

bool
case_coordinator_view(const struct session *sess, const struct store_case *c)
{
	return (sess->roles & LSN_ROLE_TERRITORY) || case_coordinator_of(sess, c);
}

struct cpts_pick {
	struct store *s;
	bool found;
	uint8_t org[LSN_ID_BYTES];
};

static void
pick_cpts_member(const struct store_member *m, void *arg)
{
	struct cpts_pick *p = arg;
	struct store_user u;
	if (p->found || store_user_get(p->s, m->user, &u) != LSN_OK || strcmp(u.org.kind, "cpts") != 0)
		return;
	memcpy(p->org, u.org.id, LSN_ID_BYTES);
	p->found = true;
}

bool
case_default_cpts(struct store *s, const uint8_t opener[LSN_ID_BYTES],
		  const uint8_t channel[LSN_ID_BYTES], uint8_t out[LSN_ID_BYTES])
{
	struct store_user u;
	struct cpts_pick p = {.s = s};
	if (store_user_get(s, opener, &u) == LSN_OK && strcmp(u.org.kind, "cpts") == 0) {
		memcpy(out, u.org.id, LSN_ID_BYTES);
		return true;
	}
	if (store_member_list(s, channel, true, pick_cpts_member, &p) != LSN_OK || !p.found)
		return false;
	memcpy(out, p.org, LSN_ID_BYTES);
	return true;
}

/* ---- schedule rows ------------------------------------------------------ */

struct rows {
	struct store_schedule_row *v;
	size_t n, cap;
	bool oom;
};

static void
collect_row(const struct store_schedule_row *r, void *arg)
{
	struct rows *rs = arg;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 32;
		void *p = realloc(rs->v, cap * sizeof *rs->v);
		if (p == NULL) {
			rs->oom = true;
			return;
		}
		rs->v = p;
		rs->cap = cap;
	}
	rs->v[rs->n++] = *r;
}

enum lsn_err
case_load_schedule(struct store *s, const char *pathway, int64_t version,
		   struct store_schedule_row **rows, size_t *n)
{
	struct rows rs = {0};
	enum lsn_err err = store_template_schedule(s, pathway, version, collect_row, &rs);
	if (err == LSN_OK && rs.oom)
		err = LSN_ERR_INTERNAL;
	if (err != LSN_OK) {
		free(rs.v);
		return err;
	}
	*rows = rs.v;
	*n = rs.n;
	return LSN_OK;
}

/* ---- assignment --------------------------------------------------------- */

struct member_pick {
	struct store *s;
	const char *roles;
	bool found;
	uint8_t user[LSN_ID_BYTES];
};

static void
pick_member(const struct store_member *m, void *arg)
{
	struct member_pick *p = arg;
	struct store_user u;
	if (p->found || store_user_get(p->s, m->user, &u) != LSN_OK)
		return;
	if (pathway_role_matches(p->roles, u.profession, u.roles)) {
		memcpy(p->user, m->user, LSN_ID_BYTES);
		p->found = true;
	}
}

bool
case_pick_assignee(struct store *s, const uint8_t channel[LSN_ID_BYTES], const char *roles,
		   uint8_t out[LSN_ID_BYTES])
{
	struct member_pick p = {.s = s, .roles = roles};
	if (store_member_list(s, channel, true, pick_member, &p) != LSN_OK || !p.found)
		return false;
	memcpy(out, p.user, LSN_ID_BYTES);
	return true;
}

/* ---- instantiation ------------------------------------------------------ */

struct instantiate {
	struct store *s;
	const struct store_case *c;
	int64_t now;
	enum lsn_err err;
};

static void
insert_occurrence(const struct pathway_occurrence *o, void *arg)
{
	struct instantiate *in = arg;
	struct store_step st = {0};
	if (in->err != LSN_OK)
		return;
	memcpy(st.case_id, in->c->id, LSN_ID_BYTES);
	snprintf(st.step, sizeof st.step, "%s", o->step);
	st.occurrence = o->occurrence;
	snprintf(st.roles, sizeof st.roles, "%s", o->roles);
	st.due_at = o->due_at;
	st.has_assignee = case_pick_assignee(in->s, in->c->channel, o->roles, st.assignee);
	in->err = store_step_insert(in->s, &st, in->now);
}

/* The events recorded on a case (a few: one per anchor of its template). */
#define CASE_EVENTS_MAX 8
struct events {
	struct store_case_event v[CASE_EVENTS_MAX];
	size_t n;
};

static void
collect_event(const struct store_case_event *e, void *arg)
{
	struct events *ev = arg;
	if (ev->n < CASE_EVENTS_MAX)
		ev->v[ev->n++] = *e;
}

enum lsn_err
case_instantiate(struct store *s, const struct store_case *c, int64_t now)
{
	struct store_schedule_row *rows = NULL;
	size_t n = 0;
	enum lsn_err err = case_load_schedule(s, c->pathway, c->template_version, &rows, &n);
	if (err != LSN_OK)
		return err;
	struct events ev = {0};
	if ((err = store_case_event_list(s, c->id, collect_event, &ev)) != LSN_OK) {
		free(rows);
		return err;
	}
	struct pathway_anchor anchors[CASE_EVENTS_MAX];
	for (size_t i = 0; i < ev.n; i++)
		anchors[i] = (struct pathway_anchor){.event = ev.v[i].event, .day = ev.v[i].day};
	struct instantiate in = {.s = s, .c = c, .now = now};
	int count = pathway_expand_at(rows, n, c->flags, c->j0, anchors, ev.n, insert_occurrence, &in);
	free(rows);
	if (count < 0)
		return LSN_ERR_INTERNAL;
	return in.err;
}

struct assign_new {
	struct store *s;
	const struct store_case *c;
	const uint8_t *user;
	const struct store_user *u;
	int64_t now;
	enum lsn_err err;
};

static void
assign_if_free(const struct store_step *st, void *arg)
{
	struct assign_new *a = arg;
	if (a->err != LSN_OK || st->has_assignee || strcmp(st->status, "pending") != 0 ||
	    !pathway_role_matches(st->roles, a->u->profession, a->u->roles))
		return;
	struct store_step copy = *st;
	copy.has_assignee = true;
	memcpy(copy.assignee, a->user, LSN_ID_BYTES);
	a->err = store_step_update(a->s, &copy, a->now);
}

enum lsn_err
case_assign_newcomer(struct store *s, const uint8_t channel[LSN_ID_BYTES],
		     const uint8_t user[LSN_ID_BYTES], int64_t now)
{
	struct store_case c;
	struct store_user u;
	enum lsn_err err = store_case_by_channel(s, channel, &c);
	if (err == LSN_ERR_NOT_FOUND)
		return LSN_OK;   /* not a case channel */
	if (err != LSN_OK || (err = store_user_get(s, user, &u)) != LSN_OK)
		return err;
	struct assign_new a = {.s = s, .c = &c, .user = user, .u = &u, .now = now};
	if ((err = store_step_list(s, c.id, assign_if_free, &a)) != LSN_OK)
		return err;
	return a.err;
}

/* ---- rendering ---------------------------------------------------------- */

static json_t *
id_or_null(bool has, const uint8_t id[LSN_ID_BYTES])
{
	return has ? wire_id(id) : json_null();
}

static json_t *
int_or_null(int64_t v)
{
	return v ? json_integer(v) : json_null();
}

json_t *
case_render_step(const struct store_step *st, const char *label, int64_t now)
{
	bool overdue = strcmp(st->status, "pending") == 0 && st->due_at && st->due_at < now;
	json_t *out = json_pack("{s:I, s:s, s:I, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:b}",
			 "id", (json_int_t)st->id, "step", st->step, "occurrence",
			 (json_int_t)st->occurrence, "label", label ? label : st->step,
			 "roles", st->roles, "due_at", int_or_null(st->due_at), "status", st->status,
			 "assignee", id_or_null(st->has_assignee, st->assignee),
			 "done_by", id_or_null(st->has_done_by, st->done_by),
			 "done_at", int_or_null(st->done_at),
			 "skip_reason", st->skip_reason[0] ? json_string(st->skip_reason) : json_null(),
			 "note_seq", int_or_null(st->note_seq), "overdue", overdue);
	/* the action that completed the step (notice_posted ...), null when a person did */
	json_object_set_new(out, "done_via", st->done_via[0] ? json_string(st->done_via) : json_null());
	return out;
}

json_t *
case_render_summary(const struct store_case *c)
{
	json_t *flags = json_array();
	for (const char *p = c->flags; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		json_array_append_new(flags, json_stringn(p, len));
		p = end ? end + 1 : p + len;
	}
	return json_pack("{s:o, s:s, s:s, s:I, s:o, s:I, s:o, s:s, s:o, s:o, s:I, s:o, s:o}",
			 "case", wire_id(c->id), "patient_ref", c->patient_ref, "pathway", c->pathway,
			 "template_version", (json_int_t)c->template_version,
			 "channel", wire_id(c->channel), "j0", (json_int_t)c->j0, "flags", flags,
			 "status", c->status,
			 "close_reason", c->close_reason[0] ? json_string(c->close_reason) : json_null(),
			 "opened_by", wire_id(c->opened_by), "opened_at", (json_int_t)c->opened_at,
			 "closed_at", int_or_null(c->closed_at), "cpts", id_or_null(c->has_cpts, c->cpts));
}

struct label_pick {
	const char *step;
	char *out;
	size_t cap;
};

static void
pick_label(const struct store_schedule_row *r, void *arg)
{
	struct label_pick *p = arg;
	if (strcmp(r->step, p->step) == 0)
		snprintf(p->out, p->cap, "%s", r->label_fr);
}

void
case_step_label(struct store *s, const struct store_case *c, const char *step, char *out, size_t cap)
{
	struct label_pick p = {.step = step, .out = out, .cap = cap};
	snprintf(out, cap, "%s", step);
	store_template_schedule(s, c->pathway, c->template_version, pick_label, &p);
}

json_t *
case_render_notification(struct store *s, const struct store_notification *n)
{
	struct store_case c;
	struct store_step st;
	struct store_notice notice;
	struct store_user u;
	uint8_t actor[LSN_ID_BYTES];
	bool has_actor = false;
	json_t *obj = json_pack("{s:I, s:s, s:o, s:o, s:o, s:I}", "id", (json_int_t)n->id,
				"kind", n->kind, "case", wire_id(n->case_id),
				"step", int_or_null(n->step_id), "seq", int_or_null(n->message_seq),
				"created_at", (json_int_t)n->created_at);
	if (obj == NULL || store_case_get(s, n->case_id, &c) != LSN_OK)
		return obj;
	json_object_set_new(obj, "patient_ref", json_string(c.patient_ref));
	json_object_set_new(obj, "pathway", json_string(c.pathway));
	json_object_set_new(obj, "channel", wire_id(c.channel));
	if (strcmp(n->kind, "alert") == 0) {   /* the kind of alert (011), never a value */
		char kind[STORE_ALERT_KIND];
		if (n->message_seq && store_alert_kind(s, c.id, n->message_seq, kind, sizeof kind) == LSN_OK)
			json_object_set_new(obj, "alert_kind", json_string(kind));
	}
	if (n->step_id && store_step_get(s, n->step_id, &st) == LSN_OK) {
		char label[200];
		case_step_label(s, &c, st.step, label, sizeof label);
		json_object_set_new(obj, "step_code", json_string(st.step));
		json_object_set_new(obj, "occurrence", json_integer(st.occurrence));
		json_object_set_new(obj, "step_label", json_string(label));
		json_object_set_new(obj, "due_at", int_or_null(st.due_at));
		if ((has_actor = st.has_assignee))
			memcpy(actor, st.assignee, LSN_ID_BYTES);
	} else if (n->message_seq) {
		has_actor = store_message_sender(s, c.channel, n->message_seq, actor) == LSN_OK;
	} else if (store_notice_get(s, c.id, &notice) == LSN_OK) {
		memcpy(actor, notice.posted_by, LSN_ID_BYTES);
		has_actor = true;
	}
	has_actor = has_actor && store_user_get(s, actor, &u) == LSN_OK;
	json_object_set_new(obj, "actor", id_or_null(has_actor, actor));
	json_object_set_new(obj, "actor_name", has_actor ? json_string(u.name) : json_null());
	return obj;
}

/* ---- the periodic scan -------------------------------------------------- */

struct tick {
	struct store *s;
	struct effects *fx;
	int64_t now;
	int64_t soon_before;
	enum lsn_err err;
	unsigned pushed;
};

static void
notify(struct tick *t, const uint8_t user[LSN_ID_BYTES], const char *kind,
       const uint8_t case_id[LSN_ID_BYTES], int64_t step_id)
{
	struct store_notification n = {.step_id = step_id, .created_at = t->now};
	snprintf(n.kind, sizeof n.kind, "%s", kind);
	memcpy(n.case_id, case_id, LSN_ID_BYTES);
	if (t->err != LSN_OK || (t->err = store_notification_add(t->s, user, &n)) != LSN_OK)
		return;
	size_t len = 0;
	char *frame = wire_encode_event("notification", case_render_notification(t->s, &n), &len);
	if (frame)
		effects_event(t->fx, EFFECT_EVENT_USER, user, frame, len);
	t->pushed++;
}

struct notify_all {
	struct tick *t;
	const char *kind;
	const uint8_t *case_id;
	int64_t step_id;
	const uint8_t *skip;           /* already notified */
};

static void
notify_one(const uint8_t id[LSN_ID_BYTES], void *arg)
{
	struct notify_all *na = arg;
	if (na->skip == NULL || memcmp(id, na->skip, LSN_ID_BYTES) != 0)
		notify(na->t, id, na->kind, na->case_id, na->step_id);
}

/* The coordinators of the case's CPTS (territory coordinators for a case
 * without one); never those of another CPTS. */
static void
notify_coordinators(struct tick *t, const char *kind, const struct store_case *c,
		    int64_t step_id, const uint8_t *skip)
{
	struct notify_all na = {.t = t, .kind = kind, .case_id = c->id, .step_id = step_id,
				.skip = skip};
	enum lsn_err err = store_cpts_coordinators(t->s, c->has_cpts ? c->cpts : NULL, notify_one, &na);
	if (err != LSN_OK && t->err == LSN_OK)
		t->err = err;
}

static void
scan_step(const struct store_step *st, void *arg)
{
	struct tick *t = arg;
	struct store_case c;
	bool late = st->due_at < t->now;
	if (t->err != LSN_OK || (late && st->notified_late) || (!late && st->notified_soon))
		return;
	if ((t->err = store_case_get(t->s, st->case_id, &c)) != LSN_OK)
		return;
	const char *kind = late ? "step_overdue" : "step_due_soon";
	if (st->has_assignee)
		notify(t, st->assignee, kind, st->case_id, st->id);
	/* coordinators hear of overdue steps, and of due ones nobody holds */
	if (late || !st->has_assignee)
		notify_coordinators(t, kind, &c, st->id,
				    st->has_assignee ? st->assignee : NULL);
	if (t->err == LSN_OK)
		t->err = store_step_mark_notified(t->s, st->id, late, t->now);
}

/* Acknowledgements are expected from the notice's recipients, fixed when it
 * was posted, who are still members of the case thread (a recipient who
 * left can no longer acknowledge). Members who joined later may
 * acknowledge; they are never counted as missing. */
struct ack_count {
	struct store *s;
	const struct store_case *c;
	struct case_ack_state *state;
	json_t *list;                  /* ids of who is missing, or NULL */
	enum lsn_err err;
};

struct ack_time {
	const uint8_t *user;
	int64_t at;
};

static void
match_ack_time(const uint8_t user[LSN_ID_BYTES], int64_t at, void *arg)
{
	struct ack_time *a = arg;
	if (memcmp(user, a->user, LSN_ID_BYTES) == 0)
		a->at = at;
}

static void
count_recipient(const uint8_t user[LSN_ID_BYTES], void *arg)
{
	struct ack_count *a = arg;
	struct store_member m;
	struct ack_time t = {.user = user};
	if (a->err != LSN_OK || store_member_get(a->s, a->c->channel, user, &m) != LSN_OK || !m.current)
		return;
	a->state->recipients++;
	if ((a->err = store_ack_list(a->s, a->c->id, match_ack_time, &t)) != LSN_OK)
		return;
	if (t.at == 0) {
		a->state->missing++;
		if (a->list)
			json_array_append_new(a->list, wire_id(user));
	} else if (t.at > a->state->last_ack) {
		a->state->last_ack = t.at;
	}
}

enum lsn_err
case_notice_acks(struct store *s, const struct store_case *c, struct case_ack_state *out,
		 json_t *missing)
{
	struct ack_count a = {.s = s, .c = c, .state = out, .list = missing};
	memset(out, 0, sizeof *out);
	enum lsn_err err = store_notice_recipients(s, c->id, count_recipient, &a);
	return err != LSN_OK ? err : a.err;
}

size_t
case_missing_acks(struct store *s, const struct store_case *c, const struct store_notice *n)
{
	(void)n;
	struct case_ack_state state;
	case_notice_acks(s, c, &state, NULL);
	return state.missing;
}

json_t *
case_missing_ack_users(struct store *s, const struct store_case *c, const struct store_notice *n)
{
	(void)n;
	struct case_ack_state state;
	json_t *list = json_array();
	case_notice_acks(s, c, &state, list);
	return list;
}

static void
scan_notice(const struct store_notice *n, void *arg)
{
	struct tick *t = arg;
	struct store_case c;
	if (t->err != LSN_OK || store_case_get(t->s, n->case_id, &c) != LSN_OK)
		return;
	if (case_missing_acks(t->s, &c, n) == 0)
		return;
	notify_coordinators(t, "notice_escalated", &c, 0, NULL);
	if (t->err == LSN_OK)
		t->err = store_notice_escalate(t->s, n->case_id, t->now);
}

enum lsn_err
case_tick(struct store *s, const struct config *cfg, struct effects *fx, int64_t now,
	  unsigned *pushed)
{
	struct tick t = {.s = s, .fx = fx, .now = now, .soon_before = now + cfg->due_soon_ms};
	enum lsn_err err = store_step_due_scan(s, t.soon_before, now, scan_step, &t);
	if (err == LSN_OK)
		err = t.err;
	if (err == LSN_OK)
		err = store_notice_overdue(s, now - cfg->ack_timeout_ms, scan_notice, &t);
	if (err == LSN_OK)
		err = t.err;
	*pushed = t.pushed;
	return err;
}

/* ---- acknowledgements --------------------------------------------------- */

struct has_ack {
	const uint8_t *user;
	bool found;
};

static void
match_ack(const uint8_t user[LSN_ID_BYTES], int64_t at, void *arg)
{
	(void)at;
	struct has_ack *h = arg;
	if (memcmp(user, h->user, LSN_ID_BYTES) == 0)
		h->found = true;
}

enum lsn_err
case_has_acked(struct store *s, const uint8_t case_id[LSN_ID_BYTES],
	       const uint8_t user[LSN_ID_BYTES], bool *acked)
{
	struct has_ack h = {.user = user};
	enum lsn_err err = store_ack_list(s, case_id, match_ack, &h);
	*acked = h.found;
	return err;
}

/* ---- the discharge notice as the wire shows it -------------------------- */

static void
append_ack(const uint8_t user[LSN_ID_BYTES], int64_t at, void *arg)
{
	json_array_append_new((json_t *)arg, json_pack("{s:o, s:I}", "user", wire_id(user),
						       "acked_at", (json_int_t)at));
}

json_t *
case_named_users(struct store *s, json_t *ids)
{
	json_t *out = json_array(), *id;
	size_t i;
	json_array_foreach(ids, i, id) {
		uint8_t raw[LSN_ID_BYTES];
		struct store_user u;
		bool known = json_is_string(id) && lsn_id_from_hex(json_string_value(id), raw) &&
			     store_user_get(s, raw, &u) == LSN_OK;
		json_array_append_new(out, json_pack("{s:O, s:s}", "user", id, "name",
						     known ? u.name : "?"));
	}
	return out;
}

static void
append_id(const uint8_t id[LSN_ID_BYTES], void *arg)
{
	json_array_append_new((json_t *)arg, wire_id(id));
}

json_t *
case_render_notice(struct store *s, const struct store_case *c)
{
	struct store_notice n;
	struct case_ack_state acked;
	if (store_notice_get(s, c->id, &n) != LSN_OK)
		return json_null();
	json_t *acks = json_array(), *recipients = json_array(), *missing = json_array();
	store_ack_list(s, c->id, append_ack, acks);
	/* who must acknowledge (fixed at posting); acks may also come from later members */
	store_notice_recipients(s, c->id, append_id, recipients);
	case_notice_acks(s, c, &acked, missing);
	json_t *obj = json_pack("{s:I, s:o, s:I, s:o, s:o, s:I, s:o, s:o, s:I}", "seq",
			 (json_int_t)n.message_seq,
			 "posted_by", wire_id(n.posted_by), "posted_at", (json_int_t)n.posted_at,
			 "escalated_at", n.escalated_at ? json_integer(n.escalated_at) : json_null(),
			 "acks", acks, "missing", (json_int_t)json_array_size(missing),
			 "missing_users", missing, "recipients", recipients,
			 "expected", (json_int_t)acked.recipients);
	json_object_set_new(obj, "missing_people", case_named_users(s, missing));
	return obj;
}

/* ---- which cases a list covers ------------------------------------------ */

bool
case_list_scope(const struct session *sess, bool all, struct store_case_filter *f)
{
	bool coordinator = (sess->roles & LSN_ROLE_COORDINATOR) != 0;
	bool territory = (sess->roles & LSN_ROLE_TERRITORY) != 0;
	if (all && !territory)
		return false;
	f->member = sess->user;
	if (coordinator) {
		f->cpts = sess->org;
		f->no_cpts = territory;
	}
	f->all = all;
	return true;
}
