/* output.h — everything the CLI prints: one-line errors on stderr, aligned
 * tables and key/value blocks for people, JSON for scripts, local times.
 * Text from the server is printed with control characters neutralised. */
#ifndef LIAISON_OUTPUT_H
#define LIAISON_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "err.h"

/* "liaison: <message>\n" on stderr (a second line, after a newline in the
 * message, is indented). The first error of a command is also kept for the
 * JSON error object (out_json_error). */
void out_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print st->msg as an error line; returns 1 (CLI_FAIL) for "return out_fail(&st)".
 * Its code in --json is the wire code of st->err ("unreachable" when the
 * server cannot be reached); out_fail_code names another one. */
int out_fail(const struct lsn_status *st);
int out_fail_code(const struct lsn_status *st, const char *code);
/* Like an error line, but not an error of the command (not in --json). */
void out_notice(const char *line);
/* --json and a failed command (rc != 0): {"error": {"code", "message",
 * "hint", "detail"?}} on stdout, from the first error printed (client/README.md). */
void out_json_error(int rc);
/* Add key: value (stolen) to that error object, e.g. the candidates of an
 * ambiguous USER. */
void out_error_attach(const char *key, json_t *value);

/* Print each warning the core gathered as an error line ("liaison: …"),
 * and how many more there were past the bound; then clear the list. */
struct lsn_warnings;
void out_warnings(struct lsn_warnings *w);

/* A progress bar on stderr when it is a terminal ("Sending NAME [###  ] 40%"),
 * for the core's attachment transfers (e->progress). */
void out_progress(void *arg, const char *what, const char *name, uint64_t done,
		  uint64_t total);

/* Write s to f, replacing control characters (C0, DEL, C1) with '?'. */
void out_text(FILE *f, const char *s);

/* The local time (this computer's time zone, TZ) of a UTC ms timestamp
 * into buf (>= 20 bytes): "YYYY-MM-DD HH:MM", or "DD/MM/YYYY HH:MM" in a
 * French locale; "-" when ms <= 0. Returns buf. --json prints the ms. */
char *out_time(int64_t ms, char *buf, size_t len);

/* The local date of a UTC ms timestamp (an instant, not a pathway day: those
 * are the server's days, core/day.h): "YYYY-MM-DD", "DD/MM/YYYY" in French;
 * "-" when ms <= 0. Returns buf (>= 11 bytes). */
char *out_date(int64_t ms, char *buf, size_t len);

/* "Label:        value" lines, labels padded to one width. value may be NULL ("-"). */
void out_kv(const char *label, const char *value);

/* Whether the user asked for machine-readable output (--json): set once by
 * the front end (command.c), read by the commands and views. */
void out_set_json_mode(bool on);
bool out_json_mode(void);

/* One JSON document on stdout (indented). Returns 0, or 1 on failure. */
int out_json(json_t *value);
/* A server reply as a command's JSON: without the connection's fields
 * (the request "id", "batch"). */
int out_json_reply(json_t *reply);

/* An aligned plain-text table. Cells are copied. */
struct out_table;
/* headers are translated (gettext): mark them N_() where they are written. */
struct out_table *out_table_new(size_t ncols, const char *const *headers);
/* Add a row of ncols cells (NULL cells print as "-"). false on allocation failure. */
bool out_table_add(struct out_table *t, const char *const *cells);
void out_table_print(const struct out_table *t, FILE *f);
void out_table_free(struct out_table *t);

/* ---- colours ---------------------------------------------------------------
 * Only when f is a terminal and the environment has no NO_COLOR (set to
 * anything, even empty): pipes, files and scripts get plain text. */
enum out_style {
	OUT_PLAIN,
	OUT_BOLD,
	OUT_DIM,
	OUT_GREEN,
	OUT_YELLOW,
	OUT_RED,       /* overdue, escalated */
	OUT_ALERT,     /* bold white on red: a high-priority alert */
};

bool out_color(FILE *f);
/* text (control characters neutralised) in style s, then back to plain. */
void out_styled(FILE *f, enum out_style s, const char *text);
/* Display width of UTF-8 text (code points). */
size_t out_width(const char *s);
/* text then spaces up to width columns (at least one space after it). */
void out_padded(FILE *f, enum out_style s, const char *text, size_t width);

#endif
