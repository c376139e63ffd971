/* test_cases.c — care pathway cases through the real dispatcher: opening a
 * case instantiates and assigns steps, permissions (assignee, coordinator,
 * non-member), every illegal transition with its own error, the discharge
 * notice with acknowledgements and escalation after the timeout, alerts,
 * and the indicator report on a fixture whose numbers are written by hand. */
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

static void
today(struct team *w)
{
	time_t now = (time_t)(lsn_clock_now_ms() / 1000);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(w->today, sizeof w->today, "%Y-%m-%d", &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	w->j0 = (int64_t)timegm(&tm) * 1000;
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
	/* 9 single steps + 8 weekly nurse follow-ups to J60 */
	assert_int_equal(json_array_size(json_object_get(r, "steps")), 17);
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
	assert_int_equal(json_array_size(json_object_get(r, "steps")), 17 + 8);
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(r, "steps"), i, s)
		if (strcmp(json_string_value(json_object_get(s, "step")), "pathway_review") == 0)
			assert_int_equal(json_integer_value(json_object_get(s, "due_at")),
					 w->j0 + 181 * DAY - 1);
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
	int64_t visit = step_id(r, "nurse_first_visit", 1);
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

static void
done_at(struct team *w, struct actor *who, json_t *c, const char *code, int64_t at)
{
	clock_at(at);
	assert_true(reply_ok(as(w->f, who, "step_complete", step_req(step_id(c, code, 1)), NULL)));
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

/* Two heart-failure cases; expected values worked out by hand:
 *   case A: letter done J0 12:00, GP seen J5 12:00, notice posted J0 10:00 and acknowledged by
 *           all four recipients by J0 12:00 (2 h), nurse first visit done;
 *   case B: letter done J1 09:00 (late), GP seen J9 12:00 (late), notice acknowledged by the GP
 *           only.
 *   1a 1/2, 1b 1/2, 1c median 2 h; 2: 1/2; 3a: 1/2; 3b: median of 5.5 and 9.5 days = 7.5;
 *   4: 0/2; 5: nurse occurrences due in the period: 2 × (1 first visit + 8 follow-ups) = 18,
 *   done 1; 8a: heart_failure 2. */
static void
test_report_numbers(void **state)
{
	struct team *w = *state;
	int64_t j0 = w->j0;
	json_t *a = open_case(w, "heart_failure", w->today, NULL);
	clock_at(j0 + 10 * HOUR);
	int64_t seq = post_message(w, &w->doc);
	assert_true(reply_ok(as(w->f, &w->doc, "notice_post", idem(json_pack("{s:o, s:I}", "case",
				wire_id(w->case_id), "seq", (json_int_t)seq)), NULL)));
	struct actor *recipients[] = {&w->gp, &w->pharma, &w->nurse, &w->cardio};
	for (size_t k = 0; k < 4; k++) {
		clock_at(j0 + 11 * HOUR + (int64_t)k * 20 * 60 * 1000);
		assert_true(reply_ok(as(w->f, recipients[k], "ack", idem(json_pack("{s:o}", "case",
					wire_id(w->case_id))), NULL)));
	}
	clock_at(j0 + 12 * HOUR);  /* the last ack above was at 12:00: 2 h after posting */
	done_at(w, &w->doc, a, "discharge_letter", j0 + 12 * HOUR);
	done_at(w, &w->nurse, a, "nurse_first_visit", j0 + 2 * DAY + 12 * HOUR);
	done_at(w, &w->gp, a, "gp_consultation", j0 + 5 * DAY + 12 * HOUR);
	json_decref(a);

	clock_at(j0 + 10 * HOUR);
	json_t *b = open_case(w, "heart_failure", w->today, NULL);
	seq = post_message(w, &w->doc);
	assert_true(reply_ok(as(w->f, &w->doc, "notice_post", idem(json_pack("{s:o, s:I}", "case",
				wire_id(w->case_id), "seq", (json_int_t)seq)), NULL)));
	assert_true(reply_ok(as(w->f, &w->gp, "ack", idem(json_pack("{s:o}", "case", wire_id(w->case_id))),
				NULL)));
	done_at(w, &w->doc, b, "discharge_letter", j0 + 1 * DAY + 9 * HOUR);
	done_at(w, &w->gp, b, "gp_consultation", j0 + 9 * DAY + 12 * HOUR);
	json_decref(b);

	char to[11];
	time_t end = (time_t)((j0 + 200 * DAY) / 1000);
	struct tm tm;
	gmtime_r(&end, &tm);
	strftime(to, sizeof to, "%Y-%m-%d", &tm);
	json_t *r = as(w->f, &w->coord, "report", json_pack("{s:s, s:s}", "from", w->today, "to", to), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_int_equal(indicator(r, "1a", "numerator"), 1);
	assert_int_equal(indicator(r, "1a", "denominator"), 2);
	assert_int_equal(indicator(r, "1b", "numerator"), 1);
	assert_true(indicator(r, "1c", "value") > 1.999 && indicator(r, "1c", "value") < 2.001);
	assert_int_equal(indicator(r, "2", "numerator"), 1);
	assert_int_equal(indicator(r, "2", "denominator"), 2);
	assert_int_equal(indicator(r, "3a", "numerator"), 1);
	assert_int_equal(indicator(r, "3a", "denominator"), 2);
	assert_true(indicator(r, "3b", "value") > 7.499 && indicator(r, "3b", "value") < 7.501);
	assert_int_equal(indicator(r, "4", "numerator"), 0);
	assert_int_equal(indicator(r, "4", "denominator"), 2);
	assert_int_equal(indicator(r, "5", "numerator"), 1);
	assert_int_equal(indicator(r, "5", "denominator"), 18);
	json_t *by = NULL;
	size_t i;
	json_t *row;
	json_array_foreach(json_object_get(r, "indicators"), i, row)
		if (strcmp(json_string_value(json_object_get(row, "id")), "8a") == 0)
			by = json_object_get(row, "by_pathway");
	assert_int_equal(json_integer_value(json_object_get(by, "heart_failure")), 2);
	assert_int_equal(json_integer_value(json_object_get(by, "anxiety_depression")), 0);
	json_decref(r);
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
	json_t *r = as(w->f, &w->coord, "report", json_pack("{s:s, s:s}", "from", w->today, "to",
							    w->today), NULL);
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

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_assigns_steps, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_permissions, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_transitions, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_notice_ack_and_escalation, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_alert_reaches_gp_and_cardiologist, team_setup,
						team_teardown),
		cmocka_unit_test_setup_teardown(test_report_numbers, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_conciliation_counts, team_setup, team_teardown),
	};
	return cmocka_run_group_tests_name("cases", tests, NULL, NULL);
}
