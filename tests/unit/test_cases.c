/* test_cases.c — care pathway cases through the real dispatcher: opening a
 * case instantiates and assigns steps, permissions (assignee, coordinator,
 * non-member), every illegal transition with its own error, the discharge
 * notice with acknowledgements and escalation after the timeout, alerts,
 * and the indicator report on a fixture whose numbers are written by hand:
 * a 2026-S2 semester made in November (steps not yet due apart, local days
 * of Europe/Paris, every indicator per pathway, quality-circle sessions,
 * the CPTS's targets met or not). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "clock.h"
#include "msg_header.h"
#include "server_fixture.h"
#include "store_internal.h"
#include "wire.h"

#define DAY (86400LL * 1000)
#define HOUR (3600LL * 1000)

struct team {
	struct fx *f;
	struct actor doc, gp, pharma, nurse, cardio, coord, outsider, admin;
	struct thread t;
	char today[11];
	int64_t j0;
	uint8_t case_id[16];
};

/* Paris time (main sets TZ=Europe/Paris), through the C library alone. */
static int64_t
paris(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
			.tm_min = mi, .tm_isdst = -1};
	return (int64_t)mktime(&tm) * 1000;
}

/* The last ms of the local day `day` days after the local midnight j0. */
static int64_t
local_day_end(int64_t j0, int day)
{
	time_t t = (time_t)(j0 / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	return paris(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday + day + 1, 0, 0) - 1;
}

static void
today(struct team *w)
{
	time_t now = (time_t)(lsn_clock_now_ms() / 1000);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(w->today, sizeof w->today, "%Y-%m-%d", &tm);
	w->j0 = paris(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, 0, 0);
}

static int
team_setup(void **state)
{
	struct team *w = calloc(1, sizeof *w);
	setup((void **)&w->f);
	today(w);
	login_as(w->f, &w->doc, "10101010105", "hospital_doctor", LSN_ROLE_MEMBER | LSN_ROLE_DISCHARGE);
	login_as(w->f, &w->gp, "10000000009", "gp", LSN_ROLE_MEMBER);
	login_as(w->f, &w->pharma, "10123456781", "pharmacist", LSN_ROLE_MEMBER);
	login_as(w->f, &w->nurse, "10998877665", "nurse", LSN_ROLE_MEMBER);
	login_as(w->f, &w->cardio, "10000000017", "cardiologist", LSN_ROLE_MEMBER);
	login_as(w->f, &w->coord, NULL, "coordinator", LSN_ROLE_MEMBER | LSN_ROLE_COORDINATOR);
	login_as(w->f, &w->outsider, "10000000025", "gp", LSN_ROLE_MEMBER);
	login_as(w->f, &w->admin, NULL, "secretary", LSN_ROLE_MEMBER | LSN_ROLE_ADMIN);
	*state = w;
	return 0;
}

static int
team_teardown(void **state)
{
	struct team *w = *state;
	void *f = w->f;
	lsn_clock_advance_ms(-lsn_clock_offset_ms());
	teardown(&f);
	free(w);
	return 0;
}

/* A case channel with the whole team, and its case opened by the doctor. */
static json_t *
open_case(struct team *w, const char *pathway, const char *j0, const char *flag)
{
	thread_create(w->f, &w->t, &w->doc, LSN_KIND_CASE);
	struct actor *members[] = {&w->gp, &w->pharma, &w->nurse, &w->cardio};
	for (size_t i = 0; i < 4; i++)
		thread_add(w->f, &w->t, &w->doc, members[i]);
	json_t *body = json_pack("{s:o, s:s, s:s}", "channel", wire_id(w->t.channel), "pathway",
				 pathway, "j0", j0);
	if (flag)
		json_object_set_new(body, "flags", json_pack("[s]", flag));
	json_t *r = as(w->f, &w->doc, "case_open", idem(body), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	lsn_id_from_hex(json_string_value(json_object_get(json_object_get(r, "case"), "case")), w->case_id);
	return r;
}

/* Make version v of pathway code the one new cases get (as an older
 * liaisond did before migration 012 published version 2). */
static void
use_version(struct team *w, const char *code, int v)
{
	char sql[200];
	snprintf(sql, sizeof sql, "UPDATE pathway_templates SET current = (version = %d) "
		 "WHERE code = '%s'", v, code);
	assert_int_equal(sqlite3_exec(w->f->store->db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* The id of occurrence `occ` of step `code` in a case reply. */
static int64_t
step_id(json_t *reply, const char *code, int occ)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(reply, "steps"), i, s)
		if (strcmp(json_string_value(json_object_get(s, "step")), code) == 0 &&
		    json_integer_value(json_object_get(s, "occurrence")) == occ)
			return json_integer_value(json_object_get(s, "id"));
	fail_msg("no step %s #%d", code, occ);
	return 0;
}

static const char *
step_assignee(json_t *reply, const char *code)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(reply, "steps"), i, s)
		if (strcmp(json_string_value(json_object_get(s, "step")), code) == 0)
			return json_string_value(json_object_get(s, "assignee"));
	return NULL;
}

static void
hex_of(const uint8_t id[16], char out[33])
{
	lsn_id_to_hex(id, out);
}

static json_t *
step_req(int64_t id)
{
	return idem(json_pack("{s:I}", "step", (json_int_t)id));
}

static int64_t
post_message(struct team *w, struct actor *who)
{
	uint8_t env[LSN_MSG_MIN_BYTES + 8];
	struct lsn_msg_header h = {0};
	memcpy(h.channel, w->t.channel, 16);
	memcpy(h.sender_device, who->k.device, 16);
	lsn_msg_header_write(&h, env);
	randombytes_buf(env + LSN_MSG_HEADER_BYTES, sizeof env - LSN_MSG_HEADER_BYTES);
	json_t *r = as(w->f, who, "send", idem(json_pack("{s:o, s:o}", "channel", wire_id(w->t.channel),
							 "envelope", wire_b64(env, sizeof env))), NULL);
	int64_t seq = json_integer_value(json_object_get(r, "seq"));
	json_decref(r);
	assert_true(seq > 0);
	return seq;
}

static void
test_open_assigns_steps(void **state)
{
	struct team *w = *state;
	json_t *r = open_case(w, "heart_failure", w->today, NULL);
	json_t *c = json_object_get(r, "case");
	assert_string_equal(json_string_value(json_object_get(c, "pathway")), "heart_failure");
	assert_int_equal(json_integer_value(json_object_get(c, "j0")), w->j0);
	assert_int_equal(strncmp(json_string_value(json_object_get(c, "patient_ref")), "P-", 2), 0);
	/* version 2: 8 single steps + 8 weekly nurse follow-ups J7…J56 */
	assert_int_equal(json_integer_value(json_object_get(c, "template_version")), 2);
	assert_int_equal(json_array_size(json_object_get(r, "steps")), 16);
	char gp[33], nurse[33], doc[33], cardio[33];
	hex_of(w->gp.k.user, gp);
	hex_of(w->nurse.k.user, nurse);
	hex_of(w->doc.k.user, doc);
	hex_of(w->cardio.k.user, cardio);
	assert_string_equal(step_assignee(r, "gp_consultation"), gp);
	assert_string_equal(step_assignee(r, "nurse_followup"), nurse);
	assert_string_equal(step_assignee(r, "discharge_letter"), doc);
	assert_string_equal(step_assignee(r, "cardiology_consultation"), cardio);
	assert_null(step_assignee(r, "discharge_reconciliation"));   /* no hospital pharmacist yet */
	json_decref(r);
	/* the J60 pathway review moves to J180 when the case is NYHA III-IV */
	char c2[32];
	assert_string_equal(code_of(as(w->f, &w->doc, "case_flag", idem(json_pack("{s:o, s:[s]}", "case",
				wire_id(w->case_id), "flags", "nyha_4")), NULL), c2, sizeof c2), "bad_request");
	r = as(w->f, &w->doc, "case_flag", idem(json_pack("{s:o, s:[s]}", "case", wire_id(w->case_id),
							  "flags", "nyha_3_4")), NULL);
	/* 7 fortnightly sessions J70…J154: 15 nurse sessions in all */
	assert_int_equal(json_array_size(json_object_get(r, "steps")), 16 + 7);
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(r, "steps"), i, s)
		if (strcmp(json_string_value(json_object_get(s, "step")), "pathway_review") == 0)
			assert_int_equal(json_integer_value(json_object_get(s, "due_at")),
					 local_day_end(w->j0, 180));
	assert_int_equal(step_id(r, "nurse_followup", 15) > 0, 1);
	json_decref(r);

	/* a case opened on version 1 keeps it after version 2 is published:
	 * its flag still adds the 8 visits of version 1 (J70…J168) */
	use_version(w, "heart_failure", 1);
	r = open_case(w, "heart_failure", w->today, NULL);
	use_version(w, "heart_failure", 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "case"),
							    "template_version")), 1);
	assert_int_equal(json_array_size(json_object_get(r, "steps")), 17);
	assert_true(step_id(r, "nurse_first_visit", 1) > 0);
	json_decref(r);
	/* version 2's flag is unknown to version 1 */
	assert_string_equal(code_of(as(w->f, &w->doc, "case_flag", idem(json_pack("{s:o, s:[s]}",
				"case", wire_id(w->case_id), "flags", "early_cardiology")), NULL), c2,
				sizeof c2), "bad_request");
	r = as(w->f, &w->doc, "case_flag", idem(json_pack("{s:o, s:[s]}", "case", wire_id(w->case_id),
							  "flags", "nyha_3_4")), NULL);
	assert_int_equal(json_array_size(json_object_get(r, "steps")), 17 + 8);
	assert_true(step_id(r, "nurse_followup", 16) > 0);
	json_decref(r);
}

static void
test_permissions(void **state)
{
	struct team *w = *state;
	char c[32];
	json_t *r = open_case(w, "heart_failure", w->today, NULL);
	int64_t gp_step = step_id(r, "gp_consultation", 1);
	json_decref(r);
	/* a pharmacist cannot complete the GP consultation */
	assert_string_equal(code_of(as(w->f, &w->pharma, "step_complete", step_req(gp_step), NULL), c,
				    sizeof c), "not_assignee");
	/* a non-member cannot see the case or its steps */
	json_t *q = json_pack("{s:o}", "case", wire_id(w->case_id));
	assert_string_equal(code_of(as(w->f, &w->outsider, "case_get", q, NULL), c, sizeof c), "not_found");
	assert_string_equal(code_of(as(w->f, &w->outsider, "step_complete", step_req(gp_step), NULL), c,
				    sizeof c), "not_found");
	r = as(w->f, &w->outsider, "cases", json_object(), NULL);
	assert_int_equal(json_array_size(json_object_get(r, "cases")), 0);
	json_decref(r);
	/* a coordinator sees every case without being in the thread */
	r = as(w->f, &w->coord, "cases", json_pack("{s:b}", "all", 1), NULL);
	assert_int_equal(json_array_size(json_object_get(r, "cases")), 1);
	json_decref(r);
	assert_string_equal(code_of(as(w->f, &w->gp, "cases", json_pack("{s:b}", "all", 1), NULL), c,
				    sizeof c), "coordinator_only");
	/* only coordinators run the report */
	assert_string_equal(code_of(as(w->f, &w->gp, "report", json_pack("{s:s, s:s}", "from", w->today,
				"to", w->today), NULL), c, sizeof c), "coordinator_only");
	assert_true(reply_ok(as(w->f, &w->coord, "report", json_pack("{s:s, s:s}", "from", w->today,
								     "to", w->today), NULL)));
	/* --mine: the GP's open steps */
	r = as(w->f, &w->gp, "cases", json_pack("{s:b}", "mine", 1), NULL);
	assert_int_equal(json_array_size(json_object_get(r, "cases")), 1);
	json_decref(r);
	r = as(w->f, &w->outsider, "cases", json_pack("{s:b}", "mine", 1), NULL);
	assert_int_equal(json_array_size(json_object_get(r, "cases")), 0);
	json_decref(r);
}

static void
test_transitions(void **state)
{
	struct team *w = *state;
	char c[32];
	json_t *r = open_case(w, "heart_failure", w->today, NULL);
	int64_t gp_step = step_id(r, "gp_consultation", 1);
	int64_t visit = step_id(r, "nurse_followup", 1);
	int64_t review = step_id(r, "pharmacist_review", 1);
	json_decref(r);
	assert_true(reply_ok(as(w->f, &w->gp, "step_complete", step_req(gp_step), NULL)));
	assert_string_equal(code_of(as(w->f, &w->gp, "step_complete", step_req(gp_step), NULL), c, sizeof c),
			    "step_done");
	assert_string_equal(code_of(as(w->f, &w->gp, "step_skip", idem(json_pack("{s:I, s:s}", "step",
				(json_int_t)gp_step, "reason", "other")), NULL), c, sizeof c), "step_done");
	/* reopening needs a coordinator; reopening a pending step is its own error */
	assert_string_equal(code_of(as(w->f, &w->gp, "step_reopen", step_req(gp_step), NULL), c, sizeof c),
			    "coordinator_only");
	assert_true(reply_ok(as(w->f, &w->coord, "step_reopen", step_req(gp_step), NULL)));
	assert_string_equal(code_of(as(w->f, &w->coord, "step_reopen", step_req(gp_step), NULL), c,
				    sizeof c), "step_pending");
	/* skipping needs a reason from the fixed list: no free text on the server */
	assert_string_equal(code_of(as(w->f, &w->nurse, "step_skip", idem(json_pack("{s:I, s:s}", "step",
				(json_int_t)visit, "reason", "patient absent, wife says tired")), NULL),
				c, sizeof c), "bad_request");
	assert_string_equal(code_of(as(w->f, &w->nurse, "step_skip", step_req(visit), NULL), c, sizeof c),
			    "bad_request");
	assert_true(reply_ok(as(w->f, &w->nurse, "step_skip", idem(json_pack("{s:I, s:s}", "step",
				(json_int_t)visit, "reason", "patient_unreachable")), NULL)));
	assert_string_equal(code_of(as(w->f, &w->nurse, "step_complete", step_req(visit), NULL), c, sizeof c),
			    "step_skipped");
	/* a note must be a message of the thread */
	assert_string_equal(code_of(as(w->f, &w->gp, "step_complete", idem(json_pack("{s:I, s:i}", "step",
				(json_int_t)gp_step, "note_seq", 99)), NULL), c, sizeof c), "bad_request");
	/* reassignment: to a member only */
	assert_string_equal(code_of(as(w->f, &w->coord, "step_assign", idem(json_pack("{s:I, s:o}", "step",
				(json_int_t)review, "user", wire_id(w->outsider.k.user))), NULL), c, sizeof c),
			    "bad_request");
	assert_true(reply_ok(as(w->f, &w->coord, "step_assign", idem(json_pack("{s:I, s:o}", "step",
				(json_int_t)review, "user", wire_id(w->nurse.k.user))), NULL)));
	assert_true(reply_ok(as(w->f, &w->nurse, "step_complete", step_req(review), NULL)));
	/* closing: a valid reason, once; nothing changes afterwards */
	json_t *close = json_pack("{s:o, s:s}", "case", wire_id(w->case_id), "reason", "cured");
	assert_string_equal(code_of(as(w->f, &w->doc, "case_close", idem(close), NULL), c, sizeof c),
			    "bad_request");
	assert_string_equal(code_of(as(w->f, &w->gp, "case_close", idem(json_pack("{s:o, s:s}", "case",
				wire_id(w->case_id), "reason", "completed")), NULL), c, sizeof c), "forbidden");
	assert_true(reply_ok(as(w->f, &w->doc, "case_close", idem(json_pack("{s:o, s:s}", "case",
				wire_id(w->case_id), "reason", "readmitted")), NULL)));
	assert_string_equal(code_of(as(w->f, &w->doc, "case_close", idem(json_pack("{s:o, s:s}", "case",
				wire_id(w->case_id), "reason", "completed")), NULL), c, sizeof c),
			    "case_already_closed");
	assert_string_equal(code_of(as(w->f, &w->gp, "step_complete", step_req(gp_step), NULL), c, sizeof c),
			    "case_closed");
	assert_string_equal(code_of(as(w->f, &w->coord, "step_reopen", step_req(visit), NULL), c, sizeof c),
			    "case_closed");
}

static int64_t
notice_missing(struct team *w)
{
	json_t *r = as(w->f, &w->doc, "case_get", json_pack("{s:o}", "case", wire_id(w->case_id)), NULL);
	json_t *notice = json_object_get(r, "notice");
	int64_t missing = json_integer_value(json_object_get(notice, "missing"));
	json_decref(r);
	return missing;
}

static void
test_notice_ack_and_escalation(void **state)
{
	struct team *w = *state;
	char c[32];
	json_t *r = open_case(w, "hospital_discharge", w->today, NULL);
	int64_t notice_step = step_id(r, "discharge_notice", 1);
	json_decref(r);
	int64_t seq = post_message(w, &w->doc);
	assert_string_equal(code_of(as(w->f, &w->gp, "ack", idem(json_pack("{s:o}", "case",
				wire_id(w->case_id))), NULL), c, sizeof c), "not_found");   /* no notice yet */
	assert_true(reply_ok(as(w->f, &w->doc, "notice_post", idem(json_pack("{s:o, s:I}", "case",
				wire_id(w->case_id), "seq", (json_int_t)seq)), NULL)));
	assert_int_equal(notice_missing(w), 4);
	/* posting the notice completes the discharge_notice step (not the last ack) */
	r = as(w->f, &w->doc, "case_get", json_pack("{s:o}", "case", wire_id(w->case_id)), NULL);
	size_t k0;
	json_t *s0;
	json_array_foreach(json_object_get(r, "steps"), k0, s0)
		if (json_integer_value(json_object_get(s0, "id")) == notice_step)
			assert_string_equal(json_string_value(json_object_get(s0, "done_via")), "notice_posted");
	json_decref(r);
	struct effects fx;
	effects_init(&fx);
	r = as(w->f, &w->gp, "ack", idem(json_pack("{s:o}", "case", wire_id(w->case_id))), &fx);
	assert_int_equal(json_integer_value(json_object_get(r, "missing")), 3);
	json_decref(r);
	assert_non_null(fx.head);   /* the team is told who acknowledged */
	effects_free(&fx);
	r = as(w->f, &w->gp, "ack", idem(json_pack("{s:o}", "case", wire_id(w->case_id))), NULL);
	assert_false(json_is_true(json_object_get(r, "acknowledged")));   /* twice: no change */
	json_decref(r);

	/* 25 hours later the notice is still not acknowledged by everyone */
	r = as(w->f, &w->admin, "clock_advance", json_pack("{s:I}", "ms", (json_int_t)(25 * HOUR)), NULL);
	assert_true(json_integer_value(json_object_get(r, "notified")) > 0);
	json_decref(r);
	r = as(w->f, &w->coord, "notifications", json_object(), NULL);
	size_t i;
	json_t *n;
	bool escalated = false, overdue = false;
	json_array_foreach(json_object_get(r, "notifications"), i, n) {
		escalated |= strcmp(json_string_value(json_object_get(n, "kind")), "notice_escalated") == 0;
		overdue |= strcmp(json_string_value(json_object_get(n, "kind")), "step_overdue") == 0;
	}
	json_decref(r);
	assert_true(escalated);
	assert_true(overdue);      /* the J0 steps are overdue too */
	r = as(w->f, &w->doc, "case_get", json_pack("{s:o}", "case", wire_id(w->case_id)), NULL);
	assert_false(json_is_null(json_object_get(json_object_get(r, "notice"), "escalated_at")));
	json_decref(r);
	/* the rest acknowledge: the step stays done */
	struct actor *rest[] = {&w->pharma, &w->nurse, &w->cardio};
	for (size_t k = 0; k < 3; k++)
		assert_true(reply_ok(as(w->f, rest[k], "ack", idem(json_pack("{s:o}", "case",
					wire_id(w->case_id))), NULL)));
	assert_int_equal(notice_missing(w), 0);
	r = as(w->f, &w->doc, "case_get", json_pack("{s:o}", "case", wire_id(w->case_id)), NULL);
	json_t *s;
	json_array_foreach(json_object_get(r, "steps"), i, s)
		if (json_integer_value(json_object_get(s, "id")) == notice_step)
			assert_string_equal(json_string_value(json_object_get(s, "status")), "done");
	json_decref(r);
	/* the testing clock is an admin's tool */
	assert_string_equal(code_of(as(w->f, &w->gp, "clock_advance", json_pack("{s:i}", "ms", 1000), NULL),
				    c, sizeof c), "forbidden");
	w->f->cfg.production = true;
	assert_string_equal(code_of(as(w->f, &w->admin, "clock_advance", json_pack("{s:i}", "ms", 1000),
				       NULL), c, sizeof c), "forbidden");
	w->f->cfg.production = false;
}

static void
test_alert_reaches_gp_and_cardiologist(void **state)
{
	struct team *w = *state;
	json_t *r = open_case(w, "heart_failure", w->today, NULL);
	json_decref(r);
	int64_t seq = post_message(w, &w->nurse);
	struct effects fx;
	effects_init(&fx);
	r = as(w->f, &w->nurse, "alert", idem(json_pack("{s:o, s:I}", "case", wire_id(w->case_id), "seq",
						       (json_int_t)seq)), &fx);
	assert_int_equal(json_integer_value(json_object_get(r, "notified")), 2);
	json_decref(r);
	size_t to_gp = 0, to_cardio = 0, to_pharma = 0;
	for (struct effect *e = fx.head; e; e = e->next) {
		to_gp += memcmp(e->target, w->gp.k.user, 16) == 0;
		to_cardio += memcmp(e->target, w->cardio.k.user, 16) == 0;
		to_pharma += memcmp(e->target, w->pharma.k.user, 16) == 0;
	}
	effects_free(&fx);
	assert_int_equal(to_gp, 1);
	assert_int_equal(to_cardio, 1);
	assert_int_equal(to_pharma, 0);
}

/* Set the clock to an absolute time (ms). */
static void
clock_at(int64_t target)
{
	lsn_clock_advance_ms(target - lsn_clock_now_ms());
}

static double
indicator(json_t *report, const char *id, const char *field)
{
	size_t i;
	json_t *row;
	json_array_foreach(json_object_get(report, "indicators"), i, row)
		if (strcmp(json_string_value(json_object_get(row, "id")), id) == 0)
			return json_number_value(json_object_get(row, field));
	fail_msg("no indicator %s", id);
	return -1;
}

/* The row of indicator id, or NULL. */
static json_t *
row_of(json_t *report, const char *id)
{
	size_t i;
	json_t *row;
	json_array_foreach(json_object_get(report, "indicators"), i, row)
		if (strcmp(json_string_value(json_object_get(row, "id")), id) == 0)
			return row;
	fail_msg("no indicator %s", id);
	return NULL;
}

/* A ratio, in all or for one pathway: numerator, denominator, not yet due. */
static void
check_ratio(json_t *report, const char *id, const char *pathway, int64_t num, int64_t den,
	    int64_t not_yet_due)
{
	json_t *row = row_of(report, id);
	if (pathway)
		row = json_object_get(json_object_get(row, "by_pathway"), pathway);
	if (row == NULL)
		fail_msg("%s: no figures for %s", id, pathway);
	int64_t n = json_integer_value(json_object_get(row, "numerator"));
	int64_t d = json_integer_value(json_object_get(row, "denominator"));
	int64_t y = json_integer_value(json_object_get(row, "not_yet_due"));
	if (n != num || d != den || y != not_yet_due)
		fail_msg("%s %s: %lld/%lld, not yet due %lld; want %lld/%lld, not yet due %lld", id,
			 pathway ? pathway : "(all)", (long long)n, (long long)d, (long long)y,
			 (long long)num, (long long)den, (long long)not_yet_due);
}

/* A count or a median ("value"), in all or for one pathway. */
static double
value_of(json_t *report, const char *id, const char *pathway)
{
	json_t *row = row_of(report, id);
	if (pathway)
		row = json_object_get(json_object_get(row, "by_pathway"), pathway);
	json_t *v = json_object_get(row, "value");
	if (!json_is_number(v))
		fail_msg("%s %s: no value", id, pathway ? pathway : "(all)");
	return json_number_value(v);
}

static void
done_occ(struct team *w, json_t *c, const char *code, int occ, int64_t at)
{
	clock_at(at);
	assert_true(reply_ok(as(w->f, &w->coord, "step_complete", step_req(step_id(c, code, occ)), NULL)));
}

/* Open a case of pathway on the day of `at` (09:00 Paris), clock set there. */
static json_t *
open_on(struct team *w, const char *pathway, int y, int mo, int d)
{
	char j0[11];
	snprintf(j0, sizeof j0, "%04d-%02d-%02d", y, mo, d);
	clock_at(paris(y, mo, d, 9, 0));
	return open_case(w, pathway, j0, NULL);
}

static void
notice(struct team *w, int64_t at)
{
	clock_at(at);
	int64_t seq = post_message(w, &w->doc);
	assert_true(reply_ok(as(w->f, &w->doc, "notice_post", idem(json_pack("{s:o, s:I}", "case",
				wire_id(w->case_id), "seq", (json_int_t)seq)), NULL)));
}

static void
ack_at(struct team *w, struct actor *who, int64_t at)
{
	clock_at(at);
	assert_true(reply_ok(as(w->f, who, "ack", idem(json_pack("{s:o}", "case",
				wire_id(w->case_id))), NULL)));
}

static json_t *
session(struct team *w, struct actor *who, struct thread *circle, const char *day,
	struct actor **attendees, size_t n)
{
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, wire_id(attendees[i]->k.user));
	return as(w->f, who, "circle_session", idem(json_pack("{s:o, s:s, s:o}", "channel",
			wire_id(circle->channel), "day", day, "attendees", list)), NULL);
}

static json_t *
target(struct team *w, struct actor *who, const char *indicator, json_t *value)
{
	return as(w->f, who, "target_set", idem(json_pack("{s:s, s:o}", "indicator", indicator,
							  "value", value)), NULL);
}

/* The 2026-S2 report (1 July – 31 December 2026, Paris days) made on Friday
 * 2026-11-20 at 12:00 Paris. Six cases, every date by hand (J+n = the local
 * day n after J0; a step is due at the end of that Paris day):
 *
 *  F heart_failure J0 Mon 2026-06-29 (opened in S1): letter J0 06-29 (S1, out);
 *    nurse first visit J2 07-01 done 07-01 10:00; GP J7 07-06 not done;
 *    nurse follow-ups J7…J56 07-06…08-24 not done; cardiology J60 08-28 not done.
 *  A heart_failure J0 Tue 2026-09-01: notice 10:00 acknowledged by the four
 *    recipients 11:00, 11:20, 11:40, 12:00 (2 h); letter done 09-01 12:00; GP done
 *    09-01 21:00 (J0: 0 days, not 0.9); nurse first visit done 09-03; follow-up #1
 *    (09-08) done, #2–#8 (to 10-27) not; reconciliation compared 09-04 (J3), one
 *    unintentional discrepancy resolved in 2 h; cardiology J60 = Sat 10-31 (after
 *    the 10-25 change to winter time) done 10-31 23:30.
 *  D anxiety_depression J0 Tue 2026-09-15: referral done 09-15 10:00, first
 *    psychologist session 09-29 23:30 (14 days); psychiatry J30 10-15 done 10-16
 *    (late); response review #2 J56 11-10 done 11-10 15:00.
 *  E anxiety_depression J0 Thu 2026-10-01: psychiatry J30 10-31 not done;
 *    response review #2 J56 11-26: not yet due.
 *  B heart_failure J0 Tue 2026-11-10: notice 10:00 acknowledged by the GP only;
 *    letter done 11-11 09:00 (late); GP J7 11-17 done Wed 11-18 00:30 Paris —
 *    23:30 UTC on the 17th, on time in UTC days, one day late in Paris (8 days);
 *    nurse first visit J2 11-12 and follow-up #1 J7 11-17 not done; follow-ups
 *    #2–#7 (11-24…12-29) not yet due; #8 (2027-01-05) and cardiology J60
 *    (2027-01-09) fall after the period.
 *  C hospital_discharge J0 Fri 2026-11-20 (today): notice 10:00, GP acknowledged
 *    11:00: not yet due (24 h not passed, acknowledgements missing); letter J0,
 *    nurse first visit J2, GP J7: not yet due.
 *
 *  1a, 1b: A met, B missed, C not yet due → 1/2, 1 not yet due (hf 1/2; hd 0/0 +1)
 *  1c: A's 2 h → median 2 h (n 1)
 *  2:  A met, B missed, C not yet due, F out → 1/2 +1 (hf 1/2; hd 0/0 +1)
 *  3a: A met, B missed, F missed, C not yet due → 1/3 +1 (hf 1/3; hd 0/0 +1)
 *  3b: A 0 days, B 8 days → median 4 j (n 2)
 *  4:  A met, F missed (B after the period) → 1/2
 *  5:  F 9 counted (1 done), A 9 (2 done), B 2 (0) + 6 not yet due, C 1 not yet due
 *      → 3/20, 7 not yet due (hf 3/20 +6; hd 0/0 +1)
 *  6a: J7 ends in the period: F 07-06, A 09-08 (compared J3: met), B 11-17; C 11-27
 *      not yet due → 1/3 +1; 6b 1/1 = 1.0; 6c 1/1 = 100 %; 6d 2 h
 *  7a: D met, E not yet due → 1/1 +1; 7b: D 14 j; 7c: D late, E missed → 0/2
 *  8a: opened in the period: hf 2 (A, B), hd 1 (C), ad 2 (D, E) → 5 (F in S1)
 *  8b: five professionals in every thread → 5; per pathway 5, 5, 5
 *  8c: pending steps of open cases due before now:
 *      F 16 (17 − 1 done), A 12 (17 − 5), B 4 (reconciliation, nurse first
 *      visit, pharmacist review, follow-up #1), C 0, D 10 (screening,
 *      diagnosis, suicide risk, follow-ups J7–J56 ×6, response review #1),
 *      E 12 (J0 ×4, first session, follow-ups J7–J42 ×5, review #1,
 *      psychiatry) → 54; hf 32, hd 0, ad 22
 *  9a: sessions 09-10 (GP, pharmacist) and 10-15 (GP, pharmacist, doctor;
 *      recorded twice: replaced), 06-20 in S1 → 2; 9b 2 + 3 = 5; 9c 3
 *  targets: 2 ≥ 90 → 50 % not met; 3b ≤ 5 → 4 j met; 9a ≥ 2 → met.
 *  A coordinator of another CPTS counts none of it (all 0); a territory
 *  coordinator counts it all, with no target unless she names the CPTS. */
static void
test_report_semester(void **state)
{
	struct team *w = *state;
	char c[32];
	/* cases opened on version 1 of both templates (the figures below are
	 * those of version 1's steps; test_report_v2 covers version 2) */
	use_version(w, "heart_failure", 1);
	use_version(w, "anxiety_depression", 1);
	json_t *f = open_on(w, "heart_failure", 2026, 6, 29);
	done_occ(w, f, "nurse_first_visit", 1, paris(2026, 7, 1, 10, 0));

	json_t *a = open_on(w, "heart_failure", 2026, 9, 1);
	notice(w, paris(2026, 9, 1, 10, 0));
	struct actor *recipients[] = {&w->gp, &w->pharma, &w->nurse, &w->cardio};
	for (int k = 0; k < 4; k++)
		ack_at(w, recipients[k], paris(2026, 9, 1, 11, 20 * k));
	done_occ(w, a, "discharge_letter", 1, paris(2026, 9, 1, 12, 0));
	done_occ(w, a, "gp_consultation", 1, paris(2026, 9, 1, 21, 0));
	done_occ(w, a, "nurse_first_visit", 1, paris(2026, 9, 3, 10, 0));
	clock_at(paris(2026, 9, 4, 10, 0));
	uint8_t episode[16];
	randombytes_buf(episode, sizeof episode);
	assert_true(reply_ok(as(w->f, &w->pharma, "conciliation_counts", idem(json_pack(
		"{s:o, s:o, s:s, s:s, s:i, s:i, s:i, s:{s:i}, s:{s:i}, s:i, s:i, s:[I], s:I, s:I}",
		"case", wire_id(w->case_id), "episode", wire_id(episode), "transition", "discharge",
		"status", "compared", "source_types", 3, "lines_bmo", 6, "lines_order", 5,
		"by_type", "omission", 1, "by_intent", "unintentional", 1, "unintentional", 1,
		"resolved", 1, "resolution_ms", (json_int_t)(2 * HOUR),
		"started_at", (json_int_t)paris(2026, 9, 3, 9, 0),
		"compared_at", (json_int_t)paris(2026, 9, 4, 10, 0))), NULL)));
	done_occ(w, a, "nurse_followup", 1, paris(2026, 9, 8, 10, 0));

	json_t *d = open_on(w, "anxiety_depression", 2026, 9, 15);
	done_occ(w, d, "psychologist_referral", 1, paris(2026, 9, 15, 10, 0));
	done_occ(w, d, "psychologist_first_session", 1, paris(2026, 9, 29, 23, 30));
	json_t *e = open_on(w, "anxiety_depression", 2026, 10, 1);
	done_occ(w, d, "psychiatry_referral", 1, paris(2026, 10, 16, 9, 0));
	done_occ(w, a, "cardiology_consultation", 1, paris(2026, 10, 31, 23, 30));

	json_t *b = open_on(w, "heart_failure", 2026, 11, 10);
	notice(w, paris(2026, 11, 10, 10, 0));
	ack_at(w, &w->gp, paris(2026, 11, 10, 11, 0));
	done_occ(w, d, "response_review", 2, paris(2026, 11, 10, 15, 0));
	done_occ(w, b, "discharge_letter", 1, paris(2026, 11, 11, 9, 0));
	done_occ(w, b, "gp_consultation", 1, paris(2026, 11, 18, 0, 30));

	json_t *cc = open_on(w, "hospital_discharge", 2026, 11, 20);
	notice(w, paris(2026, 11, 20, 10, 0));
	ack_at(w, &w->gp, paris(2026, 11, 20, 11, 0));
	clock_at(paris(2026, 11, 20, 12, 0));

	/* quality circles: the doctor's circle with the GP and the pharmacist */
	struct thread circle;
	thread_create(w->f, &circle, &w->doc, LSN_KIND_CIRCLE);
	thread_add(w->f, &circle, &w->doc, &w->gp);
	thread_add(w->f, &circle, &w->doc, &w->pharma);
	struct actor *two[] = {&w->gp, &w->pharma}, *three[] = {&w->gp, &w->pharma, &w->doc};
	struct actor *one[] = {&w->gp}, *stranger[] = {&w->gp, &w->nurse};
	json_t *r = session(w, &w->gp, &circle, "2026-09-10", two, 2);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_int_equal(json_integer_value(json_object_get(r, "participants")), 2);
	assert_true(json_is_false(json_object_get(r, "replaced")));
	json_decref(r);
	assert_true(reply_ok(session(w, &w->doc, &circle, "2026-10-15", two, 2)));
	r = session(w, &w->pharma, &circle, "2026-10-15", three, 3);   /* corrected: replaces */
	assert_true(json_is_true(json_object_get(r, "replaced")));
	json_decref(r);
	assert_true(reply_ok(session(w, &w->gp, &circle, "2026-06-20", one, 1)));
	/* refused: a non-member (not_found), a case thread, a day to come, an attendee
	 * who is not in the circle, no attendee */
	assert_string_equal(code_of(session(w, &w->nurse, &circle, "2026-11-02", one, 1), c, sizeof c),
			    "not_found");
	assert_string_equal(code_of(session(w, &w->doc, &w->t, "2026-11-02", one, 1), c, sizeof c),
			    "bad_request");
	assert_string_equal(code_of(session(w, &w->gp, &circle, "2026-11-21", one, 1), c, sizeof c),
			    "bad_request");
	assert_string_equal(code_of(session(w, &w->gp, &circle, "2026-11-02", stranger, 2), c,
				    sizeof c), "bad_request");
	assert_string_equal(code_of(session(w, &w->gp, &circle, "2026-11-02", one, 0), c, sizeof c),
			    "bad_request");

	/* targets: the coordinator's; a GP cannot set one; an unknown id is refused */
	assert_true(reply_ok(target(w, &w->coord, "2", json_integer(90))));
	assert_true(reply_ok(target(w, &w->coord, "3b", json_integer(5))));
	assert_true(reply_ok(target(w, &w->coord, "9a", json_real(2.0))));
	assert_true(reply_ok(target(w, &w->coord, "1c", json_integer(24))));
	r = target(w, &w->coord, "1c", json_null());
	assert_true(json_is_true(json_object_get(r, "removed")));
	json_decref(r);
	assert_string_equal(code_of(target(w, &w->gp, "2", json_integer(50)), c, sizeof c),
			    "coordinator_only");
	assert_string_equal(code_of(target(w, &w->coord, "10", json_integer(50)), c, sizeof c),
			    "bad_request");
	assert_string_equal(code_of(target(w, &w->coord, "2", json_string("90 %")), c, sizeof c),
			    "bad_request");
	r = as(w->f, &w->coord, "targets", json_object(), NULL);
	assert_int_equal(json_array_size(json_object_get(r, "targets")), 3);
	json_decref(r);

	/* the period: a semester, or the same days as from/to; bad forms explained */
	const char *bad[] = {"2026-S3", "2026S2", "2026-s2", "26-S2", "2026-S", "2026-S12"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = as(w->f, &w->coord, "report", json_pack("{s:s}", "semester", bad[i]), NULL);
		const char *msg = json_string_value(json_object_get(json_object_get(r, "error"),
								    "message"));
		if (msg == NULL || strstr(msg, "YYYY-S2") == NULL)
			fail_msg("semester \"%s\": %s", bad[i], msg ? msg : "accepted");
		json_decref(r);
	}
	assert_string_equal(code_of(as(w->f, &w->coord, "report", json_pack("{s:s, s:s}", "semester",
				"2026-S2", "from", "2026-07-01"), NULL), c, sizeof c), "bad_request");
	assert_string_equal(code_of(as(w->f, &w->coord, "report", json_object(), NULL), c, sizeof c),
			    "bad_request");
	json_t *same = as(w->f, &w->coord, "report", json_pack("{s:s, s:s}", "from", "2026-07-01",
							     "to", "2026-12-31"), NULL);
	r = as(w->f, &w->coord, "report", json_pack("{s:s}", "semester", "2026-S2"), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_string_equal(json_string_value(json_object_get(r, "from")), "2026-07-01");
	assert_string_equal(json_string_value(json_object_get(r, "to")), "2026-12-31");
	assert_string_equal(json_string_value(json_object_get(r, "semester")), "2026-S2");

	check_ratio(r, "1a", NULL, 1, 2, 1);
	check_ratio(r, "1a", "heart_failure", 1, 2, 0);
	check_ratio(r, "1a", "hospital_discharge", 0, 0, 1);
	check_ratio(r, "1a", "anxiety_depression", 0, 0, 0);
	check_ratio(r, "1b", NULL, 1, 2, 1);
	assert_true(value_of(r, "1c", NULL) > 1.999 && value_of(r, "1c", NULL) < 2.001);
	assert_true(value_of(r, "1c", "heart_failure") > 1.999);
	assert_true(json_is_null(json_object_get(json_object_get(json_object_get(row_of(r, "1c"),
			"by_pathway"), "hospital_discharge"), "value")));
	check_ratio(r, "2", NULL, 1, 2, 1);
	check_ratio(r, "2", "heart_failure", 1, 2, 0);
	check_ratio(r, "2", "hospital_discharge", 0, 0, 1);
	check_ratio(r, "3a", NULL, 1, 3, 1);
	check_ratio(r, "3a", "heart_failure", 1, 3, 0);
	check_ratio(r, "3a", "hospital_discharge", 0, 0, 1);
	assert_true(value_of(r, "3b", NULL) > 3.999 && value_of(r, "3b", NULL) < 4.001);
	assert_int_equal(json_integer_value(json_object_get(row_of(r, "3b"), "n")), 2);
	check_ratio(r, "4", NULL, 1, 2, 0);
	check_ratio(r, "4", "heart_failure", 1, 2, 0);
	check_ratio(r, "5", NULL, 3, 20, 7);
	check_ratio(r, "5", "heart_failure", 3, 20, 6);
	check_ratio(r, "5", "hospital_discharge", 0, 0, 1);
	check_ratio(r, "6a", NULL, 1, 3, 1);
	check_ratio(r, "6a", "heart_failure", 1, 3, 0);
	check_ratio(r, "6a", "hospital_discharge", 0, 0, 1);
	check_ratio(r, "6b", NULL, 1, 1, 0);
	assert_true(value_of(r, "6b", NULL) > 0.999 && value_of(r, "6b", NULL) < 1.001);
	check_ratio(r, "6c", NULL, 1, 1, 0);
	assert_true(value_of(r, "6d", NULL) > 1.999 && value_of(r, "6d", NULL) < 2.001);
	check_ratio(r, "7a", NULL, 1, 1, 1);
	check_ratio(r, "7a", "anxiety_depression", 1, 1, 1);
	assert_true(value_of(r, "7b", NULL) > 13.999 && value_of(r, "7b", NULL) < 14.001);
	check_ratio(r, "7c", NULL, 0, 2, 0);
	assert_int_equal(value_of(r, "8a", NULL), 5);
	assert_int_equal(value_of(r, "8a", "heart_failure"), 2);
	assert_int_equal(value_of(r, "8a", "hospital_discharge"), 1);
	assert_int_equal(value_of(r, "8a", "anxiety_depression"), 2);
	assert_int_equal(value_of(r, "8b", NULL), 5);
	assert_int_equal(value_of(r, "8b", "heart_failure"), 5);
	assert_int_equal(value_of(r, "8b", "anxiety_depression"), 5);
	assert_int_equal(value_of(r, "8c", NULL), 54);
	assert_int_equal(value_of(r, "8c", "heart_failure"), 32);
	assert_int_equal(value_of(r, "8c", "hospital_discharge"), 0);
	assert_int_equal(value_of(r, "8c", "anxiety_depression"), 22);
	assert_int_equal(value_of(r, "9a", NULL), 2);
	assert_int_equal(value_of(r, "9b", NULL), 5);
	assert_int_equal(value_of(r, "9c", NULL), 3);
	/* targets beside their figures */
	json_t *t2 = json_object_get(row_of(r, "2"), "target");
	assert_true(json_number_value(json_object_get(t2, "value")) > 89.999);
	assert_string_equal(json_string_value(json_object_get(t2, "direction")), "ge");
	assert_true(json_is_false(json_object_get(t2, "met")));
	json_t *t3b = json_object_get(row_of(r, "3b"), "target");
	assert_string_equal(json_string_value(json_object_get(t3b, "direction")), "le");
	assert_true(json_is_true(json_object_get(t3b, "met")));
	assert_true(json_is_true(json_object_get(json_object_get(row_of(r, "9a"), "target"), "met")));
	assert_null(json_object_get(row_of(r, "4"), "target"));
	assert_null(json_object_get(row_of(r, "1c"), "target"));
	/* from/to over the same days gives the same figures */
	json_object_del(r, "semester");
	json_object_del(r, "id");
	json_object_del(same, "id");
	json_object_del(r, "as_of");      /* the clock runs on between the two */
	json_object_del(same, "as_of");
	assert_true(json_equal(r, same));

	/* made on the first day: "cardiologue à J60" is not yet due, not 0 % */
	json_decref(r);
	r = as(w->f, &w->coord, "report", json_pack("{s:s, s:s}", "from", "2026-11-20", "to",
						   "2027-01-19"), NULL);
	check_ratio(r, "4", NULL, 0, 0, 1);   /* B's J60 is 2027-01-09 */
	check_ratio(r, "2", NULL, 0, 0, 1);   /* C's letter: today */
	assert_true(json_is_null(json_object_get(row_of(r, "4"), "value")));
	json_decref(r);

	/* another CPTS: its coordinator's report has none of these cases nor
	 * circles nor targets, and cannot name ours; a territory coordinator
	 * (of that other CPTS) sees every CPTS, or the one she names */
	struct store_org home = w->f->org;
	randombytes_buf(w->f->org.id, sizeof w->f->org.id);
	snprintf(w->f->org.name, sizeof w->f->org.name, "CPTS Voisine");
	snprintf(w->f->org.finess, sizeof w->f->org.finess, "370000481");
	assert_int_equal(store_org_create(w->f->store, &w->f->org), LSN_OK);
	struct actor other, territory;
	login_as(w->f, &other, NULL, "coordinator", LSN_ROLE_MEMBER | LSN_ROLE_COORDINATOR);
	login_as(w->f, &territory, NULL, "coordinator",
		 LSN_ROLE_MEMBER | LSN_ROLE_COORDINATOR | LSN_ROLE_TERRITORY);
	w->f->org = home;
	assert_true(reply_ok(target(w, &other, "2", json_integer(10))));   /* its own CPTS's */
	r = as(w->f, &other, "report", json_pack("{s:s}", "semester", "2026-S2"), NULL);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "cpts"), "finess")),
			    "370000481");
	check_ratio(r, "1a", NULL, 0, 0, 0);
	check_ratio(r, "3a", NULL, 0, 0, 0);
	check_ratio(r, "5", NULL, 0, 0, 0);
	check_ratio(r, "6a", NULL, 0, 0, 0);
	assert_int_equal(value_of(r, "8a", NULL), 0);
	assert_int_equal(value_of(r, "8b", NULL), 0);
	assert_int_equal(value_of(r, "8c", NULL), 0);
	assert_int_equal(value_of(r, "9a", NULL), 0);
	/* its own target is there; with 0/0 there is no value, so "met" is null */
	assert_true(json_is_null(json_object_get(json_object_get(row_of(r, "2"), "target"), "met")));
	json_decref(r);
	assert_string_equal(code_of(as(w->f, &other, "report", json_pack("{s:s, s:s}", "semester",
				"2026-S2", "cpts", "450000005"), NULL), c, sizeof c), "forbidden");
	r = as(w->f, &territory, "report", json_pack("{s:s}", "semester", "2026-S2"), NULL);
	assert_true(json_is_null(json_object_get(r, "cpts")));   /* every CPTS */
	check_ratio(r, "3a", NULL, 1, 3, 1);
	check_ratio(r, "5", NULL, 3, 20, 7);
	assert_int_equal(value_of(r, "8a", NULL), 5);
	assert_int_equal(value_of(r, "8c", NULL), 54);
	assert_int_equal(value_of(r, "9a", NULL), 2);
	assert_null(json_object_get(row_of(r, "2"), "target"));   /* targets are a CPTS's */
	json_decref(r);
	r = as(w->f, &territory, "report", json_pack("{s:s, s:s}", "semester", "2026-S2", "cpts",
						   "450000005"), NULL);
	check_ratio(r, "3a", NULL, 1, 3, 1);
	assert_int_equal(value_of(r, "9c", NULL), 3);
	assert_true(json_is_false(json_object_get(json_object_get(row_of(r, "2"), "target"), "met")));
	json_decref(r);
	assert_string_equal(code_of(as(w->f, &territory, "report", json_pack("{s:s, s:s}", "semester",
				"2026-S2", "cpts", "999999999"), NULL), c, sizeof c), "bad_request");

	json_decref(same);
	json_decref(f);
	json_decref(a);
	json_decref(b);
	json_decref(cc);
	json_decref(d);
	json_decref(e);
}

static json_t *
counts(struct team *w, const char *types_json, const char *intents_json, int unint, int resolved,
       const char *times_json, int64_t compared_at, int sources)
{
	uint8_t episode[16];
	randombytes_buf(episode, sizeof episode);
	json_t *body = json_pack("{s:o, s:o, s:s, s:s, s:i, s:i, s:i, s:o, s:o, s:i, s:i, s:o, s:I}",
		"case", wire_id(w->case_id), "episode", wire_id(episode), "transition", "discharge",
		"status", compared_at ? "compared" : "draft", "source_types", sources, "lines_bmo", 6,
		"lines_order", 5, "by_type", json_loads(types_json, 0, NULL),
		"by_intent", json_loads(intents_json, 0, NULL), "unintentional", unint,
		"resolved", resolved, "resolution_ms", json_loads(times_json, 0, NULL),
		"started_at", (json_int_t)w->j0);
	if (compared_at)
		json_object_set_new(body, "compared_at", json_integer(compared_at));
	return idem(body);
}

/* Indicator 6 on three discharge-type cases (hand-computed):
 *   A: compared at J3, 2 discrepancies (omission, dose change), both unintentional, one resolved
 *      after 2 h; B: compared at J10 (late), 1 intentional documented addition; C: none.
 *   6a = 1/3; 6b = 2 unintentional / 2 compared = 1.0; 6c = 1 resolved / 3 = 33.3 %; 6d = 2 h. */
static void
test_conciliation_counts(void **state)
{
	struct team *w = *state;
	char c[32];
	json_decref(open_case(w, "heart_failure", w->today, NULL));
	/* what the server refuses: anything but fixed vocabulary and numbers */
	assert_string_equal(code_of(as(w->f, &w->pharma, "conciliation_counts",
		counts(w, "{\"furosemide\":1}", "{\"unintentional\":1}", 1, 0, "[]", w->j0, 3), NULL),
		c, sizeof c), "bad_request");
	assert_string_equal(code_of(as(w->f, &w->pharma, "conciliation_counts",
		counts(w, "{\"omission\":\"furosemide 40 mg\"}", "{}", 0, 0, "[]", w->j0, 3), NULL),
		c, sizeof c), "bad_request");
	assert_string_equal(code_of(as(w->f, &w->pharma, "conciliation_counts",
		counts(w, "{\"omission\":2}", "{\"unintentional\":1}", 1, 0, "[]", w->j0, 3), NULL),
		c, sizeof c), "bad_request");   /* does not add up */
	assert_string_equal(code_of(as(w->f, &w->pharma, "conciliation_counts",
		counts(w, "{}", "{}", 0, 0, "[]", w->j0, 2), NULL), c, sizeof c),
		"bad_request");                  /* a compared BMO needs 3 source types */
	assert_string_equal(code_of(as(w->f, &w->outsider, "conciliation_counts",
		counts(w, "{}", "{}", 0, 0, "[]", 0, 0), NULL), c, sizeof c), "not_found");
	assert_true(reply_ok(as(w->f, &w->pharma, "conciliation_counts",
		counts(w, "{\"omission\":1,\"dose_change\":1}", "{\"unintentional\":2}", 2, 1,
		       "[7200000]", w->j0 + 3 * DAY, 4), NULL)));
	json_decref(open_case(w, "heart_failure", w->today, NULL));
	assert_true(reply_ok(as(w->f, &w->pharma, "conciliation_counts",
		counts(w, "{\"addition\":1}", "{\"intentional_documented\":1}", 0, 0, "[]",
		       w->j0 + 10 * DAY, 3), NULL)));
	json_decref(open_case(w, "hospital_discharge", w->today, NULL));
	/* 6a counts a case once the end of its J7 has passed: report at J10, 12:00 */
	int64_t j10_noon = local_day_end(w->j0, 10) + 1 - 12 * HOUR;
	char j10[11];
	time_t t = (time_t)(j10_noon / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(j10, sizeof j10, "%Y-%m-%d", &tm);
	clock_at(j10_noon);
	json_t *r = as(w->f, &w->coord, "report", json_pack("{s:s, s:s}", "from", w->today, "to",
							    j10), NULL);
	assert_int_equal(indicator(r, "6a", "numerator"), 1);
	assert_int_equal(indicator(r, "6a", "denominator"), 3);
	assert_int_equal(indicator(r, "6b", "numerator"), 2);
	assert_int_equal(indicator(r, "6b", "denominator"), 2);
	assert_true(indicator(r, "6b", "value") > 0.999 && indicator(r, "6b", "value") < 1.001);
	assert_int_equal(indicator(r, "6c", "numerator"), 1);
	assert_int_equal(indicator(r, "6c", "denominator"), 3);
	assert_true(indicator(r, "6d", "value") > 1.999 && indicator(r, "6d", "value") < 2.001);
	json_decref(r);
}

/* Version 2's steps in the indicators that name them (4, 5, 7a–7c). The
 * 2026-S2 report made on 2026-11-20 12:00 Paris, every date by hand:
 *
 *  H heart_failure v2, nyha_3_4, J0 Tue 2026-09-01: nurse sessions J7 09-08
 *    (done 09-08 10:00), J14 … J56 10-27 weekly (8 in all), then J70 11-10
 *    (done 11-10 10:00), J84 11-24, J98 12-08, J112 12-22 (not yet due: 3),
 *    J126 2027-01-05 … (out of the period); cardiology J60 10-31 done 10-30.
 *  R anxiety_depression v2, high_suicide_risk, J0 Tue 2026-09-15: psychiatry
 *    J0 09-15 done 09-15 14:00; no psychologist steps; PHQ-9 re-evaluation #2
 *    J56 = 11-10 (15 days to 09-30, 31 to 10-31, 10 more) done 11-10 15:00.
 *  P anxiety_depression v2, no flag, J0 2026-09-15: no psychiatry step;
 *    referral done 09-15 10:00, first psychologist session 09-29 23:30 (14
 *    days); re-evaluation #2 J56 11-10 not done.
 *
 *  4:  H 1/1.   5: 2 done / 9 due (8 weekly + J70), 3 not yet due.
 *  7a: R done, P not: 1/2.   7b: P only: 14.   7c: R only (P has none): 1/1
 *      (version 1 gave every case a J30 opinion: it would have been 1/2). */
static json_t *
open_flagged_on(struct team *w, const char *pathway, int y, int mo, int d, const char *flag)
{
	char j0[11];
	snprintf(j0, sizeof j0, "%04d-%02d-%02d", y, mo, d);
	clock_at(paris(y, mo, d, 9, 0));
	return open_case(w, pathway, j0, flag);
}

static void
test_report_v2(void **state)
{
	struct team *w = *state;
	json_t *h = open_flagged_on(w, "heart_failure", 2026, 9, 1, "nyha_3_4");
	assert_int_equal(json_array_size(json_object_get(h, "steps")), 23);
	done_occ(w, h, "nurse_followup", 1, paris(2026, 9, 8, 10, 0));
	json_t *rk = open_flagged_on(w, "anxiety_depression", 2026, 9, 15, "high_suicide_risk");
	json_t *p = open_flagged_on(w, "anxiety_depression", 2026, 9, 15, NULL);
	done_occ(w, p, "psychologist_referral", 1, paris(2026, 9, 15, 10, 0));
	done_occ(w, rk, "psychiatry_referral", 1, paris(2026, 9, 15, 14, 0));
	done_occ(w, p, "psychologist_first_session", 1, paris(2026, 9, 29, 23, 30));
	done_occ(w, h, "cardiology_consultation", 1, paris(2026, 10, 30, 10, 0));
	done_occ(w, h, "nurse_followup", 9, paris(2026, 11, 10, 10, 0));
	done_occ(w, rk, "response_review", 2, paris(2026, 11, 10, 15, 0));
	clock_at(paris(2026, 11, 20, 12, 0));
	json_t *r = as(w->f, &w->coord, "report", json_pack("{s:s}", "semester", "2026-S2"), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	check_ratio(r, "4", "heart_failure", 1, 1, 0);
	check_ratio(r, "5", NULL, 2, 9, 3);
	check_ratio(r, "5", "heart_failure", 2, 9, 3);
	check_ratio(r, "7a", "anxiety_depression", 1, 2, 0);
	assert_true(value_of(r, "7b", NULL) > 13.999 && value_of(r, "7b", NULL) < 14.001);
	check_ratio(r, "7c", NULL, 1, 1, 0);
	check_ratio(r, "7c", "anxiety_depression", 1, 1, 0);
	json_decref(r);
	json_decref(h);
	json_decref(rk);
	json_decref(p);
}

static json_t *
event_req(struct team *w, const char *event, const char *day)
{
	return idem(json_pack("{s:o, s:s, s:s}", "case", wire_id(w->case_id), "event", event, "day",
			      day));
}

static int64_t
due_of(json_t *reply, const char *code)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(reply, "steps"), i, s)
		if (strcmp(json_string_value(json_object_get(s, "step")), code) == 0)
			return json_is_null(json_object_get(s, "due_at"))
				       ? 0 : json_integer_value(json_object_get(s, "due_at"));
	fail_msg("no step %s", code);
	return -1;
}

/* The remission, recorded as an event, dates the continuation review. */
static void
test_case_event(void **state)
{
	struct team *w = *state;
	char c[32];
	json_t *r = open_flagged_on(w, "anxiety_depression", 2026, 11, 1, NULL);
	int64_t j0 = json_integer_value(json_object_get(json_object_get(r, "case"), "j0"));
	assert_int_equal(due_of(r, "continuation_review"), 0);   /* no deadline yet */
	json_decref(r);
	clock_at(paris(2026, 11, 20, 12, 0));
	/* refused: unknown to the template, before J0, after today, not a day,
	 * an outsider (the case does not exist for her) */
	assert_string_equal(code_of(as(w->f, &w->gp, "case_event", event_req(w, "discharge",
				"2026-11-10"), NULL), c, sizeof c), "bad_request");
	assert_string_equal(code_of(as(w->f, &w->gp, "case_event", event_req(w, "remission",
				"2026-10-31"), NULL), c, sizeof c), "bad_request");
	assert_string_equal(code_of(as(w->f, &w->gp, "case_event", event_req(w, "remission",
				"2026-11-21"), NULL), c, sizeof c), "bad_request");
	assert_string_equal(code_of(as(w->f, &w->gp, "case_event", event_req(w, "remission",
				"10/11/2026"), NULL), c, sizeof c), "bad_request");
	assert_string_equal(code_of(as(w->f, &w->outsider, "case_event", event_req(w, "remission",
				"2026-11-10"), NULL), c, sizeof c), "not_found");
	/* remission on 2026-11-10 = J9: the review is due J9 + 180 = J189 */
	r = as(w->f, &w->gp, "case_event", event_req(w, "remission", "2026-11-10"), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_int_equal(due_of(r, "continuation_review"), local_day_end(j0, 189));
	json_t *ev = json_array_get(json_object_get(r, "case_events"), 0);
	assert_string_equal(json_string_value(json_object_get(ev, "event")), "remission");
	assert_string_equal(json_string_value(json_object_get(ev, "day")), "2026-11-10");
	assert_int_equal(json_array_size(json_object_get(r, "case_events")), 1);
	json_decref(r);
	/* corrected to 2026-11-12 (J11): J191, still one event */
	r = as(w->f, &w->gp, "case_event", event_req(w, "remission", "2026-11-12"), NULL);
	assert_int_equal(due_of(r, "continuation_review"), local_day_end(j0, 191));
	assert_int_equal(json_array_size(json_object_get(r, "case_events")), 1);
	json_decref(r);
	/* case_get shows it too */
	r = as(w->f, &w->gp, "case_get", json_pack("{s:o}", "case", wire_id(w->case_id)), NULL);
	assert_int_equal(due_of(r, "continuation_review"), local_day_end(j0, 191));
	json_decref(r);
	/* a heart-failure case dates nothing from a remission */
	json_decref(open_case(w, "heart_failure", "2026-11-20", NULL));
	assert_string_equal(code_of(as(w->f, &w->gp, "case_event", event_req(w, "remission",
				"2026-11-20"), NULL), c, sizeof c), "bad_request");
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	setenv("TZ", "Europe/Paris", 1);   /* the server's default timezone */
	tzset();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_assigns_steps, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_permissions, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_transitions, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_notice_ack_and_escalation, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_alert_reaches_gp_and_cardiologist, team_setup,
						team_teardown),
		cmocka_unit_test_setup_teardown(test_report_semester, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_report_v2, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_case_event, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_conciliation_counts, team_setup, team_teardown),
	};
	return cmocka_run_group_tests_name("cases", tests, NULL, NULL);
}
