/* cmd_measure.c — "liaison measure": a structured measurement posted as an
 * encrypted message of the case thread, then the template's thresholds
 * evaluated here over the case's measurements, and for each one crossed the
 * alert kind (never the value) raised with op alert (docs/PATHWAYS.md,
 * "Measurements and alerts"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_view.h"
#include "command.h"
#include "day.h"
#include "measure.h"
#include "measure_view.h"
#include "output.h"
#include "thread.h"
#include "tr.h"
#include "user_view.h"
#include "wire.h"

#define KINDS_MAX 8
#define THRESHOLDS_MAX 64

struct measure_call {
	struct measurement m;
};

int
cmd_measure_check(struct cmd_call *c)
{
	const char *at = c->values[0];
	int64_t day = day_today();
	char why[300];
	if (at && !day_parse(at, &day)) {
		out_error(_("--at %s: expected a date YYYY-MM-DD"), at);
		return CLI_USAGE;
	}
	if (day > day_today()) {
		out_error(_("--at %s: that date is in the future; give the day the value was measured"), at);
		return CLI_USAGE;
	}
	struct measure_call *mc = calloc(1, sizeof *mc);
	if (mc == NULL)
		return CLI_FAIL;
	if (!measure_parse(c->pos[1], c->pos + 2, (size_t)(c->n_pos - 2), day, &mc->m, why,
			   sizeof why)) {
		free(mc);
		out_error(_("%s; see liaison measure --help"), why);
		return CLI_USAGE;
	}
	c->data = mc;
	c->data_free = free;
	return CLI_OK;
}

/* The template of the case in the pathways reply (borrowed), or NULL. */
static json_t *
case_template(json_t *pathways, json_t *summary)
{
	const char *code = user_view_str(summary, "pathway");
	int64_t version = user_view_int(summary, "template_version");
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(pathways, "pathways"), i, t) {
		const char *tc = user_view_str(t, "pathway");
		if (code && tc && strcmp(tc, code) == 0 && user_view_int(t, "version") == version)
			return t;
	}
	return NULL;
}

static const char *
kind_label(json_t *tpl, const char *kind)
{
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(tpl, "alerts"), i, a)
		if (user_view_str(a, "kind") && strcmp(user_view_str(a, "kind"), kind) == 0)
			return user_view_str(a, "label") ? user_view_str(a, "label") : kind;
	return kind;
}

static const char *
kind_roles(json_t *tpl, const char *kind)
{
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(tpl, "alerts"), i, a)
		if (user_view_str(a, "kind") && strcmp(user_view_str(a, "kind"), kind) == 0)
			return user_view_str(a, "roles") ? user_view_str(a, "roles") : "?";
	return "?";
}

/* "weight 82.5 kg", "bp 130/80 mmHg, heart rate 72 /min", "PHQ-9 total 6, item 9 1". */
static void
entry_words(const struct measurement *m, char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < m->n && used < len; i++) {
		char v[24];
		const char *unit = measure_unit(m->v[i].name);
		measure_format(m->v[i].milli, v, sizeof v);
		int w = snprintf(out + used, len - used, "%s%s %s%s%s", i ? ", " : "", m->v[i].name, v,
				 unit[0] ? " " : "", unit);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* Someone notified is not in the people cache (a coordinator outside the
 * thread): learn the directory's first 100 people, once. */
static bool
learn_directory(struct e2e *e)
{
	static bool done;
	struct lsn_status st = {0};
	json_t *reply = NULL, *x;
	size_t i;
	if (done)
		return false;
	done = true;
	if (e2e_read(e, "directory_search", json_pack("{s:i}", "limit", 100), &reply, &st) != LSN_OK)
		return false;
	json_array_foreach(json_object_get(reply, "users"), i, x)
		e2e_remember_user(e, x);
	json_decref(reply);
	return true;
}

/* Raise kind on message seq; its result appended to alerts. */
static enum lsn_err
raise_kind(struct e2e *e, const struct case_ctx *cc, const char *kind, int64_t seq, json_t *alerts,
	   struct lsn_status *st)
{
	json_t *reply = NULL, *u;
	size_t i;
	enum lsn_err err = e2e_write(e, "alert", json_pack("{s:s, s:I, s:s}", "case", cc->id_hex,
							  "seq", (json_int_t)seq, "kind", kind),
				     &reply, st);
	if (err != LSN_OK)
		return err;
	json_t *users = json_array();
	json_array_foreach(json_object_get(reply, "users"), i, u) {
		char name[200];
		const char *hex = json_string_value(u);
		if (!hex)
			continue;
		case_person(e, hex, name, sizeof name);
		if (strncmp(name, "user ", 5) == 0 && learn_directory(e))   /* a coordinator outside */
			case_person(e, hex, name, sizeof name);
		json_array_append_new(users, json_pack("{s:s, s:s}", "user", hex, "name", name));
	}
	json_array_append_new(alerts, json_pack("{s:s, s:I, s:I, s:o}", "kind", kind, "seq",
						(json_int_t)seq, "notified",
						(json_int_t)user_view_int(reply, "notified"),
						"users", users));
	json_decref(reply);
	return LSN_OK;
}

static void
print_result(const struct case_ctx *cc, json_t *tpl, const struct measurement *m, int64_t seq,
	     json_t *alerts, size_t crossed)
{
	char words[300], at[DAY_TEXT];
	entry_words(m, words, sizeof words);
	printf(_("Measurement posted in case %s (message #%lld): %s on %s.\n"), cc->ref,
	       (long long)seq, words, day_format(m->day, at));
	if (crossed == 0) {
		printf(_("No threshold of %s crossed.\n"), user_view_str(cc->summary, "pathway"));
		return;
	}
	size_t i, j;
	json_t *a, *u;
	json_array_foreach(alerts, i, a) {
		const char *kind = user_view_str(a, "kind");
		int64_t notified = user_view_int(a, "notified");
		printf(_("Threshold crossed: %s (%s), alert raised on message #%lld: %lld notified"),
		       kind, kind_label(tpl, kind), (long long)user_view_int(a, "seq"),
		       (long long)notified);
		json_array_foreach(json_object_get(a, "users"), j, u)
			printf("%s %s", j ? "," : ":", user_view_str(u, "name"));
		printf(".\n");
		if (notified == 0)
			printf(_("Nobody holding %s is in this case's thread: add them with liaison "
				 "channel add, or call them.\n"), kind_roles(tpl, kind));
	}
}

int
cmd_measure_run(struct cmd_call *c)
{
	struct measure_call *mc = c->data;
	struct e2e *e = c->e;
	struct case_ctx cc;
	int rc = case_load(e, c->pos[0], &cc);
	if (rc != CLI_OK)
		return rc;
	if (!cc.member) {
		out_error(_("you are not a member of the thread of case %s: only its members record "
			    "measurements (ask one of its admins to add you)"), cc.ref);
		case_ctx_free(&cc);
		return CLI_FAIL;
	}
	struct lsn_status st = {0};
	struct measure_series series;
	struct measure_threshold th[THRESHOLDS_MAX];
	char kinds[KINDS_MAX][MEASURE_NAME_MAX];
	size_t nth = 0, crossed = 0, i;
	int64_t seq = 0, ts = 0;
	json_t *pathways = NULL, *alerts = json_array(), *t;
	memset(&series, 0, sizeof series);
	enum lsn_err err = e2e_read(e, "pathways", NULL, &pathways, &st);
	json_t *tpl = err == LSN_OK ? case_template(pathways, cc.summary) : NULL;
	json_array_foreach(json_object_get(tpl, "thresholds"), i, t)
		if (nth < THRESHOLDS_MAX && measure_threshold_from_json(t, &th[nth]))
			nth++;
	/* the series as the thread has it, then this entry */
	if (err == LSN_OK && case_sync_thread(e, &cc, &st) != LSN_OK) {
		out_error(_("could not update the case thread (%s); thresholds are evaluated over "
			    "what this device has"), st.msg);
		memset(&st, 0, sizeof st);
	}
	if (err == LSN_OK)
		err = measure_series_load(e, &cc, &series, &st);
	struct chan_view v;
	memset(&v, 0, sizeof v);
	if (err == LSN_OK)
		err = chan_view_load(e, cc.channel, &v, &st);
	if (err == LSN_OK)
		err = thread_send(e, &v, measure_encode(&mc->m, cc.id_hex), &seq, &ts, &st);
	if (err == LSN_OK && !measure_series_add(&series, seq, &mc->m))
		err = lsn_fail(&st, LSN_ERR_INTERNAL, _("out of memory"));
	if (err == LSN_OK)
		crossed = measure_evaluate(th, nth, series.pts, series.np, seq, kinds, KINDS_MAX);
	/* one alert per message: the first kind on the measurement, each other
	 * on a short alert message of its own that points at it */
	for (size_t k = 0; err == LSN_OK && k < crossed; k++) {
		int64_t on = seq;
		if (k > 0)
			err = thread_send(e, &v, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "type",
							  "alert", "priority", "high", "case", cc.id_hex,
							  "patient_ref", cc.ref, "body",
							  kind_label(tpl, kinds[k]), "kind", kinds[k],
							  "measurement_seq", (json_int_t)seq),
					  &on, &ts, &st);
		if (err == LSN_OK)
			err = raise_kind(e, &cc, kinds[k], on, alerts, &st);
		if (err != LSN_OK)
			out_error(_("the measurement was posted as message #%lld but the alert %s was "
				    "not raised: call the people it names (%s)"), (long long)seq, kinds[k],
				  kind_roles(tpl, kinds[k]));
	}
	chan_view_free(&v);
	if (err != LSN_OK) {
		rc = out_fail(&st);
	} else if (out_json_mode()) {
		json_t *out = json_pack("{s:s, s:s, s:I, s:o, s:O}", "case", cc.id_hex, "patient_ref",
					cc.ref, "seq", (json_int_t)seq, "measurement",
					measure_encode(&mc->m, cc.id_hex), "alerts", alerts);
		rc = out_json(out);
		json_decref(out);
	} else {
		print_result(&cc, tpl, &mc->m, seq, alerts, crossed);
	}
	json_decref(alerts);
	json_decref(pathways);
	measure_series_free(&series);
	case_ctx_free(&cc);
	return rc;
}
