/* notice_view.c — a received discharge notice shown to people (read,
 * watch, case show, discharge): identity, stay, treatments, follow-up
 * (notice_view.h). The notice's checks are the core's (core/notice.c). */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "notice.h"
#include "notice_view.h"
#include "output.h"

static const char *
str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* obj[key], or "-" when it is missing: a received notice may lack fields. */
static const char *
str_or_dash(json_t *obj, const char *key)
{
	const char *s = str(obj, key);
	return s ? s : "-";
}

static void
line(FILE *f, const char *indent, const char *label, const char *value)
{
	fprintf(f, "%s%s: ", indent, label);
	out_text(f, value && value[0] ? value : "-");
	fputc('\n', f);
}

static void
list_line(FILE *f, const char *indent, const char *label, json_t *list)
{
	fprintf(f, "%s%s: ", indent, label);
	if (json_array_size(list) == 0)
		fputs("none", f);
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item) {
		fputs(i ? "; " : "", f);
		out_text(f, json_string_value(item));
	}
	fputc('\n', f);
}

static void
doctor_text(json_t *doc, char *out, size_t len)
{
	const char *dept = str(doc, "department"), *phone = str(doc, "phone");
	snprintf(out, len, "%s%s%s%s%s%s", str(doc, "name") ? str(doc, "name") : "-",
		 dept ? ", " : "", dept ? dept : "", phone ? " (" : "", phone ? phone : "",
		 phone ? ")" : "");
}

/* The codes of admission_mode and discharge_mode in words (core/notice.c
 * has the lists; an unknown code is shown as it is). */
struct mode_word {
	const char *code, *text;
};

static const struct mode_word admission_modes[] = {
	{"emergency", "emergency (urgences)"},
	{"scheduled", "scheduled (programmée)"},
	{"transfer", "transfer from another establishment"},
	{"other", "other"},
	{NULL, NULL},
};

static const struct mode_word discharge_modes[] = {
	{"home", "home"},
	{"home_with_care", "home with care (HAD, SSIAD, nurse)"},
	{"nursing_home", "nursing home (EHPAD)"},
	{"transfer", "transfer to another establishment"},
	{"other", "other"},
	{NULL, NULL},
};

static const char *
mode_text(const struct mode_word *w, const char *code)
{
	for (; w->code; w++)
		if (strcmp(w->code, code) == 0)
			return w->text;
	return code;
}

static void
print_identity(FILE *f, json_t *n, const char *indent)
{
	json_t *p = json_object_get(n, "patient");
	char buf[600], doc[400];
	notice_patient_name(n, buf, sizeof buf);
	fprintf(f, "%sPatient: ", indent);
	out_text(f, buf);
	fprintf(f, ", born ");
	out_text(f, str(p, "birth_date"));
	fprintf(f, ", INS ");
	out_text(f, str(p, "ins"));
	fputc('\n', f);
	snprintf(buf, sizeof buf, "%s → %s", str_or_dash(n, "admission_date"),
		 str_or_dash(n, "discharge_date"));
	line(f, indent, "Stay", buf);
	if (str(n, "admission_mode"))
		line(f, indent, "Admission", mode_text(admission_modes, str(n, "admission_mode")));
	if (str(n, "discharge_mode") || str(n, "discharge_destination")) {
		const char *dest = str(n, "discharge_destination");
		snprintf(buf, sizeof buf, "%s%s%s", str(n, "discharge_mode") ?
			 mode_text(discharge_modes, str(n, "discharge_mode")) : "-",
			 dest ? ": " : "", dest ? dest : "");
		line(f, indent, "Discharge to", buf);
	}
	doctor_text(json_object_get(n, "hospital_doctor"), doc, sizeof doc);
	json_t *hospital = json_object_get(n, "establishment");
	snprintf(buf, sizeof buf, "%s%s%s", doc, hospital ? ", " : "",
		 hospital ? str_or_dash(hospital, "name") : "");
	line(f, indent, "Hospital doctor", buf);
	line(f, indent, "Médecin traitant", str(json_object_get(n, "gp"), "name"));
	if (json_object_get(n, "referring_doctor"))
		line(f, indent, "Referred by", str(json_object_get(n, "referring_doctor"), "name"));
	line(f, indent, "Reason for admission", str(n, "reason_for_admission"));
	if (json_object_get(n, "allergies"))
		list_line(f, indent, "Allergies", json_object_get(n, "allergies"));
}

static void
print_stay(FILE *f, json_t *n, const char *indent)
{
	json_t *s = json_object_get(n, "stay_summary");
	line(f, indent, "Summary of the stay", str(s, "summary"));
	list_line(f, indent, "  Adverse events", json_object_get(s, "adverse_events"));
	list_line(f, indent, "  Resistant organisms", json_object_get(s, "resistant_organisms"));
	list_line(f, indent, "  Blood products", json_object_get(s, "blood_products"));
	list_line(f, indent, "  Implanted devices", json_object_get(s, "implanted_devices"));
}

static void
print_treatments(FILE *f, json_t *n, const char *indent)
{
	size_t i;
	json_t *t;
	fprintf(f, "%sTreatments at discharge:%s\n", indent,
		json_array_size(json_object_get(n, "discharge_treatments")) ? "" : " none");
	json_array_foreach(json_object_get(n, "discharge_treatments"), i, t) {
		char buf[2048];
		const char *change = str(t, "change"), *comment = str(t, "comment");
		const char *route = str(t, "route"), *end = str(t, "end_date");
		snprintf(buf, sizeof buf, "%s %s, %s%s%s; duration: %s%s%s%s%s%s%s%s%s",
			 str_or_dash(t, "drug"), str_or_dash(t, "dose"), str_or_dash(t, "frequency"),
			 route ? ", " : "", route ? route : "", str_or_dash(t, "duration"),
			 end ? " (until " : "", end ? end : "", end ? ")" : "", change ? " [" : "",
			 change ? change : "", change ? "]" : "", comment ? " — " : "",
			 comment ? comment : "");
		fprintf(f, "%s  - ", indent);
		out_text(f, buf);
		fputc('\n', f);
	}
	fprintf(f, "%sTreatments stopped:%s\n", indent,
		json_array_size(json_object_get(n, "stopped_treatments")) ? "" : " none");
	json_array_foreach(json_object_get(n, "stopped_treatments"), i, t) {
		fprintf(f, "%s  - ", indent);
		out_text(f, str(t, "drug"));
		if (str(t, "date")) {
			fputs(" (stopped ", f);
			out_text(f, str(t, "date"));
			fputc(')', f);
		}
		fputs(": ", f);
		out_text(f, str(t, "reason"));
		if (str(t, "replaced_by")) {
			fputs("; replaced by ", f);
			out_text(f, str(t, "replaced_by"));
		}
		fputc('\n', f);
	}
}

static void
print_follow_up(FILE *f, json_t *n, const char *indent)
{
	size_t i;
	json_t *r;
	fprintf(f, "%sResults awaited:%s\n", indent,
		json_array_size(json_object_get(n, "results_awaited")) ? "" : " none");
	json_array_foreach(json_object_get(n, "results_awaited"), i, r) {
		fprintf(f, "%s  - ", indent);
		out_text(f, str(r, "test"));
		if (str(r, "expected_by")) {
			fputs(" (expected by ", f);
			out_text(f, str(r, "expected_by"));
			fputc(')', f);
		}
		if (str(r, "comment")) {
			fputs(" — ", f);
			out_text(f, str(r, "comment"));
		}
		fputc('\n', f);
	}
	json_t *fu = json_object_get(n, "follow_up");
	fprintf(f, "%sPlanned:%s\n", indent,
		json_array_size(json_object_get(fu, "planned_acts")) ? "" : " nothing");
	json_array_foreach(json_object_get(fu, "planned_acts"), i, r) {
		fprintf(f, "%s  - ", indent);
		out_text(f, str(r, "act"));
		if (str(r, "date")) {
			fputs(", ", f);
			out_text(f, str(r, "date"));
		}
		if (str(r, "with")) {
			fputs(", ", f);
			out_text(f, str(r, "with"));
		}
		fputc('\n', f);
	}
	line(f, indent, "Recommendations", str(fu, "recommendations"));
	line(f, indent, "Monitoring", str(fu, "monitoring"));
}

void
notice_print(FILE *f, json_t *content, const char *indent)
{
	json_t *n = json_object_get(content, "notice");
	fprintf(f, "%s", indent);
	out_styled(f, OUT_BOLD, "DISCHARGE NOTICE (lettre de liaison)");
	if (str(content, "patient_ref")) {
		fputs(" — case ", f);
		out_text(f, str(content, "patient_ref"));
		fputs(", ", f);
		out_text(f, str_or_dash(content, "pathway"));
	}
	fputc('\n', f);
	if (!json_is_object(n)) {
		fprintf(f, "%s[the notice has no content]\n", indent);
		return;
	}
	print_identity(f, n, indent);
	print_stay(f, n, indent);
	print_treatments(f, n, indent);
	print_follow_up(f, n, indent);
	json_t *letter = json_object_get(content, "letter");
	if (json_is_object(letter)) {
		fprintf(f, "%sLetter: ", indent);
		out_text(f, str(letter, "name"));
		fprintf(f, " (%lld bytes) — liaison get ",
			(long long)json_integer_value(json_object_get(letter, "size")));
		out_text(f, str(letter, "attachment"));
		fputc('\n', f);
	}
}
