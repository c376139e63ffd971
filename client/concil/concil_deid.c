/* concil_deid.c — the generalisation of the circle copy so that it holds in
 * a small territory (docs/CONCILIATION.md, "Circle copy", "Generalisation"):
 * the quarter instead of the month (the year when the quarter's group is
 * smaller than k), the ATC class instead of a substance held by fewer than k
 * of the circle's reconciliations, one class further up for any pair of drugs
 * held together by fewer than k, and a refusal when the copy's group
 * (pathway, transition, period) is smaller than k. Pure: the circle's copies
 * are given, as decrypted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concil_int.h"

/* Length of an ATC code of level 0–5 ("", C, C03, C03C, C03CA, C03CA01). */
static const size_t level_len[6] = {0, 1, 3, 4, 5, 7};

static int
level_of(const char *code)
{
	return code[0] ? concil_atc_level(code) : 0;
}

/* ---- periods -------------------------------------------------------------------- */

static bool
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool
concil_period_parse(const char *s, int64_t *ms, enum concil_period *kind)
{
	size_t n = s ? strlen(s) : 0;
	if ((n != 4 && n != 7) || !digits(s, 4))
		return false;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	unsigned m = 1;
	enum concil_period k = CONCIL_PERIOD_YEAR;
	if (y < 1900 || y > 2999)
		return false;
	if (n == 7 && s[4] == '-' && s[5] == 'Q' && s[6] >= '1' && s[6] <= '4') {
		m = (unsigned)(s[6] - '1') * 3 + 1;
		k = CONCIL_PERIOD_QUARTER;
	} else if (n == 7) {
		if (s[4] != '-' || !digits(s + 5, 2))
			return false;
		m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
		if (m < 1 || m > 12)
			return false;
		k = CONCIL_PERIOD_MONTH;
	}
	*ms = concil_days_from_civil(y, m, 1) * CONCIL_DAY_MS;
	if (kind)
		*kind = k;
	return true;
}

/* The quarter of the month concil_month names: "2025-11" → "2025-Q4". */
char *
concil_quarter(int64_t ms, char out[8])
{
	char month[8];
	concil_month(ms, month);
	if (month[0] == '\0') {
		out[0] = '\0';
		return out;
	}
	unsigned m = (unsigned)(month[5] - '0') * 10 + (unsigned)(month[6] - '0');
	char quarter = (char)('1' + (m - 1) / 3 % 4);
	snprintf(out, 8, "%.4s-Q%c", month, quarter);
	return out;
}

/* The period of a copy's "started" at a precision: "2025-Q4" or "2025";
 * "" when it is coarser than asked (a year asked as a quarter) or invalid. */
static void
period_at(const char *started, bool year, char out[8])
{
	int64_t ms;
	enum concil_period kind;
	char tmp[8];
	out[0] = '\0';
	if (started == NULL || !concil_period_parse(started, &ms, &kind))
		return;
	if (year)
		snprintf(out, 8, "%.4s", started);
	else if (kind != CONCIL_PERIOD_YEAR)
		snprintf(out, 8, "%s", concil_quarter(ms, tmp));
}

/* ---- the group and its drugs ------------------------------------------------------- */

/* One reconciliation of the group: the ATC codes of its lines (both lists;
 * a class when its copy was generalised). */
struct member {
	const char **codes;
	size_t n;
};

static bool
member_add(struct member *m, const char *code)
{
	if (code == NULL || code[0] == '\0')
		return true;
	const char **p = realloc(m->codes, (m->n + 1) * sizeof *p);
	if (p == NULL)
		return false;
	m->codes = p;
	m->codes[m->n++] = code;
	return true;
}

/* Does the member hold a drug of class (or substance) p? */
static bool
covers(const struct member *m, const char *p)
{
	size_t n = strlen(p);
	for (size_t i = 0; n > 0 && i < m->n; i++)
		if (strlen(m->codes[i]) >= n && strncmp(m->codes[i], p, n) == 0)
			return true;
	return false;
}

static int
support(const struct member *g, size_t n, const char *a, const char *b)
{
	int s = 0;
	for (size_t i = 0; i < n; i++)
		s += covers(&g[i], a) && (b == NULL || covers(&g[i], b));
	return s;
}

static bool
held_matches(json_t *copy, const struct concil_episode *ep, const char *period, bool year)
{
	json_t *pw = json_object_get(copy, "pathway");
	const char *p = json_is_string(pw) ? json_string_value(pw) : "";
	const char *tr = json_string_value(json_object_get(copy, "transition"));
	char mine[8];
	period_at(json_string_value(json_object_get(copy, "started")), year, mine);
	return strcmp(p, ep->pathway) == 0 && tr &&
	       strcmp(tr, concil_code(CONCIL_V_TRANSITION, (int)ep->transition)) == 0 &&
	       mine[0] && strcmp(mine, period) == 0;
}

static size_t
group_size(const struct concil_episode *ep, json_t *const *held, size_t n_held, bool year,
	   char period[8])
{
	char m[8];
	size_t n = 1;
	period_at(concil_month(ep->started_at, m), year, period);
	for (size_t i = 0; i < n_held; i++)
		n += held_matches(held[i], ep, period, year);
	return n;
}

/* The group: this episode first, then the matching copies. */
static bool
group_build(const struct concil_episode *ep, json_t *const *held, size_t n_held, bool year,
	    const char *period, struct member **out, size_t *n)
{
	struct member *g = calloc(n_held + 1, sizeof *g);
	bool ok = g != NULL;
	*out = g;
	*n = 0;
	if (!ok)
		return false;
	const struct concil_lines *lists[2] = {&ep->bmo, &ep->order};
	for (int l = 0; l < 2; l++)
		for (size_t i = 0; ok && i < lists[l]->n; i++)
			ok = member_add(&g[0], lists[l]->v[i].atc);
	*n = 1;
	for (size_t h = 0; ok && h < n_held; h++) {
		if (!held_matches(held[h], ep, period, year))
			continue;
		static const char *const keys[2] = {"bmo", "order"};
		for (int l = 0; l < 2; l++) {
			json_t *ln;
			size_t i;
			json_array_foreach(json_object_get(held[h], keys[l]), i, ln)
				if (ok && json_is_string(json_object_get(ln, "atc")))
					ok = member_add(&g[*n], json_string_value(json_object_get(ln, "atc")));
		}
		(*n)++;
	}
	return ok;
}

static void
group_free(struct member *g, size_t n)
{
	for (size_t i = 0; g && i < n; i++)
		free(g[i].codes);
	free(g);
}

/* One level up: C03CA01 → C03CA → C03C → C03 → C → "" (suppressed). */
static void
level_up(char *code)
{
	int lv = level_of(code);
	code[lv > 0 ? level_len[lv - 1] : 0] = '\0';
}

/* Rule 3 (pairs): while two distinct codes of the copy are held together by
 * fewer than k reconciliations of the group, the rarer of the two (on a tie,
 * the more specific; then the later line) goes up, one level at a time on
 * every line that carries it, until the pair is held by k or it has no code
 * left. Every step shortens a code: it ends. */
static void
pairs(struct concil_deid *r, const struct member *g, size_t n)
{
	for (bool again = true; again;) {
		again = false;
		for (size_t i = 0; i < r->n_lines && !again; i++)
			for (size_t j = i + 1; j < r->n_lines && !again; j++) {
				const char *a = r->lines[i].shared, *b = r->lines[j].shared;
				if (!a[0] || !b[0] || strcmp(a, b) == 0 ||
				    support(g, n, a, b) >= r->k)
					continue;
				int sa = support(g, n, a, NULL), sb = support(g, n, b, NULL);
				size_t la = strlen(a), lb = strlen(b);
				size_t v = sa < sb ? i : sb < sa ? j : la > lb ? i : lb > la ? j : j;
				char victim[CONCIL_ATC_LEN + 1], other[CONCIL_ATC_LEN + 1];
				snprintf(other, sizeof other, "%s", v == i ? b : a);
				do {
					snprintf(victim, sizeof victim, "%s", r->lines[v].shared);
					for (size_t x = 0; x < r->n_lines; x++)
						if (strcmp(r->lines[x].shared, victim) == 0) {
							level_up(r->lines[x].shared);
							r->lines[x].pair = true;
							snprintf(r->lines[x].pair_with,
								 sizeof r->lines[x].pair_with, "%s", other);
						}
				} while (r->lines[v].shared[0] &&
					 support(g, n, r->lines[v].shared, other) < r->k);
				again = true;
			}
	}
}

/* The copy's lines: a line whose drug is shared as its full substance keeps
 * everything; any other loses its INN, strength, dose and unit (they name
 * the substance), and carries its class, or no code at all. */
static bool
lines_apply(json_t *copy, const struct concil_deid *r)
{
	static const char *const keys[2] = {"bmo", "order"};
	for (int l = 0; l < 2; l++) {
		json_t *ln;
		size_t i;
		json_array_foreach(json_object_get(copy, keys[l]), i, ln) {
			json_int_t id = json_integer_value(json_object_get(ln, "id"));
			const struct concil_gen_line *g = NULL;
			for (size_t x = 0; x < r->n_lines && !g; x++)
				if (r->lines[x].id == id)
					g = &r->lines[x];
			if (g == NULL)
				return false;
			if (level_of(g->shared) == 5 && strcmp(g->shared, g->atc) == 0)
				continue;
			json_object_del(ln, "strength");
			json_object_del(ln, "dose");
			json_object_del(ln, "unit");
			if (json_object_set_new(ln, "inn", json_null()) != 0 ||
			    json_object_set_new(ln, "atc", g->shared[0] ? json_string(g->shared)
							   : json_null()) != 0)
				return false;
		}
	}
	return true;
}

enum lsn_err
concil_circle_deid(const struct concil_episode *ep, json_t *const *held, size_t n_held, int k,
		   json_t **copy, struct concil_deid *r, struct lsn_status *st)
{
	struct member *g = NULL;
	size_t n = 0;
	enum lsn_err err = LSN_OK;
	*copy = NULL;
	memset(r, 0, sizeof *r);
	if (k < 1 || k > CONCIL_K_MAX)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("k: expected a group size from 1 to "
				"%d"),
				   CONCIL_K_MAX);
	if (ep->started_at <= 0)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("the reconciliation has no start "
				"date"));
	r->k = k;
	r->held = n_held;
	concil_month(ep->started_at, r->month);
	/* rule 1: the period and the group */
	r->group_quarter = group_size(ep, held, n_held, false, r->period);
	r->group = r->group_quarter;
	if (r->group < (size_t)k) {
		r->to_year = true;
		r->group = group_size(ep, held, n_held, true, r->period);
	}
	if (r->group < (size_t)k)
		return concil_fail(st, LSN_ERR_CONFLICT, ngettext("the circle would hold %zu reconciliation "
				   "with this pathway (%s), transition (%s) and year (%s), this one "
				   "included: fewer than k = %d, and a copy this rare can point at the "
				   "patient", "the circle would hold %zu reconciliations "
				   "with this pathway (%s), transition (%s) and year (%s), this one "
				   "included: fewer than k = %d, and a copy this rare can point at the "
				   "patient", r->group), r->group,
				   ep->pathway[0] ? ep->pathway : "none",
				   concil_code(CONCIL_V_TRANSITION, (int)ep->transition), r->period, k);
	/* rule 2: each drug at the most specific level that k of the group hold */
	r->n_lines = ep->bmo.n + ep->order.n;
	if ((r->lines = calloc(r->n_lines ? r->n_lines : 1, sizeof *r->lines)) == NULL ||
	    !group_build(ep, held, n_held, r->to_year, r->period, &g, &n)) {
		err = concil_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
		goto done;
	}
	for (size_t i = 0; i < r->n_lines; i++) {
		const struct concil_line *ln = i < ep->bmo.n ? &ep->bmo.v[i] : &ep->order.v[i - ep->bmo.n];
		struct concil_gen_line *gl = &r->lines[i];
		gl->list = ln->list;
		gl->id = ln->id;
		snprintf(gl->inn, sizeof gl->inn, "%s", ln->inn);
		snprintf(gl->atc, sizeof gl->atc, "%s", ln->atc);
		gl->support_atc = ln->atc[0] ? support(g, n, ln->atc, NULL) : 0;
		snprintf(gl->shared, sizeof gl->shared, "%s", ln->atc);
		while (gl->shared[0] && support(g, n, gl->shared, NULL) < k)
			level_up(gl->shared);
	}
	/* rule 3: pairs of drugs */
	pairs(r, g, n);
	for (size_t i = 0; i < r->n_lines; i++)
		r->lines[i].support = r->lines[i].shared[0] ? support(g, n, r->lines[i].shared, NULL)
							    : 0;
	/* the copy: the whitelist, then the generalisation */
	json_t *c = concil_circle_encode(ep);
	if (c == NULL || json_object_set_new(c, "started", json_string(r->period)) != 0 ||
	    json_object_set_new(c, "compared", json_null()) != 0 ||
	    json_object_set_new(c, "closed", json_null()) != 0 || !lines_apply(c, r)) {
		json_decref(c);
		err = concil_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
		goto done;
	}
	*copy = c;
done:
	group_free(g, n_held + 1);
	if (err != LSN_OK)
		concil_deid_free(r);
	return err;
}

void
concil_deid_free(struct concil_deid *r)
{
	free(r->lines);
	r->lines = NULL;
	r->n_lines = 0;
}
