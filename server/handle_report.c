/* handle_report.c — the CPTS indicators of PATHWAYS.md (1–9) over a
 * period of local days or a semester, computed from server metadata alone,
 * each with its numerator and denominator, the steps not yet due apart, a
 * split by pathway and the CPTS's target (docs/PATHWAYS.md, "Indicators",
 * defines every one); the quality-circle sessions (op circle_session) and
 * the targets (ops target_set, targets) it counts and shows. */
#include <stdio.h>
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

/* ---- tallies: one per indicator, in all and per pathway ---------------- */

#define REPORT_PATHWAYS_MAX 16

struct cell {
	char pathway[STORE_PATHWAY_CODE];
	int64_t num, den, not_yet_due;
	struct samples s;
};

struct tally {
	struct cell all;
	struct cell by[REPORT_PATHWAYS_MAX];
	size_t n;
};

/* The cell of a pathway, added on first use (NULL past the limit). */
static struct cell *
cell_of(struct tally *t, const char *pathway)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->by[i].pathway, pathway) == 0)
			return &t->by[i];
	if (t->n == REPORT_PATHWAYS_MAX)
		return NULL;
	struct cell *c = &t->by[t->n++];
	memset(c, 0, sizeof *c);
	snprintf(c->pathway, sizeof c->pathway, "%s", pathway);
	return c;
}

/* Give a tally a cell for each pathway of a comma list (shown even at 0). */
static void
tally_init(struct tally *t, const char *pathways)
{
	memset(t, 0, sizeof *t);
	for (const char *p = pathways; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char code[STORE_PATHWAY_CODE];
		snprintf(code, sizeof code, "%.*s", (int)(len < sizeof code ? len : sizeof code - 1), p);
		cell_of(t, code);
		p = end ? end + 1 : NULL;
	}
}

static void
tally_free(struct tally *t)
{
	free(t->all.s.v);
	for (size_t i = 0; i < t->n; i++)
		free(t->by[i].s.v);
	memset(t, 0, sizeof *t);
}

enum tally_event { T_NOT_YET_DUE, T_MISSED, T_MET };

static void
tally_count(struct tally *t, const char *pathway, enum tally_event e)
{
	struct cell *c = cell_of(t, pathway);
	struct cell *cells[] = {&t->all, c};
	for (size_t i = 0; i < 2; i++) {
		if (cells[i] == NULL)
			continue;
		if (e == T_NOT_YET_DUE) {
			cells[i]->not_yet_due++;
			continue;
		}
		cells[i]->den++;
		cells[i]->num += e == T_MET;
	}
}

static void
tally_sample(struct tally *t, const char *pathway, int64_t x)
{
	struct cell *c = cell_of(t, pathway);
	sample_add(&t->all.s, x);
	if (c)
		sample_add(&c->s, x);
}

static void
tally_add(struct tally *t, const char *pathway, int64_t x)
{
	struct cell *c = cell_of(t, pathway);
	t->all.num += x;
	if (c)
		c->num += x;
}

/* ---- rows ---------------------------------------------------------------- */

enum row_kind { ROW_PERCENT, ROW_PER, ROW_MEDIAN, ROW_COUNT };

static json_t *
cell_json(struct cell *c, enum row_kind kind, double unit)
{
	switch (kind) {
	case ROW_PERCENT:
	case ROW_PER:
		return json_pack("{s:I, s:I, s:o, s:I}", "numerator", (json_int_t)c->num,
				 "denominator", (json_int_t)c->den, "value",
				 c->den ? json_real((kind == ROW_PERCENT ? 100.0 : 1.0) * (double)c->num /
						    (double)c->den) : json_null(),
				 "not_yet_due", (json_int_t)c->not_yet_due);
	case ROW_MEDIAN:
		return json_pack("{s:I, s:o}", "n", (json_int_t)c->s.n, "value", median(&c->s, unit));
	case ROW_COUNT:
		return json_pack("{s:I}", "value", (json_int_t)c->num);
	}
	return json_null();
}

static int
cmp_cell(const void *a, const void *b)
{
	return strcmp(((const struct cell *)a)->pathway, ((const struct cell *)b)->pathway);
}

/* Append one indicator: its figures in all, then per pathway (by code);
 * frees t. */
static void
add_row(json_t *rows, const char *id, const char *label, struct tally *t, enum row_kind kind,
	double unit, const char *unit_name)
{
	qsort(t->by, t->n, sizeof t->by[0], cmp_cell);
	json_t *row = cell_json(&t->all, kind, unit);
	json_object_set_new(row, "id", json_string(id));
	json_object_set_new(row, "label", json_string(label));
	if (unit_name)
		json_object_set_new(row, "unit", json_string(unit_name));
	json_t *by = json_object();
	for (size_t i = 0; i < t->n; i++)
		json_object_set_new(by, t->by[i].pathway, cell_json(&t->by[i], kind, unit));
	json_object_set_new(row, "by_pathway", by);
	json_array_append_new(rows, row);
	tally_free(t);
}

/* What every part of the report shares. */
struct period {
	struct handler_ctx *hc;
	const uint8_t *cpts;           /* the CPTS reported on; NULL: every CPTS (territory) */
	int64_t from, to;              /* [from, to): local midnights */
	int64_t now;                   /* a deadline at or after now is not yet due */
	char all[256];                 /* every current pathway, comma list */
};

/* ---- step outcomes (indicators 2, 3, 4, 5, 7) -------------------------- */

struct outcome {
	struct period *p;
	struct tally done_in_time;
	struct tally delay;            /* whole local days from J0 to done */
};

static void
count_outcome(const struct store_step_outcome *o, void *arg)
{
	struct outcome *k = arg;
	if (o->due_at >= k->p->now) {
		tally_count(&k->done_in_time, o->pathway, T_NOT_YET_DUE);
		return;
	}
	tally_count(&k->done_in_time, o->pathway,
		    o->done_at >= 0 && o->done_at <= o->due_at ? T_MET : T_MISSED);
	if (o->done_at >= 0)
		tally_sample(&k->delay, o->pathway, pathway_day_diff(o->j0, o->done_at));
}

/* pathways: a comma list, or NULL for the steps of any pathway (shown:
 * every current one, and any other that has some). */
static enum lsn_err
outcome(struct period *p, const char *pathways, const char *steps, int64_t occurrence,
	struct outcome *o)
{
	o->p = p;
	tally_init(&o->done_in_time, pathways ? pathways : p->all);
	tally_init(&o->delay, pathways ? pathways : p->all);
	return store_report_step(p->hc->srv->store, p->cpts, pathways, steps, occurrence, p->from,
				 p->to, count_outcome, o);
}

/* ---- discharge notices (indicator 1) ----------------------------------- */

struct notices {
	struct period *p;
	struct tally acked_all, within_24h, time_to_ack;
};

/* A notice counts once every recipient has acknowledged it or its 24 hours
 * have passed; until then it is not yet due. Only the recipients fixed at
 * posting count (docs/PATHWAYS.md). */
static void
count_notice(const struct store_notice *n, void *arg)
{
	struct notices *k = arg;
	struct store *s = k->p->hc->srv->store;
	struct store_case c;
	struct case_ack_state a;
	if (store_case_get(s, n->case_id, &c) != LSN_OK ||
	    (k->p->cpts && (!c.has_cpts || memcmp(c.cpts, k->p->cpts, LSN_ID_BYTES) != 0)))
		return;   /* another CPTS's case */
	if (case_notice_acks(s, &c, &a, NULL) != LSN_OK)
		return;
	bool all = a.missing == 0 && a.last_ack != 0;   /* nobody to acknowledge: not acknowledged */
	if (!all && n->posted_at + 24 * HOUR_MS > k->p->now) {
		tally_count(&k->acked_all, c.pathway, T_NOT_YET_DUE);
		tally_count(&k->within_24h, c.pathway, T_NOT_YET_DUE);
		return;
	}
	tally_count(&k->acked_all, c.pathway, all ? T_MET : T_MISSED);
	tally_count(&k->within_24h, c.pathway,
		    all && a.last_ack - n->posted_at <= 24 * HOUR_MS ? T_MET : T_MISSED);
	if (all)
		tally_sample(&k->time_to_ack, c.pathway, a.last_ack - n->posted_at);
}

/* ---- pairs (indicator 7b) ---------------------------------------------- */

static void
pair_delay(const char *pathway, int64_t first, int64_t second, void *arg)
{
	if (first && second && second >= first)
		tally_sample(arg, pathway, pathway_day_diff(first, second));
}

static void
add_count(const char *key, int64_t count, void *arg)
{
	tally_add(arg, key, count);
}

static void
add_pathway(const char *key, int64_t count, void *arg)
{
	(void)count;
	struct period *p = arg;
	size_t len = strlen(p->all);
	if (len + strlen(key) + 2 < sizeof p->all)
		snprintf(p->all + len, sizeof p->all - len, "%s%s", len ? "," : "", key);
}

/* ---- the report --------------------------------------------------------- */

#define DISCHARGE_TYPES "hospital_discharge,heart_failure"

static enum lsn_err
report_discharge(struct period *p, json_t *rows)
{
	struct notices k = {.p = p};
	struct outcome o;
	tally_init(&k.acked_all, p->all);
	tally_init(&k.within_24h, p->all);
	tally_init(&k.time_to_ack, p->all);
	enum lsn_err err = store_report_notices(p->hc->srv->store, p->from, p->to, count_notice, &k);
	if (err != LSN_OK) {
		tally_free(&k.acked_all);
		tally_free(&k.within_24h);
		tally_free(&k.time_to_ack);
		return err;
	}
	add_row(rows, "1a", "Avis de sortie accusés par tous les destinataires", &k.acked_all,
		ROW_PERCENT, 1, "%");
	add_row(rows, "1b", "Avis de sortie accusés en moins de 24 h", &k.within_24h, ROW_PERCENT,
		1, "%");
	add_row(rows, "1c", "Délai médian d'accusé de réception", &k.time_to_ack, ROW_MEDIAN,
		HOUR_MS, "h");
	if ((err = outcome(p, DISCHARGE_TYPES, "discharge_letter", 1, &o)))
		goto fail;
	add_row(rows, "2", "Lettre de liaison envoyée à J0", &o.done_in_time, ROW_PERCENT, 1, "%");
	tally_free(&o.delay);
	if ((err = outcome(p, DISCHARGE_TYPES, "gp_consultation", 1, &o)))
		goto fail;
	add_row(rows, "3a", "Consultation du médecin traitant à J7", &o.done_in_time, ROW_PERCENT, 1,
		"%");
	add_row(rows, "3b", "Délai médian de consultation du médecin traitant", &o.delay, ROW_MEDIAN,
		1, "j");
	if ((err = outcome(p, "heart_failure", "cardiology_consultation", 1, &o)))
		goto fail;
	add_row(rows, "4", "Consultation cardiologue à J60 (insuffisance cardiaque)", &o.done_in_time,
		ROW_PERCENT, 1, "%");
	tally_free(&o.delay);
	if ((err = outcome(p, NULL, "nurse_first_visit,nurse_followup", 0, &o)))
		goto fail;
	add_row(rows, "5", "Suivi infirmier réalisé / prévu", &o.done_in_time, ROW_PERCENT, 1, "%");
	tally_free(&o.delay);
	return LSN_OK;
fail:
	tally_free(&o.done_in_time);
	tally_free(&o.delay);
	return err;
}

/* ---- medication reconciliation (indicator 6) --------------------------- */

/* 6a: a discharge-type case is due once the end of its J7 is in the period
 * and passed; 6b–6d: reconciliations of cases with J0 in the period. */
struct concil {
	struct period *p;
	struct tally by_j7, unintentional, resolved, times;
	uint8_t last_case[LSN_ID_BYTES];
	bool have_last, last_counted;
};

static bool
j7_in_period(const struct period *p, int64_t j0, int64_t *due)
{
	*due = pathway_due_at(j0, 7);
	return *due >= p->from && *due < p->to;
}

static void
count_case_j7(const struct store_report_case *c, void *arg)
{
	struct concil *a = arg;
	int64_t due;
	if (!j7_in_period(a->p, c->j0, &due))
		return;
	/* counted as missed here; a reconciliation compared in time turns it into met */
	tally_count(&a->by_j7, c->pathway, due >= a->p->now ? T_NOT_YET_DUE : T_MISSED);
}

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
	int64_t due;
	/* a case counts once, whichever of its episodes was compared by J7 */
	if (!a->last_counted && j7_in_period(a->p, k->j0, &due) && due < a->p->now &&
	    k->compared_at <= due) {
		struct cell *c = cell_of(&a->by_j7, k->pathway);
		a->by_j7.all.num++;
		if (c)
			c->num++;
		a->last_counted = true;
	}
	if (k->j0 < a->p->from || k->j0 >= a->p->to)
		return;
	tally_add(&a->unintentional, k->pathway, k->unintentional);
	struct cell *c = cell_of(&a->unintentional, k->pathway);
	a->unintentional.all.den++;
	if (c)
		c->den++;
	tally_add(&a->resolved, k->pathway, k->resolved);
	c = cell_of(&a->resolved, k->pathway);
	a->resolved.all.den += k->discrepancies;
	if (c)
		c->den += k->discrepancies;
	json_t *times = k->resolution_ms ? json_loads(k->resolution_ms, 0, NULL) : NULL;
	size_t i;
	json_t *v;
	json_array_foreach(times, i, v)
		tally_sample(&a->times, k->pathway, json_integer_value(v));
	json_decref(times);
}

static enum lsn_err
report_conciliation(struct period *p, json_t *rows)
{
	struct concil a = {.p = p};
	tally_init(&a.by_j7, DISCHARGE_TYPES);
	tally_init(&a.unintentional, DISCHARGE_TYPES);
	tally_init(&a.resolved, DISCHARGE_TYPES);
	tally_init(&a.times, DISCHARGE_TYPES);
	/* J7 ends in the period: J0 at most 8 days (and an hour) before it */
	int64_t j0_from = pathway_day_start(p->from, -8);
	enum lsn_err err = store_report_cases(p->hc->srv->store, p->cpts, DISCHARGE_TYPES, j0_from,
					      p->to, count_case_j7, &a);
	if (err == LSN_OK)
		err = store_report_conciliations(p->hc->srv->store, p->cpts, DISCHARGE_TYPES, j0_from,
						 p->to, count_concil, &a);
	if (err != LSN_OK) {
		tally_free(&a.by_j7);
		tally_free(&a.unintentional);
		tally_free(&a.resolved);
		tally_free(&a.times);
		return err;
	}
	add_row(rows, "6a", "Conciliations réalisées à J7 (sorties)", &a.by_j7, ROW_PERCENT, 1, "%");
	add_row(rows, "6b", "Divergences non intentionnelles par conciliation", &a.unintentional,
		ROW_PER, 1, "/conciliation");
	add_row(rows, "6c", "Part des divergences résolues", &a.resolved, ROW_PERCENT, 1, "%");
	add_row(rows, "6d", "Délai médian de résolution d'une divergence", &a.times, ROW_MEDIAN,
		HOUR_MS, "h");
	return LSN_OK;
}

static enum lsn_err
report_anxiety(struct period *p, json_t *rows)
{
	struct outcome o;
	struct tally delay;
	tally_init(&delay, "anxiety_depression");
	enum lsn_err err = outcome(p, "anxiety_depression", "response_review", 2, &o);
	if (err != LSN_OK)
		goto fail;
	add_row(rows, "7a", "Réévaluation (PHQ-9) faite à J56", &o.done_in_time, ROW_PERCENT, 1, "%");
	tally_free(&o.delay);
	if ((err = store_report_step_pair(p->hc->srv->store, p->cpts, "anxiety_depression",
					  "psychologist_referral", "psychologist_first_session",
					  p->from, p->to, pair_delay, &delay)))
		goto fail;
	add_row(rows, "7b", "Délai médian orientation → première séance psychologue", &delay,
		ROW_MEDIAN, 1, "j");
	if ((err = outcome(p, "anxiety_depression", "psychiatry_referral", 1, &o)))
		goto fail;
	add_row(rows, "7c", "Avis psychiatriques obtenus dans le délai (J30)", &o.done_in_time,
		ROW_PERCENT, 1, "%");
	tally_free(&o.delay);
	return LSN_OK;
fail:
	tally_free(&o.done_in_time);
	tally_free(&o.delay);
	tally_free(&delay);
	return err;
}

static enum lsn_err
report_activity(struct period *p, json_t *rows)
{
	struct tally opened, pros, overdue;
	tally_init(&opened, p->all);
	tally_init(&pros, p->all);
	tally_init(&overdue, p->all);
	struct store *s = p->hc->srv->store;
	enum lsn_err err = store_report_cases_opened(s, p->cpts, p->from, p->to, add_count, &opened);
	if (err == LSN_OK)
		err = store_report_professionals_by(s, p->cpts, p->from, p->to, add_count, &pros);
	if (err == LSN_OK)   /* distinct in all: one professional may work on two pathways */
		err = store_report_professionals(s, p->cpts, p->from, p->to, &pros.all.num);
	if (err == LSN_OK)
		err = store_report_overdue(s, p->cpts, p->to < p->now ? p->to : p->now, add_count,
					   &overdue);
	if (err != LSN_OK) {
		tally_free(&opened);
		tally_free(&pros);
		tally_free(&overdue);
		return err;
	}
	add_row(rows, "8a", "Cas ouverts par parcours", &opened, ROW_COUNT, 1, NULL);
	add_row(rows, "8b", "Professionnels impliqués", &pros, ROW_COUNT, 1, NULL);
	add_row(rows, "8c", "Étapes en retard", &overdue, ROW_COUNT, 1, NULL);
	return LSN_OK;
}

static enum lsn_err
report_circles(struct period *p, json_t *rows)
{
	int64_t sessions = 0, participants = 0, distinct = 0;
	enum lsn_err err = store_report_circles(p->hc->srv->store, p->cpts, p->from, p->to,
						&sessions, &participants, &distinct);
	if (err != LSN_OK)
		return err;
	json_array_append_new(rows, json_pack("{s:s, s:s, s:I}", "id", "9a", "label",
		"Séances de cercles de qualité", "value", (json_int_t)sessions));
	json_array_append_new(rows, json_pack("{s:s, s:s, s:I}", "id", "9b", "label",
		"Participations aux cercles de qualité", "value", (json_int_t)participants));
	json_array_append_new(rows, json_pack("{s:s, s:s, s:I}", "id", "9c", "label",
		"Participants distincts aux cercles de qualité", "value", (json_int_t)distinct));
	return LSN_OK;
}

/* ---- targets ------------------------------------------------------------- */

/* The indicators a target may name, and the direction that is better. */
static const struct {
	const char *id;
	const char *better;            /* "ge": higher is better; "le": lower */
} report_ids[] = {
	{"1a", "ge"}, {"1b", "ge"}, {"1c", "le"}, {"2", "ge"}, {"3a", "ge"}, {"3b", "le"},
	{"4", "ge"}, {"5", "ge"}, {"6a", "ge"}, {"6b", "le"}, {"6c", "ge"}, {"6d", "le"},
	{"7a", "ge"}, {"7b", "le"}, {"7c", "ge"}, {"8a", "ge"}, {"8b", "ge"}, {"8c", "le"},
	{"9a", "ge"}, {"9b", "ge"}, {"9c", "ge"},
};

const char *
report_indicator_direction(const char *id)
{
	for (size_t i = 0; id && i < sizeof report_ids / sizeof report_ids[0]; i++)
		if (strcmp(report_ids[i].id, id) == 0)
			return report_ids[i].better;
	return NULL;
}

static json_t *
target_json(const struct store_target *t)
{
	return json_pack("{s:s, s:f, s:s, s:b, s:I}", "indicator", t->indicator, "value",
			 (double)t->value_milli / 1000.0, "direction", t->direction,
			 "set_by_admin", !t->has_set_by, "set_at", (json_int_t)t->set_at);
}

static void
attach_target(const struct store_target *t, void *arg)
{
	size_t i;
	json_t *row;
	json_array_foreach((json_t *)arg, i, row) {
		if (strcmp(json_string_value(json_object_get(row, "id")), t->indicator) != 0)
			continue;
		json_t *v = json_object_get(row, "value"), *target = target_json(t);
		double goal = (double)t->value_milli / 1000.0;
		json_object_del(target, "indicator");
		if (json_is_number(v)) {
			double x = json_number_value(v);
			/* compared as shown: one decimal */
			double shown = (double)(int64_t)(x * 10.0 + (x >= 0 ? 0.5 : -0.5)) / 10.0;
			json_object_set_new(target, "met", json_boolean(strcmp(t->direction, "le") == 0
									? shown <= goal : shown >= goal));
		} else {
			json_object_set_new(target, "met", json_null());
		}
		json_object_set_new(row, "target", target);
	}
}

/* The caller's CPTS: the organisation of their account (as at login). */
static enum lsn_err
caller_cpts(struct handler_ctx *hc, uint8_t cpts[LSN_ID_BYTES])
{
	memcpy(cpts, hc->sess->org, LSN_ID_BYTES);
	return LSN_OK;
}

/* Which CPTS the report covers: the caller's; with the territory role every
 * CPTS (*cpts NULL), or the one named by field "cpts" (FINESS or id). */
static enum lsn_err
report_scope(struct handler_ctx *hc, json_t *req, struct store_org *org, const uint8_t **cpts)
{
	const char *ref = NULL;
	uint8_t id[LSN_ID_BYTES];
	bool territory = (hc->sess->roles & LSN_ROLE_TERRITORY) != 0;
	enum lsn_err err = wire_get_str(req, "cpts", false, 32, &ref, &hc->st);
	if (err != LSN_OK)
		return err;
	if (ref == NULL && territory) {
		*cpts = NULL;
		return LSN_OK;
	}
	if (ref == NULL)
		memcpy(id, hc->sess->org, LSN_ID_BYTES);
	err = ref == NULL || lsn_id_from_hex(ref, id) ? store_org_get(hc->srv->store, id, org)
						       : store_org_find_finess(hc->srv->store, ref, org);
	if (err == LSN_ERR_NOT_FOUND || (err == LSN_OK && ref && strcmp(org->kind, "cpts") != 0))
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				ref ? "field \"cpts\": no CPTS with that FINESS or id; see liaison "
				      "directory" : "your account belongs to no organisation");
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "report");
	if (!territory && memcmp(org->id, hc->sess->org, LSN_ID_BYTES) != 0)
		return lsn_fail(&hc->st, LSN_ERR_FORBIDDEN,
				"a coordinator reports on her own CPTS; another CPTS's figures need the "
				"territory role (given by the administrator)");
	*cpts = org->id;
	return LSN_OK;
}

/* ---- the period ---------------------------------------------------------- */

static const char period_help[] =
	"expected \"semester\": \"YYYY-S1\" (1 January to 30 June) or \"YYYY-S2\" (1 July to "
	"31 December), or \"from\" and \"to\" as YYYY-MM-DD with from not after to";

bool
report_semester_days(const char *text, char from[11], char to[11])
{
	if (text == NULL || strlen(text) != 7 || text[4] != '-' || text[5] != 'S' ||
	    (text[6] != '1' && text[6] != '2'))
		return false;
	for (int i = 0; i < 4; i++)
		if (text[i] < '0' || text[i] > '9')
			return false;
	snprintf(from, 11, "%.4s-%s", text, text[6] == '1' ? "01-01" : "07-01");
	snprintf(to, 11, "%.4s-%s", text, text[6] == '1' ? "06-30" : "12-31");
	return pathway_parse_day(from) >= 0 && pathway_parse_day(to) >= 0;
}

enum lsn_err
handle_report(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	const char *from_text = NULL, *to_text = NULL, *semester = NULL;
	char sem_from[11], sem_to[11];
	enum lsn_err err;
	if (!(hc->sess->roles & LSN_ROLE_COORDINATOR))
		return lsn_fail(&hc->st, LSN_ERR_COORDINATOR_ONLY,
				"only CPTS coordinators run the indicator report");
	if ((err = wire_get_str(req, "semester", false, 7, &semester, &hc->st)) ||
	    (err = wire_get_str(req, "from", false, 10, &from_text, &hc->st)) ||
	    (err = wire_get_str(req, "to", false, 10, &to_text, &hc->st)))
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "%s", period_help);
	if (semester) {
		if (from_text || to_text || !report_semester_days(semester, sem_from, sem_to))
			return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "%s", period_help);
		from_text = sem_from;
		to_text = sem_to;
	}
	struct period p = {.hc = hc, .now = hc->now};
	p.from = pathway_parse_day(from_text);
	p.to = pathway_parse_day(to_text);
	if (p.from < 0 || p.to < 0 || p.to < p.from)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "%s", period_help);
	p.to = pathway_day_start(p.to, 1);   /* "to" is inclusive: up to the next local midnight */
	struct store_org org;
	if ((err = report_scope(hc, req, &org, &p.cpts)) != LSN_OK)
		return err;
	json_t *rows = json_array();
	json_object_set_new(reply, "from", json_string(from_text));
	json_object_set_new(reply, "to", json_string(to_text));
	if (semester)
		json_object_set_new(reply, "semester", json_string(semester));
	json_object_set_new(reply, "as_of", json_integer(hc->now));
	json_object_set_new(reply, "timezone", json_string(hc->srv->cfg ? hc->srv->cfg->timezone
									: "Europe/Paris"));
	json_object_set_new(reply, "cpts", p.cpts ? json_pack("{s:o, s:s, s:s}", "id",
		wire_id(org.id), "finess", org.finess, "name", org.name) : json_null());
	json_object_set_new(reply, "indicators", rows);
	if ((err = store_report_cases_opened(hc->srv->store, p.cpts, p.from, p.to, add_pathway, &p)) ||
	    (err = report_discharge(&p, rows)) != LSN_OK ||
	    (err = report_conciliation(&p, rows)) != LSN_OK ||
	    (err = report_anxiety(&p, rows)) != LSN_OK ||
	    (err = report_activity(&p, rows)) != LSN_OK ||
	    (err = report_circles(&p, rows)) != LSN_OK ||
	    (p.cpts && (err = store_target_list(hc->srv->store, p.cpts, attach_target, rows))))
		return handler_store_fail(hc, err, "report");
	log_info("report %s..%s run by conn %llu", from_text, to_text,
		 (unsigned long long)hc->sess->conn_id);
	char detail[32];
	snprintf(detail, sizeof detail, "%s..%s", from_text, to_text);
	if ((err = audit_request(hc, "report", &(struct audit_ids){.detail = detail})) != LSN_OK)
		return err;
	return LSN_OK;
}

/* ---- targets: target_set, targets ---------------------------------------- */

enum lsn_err
handle_target_set(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	const char *indicator = NULL, *direction = NULL;
	enum lsn_err err;
	if (!(hc->sess->roles & LSN_ROLE_COORDINATOR))
		return lsn_fail(&hc->st, LSN_ERR_COORDINATOR_ONLY,
				"only a coordinator of the CPTS (or the administrator, liaisond "
				"targets) sets its targets");
	if ((err = wire_get_str(req, "indicator", true, 7, &indicator, &hc->st)) ||
	    (err = wire_get_str(req, "direction", false, 2, &direction, &hc->st)))
		return err;
	const char *better = report_indicator_direction(indicator);
	if (better == NULL)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"indicator\": expected an indicator id of the report (1a, 1b, "
				"1c, 2, 3a, 3b, 4, 5, 6a–6d, 7a–7c, 8a–8c, 9a–9c)");
	if (direction && strcmp(direction, "ge") != 0 && strcmp(direction, "le") != 0)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"direction\": expected \"ge\" (at least) or \"le\" (at most)");
	struct store_target t = {.has_set_by = true, .set_at = hc->now};
	if ((err = caller_cpts(hc, t.cpts)) != LSN_OK)
		return handler_store_fail(hc, err, "target");
	snprintf(t.indicator, sizeof t.indicator, "%s", indicator);
	snprintf(t.direction, sizeof t.direction, "%s", direction ? direction : better);
	memcpy(t.set_by, hc->sess->user, LSN_ID_BYTES);
	json_t *value = json_object_get(req, "value");
	if (json_is_null(value)) {
		err = store_target_delete(hc->srv->store, t.cpts, t.indicator);
		if (err != LSN_OK && err != LSN_ERR_NOT_FOUND)
			return handler_store_fail(hc, err, "target");
		json_object_set_new(reply, "removed", json_boolean(err == LSN_OK));
	} else {
		double v = json_number_value(value);
		if (!json_is_number(value) || v < 0 || v > 1e9)
			return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
					"field \"value\": expected a number from 0 to 1000000000 in "
					"the indicator's unit (%% for ratios), or null to remove the "
					"target");
		t.value_milli = (int64_t)(v * 1000.0 + 0.5);
		if ((err = store_target_put(hc->srv->store, &t)) != LSN_OK)
			return handler_store_fail(hc, err, "target");
		json_object_set_new(reply, "target", target_json(&t));
	}
	char detail[32];
	snprintf(detail, sizeof detail, "%s %s", t.indicator,
		 json_is_null(value) ? "removed" : t.direction);
	return audit_request(hc, "target_set", &(struct audit_ids){.detail = detail});
}

static void
list_target(const struct store_target *t, void *arg)
{
	json_array_append_new(arg, target_json(t));
}

enum lsn_err
handle_targets(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	(void)req;
	uint8_t cpts[LSN_ID_BYTES];
	if (!(hc->sess->roles & LSN_ROLE_COORDINATOR))
		return lsn_fail(&hc->st, LSN_ERR_COORDINATOR_ONLY,
				"only CPTS coordinators see the CPTS's targets");
	json_t *list = json_array();
	json_object_set_new(reply, "targets", list);
	enum lsn_err err = caller_cpts(hc, cpts);
	if (err == LSN_OK)
		err = store_target_list(hc->srv->store, cpts, list_target, list);
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "targets");
}

/* ---- circle_session ------------------------------------------------------ */

#define CIRCLE_ATTENDEES_MAX 200

enum lsn_err
handle_circle_session(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_circle_session cs = {.recorded_at = hc->now};
	struct store_channel ch;
	struct store_member me;
	const char *day = NULL;
	bool present = false;
	enum lsn_err err;
	if ((err = wire_get_id(req, "channel", true, cs.channel, &present, &hc->st)) ||
	    (err = wire_get_str(req, "day", true, 10, &day, &hc->st)))
		return err;
	err = store_channel_get(hc->srv->store, cs.channel, &ch);
	if (err == LSN_OK && (store_member_get(hc->srv->store, cs.channel, hc->sess->user, &me) !=
			      LSN_OK || !me.current))
		err = LSN_ERR_NOT_FOUND;
	if (err != LSN_OK)
		return err == LSN_ERR_NOT_FOUND
			? lsn_fail(&hc->st, err, "no such circle among yours")
			: handler_store_fail(hc, err, "circle");
	if (strcmp(ch.kind, "circle") != 0)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"channel\": not a quality circle (channel of kind circle)");
	if ((cs.day = pathway_parse_day(day)) < 0)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"day\": expected the day of the session as YYYY-MM-DD");
	if (cs.day >= pathway_day_start(hc->now, 1))
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"day\": the session is in the future; record it once held");
	json_t *list = json_object_get(req, "attendees");
	size_t n = json_array_size(list);
	if (!json_is_array(list) || n == 0 || n > CIRCLE_ATTENDEES_MAX)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"attendees\": expected 1 to %d user ids of circle members",
				CIRCLE_ATTENDEES_MAX);
	uint8_t (*ids)[LSN_ID_BYTES] = calloc(n, LSN_ID_BYTES);
	if (ids == NULL)
		return lsn_fail(&hc->st, LSN_ERR_INTERNAL, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct store_member m;
		json_t *one = json_pack("{s:O}", "user", json_array_get(list, i));
		bool got = false;
		err = one ? wire_get_id(one, "user", true, ids[k], &got, &hc->st) : LSN_ERR_INTERNAL;
		json_decref(one);
		if (err != LSN_OK ||
		    store_member_get(hc->srv->store, cs.channel, ids[k], &m) != LSN_OK) {
			free(ids);
			return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
					"field \"attendees\": entry %zu is not a member of the circle "
					"(a user id, 32 hex digits)", i + 1);
		}
		bool twice = false;
		for (size_t j = 0; j < k; j++)
			twice = twice || memcmp(ids[j], ids[k], LSN_ID_BYTES) == 0;
		k += !twice;
	}
	snprintf(cs.day_text, sizeof cs.day_text, "%s", day);
	memcpy(cs.recorded_by, hc->sess->user, LSN_ID_BYTES);
	bool replaced = false;
	/* the CPTS it counts for: the recorder's, else the first member's that is one */
	cs.has_cpts = case_default_cpts(hc->srv->store, hc->sess->user, cs.channel, cs.cpts);
	err = store_circle_session_put(hc->srv->store, &cs, (const uint8_t(*)[LSN_ID_BYTES])ids, k,
				       &replaced);
	free(ids);
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "circle session");
	json_object_set_new(reply, "day", json_string(cs.day_text));
	json_object_set_new(reply, "participants", json_integer((json_int_t)k));
	json_object_set_new(reply, "replaced", json_boolean(replaced));
	return audit_request(hc, "circle_session",
			     &(struct audit_ids){.channel = cs.channel, .detail = cs.day_text});
}
