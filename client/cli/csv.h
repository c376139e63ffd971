/* csv.h — the one CSV writer of the CLI (report --csv, circle review --csv).
 * Two forms:
 *   standard  RFC 4180: ',' between cells, '.' in decimals, no BOM;
 *   French    what French spreadsheets read as is: the UTF-8 byte order mark
 *             (EF BB BF) first, ';' between cells, a decimal comma ("12,5").
 * Rows end with "\n". A cell holding the separator, a quote or a line break
 * is quoted ("" for a quote inside). The French form is chosen with
 * --csv-fr or by a French locale (i18n_french). */
#ifndef LIAISON_CSV_H
#define LIAISON_CSV_H

#include <stdbool.h>
#include <stdio.h>

struct csv_out {
	FILE *f;
	bool french;
	bool in_row; /* a cell was written on the current row */
};

/* Start writing to f; the French form writes the BOM now. */
void csv_start(struct csv_out *w, FILE *f, bool french);
/* A text cell, written as is (quoted when needed). */
void csv_cell(struct csv_out *w, const char *text);
/* A number as the CLI formats it ("12", "-3.5", ">= 80.0"): in the French
 * form each '.' between two digits becomes ','. */
void csv_number(struct csv_out *w, const char *text);
/* End the current row. */
void csv_row_end(struct csv_out *w);
/* Write a standard CSV text (RFC 4180: ',' separators, quoted cells, rows
 * ending in "\n" or "\r\n") in w's form: unquoted cells that are decimal
 * numbers get the decimal comma, the others are copied. false when the text
 * ends inside a quoted cell (what was read is written). */
bool csv_recode(struct csv_out *w, const char *text);

#endif
