/* notice.c — the discharge notice file: a table of its fields (what each
 * must be, and what to do when it is not), the checks that need several
 * fields (dates in order, each entry's date against the stay, INS against
 * birth date and sex, a transfer's destination), the patient's name
 * (notice.h). Its display is the CLI's (cli/notice_view.c). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "day.h"
#include "ident.h"
#include "notice.h"
#include "tr.h"

#define TEXT_MAX      200    /* names, drugs, doses: one line */
#define LONG_TEXT_MAX 4000   /* summaries, recommendations: may have line breaks */
#define LIST_MAX      100
#define PATH_MAX_LEN  160

enum field_kind {
	FK_TEXT,       /* one line */
	FK_LONG_TEXT,  /* line breaks allowed */
	FK_DATE,       /* YYYY-MM-DD */
	FK_INS,
	FK_RPPS,
	FK_FINESS,
	FK_SEX,        /* F | M */
	FK_ATC,
	FK_CHANGE,     /* one of CHANGES */
	FK_ADMISSION,  /* one of ADMISSION_MODES */
	FK_DISCHARGE,  /* one of DISCHARGE_MODES */
	FK_OBJECT,
	FK_TEXTS,      /* list of one-line texts, [] = none */
	FK_OBJECTS,    /* list of objects, [] = none */
};

struct field {
	const char *name;
	enum field_kind kind;
	bool required;
	const struct field *sub;   /* FK_OBJECT, FK_OBJECTS: the object's fields */
	const char *hint;          /* what to write there */
};

#define END {NULL, FK_TEXT, false, NULL, NULL}

/* The fixed code lists (docs/PATHWAYS.md, "Discharge notice format"). */
#define ADMISSION_MODES "emergency|scheduled|transfer|other"
#define DISCHARGE_MODES "home|home_with_care|nursing_home|transfer|other"
#define CHANGES         "new|modified|continued"

static const struct field patient_fields[] = {
	{"family_name", FK_TEXT, true, NULL,
	 N_("the patient's birth or used family name, as on the INS")},
	{"given_names", FK_TEXT, true, NULL, N_("the patient's given names")},
	{"birth_date", FK_DATE, true, NULL, N_("the date of birth as YYYY-MM-DD")},
	{"sex", FK_SEX, false, NULL, N_("F or M, as in the INS")},
	{"ins", FK_INS, true, NULL,
	 N_("the INS: 13-character NIR + 2-digit key (15 characters), from the carte Vitale or the "
	 "INSi service")},
	END,
};

static const struct field doctor_fields[] = {
	{"name", FK_TEXT, true, NULL, N_("the doctor's name")},
	{"rpps", FK_RPPS, false, NULL, N_("the 11-digit RPPS number (or leave the field out)")},
	{"department", FK_TEXT, false, NULL, N_("the ward or department")},
	{"phone", FK_TEXT, false, NULL, N_("a number where the doctor can be reached")},
	END,
};

static const struct field establishment_fields[] = {
	{"name", FK_TEXT, true, NULL, N_("the hospital's name")},
	{"finess", FK_FINESS, false, NULL,
	 N_("the 9-digit FINESS number (or leave the field out)")},
	END,
};

static const struct field stay_fields[] = {
	{"summary", FK_LONG_TEXT, true, NULL, N_("a summary of the stay")},
	{"adverse_events", FK_TEXTS, true, NULL,
	 N_("the adverse events during the stay, as a list of texts; [] states there was none")},
	{"resistant_organisms", FK_TEXTS, true, NULL,
	 N_("the multi-resistant or emerging organisms identified, as a list; [] if none")},
	{"blood_products", FK_TEXTS, true, NULL,
	 N_("the blood products administered, as a list; [] if none")},
	{"implanted_devices", FK_TEXTS, true, NULL,
	 N_("the implanted medical devices (with their references), as a list; [] if none")},
	END,
};

static const struct field treatment_fields[] = {
	{"drug", FK_TEXT, true, NULL, N_("the medicine (INN), e.g. \"bisoprolol\"")},
	{"atc", FK_ATC, false, NULL, N_("the ATC code, e.g. \"C07AB07\" (or leave the field out)")},
	{"dose", FK_TEXT, true, NULL,
	 N_("the dose taken each time, e.g. \"2,5 mg\" or \"1 comprimé\"")},
	{"frequency", FK_TEXT, true, NULL, N_("when to take it, e.g. \"1/j\", \"matin et soir\"")},
	{"duration", FK_TEXT, true, NULL,
	 N_("how long to take it (R1112-1-2 asks for it), e.g. \"7 jours\", \"3 mois\", "
	 "\"au long cours\"")},
	{"end_date", FK_DATE, false, NULL, N_("the last day of the treatment, YYYY-MM-DD (or leave "
	 "the field out)")},
	{"route", FK_TEXT, false, NULL, N_("the route, e.g. \"orale\"")},
	{"change", FK_CHANGE, false, NULL, N_("new, modified or continued")},
	{"comment", FK_TEXT, false, NULL, N_("a short comment")},
	END,
};

static const struct field stopped_fields[] = {
	{"drug", FK_TEXT, true, NULL, N_("the medicine stopped")},
	{"atc", FK_ATC, false, NULL, N_("the ATC code, e.g. \"C08DB01\" (or leave the field out)")},
	{"reason", FK_TEXT, true, NULL, N_("why it was stopped (R1112-1-2 asks for the reason)")},
	{"replaced_by", FK_TEXT, false, NULL,
	 N_("the medicine that replaces it, if it was replaced (or leave the field out)")},
	{"date", FK_DATE, false, NULL, N_("the day it was stopped, YYYY-MM-DD, during the stay")},
	END,
};

static const struct field awaited_fields[] = {
	{"test", FK_TEXT, true, NULL, N_("the examination whose result is awaited")},
	{"expected_by", FK_DATE, false, NULL, N_("when the result is expected, YYYY-MM-DD")},
	{"comment", FK_TEXT, false, NULL, N_("a short comment")},
	END,
};

static const struct field act_fields[] = {
	{"act", FK_TEXT, true, NULL, N_("the planned consultation or act")},
	{"date", FK_DATE, false, NULL, N_("its date, YYYY-MM-DD")},
	{"with", FK_TEXT, false, NULL, N_("who will see the patient")},
	END,
};

static const struct field follow_up_fields[] = {
	{"planned_acts", FK_OBJECTS, true, act_fields,
	 N_("the planned acts and consultations, as a list of {\"act\",\"date\",\"with\"}; [] "
	    "if none")},
	{"recommendations", FK_LONG_TEXT, true, NULL,
	 N_("the recommendations to the professionals")},
	{"monitoring", FK_LONG_TEXT, true, NULL, N_("what to monitor at home")},
	END,
};

static const struct field notice_fields[] = {
	{"patient", FK_OBJECT, true, patient_fields, N_("the patient: {\"family_name\", ...}")},
	{"gp", FK_OBJECT, true, doctor_fields, N_("the médecin traitant: {\"name\", \"rpps\"}")},
	{"referring_doctor", FK_OBJECT, false, doctor_fields,
	 N_("the doctor who referred the patient, if not the GP: {\"name\", \"rpps\"}")},
	{"hospital_doctor", FK_OBJECT, true, doctor_fields,
	 N_("the hospital doctor responsible: {\"name\", \"rpps\", \"department\", \"phone\"}")},
	{"establishment", FK_OBJECT, false, establishment_fields,
	 N_("the hospital: {\"name\", \"finess\"}")},
	{"admission_date", FK_DATE, true, NULL, N_("the admission day as YYYY-MM-DD")},
	{"admission_mode", FK_ADMISSION, false, NULL,
	 N_("how the patient came in: emergency, scheduled, transfer or other")},
	{"discharge_date", FK_DATE, false, NULL, N_("the discharge day as YYYY-MM-DD")},
	{"discharge_mode", FK_DISCHARGE, false, NULL,
	 N_("where the patient goes: home, home_with_care, nursing_home, transfer or other")},
	{"discharge_destination", FK_TEXT, false, NULL,
	 N_("the establishment or service the patient goes to (the receiving hospital, the HAD "
	 "service, the EHPAD)")},
	{"reason_for_admission", FK_LONG_TEXT, true, NULL, N_("the reason for admission")},
	{"allergies", FK_TEXTS, false, NULL,
	 N_("the known allergies and intolerances, as a list of texts; [] states there is none")},
	{"stay_summary", FK_OBJECT, true, stay_fields,
	 N_("the summary of the stay: {\"summary\", \"adverse_events\", \"resistant_organisms\", "
	 "\"blood_products\", \"implanted_devices\"}")},
	{"discharge_treatments", FK_OBJECTS, true, treatment_fields,
	 N_("the treatments at discharge, as a list of {\"drug\",\"dose\",\"frequency\",...}; [] if "
	 "none")},
	{"stopped_treatments", FK_OBJECTS, true, stopped_fields,
	 N_("the treatments stopped, as a list of {\"drug\",\"reason\"}; [] if none")},
	{"results_awaited", FK_OBJECTS, true, awaited_fields,
	 N_("the results still awaited, as a list of {\"test\",\"expected_by\"}; [] if none")},
	{"follow_up", FK_OBJECT, true, follow_up_fields,
	 N_("the follow-up: {\"planned_acts\", \"recommendations\", \"monitoring\"}")},
	END,
};

/* ---- reporting -------------------------------------------------------------- */

struct check {
	const char *file;
	size_t problems;
	notice_report_fn report;
	void *arg;
};

static void
problem(struct check *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
problem(struct check *c, const char *path, const char *fmt, ...)
{
	char what[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	char text[1100];
	snprintf(text, sizeof text, "%s: %s: %s", c->file, path, what);
	if (c->report)
		c->report(c->arg, text);
	c->problems++;
}

/* ---- INS -------------------------------------------------------------------- */

bool
notice_ins_check(const char *ins, char *why, size_t why_len)
{
	char s[32];
	size_t n = 0;
	for (const char *p = ins; *p; p++) {
		if (*p == ' ')
			continue;
		if (n + 1 >= sizeof s) {
			snprintf(why, why_len, _("it has more than 15 characters"));
			return false;
		}
		s[n++] = (char)toupper((unsigned char)*p);
	}
	s[n] = '\0';
	if (n != 15) {
		snprintf(why, why_len, _("it has %zu characters instead of 15 (13 for the NIR, 2 for "
			 "the key)"), n);
		return false;
	}
	uint64_t nir = 0;
	for (size_t i = 0; i < 13; i++) {
		bool corsica = i == 6 && s[5] == '2' && (s[6] == 'A' || s[6] == 'B');
		if (!corsica && !isdigit((unsigned char)s[i])) {
			snprintf(why, why_len, _("character %zu (\"%c\") must be a digit (only the "
				 "department may be 2A or 2B)"), i + 1, s[i]);
			return false;
		}
	}
	if (strchr("123478", s[0]) == NULL) {
		snprintf(why, why_len, _("it must start with 1 or 2 (NIR) or 7 or 8 (NIA), not %c"),
			 s[0]);
		return false;
	}
	for (size_t i = 0; i < 13; i++) {
		int digit = s[i] - '0';
		if (i == 5 && (s[6] == 'A' || s[6] == 'B'))
			digit = 1;              /* 2A → 19, 2B → 18: the tens digit */
		else if (i == 6 && s[6] == 'A')
			digit = 9;
		else if (i == 6 && s[6] == 'B')
			digit = 8;
		nir = nir * 10 + (uint64_t)digit;
	}
	if (!isdigit((unsigned char)s[13]) || !isdigit((unsigned char)s[14])) {
		snprintf(why, why_len, _("the key (last 2 characters) must be digits"));
		return false;
	}
	unsigned key = (unsigned)((s[13] - '0') * 10 + (s[14] - '0'));
	unsigned expected = (unsigned)(97 - nir % 97);
	if (key != expected) {
		snprintf(why, why_len, _("the key %02u does not match the NIR %.13s (the key of that "
			 "NIR is %02u)"), key, s, expected);
		return false;
	}
	return true;
}

/* ---- one value ------------------------------------------------------------------ */

static bool
text_ok(const char *s, bool long_text, size_t *len)
{
	*len = strlen(s);
	bool blank = true;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p < 0x20 && !(long_text && (*p == '\n' || *p == '\t'))) || *p == 0x7f)
			return false;
		blank = blank && isspace(*p);
	}
	return !blank;
}

static bool
atc_ok(const char *s)
{
	/* levels: A, A01, A01A, A01AB, A01AB01 */
	static const char shape[] = "A99AA99";
	size_t n = strlen(s);
	if (n != 1 && n != 3 && n != 4 && n != 5 && n != 7)
		return false;
	for (size_t i = 0; i < n; i++)
		if (shape[i] == 'A' ? !isupper((unsigned char)s[i]) : !isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* s is one of the codes of choices ("a|b|c"). */
static bool
choice_ok(const char *choices, const char *s)
{
	size_t n = strlen(s);
	for (const char *p = choices; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && n > 0 && strncmp(p, s, n) == 0)
			return true;
		p = bar ? bar + 1 : p + len;
	}
	return false;
}

/* "a|b|c" as "a, b, c". */
static void
choice_list(const char *choices, char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (const char *p = choices; p && *p && used + 1 < len; p++) {
		int n = *p == '|' ? snprintf(out + used, len - used, ", ")
				  : snprintf(out + used, len - used, "%c", *p);
		used += n > 0 ? (size_t)n : 0;
	}
}

static void check_object(struct check *c, json_t *obj, const struct field *fields,
			 const char *path);

static void
check_list(struct check *c, json_t *value, const struct field *f, const char *path)
{
	if (!json_is_array(value)) {
		problem(c, path, _("expected a list: write %s"), _(f->hint));
		return;
	}
	if (json_array_size(value) > LIST_MAX) {
		problem(c, path, _("more than %d entries: keep the notice to what the professionals "
			"need, and attach the full letter with --letter"), LIST_MAX);
		return;
	}
	size_t i;
	json_t *item;
	json_array_foreach(value, i, item) {
		char sub[PATH_MAX_LEN];
		size_t len;
		snprintf(sub, sizeof sub, "%.90s[%zu]", path, i);
		if (f->kind == FK_OBJECTS)
			check_object(c, item, f->sub, sub);
		else if (!json_is_string(item) || !text_ok(json_string_value(item), false, &len) ||
			 len > TEXT_MAX)
			problem(c, sub, _("expected a non-empty line of text (at most %d bytes); write "
				"%s"), TEXT_MAX, _(f->hint));
	}
}

static void
check_string(struct check *c, const char *s, const struct field *f, const char *path)
{
	char why[200];
	size_t len = 0;
	int64_t days;
	switch (f->kind) {
	case FK_TEXT:
	case FK_LONG_TEXT:
		if (!text_ok(s, f->kind == FK_LONG_TEXT, &len))
			problem(c, path, _("empty or with control characters: write %s"), _(f->hint));
		else if (len > (f->kind == FK_TEXT ? TEXT_MAX : LONG_TEXT_MAX))
			problem(c, path, _("longer than %d bytes: shorten it, and attach the full "
				"letter with --letter"), f->kind == FK_TEXT ? TEXT_MAX : LONG_TEXT_MAX);
		break;
	case FK_DATE:
		if (!day_parse(s, &days))
			problem(c, path, _("\"%.40s\" is not a date: write %s"), s, _(f->hint));
		break;
	case FK_INS:
		if (!notice_ins_check(s, why, sizeof why))
			problem(c, path, _("not a valid INS: %s: check the 15 characters against the "
				"carte Vitale or the INSi service"), why);
		break;
	case FK_RPPS:
		if (!lsn_rpps_valid(s))
			problem(c, path, _("\"%.40s\" is not a valid RPPS number (11 digits, the last a "
				"check digit): write %s"), s, _(f->hint));
		break;
	case FK_FINESS:
		if (!lsn_finess_valid(s))
			problem(c, path, _("\"%.40s\" is not a valid FINESS number: write %s"), s,
				_(f->hint));
		break;
	case FK_SEX:
		if (strcmp(s, "F") != 0 && strcmp(s, "M") != 0)
			problem(c, path, _("\"%.40s\" is not F or M: write %s"), s, _(f->hint));
		break;
	case FK_ATC:
		if (!atc_ok(s))
			problem(c, path, _("\"%.40s\" is not an ATC code: write %s"), s, _(f->hint));
		break;
	case FK_CHANGE:
	case FK_ADMISSION:
	case FK_DISCHARGE: {
		const char *choices = f->kind == FK_CHANGE ? CHANGES : f->kind == FK_ADMISSION ?
				      ADMISSION_MODES : DISCHARGE_MODES;
		if (!choice_ok(choices, s)) {
			char list[200];
			choice_list(choices, list, sizeof list);
			problem(c, path, _("\"%.40s\" is not one of %s: write %s"), s, list,
				_(f->hint));
		}
		break;
	}
	default:
		break;
	}
}

static void
check_value(struct check *c, json_t *value, const struct field *f, const char *path)
{
	if (f->kind == FK_OBJECT) {
		check_object(c, value, f->sub, path);
		return;
	}
	if (f->kind == FK_TEXTS || f->kind == FK_OBJECTS) {
		check_list(c, value, f, path);
		return;
	}
	if (!json_is_string(value)) {
		problem(c, path, _("expected a text in quotes: write %s"), _(f->hint));
		return;
	}
	check_string(c, json_string_value(value), f, path);
}

static void
check_object(struct check *c, json_t *obj, const struct field *fields, const char *path)
{
	if (!json_is_object(obj)) {
		problem(c, path[0] ? path : "(the file)", _("expected an object { ... }; see the "
			"discharge notice format in docs/PATHWAYS.md"));
		return;
	}
	const char *key;
	json_t *value;
	char sub[PATH_MAX_LEN];
	json_object_foreach(obj, key, value) {
		const struct field *f = fields;
		while (f->name && strcmp(f->name, key) != 0)
			f++;
		snprintf(sub, sizeof sub, "%.90s%s%.60s", path, path[0] ? "." : "", key);
		if (f->name == NULL)
			problem(c, sub, _("unknown field: check its spelling against the discharge "
				"notice format (docs/PATHWAYS.md), or remove it"));
	}
	for (const struct field *f = fields; f->name; f++) {
		snprintf(sub, sizeof sub, "%.90s%s%.60s", path, path[0] ? "." : "", f->name);
		value = json_object_get(obj, f->name);
		if (value == NULL || json_is_null(value)) {
			if (f->required)
				problem(c, sub, _("missing: add %s"), _(f->hint));
			continue;
		}
		check_value(c, value, f, sub);
	}
}

/* ---- checks across fields ------------------------------------------------------------ */

static bool
date_of(json_t *obj, const char *key, int64_t *days)
{
	return day_parse(json_string_value(json_object_get(obj, key)), days);
}

/* The INS carries the birth year and month (when known) and the sex. */
static void
check_ins_identity(struct check *c, json_t *patient)
{
	const char *ins = json_string_value(json_object_get(patient, "ins"));
	const char *birth = json_string_value(json_object_get(patient, "birth_date"));
	const char *sex = json_string_value(json_object_get(patient, "sex"));
	int64_t days;
	char why[200];
	if (ins == NULL || !notice_ins_check(ins, why, sizeof why))
		return;
	if (birth && day_parse(birth, &days)) {
		int month = (ins[3] - '0') * 10 + ins[4] - '0';
		bool same_year = ins[1] == birth[2] && ins[2] == birth[3];
		bool same_month = month < 1 || month > 12 || (ins[3] == birth[5] && ins[4] == birth[6]);
		if (!same_year || !same_month)
			problem(c, "patient.ins", _("the INS says born in %.2s/%.2s but birth_date is "
				"%s: check the INS and the date of birth"), ins + 3, ins + 1, birth);
	}
	if (sex && (ins[0] == '1' || ins[0] == '2') && (ins[0] == '1') != (strcmp(sex, "M") == 0))
		problem(c, "patient.sex", _("%s does not match the INS (which starts with %c): check "
			"both"), sex, ins[0]);
}

/* Each dated entry of a list against a bound: before lower (when has_lower)
 * or after upper (when has_upper) is refused, naming the entry. */
struct date_rule {
	const char *list;          /* "results_awaited", "follow_up.planned_acts", … */
	const char *key;           /* the entry's date field */
	const char *lower_name;    /* what the lower bound is, NULL = none */
	const char *upper_name;    /* what the upper bound is, NULL = none */
	const char *fix;           /* what to do */
};

static void
check_list_dates(struct check *c, json_t *list, const struct date_rule *r, bool has_lower,
		 int64_t lower, bool has_upper, int64_t upper)
{
	size_t i;
	json_t *item;
	int64_t day;
	json_array_foreach(list, i, item) {
		char path[PATH_MAX_LEN];
		if (!json_is_object(item) || !date_of(item, r->key, &day))
			continue;
		snprintf(path, sizeof path, "%s[%zu].%s", r->list, i, r->key);
		if (r->lower_name && has_lower && day < lower)
			problem(c, path, _("%s is before %s: %s"), json_string_value(json_object_get(
				item, r->key)), r->lower_name, _(r->fix));
		else if (r->upper_name && has_upper && day > upper)
			problem(c, path, _("%s is after %s: %s"), json_string_value(json_object_get(
				item, r->key)), r->upper_name, _(r->fix));
	}
}

static const struct date_rule awaited_rule = {
	"results_awaited", "expected_by", "admission_date", NULL,
	N_("a result awaited at discharge cannot be expected before the stay began; check the "
	"date, or move a result already received into the stay summary")};
static const struct date_rule act_rule = {
	"follow_up.planned_acts", "date", "discharge_date", NULL,
	N_("an act planned for after the stay is on or after the discharge day; check the date, or "
	"move an act done during the stay into the stay summary")};
static const struct date_rule end_rule = {
	"discharge_treatments", "end_date", "discharge_date", NULL,
	N_("a treatment prescribed at discharge ends on or after the discharge day; check the date, "
	"or list a treatment stopped during the stay in stopped_treatments")};
static const struct date_rule stopped_rule = {
	"stopped_treatments", "date", "admission_date", "discharge_date",
	N_("a treatment stopped during the stay is stopped between admission_date and "
	"discharge_date; check the date")};

static void
check_dates(struct check *c, json_t *notice)
{
	int64_t birth, admission, discharge;
	json_t *patient = json_object_get(notice, "patient");
	bool has_birth = date_of(patient, "birth_date", &birth);
	bool has_adm = date_of(notice, "admission_date", &admission);
	bool has_dis = date_of(notice, "discharge_date", &discharge);
	if (has_birth && birth > day_today())
		problem(c, "patient.birth_date", _("is in the future: check the date of birth"));
	if (has_birth && has_adm && admission < birth)
		problem(c, "admission_date", _("is before the date of birth: check both dates"));
	if (has_adm && has_dis && discharge < admission)
		problem(c, "discharge_date", _("is before admission_date: check both dates"));
	check_list_dates(c, json_object_get(notice, "results_awaited"), &awaited_rule, has_adm,
			 admission, false, 0);
	check_list_dates(c, json_object_get(json_object_get(notice, "follow_up"), "planned_acts"),
			 &act_rule, has_dis, discharge, false, 0);
	check_list_dates(c, json_object_get(notice, "discharge_treatments"), &end_rule, has_dis,
			 discharge, false, 0);
	check_list_dates(c, json_object_get(notice, "stopped_treatments"), &stopped_rule, has_adm,
			 admission, has_dis, discharge);
}

/* A transfer names where to: the receiving team must be known. */
static void
check_modes(struct check *c, json_t *notice)
{
	const char *mode = json_string_value(json_object_get(notice, "discharge_mode"));
	json_t *dest = json_object_get(notice, "discharge_destination");
	if (mode && strcmp(mode, "transfer") == 0 && (dest == NULL || json_is_null(dest)))
		problem(c, "discharge_destination", _("missing: with discharge_mode transfer, name "
			"the establishment the patient is transferred to"));
}

/* --date fills or must agree with discharge_date. */
static void
apply_date(struct check *c, json_t *notice, const char *date)
{
	json_t *have = json_object_get(notice, "discharge_date");
	if (have == NULL || json_is_null(have)) {
		if (date == NULL)
			problem(c, "discharge_date", _("missing: add the discharge day as YYYY-MM-DD, or "
				"give it with --date"));
		else
			json_object_set_new(notice, "discharge_date", json_string(date));
		return;
	}
	if (date && json_is_string(have) && strcmp(json_string_value(have), date) != 0)
		problem(c, "discharge_date", _("the notice says %.20s but --date says %s: correct "
			"one of them"), json_string_value(have), date);
}

static void
normalise_ins(json_t *patient)
{
	const char *ins = json_string_value(json_object_get(patient, "ins"));
	char s[32];
	size_t n = 0;
	for (const char *p = ins; p && *p && n + 1 < sizeof s; p++)
		if (*p != ' ')
			s[n++] = (char)toupper((unsigned char)*p);
	s[n] = '\0';
	if (ins)
		json_object_set_new(patient, "ins", json_string(s));
}

/* ---- loading ----------------------------------------------------------------------------- */

static json_t *
read_json(struct check *c, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		problem(c, "(the file)", _("cannot be read: check the path given with --notice"));
		return NULL;
	}
	char *buf = malloc(NOTICE_FILE_MAX + 1);
	size_t len = buf ? fread(buf, 1, NOTICE_FILE_MAX + 1, f) : 0;
	fclose(f);
	json_t *obj = NULL;
	json_error_t jerr;
	if (buf == NULL)
		problem(c, "(the file)", _("out of memory"));
	else if (len > NOTICE_FILE_MAX)
		problem(c, "(the file)", _("larger than %d KiB: keep the notice to its fields and "
			"attach the full letter with --letter"), NOTICE_FILE_MAX / 1024);
	else if ((obj = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		problem(c, "(the file)", _("not valid JSON at line %d, column %d (%s): fix the syntax"),
			jerr.line, jerr.column, jerr.text);
	free(buf);
	return obj;
}

size_t
notice_load(const char *path, const char *date, json_t **out, notice_report_fn report, void *arg)
{
	const char *slash = strrchr(path, '/');
	struct check c = {slash ? slash + 1 : path, 0, report, arg};
	*out = NULL;
	json_t *notice = read_json(&c, path);
	if (notice == NULL)
		return c.problems;
	check_object(&c, notice, notice_fields, "");
	if (json_is_object(notice)) {
		apply_date(&c, notice, date);
		check_modes(&c, notice);
		if (c.problems == 0) {
			normalise_ins(json_object_get(notice, "patient"));
			check_ins_identity(&c, json_object_get(notice, "patient"));
		}
		/* the dates against each other, whatever else is wrong: only the
		 * dates that are real days are compared */
		check_dates(&c, notice);
	}
	if (c.problems) {
		json_decref(notice);
		return c.problems;
	}
	*out = notice;
	return 0;
}

/* ---- reading it back ------------------------------------------------------------------------- */

bool
notice_patient_name(json_t *obj, char *out, size_t len)
{
	json_t *notice = json_object_get(obj, "notice");
	json_t *patient = json_object_get(notice ? notice : obj, "patient");
	const char *family = json_string_value(json_object_get(patient, "family_name"));
	const char *given = json_string_value(json_object_get(patient, "given_names"));
	out[0] = '\0';
	if (family == NULL)
		return false;
	snprintf(out, len, "%s%s%s", family, given ? " " : "", given ? given : "");
	return true;
}
