/* output.c — error lines, tables, key/value blocks, JSON and times. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "i18n.h"
#include "link_diag.h"
#include "output.h"
#include "warn.h"

static bool json_mode;
static size_t text_width(const char *s);

void
out_set_json_mode(bool on)
{
	json_mode = on;
	if (on)
		i18n_english_messages(); /* JSON is never translated */
}

bool
out_json_mode(void)
{
	return json_mode;
}

#define OUT_KV_WIDTH 14
#define OUT_MAX_COLS 10

void
out_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	for (; *p; p++) {
		/* C1 controls are U+0080..U+009F, encoded C2 80..C2 9F */
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fputc('?', f);
			p++;
			continue;
		}
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, f);
	}
}

/* The first error of the command, for the JSON error object (--json). */
static struct {
	bool set;
	char code[40];
	char line[1024];
	json_t *extra; /* more members of the error object (out_error_attach) */
} first_error;

/* "liaison: line" on stderr; a message of several lines (a technical detail
 * after the first) continues indented. */
static void
print_error(const char *line)
{
	fflush(stdout);
	fputs("liaison: ", stderr);
	for (const char *p = line; *p;) {
		size_t n = strcspn(p, "\n");
		char part[1024];
		snprintf(part, sizeof part, "%.*s", (int)n, p);
		out_text(stderr, part);
		fputc('\n', stderr);
		p += n;
		if (*p == '\n' && *++p)
			fputs("         ", stderr);
	}
	if (line[0] == '\0')
		fputc('\n', stderr);
}

static void
record_error(const char *code, const char *line)
{
	if (first_error.set)
		return;
	first_error.set = true;
	snprintf(first_error.code, sizeof first_error.code, "%s", code ? code : "");
	snprintf(first_error.line, sizeof first_error.line, "%s", line);
}

void
out_error(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	record_error(NULL, line);
	print_error(line);
}

int
out_fail_code(const struct lsn_status *st, const char *code)
{
	const char *msg = st->msg[0] ? st->msg : lsn_err_message(st->err);
	record_error(code, msg);
	print_error(msg);
	return CLI_FAIL;
}

int
out_fail(const struct lsn_status *st)
{
	const char *msg = st->msg[0] ? st->msg : lsn_err_message(st->err);
	return out_fail_code(st, link_diag_unreachable(msg) ? "unreachable" : lsn_err_code(st->err));
}

void
out_notice(const char *line)
{
	print_error(line);
}

void
out_warnings(struct lsn_warnings *w)
{
	char line[64];
	for (size_t i = 0; i < w->n; i++)
		print_error(w->msg[i]);
	if (w->dropped) {
		snprintf(line, sizeof line, _("(%zu more warnings not shown)"), w->dropped);
		print_error(line);
	}
	lsn_warn_clear(w);
}

/* "what went wrong (code): what to do", "what went wrong; what to do", then
 * optionally a technical detail on the next line: split into its parts. */
static json_t *
error_object(int rc)
{
	char line[1024], *detail = NULL, *hint = NULL, mark[64];
	const char *code = first_error.code[0] ? first_error.code
			 : rc == CLI_USAGE ? "usage" : "failed";
	snprintf(line, sizeof line, "%s",
		 first_error.set ? first_error.line : _("the command failed"));
	char *nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		detail = nl + 1;
	}
	snprintf(mark, sizeof mark, " (%s): ", code);
	char *at = strstr(line, mark);
	if (at) {
		at[strlen(mark) - 2] = '\0';
		hint = at + strlen(mark);
	} else if ((at = strstr(line, "; ")) != NULL) {
		*at = '\0';
		hint = at + 2;
	}
	json_t *err = json_pack("{s:s, s:s, s:s?}", "code", code, "message", line, "hint", hint);
	if (err && hint == NULL)
		json_object_set_new(err, "hint", json_null());
	if (err && detail && *detail)
		json_object_set_new(err, "detail", json_string(detail));
	return err;
}

void
out_error_attach(const char *key, json_t *value)
{
	if (first_error.extra == NULL)
		first_error.extra = json_object();
	json_object_set_new(first_error.extra, key, value);
}

void
out_json_error(int rc)
{
	json_t *extra = first_error.extra;
	first_error.extra = NULL;
	if (!json_mode || rc == CLI_OK) {
		json_decref(extra);
		return;
	}
	json_t *err = error_object(rc);
	if (err && extra)
		json_object_update(err, extra);
	json_decref(extra);
	json_t *doc = err ? json_pack("{s:o}", "error", err) : NULL;
	if (doc)
		out_json(doc);
	json_decref(doc);
}

void
out_progress(void *arg, const char *what, const char *name, uint64_t done, uint64_t total)
{
	(void)arg;
	if (!isatty(STDERR_FILENO))
		return;
	int pct = total ? (int)(done * 100 / total) : 100;
	int bar = pct / 5;
	fprintf(stderr, "\r%s %.40s [%-20.*s] %3d%%", what, name, bar, "####################", pct);
	if (done >= total)
		fputc('\n', stderr);
	fflush(stderr);
}

char *
out_time(int64_t ms, char *buf, size_t len)
{
	struct tm tm;
	time_t secs = (time_t)(ms / 1000);
	/* a French reader writes the day first */
	bool fr = i18n_french();
	if (ms <= 0 || localtime_r(&secs, &tm) == NULL ||
	    strftime(buf, len, fr ? "%d/%m/%Y %H:%M" : "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(buf, len, "-");
	return buf;
}

char *
out_date(int64_t ms, char *buf, size_t len)
{
	struct tm tm;
	time_t secs = (time_t)(ms / 1000);
	bool fr = i18n_french();
	if (ms <= 0 || localtime_r(&secs, &tm) == NULL ||
	    strftime(buf, len, fr ? "%d/%m/%Y" : "%Y-%m-%d", &tm) == 0)
		snprintf(buf, len, "-");
	return buf;
}

void
out_kv(const char *label, const char *value)
{
	size_t len = text_width(label); /* "Créé le": 7 columns, 8 bytes */
	printf("%s:%*s", label, len < OUT_KV_WIDTH ? (int)(OUT_KV_WIDTH - len) : 1, "");
	out_text(stdout, value ? value : "-");
	fputc('\n', stdout);
}

int
out_json(json_t *value)
{
	if (json_dumpf(value, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
		out_error("%s", _("cannot write JSON output"));
		return CLI_FAIL;
	}
	fputc('\n', stdout);
	return CLI_OK;
}

int
out_json_reply(json_t *reply)
{
	/* the request id, the success flag and the framing flags (coalesced
	 * frames, binary chunk frames) are the connection's, not the answer's */
	json_object_del(reply, "id");
	json_object_del(reply, "ok");
	json_object_del(reply, "batch");
	json_object_del(reply, "binary");
	return out_json(reply);
}

/* ---- tables ------------------------------------------------------------- */

struct out_table {
	size_t ncols;
	size_t nrows;
	size_t cap;
	char **cells; /* row-major, (nrows + 1) * ncols, row 0 = headers */
};

/* Display width: UTF-8 code points (no wide-character handling needed yet). */
static size_t
text_width(const char *s)
{
	size_t w = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xc0) != 0x80)
			w++;
	return w;
}

struct out_table *
out_table_new(size_t ncols, const char *const *headers)
{
	if (ncols == 0 || ncols > OUT_MAX_COLS)
		return NULL;
	struct out_table *t = calloc(1, sizeof *t);
	if (t == NULL)
		return NULL;
	t->ncols = ncols;
	/* the column names are translated here (marked N_() where they are) */
	const char *names[OUT_MAX_COLS];
	for (size_t c = 0; c < ncols; c++)
		names[c] = headers[c] && headers[c][0] ? _(headers[c]) : headers[c];
	if (!out_table_add(t, names)) {
		free(t);
		return NULL;
	}
	return t;
}

bool
out_table_add(struct out_table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 8;
		char **grown = realloc(t->cells, cap * t->ncols * sizeof *grown);
		if (grown == NULL)
			return false;
		t->cells = grown;
		t->cap = cap;
	}
	char **row = t->cells + t->nrows * t->ncols;
	for (size_t c = 0; c < t->ncols; c++) {
		row[c] = strdup(cells[c] && cells[c][0] ? cells[c] : "-");
		if (row[c] == NULL) {
			while (c-- > 0)
				free(row[c]);
			return false;
		}
	}
	t->nrows++;
	return true;
}

void
out_table_print(const struct out_table *t, FILE *f)
{
	size_t width[OUT_MAX_COLS] = {0};
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t w = text_width(t->cells[r * t->ncols + c]);
			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			out_text(f, cell);
			if (c + 1 < t->ncols)
				fprintf(f, "%*s", (int)(width[c] - text_width(cell) + 2), "");
		}
		fputc('\n', f);
	}
}

void
out_table_free(struct out_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

/* ---- colours -------------------------------------------------------------- */

bool
out_color(FILE *f)
{
	return getenv("NO_COLOR") == NULL && isatty(fileno(f));
}

static const char *
style_code(enum out_style s)
{
	switch (s) {
	case OUT_BOLD: return "\033[1m";
	case OUT_DIM: return "\033[2m";
	case OUT_GREEN: return "\033[32m";
	case OUT_YELLOW: return "\033[33m";
	case OUT_RED: return "\033[1;31m";
	case OUT_ALERT: return "\033[1;37;41m";
	case OUT_PLAIN: break;
	}
	return "";
}

void
out_styled(FILE *f, enum out_style s, const char *text)
{
	bool on = s != OUT_PLAIN && out_color(f);
	if (on)
		fputs(style_code(s), f);
	out_text(f, text);
	if (on)
		fputs("\033[0m", f);
}

size_t
out_width(const char *s)
{
	return text_width(s ? s : "");
}

void
out_padded(FILE *f, enum out_style s, const char *text, size_t width)
{
	size_t w = out_width(text);
	out_styled(f, s, text);
	fprintf(f, "%*s", (int)(w < width ? width - w + 1 : 1), "");
}
