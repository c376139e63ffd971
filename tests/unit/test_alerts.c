/* test_alerts.c — alert kinds routed by template data (011), through the
 * real dispatcher: who each kind notifies (professions among the current
 * members of the case thread; 'coordinator': the coordinators of the case's
 * CPTS, members or not, never those of another CPTS), each person once; the
 * kind carried by the notification and the pushed event; the kinds and
 * thresholds op "pathways" hands to clients; malformed and unknown kinds
 * refused without a trace; the alerts of a case since a time as the store
 * lists them (op recent_alerts): bounds, order, labels, and the case filter
 * on alerts and notices. Every expected figure is written by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "clock.h"
#include "msg_header.h"
#include "server_fixture.h"
#include "wire.h"

#define DAY (86400LL * 1000)

struct world {
	struct fx *f;
	struct store_org cpts_b;
	/* the fixture's CPTS: doc, gp, cardio, psy, psycho, nurse, coord;
	 * another CPTS: other (a coordinator) */
	struct actor doc, gp, cardio, psy, psycho, nurse, coord, other;
	struct thread t;
	char today[11];
	uint8_t case_id[16];
};

static const char *
str_of(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int
world_setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	setup((void **)&w->f);
	int64_t now = lsn_clock_now_ms();
	time_t t = (time_t)((now - now % DAY) / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(w->today, sizeof w->today, "%Y-%m-%d", &tm);
	unsigned member = LSN_ROLE_MEMBER, coord = LSN_ROLE_MEMBER | LSN_ROLE_COORDINATOR;
	login_as(w->f, &w->doc, "10101010105", "hospital_doctor", member | LSN_ROLE_DISCHARGE);
	login_as(w->f, &w->gp, "10000000009", "gp", member);
	login_as(w->f, &w->cardio, "10000000017", "cardiologist", member);
	login_as(w->f, &w->psy, "10000000025", "psychiatrist", member);
	login_as(w->f, &w->psycho, "10000000058", "psychologist", member);
	login_as(w->f, &w->nurse, "10998877665", "nurse", member);
	login_as(w->f, &w->coord, NULL, "coordinator", coord);
	/* a coordinator of another CPTS */
	w->cpts_b = (struct store_org){0};
	randombytes_buf(w->cpts_b.id, sizeof w->cpts_b.id);
	snprintf(w->cpts_b.name, sizeof w->cpts_b.name, "CPTS Voisine");
	snprintf(w->cpts_b.finess, sizeof w->cpts_b.finess, "450000013");
	snprintf(w->cpts_b.kind, sizeof w->cpts_b.kind, "cpts");
	w->cpts_b.created_at = now;
	assert_int_equal(store_org_create(w->f->store, &w->cpts_b), LSN_OK);
	struct store_org keep = w->f->org;
	w->f->org = w->cpts_b;
	login_as(w->f, &w->other, NULL, "coordinator", coord);
	w->f->org = keep;
	*state = w;
	return 0;
}

static int
world_teardown(void **state)
{
	struct world *w = *state;
	void *f = w->f;
	teardown(&f);
	free(w);
	return 0;
}

/* A case of pathway opened by the doctor, with the members listed. */
static void
open_case(struct world *w, const char *pathway, struct actor **members, size_t n)
{
	thread_create(w->f, &w->t, &w->doc, LSN_KIND_CASE);
	for (size_t i = 0; i < n; i++)
		thread_add(w->f, &w->t, &w->doc, members[i]);
	json_t *r = as(w->f, &w->doc, "case_open", idem(json_pack("{s:o, s:s, s:s}", "channel",
				wire_id(w->t.channel), "pathway", pathway, "j0", w->today)), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	lsn_id_from_hex(str_of(json_object_get(r, "case"), "case"), w->case_id);
	json_decref(r);
}

static int64_t
post_message(struct world *w, struct actor *who)
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
alert_body(struct world *w, int64_t seq, const char *kind)
{
	json_t *b = json_pack("{s:o, s:I}", "case", wire_id(w->case_id), "seq", (json_int_t)seq);
	if (kind)
		json_object_set_new(b, "kind", json_string(kind));
	return idem(b);
}

/* The alert kinds of who's unseen "alert" notifications, comma-joined. */
static void
alert_kinds_of(struct world *w, struct actor *who, char *out, size_t cap)
{
	json_t *r = as(w->f, who, "notifications", json_object(), NULL), *n;
	size_t i, len = 0;
	out[0] = '\0';
	json_array_foreach(json_object_get(r, "notifications"), i, n) {
		if (strcmp(str_of(n, "kind"), "alert") != 0)
			continue;
		const char *k = str_of(n, "alert_kind");
		len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? "," : "", k ? k : "?");
	}
	json_decref(r);
}

/* The users an effects list pushes an "alert" event to, with the kind each
 * event carries; returns how many. */
static size_t
alert_events(struct effects *fx, const char *want_kind)
{
	size_t n = 0;
	for (struct effect *e = fx->head; e; e = e->next) {
		if (e->kind != EFFECT_EVENT_USER)
			continue;
		json_t *ev = json_loadb(e->frame, e->frame_len, 0, NULL);
		assert_non_null(ev);
		if (strcmp(str_of(ev, "ev"), "alert") == 0) {
			assert_string_equal(str_of(ev, "alert_kind"), want_kind);
			n++;
		}
		json_decref(ev);
	}
	return n;
}

static void
test_suicide_risk_route(void **state)
{
	struct world *w = *state;
	struct actor *members[] = {&w->gp, &w->cardio, &w->psy, &w->psycho, &w->nurse};
	open_case(w, "anxiety_depression", members, 5);
	int64_t seq = post_message(w, &w->psycho);
	struct effects fx;
	effects_init(&fx);
	json_t *r = as(w->f, &w->psycho, "alert", alert_body(w, seq, "suicide_risk"), &fx);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_string_equal(str_of(r, "kind"), "suicide_risk");
	/* GP, psychiatrist (members), coordinator of the case's CPTS (not a member) */
	assert_int_equal(json_integer_value(json_object_get(r, "notified")), 3);
	json_decref(r);
	assert_int_equal(alert_events(&fx, "suicide_risk"), 3);
	effects_free(&fx);
	char kinds[128];
	struct actor *yes[] = {&w->gp, &w->psy, &w->coord};
	for (size_t i = 0; i < 3; i++) {
		alert_kinds_of(w, yes[i], kinds, sizeof kinds);
		assert_string_equal(kinds, "suicide_risk");
	}
	/* not the cardiologist, the nurse, the psychologist who raised it, the
	 * coordinator of another CPTS */
	struct actor *no[] = {&w->cardio, &w->nurse, &w->psycho, &w->other};
	for (size_t i = 0; i < 4; i++) {
		alert_kinds_of(w, no[i], kinds, sizeof kinds);
		assert_string_equal(kinds, "");
	}
}

static void
test_coordinator_member_once(void **state)
{
	struct world *w = *state;
	/* the coordinator is also a member: notified once */
	struct actor *members[] = {&w->gp, &w->psy, &w->coord};
	open_case(w, "anxiety_depression", members, 3);
	int64_t seq = post_message(w, &w->gp);
	json_t *r = as(w->f, &w->gp, "alert", alert_body(w, seq, "suicide_risk"), NULL);
	assert_int_equal(json_integer_value(json_object_get(r, "notified")), 3);   /* gp, psy, coord */
	json_decref(r);
	char kinds[128];
	alert_kinds_of(w, &w->coord, kinds, sizeof kinds);
	assert_string_equal(kinds, "suicide_risk");
	/* severe_depression: GP and psychiatrist only */
	seq = post_message(w, &w->gp);
	r = as(w->f, &w->gp, "alert", alert_body(w, seq, "severe_depression"), NULL);
	assert_int_equal(json_integer_value(json_object_get(r, "notified")), 2);
	json_decref(r);
	alert_kinds_of(w, &w->psy, kinds, sizeof kinds);
	assert_string_equal(kinds, "suicide_risk,severe_depression");
	alert_kinds_of(w, &w->coord, kinds, sizeof kinds);
	assert_string_equal(kinds, "suicide_risk");
}

static void
test_clinical_default(void **state)
{
	struct world *w = *state;
	struct actor *members[] = {&w->gp, &w->cardio, &w->nurse, &w->psy};
	open_case(w, "heart_failure", members, 4);
	int64_t seq = post_message(w, &w->nurse);
	json_t *r = as(w->f, &w->nurse, "alert", alert_body(w, seq, NULL), NULL);
	assert_string_equal(str_of(r, "kind"), "clinical");
	assert_int_equal(json_integer_value(json_object_get(r, "notified")), 2);   /* GP, cardiologist */
	json_decref(r);
	char kinds[128];
	alert_kinds_of(w, &w->cardio, kinds, sizeof kinds);
	assert_string_equal(kinds, "clinical");
	alert_kinds_of(w, &w->coord, kinds, sizeof kinds);
	assert_string_equal(kinds, "");
	/* a measurement kind of heart failure */
	seq = post_message(w, &w->nurse);
	r = as(w->f, &w->nurse, "alert", alert_body(w, seq, "weight_gain"), NULL);
	assert_int_equal(json_integer_value(json_object_get(r, "notified")), 2);
	json_decref(r);
	alert_kinds_of(w, &w->gp, kinds, sizeof kinds);
	assert_string_equal(kinds, "clinical,weight_gain");
}

static void
test_bad_kinds(void **state)
{
	struct world *w = *state;
	struct actor *members[] = {&w->gp, &w->cardio, &w->nurse};
	open_case(w, "heart_failure", members, 3);
	int64_t seq = post_message(w, &w->nurse);
	char c[32];
	/* a kind of another template, malformed kinds, a kind that is not text */
	const char *bad[] = {"suicide_risk", "", "Weight_Gain", "weight gain", "weight_gain\n",
			     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "../clinical"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *r = as(w->f, &w->nurse, "alert", alert_body(w, seq, bad[i]), NULL);
		assert_string_equal(str_of(json_object_get(r, "error"), "code"), "bad_request");
		assert_non_null(strstr(str_of(json_object_get(r, "error"), "message"), "kind"));
		json_decref(r);
	}
	json_t *b = alert_body(w, seq, NULL);
	json_object_set_new(b, "kind", json_integer(3));
	assert_string_equal(code_of(as(w->f, &w->nurse, "alert", b, NULL), c, sizeof c), "bad_request");
	/* the unknown one names the pathway and where to look */
	json_t *r = as(w->f, &w->nurse, "alert", alert_body(w, seq, "suicide_risk"), NULL);
	assert_non_null(strstr(str_of(json_object_get(r, "error"), "message"), "heart_failure"));
	json_decref(r);
	/* nothing was kept: the message may still raise its one alert */
	char kinds[128];
	alert_kinds_of(w, &w->gp, kinds, sizeof kinds);
	assert_string_equal(kinds, "");
	assert_true(reply_ok(as(w->f, &w->nurse, "alert", alert_body(w, seq, "hyperkalaemia"), NULL)));
	assert_string_equal(code_of(as(w->f, &w->nurse, "alert", alert_body(w, seq, "clinical"), NULL),
				    c, sizeof c), "already_alerted");
}

static json_t *
template_of(json_t *reply, const char *code, int64_t version)
{
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(reply, "pathways"), i, t)
		if (strcmp(str_of(t, "pathway"), code) == 0 &&
		    json_integer_value(json_object_get(t, "version")) == version)
			return t;
	return NULL;
}

static void
test_pathways_carry_thresholds(void **state)
{
	struct world *w = *state;
	json_t *r = as(w->f, &w->gp, "pathways", json_object(), NULL);
	json_t *hf = template_of(r, "heart_failure", 2), *ad = template_of(r, "anxiety_depression", 2);
	assert_non_null(hf);
	assert_non_null(ad);
	/* heart failure: weight + 2 kg within 3 days → weight_gain */
	json_t *t, *found = NULL;
	size_t i;
	json_array_foreach(json_object_get(hf, "thresholds"), i, t)
		if (strcmp(str_of(t, "measure"), "weight") == 0)
			found = t;
	assert_non_null(found);
	assert_string_equal(str_of(found, "rule"), "rise");
	assert_true(json_real_value(json_object_get(found, "amount")) == 2.0);
	assert_int_equal(json_integer_value(json_object_get(found, "days")), 3);
	assert_string_equal(str_of(found, "alert_kind"), "weight_gain");
	/* anxiety-depression: item 9 at least 1 → suicide_risk, first */
	t = json_array_get(json_object_get(ad, "thresholds"), 0);
	assert_string_equal(str_of(t, "measure"), "phq9_item9");
	assert_string_equal(str_of(t, "rule"), "at_least");
	assert_true(json_real_value(json_object_get(t, "amount")) == 1.0);
	assert_true(json_is_null(json_object_get(t, "days")));
	t = json_array_get(json_object_get(ad, "thresholds"), 1);
	assert_string_equal(str_of(t, "measure"), "phq9_total");
	assert_true(json_real_value(json_object_get(t, "amount")) == 20.0);
	/* the routes: suicide_risk first, with the coordinator */
	t = json_array_get(json_object_get(ad, "alerts"), 0);
	assert_string_equal(str_of(t, "kind"), "suicide_risk");
	assert_string_equal(str_of(t, "roles"), "gp|psychiatrist|coordinator");
	/* every template knows clinical */
	json_array_foreach(json_object_get(r, "pathways"), i, t) {
		json_t *a, *clinical = NULL;
		size_t j;
		json_array_foreach(json_object_get(t, "alerts"), j, a)
			if (strcmp(str_of(a, "kind"), "clinical") == 0)
				clinical = a;
		assert_non_null(clinical);
		assert_string_equal(str_of(clinical, "roles"), "gp|cardiologist");
	}
	json_decref(r);
}

/* ---- a case's alerts since a time (store_case_alerts, store_case_list) ---- */

struct raised {
	size_t n;
	struct store_raised_alert a[8];
};

static void
keep_raised(const struct store_raised_alert *a, void *arg)
{
	struct raised *r = arg;
	if (r->n < 8)
		r->a[r->n++] = *a;
}

static void
count_case(const struct store_case *c, void *arg)
{
	(void)c;
	(*(size_t *)arg)++;
}

/* How many cases every-case listing finds with alerted_since / with_notice. */
static size_t
cases_with(struct world *w, int64_t alerted_since, bool with_notice)
{
	struct store_case_filter f = {.all = true, .alerted_since = alerted_since,
				      .with_notice = with_notice};
	size_t n = 0;
	assert_int_equal(store_case_list(w->f->store, &f, count_case, &n), LSN_OK);
	return n;
}

static void
test_case_alerts_since(void **state)
{
	struct world *w = *state;
	struct actor *members[] = {&w->gp, &w->cardio};
	open_case(w, "heart_failure", members, 2);
	const int64_t since = 1800000000000;   /* 2027-01-15T08:00:00Z */
	struct store *s = w->f->store;
	/* one before the bound, one on it, two at the same later time; a kind the
	 * case's template version does not know (raised before a change of
	 * template data) keeps its code as its label */
	assert_int_equal(store_alert_put(s, w->case_id, 1, w->gp.k.user, since - 1, "weight_gain"),
			 LSN_OK);
	assert_int_equal(store_alert_put(s, w->case_id, 2, w->cardio.k.user, since, "hyperkalaemia"),
			 LSN_OK);
	assert_int_equal(store_alert_put(s, w->case_id, 3, w->gp.k.user, since + 5, "old_kind"),
			 LSN_OK);
	assert_int_equal(store_alert_put(s, w->case_id, 4, w->gp.k.user, since + 5, "clinical"),
			 LSN_OK);
	struct raised r = {0};
	assert_int_equal(store_case_alerts(s, w->case_id, since, keep_raised, &r), LSN_OK);
	/* newest first, the later message first on a tie; seq 1 is before since */
	assert_int_equal(r.n, 3);
	assert_int_equal(r.a[0].seq, 4);
	assert_string_equal(r.a[0].kind, "clinical");
	assert_string_equal(r.a[0].label_fr, "Alerte clinique");
	assert_int_equal(r.a[0].at, since + 5);
	assert_memory_equal(r.a[0].by, w->gp.k.user, 16);
	assert_int_equal(r.a[1].seq, 3);
	assert_string_equal(r.a[1].label_fr, "old_kind");
	assert_int_equal(r.a[2].seq, 2);
	assert_string_equal(r.a[2].label_fr, "Kaliémie élevée");
	assert_memory_equal(r.a[2].by, w->cardio.k.user, 16);
	r.n = 0;
	assert_int_equal(store_case_alerts(s, w->case_id, since + 6, keep_raised, &r), LSN_OK);
	assert_int_equal(r.n, 0);
	/* the case filter: an alert at or after alerted_since; a posted notice */
	assert_int_equal(cases_with(w, since + 5, false), 1);
	assert_int_equal(cases_with(w, since + 6, false), 0);
	assert_int_equal(cases_with(w, 0, true), 0);
	json_t *n = as(w->f, &w->doc, "notice_post", idem(json_pack("{s:o, s:I}", "case",
		       wire_id(w->case_id), "seq", (json_int_t)post_message(w, &w->doc))), NULL);
	assert_true(reply_ok(n)); /* reply_ok drops the reply */
	assert_int_equal(cases_with(w, 0, true), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_suicide_risk_route, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_coordinator_member_once, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_clinical_default, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_bad_kinds, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_pathways_carry_thresholds, world_setup,
						world_teardown),
		cmocka_unit_test_setup_teardown(test_case_alerts_since, world_setup, world_teardown),
	};
	return cmocka_run_group_tests_name("alerts", tests, NULL, NULL);
}
