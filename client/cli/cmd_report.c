/* cmd_report.c — "liaison report": the CPTS indicators over a period (op
 * report, coordinators only), as a table, CSV (one header row) or JSON.
 * Ratios have a numerator, a denominator and a value in %; medians have
 * their number of cases in n; 8a is one row per pathway. */
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "day.h"
#include "e2e.h"
#include "output.h"
#include "user_view.h"

/* One printable row: id, label, numerator, denominator, value, unit, n. */
struct report_row {
	char cells[7][200];
};

static const char *
or_empty(const char *s, const char *fallback)
{
	return s ? s : fallback;
}

static void
number(json_t *v, char *out, size_t len, bool decimals)
{
	if (json_is_integer(v))
		snprintf(out, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(out, len, decimals ? "%.1f" : "%.0f", json_real_value(v));
	else
		out[0] = '\0';
}

static void
row_from(json_t *ind, struct report_row *r)
{
	memset(r, 0, sizeof *r);
	snprintf(r->cells[0], sizeof r->cells[0], "%s", or_empty(user_view_str(ind, "id"), ""));
	snprintf(r->cells[1], sizeof r->cells[1], "%s", or_empty(user_view_str(ind, "label"), ""));
	number(json_object_get(ind, "numerator"), r->cells[2], sizeof r->cells[2], false);
	number(json_object_get(ind, "denominator"), r->cells[3], sizeof r->cells[3], false);
	number(json_object_get(ind, "value"), r->cells[4], sizeof r->cells[4], true);
	snprintf(r->cells[5], sizeof r->cells[5], "%s", or_empty(user_view_str(ind, "unit"), ""));
	number(json_object_get(ind, "n"), r->cells[6], sizeof r->cells[6], false);
}

/* The rows of the report, 8a expanded to one row per pathway. */
static size_t
collect_rows(json_t *indicators, struct report_row *rows, size_t max)
{
	size_t i, n = 0;
	json_t *ind;
	json_array_foreach(indicators, i, ind) {
		json_t *by = json_object_get(ind, "by_pathway");
		if (!json_is_object(by)) {
			if (n < max)
				row_from(ind, &rows[n++]);
			continue;
		}
		const char *pathway;
		json_t *count;
		json_object_foreach(by, pathway, count) {
			if (n == max)
				break;
			row_from(ind, &rows[n]);
			snprintf(rows[n].cells[0], sizeof rows[n].cells[0], "%.20s:%.60s",
				 or_empty(user_view_str(ind, "id"), "8a"), pathway);
			snprintf(rows[n].cells[1], sizeof rows[n].cells[1], "%.120s — %.60s",
				 or_empty(user_view_str(ind, "label"), ""), pathway);
			number(count, rows[n].cells[4], sizeof rows[n].cells[4], false);
			n++;
		}
	}
	return n;
}

/* RFC 4180: quote a field that has a comma, a quote or a line break. */
static void
csv_field(const char *s, bool last)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	if (quote)
		putchar('"');
	putchar(last ? '\n' : ',');
}

static void
print_csv(const struct report_row *rows, size_t n)
{
	static const char *const header[] = {"id", "label", "numerator", "denominator", "value",
					     "unit", "n"};
	for (size_t c = 0; c < 7; c++)
		csv_field(header[c], c == 6);
	for (size_t r = 0; r < n; r++)
		for (size_t c = 0; c < 7; c++)
			csv_field(rows[r].cells[c], c == 6);
}

static void
print_table(json_t *reply, const struct report_row *rows, size_t n)
{
	static const char *const headers[] = {"ID", "INDICATOR", "NUMERATOR", "DENOMINATOR",
					      "VALUE", "N"};
	printf("Indicators from %s to %s (both days included):\n\n",
	       user_view_str(reply, "from"), user_view_str(reply, "to"));
	struct out_table *t = out_table_new(6, headers);
	for (size_t r = 0; r < n; r++) {
		char value[240];
		snprintf(value, sizeof value, "%s%s%s", rows[r].cells[4][0] ? rows[r].cells[4] : "-",
			 rows[r].cells[4][0] && rows[r].cells[5][0] ? " " : "",
			 rows[r].cells[4][0] ? rows[r].cells[5] : "");
		const char *cells[] = {rows[r].cells[0], rows[r].cells[1], rows[r].cells[2],
				       rows[r].cells[3], value, rows[r].cells[6]};
		out_table_add(t, cells);
	}
	out_table_print(t, stdout);
	out_table_free(t);
	puts("\nValue: % for ratios (numerator / denominator), median for delays (over N cases);\n"
	     "- when there is nothing to count in the period.");
}

#define REPORT_ROWS_MAX 64

static int
run_report(struct e2e *e, const char *from, const char *to, bool csv)
{
	struct lsn_status st = {0};
	json_t *reply = NULL;
	int rc = CLI_OK;
	if (e2e_read(e, "report", json_pack("{s:s, s:s}", "from", from, "to", to), &reply, &st) !=
	    LSN_OK) {
		rc = out_fail(&st);
	} else if (out_json_mode()) {
		rc = out_json_reply(reply);
	} else {
		static struct report_row rows[REPORT_ROWS_MAX];
		size_t n = collect_rows(json_object_get(reply, "indicators"), rows, REPORT_ROWS_MAX);
		if (csv)
			print_csv(rows, n);
		else
			print_table(reply, rows, n);
	}
	json_decref(reply);
	return rc;
}

int
cmd_report_check(struct cmd_call *c)
{
	int64_t from_day, to_day;
	if (!day_parse(cmd_opt(c, "--from"), &from_day) || !day_parse(cmd_opt(c, "--to"), &to_day) ||
	    to_day < from_day) {
		out_error("report needs --from and --to as YYYY-MM-DD, --from not after --to");
		return CLI_USAGE;
	}
	return cmd_csv_not_json(c);
}

int
cmd_report_run(struct cmd_call *c)
{
	return run_report(c->e, cmd_opt(c, "--from"), cmd_opt(c, "--to"), cmd_flag(c, "--csv"));
}
