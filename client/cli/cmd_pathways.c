/* cmd_pathways.c — "liaison pathways": the care pathway templates the
 * server holds (op pathways) and their schedules, as people read them:
 * "J7–J56 every 7 days", "with nyha_3_4: J180 instead". */
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "e2e.h"
#include "measure.h"
#include "output.h"
#include "tr.h"
#include "user_view.h"

#define DUE_TEXT_MAX 400

/* One schedule row in words. */
static void
row_words(json_t *r, char *out, size_t len)
{
	json_t *first = json_object_get(r, "first_day"), *every = json_object_get(r, "every_days");
	const char *flag = user_view_str(r, "flag");
	char when[120];
	if (!json_is_integer(first)) {
		snprintf(when, sizeof when, "%s", _("no deadline"));
	} else if (!json_is_integer(every) || json_integer_value(every) <= 0) {
		snprintf(when, sizeof when, "J%lld", (long long)json_integer_value(first));
	} else {
		long long f = json_integer_value(first), n = json_integer_value(every);
		long long last = user_view_int(r, "last_day");
		long long end = last >= f ? f + (last - f) / n * n : f;
		snprintf(when, sizeof when, _("J%lld–J%lld every %lld days"), f, end, n);
	}
	if (flag == NULL)
		snprintf(out, len, "%s", when);
	else
		snprintf(out, len, _("with %s: %s%s"), flag,
			 json_is_true(json_object_get(r, "replaces_base")) ? "" : _("also "), when);
	if (flag && json_is_true(json_object_get(r, "replaces_base")))
		snprintf(out + strlen(out), len - strlen(out), "%s", _(" instead"));
	const char *anchor = user_view_str(r, "anchor"), *unless = user_view_str(r, "unless");
	if (anchor)
		snprintf(out + strlen(out), len - strlen(out),
			 _(" after %s (no deadline until it is recorded)"), anchor);
	if (unless)
		snprintf(out + strlen(out), len - strlen(out), _(" unless %s"), unless);
}

/* Every row of step code, joined with "; ". */
static void
step_due(json_t *schedule, const char *code, char *out, size_t len)
{
	size_t i, used = 0;
	json_t *r;
	out[0] = '\0';
	json_array_foreach(schedule, i, r) {
		char words[240];
		if (user_view_str(r, "step") == NULL || strcmp(user_view_str(r, "step"), code) != 0)
			continue;
		row_words(r, words, sizeof words);
		int n = snprintf(out + used, len - used, "%s%s", used ? "; " : "", words);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
}

static bool
seen_before(json_t *schedule, size_t upto, const char *code)
{
	for (size_t i = 0; i < upto; i++) {
		const char *c = user_view_str(json_array_get(schedule, i), "step");
		if (c && strcmp(c, code) == 0)
			return true;
	}
	return false;
}

/* The alert kinds, whom each notifies and the thresholds that raise them
 * (liaison measure evaluates them on this computer). */
static void
print_alerts(json_t *p)
{
	static const char *const headers[] = {N_("  ALERT"), N_("NOTIFIES"), N_("RAISED BY")};
	struct out_table *t = out_table_new(3, headers);
	json_t *a, *th;
	size_t i, j;
	json_array_foreach(json_object_get(p, "alerts"), i, a) {
		const char *kind = user_view_str(a, "kind");
		char name[64], when[300] = "";
		size_t used = 0;
		snprintf(name, sizeof name, "  %s", kind ? kind : "?");
		json_array_foreach(json_object_get(p, "thresholds"), j, th) {
			const char *k = user_view_str(th, "alert_kind"), *rule = user_view_str(th, "rule");
			if (!k || !kind || strcmp(k, kind) != 0 || !rule || used >= sizeof when)
				continue;
			char amount[24];
			int64_t milli = (int64_t)(json_number_value(json_object_get(th, "amount")) * 1000.0 + 0.5);
			measure_format(milli, amount, sizeof amount);
			const char *measure = user_view_str(th, "measure");
			const char *unit = measure_unit(measure ? measure : "");
			int w = strcmp(rule, "rise") == 0
				? snprintf(when + used, sizeof when - used, _("%s%s +%s%s%s within %lld days"),
					   used ? "; " : "", measure, amount, unit[0] ? " " : "", unit,
					   (long long)user_view_int(th, "days"))
				: snprintf(when + used, sizeof when - used, "%s%s %s %s%s%s",
					   used ? "; " : "", measure,
					   strcmp(rule, "above") == 0 ? ">" : strcmp(rule, "below") == 0 ? "<" : ">=",
					   amount, unit[0] ? " " : "", unit);
			if (w > 0)
				used += (size_t)w;
		}
		const char *cells[] = {name, user_view_str(a, "roles"),
				       when[0] ? when : _("liaison alert (text)")};
		out_table_add(t, cells);
	}
	out_table_print(t, stdout);
	out_table_free(t);
	puts(_("  coordinator: of the case's CPTS, in the thread or not. Thresholds are checked by\n"
	       "  liaison measure on this computer; the server learns the kind, never the value.\n"));
}

static void
print_pathway(json_t *p)
{
	out_styled(stdout, OUT_BOLD, user_view_str(p, "pathway"));
	printf(_(" (version %lld) — "), (long long)user_view_int(p, "version"));
	out_text(stdout, user_view_str(p, "label"));
	putchar('\n');
	out_kv(_("  J0"), user_view_str(p, "j0"));
	const char *flags = user_view_str(p, "flags");
	out_kv(_("  Flags"), flags && flags[0] ? flags : _("none"));
	out_kv(_("  Sources"), user_view_str(p, "sources"));
	static const char *const headers[] = {N_("  STEP"), N_("DUE"), N_("ROLES"), N_("LABEL")};
	struct out_table *t = out_table_new(4, headers);
	json_t *schedule = json_object_get(p, "schedule"), *r;
	size_t i;
	json_array_foreach(schedule, i, r) {
		const char *code = user_view_str(r, "step");
		if (code == NULL || seen_before(schedule, i, code))
			continue;
		char step[96], due[DUE_TEXT_MAX];
		snprintf(step, sizeof step, "  %s%s", code,
			 json_is_true(json_object_get(r, "mandatory")) ? " *" : "");
		step_due(schedule, code, due, sizeof due);
		const char *cells[] = {step, due, user_view_str(r, "roles"), user_view_str(r, "label")};
		out_table_add(t, cells);
	}
	out_table_print(t, stdout);
	out_table_free(t);
	puts(_("  * mandatory step. Days count from J0; a step is due at the end of its day (UTC).\n"));
	print_alerts(p);
}

int
cmd_pathways_run(struct cmd_call *c)
{
	const struct cli *cli = c->cli;
	const char *const *pos = c->pos;
	int rc = CLI_OK;
	struct lsn_status st = {0};
	json_t *reply = NULL, *list = json_array(), *p;
	size_t i;
	if (e2e_read(c->e, "pathways", NULL, &reply, &st) != LSN_OK) {
		rc = out_fail(&st);
		goto done;
	}
	json_array_foreach(json_object_get(reply, "pathways"), i, p) {
		const char *code = user_view_str(p, "pathway");
		if (pos[0] == NULL || (code && strcmp(pos[0], code) == 0))
			json_array_append(list, p);
	}
	if (pos[0] && json_array_size(list) == 0) {
		out_error(_("no pathway \"%s\" on this server; see liaison pathways"), pos[0]);
		rc = CLI_USAGE;
	} else if (cli->json) {
		json_t *out = json_pack("{s:O}", "pathways", list);
		rc = out_json(out);
		json_decref(out);
	} else {
		json_array_foreach(list, i, p)
			print_pathway(p);
	}
done:
	json_decref(list);
	json_decref(reply);
	return rc;
}
