/* concil_share.c — what leaves the episode: the de-identified copy for a
 * quality circle (built from a whitelist, never by deleting from the full
 * document), the circle's aggregates and their CSV, and the de-identified
 * counts for the server (docs/CONCILIATION.md, "Circle copy", "Aggregates";
 * docs/PROTOCOL.md, "Medication reconciliation"). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concil_int.h"

#define COUNTS_RESOLUTIONS_MAX 500   /* the server keeps at most this many durations */

char *
concil_month(int64_t ms, char out[8])
{
	int64_t y;
	unsigned m, d;
	if (ms <= 0) {
		out[0] = '\0';
		return out;
	}
	concil_civil_from_days(ms / CONCIL_DAY_MS, &y, &m, &d);
	char tmp[48];
	snprintf(tmp, sizeof tmp, "%04lld-%02u", (long long)y, m);
	snprintf(out, 8, "%.7s", tmp);
	return out;
}

static json_t *
month_or_null(int64_t ms)
{
	char m[8];
	return ms > 0 ? json_string(concil_month(ms, m)) : json_null();
}

/* ---- the circle copy --------------------------------------------------------------- */

static const char *const circle_keys[] = {
	"type", "version", "pathway", "transition", "status", "started", "compared", "closed",
	"source_types", "bmo", "order", "discrepancies",
	"channel", "sender", "link",    /* added by the thread layer of the circle channel */
	"mlog",                         /* the same (CRYPTO.md "Membership bound …") */
	NULL,
};
static const char *const circle_line_keys[] = {
	"id", "inn", "atc", "strength", "form", "route", "dose", "unit", "frequency", "as_needed",
	"self_medication", NULL,
};
static const char *const circle_disc_keys[] = {
	"type", "origin", "bmo", "order", "other", "intent", "severity", "proposal", "proposed_by",
	"resolution", "decided_by", NULL,
};

json_t *
concil_circle_encode(const struct concil_episode *ep)
{
	bool ok = true, seen[CONCIL_SOURCE__COUNT] = {false};
	json_t *doc = json_object(), *a;
	concil_json_put(doc, "type", json_string(CONCIL_CIRCLE_TYPE), &ok);
	concil_json_put(doc, "version", json_integer(CONCIL_VERSION), &ok);
	concil_json_put(doc, "pathway", ep->pathway[0] ? json_string(ep->pathway) : json_null(), &ok);
	concil_json_put(doc, "transition", json_string(concil_code(CONCIL_V_TRANSITION, (int)ep->transition)), &ok);
	concil_json_put(doc, "status", json_string(concil_code(CONCIL_V_STATUS, (int)ep->status)), &ok);
	concil_json_put(doc, "started", month_or_null(ep->started_at), &ok);
	concil_json_put(doc, "compared", month_or_null(ep->compared_at), &ok);
	concil_json_put(doc, "closed", month_or_null(ep->closed_at), &ok);
	for (size_t i = 0; i < ep->n_sources; i++)
		if ((unsigned)ep->sources[i].type < CONCIL_SOURCE__COUNT)
			seen[ep->sources[i].type] = true;
	a = json_array();
	for (int t = 0; t < CONCIL_SOURCE__COUNT; t++)
		if (seen[t])
			concil_json_push(a, json_string(concil_code(CONCIL_V_SOURCE, t)), &ok);
	concil_json_put(doc, "source_types", a, &ok);
	a = json_array();
	for (size_t i = 0; i < ep->bmo.n; i++)
		concil_json_push(a, concil_line_json(&ep->bmo.v[i], false), &ok);
	concil_json_put(doc, "bmo", a, &ok);
	a = json_array();
	for (size_t i = 0; i < ep->order.n; i++)
		concil_json_push(a, concil_line_json(&ep->order.v[i], false), &ok);
	concil_json_put(doc, "order", a, &ok);
	a = json_array();
	for (size_t i = 0; i < ep->discs.n; i++)
		concil_json_push(a, concil_disc_json(&ep->discs.v[i], false), &ok);
	concil_json_put(doc, "discrepancies", a, &ok);
	return concil_json_finish(doc, ok);
}

/* A period: the month of a copy made before the generalisation, or the
 * quarter or year of a generalised one (docs/CONCILIATION.md,
 * "Generalisation"). */
static enum lsn_err
circle_month(json_t *doc, const char *key, bool required, int64_t *ms, struct lsn_status *st)
{
	json_t *v = json_object_get(doc, key);
	*ms = 0;
	if (!required && (v == NULL || json_is_null(v)))
		return LSN_OK;
	if (!json_is_string(v) || !concil_period_parse(json_string_value(v), ms, NULL))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%s: expected a month YYYY-MM, a "
				   "quarter YYYY-Qn or a year YYYY"), key);
	return LSN_OK;
}

/* The circle copy's own members: pathway, transition, status, months and
 * source types (the rest is the episode's walk, with the whitelists above). */
static enum lsn_err
circle_head(json_t *doc, struct concil_episode *ep, struct lsn_status *st)
{
	json_t *v, *a;
	size_t i;
	int k;
	enum lsn_err err;
	v = json_object_get(doc, "pathway");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > CONCIL_PATHWAY_MAX)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("pathway: expected a pathway "
					"code"));
		for (const char *c = json_string_value(v); *c; c++)
			if (!(*c >= 'a' && *c <= 'z') && *c != '_')
				return concil_fail(st, LSN_ERR_BAD_REQUEST, _("pathway: expected a "
						"pathway code"));
		snprintf(ep->pathway, sizeof ep->pathway, "%s", json_string_value(v));
	}
	v = json_object_get(doc, "transition");
	if ((k = json_is_string(v) ? concil_parse(CONCIL_V_TRANSITION, json_string_value(v)) : -1) < 0)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("transition: unknown value"));
	ep->transition = k;
	v = json_object_get(doc, "status");
	if ((k = json_is_string(v) ? concil_parse(CONCIL_V_STATUS, json_string_value(v)) : -1) < 0)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("status: unknown value"));
	ep->status = k;
	if ((err = circle_month(doc, "started", true, &ep->started_at, st)) ||
	    (err = circle_month(doc, "compared", false, &ep->compared_at, st)) ||
	    (err = circle_month(doc, "closed", false, &ep->closed_at, st)))
		return err;
	a = json_object_get(doc, "source_types");
	if (!json_is_array(a) || json_array_size(a) > CONCIL_SOURCE__COUNT)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("source_types: expected an array of "
				"source types"));
	if (json_array_size(a) > 0 &&
	    (ep->sources = calloc(json_array_size(a), sizeof *ep->sources)) == NULL)
		return concil_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
	json_array_foreach(a, i, v) {
		if ((k = json_is_string(v) ? concil_parse(CONCIL_V_SOURCE, json_string_value(v)) : -1) < 0)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("source_types[%zu]: unknown "
					"source type"), i);
		ep->sources[ep->n_sources++].type = k;
	}
	return LSN_OK;
}

static const struct concil_form circle_form = {
	.type = CONCIL_CIRCLE_TYPE,
	.what = "a circle copy",
	.version_hint = "",
	.keys = circle_keys,
	.line_keys = circle_line_keys,
	.disc_keys = circle_disc_keys,
	.disc_ids = false,           /* numbered on reading: the copy carries none */
	.head = circle_head,
	.tail = NULL,
};

/* A generalised line (no "inn"): no strength, dose or unit, and an ATC
 * class (levels 1–4) or no code. */
static enum lsn_err
generalised_line(json_t *ln, const char *path, struct lsn_status *st)
{
	static const char *const named[] = {"strength", "dose", "unit", NULL};
	json_t *atc = json_object_get(ln, "atc");
	for (size_t i = 0; named[i]; i++) {
		json_t *v = json_object_get(ln, named[i]);
		if (v && !json_is_null(v))
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%s%s: a line without INN "
					   "(generalised to its class) has no "
					   "%s"), path, named[i], named[i]);
	}
	if (atc && !json_is_null(atc) &&
	    (!json_is_string(atc) || json_string_length(atc) > 5 ||
	     concil_atc_level(json_string_value(atc)) == 0))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%satc: a line without INN carries "
				   "an ATC class (C, C03, C03C, C03CA) or null"), path);
	return LSN_OK;
}

/* Generalised lines are checked here, then read by the one decoder as
 * self-medication lines (which may carry a class) with a placeholder INN;
 * the INN and the self-medication flag are put back afterwards. */
enum lsn_err
concil_circle_decode(json_t *doc, struct concil_episode *ep, struct lsn_status *st)
{
	static const char *const keys[2] = {"bmo", "order"};
	json_t *work = NULL;
	unsigned char *mark[2] = {NULL, NULL};    /* 0 plain, 1 generalised, 3 … and self-medication */
	enum lsn_err err = LSN_OK;
	for (int l = 0; l < 2 && json_is_object(doc); l++) {
		json_t *a = json_object_get(doc, keys[l]), *ln;
		size_t i;
		if (!json_is_array(a) || json_array_size(a) > CONCIL_LINES_MAX)
			continue;                    /* the decoder says what is wrong */
		json_array_foreach(a, i, ln) {
			json_t *inn = json_object_get(ln, "inn");
			char path[48];
			if (!json_is_object(ln) || (inn && !json_is_null(inn)))
				continue;
			snprintf(path, sizeof path, "%s[%zu].", keys[l], i);
			if ((err = generalised_line(ln, path, st)) != LSN_OK)
				goto done;
			if (work == NULL && (work = json_deep_copy(doc)) == NULL) {
				err = concil_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
				goto done;
			}
			if (mark[l] == NULL && (mark[l] = calloc(json_array_size(a), 1)) == NULL) {
				err = concil_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
				goto done;
			}
			mark[l][i] = json_is_true(json_object_get(ln, "self_medication")) ? 3 : 1;
			json_t *w = json_array_get(json_object_get(work, keys[l]), i);
			if (json_object_set_new(w, "inn", json_string("x")) != 0 ||
			    json_object_set_new(w, "self_medication", json_true()) != 0) {
				err = concil_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
				goto done;
			}
		}
	}
	if ((err = concil_doc_decode(work ? work : doc, &circle_form, ep, st)) != LSN_OK)
		goto done;
	struct concil_lines *lists[2] = {&ep->bmo, &ep->order};
	for (int l = 0; l < 2; l++)
		for (size_t i = 0; mark[l] && i < lists[l]->n; i++)
			if (mark[l][i]) {
				lists[l]->v[i].inn[0] = '\0';
				lists[l]->v[i].self_medication = mark[l][i] == 3;
			}
done:
	json_decref(work);
	free(mark[0]);
	free(mark[1]);
	return err;
}

/* ---- aggregates ------------------------------------------------------------------- */

void
concil_agg_init(struct concil_agg *a)
{
	memset(a, 0, sizeof *a);
}

void
concil_agg_free(struct concil_agg *a)
{
	free(a->atc3);
	free(a->atc5);
	memset(a, 0, sizeof *a);
}

/* Count one in the sorted table for class cls. */
static bool
atc_count(struct concil_atc_count **v, size_t *n, size_t *cap, const char *cls)
{
	size_t lo = 0, hi = *n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp((*v)[mid].cls, cls);
		if (c == 0) {
			(*v)[mid].n++;
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct concil_atc_count *p = realloc(*v, nc * sizeof *p);
		if (p == NULL)
			return false;
		*v = p;
		*cap = nc;
	}
	memmove(&(*v)[lo + 1], &(*v)[lo], (*n - lo) * sizeof **v);
	memset(&(*v)[lo], 0, sizeof **v);
	snprintf((*v)[lo].cls, sizeof (*v)[lo].cls, "%s", cls);
	(*v)[lo].n = 1;
	(*n)++;
	return true;
}

bool
concil_agg_add(struct concil_agg *a, const struct concil_episode *ep)
{
	a->cases++;
	for (size_t i = 0; i < ep->discs.n; i++) {
		const struct concil_disc *d = &ep->discs.v[i];
		const struct concil_line *ln = concil_line_find(ep, d->bmo ? d->bmo : d->order);
		const char *atc = ln ? ln->atc : "";
		char c3[CONCIL_ATC_LEN + 1] = "?", c5[CONCIL_ATC_LEN + 1] = "?";
		size_t n = strlen(atc);
		if (n >= 3)
			snprintf(c3, sizeof c3, "%.3s", atc);
		if (n >= 5)
			snprintf(c5, sizeof c5, "%.5s", atc);
		a->discrepancies++;
		if (d->resolution != CONCIL_PENDING)
			a->resolved++;
		if ((unsigned)d->type < CONCIL_DTYPE__COUNT)
			a->by_type[d->type]++;
		if ((unsigned)d->intent < CONCIL_INTENT__COUNT)
			a->by_intent[d->intent]++;
		if ((unsigned)d->severity < CONCIL_SEVERITY__COUNT)
			a->by_severity[d->severity]++;
		if (!atc_count(&a->atc3, &a->n_atc3, &a->cap_atc3, c3) ||
		    !atc_count(&a->atc5, &a->n_atc5, &a->cap_atc5, c5))
			return false;
	}
	return true;
}

double
concil_agg_resolved_share(const struct concil_agg *a)
{
	return a->discrepancies > 0 ? (double)a->resolved / (double)a->discrepancies : 0.0;
}

json_t *
concil_agg_json(const struct concil_agg *a)
{
	bool ok = true;
	json_t *o = json_object(), *m;
	concil_json_put(o, "cases", json_integer(a->cases), &ok);
	concil_json_put(o, "discrepancies", json_integer(a->discrepancies), &ok);
	concil_json_put(o, "resolved", json_integer(a->resolved), &ok);
	concil_json_put(o, "resolved_share", json_real(concil_agg_resolved_share(a)), &ok);
	m = json_object();
	for (int t = 0; t < CONCIL_DTYPE__COUNT; t++)
		concil_json_put(m, concil_code(CONCIL_V_TYPE, t), json_integer(a->by_type[t]), &ok);
	concil_json_put(o, "by_type", m, &ok);
	m = json_object();
	for (int t = 0; t < CONCIL_INTENT__COUNT; t++)
		concil_json_put(m, concil_code(CONCIL_V_INTENT, t), json_integer(a->by_intent[t]), &ok);
	concil_json_put(o, "by_intent", m, &ok);
	m = json_object();
	for (int t = 1; t < CONCIL_SEVERITY__COUNT; t++)
		concil_json_put(m, concil_code(CONCIL_V_SEVERITY, t), json_integer(a->by_severity[t]), &ok);
	concil_json_put(o, "by_severity", m, &ok);
	m = json_object();
	for (size_t i = 0; i < a->n_atc3; i++)
		concil_json_put(m, a->atc3[i].cls, json_integer(a->atc3[i].n), &ok);
	concil_json_put(o, "by_atc3", m, &ok);
	m = json_object();
	for (size_t i = 0; i < a->n_atc5; i++)
		concil_json_put(m, a->atc5[i].cls, json_integer(a->atc5[i].n), &ok);
	concil_json_put(o, "by_atc5", m, &ok);
	return concil_json_finish(o, ok);
}

struct sbuf {
	char *s;
	size_t n, cap;
	bool failed;
};

static void
sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0) {
			b->failed = true;
			return;
		}
		if (b->s && b->n + (size_t)k < b->cap) {
			b->n += (size_t)k;
			return;
		}
		size_t nc = (b->cap ? b->cap * 2 : 1024) + (size_t)k;
		char *p = realloc(b->s, nc);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->s = p;
		b->cap = nc;
	}
}

/* One row; share = count / den with 3 decimals (empty when den is 0),
 * written without printf's locale-dependent %f. */
static void
row(struct sbuf *b, const char *dim, const char *key, int64_t count, int64_t den)
{
	if (den <= 0) {
		sb_printf(b, "%s,%s,%lld,\n", dim, key, (long long)count);
		return;
	}
	long long milli = (long long)((count * 1000 + den / 2) / den);
	sb_printf(b, "%s,%s,%lld,%lld.%03lld\n", dim, key, (long long)count, milli / 1000, milli % 1000);
}

char *
concil_agg_csv(const struct concil_agg *a)
{
	struct sbuf b = {0};
	int64_t den = a->discrepancies;
	sb_printf(&b, "dimension,key,count,share\n");
	row(&b, "cases", "all", a->cases, 0);
	row(&b, "discrepancies", "all", a->discrepancies, den);
	row(&b, "resolved", "all", a->resolved, den);
	for (int t = 0; t < CONCIL_DTYPE__COUNT; t++)
		row(&b, "type", concil_code(CONCIL_V_TYPE, t), a->by_type[t], den);
	for (int t = 0; t < CONCIL_INTENT__COUNT; t++)
		row(&b, "intent", concil_code(CONCIL_V_INTENT, t), a->by_intent[t], den);
	for (int t = 1; t < CONCIL_SEVERITY__COUNT; t++)
		row(&b, "severity", concil_code(CONCIL_V_SEVERITY, t), a->by_severity[t], den);
	for (size_t i = 0; i < a->n_atc3; i++)
		row(&b, "atc3", a->atc3[i].cls, a->atc3[i].n, den);
	for (size_t i = 0; i < a->n_atc5; i++)
		row(&b, "atc5", a->atc5[i].cls, a->atc5[i].n, den);
	if (b.failed) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

/* ---- counts for the server ------------------------------------------------------- */

json_t *
concil_counts(const struct concil_episode *ep)
{
	int64_t by_type[CONCIL_DTYPE__COUNT] = {0}, by_intent[CONCIL_INTENT__COUNT] = {0};
	int64_t resolved = 0;
	bool ok = true;
	json_t *o, *m, *times;
	if (ep->case_id[0] == '\0' || ep->episode[0] == '\0')
		return NULL;
	times = json_array();
	for (size_t i = 0; i < ep->discs.n; i++) {
		const struct concil_disc *d = &ep->discs.v[i];
		if ((unsigned)d->type < CONCIL_DTYPE__COUNT)
			by_type[d->type]++;
		if ((unsigned)d->intent < CONCIL_INTENT__COUNT)
			by_intent[d->intent]++;
		if (d->resolution == CONCIL_PENDING)
			continue;
		resolved++;
		if (d->decided_at > 0 && d->detected_at > 0 &&
		    json_array_size(times) < COUNTS_RESOLUTIONS_MAX)
			concil_json_push(times, json_integer(d->decided_at > d->detected_at ?
						 d->decided_at - d->detected_at : 0), &ok);
	}
	o = json_object();
	concil_json_put(o, "case", json_string(ep->case_id), &ok);
	concil_json_put(o, "episode", json_string(ep->episode), &ok);
	concil_json_put(o, "transition", json_string(concil_code(CONCIL_V_TRANSITION, (int)ep->transition)), &ok);
	concil_json_put(o, "status", json_string(concil_code(CONCIL_V_STATUS, (int)ep->status)), &ok);
	concil_json_put(o, "source_types", json_integer(concil_source_types(ep)), &ok);
	concil_json_put(o, "lines_bmo", json_integer((json_int_t)ep->bmo.n), &ok);
	concil_json_put(o, "lines_order", json_integer((json_int_t)ep->order.n), &ok);
	m = json_object();
	for (int t = 0; t < CONCIL_DTYPE__COUNT; t++)
		if (by_type[t])
			concil_json_put(m, concil_code(CONCIL_V_TYPE, t), json_integer(by_type[t]), &ok);
	concil_json_put(o, "by_type", m, &ok);
	m = json_object();
	for (int t = 0; t < CONCIL_INTENT__COUNT; t++)
		if (by_intent[t])
			concil_json_put(m, concil_code(CONCIL_V_INTENT, t), json_integer(by_intent[t]), &ok);
	concil_json_put(o, "by_intent", m, &ok);
	concil_json_put(o, "unintentional", json_integer(by_intent[CONCIL_UNINTENTIONAL]), &ok);
	concil_json_put(o, "resolved", json_integer(resolved), &ok);
	concil_json_put(o, "resolution_ms", times, &ok);
	concil_json_put(o, "started_at", json_integer(ep->started_at), &ok);
	concil_json_put(o, "compared_at", ep->compared_at > 0 ? json_integer(ep->compared_at) : json_null(), &ok);
	concil_json_put(o, "closed_at", ep->closed_at > 0 ? json_integer(ep->closed_at) : json_null(), &ok);
	return concil_json_finish(o, ok);
}
