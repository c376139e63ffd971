/* cmd_report.c — "liaison report": the CPTS indicators over a semester or
 * a period (op report, coordinators only), as a table, CSV (one header row)
 * or JSON; and "liaison report targets": the CPTS's quantified targets (ops
 * targets, target_set). Ratios have a numerator, a denominator, a value in %
 * and the steps not yet due apart; medians have their number of cases in n;
 * every indicator is followed by one row per pathway ("3a:heart_failure"),
 * and shows its target with met / not met. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tr.h"
#include "args.h"
#include "command.h"
#include "csv.h"
#include "day.h"
#include "e2e.h"
#include "output.h"
#include "user_view.h"

enum { C_ID, C_LABEL, C_NUM, C_DEN, C_VALUE, C_UNIT, C_N, C_NYD, C_TARGET, C_MET, C_COUNT };

/* One printable row. */
struct report_row {
	char cells[C_COUNT][200];
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

/* The figures of an indicator (or of one pathway of it) into r. */
static void
figures(json_t *fig, struct report_row *r)
{
	number(json_object_get(fig, "numerator"), r->cells[C_NUM], sizeof r->cells[C_NUM], false);
	number(json_object_get(fig, "denominator"), r->cells[C_DEN], sizeof r->cells[C_DEN], false);
	number(json_object_get(fig, "value"), r->cells[C_VALUE], sizeof r->cells[C_VALUE], true);
	number(json_object_get(fig, "n"), r->cells[C_N], sizeof r->cells[C_N], false);
	number(json_object_get(fig, "not_yet_due"), r->cells[C_NYD], sizeof r->cells[C_NYD], false);
}

static void
row_from(json_t *ind, struct report_row *r)
{
	memset(r, 0, sizeof *r);
	snprintf(r->cells[C_ID], sizeof r->cells[C_ID], "%s", or_empty(user_view_str(ind, "id"), ""));
	snprintf(r->cells[C_LABEL], sizeof r->cells[C_LABEL], "%s",
		 or_empty(user_view_str(ind, "label"), ""));
	snprintf(r->cells[C_UNIT], sizeof r->cells[C_UNIT], "%s",
		 or_empty(user_view_str(ind, "unit"), ""));
	figures(ind, r);
	json_t *target = json_object_get(ind, "target");
	if (json_is_object(target)) {
		char v[64];
		number(json_object_get(target, "value"), v, sizeof v, true);
		bool le = strcmp(or_empty(user_view_str(target, "direction"), "ge"), "le") == 0;
		snprintf(r->cells[C_TARGET], sizeof r->cells[C_TARGET], "%s %s", le ? "<=" : ">=", v);
		json_t *met = json_object_get(target, "met");
		snprintf(r->cells[C_MET], sizeof r->cells[C_MET], "%s",
			 json_is_true(met) ? "met" : json_is_false(met) ? "not met" : "no data");
	}
}

/* The rows of the report: each indicator, then one row per pathway. */
static size_t
collect_rows(json_t *indicators, struct report_row *rows, size_t max)
{
	size_t i, n = 0;
	json_t *ind;
	json_array_foreach(indicators, i, ind) {
		if (n == max)
			break;
		row_from(ind, &rows[n++]);
		const char *pathway;
		json_t *fig;
		json_object_foreach(json_object_get(ind, "by_pathway"), pathway, fig) {
			if (n == max)
				break;
			struct report_row *r = &rows[n++];
			memset(r, 0, sizeof *r);
			snprintf(r->cells[C_ID], sizeof r->cells[C_ID], "%.20s:%.60s",
				 or_empty(user_view_str(ind, "id"), ""), pathway);
			snprintf(r->cells[C_LABEL], sizeof r->cells[C_LABEL], "%.120s — %.60s",
				 or_empty(user_view_str(ind, "label"), ""), pathway);
			snprintf(r->cells[C_UNIT], sizeof r->cells[C_UNIT], "%s",
				 or_empty(user_view_str(ind, "unit"), ""));
			figures(fig, r);
		}
	}
	return n;
}

/* One header row, then a row per indicator and per pathway (csv.h: the
 * standard or the French form). Column names and codes are data: never
 * translated. */
static void
print_csv(const struct report_row *rows, size_t n, bool french)
{
	static const char *const header[C_COUNT] = {"id", "label", "numerator", "denominator",
						    "value", "unit", "n", "not_yet_due", "target",
						    "met"};
	struct csv_out w;
	csv_start(&w, stdout, french);
	for (size_t c = 0; c < C_COUNT; c++)
		csv_cell(&w, header[c]);
	csv_row_end(&w);
	for (size_t r = 0; r < n; r++) {
		for (size_t c = 0; c < C_COUNT; c++) {
			bool number = c == C_NUM || c == C_DEN || c == C_VALUE || c == C_N ||
				      c == C_NYD || c == C_TARGET;
			if (number)
				csv_number(&w, rows[r].cells[c]);
			else
				csv_cell(&w, rows[r].cells[c]);
		}
		csv_row_end(&w);
	}
}

static void
print_table(json_t *reply, const struct report_row *rows, size_t n)
{
	static const char *const headers[] = {N_("ID"), N_("INDICATOR"), N_("NUMERATOR"), N_("DENOMINATOR"),
					      N_("VALUE"), N_("N"), N_("NOT YET DUE"), N_("TARGET")};
	const char *semester = user_view_str(reply, "semester");
	json_t *cpts = json_object_get(reply, "cpts");
	printf(_("Indicators of %s%s%s%s, %s%s%sfrom %s to %s (both days included, %s days):\n\n"),
	       json_is_object(cpts) ? or_empty(user_view_str(cpts, "name"), "") : "every CPTS",
	       json_is_object(cpts) ? " (" : "",
	       json_is_object(cpts) ? or_empty(user_view_str(cpts, "finess"), "") : "",
	       json_is_object(cpts) ? ")" : "", semester ? "semester " : "",
	       semester ? semester : "", semester ? ", " : "", user_view_str(reply, "from"),
	       user_view_str(reply, "to"), or_empty(user_view_str(reply, "timezone"), "local"));
	struct out_table *t = out_table_new(8, headers);
	for (size_t r = 0; r < n; r++) {
		const struct report_row *w = &rows[r];
		char value[240], nyd[64] = "", target[240] = "", label[240];
		bool sub = strchr(w->cells[C_ID], ':') != NULL;
		snprintf(value, sizeof value, "%s%s%s", w->cells[C_VALUE][0] ? w->cells[C_VALUE] : "-",
			 w->cells[C_VALUE][0] && w->cells[C_UNIT][0] ? " " : "",
			 w->cells[C_VALUE][0] ? w->cells[C_UNIT] : "");
		if (w->cells[C_NYD][0] && strcmp(w->cells[C_NYD], "0") != 0)
			snprintf(nyd, sizeof nyd, "not yet due: %s", w->cells[C_NYD]);
		if (w->cells[C_TARGET][0])
			snprintf(target, sizeof target, "%s (%s)", w->cells[C_TARGET], w->cells[C_MET]);
		/* a pathway's row: indented, named by its pathway only */
		const char *dash = sub ? strstr(w->cells[C_LABEL], " — ") : NULL;
		snprintf(label, sizeof label, "%s%s", sub ? "  · " : "",
			 dash ? dash + strlen(" — ") : w->cells[C_LABEL]);
		char id[40];
		snprintf(id, sizeof id, "%.*s", (int)strcspn(w->cells[C_ID], ":"), w->cells[C_ID]);
		const char *cells[] = {id, label, w->cells[C_NUM],
				       w->cells[C_DEN], value, w->cells[C_N], nyd, target};
		out_table_add(t, cells);
	}
	out_table_print(t, stdout);
	out_table_free(t);
	/* xgettext:no-c-format */
	puts(_("\nValue: % for ratios (numerator / denominator), median for delays (over N cases,\n"
	     "in whole days of the time zone above, or hours); - when there is nothing to count.\n"
	     "A step counts once its due day is in the period and has passed; \"not yet due\"\n"
	     "are the period's steps whose day has not ended yet. Each indicator is followed by\n"
	     "its figures per pathway; targets: liaison report targets."));
}

#define REPORT_ROWS_MAX 256

static int
run_report(struct e2e *e, json_t *period, bool csv, bool french)
{
	struct lsn_status st = {0};
	json_t *reply = NULL;
	int rc = CLI_OK;
	if (e2e_read(e, "report", period, &reply, &st) != LSN_OK) {
		rc = out_fail(&st);
	} else if (out_json_mode()) {
		rc = out_json_reply(reply);
	} else {
		static struct report_row rows[REPORT_ROWS_MAX];
		size_t n = collect_rows(json_object_get(reply, "indicators"), rows, REPORT_ROWS_MAX);
		if (csv)
			print_csv(rows, n, french);
		else
			print_table(reply, rows, n);
	}
	json_decref(reply);
	return rc;
}

/* ---- targets --------------------------------------------------------------------------- */

static int
print_targets(json_t *list)
{
	static const char *const headers[] = {N_("INDICATOR"), N_("TARGET"), N_("SET BY"), N_("SET ON")};
	if (json_array_size(list) == 0) {
		puts(_("No target set for your CPTS (liaison report targets set ID VALUE)."));
		return CLI_OK;
	}
	struct out_table *t = out_table_new(4, headers);
	size_t i;
	json_t *x;
	json_array_foreach(list, i, x) {
		char v[64], target[96], day[DAY_TEXT];
		number(json_object_get(x, "value"), v, sizeof v, true);
		snprintf(target, sizeof target, "%s %s",
			 strcmp(or_empty(user_view_str(x, "direction"), "ge"), "le") == 0 ? "<=" : ">=",
			 v);
		const char *cells[] = {or_empty(user_view_str(x, "indicator"), ""), target,
				       json_is_true(json_object_get(x, "set_by_admin"))
					       ? _("administrator") : _("coordinator"),
				       out_date(user_view_int(x, "set_at"), day, sizeof day)};
		out_table_add(t, cells);
	}
	out_table_print(t, stdout);
	out_table_free(t);
	return CLI_OK;
}

static int
run_targets(struct cmd_call *c)
{
	struct lsn_status st = {0};
	json_t *reply = NULL;
	int rc;
	bool set = c->n_pos >= 2 && strcmp(c->pos[1], "set") == 0;
	bool remove = c->n_pos >= 2 && strcmp(c->pos[1], "remove") == 0;
	if (set || remove) {
		json_t *body = json_pack("{s:s}", "indicator", c->pos[2]);
		if (set) {
			json_object_set_new(body, "value", json_real(strtod(c->pos[3], NULL)));
			if (cmd_opt(c, "--direction"))
				json_object_set_new(body, "direction",
						    json_string(cmd_opt(c, "--direction")));
		} else {
			json_object_set_new(body, "value", json_null());
		}
		if (e2e_write(c->e, "target_set", body, &reply, &st) != LSN_OK) {
			rc = out_fail(&st);
		} else if (out_json_mode()) {
			json_object_del(reply, "id");
			json_object_del(reply, "ok");
			rc = out_json(reply);
		} else if (remove) {
			printf(json_is_true(json_object_get(reply, "removed"))
				       ? "Target of indicator %s removed.\n"
				       : "Indicator %s had no target.\n", c->pos[2]);
			rc = CLI_OK;
		} else {
			json_t *t = json_object_get(reply, "target");
			char v[64];
			number(json_object_get(t, "value"), v, sizeof v, true);
			printf(_("Target of indicator %s: %s %s; liaison report shows it met or not.\n"),
			       c->pos[2],
			       strcmp(or_empty(user_view_str(t, "direction"), "ge"), "le") == 0
				       ? "at most" : "at least", v);
			rc = CLI_OK;
		}
	} else if (e2e_read(c->e, "targets", json_object(), &reply, &st) != LSN_OK) {
		rc = out_fail(&st);
	} else if (out_json_mode()) {
		rc = out_json(json_object_get(reply, "targets"));
	} else {
		rc = print_targets(json_object_get(reply, "targets"));
	}
	json_decref(reply);
	return rc;
}

/* "12", "90.5": a number from 0 to 1e9. */
static bool
target_value_ok(const char *s)
{
	char *end = NULL;
	if (s == NULL || s[0] < '0' || s[0] > '9')
		return false;
	double v = strtod(s, &end);
	return end && *end == '\0' && v >= 0 && v <= 1e9;
}

static int
check_targets(struct cmd_call *c)
{
	const char *sub = c->n_pos >= 2 ? c->pos[1] : NULL;
	if (cmd_opt(c, "--from") || cmd_opt(c, "--to") || cmd_opt(c, "--semester") ||
	    cmd_opt(c, "--cpts") || cmd_flag(c, "--csv") || cmd_flag(c, "--csv-fr")) {
		out_error(_("report targets takes no period, --cpts or --csv (a coordinator sets her "
			  "own CPTS's); see liaison report --help"));
		return CLI_USAGE;
	}
	if (sub == NULL && !cmd_opt(c, "--direction"))
		return CLI_OK;
	if (sub && strcmp(sub, "set") == 0) {
		const char *dir = cmd_opt(c, "--direction");
		if (c->n_pos != 4 || !target_value_ok(c->pos[3]) ||
		    (dir && strcmp(dir, "ge") != 0 && strcmp(dir, "le") != 0)) {
			out_error(_("report targets set needs an indicator ID and a VALUE (a number, %% "
				  "for ratios), e.g. liaison report targets set 2 90; --direction ge "
				  "(at least) or le (at most)"));
			return CLI_USAGE;
		}
		return CLI_OK;
	}
	if (sub && strcmp(sub, "remove") == 0 && c->n_pos == 3 && !cmd_opt(c, "--direction"))
		return CLI_OK;
	out_error(_("report targets: expected nothing (list), set ID VALUE [--direction ge|le] or "
		  "remove ID; see liaison report --help"));
	return CLI_USAGE;
}

/* ---- the command ----------------------------------------------------------------------- */

int
cmd_report_check(struct cmd_call *c)
{
	int64_t from_day, to_day;
	const char *semester = cmd_opt(c, "--semester");
	if (c->n_pos > 0) {
		if (strcmp(c->pos[0], "targets") != 0) {
			out_error(_("unknown argument \"%s\" for report: expected targets or a period "
				  "(--semester YYYY-S1|YYYY-S2, or --from and --to); see liaison "
				  "report --help"), c->pos[0]);
			return CLI_USAGE;
		}
		return check_targets(c);
	}
	if (cmd_opt(c, "--direction")) {
		out_error(_("--direction goes with report targets set; see liaison report --help"));
		return CLI_USAGE;
	}
	if (semester) {
		bool ok = strlen(semester) == 7 && semester[4] == '-' && semester[5] == 'S' &&
			  (semester[6] == '1' || semester[6] == '2');
		for (int i = 0; ok && i < 4; i++)
			ok = semester[i] >= '0' && semester[i] <= '9';
		if (!ok || cmd_opt(c, "--from") || cmd_opt(c, "--to")) {
			out_error(_("--semester needs YYYY-S1 (1 January to 30 June) or YYYY-S2 (1 July "
				  "to 31 December), e.g. 2026-S2, without --from/--to"));
			return CLI_USAGE;
		}
		return cmd_csv_not_json(c);
	}
	if (!cmd_opt(c, "--from") && !cmd_opt(c, "--to"))
		return cmd_csv_not_json(c);   /* the current semester */
	if (!day_parse(cmd_opt(c, "--from"), &from_day) || !day_parse(cmd_opt(c, "--to"), &to_day) ||
	    to_day < from_day) {
		out_error(_("report needs --semester YYYY-S1|YYYY-S2 (e.g. 2026-S2), or --from and --to "
			  "as YYYY-MM-DD, --from not after --to"));
		return CLI_USAGE;
	}
	return cmd_csv_not_json(c);
}

int
cmd_report_run(struct cmd_call *c)
{
	if (c->n_pos > 0)
		return run_targets(c);
	const char *semester = cmd_opt(c, "--semester");
	char current[16];
	if (!semester && !cmd_opt(c, "--from")) {
		/* no period: the semester of today (this computer's date) */
		time_t now = time(NULL);
		struct tm tm;
		if (localtime_r(&now, &tm) == NULL) {
			out_error(_("cannot read today's date; give --semester YYYY-S1|YYYY-S2"));
			return CLI_USAGE;
		}
		snprintf(current, sizeof current, "%04d-S%d", (tm.tm_year + 1900) % 10000,
			 tm.tm_mon < 6 ? 1 : 2);
		semester = current;
	}
	json_t *period = semester ? json_pack("{s:s}", "semester", semester)
				  : json_pack("{s:s, s:s}", "from", cmd_opt(c, "--from"), "to",
					      cmd_opt(c, "--to"));
	if (cmd_opt(c, "--cpts"))
		json_object_set_new(period, "cpts", json_string(cmd_opt(c, "--cpts")));
	bool french;
	bool csv = cmd_csv(c, &french);
	return run_report(c->e, period, csv, french);
}
