/* test_concil.c — medication reconciliation, the pure core (client/concil/concil_*.c):
 * the comparison on heart-failure and depression fixtures (every discrepancy
 * type), CSV and entry parsing and their errors, the 3-source rule, the
 * prescriber-only final resolution, the episode document, the circle copy
 * (no identity, notes, names or days) and its generalisation (rare drugs to
 * their ATC class, rare pairs, k boundaries, month to quarter), the server
 * counts (no drug name) and hand-computed circle aggregates; a bounded fuzz
 * of the parsers; the treatments of a discharge notice as prescription lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "concil.h"
#include "lsn_config.h"
#include "concil_int.h"

#define EPISODE_HEX "0123456789abcdef0123456789abcdef"
#define CASE_HEX    "fedcba9876543210fedcba9876543210"
#define PHARM_HEX   "11111111111111111111111111111111"
#define PRESC_HEX   "22222222222222222222222222222222"

/* 2025-11-23 14:00 UTC and later (see python3 datetime) */
#define T_START   1763906400000LL
#define T_SRC     1763974800000LL
#define T_COMPARE 1763982000000LL
#define T_DECIDE  1764064800000LL
#define T_CLOSE   1764662400000LL

/* ---- helpers ---------------------------------------------------------------- */

static struct concil_line
entry(enum concil_list list, const char *text)
{
	struct concil_line ln;
	struct lsn_status st = {0};
	enum lsn_err err = concil_entry_parse(text, strlen(text), list, &ln, &st);
	if (err != LSN_OK)
		fail_msg("entry \"%s\": %s", text, st.msg);
	return ln;
}

/* Add a line straight into the list (the rules are tested elsewhere). */
static int
add_line(struct concil_episode *ep, enum concil_list list, const char *text)
{
	struct concil_line ln = entry(list, text);
	ln.id = ep->next_id++;
	assert_true(concil_lines_push(list == CONCIL_BMO ? &ep->bmo : &ep->order, &ln));
	return ln.id;
}

static void
new_episode(struct concil_episode *ep)
{
	struct lsn_status st = {0};
	assert_int_equal(concil_episode_init(ep, EPISODE_HEX, CONCIL_DISCHARGE, T_START, &st), LSN_OK);
}

/* "type:bmo:order:other …" */
static void
render(const struct concil_discs *ds, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < ds->n && o < len; i++) {
		const struct concil_disc *d = &ds->v[i];
		int k = snprintf(out + o, len - o, "%s%s:%d:%d:%d", i ? " " : "",
				 concil_code(CONCIL_V_TYPE, (int)d->type), d->bmo, d->order, d->other);
		if (k < 0)
			break;
		o += (size_t)k;
	}
}

static void
compare_expect(const struct concil_episode *ep, const char *expected)
{
	struct concil_discs ds = {0};
	char got[2048];
	assert_true(concil_compare(ep, &ds));
	render(&ds, got, sizeof got);
	assert_string_equal(got, expected);
	concil_discs_free(&ds);
}

/* The heart-failure fixture of PATHWAYS.md: one discrepancy of each
 * computed type. */
static void
heart_failure(struct concil_episode *ep)
{
	new_episode(ep);
	add_line(ep, CONCIL_BMO, "inn=furosémide atc=C03CA01 strength=\"40 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=matin");                          /* 1 */
	add_line(ep, CONCIL_BMO, "inn=bisoprolol atc=C07AB07 strength=\"2,5 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=matin");                          /* 2 */
	add_line(ep, CONCIL_BMO, "inn=ramipril atc=C09AA05 strength=\"5 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=1/j");                            /* 3 */
	add_line(ep, CONCIL_BMO, "inn=spironolactone atc=C03DA01 strength=\"25 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=1/j");                            /* 4 */
	add_line(ep, CONCIL_BMO, "inn=digoxine atc=C01AA05 strength=\"0.25 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=1/j");                            /* 5 */
	add_line(ep, CONCIL_BMO, "inn=paracétamol atc=N02BE01 strength=\"1 g\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=\"si besoin\" self_medication=oui"); /* 6 */
	add_line(ep, CONCIL_ORDER, "inn=FUROSEMIDE atc=C03CA01 strength=\"40 mg\" form=cp "
		 "route=\"per os\" dose=2 unit=cp frequency=\"matin et soir\"");               /* 7 */
	add_line(ep, CONCIL_ORDER, "inn=bisoprolol atc=C07AB07 strength=\"2.5 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé");                                          /* 8 */
	add_line(ep, CONCIL_ORDER, "inn=ramipril atc=C09AA05 strength=\"5 mg\" form=gélule "
		 "route=orale dose=1 unit=gélule frequency=\"1 fois par jour\"");              /* 9 */
	add_line(ep, CONCIL_ORDER, "inn=éplérénone atc=C03DA04 strength=\"25 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=1/j");                            /* 10 */
	add_line(ep, CONCIL_ORDER, "inn=digoxine atc=C01AA05 route=IV dose=0.25 unit=mg "
		 "frequency=1/j");                                                             /* 11 */
	add_line(ep, CONCIL_ORDER, "inn=dapagliflozine atc=A10BK01 strength=\"10 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=matin");                          /* 12 */
	add_line(ep, CONCIL_ORDER, "inn=empagliflozine atc=A10BK03 strength=\"10 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=matin");                          /* 13 */
}

static const char *const hf_inns[] = {"furos", "FUROSEMIDE", "bisoprolol", "ramipril",
				      "spironolactone", "digoxine", "paracétamol", "paracetamol",
				      "éplérénone", "eplerenone", "dapagliflozine", "empagliflozine"};

/* Identity, notes and names on top of the heart-failure fixture, sources,
 * a comparison and a review. */
static void
hf_reviewed(struct concil_episode *ep)
{
	struct lsn_status st = {0};
	struct concil_change ch;
	heart_failure(ep);
	snprintf(ep->case_id, sizeof ep->case_id, CASE_HEX);
	snprintf(ep->pathway, sizeof ep->pathway, "heart_failure");
	snprintf(ep->patient.name, sizeof ep->patient.name, "DUPONT Jeanne");
	snprintf(ep->patient.birth_date, sizeof ep->patient.birth_date, "1948-03-12");
	snprintf(ep->patient.ins, sizeof ep->patient.ins, "248037512345678");
	snprintf(ep->pharmacist.user, sizeof ep->pharmacist.user, PHARM_HEX);
	snprintf(ep->pharmacist.name, sizeof ep->pharmacist.name, "Claire MARTIN");
	snprintf(ep->pharmacist.profession, sizeof ep->pharmacist.profession, "hospital_pharmacist");
	snprintf(ep->prescriber.user, sizeof ep->prescriber.user, PRESC_HEX);
	snprintf(ep->prescriber.name, sizeof ep->prescriber.name, "Paul LEROY");
	snprintf(ep->prescriber.profession, sizeof ep->prescriber.profession, "cardiologist");
	snprintf(ep->note, sizeof ep->note, "Vit seule, sa fille Sophie passe le mardi");
	snprintf(ep->bmo.v[0].note, sizeof ep->bmo.v[0].note, "oublis fréquents selon Sophie");
	static const enum concil_source_type types[] = {CONCIL_SRC_PATIENT_INTERVIEW,
		CONCIL_SRC_DOSSIER_PHARMACEUTIQUE, CONCIL_SRC_GP_PRESCRIPTION, CONCIL_SRC_CAREGIVER};
	for (size_t i = 0; i < 4; i++) {
		memset(&ch, 0, sizeof ch);
		ch.kind = CONCIL_CH_SOURCE_ADD;
		ch.source.type = types[i];
		ch.source.at = T_SRC;
		snprintf(ch.source.note, sizeof ch.source.note, "appel Dr Bernard au 06 12 34 56 78");
		assert_int_equal(concil_apply(ep, &ch, "hospital_pharmacist", T_SRC, &st), LSN_OK);
	}
	memset(&ch, 0, sizeof ch);
	ch.kind = CONCIL_CH_STATUS;
	ch.status = CONCIL_BMO_DONE;
	assert_int_equal(concil_apply(ep, &ch, "hospital_pharmacist", T_SRC, &st), LSN_OK);
	assert_int_equal(concil_apply_compare(ep, "hospital_pharmacist", T_COMPARE, &st), LSN_OK);
	assert_int_equal(ep->discs.n, 9);
	/* discrepancy 14 (dose_change): unintentional, corrected by the prescriber */
	memset(&ch, 0, sizeof ch);
	ch.kind = CONCIL_CH_INTENT;
	ch.id = ep->discs.v[0].id;
	ch.intent = CONCIL_UNINTENTIONAL;
	ch.severity = CONCIL_SIGNIFICANT;
	ch.note = "Mme Dupont pensait devoir doubler";
	assert_int_equal(concil_apply(ep, &ch, "hospital_pharmacist", T_COMPARE, &st), LSN_OK);
	ch.kind = CONCIL_CH_DECIDE;
	ch.resolution = CONCIL_PRESCRIPTION_CORRECTED;
	ch.note = NULL;
	assert_int_equal(concil_apply(ep, &ch, "cardiologist", T_DECIDE, &st), LSN_OK);
	/* the substitution: documented as intentional */
	memset(&ch, 0, sizeof ch);
	ch.kind = CONCIL_CH_DECIDE;
	ch.id = ep->discs.v[3].id;
	ch.resolution = CONCIL_DOCUMENTED_AS_INTENTIONAL;
	assert_int_equal(concil_apply(ep, &ch, "cardiologist", T_DECIDE, &st), LSN_OK);
}

static bool
contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* ---- comparison ---------------------------------------------------------------- */

static void
test_compare_heart_failure(void **state)
{
	struct concil_episode ep;
	heart_failure(&ep);
	compare_expect(&ep,
		"dose_change:1:7:0 frequency_change:1:7:0 "   /* 1 cp matin → 2 cp matin et soir: both */
		"form_change:3:9:0 "                          /* comprimé → gélule, same 5 mg */
		"substitution:4:10:0 "                        /* spironolactone → éplérénone (C03DA) */
		"route_change:5:11:0 "                        /* orale → IV, 0.25 mg both */
		"omission:6:0:0 "                             /* self-medication not prescribed */
		"incomplete:0:8:0 "                           /* bisoprolol without frequency */
		"addition:0:12:0 "                            /* dapagliflozine */
		"duplication:0:13:12");                       /* empagliflozine with it (A10BK) */
	/* deterministic: the same again */
	compare_expect(&ep,
		"dose_change:1:7:0 frequency_change:1:7:0 form_change:3:9:0 substitution:4:10:0 "
		"route_change:5:11:0 omission:6:0:0 incomplete:0:8:0 addition:0:12:0 "
		"duplication:0:13:12");
	concil_episode_free(&ep);
}

static void
test_compare_depression(void **state)
{
	struct concil_episode ep;
	new_episode(&ep);
	add_line(&ep, CONCIL_BMO, "inn=sertraline atc=N06AB06 strength=\"50 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=matin");
	add_line(&ep, CONCIL_BMO, "inn=Hydroxyzine atc=N05B self_medication=yes strength=\"25 mg\" "
		 "form=comprimé route=orale dose=1 unit=comprimé frequency=coucher");
	add_line(&ep, CONCIL_BMO, "inn=alprazolam atc=N05BA12 strength=\"0.25 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=\"si besoin\"");
	add_line(&ep, CONCIL_ORDER, "inn=escitalopram atc=N06AB10 strength=\"10 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=matin");
	add_line(&ep, CONCIL_ORDER, "inn=fluoxétine atc=N06AB03 strength=\"20 mg\" form=gélule "
		 "route=orale dose=1 unit=gélule frequency=matin");
	add_line(&ep, CONCIL_ORDER, "inn=HYDROXYZINE atc=N05BB01 strength=\"25 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=\"au coucher\"");
	add_line(&ep, CONCIL_ORDER, "inn=alprazolam atc=N05BA12 strength=\"0,25 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=3/j");
	/* sertraline → escitalopram: a substitution, not omission + addition;
	 * fluoxétine beside escitalopram: a duplication; hydroxyzine matched by
	 * its INN (case and accents ignored); alprazolam si besoin → 3/j */
	compare_expect(&ep, "substitution:1:4:0 frequency_change:3:7:0 duplication:0:5:4");
	concil_episode_free(&ep);
}

static void
test_compare_equivalences(void **state)
{
	struct concil_episode ep;
	new_episode(&ep);
	/* 1 comprimé of 40 mg = 40 mg; 2/j = matin et soir; accents and case */
	add_line(&ep, CONCIL_BMO, "inn=Furosémide atc=C03CA01 strength=\"40 mg\" dose=1 "
		 "unit=comprimé frequency=2/j");
	add_line(&ep, CONCIL_ORDER, "inn=FUROSEMIDE atc=C03CA01 dose=40 unit=mg "
		 "frequency=\"matin + soir\"");
	compare_expect(&ep, "");
	concil_episode_free(&ep);

	new_episode(&ep);
	/* matin → soir is a change; 5 mg → 2.5 mg of the same tablet count too */
	add_line(&ep, CONCIL_BMO, "inn=bisoprolol atc=C07AB07 strength=\"5 mg\" dose=1 "
		 "unit=comprimé frequency=matin");
	add_line(&ep, CONCIL_ORDER, "inn=bisoprolol atc=C07AB07 strength=\"2.5 mg\" dose=1 "
		 "unit=comprimé frequency=soir");
	compare_expect(&ep, "dose_change:1:2:0 frequency_change:1:2:0");
	concil_episode_free(&ep);

	new_episode(&ep);
	/* two strengths that are not one amount: compared as written */
	add_line(&ep, CONCIL_BMO, "inn=sacubitril/valsartan atc=C09DX04 strength=\"24 mg/26 mg\" "
		 "dose=1 unit=comprimé frequency=2/j");
	add_line(&ep, CONCIL_ORDER, "inn=\"sacubitril / valsartan\" atc=C09DX04 "
		 "strength=\"49 mg/51 mg\" dose=1 unit=comprimé frequency=2/j");
	/* the same substance twice in the order: a duplication */
	add_line(&ep, CONCIL_ORDER, "inn=Sacubitril/Valsartan atc=C09DX04 strength=\"24 mg/26 mg\" "
		 "dose=1 unit=comprimé frequency=2/j");
	compare_expect(&ep, "dose_change:1:2:0 duplication:0:3:2");
	concil_episode_free(&ep);

	new_episode(&ep);
	/* an unknown dose, unit or frequency: incomplete, nothing else about it */
	add_line(&ep, CONCIL_BMO, "inn=digoxine atc=C01AA05 dose=1 unit=comprimé");
	add_line(&ep, CONCIL_ORDER, "inn=digoxine atc=C01AA05 frequency=1/j");
	compare_expect(&ep, "incomplete:1:0:0 incomplete:0:2:0");
	concil_episode_free(&ep);

	new_episode(&ep);
	compare_expect(&ep, "");
	concil_episode_free(&ep);
}

static void
test_compare_merge_keeps_review(void **state)
{
	struct concil_episode ep;
	struct lsn_status st = {0};
	struct concil_change ch = {0};
	hf_reviewed(&ep);
	int first = ep.discs.v[0].id;
	assert_int_equal(ep.discs.v[0].resolution, CONCIL_PRESCRIPTION_CORRECTED);
	/* the prescription is corrected: the duplication goes, the rest stays */
	ch.kind = CONCIL_CH_LINE_REMOVE;
	ch.id = 13;
	assert_int_equal(concil_apply(&ep, &ch, "cardiologist", T_DECIDE, &st), LSN_OK);
	assert_int_equal(ep.discs.n, 8);
	/* a manual discrepancy, then a new comparison */
	memset(&ch, 0, sizeof ch);
	ch.kind = CONCIL_CH_DISC_ADD;
	ch.disc_type = CONCIL_OTHER;
	ch.line_ids[0] = 2;
	ch.note = "bradycardie à surveiller";
	assert_int_equal(concil_apply(&ep, &ch, "hospital_pharmacist", T_DECIDE, &st), LSN_OK);
	assert_int_equal(concil_apply_compare(&ep, "hospital_pharmacist", T_DECIDE, &st), LSN_OK);
	assert_int_equal(ep.discs.n, 9);
	assert_int_equal(ep.discs.v[0].id, first);
	assert_int_equal(ep.discs.v[0].resolution, CONCIL_PRESCRIPTION_CORRECTED);
	assert_int_equal(ep.discs.v[0].detected_at, T_COMPARE);
	assert_int_equal(ep.discs.v[8].type, CONCIL_OTHER);
	assert_true(ep.discs.v[8].manual);
	assert_int_equal(ep.compared_at, T_COMPARE);  /* the first comparison */
	/* a decided discrepancy keeps its lines */
	memset(&ch, 0, sizeof ch);
	ch.kind = CONCIL_CH_LINE_REMOVE;
	ch.id = 7;
	assert_int_equal(concil_apply(&ep, &ch, "cardiologist", T_DECIDE, &st), LSN_ERR_CONFLICT);
	concil_episode_free(&ep);
}

/* ---- vocabularies and fields -------------------------------------------------------- */

static void
test_vocabularies(void **state)
{
	char why[256] = "";
	char key[64];
	if (!concil_vocab_selfcheck(why, sizeof why))
		fail_msg("%s", why);
	assert_string_equal(concil_unit_canon("mcg"), "µg");
	assert_string_equal(concil_unit_canon("μg"), "µg");   /* Greek mu */
	assert_string_equal(concil_unit_canon("ML"), "mL");
	assert_string_equal(concil_unit_canon("Comprimés"), "comprimé");
	assert_null(concil_unit_canon("mg/kg"));
	assert_string_equal(concil_frequency_canon("Matin, midi et soir"), "matin midi et soir");
	assert_string_equal(concil_frequency_canon("deux fois par jour"), "2/j");
	assert_string_equal(concil_frequency_canon("1 / sem"), "1/sem");
	assert_string_equal(concil_frequency_canon("à la demande"), "si besoin");
	assert_null(concil_frequency_canon("quand il pleut"));
	assert_string_equal(concil_route_canon("per os"), "orale");
	assert_string_equal(concil_route_canon("S/C"), "sous-cutanée");
	assert_string_equal(concil_form_canon("Comprimé pelliculé"), "comprimé");
	assert_string_equal(concil_form_canon("cp LP"), "comprimé LP");
	assert_int_equal(concil_atc_level("C03CA01"), 5);
	assert_int_equal(concil_atc_level("C03CA"), 4);
	assert_int_equal(concil_atc_level("C03C"), 3);
	assert_int_equal(concil_atc_level("C03"), 2);
	assert_int_equal(concil_atc_level("C"), 1);
	assert_int_equal(concil_atc_level("C3CA01"), 0);
	assert_int_equal(concil_atc_level("C03CA1"), 0);
	assert_int_equal(concil_atc_level("E03CA01"), 0);   /* no anatomical group E */
	assert_int_equal(concil_atc_level("C03CA011"), 0);
	assert_string_equal(concil_inn_key("Furosémide", key, sizeof key), "furosemide");
	assert_string_equal(concil_inn_key("sacubitril / valsartan", key, sizeof key),
			    "sacubitril/valsartan");
	char cut[] = "ab\xc3\xa9\xc3";                        /* "abé" and half a character */
	concil_utf8_trim(cut);
	assert_string_equal(cut, "ab\xc3\xa9");
	concil_quote("a\x1b[2Jb\xff", 7, key);                 /* no escape reaches a terminal */
	assert_string_equal(key, "a?[2Jb?");
	assert_string_equal(concil_code(CONCIL_V_TYPE, CONCIL_DUPLICATION), "duplication");
	assert_int_equal(concil_parse(CONCIL_V_SOURCE, "dmp"), CONCIL_SRC_DMP);
	assert_int_equal(concil_count(CONCIL_V_SOURCE), 14);
	assert_int_equal(concil_parse(CONCIL_V_SEVERITY, "none"), -1);
	assert_null(concil_code(CONCIL_V_SEVERITY, CONCIL_SEV_NONE));
	assert_int_equal(concil_role_of("hospital_pharmacist"), CONCIL_ROLE_PHARMACIST);
	assert_int_equal(concil_role_of("gp"), CONCIL_ROLE_PRESCRIBER);
	assert_int_equal(concil_role_of("nurse"), CONCIL_ROLE_NONE);
	assert_int_equal(concil_role_of(NULL), CONCIL_ROLE_NONE);
}

static void
test_entry(void **state)
{
	struct concil_line ln;
	struct lsn_status st = {0};
	const char *t = "inn=furosémide atc=c03ca01 strength=\"40 mg\" form=comprimé route=orale "
			"dose=1 unit=comprimé frequency=\"matin et soir\" note=\"dit \"\"Lasilix\"\"\"";
	char dose[16];
	assert_int_equal(concil_entry_parse(t, strlen(t), CONCIL_BMO, &ln, &st), LSN_OK);
	assert_string_equal(ln.inn, "furosémide");
	assert_string_equal(ln.atc, "C03CA01");
	assert_string_equal(ln.strength, "40 mg");
	assert_string_equal(ln.frequency, "matin et soir");
	assert_string_equal(ln.note, "dit \"Lasilix\"");
	assert_string_equal(concil_dose_format(ln.dose_milli, dose), "1");
	assert_false(ln.as_needed);

	char *argv[] = {"inn=paracétamol", "atc=N02BE01", "dose=0,5", "unit=g",
			"frequency=si besoin", "self_medication=oui"};
	assert_int_equal(concil_entry_parse_argv(6, argv, CONCIL_BMO, &ln, &st), LSN_OK);
	assert_int_equal(ln.dose_milli, 500);
	assert_true(ln.as_needed);
	assert_true(ln.self_medication);
	assert_string_equal(concil_dose_format(ln.dose_milli, dose), "0.5");

	static const struct {
		const char *text, *msg;
	} bad[] = {
		{"furosemide C03CA01 40mg", "expected key=value"},
		{"inn=furosemide atc=C03CA01 dosage=1", "unknown key \"dosage\""},
		{"inn=furosemide atc=C3CA01", "not an ATC code"},
		{"inn=furosemide atc=C03CA", "only an ATC prefix"},
		{"inn=furosemide", "ATC code is missing"},
		{"atc=C03CA01 dose=1", "INN (DCI) is missing"},
		{"inn=furosemide atc=C03CA01 unit=seaux", "unknown unit \"seaux\""},
		{"inn=furosemide atc=C03CA01 dose=-1", "not a dose"},
		{"inn=furosemide atc=C03CA01 dose=0", "not a dose"},
		{"inn=furosemide atc=C03CA01 dose=1.2345", "not a dose"},
		{"inn=furosemide atc=C03CA01 frequency=\"matin", "not closed"},
		{"inn=furosemide atc=C03CA01 atc=C03CA01", "given twice"},
		{"inn=furosemide atc=C03CA01 as_needed=peut-être", "not yes or no"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&st, 0, sizeof st);
		assert_int_equal(concil_entry_parse(bad[i].text, strlen(bad[i].text), CONCIL_BMO, &ln,
						    &st), LSN_ERR_BAD_REQUEST);
		if (!contains(st.msg, bad[i].msg))
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", bad[i].text, st.msg, bad[i].msg);
	}
	/* a prefix is fine on a self-medication line, in any key order */
	t = "self_medication=oui inn=\"Millepertuis\" atc=N06AX";
	assert_int_equal(concil_entry_parse(t, strlen(t), CONCIL_BMO, &ln, &st), LSN_OK);
	assert_string_equal(ln.atc, "N06AX");
}

/* ---- CSV -------------------------------------------------------------------------- */

static enum lsn_err
csv(const char *text, struct concil_lines *out, struct concil_csv_report *rep,
    struct lsn_status *st)
{
	return concil_csv_parse(text, strlen(text), CONCIL_BMO, out, rep, st);
}

static void
test_csv_good(void **state)
{
	struct concil_lines ls;
	struct concil_csv_report rep;
	struct lsn_status st = {0};
	/* BOM, CRLF, columns in another order, quotes with a comma and doubled
	 * quotes, a blank line, synonyms */
	const char *text =
		"\xef\xbb\xbf" "frequency,unit,dose,inn,atc,strength,form,route,as_needed,self_medication,note\r\n"
		"matin,comprimé,1,furosémide,C03CA01,40 mg,comprimé,orale,non,non,\r\n"
		"\r\n"
		"2/j,cp,1,sacubitril/valsartan,C09DX04,\"49 mg, 51 mg\",cp,per os,no,no,"
		"\"dit \"\"Entresto\"\"\"\r\n"
		"  si besoin , g , 1 , paracétamol , N02BE01 ,1 g,comprimé,orale,oui,1,\"\"\r\n";
	assert_int_equal(csv(text, &ls, &rep, &st), LSN_OK);
	assert_int_equal(ls.n, 3);
	assert_string_equal(ls.v[0].inn, "furosémide");
	assert_string_equal(ls.v[0].frequency, "matin");
	assert_string_equal(ls.v[1].strength, "49 mg, 51 mg");
	assert_string_equal(ls.v[1].unit, "comprimé");
	assert_string_equal(ls.v[1].route, "orale");
	assert_string_equal(ls.v[1].note, "dit \"Entresto\"");
	assert_string_equal(ls.v[2].inn, "paracétamol");
	assert_true(ls.v[2].as_needed);
	assert_true(ls.v[2].self_medication);
	assert_int_equal(ls.v[2].list, CONCIL_BMO);
	concil_lines_free(&ls);

	/* a spreadsheet in a French locale: semicolons, LF, no final newline */
	text = "inn;atc;dose;unit;frequency\nramipril;C09AA05;2,5;mg;1/j";
	assert_int_equal(csv(text, &ls, &rep, &st), LSN_OK);
	assert_int_equal(ls.n, 1);
	assert_int_equal(ls.v[0].dose_milli, 2500);
	concil_lines_free(&ls);
}

static void
expect_csv_error(const char *text, size_t line, const char *column, const char *what,
		 const char *st_prefix)
{
	struct concil_lines ls;
	struct concil_csv_report rep;
	struct lsn_status st = {0};
	assert_int_equal(csv(text, &ls, &rep, &st), LSN_ERR_BAD_REQUEST);
	assert_int_equal(ls.n, 0);
	assert_null(ls.v);
	assert_true(rep.n >= 1);
	assert_int_equal(rep.p[0].line, line);
	assert_string_equal(rep.p[0].column, column);
	if (!contains(rep.p[0].msg, what))
		fail_msg("\"%s\" lacks \"%s\"", rep.p[0].msg, what);
	if (strncmp(st.msg, st_prefix, strlen(st_prefix)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"", st.msg, st_prefix);
}

static void
test_csv_errors(void **state)
{
	const char *head = "inn,atc,strength,form,route,dose,unit,frequency,as_needed,self_medication\n";
	char text[4096];
	/* bad ATC on line 3 names line 3 */
	snprintf(text, sizeof text, "%sfurosémide,C03CA01,40 mg,comprimé,orale,1,comprimé,matin,non,non\n"
		 "bisoprolol,C7AB07,2.5 mg,comprimé,orale,1,comprimé,matin,non,non\n", head);
	expect_csv_error(text, 3, "atc", "\"C7AB07\" is not an ATC code", "line 3, column atc: ");
	/* unknown unit */
	snprintf(text, sizeof text, "%sramipril,C09AA05,5 mg,comprimé,orale,1,pilule,1/j,non,non\n",
		 head);
	expect_csv_error(text, 2, "unit", "unknown unit \"pilule\"", "line 2, column unit: ");
	/* bad frequency */
	snprintf(text, sizeof text, "%sramipril,C09AA05,5 mg,comprimé,orale,1,comprimé,de temps en "
		 "temps,non,non\n", head);
	expect_csv_error(text, 2, "frequency", "unknown frequency", "line 2, column frequency: ");
	/* missing column */
	expect_csv_error("inn,atc,dose,unit\nramipril,C09AA05,1,comprimé\n", 1, "frequency",
			 "missing column \"frequency\"", "line 1, column frequency: ");
	/* unknown and doubled columns */
	expect_csv_error("inn,atc,dose,unit,frequency,posologie\n", 1, "", "unknown column "
			 "\"posologie\"", "line 1: ");
	expect_csv_error("inn,atc,dose,unit,frequency,atc\n", 1, "atc", "twice", "line 1, column atc");
	/* quotes: not closed, text after, a quote in a bare field */
	snprintf(text, sizeof text, "%s\"ramipril,C09AA05,5 mg,comprimé,orale,1,comprimé,1/j,non,non\n",
		 head);
	expect_csv_error(text, 2, "", "quote is not closed", "line 2: ");
	snprintf(text, sizeof text, "%s\"rami\"pril,C09AA05,5 mg,comprimé,orale,1,comprimé,1/j,non,"
		 "non\n", head);
	expect_csv_error(text, 2, "", "text after the closing quote", "line 2: ");
	snprintf(text, sizeof text, "%sram\"ipril,C09AA05,5 mg,comprimé,orale,1,comprimé,1/j,non,non\n",
		 head);
	expect_csv_error(text, 2, "", "a quote inside", "line 2: ");
	/* an unquoted comma shifts the columns */
	snprintf(text, sizeof text, "%sx,C09DX04,49 mg, 51 mg,comprimé,orale,1,comprimé,1/j,non,non\n",
		 head);
	expect_csv_error(text, 2, "", "11 fields, but the header has 10", "line 2: ");
	/* dose, booleans, prefix without self-medication, empty INN */
	snprintf(text, sizeof text, "%sramipril,C09AA05,5 mg,comprimé,orale,un,comprimé,1/j,non,non\n",
		 head);
	expect_csv_error(text, 2, "dose", "not a dose", "line 2, column dose: ");
	snprintf(text, sizeof text, "%sramipril,C09AA05,5 mg,comprimé,orale,1,comprimé,1/j,peut-être,"
		 "non\n", head);
	expect_csv_error(text, 2, "as_needed", "not yes or no", "line 2, column as_needed: ");
	snprintf(text, sizeof text, "%sramipril,C09AA,5 mg,comprimé,orale,1,comprimé,1/j,non,non\n",
		 head);
	expect_csv_error(text, 2, "atc", "only an ATC prefix", "line 2, column atc: ");
	snprintf(text, sizeof text, "%s,C09AA05,5 mg,comprimé,orale,1,comprimé,1/j,non,non\n", head);
	expect_csv_error(text, 2, "inn", "INN (DCI) is missing", "line 2, column inn: ");
	/* not UTF-8 */
	snprintf(text, sizeof text, "%sramipril,C09AA05,5 mg,comprim\xe9,orale,1,comprimé,1/j,non,non\n",
		 head);
	expect_csv_error(text, 2, "", "not UTF-8", "line 2: ");
	/* empty, only a header is fine (no lines) */
	expect_csv_error("", 0, "", "empty", "the file: ");
	struct concil_lines ls;
	struct lsn_status st = {0};
	assert_int_equal(csv(head, &ls, NULL, &st), LSN_OK);
	assert_int_equal(ls.n, 0);
	concil_lines_free(&ls);

	/* several problems: all listed, the count in the message */
	snprintf(text, sizeof text, "%sa,C03CA01,,,,1,seau,1/j,non,non\nb,XX,,,,1,mg,1/j,non,non\n",
		 head);
	struct concil_csv_report rep;
	assert_int_equal(csv(text, &ls, &rep, &st), LSN_ERR_BAD_REQUEST);
	assert_int_equal(rep.total, 2);
	assert_int_equal(rep.p[1].line, 3);
	assert_string_equal(rep.p[1].column, "atc");
	assert_true(contains(st.msg, "(and 1 more problem)"));
}

/* Append s to text (cap bytes, *len used); the test fails rather than overflow. */
static void
append(char *text, size_t cap, size_t *len, const char *s)
{
	size_t n = strlen(s);
	assert_true(*len + n < cap);
	memcpy(text + *len, s, n + 1);
	*len += n;
}

static void
test_csv_limits(void **state)
{
	const char *head = "inn,atc,dose,unit,frequency\n";
	const char *row = "furosemide,C03CA01,1,comprimé,matin\n";
	size_t cap = strlen(head) + 502 * strlen(row) + 2048, len = 0;
	char *text = malloc(cap);
	struct concil_lines ls;
	struct concil_csv_report rep;
	struct lsn_status st = {0};
	assert_non_null(text);
	append(text, cap, &len, head);
	for (int i = 0; i < CONCIL_LINES_MAX; i++)
		append(text, cap, &len, row);
	assert_int_equal(csv(text, &ls, &rep, &st), LSN_OK);
	assert_int_equal(ls.n, CONCIL_LINES_MAX);
	concil_lines_free(&ls);
	append(text, cap, &len, row);
	assert_int_equal(csv(text, &ls, &rep, &st), LSN_ERR_BAD_REQUEST);
	assert_int_equal(rep.p[0].line, CONCIL_LINES_MAX + 2);
	assert_true(contains(rep.p[0].msg, "more than 500 medication lines"));
	/* a line longer than the limit */
	len = 0;
	append(text, cap, &len, head);
	append(text, cap, &len, "furosemide,C03CA01,1,comprimé,\"");
	for (int i = 0; i < CONCIL_CSV_LINE_MAX; i++)
		append(text, cap, &len, "x");
	append(text, cap, &len, "\"\n");
	assert_int_equal(csv(text, &ls, &rep, &st), LSN_ERR_BAD_REQUEST);
	assert_int_equal(rep.p[0].line, 2);
	assert_true(contains(rep.p[0].msg, "longer than 1024 bytes"));
	free(text);
}

/* ---- rules ------------------------------------------------------------------------- */

static void
test_three_sources(void **state)
{
	struct concil_episode ep;
	struct lsn_status st = {0};
	struct concil_change ch = {0};
	new_episode(&ep);
	add_line(&ep, CONCIL_BMO, "inn=furosémide atc=C03CA01 dose=40 unit=mg frequency=matin");
	ch.kind = CONCIL_CH_STATUS;
	ch.status = CONCIL_BMO_DONE;
	/* three sources but two types */
	static const enum concil_source_type two[] = {CONCIL_SRC_PATIENT_INTERVIEW, CONCIL_SRC_DMP,
						      CONCIL_SRC_PATIENT_INTERVIEW};
	for (size_t i = 0; i < 3; i++) {
		struct concil_change s = {0};
		s.kind = CONCIL_CH_SOURCE_ADD;
		s.source.type = two[i];
		/* a nurse may bring a source */
		assert_int_equal(concil_apply(&ep, &s, "nurse", T_SRC, &st), LSN_OK);
	}
	assert_int_equal(concil_source_types(&ep), 2);
	assert_int_equal(concil_apply(&ep, &ch, "hospital_pharmacist", T_SRC, &st), LSN_ERR_CONFLICT);
	assert_true(contains(st.msg, "2 distinct source types: at least 3"));
	assert_int_equal(ep.status, CONCIL_DRAFT);
	/* comparing before: refused */
	assert_int_equal(concil_apply_compare(&ep, "hospital_pharmacist", T_SRC, &st), LSN_ERR_CONFLICT);
	/* a nurse may not complete the BMO */
	struct concil_change s = {0};
	s.kind = CONCIL_CH_SOURCE_ADD;
	s.source.type = CONCIL_SRC_COMMUNITY_PHARMACIST;
	assert_int_equal(concil_apply(&ep, &s, "hospital_pharmacist", T_SRC, &st), LSN_OK);
	assert_int_equal(concil_check(&ep, &ch, "nurse", &st), LSN_ERR_FORBIDDEN);
	assert_int_equal(concil_apply(&ep, &ch, "hospital_pharmacist", T_SRC, &st), LSN_OK);
	assert_int_equal(ep.status, CONCIL_BMO_DONE);
	assert_int_equal(ep.bmo_done_at, T_SRC);
	/* the BMO is frozen, the prescription is not */
	struct concil_change l = {0};
	l.kind = CONCIL_CH_LINE_ADD;
	l.line = entry(CONCIL_BMO, "inn=ramipril atc=C09AA05");
	assert_int_equal(concil_check(&ep, &l, "hospital_pharmacist", &st), LSN_ERR_CONFLICT);
	l.line = entry(CONCIL_ORDER, "inn=ramipril atc=C09AA05");
	assert_int_equal(concil_check(&ep, &l, "nurse", &st), LSN_ERR_FORBIDDEN);
	snprintf(l.line.unit, sizeof l.line.unit, "cp");   /* not the canonical spelling */
	assert_int_equal(concil_check(&ep, &l, "gp", &st), LSN_ERR_BAD_REQUEST);
	assert_true(contains(st.msg, "column unit"));
	l.line = entry(CONCIL_ORDER, "inn=ramipril atc=C09AA05");
	assert_int_equal(concil_apply(&ep, &l, "gp", T_SRC, &st), LSN_OK);
	/* a decoded document past draft with 2 source types is refused */
	ep.n_sources = 2;
	json_t *doc = concil_episode_encode(&ep);
	struct concil_episode back;
	assert_int_equal(concil_episode_decode(doc, &back, &st), LSN_ERR_BAD_REQUEST);
	assert_true(contains(st.msg, "3 distinct source types"));
	json_decref(doc);
	concil_episode_free(&ep);
}

static void
test_prescriber_decides(void **state)
{
	struct concil_episode ep;
	struct lsn_status st = {0};
	struct concil_change ch = {0};
	hf_reviewed(&ep);
	int omission = 0;
	for (size_t i = 0; i < ep.discs.n; i++)
		if (ep.discs.v[i].type == CONCIL_OMISSION)
			omission = ep.discs.v[i].id;
	assert_true(omission > 0);

	/* a pharmacist may not decide: the message says to propose */
	ch.kind = CONCIL_CH_DECIDE;
	ch.id = omission;
	ch.resolution = CONCIL_PRESCRIPTION_CORRECTED;
	assert_int_equal(concil_apply(&ep, &ch, "pharmacist", T_DECIDE, &st), LSN_ERR_FORBIDDEN);
	assert_string_equal(st.msg, "only a prescriber sets a final resolution; as a pharmacist, "
			    "propose it: the prescriber decides");
	assert_int_equal(concil_check(&ep, &ch, "nurse", &st), LSN_ERR_FORBIDDEN);
	assert_int_equal(concil_check(&ep, &ch, NULL, &st), LSN_ERR_FORBIDDEN);
	/* the pharmacist proposes */
	ch.kind = CONCIL_CH_PROPOSE;
	assert_int_equal(concil_check(&ep, &ch, "nurse", &st), LSN_ERR_FORBIDDEN);
	assert_int_equal(concil_apply(&ep, &ch, "hospital_pharmacist", T_DECIDE, &st), LSN_OK);
	struct concil_disc *d = concil_disc_find(&ep, omission);
	assert_int_equal(d->proposal, CONCIL_PRESCRIPTION_CORRECTED);
	assert_int_equal(d->proposed_by, CONCIL_ROLE_PHARMACIST);
	assert_int_equal(d->resolution, CONCIL_PENDING);
	/* the prescriber decides once the intent is known */
	ch.kind = CONCIL_CH_DECIDE;
	assert_int_equal(concil_apply(&ep, &ch, "gp", T_DECIDE, &st), LSN_ERR_CONFLICT);
	assert_true(contains(st.msg, "undetermined"));
	ch.kind = CONCIL_CH_INTENT;
	ch.intent = CONCIL_UNINTENTIONAL;
	ch.severity = CONCIL_SEV_NONE;
	assert_int_equal(concil_apply(&ep, &ch, "hospital_pharmacist", T_DECIDE, &st),
			 LSN_ERR_BAD_REQUEST);
	assert_true(contains(st.msg, "severity"));
	ch.severity = CONCIL_MAJOR;
	assert_int_equal(concil_apply(&ep, &ch, "hospital_pharmacist", T_DECIDE, &st), LSN_OK);
	ch.kind = CONCIL_CH_DECIDE;
	ch.resolution = CONCIL_DOCUMENTED_AS_INTENTIONAL;
	assert_int_equal(concil_apply(&ep, &ch, "gp", T_DECIDE, &st), LSN_ERR_CONFLICT);
	ch.resolution = CONCIL_MAINTAINED_WITH_JUSTIFICATION;
	assert_int_equal(concil_apply(&ep, &ch, "gp", T_DECIDE, &st), LSN_ERR_BAD_REQUEST);
	assert_true(contains(st.msg, "justification"));
	ch.resolution = CONCIL_PRESCRIPTION_CORRECTED;
	assert_int_equal(concil_apply(&ep, &ch, "gp", T_DECIDE, &st), LSN_OK);
	d = concil_disc_find(&ep, omission);
	assert_int_equal(d->resolution, CONCIL_PRESCRIPTION_CORRECTED);
	assert_int_equal(d->decided_by, CONCIL_ROLE_PRESCRIBER);
	assert_int_equal(d->decided_at, T_DECIDE);
	/* decided: no more changes to it */
	assert_int_equal(concil_apply(&ep, &ch, "gp", T_DECIDE, &st), LSN_ERR_CONFLICT);
	ch.kind = CONCIL_CH_PROPOSE;
	assert_int_equal(concil_apply(&ep, &ch, "pharmacist", T_DECIDE, &st), LSN_ERR_CONFLICT);
	ch.id = 9999;
	assert_int_equal(concil_apply(&ep, &ch, "pharmacist", T_DECIDE, &st), LSN_ERR_NOT_FOUND);

	/* closing: not while anything is pending */
	memset(&ch, 0, sizeof ch);
	ch.kind = CONCIL_CH_STATUS;
	ch.status = CONCIL_AWAITING_PRESCRIBER;
	assert_int_equal(concil_apply(&ep, &ch, "hospital_pharmacist", T_DECIDE, &st), LSN_OK);
	ch.status = CONCIL_CLOSED;
	assert_int_equal(concil_apply(&ep, &ch, "cardiologist", T_CLOSE, &st), LSN_ERR_CONFLICT);
	assert_true(contains(st.msg, "6 discrepancies are still pending"));
	for (size_t i = 0; i < ep.discs.n; i++) {
		struct concil_change c = {0};
		if (ep.discs.v[i].resolution != CONCIL_PENDING)
			continue;
		c.kind = CONCIL_CH_DECIDE;
		c.id = ep.discs.v[i].id;
		c.resolution = CONCIL_DOCUMENTED_AS_INTENTIONAL;
		assert_int_equal(concil_apply(&ep, &c, "cardiologist", T_CLOSE, &st), LSN_OK);
	}
	assert_int_equal(concil_apply(&ep, &ch, "cardiologist", T_CLOSE, &st), LSN_OK);
	assert_int_equal(ep.closed_at, T_CLOSE);
	/* closed: nothing changes */
	ch.status = CONCIL_DRAFT;
	assert_int_equal(concil_apply(&ep, &ch, "cardiologist", T_CLOSE, &st), LSN_ERR_CONFLICT);
	assert_true(contains(st.msg, "closed"));

	/* a document where a pharmacist "decided" is refused */
	json_t *doc = concil_episode_encode(&ep);
	json_t *disc = json_array_get(json_object_get(doc, "discrepancies"), 0);
	json_object_set_new(disc, "decided_by", json_string("pharmacist"));
	struct concil_episode back;
	assert_int_equal(concil_episode_decode(doc, &back, &st), LSN_ERR_BAD_REQUEST);
	assert_true(contains(st.msg, "discrepancies[0].decided_by"));
	json_decref(doc);
	concil_episode_free(&ep);
}

/* ---- the episode document ------------------------------------------------------------ */

static void
test_document_round_trip(void **state)
{
	struct concil_episode ep, back;
	struct lsn_status st = {0};
	hf_reviewed(&ep);
	json_t *doc = concil_episode_encode(&ep);
	assert_non_null(doc);
	char *text = json_dumps(doc, JSON_COMPACT);
	json_t *again = json_loads(text, 0, NULL);
	assert_int_equal(concil_episode_decode(again, &back, &st), LSN_OK);
	assert_int_equal(back.bmo.n, 6);
	assert_int_equal(back.order.n, 7);
	assert_int_equal(back.discs.n, 9);
	assert_int_equal(back.n_sources, 4);
	assert_int_equal(back.next_id, ep.next_id);
	assert_string_equal(back.patient.name, "DUPONT Jeanne");
	json_t *doc2 = concil_episode_encode(&back);
	assert_true(json_equal(doc, doc2));
	struct concil_episode copy;
	assert_true(concil_episode_copy(&copy, &ep));
	json_t *doc3 = concil_episode_encode(&copy);
	assert_true(json_equal(doc, doc3));
	json_decref(doc3);
	concil_episode_free(&copy);
	/* extra fields (channel, sender of the thread) are ignored */
	json_object_set_new(again, "channel", json_string(CASE_HEX));
	concil_episode_free(&back);
	assert_int_equal(concil_episode_decode(again, &back, &st), LSN_OK);
	concil_episode_free(&back);
	/* bad documents name the field */
	json_t *bad = json_deep_copy(doc);
	json_object_set_new(json_array_get(json_object_get(bad, "bmo"), 2), "atc", json_string("C9"));
	assert_int_equal(concil_episode_decode(bad, &back, &st), LSN_ERR_BAD_REQUEST);
	assert_true(contains(st.msg, "bmo[2].atc"));
	json_decref(bad);
	bad = json_deep_copy(doc);
	json_object_set_new(json_array_get(json_object_get(bad, "order"), 0), "id", json_integer(1));
	assert_int_equal(concil_episode_decode(bad, &back, &st), LSN_ERR_BAD_REQUEST);
	assert_true(contains(st.msg, "used twice"));
	json_decref(bad);
	bad = json_deep_copy(doc);
	json_object_set_new(json_array_get(json_object_get(bad, "discrepancies"), 0), "bmo",
			    json_integer(8));
	assert_int_equal(concil_episode_decode(bad, &back, &st), LSN_ERR_BAD_REQUEST);
	assert_true(contains(st.msg, "not in the episode"));
	json_decref(bad);
	bad = json_deep_copy(doc);
	json_object_set_new(bad, "version", json_integer(2));
	assert_int_equal(concil_episode_decode(bad, &back, &st), LSN_ERR_BAD_REQUEST);
	json_decref(bad);
	free(text);
	json_decref(again);
	json_decref(doc);
	json_decref(doc2);
	concil_episode_free(&ep);
}

/* ---- sharing ------------------------------------------------------------------------ */

static void
test_circle_copy_deidentified(void **state)
{
	struct concil_episode ep, back;
	struct lsn_status st = {0};
	hf_reviewed(&ep);
	ep.closed_at = T_CLOSE;
	json_t *copy = concil_circle_encode(&ep);
	assert_non_null(copy);
	char *text = json_dumps(copy, JSON_COMPACT);
	char ms[32];
	static const char *const absent[] = {
		"DUPONT", "Dupont", "Jeanne", "1948", "2480375",            /* patient */
		"Sophie", "seule", "oublis", "doubler", "Bernard", "06 12",  /* notes */
		"Claire", "MARTIN", "Paul", "LEROY",                          /* professionals */
		PHARM_HEX, PRESC_HEX, CASE_HEX, EPISODE_HEX,                   /* ids */
		"2025-11-23", "2025-11-24", "2025-11-25", "2025-12-02",        /* days */
		"\"note\"", "\"patient\"", "\"pharmacist\":", "\"prescriber\":", "_at\"",
		"\"case\"", "\"episode\"", "\"name\"", "\"user\"",
	};
	for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
		if (contains(text, absent[i]))
			fail_msg("the circle copy holds \"%s\": %s", absent[i], text);
	const int64_t times[] = {T_START, T_SRC, T_COMPARE, T_DECIDE, T_CLOSE};
	for (size_t i = 0; i < 5; i++) {
		snprintf(ms, sizeof ms, "%lld", (long long)times[i]);
		assert_false(contains(text, ms));
		snprintf(ms, sizeof ms, "%lld", (long long)(times[i] / 1000));
		assert_false(contains(text, ms));
	}
	/* what it keeps */
	assert_true(contains(text, "\"started\":\"2025-11\""));
	assert_true(contains(text, "\"closed\":\"2025-12\""));
	assert_true(contains(text, "\"pathway\":\"heart_failure\""));
	assert_true(contains(text, "\"transition\":\"discharge\""));
	assert_true(contains(text, "\"inn\":\"furosémide\""));
	assert_true(contains(text, "\"atc\":\"C03CA01\""));
	assert_true(contains(text, "\"strength\":\"40 mg\""));
	assert_true(contains(text, "\"frequency\":\"matin et soir\""));
	assert_true(contains(text, "\"severity\":\"significant\""));
	assert_true(contains(text, "\"resolution\":\"prescription_corrected\""));
	assert_true(contains(text, "\"decided_by\":\"prescriber\""));
	assert_true(contains(text, "\"source_types\":[\"patient_interview\",\"caregiver\","
			     "\"gp_prescription\",\"dossier_pharmaceutique\"]"));
	/* and reads back */
	assert_int_equal(concil_circle_decode(copy, &back, &st), LSN_OK);
	assert_int_equal(back.discs.n, 9);
	assert_int_equal(back.started_at, 1761955200000LL);  /* 2025-11-01 */
	assert_string_equal(back.patient.name, "");
	assert_string_equal(back.episode, "");
	concil_episode_free(&back);
	/* a copy with anything outside the whitelist is refused */
	json_object_set_new(copy, "patient", json_string("DUPONT Jeanne"));
	assert_int_equal(concil_circle_decode(copy, &back, &st), LSN_ERR_BAD_REQUEST);
	assert_true(contains(st.msg, "\"patient\" is not allowed"));
	json_object_del(copy, "patient");
	json_object_set_new(json_array_get(json_object_get(copy, "bmo"), 0), "note", json_string("x"));
	assert_int_equal(concil_circle_decode(copy, &back, &st), LSN_ERR_BAD_REQUEST);
	assert_true(contains(st.msg, "bmo[0].field \"note\""));
	json_object_del(json_array_get(json_object_get(copy, "bmo"), 0), "note");
	json_object_set_new(json_array_get(json_object_get(copy, "discrepancies"), 0), "decided_at",
			    json_integer(T_DECIDE));
	assert_int_equal(concil_circle_decode(copy, &back, &st), LSN_ERR_BAD_REQUEST);
	json_object_del(json_array_get(json_object_get(copy, "discrepancies"), 0), "decided_at");
	json_object_set_new(copy, "started", json_string("2025-11-23"));
	assert_int_equal(concil_circle_decode(copy, &back, &st), LSN_ERR_BAD_REQUEST);
	free(text);
	json_decref(copy);
	concil_episode_free(&ep);
}

/* The episode document and the circle copy go through one decoder: the same
 * walk of lines and discrepancies, each form with its own members, key
 * whitelists and discrepancy ids. */
static void
test_one_decoder_two_forms(void **state)
{
	struct concil_episode ep, back;
	struct lsn_status st = {0};
	hf_reviewed(&ep);
	json_t *doc = concil_episode_encode(&ep), *copy = concil_circle_encode(&ep);
	assert_non_null(doc);
	assert_non_null(copy);
	/* each form names itself */
	json_t *arr = json_array();
	assert_int_equal(concil_episode_decode(arr, &back, &st), LSN_ERR_BAD_REQUEST);
	assert_string_equal(st.msg, "a reconciliation document is a JSON object");
	assert_int_equal(concil_circle_decode(arr, &back, &st), LSN_ERR_BAD_REQUEST);
	assert_string_equal(st.msg, "a circle copy is a JSON object");
	json_decref(arr);
	/* a document of one form is not read as the other */
	assert_int_equal(concil_circle_decode(doc, &back, &st), LSN_ERR_BAD_REQUEST);
	assert_string_equal(st.msg, "type: expected \"conciliation_case\"");
	assert_int_equal(concil_episode_decode(copy, &back, &st), LSN_ERR_BAD_REQUEST);
	assert_string_equal(st.msg, "type: expected \"conciliation\"");
	/* the version message: the episode says to update liaison */
	json_t *bad = json_deep_copy(doc);
	json_object_set_new(bad, "version", json_integer(2));
	assert_int_equal(concil_episode_decode(bad, &back, &st), LSN_ERR_BAD_REQUEST);
	assert_string_equal(st.msg, "version: this client reads version 1; update liaison to read "
			    "this document");
	json_decref(bad);
	bad = json_deep_copy(copy);
	json_object_set_new(bad, "version", json_integer(2));
	assert_int_equal(concil_circle_decode(bad, &back, &st), LSN_ERR_BAD_REQUEST);
	assert_string_equal(st.msg, "version: this client reads version 1");
	json_decref(bad);
	/* the episode's discrepancies carry their ids: one without is refused */
	bad = json_deep_copy(doc);
	json_object_del(json_array_get(json_object_get(bad, "discrepancies"), 1), "id");
	assert_int_equal(concil_episode_decode(bad, &back, &st), LSN_ERR_BAD_REQUEST);
	assert_string_equal(st.msg, "discrepancies[1].id: missing");
	json_decref(bad);
	/* the circle copy's carry none (whitelist) and are numbered on reading,
	 * after every line id */
	bad = json_deep_copy(copy);
	json_object_set_new(json_array_get(json_object_get(bad, "discrepancies"), 1), "id",
			    json_integer(3));
	assert_int_equal(concil_circle_decode(bad, &back, &st), LSN_ERR_BAD_REQUEST);
	assert_string_equal(st.msg, "discrepancies[1].field \"id\" is not allowed here");
	json_decref(bad);
	assert_int_equal(concil_circle_decode(copy, &back, &st), LSN_OK);
	assert_int_equal(back.discs.n, ep.discs.n);
	assert_int_equal(back.bmo.n, ep.bmo.n);
	assert_int_equal(back.order.n, ep.order.n);
	int top = 0;
	for (size_t i = 0; i < back.bmo.n; i++)
		top = back.bmo.v[i].id > top ? back.bmo.v[i].id : top;
	for (size_t i = 0; i < back.order.n; i++)
		top = back.order.v[i].id > top ? back.order.v[i].id : top;
	for (size_t i = 0; i < back.discs.n; i++) {
		assert_int_equal(back.discs.v[i].id, top + 1 + (int)i);
		assert_int_equal(back.discs.v[i].type, ep.discs.v[i].type);
		assert_int_equal(back.discs.v[i].bmo, ep.discs.v[i].bmo);
		assert_int_equal(back.discs.v[i].order, ep.discs.v[i].order);
	}
	assert_int_equal(back.next_id, top + 1 + (int)back.discs.n);
	concil_episode_free(&back);
	/* the same line walk for both: a bad line is named the same way */
	const char *names[2] = {"episode", "circle"};
	json_t *docs[2] = {doc, copy};
	for (int f = 0; f < 2; f++) {
		bad = json_deep_copy(docs[f]);
		json_object_set_new(json_array_get(json_object_get(bad, "order"), 1), "dose",
				    json_string("lots"));
		enum lsn_err err = f ? concil_circle_decode(bad, &back, &st)
				     : concil_episode_decode(bad, &back, &st);
		if (err != LSN_ERR_BAD_REQUEST || !contains(st.msg, "order[1].dose: \"lots\" is not a dose"))
			fail_msg("%s: %s", names[f], st.msg);
		assert_null(back.order.v);       /* freed on failure */
		json_decref(bad);
	}
	/* the episode checks its sources once all is read; the copy keeps types */
	bad = json_deep_copy(doc);
	json_array_clear(json_object_get(bad, "sources"));
	assert_int_equal(concil_episode_decode(bad, &back, &st), LSN_ERR_BAD_REQUEST);
	assert_true(contains(st.msg, "at least 3 distinct source types"));
	json_decref(bad);
	json_decref(doc);
	json_decref(copy);
	concil_episode_free(&ep);
}

/* ---- generalisation of the circle copy (concil_deid.c) ------------------------------ */

static struct concil_disc D(enum concil_dtype type, int bmo, int order, int other,
			    enum concil_intent intent, enum concil_severity sev,
			    enum concil_resolution res);

/* A copy another member shared: pathway, transition, period and drugs. */
static json_t *
held_copy(const char *pathway, const char *started, const char *bmo_json)
{
	char text[2048];
	json_error_t jerr;
	snprintf(text, sizeof text, "{\"type\":\"conciliation_case\",\"version\":1,\"pathway\":\"%s\","
		 "\"transition\":\"discharge\",\"status\":\"closed\",\"started\":\"%s\","
		 "\"compared\":null,\"closed\":null,\"source_types\":[],\"bmo\":%s,\"order\":[],"
		 "\"discrepancies\":[]}", pathway, started, bmo_json);
	json_t *c = json_loads(text, 0, &jerr);
	if (c == NULL)
		fail_msg("held copy: %s", jerr.text);
	/* every held copy is one the circle accepts */
	struct concil_episode back;
	struct lsn_status st = {0};
	if (concil_circle_decode(c, &back, &st) != LSN_OK)
		fail_msg("held copy refused: %s", st.msg);
	concil_episode_free(&back);
	return c;
}

/* The fixture: a heart-failure discharge of 2025-11-23 with two rare drugs
 * (digoxine, ivabradine) and two drugs the circle holds only as other
 * substances of their class (bisoprolol, spironolactone). */
static void
deid_episode(struct concil_episode *ep)
{
	new_episode(ep);
	snprintf(ep->pathway, sizeof ep->pathway, "heart_failure");
	snprintf(ep->case_id, sizeof ep->case_id, CASE_HEX);
	ep->status = CONCIL_CLOSED;
	ep->compared_at = T_COMPARE;
	ep->closed_at = T_CLOSE;
	add_line(ep, CONCIL_BMO, "inn=furosémide atc=C03CA01 strength=\"40 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=matin");                /* 1 */
	add_line(ep, CONCIL_BMO, "inn=bisoprolol atc=C07AB07 strength=\"2.5 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=matin");                /* 2 */
	add_line(ep, CONCIL_BMO, "inn=digoxine atc=C01AA05 strength=\"0.25 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=matin");                /* 3 */
	add_line(ep, CONCIL_BMO, "inn=spironolactone atc=C03DA01 strength=\"25 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=matin");                /* 4 */
	add_line(ep, CONCIL_ORDER, "inn=furosémide atc=C03CA01 strength=\"40 mg\" form=comprimé "
		 "route=orale dose=2 unit=comprimé frequency=matin");                /* 5 */
	add_line(ep, CONCIL_ORDER, "inn=bisoprolol atc=C07AB07 strength=\"2.5 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=matin");                /* 6 */
	add_line(ep, CONCIL_ORDER, "inn=ivabradine atc=C01EB17 strength=\"5 mg\" form=comprimé "
		 "route=orale dose=1 unit=comprimé frequency=\"matin et soir\"");     /* 7 */
	const struct concil_disc d[] = {
		D(CONCIL_DOSE_CHANGE, 1, 5, 0, CONCIL_UNINTENTIONAL, CONCIL_SIGNIFICANT,
		  CONCIL_PRESCRIPTION_CORRECTED),
		D(CONCIL_OMISSION, 3, 0, 0, CONCIL_UNDETERMINED, CONCIL_SEV_NONE, CONCIL_PENDING),
		D(CONCIL_OMISSION, 4, 0, 0, CONCIL_UNDETERMINED, CONCIL_SEV_NONE, CONCIL_PENDING),
		D(CONCIL_ADDITION, 0, 7, 0, CONCIL_UNDETERMINED, CONCIL_SEV_NONE, CONCIL_PENDING),
	};
	for (size_t i = 0; i < 4; i++) {
		struct concil_disc x = d[i];
		x.id = ep->next_id++;
		assert_true(concil_discs_push(&ep->discs, &x));
	}
}

/* H1 (a copy of before the generalisation: month, substances) and H2 (a
 * generalised one: quarter, two classes) are in the group; H3 (another
 * quarter) and H4 (another pathway) are not, though they hold the rare
 * drugs. */
static void
deid_held(json_t *held[4])
{
	held[0] = held_copy("heart_failure", "2025-10",
		"[{\"id\":1,\"inn\":\"furosémide\",\"atc\":\"C03CA01\"},"
		"{\"id\":2,\"inn\":\"bisoprolol\",\"atc\":\"C07AB07\"},"
		"{\"id\":3,\"inn\":\"digoxine\",\"atc\":\"C01AA05\"},"
		"{\"id\":4,\"inn\":\"amiloride\",\"atc\":\"C03DB01\"}]");
	held[1] = held_copy("heart_failure", "2025-Q4",
		"[{\"id\":1,\"inn\":\"furosémide\",\"atc\":\"C03CA01\"},"
		"{\"id\":2,\"inn\":null,\"atc\":\"C07AB\"},"
		"{\"id\":3,\"inn\":null,\"atc\":\"C01DA\"},"
		"{\"id\":4,\"inn\":\"éplérénone\",\"atc\":\"C03DA04\"}]");
	held[2] = held_copy("heart_failure", "2025-Q3",
		"[{\"id\":1,\"inn\":\"ivabradine\",\"atc\":\"C01EB17\"},"
		"{\"id\":2,\"inn\":\"spironolactone\",\"atc\":\"C03DA01\"}]");
	held[3] = held_copy("depression", "2025-Q4",
		"[{\"id\":1,\"inn\":\"ivabradine\",\"atc\":\"C01EB17\"},"
		"{\"id\":2,\"inn\":\"digoxine\",\"atc\":\"C01AA05\"}]");
}

/* k = 3, group {episode, H1, H2} (3). By hand:
 *   C03CA01 furosémide: held by E, H1, H2 = 3        → kept
 *   C07AB07 bisoprolol: E, H1 = 2; C07AB: + H2 = 3   → C07AB (level 4)
 *   C03DA01 spironolactone: E = 1; C03DA: E, H2 = 2;
 *           C03D: + H1 (C03DB01) = 3                 → C03D (level 3)
 *   C01AA05 digoxine: E, H1 = 2 down to C01A;
 *           C01: + H2 (C01DA) = 3                    → C01 (level 2)
 *   C01EB17 ivabradine: E = 1 (H3, H4 not in the group) down to C01E;
 *           C01 = 3                                  → C01
 *   pairs of {C03CA01, C07AB, C03D, C01}: E, H1 and H2 hold all four. */
static void
test_deid_rare_drugs(void **state)
{
	struct concil_episode ep, back;
	struct concil_deid r;
	struct lsn_status st = {0};
	json_t *held[4], *copy = NULL;
	deid_episode(&ep);
	deid_held(held);
	assert_int_equal(concil_circle_deid(&ep, held, 4, 3, &copy, &r, &st), LSN_OK);
	assert_int_equal(r.group, 3);
	assert_int_equal(r.group_quarter, 3);
	assert_false(r.to_year);
	assert_string_equal(r.month, "2025-11");
	assert_string_equal(r.period, "2025-Q4");
	json_error_t jerr;
	json_t *want_bmo = json_loads(
		"[{\"id\":1,\"inn\":\"furosémide\",\"atc\":\"C03CA01\",\"strength\":\"40 mg\","
		"\"form\":\"comprimé\",\"route\":\"orale\",\"dose\":\"1\",\"unit\":\"comprimé\","
		"\"frequency\":\"matin\",\"as_needed\":false,\"self_medication\":false},"
		"{\"id\":2,\"inn\":null,\"atc\":\"C07AB\",\"form\":\"comprimé\",\"route\":\"orale\","
		"\"frequency\":\"matin\",\"as_needed\":false,\"self_medication\":false},"
		"{\"id\":3,\"inn\":null,\"atc\":\"C01\",\"form\":\"comprimé\",\"route\":\"orale\","
		"\"frequency\":\"matin\",\"as_needed\":false,\"self_medication\":false},"
		"{\"id\":4,\"inn\":null,\"atc\":\"C03D\",\"form\":\"comprimé\",\"route\":\"orale\","
		"\"frequency\":\"matin\",\"as_needed\":false,\"self_medication\":false}]", 0, &jerr);
	json_t *want_order = json_loads(
		"[{\"id\":5,\"inn\":\"furosémide\",\"atc\":\"C03CA01\",\"strength\":\"40 mg\","
		"\"form\":\"comprimé\",\"route\":\"orale\",\"dose\":\"2\",\"unit\":\"comprimé\","
		"\"frequency\":\"matin\",\"as_needed\":false,\"self_medication\":false},"
		"{\"id\":6,\"inn\":null,\"atc\":\"C07AB\",\"form\":\"comprimé\",\"route\":\"orale\","
		"\"frequency\":\"matin\",\"as_needed\":false,\"self_medication\":false},"
		"{\"id\":7,\"inn\":null,\"atc\":\"C01\",\"form\":\"comprimé\",\"route\":\"orale\","
		"\"frequency\":\"matin et soir\",\"as_needed\":false,\"self_medication\":false}]", 0,
		&jerr);
	assert_non_null(want_bmo);
	assert_non_null(want_order);
	char *got = json_dumps(copy, JSON_COMPACT);
	if (!json_equal(json_object_get(copy, "bmo"), want_bmo) ||
	    !json_equal(json_object_get(copy, "order"), want_order))
		fail_msg("the generalised lines differ: %s", got);
	assert_true(contains(got, "\"started\":\"2025-Q4\""));
	assert_true(contains(got, "\"compared\":null"));
	assert_true(contains(got, "\"closed\":null"));
	/* the rare drugs and their doses are nowhere */
	static const char *const rare[] = {"digoxine", "C01AA", "ivabradine", "C01EB", "bisoprolol",
					   "C07AB07", "spironolactone", "C03DA", "0.25 mg", "2.5 mg",
					   "25 mg", "5 mg\"", "2025-11", "2025-12"};
	for (size_t i = 0; i < sizeof rare / sizeof rare[0]; i++)
		if (contains(got, rare[i]))
			fail_msg("the generalised copy holds \"%s\": %s", rare[i], got);
	/* the report, line by line */
	assert_int_equal(r.n_lines, 7);
	assert_string_equal(r.lines[1].atc, "C07AB07");
	assert_string_equal(r.lines[1].shared, "C07AB");
	assert_int_equal(r.lines[1].support_atc, 2);
	assert_int_equal(r.lines[1].support, 3);
	assert_string_equal(r.lines[6].shared, "C01");
	assert_int_equal(r.lines[6].support_atc, 1);
	assert_false(r.lines[6].pair);
	/* it reads back: quarter → its first day, classes, no INN */
	assert_int_equal(concil_circle_decode(copy, &back, &st), LSN_OK);
	assert_int_equal(back.started_at, 1759276800000LL);            /* 2025-10-01 */
	assert_int_equal(back.compared_at, 0);
	assert_string_equal(back.bmo.v[2].inn, "");
	assert_string_equal(back.bmo.v[2].atc, "C01");
	assert_false(back.bmo.v[2].self_medication);
	/* and aggregates by its classes: dose_change C03CA01, omissions C01 and
	 * C03D, addition C01 */
	struct concil_agg agg;
	concil_agg_init(&agg);
	assert_true(concil_agg_add(&agg, &back));
	char *csv = concil_agg_csv(&agg);
	assert_true(contains(csv, "atc3,C01,2,0.500\n"));
	assert_true(contains(csv, "atc3,C03,2,0.500\n"));
	assert_true(contains(csv, "atc5,?,3,0.750\n"));
	assert_true(contains(csv, "atc5,C03CA,1,0.250\n"));
	free(csv);
	concil_agg_free(&agg);
	concil_episode_free(&back);
	free(got);
	json_decref(copy);
	json_decref(want_bmo);
	json_decref(want_order);
	concil_deid_free(&r);
	for (int i = 0; i < 4; i++)
		json_decref(held[i]);
	concil_episode_free(&ep);
}

/* A rare combination: furosémide and sertraline are each held by 2 of the
 * group (k = 2), but only this reconciliation holds both. The later line
 * (sertraline: same support, same level) goes up: N06AB, N06A, N06 and N
 * are still held with C03CA01 by 1 only, so it ends without code. */
static void
test_deid_rare_pair(void **state)
{
	struct concil_episode ep;
	struct concil_deid r;
	struct lsn_status st = {0};
	json_t *held[2], *copy = NULL;
	new_episode(&ep);
	snprintf(ep.pathway, sizeof ep.pathway, "heart_failure");
	ep.status = CONCIL_COMPARED;
	add_line(&ep, CONCIL_BMO, "inn=furosémide atc=C03CA01 dose=40 unit=mg frequency=matin");
	add_line(&ep, CONCIL_BMO, "inn=sertraline atc=N06AB06 dose=50 unit=mg frequency=matin");
	held[0] = held_copy("heart_failure", "2025-Q4",
			    "[{\"id\":1,\"inn\":\"furosémide\",\"atc\":\"C03CA01\"}]");
	held[1] = held_copy("heart_failure", "2025-11",
			    "[{\"id\":1,\"inn\":\"sertraline\",\"atc\":\"N06AB06\"}]");
	assert_int_equal(concil_circle_deid(&ep, held, 2, 2, &copy, &r, &st), LSN_OK);
	assert_string_equal(r.lines[0].shared, "C03CA01");
	assert_string_equal(r.lines[1].shared, "");
	assert_true(r.lines[1].pair);
	assert_string_equal(r.lines[1].pair_with, "C03CA01");
	assert_int_equal(r.lines[1].support_atc, 2);
	char *got = json_dumps(json_object_get(copy, "bmo"), JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(got,
		"[{\"as_needed\":false,\"atc\":\"C03CA01\",\"dose\":\"40\",\"form\":null,"
		"\"frequency\":\"matin\",\"id\":1,\"inn\":\"furosémide\",\"route\":null,"
		"\"self_medication\":false,\"strength\":null,\"unit\":\"mg\"},"
		"{\"as_needed\":false,\"atc\":null,\"form\":null,\"frequency\":\"matin\",\"id\":2,"
		"\"inn\":null,\"route\":null,\"self_medication\":false}]");
	free(got);
	json_decref(copy);
	concil_deid_free(&r);
	/* with k = 1 nothing is rare: both substances stay */
	assert_int_equal(concil_circle_deid(&ep, held, 2, 1, &copy, &r, &st), LSN_OK);
	assert_string_equal(r.lines[1].shared, "N06AB06");
	json_decref(copy);
	concil_deid_free(&r);
	json_decref(held[0]);
	json_decref(held[1]);
	concil_episode_free(&ep);
}

/* k boundaries: a group of k - 1 is refused, a group of k is shared; the
 * year when the quarter is too small. */
static void
test_deid_group_size(void **state)
{
	struct concil_episode ep;
	struct concil_deid r;
	struct lsn_status st = {0};
	json_t *held[4], *copy = NULL;
	const char *one = "[{\"id\":1,\"inn\":\"furosémide\",\"atc\":\"C03CA01\"}]";
	new_episode(&ep);                       /* started 2025-11-23, no pathway */
	add_line(&ep, CONCIL_BMO, "inn=furosémide atc=C03CA01 dose=40 unit=mg frequency=matin");
	for (int i = 0; i < 4; i++)
		held[i] = held_copy("x", "2025-Q4", one);
	/* their pathway is "x": none is in the group of a case without pathway */
	assert_int_equal(concil_circle_deid(&ep, held, 4, 2, &copy, &r, &st), LSN_ERR_CONFLICT);
	assert_null(copy);
	snprintf(ep.pathway, sizeof ep.pathway, "x");
	/* k = 5: 3 held + this one = 4 = k - 1 → refused, quarter and year */
	assert_int_equal(concil_circle_deid(&ep, held, 3, 5, &copy, &r, &st), LSN_ERR_CONFLICT);
	assert_null(copy);
	assert_string_equal(st.msg, "the circle would hold 4 reconciliations with this pathway (x), "
			    "transition (discharge) and year (2025), this one included: fewer than "
			    "k = 5, and a copy this rare can point at the patient");
	/* 4 held + this one = 5 = k → shared, by quarter */
	assert_int_equal(concil_circle_deid(&ep, held, 4, 5, &copy, &r, &st), LSN_OK);
	assert_int_equal(r.group, 5);
	assert_string_equal(r.period, "2025-Q4");
	assert_string_equal(r.lines[0].shared, "C03CA01");
	json_decref(copy);
	concil_deid_free(&r);
	/* two of them in the first quarter: the quarter holds 3 < 5, the year 5 */
	json_decref(held[2]);
	json_decref(held[3]);
	held[2] = held_copy("x", "2025-02", one);
	held[3] = held_copy("x", "2025-Q1", one);
	assert_int_equal(concil_circle_deid(&ep, held, 4, 5, &copy, &r, &st), LSN_OK);
	assert_true(r.to_year);
	assert_int_equal(r.group_quarter, 3);
	assert_int_equal(r.group, 5);
	assert_string_equal(json_string_value(json_object_get(copy, "started")), "2025");
	json_decref(copy);
	concil_deid_free(&r);
	/* a copy of another year is not in the year's group */
	json_decref(held[3]);
	held[3] = held_copy("x", "2024-Q4", one);
	assert_int_equal(concil_circle_deid(&ep, held, 4, 5, &copy, &r, &st), LSN_ERR_CONFLICT);
	/* k out of range */
	assert_int_equal(concil_circle_deid(&ep, held, 4, 0, &copy, &r, &st), LSN_ERR_BAD_REQUEST);
	assert_int_equal(concil_circle_deid(&ep, held, 4, CONCIL_K_MAX + 1, &copy, &r, &st),
			 LSN_ERR_BAD_REQUEST);
	for (int i = 0; i < 4; i++)
		json_decref(held[i]);
	concil_episode_free(&ep);
}

/* Months, quarters and years, by hand. */
static void
test_deid_periods(void **state)
{
	char q[8];
	int64_t ms;
	enum concil_period kind;
	assert_string_equal(concil_quarter(T_START, q), "2025-Q4");            /* 2025-11-23 */
	assert_string_equal(concil_quarter(1735689600000LL, q), "2025-Q1");    /* 2025-01-01 */
	assert_string_equal(concil_quarter(1743465599000LL, q), "2025-Q1");    /* 2025-03-31 23:59:59 */
	assert_string_equal(concil_quarter(1743465600000LL, q), "2025-Q2");    /* 2025-04-01 */
	assert_string_equal(concil_quarter(0, q), "");
	assert_true(concil_period_parse("2025-Q4", &ms, &kind));
	assert_int_equal(ms, 1759276800000LL);                                  /* 2025-10-01 */
	assert_int_equal(kind, CONCIL_PERIOD_QUARTER);
	assert_true(concil_period_parse("2025-Q3", &ms, &kind));
	assert_int_equal(ms, 1751328000000LL);                                  /* 2025-07-01 */
	assert_true(concil_period_parse("2025-11", &ms, &kind));
	assert_int_equal(ms, 1761955200000LL);                                  /* 2025-11-01 */
	assert_int_equal(kind, CONCIL_PERIOD_MONTH);
	assert_true(concil_period_parse("2025", &ms, &kind));
	assert_int_equal(ms, 1735689600000LL);
	assert_int_equal(kind, CONCIL_PERIOD_YEAR);
	static const char *const bad[] = {"2025-Q5", "2025-Q0", "2025-13", "2025-1", "25-Q1",
					  "2025-q1", "1899", "3000-Q1", "2025-11-01", ""};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (concil_period_parse(bad[i], &ms, &kind))
			fail_msg("\"%s\" read as a period", bad[i]);
}

/* A generalised line carries a class or nothing, and nothing that names
 * the substance. */
static void
test_deid_decode_lines(void **state)
{
	struct concil_episode back;
	struct lsn_status st = {0};
	json_t *c = held_copy("x", "2025-Q4",
		"[{\"id\":1,\"inn\":null,\"atc\":\"C03C\",\"self_medication\":true},"
		"{\"id\":2,\"atc\":null}]");
	assert_int_equal(concil_circle_decode(c, &back, &st), LSN_OK);
	assert_string_equal(back.bmo.v[0].atc, "C03C");
	assert_true(back.bmo.v[0].self_medication);
	assert_string_equal(back.bmo.v[1].atc, "");
	assert_false(back.bmo.v[1].self_medication);
	concil_episode_free(&back);
	json_t *ln = json_array_get(json_object_get(c, "bmo"), 0);
	json_object_set_new(ln, "strength", json_string("0.25 mg"));
	assert_int_equal(concil_circle_decode(c, &back, &st), LSN_ERR_BAD_REQUEST);
	assert_string_equal(st.msg, "bmo[0].strength: a line without INN (generalised to its class) "
			    "has no strength");
	json_object_del(ln, "strength");
	json_object_set_new(ln, "atc", json_string("C03CA01"));
	assert_int_equal(concil_circle_decode(c, &back, &st), LSN_ERR_BAD_REQUEST);
	assert_true(contains(st.msg, "bmo[0].atc: a line without INN carries an ATC class"));
	json_decref(c);
}

static void
test_counts(void **state)
{
	struct concil_episode ep;
	hf_reviewed(&ep);
	json_t *c = concil_counts(&ep);
	assert_non_null(c);
	static const char *const fields[] = {"case", "episode", "transition", "status",
		"source_types", "lines_bmo", "lines_order", "by_type", "by_intent", "unintentional",
		"resolved", "resolution_ms", "started_at", "compared_at", "closed_at"};
	assert_int_equal(json_object_size(c), sizeof fields / sizeof fields[0]);
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		assert_non_null(json_object_get(c, fields[i]));
	char *text = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text,
		"{\"by_intent\":{\"intentional_documented\":1,\"undetermined\":7,\"unintentional\":1},"
		"\"by_type\":{\"addition\":1,\"dose_change\":1,\"duplication\":1,\"form_change\":1,"
		"\"frequency_change\":1,\"incomplete\":1,\"omission\":1,\"route_change\":1,"
		"\"substitution\":1},"
		"\"case\":\"" CASE_HEX "\",\"closed_at\":null,\"compared_at\":1763982000000,"
		"\"episode\":\"" EPISODE_HEX "\",\"lines_bmo\":6,\"lines_order\":7,"
		"\"resolution_ms\":[82800000,82800000],\"resolved\":2,\"source_types\":4,"
		"\"started_at\":1763906400000,\"status\":\"compared\",\"transition\":\"discharge\","
		"\"unintentional\":1}");
	/* no drug name, ATC code, note or name */
	for (size_t i = 0; i < sizeof hf_inns / sizeof hf_inns[0]; i++)
		assert_false(contains(text, hf_inns[i]));
	for (size_t i = 0; i < ep.bmo.n; i++)
		assert_false(contains(text, ep.bmo.v[i].inn));
	for (size_t i = 0; i < ep.order.n; i++) {
		assert_false(contains(text, ep.order.v[i].inn));
		assert_false(contains(text, ep.order.v[i].atc));
	}
	assert_false(contains(text, "DUPONT"));
	assert_false(contains(text, "MARTIN"));
	free(text);
	json_decref(c);
	/* without a case: nothing to send */
	ep.case_id[0] = '\0';
	assert_null(concil_counts(&ep));
	concil_episode_free(&ep);
}

/* Three hand-made cases through their circle copies. */
static void
agg_case(struct concil_agg *agg, const char *const *bmo, size_t nb, const char *const *order,
	 size_t no, const struct concil_disc *discs, size_t nd)
{
	struct concil_episode ep, copy;
	struct lsn_status st = {0};
	new_episode(&ep);
	for (size_t i = 0; i < nb; i++)
		add_line(&ep, CONCIL_BMO, bmo[i]);
	for (size_t i = 0; i < no; i++)
		add_line(&ep, CONCIL_ORDER, order[i]);
	for (size_t i = 0; i < nd; i++) {
		struct concil_disc d = discs[i];
		d.id = ep.next_id++;
		assert_true(concil_discs_push(&ep.discs, &d));
	}
	json_t *doc = concil_circle_encode(&ep);
	char *text = json_dumps(doc, 0);
	json_t *back = json_loads(text, 0, NULL);
	assert_int_equal(concil_circle_decode(back, &copy, &st), LSN_OK);
	assert_true(concil_agg_add(agg, &copy));
	concil_episode_free(&copy);
	concil_episode_free(&ep);
	json_decref(back);
	json_decref(doc);
	free(text);
}

static struct concil_disc
D(enum concil_dtype type, int bmo, int order, int other, enum concil_intent intent,
  enum concil_severity sev, enum concil_resolution res)
{
	struct concil_disc d;
	memset(&d, 0, sizeof d);
	d.type = type;
	d.bmo = bmo;
	d.order = order;
	d.other = other;
	d.intent = intent;
	d.severity = sev;
	d.resolution = res;
	d.decided_by = res == CONCIL_PENDING ? CONCIL_ROLE_NONE : CONCIL_ROLE_PRESCRIBER;
	return d;
}

static void
test_aggregates(void **state)
{
	struct concil_agg agg;
	concil_agg_init(&agg);
	/* case 1: furosémide dose changed (unintentional, significant, corrected),
	 * bisoprolol stopped (documented), dapagliflozine added (undetermined) */
	const char *b1[] = {"inn=furosémide atc=C03CA01 dose=40 unit=mg frequency=matin",
			    "inn=bisoprolol atc=C07AB07 dose=2.5 unit=mg frequency=matin"};
	const char *o1[] = {"inn=furosémide atc=C03CA01 dose=80 unit=mg frequency=matin",
			    "inn=dapagliflozine atc=A10BK01 dose=10 unit=mg frequency=matin"};
	const struct concil_disc d1[] = {
		D(CONCIL_DOSE_CHANGE, 1, 3, 0, CONCIL_UNINTENTIONAL, CONCIL_SIGNIFICANT,
		  CONCIL_PRESCRIPTION_CORRECTED),
		D(CONCIL_OMISSION, 2, 0, 0, CONCIL_INTENTIONAL_DOCUMENTED, CONCIL_SEV_NONE,
		  CONCIL_DOCUMENTED_AS_INTENTIONAL),
		D(CONCIL_ADDITION, 0, 4, 0, CONCIL_UNDETERMINED, CONCIL_SEV_NONE, CONCIL_PENDING),
	};
	agg_case(&agg, b1, 2, o1, 2, d1, 3);
	/* case 2: sertraline → escitalopram (pending), fluoxétine duplicated
	 * (unintentional, major, corrected) */
	const char *b2[] = {"inn=sertraline atc=N06AB06 dose=50 unit=mg frequency=matin"};
	const char *o2[] = {"inn=escitalopram atc=N06AB10 dose=10 unit=mg frequency=matin",
			    "inn=fluoxétine atc=N06AB03 dose=20 unit=mg frequency=matin"};
	const struct concil_disc d2[] = {
		D(CONCIL_SUBSTITUTION, 1, 2, 0, CONCIL_INTENTIONAL_UNDOCUMENTED, CONCIL_SEV_NONE,
		  CONCIL_PENDING),
		D(CONCIL_DUPLICATION, 0, 3, 2, CONCIL_UNINTENTIONAL, CONCIL_MAJOR,
		  CONCIL_PRESCRIPTION_CORRECTED),
	};
	agg_case(&agg, b2, 1, o2, 2, d2, 2);
	/* case 3: nothing to report */
	agg_case(&agg, b2, 1, b2, 1, NULL, 0);

	assert_int_equal(agg.cases, 3);
	assert_int_equal(agg.discrepancies, 5);
	assert_int_equal(agg.resolved, 3);
	assert_true(concil_agg_resolved_share(&agg) > 0.5999 && concil_agg_resolved_share(&agg) < 0.6001);
	assert_int_equal(agg.by_intent[CONCIL_UNINTENTIONAL], 2);
	assert_int_equal(agg.by_severity[CONCIL_MAJOR], 1);
	char *csvtext = concil_agg_csv(&agg);
	assert_non_null(csvtext);
	assert_string_equal(csvtext,
		"dimension,key,count,share\n"
		"cases,all,3,\n"
		"discrepancies,all,5,1.000\n"
		"resolved,all,3,0.600\n"
		"type,omission,1,0.200\n"
		"type,addition,1,0.200\n"
		"type,dose_change,1,0.200\n"
		"type,frequency_change,0,0.000\n"
		"type,route_change,0,0.000\n"
		"type,form_change,0,0.000\n"
		"type,substitution,1,0.200\n"
		"type,duplication,1,0.200\n"
		"type,incomplete,0,0.000\n"
		"type,other,0,0.000\n"
		"intent,intentional_documented,1,0.200\n"
		"intent,intentional_undocumented,1,0.200\n"
		"intent,unintentional,2,0.400\n"
		"intent,undetermined,1,0.200\n"
		"severity,minor,0,0.000\n"
		"severity,significant,1,0.200\n"
		"severity,major,1,0.200\n"
		"severity,critical,0,0.000\n"
		"atc3,A10,1,0.200\n"
		"atc3,C03,1,0.200\n"
		"atc3,C07,1,0.200\n"
		"atc3,N06,2,0.400\n"
		"atc5,A10BK,1,0.200\n"
		"atc5,C03CA,1,0.200\n"
		"atc5,C07AB,1,0.200\n"
		"atc5,N06AB,2,0.400\n");
	free(csvtext);
	json_t *j = concil_agg_json(&agg);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "by_atc5"), "N06AB")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "by_type"),
							    "duplication")), 1);
	json_decref(j);
	concil_agg_free(&agg);
}

/* ---- the examples shipped in docs/examples ------------------------------------------- */

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	if (f == NULL)
		return NULL;
	buf = malloc(CONCIL_CSV_BYTES_MAX + 1);
	*len = fread(buf, 1, CONCIL_CSV_BYTES_MAX, f);
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

static void
test_doc_examples(void **state)
{
	struct concil_episode ep;
	struct concil_lines ls;
	struct lsn_status st = {0};
	size_t len;
	char *text;
	new_episode(&ep);
	text = slurp(LSN_SOURCE_DIR "/docs/examples/bmo.csv", &len);
	assert_non_null(text);
	if (concil_csv_parse(text, len, CONCIL_BMO, &ls, NULL, &st) != LSN_OK)
		fail_msg("bmo.csv: %s", st.msg);
	for (size_t i = 0; i < ls.n; i++) {
		ls.v[i].id = ep.next_id++;
		assert_true(concil_lines_push(&ep.bmo, &ls.v[i]));
	}
	concil_lines_free(&ls);
	free(text);
	text = slurp(LSN_SOURCE_DIR "/docs/examples/order.csv", &len);
	assert_non_null(text);
	if (concil_csv_parse(text, len, CONCIL_ORDER, &ls, NULL, &st) != LSN_OK)
		fail_msg("order.csv: %s", st.msg);
	for (size_t i = 0; i < ls.n; i++) {
		ls.v[i].id = ep.next_id++;
		assert_true(concil_lines_push(&ep.order, &ls.v[i]));
	}
	concil_lines_free(&ls);
	free(text);
	/* what docs/CONCILIATION.md says the comparison finds */
	compare_expect(&ep, "dose_change:1:7:0 frequency_change:1:7:0 substitution:4:10:0 "
		       "omission:5:0:0 omission:6:0:0 incomplete:0:9:0 addition:0:11:0 "
		       "duplication:0:12:11");
	concil_episode_free(&ep);
}

/* ---- fuzz (bounded, deterministic): never crash, never read past len ------------------ */

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
test_fuzz_parsers(void **state)
{
	static const char *const seeds[] = {
		"inn=furosémide atc=C03CA01 strength=\"40 mg\" form=comprimé route=orale dose=1 "
		"unit=comprimé frequency=\"matin et soir\" as_needed=non self_medication=non",
		"self_medication=oui inn=\"a \"\"b\"\"\" atc=N06AX dose=0,5 unit=µg",
		"inn,atc,dose,unit,frequency\r\nfurosemide,C03CA01,1,comprimé,matin\r\n"
		"\"x,y\",C03CA01,2.5,mg,\"si besoin\"\n",
	};
	static const char alphabet[] = "=\" ,;\r\n\t\\aéµ0123456789.C03CA01/jmatinsoir\xff\xc3";
	uint32_t seed = 0x2545f491;
	struct concil_line ln;
	struct concil_lines ls;
	struct concil_csv_report rep;
	struct lsn_status st;
	for (int round = 0; round < 30000; round++) {
		const char *base = seeds[round % 3];
		size_t n = strlen(base);
		/* an exact-size heap copy, so ASan sees any read past the end */
		size_t len = n + (rnd(&seed) % 16);
		char *buf = malloc(len ? len : 1);
		for (size_t i = 0; i < len; i++)
			buf[i] = i < n ? base[i] : alphabet[rnd(&seed) % (sizeof alphabet - 1)];
		for (int k = rnd(&seed) % 8; k > 0 && len > 0; k--)
			buf[rnd(&seed) % len] = (rnd(&seed) % 3 == 0) ? (char)rnd(&seed)
					      : alphabet[rnd(&seed) % (sizeof alphabet - 1)];
		size_t cut = len ? rnd(&seed) % (len + 1) : 0;
		/* messages are printed on terminals: always clean UTF-8 text */
		if (concil_entry_parse(buf, cut, (enum concil_list)(round & 1), &ln, &st) != LSN_OK)
			assert_true(concil_text_ok(st.msg, strlen(st.msg)));
		if (round % 4 == 0) {
			if (concil_csv_parse(buf, cut, CONCIL_BMO, &ls, &rep, &st) == LSN_OK) {
				concil_lines_free(&ls);
			} else {
				assert_null(ls.v);
				assert_true(concil_text_ok(st.msg, strlen(st.msg)));
				for (size_t p = 0; p < rep.n; p++)
					assert_true(concil_text_ok(rep.p[p].msg, strlen(rep.p[p].msg)));
			}
		}
		free(buf);
	}
	/* oversized inputs are refused before they are read */
	assert_int_equal(concil_entry_parse("x", CONCIL_ENTRY_MAX + 1, CONCIL_BMO, &ln, &st),
			 LSN_ERR_BAD_REQUEST);
	assert_int_equal(concil_csv_parse("x", CONCIL_CSV_BYTES_MAX + 1, CONCIL_BMO, &ls, &rep, &st),
			 LSN_ERR_BAD_REQUEST);
	assert_int_equal(concil_entry_parse(NULL, 0, CONCIL_BMO, &ln, &st), LSN_ERR_BAD_REQUEST);
}

/* ---- from the discharge notice ------------------------------------------------ */

/* Each treatment of a notice as the reconciliation reads it: the fields
 * mapped by hand here, the remarks for what cannot be read, the skipped
 * treatments; the discharge_notice message form gives the same. */
static void
test_notice_lines(void **state)
{
	(void)state;
	json_error_t jerr;
	json_t *notice = json_loads(
		"{\"discharge_treatments\":["
		" {\"drug\":\"furosémide\",\"atc\":\"C03CA01\",\"dose\":\"40 mg\","
		"  \"frequency\":\"le matin\",\"route\":\"orale\",\"duration\":\"1 mois\"},"
		" {\"drug\":\"bisoprolol\",\"atc\":\"c07ab07\",\"dose\":\"2,5mg\","
		"  \"frequency\":\"1 fois par jour\",\"duration\":\"au long cours\"},"
		" {\"drug\":\"apixaban\",\"atc\":\"B01AF02\",\"dose\":\"1 comprimé de 5 mg\","
		"  \"frequency\":\"1 fois par jour, le matin\",\"route\":\"par la bouche\","
		"  \"duration\":\"au long cours\"},"
		" {\"drug\":\"paracétamol\",\"dose\":\"1 g\",\"frequency\":\"si besoin\","
		"  \"duration\":\"5 jours\"},"
		" {\"drug\":\"ramipril\",\"atc\":\"C09AA\",\"dose\":\"2,5 mg\","
		"  \"frequency\":\"1/j\",\"duration\":\"au long cours\"},"
		" {\"drug\":\"oxazépam\",\"atc\":\"N05BA04\",\"dose\":\"10 mg\","
		"  \"frequency\":\"si besoin\",\"duration\":\"7 jours\"}]}", 0, &jerr);
	assert_non_null(notice);
	struct concil_lines ls = {0};
	struct concil_notice_report rep;
	struct lsn_status st = {0};
	assert_int_equal(concil_notice_lines(notice, CONCIL_ORDER, &ls, &rep, &st), LSN_OK);
	/* paracétamol (no ATC) and ramipril (a prefix only) are skipped */
	assert_int_equal(ls.n, 4);
	assert_int_equal(rep.skipped, 2);
	/* remarks, in order: apixaban dose, frequency, route; paracétamol; ramipril */
	assert_int_equal(rep.total, 5);
	assert_int_equal(rep.n, 5);
	const char *fields[] = {"dose", "frequency", "route", "atc", "atc"};
	const size_t index[] = {2, 2, 2, 3, 4};
	const bool skipped[] = {false, false, false, true, true};
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(rep.r[i].field, fields[i]);
		assert_int_equal(rep.r[i].index, index[i]);
		assert_int_equal(rep.r[i].skipped, skipped[i]);
	}
	assert_non_null(strstr(rep.r[3].msg, "no ATC code"));
	assert_non_null(strstr(rep.r[4].msg, "only an ATC prefix"));
	assert_non_null(strstr(rep.r[1].msg, "the comparison reports the line incomplete"));

	const struct concil_line *f = &ls.v[0], *b = &ls.v[1], *a = &ls.v[2], *o = &ls.v[3];
	assert_int_equal(f->list, CONCIL_ORDER);
	assert_string_equal(f->inn, "furosémide");
	assert_string_equal(f->atc, "C03CA01");
	assert_int_equal(f->dose_milli, 40000);           /* 40 × 1000 */
	assert_string_equal(f->unit, "mg");
	assert_string_equal(f->frequency, "matin");       /* "le matin" is its synonym */
	assert_string_equal(f->route, "orale");
	assert_string_equal(f->note, "durée : 1 mois");
	assert_string_equal(b->atc, "C07AB07");           /* upper-cased */
	assert_int_equal(b->dose_milli, 2500);            /* "2,5mg": 2.5 × 1000 */
	assert_string_equal(b->unit, "mg");
	assert_string_equal(b->frequency, "1/j");
	assert_string_equal(b->route, "");
	/* apixaban: nothing unreadable was half-set */
	assert_int_equal(a->dose_milli, 0);
	assert_string_equal(a->unit, "");
	assert_string_equal(a->frequency, "");
	assert_string_equal(a->route, "");
	assert_string_equal(a->atc, "B01AF02");
	assert_true(o->as_needed);                        /* "si besoin" */
	assert_int_equal(o->dose_milli, 10000);

	/* the same from the message that carries the notice */
	json_t *msg = json_pack("{s:s, s:O}", "type", "discharge_notice", "notice", notice);
	struct concil_lines ls2 = {0};
	assert_int_equal(concil_notice_lines(msg, CONCIL_ORDER, &ls2, &rep, &st), LSN_OK);
	assert_int_equal(ls2.n, 4);
	assert_string_equal(ls2.v[3].inn, "oxazépam");

	/* no list: refused */
	json_t *none = json_pack("{s:s}", "type", "discharge_notice");
	struct concil_lines ls3 = {0};
	assert_int_equal(concil_notice_lines(none, CONCIL_ORDER, &ls3, &rep, &st),
			 LSN_ERR_BAD_REQUEST);
	assert_int_equal(ls3.n, 0);
	json_decref(none);
	json_decref(msg);
	json_decref(notice);
	concil_lines_free(&ls);
	concil_lines_free(&ls2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compare_heart_failure),
		cmocka_unit_test(test_compare_depression),
		cmocka_unit_test(test_compare_equivalences),
		cmocka_unit_test(test_compare_merge_keeps_review),
		cmocka_unit_test(test_vocabularies),
		cmocka_unit_test(test_entry),
		cmocka_unit_test(test_csv_good),
		cmocka_unit_test(test_csv_errors),
		cmocka_unit_test(test_csv_limits),
		cmocka_unit_test(test_three_sources),
		cmocka_unit_test(test_prescriber_decides),
		cmocka_unit_test(test_document_round_trip),
		cmocka_unit_test(test_circle_copy_deidentified),
		cmocka_unit_test(test_deid_rare_drugs),
		cmocka_unit_test(test_deid_rare_pair),
		cmocka_unit_test(test_deid_group_size),
		cmocka_unit_test(test_deid_periods),
		cmocka_unit_test(test_deid_decode_lines),
		cmocka_unit_test(test_one_decoder_two_forms),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_aggregates),
		cmocka_unit_test(test_doc_examples),
		cmocka_unit_test(test_fuzz_parsers),
		cmocka_unit_test(test_notice_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
