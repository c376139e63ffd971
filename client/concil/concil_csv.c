/* concil_csv.c — medication lines from a CSV file or typed as one
 * "key=value" entry (docs/CONCILIATION.md, "CSV import" and "One line on the
 * command line"). Both are fed by people and other programs: every byte is
 * bounded, nothing is read past len, the entry parser allocates nothing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concil_int.h"

#define CSV_FIELDS_MAX 32

/* The columns a file must have; the others are optional. */
static const bool required_column[CONCIL_FIELD__COUNT] = {
	[CONCIL_F_INN] = true, [CONCIL_F_ATC] = true, [CONCIL_F_DOSE] = true,
	[CONCIL_F_UNIT] = true, [CONCIL_F_FREQUENCY] = true,
};

static void
problem(struct concil_csv_report *rep, size_t line, const char *column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
problem(struct concil_csv_report *rep, size_t line, const char *column, const char *fmt, ...)
{
	va_list ap;
	rep->total++;
	if (rep->n >= CONCIL_ERRORS_MAX)
		return;
	struct concil_csv_problem *p = &rep->p[rep->n++];
	p->line = line;
	snprintf(p->column, sizeof p->column, "%s", column ? column : "");
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof p->msg, fmt, ap);
	va_end(ap);
	concil_utf8_trim(p->msg);
}

/* One field of a record: [start, start + len) of the line, or of buf when
 * it was quoted (the doubled quotes undone). */
struct csv_field {
	const char *s;
	size_t len;
};

/* Split one physical line (no end of line) into fields. Quoted fields are
 * unquoted into buf (at least len bytes). false with why on a syntax error. */
static bool
split_record(const char *line, size_t len, char sep, char *buf, struct csv_field *f, size_t *nf,
	     char *why, size_t why_len)
{
	size_t i = 0, b = 0;
	*nf = 0;
	for (;;) {
		if (*nf >= CSV_FIELDS_MAX) {
			snprintf(why, why_len, _("more than %d fields"), CSV_FIELDS_MAX);
			return false;
		}
		size_t j = i;
		while (j < len && (line[j] == ' ' || line[j] == '\t'))
			j++;
		if (j < len && line[j] == '"') {
			size_t start = b;
			j++;
			for (;;) {
				if (j >= len) {
					snprintf(why, why_len, _("field %zu: the quote is not "
						 "closed on this line (a field cannot span "
						 "lines)"), *nf + 1);
					return false;
				}
				if (line[j] == '"') {
					if (j + 1 < len && line[j + 1] == '"') {
						buf[b++] = '"';
						j += 2;
						continue;
					}
					j++;
					break;
				}
				buf[b++] = line[j++];
			}
			while (j < len && (line[j] == ' ' || line[j] == '\t'))
				j++;
			if (j < len && line[j] != sep) {
				snprintf(why, why_len, _("field %zu: text after the closing quote; "
					 "quote the whole field and double the quotes inside "
					 "it"), *nf + 1);
				return false;
			}
			f[*nf].s = buf + start;
			f[*nf].len = b - start;
		} else {
			size_t k = i;
			while (k < len && line[k] != sep) {
				if (line[k] == '"') {
					snprintf(why, why_len, _("field %zu: a quote inside a "
						 "field that does not start with one; quote the "
						 "whole field and double the quotes inside "
						 "it"), *nf + 1);
					return false;
				}
				k++;
			}
			f[*nf].s = line + i;
			f[*nf].len = k - i;
			j = k;
		}
		(*nf)++;
		if (j >= len)
			return true;
		i = j + 1;              /* past the separator */
	}
}

static bool
blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

/* ';' when the header has semicolons outside quotes and no commas (a
 * spreadsheet saved in a French locale), else ','. */
static char
guess_separator(const char *line, size_t len)
{
	size_t commas = 0, semis = 0;
	bool quoted = false;
	for (size_t i = 0; i < len; i++) {
		if (line[i] == '"')
			quoted = !quoted;
		else if (!quoted && line[i] == ',')
			commas++;
		else if (!quoted && line[i] == ';')
			semis++;
	}
	return semis > 0 && commas == 0 ? ';' : ',';
}

static void
column_list(char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (int f = 0; f < CONCIL_FIELD__COUNT && o < len; f++) {
		int k = snprintf(out + o, len - o, "%s%s", f ? ", " : "", concil_field_name(f));
		if (k < 0)
			break;
		o += (size_t)k;
	}
}

/* The header: which field each column holds. false (problems reported) when
 * the file cannot be read further. */
static bool
read_header(const char *line, size_t len, size_t lineno, char sep, char *buf,
	    int cols[CSV_FIELDS_MAX], size_t *ncols, struct concil_csv_report *rep)
{
	struct csv_field f[CSV_FIELDS_MAX];
	bool seen[CONCIL_FIELD__COUNT] = {false};
	char why[CONCIL_MSG_MAX], all[256];
	size_t nf;
	bool ok = true;
	column_list(all, sizeof all);
	if (!split_record(line, len, sep, buf, f, &nf, why, sizeof why)) {
		problem(rep, lineno, "", "the header: %s", why);
		return false;
	}
	for (size_t i = 0; i < nf; i++) {
		int k = concil_field_parse(f[i].s, f[i].len);
		if (k < 0) {
			char name[48];
			concil_quote(f[i].s, f[i].len, name);
			problem(rep, lineno, "", "unknown column \"%s\" in the header: the columns are %s",
				name, all);
			ok = false;
			continue;
		}
		if (seen[k]) {
			problem(rep, lineno, concil_field_name(k), _("column %s appears twice in "
					"the header"),
				concil_field_name(k));
			ok = false;
		}
		seen[k] = true;
		cols[i] = k;
	}
	*ncols = nf;
	for (int k = 0; k < CONCIL_FIELD__COUNT; k++)
		if (required_column[k] && !seen[k]) {
			problem(rep, lineno, concil_field_name(k), _("missing column \"%s\": the "
				"header needs inn, atc, dose, unit and frequency (the others are "
				"optional: %s)"),
				concil_field_name(k), all);
			ok = false;
		}
	return ok;
}

static void
read_record(const char *line, size_t len, size_t lineno, char sep, char *buf, const int *cols,
	    size_t ncols, enum concil_list list, struct concil_lines *out,
	    struct concil_csv_report *rep)
{
	struct csv_field f[CSV_FIELDS_MAX];
	struct concil_line ln;
	char why[CONCIL_MSG_MAX];
	size_t nf;
	bool ok = true;
	if (!split_record(line, len, sep, buf, f, &nf, why, sizeof why)) {
		problem(rep, lineno, "", "%s", why);
		return;
	}
	if (nf != ncols) {
		problem(rep, lineno, "", "%zu field%s, but the header has %zu columns (a value with a "
			"comma is quoted: \"49 mg, 51 mg\")", nf, nf == 1 ? "" : "s", ncols);
		return;
	}
	memset(&ln, 0, sizeof ln);
	ln.list = list;
	/* self_medication first: the ATC rule depends on it; frequency before
	 * as_needed: "si besoin" sets it */
	static const enum concil_field order[CONCIL_FIELD__COUNT] = {
		CONCIL_F_SELF_MEDICATION, CONCIL_F_INN, CONCIL_F_ATC, CONCIL_F_STRENGTH, CONCIL_F_FORM,
		CONCIL_F_ROUTE, CONCIL_F_DOSE, CONCIL_F_UNIT, CONCIL_F_FREQUENCY, CONCIL_F_AS_NEEDED,
		CONCIL_F_NOTE,
	};
	for (int o = 0; o < CONCIL_FIELD__COUNT; o++)
		for (size_t i = 0; i < nf; i++) {
			if (cols[i] != (int)order[o])
				continue;
			if (!concil_field_set(&ln, order[o], f[i].s, f[i].len, why, sizeof why)) {
				problem(rep, lineno, concil_field_name(order[o]), "%s", why);
				ok = false;
			}
		}
	enum concil_field bad;
	if (ok && !concil_line_check_at(&ln, &bad, why, sizeof why)) {
		problem(rep, lineno, concil_field_name(bad), "%s", why);
		ok = false;
	}
	if (ok && !concil_lines_push(out, &ln))
		problem(rep, lineno, "", "out of memory");
}

enum lsn_err
concil_csv_parse(const char *text, size_t len, enum concil_list list, struct concil_lines *out,
		 struct concil_csv_report *rep, struct lsn_status *st)
{
	struct concil_csv_report local;
	char buf[CONCIL_CSV_LINE_MAX + 1];
	int cols[CSV_FIELDS_MAX];
	size_t ncols = 0, lineno = 0, records = 0, pos = 0;
	bool header = false;
	char sep = ',';
	if (rep == NULL)
		rep = &local;
	memset(rep, 0, sizeof *rep);
	memset(out, 0, sizeof *out);
	if ((unsigned)list >= CONCIL_LIST__COUNT)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("unknown list"));
	if (text == NULL)
		len = 0;
	if (len > CONCIL_CSV_BYTES_MAX) {
		problem(rep, 0, "", "the file is larger than %zu bytes: at most %d medication lines of "
			"at most %d bytes", CONCIL_CSV_BYTES_MAX, CONCIL_LINES_MAX, CONCIL_CSV_LINE_MAX);
		goto done;
	}
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;                        /* the byte-order mark of spreadsheets */
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + (nl != NULL);
		lineno++;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n > CONCIL_CSV_LINE_MAX) {
			problem(rep, lineno, "", "the line is longer than %d bytes", CONCIL_CSV_LINE_MAX);
			continue;
		}
		if (memchr(line, '\r', n) || memchr(line, '\0', n) || !concil_text_ok(line, n)) {
			/* a tab is a blank here, not a control character */
			bool bad = memchr(line, '\r', n) || memchr(line, '\0', n);
			for (size_t i = 0; !bad && i < n;) {
				size_t k = i;
				while (k < n && line[k] != '\t')
					k++;
				bad = !concil_text_ok(line + i, k - i);
				i = k + 1;
			}
			if (bad) {
				problem(rep, lineno, "", "the line is not UTF-8 text (a control character or "
					"a byte that is not UTF-8): save the file as CSV UTF-8");
				continue;
			}
		}
		if (blank(line, n))
			continue;
		if (!header) {
			header = true;
			sep = guess_separator(line, n);
			if (!read_header(line, n, lineno, sep, buf, cols, &ncols, rep))
				goto done;
			continue;
		}
		if (++records > CONCIL_LINES_MAX) {
			problem(rep, lineno, "", "more than %d medication lines: split the file",
				CONCIL_LINES_MAX);
			goto done;
		}
		read_record(line, n, lineno, sep, buf, cols, ncols, list, out, rep);
	}
	if (!header)
		problem(rep, 0, "", "the file is empty: it needs a header line (inn,atc,strength,form,"
			"route,dose,unit,frequency,as_needed,self_medication) and one line per medication");
done:
	if (rep->total == 0)
		return LSN_OK;
	concil_lines_free(out);
	const struct concil_csv_problem *p = &rep->p[0];
	char where[64];
	if (p->line == 0)
		snprintf(where, sizeof where, _("the file"));
	else if (p->column[0])
		snprintf(where, sizeof where, _("line %zu, column %s"), p->line, p->column);
	else
		snprintf(where, sizeof where, _("line %zu"), p->line);
	if (rep->total > 1)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, ngettext("%s: %.180s (and %zu more "
				"problem)",
					    "%s: %.180s (and %zu more problems)", rep->total - 1),
				   where, p->msg, rep->total - 1);
	return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s: %.200s", where, p->msg);
}

/* ---- one entry --------------------------------------------------------------- */

static enum lsn_err
entry_set(struct concil_line *ln, bool seen[CONCIL_FIELD__COUNT], const char *key, size_t klen,
	  const char *val, size_t vlen, struct lsn_status *st)
{
	char why[CONCIL_MSG_MAX], name[48];
	int f = concil_field_parse(key, klen);
	if (f < 0) {
		concil_quote(key, klen, name);
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("unknown key \"%s\": the keys are "
				"inn, atc, strength, form, route, dose, unit, frequency, "
				"as_needed, self_medication, note"), name);
	}
	if (seen[f])
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%s is given "
				"twice"), concil_field_name(f));
	seen[f] = true;
	if (!concil_field_set(ln, f, val, vlen, why, sizeof why))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s: %s", concil_field_name(f), why);
	return LSN_OK;
}

/* Start an entry: self_medication and as_needed are set after the other
 * fields (the ATC rule and "si besoin" depend on them), so they are kept. */
struct entry {
	struct concil_line ln;
	bool seen[CONCIL_FIELD__COUNT];
	char flags[2][8];       /* as_needed, self_medication values (short: yes/no/…) */
	size_t flag_len[2];
	bool flag_set[2];
};

static enum lsn_err
entry_put(struct entry *e, const char *key, size_t klen, const char *val, size_t vlen,
	  struct lsn_status *st)
{
	int f = concil_field_parse(key, klen);
	if (f == CONCIL_F_AS_NEEDED || f == CONCIL_F_SELF_MEDICATION) {
		int k = f == CONCIL_F_SELF_MEDICATION;
		if (e->seen[f])
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%s is given "
					"twice"), concil_field_name(f));
		e->seen[f] = true;
		while (vlen > 0 && (*val == ' ' || *val == '\t')) {
			val++;
			vlen--;
		}
		while (vlen > 0 && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t'))
			vlen--;
		if (vlen >= sizeof e->flags[k])
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%s: the value is not yes or "
					"no (yes/no, oui/non, 1/0)"), concil_field_name(f));
		memcpy(e->flags[k], val, vlen);
		e->flags[k][vlen] = '\0';
		e->flag_len[k] = vlen;
		e->flag_set[k] = true;
		return LSN_OK;
	}
	return entry_set(&e->ln, e->seen, key, klen, val, vlen, st);
}

static enum lsn_err
entry_finish(struct entry *e, enum concil_list list, struct concil_line *out,
	     struct lsn_status *st)
{
	char why[CONCIL_MSG_MAX];
	struct concil_line ln = e->ln;
	static const enum concil_field flag_field[2] = {CONCIL_F_AS_NEEDED, CONCIL_F_SELF_MEDICATION};
	ln.list = list;
	for (int k = 0; k < 2; k++)
		if (e->flag_set[k] &&
		    !concil_field_set(&ln, flag_field[k], e->flags[k], e->flag_len[k], why, sizeof why))
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s: %s", concil_field_name(flag_field[k]),
					why);
	if (!concil_line_check(&ln, why, sizeof why)) {
		/* "column atc: …" reads "atc: …" on the command line */
		const char *w = strncmp(why, "column ", 7) == 0 ? why + 7 : why;
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s", w);
	}
	*out = ln;
	return LSN_OK;
}

enum lsn_err
concil_entry_parse(const char *text, size_t len, enum concil_list list, struct concil_line *out,
		   struct lsn_status *st)
{
	static struct entry zero;
	struct entry e = zero;
	char val[CONCIL_ENTRY_MAX + 1], q[48];
	size_t i = 0;
	memset(out, 0, sizeof *out);
	if ((unsigned)list >= CONCIL_LIST__COUNT)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("unknown list"));
	if (text == NULL)
		len = 0;
	if (len > CONCIL_ENTRY_MAX)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("the entry is longer than %d bytes"),
				CONCIL_ENTRY_MAX);
	for (;;) {
		while (i < len && (text[i] == ' ' || text[i] == '\t'))
			i++;
		if (i >= len)
			break;
		size_t k = i;
		while (k < len && text[k] != '=' && text[k] != ' ' && text[k] != '\t' && text[k] != '"')
			k++;
		if (k >= len || text[k] != '=' || k == i)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("word %zu: expected "
					"key=value (e.g. inn=furosémide atc=C03CA01 dose=1 "
					"unit=comprimé frequency=\"matin et soir\")"), i + 1);
		const char *key = text + i;
		size_t klen = k - i, vlen = 0;
		i = k + 1;
		if (i < len && text[i] == '"') {
			i++;
			for (;;) {
				if (i >= len) {
					concil_quote(key, klen, q);
					return concil_fail(st, LSN_ERR_BAD_REQUEST, _("the quote "
							   "opened for %s is not closed"), q);
				}
				if (text[i] == '"') {
					if (i + 1 < len && text[i + 1] == '"') {
						val[vlen++] = '"';
						i += 2;
						continue;
					}
					i++;
					break;
				}
				val[vlen++] = text[i++];
			}
			if (i < len && text[i] != ' ' && text[i] != '\t') {
				concil_quote(key, klen, q);
				return concil_fail(st, LSN_ERR_BAD_REQUEST, _("a blank is needed "
						   "after the closing quote of %s"), q);
			}
		} else {
			while (i < len && text[i] != ' ' && text[i] != '\t') {
				if (text[i] == '"')
					return concil_fail(st, LSN_ERR_BAD_REQUEST, _("a quote "
							"inside a value: quote the whole value "
							"(key=\"…\")"));
				val[vlen++] = text[i++];
			}
		}
		enum lsn_err err = entry_put(&e, key, klen, val, vlen, st);
		if (err != LSN_OK)
			return err;
	}
	return entry_finish(&e, list, out, st);
}

enum lsn_err
concil_entry_parse_argv(int argc, char *const *argv, enum concil_list list, struct concil_line *out,
			struct lsn_status *st)
{
	static struct entry zero;
	struct entry e = zero;
	memset(out, 0, sizeof *out);
	if ((unsigned)list >= CONCIL_LIST__COUNT)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("unknown list"));
	for (int a = 0; a < argc; a++) {
		const char *arg = argv[a];
		size_t n = arg ? strnlen(arg, CONCIL_ENTRY_MAX + 1) : 0;
		const char *eq = n ? memchr(arg, '=', n) : NULL;
		if (n > CONCIL_ENTRY_MAX)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("argument %d is longer than "
					"%d bytes"),
					a + 1, CONCIL_ENTRY_MAX);
		if (eq == NULL || eq == arg)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("argument %d: expected "
					"key=value (e.g. atc=C03CA01)"), a + 1);
		enum lsn_err err = entry_put(&e, arg, (size_t)(eq - arg), eq + 1,
					     n - (size_t)(eq - arg) - 1, st);
		if (err != LSN_OK)
			return err;
	}
	return entry_finish(&e, list, out, st);
}
