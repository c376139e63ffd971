/* handle_case.c — care pathway cases: templates, open, view, list, step
 * transitions (complete, skip, reopen, reassign), close, flags. The server
 * keeps only codes, dates and who did what; notes live in the encrypted
 * thread and steps point at them by message seq. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "case.h"
#include "fanout.h"
#include "handlers.h"
#include "invite.h"
#include "log.h"
#include "pathway.h"
#include "wire.h"


/* How far after J0 a step may be moved (days). */
#define RESCHEDULE_MAX_DAYS 730

/* ---- access ------------------------------------------------------------- */

/* The case named by field "case", if the caller may see it: a current member
 * of its channel, or a coordinator of the case's CPTS or a territory
 * coordinator (metadata only: they are not in the thread). A coordinator of
 * another CPTS gets not_found, as an outsider. *member tells which. */
static enum lsn_err
case_access(struct handler_ctx *hc, json_t *req, struct store_case *c, bool *member)
{
	uint8_t id[LSN_ID_BYTES];
	struct store_member me;
	enum lsn_err err = wire_get_id(req, "case", true, id, NULL, &hc->st);
	if (err != LSN_OK)
		return err;
	err = store_case_get(hc->srv->store, id, c);
	*member = err == LSN_OK &&
		  store_member_get(hc->srv->store, c->channel, hc->sess->user, &me) == LSN_OK &&
		  me.current;
	if (err == LSN_OK && !*member && !case_coordinator_view(hc->sess, c))
		err = LSN_ERR_NOT_FOUND;   /* outsiders cannot learn the case exists */
	if (err == LSN_ERR_NOT_FOUND)
		return lsn_fail(&hc->st, err, "no such case among yours; see \"liaison cases\"");
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "case");
}

/* The step named by field "step" and its case, for a transition. */
static enum lsn_err
step_access(struct handler_ctx *hc, json_t *req, struct store_step *st, struct store_case *c,
	    bool *member)
{
	int64_t id = 0;
	struct store_member me;
	enum lsn_err err = wire_get_int(req, "step", true, 1, WIRE_ID_MAX, &id, &hc->st);
	if (err != LSN_OK)
		return err;
	err = store_step_get(hc->srv->store, id, st);
	if (err == LSN_OK)
		err = store_case_get(hc->srv->store, st->case_id, c);
	*member = err == LSN_OK &&
		  store_member_get(hc->srv->store, c->channel, hc->sess->user, &me) == LSN_OK &&
		  me.current;
	if (err == LSN_OK && !*member && !case_coordinator_view(hc->sess, c))
		err = LSN_ERR_NOT_FOUND;
	if (err == LSN_ERR_NOT_FOUND)
		return lsn_fail(&hc->st, err, "no such step in your cases");
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "step");
}

/* ---- rendering ---------------------------------------------------------- */

struct render_steps {
	json_t *list;
	const struct store_schedule_row *rows;
	size_t n;
	int64_t now;
};

static const char *
step_label(const struct store_schedule_row *rows, size_t n, const char *step)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i].step, step) == 0)
			return rows[i].label_fr;
	return step;
}

static void
append_step(const struct store_step *st, void *arg)
{
	struct render_steps *r = arg;
	json_array_append_new(r->list, case_render_step(st, step_label(r->rows, r->n, st->step), r->now));
}

struct member_list {
	struct store *s;
	json_t *list;
};

static void
append_member_brief(const struct store_member *m, void *arg)
{
	struct member_list *l = arg;
	struct store_user u;
	if (store_user_get(l->s, m->user, &u) != LSN_OK)
		return;
	const struct lsn_profession *prof = lsn_profession_find(u.profession);
	json_array_append_new(l->list, json_pack("{s:o, s:s, s:s, s:s, s:s}", "user", wire_id(u.id),
						 "name", u.name, "profession", u.profession,
						 "profession_label", prof ? prof->label_fr : u.profession,
						 "role", m->role));
}

/* A step's history entry (a reschedule): who, when, why, the dates. */
static void
append_event(const struct store_step_event *ev, void *arg)
{
	struct member_list *l = arg;
	struct store_user u;
	bool known = store_user_get(l->s, ev->by, &u) == LSN_OK;
	json_array_append_new(l->list, json_pack("{s:I, s:I, s:s, s:o, s:s, s:I, s:o, s:o, s:o, s:o}",
		"id", (json_int_t)ev->id, "step", (json_int_t)ev->step_id, "action", ev->action,
		"by", wire_id(ev->by), "by_name", known ? u.name : "?", "at", (json_int_t)ev->at,
		"reason", ev->reason[0] ? json_string(ev->reason) : json_null(),
		"old_due", ev->old_due ? json_integer(ev->old_due) : json_null(),
		"new_due", ev->new_due ? json_integer(ev->new_due) : json_null(),
		"note_seq", ev->note_seq ? json_integer(ev->note_seq) : json_null()));
}

/* An event recorded on the case (remission): its code and local day. */
static void
append_case_event(const struct store_case_event *e, void *arg)
{
	char day[PATHWAY_DAY_TEXT];
	pathway_format_day(e->day, day);
	json_array_append_new((json_t *)arg, json_pack("{s:s, s:s, s:o, s:I}", "event", e->event,
						       "day", day, "recorded_by",
						       wire_id(e->recorded_by), "recorded_at",
						       (json_int_t)e->recorded_at));
}

/* The whole case: summary, members (names: coordinators outside the thread
 * need to know whom to call), steps with labels, discharge notice and acks. */
static enum lsn_err
render_case(struct handler_ctx *hc, const struct store_case *c, json_t *reply)
{
	struct store_schedule_row *rows = NULL;
	size_t n = 0;
	enum lsn_err err = case_load_schedule(hc->srv->store, c->pathway, c->template_version, &rows, &n);
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "template");
	struct render_steps r = {.list = json_array(), .rows = rows, .n = n, .now = hc->now};
	err = store_step_list(hc->srv->store, c->id, append_step, &r);
	free(rows);
	json_object_set_new(reply, "case", case_render_summary(c));
	json_object_set_new(reply, "steps", r.list);
	struct member_list ml = {.s = hc->srv->store, .list = json_array()};
	if (err == LSN_OK)
		err = store_member_list(hc->srv->store, c->channel, true, append_member_brief, &ml);
	json_object_set_new(reply, "members", ml.list);
	json_object_set_new(reply, "notice", case_render_notice(hc->srv->store, c));
	json_t *case_events = json_array();
	json_object_set_new(reply, "case_events", case_events);
	if (err == LSN_OK)
		err = store_case_event_list(hc->srv->store, c->id, append_case_event, case_events);
	json_t *events = json_array();
	json_object_set_new(reply, "events", events);
	if (err == LSN_OK)
		err = store_step_event_list(hc->srv->store, c->id, append_event,
					    &(struct member_list){.s = hc->srv->store, .list = events});
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "step");
}

/* ---- templates ---------------------------------------------------------- */

struct tpl_list {
	struct store *s;
	json_t *list;
};

static void
append_schedule(const struct store_schedule_row *r, void *arg)
{
	json_array_append_new((json_t *)arg,
		json_pack("{s:s, s:s, s:s, s:b, s:o, s:b, s:o, s:o, s:o}", "step", r->step,
			  "label", r->label_fr, "roles", r->roles, "mandatory", r->mandatory,
			  "flag", r->flag[0] ? json_string(r->flag) : json_null(),
			  "replaces_base", r->replaces_base,
			  "first_day", r->has_first_day ? json_integer(r->first_day) : json_null(),
			  "every_days", r->every_days ? json_integer(r->every_days) : json_null(),
			  "last_day", r->every_days ? json_integer(r->last_day) : json_null()));
	json_t *row = json_array_get((json_t *)arg, json_array_size((json_t *)arg) - 1);
	json_object_set_new(row, "unless", r->unless[0] ? json_string(r->unless) : json_null());
	json_object_set_new(row, "anchor", r->anchor[0] ? json_string(r->anchor) : json_null());
}

static void
append_route(const struct store_alert_route *r, void *arg)
{
	json_array_append_new((json_t *)arg, json_pack("{s:s, s:s, s:s}", "kind", r->kind,
						       "roles", r->roles, "label", r->label_fr));
}

static void
append_threshold(const struct store_threshold *t, void *arg)
{
	json_array_append_new((json_t *)arg,
		json_pack("{s:s, s:s, s:f, s:o, s:s}", "measure", t->measure, "rule", t->rule,
			  "amount", (double)t->amount_milli / 1000.0,
			  "days", t->days ? json_integer(t->days) : json_null(),
			  "alert_kind", t->alert_kind));
}

static void
append_template(const struct store_template *t, void *arg)
{
	struct tpl_list *l = arg;
	json_t *schedule = json_array(), *alerts = json_array(), *thresholds = json_array();
	store_template_schedule(l->s, t->code, t->version, append_schedule, schedule);
	/* the alert kinds and the thresholds the client evaluates (011) */
	store_alert_routes(l->s, t->code, t->version, append_route, alerts);
	store_thresholds(l->s, t->code, t->version, append_threshold, thresholds);
	json_array_append_new(l->list,
		json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "pathway", t->code, "version",
			  (json_int_t)t->version, "label", t->label_fr, "j0", t->j0_label,
			  "sources", t->sources, "flags", t->flags, "schedule", schedule,
			  "alerts", alerts, "thresholds", thresholds));
}

enum lsn_err
handle_pathways(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct tpl_list l = {.s = hc->srv->store, .list = json_array()};
	json_object_set_new(reply, "pathways", l.list);
	enum lsn_err err = store_template_list(hc->srv->store, append_template, &l);
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "template");
}

/* ---- open --------------------------------------------------------------- */

/* Flags from a JSON array, each one the template knows; into out (comma list). */
static enum lsn_err
read_flags(struct handler_ctx *hc, json_t *req, const struct store_template *t, char *out,
	   size_t cap)
{
	json_t *flags = json_object_get(req, "flags");
	size_t used = 0;
	out[0] = '\0';
	if (flags == NULL || json_is_null(flags))
		return LSN_OK;
	if (!json_is_array(flags) || json_array_size(flags) > 8)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "field \"flags\": expected a list of flags");
	for (size_t i = 0; i < json_array_size(flags); i++) {
		const char *f = json_string_value(json_array_get(flags, i));
		if (f == NULL || !pathway_has_flag(t->flags, f))
			return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
					"flags[%zu]: pathway %s knows the flags \"%s\"", i, t->code,
					t->flags);
		if (pathway_has_flag(out, f))
			continue;
		int n = snprintf(out + used, cap - used, "%s%s", used ? "," : "", f);
		if (n < 0 || (size_t)n >= cap - used)
			return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "field \"flags\": too many flags");
		used += (size_t)n;
	}
	return LSN_OK;
}

/* An opaque patient reference: "P-" and 8 Crockford characters. */
static void
new_patient_ref(char out[24])
{
	uint8_t raw[LSN_INVITE_BYTES];
	char text[LSN_INVITE_TEXT + 1];
	lsn_invite_random(raw);
	lsn_invite_format(raw, text);
	snprintf(out, 24, "P-%.4s%.4s", text, text + 5);
}

static enum lsn_err
open_checks(struct handler_ctx *hc, const uint8_t channel[LSN_ID_BYTES])
{
	struct store_member me;
	struct store_channel ch;
	enum lsn_err err = handler_channel_access(hc, channel, &me);
	if (err != LSN_OK)
		return err;
	if (!me.current || strcmp(me.role, "admin") != 0)
		return lsn_fail(&hc->st, LSN_ERR_FORBIDDEN,
				"only an admin of the case channel can open its case");
	if ((err = store_channel_get(hc->srv->store, channel, &ch)) != LSN_OK)
		return handler_store_fail(hc, err, "channel");
	if (strcmp(ch.kind, "case") != 0)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"a case needs a channel of kind case (this one is %s)", ch.kind);
	if (store_case_by_channel(hc->srv->store, channel, &(struct store_case){0}) == LSN_OK)
		return lsn_fail(&hc->st, LSN_ERR_CONFLICT, "this channel already has a case");
	return LSN_OK;
}

/* The CPTS of a new case: field "cpts" (an organisation of kind cpts), else
 * the default (case_default_cpts); no_cpts when there is none. */
static enum lsn_err
open_cpts(struct handler_ctx *hc, json_t *req, struct store_case *c)
{
	struct store_org org;
	enum lsn_err err = wire_get_id(req, "cpts", false, c->cpts, &c->has_cpts, &hc->st);
	if (err != LSN_OK)
		return err;
	if (c->has_cpts) {
		err = store_org_get(hc->srv->store, c->cpts, &org);
		if (err == LSN_ERR_NOT_FOUND || (err == LSN_OK && strcmp(org.kind, "cpts") != 0))
			return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "field \"cpts\": not an organisation "
					"of kind cpts; see \"liaison directory\" for the CPTS's id");
		return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "organisation");
	}
	c->has_cpts = case_default_cpts(hc->srv->store, hc->sess->user, c->channel, c->cpts);
	return c->has_cpts ? LSN_OK : lsn_fail(&hc->st, LSN_ERR_NO_CPTS, NULL);
}

enum lsn_err
handle_case_open(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_case c = {0};
	struct store_template t;
	const char *pathway = NULL, *j0 = NULL;
	enum lsn_err err;
	if ((err = wire_get_id(req, "channel", true, c.channel, NULL, &hc->st)) ||
	    (err = wire_get_str(req, "pathway", true, 31, &pathway, &hc->st)) ||
	    (err = wire_get_str(req, "j0", true, 10, &j0, &hc->st)) ||
	    (err = open_checks(hc, c.channel)))
		return err;
	if ((err = store_template_current(hc->srv->store, pathway, &t)) != LSN_OK)
		return err == LSN_ERR_NOT_FOUND
			       ? lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "field \"pathway\": no pathway "
					  "\"%s\"; see op \"pathways\"", pathway)
			       : handler_store_fail(hc, err, "template");
	if ((c.j0 = pathway_parse_day(j0)) < 0)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"j0\": expected the trigger day as YYYY-MM-DD");
	if ((err = read_flags(hc, req, &t, c.flags, sizeof c.flags)) != LSN_OK ||
	    (err = open_cpts(hc, req, &c)) != LSN_OK)
		return err;
	/* back-dating is limited (case_backdate_max) except for the CPTS's coordinators */
	int64_t max_days = hc->srv->cfg->case_backdate_max_days;
	if (c.j0 < pathway_day_start(hc->now, -max_days) &&
	    !case_coordinator_of(hc->sess, &c))
		return lsn_fail(&hc->st, LSN_ERR_CASE_BACKDATED, "field \"j0\": %s is more than %lld days "
				"ago; ask the CPTS coordinator to open this case", j0,
				(long long)max_days);
	/* open_cases_per_user (docs/OPERATIONS.md, "Bounds") */
	int64_t open_n = 0;
	unsigned open_cap = hc->srv->cfg->open_cases_per_user;
	if (open_cap && (err = store_case_open_count(hc->srv->store, hc->sess->user, &open_n)) != LSN_OK)
		return handler_store_fail(hc, err, "case");
	if (open_cap && open_n >= (int64_t)open_cap)
		return lsn_fail(&hc->st, LSN_ERR_TOO_MANY_CASES, "you have %u open cases, the most this "
				"server allows (open_cases_per_user); close one first", open_cap);
	randombytes_buf(c.id, sizeof c.id);
	new_patient_ref(c.patient_ref);
	snprintf(c.pathway, sizeof c.pathway, "%s", t.code);
	c.template_version = t.version;
	snprintf(c.status, sizeof c.status, "open");
	memcpy(c.opened_by, hc->sess->user, LSN_ID_BYTES);
	c.opened_at = hc->now;
	if ((err = store_case_create(hc->srv->store, &c)) != LSN_OK ||
	    (err = case_instantiate(hc->srv->store, &c, hc->now)) != LSN_OK)
		return handler_store_fail(hc, err, "case");
	log_info("case opened: %s (%s v%lld)", c.patient_ref, c.pathway, (long long)c.template_version);
	if ((err = audit_request(hc, "case_open", &(struct audit_ids){.case_id = c.id,
				 .channel = c.channel})) != LSN_OK)
		return err;
	if ((err = render_case(hc, &c, reply)) != LSN_OK)
		return err;
	return fanout_channel(hc, c.channel, "case", json_pack("{s:o, s:s}", "case", wire_id(c.id),
							     "change", "opened"), NULL);
}

/* ---- view, list --------------------------------------------------------- */

enum lsn_err
handle_case_get(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_case c;
	bool member;
	enum lsn_err err = case_access(hc, req, &c, &member);
	if (err != LSN_OK)
		return err;
	json_object_set_new(reply, "member", json_boolean(member));
	return render_case(hc, &c, reply);
}

struct case_list {
	struct handler_ctx *hc;
	json_t *list;
};

struct step_counts {
	int64_t now;
	int pending, overdue, done;
	int64_t next_due;
};

static void
count_step(const struct store_step *st, void *arg)
{
	struct step_counts *k = arg;
	if (strcmp(st->status, "pending") != 0) {
		k->done += strcmp(st->status, "done") == 0;
		return;
	}
	k->pending++;
	if (st->due_at && st->due_at < k->now)
		k->overdue++;
	else if (st->due_at && (k->next_due == 0 || st->due_at < k->next_due))
		k->next_due = st->due_at;
}

static void
append_case(const struct store_case *c, void *arg)
{
	struct case_list *l = arg;
	struct step_counts k = {.now = l->hc->now};
	struct store_notice n;
	store_step_list(l->hc->srv->store, c->id, count_step, &k);
	json_t *obj = case_render_summary(c);
	json_object_set_new(obj, "pending", json_integer(k.pending));
	json_object_set_new(obj, "overdue", json_integer(k.overdue));
	json_object_set_new(obj, "done", json_integer(k.done));
	json_object_set_new(obj, "next_due", k.next_due ? json_integer(k.next_due) : json_null());
	bool has_notice = store_notice_get(l->hc->srv->store, c->id, &n) == LSN_OK;
	json_object_set_new(obj, "escalated", json_boolean(has_notice && n.escalated_at));
	json_object_set_new(obj, "ack_missing", has_notice ? json_integer((json_int_t)
		case_missing_acks(l->hc->srv->store, c, &n)) : json_null());
	json_array_append_new(l->list, obj);
}

enum lsn_err
handle_cases(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_case_filter f = {.member = hc->sess->user, .open_only = true};
	bool mine = false, overdue = false, all = false, closed = false;
	const char *pathway = NULL;
	enum lsn_err err;
	if ((err = wire_get_bool(req, "mine", false, &mine, &hc->st)) ||
	    (err = wire_get_bool(req, "overdue", false, &overdue, &hc->st)) ||
	    (err = wire_get_bool(req, "all", false, &all, &hc->st)) ||
	    (err = wire_get_bool(req, "closed", false, &closed, &hc->st)) ||
	    (err = wire_get_str(req, "pathway", false, 31, &pathway, &hc->st)))
		return err;
	bool coordinator = (hc->sess->roles & LSN_ROLE_COORDINATOR) != 0;
	bool territory = (hc->sess->roles & LSN_ROLE_TERRITORY) != 0;
	if (all && !coordinator && !territory)
		return lsn_fail(&hc->st, LSN_ERR_COORDINATOR_ONLY,
				"only a coordinator can list every case of her CPTS");
	/* a coordinator's --all, --overdue and --mine cover her CPTS (and her
	 * own cases: --mine, a step of hers even outside the thread); the
	 * territory role's --all covers every case */
	if (coordinator && (all || overdue || mine)) {
		f.cpts = hc->sess->org;
		f.no_cpts = territory;
	}
	f.all = all && territory;
	f.pathway = pathway;
	f.assignee = mine ? hc->sess->user : NULL;
	f.overdue_at = overdue ? hc->now : 0;
	f.open_only = !closed;
	struct case_list l = {.hc = hc, .list = json_array()};
	json_object_set_new(reply, "cases", l.list);
	err = store_case_list(hc->srv->store, &f, append_case, &l);
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "case");
}

/* ---- step transitions -------------------------------------------------- */

static enum lsn_err
step_announce(struct handler_ctx *hc, const struct store_case *c, const struct store_step *st,
	      const char *change)
{
	return fanout_channel(hc, c->channel, "case",
			      json_pack("{s:o, s:s, s:I, s:s}", "case", wire_id(c->id), "change", change,
					"step", (json_int_t)st->id, "status", st->status), NULL);
}

/* Load the step, check the transition, return the actor's standing. */
static enum lsn_err
step_begin(struct handler_ctx *hc, json_t *req, enum pathway_action action, struct store_step *st,
	   struct store_case *c)
{
	bool member;
	enum lsn_err err = step_access(hc, req, st, c, &member);
	if (err != LSN_OK)
		return err;
	struct pathway_actor actor = {
		.is_assignee = member && st->has_assignee &&
			       memcmp(st->assignee, hc->sess->user, LSN_ID_BYTES) == 0,
		.is_coordinator = case_coordinator_of(hc->sess, c),
	};
	return pathway_step_transition(c->status, st->status, action, &actor, &hc->st);
}

static enum lsn_err
step_finish(struct handler_ctx *hc, const struct store_case *c, struct store_step *st,
	    const char *change, json_t *reply)
{
	enum lsn_err err = store_step_update(hc->srv->store, st, hc->now);
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "step");
	char detail[STORE_AUDIT_DETAIL];
	snprintf(detail, sizeof detail, "step=%.48s#%lld status=%s", st->step, (long long)st->occurrence,
		 st->status);
	if ((err = audit_request(hc, change, &(struct audit_ids){.case_id = c->id,
				 .channel = c->channel, .target_user = st->has_assignee ? st->assignee : NULL,
				 .detail = detail})) != LSN_OK)
		return err;
	json_object_set_new(reply, "step", case_render_step(st, NULL, hc->now));
	return step_announce(hc, c, st, change);
}

static enum lsn_err
read_note(struct handler_ctx *hc, json_t *req, const struct store_case *c, int64_t *note_seq)
{
	struct store_channel ch;
	enum lsn_err err = wire_get_int(req, "note_seq", false, 1, WIRE_ID_MAX, note_seq, &hc->st);
	if (err != LSN_OK || *note_seq == 0)
		return err;
	if ((err = store_channel_get(hc->srv->store, c->channel, &ch)) != LSN_OK)
		return handler_store_fail(hc, err, "channel");
	if (*note_seq > ch.last_seq)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"note_seq\": the thread has no message %lld", (long long)*note_seq);
	return LSN_OK;
}

enum lsn_err
handle_step_complete(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_step st;
	struct store_case c;
	int64_t note = 0;
	enum lsn_err err;
	if ((err = step_begin(hc, req, PATHWAY_COMPLETE, &st, &c)) ||
	    (err = read_note(hc, req, &c, &note)))
		return err;
	snprintf(st.status, sizeof st.status, "done");
	st.has_done_by = true;
	memcpy(st.done_by, hc->sess->user, LSN_ID_BYTES);
	st.done_at = hc->now;
	st.note_seq = note;
	return step_finish(hc, &c, &st, "step_done", reply);
}

enum lsn_err
handle_step_skip(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_step st;
	struct store_case c;
	const char *reason = NULL;
	int64_t note = 0;
	enum lsn_err err;
	if ((err = wire_get_str(req, "reason", true, 31, &reason, &hc->st)))
		return err;
	if (!pathway_skip_reason_valid(reason))
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "field \"reason\": expected patient_declined, "
				"not_indicated, done_elsewhere, patient_hospitalised, patient_unreachable, "
				"rescheduled or other (details go in an encrypted note)");
	if ((err = step_begin(hc, req, PATHWAY_SKIP, &st, &c)) ||
	    (err = read_note(hc, req, &c, &note)))
		return err;
	snprintf(st.status, sizeof st.status, "skipped");
	snprintf(st.skip_reason, sizeof st.skip_reason, "%s", reason);
	st.has_done_by = true;
	memcpy(st.done_by, hc->sess->user, LSN_ID_BYTES);
	st.done_at = hc->now;
	st.note_seq = note;
	return step_finish(hc, &c, &st, "step_skipped", reply);
}

enum lsn_err
handle_step_reopen(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_step st;
	struct store_case c;
	enum lsn_err err = step_begin(hc, req, PATHWAY_REOPEN, &st, &c);
	if (err != LSN_OK)
		return err;
	snprintf(st.status, sizeof st.status, "pending");
	st.has_done_by = false;
	st.done_at = 0;
	st.skip_reason[0] = '\0';
	return step_finish(hc, &c, &st, "step_reopened", reply);
}

/* A step whose roles include coordinator may go to a coordinator of the
 * case's CPTS who is not in the thread: she works it from the case's
 * metadata and still cannot read the thread. */
static bool
coordinator_step_for(struct handler_ctx *hc, const struct store_step *st, const struct store_case *c,
		     const uint8_t user[LSN_ID_BYTES])
{
	struct store_user u;
	return pathway_role_matches(st->roles, "", LSN_ROLE_COORDINATOR) &&
	       store_user_get(hc->srv->store, user, &u) == LSN_OK && case_user_coordinates(&u, c);
}

enum lsn_err
handle_step_assign(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_step st;
	struct store_case c;
	struct store_member m;
	uint8_t user[LSN_ID_BYTES];
	enum lsn_err err;
	if ((err = wire_get_id(req, "user", true, user, NULL, &hc->st)) ||
	    (err = step_begin(hc, req, PATHWAY_REASSIGN, &st, &c)))
		return err;
	if ((store_member_get(hc->srv->store, c.channel, user, &m) != LSN_OK || !m.current) &&
	    !coordinator_step_for(hc, &st, &c, user))
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"the new assignee must be a member of the case channel (add them first) "
				"or, for a step of the coordinator, a coordinator of the case's CPTS");
	st.has_assignee = true;
	memcpy(st.assignee, user, LSN_ID_BYTES);
	return step_finish(hc, &c, &st, "step_assigned", reply);
}

enum lsn_err
handle_step_reschedule(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_step st;
	struct store_case c;
	const char *reason = NULL, *due = NULL;
	int64_t note = 0;
	enum lsn_err err;
	if ((err = wire_get_str(req, "due", true, 10, &due, &hc->st)) ||
	    (err = wire_get_str(req, "reason", true, 31, &reason, &hc->st)))
		return err;
	if (!pathway_reschedule_reason_valid(reason))
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "field \"reason\": expected "
				"patient_request, patient_unavailable, patient_hospitalised, "
				"professional_unavailable, appointment_date, clinical_decision or other "
				"(details go in an encrypted note)");
	int64_t day = pathway_parse_day(due);
	if (day < 0)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"due\": expected the new due day as YYYY-MM-DD");
	if ((err = step_begin(hc, req, PATHWAY_RESCHEDULE, &st, &c)) ||
	    (err = read_note(hc, req, &c, &note)))
		return err;
	if (day < pathway_day_start(hc->now, 0))   /* before today's local midnight */
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"due\": %s is in the past; give today or a later day", due);
	if (day > pathway_day_start(c.j0, RESCHEDULE_MAX_DAYS))
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "field \"due\": %s is more than %d days "
				"after J0; close the case or skip the step instead", due,
				RESCHEDULE_MAX_DAYS);
	int64_t due_at = pathway_due_at(day, 0);   /* the last ms of the local day, as every step */
	if (due_at == st.due_at)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"due\": the step is already due on %s", due);
	struct store_step_event ev = {.step_id = st.id, .at = hc->now, .old_due = st.due_at,
				      .new_due = due_at, .note_seq = note};
	memcpy(ev.case_id, c.id, LSN_ID_BYTES);
	memcpy(ev.by, hc->sess->user, LSN_ID_BYTES);
	snprintf(ev.action, sizeof ev.action, "rescheduled");
	snprintf(ev.reason, sizeof ev.reason, "%s", reason);
	if ((err = store_step_reschedule(hc->srv->store, st.id, due_at, hc->now)) != LSN_OK ||
	    (err = store_step_event_add(hc->srv->store, &ev)) != LSN_OK)
		return handler_store_fail(hc, err, "step");
	st.due_at = due_at;
	st.notified_soon = st.notified_late = 0;
	return step_finish(hc, &c, &st, "step_rescheduled", reply);
}

/* ---- late steps --------------------------------------------------------- */

struct late_list {
	struct handler_ctx *hc;
	const struct store_case *c;
	json_t *list;
};

static void
append_late_step(const struct store_step *st, void *arg)
{
	struct late_list *l = arg;
	struct store_user u;
	int64_t now = l->hc->now;
	if (strcmp(st->status, "pending") != 0 || st->due_at == 0 || st->due_at >= now)
		return;
	char label[200];
	case_step_label(l->hc->srv->store, l->c, st->step, label, sizeof label);
	bool named = st->has_assignee && store_user_get(l->hc->srv->store, st->assignee, &u) == LSN_OK;
	json_array_append_new(l->list, json_pack(
		"{s:o, s:s, s:s, s:I, s:s, s:I, s:s, s:s, s:I, s:I, s:o, s:o}",
		"case", wire_id(l->c->id), "patient_ref", l->c->patient_ref, "pathway", l->c->pathway,
		"step", (json_int_t)st->id, "code", st->step, "occurrence", (json_int_t)st->occurrence,
		"label", label, "roles", st->roles, "due_at", (json_int_t)st->due_at,
		/* whole local days between the due day and today */
		"days_late", (json_int_t)pathway_day_diff(st->due_at, now),
		"assignee", st->has_assignee ? wire_id(st->assignee) : json_null(),
		"assignee_name", named ? json_string(u.name) : json_null()));
}

static void
late_of_case(const struct store_case *c, void *arg)
{
	struct late_list *l = arg;
	l->c = c;
	store_step_list(l->hc->srv->store, c->id, append_late_step, l);
}

static int
late_order(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t dx = json_integer_value(json_object_get(x, "due_at"));
	json_int_t dy = json_integer_value(json_object_get(y, "due_at"));
	if (dx != dy)
		return dx < dy ? -1 : 1;
	int c = strcmp(json_string_value(json_object_get(x, "patient_ref")),
		       json_string_value(json_object_get(y, "patient_ref")));
	if (c != 0)
		return c;
	json_int_t ix = json_integer_value(json_object_get(x, "step"));
	json_int_t iy = json_integer_value(json_object_get(y, "step"));
	return (ix > iy) - (ix < iy);
}

/* Pending steps past their deadline, most overdue first, in the caller's
 * cases and, for a coordinator, her CPTS's; "all" for territory users. */
enum lsn_err
handle_late_steps(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_case_filter f = {.member = hc->sess->user, .open_only = true,
				      .overdue_at = hc->now};
	bool all = false;
	const char *pathway = NULL;
	enum lsn_err err;
	if ((err = wire_get_bool(req, "all", false, &all, &hc->st)) ||
	    (err = wire_get_str(req, "pathway", false, 31, &pathway, &hc->st)))
		return err;
	if (!case_list_scope(hc->sess, all, &f))
		return lsn_fail(&hc->st, LSN_ERR_COORDINATOR_ONLY, "the late steps of every CPTS are "
				"for territory coordinators; without \"all\" you see your CPTS's");
	f.pathway = pathway;
	struct late_list l = {.hc = hc, .list = json_array()};
	err = store_case_list(hc->srv->store, &f, late_of_case, &l);
	json_object_set_new(reply, "steps", l.list);
	if (err == LSN_OK && !render_sort(l.list, late_order))
		err = LSN_ERR_INTERNAL;
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "case");
}

/* ---- close, flags ------------------------------------------------------- */

enum lsn_err
handle_case_close(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_case c;
	struct store_member me;
	const char *reason = NULL;
	bool member;
	enum lsn_err err;
	if ((err = wire_get_str(req, "reason", true, 23, &reason, &hc->st)) ||
	    (err = case_access(hc, req, &c, &member)))
		return err;
	if (!pathway_close_reason_valid(reason))
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "field \"reason\": expected completed, "
				"readmitted, deceased, moved or consent_withdrawn");
	if (strcmp(c.status, "open") != 0)
		return lsn_fail(&hc->st, LSN_ERR_CASE_ALREADY_CLOSED, NULL);
	bool admin = member && store_member_get(hc->srv->store, c.channel, hc->sess->user, &me) == LSN_OK &&
		     strcmp(me.role, "admin") == 0;
	if (!admin && !case_coordinator_of(hc->sess, &c))
		return lsn_fail(&hc->st, LSN_ERR_FORBIDDEN,
				"only an admin of the case channel or a coordinator of the case's CPTS "
				"can close the case");
	if ((err = store_case_close(hc->srv->store, c.id, reason, hc->now)) != LSN_OK ||
	    (err = store_notifications_prune(hc->srv->store, c.id, hc->now)) != LSN_OK)
		return handler_store_fail(hc, err, "case");
	if ((err = audit_request(hc, "case_close", &(struct audit_ids){.case_id = c.id,
				 .channel = c.channel})) != LSN_OK)
		return err;
	snprintf(c.status, sizeof c.status, "closed");
	snprintf(c.close_reason, sizeof c.close_reason, "%s", reason);
	c.closed_at = hc->now;
	json_object_set_new(reply, "case", case_render_summary(&c));
	return fanout_channel(hc, c.channel, "case", json_pack("{s:o, s:s}", "case", wire_id(c.id),
							     "change", "closed"), NULL);
}

enum lsn_err
handle_case_flag(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_case c;
	struct store_template t = {0};
	bool member;
	char flags[sizeof c.flags];
	enum lsn_err err = case_access(hc, req, &c, &member);
	if (err != LSN_OK)
		return err;
	if (!member)
		return lsn_fail(&hc->st, LSN_ERR_FORBIDDEN, "only members of the case can flag it");
	if (strcmp(c.status, "open") != 0)
		return lsn_fail(&hc->st, LSN_ERR_CASE_CLOSED, NULL);
	/* the flags the case's own template version knows */
	if ((err = store_template_get(hc->srv->store, c.pathway, c.template_version, &t)) != LSN_OK)
		return handler_store_fail(hc, err, "template");
	if ((err = read_flags(hc, req, &t, flags, sizeof flags)) != LSN_OK)
		return err;
	snprintf(c.flags, sizeof c.flags, "%s", flags);
	if ((err = store_case_set_flags(hc->srv->store, c.id, c.flags)) != LSN_OK ||
	    (err = case_instantiate(hc->srv->store, &c, hc->now)) != LSN_OK)
		return handler_store_fail(hc, err, "case");
	if ((err = render_case(hc, &c, reply)) != LSN_OK)
		return err;
	return fanout_channel(hc, c.channel, "case", json_pack("{s:o, s:s}", "case", wire_id(c.id),
							     "change", "flags"), NULL);
}

/* ---- events that anchor steps ------------------------------------------- */

enum lsn_err
handle_case_event(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_case c;
	struct store_case_event ev = {0};
	const char *event = NULL, *day = NULL;
	bool member;
	enum lsn_err err;
	if ((err = wire_get_str(req, "event", true, sizeof ev.event - 1, &event, &hc->st)) ||
	    (err = wire_get_str(req, "day", true, 10, &day, &hc->st)) ||
	    (err = case_access(hc, req, &c, &member)))
		return err;
	if (!member)
		return lsn_fail(&hc->st, LSN_ERR_FORBIDDEN,
				"only members of the case can record its events");
	if (strcmp(c.status, "open") != 0)
		return lsn_fail(&hc->st, LSN_ERR_CASE_CLOSED, NULL);
	int64_t at = pathway_parse_day(day);
	if (at < 0)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "field \"day\": expected YYYY-MM-DD");
	if (pathway_day_diff(c.j0, at) < 0 || pathway_day_diff(at, hc->now) < 0)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"day\": the event's day must be between J0 and today");
	/* the events the case's own template version dates steps from */
	struct store_schedule_row *rows = NULL;
	size_t n = 0;
	if ((err = case_load_schedule(hc->srv->store, c.pathway, c.template_version, &rows, &n)))
		return handler_store_fail(hc, err, "template");
	bool known = pathway_is_anchor(rows, n, event);
	/* the events it knows, for the message (the caller's text is not echoed) */
	char anchors[128] = "";
	for (size_t i = 0; i < n; i++)
		if (rows[i].anchor[0] && !strstr(anchors, rows[i].anchor) &&
		    strlen(anchors) + strlen(rows[i].anchor) + 3 < sizeof anchors)
			snprintf(anchors + strlen(anchors), sizeof anchors - strlen(anchors), "%s%s",
				 anchors[0] ? ", " : "", rows[i].anchor);
	free(rows);
	if (!known)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"event\": pathway %s version %lld dates steps from %s",
				c.pathway, (long long)c.template_version,
				anchors[0] ? anchors : "no event");
	snprintf(ev.event, sizeof ev.event, "%s", event);
	ev.day = at;
	memcpy(ev.recorded_by, hc->sess->user, LSN_ID_BYTES);
	ev.recorded_at = hc->now;
	if ((err = store_case_event_put(hc->srv->store, c.id, &ev)) != LSN_OK ||
	    (err = case_instantiate(hc->srv->store, &c, hc->now)) != LSN_OK)
		return handler_store_fail(hc, err, "case");
	if ((err = audit_request(hc, "case_event", &(struct audit_ids){.case_id = c.id,
				 .channel = c.channel})) != LSN_OK)
		return err;
	if ((err = render_case(hc, &c, reply)) != LSN_OK)
		return err;
	return fanout_channel(hc, c.channel, "case", json_pack("{s:o, s:s}", "case", wire_id(c.id),
							     "change", "event"), NULL);
}
