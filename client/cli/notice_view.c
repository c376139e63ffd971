/* notice_view.c — a received discharge notice shown to people (read,
 * watch, case show, discharge): identity, stay, treatments, follow-up
 * (notice_view.h). The notice's checks are the core's (core/notice.c). */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "notice.h"
#include "notice_view.h"
#include "output.h"
#include "tr.h"

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
	fputs(indent, f);
	fprintf(f, _("%s: "), _(label)); /* "%s : " in French */
	out_text(f, value && value[0] ? value : "-");
	fputc('\n', f);
}

static void
list_line(FILE *f, const char *indent, const char *label, json_t *list)
{
	fputs(indent, f);
	fprintf(f, _("%s: "), _(label)); /* "%s : " in French */
	if (json_array_size(list) == 0)
		fputs(_("none"), f);
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
	{"emergency", N_("emergency (urgences)")},
	{"scheduled", N_("scheduled (programmée)")},
	{"transfer", N_("transfer from another establishment")},
	{"other", N_("other")},
	{NULL, NULL},
};

static const struct mode_word discharge_modes[] = {
	{"home", N_("home")},
	{"home_with_care", N_("home with care (HAD, SSIAD, nurse)")},
	{"nursing_home", N_("nursing home (EHPAD)")},
	{"transfer", N_("transfer to another establishment")},
	{"other", N_("other")},
	{NULL, NULL},
};

/* The change of a discharge treatment (new, modified, continued) in words. */
static const struct mode_word changes[] = {
	{"new", N_("new")},
	{"modified", N_("modified")},
	{"continued", N_("continued")},
	{NULL, NULL},
};

static const char *
mode_text(const struct mode_word *w, const char *code)
{
	for (; w->code; w++)
		if (strcmp(w->code, code) == 0)
			return _(w->text);
	return code;
}

static void
print_identity(FILE *f, json_t *n, const char *indent)
{
	json_t *p = json_object_get(n, "patient");
	char buf[600], doc[400];
	notice_patient_name(n, buf, sizeof buf);
	fprintf(f, "%s%s", indent, _("Patient: "));
	out_text(f, buf);
	fputs(_(", born "), f);
	out_text(f, str(p, "birth_date"));
	fprintf(f, ", INS ");
	out_text(f, str(p, "ins"));
	fputc('\n', f);
	snprintf(buf, sizeof buf, "%s → %s", str_or_dash(n, "admission_date"),
		 str_or_dash(n, "discharge_date"));
	line(f, indent, N_("Stay"), buf);
	if (str(n, "admission_mode"))
		line(f, indent, N_("Admission"), mode_text(admission_modes, str(n, "admission_mode")));
	if (str(n, "discharge_mode") || str(n, "discharge_destination")) {
		const char *dest = str(n, "discharge_destination");
		snprintf(buf, sizeof buf, "%s%s%s", str(n, "discharge_mode") ?
			 mode_text(discharge_modes, str(n, "discharge_mode")) : "-",
			 dest ? _(": ") : "", dest ? dest : "");
		line(f, indent, N_("Discharge to"), buf);
	}
	doctor_text(json_object_get(n, "hospital_doctor"), doc, sizeof doc);
	json_t *hospital = json_object_get(n, "establishment");
	snprintf(buf, sizeof buf, "%s%s%s", doc, hospital ? ", " : "",
		 hospital ? str_or_dash(hospital, "name") : "");
	line(f, indent, N_("Hospital doctor"), buf);
	line(f, indent, N_("Médecin traitant"), str(json_object_get(n, "gp"), "name"));
	if (json_object_get(n, "referring_doctor"))
		line(f, indent, N_("Referred by"), str(json_object_get(n, "referring_doctor"), "name"));
	line(f, indent, N_("Reason for admission"), str(n, "reason_for_admission"));
	if (json_object_get(n, "allergies"))
		list_line(f, indent, N_("Allergies"), json_object_get(n, "allergies"));
}

static void
print_stay(FILE *f, json_t *n, const char *indent)
{
	json_t *s = json_object_get(n, "stay_summary");
	line(f, indent, N_("Summary of the stay"), str(s, "summary"));
	list_line(f, indent, N_("  Adverse events"), json_object_get(s, "adverse_events"));
	list_line(f, indent, N_("  Resistant organisms"), json_object_get(s, "resistant_organisms"));
	list_line(f, indent, N_("  Blood products"), json_object_get(s, "blood_products"));
	list_line(f, indent, N_("  Implanted devices"), json_object_get(s, "implanted_devices"));
}

static void
print_treatments(FILE *f, json_t *n, const char *indent)
{
	size_t i;
	json_t *t;
	fprintf(f, "%s%s%s\n", indent, _("Treatments at discharge:"),
		json_array_size(json_object_get(n, "discharge_treatments")) ? "" : _(" none"));
	json_array_foreach(json_object_get(n, "discharge_treatments"), i, t) {
		char buf[2048];
		const char *change = str(t, "change"), *comment = str(t, "comment");
		const char *route = str(t, "route"), *end = str(t, "end_date");
		snprintf(buf, sizeof buf, _("%s %s, %s%s%s; duration: %s%s%s%s%s%s%s%s%s"),
			 str_or_dash(t, "drug"), str_or_dash(t, "dose"), str_or_dash(t, "frequency"),
			 route ? ", " : "", route ? route : "", str_or_dash(t, "duration"),
			 end ? _(" (until ") : "", end ? end : "", end ? ")" : "", change ? " [" : "",
			 change ? mode_text(changes, change) : "", change ? "]" : "", comment ? " — " : "",
			 comment ? comment : "");
		fprintf(f, "%s  - ", indent);
		out_text(f, buf);
		fputc('\n', f);
	}
	fprintf(f, "%s%s%s\n", indent, _("Treatments stopped:"),
		json_array_size(json_object_get(n, "stopped_treatments")) ? "" : _(" none"));
	json_array_foreach(json_object_get(n, "stopped_treatments"), i, t) {
		fprintf(f, "%s  - ", indent);
		out_text(f, str(t, "drug"));
		if (str(t, "date")) {
			fputs(_(" (stopped "), f);
			out_text(f, str(t, "date"));
			fputc(')', f);
		}
		fputs(_(": "), f); /* " : " in French */
		out_text(f, str(t, "reason"));
		if (str(t, "replaced_by")) {
			fputs(_("; replaced by "), f);
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
	fprintf(f, "%s%s%s\n", indent, _("Results awaited:"),
		json_array_size(json_object_get(n, "results_awaited")) ? "" : _(" none"));
	json_array_foreach(json_object_get(n, "results_awaited"), i, r) {
		fprintf(f, "%s  - ", indent);
		out_text(f, str(r, "test"));
		if (str(r, "expected_by")) {
			fputs(_(" (expected by "), f);
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
	fprintf(f, "%s%s%s\n", indent, _("Planned:"),
		json_array_size(json_object_get(fu, "planned_acts")) ? "" : _(" nothing"));
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
	line(f, indent, N_("Recommendations"), str(fu, "recommendations"));
	line(f, indent, N_("Monitoring"), str(fu, "monitoring"));
}

void
notice_print(FILE *f, json_t *content, const char *indent)
{
	json_t *n = json_object_get(content, "notice");
	fprintf(f, "%s", indent);
	out_styled(f, OUT_BOLD, _("DISCHARGE NOTICE (lettre de liaison)"));
	if (str(content, "patient_ref")) {
		fputs(_(" — case "), f);
		out_text(f, str(content, "patient_ref"));
		fputs(", ", f);
		out_text(f, str_or_dash(content, "pathway"));
	}
	fputc('\n', f);
	if (!json_is_object(n)) {
		fprintf(f, "%s%s\n", indent, _("[the notice has no content]"));
		return;
	}
	print_identity(f, n, indent);
	print_stay(f, n, indent);
	print_treatments(f, n, indent);
	print_follow_up(f, n, indent);
	json_t *letter = json_object_get(content, "letter");
	if (json_is_object(letter)) {
		fprintf(f, "%s%s", indent, _("Letter: "));
		out_text(f, str(letter, "name"));
		fprintf(f, _(" (%lld bytes) — liaison get "),
			(long long)json_integer_value(json_object_get(letter, "size")));
		out_text(f, str(letter, "attachment"));
		fputc('\n', f);
	}
}
