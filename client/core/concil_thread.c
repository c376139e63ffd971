/* concil_thread.c — reconciliation documents in the threads and the fold of
 * a case's episodes (concil_thread.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "attach_io.h"
#include "concil_thread.h"
#include "local.h"
#include "tr.h"
#include "wire.h"

/* ---- documents ----------------------------------------------------------------- */

enum lsn_err
concil_doc_post(struct e2e *e, struct chan_view *v, json_t *doc, json_t *pointer,
		const char *file_name, int64_t *seq, char attachment[LSN_ID_HEX + 1],
		struct lsn_status *st)
{
	int64_t ts = 0;
	attachment[0] = '\0';
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	if (text == NULL) {
		json_decref(doc);
		json_decref(pointer);
		return lsn_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
	}
	size_t len = strlen(text);
	enum lsn_err err;
	if (len <= CONCIL_INLINE_MAX) {
		json_decref(pointer);
		err = thread_send(e, v, doc, seq, &ts, st);
	} else {
		json_t *file = NULL;
		json_decref(doc);
		err = attach_upload_mem(e, v, file_name, "application/json", text, len, &file, st);
		if (err == LSN_OK && pointer) {
			snprintf(attachment, LSN_ID_HEX + 1, "%s",
				 e2e_str(file, "attachment") ? e2e_str(file, "attachment")
								   : "");
			json_object_del(file, "type");
			json_object_del(file, "caption");
			json_object_set_new(pointer, "document", file);
			err = thread_send(e, v, pointer, seq, &ts, st);
		} else {
			json_decref(file);
			json_decref(pointer);
			if (err == LSN_OK)
				err = lsn_fail(st, LSN_ERR_TOO_LARGE, _("the document is too large "
					       "for one message (%zu bytes)"), len);
		}
	}
	sodium_memzero(text, len);
	free(text);
	return err;
}

enum lsn_err
concil_doc_load(struct e2e *e, json_t *content, json_t **doc, struct lsn_status *st)
{
	json_t *file = json_object_get(content, "document");
	*doc = NULL;
	if (!json_is_object(file)) {
		*doc = json_incref(content);
		return LSN_OK;
	}
	char *text = NULL;
	size_t len = 0;
	enum lsn_err err = attach_fetch_mem(e, file, CONCIL_DOC_MAX, &text, &len, st);
	if (err != LSN_OK)
		return err;
	json_error_t jerr;
	json_t *d = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	sodium_memzero(text, len);
	free(text);
	const char *want = e2e_str(content, "type"), *got = e2e_str(d, "type");
	if (!json_is_object(d) || want == NULL || got == NULL || strcmp(want, got) != 0) {
		json_decref(d);
		return lsn_fail(st, LSN_ERR_BAD_JSON, _("the attached document is not a %s "
				"document"),
				want ? want : _("structured"));
	}
	*doc = d;
	return LSN_OK;
}

/* ---- people ------------------------------------------------------------------------- */

/* Learn a user the people cache does not know yet (a former member, say):
 * their RPPS from keys, then the directory. */
static void
learn_person(struct e2e *e, const uint8_t user[LSN_ID_BYTES])
{
	char name[160], prof[64], hex[LSN_ID_HEX + 1];
	if (local_person_get(e->p, user, name, sizeof name, prof, sizeof prof))
		return;
	struct lsn_status st = {0};
	json_t *reply = NULL, *found = NULL, *u;
	size_t i;
	lsn_id_to_hex(user, hex);
	if (e2e_read(e, "keys", json_pack("{s:[s]}", "users", hex), &reply, &st) == LSN_OK)
		found = json_array_get(json_object_get(reply, "users"), 0);
	const char *rpps = e2e_str(found, "rpps");
	char q[32];
	snprintf(q, sizeof q, "%s", rpps ? rpps : "");
	json_decref(reply);
	reply = NULL;
	if (q[0] == '\0' || e2e_read(e, "directory_search", json_pack("{s:s, s:i}", "q", q, "limit",
								     20), &reply, &st) != LSN_OK)
		return;
	json_array_foreach(json_object_get(reply, "users"), i, u)
		if (e2e_str(u, "id") && strcmp(e2e_str(u, "id"), hex) == 0)
			e2e_remember_user(e, u);
	json_decref(reply);
}

void
concil_person_of(struct e2e *e, const uint8_t user[LSN_ID_BYTES], char *name, size_t name_len,
		 char *profession, size_t prof_len)
{
	char n[160], p[64];
	if (!local_person_get(e->p, user, n, sizeof n, p, sizeof p)) {
		learn_person(e, user);
		if (!local_person_get(e->p, user, n, sizeof n, p, sizeof p)) {
			n[0] = p[0] = '\0';
		}
	}
	if (name)
		snprintf(name, name_len, "%s", n);
	if (profession)
		snprintf(profession, prof_len, "%s", p);
}

/* ---- the fold ----------------------------------------------------------------------- */

struct docs_walk {
	struct thread_docs *d;
	const char *const *types;
	bool oom;
};

static bool
wanted(const char *type, const char *const *types)
{
	for (size_t i = 0; type && types[i]; i++)
		if (strcmp(type, types[i]) == 0)
			return true;
	return false;
}

static bool
collect(void *arg, struct local_msg *m)
{
	struct docs_walk *w = arg;
	struct thread_docs *c = w->d;
	if (strcmp(m->status, "ok") != 0 || m->plain == NULL)
		return true;
	json_t *content = json_loads(m->plain, 0, NULL);
	if (!wanted(e2e_str(content, "type"), w->types)) {
		json_decref(content);
		return true;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct thread_doc *grown = realloc(c->v, cap * sizeof *grown);
		if (grown == NULL) {
			json_decref(content);
			w->oom = true;
			return false;
		}
		c->v = grown;
		c->cap = cap;
	}
	struct thread_doc *x = &c->v[c->n++];
	x->seq = m->seq;
	x->ts = m->ts;
	memcpy(x->sender, m->sender_user, LSN_ID_BYTES);
	x->content = content;
	return true;
}

enum lsn_err
thread_docs_load(struct e2e *e, const uint8_t channel[LSN_ID_BYTES], const char *const *types,
		 struct thread_docs *d, struct lsn_status *st)
{
	memset(d, 0, sizeof *d);
	struct docs_walk w = {d, types, false};
	enum lsn_err err = local_msg_each(e->p, channel, 0, collect, &w, st);
	if (err == LSN_OK && w.oom)
		err = lsn_fail(st, LSN_ERR_INTERNAL, _("out of memory"));
	return err;
}

void
thread_docs_free(struct thread_docs *d)
{
	for (size_t i = 0; i < d->n; i++)
		json_decref(d->v[i].content);
	free(d->v);
	memset(d, 0, sizeof *d);
}

static void
reject(struct concil_fold *f, const struct thread_doc *m, const char *episode, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
reject(struct concil_fold *f, const struct thread_doc *m, const char *episode, const char *fmt, ...)
{
	struct concil_rejected *grown = realloc(f->rejected, (f->n_rejected + 1) * sizeof *grown);
	if (grown == NULL)
		return;
	f->rejected = grown;
	struct concil_rejected *r = &f->rejected[f->n_rejected++];
	memset(r, 0, sizeof *r);
	r->seq = m->seq;
	memcpy(r->sender, m->sender, LSN_ID_BYTES);
	if (episode && strlen(episode) == LSN_ID_HEX)
		snprintf(r->episode, sizeof r->episode, "%s", episode);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
}

static const struct concil_disc *
disc_in(const struct concil_episode *ep, int id)
{
	for (size_t i = 0; ep && i < ep->discs.n; i++)
		if (ep->discs.v[i].id == id)
			return &ep->discs.v[i];
	return NULL;
}

bool
concil_legal_successor(const struct concil_episode *prev, const struct concil_episode *next,
		       enum concil_role role, const char *who, char *why, size_t len)
{
	static const char *const role_words[] = {N_("neither a pharmacist nor a prescriber"),
						 N_("a pharmacist"), N_("a prescriber")};
	const char *as = _(role_words[(unsigned)role < CONCIL_ROLE__COUNT ? role : 0]);
	if (prev && prev->status == CONCIL_CLOSED) {
		snprintf(why, len, _("posted after the reconciliation was closed"));
		return false;
	}
	if (prev && (prev->transition != next->transition || prev->started_at != next->started_at)) {
		snprintf(why, len, _("it changes the transition or the start of the episode"));
		return false;
	}
	for (size_t i = 0; prev && i < prev->discs.n; i++) {
		const struct concil_disc *d = &prev->discs.v[i], *n = disc_in(next, d->id);
		if (d->resolution != CONCIL_PENDING && (n == NULL || n->resolution != d->resolution)) {
			snprintf(why, len, _("it removes or changes the prescriber's decision on "
				 "discrepancy %d (a decision is final)"), d->id);
			return false;
		}
	}
	for (size_t i = 0; i < next->discs.n; i++) {
		const struct concil_disc *n = &next->discs.v[i], *p = disc_in(prev, n->id);
		if (n->resolution != CONCIL_PENDING && (p == NULL || p->resolution == CONCIL_PENDING) &&
		    role != CONCIL_ROLE_PRESCRIBER) {
			snprintf(why, len, _("it sets the final resolution of discrepancy %d, but "
				 "%s is %s: only a prescriber decides"), n->id, who, as);
			return false;
		}
		if (n->proposal != CONCIL_PENDING &&
		    (p == NULL || p->proposal != n->proposal || p->proposed_by != n->proposed_by) &&
		    n->proposed_by != role) {
			snprintf(why, len, _("it proposes a resolution of discrepancy %d as %s, "
				 "but %s is "
				 "%s"), n->id, concil_code(CONCIL_V_ROLE, (int)n->proposed_by)
				 ? concil_code(CONCIL_V_ROLE, (int)n->proposed_by) : _("nobody"), who, as);
			return false;
		}
	}
	return true;
}

static struct concil_item *
item_of(struct concil_fold *f, const char *episode)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->items[i].ep.episode, episode) == 0)
			return &f->items[i];
	return NULL;
}

static bool
push_update(struct concil_item *it, const struct thread_doc *m, json_t *doc, bool attached,
	    bool concurrent)
{
	struct concil_update *grown = realloc(it->updates, (it->n_updates + 1) * sizeof *grown);
	if (grown == NULL)
		return false;
	it->updates = grown;
	struct concil_update *u = &it->updates[it->n_updates++];
	memset(u, 0, sizeof *u);
	u->seq = m->seq;
	u->ts = m->ts;
	memcpy(u->sender, m->sender, LSN_ID_BYTES);
	u->status = it->ep.status;
	u->attached = attached;
	u->concurrent = concurrent;
	const char *change = e2e_str(doc, "change");
	if (change && lsn_display_text_valid(change, CONCIL_CHANGE_MAX))
		snprintf(u->change, sizeof u->change, "%s", change);
	return true;
}

static void
fold_one(struct e2e *e, const struct case_ctx *cc, struct concil_fold *f, const struct thread_doc *m)
{
	struct lsn_status st = {0};
	json_t *doc = NULL;
	const char *hex = e2e_str(m->content, "episode");
	bool attached = json_is_object(json_object_get(m->content, "document"));
	if (concil_doc_load(e, m->content, &doc, &st) != LSN_OK) {
		reject(f, m, hex, _("its attached document cannot be read: %s"), st.msg);
		return;
	}
	struct concil_episode ep;
	if (concil_episode_decode(doc, &ep, &st) != LSN_OK) {
		reject(f, m, hex, _("not a valid reconciliation: %s"), st.msg);
		json_decref(doc);
		return;
	}
	char name[160], prof[64], why[300];
	concil_person_of(e, m->sender, name, sizeof name, prof, sizeof prof);
	struct concil_item *it = item_of(f, ep.episode);
	json_t *prev = json_object_get(doc, "prev");
	bool concurrent = it && json_is_integer(prev) && json_integer_value(prev) != it->seq;
	if (attached && (hex == NULL || strcmp(hex, ep.episode) != 0)) {
		reject(f, m, ep.episode, _("the message names another episode than its document"));
	} else if (strcmp(ep.case_id, cc->id_hex) != 0) {
		reject(f, m, ep.episode, _("it belongs to another case"));
	} else if (!concil_legal_successor(it ? &it->ep : NULL, &ep, concil_role_of(prof),
					   name[0] ? name : _("its sender"), why, sizeof why)) {
		reject(f, m, ep.episode, "%s", why);
	} else {
		if (it == NULL) {
			struct concil_item *grown = realloc(f->items, (f->n + 1) * sizeof *grown);
			if (grown == NULL) {
				concil_episode_free(&ep);
				json_decref(doc);
				return;
			}
			f->items = grown;
			it = &f->items[f->n++];
			memset(it, 0, sizeof *it);
		} else {
			concil_episode_free(&it->ep);
		}
		it->ep = ep;
		it->seq = m->seq;
		memset(&ep, 0, sizeof ep);
		push_update(it, m, doc, attached, concurrent);
	}
	concil_episode_free(&ep);
	json_decref(doc);
}

enum lsn_err
concil_fold_load(struct e2e *e, const struct case_ctx *cc, struct concil_fold *f,
		 struct lsn_status *st)
{
	static const char *const types[] = {CONCIL_DOC_TYPE, NULL};
	struct thread_docs c;
	memset(f, 0, sizeof *f);
	enum lsn_err err = thread_docs_load(e, cc->channel, types, &c, st);
	for (size_t i = 0; err == LSN_OK && i < c.n; i++)
		fold_one(e, cc, f, &c.v[i]);
	thread_docs_free(&c);
	if (err != LSN_OK)
		concil_fold_free(f);
	return err;
}

void
concil_fold_free(struct concil_fold *f)
{
	for (size_t i = 0; i < f->n; i++) {
		concil_episode_free(&f->items[i].ep);
		free(f->items[i].updates);
	}
	free(f->items);
	free(f->rejected);
	memset(f, 0, sizeof *f);
}

struct concil_item *
concil_fold_find(struct concil_fold *f, const char *text, char *why, size_t why_len)
{
	size_t len = strlen(text), n = 0;
	struct concil_item *found = NULL;
	bool hex = len >= 4 && len <= LSN_ID_HEX;
	for (size_t i = 0; hex && i < len; i++)
		hex = (text[i] >= '0' && text[i] <= '9') || (text[i] >= 'a' && text[i] <= 'f') ||
		      (text[i] >= 'A' && text[i] <= 'F');
	for (size_t i = 0; hex && i < f->n; i++)
		if (strncasecmp(f->items[i].ep.episode, text, len) == 0) {
			found = &f->items[i];
			n++;
		}
	if (n == 1)
		return found;
	size_t used = 0;
	int w;
	if (!hex)
		w = snprintf(why, why_len, _("\"%s\" is not an episode: give its id (32 hex "
			     "characters, or the first 4 or more)"), text);
	else if (n == 0)
		w = snprintf(why, why_len, _("no reconciliation %s in this case"), text);
	else
		w = snprintf(why, why_len, _("\"%s\" starts %zu episodes of this case: give more "
			     "characters"), text, n);
	used = w > 0 && (size_t)w < why_len ? (size_t)w : why_len - 1;
	if (f->n == 0) {
		snprintf(why + used, why_len - used, _("; it has none yet: start one with liaison "
			 "conciliation start CASE --transition discharge"));
		return NULL;
	}
	for (size_t i = 0; i < f->n && used + 1 < why_len; i++) {
		w = snprintf(why + used, why_len - used, "%s%.8s (%s)", i ? ", " : _("; its episodes: "),
			     f->items[i].ep.episode,
			     concil_code(CONCIL_V_STATUS, (int)f->items[i].ep.status));
		used += w > 0 ? (size_t)w : 0;
	}
	return NULL;
}

/* ---- circle references ------------------------------------------------------------- */

void
concil_circle_ref(const char *episode_hex, const uint8_t circle[LSN_ID_BYTES],
		  char out[LSN_ID_HEX + 1])
{
	static const char label[] = "liaison-circle-ref-v1";
	uint8_t ref[16];
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, sizeof ref);
	crypto_generichash_update(&h, (const uint8_t *)label, sizeof label - 1);
	crypto_generichash_update(&h, (const uint8_t *)episode_hex, strlen(episode_hex));
	crypto_generichash_update(&h, circle, LSN_ID_BYTES);
	crypto_generichash_final(&h, ref, sizeof ref);
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < sizeof ref; i++) {
		out[2 * i] = digits[ref[i] >> 4];
		out[2 * i + 1] = digits[ref[i] & 15];
	}
	out[LSN_ID_HEX] = '\0';
	sodium_memzero(&h, sizeof h);
}
