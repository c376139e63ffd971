/* test_pathway.c — care pathways: the templates of schema/004_pathways.sql
 * read back from a real store and expanded day by day against dates written
 * by hand from the clinical design (docs/PATHWAYS.md); due dates at the end
 * of Paris days across a month end, a year end and the 2027 DST changes;
 * local calendar days between two times; the J0 parser;
 * role matching; every step transition with its error code; case close
 * reasons; and a fourth pathway (and a second version of it) added as data
 * only, through raw SQL, with no code change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "err.h"
#include "ident.h"
#include "pathway.h"
#include "store.h"

/* ---- fixture: a real store, migrated from empty ------------------------- */

struct pw_fixture {
	char dir[64];
	char path[128];
	struct store *s;
};

static struct store *
open_store(const char *path)
{
	struct store_options opt = {.sync = STORE_SYNC_NORMAL, .create = true};
	struct lsn_status st = {0};
	struct store *s = NULL;
	assert_int_equal(store_open(&s, path, &opt, &st), LSN_OK);
	assert_non_null(s);
	return s;
}

static int
pw_setup(void **state)
{
	struct pw_fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/lsn-pathway-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/liaison.db", f->dir);
	f->s = open_store(f->path);
	*state = f;
	return 0;
}

static int
pw_teardown(void **state)
{
	struct pw_fixture *f = *state;
	if (f->s)
		store_close(f->s);
	char p[160];
	const char *suffixes[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- schedule rows and expansions --------------------------------------- */

struct rowbuf {
	struct store_schedule_row v[64];
	size_t n;
	bool overflow;
};

static void
collect_row(const struct store_schedule_row *r, void *arg)
{
	struct rowbuf *b = arg;
	if (b->n == sizeof b->v / sizeof b->v[0]) {
		b->overflow = true;
		return;
	}
	b->v[b->n++] = *r;
}

static void
load_rows(struct store *s, const char *code, int64_t version, struct rowbuf *b)
{
	memset(b, 0, sizeof *b);
	assert_int_equal(store_template_schedule(s, code, version, collect_row, b), LSN_OK);
	assert_false(b->overflow);
}

struct occ {
	char step[48];
	int64_t occurrence;
	char roles[96];
	int64_t day;
	int64_t due_at;
};

struct occbuf {
	struct occ v[64];
	size_t n;
	bool overflow;
};

static void
collect_occ(const struct pathway_occurrence *o, void *arg)
{
	struct occbuf *b = arg;
	if (b->n == sizeof b->v / sizeof b->v[0]) {
		b->overflow = true;
		return;
	}
	struct occ *c = &b->v[b->n++];
	snprintf(c->step, sizeof c->step, "%s", o->step);
	snprintf(c->roles, sizeof c->roles, "%s", o->roles);
	c->occurrence = o->occurrence;
	c->day = o->day;
	c->due_at = o->due_at;
}

/* Expand a template's real rows for flags and j0; returns the count. */
static int
expand(struct store *s, const char *code, const char *flags, int64_t j0, struct occbuf *out)
{
	struct rowbuf rows;
	load_rows(s, code, 1, &rows);
	memset(out, 0, sizeof *out);
	int n = pathway_expand(rows.v, rows.n, flags, j0, collect_occ, out);
	assert_false(out->overflow);
	assert_int_equal((size_t)n, out->n);
	return n;
}

/* One expected occurrence, written by hand from the design. */
struct want {
	const char *step;
	int64_t occurrence;
	int64_t day;                   /* -1: no deadline */
	const char *roles;
};

/* The last ms of local day j0 + day, through the C library alone (mktime
 * normalises the day of the month across months, years and DST changes). */
static int64_t
local_day_end(int64_t j0, int64_t day)
{
	time_t t = (time_t)(j0 / 1000);
	struct tm tm;
	assert_non_null(localtime_r(&t, &tm));
	struct tm next = {.tm_year = tm.tm_year, .tm_mon = tm.tm_mon,
			  .tm_mday = tm.tm_mday + (int)day + 1, .tm_isdst = -1};
	return (int64_t)mktime(&next) * 1000 - 1;
}

static void
check_expansion(const struct occbuf *got, const struct want *want, size_t n, int64_t j0,
		const char *what)
{
	for (size_t i = 0; i < n && i < got->n; i++) {
		const struct occ *g = &got->v[i];
		const struct want *w = &want[i];
		if (strcmp(g->step, w->step) != 0 || g->occurrence != w->occurrence ||
		    g->day != w->day || strcmp(g->roles, w->roles) != 0)
			fail_msg("%s, occurrence #%zu: got %s #%lld J%lld (%s), want %s #%lld J%lld (%s)",
				 what, i, g->step, (long long)g->occurrence, (long long)g->day, g->roles,
				 w->step, (long long)w->occurrence, (long long)w->day, w->roles);
		assert_int_equal(g->due_at, w->day < 0 ? 0 : local_day_end(j0, w->day));
	}
	if (got->n != n)
		fail_msg("%s: %zu occurrences, want %zu", what, got->n, n);
}

/* Expected days, heart failure. J0 = discharge day. */
#define HF_COMMON_HEAD                                                            \
	{"discharge_letter", 1, 0, "hospital_doctor"},                            \
	{"discharge_reconciliation", 1, 0, "hospital_pharmacist"},                \
	{"nurse_first_visit", 1, 2, "nurse"},                                     \
	{"pharmacist_review", 1, 7, "pharmacist"},                                \
	{"gp_consultation", 1, 7, "gp"},                                          \
	/* weekly to J60: J7 … J56 (J63 would pass J60) */                        \
	{"nurse_followup", 1, 7, "nurse"}, {"nurse_followup", 2, 14, "nurse"},    \
	{"nurse_followup", 3, 21, "nurse"}, {"nurse_followup", 4, 28, "nurse"},   \
	{"nurse_followup", 5, 35, "nurse"}, {"nurse_followup", 6, 42, "nurse"},   \
	{"nurse_followup", 7, 49, "nurse"}, {"nurse_followup", 8, 56, "nurse"}

static const struct want hf_plain[] = {
	HF_COMMON_HEAD,
	{"biology_check", 1, 14, "gp|cardiologist"},
	{"cardiology_consultation", 1, 60, "cardiologist"},
	{"etp_referral", 1, 60, "gp|cardiologist"},
	{"pathway_review", 1, 60, "coordinator"},
};

static const struct want hf_nyha[] = {
	HF_COMMON_HEAD,
	/* NYHA III–IV: every two weeks on to J180 (J182 would pass it) */
	{"nurse_followup", 9, 70, "nurse"}, {"nurse_followup", 10, 84, "nurse"},
	{"nurse_followup", 11, 98, "nurse"}, {"nurse_followup", 12, 112, "nurse"},
	{"nurse_followup", 13, 126, "nurse"}, {"nurse_followup", 14, 140, "nurse"},
	{"nurse_followup", 15, 154, "nurse"}, {"nurse_followup", 16, 168, "nurse"},
	{"biology_check", 1, 14, "gp|cardiologist"},
	{"cardiology_consultation", 1, 60, "cardiologist"},
	{"etp_referral", 1, 60, "gp|cardiologist"},
	{"pathway_review", 1, 180, "coordinator"},   /* the J60 review is gone */
};

/* Anxio-depressive disorders. J0 = positive screening or diagnosis. */
#define AD_HEAD                                                                       \
	{"screening", 1, 0, "gp|pharmacist|nurse"},                                   \
	{"diagnosis_severity", 1, 0, "gp"},                                           \
	{"suicide_risk_assessment", 1, 0, "gp"},                                      \
	{"psychologist_referral", 1, 0, "gp"},                                        \
	{"psychologist_first_session", 1, 14, "psychologist"},                        \
	/* weekly the first month */                                                  \
	{"treatment_followup", 1, 7, "gp"}, {"treatment_followup", 2, 14, "gp"},      \
	{"treatment_followup", 3, 21, "gp"}, {"treatment_followup", 4, 28, "gp"},     \
	/* then every two weeks */                                                    \
	{"treatment_followup", 5, 42, "gp"}, {"treatment_followup", 6, 56, "gp"},     \
	{"treatment_followup", 7, 70, "gp"}, {"treatment_followup", 8, 84, "gp"},     \
	/* then monthly */                                                            \
	{"treatment_followup", 9, 114, "gp"}, {"treatment_followup", 10, 144, "gp"},  \
	{"treatment_followup", 11, 174, "gp"},                                        \
	{"response_review", 1, 28, "gp"}, {"response_review", 2, 56, "gp"}

static const struct want ad_plain[] = {
	AD_HEAD,
	{"psychiatry_referral", 1, 30, "gp|psychologist"},
	{"psychologist_end_report", 1, -1, "psychologist"},
	{"continuation_review", 1, 180, "gp"},
};

static const struct want ad_risk[] = {
	AD_HEAD,
	{"psychiatry_referral", 1, 0, "gp|psychologist"},   /* same day, not J30 */
	{"psychologist_end_report", 1, -1, "psychologist"},
	{"continuation_review", 1, 180, "gp"},
};

/* Hospital discharge, any cause. J0 = discharge day. */
static const struct want hd_all[] = {
	{"discharge_notice", 1, 0, "discharge"},
	{"discharge_letter", 1, 0, "hospital_doctor"},
	{"discharge_reconciliation", 1, 0, "hospital_pharmacist"},
	{"dispensing_reconciliation", 1, 2, "pharmacist"},
	{"nurse_first_visit", 1, 2, "nurse"},
	{"coordinator_call", 1, 2, "coordinator"},
	{"gp_consultation", 1, 7, "gp"},
	{"pending_results", 1, -1, "hospital_doctor|discharge"},   /* when received */
	{"readmission_check", 1, 30, "coordinator"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Paris midnights, from `TZ=Europe/Paris date -d "DAY 00:00" +%s` (not from
 * the code under test): 23:00 UTC the day before in winter (CET, UTC+1),
 * 22:00 UTC in summer (CEST, UTC+2). main() sets TZ=Europe/Paris. */
#define MS_2026_11_23 1795388400000LL
#define MS_2026_11_24 1795474800000LL
#define MS_2026_12_01 1796079600000LL
#define MS_2027_01_19 1800313200000LL
#define MS_2027_01_23 1800658800000LL
#define MS_2027_05_11 1809986400000LL
#define MS_2027_05_23 1811023200000LL
#define MS_2026_01_30 1769727600000LL
#define MS_2026_02_02 1769986800000LL
#define MS_2026_12_30 (MS_2026_12_31 - 86400000LL)   /* a 24 h winter day */
#define MS_2026_12_31 1798671600000LL
#define MS_2027_01_02 1798844400000LL
#define MS_2027_03_26 1806015600000LL
#define MS_2027_03_28 1806188400000LL
#define MS_2027_03_29 1806271200000LL
#define MS_2027_03_30 1806357600000LL
#define MS_2027_10_29 1824760800000LL
#define MS_2027_10_31 1824933600000LL
#define MS_2027_11_01 1825023600000LL
#define MS_2027_11_02 1825110000000LL
#define MS_2000_01_01 946681200000LL
#define MS_2000_02_29 951778800000LL
#define MS_2028_02_29 1835391600000LL

/* ---- the data: templates and their steps, as the design lists them ------ */

struct want_step {
	const char *step;
	int64_t position;
	const char *label;
	const char *roles;
	bool mandatory;
};

static const struct want_step hf_steps[] = {
	{"discharge_letter", 1, "Lettre de liaison envoyée au médecin traitant", "hospital_doctor", true},
	{"discharge_reconciliation", 2, "Conciliation médicamenteuse de sortie", "hospital_pharmacist", false},
	{"nurse_first_visit", 3, "Première visite infirmière à domicile", "nurse", false},
	{"pharmacist_review", 4, "Dispensation et conciliation en officine", "pharmacist", false},
	{"gp_consultation", 5, "Consultation du médecin traitant", "gp", true},
	{"nurse_followup", 6, "Suivi infirmier (poids, signes d'alerte, éducation)", "nurse", false},
	{"biology_check", 7, "Kaliémie / créatinine après introduction ou titration", "gp|cardiologist", false},
	{"cardiology_consultation", 8, "Consultation cardiologue", "cardiologist", true},
	{"etp_referral", 9, "Orientation éducation thérapeutique", "gp|cardiologist", false},
	{"pathway_review", 10, "Bilan de fin de parcours", "coordinator", false},
};

static const struct want_step ad_steps[] = {
	{"screening", 1, "Repérage (PHQ-9, GAD-7 ou HAD)", "gp|pharmacist|nurse", false},
	{"diagnosis_severity", 2, "Diagnostic et intensité", "gp", true},
	{"suicide_risk_assessment", 3, "Évaluation du risque suicidaire", "gp", true},
	{"psychologist_referral", 4, "Orientation psychologue (Mon soutien psy)", "gp", false},
	{"psychologist_first_session", 5, "Séance d'évaluation", "psychologist", false},
	{"treatment_followup", 6, "Suivi (hebdomadaire le 1er mois, puis toutes les 2 semaines, puis mensuel)", "gp", false},
	{"response_review", 7, "Réévaluation (PHQ-9)", "gp", false},
	{"psychiatry_referral", 8, "Avis psychiatrique (sévère, échec de 2 lignes, doute diagnostique)", "gp|psychologist", false},
	{"psychologist_end_report", 9, "Compte rendu de fin de prise en charge", "psychologist", false},
	{"continuation_review", 10, "Consolidation ≥ 6 mois après rémission", "gp", false},
};

static const struct want_step hd_steps[] = {
	{"discharge_notice", 1, "Avis de sortie aux professionnels de ville, accusé de réception", "discharge", true},
	{"discharge_letter", 2, "Lettre de liaison", "hospital_doctor", true},
	{"discharge_reconciliation", 3, "Conciliation de sortie", "hospital_pharmacist", false},
	{"dispensing_reconciliation", 4, "Dispensation et conciliation en officine", "pharmacist", false},
	{"nurse_first_visit", 5, "Premier passage infirmier", "nurse", false},
	{"coordinator_call", 6, "Appel de suivi", "coordinator", false},
	{"gp_consultation", 7, "Consultation du médecin traitant", "gp", true},
	{"pending_results", 8, "Résultats en attente transmis", "hospital_doctor|discharge", false},
	{"readmission_check", 9, "Contrôle de réhospitalisation", "coordinator", false},
};

/* Every schedule row's step is a listed step with the listed label, roles,
 * mandatory flag and position; every listed step has at least one row (a
 * step without a schedule row would silently never be instantiated). */
static void
check_steps_v(struct store *s, const char *code, int64_t version, const struct want_step *want,
	      size_t n)
{
	struct rowbuf rows;
	load_rows(s, code, version, &rows);
	bool seen[16] = {false};
	assert_true(n <= N(seen));
	int64_t last_position = 0;
	for (size_t i = 0; i < rows.n; i++) {
		const struct store_schedule_row *r = &rows.v[i];
		size_t k = 0;
		while (k < n && strcmp(want[k].step, r->step) != 0)
			k++;
		if (k == n)
			fail_msg("%s: step %s is not in the design", code, r->step);
		assert_string_equal(r->label_fr, want[k].label);
		assert_string_equal(r->roles, want[k].roles);
		assert_int_equal(r->position, want[k].position);
		if (r->mandatory != want[k].mandatory)
			fail_msg("%s/%s: mandatory %d, want %d", code, r->step, r->mandatory,
				 want[k].mandatory);
		assert_true(r->position >= last_position);   /* rows come in position order */
		last_position = r->position;
		seen[k] = true;
	}
	for (size_t k = 0; k < n; k++)
		if (!seen[k])
			fail_msg("%s: step %s has no schedule row", code, want[k].step);
}

struct tpl_seen {
	struct store_template v[8];
	size_t n;
};

static void
collect_tpl(const struct store_template *t, void *arg)
{
	struct tpl_seen *ts = arg;
	if (ts->n < N(ts->v))
		ts->v[ts->n] = *t;
	ts->n++;
}

static void
test_templates_listed(void **state)
{
	struct pw_fixture *f = *state;
	struct tpl_seen ts = {0};
	assert_int_equal(store_template_list(f->s, collect_tpl, &ts), LSN_OK);
	assert_int_equal(ts.n, 3);
	/* ordered by code */
	assert_string_equal(ts.v[0].code, "anxiety_depression");
	/* version 2 (schema/012_pathways_v2.sql) is current for these two */
	assert_string_equal(ts.v[0].flags,
			    "high_suicide_risk,severe_episode,treatment_failure,diagnostic_doubt");
	assert_string_equal(ts.v[0].label_fr, "Troubles anxio-dépressifs en soins de premier recours");
	assert_string_equal(ts.v[0].j0_label, "repérage positif ou diagnostic");
	assert_string_equal(ts.v[1].code, "heart_failure");
	assert_string_equal(ts.v[1].flags, "nyha_3_4,early_cardiology");
	assert_string_equal(ts.v[1].j0_label, "jour de sortie");
	assert_string_equal(ts.v[2].code, "hospital_discharge");
	assert_string_equal(ts.v[2].flags, "");
	assert_string_equal(ts.v[2].j0_label, "jour de sortie");
	assert_int_equal(ts.v[0].version, 2);
	assert_int_equal(ts.v[1].version, 2);
	assert_int_equal(ts.v[2].version, 1);
	for (size_t i = 0; i < 3; i++)
		assert_true(strlen(ts.v[i].sources) > 10);
	assert_non_null(strstr(ts.v[0].sources, "HAS"));
	assert_non_null(strstr(ts.v[0].sources, "Mon soutien psy"));
	assert_non_null(strstr(ts.v[1].sources, "PRADO"));
	assert_non_null(strstr(ts.v[2].sources, "R1112-1-2"));

	struct store_template t;
	assert_int_equal(store_template_current(f->s, "heart_failure", &t), LSN_OK);
	assert_int_equal(t.version, 2);
	assert_int_equal(store_template_current(f->s, "anxiety_depression", &t), LSN_OK);
	assert_int_equal(t.version, 2);
	assert_int_equal(store_template_current(f->s, "hospital_discharge", &t), LSN_OK);
	assert_int_equal(t.version, 1);
	/* version 1 is kept, with its own flags, for the cases opened on it */
	assert_int_equal(store_template_get(f->s, "heart_failure", 1, &t), LSN_OK);
	assert_string_equal(t.flags, "nyha_3_4");
	assert_int_equal(store_template_get(f->s, "anxiety_depression", 1, &t), LSN_OK);
	assert_string_equal(t.flags, "high_suicide_risk");
	assert_int_equal(store_template_current(f->s, "nope", &t), LSN_ERR_NOT_FOUND);
	/* no rows for an unknown template or version */
	struct rowbuf rows;
	load_rows(f->s, "heart_failure", 3, &rows);
	assert_int_equal(rows.n, 0);
	load_rows(f->s, "nope", 1, &rows);
	assert_int_equal(rows.n, 0);
}

static void
test_steps_match_design(void **state)
{
	struct pw_fixture *f = *state;
	check_steps_v(f->s, "heart_failure", 1, hf_steps, N(hf_steps));
	check_steps_v(f->s, "anxiety_depression", 1, ad_steps, N(ad_steps));
	check_steps_v(f->s, "hospital_discharge", 1, hd_steps, N(hd_steps));
}

/* Every role token in the data is a known profession or one of the two user
 * roles a step can name. */
static void
test_roles_are_known(void **state)
{
	struct pw_fixture *f = *state;
	const char *codes[] = {"heart_failure", "anxiety_depression", "hospital_discharge",
			       "heart_failure", "anxiety_depression"};
	const int64_t versions[] = {1, 1, 1, 2, 2};
	for (size_t c = 0; c < N(codes); c++) {
		struct rowbuf rows;
		load_rows(f->s, codes[c], versions[c], &rows);
		assert_true(rows.n > 0);
		for (size_t i = 0; i < rows.n; i++) {
			char roles[96], *save = NULL;
			snprintf(roles, sizeof roles, "%s", rows.v[i].roles);
			assert_true(roles[0] != '\0');
			for (char *tok = strtok_r(roles, "|", &save); tok; tok = strtok_r(NULL, "|", &save))
				if (strcmp(tok, "discharge") != 0 && strcmp(tok, "coordinator") != 0 &&
				    lsn_profession_find(tok) == NULL)
					fail_msg("%s/%s: unknown role %s", codes[c], rows.v[i].step, tok);
			/* and each flag of a row (flag and unless lists) is one that
			 * template version declares */
			struct store_template t;
			assert_int_equal(store_template_get(f->s, codes[c], versions[c], &t), LSN_OK);
			const char *lists[] = {rows.v[i].flag, rows.v[i].unless};
			for (size_t l = 0; l < N(lists); l++) {
				char flags[64], *fsave = NULL;
				snprintf(flags, sizeof flags, "%s", lists[l]);
				for (char *tok = strtok_r(flags, "|", &fsave); tok;
				     tok = strtok_r(NULL, "|", &fsave))
					if (!pathway_has_flag(t.flags, tok))
						fail_msg("%s v%lld/%s: flag %s not declared", codes[c],
							 (long long)versions[c], rows.v[i].step, tok);
			}
		}
	}
}

/* ---- expansions, day by day --------------------------------------------- */

static void
test_heart_failure(void **state)
{
	struct pw_fixture *f = *state;
	struct occbuf o;
	int64_t j0 = MS_2026_11_23;
	assert_int_equal(expand(f->s, "heart_failure", "", j0, &o), 17);
	check_expansion(&o, hf_plain, N(hf_plain), j0, "heart_failure");
	/* the last weekly visit is on or before J60 */
	for (size_t i = 0; i < o.n; i++)
		if (strcmp(o.v[i].step, "nurse_followup") == 0)
			assert_true(o.v[i].day <= 60);
	/* absolute dates, by hand: J0 = 2026-11-23, J7 = 2026-11-30 (month end),
	 * J56 = 2027-01-18 (across the year end), J60 = 2027-01-22 */
	assert_int_equal(o.v[0].due_at, MS_2026_11_24 - 1);   /* discharge_letter */
	assert_int_equal(o.v[5].due_at, MS_2026_12_01 - 1);   /* nurse_followup #1 */
	assert_int_equal(o.v[12].due_at, MS_2027_01_19 - 1);  /* nurse_followup #8 */
	assert_int_equal(o.v[14].due_at, MS_2027_01_23 - 1);  /* cardiology_consultation */
	assert_int_equal(o.v[16].due_at, MS_2027_01_23 - 1);  /* pathway_review */

	/* NULL flags = no flags; another pathway's flag changes nothing */
	assert_int_equal(expand(f->s, "heart_failure", NULL, j0, &o), 17);
	check_expansion(&o, hf_plain, N(hf_plain), j0, "heart_failure NULL flags");
	assert_int_equal(expand(f->s, "heart_failure", "high_suicide_risk", j0, &o), 17);
	check_expansion(&o, hf_plain, N(hf_plain), j0, "heart_failure other flag");
	/* a flag is a whole comma item, not a prefix */
	assert_int_equal(expand(f->s, "heart_failure", "nyha_3", j0, &o), 17);
	check_expansion(&o, hf_plain, N(hf_plain), j0, "heart_failure nyha_3");
	assert_int_equal(expand(f->s, "heart_failure", "nyha_3_4x", j0, &o), 17);
	check_expansion(&o, hf_plain, N(hf_plain), j0, "heart_failure nyha_3_4x");
}

static void
test_heart_failure_nyha(void **state)
{
	struct pw_fixture *f = *state;
	struct occbuf o;
	int64_t j0 = MS_2026_11_23;
	assert_int_equal(expand(f->s, "heart_failure", "nyha_3_4", j0, &o), 25);
	check_expansion(&o, hf_nyha, N(hf_nyha), j0, "heart_failure nyha_3_4");
	/* the flag among others, in any position */
	assert_int_equal(expand(f->s, "heart_failure", "other,nyha_3_4", j0, &o), 25);
	check_expansion(&o, hf_nyha, N(hf_nyha), j0, "heart_failure other,nyha_3_4");
	assert_int_equal(expand(f->s, "heart_failure", "nyha_3_4,other", j0, &o), 25);
	check_expansion(&o, hf_nyha, N(hf_nyha), j0, "heart_failure nyha_3_4,other");

	int reviews = 0;
	for (size_t i = 0; i < o.n; i++) {
		if (strcmp(o.v[i].step, "nurse_followup") == 0)
			assert_true(o.v[i].day <= 180);
		if (strcmp(o.v[i].step, "pathway_review") == 0) {
			reviews++;
			assert_int_equal(o.v[i].day, 180);
		}
	}
	assert_int_equal(reviews, 1);
	/* J168 = 2027-05-10, J180 = 2027-05-22 */
	assert_int_equal(o.v[20].due_at, MS_2027_05_11 - 1);   /* nurse_followup #16 */
	assert_int_equal(o.v[24].due_at, MS_2027_05_23 - 1);   /* pathway_review */
}

static void
test_anxiety_depression(void **state)
{
	struct pw_fixture *f = *state;
	struct occbuf o;
	int64_t j0 = MS_2026_11_23;
	assert_int_equal(expand(f->s, "anxiety_depression", "", j0, &o), 21);
	check_expansion(&o, ad_plain, N(ad_plain), j0, "anxiety_depression");
	assert_int_equal(expand(f->s, "anxiety_depression", "high_suicide_risk", j0, &o), 21);
	check_expansion(&o, ad_risk, N(ad_risk), j0, "anxiety_depression high_suicide_risk");
	/* the end report has no deadline: day -1, due_at 0, whatever J0 */
	for (size_t i = 0; i < o.n; i++)
		if (strcmp(o.v[i].step, "psychologist_end_report") == 0) {
			assert_int_equal(o.v[i].day, -1);
			assert_int_equal(o.v[i].due_at, 0);
		}
	/* an unrelated flag leaves psychiatry at J30 */
	assert_int_equal(expand(f->s, "anxiety_depression", "nyha_3_4", j0, &o), 21);
	check_expansion(&o, ad_plain, N(ad_plain), j0, "anxiety_depression other flag");
}

static void
test_hospital_discharge(void **state)
{
	struct pw_fixture *f = *state;
	struct occbuf o;
	int64_t j0 = MS_2026_11_23;
	assert_int_equal(expand(f->s, "hospital_discharge", "", j0, &o), 9);
	check_expansion(&o, hd_all, N(hd_all), j0, "hospital_discharge");
	assert_int_equal(o.v[7].due_at, 0);   /* pending_results: no deadline */
	assert_int_equal(o.v[7].day, -1);
	/* this template has no flags: any flag changes nothing */
	assert_int_equal(expand(f->s, "hospital_discharge", "nyha_3_4,high_suicide_risk", j0, &o), 9);
	check_expansion(&o, hd_all, N(hd_all), j0, "hospital_discharge flags");
}

/* Occurrences are 1..n per step, consecutive, in due order, for every
 * template and every flag combination. */
static void
test_occurrence_numbering(void **state)
{
	struct pw_fixture *f = *state;
	const char *codes[] = {"heart_failure", "anxiety_depression", "hospital_discharge"};
	const char *flagsets[] = {"", "nyha_3_4", "high_suicide_risk", "nyha_3_4,high_suicide_risk"};
	for (size_t c = 0; c < N(codes); c++)
		for (size_t k = 0; k < N(flagsets); k++) {
			struct occbuf o;
			expand(f->s, codes[c], flagsets[k], MS_2026_11_23, &o);
			for (size_t i = 0; i < o.n; i++) {
				bool first = i == 0 || strcmp(o.v[i - 1].step, o.v[i].step) != 0;
				if (first) {
					assert_int_equal(o.v[i].occurrence, 1);
					/* a step appears in one run only */
					for (size_t j = 0; j < i; j++)
						assert_string_not_equal(o.v[j].step, o.v[i].step);
					continue;
				}
				assert_int_equal(o.v[i].occurrence, o.v[i - 1].occurrence + 1);
				/* strictly later, and never an undated one among dated ones */
				assert_true(o.v[i - 1].day >= 0);
				assert_true(o.v[i].day > o.v[i - 1].day);
				assert_true(o.v[i].due_at > o.v[i - 1].due_at);
			}
		}
}

/* ---- due dates: end of the due day, in the CPTS's time zone --------------------------------- */

static int64_t
due_of(const struct occbuf *o, const char *step, int64_t occurrence)
{
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->v[i].step, step) == 0 && o->v[i].occurrence == occurrence)
			return o->v[i].due_at;
	fail_msg("no %s #%lld", step, (long long)occurrence);
	return -1;
}

static void
test_due_at_local(void **state)
{
	struct pw_fixture *f = *state;
	struct occbuf o;

	/* a real J0, parsed: 2026-11-23, Paris midnight = 2026-11-22T23:00:00Z */
	int64_t j0 = pathway_parse_day("2026-11-23");
	assert_int_equal(j0, MS_2026_11_23);
	assert_int_equal(j0, 1795392000000LL - 3600000LL);   /* UTC midnight − 1 h */
	expand(f->s, "hospital_discharge", "", j0, &o);
	/* J0 ends at 2026-11-23T22:59:59.999Z */
	assert_int_equal(due_of(&o, "discharge_notice", 1), MS_2026_11_24 - 1);
	assert_int_equal(due_of(&o, "discharge_notice", 1), 1795474799999LL);
	/* J7 = 2026-11-30, last day of the month */
	assert_int_equal(due_of(&o, "gp_consultation", 1), MS_2026_12_01 - 1);
	assert_int_equal(due_of(&o, "gp_consultation", 1), j0 + 8 * 86400000LL - 1);

	/* across a month end: J0 2026-01-30, J2 = 2026-02-01 */
	j0 = pathway_parse_day("2026-01-30");
	assert_int_equal(j0, MS_2026_01_30);
	expand(f->s, "hospital_discharge", "", j0, &o);
	assert_int_equal(due_of(&o, "nurse_first_visit", 1), MS_2026_02_02 - 1);

	/* across a year end: J0 2026-12-30, J2 = 2027-01-01 */
	j0 = pathway_parse_day("2026-12-30");
	assert_int_equal(j0, MS_2026_12_30);
	expand(f->s, "hospital_discharge", "", j0, &o);
	assert_int_equal(due_of(&o, "coordinator_call", 1), MS_2027_01_02 - 1);

	/* Paris moves to summer time on Sunday 2027-03-28 at 02:00: that day
	 * has 23 hours. J0 = Friday 2027-03-26 (midnight 23:00Z the day before);
	 * J2 = Sunday 2027-03-28 ends at Monday's Paris midnight,
	 * 2027-03-28T22:00:00Z, so due_at = 2027-03-28T21:59:59.999Z */
	j0 = pathway_parse_day("2027-03-26");
	assert_int_equal(j0, MS_2027_03_26);
	assert_int_equal(pathway_parse_day("2027-03-28"), MS_2027_03_28);
	assert_int_equal(pathway_parse_day("2027-03-29") - pathway_parse_day("2027-03-28"),
			 23 * 3600000LL);
	assert_int_equal(pathway_parse_day("2027-03-30") - pathway_parse_day("2027-03-29"),
			 24 * 3600000LL);
	expand(f->s, "hospital_discharge", "", j0, &o);
	assert_int_equal(due_of(&o, "nurse_first_visit", 1), MS_2027_03_29 - 1);
	assert_int_equal(due_of(&o, "nurse_first_visit", 1), 1806271199999LL);
	/* J7 = Friday 2027-04-02: 7 days after J0 but one hour short of 7 × 24 h */
	assert_int_equal(due_of(&o, "gp_consultation", 1), MS_2027_03_26 + 8 * 86400000LL - 3600000LL - 1);
	/* J0 and J1, before the change, are 24 h days */
	assert_int_equal(due_of(&o, "discharge_notice", 1), MS_2027_03_26 + 86400000LL - 1);

	/* and back to winter time on Sunday 2027-10-31 at 03:00: a 25-hour day.
	 * J0 = Friday 2027-10-29 (midnight 22:00Z the day before); J2 = Sunday
	 * 2027-10-31 ends at 2027-10-31T23:00:00Z */
	j0 = pathway_parse_day("2027-10-29");
	assert_int_equal(j0, MS_2027_10_29);
	assert_int_equal(pathway_parse_day("2027-10-31"), MS_2027_10_31);
	assert_int_equal(pathway_parse_day("2027-11-01") - pathway_parse_day("2027-10-31"),
			 25 * 3600000LL);
	assert_int_equal(pathway_parse_day("2027-11-02") - pathway_parse_day("2027-11-01"),
			 24 * 3600000LL);
	expand(f->s, "hospital_discharge", "", j0, &o);
	assert_int_equal(due_of(&o, "nurse_first_visit", 1), MS_2027_11_01 - 1);
	assert_int_equal(due_of(&o, "nurse_first_visit", 1), 1825023599999LL);
	assert_int_equal(due_of(&o, "gp_consultation", 1), MS_2027_10_29 + 8 * 86400000LL + 3600000LL - 1);

	/* undated steps keep due_at 0 whatever J0 */
	assert_int_equal(due_of(&o, "pending_results", 1), 0);
}

/* ---- whole local days between two times (delays in indicators) --------- */

static void
test_day_diff(void **state)
{
	(void)state;
	/* times from `TZ=Europe/Paris date -d "DAY HH:MM" +%s` */
	int64_t j0 = MS_2026_11_23;
	assert_int_equal(pathway_day_diff(j0, j0), 0);
	/* a GP visit at 21:00 on the discharge day is J0 (UTC days said 0.875) */
	assert_int_equal(pathway_day_diff(j0, 1795464000000LL), 0);
	/* 23:30 Paris is still J0 */
	assert_int_equal(pathway_day_diff(j0, 1795473000000LL), 0);
	/* 00:30 Paris the next day is J1, though it is 23:30 UTC on the 23rd */
	assert_int_equal(pathway_day_diff(j0, 1795476600000LL), 1);
	/* across the spring change: Sat 27 March 12:00 → Sun 28 23:30 is 1 day,
	 * Mon 29 00:30 is 2 (37 h 30 after, less than 2 × 24 h) */
	assert_int_equal(pathway_day_diff(1806145200000LL, 1806269400000LL), 1);
	assert_int_equal(pathway_day_diff(1806145200000LL, 1806273000000LL), 2);
	/* across the autumn change: Sat 30 October 00:00 → Sun 31 23:59 is 1 day
	 * (48 h 59 min later), Mon 1 November 00:00 is 2 */
	assert_int_equal(pathway_day_diff(1824847200000LL, 1825023540000LL), 1);
	assert_int_equal(pathway_day_diff(1824847200000LL, 1825023600000LL), 2);
	/* backwards is negative */
	assert_int_equal(pathway_day_diff(1795476600000LL, j0), -1);

	/* the start of the day n days later */
	assert_int_equal(pathway_day_start(j0, 1), MS_2026_11_24);
	assert_int_equal(pathway_day_start(1795464000000LL, 0), MS_2026_11_23);   /* 21:00 → 00:00 */
	assert_int_equal(pathway_day_start(MS_2027_03_26, 3), MS_2027_03_29);     /* 71 h later */
	assert_int_equal(pathway_day_start(MS_2027_10_29, 3), MS_2027_11_01);     /* 73 h later */
	/* semester boundaries: 1 July and 1 January, Paris midnights */
	assert_int_equal(pathway_parse_day("2026-07-01"), 1782856800000LL);   /* 22:00Z, summer */
	assert_int_equal(pathway_parse_day("2027-01-01"), 1798758000000LL);   /* 23:00Z, winter */
	assert_int_equal(pathway_parse_day("2026-01-01"), 1767222000000LL);

	char day[PATHWAY_DAY_TEXT];
	assert_true(pathway_format_day(MS_2026_11_23, day));
	assert_string_equal(day, "2026-11-23");
	assert_true(pathway_format_day(MS_2027_03_29 - 1, day));   /* 21:59:59.999Z */
	assert_string_equal(day, "2027-03-28");
	assert_true(pathway_format_day(1795476600000LL, day));      /* 23:30Z, 00:30 Paris */
	assert_string_equal(day, "2026-11-24");
}

/* ---- J0 parsing ---------------------------------------------------------- */

static void
test_parse_day(void **state)
{
	(void)state;
	assert_int_equal(pathway_parse_day("2026-11-23"), MS_2026_11_23);
	assert_int_equal(pathway_parse_day("2000-01-01"), MS_2000_01_01);
	assert_int_equal(pathway_parse_day("2026-12-31"), MS_2026_12_31);
	assert_int_equal(pathway_parse_day("2027-01-02"), MS_2027_01_02);
	/* leap days */
	assert_int_equal(pathway_parse_day("2026-02-29"), -1);
	assert_int_equal(pathway_parse_day("2028-02-29"), MS_2028_02_29);
	assert_int_equal(pathway_parse_day("2000-02-29"), MS_2000_02_29);   /* divisible by 400 */
	assert_int_equal(pathway_parse_day("2100-02-29"), -1);              /* by 100, not 400 */
	/* impossible days and months */
	const char *bad_values[] = {"2026-04-31", "2026-06-31", "2026-02-30", "2026-13-01",
				    "2026-00-10", "2026-01-00", "2026-01-32", "0000-00-00"};
	for (size_t i = 0; i < N(bad_values); i++)
		if (pathway_parse_day(bad_values[i]) != -1)
			fail_msg("\"%s\" accepted", bad_values[i]);
	/* bad formats */
	const char *bad_formats[] = {"2026-1-5", "2026-11-5", "23/11/2026", "2026/11/23", "20261123",
				     "", "2026-11-23x", "2026-11-23 ", "2026-11-23T00:00",
				     "2026-11-2", "abcd-ef-gh", "2026-11-2\n", "-026-11-23",
				     "+026-11-23", "02026-11-23", "2026-11-23\t",
				     /* sscanf alone would read these as 2026-01-05 */
				     " 2026-1-05", "2026- 1-05", "2026-+1-05", "2026-01- 5",
				     "2026-01-+5", " 2026-01-5"};
	for (size_t i = 0; i < N(bad_formats); i++)
		if (pathway_parse_day(bad_formats[i]) != -1)
			fail_msg("\"%s\" accepted", bad_formats[i]);
	assert_int_equal(pathway_parse_day(NULL), -1);
}

static void
test_has_flag(void **state)
{
	(void)state;
	assert_true(pathway_has_flag("nyha_3_4", "nyha_3_4"));
	assert_true(pathway_has_flag("a,nyha_3_4", "nyha_3_4"));
	assert_true(pathway_has_flag("nyha_3_4,b", "nyha_3_4"));
	assert_true(pathway_has_flag("a,nyha_3_4,b", "nyha_3_4"));
	assert_false(pathway_has_flag("nyha_3_4x", "nyha_3_4"));
	assert_false(pathway_has_flag("xnyha_3_4", "nyha_3_4"));
	assert_false(pathway_has_flag("nyha_3", "nyha_3_4"));
	assert_false(pathway_has_flag("nyha_3_4", "nyha_3"));
	assert_false(pathway_has_flag("", "nyha_3_4"));
	assert_false(pathway_has_flag(NULL, "nyha_3_4"));
	/* the templates' own declarations */
	assert_true(pathway_has_flag("high_suicide_risk", "high_suicide_risk"));
	assert_false(pathway_has_flag("high_suicide_risk", "nyha_3_4"));
}

/* ---- roles -------------------------------------------------------------- */

static void
test_role_matches(void **state)
{
	(void)state;
	const unsigned member = LSN_ROLE_MEMBER;
	/* professions */
	assert_true(pathway_role_matches("gp", "gp", member));
	assert_true(pathway_role_matches("gp", "gp", 0));
	assert_false(pathway_role_matches("gp", "nurse", member));
	assert_false(pathway_role_matches("nurse", "gp", member));
	/* alternatives */
	assert_true(pathway_role_matches("gp|cardiologist", "gp", member));
	assert_true(pathway_role_matches("gp|cardiologist", "cardiologist", member));
	assert_false(pathway_role_matches("gp|cardiologist", "nurse", member));
	assert_true(pathway_role_matches("gp|pharmacist|nurse", "pharmacist", member));
	assert_true(pathway_role_matches("gp|pharmacist|nurse", "nurse", member));
	assert_false(pathway_role_matches("gp|pharmacist|nurse", "hospital_pharmacist", member));
	/* no prefix or substring matching, either way */
	assert_false(pathway_role_matches("gp", "gpx", member));
	assert_false(pathway_role_matches("gpx", "gp", member));
	assert_false(pathway_role_matches("gp|cardiologist", "cardio", member));
	assert_false(pathway_role_matches("gp|cardiologist", "cardiologists", member));
	assert_false(pathway_role_matches("hospital_doctor", "hospital", member));
	assert_false(pathway_role_matches("pharmacist", "hospital_pharmacist", member));
	assert_false(pathway_role_matches("hospital_pharmacist", "pharmacist", member));
	/* the discharge team is a user role, not a profession */
	assert_true(pathway_role_matches("discharge", "nurse", LSN_ROLE_DISCHARGE));
	assert_true(pathway_role_matches("discharge", "secretary", LSN_ROLE_MEMBER | LSN_ROLE_DISCHARGE));
	assert_false(pathway_role_matches("discharge", "nurse", member));
	assert_false(pathway_role_matches("discharge", "nurse", LSN_ROLE_COORDINATOR | LSN_ROLE_ADMIN));
	assert_false(pathway_role_matches("discharges", "nurse", LSN_ROLE_DISCHARGE));
	assert_false(pathway_role_matches("dischar", "nurse", LSN_ROLE_DISCHARGE));
	assert_true(pathway_role_matches("hospital_doctor|discharge", "hospital_doctor", member));
	assert_true(pathway_role_matches("hospital_doctor|discharge", "nurse", LSN_ROLE_DISCHARGE));
	assert_false(pathway_role_matches("hospital_doctor|discharge", "nurse", member));
	/* the coordinator: user role, or the coordinator profession */
	assert_true(pathway_role_matches("coordinator", "gp", LSN_ROLE_COORDINATOR));
	assert_true(pathway_role_matches("coordinator", "coordinator", member));
	assert_false(pathway_role_matches("coordinator", "gp", member | LSN_ROLE_DISCHARGE | LSN_ROLE_ADMIN));
	assert_false(pathway_role_matches("coordinators", "gp", LSN_ROLE_COORDINATOR));
	assert_false(pathway_role_matches("coord", "gp", LSN_ROLE_COORDINATOR));
	/* admin is never a step role */
	assert_false(pathway_role_matches("admin", "gp", LSN_ROLE_ADMIN));
	/* a user role bit does not stand for a profession */
	assert_false(pathway_role_matches("gp", "nurse", LSN_ROLE_COORDINATOR | LSN_ROLE_DISCHARGE));
	/* empty roles match nobody */
	assert_false(pathway_role_matches("", "gp", 0xffu));
	assert_false(pathway_role_matches(NULL, "gp", 0xffu));
}

/* ---- step and case state machine ----------------------------------------- */

enum who { ASSIGNEE, COORDINATOR, BOTH, NEITHER };

struct transition {
	enum pathway_action action;
	const char *step_status;
	enum who who;
	enum lsn_err want;
};

/* Every combination for an open case, written out. */
static const struct transition open_case[] = {
	/* complete: only a pending step, by its assignee or a coordinator */
	{PATHWAY_COMPLETE, "pending", ASSIGNEE, LSN_OK},
	{PATHWAY_COMPLETE, "pending", COORDINATOR, LSN_OK},
	{PATHWAY_COMPLETE, "pending", BOTH, LSN_OK},
	{PATHWAY_COMPLETE, "pending", NEITHER, LSN_ERR_NOT_ASSIGNEE},
	{PATHWAY_COMPLETE, "done", ASSIGNEE, LSN_ERR_STEP_DONE},
	{PATHWAY_COMPLETE, "done", COORDINATOR, LSN_ERR_STEP_DONE},
	{PATHWAY_COMPLETE, "done", BOTH, LSN_ERR_STEP_DONE},
	{PATHWAY_COMPLETE, "done", NEITHER, LSN_ERR_STEP_DONE},
	{PATHWAY_COMPLETE, "skipped", ASSIGNEE, LSN_ERR_STEP_SKIPPED},
	{PATHWAY_COMPLETE, "skipped", COORDINATOR, LSN_ERR_STEP_SKIPPED},
	{PATHWAY_COMPLETE, "skipped", BOTH, LSN_ERR_STEP_SKIPPED},
	{PATHWAY_COMPLETE, "skipped", NEITHER, LSN_ERR_STEP_SKIPPED},
	/* skip: same rule */
	{PATHWAY_SKIP, "pending", ASSIGNEE, LSN_OK},
	{PATHWAY_SKIP, "pending", COORDINATOR, LSN_OK},
	{PATHWAY_SKIP, "pending", BOTH, LSN_OK},
	{PATHWAY_SKIP, "pending", NEITHER, LSN_ERR_NOT_ASSIGNEE},
	{PATHWAY_SKIP, "done", ASSIGNEE, LSN_ERR_STEP_DONE},
	{PATHWAY_SKIP, "done", COORDINATOR, LSN_ERR_STEP_DONE},
	{PATHWAY_SKIP, "done", BOTH, LSN_ERR_STEP_DONE},
	{PATHWAY_SKIP, "done", NEITHER, LSN_ERR_STEP_DONE},
	{PATHWAY_SKIP, "skipped", ASSIGNEE, LSN_ERR_STEP_SKIPPED},
	{PATHWAY_SKIP, "skipped", COORDINATOR, LSN_ERR_STEP_SKIPPED},
	{PATHWAY_SKIP, "skipped", BOTH, LSN_ERR_STEP_SKIPPED},
	{PATHWAY_SKIP, "skipped", NEITHER, LSN_ERR_STEP_SKIPPED},
	/* reassign: same rule (the assignee can hand over) */
	{PATHWAY_REASSIGN, "pending", ASSIGNEE, LSN_OK},
	{PATHWAY_REASSIGN, "pending", COORDINATOR, LSN_OK},
	{PATHWAY_REASSIGN, "pending", BOTH, LSN_OK},
	{PATHWAY_REASSIGN, "pending", NEITHER, LSN_ERR_NOT_ASSIGNEE},
	{PATHWAY_REASSIGN, "done", ASSIGNEE, LSN_ERR_STEP_DONE},
	{PATHWAY_REASSIGN, "done", COORDINATOR, LSN_ERR_STEP_DONE},
	{PATHWAY_REASSIGN, "done", BOTH, LSN_ERR_STEP_DONE},
	{PATHWAY_REASSIGN, "done", NEITHER, LSN_ERR_STEP_DONE},
	{PATHWAY_REASSIGN, "skipped", ASSIGNEE, LSN_ERR_STEP_SKIPPED},
	{PATHWAY_REASSIGN, "skipped", COORDINATOR, LSN_ERR_STEP_SKIPPED},
	{PATHWAY_REASSIGN, "skipped", BOTH, LSN_ERR_STEP_SKIPPED},
	{PATHWAY_REASSIGN, "skipped", NEITHER, LSN_ERR_STEP_SKIPPED},
	/* reschedule: a pending step, by its assignee or a coordinator */
	{PATHWAY_RESCHEDULE, "pending", ASSIGNEE, LSN_OK},
	{PATHWAY_RESCHEDULE, "pending", COORDINATOR, LSN_OK},
	{PATHWAY_RESCHEDULE, "pending", BOTH, LSN_OK},
	{PATHWAY_RESCHEDULE, "pending", NEITHER, LSN_ERR_NOT_ASSIGNEE},
	{PATHWAY_RESCHEDULE, "done", ASSIGNEE, LSN_ERR_STEP_DONE},
	{PATHWAY_RESCHEDULE, "done", COORDINATOR, LSN_ERR_STEP_DONE},
	{PATHWAY_RESCHEDULE, "done", BOTH, LSN_ERR_STEP_DONE},
	{PATHWAY_RESCHEDULE, "done", NEITHER, LSN_ERR_STEP_DONE},
	{PATHWAY_RESCHEDULE, "skipped", ASSIGNEE, LSN_ERR_STEP_SKIPPED},
	{PATHWAY_RESCHEDULE, "skipped", COORDINATOR, LSN_ERR_STEP_SKIPPED},
	{PATHWAY_RESCHEDULE, "skipped", BOTH, LSN_ERR_STEP_SKIPPED},
	{PATHWAY_RESCHEDULE, "skipped", NEITHER, LSN_ERR_STEP_SKIPPED},
	/* reopen: a done or skipped step, by a coordinator only */
	{PATHWAY_REOPEN, "pending", ASSIGNEE, LSN_ERR_STEP_PENDING},
	{PATHWAY_REOPEN, "pending", COORDINATOR, LSN_ERR_STEP_PENDING},
	{PATHWAY_REOPEN, "pending", BOTH, LSN_ERR_STEP_PENDING},
	{PATHWAY_REOPEN, "pending", NEITHER, LSN_ERR_STEP_PENDING},
	{PATHWAY_REOPEN, "done", ASSIGNEE, LSN_ERR_COORDINATOR_ONLY},
	{PATHWAY_REOPEN, "done", COORDINATOR, LSN_OK},
	{PATHWAY_REOPEN, "done", BOTH, LSN_OK},
	{PATHWAY_REOPEN, "done", NEITHER, LSN_ERR_COORDINATOR_ONLY},
	{PATHWAY_REOPEN, "skipped", ASSIGNEE, LSN_ERR_COORDINATOR_ONLY},
	{PATHWAY_REOPEN, "skipped", COORDINATOR, LSN_OK},
	{PATHWAY_REOPEN, "skipped", BOTH, LSN_OK},
	{PATHWAY_REOPEN, "skipped", NEITHER, LSN_ERR_COORDINATOR_ONLY},
};

static const char *
action_name(enum pathway_action a)
{
	switch (a) {
	case PATHWAY_COMPLETE: return "complete";
	case PATHWAY_SKIP: return "skip";
	case PATHWAY_REOPEN: return "reopen";
	case PATHWAY_REASSIGN: return "reassign";
	case PATHWAY_RESCHEDULE: return "reschedule";
	}
	return "?";
}

static void
check_transition(const char *case_status, const struct transition *t, enum lsn_err want)
{
	struct pathway_actor actor = {
		.is_assignee = t->who == ASSIGNEE || t->who == BOTH,
		.is_coordinator = t->who == COORDINATOR || t->who == BOTH,
	};
	struct lsn_status st = {.err = LSN_OK};
	enum lsn_err got = pathway_step_transition(case_status, t->step_status, t->action, &actor, &st);
	if (got != want)
		fail_msg("%s case, %s %s step, actor %d: got %s, want %s", case_status,
			 action_name(t->action), t->step_status, (int)t->who, lsn_err_code(got),
			 lsn_err_code(want));
	if (want != LSN_OK) {
		/* the refusal is recorded with a message for the user */
		assert_int_equal(st.err, want);
		assert_true(st.msg[0] != '\0');
	}
}

static void
test_step_transitions(void **state)
{
	(void)state;
	assert_int_equal(N(open_case), 5 * 3 * 4);
	for (size_t i = 0; i < N(open_case); i++)
		check_transition("open", &open_case[i], open_case[i].want);
	/* a closed case refuses everything, whoever asks, whatever the step */
	for (size_t i = 0; i < N(open_case); i++)
		check_transition("closed", &open_case[i], LSN_ERR_CASE_CLOSED);
	/* an unknown step status is a server bug, not a user error */
	struct pathway_actor both = {.is_assignee = true, .is_coordinator = true};
	assert_int_equal(pathway_step_transition("open", "bogus", PATHWAY_COMPLETE, &both, NULL),
			 LSN_ERR_INTERNAL);
	assert_int_equal(pathway_step_transition("open", "bogus", PATHWAY_REOPEN, &both, NULL),
			 LSN_ERR_INTERNAL);
	/* an empty role token never matches an empty profession */
	assert_false(pathway_role_matches("gp||nurse", "", 0));
	/* a NULL status is allowed */
	assert_int_equal(pathway_step_transition("open", "done", PATHWAY_COMPLETE, &both, NULL),
			 LSN_ERR_STEP_DONE);
	/* the wire codes are the ones docs/PROTOCOL.md lists */
	assert_string_equal(lsn_err_code(LSN_ERR_CASE_CLOSED), "case_closed");
	assert_string_equal(lsn_err_code(LSN_ERR_CASE_ALREADY_CLOSED), "case_already_closed");
	assert_string_equal(lsn_err_code(LSN_ERR_STEP_DONE), "step_done");
	assert_string_equal(lsn_err_code(LSN_ERR_STEP_SKIPPED), "step_skipped");
	assert_string_equal(lsn_err_code(LSN_ERR_STEP_PENDING), "step_pending");
	assert_string_equal(lsn_err_code(LSN_ERR_NOT_ASSIGNEE), "not_assignee");
	assert_string_equal(lsn_err_code(LSN_ERR_COORDINATOR_ONLY), "coordinator_only");
}

static void
test_close_reasons(void **state)
{
	(void)state;
	const char *good[] = {"completed", "readmitted", "deceased", "moved", "consent_withdrawn"};
	for (size_t i = 0; i < N(good); i++)
		assert_true(pathway_close_reason_valid(good[i]));
	const char *bad[] = {"", "complete", "Completed", "completed ", " completed", "closed",
			     "death", "consent", "consent_withdrawnx", "moved,deceased"};
	for (size_t i = 0; i < N(bad); i++)
		if (pathway_close_reason_valid(bad[i]))
			fail_msg("close reason \"%s\" accepted", bad[i]);
	assert_false(pathway_close_reason_valid(NULL));
	/* reschedule reasons: the documented codes, nothing else */
	const char *moved[] = {"patient_request", "patient_unavailable", "patient_hospitalised",
			       "professional_unavailable", "appointment_date", "clinical_decision",
			       "other"};
	for (size_t i = 0; i < N(moved); i++)
		assert_true(pathway_reschedule_reason_valid(moved[i]));
	const char *not_moved[] = {"", "rescheduled", "patient_declined", "Other", "other ",
				   "visite avancée", "patient_request,other"};
	for (size_t i = 0; i < N(not_moved); i++)
		if (pathway_reschedule_reason_valid(not_moved[i]))
			fail_msg("reschedule reason \"%s\" accepted", not_moved[i]);
	assert_false(pathway_reschedule_reason_valid(NULL));
}

/* Malformed rows are refused rather than expanded. */
static void
test_malformed_rows(void **state)
{
	(void)state;
	struct store_schedule_row r = {.has_first_day = true};
	snprintf(r.step, sizeof r.step, "x");
	snprintf(r.roles, sizeof r.roles, "gp");
	struct occbuf o = {0};
	r.first_day = -1;
	assert_int_equal(pathway_expand(&r, 1, "", 0, collect_occ, &o), -1);
	r.first_day = 10;
	r.every_days = 7;
	r.last_day = 3;   /* ends before it starts */
	assert_int_equal(pathway_expand(&r, 1, "", 0, collect_occ, &o), -1);
	r.every_days = -7;
	r.last_day = 30;
	assert_int_equal(pathway_expand(&r, 1, "", 0, collect_occ, &o), -1);
	/* every_days with last_day == first_day: one occurrence */
	r.every_days = 7;
	r.last_day = 10;
	memset(&o, 0, sizeof o);
	assert_int_equal(pathway_expand(&r, 1, "", 0, collect_occ, &o), 1);
	assert_int_equal(o.v[0].day, 10);
	/* no rows, no occurrences */
	assert_int_equal(pathway_expand(&r, 0, "", 0, collect_occ, &o), 0);
}

/* ---- a fourth pathway, as data only -------------------------------------- */

static void
exec_raw(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	char *errmsg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &errmsg);
	if (rc != SQLITE_OK) {
		print_error("sqlite: %s\n", errmsg ? errmsg : "?");
		sqlite3_free(errmsg);
	}
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_int_equal(rc, SQLITE_OK);
}

/* What a migration file 005_fall_prevention.sql would hold (a smaller
 * version of the example in docs/PATHWAYS.md). */
static const char fall_prevention_v1[] =
	"BEGIN;"
	"INSERT INTO pathway_templates(code, version, label_fr, j0_label, sources, flags) VALUES"
	" ('fall_prevention', 1, 'Prévention des chutes', 'repérage du risque de chute',"
	"  'HAS, Prévention des chutes accidentelles chez la personne âgée (2005)', 'recent_fall');"
	"INSERT INTO pathway_steps(template, version, step, position, label_fr, roles, mandatory) VALUES"
	" ('fall_prevention', 1, 'fall_risk_assessment', 1, 'Évaluation du risque de chute', 'gp', 1),"
	" ('fall_prevention', 1, 'home_visit', 2, 'Visite du domicile', 'nurse|physiotherapist', 0);"
	"INSERT INTO pathway_schedule(template, version, step, flag, replaces_base, first_day,"
	" every_days, last_day) VALUES"
	" ('fall_prevention', 1, 'fall_risk_assessment', NULL, 0, 0, NULL, NULL),"
	" ('fall_prevention', 1, 'home_visit', NULL, 0, 14, 30, 74),"
	" ('fall_prevention', 1, 'home_visit', 'recent_fall', 1, 3, 7, 24);"
	"COMMIT;";

static void
reopen_with(struct pw_fixture *f, const char *sql)
{
	int version = store_schema_version(f->s);
	store_close(f->s);
	f->s = NULL;
	exec_raw(f->path, sql);
	f->s = open_store(f->path);
	assert_int_equal(store_schema_version(f->s), version);
}

static void
test_fourth_pathway_as_data(void **state)
{
	struct pw_fixture *f = *state;
	reopen_with(f, fall_prevention_v1);

	struct tpl_seen ts = {0};
	assert_int_equal(store_template_list(f->s, collect_tpl, &ts), LSN_OK);
	assert_int_equal(ts.n, 4);
	assert_string_equal(ts.v[1].code, "fall_prevention");
	struct store_template t;
	assert_int_equal(store_template_current(f->s, "fall_prevention", &t), LSN_OK);
	assert_int_equal(t.version, 1);
	assert_string_equal(t.flags, "recent_fall");
	assert_string_equal(t.j0_label, "repérage du risque de chute");

	struct occbuf o;
	int64_t j0 = pathway_parse_day("2026-11-23");
	static const struct want plain[] = {
		{"fall_risk_assessment", 1, 0, "gp"},
		{"home_visit", 1, 14, "nurse|physiotherapist"},
		{"home_visit", 2, 44, "nurse|physiotherapist"},
		{"home_visit", 3, 74, "nurse|physiotherapist"},
	};
	assert_int_equal(expand(f->s, "fall_prevention", "", j0, &o), 4);
	check_expansion(&o, plain, N(plain), j0, "fall_prevention");
	static const struct want fallen[] = {
		{"fall_risk_assessment", 1, 0, "gp"},
		{"home_visit", 1, 3, "nurse|physiotherapist"},
		{"home_visit", 2, 10, "nurse|physiotherapist"},
		{"home_visit", 3, 17, "nurse|physiotherapist"},
		{"home_visit", 4, 24, "nurse|physiotherapist"},
	};
	assert_int_equal(expand(f->s, "fall_prevention", "recent_fall", j0, &o), 5);
	check_expansion(&o, fallen, N(fallen), j0, "fall_prevention recent_fall");
	/* the three original templates are untouched */
	assert_int_equal(expand(f->s, "heart_failure", "", j0, &o), 17);
	check_expansion(&o, hf_plain, N(hf_plain), j0, "heart_failure after fall_prevention");
}

/* Version 2 of a template: new cases get it, cases opened on version 1 keep
 * expanding version 1's rows. */
static void
test_template_version_2(void **state)
{
	struct pw_fixture *f = *state;
	reopen_with(f, fall_prevention_v1);
	reopen_with(f,
		"BEGIN;"
		"INSERT INTO pathway_templates(code, version, label_fr, j0_label, sources, flags) VALUES"
		" ('fall_prevention', 2, 'Prévention des chutes', 'repérage du risque de chute',"
		"  'HAS (2005)', '');"
		"INSERT INTO pathway_steps(template, version, step, position, label_fr, roles, mandatory)"
		" VALUES ('fall_prevention', 2, 'fall_risk_assessment', 1, 'Évaluation du risque de chute',"
		"  'gp|nurse', 1);"
		"INSERT INTO pathway_schedule(template, version, step, flag, replaces_base, first_day,"
		" every_days, last_day) VALUES ('fall_prevention', 2, 'fall_risk_assessment', NULL, 0, 0,"
		" 90, 360);"
		"UPDATE pathway_templates SET current = 0 WHERE code = 'fall_prevention' AND version = 1;"
		"COMMIT;");

	struct store_template t;
	assert_int_equal(store_template_current(f->s, "fall_prevention", &t), LSN_OK);
	assert_int_equal(t.version, 2);
	struct tpl_seen ts = {0};
	assert_int_equal(store_template_list(f->s, collect_tpl, &ts), LSN_OK);
	assert_int_equal(ts.n, 4);   /* one line per pathway: only current versions */
	assert_int_equal(ts.v[1].version, 2);

	/* version 2's rows */
	struct rowbuf rows;
	load_rows(f->s, "fall_prevention", 2, &rows);
	assert_int_equal(rows.n, 1);
	struct occbuf o = {0};
	int64_t j0 = MS_2026_11_23;
	assert_int_equal(pathway_expand(rows.v, rows.n, "", j0, collect_occ, &o), 5);
	static const struct want v2[] = {
		{"fall_risk_assessment", 1, 0, "gp|nurse"}, {"fall_risk_assessment", 2, 90, "gp|nurse"},
		{"fall_risk_assessment", 3, 180, "gp|nurse"}, {"fall_risk_assessment", 4, 270, "gp|nurse"},
		{"fall_risk_assessment", 5, 360, "gp|nurse"},
	};
	check_expansion(&o, v2, N(v2), j0, "fall_prevention v2");
	/* version 1's rows are still there for the cases opened on it */
	assert_int_equal(expand(f->s, "fall_prevention", "", j0, &o), 4);
	assert_string_equal(o.v[1].step, "home_visit");
}

/* ---- version 2 (schema/012_pathways_v2.sql), day by day ----------------- */

/* Expand version `version` with the events in anchors. */
static int
expand_at(struct store *s, const char *code, int64_t version, const char *flags, int64_t j0,
	  const struct pathway_anchor *anchors, size_t n_anchors, struct occbuf *out)
{
	struct rowbuf rows;
	load_rows(s, code, version, &rows);
	memset(out, 0, sizeof *out);
	int n = pathway_expand_at(rows.v, rows.n, flags, j0, anchors, n_anchors, collect_occ, out);
	assert_false(out->overflow);
	assert_int_equal((size_t)n, out->n);
	return n;
}

static const struct want_step hf2_steps[] = {
	{"discharge_letter", 1, "Lettre de liaison envoyée au médecin traitant", "hospital_doctor", true},
	{"discharge_reconciliation", 2, "Conciliation médicamenteuse de sortie", "hospital_pharmacist", false},
	/* no nurse_first_visit: no source plans a J2 visit */
	{"pharmacist_review", 4, "Dispensation et conciliation en officine", "pharmacist", false},
	{"gp_consultation", 5, "Consultation du médecin traitant", "gp", true},
	{"nurse_followup", 6, "Suivi infirmier (poids, signes d'alerte, éducation)", "nurse", false},
	{"biology_check", 7, "Kaliémie / créatinine après introduction ou titration", "gp|cardiologist", false},
	{"cardiology_consultation", 8, "Consultation cardiologue", "cardiologist", true},
	{"etp_referral", 9, "Orientation éducation thérapeutique", "gp|cardiologist", false},
	{"pathway_review", 10, "Bilan de fin de parcours", "coordinator", false},
	{"early_cardiology_check", 11, "Consultation cardiologique précoce", "cardiologist", false},
};

static const struct want_step ad2_steps[] = {
	{"screening", 1, "Repérage (PHQ-9, GAD-7 ou HAD)", "gp|pharmacist|nurse", false},
	{"diagnosis_severity", 2, "Diagnostic et intensité", "gp", true},
	{"suicide_risk_assessment", 3, "Évaluation du risque suicidaire", "gp", true},
	{"psychologist_referral", 4, "Orientation psychologue (Mon soutien psy)", "gp", false},
	{"psychologist_first_session", 5, "Séance d'évaluation", "psychologist", false},
	{"treatment_followup", 6, "Suivi (hebdomadaire le 1er mois, puis toutes les 2 semaines, puis mensuel)", "gp", false},
	{"response_review", 7, "Réévaluation (PHQ-9)", "gp", false},
	{"psychiatry_referral", 8, "Avis psychiatrique (épisode sévère, échec du traitement, doute diagnostique, risque suicidaire)", "gp|psychologist", false},
	{"psychologist_end_report", 9, "Compte rendu de fin de prise en charge", "psychologist", false},
	{"continuation_review", 10, "Consolidation ≥ 6 mois après rémission", "gp", false},
	{"urgent_assessment", 11, "Évaluation spécialisée ou aux urgences le jour même (risque suicidaire élevé)", "gp|psychiatrist", true},
};

/* Heart failure v2: PRADO's weekly nurse session for two months, J7 … J56 */
#define HF2_HEAD                                                                  \
	{"discharge_letter", 1, 0, "hospital_doctor"},                            \
	{"discharge_reconciliation", 1, 0, "hospital_pharmacist"},                \
	{"pharmacist_review", 1, 7, "pharmacist"},                                \
	{"gp_consultation", 1, 7, "gp"},                                          \
	{"nurse_followup", 1, 7, "nurse"}, {"nurse_followup", 2, 14, "nurse"},    \
	{"nurse_followup", 3, 21, "nurse"}, {"nurse_followup", 4, 28, "nurse"},   \
	{"nurse_followup", 5, 35, "nurse"}, {"nurse_followup", 6, 42, "nurse"},   \
	{"nurse_followup", 7, 49, "nurse"}, {"nurse_followup", 8, 56, "nurse"}

#define HF2_TAIL                                                                  \
	{"biology_check", 1, 14, "gp|cardiologist"},                              \
	{"cardiology_consultation", 1, 60, "cardiologist"},                       \
	{"etp_referral", 1, 60, "gp|cardiologist"}

static const struct want hf2_plain[] = {
	HF2_HEAD, HF2_TAIL, {"pathway_review", 1, 60, "coordinator"},
};

static const struct want hf2_nyha[] = {
	HF2_HEAD,
	/* NYHA III–IV: every two weeks for four more months, 7 sessions: 8 + 7 = 15 */
	{"nurse_followup", 9, 70, "nurse"}, {"nurse_followup", 10, 84, "nurse"},
	{"nurse_followup", 11, 98, "nurse"}, {"nurse_followup", 12, 112, "nurse"},
	{"nurse_followup", 13, 126, "nurse"}, {"nurse_followup", 14, 140, "nurse"},
	{"nurse_followup", 15, 154, "nurse"},
	HF2_TAIL, {"pathway_review", 1, 180, "coordinator"},   /* end of the six months */
};

static const struct want hf2_early[] = {
	HF2_HEAD, HF2_TAIL, {"pathway_review", 1, 60, "coordinator"},
	{"early_cardiology_check", 1, 15, "cardiologist"},
};

static int
count_step(const struct occbuf *o, const char *step)
{
	int n = 0;
	for (size_t i = 0; i < o->n; i++)
		n += strcmp(o->v[i].step, step) == 0;
	return n;
}

static void
test_steps_match_design_v2(void **state)
{
	struct pw_fixture *f = *state;
	check_steps_v(f->s, "heart_failure", 2, hf2_steps, N(hf2_steps));
	check_steps_v(f->s, "anxiety_depression", 2, ad2_steps, N(ad2_steps));
	/* version 1 is untouched: its own steps, rows and days (tests above) */
	check_steps_v(f->s, "heart_failure", 1, hf_steps, N(hf_steps));
	check_steps_v(f->s, "anxiety_depression", 1, ad_steps, N(ad_steps));
}

static void
test_heart_failure_v2(void **state)
{
	struct pw_fixture *f = *state;
	struct occbuf o;
	int64_t j0 = MS_2026_11_23;
	assert_int_equal(expand_at(f->s, "heart_failure", 2, "", j0, NULL, 0, &o), 16);
	check_expansion(&o, hf2_plain, N(hf2_plain), j0, "heart_failure v2");
	/* eight nurse sessions, none after J56 */
	assert_int_equal(count_step(&o, "nurse_followup"), 8);
	for (size_t i = 0; i < o.n; i++)
		if (strcmp(o.v[i].step, "nurse_followup") == 0)
			assert_true(o.v[i].day <= 56);
	assert_int_equal(count_step(&o, "nurse_first_visit"), 0);
	assert_int_equal(count_step(&o, "early_cardiology_check"), 0);
	/* J56 = 2027-01-18, J60 = 2027-01-22 */
	assert_int_equal(o.v[11].due_at, MS_2027_01_19 - 1);  /* nurse_followup #8 */
	assert_int_equal(o.v[15].due_at, MS_2027_01_23 - 1);  /* pathway_review */
	/* version 1's flag does the same as before on version 1 only */
	assert_int_equal(expand(f->s, "heart_failure", "", j0, &o), 17);
}

static void
test_heart_failure_v2_nyha(void **state)
{
	struct pw_fixture *f = *state;
	struct occbuf o;
	int64_t j0 = MS_2026_11_23;
	assert_int_equal(expand_at(f->s, "heart_failure", 2, "nyha_3_4", j0, NULL, 0, &o), 23);
	check_expansion(&o, hf2_nyha, N(hf2_nyha), j0, "heart_failure v2 nyha_3_4");
	assert_int_equal(count_step(&o, "nurse_followup"), 15);
	assert_int_equal(count_step(&o, "pathway_review"), 1);
	/* with the early check as well: one more, nothing else moves */
	assert_int_equal(expand_at(f->s, "heart_failure", 2, "early_cardiology,nyha_3_4", j0, NULL,
				   0, &o), 24);
	assert_int_equal(count_step(&o, "nurse_followup"), 15);
	assert_int_equal(count_step(&o, "early_cardiology_check"), 1);
}

static void
test_heart_failure_v2_early(void **state)
{
	struct pw_fixture *f = *state;
	struct occbuf o;
	int64_t j0 = MS_2026_11_23;
	assert_int_equal(expand_at(f->s, "heart_failure", 2, "early_cardiology", j0, NULL, 0, &o), 17);
	check_expansion(&o, hf2_early, N(hf2_early), j0, "heart_failure v2 early_cardiology");
	/* J15 = 2026-12-08, the end of that Paris day: 2026-12-08T22:59:59.999Z */
	assert_int_equal(o.v[16].due_at, MS_2026_12_01 + 8 * 86400000LL - 1);
}

/* Anxio-depressive v2. */
#define AD2_J0                                                                        \
	{"screening", 1, 0, "gp|pharmacist|nurse"},                                   \
	{"diagnosis_severity", 1, 0, "gp"},                                           \
	{"suicide_risk_assessment", 1, 0, "gp"}
#define AD2_PSY                                                                       \
	{"psychologist_referral", 1, 0, "gp"},                                        \
	{"psychologist_first_session", 1, 14, "psychologist"}
#define AD2_FOLLOWUP                                                                  \
	{"treatment_followup", 1, 7, "gp"}, {"treatment_followup", 2, 14, "gp"},      \
	{"treatment_followup", 3, 21, "gp"}, {"treatment_followup", 4, 28, "gp"},     \
	{"treatment_followup", 5, 42, "gp"}, {"treatment_followup", 6, 56, "gp"},     \
	{"treatment_followup", 7, 70, "gp"}, {"treatment_followup", 8, 84, "gp"},     \
	{"treatment_followup", 9, 114, "gp"}, {"treatment_followup", 10, 144, "gp"},  \
	{"treatment_followup", 11, 174, "gp"},                                        \
	{"response_review", 1, 28, "gp"}, {"response_review", 2, 56, "gp"}

static const struct want ad2_plain[] = {
	AD2_J0, AD2_PSY, AD2_FOLLOWUP,
	/* no psychiatry_referral without an indication */
	{"psychologist_end_report", 1, -1, "psychologist"},
	{"continuation_review", 1, -1, "gp"},   /* no remission yet: no deadline */
};

static const struct want ad2_failure[] = {   /* treatment_failure or diagnostic_doubt */
	AD2_J0, AD2_PSY, AD2_FOLLOWUP,
	{"psychiatry_referral", 1, 30, "gp|psychologist"},
	{"psychologist_end_report", 1, -1, "psychologist"},
	{"continuation_review", 1, -1, "gp"},
};

static const struct want ad2_severe[] = {
	AD2_J0, AD2_FOLLOWUP,   /* no Mon soutien psy for a severe episode */
	{"psychiatry_referral", 1, 30, "gp|psychologist"},
	{"continuation_review", 1, -1, "gp"},
};

static const struct want ad2_risk[] = {
	AD2_J0, AD2_FOLLOWUP,   /* no Mon soutien psy with a high suicide risk */
	{"psychiatry_referral", 1, 0, "gp|psychologist"},   /* same day, once */
	{"continuation_review", 1, -1, "gp"},
	{"urgent_assessment", 1, 0, "gp|psychiatrist"},
};

static void
test_anxiety_depression_v2(void **state)
{
	struct pw_fixture *f = *state;
	struct occbuf o;
	int64_t j0 = MS_2026_11_23;
	assert_int_equal(expand_at(f->s, "anxiety_depression", 2, "", j0, NULL, 0, &o), 20);
	check_expansion(&o, ad2_plain, N(ad2_plain), j0, "anxiety_depression v2");
	assert_int_equal(count_step(&o, "psychiatry_referral"), 0);
	assert_int_equal(count_step(&o, "urgent_assessment"), 0);
	/* another pathway's flag changes nothing */
	assert_int_equal(expand_at(f->s, "anxiety_depression", 2, "nyha_3_4", j0, NULL, 0, &o), 20);
	check_expansion(&o, ad2_plain, N(ad2_plain), j0, "anxiety_depression v2 other flag");
}

static void
test_anxiety_depression_v2_psychiatry(void **state)
{
	struct pw_fixture *f = *state;
	struct occbuf o;
	int64_t j0 = MS_2026_11_23;
	/* each indication alone brings the opinion at J30 */
	assert_int_equal(expand_at(f->s, "anxiety_depression", 2, "treatment_failure", j0, NULL, 0,
				   &o), 21);
	check_expansion(&o, ad2_failure, N(ad2_failure), j0, "v2 treatment_failure");
	assert_int_equal(expand_at(f->s, "anxiety_depression", 2, "diagnostic_doubt", j0, NULL, 0,
				   &o), 21);
	check_expansion(&o, ad2_failure, N(ad2_failure), j0, "v2 diagnostic_doubt");
	/* a severe episode: the opinion, and no Mon soutien psy */
	assert_int_equal(expand_at(f->s, "anxiety_depression", 2, "severe_episode", j0, NULL, 0, &o),
			 18);
	check_expansion(&o, ad2_severe, N(ad2_severe), j0, "v2 severe_episode");
	/* two indications: still one opinion */
	assert_int_equal(expand_at(f->s, "anxiety_depression", 2, "diagnostic_doubt,treatment_failure",
				   j0, NULL, 0, &o), 21);
	check_expansion(&o, ad2_failure, N(ad2_failure), j0, "v2 two indications");
	/* J30 = 2026-12-23, due at its end in Paris */
	assert_int_equal(o.v[18].due_at, MS_2026_12_01 + 23 * 86400000LL - 1);
}

static void
test_anxiety_depression_v2_suicide_risk(void **state)
{
	struct pw_fixture *f = *state;
	struct occbuf o;
	int64_t j0 = MS_2026_11_23;
	assert_int_equal(expand_at(f->s, "anxiety_depression", 2, "high_suicide_risk", j0, NULL, 0,
				   &o), 19);
	check_expansion(&o, ad2_risk, N(ad2_risk), j0, "v2 high_suicide_risk");
	assert_int_equal(o.v[18].due_at, MS_2026_11_24 - 1);   /* urgent_assessment: J0 */
	/* with another indication the J30 row is not added: one opinion, J0 */
	assert_int_equal(expand_at(f->s, "anxiety_depression", 2,
				   "treatment_failure,high_suicide_risk,severe_episode", j0, NULL, 0, &o),
			 19);
	check_expansion(&o, ad2_risk, N(ad2_risk), j0, "v2 high_suicide_risk + others");
	assert_int_equal(count_step(&o, "psychologist_referral"), 0);
	assert_int_equal(count_step(&o, "psychologist_first_session"), 0);
	assert_int_equal(count_step(&o, "psychologist_end_report"), 0);
}

static void
test_anxiety_depression_v2_remission(void **state)
{
	struct pw_fixture *f = *state;
	struct occbuf o;
	int64_t j0 = MS_2026_11_23;
	/* remission recorded on 2027-01-19 = J57 (30 days to 23 December, 27 more
	 * to 19 January); the review is due 180 days later: 2027-07-18 = J237,
	 * at the end of that Paris summer day, 2027-07-18T21:59:59.999Z */
	const struct pathway_anchor remission = {.event = "remission", .day = MS_2027_01_19};
	assert_int_equal(expand_at(f->s, "anxiety_depression", 2, "", j0, &remission, 1, &o), 20);
	assert_string_equal(o.v[19].step, "continuation_review");
	assert_int_equal(o.v[19].occurrence, 1);
	assert_int_equal(o.v[19].day, 237);
	assert_int_equal(o.v[19].due_at, 1815948000000LL - 1);   /* 2027-07-19 00:00 Paris − 1 ms */
	/* every other step is where it was without the event */
	for (size_t i = 0; i < 19; i++) {
		assert_string_equal(o.v[i].step, ad2_plain[i].step);
		assert_int_equal(o.v[i].day, ad2_plain[i].day);
	}
	/* an event the template does not date from changes nothing */
	const struct pathway_anchor other = {.event = "discharge", .day = MS_2027_01_19};
	assert_int_equal(expand_at(f->s, "anxiety_depression", 2, "", j0, &other, 1, &o), 20);
	check_expansion(&o, ad2_plain, N(ad2_plain), j0, "v2 unrelated event");
	/* the events a case of each version can record */
	struct rowbuf rows;
	load_rows(f->s, "anxiety_depression", 2, &rows);
	assert_true(pathway_is_anchor(rows.v, rows.n, "remission"));
	assert_false(pathway_is_anchor(rows.v, rows.n, "remissio"));
	load_rows(f->s, "anxiety_depression", 1, &rows);
	assert_false(pathway_is_anchor(rows.v, rows.n, "remission"));
	/* version 1 keeps its J180 review from J0, whatever the events */
	load_rows(f->s, "anxiety_depression", 1, &rows);
	memset(&o, 0, sizeof o);
	assert_int_equal(pathway_expand_at(rows.v, rows.n, "", j0, &remission, 1, collect_occ, &o), 21);
	check_expansion(&o, ad_plain, N(ad_plain), j0, "v1 with an event");
}

static struct store_schedule_row
row(const char *step, const char *flag, bool replaces, int64_t first, int64_t every, int64_t last,
    const char *unless, const char *anchor)
{
	struct store_schedule_row r = {.replaces_base = replaces, .has_first_day = first >= 0,
				       .first_day = first < 0 ? 0 : first, .every_days = every,
				       .last_day = last};
	snprintf(r.step, sizeof r.step, "%s", step);
	snprintf(r.roles, sizeof r.roles, "gp");
	snprintf(r.flag, sizeof r.flag, "%s", flag ? flag : "");
	snprintf(r.unless, sizeof r.unless, "%s", unless ? unless : "");
	snprintf(r.anchor, sizeof r.anchor, "%s", anchor ? anchor : "");
	return r;
}

/* The flag list (any) and the unless list (none), on hand-made rows. */
static void
test_unless_and_any_flag(void **state)
{
	(void)state;
	assert_true(pathway_has_any_flag("b", "a|b|c"));
	assert_true(pathway_has_any_flag("x,c", "a|b|c"));
	assert_false(pathway_has_any_flag("ab,bc", "a|b|c"));   /* whole items only */
	assert_false(pathway_has_any_flag("", "a|b"));
	assert_false(pathway_has_any_flag("a", ""));
	assert_false(pathway_has_any_flag("a", "|"));
	struct store_schedule_row rows[] = {
		row("s", NULL, false, 10, 0, 0, "no", NULL),      /* J10 unless no */
		row("t", "a|b", false, 20, 0, 0, NULL, NULL),     /* J20 with a or b */
		row("u", "a", true, 5, 0, 0, "no", NULL),         /* J5 with a, unless no, instead of J30 */
		row("u", NULL, false, 30, 0, 0, NULL, NULL),
	};
	struct occbuf o = {0};
	assert_int_equal(pathway_expand(rows, N(rows), "", 0, collect_occ, &o), 2);
	assert_string_equal(o.v[0].step, "s");
	assert_int_equal(o.v[0].day, 10);
	assert_string_equal(o.v[1].step, "u");
	assert_int_equal(o.v[1].day, 30);
	memset(&o, 0, sizeof o);
	assert_int_equal(pathway_expand(rows, N(rows), "b", 0, collect_occ, &o), 3);
	assert_int_equal(o.v[1].day, 20);
	memset(&o, 0, sizeof o);
	/* a: t added, u replaced by J5 */
	assert_int_equal(pathway_expand(rows, N(rows), "a", 0, collect_occ, &o), 3);
	assert_string_equal(o.v[2].step, "u");
	assert_int_equal(o.v[2].day, 5);
	memset(&o, 0, sizeof o);
	/* a,no: s removed; the replacing row is removed too, so u stays at J30 */
	assert_int_equal(pathway_expand(rows, N(rows), "a,no", 0, collect_occ, &o), 2);
	assert_string_equal(o.v[0].step, "t");
	assert_string_equal(o.v[1].step, "u");
	assert_int_equal(o.v[1].day, 30);
}

/* Anchored rows: no deadline until the event, then days from its day. */
static void
test_anchor_rows(void **state)
{
	(void)state;
	struct store_schedule_row rows[] = {
		row("a", NULL, false, 2, 0, 0, NULL, NULL),
		row("r", NULL, false, 7, 7, 21, NULL, "ev"),      /* 7, 14, 21 days after ev */
	};
	struct occbuf o = {0};
	int64_t j0 = MS_2026_12_31;
	assert_int_equal(pathway_expand(rows, N(rows), "", j0, collect_occ, &o), 2);
	assert_int_equal(o.v[1].occurrence, 1);
	assert_int_equal(o.v[1].day, -1);
	assert_int_equal(o.v[1].due_at, 0);
	/* ev on 2027-03-26 (J85: 31 days of January, 28 of February, 26 of March);
	 * +7 = 2 April (J92), +14 = 9 April (J99), +21 = 16 April (J106), summer time */
	const struct pathway_anchor ev = {.event = "ev", .day = MS_2027_03_26};
	memset(&o, 0, sizeof o);
	assert_int_equal(pathway_expand_at(rows, N(rows), "", j0, &ev, 1, collect_occ, &o), 4);
	assert_int_equal(o.v[1].day, 92);
	assert_int_equal(o.v[2].day, 99);
	assert_int_equal(o.v[3].day, 106);
	assert_int_equal(o.v[3].occurrence, 3);
	/* 2027-04-16 ends at 2027-04-16T21:59:59.999Z (CEST): the midnight that
	 * starts 17 April, 2027-03-30 00:00 + 18 days of 24 h, less 1 ms */
	assert_int_equal(o.v[3].due_at, MS_2027_03_30 + 18 * 86400000LL - 1);
	assert_int_equal(o.v[3].due_at, 1807912800000LL - 1);   /* TZ=Europe/Paris date -d "2027-04-17" */
	assert_int_equal(o.v[0].day, 2);   /* the J0 row does not move */
}

int
main(void)
{
	/* Local time must not matter: run in Paris time. */
	setenv("TZ", "Europe/Paris", 1);
	tzset();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_templates_listed, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_steps_match_design, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_roles_are_known, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_heart_failure, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_heart_failure_nyha, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_anxiety_depression, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_hospital_discharge, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_occurrence_numbering, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_due_at_local, pw_setup, pw_teardown),
		cmocka_unit_test(test_day_diff),
		cmocka_unit_test(test_parse_day),
		cmocka_unit_test(test_has_flag),
		cmocka_unit_test(test_role_matches),
		cmocka_unit_test(test_step_transitions),
		cmocka_unit_test(test_close_reasons),
		cmocka_unit_test(test_malformed_rows),
		cmocka_unit_test_setup_teardown(test_fourth_pathway_as_data, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_template_version_2, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_steps_match_design_v2, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_heart_failure_v2, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_heart_failure_v2_nyha, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_heart_failure_v2_early, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_anxiety_depression_v2, pw_setup, pw_teardown),
		cmocka_unit_test_setup_teardown(test_anxiety_depression_v2_psychiatry, pw_setup,
						pw_teardown),
		cmocka_unit_test_setup_teardown(test_anxiety_depression_v2_suicide_risk, pw_setup,
						pw_teardown),
		cmocka_unit_test_setup_teardown(test_anxiety_depression_v2_remission, pw_setup,
						pw_teardown),
		cmocka_unit_test(test_unless_and_any_flag),
		cmocka_unit_test(test_anchor_rows),
	};
	return cmocka_run_group_tests_name("pathway", tests, NULL, NULL);
}
