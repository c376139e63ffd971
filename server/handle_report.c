/* handle_report.c — the CPTS indicators of PATHWAYS.md (1–8) over a
 * period, computed from server metadata alone, each with its numerator and
 * denominator (docs/PATHWAYS.md, "Indicators", defines every one). */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "case.h"
#include "handlers.h"
#include "log.h"
#include "pathway.h"
#include "wire.h"

#define HOUR_MS (3600LL * 1000)

/* A growable list of durations (ms) for medians. */
struct samples {
	int64_t *v;
	size_t n, cap;
};

static void
sample_add(struct samples *s, int64_t x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		int64_t *p = realloc(s->v, cap * sizeof *p);
		if (p == NULL)
			return;
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n++] = x;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Median in the given unit, or JSON null when there is no sample. */
static json_t *
median(struct samples *s, double unit_ms)
{
	if (s->n == 0)
		return json_null();
	qsort(s->v, s->n, sizeof *s->v, cmp_i64);
	double m = s->n % 2 ? (double)s->v[s->n / 2]
			    : ((double)s->v[s->n / 2 - 1] + (double)s->v[s->n / 2]) / 2.0;
	return json_real(m / unit_ms);
}

static json_t *
ratio(const char *id, const char *label, int64_t num, int64_t den)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:o, s:s}", "id", id, "label", label,
			 "numerator", (json_int_t)num, "denominator", (json_int_t)den,
			 "value", den ? json_real(100.0 * (double)num / (double)den) : json_null(),
			 "unit", "%");
}

static json_t *
median_row(const char *id, const char *label, struct samples *s, double unit_ms, const char *unit)
{
	json_t *row = json_pack("{s:s, s:s, s:I, s:o, s:s}", "id", id, "label", label, "n",
				(json_int_t)s->n, "value", median(s, unit_ms), "unit", unit);
	free(s->v);
	memset(s, 0, sizeof *s);
	return row;
}

/* ---- step outcomes (indicators 2, 3, 4, 7) ----------------------------- */

struct outcome {
	int64_t cases, on_time;
	struct samples delay;
};

static void
count_outcome(int64_t j0, int64_t due_at, int64_t done_at, void *arg)
{
	struct outcome *o = arg;
	o->cases++;
	if (done_at >= 0 && done_at <= due_at)
		o->on_time++;
	if (done_at >= 0)
		sample_add(&o->delay, done_at - j0);
}

static enum lsn_err
outcome(struct handler_ctx *hc, const char *pathways, const char *step, int64_t occurrence,
	int64_t from, int64_t to, struct outcome *o)
{
	memset(o, 0, sizeof *o);
	return store_report_step(hc->srv->store, pathways, step, occurrence, from, to, count_outcome, o);
}

/* ---- discharge notices (indicator 1) ----------------------------------- */

struct notices {
	struct handler_ctx *hc;
	int64_t posted, acked_all, within_24h;
	struct samples time_to_ack;
};

static void
count_notice(const struct store_notice *n, void *arg)
{
	struct notices *k = arg;
	struct store_case c;
	struct case_ack_state a;
	k->posted++;
	/* only the recipients fixed at posting count (docs/PATHWAYS.md) */
	if (store_case_get(k->hc->srv->store, n->case_id, &c) != LSN_OK ||
	    case_notice_acks(k->hc->srv->store, &c, &a, NULL) != LSN_OK || a.missing != 0)
		return;
	if (a.last_ack == 0)
		return;   /* nobody to acknowledge */
	k->acked_all++;
	if (a.last_ack - n->posted_at <= 24 * HOUR_MS)
		k->within_24h++;
	sample_add(&k->time_to_ack, a.last_ack - n->posted_at);
}

/* ---- pairs (indicator 7b) ---------------------------------------------- */

static void
pair_delay(int64_t first, int64_t second, void *arg)
{
	if (first && second && second >= first)
		sample_add(arg, second - first);
}

static void
add_opened(const char *key, int64_t count, void *arg)
{
	json_object_set_new((json_t *)arg, key, json_integer(count));
}

/* ---- the report --------------------------------------------------------- */

static enum lsn_err
report_discharge(struct handler_ctx *hc, int64_t from, int64_t to, json_t *rows)
{
	struct notices k = {.hc = hc};
	struct outcome o;
	enum lsn_err err = store_report_notices(hc->srv->store, from, to, count_notice, &k);
	if (err != LSN_OK)
		return err;
	json_array_append_new(rows, ratio("1a", "Avis de sortie accusés par tous les destinataires",
					  k.acked_all, k.posted));
	json_array_append_new(rows, ratio("1b", "Avis de sortie accusés en moins de 24 h",
					  k.within_24h, k.posted));
	json_array_append_new(rows, median_row("1c", "Délai médian d'accusé de réception",
					       &k.time_to_ack, HOUR_MS, "h"));
	if ((err = outcome(hc, "hospital_discharge,heart_failure", "discharge_letter", 1, from, to, &o)))
		return err;
	json_array_append_new(rows, ratio("2", "Lettre de liaison envoyée à J0", o.on_time, o.cases));
	free(o.delay.v);
	if ((err = outcome(hc, "hospital_discharge,heart_failure", "gp_consultation", 1, from, to, &o)))
		return err;
	json_array_append_new(rows, ratio("3a", "Consultation du médecin traitant à J7", o.on_time, o.cases));
	json_array_append_new(rows, median_row("3b", "Délai médian de consultation du médecin traitant",
					       &o.delay, (double)PATHWAY_DAY_MS, "j"));
	if ((err = outcome(hc, "heart_failure", "cardiology_consultation", 1, from, to, &o)))
		return err;
	json_array_append_new(rows, ratio("4", "Consultation cardiologue à J60 (insuffisance cardiaque)",
					  o.on_time, o.cases));
	free(o.delay.v);
	int64_t planned = 0, done = 0;
	if ((err = store_report_steps_due(hc->srv->store, "nurse_first_visit,nurse_followup", from, to,
					  &planned, &done)))
		return err;
	json_array_append_new(rows, ratio("5", "Suivi infirmier réalisé / prévu", done, planned));
	return LSN_OK;
}


/* ---- medication reconciliation (indicator 6) --------------------------- */

struct concil {
	int64_t compared, done_by_j7, unintentional, discrepancies, resolved;
	struct samples times;
	uint8_t last_case[LSN_ID_BYTES];
	bool have_last, last_counted;
};

static void
count_concil(const struct store_conciliation *k, void *arg)
{
	struct concil *a = arg;
	bool new_case = !a->have_last || memcmp(a->last_case, k->case_id, LSN_ID_BYTES) != 0;
	if (new_case) {
		memcpy(a->last_case, k->case_id, LSN_ID_BYTES);
		a->have_last = true;
		a->last_counted = false;
	}
	if (!k->compared_at)
		return;
	a->compared++;
	a->unintentional += k->unintentional;
	a->discrepancies += k->discrepancies;
	a->resolved += k->resolved;
	/* a case counts once, whichever of its episodes was compared by J7 */
	if (!a->last_counted && k->compared_at <= k->j0 + 8 * PATHWAY_DAY_MS - 1) {
		a->done_by_j7++;
		a->last_counted = true;
	}
	json_t *times = k->resolution_ms ? json_loads(k->resolution_ms, 0, NULL) : NULL;
	size_t i;
	json_t *v;
	json_array_foreach(times, i, v)
		sample_add(&a->times, json_integer_value(v));
	json_decref(times);
}

static enum lsn_err
report_conciliation(struct handler_ctx *hc, int64_t from, int64_t to, json_t *rows)
{
	static const char pathways[] = "hospital_discharge,heart_failure";
	struct concil a = {0};
	int64_t cases = 0;
	enum lsn_err err = store_report_case_count(hc->srv->store, pathways, from, to, &cases);
	if (err == LSN_OK)
		err = store_report_conciliations(hc->srv->store, pathways, from, to, count_concil, &a);
	if (err != LSN_OK) {
		free(a.times.v);
		return err;
	}
	json_array_append_new(rows, ratio("6a", "Conciliations réalisées à J7 (sorties)", a.done_by_j7,
					  cases));
	json_array_append_new(rows, json_pack("{s:s, s:s, s:I, s:I, s:o, s:s}", "id", "6b", "label",
		"Divergences non intentionnelles par conciliation", "numerator", (json_int_t)a.unintentional,
		"denominator", (json_int_t)a.compared,
		"value", a.compared ? json_real((double)a.unintentional / (double)a.compared) : json_null(),
		"unit", "/conciliation"));
	json_array_append_new(rows, ratio("6c", "Part des divergences résolues", a.resolved,
					  a.discrepancies));
	json_array_append_new(rows, median_row("6d", "Délai médian de résolution d'une divergence",
					       &a.times, HOUR_MS, "h"));
	return LSN_OK;
}

static enum lsn_err
report_anxiety(struct handler_ctx *hc, int64_t from, int64_t to, json_t *rows)
{
	struct outcome o;
	struct samples delay = {0};
	enum lsn_err err = outcome(hc, "anxiety_depression", "response_review", 2, from, to, &o);
	if (err != LSN_OK)
		return err;
	json_array_append_new(rows, ratio("7a", "Réévaluation (PHQ-9) faite à J56", o.on_time, o.cases));
	free(o.delay.v);
	if ((err = store_report_step_pair(hc->srv->store, "anxiety_depression", "psychologist_referral",
					  "psychologist_first_session", from, to, pair_delay, &delay)))
		return err;
	json_array_append_new(rows, median_row("7b", "Délai médian orientation → première séance psychologue",
					       &delay, (double)PATHWAY_DAY_MS, "j"));
	if ((err = outcome(hc, "anxiety_depression", "psychiatry_referral", 1, from, to, &o)))
		return err;
	json_array_append_new(rows, ratio("7c", "Avis psychiatriques obtenus dans le délai (J30)",
					  o.on_time, o.cases));
	free(o.delay.v);
	return LSN_OK;
}

static enum lsn_err
report_activity(struct handler_ctx *hc, int64_t from, int64_t to, json_t *rows)
{
	json_t *opened = json_object();
	int64_t pros = 0, overdue = 0;
	enum lsn_err err = store_report_cases_opened(hc->srv->store, from, to, add_opened, opened);
	if (err == LSN_OK)
		err = store_report_professionals(hc->srv->store, from, to, &pros);
	if (err == LSN_OK)
		err = store_report_overdue(hc->srv->store, to < hc->now ? to : hc->now, &overdue);
	if (err != LSN_OK) {
		json_decref(opened);
		return err;
	}
	json_array_append_new(rows, json_pack("{s:s, s:s, s:o}", "id", "8a", "label",
					      "Cas ouverts par parcours", "by_pathway", opened));
	json_array_append_new(rows, json_pack("{s:s, s:s, s:I}", "id", "8b", "label",
					      "Professionnels impliqués", "value", (json_int_t)pros));
	json_array_append_new(rows, json_pack("{s:s, s:s, s:I}", "id", "8c", "label",
					      "Étapes en retard", "value", (json_int_t)overdue));
	return LSN_OK;
}

enum lsn_err
handle_report(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	const char *from_text = NULL, *to_text = NULL;
	enum lsn_err err;
	if (!(hc->sess->roles & LSN_ROLE_COORDINATOR))
		return lsn_fail(&hc->st, LSN_ERR_COORDINATOR_ONLY,
				"only CPTS coordinators run the indicator report");
	if ((err = wire_get_str(req, "from", true, 10, &from_text, &hc->st)) ||
	    (err = wire_get_str(req, "to", true, 10, &to_text, &hc->st)))
		return err;
	int64_t from = pathway_parse_day(from_text), to = pathway_parse_day(to_text);
	if (from < 0 || to < 0 || to < from)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"fields \"from\" and \"to\": expected two dates YYYY-MM-DD, from ≤ to");
	to += PATHWAY_DAY_MS;   /* "to" is inclusive */
	json_t *rows = json_array();
	json_object_set_new(reply, "from", json_string(from_text));
	json_object_set_new(reply, "to", json_string(to_text));
	json_object_set_new(reply, "indicators", rows);
	if ((err = report_discharge(hc, from, to, rows)) != LSN_OK ||
	    (err = report_conciliation(hc, from, to, rows)) != LSN_OK ||
	    (err = report_anxiety(hc, from, to, rows)) != LSN_OK ||
	    (err = report_activity(hc, from, to, rows)) != LSN_OK)
		return handler_store_fail(hc, err, "report");
	log_info("report %s..%s run by conn %llu", from_text, to_text,
		 (unsigned long long)hc->sess->conn_id);
	char detail[32];
	snprintf(detail, sizeof detail, "%s..%s", from_text, to_text);
	if ((err = audit_request(hc, "report", &(struct audit_ids){.detail = detail})) != LSN_OK)
		return err;
	return LSN_OK;
}
