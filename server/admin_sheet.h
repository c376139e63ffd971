/* admin_sheet.h — the spreadsheet of `liaisond invite --csv FILE`: one
 * person per row, read with libcsv (RFC 4180 quoting).
 *
 * Contract:
 * - The first row names the columns, in any order, case ignored: name (or
 *   nom), profession, org (or organisation), roles (or rôles), and, when
 *   wanted, rpps and email (or e-mail, courriel). Another name, a column
 *   named twice or a required one missing is an error naming it.
 * - The separator is ';' (what a French spreadsheet exports) when the
 *   first row has more ';' than ',', else ','. A UTF-8 byte order mark at
 *   the start is skipped (and remembered, so the answer can carry one).
 * - Cells are trimmed of spaces; an empty cell is NULL. Rows that are
 *   wholly empty are skipped. `row` is the record's number in the file,
 *   the header being row 1 (a spreadsheet's row number).
 * - At most INVITE_SHEET_ROWS people and INVITE_SHEET_BYTES bytes; a cell
 *   of more than INVITE_SHEET_CELL bytes is an error naming its row.
 * - Nothing here checks a value: admin.c checks each row as it checks the
 *   options of one invite. */
#ifndef LSN_ADMIN_SHEET_H
#define LSN_ADMIN_SHEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum invite_col { IC_NAME, IC_PROFESSION, IC_RPPS, IC_ORG, IC_ROLES, IC_EMAIL, IC_COUNT };

#define INVITE_SHEET_ROWS 20000
#define INVITE_SHEET_BYTES (8u << 20)
#define INVITE_SHEET_CELL 320

struct invite_sheet_row {
	long row;
	char *cell[IC_COUNT]; /* NULL: the column is absent or the cell empty */
};

struct invite_sheet {
	struct invite_sheet_row *rows;
	size_t n;
	char delim; /* ';' or ',' */
	bool bom;   /* the file began with a UTF-8 byte order mark */
};

/* Read f whole into sheet. 0 on success; else 1 with a message for the
 * administrator in err (the row, the column, what to do) and sheet empty. */
int invite_sheet_read(FILE *f, struct invite_sheet *sheet, char *err, size_t errlen);
void invite_sheet_free(struct invite_sheet *sheet);
/* The answer for mail merge, in the sheet's separator (and with its byte
 * order mark): the header "name;profession;rpps;org;email;code;expires",
 * then per person the sheet's cells, the code and when it expires; every
 * cell quoted (libcsv's writer). */
void invite_sheet_answer_header(FILE *out, const struct invite_sheet *sheet);
void invite_sheet_answer_row(FILE *out, const struct invite_sheet *sheet, size_t i,
			     const char *code, const char *expires);
/* The column's name as written in the header ("name", "rpps", …). */
const char *invite_sheet_column(enum invite_col c);

#endif
