/* concil_episode.c — the episode: its lines and discrepancies, and its JSON.
 * Encoding of the episode document; one decoder for the two documents that
 * carry an episode, the episode itself and the de-identified circle copy
 * (concil_share.c gives the circle's form: its members and key whitelists)
 * (docs/CONCILIATION.md, "Episode document", "Circle copy"). */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concil_int.h"

/* ---- arrays ------------------------------------------------------------------------ */

static bool
grow(void **v, size_t *cap, size_t n, size_t size, size_t max)
{
	if (n < *cap)
		return true;
	if (n >= max)
		return false;
	size_t nc = *cap ? *cap * 2 : 8;
	if (nc > max)
		nc = max;
	void *p = realloc(*v, nc * size);
	if (p == NULL)
		return false;
	*v = p;
	*cap = nc;
	return true;
}

bool
concil_lines_push(struct concil_lines *ls, const struct concil_line *ln)
{
	void *v = ls->v;
	if (!grow(&v, &ls->cap, ls->n, sizeof *ln, CONCIL_LINES_MAX))
		return false;
	ls->v = v;
	ls->v[ls->n++] = *ln;
	return true;
}

void
concil_lines_free(struct concil_lines *ls)
{
	free(ls->v);
	memset(ls, 0, sizeof *ls);
}

bool
concil_discs_push(struct concil_discs *ds, const struct concil_disc *d)
{
	void *v = ds->v;
	if (!grow(&v, &ds->cap, ds->n, sizeof *d, CONCIL_DISC_MAX))
		return false;
	ds->v = v;
	ds->v[ds->n++] = *d;
	return true;
}

void
concil_discs_free(struct concil_discs *ds)
{
	free(ds->v);
	memset(ds, 0, sizeof *ds);
}

/* ---- the episode ------------------------------------------------------------------- */

static bool
hex_id_valid(const char *s)
{
	if (s == NULL || strlen(s) != LSN_ID_HEX)
		return false;
	for (size_t i = 0; i < LSN_ID_HEX; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return true;
}

enum lsn_err
concil_episode_init(struct concil_episode *ep, const char *episode_hex,
		    enum concil_transition transition, int64_t now, struct lsn_status *st)
{
	memset(ep, 0, sizeof *ep);
	if (!hex_id_valid(episode_hex))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("episode: expected 32 lowercase hex "
				"characters"));
	if ((unsigned)transition >= CONCIL_TRANSITION__COUNT)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("transition: unknown value"));
	memcpy(ep->episode, episode_hex, LSN_ID_HEX + 1);
	ep->transition = transition;
	ep->status = CONCIL_DRAFT;
	ep->started_at = now;
	ep->next_id = 1;
	return LSN_OK;
}

void
concil_episode_free(struct concil_episode *ep)
{
	free(ep->sources);
	concil_lines_free(&ep->bmo);
	concil_lines_free(&ep->order);
	concil_discs_free(&ep->discs);
	memset(ep, 0, sizeof *ep);
}

static bool
dup_array(void **dst, size_t *dcap, const void *src, size_t n, size_t size)
{
	*dst = NULL;
	if (dcap)
		*dcap = 0;
	if (n == 0)
		return true;
	*dst = malloc(n * size);
	if (*dst == NULL)
		return false;
	memcpy(*dst, src, n * size);
	if (dcap)
		*dcap = n;
	return true;
}

bool
concil_episode_copy(struct concil_episode *dst, const struct concil_episode *src)
{
	void *s = NULL, *b = NULL, *o = NULL, *d = NULL;
	*dst = *src;
	if (!dup_array(&s, NULL, src->sources, src->n_sources, sizeof *src->sources) ||
	    !dup_array(&b, &dst->bmo.cap, src->bmo.v, src->bmo.n, sizeof *src->bmo.v) ||
	    !dup_array(&o, &dst->order.cap, src->order.v, src->order.n, sizeof *src->order.v) ||
	    !dup_array(&d, &dst->discs.cap, src->discs.v, src->discs.n, sizeof *src->discs.v)) {
		free(s);
		free(b);
		free(o);
		free(d);
		memset(dst, 0, sizeof *dst);
		return false;
	}
	dst->sources = s;
	dst->bmo.v = b;
	dst->order.v = o;
	dst->discs.v = d;
	return true;
}

const struct concil_line *
concil_line_find(const struct concil_episode *ep, int id)
{
	for (size_t i = 0; id > 0 && i < ep->bmo.n; i++)
		if (ep->bmo.v[i].id == id)
			return &ep->bmo.v[i];
	for (size_t i = 0; id > 0 && i < ep->order.n; i++)
		if (ep->order.v[i].id == id)
			return &ep->order.v[i];
	return NULL;
}

struct concil_disc *
concil_disc_find(struct concil_episode *ep, int id)
{
	for (size_t i = 0; id > 0 && i < ep->discs.n; i++)
		if (ep->discs.v[i].id == id)
			return &ep->discs.v[i];
	return NULL;
}

int
concil_source_types(const struct concil_episode *ep)
{
	bool seen[CONCIL_SOURCE__COUNT] = {false};
	int n = 0;
	for (size_t i = 0; i < ep->n_sources; i++) {
		unsigned t = ep->sources[i].type;
		if (t < CONCIL_SOURCE__COUNT && !seen[t]) {
			seen[t] = true;
			n++;
		}
	}
	return n;
}

/* ---- JSON ------------------------------------------------------------------------ */

static json_t *
str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static json_t *
ms_or_null(int64_t ms)
{
	return ms > 0 ? json_integer(ms) : json_null();
}

static json_t *
id_or_null(int id)
{
	return id > 0 ? json_integer(id) : json_null();
}

/* Set o[k] = v, remembering a failure (v NULL, or no memory) in *ok. */
void
concil_json_put(json_t *o, const char *k, json_t *v, bool *ok)
{
	if (v == NULL || o == NULL) {
		json_decref(v);
		*ok = false;
	} else if (json_object_set_new(o, k, v) != 0) {
		*ok = false;
	}
}

void
concil_json_push(json_t *a, json_t *v, bool *ok)
{
	if (v == NULL || a == NULL) {
		json_decref(v);
		*ok = false;
	} else if (json_array_append_new(a, v) != 0) {
		*ok = false;
	}
}

json_t *
concil_json_finish(json_t *o, bool ok)
{
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
concil_line_json(const struct concil_line *ln, bool with_note)
{
	char dose[16];
	bool ok = true;
	json_t *o = json_object();
	concil_json_put(o, "id", json_integer(ln->id), &ok);
	concil_json_put(o, "inn", json_string(ln->inn), &ok);
	concil_json_put(o, "atc", str_or_null(ln->atc), &ok);
	concil_json_put(o, "strength", str_or_null(ln->strength), &ok);
	concil_json_put(o, "form", str_or_null(ln->form), &ok);
	concil_json_put(o, "route", str_or_null(ln->route), &ok);
	concil_json_put(o, "dose", str_or_null(concil_dose_format(ln->dose_milli, dose)), &ok);
	concil_json_put(o, "unit", str_or_null(ln->unit), &ok);
	concil_json_put(o, "frequency", str_or_null(ln->frequency), &ok);
	concil_json_put(o, "as_needed", json_boolean(ln->as_needed), &ok);
	concil_json_put(o, "self_medication", json_boolean(ln->self_medication), &ok);
	if (with_note)
		concil_json_put(o, "note", str_or_null(ln->note), &ok);
	return concil_json_finish(o, ok);
}

json_t *
concil_disc_json(const struct concil_disc *d, bool full)
{
	bool ok = true;
	json_t *o = json_object();
	if (full)
		concil_json_put(o, "id", json_integer(d->id), &ok);
	concil_json_put(o, "type", json_string(concil_code(CONCIL_V_TYPE, (int)d->type)), &ok);
	concil_json_put(o, "origin", json_string(d->manual ? "manual" : "computed"), &ok);
	concil_json_put(o, "bmo", id_or_null(d->bmo), &ok);
	concil_json_put(o, "order", id_or_null(d->order), &ok);
	concil_json_put(o, "other", id_or_null(d->other), &ok);
	concil_json_put(o, "intent", json_string(concil_code(CONCIL_V_INTENT, (int)d->intent)), &ok);
	concil_json_put(o, "severity", str_or_null(concil_code(CONCIL_V_SEVERITY, (int)d->severity)), &ok);
	concil_json_put(o, "proposal", d->proposal == CONCIL_PENDING ? json_null()
	    : json_string(concil_code(CONCIL_V_RESOLUTION, (int)d->proposal)), &ok);
	concil_json_put(o, "proposed_by", str_or_null(concil_code(CONCIL_V_ROLE, (int)d->proposed_by)), &ok);
	concil_json_put(o, "resolution", json_string(concil_code(CONCIL_V_RESOLUTION, (int)d->resolution)), &ok);
	concil_json_put(o, "decided_by", str_or_null(concil_code(CONCIL_V_ROLE, (int)d->decided_by)), &ok);
	if (full) {
		concil_json_put(o, "detected_at", ms_or_null(d->detected_at), &ok);
		concil_json_put(o, "proposed_at", ms_or_null(d->proposed_at), &ok);
		concil_json_put(o, "decided_at", ms_or_null(d->decided_at), &ok);
		concil_json_put(o, "note", str_or_null(d->note), &ok);
	}
	return concil_json_finish(o, ok);
}

static json_t *
person_json(const struct concil_person *p)
{
	bool ok = true;
	if (!p->user[0] && !p->name[0] && !p->profession[0])
		return json_null();
	json_t *o = json_object();
	concil_json_put(o, "user", str_or_null(p->user), &ok);
	concil_json_put(o, "name", str_or_null(p->name), &ok);
	concil_json_put(o, "profession", str_or_null(p->profession), &ok);
	return concil_json_finish(o, ok);
}

json_t *
concil_episode_encode(const struct concil_episode *ep)
{
	bool ok = true;
	json_t *doc = json_object(), *a, *pat;
	concil_json_put(doc, "type", json_string(CONCIL_DOC_TYPE), &ok);
	concil_json_put(doc, "version", json_integer(CONCIL_VERSION), &ok);
	concil_json_put(doc, "episode", json_string(ep->episode), &ok);
	concil_json_put(doc, "case", str_or_null(ep->case_id), &ok);
	concil_json_put(doc, "pathway", str_or_null(ep->pathway), &ok);
	concil_json_put(doc, "transition", json_string(concil_code(CONCIL_V_TRANSITION, (int)ep->transition)), &ok);
	concil_json_put(doc, "status", json_string(concil_code(CONCIL_V_STATUS, (int)ep->status)), &ok);
	if (ep->patient.name[0] || ep->patient.birth_date[0] || ep->patient.ins[0]) {
		pat = json_object();
		concil_json_put(pat, "name", str_or_null(ep->patient.name), &ok);
		concil_json_put(pat, "birth_date", str_or_null(ep->patient.birth_date), &ok);
		concil_json_put(pat, "ins", str_or_null(ep->patient.ins), &ok);
		concil_json_put(doc, "patient", pat, &ok);
	} else {
		concil_json_put(doc, "patient", json_null(), &ok);
	}
	concil_json_put(doc, "pharmacist", person_json(&ep->pharmacist), &ok);
	concil_json_put(doc, "prescriber", person_json(&ep->prescriber), &ok);
	concil_json_put(doc, "started_at", json_integer(ep->started_at), &ok);
	concil_json_put(doc, "bmo_done_at", ms_or_null(ep->bmo_done_at), &ok);
	concil_json_put(doc, "compared_at", ms_or_null(ep->compared_at), &ok);
	concil_json_put(doc, "closed_at", ms_or_null(ep->closed_at), &ok);
	a = json_array();
	for (size_t i = 0; i < ep->n_sources; i++) {
		json_t *s = json_object();
		concil_json_put(s, "type", json_string(concil_code(CONCIL_V_SOURCE, (int)ep->sources[i].type)), &ok);
		concil_json_put(s, "at", ms_or_null(ep->sources[i].at), &ok);
		concil_json_put(s, "note", str_or_null(ep->sources[i].note), &ok);
		concil_json_push(a, s, &ok);
	}
	concil_json_put(doc, "sources", a, &ok);
	a = json_array();
	for (size_t i = 0; i < ep->bmo.n; i++)
		concil_json_push(a, concil_line_json(&ep->bmo.v[i], true), &ok);
	concil_json_put(doc, "bmo", a, &ok);
	a = json_array();
	for (size_t i = 0; i < ep->order.n; i++)
		concil_json_push(a, concil_line_json(&ep->order.v[i], true), &ok);
	concil_json_put(doc, "order", a, &ok);
	a = json_array();
	for (size_t i = 0; i < ep->discs.n; i++)
		concil_json_push(a, concil_disc_json(&ep->discs.v[i], true), &ok);
	concil_json_put(doc, "discrepancies", a, &ok);
	concil_json_put(doc, "note", str_or_null(ep->note), &ok);
	return concil_json_finish(doc, ok);
}

/* ---- reading: one walk for the episode document and the circle copy ---------------- */

/* Optional string member (absent or null: ""), checked text of at most max
 * bytes, copied into out (cap bytes). */
static enum lsn_err
get_text(json_t *obj, const char *key, const char *path, size_t max, char *out, size_t cap,
	 struct lsn_status *st)
{
	json_t *v = json_object_get(obj, key);
	out[0] = '\0';
	if (v == NULL || json_is_null(v))
		return LSN_OK;
	if (!json_is_string(v) || json_string_length(v) > max || json_string_length(v) >= cap ||
	    !concil_text_ok(json_string_value(v), json_string_length(v)))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%s%s: expected text of at most %zu "
				"bytes"),
				path, key, max);
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return LSN_OK;
}

/* Optional time in ms (absent or null: 0). */
static enum lsn_err
get_ms(json_t *obj, const char *key, const char *path, int64_t *out, struct lsn_status *st)
{
	json_t *v = json_object_get(obj, key);
	*out = 0;
	if (v == NULL || json_is_null(v))
		return LSN_OK;
	if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
	    json_integer_value(v) > 9007199254740991LL)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%s%s: expected a time in "
				"ms"), path, key);
	*out = json_integer_value(v);
	return LSN_OK;
}

/* Vocabulary member: required (a code) or optional (null → none_value). */
static enum lsn_err
get_code(json_t *obj, const char *key, const char *path, enum concil_vocab voc, bool required,
	 int none_value, int *out, struct lsn_status *st)
{
	json_t *v = json_object_get(obj, key);
	if (!required && (v == NULL || json_is_null(v))) {
		*out = none_value;
		return LSN_OK;
	}
	int k = json_is_string(v) ? concil_parse(voc, json_string_value(v)) : -1;
	if (k < 0)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%s%s: %s; see "
				"docs/CONCILIATION.md"), path, key,
				v ? "unknown value" : "missing");
	*out = k;
	return LSN_OK;
}

/* Optional line id (absent or null: 0). */
static enum lsn_err
get_id(json_t *obj, const char *key, const char *path, bool required, int *out,
       struct lsn_status *st)
{
	json_t *v = json_object_get(obj, key);
	*out = 0;
	if (!required && (v == NULL || json_is_null(v)))
		return LSN_OK;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > INT_MAX / 2)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%s%s: expected an id (a positive "
				"integer)"),
				path, key);
	*out = (int)json_integer_value(v);
	return LSN_OK;
}

static enum lsn_err
get_bool(json_t *obj, const char *key, const char *path, bool *out, struct lsn_status *st)
{
	json_t *v = json_object_get(obj, key);
	*out = false;
	if (v == NULL || json_is_null(v))
		return LSN_OK;
	if (!json_is_boolean(v))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%s%s: expected true or "
				"false"), path, key);
	*out = json_is_true(v);
	return LSN_OK;
}

static enum lsn_err
only_keys(json_t *obj, const char *const *allowed, const char *path, struct lsn_status *st)
{
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		size_t i;
		for (i = 0; allowed[i]; i++)
			if (strcmp(allowed[i], k) == 0)
				break;
		if (allowed[i] == NULL) {
			char q[48];
			concil_quote(k, strlen(k), q);
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%sfield \"%s\" is not "
					"allowed here"), path, q);
		}
	}
	return LSN_OK;
}

static enum lsn_err
line_from_json(json_t *o, enum concil_list list, const char *path, struct concil_line *ln,
	       struct lsn_status *st)
{
	char why[CONCIL_MSG_MAX];
	enum lsn_err err;
	memset(ln, 0, sizeof *ln);
	ln->list = list;
	if (!json_is_object(o))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%s: expected an object"), path);
	if ((err = get_id(o, "id", path, true, &ln->id, st)) != LSN_OK)
		return err;
	for (int f = 0; f < CONCIL_FIELD__COUNT; f++) {
		json_t *v = json_object_get(o, concil_field_name(f));
		if (v == NULL || json_is_null(v))
			continue;
		if (f == CONCIL_F_AS_NEEDED || f == CONCIL_F_SELF_MEDICATION) {
			bool b;
			if ((err = get_bool(o, concil_field_name(f), path, &b, st)) != LSN_OK)
				return err;
			if (f == CONCIL_F_AS_NEEDED)
				ln->as_needed = ln->as_needed || b;
			else
				ln->self_medication = b;
			continue;
		}
		if (!json_is_string(v))
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%s%s: expected a "
					"string"), path,
					concil_field_name(f));
		if (!concil_field_set(ln, (enum concil_field)f, json_string_value(v),
				      json_string_length(v), why, sizeof why))
			return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s%s: %s", path, concil_field_name(f), why);
	}
	if (!concil_line_check(ln, why, sizeof why))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, "%s: %s", path, why);
	return LSN_OK;
}

static enum lsn_err
disc_from_json(json_t *o, const struct concil_episode *ep, const char *path,
	       struct concil_disc *d, struct lsn_status *st)
{
	int type, intent, sev, prop, pby, res, dby;
	json_t *origin;
	enum lsn_err err;
	memset(d, 0, sizeof *d);
	if (!json_is_object(o))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%s: expected an object"), path);
	if ((json_object_get(o, "id") && (err = get_id(o, "id", path, true, &d->id, st))) ||
	    (err = get_code(o, "type", path, CONCIL_V_TYPE, true, 0, &type, st)) ||
	    (err = get_id(o, "bmo", path, false, &d->bmo, st)) ||
	    (err = get_id(o, "order", path, false, &d->order, st)) ||
	    (err = get_id(o, "other", path, false, &d->other, st)) ||
	    (err = get_code(o, "intent", path, CONCIL_V_INTENT, true, 0, &intent, st)) ||
	    (err = get_code(o, "severity", path, CONCIL_V_SEVERITY, false, CONCIL_SEV_NONE, &sev, st)) ||
	    (err = get_code(o, "proposal", path, CONCIL_V_RESOLUTION, false, CONCIL_PENDING, &prop, st)) ||
	    (err = get_code(o, "proposed_by", path, CONCIL_V_ROLE, false, CONCIL_ROLE_NONE, &pby, st)) ||
	    (err = get_code(o, "resolution", path, CONCIL_V_RESOLUTION, true, 0, &res, st)) ||
	    (err = get_code(o, "decided_by", path, CONCIL_V_ROLE, false, CONCIL_ROLE_NONE, &dby, st)) ||
	    (err = get_ms(o, "detected_at", path, &d->detected_at, st)) ||
	    (err = get_ms(o, "proposed_at", path, &d->proposed_at, st)) ||
	    (err = get_ms(o, "decided_at", path, &d->decided_at, st)) ||
	    (err = get_text(o, "note", path, CONCIL_NOTE_MAX, d->note, sizeof d->note, st)))
		return err;
	origin = json_object_get(o, "origin");
	if (origin && !json_is_null(origin) &&
	    (!json_is_string(origin) || (strcmp(json_string_value(origin), "manual") != 0 &&
					 strcmp(json_string_value(origin), "computed") != 0)))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%sorigin: expected \"computed\" or "
				"\"manual\""),
				path);
	d->manual = origin && json_is_string(origin) && strcmp(json_string_value(origin), "manual") == 0;
	d->type = type;
	d->intent = intent;
	d->severity = sev;
	d->proposal = prop;
	d->proposed_by = pby;
	d->resolution = res;
	d->decided_by = dby;
	if (d->severity != CONCIL_SEV_NONE && d->intent != CONCIL_UNINTENTIONAL)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%sseverity: only an unintentional "
				"discrepancy has a severity"), path);
	if (d->resolution != CONCIL_PENDING && d->decided_by != CONCIL_ROLE_PRESCRIBER)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%sdecided_by: a final resolution is "
				"set by a prescriber"), path);
	if (d->resolution == CONCIL_PENDING && d->decided_by != CONCIL_ROLE_NONE)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%sdecided_by: nothing is decided "
				"yet"), path);
	if ((d->proposal == CONCIL_PENDING) != (d->proposed_by == CONCIL_ROLE_NONE))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%sproposed_by: goes with a "
				"proposal"), path);
	/* references: lines of the right list */
	const struct concil_line *b = d->bmo ? concil_line_find(ep, d->bmo) : NULL;
	const struct concil_line *r = d->order ? concil_line_find(ep, d->order) : NULL;
	const struct concil_line *x = d->other ? concil_line_find(ep, d->other) : NULL;
	if ((d->bmo && (!b || b->list != CONCIL_BMO)) || (d->order && (!r || r->list != CONCIL_ORDER)) ||
	    (d->other && (!x || x->list != CONCIL_ORDER)))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%s: refers to a line that is not in "
				"the episode (bmo: a BMO line, order and other: order "
				"lines)"), path);
	return LSN_OK;
}

static enum lsn_err
check_ids(const struct concil_episode *ep, struct lsn_status *st)
{
	const struct concil_lines *lists[2] = {&ep->bmo, &ep->order};
	for (int l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l]->n; i++) {
			const struct concil_line *a = &lists[l]->v[i];
			if (concil_line_find(ep, a->id) != a)
				return concil_fail(st, LSN_ERR_BAD_REQUEST, _("line id %d is used "
						"twice"), a->id);
		}
	for (size_t i = 0; i < ep->discs.n; i++)
		for (size_t j = 0; j < i; j++)
			if (ep->discs.v[i].id > 0 && ep->discs.v[i].id == ep->discs.v[j].id)
				return concil_fail(st, LSN_ERR_BAD_REQUEST, _("discrepancy id %d "
						"is used twice"),
						ep->discs.v[i].id);
	return LSN_OK;
}

static enum lsn_err
person_from_json(json_t *doc, const char *key, struct concil_person *p, struct lsn_status *st)
{
	json_t *o = json_object_get(doc, key);
	char path[32];
	enum lsn_err err;
	memset(p, 0, sizeof *p);
	if (o == NULL || json_is_null(o))
		return LSN_OK;
	snprintf(path, sizeof path, "%s.", key);
	if (!json_is_object(o))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%s: expected an object or "
				"null"), key);
	if ((err = get_text(o, "user", path, LSN_ID_HEX, p->user, sizeof p->user, st)) ||
	    (err = get_text(o, "name", path, CONCIL_NAME_MAX, p->name, sizeof p->name, st)) ||
	    (err = get_text(o, "profession", path, CONCIL_PROFESSION_MAX, p->profession,
			    sizeof p->profession, st)))
		return err;
	if (p->user[0] && !hex_id_valid(p->user))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%suser: expected 32 lowercase "
				"hex"), path);
	return LSN_OK;
}

/* The lines under key of a document (at most CONCIL_LINES_MAX), each
 * checked and appended to out; ep->next_id moves past their ids. allowed:
 * the only keys a line may carry (NULL: any the decoder knows). */
static enum lsn_err
lines_from_json(json_t *doc, const char *key, enum concil_list list,
		struct concil_episode *ep, struct concil_lines *out,
		const char *const *allowed, struct lsn_status *st)
{
	json_t *a = json_object_get(doc, key), *v;
	size_t i;
	char path[48];
	enum lsn_err err;
	if (!json_is_array(a) || json_array_size(a) > CONCIL_LINES_MAX)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%s: expected an array of at most %d "
				"lines"), key,
				CONCIL_LINES_MAX);
	json_array_foreach(a, i, v) {
		struct concil_line ln;
		snprintf(path, sizeof path, "%s[%zu].", key, i);
		if (allowed && json_is_object(v) && (err = only_keys(v, allowed, path, st)))
			return err;
		if ((err = line_from_json(v, list, path, &ln, st)) != LSN_OK)
			return err;
		if (!concil_lines_push(out, &ln))
			return concil_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
		if (ln.id >= ep->next_id)
			ep->next_id = ln.id + 1;
	}
	return LSN_OK;
}

/* The walk both forms share (struct concil_form, concil_int.h); what
 * differs is in form. */
static enum lsn_err
doc_walk(json_t *doc, const struct concil_form *form, struct concil_episode *ep,
	 struct lsn_status *st)
{
	json_t *v, *a;
	size_t i;
	char path[48];
	enum lsn_err err;
	ep->next_id = 1;
	if (!json_is_object(doc))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%s is a JSON object"), form->what);
	v = json_object_get(doc, "type");
	if (!json_is_string(v) || strcmp(json_string_value(v), form->type) != 0)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("type: expected \"%s\""), form->type);
	v = json_object_get(doc, "version");
	if (!json_is_integer(v) || json_integer_value(v) != CONCIL_VERSION)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("version: this client reads version "
				"%d%s"),
				CONCIL_VERSION, form->version_hint);
	if ((form->keys && (err = only_keys(doc, form->keys, "", st))) ||
	    (err = form->head(doc, ep, st)))
		return err;
	if ((err = lines_from_json(doc, "bmo", CONCIL_BMO, ep, &ep->bmo, form->line_keys, st)) ||
	    (err = lines_from_json(doc, "order", CONCIL_ORDER, ep, &ep->order, form->line_keys, st)) ||
	    (err = check_ids(ep, st)))
		return err;
	a = json_object_get(doc, "discrepancies");
	if (!json_is_array(a) || json_array_size(a) > CONCIL_DISC_MAX)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("discrepancies: expected an array of "
				"at most %d"),
				CONCIL_DISC_MAX);
	json_array_foreach(a, i, v) {
		struct concil_disc d;
		snprintf(path, sizeof path, "discrepancies[%zu].", i);
		if (form->disc_keys && json_is_object(v) &&
		    (err = only_keys(v, form->disc_keys, path, st)))
			return err;
		if ((err = disc_from_json(v, ep, path, &d, st)) != LSN_OK)
			return err;
		if (!form->disc_ids)
			d.id = ep->next_id;
		else if (d.id == 0)
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("%sid: missing"), path);
		if (!concil_discs_push(&ep->discs, &d))
			return concil_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
		if (d.id >= ep->next_id)
			ep->next_id = d.id + 1;
	}
	if (form->tail && (err = form->tail(ep, st)))
		return err;
	return check_ids(ep, st);
}

enum lsn_err
concil_doc_decode(json_t *doc, const struct concil_form *form, struct concil_episode *ep,
		  struct lsn_status *st)
{
	memset(ep, 0, sizeof *ep);
	enum lsn_err err = doc_walk(doc, form, ep, st);
	if (err != LSN_OK)
		concil_episode_free(ep);
	return err;
}

/* The episode document's own members: identity, patient, people, dates,
 * note and sources. */
static enum lsn_err
episode_head(json_t *doc, struct concil_episode *ep, struct lsn_status *st)
{
	json_t *v, *a;
	size_t i;
	int k;
	char path[48];
	enum lsn_err err;
	if ((err = get_text(doc, "episode", "", LSN_ID_HEX, ep->episode, sizeof ep->episode, st)) ||
	    (err = get_text(doc, "case", "", LSN_ID_HEX, ep->case_id, sizeof ep->case_id, st)) ||
	    (err = get_text(doc, "pathway", "", CONCIL_PATHWAY_MAX, ep->pathway, sizeof ep->pathway, st)))
		return err;
	if (!hex_id_valid(ep->episode) || (ep->case_id[0] && !hex_id_valid(ep->case_id)))
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("episode, case: expected 32 "
				"lowercase hex"));
	for (const char *c = ep->pathway; *c; c++)
		if (!islower((unsigned char)*c) && *c != '_')
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("pathway: expected a pathway "
					"code"));
	if ((err = get_code(doc, "transition", "", CONCIL_V_TRANSITION, true, 0, &k, st)))
		return err;
	ep->transition = k;
	if ((err = get_code(doc, "status", "", CONCIL_V_STATUS, true, 0, &k, st)))
		return err;
	ep->status = k;
	v = json_object_get(doc, "patient");
	if (v && !json_is_null(v)) {
		if (!json_is_object(v))
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("patient: expected an object "
					"or null"));
		if ((err = get_text(v, "name", "patient.", CONCIL_NAME_MAX, ep->patient.name,
				    sizeof ep->patient.name, st)) ||
		    (err = get_text(v, "birth_date", "patient.", 10, ep->patient.birth_date,
				    sizeof ep->patient.birth_date, st)) ||
		    (err = get_text(v, "ins", "patient.", CONCIL_INS_MAX, ep->patient.ins,
				    sizeof ep->patient.ins, st)))
			return err;
		if (ep->patient.birth_date[0] && !concil_date_valid(ep->patient.birth_date))
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("patient.birth_date: "
					"expected YYYY-MM-DD"));
	}
	if ((err = person_from_json(doc, "pharmacist", &ep->pharmacist, st)) ||
	    (err = person_from_json(doc, "prescriber", &ep->prescriber, st)) ||
	    (err = get_ms(doc, "started_at", "", &ep->started_at, st)) ||
	    (err = get_ms(doc, "bmo_done_at", "", &ep->bmo_done_at, st)) ||
	    (err = get_ms(doc, "compared_at", "", &ep->compared_at, st)) ||
	    (err = get_ms(doc, "closed_at", "", &ep->closed_at, st)) ||
	    (err = get_text(doc, "note", "", CONCIL_NOTE_MAX, ep->note, sizeof ep->note, st)))
		return err;
	if (ep->started_at <= 0)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("started_at: expected a time in ms"));
	a = json_object_get(doc, "sources");
	if (!json_is_array(a) || json_array_size(a) > CONCIL_SOURCES_MAX)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("sources: expected an array of at "
				"most %d sources"), CONCIL_SOURCES_MAX);
	if (json_array_size(a) > 0 &&
	    (ep->sources = calloc(json_array_size(a), sizeof *ep->sources)) == NULL)
		return concil_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
	json_array_foreach(a, i, v) {
		struct concil_source *s = &ep->sources[i];
		snprintf(path, sizeof path, "sources[%zu].", i);
		if (!json_is_object(v))
			return concil_fail(st, LSN_ERR_BAD_REQUEST, _("sources[%zu]: expected an "
					"object"), i);
		if ((err = get_code(v, "type", path, CONCIL_V_SOURCE, true, 0, &k, st)) ||
		    (err = get_ms(v, "at", path, &s->at, st)) ||
		    (err = get_text(v, "note", path, CONCIL_NOTE_MAX, s->note, sizeof s->note, st)))
			return err;
		s->type = k;
		ep->n_sources++;
	}
	return LSN_OK;
}

static enum lsn_err
episode_tail(const struct concil_episode *ep, struct lsn_status *st)
{
	if (ep->status >= CONCIL_BMO_DONE && concil_source_types(ep) < 3)
		return concil_fail(st, LSN_ERR_BAD_REQUEST, _("status: a BMO past draft needs at "
				"least 3 distinct source types"));
	return LSN_OK;
}

static const struct concil_form episode_form = {
	.type = CONCIL_DOC_TYPE,
	.what = "a reconciliation document",
	.version_hint = "; update liaison to read this document",
	.disc_ids = true,
	.head = episode_head,
	.tail = episode_tail,
};

enum lsn_err
concil_episode_decode(json_t *doc, struct concil_episode *ep, struct lsn_status *st)
{
	return concil_doc_decode(doc, &episode_form, ep, st);
}
