/* measure.c — structured measurements: parse, check, encode and decode,
 * thresholds and their evaluation over a series, sparklines. No I/O. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "day.h"
#include "measure.h"
#include "tr.h"

const char measure_kinds_help[] = N_(
	"  weight KG               body weight, 20 to 350 kg (e.g. 82.5)\n"
	"  nyha CLASS              NYHA class, I to IV (or 1 to 4)\n"
	"  bp SYS/DIA RATE         blood pressure in mmHg (systolic 50-300, diastolic\n"
	"                          20-200 and below the systolic) and heart rate\n"
	"                          20-250 /min, e.g. bp 130/80 72\n"
	"  potassium MMOL_L        potassium (kaliémie), 1 to 10 mmol/L (e.g. 5.8)\n"
	"  creatinine UMOL_L       creatinine, 10 to 3000 µmol/L\n"
	"  phq9 A1 ... A9          the nine PHQ-9 answers, each 0 to 3 (the total is\n"
	"                          computed)\n");

/* ---- numbers --------------------------------------------------------------- */

/* The nearest integer (without libm). */
static int64_t
round_milli(double x)
{
	return (int64_t)(x >= 0 ? x + 0.5 : x - 0.5);
}

bool
measure_decimal(const char *text, int64_t *milli)
{
	int64_t whole = 0, frac = 0;
	int digits = 0, decimals = 0;
	const char *p = text;
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		if (digits >= 9)
			return false;
		whole = whole * 10 + (*p - '0');
	}
	if (digits == 0)
		return false;
	if (*p == '.' || *p == ',') {
		for (p++; *p >= '0' && *p <= '9'; p++, decimals++) {
			if (decimals >= 3)
				return false;
			frac = frac * 10 + (*p - '0');
		}
		if (decimals == 0)
			return false;
	}
	if (*p != '\0')
		return false;
	for (int i = decimals; i < 3; i++)
		frac *= 10;
	*milli = whole * 1000 + frac;
	return true;
}

void
measure_format(int64_t milli, char *out, size_t len)
{
	int64_t whole = milli / 1000, frac = llabs(milli % 1000);
	if (frac == 0) {
		snprintf(out, len, "%lld", (long long)whole);
		return;
	}
	char f[4];
	snprintf(f, sizeof f, "%03lld", (long long)frac);
	for (int i = 2; i > 0 && f[i] == '0'; i--)
		f[i] = '\0';
	snprintf(out, len, "%s%lld.%s", milli < 0 && whole == 0 ? "-" : "", (long long)whole, f);
}

/* ---- the vocabulary ------------------------------------------------------- */

struct range {
	const char *measure, *words, *unit;
	int64_t lo, hi;          /* milli, inclusive */
	bool whole;              /* a whole number */
};

static const struct range ranges[] = {
	{"weight", N_("weight"), "kg", 20000, 350000, false},
	{"nyha", N_("NYHA class"), "", 1000, 4000, true},
	{"systolic", N_("systolic pressure"), "mmHg", 50000, 300000, true},
	{"diastolic", N_("diastolic pressure"), "mmHg", 20000, 200000, true},
	{"heart_rate", N_("heart rate"), "/min", 20000, 250000, true},
	{"potassium", N_("potassium"), "mmol/L", 1000, 10000, false},
	{"creatinine", N_("creatinine"), "µmol/L", 10000, 3000000, false},
	{"phq9_item9", N_("PHQ-9 item 9"), "", 0, 3000, true},
	{"phq9_total", N_("PHQ-9 total"), "", 0, 27000, true},
};

static const struct range *
range_of(const char *measure)
{
	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
		if (strcmp(ranges[i].measure, measure) == 0)
			return &ranges[i];
	return NULL;
}

const char *
measure_unit(const char *measure)
{
	const struct range *r = range_of(measure);
	return r ? r->unit : "";
}

static bool
in_range(const struct range *r, int64_t milli)
{
	return milli >= r->lo && milli <= r->hi && (!r->whole || milli % 1000 == 0);
}

static bool
range_why(const struct range *r, const char *text, char *why, size_t why_len)
{
	char lo[24], hi[24];
	measure_format(r->lo, lo, sizeof lo);
	measure_format(r->hi, hi, sizeof hi);
	snprintf(why, why_len, _("%s \"%s\": expected %s%s from %s to %s%s%s"), _(r->words), text,
		 r->whole ? _("a whole number") : _("a number"), r->whole ? "" : _(" (at most 3 decimals)"),
		 lo, hi, r->unit[0] ? " " : "", r->unit);
	return false;
}

static bool
add_value(struct measurement *m, const char *measure, const char *text, char *why, size_t why_len)
{
	const struct range *r = range_of(measure);
	int64_t milli = 0;
	if (!measure_decimal(text, &milli) || !in_range(r, milli))
		return range_why(r, text, why, why_len);
	snprintf(m->v[m->n].name, sizeof m->v[m->n].name, "%s", measure);
	m->v[m->n++].milli = milli;
	return true;
}

static bool
nyha_class(const char *text, int64_t *milli)
{
	static const char *const roman[] = {"I", "II", "III", "IV"};
	static const char *const digits[] = {"1", "2", "3", "4"};
	for (int i = 0; i < 4; i++)
		if (strcmp(text, roman[i]) == 0 || strcmp(text, digits[i]) == 0) {
			*milli = (int64_t)(i + 1) * 1000;
			return true;
		}
	return false;
}

static bool
count_is(const char *kind, size_t nargs, size_t want, const char *what, char *why, size_t why_len)
{
	if (nargs == want)
		return true;
	snprintf(why, why_len, ngettext("%s takes %s (%zu value given)", "%s takes %s (%zu values given)",
					nargs), kind, _(what), nargs);
	return false;
}

bool
measure_parse(const char *kind, const char *const *args, size_t nargs, int64_t day,
	      struct measurement *out, char *why, size_t why_len)
{
	memset(out, 0, sizeof *out);
	out->day = day;
	if (strcmp(kind, "weight") == 0 || strcmp(kind, "potassium") == 0 ||
	    strcmp(kind, "creatinine") == 0) {
		snprintf(out->kind, sizeof out->kind, "%s", kind);
		return count_is(kind, nargs, 1, N_("one value"), why, why_len) &&
		       add_value(out, kind, args[0], why, why_len);
	}
	if (strcmp(kind, "nyha") == 0) {
		snprintf(out->kind, sizeof out->kind, "nyha");
		if (!count_is(kind, nargs, 1, N_("one class"), why, why_len))
			return false;
		int64_t milli = 0;
		if (!nyha_class(args[0], &milli)) {
			snprintf(why, why_len, _("NYHA class \"%s\": expected I, II, III or IV (or 1 to 4)"),
				 args[0]);
			return false;
		}
		snprintf(out->v[0].name, sizeof out->v[0].name, "nyha");
		out->v[0].milli = milli;
		out->n = 1;
		return true;
	}
	if (strcmp(kind, "bp") == 0) {
		snprintf(out->kind, sizeof out->kind, "bp");
		if (!count_is(kind, nargs, 2, N_("SYS/DIA and a heart rate (bp 130/80 72)"), why, why_len))
			return false;
		char sys[16], *dia;
		const char *slash = strchr(args[0], '/');
		if (slash == NULL || strlen(args[0]) >= sizeof sys) {
			snprintf(why, why_len, _("blood pressure \"%s\": expected SYSTOLIC/DIASTOLIC in "
				   "mmHg, e.g. 130/80"), args[0]);
			return false;
		}
		snprintf(sys, sizeof sys, "%s", args[0]);
		dia = sys + (slash - args[0]);
		*dia++ = '\0';
		if (!add_value(out, "systolic", sys, why, why_len) ||
		    !add_value(out, "diastolic", dia, why, why_len) ||
		    !add_value(out, "heart_rate", args[1], why, why_len))
			return false;
		if (out->v[1].milli >= out->v[0].milli) {
			snprintf(why, why_len, _("blood pressure \"%s\": the diastolic must be below the "
				   "systolic"), args[0]);
			return false;
		}
		return true;
	}
	if (strcmp(kind, "phq9") == 0) {
		snprintf(out->kind, sizeof out->kind, "phq9");
		if (!count_is(kind, nargs, 9, N_("the nine answers, each 0 to 3"), why, why_len))
			return false;
		int total = 0;
		for (size_t i = 0; i < 9; i++) {
			const char *a = args[i];
			if (a[0] < '0' || a[0] > '3' || a[1] != '\0') {
				snprintf(why, why_len, _("PHQ-9 answer %zu \"%s\": expected 0, 1, 2 or 3"),
					 i + 1, a);
				return false;
			}
			out->items[i] = a[0] - '0';
			total += out->items[i];
		}
		snprintf(out->v[0].name, sizeof out->v[0].name, "phq9_total");
		out->v[0].milli = (int64_t)total * 1000;
		snprintf(out->v[1].name, sizeof out->v[1].name, "phq9_item9");
		out->v[1].milli = (int64_t)out->items[8] * 1000;
		out->n = 2;
		return true;
	}
	snprintf(why, why_len, _("unknown measurement \"%s\"; expected weight, nyha, bp, potassium, "
				 "creatinine or phq9"), kind);
	return false;
}

/* ---- the message ------------------------------------------------------------- */

static json_t *
number(int64_t milli)
{
	return milli % 1000 == 0 ? json_integer(milli / 1000) : json_real((double)milli / 1000.0);
}

json_t *
measure_encode(const struct measurement *m, const char *case_hex)
{
	char at[DAY_TEXT];
	json_t *values = json_object();
	for (size_t i = 0; i < m->n; i++)
		json_object_set_new(values, m->v[i].name, number(m->v[i].milli));
	json_t *out = json_pack("{s:s, s:i, s:s, s:s, s:s, s:o}", "type", MEASURE_TYPE, "version", 1,
				"case", case_hex, "kind", m->kind, "at", day_format(m->day, at),
				"values", values);
	if (out && strcmp(m->kind, "phq9") == 0) {
		json_t *items = json_array();
		for (size_t i = 0; i < 9; i++)
			json_array_append_new(items, json_integer(m->items[i]));
		json_object_set_new(out, "items", items);
	}
	return out;
}

/* The value of measure in values, as the text measure_parse would read. */
static bool
value_text(json_t *values, const char *measure, char *out, size_t len)
{
	json_t *v = json_object_get(values, measure);
	if (!json_is_number(v))
		return false;
	double d = json_number_value(v);
	if (!isfinite(d) || d < 0 || d > 1e7)
		return false;
	int64_t milli = round_milli(d * 1000.0);
	double diff = d * 1000.0 - (double)milli;
	if (diff > 1e-6 || diff < -1e-6)
		return false;          /* more than 3 decimals */
	measure_format(milli, out, len);
	return true;
}

bool
measure_decode(json_t *content, struct measurement *out)
{
	const char *type = json_string_value(json_object_get(content, "type"));
	const char *kind = json_string_value(json_object_get(content, "kind"));
	const char *at = json_string_value(json_object_get(content, "at"));
	json_t *values = json_object_get(content, "values");
	int64_t day = 0;
	char why[200];
	if (!type || strcmp(type, MEASURE_TYPE) != 0 ||
	    json_integer_value(json_object_get(content, "version")) != 1 || !kind || !at ||
	    !day_parse(at, &day) || !json_is_object(values))
		return false;
	char text[MEASURE_VALUES_MAX][24], bp[48];
	const char *args[9];
	size_t nargs = 0, want_values = 0;
	if (strcmp(kind, "weight") == 0 || strcmp(kind, "potassium") == 0 ||
	    strcmp(kind, "creatinine") == 0 || strcmp(kind, "nyha") == 0) {
		if (!value_text(values, kind, text[0], sizeof text[0]))
			return false;
		args[nargs++] = text[0];
		want_values = 1;
	} else if (strcmp(kind, "bp") == 0) {
		if (!value_text(values, "systolic", text[0], sizeof text[0]) ||
		    !value_text(values, "diastolic", text[1], sizeof text[1]) ||
		    !value_text(values, "heart_rate", text[2], sizeof text[2]))
			return false;
		snprintf(bp, sizeof bp, "%s/%s", text[0], text[1]);
		args[nargs++] = bp;
		args[nargs++] = text[2];
		want_values = 3;
	} else if (strcmp(kind, "phq9") == 0) {
		static const char *const answer[] = {"0", "1", "2", "3"};
		json_t *items = json_object_get(content, "items");
		if (!json_is_array(items) || json_array_size(items) != 9)
			return false;
		for (size_t i = 0; i < 9; i++) {
			json_t *a = json_array_get(items, i);
			if (!json_is_integer(a) || json_integer_value(a) < 0 || json_integer_value(a) > 3)
				return false;
			args[nargs++] = answer[json_integer_value(a)];
		}
		want_values = 2;
	} else {
		return false;
	}
	if (json_object_size(values) != want_values ||
	    !measure_parse(kind, args, nargs, day, out, why, sizeof why))
		return false;
	/* the values sent must be those the answers give (phq9: total, item 9) */
	for (size_t i = 0; i < out->n; i++) {
		char want[24], got[24];
		measure_format(out->v[i].milli, want, sizeof want);
		if (!value_text(values, out->v[i].name, got, sizeof got) || strcmp(want, got) != 0)
			return false;
	}
	return true;
}

/* ---- thresholds ----------------------------------------------------------- */

bool
measure_threshold_from_json(json_t *obj, struct measure_threshold *out)
{
	static const char *const rules[] = {"above", "at_least", "below", "rise"};
	const char *measure = json_string_value(json_object_get(obj, "measure"));
	const char *rule = json_string_value(json_object_get(obj, "rule"));
	const char *kind = json_string_value(json_object_get(obj, "alert_kind"));
	json_t *amount = json_object_get(obj, "amount"), *days = json_object_get(obj, "days");
	memset(out, 0, sizeof *out);
	if (!measure || !range_of(measure) || !rule || !kind || kind[0] == '\0' ||
	    strlen(kind) >= sizeof out->kind || !json_is_number(amount) ||
	    !isfinite(json_number_value(amount)))
		return false;
	size_t r = 0;
	while (r < 4 && strcmp(rules[r], rule) != 0)
		r++;
	if (r == 4)
		return false;
	out->rule = (enum measure_rule)r;
	if (out->rule == MEASURE_RISE) {
		if (!json_is_integer(days) || json_integer_value(days) < 1)
			return false;
		out->days = json_integer_value(days);
	}
	snprintf(out->measure, sizeof out->measure, "%s", measure);
	snprintf(out->kind, sizeof out->kind, "%s", kind);
	out->amount_milli = round_milli(json_number_value(amount) * 1000.0);
	return true;
}

static bool
before(const struct measure_point *a, const struct measure_point *b)
{
	return a->day < b->day || (a->day == b->day && a->seq < b->seq);
}

bool
measure_crosses(const struct measure_threshold *t, const struct measure_point *pts, size_t n,
		const struct measure_point *p)
{
	if (strcmp(t->measure, p->measure) != 0)
		return false;
	switch (t->rule) {
	case MEASURE_ABOVE:
		return p->milli > t->amount_milli;
	case MEASURE_AT_LEAST:
		return p->milli >= t->amount_milli;
	case MEASURE_BELOW:
		return p->milli < t->amount_milli;
	case MEASURE_RISE:
		for (size_t i = 0; i < n; i++) {
			const struct measure_point *e = &pts[i];
			if (strcmp(e->measure, p->measure) == 0 && before(e, p) &&
			    p->day - e->day <= t->days && p->milli - e->milli >= t->amount_milli)
				return true;
		}
		return false;
	}
	return false;
}

size_t
measure_evaluate(const struct measure_threshold *t, size_t nt, const struct measure_point *pts,
		 size_t np, int64_t seq, char (*kinds)[MEASURE_NAME_MAX], size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < nt; i++) {
		bool crossed = false;
		for (size_t j = 0; j < np && !crossed; j++)
			crossed = pts[j].seq == seq && measure_crosses(&t[i], pts, np, &pts[j]);
		if (!crossed)
			continue;
		bool seen = false;
		for (size_t k = 0; k < n && !seen; k++)
			seen = strcmp(kinds[k], t[i].kind) == 0;
		if (!seen && n < max)
			snprintf(kinds[n++], MEASURE_NAME_MAX, "%s", t[i].kind);
	}
	return n;
}

/* ---- sparkline -------------------------------------------------------------- */

void
measure_sparkline(const int64_t *values, size_t n, bool ascii, char *out, size_t len)
{
	static const char *const blocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
	static const char levels[] = "_.-=#";
	size_t used = 0, nlevels = ascii ? 5 : 8;
	if (len == 0)
		return;
	out[0] = '\0';
	int64_t lo = 0, hi = 0;
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || values[i] < lo)
			lo = values[i];
		if (i == 0 || values[i] > hi)
			hi = values[i];
	}
	for (size_t i = 0; i < n; i++) {
		size_t level = hi == lo ? nlevels / 2 - (ascii ? 0 : 1)
					: (size_t)((values[i] - lo) * (int64_t)(nlevels - 1) * 2 /
						   (hi - lo) + 1) / 2;
		const char *c = ascii ? (char[2]){levels[level], '\0'} : blocks[level];
		size_t cl = strlen(c);
		if (used + cl + 1 > len)
			break;
		memcpy(out + used, c, cl);
		used += cl;
		out[used] = '\0';
	}
}
