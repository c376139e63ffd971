/* test_case_actions.c — actions that complete their steps (the discharge
 * notice, the letter attached to it, the closed discharge reconciliation),
 * the acknowledgers fixed when the notice is posted, and the limits against
 * noise (one alert per message, how far back a J0 may be), through the real
 * dispatcher. Every expected figure is written by hand. */
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
#include <sqlite3.h>

#include "clock.h"
#include "msg_header.h"
#include "server_fixture.h"
#include "wire.h"

#define DAY (86400LL * 1000)
#define HOUR (3600LL * 1000)

struct team {
	struct fx *f;
	struct actor doc, gp, pharma, nurse, cardio, coord, admin, hpharma, gp2;
	struct thread t;
	char today[11];
	int64_t j0;
	uint8_t case_id[16];
};

static void
day_text(int64_t ms, char out[11])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static int
team_setup(void **state)
{
	struct team *w = calloc(1, sizeof *w);
	setup((void **)&w->f);
	int64_t now = lsn_clock_now_ms();
	w->j0 = now - now % DAY;
	day_text(w->j0, w->today);
	login_as(w->f, &w->doc, "10101010105", "hospital_doctor", LSN_ROLE_MEMBER | LSN_ROLE_DISCHARGE);
	login_as(w->f, &w->gp, "10000000009", "gp", LSN_ROLE_MEMBER);
	login_as(w->f, &w->pharma, "10123456781", "pharmacist", LSN_ROLE_MEMBER);
	login_as(w->f, &w->nurse, "10998877665", "nurse", LSN_ROLE_MEMBER);
	login_as(w->f, &w->cardio, "10000000017", "cardiologist", LSN_ROLE_MEMBER);
	login_as(w->f, &w->coord, NULL, "coordinator", LSN_ROLE_MEMBER | LSN_ROLE_COORDINATOR);
	login_as(w->f, &w->admin, NULL, "secretary", LSN_ROLE_MEMBER | LSN_ROLE_ADMIN);
	login_as(w->f, &w->hpharma, "10000000033", "hospital_pharmacist", LSN_ROLE_MEMBER);
	login_as(w->f, &w->gp2, "10000000041", "gp", LSN_ROLE_MEMBER);
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

/* A case channel made by the doctor with the GP, pharmacist, nurse and
 * cardiologist, and its case opened by the doctor. */
static json_t *
open_case(struct team *w, const char *pathway)
{
	thread_create(w->f, &w->t, &w->doc, LSN_KIND_CASE);
	struct actor *members[] = {&w->gp, &w->pharma, &w->nurse, &w->cardio};
	for (size_t i = 0; i < 4; i++)
		thread_add(w->f, &w->t, &w->doc, members[i]);
	json_t *r = as(w->f, &w->doc, "case_open", idem(json_pack("{s:o, s:s, s:s}", "channel",
				wire_id(w->t.channel), "pathway", pathway, "j0", w->today)), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	lsn_id_from_hex(json_string_value(json_object_get(json_object_get(r, "case"), "case")), w->case_id);
	return r;
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

static json_t *
case_get(struct team *w, struct actor *who)
{
	json_t *r = as(w->f, who, "case_get", json_pack("{s:o}", "case", wire_id(w->case_id)), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	return r;
}

/* Occurrence 1 of step `code` in a reply with "steps". */
static json_t *
step_of(json_t *reply, const char *code)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(reply, "steps"), i, s)
		if (strcmp(json_string_value(json_object_get(s, "step")), code) == 0 &&
		    json_integer_value(json_object_get(s, "occurrence")) == 1)
			return s;
	return NULL;
}

static const char *
str_of(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static void
hex_of(const uint8_t id[16], char out[33])
{
	lsn_id_to_hex(id, out);
}

/* The step is done by who, between lo and hi (ms, inclusive: the clock runs
 * during the request), through `via` (NULL: by a person). */
static void
assert_done(json_t *step, struct actor *who, int64_t lo, int64_t hi, const char *via)
{
	char hex[33];
	hex_of(who->k.user, hex);
	assert_non_null(step);
	assert_string_equal(str_of(step, "status"), "done");
	assert_string_equal(str_of(step, "done_by"), hex);
	assert_in_range(json_integer_value(json_object_get(step, "done_at")), lo, hi);
	if (via)
		assert_string_equal(str_of(step, "done_via"), via);
	else
		assert_true(json_is_null(json_object_get(step, "done_via")));
}

static json_t *
notice_body(struct team *w, int64_t seq, bool letter, json_t *recipients)
{
	json_t *body = json_pack("{s:o, s:I}", "case", wire_id(w->case_id), "seq", (json_int_t)seq);
	if (letter)
		json_object_set_new(body, "letter", json_true());
	if (recipients)
		json_object_set_new(body, "recipients", recipients);
	return idem(body);
}

static json_t *
ids(struct actor **who, size_t n)
{
	json_t *list = json_array();
	char hex[33];
	for (size_t i = 0; i < n; i++) {
		hex_of(who[i]->k.user, hex);
		json_array_append_new(list, json_string(hex));
	}
	return list;
}

/* ---- actions ------------------------------------------------------------ */

static void
test_notice_with_letter_completes_both(void **state)
{
	struct team *w = *state;
	json_decref(open_case(w, "hospital_discharge"));
	int64_t seq = post_message(w, &w->doc);
	int64_t before = lsn_clock_now_ms();
	json_t *r = as(w->f, &w->doc, "notice_post", notice_body(w, seq, true, NULL), NULL);
	int64_t after = lsn_clock_now_ms();
	assert_true(json_is_true(json_object_get(r, "ok")));
	/* hospital_discharge maps notice_posted → discharge_notice, letter_attached → discharge_letter */
	json_t *done = json_object_get(r, "steps_done");
	assert_int_equal(json_array_size(done), 2);
	assert_string_equal(str_of(json_array_get(done, 0), "step"), "discharge_notice");
	assert_string_equal(str_of(json_array_get(done, 1), "step"), "discharge_letter");
	json_decref(r);
	r = case_get(w, &w->gp);
	assert_done(step_of(r, "discharge_notice"), &w->doc, before, after, "notice_posted");
	assert_done(step_of(r, "discharge_letter"), &w->doc, before, after, "letter_attached");
	/* both at the same instant, the posting */
	assert_int_equal(json_integer_value(json_object_get(step_of(r, "discharge_notice"), "done_at")),
			 json_integer_value(json_object_get(step_of(r, "discharge_letter"), "done_at")));
	assert_string_equal(str_of(step_of(r, "discharge_reconciliation"), "status"), "pending");
	json_decref(r);
}

static void
test_notice_without_letter(void **state)
{
	struct team *w = *state;
	json_decref(open_case(w, "hospital_discharge"));
	int64_t seq = post_message(w, &w->doc);
	json_t *r = as(w->f, &w->doc, "notice_post", notice_body(w, seq, false, NULL), NULL);
	assert_int_equal(json_array_size(json_object_get(r, "steps_done")), 1);
	json_decref(r);
	r = case_get(w, &w->doc);
	assert_string_equal(str_of(step_of(r, "discharge_notice"), "status"), "done");
	assert_string_equal(str_of(step_of(r, "discharge_letter"), "status"), "pending");
	json_decref(r);
}

/* heart_failure has no discharge_notice step: the letter is its only one. */
static void
test_heart_failure_letter(void **state)
{
	struct team *w = *state;
	json_decref(open_case(w, "heart_failure"));
	int64_t seq = post_message(w, &w->doc);
	int64_t before = lsn_clock_now_ms();
	json_t *r = as(w->f, &w->doc, "notice_post", notice_body(w, seq, true, NULL), NULL);
	int64_t after = lsn_clock_now_ms();
	json_t *done = json_object_get(r, "steps_done");
	assert_int_equal(json_array_size(done), 1);
	assert_string_equal(str_of(json_array_get(done, 0), "step"), "discharge_letter");
	json_decref(r);
	r = case_get(w, &w->doc);
	assert_null(step_of(r, "discharge_notice"));
	assert_done(step_of(r, "discharge_letter"), &w->doc, before, after, "letter_attached");
	json_decref(r);
}

/* A step already done by hand keeps who, when and no action. */
static void
test_done_step_left_alone(void **state)
{
	struct team *w = *state;
	json_t *r = open_case(w, "hospital_discharge");
	int64_t letter_id = json_integer_value(json_object_get(step_of(r, "discharge_letter"), "id"));
	json_decref(r);
	r = as(w->f, &w->doc, "step_complete", idem(json_pack("{s:I}", "step", (json_int_t)letter_id)),
	       NULL);
	int64_t by_hand = json_integer_value(json_object_get(json_object_get(r, "step"), "done_at"));
	assert_true(by_hand > 0);
	json_decref(r);
	lsn_clock_advance_ms(HOUR);
	int64_t seq = post_message(w, &w->doc);
	int64_t before = lsn_clock_now_ms();
	r = as(w->f, &w->doc, "notice_post", notice_body(w, seq, true, NULL), NULL);
	int64_t after = lsn_clock_now_ms();
	assert_int_equal(json_array_size(json_object_get(r, "steps_done")), 1);   /* the notice only */
	json_decref(r);
	r = case_get(w, &w->doc);
	assert_done(step_of(r, "discharge_letter"), &w->doc, by_hand, by_hand, NULL);
	assert_done(step_of(r, "discharge_notice"), &w->doc, before, after, "notice_posted");
	assert_true(before >= by_hand + HOUR);
	json_decref(r);
}

static json_t *
closing_counts(struct team *w, const uint8_t episode[16], const char *transition,
	       const char *status)
{
	json_t *body = json_pack("{s:o, s:o, s:s, s:s, s:i, s:i, s:i, s:{}, s:{}, s:i, s:i, s:[], s:I}",
		"case", wire_id(w->case_id), "episode", wire_id(episode), "transition", transition,
		"status", status, "source_types", 3, "lines_bmo", 4, "lines_order", 4, "by_type",
		"by_intent", "unintentional", 0, "resolved", 0, "resolution_ms", "started_at",
		(json_int_t)w->j0);
	if (strcmp(status, "closed") == 0)
		json_object_set_new(body, "closed_at", json_integer(lsn_clock_now_ms()));
	return idem(body);
}

static void
test_reconciliation_closed(void **state)
{
	struct team *w = *state;
	uint8_t episode[16], other[16];
	randombytes_buf(episode, sizeof episode);
	randombytes_buf(other, sizeof other);
	json_decref(open_case(w, "hospital_discharge"));
	/* the hospital pharmacist joins: the reconciliation step is hers */
	thread_add(w->f, &w->t, &w->doc, &w->hpharma);
	assert_true(reply_ok(as(w->f, &w->hpharma, "conciliation_counts",
				closing_counts(w, episode, "discharge", "compared"), NULL)));
	/* an admission reconciliation closed is not the discharge one */
	assert_true(reply_ok(as(w->f, &w->hpharma, "conciliation_counts",
				closing_counts(w, other, "admission", "closed"), NULL)));
	json_t *r = case_get(w, &w->doc);
	assert_string_equal(str_of(step_of(r, "discharge_reconciliation"), "status"), "pending");
	json_decref(r);
	lsn_clock_advance_ms(2 * HOUR);
	int64_t before = lsn_clock_now_ms();
	r = as(w->f, &w->hpharma, "conciliation_counts", closing_counts(w, episode, "discharge", "closed"),
	       NULL);
	int64_t after = lsn_clock_now_ms();
	assert_int_equal(json_array_size(json_object_get(r, "steps_done")), 1);
	json_decref(r);
	r = case_get(w, &w->doc);
	json_t *step = step_of(r, "discharge_reconciliation");
	assert_done(step, &w->hpharma, before, after, "reconciliation_closed");
	int64_t closed = json_integer_value(json_object_get(step, "done_at"));
	json_decref(r);
	/* the same counts again (a later edit of the closed episode): nothing changes */
	lsn_clock_advance_ms(HOUR);
	r = as(w->f, &w->hpharma, "conciliation_counts", closing_counts(w, episode, "discharge", "closed"),
	       NULL);
	assert_int_equal(json_array_size(json_object_get(r, "steps_done")), 0);
	json_decref(r);
	r = case_get(w, &w->doc);
	assert_done(step_of(r, "discharge_reconciliation"), &w->hpharma, closed, closed,
		    "reconciliation_closed");
	json_decref(r);
}

/* A reopened step can be completed again by a person: no action recorded. */
static void
test_reopened_then_done_by_hand(void **state)
{
	struct team *w = *state;
	json_decref(open_case(w, "hospital_discharge"));
	int64_t seq = post_message(w, &w->doc);
	json_decref(as(w->f, &w->doc, "notice_post", notice_body(w, seq, false, NULL), NULL));
	json_t *r = case_get(w, &w->doc);
	int64_t id = json_integer_value(json_object_get(step_of(r, "discharge_notice"), "id"));
	json_decref(r);
	assert_true(reply_ok(as(w->f, &w->coord, "step_reopen", idem(json_pack("{s:I}", "step",
				(json_int_t)id)), NULL)));
	r = case_get(w, &w->doc);
	assert_string_equal(str_of(step_of(r, "discharge_notice"), "status"), "pending");
	assert_true(json_is_null(json_object_get(step_of(r, "discharge_notice"), "done_via")));
	json_decref(r);
	int64_t before = lsn_clock_now_ms();
	assert_true(reply_ok(as(w->f, &w->doc, "step_complete", idem(json_pack("{s:I}", "step",
				(json_int_t)id)), NULL)));
	int64_t after = lsn_clock_now_ms();
	r = case_get(w, &w->doc);
	assert_done(step_of(r, "discharge_notice"), &w->doc, before, after, NULL);
	json_decref(r);
}

/* ---- fixed recipients --------------------------------------------------- */

static json_t *
notice_of(struct team *w)
{
	json_t *r = case_get(w, &w->doc);
	json_t *n = json_incref(json_object_get(r, "notice"));
	json_decref(r);
	return n;
}

static bool
coordinator_escalated(struct team *w)
{
	json_t *r = as(w->f, &w->coord, "notifications", json_object(), NULL);
	size_t i;
	json_t *n;
	bool escalated = false;
	json_array_foreach(json_object_get(r, "notifications"), i, n)
		escalated |= strcmp(str_of(n, "kind"), "notice_escalated") == 0;
	json_decref(r);
	return escalated;
}

static void
ack(struct team *w, struct actor *who, int64_t expect_missing)
{
	json_t *r = as(w->f, who, "ack", idem(json_pack("{s:o}", "case", wire_id(w->case_id))), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_int_equal(json_integer_value(json_object_get(r, "missing")), expect_missing);
	json_decref(r);
}

/* Named recipients: the GP, the pharmacist and the nurse (not the
 * cardiologist). Later members are never missing; 1a reaches 100 %. */
static void
test_named_recipients_fixed(void **state)
{
	struct team *w = *state;
	json_decref(open_case(w, "hospital_discharge"));
	int64_t seq = post_message(w, &w->doc);
	struct actor *named[] = {&w->gp, &w->pharma, &w->nurse};
	json_t *r = as(w->f, &w->doc, "notice_post", notice_body(w, seq, true, ids(named, 3)), NULL);
	assert_int_equal(json_integer_value(json_object_get(r, "recipients")), 3);
	json_decref(r);
	json_t *n = notice_of(w);
	assert_int_equal(json_integer_value(json_object_get(n, "expected")), 3);
	assert_int_equal(json_integer_value(json_object_get(n, "missing")), 3);
	assert_int_equal(json_array_size(json_object_get(n, "recipients")), 3);
	json_decref(n);
	ack(w, &w->gp, 2);
	ack(w, &w->pharma, 1);
	/* two more join the thread: still one missing, the nurse */
	thread_add(w->f, &w->t, &w->doc, &w->hpharma);
	thread_add(w->f, &w->t, &w->doc, &w->gp2);
	n = notice_of(w);
	assert_int_equal(json_integer_value(json_object_get(n, "expected")), 3);
	assert_int_equal(json_integer_value(json_object_get(n, "missing")), 1);
	char nurse[33];
	hex_of(w->nurse.k.user, nurse);
	assert_int_equal(json_array_size(json_object_get(n, "missing_users")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(n, "missing_users"), 0)), nurse);
	json_decref(n);
	ack(w, &w->nurse, 0);
	/* 25 h later: nothing to escalate (the cardiologist and the hospital
	 * pharmacist never acknowledged, but were never sent the notice) */
	json_decref(as(w->f, &w->admin, "clock_advance", json_pack("{s:I}", "ms", (json_int_t)(25 * HOUR)),
		       NULL));
	assert_false(coordinator_escalated(w));
	/* a later member may acknowledge, even 25 h on: recorded, changes nothing */
	ack(w, &w->gp2, 0);
	n = notice_of(w);
	assert_int_equal(json_array_size(json_object_get(n, "acks")), 4);
	assert_int_equal(json_integer_value(json_object_get(n, "missing")), 0);
	json_decref(n);
	/* indicators 1a and 1b: one notice, acknowledged by its 3 recipients
	 * within minutes = 1/1 each (the late acknowledgement of the second GP,
	 * 25 h after posting, is not a recipient's: it moves neither); 1c, the
	 * median time to the last recipient's acknowledgement, is under 1 h */
	char to[11];
	day_text(w->j0 + 2 * DAY, to);
	r = as(w->f, &w->coord, "report", json_pack("{s:s, s:s}", "from", w->today, "to", to), NULL);
	size_t i;
	json_t *row;
	int seen = 0;
	json_array_foreach(json_object_get(r, "indicators"), i, row) {
		const char *id = str_of(row, "id");
		if (strcmp(id, "1a") == 0 || strcmp(id, "1b") == 0) {
			seen++;
			assert_int_equal(json_integer_value(json_object_get(row, "numerator")), 1);
			assert_int_equal(json_integer_value(json_object_get(row, "denominator")), 1);
		} else if (strcmp(id, "1c") == 0) {
			seen++;
			assert_true(json_number_value(json_object_get(row, "value")) < 1.0);
		}
	}
	assert_int_equal(seen, 3);
	json_decref(r);
}

/* Without "recipients": the members other than the poster when it was
 * posted (older clients); a member added later is not one. */
static void
test_default_recipients(void **state)
{
	struct team *w = *state;
	json_decref(open_case(w, "hospital_discharge"));
	int64_t seq = post_message(w, &w->doc);
	json_t *r = as(w->f, &w->doc, "notice_post", notice_body(w, seq, false, NULL), NULL);
	assert_int_equal(json_integer_value(json_object_get(r, "recipients")), 4);
	json_decref(r);
	thread_add(w->f, &w->t, &w->doc, &w->gp2);
	json_t *n = notice_of(w);
	assert_int_equal(json_integer_value(json_object_get(n, "expected")), 4);
	assert_int_equal(json_integer_value(json_object_get(n, "missing")), 4);
	json_decref(n);
	struct actor *all[] = {&w->gp, &w->pharma, &w->nurse};
	for (size_t k = 0; k < 3; k++)
		ack(w, all[k], (int64_t)(3 - k));
	/* escalation after 25 h: the cardiologist, a recipient, has not acknowledged */
	json_decref(as(w->f, &w->admin, "clock_advance", json_pack("{s:I}", "ms", (json_int_t)(25 * HOUR)),
		       NULL));
	assert_true(coordinator_escalated(w));
}

static void
test_recipients_refused(void **state)
{
	struct team *w = *state;
	char c[32];
	json_decref(open_case(w, "hospital_discharge"));
	int64_t seq = post_message(w, &w->doc);
	struct actor *outsider[] = {&w->gp2};
	struct actor *self[] = {&w->gp, &w->doc};
	struct actor *twice[] = {&w->gp, &w->gp};
	assert_string_equal(code_of(as(w->f, &w->doc, "notice_post", notice_body(w, seq, false,
				ids(outsider, 1)), NULL), c, sizeof c), "bad_request");
	assert_string_equal(code_of(as(w->f, &w->doc, "notice_post", notice_body(w, seq, false,
				ids(self, 2)), NULL), c, sizeof c), "bad_request");
	assert_string_equal(code_of(as(w->f, &w->doc, "notice_post", notice_body(w, seq, false,
				ids(twice, 2)), NULL), c, sizeof c), "bad_request");
	assert_string_equal(code_of(as(w->f, &w->doc, "notice_post", notice_body(w, seq, false,
				json_array()), NULL), c, sizeof c), "bad_request");
	assert_string_equal(code_of(as(w->f, &w->doc, "notice_post", notice_body(w, seq, false,
				json_string("everyone")), NULL), c, sizeof c), "bad_request");
	json_t *r = as(w->f, &w->doc, "notice_post", notice_body(w, seq, false, json_pack("[s]", "zz")),
		       NULL);
	assert_string_equal(str_of(json_object_get(r, "error"), "code"), "bad_request");
	assert_non_null(strstr(str_of(json_object_get(r, "error"), "message"), "recipients[0]"));
	json_decref(r);
	/* nothing was kept of the refused requests: a correct one goes through */
	struct actor *good[] = {&w->nurse};
	r = as(w->f, &w->doc, "notice_post", notice_body(w, seq, false, ids(good, 1)), NULL);
	assert_int_equal(json_integer_value(json_object_get(r, "recipients")), 1);
	json_decref(r);
	json_t *n = notice_of(w);
	assert_int_equal(json_integer_value(json_object_get(n, "expected")), 1);
	json_decref(n);
}

/* ---- limits against noise ----------------------------------------------- */

static void
test_one_alert_per_message(void **state)
{
	struct team *w = *state;
	json_decref(open_case(w, "heart_failure"));
	int64_t seq = post_message(w, &w->nurse);
	json_t *alert = json_pack("{s:o, s:I}", "case", wire_id(w->case_id), "seq", (json_int_t)seq);
	json_t *r = as(w->f, &w->nurse, "alert", idem(json_deep_copy(alert)), NULL);
	assert_int_equal(json_integer_value(json_object_get(r, "notified")), 2);   /* GP, cardiologist */
	json_decref(r);
	struct effects fx;
	effects_init(&fx);
	r = as(w->f, &w->nurse, "alert", idem(json_deep_copy(alert)), &fx);
	assert_string_equal(str_of(json_object_get(r, "error"), "code"), "already_alerted");
	assert_non_null(strstr(str_of(json_object_get(r, "error"), "message"), "new message"));
	json_decref(r);
	assert_null(fx.head);      /* nobody is notified a second time */
	effects_free(&fx);
	/* the GP's count of alert notifications is still 1 */
	r = as(w->f, &w->gp, "notifications", json_object(), NULL);
	size_t i, alerts = 0;
	json_t *n;
	json_array_foreach(json_object_get(r, "notifications"), i, n)
		alerts += strcmp(str_of(n, "kind"), "alert") == 0;
	json_decref(r);
	assert_int_equal(alerts, 1);
	/* a new message may alert again */
	int64_t seq2 = post_message(w, &w->nurse);
	assert_true(reply_ok(as(w->f, &w->nurse, "alert", idem(json_pack("{s:o, s:I}", "case",
				wire_id(w->case_id), "seq", (json_int_t)seq2)), NULL)));
	json_decref(alert);
}

static const char *
open_at(struct team *w, struct actor *who, int64_t j0)
{
	static char code[32];
	char day[11];
	day_text(j0, day);
	thread_create(w->f, &w->t, who, LSN_KIND_CASE);
	return code_of(as(w->f, who, "case_open", idem(json_pack("{s:o, s:s, s:s}", "channel",
			wire_id(w->t.channel), "pathway", "heart_failure", "j0", day)), NULL),
		       code, sizeof code);
}

static void
test_backdate_limit(void **state)
{
	struct team *w = *state;
	/* default 30 days: today − 30 is accepted, today − 31 is not */
	assert_int_equal(w->f->cfg.case_backdate_max_days, 30);
	assert_string_equal(open_at(w, &w->doc, w->j0 - 30 * DAY), "ok");
	assert_string_equal(open_at(w, &w->doc, w->j0 - 31 * DAY), "case_backdated");
	/* the refusal says what to do */
	char day[11];
	day_text(w->j0 - 400 * DAY, day);
	thread_create(w->f, &w->t, &w->doc, LSN_KIND_CASE);
	json_t *r = as(w->f, &w->doc, "case_open", idem(json_pack("{s:o, s:s, s:s}", "channel",
			wire_id(w->t.channel), "pathway", "heart_failure", "j0", day)), NULL);
	assert_string_equal(str_of(json_object_get(r, "error"), "code"), "case_backdated");
	assert_non_null(strstr(str_of(json_object_get(r, "error"), "message"), "ask the CPTS coordinator"));
	json_decref(r);
	/* a coordinator may open it */
	assert_string_equal(open_at(w, &w->coord, w->j0 - 400 * DAY), "ok");
	/* the limit follows the configuration */
	w->f->cfg.case_backdate_max_days = 5;
	assert_string_equal(open_at(w, &w->doc, w->j0 - 5 * DAY), "ok");
	assert_string_equal(open_at(w, &w->doc, w->j0 - 6 * DAY), "case_backdated");
	/* future and today's J0 are not concerned */
	assert_string_equal(open_at(w, &w->doc, w->j0 + 3 * DAY), "ok");
}

/* ---- migration 008 on existing data ------------------------------------- */

struct id_list {
	uint8_t id[8][16];
	size_t n;
};

static void
collect_id(const uint8_t id[16], void *arg)
{
	struct id_list *l = arg;
	if (l->n < 8)
		memcpy(l->id[l->n++], id, 16);
}

struct step_rows {
	struct store_step st[8];
	size_t n;
};

static void
collect_step(const struct store_step *st, void *arg)
{
	struct step_rows *r = arg;
	if (r->n < 8)
		r->st[r->n++] = *st;
}

static const struct store_step *
row_of(const struct step_rows *r, const char *code)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->st[i].step, code) == 0)
			return &r->st[i];
	fail_msg("no step %s", code);
	return NULL;
}

/* An id as an SQL blob literal: 15 zero bytes, then byte n (two hex digits). */
#define ID(n) "X'000000000000000000000000000000" n "'"

/* A database at version 7 with three cases (ids 'A'..., 'B'..., 'C'... as
 * bytes): A open with a notice posted at 350 by user 2 and a discharge
 * reconciliation closed at 900 by user 3; B closed with a notice; C open
 * with an admission reconciliation closed. Channel of A: user 1 (poster's
 * colleague) joined at 100, user 2 (the poster) at 200, user 3 at 300,
 * user 4 at 400 (after the notice), user 5 at 200 but has left. Then the
 * migration. Expected, by hand: recipients of A = users 1 and 3; A's notice
 * and reconciliation steps done (by 2 at 350, by 3 at 900), its letter and
 * GP steps pending; nothing of B or C changed. */
static void
test_migration_backfill(void **state)
{
	(void)state;
	char dir[] = "/tmp/lsn-actions-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/liaison.db", dir);
	struct store_options opt = {.sync = STORE_SYNC_FULL, .create = true, .migrate_to = 7};
	struct lsn_status st = {0};
	struct store *s = NULL;
	assert_int_equal(store_open(&s, path, &opt, &st), LSN_OK);
	store_close(s);
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	const char *sql =
		"PRAGMA foreign_keys = OFF;"
		"INSERT INTO users(id,name,profession,org_id,roles,ik,created_at) VALUES"
		" (" ID("01") ",'u1','gp',zeroblob(16),1,zeroblob(32),0),"
		" (" ID("02") ",'u2','hospital_doctor',zeroblob(16),1,zeroblob(32),0),"
		" (" ID("03") ",'u3','hospital_pharmacist',zeroblob(16),1,zeroblob(32),0),"
		" (" ID("04") ",'u4','gp',zeroblob(16),1,zeroblob(32),0),"
		" (" ID("05") ",'u5','nurse',zeroblob(16),1,zeroblob(32),0);"
		"INSERT INTO channels(id,kind,history,creator,created_at,log_seq,log_hash) VALUES"
		" (" ID("A1") ",'case','shared'," ID("02") ",0,5,zeroblob(32)),"
		" (" ID("B1") ",'case','shared'," ID("02") ",0,1,zeroblob(32)),"
		" (" ID("C1") ",'case','shared'," ID("02") ",0,1,zeroblob(32));"
		"INSERT INTO channel_log(channel_id,seq,entry,created_at) VALUES"
		" (" ID("A1") ",1,'{}',100),(" ID("A1") ",2,'{}',200),"
		" (" ID("A1") ",3,'{}',300),(" ID("A1") ",4,'{}',400);"
		"INSERT INTO channel_members(channel_id,user_id,role,since_log_seq,left_msg_seq) VALUES"
		" (" ID("A1") "," ID("01") ",'member',1,NULL),"
		" (" ID("A1") "," ID("02") ",'admin',2,NULL),"
		" (" ID("A1") "," ID("03") ",'member',3,NULL),"
		" (" ID("A1") "," ID("04") ",'member',4,NULL),"
		" (" ID("A1") "," ID("05") ",'member',2,7);"
		"INSERT INTO cases(id,patient_ref,pathway,template_version,channel_id,j0,status,opened_by,"
		" opened_at) VALUES"
		" (" ID("0A") ",'P-AAAAAAAA','hospital_discharge',1," ID("A1") ",0,'open',"
		"  " ID("02") ",0),"
		" (" ID("0B") ",'P-BBBBBBBB','hospital_discharge',1," ID("B1") ",0,'closed',"
		"  " ID("02") ",0),"
		" (" ID("0C") ",'P-CCCCCCCC','hospital_discharge',1," ID("C1") ",0,'open',"
		"  " ID("02") ",0);"
		"INSERT INTO case_steps(case_id,step,occurrence,roles,status,updated_at)"
		" SELECT c.id, s.step, 1, 'x', 'pending', 0 FROM cases c, (SELECT 'discharge_notice' AS step"
		"  UNION SELECT 'discharge_letter' UNION SELECT 'discharge_reconciliation'"
		"  UNION SELECT 'gp_consultation') s;"
		"INSERT INTO case_notices(case_id,message_seq,posted_by,posted_at) VALUES"
		" (" ID("0A") ",1," ID("02") ",350),"
		" (" ID("0B") ",1," ID("02") ",350);"
		"INSERT INTO conciliation_counts VALUES"
		" (" ID("0A") "," ID("E1") ",'discharge','closed',3,1,1,0,'{}','{}',0,0,'[]',0,"
		"  NULL,900," ID("03") ",950),"
		" (" ID("0C") "," ID("E2") ",'admission','closed',3,1,1,0,'{}','{}',0,0,'[]',0,"
		"  NULL,900," ID("03") ",950);";
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("fixture: %s", msg);
	sqlite3_close(db);

	opt.migrate_to = 0;
	assert_int_equal(store_open(&s, path, &opt, &st), LSN_OK);
	uint8_t a[16] = {0}, b[16] = {0}, c[16] = {0}, u2[16] = {0}, u3[16] = {0};
	a[15] = 0x0A;
	b[15] = 0x0B;
	c[15] = 0x0C;
	u2[15] = 2;
	u3[15] = 3;
	struct id_list rec = {0};
	assert_int_equal(store_notice_recipients(s, a, collect_id, &rec), LSN_OK);
	assert_int_equal(rec.n, 2);
	assert_int_equal(rec.id[0][15], 1);   /* ordered by id */
	assert_int_equal(rec.id[1][15], 3);
	struct step_rows ra = {0}, rb = {0}, rc = {0};
	assert_int_equal(store_step_list(s, a, collect_step, &ra), LSN_OK);
	assert_int_equal(store_step_list(s, b, collect_step, &rb), LSN_OK);
	assert_int_equal(store_step_list(s, c, collect_step, &rc), LSN_OK);
	const struct store_step *n = row_of(&ra, "discharge_notice");
	assert_string_equal(n->status, "done");
	assert_memory_equal(n->done_by, u2, 16);
	assert_int_equal(n->done_at, 350);
	assert_string_equal(n->done_via, "notice_posted");
	const struct store_step *k = row_of(&ra, "discharge_reconciliation");
	assert_string_equal(k->status, "done");
	assert_memory_equal(k->done_by, u3, 16);
	assert_int_equal(k->done_at, 900);
	assert_string_equal(k->done_via, "reconciliation_closed");
	assert_string_equal(row_of(&ra, "discharge_letter")->status, "pending");
	assert_string_equal(row_of(&ra, "gp_consultation")->status, "pending");
	for (size_t i = 0; i < rb.n; i++)
		assert_string_equal(rb.st[i].status, "pending");   /* closed case: untouched */
	for (size_t i = 0; i < rc.n; i++)
		assert_string_equal(rc.st[i].status, "pending");   /* an admission reconciliation */
	store_close(s);
	const char *suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		char p[80];
		snprintf(p, sizeof p, "%s%s", path, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_notice_with_letter_completes_both, team_setup,
						team_teardown),
		cmocka_unit_test_setup_teardown(test_notice_without_letter, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_heart_failure_letter, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_done_step_left_alone, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_reconciliation_closed, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_reopened_then_done_by_hand, team_setup,
						team_teardown),
		cmocka_unit_test_setup_teardown(test_named_recipients_fixed, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_default_recipients, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_recipients_refused, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_one_alert_per_message, team_setup, team_teardown),
		cmocka_unit_test_setup_teardown(test_backdate_limit, team_setup, team_teardown),
		cmocka_unit_test(test_migration_backfill),
	};
	return cmocka_run_group_tests_name("case_actions", tests, NULL, NULL);
}
