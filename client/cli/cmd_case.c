/* cmd_case.c — "liaison case": one case's timeline (show), opening a case
 * on an existing case thread (open), closing it, changing its flags, and
 * the step transitions (step complete | skip | reopen | assign). A note
 * on a step is posted first as an encrypted message of the thread; the
 * server only records its seq (note_seq). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_view.h"
#include "measure_view.h"
#include "command.h"
#include "day.h"
#include "mlog_verify.h"
#include "notice_view.h"
#include "output.h"
#include "local.h"
#include "thread.h"
#include "tr.h"
#include "user_view.h"
#include "wire.h"

#define NOTE_TEXT_MAX  8000
#define DETAIL_INDENT  "        "

struct case_opts {
	const char *const *pos;
	int n_pos;
	const char *pathway, *j0, *flags, *reason, *note, *cpts, *due, *date;
	bool clear, notice;
};

static struct case_opts
opts_of(const struct cmd_call *c)
{
	return (struct case_opts){
		.pos = c->pos,
		.n_pos = c->n_pos,
		.pathway = cmd_opt(c, "--pathway"),
		.j0 = cmd_opt(c, "--j0"),
		.flags = cmd_opt(c, "--flag"),
		.reason = cmd_opt(c, "--reason"),
		.note = cmd_opt(c, "--note"),
		.cpts = cmd_opt(c, "--cpts"),
		.due = cmd_opt(c, "--due"),
		.date = cmd_opt(c, "--date"),
		.clear = cmd_flag(c, "--clear"),
		.notice = cmd_flag(c, "--notice"),
	};
}

/* ---- the timeline ----------------------------------------------------------------- */

static int64_t
due_key(json_t *step)
{
	int64_t due = user_view_int(step, "due_at");
	return due > 0 ? due : INT64_MAX;
}

static int
step_order(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int64_t dx = due_key(x), dy = due_key(y);
	if (dx != dy)
		return dx < dy ? -1 : 1;
	int64_t ix = user_view_int(x, "id"), iy = user_view_int(y, "id");
	return (ix > iy) - (ix < iy);
}

/* The note of a step from the thread: {"seq","by","text"}, or NULL. */
static json_t *
step_note(struct e2e *e, const struct case_ctx *cc, int64_t seq)
{
	struct local_msg m;
	struct lsn_status st;
	bool found = false;
	if (seq <= 0 || local_msg_get(e->p, cc->channel, seq, &m, &found, &st) != LSN_OK || !found)
		return NULL;
	json_t *content = strcmp(m.status, "ok") == 0 && m.plain ? json_loads(m.plain, 0, NULL)
								 : NULL;
	char who[200];
	e2e_person(e, m.sender_user, who, sizeof who);
	const char *body = user_view_str(content, "body");
	json_t *note = json_pack("{s:I, s:s, s:s?, s:s?}", "seq", (json_int_t)seq, "by", who,
				 "text", body ? body : user_view_str(content, "caption"),
				 "unreadable", content ? NULL : (m.detail[0] ? m.detail : m.status));
	json_decref(content);
	local_msg_clear(&m);
	return note;
}

/* A step with the names and the note added, for people and --json. */
static json_t *
step_detail(struct e2e *e, const struct case_ctx *cc, json_t *step)
{
	char name[96], due[48], who[200], by[200];
	json_t *out = json_deep_copy(step);
	case_step_name(cc, step, name, sizeof name);
	case_step_due(cc->summary, step, due, sizeof due);
	case_person(e, user_view_str(step, "assignee"), who, sizeof who);
	case_person(e, user_view_str(step, "done_by"), by, sizeof by);
	json_object_set_new(out, "name", json_string(name));
	json_object_set_new(out, "due", json_string(due));
	json_object_set_new(out, "assignee_name", user_view_str(step, "assignee")
				       ? json_string(who) : json_null());
	json_object_set_new(out, "done_by_name", user_view_str(step, "done_by")
				       ? json_string(by) : json_null());
	json_t *note = step_note(e, cc, user_view_int(step, "note_seq"));
	json_object_set_new(out, "note", note ? note : json_null());
	json_t *history = json_array(), *ev;
	size_t i;
	json_array_foreach(json_object_get(cc->reply, "events"), i, ev) {
		if (user_view_int(ev, "step") != user_view_int(step, "id"))
			continue;
		json_t *copy = json_deep_copy(ev);
		json_t *evnote = step_note(e, cc, user_view_int(ev, "note_seq"));
		json_object_set_new(copy, "note", evnote ? evnote : json_null());
		json_array_append_new(history, copy);
	}
	json_object_set_new(out, "history", history);
	return out;
}

/* "rescheduled on DATE by NAME: J+2 2026-12-09 → J+5 2026-12-12 (reason)" */
static void
print_history(json_t *s, json_t *summary)
{
	size_t i;
	json_t *ev;
	int64_t j0 = user_view_int(summary, "j0");
	json_array_foreach(json_object_get(s, "history"), i, ev) {
		char when[32], from[DAY_TEXT] = "-", to[DAY_TEXT] = "-";
		int64_t old_due = user_view_int(ev, "old_due"), new_due = user_view_int(ev, "new_due");
		if (old_due > 0)
			day_format_due(old_due, from);
		if (new_due > 0)
			day_format_due(new_due, to);
		const char *action = user_view_str(ev, "action");
		fputs(DETAIL_INDENT, stdout);
		printf(_("%s %s by "), action && strcmp(action, "rescheduled") == 0
		       ? _("rescheduled") : action, out_time(user_view_int(ev, "at"), when, sizeof when));
		out_text(stdout, user_view_str(ev, "by_name"));
		printf(": J+%lld %s → J+%lld %s (", (long long)(old_due > 0 ? day_offset(j0, old_due) : 0),
		       from, (long long)(new_due > 0 ? day_offset(j0, new_due) : 0), to);
		out_text(stdout, user_view_str(ev, "reason"));
		fputs(")\n", stdout);
		json_t *note = json_object_get(ev, "note");
		if (json_is_object(note)) {
			fputs(DETAIL_INDENT "  ", stdout);
			printf(_("note #%lld: "), (long long)user_view_int(note, "seq"));
			out_styled(stdout, OUT_BOLD, user_view_str(note, "text") ? user_view_str(note, "text")
			     : user_view_str(note, "unreadable") ? user_view_str(note, "unreadable") : "?");
			putchar('\n');
		} else if (user_view_int(ev, "note_seq") > 0) {
			fputs(DETAIL_INDENT "  ", stdout);
			printf(_("note: message #%lld of the thread (not readable here)\n"),
			       (long long)user_view_int(ev, "note_seq"));
		}
	}
}

/* The steps in deadline order, detailed. */
static json_t *
steps_detail(struct e2e *e, const struct case_ctx *cc)
{
	json_t *steps = json_object_get(cc->reply, "steps"), *out = json_array();
	size_t n = json_array_size(steps);
	json_t **order = calloc(n ? n : 1, sizeof *order);
	if (order == NULL)
		return out;
	for (size_t i = 0; i < n; i++)
		order[i] = json_array_get(steps, i);
	qsort(order, n, sizeof *order, step_order);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(out, step_detail(e, cc, order[i]));
	free(order);
	return out;
}

/* What the action that completed a step was, in words (docs/PATHWAYS.md). */
static const char *
via_words(const char *via)
{
	static const struct {
		const char *code, *words;
	} words[] = {
		{"notice_posted", N_("by posting the discharge notice")},
		{"letter_attached", N_("by attaching the lettre de liaison to the notice")},
		{"reconciliation_closed", N_("by closing the discharge reconciliation")},
	};
	for (size_t i = 0; via && i < sizeof words / sizeof words[0]; i++)
		if (strcmp(via, words[i].code) == 0)
			return _(words[i].words);
	return via;
}

static void
print_step(json_t *s, size_t code_width, json_t *summary)
{
	const char *status = user_view_str(s, "status");
	bool overdue = json_is_true(json_object_get(s, "overdue"));
	enum out_style style = overdue ? OUT_RED
			     : status && strcmp(status, "done") == 0 ? OUT_GREEN
			     : status && strcmp(status, "skipped") == 0 ? OUT_DIM : OUT_PLAIN;
	char when[32];
	size_t status_width = out_width(_("OVERDUE")) > 8 ? out_width(_("OVERDUE")) : 8;
	fputs("  ", stdout);
	out_padded(stdout, OUT_PLAIN, user_view_str(s, "due"), 17);
	out_padded(stdout, style, overdue ? _("OVERDUE") : status, status_width);
	out_padded(stdout, OUT_PLAIN, user_view_str(s, "name"), code_width);
	out_text(stdout, user_view_str(s, "label"));
	fputs("\n" DETAIL_INDENT, stdout);
	fputs(_("assigned to "), stdout);
	out_text(stdout, user_view_str(s, "assignee_name") ? user_view_str(s, "assignee_name")
							   : _("nobody yet"));
	if (status && strcmp(status, "pending") != 0) {
		printf(_("; %s %s by "), status, out_time(user_view_int(s, "done_at"), when, sizeof when));
		out_text(stdout, user_view_str(s, "done_by_name"));
		if (user_view_str(s, "done_via")) {
			fputs(", ", stdout);
			out_text(stdout, via_words(user_view_str(s, "done_via")));
		}
	}
	if (user_view_str(s, "skip_reason")) {
		fputs(": ", stdout);
		out_text(stdout, user_view_str(s, "skip_reason"));
	}
	putchar('\n');
	json_t *note = json_object_get(s, "note");
	if (json_is_object(note)) {
		fputs(DETAIL_INDENT, stdout);
		printf(_("note #%lld by "), (long long)user_view_int(note, "seq"));
		out_text(stdout, user_view_str(note, "by"));
		fputs(": ", stdout);
		out_styled(stdout, OUT_BOLD, user_view_str(note, "text") ? user_view_str(note, "text")
		     : user_view_str(note, "unreadable") ? user_view_str(note, "unreadable") : "?");
		putchar('\n');
	} else if (user_view_int(s, "note_seq") > 0) {
		fputs(DETAIL_INDENT, stdout);
		printf(_("note: message #%lld of the thread (not readable here)\n"),
		       (long long)user_view_int(s, "note_seq"));
	}
	print_history(s, summary);
}

static void
print_steps(json_t *steps, json_t *summary)
{
	size_t width = 4, i;
	json_t *s;
	json_array_foreach(steps, i, s)
		if (out_width(user_view_str(s, "name")) > width)
			width = out_width(user_view_str(s, "name"));
	fputs(_("Steps (deadlines are UTC days; J0 = day 0):\n"), stdout);
	json_array_foreach(steps, i, s)
		print_step(s, width, summary);
}

static void
print_header(struct e2e *e, const struct case_ctx *cc, const char *patient)
{
	json_t *c = cc->summary;
	char j0[DAY_TEXT], when[32], who[200], flags[200] = "";
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(c, "flags"), i, f)
		snprintf(flags + strlen(flags), sizeof flags - strlen(flags), "%s%s", i ? ", " : "",
			 json_string_value(f) ? json_string_value(f) : "?");
	out_styled(stdout, OUT_BOLD, cc->ref);
	printf(_(" — %s (version %lld), %s"), user_view_str(c, "pathway"),
	       (long long)user_view_int(c, "template_version"), user_view_str(c, "status"));
	if (user_view_str(c, "close_reason"))
		printf(_(": %s on %s"), user_view_str(c, "close_reason"),
		       out_time(user_view_int(c, "closed_at"), when, sizeof when));
	putchar('\n');
	out_kv(_("Patient"), patient[0] ? patient : cc->member ? _("(not readable on this device yet)")
					  : _("(only the members of the case thread see it)"));
	out_kv(_("J0"), day_format_start(user_view_int(c, "j0"), j0));
	out_kv(_("Flags"), flags[0] ? flags : _("none"));
	/* events that date steps (remission), shown once one is recorded */
	char events[200] = "";
	json_array_foreach(json_object_get(cc->reply, "case_events"), i, f)
		snprintf(events + strlen(events), sizeof events - strlen(events), "%s%s %s",
			 i ? ", " : "", user_view_str(f, "event") ? user_view_str(f, "event") : "?",
			 user_view_str(f, "day") ? user_view_str(f, "day") : "?");
	if (events[0])
		out_kv(_("Events"), events);
	out_kv(_("Channel"), user_view_str(c, "channel"));
	case_person(e, user_view_str(c, "opened_by"), who, sizeof who);
	char opened[300];
	snprintf(opened, sizeof opened, _("%s by %s"), out_time(user_view_int(c, "opened_at"), when,
							      sizeof when), who);
	out_kv(_("Opened"), opened);
}

static void
print_notice(struct e2e *e, json_t *notice, json_t *acks)
{
	char when[32], who[200];
	if (!json_is_object(notice)) {
		puts(_("Discharge notice: none posted yet."));
		return;
	}
	case_person(e, user_view_str(notice, "posted_by"), who, sizeof who);
	printf(_("Discharge notice: message #%lld, posted %s by "), (long long)user_view_int(notice, "seq"),
	       out_time(user_view_int(notice, "posted_at"), when, sizeof when));
	out_text(stdout, who);
	putchar('\n');
	if (user_view_int(notice, "escalated_at") > 0) {
		char line[96];
		snprintf(line, sizeof line, _("ESCALATED to the CPTS coordinators on %s"),
			 out_time(user_view_int(notice, "escalated_at"), when, sizeof when));
		fputs("  ", stdout);
		out_styled(stdout, OUT_RED, line);
		putchar('\n');
	}
	case_print_acks(stdout, acks, notice, "  ");
}

/* --notice: the discharge notice itself, decrypted here (members only). */
static json_t *
notice_content(struct e2e *e, struct case_ctx *cc, json_t *notice)
{
	json_t *content = cc->member && json_is_object(notice)
		? case_message(e, cc->channel, user_view_int(notice, "seq")) : NULL;
	if (content == NULL)
		out_error(_("%s: this device cannot show it (%s)"), json_is_object(notice)
			  ? _("the discharge notice") : _("no discharge notice"), cc->member
			  ? _("run liaison read on the case's channel") : _("not a member of the thread"));
	return content;
}

static int
show_case(struct e2e *e, struct case_ctx *cc, bool with_notice)
{
	struct lsn_status st = {0};
	if (case_sync_thread(e, cc, &st) != LSN_OK)
		out_error(_("could not update the case thread (%s); showing what this device has"), st.msg);
	char patient[CASE_NAME_MAX] = "";
	json_t *notice = json_object_get(cc->reply, "notice");
	if (cc->member)
		case_patient_name(e, cc->channel, user_view_int(notice, "seq"), patient, sizeof patient);
	json_t *acks = case_acks(e, cc);
	json_t *steps = steps_detail(e, cc);
	json_t *content = with_notice ? notice_content(e, cc, notice) : NULL;
	int rc = with_notice && content == NULL ? CLI_FAIL : CLI_OK;
	struct measure_series ms = {0};   /* structured measurements, read here */
	if (cc->member && measure_series_load(e, cc, &ms, &st) != LSN_OK)
		measure_series_free(&ms);
	if (out_json_mode()) {
		json_t *out = json_deep_copy(cc->reply);
		json_object_set_new(json_object_get(out, "case"), "patient",
				    patient[0] ? json_string(patient) : json_null());
		if (json_is_object(json_object_get(out, "notice")))
			json_object_update(json_object_get(out, "notice"), acks);
		json_object_set(out, "steps", steps);
		if (content)
			json_object_set(out, "notice_message", content);
		json_object_set_new(out, "measurements", measure_series_json(&ms));
		if (rc == CLI_OK)
			rc = out_json_reply(out);
		json_decref(out);
	} else {
		print_header(e, cc, patient);
		putchar('\n');
		print_notice(e, notice, acks);
		putchar('\n');
		print_steps(steps, cc->summary);
		if (ms.np) {
			putchar('\n');
			measure_series_print(stdout, &ms);
		}
		if (content) {
			putchar('\n');
			notice_print(stdout, content, "  ");
		}
	}
	json_decref(content);
	measure_series_free(&ms);
	json_decref(acks);
	json_decref(steps);
	return rc;
}

/* ---- open, close, flag ------------------------------------------------------------------ */

static json_t *
flag_list(const char *const *flags, int n, const char *comma_list)
{
	json_t *list = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(list, json_string(flags[i]));
	char copy[256];
	snprintf(copy, sizeof copy, "%s", comma_list ? comma_list : "");
	for (char *save = NULL, *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save))
		json_array_append_new(list, json_string(f));
	return list;
}

/* After open or flag: the case as the server now has it. */
static int
show_reply(struct e2e *e, json_t *reply, const char *what)
{
	struct case_ctx cc;
	struct lsn_status st = {0};
	uint8_t id[LSN_ID_BYTES];
	if (!lsn_id_from_hex(user_view_str(json_object_get(reply, "case"), "case"), id)) {
		out_error("%s", _("the server's reply has no case id; see liaison cases"));
		return CLI_FAIL;
	}
	if (case_fetch(e, id, &cc, &st) != LSN_OK) {
		case_ctx_free(&cc);
		return out_fail(&st);
	}
	case_learn_people(e, &cc);
	if (!out_json_mode())
		printf(_("%s %s.\n\n"), what, cc.ref);
	int rc = show_case(e, &cc, false);
	case_ctx_free(&cc);
	return rc;
}

static int
open_case(struct e2e *e, const struct case_opts *o)
{
	uint8_t channel[LSN_ID_BYTES];
	int rc = e2e_resolve_channel(e, o->pos[1], channel);
	if (rc != CLI_OK)
		return rc;
	struct lsn_status st = {0};
	json_t *reply = NULL;
	uint8_t cpts[LSN_ID_BYTES];
	if (o->cpts && !lsn_id_from_hex(o->cpts, cpts)) {
		out_error(_("--cpts %s: expected the CPTS's organisation id (32 lowercase hex "
			    "characters; see liaison directory)"), o->cpts);
		return CLI_USAGE;
	}
	json_t *body = json_pack("{s:o, s:s, s:s, s:o}", "channel", wire_id(channel), "pathway",
				 o->pathway, "j0", o->j0, "flags", flag_list(NULL, 0, o->flags));
	if (o->cpts)
		json_object_set_new(body, "cpts", json_string(o->cpts));
	if (e2e_write(e, "case_open", body, &reply, &st) != LSN_OK)
		rc = out_fail(&st);
	else
		rc = show_reply(e, reply, _("Opened case"));
	json_decref(reply);
	return rc;
}

static int
close_case(struct e2e *e, const struct case_opts *o)
{
	struct case_ctx cc;
	int rc = case_load(e, o->pos[1], &cc);
	if (rc != CLI_OK)
		return rc;
	struct lsn_status st = {0};
	json_t *reply = NULL;
	if (e2e_write(e, "case_close", json_pack("{s:s, s:s}", "case", cc.id_hex, "reason",
						 o->reason), &reply, &st) != LSN_OK) {
		rc = out_fail(&st);
	} else if (out_json_mode()) {
		rc = out_json(json_object_get(reply, "case"));
	} else {
		printf(_("Case %s closed (%s). Its steps no longer change.\n"), cc.ref, o->reason);
	}
	json_decref(reply);
	case_ctx_free(&cc);
	return rc;
}

/* A change of the whole case (op with body; "case" added here), then the
 * case shown again under title. */
static int
change_case(struct e2e *e, const char *ref, const char *op, json_t *body, const char *title)
{
	struct case_ctx cc;
	int rc = case_load(e, ref, &cc);
	if (rc != CLI_OK) {
		json_decref(body);
		return rc;
	}
	struct lsn_status st = {0};
	json_t *reply = NULL;
	json_object_set_new(body, "case", json_string(cc.id_hex));
	if (e2e_write(e, op, body, &reply, &st) != LSN_OK)
		rc = out_fail(&st);
	else
		rc = show_reply(e, reply, title);
	json_decref(reply);
	case_ctx_free(&cc);
	return rc;
}

static int
flag_case(struct e2e *e, const struct case_opts *o)
{
	return change_case(e, o->pos[1], "case_flag",
			   json_pack("{s:o}", "flags", flag_list(o->pos + 2, o->n_pos - 2, NULL)),
			   _("New flags for case"));
}

/* The day of an event the template dates steps from (remission). */
static int
event_case(struct e2e *e, const struct case_opts *o)
{
	return change_case(e, o->pos[1], "case_event",
			   json_pack("{s:s, s:s}", "event", o->pos[2], "day", o->date),
			   _("Event recorded on case"));
}

/* ---- steps ------------------------------------------------------------------------------ */

/* Would the server accept this transition? Only to avoid posting a note
 * that would point at nothing; the server decides and says why. */
static bool
likely_allowed(struct e2e *e, const struct case_ctx *cc, json_t *step)
{
	const char *assignee = user_view_str(step, "assignee");
	const char *status = user_view_str(step, "status");
	const char *case_status = user_view_str(cc->summary, "status");
	return cc->member && status && strcmp(status, "pending") == 0 && case_status &&
	       strcmp(case_status, "open") == 0 &&
	       ((assignee && strcmp(assignee, e->me_hex) == 0) || case_me_coordinator(e));
}

static enum lsn_err
post_note(struct e2e *e, const struct case_ctx *cc, json_t *step, const char *action,
	  const char *text, int64_t *seq, struct lsn_status *st)
{
	char name[96];
	struct chan_view v;
	int64_t ts = 0;
	memset(&v, 0, sizeof v);
	case_step_name(cc, step, name, sizeof name);
	enum lsn_err err = chan_view_load(e, cc->channel, &v, st);
	if (err == LSN_OK)
		err = thread_send(e, &v, json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "type",
						   "step_note", "case", cc->id_hex, "patient_ref",
						   cc->ref, "step", (json_int_t)user_view_int(step, "id"),
						   "step_code", name, "action", action, "body", text),
				  seq, &ts, st);
	chan_view_free(&v);
	return err;
}

static void
explain_refusal(struct e2e *e, const struct case_ctx *cc, json_t *step, enum lsn_err err)
{
	char name[96], who[200];
	case_step_name(cc, step, name, sizeof name);
	if (err == LSN_ERR_NOT_ASSIGNEE) {
		case_person(e, user_view_str(step, "assignee"), who, sizeof who);
		out_error(_("%s of %s is assigned to %s"), name, cc->ref,
			  user_view_str(step, "assignee") ? who : _("nobody yet"));
	}
}

static int
step_report(struct e2e *e, const struct case_ctx *cc, json_t *step, json_t *reply,
	    int64_t note_seq)
{
	json_t *now = json_object_get(reply, "step");
	char name[96], due[48], who[200];
	if (out_json_mode())
		return out_json(now);
	case_step_name(cc, step, name, sizeof name);
	case_step_due(cc->summary, now, due, sizeof due);
	case_person(e, user_view_str(now, "assignee"), who, sizeof who);
	printf("%s of %s (", name, cc->ref);
	out_text(stdout, user_view_str(step, "label"));
	printf(", %s): %s", due, user_view_str(now, "status"));
	if (user_view_str(now, "skip_reason")) {
		fputs(" — ", stdout);
		out_text(stdout, user_view_str(now, "skip_reason"));
	}
	fputs(_(", assigned to "), stdout);
	out_text(stdout, user_view_str(now, "assignee") ? who : _("nobody"));
	putchar('.');
	if (note_seq > 0)
		printf(_(" Note posted in the thread as message #%lld."), (long long)note_seq);
	putchar('\n');
	return CLI_OK;
}

static json_t *
step_body(struct e2e *e, const struct case_opts *o, const char *action, json_t *step,
	  int64_t note_seq, int *rc)
{
	json_t *body = json_pack("{s:I}", "step", (json_int_t)user_view_int(step, "id"));
	if (note_seq > 0)
		json_object_set_new(body, "note_seq", json_integer(note_seq));
	if (strcmp(action, "skip") == 0 || strcmp(action, "reschedule") == 0)
		json_object_set_new(body, "reason", json_string(o->reason));
	if (strcmp(action, "reschedule") == 0)
		json_object_set_new(body, "due", json_string(o->due));
	if (strcmp(action, "assign") == 0) {
		uint8_t user[LSN_ID_BYTES];
		char hex[LSN_ID_HEX + 1];
		if ((*rc = e2e_resolve_user(e, o->pos[4], user)) != CLI_OK) {
			json_decref(body);
			return NULL;
		}
		lsn_id_to_hex(user, hex);
		json_object_set_new(body, "user", json_string(hex));
	}
	return body;
}

static int
step_action(struct e2e *e, const struct case_opts *o)
{
	const char *action = o->pos[1];
	struct case_ctx cc;
	int rc = case_load(e, o->pos[2], &cc);
	if (rc != CLI_OK)
		return rc;
	char why[900];
	json_t *step = case_find_step(&cc, o->pos[3], strcmp(action, "reopen") == 0
				      ? CASE_PICK_CLOSED : CASE_PICK_PENDING, why, sizeof why);
	struct lsn_status st = {0};
	int64_t note_seq = 0;
	json_t *reply = NULL, *body = NULL;
	enum lsn_err err = LSN_OK;
	if (step == NULL) {
		out_error(_("%s: see liaison case show %s"), why, cc.ref);
		rc = CLI_USAGE;
	} else if (o->note && !cc.member) {
		out_error(_("--note: you are not a member of the thread of %s, where notes are "
			    "encrypted; leave out --note"), cc.ref);
		rc = CLI_USAGE;
	} else if (o->note && likely_allowed(e, &cc, step)) {
		err = post_note(e, &cc, step, action, o->note, &note_seq, &st);
	}
	if (rc == CLI_OK && err == LSN_OK)
		body = step_body(e, o, action, step, note_seq, &rc);
	char op[32];
	snprintf(op, sizeof op, "step_%s", action);
	if (rc == CLI_OK && err == LSN_OK && body)
		err = e2e_write(e, op, body, &reply, &st);
	if (rc == CLI_OK && err == LSN_OK) {
		rc = step_report(e, &cc, step, reply, note_seq);
	} else if (rc == CLI_OK) {
		rc = out_fail(&st);
		explain_refusal(e, &cc, step, err);
		if (note_seq > 0)
			out_error(_("your note stays in the thread as message #%lld"), (long long)note_seq);
	}
	json_decref(reply);
	case_ctx_free(&cc);
	return rc;
}

/* ---- usage and dispatch ------------------------------------------------------------------- */

static bool
one_of(const char *s, const char *const *list)
{
	for (; s && *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static int
usage(const char *what)
{
	out_error(_("%s; see liaison case --help"), what);
	return CLI_USAGE;
}

static int
check_step_usage(const struct case_opts *o)
{
	static const char *const actions[] = {"complete", "skip", "reopen", "assign", "reschedule",
					      NULL};
	const char *action = o->n_pos > 1 ? o->pos[1] : NULL;
	if (!one_of(action, actions))
		return usage(_("case step needs complete, skip, reopen, assign or reschedule"));
	int want = strcmp(action, "assign") == 0 ? 5 : 4;
	if (o->n_pos != want)
		return usage(want == 5 ? _("case step assign needs CASE STEP USER")
				       : _("case step needs CASE and STEP"));
	static const char *const skip_reasons[] = {"patient_declined", "not_indicated",
		"done_elsewhere", "patient_hospitalised", "patient_unreachable", "rescheduled",
		"other", NULL};
	if (strcmp(action, "skip") == 0 && (o->reason == NULL || !one_of(o->reason, skip_reasons)))
		return usage(_("case step skip needs --reason patient_declined, not_indicated, "
			       "done_elsewhere, patient_hospitalised, patient_unreachable, rescheduled "
			       "or other (details go in --note, encrypted)"));
	static const char *const moves[] = {"patient_request", "patient_unavailable",
		"patient_hospitalised", "professional_unavailable", "appointment_date",
		"clinical_decision", "other", NULL};
	int64_t day;
	bool reschedule = strcmp(action, "reschedule") == 0;
	if (reschedule && (o->due == NULL || !day_parse(o->due, &day)))
		return usage(_("case step reschedule needs --due YYYY-MM-DD, the new due day"));
	if (reschedule && (o->reason == NULL || !one_of(o->reason, moves)))
		return usage(_("case step reschedule needs --reason patient_request, "
			       "patient_unavailable, patient_hospitalised, professional_unavailable, "
			       "appointment_date, clinical_decision or other (details go in --note, "
			       "encrypted)"));
	if (o->due && !reschedule)
		return usage(_("--due goes with reschedule"));
	if (o->note && strcmp(action, "complete") != 0 && strcmp(action, "skip") != 0 && !reschedule)
		return usage(_("--note goes with complete, skip or reschedule"));
	json_t *probe = o->note ? json_string(o->note) : NULL;
	bool bad_note = o->note && (probe == NULL || o->note[0] == '\0' ||
				    strlen(o->note) > NOTE_TEXT_MAX);
	json_decref(probe);
	if (bad_note)
		return usage(_("--note must be UTF-8 text of 1 to 8000 bytes"));
	return CLI_OK;
}

static int
check_usage(const struct case_opts *o)
{
	static const char *const reasons[] = {"completed", "readmitted", "deceased", "moved",
					      "consent_withdrawn", NULL};
	const char *sub = o->n_pos ? o->pos[0] : "";
	int64_t days;
	if (strcmp(sub, "show") == 0)
		return o->n_pos == 2 ? CLI_OK : usage(_("case show needs one CASE"));
	if (strcmp(sub, "step") == 0)
		return check_step_usage(o);
	if (strcmp(sub, "open") == 0) {
		if (o->n_pos != 2 || o->pathway == NULL || o->j0 == NULL)
			return usage(_("case open needs CHANNEL, --pathway and --j0"));
		return day_parse(o->j0, &days) ? CLI_OK
			: usage(_("--j0 must be the trigger day as YYYY-MM-DD"));
	}
	if (strcmp(sub, "close") == 0) {
		if (o->n_pos != 2)
			return usage(_("case close needs one CASE"));
		return one_of(o->reason, reasons) ? CLI_OK
			: usage(_("case close needs --reason completed, readmitted, deceased, moved "
				  "or consent_withdrawn"));
	}
	if (strcmp(sub, "flag") == 0) {
		if (o->n_pos < 2 || (o->n_pos == 2) != o->clear)
			return usage(_("case flag needs CASE and the flags (all of them), or --clear"));
		return CLI_OK;
	}
	if (strcmp(sub, "event") == 0) {
		if (o->n_pos != 3 || o->date == NULL)
			return usage(_("case event needs CASE, EVENT and --date YYYY-MM-DD"));
		return day_parse(o->date, &days) ? CLI_OK
			: usage(_("--date must be the event's day as YYYY-MM-DD"));
	}
	return usage(o->n_pos ? _("unknown case command") : _("case needs a command"));
}

static int
run_sub(struct e2e *e, const struct case_opts *o)
{
	const char *sub = o->pos[0];
	if (strcmp(sub, "step") == 0)
		return step_action(e, o);
	if (strcmp(sub, "open") == 0)
		return open_case(e, o);
	if (strcmp(sub, "close") == 0)
		return close_case(e, o);
	if (strcmp(sub, "flag") == 0)
		return flag_case(e, o);
	if (strcmp(sub, "event") == 0)
		return event_case(e, o);
	struct case_ctx cc;
	int rc = case_load(e, o->pos[1], &cc);
	if (rc == CLI_OK)
		rc = show_case(e, &cc, o->notice);
	case_ctx_free(&cc);
	return rc;
}

int
cmd_case_check(struct cmd_call *c)
{
	struct case_opts o = opts_of(c);
	return check_usage(&o);
}

int
cmd_case_run(struct cmd_call *c)
{
	struct case_opts o = opts_of(c);
	return run_sub(c->e, &o);
}
