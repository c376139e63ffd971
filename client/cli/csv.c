/* csv.c — the CSV writer in its standard and French forms (csv.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

void
csv_start(struct csv_out *w, FILE *f, bool french)
{
	w->f = f;
	w->french = french;
	w->in_row = false;
	if (french)
		fputs("\xEF\xBB\xBF", f);
}

static void
separator(struct csv_out *w)
{
	if (w->in_row)
		fputc(w->french ? ';' : ',', w->f);
	w->in_row = true;
}

static void
write_cell(struct csv_out *w, const char *text, bool number)
{
	char sep = w->french ? ';' : ',';
	separator(w);
	bool quote = strchr(text, sep) != NULL || strpbrk(text, "\"\r\n") != NULL;
	if (quote)
		fputc('"', w->f);
	for (const char *p = text; *p; p++) {
		if (*p == '"')
			fputc('"', w->f);
		bool decimal = number && w->french && *p == '.' && p > text &&
			       isdigit((unsigned char)p[-1]) && isdigit((unsigned char)p[1]);
		fputc(decimal ? ',' : *p, w->f);
	}
	if (quote)
		fputc('"', w->f);
}

void
csv_cell(struct csv_out *w, const char *text)
{
	write_cell(w, text ? text : "", false);
}

void
csv_number(struct csv_out *w, const char *text)
{
	write_cell(w, text ? text : "", true);
}

void
csv_row_end(struct csv_out *w)
{
	fputc('\n', w->f);
	w->in_row = false;
}

/* "-12", "3.5": an optional minus, digits, at most one '.' between digits. */
static bool
is_decimal(const char *s)
{
	const char *p = s + (*s == '-');
	if (!isdigit((unsigned char)*p))
		return false;
	bool dot = false;
	for (; *p; p++) {
		if (*p == '.' && !dot && isdigit((unsigned char)p[-1]) &&
		    isdigit((unsigned char)p[1]))
			dot = true;
		else if (!isdigit((unsigned char)*p))
			return false;
	}
	return true;
}

bool
csv_recode(struct csv_out *w, const char *text)
{
	size_t cap = strlen(text) + 1;
	char *cell = malloc(cap);
	if (cell == NULL)
		return false;
	const char *p = text;
	bool ok = true;
	while (*p) {
		/* one cell: quoted ("" is a quote) or up to ',' or the line's end */
		size_t n = 0;
		bool quoted = *p == '"';
		if (quoted) {
			for (p++;; p++) {
				if (*p == '\0') {
					ok = false;
					break;
				}
				if (*p == '"' && p[1] == '"')
					cell[n++] = *p++;
				else if (*p == '"') {
					p++;
					break;
				} else
					cell[n++] = *p;
			}
		}
		while (*p && *p != ',' && *p != '\n' && *p != '\r')
			cell[n++] = *p++;
		cell[n] = '\0';
		if (!quoted && is_decimal(cell))
			csv_number(w, cell);
		else
			csv_cell(w, cell);
		if (*p == ',') {
			p++;
			if (*p == '\0' || *p == '\n' || *p == '\r')
				csv_cell(w, ""); /* an empty last cell */
			else
				continue;
		}
		if (*p == '\r')
			p++;
		if (*p == '\n')
			p++;
		csv_row_end(w);
		if (!ok)
			break;
	}
	free(cell);
	return ok;
}
