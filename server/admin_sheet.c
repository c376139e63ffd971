/* admin_sheet.c — reading the invite spreadsheet (admin_sheet.h) with
 * libcsv: the header's columns, the separator, one row per person. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <csv.h> /* libcsv (Debian libcsv-dev), not the CLI's client/cli/csv.h */

#include "admin_sheet.h"

static const struct {
	const char *name;
	enum invite_col col;
} header_names[] = {
	{"name", IC_NAME},	       {"nom", IC_NAME},	  {"profession", IC_PROFESSION},
	{"rpps", IC_RPPS},	       {"org", IC_ORG},		  {"organisation", IC_ORG},
	{"roles", IC_ROLES},	       {"rôles", IC_ROLES},	  {"email", IC_EMAIL},
	{"e-mail", IC_EMAIL},	       {"courriel", IC_EMAIL},
};

const char *
invite_sheet_column(enum invite_col c)
{
	static const char *const names[IC_COUNT] = {"name", "profession", "rpps", "org", "roles",
						    "email"};
	return (unsigned)c < IC_COUNT ? names[c] : "?";
}

/* The state libcsv's callbacks fill. */
struct reader {
	struct invite_sheet *sheet;
	long record;          /* the current record's number (1 = header) */
	int field;            /* the current field's index in the record */
	int map[32];          /* field index -> column, -1 ignored; header sets it */
	int nfields_header;
	bool have[IC_COUNT];
	struct invite_sheet_row cur;
	bool cur_nonempty;
	bool failed;
	char *err;
	size_t errlen;
};

static void __attribute__((format(printf, 2, 3)))
reader_fail(struct reader *r, const char *fmt, ...)
{
	if (r->failed)
		return;
	r->failed = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
}

/* s[0..len) trimmed of ASCII spaces, as a new string; NULL when empty. */
static char *
trimmed(const char *s, size_t len, bool *oom)
{
	while (len > 0 && isspace((unsigned char)s[0])) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0)
		return NULL;
	char *out = malloc(len + 1);
	if (out == NULL) {
		*oom = true;
		return NULL;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	return out;
}

static void
header_field(struct reader *r, const char *s, size_t len)
{
	bool oom = false;
	char *name = trimmed(s, len, &oom);
	int col = -1;
	for (size_t i = 0; name && i < sizeof header_names / sizeof header_names[0]; i++)
		if (strcasecmp(name, header_names[i].name) == 0)
			col = (int)header_names[i].col;
	if (oom)
		reader_fail(r, "out of memory");
	else if (r->field >= (int)(sizeof r->map / sizeof r->map[0]))
		reader_fail(r, "row 1: more than %zu columns", sizeof r->map / sizeof r->map[0]);
	else if (col < 0)
		reader_fail(r, "row 1, column %d: \"%s\" is not a column of the invite sheet; "
			       "expected name, profession, org, roles, and optionally rpps and email",
			    r->field + 1, name ? name : "");
	else if (r->have[col])
		reader_fail(r, "row 1: the column %s is named twice", invite_sheet_column(col));
	else {
		r->have[col] = true;
		r->map[r->field] = col;
	}
	free(name);
}

static void
on_field(void *s, size_t len, void *data)
{
	struct reader *r = data;
	if (r->failed)
		return;
	if (r->record == 1) {
		header_field(r, s, len);
	} else if (len > INVITE_SHEET_CELL) {
		reader_fail(r, "row %ld, column %d: a cell of more than %d bytes", r->record,
			    r->field + 1, INVITE_SHEET_CELL);
	} else if (r->field >= r->nfields_header) {
		if (len > 0) /* a stray value beyond the header's columns */
			reader_fail(r, "row %ld: more cells than the header has columns (%d)",
				    r->record, r->nfields_header);
	} else {
		bool oom = false;
		char *v = trimmed(s, len, &oom);
		if (oom)
			reader_fail(r, "out of memory");
		if (v)
			r->cur_nonempty = true;
		int col = r->map[r->field];
		free(r->cur.cell[col]);
		r->cur.cell[col] = v;
	}
	r->field++;
}

static void
row_clear(struct invite_sheet_row *row)
{
	for (int c = 0; c < IC_COUNT; c++) {
		free(row->cell[c]);
		row->cell[c] = NULL;
	}
}

static void
on_record(int term, void *data)
{
	(void)term;
	struct reader *r = data;
	if (!r->failed && r->record == 1) {
		r->nfields_header = r->field;
		for (int c = 0; c < IC_COUNT; c++)
			if (!r->have[c] && c != IC_RPPS && c != IC_EMAIL)
				reader_fail(r, "row 1: no column %s; the header names name, profession, "
					       "org, roles (and rpps, email when wanted)",
					    invite_sheet_column(c));
	} else if (!r->failed && r->cur_nonempty) {
		struct invite_sheet *sh = r->sheet;
		if (sh->n >= INVITE_SHEET_ROWS) {
			reader_fail(r, "more than %d people in one sheet; split it", INVITE_SHEET_ROWS);
		} else {
			if ((sh->n & (sh->n - 1)) == 0) { /* grow at 0, 1, 2, 4, 8 … */
				size_t cap = sh->n ? 2 * sh->n : 1;
				struct invite_sheet_row *g = realloc(sh->rows, cap * sizeof *g);
				if (g == NULL) {
					reader_fail(r, "out of memory");
					row_clear(&r->cur);
					goto next;
				}
				sh->rows = g;
			}
			r->cur.row = r->record;
			sh->rows[sh->n++] = r->cur;
			memset(&r->cur, 0, sizeof r->cur);
		}
	}
	row_clear(&r->cur);
next:
	r->cur_nonempty = false;
	r->record++;
	r->field = 0;
}

/* ';' when the first line has more of them than ',' (outside quotes). */
static char
guess_delim(const char *buf, size_t len)
{
	size_t semi = 0, comma = 0;
	bool quoted = false;
	for (size_t i = 0; i < len && (quoted || (buf[i] != '\n' && buf[i] != '\r')); i++) {
		if (buf[i] == '"')
			quoted = !quoted;
		else if (!quoted && buf[i] == ';')
			semi++;
		else if (!quoted && buf[i] == ',')
			comma++;
	}
	return semi > comma ? ';' : ',';
}

void
invite_sheet_free(struct invite_sheet *sheet)
{
	for (size_t i = 0; i < sheet->n; i++)
		row_clear(&sheet->rows[i]);
	free(sheet->rows);
	memset(sheet, 0, sizeof *sheet);
}

int
invite_sheet_read(FILE *f, struct invite_sheet *sheet, char *err, size_t errlen)
{
	memset(sheet, 0, sizeof *sheet);
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return 1;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= INVITE_SHEET_BYTES) {
				free(buf);
				snprintf(err, errlen, "the file is larger than %u MiB; split it",
					 INVITE_SHEET_BYTES >> 20);
				return 1;
			}
			char *g = realloc(buf, 2 * cap);
			if (g == NULL) {
				free(buf);
				snprintf(err, errlen, "out of memory");
				return 1;
			}
			buf = g;
			cap *= 2;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		snprintf(err, errlen, "cannot read the file");
		return 1;
	}
	const char *start = buf;
	size_t n = len;
	if (n >= 3 && memcmp(start, "\xEF\xBB\xBF", 3) == 0) {
		sheet->bom = true;
		start += 3;
		n -= 3;
	}
	sheet->delim = guess_delim(start, n);

	struct reader r = {.sheet = sheet, .record = 1, .err = err, .errlen = errlen};
	for (size_t i = 0; i < sizeof r.map / sizeof r.map[0]; i++)
		r.map[i] = -1;
	struct csv_parser p;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
		free(buf);
		snprintf(err, errlen, "out of memory");
		return 1;
	}
	csv_set_delim(&p, (unsigned char)sheet->delim);
	size_t done = csv_parse(&p, start, n, on_field, on_record, &r);
	if (done != n && !r.failed)
		reader_fail(&r, "row %ld: %s (a quote that does not close, or text after a closing "
				"quote)", r.record, csv_strerror(csv_error(&p)));
	if (!r.failed && csv_fini(&p, on_field, on_record, &r) != 0)
		reader_fail(&r, "row %ld: %s (a quote that does not close)", r.record,
			    csv_strerror(csv_error(&p)));
	csv_free(&p);
	row_clear(&r.cur);
	free(buf);
	if (!r.failed && r.record <= 1)
		reader_fail(&r, "the file is empty: its first row names the columns");
	if (!r.failed && sheet->n == 0)
		reader_fail(&r, "no one to invite: the file has a header and no row under it");
	if (r.failed) {
		invite_sheet_free(sheet);
		return 1;
	}
	return 0;
}

static void
answer_cell(FILE *out, const char *text, int sep)
{
	csv_fwrite2(out, text ? text : "", text ? strlen(text) : 0, '"');
	fputc(sep, out);
}

void
invite_sheet_answer_header(FILE *out, const struct invite_sheet *sheet)
{
	const int sep = sheet->delim;
	if (sheet->bom)
		fputs("\xEF\xBB\xBF", out);
	fprintf(out, "name%cprofession%crpps%corg%cemail%ccode%cexpires\n", sep, sep, sep, sep, sep,
		sep);
}

void
invite_sheet_answer_row(FILE *out, const struct invite_sheet *sheet, size_t i, const char *code,
			const char *expires)
{
	const struct invite_sheet_row *r = &sheet->rows[i];
	const int sep = sheet->delim;
	answer_cell(out, r->cell[IC_NAME], sep);
	answer_cell(out, r->cell[IC_PROFESSION], sep);
	answer_cell(out, r->cell[IC_RPPS], sep);
	answer_cell(out, r->cell[IC_ORG], sep);
	answer_cell(out, r->cell[IC_EMAIL], sep);
	answer_cell(out, code, sep);
	csv_fwrite2(out, expires, strlen(expires), '"');
	fputc('\n', out);
}
