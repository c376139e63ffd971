/* test_cpts.c — a case belongs to one CPTS, through the real dispatcher:
 * the CPTS a new case is given (the opener's, the first CPTS member's in
 * joining order, the one named, none: no_cpts); a coordinator of another
 * CPTS meets not_found everywhere and finds the case in no list, late-step
 * view or notification; the territory role sees without acting; late steps
 * with days late; rescheduling with its history; a coordinator step given to
 * a coordinator outside the thread; notifications named and pruned on close;
 * migration 007 giving existing cases their CPTS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "clock.h"
#include "server_fixture.h"
#include "store_internal.h"
#include "wire.h"

#define DAY (86400LL * 1000)

struct world {
	struct fx *f;
	struct store_org cpts_a, cpts_b, hospital;
	/* org A (the fixture's CPTS): doc, gp, nurse, coord, admin;
	 * org B (another CPTS): other, terr; hospital: hdoc, hnurse */
	struct actor doc, gp, nurse, coord, admin, other, terr, hdoc, hnurse;
	struct thread t;
	uint8_t case_id[16];
	char case_hex[33];
};

static struct store_org
add_org(struct fx *f, const char *name, const char *finess, const char *kind)
{
	struct store_org org = {0};
	randombytes_buf(org.id, sizeof org.id);
	snprintf(org.name, sizeof org.name, "%s", name);
	snprintf(org.finess, sizeof org.finess, "%s", finess);
	snprintf(org.kind, sizeof org.kind, "%s", kind);
	org.created_at = lsn_clock_now_ms();
	assert_int_equal(store_org_create(f->store, &org), LSN_OK);
	return org;
}

/* login_as in organisation org (the fixture invites into f->org), then
 * the user's own name (the fixture names everyone alike). */
static void
login_in(struct world *w, const struct store_org *org, struct actor *who, const char *rpps,
	 const char *profession, unsigned roles, const char *name)
{
	struct store_org keep = w->f->org;
	w->f->org = *org;
	login_as(w->f, who, rpps, profession, roles);
	w->f->org = keep;
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(w->f->store->db, "UPDATE users SET name = ? WHERE id = ?",
					    -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, who->k.user, 16, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static int
world_setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	setup((void **)&w->f);
	w->cpts_a = w->f->org;   /* kind cpts */
	w->cpts_b = add_org(w->f, "CPTS Voisine", "450000013", "cpts");
	w->hospital = add_org(w->f, "CHU", "370000481", "hospital");
	unsigned member = LSN_ROLE_MEMBER, coord = LSN_ROLE_MEMBER | LSN_ROLE_COORDINATOR;
	login_in(w, &w->cpts_a, &w->doc, "10101010105", "hospital_doctor", member | LSN_ROLE_DISCHARGE,
		 "Dr Anne Hôpital");
	login_in(w, &w->cpts_a, &w->gp, "10000000009", "gp", member, "Dr Paul Ville");
	login_in(w, &w->cpts_a, &w->nurse, "10998877665", "nurse", member, "Julie Soin");
	login_in(w, &w->cpts_a, &w->coord, NULL, "coordinator", coord, "Léa Coordination");
	login_in(w, &w->cpts_a, &w->admin, NULL, "secretary", member | LSN_ROLE_ADMIN, "Adam Admin");
	login_in(w, &w->cpts_b, &w->other, NULL, "coordinator", coord, "Otto Voisin");
	login_in(w, &w->cpts_b, &w->terr, NULL, "coordinator", coord | LSN_ROLE_TERRITORY,
		 "Tess Territoire");
	login_in(w, &w->hospital, &w->hdoc, "10000000017", "hospital_doctor", member, "Dr Henri CHU");
	login_in(w, &w->hospital, &w->hnurse, "10000000025", "nurse", member, "Hugo Infirmier");
	*state = w;
	return 0;
}

static int
world_teardown(void **state)
{
	struct world *w = *state;
	void *f = w->f;
	lsn_clock_advance_ms(-lsn_clock_offset_ms());
	teardown(&f);
	free(w);
	return 0;
}

/* UTC day text of now + days. */
static void
day_text(int days, char out[11])
{
	time_t t = (time_t)(lsn_clock_now_ms() / 1000 + days * 86400LL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static int64_t
day_start(int days)
{
	int64_t now = lsn_clock_now_ms();
	return now - now % DAY + days * DAY;
}

static json_t *
open_req(const struct thread *t, const char *pathway, const char *j0)
{
	return idem(json_pack("{s:o, s:s, s:s}", "channel", wire_id(t->channel), "pathway", pathway,
			      "j0", j0));
}

/* The doctor's case thread with the GP and the nurse, and its case. */
static json_t *
open_team_case(struct world *w, const char *pathway, int j0_days)
{
	char j0[11];
	day_text(j0_days, j0);
	thread_create(w->f, &w->t, &w->doc, LSN_KIND_CASE);
	thread_add(w->f, &w->t, &w->doc, &w->gp);
	thread_add(w->f, &w->t, &w->doc, &w->nurse);
	json_t *r = as(w->f, &w->doc, "case_open", open_req(&w->t, pathway, j0), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	const char *hex = json_string_value(json_object_get(json_object_get(r, "case"), "case"));
	assert_non_null(hex);
	snprintf(w->case_hex, sizeof w->case_hex, "%s", hex);
	assert_true(lsn_id_from_hex(hex, w->case_id));
	return r;
}

static int64_t
step_of(json_t *reply, const char *code)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(reply, "steps"), i, s)
		if (strcmp(json_string_value(json_object_get(s, "step")), code) == 0)
			return json_integer_value(json_object_get(s, "id"));
	fail_msg("no step %s", code);
	return 0;
}

static json_t *
step_in(json_t *reply, int64_t id)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(reply, "steps"), i, s)
		if (json_integer_value(json_object_get(s, "id")) == id)
			return s;
	fail_msg("no step %lld", (long long)id);
	return NULL;
}

static const char *
cpts_of(json_t *reply)
{
	return json_string_value(json_object_get(json_object_get(reply, "case"), "cpts"));
}

/* How many entries of list reply[key] are about our case. */
static size_t
about_case(struct world *w, json_t *reply, const char *key)
{
	size_t i, n = 0;
	json_t *x;
	json_array_foreach(json_object_get(reply, key), i, x)
		n += json_is_string(json_object_get(x, "case")) &&
		     strcmp(json_string_value(json_object_get(x, "case")), w->case_hex) == 0;
	json_decref(reply);
	return n;
}

static json_t *
get_case(struct world *w, struct actor *who)
{
	return as(w->f, who, "case_get", json_pack("{s:s}", "case", w->case_hex), NULL);
}

/* ---- which CPTS ------------------------------------------------------------------ */

static void
test_case_cpts(void **state)
{
	struct world *w = *state;
	char c[32], today[11], hex[33];
	day_text(0, today);
	/* opened by a member of a CPTS: hers */
	json_t *r = open_team_case(w, "hospital_discharge", 0);
	lsn_id_to_hex(w->cpts_a.id, hex);
	assert_string_equal(cpts_of(r), hex);
	json_decref(r);

	/* a hospital thread without anyone of a CPTS: refused, saying what to do */
	struct thread h;
	thread_create(w->f, &h, &w->hdoc, LSN_KIND_CASE);
	thread_add(w->f, &h, &w->hdoc, &w->hnurse);
	r = as(w->f, &w->hdoc, "case_open", open_req(&h, "hospital_discharge", today), NULL);
	assert_string_equal(err_code(r), "no_cpts");
	const char *msg = json_string_value(json_object_get(json_object_get(r, "error"), "message"));
	assert_non_null(msg);
	assert_non_null(strstr(msg, "GP"));
	assert_non_null(strstr(msg, "--cpts"));
	json_decref(r);
	/* a hospital organisation is not a CPTS; neither is an unknown id */
	json_t *body = open_req(&h, "hospital_discharge", today);
	json_object_set_new(body, "cpts", wire_id(w->hospital.id));
	assert_string_equal(code_of(as(w->f, &w->hdoc, "case_open", body, NULL), c, sizeof c),
			    "bad_request");
	uint8_t unknown[16];
	randombytes_buf(unknown, sizeof unknown);
	body = open_req(&h, "hospital_discharge", today);
	json_object_set_new(body, "cpts", wire_id(unknown));
	assert_string_equal(code_of(as(w->f, &w->hdoc, "case_open", body, NULL), c, sizeof c),
			    "bad_request");
	/* members of two CPTS join: B's coordinator first, then A's GP — B, the first */
	thread_add(w->f, &h, &w->hdoc, &w->other);
	thread_add(w->f, &h, &w->hdoc, &w->gp);
	r = as(w->f, &w->hdoc, "case_open", open_req(&h, "hospital_discharge", today), NULL);
	lsn_id_to_hex(w->cpts_b.id, hex);
	assert_string_equal(cpts_of(r), hex);
	json_decref(r);

	/* named: the hospital opens a case for CPTS A with nobody of A in the thread */
	struct thread h2;
	thread_create(w->f, &h2, &w->hdoc, LSN_KIND_CASE);
	body = open_req(&h2, "hospital_discharge", today);
	json_object_set_new(body, "cpts", wire_id(w->cpts_a.id));
	r = as(w->f, &w->hdoc, "case_open", body, NULL);
	lsn_id_to_hex(w->cpts_a.id, hex);
	assert_string_equal(cpts_of(r), hex);
	json_decref(r);
}

/* ---- the other CPTS's coordinator, the territory role ------------------------------ */

static void
test_other_cpts_sees_nothing(void **state)
{
	struct world *w = *state;
	char c[32], later[11];
	day_text(3, later);
	/* J0 three days ago: the J0 and J2 steps are late */
	json_t *r = open_team_case(w, "hospital_discharge", -3);
	int64_t letter = step_of(r, "discharge_letter");
	int64_t call = step_of(r, "coordinator_call");
	json_decref(r);

	/* every case and step op: not_found, as for an outsider */
	assert_string_equal(code_of(get_case(w, &w->other), c, sizeof c), "not_found");
	const char *step_ops[] = {"step_complete", "step_reopen"};
	for (size_t i = 0; i < 2; i++)
		assert_string_equal(code_of(as(w->f, &w->other, step_ops[i],
			idem(json_pack("{s:I}", "step", (json_int_t)letter)), NULL), c, sizeof c),
			"not_found");
	assert_string_equal(code_of(as(w->f, &w->other, "step_skip", idem(json_pack("{s:I, s:s}",
		"step", (json_int_t)letter, "reason", "other")), NULL), c, sizeof c), "not_found");
	assert_string_equal(code_of(as(w->f, &w->other, "step_assign", idem(json_pack("{s:I, s:o}",
		"step", (json_int_t)call, "user", wire_id(w->other.k.user))), NULL), c, sizeof c),
		"not_found");
	assert_string_equal(code_of(as(w->f, &w->other, "step_reschedule", idem(json_pack(
		"{s:I, s:s, s:s}", "step", (json_int_t)letter, "due", later, "reason", "other")), NULL),
		c, sizeof c), "not_found");
	assert_string_equal(code_of(as(w->f, &w->other, "case_close", idem(json_pack("{s:s, s:s}",
		"case", w->case_hex, "reason", "deceased")), NULL), c, sizeof c), "not_found");
	/* and no list shows it */
	assert_int_equal(about_case(w, as(w->f, &w->other, "cases", json_pack("{s:b}", "all", 1),
					  NULL), "cases"), 0);
	assert_int_equal(about_case(w, as(w->f, &w->other, "cases", json_pack("{s:b}", "overdue", 1),
					  NULL), "cases"), 0);
	assert_int_equal(about_case(w, as(w->f, &w->other, "late_steps", json_object(), NULL),
				    "steps"), 0);

	/* the case's coordinator: --overdue without --all; 6 late steps (3 J0, 3 J2) */
	assert_int_equal(about_case(w, as(w->f, &w->coord, "cases", json_pack("{s:b}", "overdue", 1),
					  NULL), "cases"), 1);
	r = as(w->f, &w->coord, "late_steps", json_object(), NULL);
	json_t *late = json_object_get(r, "steps");
	assert_int_equal(json_array_size(late), 6);
	const char *codes[] = {"discharge_notice", "discharge_letter", "discharge_reconciliation",
			       "dispensing_reconciliation", "nurse_first_visit", "coordinator_call"};
	const int days[] = {3, 3, 3, 1, 1, 1};
	for (size_t i = 0; i < 6; i++) {
		json_t *s = json_array_get(late, i);
		assert_string_equal(json_string_value(json_object_get(s, "code")), codes[i]);
		assert_int_equal(json_integer_value(json_object_get(s, "days_late")), days[i]);
	}
	/* the nurse holds her first visit: named */
	assert_string_equal(json_string_value(json_object_get(json_array_get(late, 4), "assignee_name")),
			    "Julie Soin");
	json_decref(r);
	/* a member sees the late steps of her own cases; late_steps "all" is territory's */
	assert_int_equal(about_case(w, as(w->f, &w->nurse, "late_steps", json_object(), NULL),
				    "steps"), 6);
	assert_string_equal(code_of(as(w->f, &w->coord, "late_steps", json_pack("{s:b}", "all", 1),
				       NULL), c, sizeof c), "coordinator_only");

	/* territory: sees, does not act on another CPTS's case */
	assert_true(reply_ok(get_case(w, &w->terr)));
	assert_int_equal(about_case(w, as(w->f, &w->terr, "cases", json_pack("{s:b}", "all", 1),
					  NULL), "cases"), 1);
	assert_int_equal(about_case(w, as(w->f, &w->terr, "late_steps", json_pack("{s:b}", "all", 1),
					  NULL), "steps"), 6);
	assert_string_equal(code_of(as(w->f, &w->terr, "step_complete",
		idem(json_pack("{s:I}", "step", (json_int_t)letter)), NULL), c, sizeof c), "not_assignee");
	assert_string_equal(code_of(as(w->f, &w->terr, "case_close", idem(json_pack("{s:s, s:s}",
		"case", w->case_hex, "reason", "moved")), NULL), c, sizeof c), "forbidden");

	/* the timer: overdue notices for the case's coordinator only */
	r = as(w->f, &w->admin, "clock_advance", json_pack("{s:i}", "ms", 1), NULL);
	assert_true(json_integer_value(json_object_get(r, "notified")) > 0);
	json_decref(r);
	assert_true(about_case(w, as(w->f, &w->coord, "notifications", json_object(), NULL),
			       "notifications") > 0);
	assert_int_equal(about_case(w, as(w->f, &w->other, "notifications", json_object(), NULL),
				    "notifications"), 0);
	assert_int_equal(about_case(w, as(w->f, &w->terr, "notifications", json_object(), NULL),
				    "notifications"), 0);
}

/* ---- reschedule, a coordinator step outside the thread ------------------------------ */

static void
test_reschedule(void **state)
{
	struct world *w = *state;
	char c[32], in10[11], yesterday[11];
	day_text(10, in10);
	day_text(-1, yesterday);
	json_t *r = open_team_case(w, "heart_failure", 0);
	int64_t gp = step_of(r, "gp_consultation");
	int64_t old_due = json_integer_value(json_object_get(step_in(r, gp), "due_at"));
	assert_true(old_due == day_start(7) + DAY - 1);   /* J7, the last ms of the day */
	json_decref(r);

	/* refusals: a reason outside the list, a day in the past, not the assignee */
	json_t *body = idem(json_pack("{s:I, s:s, s:s}", "step", (json_int_t)gp, "due", in10,
				      "reason", "rescheduled"));
	assert_string_equal(code_of(as(w->f, &w->gp, "step_reschedule", body, NULL), c, sizeof c),
			    "bad_request");
	body = idem(json_pack("{s:I, s:s, s:s}", "step", (json_int_t)gp, "due", yesterday, "reason",
			      "patient_request"));
	assert_string_equal(code_of(as(w->f, &w->gp, "step_reschedule", body, NULL), c, sizeof c),
			    "bad_request");
	body = idem(json_pack("{s:I, s:s, s:s}", "step", (json_int_t)gp, "due", in10, "reason",
			      "patient_request"));
	assert_string_equal(code_of(as(w->f, &w->nurse, "step_reschedule", body, NULL), c, sizeof c),
			    "not_assignee");

	/* the GP moves her consultation to J10 */
	body = idem(json_pack("{s:I, s:s, s:s}", "step", (json_int_t)gp, "due", in10, "reason",
			      "patient_request"));
	r = as(w->f, &w->gp, "step_reschedule", body, NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	int64_t new_due = day_start(10) + DAY - 1;
	assert_true(json_integer_value(json_object_get(json_object_get(r, "step"), "due_at")) == new_due);
	json_decref(r);
	/* a flag change re-dates the template's steps, not the one moved by hand */
	assert_true(reply_ok(as(w->f, &w->gp, "case_flag", idem(json_pack("{s:s, s:[s]}", "case",
				w->case_hex, "flags", "nyha_3_4")), NULL)));
	r = get_case(w, &w->coord);
	assert_true(json_integer_value(json_object_get(step_in(r, gp), "due_at")) == new_due);
	json_t *events = json_object_get(r, "events");
	assert_int_equal(json_array_size(events), 1);
	json_t *ev = json_array_get(events, 0);
	assert_int_equal(json_integer_value(json_object_get(ev, "step")), gp);
	assert_string_equal(json_string_value(json_object_get(ev, "action")), "rescheduled");
	assert_string_equal(json_string_value(json_object_get(ev, "reason")), "patient_request");
	assert_true(json_integer_value(json_object_get(ev, "old_due")) == old_due);
	assert_true(json_integer_value(json_object_get(ev, "new_due")) == new_due);
	assert_string_equal(json_string_value(json_object_get(ev, "by_name")), "Dr Paul Ville");
	json_decref(r);
}

static void
test_coordinator_step_outside_thread(void **state)
{
	struct world *w = *state;
	char c[32];
	json_t *r = open_team_case(w, "hospital_discharge", 0);
	int64_t call = step_of(r, "coordinator_call"), gp = step_of(r, "gp_consultation");
	json_decref(r);
	/* a coordinator step goes to the case's coordinator, who is not in the thread */
	r = as(w->f, &w->coord, "step_assign", idem(json_pack("{s:I, s:o}", "step", (json_int_t)call,
						       "user", wire_id(w->coord.k.user))), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	char me[33];
	lsn_id_to_hex(w->coord.k.user, me);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "step"), "assignee")), me);
	json_decref(r);
	/* not another CPTS's coordinator, not a GP step */
	assert_string_equal(code_of(as(w->f, &w->coord, "step_assign", idem(json_pack("{s:I, s:o}",
		"step", (json_int_t)call, "user", wire_id(w->other.k.user))), NULL), c, sizeof c),
		"bad_request");
	assert_string_equal(code_of(as(w->f, &w->coord, "step_assign", idem(json_pack("{s:I, s:o}",
		"step", (json_int_t)gp, "user", wire_id(w->coord.k.user))), NULL), c, sizeof c),
		"bad_request");
	/* her --mine lists it; she still cannot read the thread */
	assert_int_equal(about_case(w, as(w->f, &w->coord, "cases", json_pack("{s:b}", "mine", 1),
					  NULL), "cases"), 1);
	assert_string_equal(code_of(as(w->f, &w->coord, "messages", json_pack("{s:o}", "channel",
				wire_id(w->t.channel)), NULL), c, sizeof c), "not_found");
	assert_true(reply_ok(as(w->f, &w->coord, "step_complete", idem(json_pack("{s:I}", "step",
				(json_int_t)call)), NULL)));
}

/* ---- notifications: who, what; gone when the case closes ---------------------------- */

static void
test_notifications_named_and_pruned(void **state)
{
	struct world *w = *state;
	json_t *r = open_team_case(w, "hospital_discharge", -3);
	json_decref(r);
	r = as(w->f, &w->admin, "clock_advance", json_pack("{s:i}", "ms", 1), NULL);
	json_decref(r);
	/* the nurse's first visit (J2) is overdue: she hears it, named, with its label */
	r = as(w->f, &w->nurse, "notifications", json_object(), NULL);
	json_t *n = NULL, *x;
	size_t i;
	json_array_foreach(json_object_get(r, "notifications"), i, x)
		if (strcmp(json_string_value(json_object_get(x, "kind")), "step_overdue") == 0)
			n = x;
	assert_non_null(n);
	assert_string_equal(json_string_value(json_object_get(n, "step_code")), "nurse_first_visit");
	assert_string_equal(json_string_value(json_object_get(n, "step_label")),
			    "Premier passage infirmier");
	assert_string_equal(json_string_value(json_object_get(n, "actor_name")), "Julie Soin");
	assert_non_null(json_string_value(json_object_get(n, "patient_ref")));
	json_decref(r);
	assert_true(about_case(w, as(w->f, &w->coord, "notifications", json_object(), NULL),
			       "notifications") > 0);
	/* the case closes: its notifications are gone for everyone */
	assert_true(reply_ok(as(w->f, &w->doc, "case_close", idem(json_pack("{s:s, s:s}", "case",
				w->case_hex, "reason", "readmitted")), NULL)));
	assert_int_equal(about_case(w, as(w->f, &w->coord, "notifications", json_object(), NULL),
				    "notifications"), 0);
	assert_int_equal(about_case(w, as(w->f, &w->nurse, "notifications", json_object(), NULL),
				    "notifications"), 0);
	/* and the timer pushes nothing more about it */
	r = as(w->f, &w->admin, "clock_advance", json_pack("{s:I}", "ms", (json_int_t)(40 * DAY)),
	       NULL);
	json_decref(r);
	assert_int_equal(about_case(w, as(w->f, &w->coord, "notifications", json_object(), NULL),
				    "notifications"), 0);
	assert_int_equal(about_case(w, as(w->f, &w->coord, "late_steps", json_object(), NULL),
				    "steps"), 0);
}

/* ---- migration 007: existing cases get their CPTS ----------------------------------- */

static void
test_migration_backfill(void **state)
{
	(void)state;
	char dir[] = "/tmp/lsn-cpts-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/liaison.db", dir);
	struct lsn_status st = {0};
	struct store *s = NULL;
	struct store_options opt = {.sync = STORE_SYNC_FULL, .create = true, .migrate_to = 6};
	assert_int_equal(store_open(&s, path, &opt, &st), LSN_OK);
	/* as a liaisond of schema 6 left them: orgs A, B (CPTS) and H (hospital);
	 * case 1 opened by A's GP; case 2 by the hospital, B's nurse joined
	 * before A's GP; case 3: B's nurse left, A's GP stays; case 4: hospital only */
	assert_int_equal(sqlite3_exec(s->db,
		"INSERT INTO orgs VALUES (x'aa000000000000000000000000000000','CPTS A','450000005','cpts',1),"
		" (x'bb000000000000000000000000000000','CPTS B','450000013','cpts',1),"
		" (x'cc000000000000000000000000000000','CHU','370000481','hospital',1);"
		"INSERT INTO users(id, rpps, name, profession, org_id, roles, ik, created_at) VALUES"
		" (x'a1000000000000000000000000000000',NULL,'GP A','gp',x'aa000000000000000000000000000000',1,zeroblob(32),1),"
		" (x'b1000000000000000000000000000000',NULL,'Nurse B','nurse',x'bb000000000000000000000000000000',1,zeroblob(32),1),"
		" (x'c1000000000000000000000000000000',NULL,'Doc H','hospital_doctor',x'cc000000000000000000000000000000',3,zeroblob(32),1),"
		" (x'c2000000000000000000000000000000',NULL,'Nurse H','nurse',x'cc000000000000000000000000000000',1,zeroblob(32),1);"
		"INSERT INTO channels(id, kind, history, creator, created_at, log_seq, log_hash, last_seq) VALUES"
		" (x'01000000000000000000000000000000','case','shared',x'a1000000000000000000000000000000',1,0,zeroblob(32),0),"
		" (x'02000000000000000000000000000000','case','shared',x'c1000000000000000000000000000000',1,0,zeroblob(32),0),"
		" (x'03000000000000000000000000000000','case','shared',x'c1000000000000000000000000000000',1,0,zeroblob(32),3),"
		" (x'04000000000000000000000000000000','case','shared',x'c1000000000000000000000000000000',1,0,zeroblob(32),0);"
		"INSERT INTO channel_members(channel_id, user_id, role, since_log_seq, left_msg_seq) VALUES"
		" (x'01000000000000000000000000000000',x'a1000000000000000000000000000000','admin',0,NULL),"
		" (x'02000000000000000000000000000000',x'c1000000000000000000000000000000','admin',0,NULL),"
		" (x'02000000000000000000000000000000',x'a1000000000000000000000000000000','member',2,NULL),"
		" (x'02000000000000000000000000000000',x'b1000000000000000000000000000000','member',1,NULL),"
		" (x'03000000000000000000000000000000',x'c1000000000000000000000000000000','admin',0,NULL),"
		" (x'03000000000000000000000000000000',x'b1000000000000000000000000000000','member',1,3),"
		" (x'03000000000000000000000000000000',x'a1000000000000000000000000000000','member',2,NULL),"
		" (x'04000000000000000000000000000000',x'c1000000000000000000000000000000','admin',0,NULL),"
		" (x'04000000000000000000000000000000',x'c2000000000000000000000000000000','member',1,NULL);"
		"INSERT INTO cases(id, patient_ref, pathway, template_version, channel_id, j0, flags, status,"
		" opened_by, opened_at) VALUES"
		" (x'11000000000000000000000000000000','P-1','hospital_discharge',1,x'01000000000000000000000000000000',0,'','open',x'a1000000000000000000000000000000',1),"
		" (x'22000000000000000000000000000000','P-2','hospital_discharge',1,x'02000000000000000000000000000000',0,'','open',x'c1000000000000000000000000000000',1),"
		" (x'33000000000000000000000000000000','P-3','hospital_discharge',1,x'03000000000000000000000000000000',0,'','open',x'c1000000000000000000000000000000',1),"
		" (x'44000000000000000000000000000000','P-4','hospital_discharge',1,x'04000000000000000000000000000000',0,'','closed',x'c1000000000000000000000000000000',1);"
		/* B's coordinator, notified of every case; case 1's GP (a member) */
		"INSERT INTO users(id, rpps, name, profession, org_id, roles, ik, created_at) VALUES"
		" (x'b2000000000000000000000000000000',NULL,'Coord B','coordinator',x'bb000000000000000000000000000000',5,zeroblob(32),1);"
		"INSERT INTO notifications(user_id, kind, case_id, step_id, created_at) VALUES"
		" (x'b2000000000000000000000000000000','step_overdue',x'11000000000000000000000000000000',NULL,5),"
		" (x'b2000000000000000000000000000000','step_overdue',x'22000000000000000000000000000000',NULL,6),"
		" (x'a1000000000000000000000000000000','alert',x'11000000000000000000000000000000',NULL,7),"
		" (x'a1000000000000000000000000000000','alert',x'44000000000000000000000000000000',NULL,8);",
		NULL, NULL, NULL), SQLITE_OK);
	store_close(s);
	opt.migrate_to = 0;
	assert_int_equal(store_open(&s, path, &opt, &st), LSN_OK);
	const uint8_t want[4] = {0xaa, 0xbb, 0xaa, 0};
	for (int i = 0; i < 4; i++) {
		uint8_t id[16] = {(uint8_t)(0x11 * (i + 1))};
		struct store_case c;
		assert_int_equal(store_case_get(s, id, &c), LSN_OK);
		if (want[i] == 0) {
			assert_false(c.has_cpts);
			continue;
		}
		uint8_t org[16] = {want[i]};
		assert_true(c.has_cpts);
		assert_memory_equal(c.cpts, org, 16);
	}
	/* B's coordinator keeps the notice of B's case 2, loses that of A's case 1;
	 * the GP keeps case 1's, loses the closed case 4's */
	sqlite3_stmt *q = NULL;
	assert_int_equal(sqlite3_prepare_v2(s->db, "SELECT group_concat(created_at) FROM (SELECT "
					    "created_at FROM notifications WHERE seen_at IS NULL "
					    "ORDER BY created_at)", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "6,7");
	sqlite3_finalize(q);
	store_close(s);
	char p2[80];
	const char *suffixes[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(p2, sizeof p2, "%s%s", path, suffixes[i]);
		unlink(p2);
	}
	rmdir(dir);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_case_cpts, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_other_cpts_sees_nothing, world_setup,
						world_teardown),
		cmocka_unit_test_setup_teardown(test_reschedule, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_coordinator_step_outside_thread, world_setup,
						world_teardown),
		cmocka_unit_test_setup_teardown(test_notifications_named_and_pruned, world_setup,
						world_teardown),
		cmocka_unit_test(test_migration_backfill),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
