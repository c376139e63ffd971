/* concil_compare.c — the BMO compared with the prescription (order), line by
 * line, into proposed discrepancies. The rules, with examples, are in
 * docs/CONCILIATION.md, "Comparison"; people review every result. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "concil_int.h"

enum pair_kind { P_NONE, P_MATCH, P_SUBST };

static bool
atc_full(const struct concil_line *l)
{
	return concil_atc_level(l->atc) == 5;
}

static bool
same_class(const struct concil_line *a, const struct concil_line *b)
{
	return atc_full(a) && atc_full(b) && memcmp(a->atc, b->atc, 5) == 0;
}

static bool
same_substance(const struct concil_line *a, const struct concil_line *b, const char *ka,
	       const char *kb)
{
	if (atc_full(a) && atc_full(b) && strcmp(a->atc, b->atc) == 0)
		return true;
	return ka[0] && strcmp(ka, kb) == 0;
}

/* ---- amounts ----------------------------------------------------------------- */

enum dim { D_NONE, D_MASS, D_UI, D_MMOL };

/* mg, g, µg (in µg), UI, mmol; D_NONE for anything else. */
static enum dim
unit_dim(const char *key, double *factor)
{
	if (strcmp(key, "mg") == 0) {
		*factor = 1e3;
		return D_MASS;
	}
	if (strcmp(key, "g") == 0) {
		*factor = 1e6;
		return D_MASS;
	}
	if (strcmp(key, "ug") == 0 || strcmp(key, "mcg") == 0) {
		*factor = 1;
		return D_MASS;
	}
	*factor = 1;
	if (strcmp(key, "ui") == 0)
		return D_UI;
	if (strcmp(key, "mmol") == 0)
		return D_MMOL;
	return D_NONE;
}

/* A strength "40 mg", "2,5mg", "100 UI/mL": value per counted unit (or per
 * mL when *per_ml). false for anything else ("49 mg/51 mg"). */
static bool
strength_parse(const char *s, double *value, enum dim *dim, bool *per_ml)
{
	char f[4 * CONCIL_STRENGTH_MAX + 1], k[sizeof f];
	size_t o = 0;
	concil_fold(s, strlen(s), f, sizeof f);
	for (const char *c = f; *c; c++)
		if (*c != ' ')
			k[o++] = *c == ',' ? '.' : *c;
	k[o] = '\0';
	const char *p = k;
	double v = 0, scale = 0;
	bool digit = false;
	for (; isdigit((unsigned char)*p) || (*p == '.' && scale == 0); p++) {
		if (*p == '.') {
			scale = 1;
			continue;
		}
		digit = true;
		if (scale > 0) {
			scale /= 10;
			v += (*p - '0') * scale;
		} else {
			v = v * 10 + (*p - '0');
		}
	}
	if (!digit || v <= 0 || v > 1e9)
		return false;
	char unit[16];
	size_t u = 0;
	while (*p && *p != '/' && u + 1 < sizeof unit)
		unit[u++] = *p++;
	unit[u] = '\0';
	double factor;
	*dim = unit_dim(unit, &factor);
	if (*dim == D_NONE)
		return false;
	*per_ml = false;
	if (*p == '/') {
		if (strcmp(p, "/ml") != 0)
			return false;
		*per_ml = true;
	} else if (*p) {
		return false;
	}
	*value = v * factor;
	return true;
}

/* The amount given at each administration, when it can be known: a dose in
 * mg/g/µg/UI/mmol, or a count of units (comprimé…) or of mL times a single
 * strength. */
static bool
line_amount(const struct concil_line *l, double *amount, enum dim *dim)
{
	char key[CONCIL_WORD_MAX * 4 + 1];
	double factor, sv;
	bool per_ml;
	if (l->dose_milli <= 0 || !l->unit[0])
		return false;
	double dose = (double)l->dose_milli / 1000.0;
	concil_fold(l->unit, strlen(l->unit), key, sizeof key);
	*dim = unit_dim(key, &factor);
	if (*dim != D_NONE) {
		*amount = dose * factor;
		return true;
	}
	if (!l->strength[0] || !strength_parse(l->strength, &sv, dim, &per_ml))
		return false;
	if (per_ml ? strcmp(l->unit, "mL") != 0 : !concil_unit_is_count(l->unit))
		return false;
	*amount = dose * sv;
	return true;
}

static void
strength_key(const char *s, char *out, size_t cap)
{
	char f[4 * CONCIL_STRENGTH_MAX + 1];
	size_t o = 0;
	concil_fold(s, strlen(s), f, sizeof f);
	for (const char *c = f; *c && o + 1 < cap; c++)
		if (*c != ' ')
			out[o++] = *c == ',' ? '.' : *c;
	out[o] = '\0';
}

static bool
dose_differs(const struct concil_line *a, const struct concil_line *b)
{
	double x, y;
	enum dim dx, dy;
	if (line_amount(a, &x, &dx) && line_amount(b, &y, &dy)) {
		if (dx != dy)
			return true;
		double diff = x > y ? x - y : y - x, big = x > y ? x : y;
		return diff > 1e-9 * big;          /* amounts are positive */
	}
	if (a->dose_milli != b->dose_milli || strcmp(a->unit, b->unit) != 0)
		return true;
	if (a->strength[0] && b->strength[0]) {
		char ka[4 * CONCIL_STRENGTH_MAX + 1], kb[sizeof ka];
		strength_key(a->strength, ka, sizeof ka);
		strength_key(b->strength, kb, sizeof kb);
		return strcmp(ka, kb) != 0;
	}
	return false;
}

static bool
frequency_differs(const struct concil_line *a, const struct concil_line *b)
{
	int pa, pb;
	unsigned ma, mb;
	if (a->as_needed != b->as_needed)
		return true;
	if (strcmp(a->frequency, b->frequency) == 0)
		return false;
	if (!concil_frequency_facts(a->frequency, &pa, &ma) ||
	    !concil_frequency_facts(b->frequency, &pb, &mb))
		return true;
	/* "2/j" and "matin et soir" are the same; "matin" and "soir" are not */
	return !(pa > 0 && pa == pb && (ma == 0 || mb == 0));
}

static bool
incomplete(const struct concil_line *l)
{
	return l->dose_milli <= 0 || !l->unit[0] || !l->frequency[0];
}

static bool
emit(struct concil_discs *out, enum concil_dtype type, int bmo, int order, int other)
{
	struct concil_disc d;
	memset(&d, 0, sizeof d);
	d.type = type;
	d.bmo = bmo;
	d.order = order;
	d.other = other;
	d.intent = CONCIL_UNDETERMINED;
	d.severity = CONCIL_SEV_NONE;
	d.proposal = CONCIL_PENDING;
	d.resolution = CONCIL_PENDING;
	return concil_discs_push(out, &d);
}

bool
concil_compare(const struct concil_episode *ep, struct concil_discs *out)
{
	const struct concil_line *B = ep->bmo.v, *O = ep->order.v;
	size_t nb = ep->bmo.n, no = ep->order.n;
	int *pb = NULL, *po = NULL;
	enum pair_kind *kb = NULL;
	char (*keyb)[CONCIL_INN_MAX + 1] = NULL, (*keyo)[CONCIL_INN_MAX + 1] = NULL;
	bool ok = false;
	out->n = 0;
	if ((nb && (!(pb = malloc(nb * sizeof *pb)) || !(kb = malloc(nb * sizeof *kb)) ||
		    !(keyb = malloc(nb * sizeof *keyb)))) ||
	    (no && (!(po = malloc(no * sizeof *po)) || !(keyo = malloc(no * sizeof *keyo)))))
		goto out;
	for (size_t i = 0; i < nb; i++) {
		pb[i] = -1;
		kb[i] = P_NONE;
		concil_inn_key(B[i].inn, keyb[i], sizeof keyb[i]);
	}
	for (size_t j = 0; j < no; j++) {
		po[j] = -1;
		concil_inn_key(O[j].inn, keyo[j], sizeof keyo[j]);
	}
	/* 1. the same full ATC code; 2. the same INN; 3. the same ATC class
	 * (5 characters), another substance: a substitution. Each pass takes the
	 * first free order line, in list order. */
	for (int pass = 1; pass <= 3; pass++)
		for (size_t i = 0; i < nb; i++) {
			if (pb[i] >= 0)
				continue;
			for (size_t j = 0; j < no; j++) {
				if (po[j] >= 0)
					continue;
				bool hit = pass == 1 ? atc_full(&B[i]) && atc_full(&O[j]) &&
							       strcmp(B[i].atc, O[j].atc) == 0
					 : pass == 2 ? keyb[i][0] && strcmp(keyb[i], keyo[j]) == 0
					 : same_class(&B[i], &O[j]);
				if (hit) {
					pb[i] = (int)j;
					po[j] = (int)i;
					kb[i] = pass == 3 ? P_SUBST : P_MATCH;
					break;
				}
			}
		}
	/* BMO lines, in order */
	for (size_t i = 0; i < nb; i++) {
		const struct concil_line *b = &B[i];
		if (pb[i] < 0) {
			if (!emit(out, CONCIL_OMISSION, b->id, 0, 0))
				goto out;
		} else if (kb[i] == P_SUBST) {
			if (!emit(out, CONCIL_SUBSTITUTION, b->id, O[pb[i]].id, 0))
				goto out;
		} else {
			const struct concil_line *o = &O[pb[i]];
			bool both_dose = b->dose_milli > 0 && b->unit[0] && o->dose_milli > 0 && o->unit[0];
			bool both_freq = b->frequency[0] && o->frequency[0];
			if ((both_dose && dose_differs(b, o) && !emit(out, CONCIL_DOSE_CHANGE, b->id, o->id, 0)) ||
			    (both_freq && frequency_differs(b, o) &&
			     !emit(out, CONCIL_FREQUENCY_CHANGE, b->id, o->id, 0)) ||
			    (b->route[0] && o->route[0] && strcmp(b->route, o->route) != 0 &&
			     !emit(out, CONCIL_ROUTE_CHANGE, b->id, o->id, 0)) ||
			    (b->form[0] && o->form[0] && strcmp(b->form, o->form) != 0 &&
			     !emit(out, CONCIL_FORM_CHANGE, b->id, o->id, 0)))
				goto out;
		}
		if (incomplete(b) && !emit(out, CONCIL_INCOMPLETE, b->id, 0, 0))
			goto out;
	}
	/* order lines, in order */
	for (size_t j = 0; j < no; j++) {
		const struct concil_line *o = &O[j];
		int earlier = -1;
		for (size_t k = 0; k < j && earlier < 0; k++)
			if (same_substance(&O[k], o, keyo[k], keyo[j]) || same_class(&O[k], o))
				earlier = (int)k;
		if (earlier >= 0) {
			if (!emit(out, CONCIL_DUPLICATION, 0, o->id, O[earlier].id))
				goto out;
		} else if (po[j] < 0) {
			if (!emit(out, CONCIL_ADDITION, 0, o->id, 0))
				goto out;
		}
		if (incomplete(o) && !emit(out, CONCIL_INCOMPLETE, 0, o->id, 0))
			goto out;
	}
	ok = true;
out:
	free(pb);
	free(po);
	free(kb);
	free(keyb);
	free(keyo);
	if (!ok)
		out->n = 0;
	return ok;
}

static bool
same_finding(const struct concil_disc *a, const struct concil_disc *b)
{
	return a->type == b->type && a->bmo == b->bmo && a->order == b->order && a->other == b->other;
}

enum lsn_err
concil_apply_compare(struct concil_episode *ep, const char *profession, int64_t now,
		     struct lsn_status *st)
{
	struct concil_discs found = {0}, merged = {0};
	enum lsn_err err = LSN_OK;
	if (concil_role_of(profession) == CONCIL_ROLE_NONE)
		return concil_fail(st, LSN_ERR_FORBIDDEN, _("only a pharmacist or a prescriber "
				"compares the BMO with the prescription"));
	if (ep->status != CONCIL_BMO_DONE && ep->status != CONCIL_COMPARED &&
	    ep->status != CONCIL_AWAITING_PRESCRIBER)
		return concil_fail(st, LSN_ERR_CONFLICT, ep->status == CONCIL_CLOSED ?
				_("the reconciliation is closed: start a new episode") :
				"complete the BMO first (at least 3 distinct source types), then compare");
	if (!concil_compare(ep, &found)) {
		err = concil_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
		goto out;
	}
	/* a finding made again keeps its id and review; what people added stays
	 * (after the findings) */
	int next = ep->next_id;
	for (size_t i = 0; i < found.n; i++) {
		struct concil_disc d = found.v[i];
		const struct concil_disc *old = NULL;
		for (size_t k = 0; k < ep->discs.n && !old; k++)
			if (!ep->discs.v[k].manual && same_finding(&ep->discs.v[k], &d))
				old = &ep->discs.v[k];
		if (old) {
			d = *old;
		} else {
			d.id = next++;
			d.detected_at = now;
		}
		if (!concil_discs_push(&merged, &d))
			goto oom;
	}
	for (size_t i = 0; i < ep->discs.n; i++)
		if (ep->discs.v[i].manual && !concil_discs_push(&merged, &ep->discs.v[i]))
			goto oom;
	concil_discs_free(&ep->discs);
	ep->discs = merged;
	merged = (struct concil_discs){0};
	ep->next_id = next;
	if (ep->status == CONCIL_BMO_DONE)
		ep->status = CONCIL_COMPARED;
	if (ep->compared_at == 0)
		ep->compared_at = now;
	goto out;
oom:
	err = concil_fail(st, LSN_ERR_INTERNAL, _("out of memory, or more than %d discrepancies"),
		       CONCIL_DISC_MAX);
out:
	concil_discs_free(&found);
	concil_discs_free(&merged);
	return err;
}
