/* concil_notice.c — the treatments of a discharge notice (lettre de
 * liaison, core/notice.h) as medication lines of a reconciliation, so that
 * the discharge prescription is not typed a second time (docs/CONCILIATION.md,
 * "From the discharge notice"). Pure: the notice is a JSON object already
 * checked by the client that posted it, and is checked again here field by
 * field with the rules of a typed line. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "concil.h"
#include "concil_int.h"

static void
remark(struct concil_notice_report *rep, size_t index, bool skipped, const char *field,
       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
remark(struct concil_notice_report *rep, size_t index, bool skipped, const char *field,
       const char *fmt, ...)
{
	rep->total++;
	if (skipped)
		rep->skipped++;
	if (rep->n >= CONCIL_ERRORS_MAX)
		return;
	struct concil_notice_remark *r = &rep->r[rep->n++];
	r->index = index;
	r->skipped = skipped;
	snprintf(r->field, sizeof r->field, "%s", field);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof r->msg, fmt, ap);
	va_end(ap);
}

static const char *
text_of(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : "";
}

/* "40 mg", "2,5mg", "1 comprimé": the number into dose, the rest into unit;
 * both or neither. */
static bool
dose_split(struct concil_line *ln, const char *text, char *why, size_t why_len)
{
	const char *p = text;
	while (*p == ' ')
		p++;
	const char *num = p;
	while ((*p >= '0' && *p <= '9') || *p == ',' || *p == '.')
		p++;
	size_t num_len = (size_t)(p - num);
	struct concil_line tmp = *ln;
	if (num_len == 0) {
		snprintf(why, why_len, _("does not start with a number"));
		return false;
	}
	if (!concil_field_set(&tmp, CONCIL_F_DOSE, num, num_len, why, why_len))
		return false;
	while (*p == ' ')
		p++;
	if (*p == '\0') {
		snprintf(why, why_len, _("has no unit after the number"));
		return false;
	}
	if (!concil_field_set(&tmp, CONCIL_F_UNIT, p, strlen(p), why, why_len))
		return false;
	*ln = tmp;
	return true;
}

/* One treatment as a line; false (with a remark) when it cannot be one. */
static bool
one_line(json_t *t, size_t i, enum concil_list list, struct concil_line *ln,
	 struct concil_notice_report *rep)
{
	char why[CONCIL_MSG_MAX];
	const char *drug = text_of(t, "drug"), *atc = text_of(t, "atc");
	memset(ln, 0, sizeof *ln);
	ln->list = list;
	if (!concil_field_set(ln, CONCIL_F_INN, drug, strlen(drug), why, sizeof why)) {
		remark(rep, i, true, "drug", "%s: not imported", why);
		return false;
	}
	if (!concil_field_set(ln, CONCIL_F_ATC, atc, strlen(atc), why, sizeof why) ||
	    concil_atc_level(ln->atc) != 5) {
		remark(rep, i, true, "atc", "%s has %s: not imported; add it with liaison "
		       "conciliation line add … inn=\"%.60s\" atc=CODE …", drug,
		       atc[0] ? "only an ATC prefix or a malformed code" : "no ATC code", drug);
		return false;
	}
	const char *dose = text_of(t, "dose"), *freq = text_of(t, "frequency");
	const char *route = text_of(t, "route"), *duration = text_of(t, "duration");
	if (dose[0] && !dose_split(ln, dose, why, sizeof why))
		remark(rep, i, false, "dose", "%s: dose \"%.40s\" %s: dose and unit left empty "
		       "(the comparison reports the line incomplete)", drug, dose, why);
	if (freq[0] && !concil_field_set(ln, CONCIL_F_FREQUENCY, freq, strlen(freq), why,
					 sizeof why))
		remark(rep, i, false, "frequency", "%s: frequency \"%.60s\" is not one of the "
		       "reconciliation's frequencies: left empty (the comparison reports the line "
		       "incomplete)", drug, freq);
	if (route[0] && !concil_field_set(ln, CONCIL_F_ROUTE, route, strlen(route), why,
					  sizeof why))
		remark(rep, i, false, "route", "%s: route \"%.40s\" is not one of the "
		       "reconciliation's routes: left empty", drug, route);
	if (duration[0]) {
		char note[CONCIL_LINE_NOTE_MAX + 64];
		int n = snprintf(note, sizeof note, "durée : %s", duration);
		/* a note too long for a line is left out rather than cut mid-character */
		if (n > 0 && (size_t)n <= CONCIL_LINE_NOTE_MAX)
			concil_field_set(ln, CONCIL_F_NOTE, note, (size_t)n, why, sizeof why);
	}
	enum concil_field bad;
	if (!concil_line_check_at(ln, &bad, why, sizeof why)) {
		remark(rep, i, true, concil_field_name(bad), "%s: %s: not imported", drug, why);
		return false;
	}
	return true;
}

enum lsn_err
concil_notice_lines(json_t *notice, enum concil_list list, struct concil_lines *out,
		    struct concil_notice_report *rep, struct lsn_status *st)
{
	memset(rep, 0, sizeof *rep);
	json_t *inner = json_object_get(notice, "notice");
	json_t *treatments = json_object_get(inner ? inner : notice, "discharge_treatments");
	if (!json_is_array(treatments))
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, _("the discharge notice has no list of "
				"discharge treatments"));
	if (json_array_size(treatments) > CONCIL_LINES_MAX)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, _("the discharge notice has more than %d "
				"treatments"), CONCIL_LINES_MAX);
	size_t i;
	json_t *t;
	json_array_foreach(treatments, i, t) {
		struct concil_line ln;
		if (!json_is_object(t)) {
			remark(rep, i, true, "", "not a treatment object: not imported");
			continue;
		}
		if (one_line(t, i, list, &ln, rep) && !concil_lines_push(out, &ln)) {
			concil_lines_free(out);
			return lsn_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
		}
	}
	return LSN_OK;
}
