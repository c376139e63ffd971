/* concil_fields.c — one medication line, field by field: names, the checks
 * and canonical forms of each value (INN, ATC, strength, dose, the
 * vocabulary words, yes/no, note) and the whole-line check
 * (docs/CONCILIATION.md, "CSV import", "Vocabularies"). */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "concil_int.h"

/* ---- line fields ----------------------------------------------------------------- */

static const char *const field_names[CONCIL_FIELD__COUNT] = {
	"inn", "atc", "strength", "form", "route", "dose", "unit", "frequency", "as_needed",
	"self_medication", "note",
};

const char *
concil_field_name(enum concil_field f)
{
	return (unsigned)f < CONCIL_FIELD__COUNT ? field_names[f] : NULL;
}

int
concil_field_parse(const char *name, size_t len)
{
	while (len > 0 && (*name == ' ' || *name == '\t')) {
		name++;
		len--;
	}
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		len--;
	for (int f = 0; f < CONCIL_FIELD__COUNT; f++)
		if (strlen(field_names[f]) == len && strncasecmp(field_names[f], name, len) == 0)
			return f;
	return -1;
}

int
concil_atc_level(const char *atc)
{
	static const char anatomical[] = "ABCDGHJLMNPRSV";
	size_t n = atc ? strlen(atc) : 0;
	if (n == 0 || !strchr(anatomical, atc[0]) || atc[0] == '\0')
		return 0;
	if (n == 1)
		return 1;
	if (n < 3 || !isdigit((unsigned char)atc[1]) || !isdigit((unsigned char)atc[2]))
		return 0;
	if (n == 3)
		return 2;
	if (!isupper((unsigned char)atc[3]))
		return 0;
	if (n == 4)
		return 3;
	if (!isupper((unsigned char)atc[4]))
		return 0;
	if (n == 5)
		return 4;
	if (n != 7 || !isdigit((unsigned char)atc[5]) || !isdigit((unsigned char)atc[6]))
		return 0;
	return 5;
}

char *
concil_dose_format(int64_t dose_milli, char out[16])
{
	char tmp[48];
	out[0] = '\0';
	if (dose_milli <= 0 || dose_milli > (int64_t)CONCIL_DOSE_MAX * 1000)
		return out;
	long long whole = dose_milli / 1000, frac = dose_milli % 1000;
	if (frac == 0) {
		snprintf(tmp, sizeof tmp, "%lld", whole);
	} else {
		snprintf(tmp, sizeof tmp, "%lld.%03lld", whole, frac);
		for (size_t n = strlen(tmp); tmp[n - 1] == '0'; n--)
			tmp[n - 1] = '\0';
	}
	snprintf(out, 16, "%.15s", tmp);
	return out;
}

/* "0.5", "0,5", "40", "2.125": a positive decimal with at most 3 decimals
 * and at most CONCIL_DOSE_MAX. */
static bool
dose_parse(const char *s, int64_t *milli)
{
	int64_t whole = 0, frac = 0;
	int digits = 0, fdigits = 0;
	const char *p = s;
	for (; isdigit((unsigned char)*p); p++) {
		if (++digits > 6)
			return false;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.' || *p == ',') {
		p++;
		for (; isdigit((unsigned char)*p); p++) {
			if (++fdigits > 3)
				return false;
			frac = frac * 10 + (*p - '0');
		}
		if (fdigits == 0)
			return false;
	}
	if (*p != '\0' || digits == 0)
		return false;
	for (int i = fdigits; i < 3; i++)
		frac *= 10;
	*milli = whole * 1000 + frac;
	return *milli > 0 && *milli <= (int64_t)CONCIL_DOSE_MAX * 1000;
}

static int
bool_parse(const char *s)
{
	static const char *const yes[] = {"yes", "oui", "1", "true", "o", "y"};
	static const char *const no[] = {"no", "non", "0", "false", "n"};
	for (size_t i = 0; i < CONCIL_N(yes); i++)
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
	for (size_t i = 0; i < CONCIL_N(no); i++)
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	return -1;
}

static bool
inn_valid(const char *s, size_t n)
{
	bool letter = false;
	if (n == 0 || n > CONCIL_INN_MAX || !concil_text_ok(s, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalpha(c) || c >= 0x80)
			letter = true;
		else if (!isdigit(c) && !strchr(" /-+'(),.", c))
			return false;
	}
	return letter;
}

static bool
strength_valid(const char *s, size_t n)
{
	if (n > CONCIL_STRENGTH_MAX || !concil_text_ok(s, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c < 0x80 && !strchr(" .,/%+-()", c))
			return false;
	}
	return true;
}

/* The value quoted for a message: at most 40 bytes, never cut inside a
 * UTF-8 sequence, control characters as '?'. */
void
concil_quote(const char *s, size_t n, char out[48])
{
	size_t o = 0, i = 0;
	while (i < n && o < 40) {
		unsigned cp;
		size_t k = concil_utf8_next((const unsigned char *)s + i, n - i, &cp);
		if (k == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
			out[o++] = '?';
			i += k ? k : 1;
			continue;
		}
		if (o + k > 40)
			break;
		memcpy(out + o, s + i, k);
		o += k;
		i += k;
	}
	if (i < n && o + 3 < 48) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Copy a value already checked to fit (cut at cap - 1 bytes otherwise). */
static void
copy_word(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

bool
concil_field_set(struct concil_line *ln, enum concil_field f, const char *text, size_t len,
		 char *why, size_t why_len)
{
	char v[CONCIL_CSV_LINE_MAX + 1], q[48], list[512];
	const char *canon;
	while (len > 0 && (*text == ' ' || *text == '\t')) {
		text++;
		len--;
	}
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	concil_quote(text, len, q);
	if (len > CONCIL_CSV_LINE_MAX || memchr(text, '\0', len)) {
		concil_why(why, why_len, _("the value is too long or holds a NUL byte"));
		return false;
	}
	memcpy(v, text, len);
	v[len] = '\0';
	if (!concil_text_ok(v, len)) {
		concil_why(why, why_len, _("the value is not valid UTF-8 text (control character "
			"or bad byte): save the file as UTF-8"));
		return false;
	}
	switch (f) {
	case CONCIL_F_INN:
		if (!inn_valid(v, len)) {
			concil_why(why, why_len, len == 0 ? _("the INN (DCI) is missing") :
				"\"%s\" is not an INN: at most %d bytes of letters, digits, blanks "
				"and / - + ' ( ) , .", q, CONCIL_INN_MAX);
			return false;
		}
		copy_word(ln->inn, sizeof ln->inn, v);
		return true;
	case CONCIL_F_ATC:
		for (size_t i = 0; i < len; i++)
			v[i] = (char)toupper((unsigned char)v[i]);
		if (len > 0 && concil_atc_level(v) == 0) {
			concil_why(why, why_len, _("\"%s\" is not an ATC code: expected a letter, "
				"2 digits, 2 letters, 2 digits (e.g. C03CA01)"), q);
			return false;
		}
		copy_word(ln->atc, sizeof ln->atc, v);
		return true;
	case CONCIL_F_STRENGTH:
		if (!strength_valid(v, len)) {
			concil_why(why, why_len, _("\"%s\" is not a strength: at most %d bytes of "
				"digits, letters, blanks and . , / %% + - ( ) (e.g. \"40 mg\", "
				"\"49 mg/51 mg\")"),
				q, CONCIL_STRENGTH_MAX);
			return false;
		}
		copy_word(ln->strength, sizeof ln->strength, v);
		return true;
	case CONCIL_F_DOSE:
		if (len == 0) {
			ln->dose_milli = 0;
			return true;
		}
		if (!dose_parse(v, &ln->dose_milli)) {
			ln->dose_milli = 0;
			concil_why(why, why_len, _("\"%s\" is not a dose: expected a positive "
				"number with at most 3 decimals, up to %d (e.g. 1, 0.5, 2,5); the "
				"unit goes in its own column"), q, CONCIL_DOSE_MAX);
			return false;
		}
		return true;
	case CONCIL_F_FORM:
	case CONCIL_F_ROUTE:
	case CONCIL_F_UNIT:
	case CONCIL_F_FREQUENCY: {
		char *dst = f == CONCIL_F_FORM ? ln->form : f == CONCIL_F_ROUTE ? ln->route
			  : f == CONCIL_F_UNIT ? ln->unit : ln->frequency;
		if (len == 0) {
			dst[0] = '\0';
			return true;
		}
		canon = f == CONCIL_F_FORM ? concil_form_canon(v) : f == CONCIL_F_ROUTE ?
			concil_route_canon(v) : f == CONCIL_F_UNIT ? concil_unit_canon(v) :
			concil_frequency_canon(v);
		if (canon == NULL) {
			concil_vocab_words(f, list, sizeof list);
			concil_why(why, why_len, _("unknown %s \"%s\": one of "
					"%s"), field_names[f], q, list);
			return false;
		}
		copy_word(dst, CONCIL_WORD_MAX + 1, canon);
		if (f == CONCIL_F_FREQUENCY && strcmp(canon, "si besoin") == 0)
			ln->as_needed = true;
		return true;
	}
	case CONCIL_F_AS_NEEDED:
	case CONCIL_F_SELF_MEDICATION: {
		int b = len == 0 ? 0 : bool_parse(v);
		if (b < 0) {
			concil_why(why, why_len, _("\"%s\" is not yes or no (yes/no, oui/non, "
					"1/0)"), q);
			return false;
		}
		if (f == CONCIL_F_AS_NEEDED)
			ln->as_needed = b || strcmp(ln->frequency, "si besoin") == 0;
		else
			ln->self_medication = b;
		return true;
	}
	case CONCIL_F_NOTE:
		if (len > CONCIL_LINE_NOTE_MAX) {
			concil_why(why, why_len, _("the note is longer than %d "
					"bytes"), CONCIL_LINE_NOTE_MAX);
			return false;
		}
		copy_word(ln->note, sizeof ln->note, v);
		return true;
	default:
		concil_why(why, why_len, _("unknown field"));
		return false;
	}
}

bool
concil_line_check_at(const struct concil_line *ln, enum concil_field *bad, char *why,
		     size_t why_len)
{
	int level = concil_atc_level(ln->atc);
	if (ln->inn[0] == '\0') {
		*bad = CONCIL_F_INN;
		concil_why(why, why_len, _("the INN (DCI) is missing"));
		return false;
	}
	if (!ln->self_medication && level != 5) {
		*bad = CONCIL_F_ATC;
		concil_why(why, why_len, _("%s; a full ATC code (e.g. C03CA01) is needed, a "
			"shorter prefix or none only on a self-medication line "
			"(self_medication=yes)"),
			ln->atc[0] ? "this is only an ATC prefix" : "the ATC code is missing");
		return false;
	}
	if (ln->atc[0] && level == 0) {
		*bad = CONCIL_F_ATC;
		concil_why(why, why_len, _("not an ATC code"));
		return false;
	}
	if ((unsigned)ln->list >= CONCIL_LIST__COUNT) {
		*bad = CONCIL_F_INN;
		concil_why(why, why_len, _("the line belongs to no list"));
		return false;
	}
	return true;
}

bool
concil_line_fields_ok(const struct concil_line *ln, char *why, size_t why_len)
{
	static const struct {
		size_t off, cap;
		const char *(*canon)(const char *);
		const char *name;
	} words[] = {
		{offsetof(struct concil_line, form), sizeof ln->form, concil_form_canon, "form"},
		{offsetof(struct concil_line, route), sizeof ln->route, concil_route_canon, "route"},
		{offsetof(struct concil_line, unit), sizeof ln->unit, concil_unit_canon, "unit"},
		{offsetof(struct concil_line, frequency), sizeof ln->frequency, concil_frequency_canon,
		 "frequency"},
	};
	size_t n;
	if ((n = strnlen(ln->inn, sizeof ln->inn)) == sizeof ln->inn || !inn_valid(ln->inn, n) ||
	    (n = strnlen(ln->strength, sizeof ln->strength)) == sizeof ln->strength ||
	    !strength_valid(ln->strength, n) ||
	    (n = strnlen(ln->note, sizeof ln->note)) == sizeof ln->note || !concil_text_ok(ln->note, n) ||
	    strnlen(ln->atc, sizeof ln->atc) == sizeof ln->atc ||
	    ln->dose_milli < 0 || ln->dose_milli > (int64_t)CONCIL_DOSE_MAX * 1000) {
		concil_why(why, why_len, _("column inn: the line has a field that was not checked "
			"(inn, strength, note, atc or dose)"));
		return false;
	}
	for (size_t i = 0; i < CONCIL_N(words); i++) {
		const char *w = (const char *)ln + words[i].off;
		const char *c;
		if (strnlen(w, words[i].cap) == words[i].cap ||
		    (w[0] && ((c = words[i].canon(w)) == NULL || strcmp(c, w) != 0))) {
			concil_why(why, why_len, _("column %s: not a canonical "
					"%s"), words[i].name, words[i].name);
			return false;
		}
	}
	return true;
}

bool
concil_line_check(const struct concil_line *ln, char *why, size_t why_len)
{
	enum concil_field bad = CONCIL_F_INN;
	char w[CONCIL_MSG_MAX];
	if (concil_line_check_at(ln, &bad, w, sizeof w))
		return true;
	concil_why(why, why_len, _("column %s: %s"), field_names[bad], w);
	return false;
}
