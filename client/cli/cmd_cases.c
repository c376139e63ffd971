/* cmd_cases.c — "liaison cases": unseen notifications first (then marked
 * seen), and a table of cases: patient reference, the patient's name (read
 * from the decrypted thread on this computer; the server never has it),
 * pathway, J0, next deadline, overdue steps, escalation, acknowledgements.
 * "cases --late": the late steps instead (op late_steps), with their case,
 * holder and days late; "--unacked": the discharge notices still missing
 * acknowledgements (op unacked_notices), with who is missing; "--alerts":
 * the alerts of the last days (op recent_alerts), their label and who
 * raised them. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "tr.h"
#include "case_view.h"
#include "command.h"
#include "day.h"
#include "output.h"
#include "local.h"
#include "user_view.h"
#include "wire.h"

struct cases_opts {
	bool overdue, mine, all, closed, late, unacked, alerts;
	const char *pathway;
	long days;                     /* --alerts: 0 = the server's default (7) */
};

/* ---- notifications ------------------------------------------------------------ */

/* The unseen notifications, each with its words ("text"). */
static enum lsn_err
take_notifications(struct e2e *e, json_t *cache, json_t **out, struct lsn_status *st)
{
	json_t *reply = NULL, *n;
	*out = json_array();
	enum lsn_err err = e2e_read(e, "notifications", NULL, &reply, st);
	size_t i;
	json_array_foreach(json_object_get(reply, "notifications"), i, n) {
		char text[800];
		case_notification_text(e, n, cache, text, sizeof text);
		json_t *copy = json_deep_copy(n);
		json_object_set_new(copy, "text", json_string(text));
		json_array_append_new(*out, copy);
	}
	json_decref(reply);
	return err;
}

/* Once shown: seen, up to the highest id (notifications_seen). */
static enum lsn_err
mark_seen(struct e2e *e, json_t *notes, struct lsn_status *st)
{
	int64_t upto = 0;
	size_t i;
	json_t *n, *reply = NULL;
	json_array_foreach(notes, i, n)
		if (user_view_int(n, "id") > upto)
			upto = user_view_int(n, "id");
	if (upto == 0)
		return LSN_OK;
	enum lsn_err err = e2e_read(e, "notifications_seen",
				    json_pack("{s:I}", "upto", (json_int_t)upto), &reply, st);
	json_decref(reply);
	return err;
}

static void
print_notifications(json_t *list)
{
	size_t i, n = json_array_size(list);
	json_t *x;
	if (n == 0)
		return;
	char head[64];
	snprintf(head, sizeof head, ngettext("%zu notification:", "%zu notifications:", n), n);
	out_styled(stdout, OUT_BOLD, head);
	putchar('\n');
	json_array_foreach(list, i, x) {
		char when[32];
		printf("  %s  ", out_time(user_view_int(x, "created_at"), when, sizeof when));
		const char *kind = user_view_str(x, "kind");
		bool loud = kind && (strcmp(kind, "step_overdue") == 0 ||
				     strcmp(kind, "notice_escalated") == 0 || strcmp(kind, "alert") == 0);
		out_styled(stdout, loud ? OUT_RED : OUT_PLAIN, user_view_str(x, "text"));
		putchar('\n');
	}
	putchar('\n');
}

/* ---- one case -------------------------------------------------------------------- */

/* The case_get reply (cached; borrowed), with the thread synced when this
 * device cannot name the patient yet. */
static json_t *
case_detail(struct e2e *e, json_t *c, json_t *cache, char *patient, size_t len)
{
	const char *hex = user_view_str(c, "case");
	struct case_ctx cc;
	struct lsn_status st = {0};
	uint8_t id[LSN_ID_BYTES];
	patient[0] = '\0';
	if (hex == NULL || !lsn_id_from_hex(hex, id))
		return NULL;
	json_t *reply = json_object_get(cache, hex);
	if (reply == NULL) {
		if (case_fetch(e, id, &cc, &st) == LSN_OK)
			json_object_set(cache, hex, cc.reply);
		case_ctx_free(&cc);
		reply = json_object_get(cache, hex);
	}
	memset(&cc, 0, sizeof cc);
	cc.member = json_is_true(json_object_get(reply, "member"));
	if (reply == NULL || !cc.member ||
	    !lsn_id_from_hex(user_view_str(json_object_get(reply, "case"), "channel"), cc.channel))
		return reply;
	int64_t seq = user_view_int(json_object_get(reply, "notice"), "seq");
	json_t *content = case_message(e, cc.channel, seq);
	case_patient_name(e, cc.channel, seq, patient, len);
	if (patient[0] == '\0' || (seq > 0 && content == NULL)) {
		case_sync_thread(e, &cc, &st);
		case_patient_name(e, cc.channel, seq, patient, len);
	}
	json_decref(content);
	return reply;
}

static void
ack_cell(json_t *reply, char *out, size_t len)
{
	json_t *notice = json_object_get(reply, "notice");
	if (!json_is_object(notice)) {
		snprintf(out, len, "%s", _("no notice"));
		return;
	}
	/* of the recipients fixed when the notice was posted, not of everyone who joined */
	int64_t expected = user_view_int(notice, "expected");
	int64_t missing = user_view_int(notice, "missing");
	if (missing == 0)
		snprintf(out, len, _("all %lld"), (long long)expected);
	else
		snprintf(out, len, "%lld/%lld", (long long)(expected - missing), (long long)expected);
}

static json_t *
case_row(struct e2e *e, json_t *c, json_t *cache)
{
	char patient[CASE_NAME_MAX], acks[32];
	json_t *reply = case_detail(e, c, cache, patient, sizeof patient);
	json_t *row = json_deep_copy(c);
	ack_cell(reply, acks, sizeof acks);
	json_t *notice = json_object_get(reply, "notice");
	json_object_set_new(row, "patient", patient[0] ? json_string(patient) : json_null());
	json_object_set_new(row, "acks", json_is_object(notice) ? json_integer((json_int_t)
		(user_view_int(notice, "expected") - user_view_int(notice, "missing"))) : json_null());
	json_object_set_new(row, "acks_missing", json_is_object(notice)
		? json_integer(user_view_int(notice, "missing")) : json_null());
	json_object_set_new(row, "ack_status", json_string(acks));
	return row;
}

static void
print_cases(json_t *rows, bool closed)
{
	static const char *const headers[] = {N_("CASE"), N_("PATIENT"), N_("PATHWAY"), N_("J0"), N_("NEXT DUE"),
					      N_("OVERDUE"), N_("ESCALATED"), N_("ACKS"), N_("STATUS")};
	struct out_table *t = out_table_new(closed ? 9 : 8, headers);
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		char j0[DAY_TEXT], next[48], overdue[24], day[DAY_TEXT];
		int64_t due = user_view_int(r, "next_due"), start = user_view_int(r, "j0");
		day_format_start(start, j0);
		if (due > 0)
			snprintf(next, sizeof next, "J+%lld %s", (long long)day_offset(start, due),
				 day_format_due(due, day));
		else
			snprintf(next, sizeof next, "-");
		snprintf(overdue, sizeof overdue, "%lld", (long long)user_view_int(r, "overdue"));
		const char *cells[] = {
			user_view_str(r, "patient_ref"), user_view_str(r, "patient"),
			user_view_str(r, "pathway"), j0, next, overdue,
			json_is_true(json_object_get(r, "escalated")) ? "ESCALATED" : "",
			user_view_str(r, "ack_status"), user_view_str(r, "status"),
		};
		out_table_add(t, cells);
	}
	out_table_print(t, stdout);
	out_table_free(t);
}

/* ---- late steps --------------------------------------------------------------------------- */

static void
print_late(json_t *steps)
{
	static const char *const headers[] = {N_("CASE"), N_("STEP"), N_("DUE"), N_("DAYS LATE"), N_("HELD BY"),
					      N_("LABEL")};
	struct out_table *t = out_table_new(6, headers);
	size_t i;
	json_t *s;
	json_array_foreach(steps, i, s) {
		char due[DAY_TEXT], late[24], step[80];
		day_format_due(user_view_int(s, "due_at"), due);
		snprintf(late, sizeof late, "%lld", (long long)user_view_int(s, "days_late"));
		if (user_view_int(s, "occurrence") > 1)
			snprintf(step, sizeof step, "%s#%lld", user_view_str(s, "code"),
				 (long long)user_view_int(s, "occurrence"));
		else
			snprintf(step, sizeof step, "%s", user_view_str(s, "code"));
		const char *holder = user_view_str(s, "assignee_name");
		const char *cells[] = {user_view_str(s, "patient_ref"), step, due, late,
				       holder ? holder : "nobody yet", user_view_str(s, "label")};
		out_table_add(t, cells);
	}
	out_table_print(t, stdout);
	out_table_free(t);
}

/* ---- unacknowledged notices, recent alerts ------------------------------------------- */

static void
print_unacked(json_t *notices)
{
	static const char *const headers[] = {N_("CASE"), N_("PATHWAY"), N_("POSTED"), N_("BY"),
					      N_("ACKS"), N_("ESCALATED"), N_("MISSING")};
	struct out_table *t = out_table_new(7, headers);
	size_t i, j;
	json_t *n, *p;
	json_array_foreach(notices, i, n) {
		char posted[32], escalated[32], acks[48], missing[600];
		size_t used = 0;
		out_time(user_view_int(n, "posted_at"), posted, sizeof posted);
		if (user_view_int(n, "escalated_at") > 0)
			out_time(user_view_int(n, "escalated_at"), escalated, sizeof escalated);
		else
			escalated[0] = '\0';
		int64_t expected = user_view_int(n, "expected");
		snprintf(acks, sizeof acks, "%lld/%lld",
			 (long long)(expected - user_view_int(n, "missing")), (long long)expected);
		missing[0] = '\0';
		json_array_foreach(json_object_get(n, "missing_people"), j, p) {
			const char *name = user_view_str(p, "name");
			int w = snprintf(missing + used, sizeof missing - used, "%s%s", j ? ", " : "",
					 name ? name : "?");
			if (w < 0 || (size_t)w >= sizeof missing - used)
				break;
			used += (size_t)w;
		}
		const char *cells[] = {user_view_str(n, "patient_ref"), user_view_str(n, "pathway"),
				       posted, user_view_str(n, "posted_by_name"), acks, escalated,
				       missing};
		out_table_add(t, cells);
	}
	out_table_print(t, stdout);
	out_table_free(t);
}

static void
print_alerts(json_t *alerts)
{
	static const char *const headers[] = {N_("CASE"), N_("PATHWAY"), N_("RAISED"), N_("ALERT"),
					      N_("BY"), N_("STATUS")};
	struct out_table *t = out_table_new(6, headers);
	size_t i;
	json_t *a;
	json_array_foreach(alerts, i, a) {
		char at[32];
		out_time(user_view_int(a, "at"), at, sizeof at);
		const char *status = user_view_str(a, "case_status");
		bool closed = status && strcmp(status, "closed") == 0;
		const char *cells[] = {user_view_str(a, "patient_ref"), user_view_str(a, "pathway"), at,
				       user_view_str(a, "label"), user_view_str(a, "by_name"),
				       /* TRANSLATORS: the state of a case (masculine: le dossier) */
				       closed ? _("closed") : _("open")};
		out_table_add(t, cells);
	}
	out_table_print(t, stdout);
	out_table_free(t);
}

/* A list op of the dashboard family: its request, the reply's list and the
 * key --json gives it, what to say when it is empty, its table. */
struct list_view {
	const char *op, *reply_key, *json_key, *empty;
	void (*print)(json_t *list);
};

static int
list_op(struct e2e *e, const struct cases_opts *o, const struct list_view *v)
{
	struct lsn_status st = {0};
	json_t *cache = json_object(), *notes = NULL, *reply = NULL;
	json_t *body = json_pack("{s:b}", "all", o->all);
	if (o->pathway)
		json_object_set_new(body, "pathway", json_string(o->pathway));
	if (o->days)
		json_object_set_new(body, "days", json_integer(o->days));
	int rc = CLI_OK;
	if (e2e_read(e, v->op, body, &reply, &st) != LSN_OK ||
	    take_notifications(e, cache, &notes, &st) != LSN_OK)
		rc = out_fail(&st);
	json_t *list = json_object_get(reply, v->reply_key);
	if (rc == CLI_OK && out_json_mode()) {
		json_t *out = json_pack("{s:O, s:O}", "notifications", notes, v->json_key,
					list ? list : json_array());
		rc = out_json(out);
		json_decref(out);
	} else if (rc == CLI_OK) {
		print_notifications(notes);
		if (json_array_size(list) == 0)
			fputs(v->empty, stdout);
		else
			v->print(list);
	}
	if (rc == CLI_OK && mark_seen(e, notes, &st) != LSN_OK)
		rc = out_fail(&st);
	json_decref(cache);
	json_decref(notes);
	json_decref(reply);
	return rc;
}

static int
list_late(struct e2e *e, const struct cases_opts *o)
{
	const struct list_view v = {"late_steps", "steps", "late_steps", _("No late step.\n"),
				    print_late};
	return list_op(e, o, &v);
}

static int
list_unacked(struct e2e *e, const struct cases_opts *o)
{
	const struct list_view v = {"unacked_notices", "notices", "unacked_notices",
				    _("No discharge notice is waiting for an acknowledgement.\n"),
				    print_unacked};
	return list_op(e, o, &v);
}

static int
list_alerts(struct e2e *e, const struct cases_opts *o)
{
	char empty[120];
	snprintf(empty, sizeof empty, ngettext("No alert in the last %ld day.\n",
					       "No alert in the last %ld days.\n", o->days ? o->days : 7),
		 o->days ? o->days : 7);
	const struct list_view v = {"recent_alerts", "alerts", "recent_alerts", empty, print_alerts};
	return list_op(e, o, &v);
}

/* ---- the command ----------------------------------------------------------------------- */

static int
list_cases(struct e2e *e, const struct cases_opts *o)
{
	struct lsn_status st = {0};
	json_t *cache = json_object(), *notes = NULL, *reply = NULL, *rows = json_array(), *c;
	json_t *body = json_pack("{s:b, s:b, s:b, s:b}", "mine", o->mine, "overdue", o->overdue,
				 "all", o->all, "closed", o->closed);
	if (o->pathway)
		json_object_set_new(body, "pathway", json_string(o->pathway));
	int rc = CLI_OK;
	if (e2e_read(e, "cases", body, &reply, &st) != LSN_OK ||
	    take_notifications(e, cache, &notes, &st) != LSN_OK)
		rc = out_fail(&st);
	size_t i;
	json_array_foreach(json_object_get(reply, "cases"), i, c)
		if (rc == CLI_OK)
			json_array_append_new(rows, case_row(e, c, cache));
	if (rc == CLI_OK && out_json_mode()) {
		json_t *out = json_pack("{s:O, s:O}", "notifications", notes, "cases", rows);
		rc = out_json(out);
		json_decref(out);
	} else if (rc == CLI_OK) {
		print_notifications(notes);
		if (json_array_size(rows) == 0)
			puts(o->closed ? (o->overdue ? _("No cases with an overdue step.")
						     : _("No cases."))
				       : (o->overdue ? _("No open cases with an overdue step.")
						     : _("No open cases.")));
		else
			print_cases(rows, o->closed);
	}
	if (rc == CLI_OK && mark_seen(e, notes, &st) != LSN_OK)
		rc = out_fail(&st);
	json_decref(cache);
	json_decref(notes);
	json_decref(reply);
	json_decref(rows);
	return rc;
}

/* --days N: a whole number of days from 1 to 31 (0 when absent); -1 if not. */
static long
read_days(const char *text)
{
	char *end = NULL;
	if (text == NULL)
		return 0;
	long d = strtol(text, &end, 10);
	return end != text && *end == '\0' && d >= 1 && d <= 31 ? d : -1;
}

int
cmd_cases_run(struct cmd_call *c)
{
	struct cases_opts o = {
		.overdue = cmd_flag(c, "--overdue"),
		.mine = cmd_flag(c, "--mine"),
		.all = cmd_flag(c, "--all"),
		.closed = cmd_flag(c, "--closed"),
		.late = cmd_flag(c, "--late"),
		.unacked = cmd_flag(c, "--unacked"),
		.alerts = cmd_flag(c, "--alerts"),
		.pathway = cmd_opt(c, "--pathway"),
		.days = read_days(cmd_opt(c, "--days")),
	};
	const char *view = o.late ? "--late" : o.unacked ? "--unacked" : o.alerts ? "--alerts" : NULL;
	if (o.late + o.unacked + o.alerts > 1) {
		out_error(_("--late, --unacked and --alerts are different lists: give one of them"));
		return CLI_USAGE;
	}
	if (view && (o.overdue || o.mine || o.closed)) {
		/* TRANSLATORS: %s is the option: --late, --unacked or --alerts */
		out_error(_("%s goes with --pathway and --all only"), view);
		return CLI_USAGE;
	}
	if (cmd_opt(c, "--days") && !o.alerts) {
		out_error(_("--days goes with --alerts"));
		return CLI_USAGE;
	}
	if (o.days < 0) {
		out_error(_("--days takes a whole number of days from 1 to 31"));
		return CLI_USAGE;
	}
	if (view && o.all && !case_me_territory(c->e)) {
		/* TRANSLATORS: %s is the option: --late, --unacked or --alerts */
		out_error(_("%s --all covers every CPTS: it is for territory coordinators; "
			  "without --all you see your CPTS's and your own"), view);
		return CLI_FAIL;
	}
	if (o.late)
		return list_late(c->e, &o);
	if (o.unacked)
		return list_unacked(c->e, &o);
	if (o.alerts)
		return list_alerts(c->e, &o);
	if (o.all && !case_me_coordinator(c->e) && !case_me_territory(c->e)) {
		out_error(_("--all lists every case of your CPTS: it is for coordinators; "
			  "without it you see the cases of your threads"));
		return CLI_FAIL;
	}
	return list_cases(c->e, &o);
}
