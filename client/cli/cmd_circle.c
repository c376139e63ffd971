/* cmd_circle.c — "liaison circle": quality circles of GPs and pharmacists
 * (channels of kind circle). share posts the de-identified copy of a
 * reconciliation (concil_circle_encode, docs/CONCILIATION.md "Circle copy")
 * in the circle's encrypted channel; session records a meeting; review
 * decrypts the circle's cases and computes the aggregates on this computer
 * (concil_agg_*). The server sees only ciphertext in the circle.
 *
 * Messages of a circle channel (plus "channel", "sender" and "mlog" from the
 * thread):
 *   {"type":"circle_case","version":1,"ref":HEX,"copy":{…the circle copy…}}
 *   {"type":"circle_session","version":1,"date":"YYYY-MM-DD","theme":ATC_PREFIX,
 *    "attendees":[{"user":HEX,"name":…}],"cases":[SEQ…],"consensus":…,
 *    "actions":[…],"follow_up":"YYYY-MM-DD"|null}
 * "ref" (concil_circle_ref) lets a new copy of the same episode replace the
 * older one in the review. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "args.h"
#include "case_view.h"
#include "channel_ops.h"
#include "command.h"
#include "csv.h"
#include "concil_thread.h"
#include "concil_view.h"
#include "day.h"
#include "output.h"
#include "tr.h"
#include "local.h"
#include "user_view.h"

#define CIRCLE_CONSENSUS_MAX 2000
#define CIRCLE_ACTION_MAX    500
#define CIRCLE_LIST_MAX      64     /* attendees, cases, actions */

/* ---- the circle channel ---------------------------------------------------------- */

/* Resolve, verify and sync the circle's channel; it must be a circle. */
static int
circle_open(struct e2e *e, const char *text, struct chan_view *v)
{
	uint8_t channel[LSN_ID_BYTES];
	struct lsn_status st = {0};
	struct thread_fetch_result r;
	memset(v, 0, sizeof *v);
	int rc = e2e_resolve_channel(e, text, channel);
	if (rc != CLI_OK)
		return rc;
	if (chan_ops_load_valid(e, channel, v, &st) != LSN_OK)
		return out_fail(&st);
	if (v->state == NULL || v->state->kind != LSN_KIND_CIRCLE) {
		out_error(_("channel %s is a %s channel, not a quality circle: give a channel "
			  "created with liaison channel create --kind circle"), text,
			  v->state ? lsn_chan_kind_name(v->state->kind) : "unknown");
		return CLI_USAGE;
	}
	if (!v->me_member) {
		out_error(_("you are not a member of the circle %s; ask its facilitator to add "
				"you"),
			  text);
		return CLI_FAIL;
	}
	if (thread_fetch_chase(e, v, &r, &st) != LSN_OK)
		return out_fail(&st);
	return CLI_OK;
}

static const char *
type_of(const struct thread_doc *m)
{
	return user_view_str(m->content, "type");
}

/* ---- reading the shared cases ------------------------------------------------------ */

struct shared_case {
	const struct thread_doc *m;
	char ref[LSN_ID_HEX + 1];
	json_t *copy;                        /* the decoded wrapper's copy */
	struct concil_episode ep;
	int64_t replaces[16];                /* earlier copies of the same ref */
	size_t n_replaces;
};

struct circle_state {
	struct thread_docs msgs;
	struct shared_case *cases;
	size_t n_cases;
	json_t *ignored;                     /* [{"seq","reason"}] */
};

static bool
hex32(const char *s)
{
	if (s == NULL || strlen(s) != LSN_ID_HEX)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static void
ignore(struct circle_state *cs, int64_t seq, const char *reason)
{
	json_array_append_new(cs->ignored, json_pack("{s:I, s:s}", "seq", (json_int_t)seq, "reason",
						     reason));
}

/* Decode one circle_case message: its wrapper (only its own keys) and copy. */
static void
take_case(struct e2e *e, struct circle_state *cs, const struct thread_doc *m)
{
	static const char *const keys[] = {"type", "version", "ref", "copy", "document", "channel",
					   "sender", "link", "mlog", NULL};
	static const char *const pointer_keys[] = {"type", "version", "ref", "document", "channel",
						   "sender", "link", "mlog", NULL};
	struct lsn_status st = {0};
	json_t *doc = NULL;
	char why[400];
	const char *key;
	json_t *value;
	bool attached = json_is_object(json_object_get(m->content, "document"));
	json_object_foreach(attached ? m->content : NULL, key, value) {
		bool known = false;
		for (size_t i = 0; pointer_keys[i]; i++)
			known = known || strcmp(pointer_keys[i], key) == 0;
		if (!known) {
			snprintf(why, sizeof why, _("it has a field \"%.40s\" that a circle case "
				 "may not have: not aggregated"), key);
			ignore(cs, m->seq, why);
			return;
		}
	}
	if (concil_doc_load(e, m->content, &doc, &st) != LSN_OK) {
		snprintf(why, sizeof why, _("its attached copy cannot be read: %s"), st.msg);
		ignore(cs, m->seq, why);
		return;
	}
	json_object_foreach(doc, key, value) {
		bool known = false;
		for (size_t i = 0; keys[i]; i++)
			known = known || strcmp(keys[i], key) == 0;
		if (!known || strcmp(key, "document") == 0) {
			snprintf(why, sizeof why, _("it has a field \"%.40s\" that a circle case "
				 "may not have: not aggregated"), key);
			ignore(cs, m->seq, why);
			json_decref(doc);
			return;
		}
	}
	const char *ref = user_view_str(doc, "ref");
	json_t *copy = json_object_get(doc, "copy");
	struct concil_episode ep;
	if (user_view_int(doc, "version") != 1 || (ref && !hex32(ref)) ||
	    concil_circle_decode(copy, &ep, &st) != LSN_OK) {
		snprintf(why, sizeof why, _("not a valid de-identified copy: %s"),
			 st.msg[0] ? st.msg : _("version or ref"));
		ignore(cs, m->seq, why);
		json_decref(doc);
		return;
	}
	struct shared_case *sc = NULL;
	for (size_t i = 0; ref && i < cs->n_cases && !sc; i++)
		if (strcmp(cs->cases[i].ref, ref) == 0)
			sc = &cs->cases[i];
	if (sc) {   /* the same reconciliation shared again: the new copy replaces it */
		if (sc->n_replaces < sizeof sc->replaces / sizeof sc->replaces[0])
			sc->replaces[sc->n_replaces++] = sc->m->seq;
		concil_episode_free(&sc->ep);
		json_decref(sc->copy);
	} else {
		struct shared_case *grown = realloc(cs->cases, (cs->n_cases + 1) * sizeof *grown);
		if (grown == NULL) {
			concil_episode_free(&ep);
			json_decref(doc);
			return;
		}
		cs->cases = grown;
		sc = &cs->cases[cs->n_cases++];
		memset(sc, 0, sizeof *sc);
		snprintf(sc->ref, sizeof sc->ref, "%s", ref ? ref : "");
	}
	sc->m = m;
	sc->ep = ep;
	sc->copy = json_incref(copy);
	json_decref(doc);
}

static enum lsn_err
circle_load(struct e2e *e, const struct chan_view *v, struct circle_state *cs,
	    struct lsn_status *st)
{
	memset(cs, 0, sizeof *cs);
	cs->ignored = json_array();
	static const char *const types[] = {CIRCLE_CASE_TYPE, CIRCLE_SESSION_TYPE, NULL};
	enum lsn_err err = thread_docs_load(e, v->channel, types, &cs->msgs, st);
	for (size_t i = 0; err == LSN_OK && i < cs->msgs.n; i++)
		if (strcmp(type_of(&cs->msgs.v[i]), CIRCLE_CASE_TYPE) == 0)
			take_case(e, cs, &cs->msgs.v[i]);
	return err;
}

static void
circle_state_free(struct circle_state *cs)
{
	for (size_t i = 0; i < cs->n_cases; i++) {
		concil_episode_free(&cs->cases[i].ep);
		json_decref(cs->cases[i].copy);
	}
	free(cs->cases);
	thread_docs_free(&cs->msgs);
	json_decref(cs->ignored);
	memset(cs, 0, sizeof *cs);
}

/* ---- share ---------------------------------------------------------------------------- */

/* Does text contain needle (case-insensitive, at least min bytes)? */
static bool
contains(const char *text, const char *needle, size_t min)
{
	size_t n = strlen(needle);
	if (n < min)
		return false;
	for (const char *p = text; *p; p++)
		if (strncasecmp(p, needle, n) == 0)
			return true;
	return false;
}

/* Every word (4+ bytes) of a name. */
static bool
contains_words(const char *text, const char *name, char *found, size_t len)
{
	char copy[CONCIL_NAME_MAX + 1];
	snprintf(copy, sizeof copy, "%s", name);
	for (char *save = NULL, *w = strtok_r(copy, " -,'", &save); w;
	     w = strtok_r(NULL, " -,'", &save))
		if (contains(text, w, 4)) {
			snprintf(found, len, "%s", w);
			return true;
		}
	return false;
}

/* Defence in depth: the copy is built from a whitelist; check the result
 * anyway for what identifies the patient, the professionals or the case. */
static bool
copy_is_clean(const struct concil_episode *ep, const struct case_ctx *cc, const char *text,
	      char *what, size_t len)
{
	char day[DAY_TEXT];
	const struct {
		const char *label, *value;
		size_t min;
	} exact[] = {
		{N_("the patient's INS"), ep->patient.ins, 6},
		{N_("the patient's birth date"), ep->patient.birth_date, 10},
		{N_("the case id"), ep->case_id, 8},
		{N_("the case's reference"), cc->ref, 6},
		{N_("the episode id"), ep->episode, 8},
		{N_("the pharmacist's user id"), ep->pharmacist.user, 8},
		{N_("the prescriber's user id"), ep->prescriber.user, 8},
		{N_("the note of the episode"), ep->note, 12},
		{N_("the start day"), day_format_ms(ep->started_at, day), 10},
	};
	for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
		if (contains(text, exact[i].value, exact[i].min)) {
			snprintf(what, len, "%s", _(exact[i].label));
			return false;
		}
	char word[CONCIL_NAME_MAX + 1];
	if (contains_words(text, ep->patient.name, word, sizeof word) ||
	    contains_words(text, ep->pharmacist.name, word, sizeof word) ||
	    contains_words(text, ep->prescriber.name, word, sizeof word)) {
		snprintf(what, len, _("a name (\"%.60s\")"), word);
		return false;
	}
	for (size_t i = 0; i < ep->discs.n; i++)
		if (contains(text, ep->discs.v[i].note, 12)) {
			snprintf(what, len, _("the note of discrepancy %d"), ep->discs.v[i].id);
			return false;
		}
	for (size_t i = 0; i < ep->n_sources; i++)
		if (contains(text, ep->sources[i].note, 12)) {
			snprintf(what, len, "%s", _("a source's note"));
			return false;
		}
	const struct concil_lines *lists[2] = {&ep->bmo, &ep->order};
	for (int l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l]->n; i++)
			if (contains(text, lists[l]->v[i].note, 12)) {
				snprintf(what, len, _("the note of line %d"), lists[l]->v[i].id);
				return false;
			}
	return true;
}

/* The message for the circle, generalised against the copies the circle
 * holds (concil_circle_deid; the older copy of this episode left out) and
 * checked. NULL (error printed) when not; r says what was generalised. */
static json_t *
circle_message(const struct concil_episode *ep, const struct case_ctx *cc,
	       const uint8_t circle[LSN_ID_BYTES], const struct circle_state *cs, int k,
	       struct concil_deid *r)
{
	memset(r, 0, sizeof *r);
	if (ep->status == CONCIL_DRAFT || ep->status == CONCIL_BMO_DONE) {
		out_error(_("reconciliation %.8s is %s: a circle reviews compared reconciliations; "
			  "run liaison conciliation compare first"), ep->episode,
			  concil_code(CONCIL_V_STATUS, (int)ep->status));
		return NULL;
	}
	char ref[LSN_ID_HEX + 1], what[120];
	struct lsn_status st = {0};
	struct concil_episode back;
	concil_circle_ref(ep->episode, circle, ref);
	json_t **held = calloc(cs->n_cases + 1, sizeof *held);
	size_t n_held = 0;
	for (size_t i = 0; held && i < cs->n_cases; i++)
		if (strcmp(cs->cases[i].ref, ref) != 0)
			held[n_held++] = cs->cases[i].copy;
	json_t *copy = NULL;
	enum lsn_err err = held ? concil_circle_deid(ep, held, n_held, k, &copy, r, &st)
				: LSN_ERR_INTERNAL;
	free(held);
	if (err == LSN_ERR_CONFLICT) {
		out_error(_("%s. Nothing was shared. Share it once the circle holds at least %d "
			  "reconciliations like it (liaison circle review lists them), or, if the "
			  "circle agrees to a smaller group, give --k N or keep one for this "
			  "circle with liaison circle k CIRCLE N (docs/CONCILIATION.md, "
			  "\"Generalisation\")"),
			  st.msg, k);
		return NULL;
	}
	if (err != LSN_OK) {
		out_error("%s", st.msg[0] ? st.msg : _("out of memory"));
		return NULL;
	}
	char *text = copy ? json_dumps(copy, JSON_COMPACT) : NULL;
	bool ok = text != NULL;
	if (ok && !copy_is_clean(ep, cc, text, what, sizeof what)) {
		out_error(_("the de-identified copy still contains %s: nothing was shared; report "
			  "this as a bug"), what);
		ok = false;
	}
	if (ok && concil_circle_decode(copy, &back, &st) != LSN_OK) {
		out_error(_("the de-identified copy does not pass its own checks (%s): nothing was "
			  "shared"), st.msg);
		ok = false;
	} else if (ok) {
		concil_episode_free(&back);
	}
	if (text) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
	if (!ok) {
		json_decref(copy);
		concil_deid_free(r);
		if (text == NULL)
			out_error(_("out of memory"));
		return NULL;
	}
	return json_pack("{s:s, s:i, s:s, s:o}", "type", CIRCLE_CASE_TYPE, "version", 1, "ref", ref,
			 "copy", copy);
}

/* ---- what the generalisation did ------------------------------------------------------ */

static const char *
list_name(enum concil_list l)
{
	return l == CONCIL_BMO ? "bmo" : "order";
}

static json_t *
deid_json(const struct concil_deid *r)
{
	json_t *lines = json_array();
	for (size_t i = 0; i < r->n_lines; i++) {
		const struct concil_gen_line *g = &r->lines[i];
		json_array_append_new(lines, json_pack("{s:s, s:i, s:s, s:s, s:s?, s:i, s:i, s:b, s:s?}",
			"list", list_name(g->list), "id", g->id, "inn", g->inn, "atc", g->atc,
			"shared", g->shared[0] ? g->shared : NULL, "support_atc", g->support_atc,
			"support", g->support, "generalised", strcmp(g->shared, g->atc) != 0,
			"pair_with", g->pair ? g->pair_with : NULL));
	}
	return json_pack("{s:i, s:I, s:I, s:I, s:s, s:s, s:b, s:[ss], s:o}", "k", r->k,
			 "held", (json_int_t)r->held, "group_quarter", (json_int_t)r->group_quarter,
			 "group", (json_int_t)r->group, "month", r->month, "period", r->period,
			 "to_year", r->to_year, "suppressed", "compared", "closed", "lines", lines);
}

static void
deid_print(const struct concil_episode *ep, const struct concil_deid *r)
{
	printf(ngettext("Generalised for k = %d: the circle holds %zu other reconciliation; "
			"%zu, this one included, have its pathway (%s), transition (%s) and "
			"%s (%s).\n",
			"Generalised for k = %d: the circle holds %zu other reconciliations; "
			"%zu, this one included, have its pathway (%s), transition (%s) and "
			"%s (%s).\n", r->held),
	       r->k, r->held, r->group, ep->pathway[0] ? ep->pathway : _("none"),
	       concil_code(CONCIL_V_TRANSITION, (int)ep->transition),
	       r->to_year ? _("year") : _("quarter"), r->period);
	if (r->to_year)
		printf(_("  period: %s → %s (the year: only %zu of the quarter, fewer than k)\n"),
		       r->month, r->period, r->group_quarter);
	else
		printf(_("  period: %s → %s (the quarter, not the month)\n"), r->month, r->period);
	puts(_("  suppressed: the months of the comparison and of the closing"));
	size_t kept = 0, classes = 0, none = 0;
	for (size_t i = 0; i < r->n_lines; i++) {
		const struct concil_gen_line *g = &r->lines[i];
		if (strcmp(g->shared, g->atc) == 0 && concil_atc_level(g->atc) == 5) {
			kept++;
			continue;
		}
		printf(_("  %s line %d "), list_name(g->list), g->id);
		out_text(stdout, g->inn);
		printf(" %s → %s: ", g->atc[0] ? g->atc : _("(no code)"),
		       g->shared[0] ? g->shared : _("no code"));
		if (g->pair)
			printf(_("held together with %s by fewer than %d, "), g->pair_with, r->k);
		else if (g->atc[0] == '\0')
			fputs(_("entered without code, "), stdout);
		else if (strcmp(g->shared, g->atc) == 0)
			fputs(_("entered as a class, "), stdout);
		else
			printf(_("held by %d of %zu, fewer than k, "), g->support_atc, r->group);
		if (g->shared[0])
			printf(_("its class %s by %d; "), g->shared, g->support);
		else if (g->atc[0])
			printf(_("no class of it by %d; "), r->k);
		puts(_("no INN, strength, dose or unit"));
		classes += g->shared[0] != '\0';
		none += g->shared[0] == '\0';
	}
	printf(_("  drugs: %zu kept as their substance (held by at least %d), %zu shared as their "
	       "class, %zu without code\n"), kept, r->k, classes, none);
}

/* k: --k, else this profile's setting for the circle, else the default. */
static void
k_key(const uint8_t channel[LSN_ID_BYTES], char out[64])
{
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(channel, hex);
	snprintf(out, 64, "circle_k.%s", hex);
}

static void
topic_of(struct e2e *e, const struct chan_view *v, char *out, size_t len)
{
	local_channel_topic(e->p, v->channel, out, len);
	if (out[0] == '\0') {
		char hex[LSN_ID_HEX + 1];
		lsn_id_to_hex(v->channel, hex);
		snprintf(out, len, "%.8s", hex);
	}
}

/* Multi-line text, each line with its control characters neutralised. */
static void
print_lines(const char *text)
{
	for (const char *line = text; line;) {
		const char *nl = strchr(line, '\n');
		char *copy = strndup(line, nl ? (size_t)(nl - line) : strlen(line));
		out_text(stdout, copy ? copy : "?");
		putchar('\n');
		free(copy);
		line = nl ? nl + 1 : NULL;
	}
}

static int
share(struct e2e *e, const char *circle_text, const char *case_text, const char *episode_text,
      const char *k_text, bool dry_run)
{
	struct concil_deid r;
	memset(&r, 0, sizeof r);
	struct chan_view v;
	struct case_ctx cc;
	struct concil_fold fold;
	struct circle_state cs;
	char why[1024], topic[THREAD_TOPIC_MAX], hex[LSN_ID_HEX + 1];
	memset(&cc, 0, sizeof cc);
	memset(&fold, 0, sizeof fold);
	memset(&cs, 0, sizeof cs);
	int rc = circle_open(e, circle_text, &v);
	if (rc == CLI_OK)
		rc = concil_case_open(e, case_text, &cc, &fold);
	struct concil_item *it = rc == CLI_OK ? concil_fold_find(&fold, episode_text, why,
								  sizeof why) : NULL;
	if (rc == CLI_OK && it == NULL) {
		out_error(_("%s (see liaison conciliation show %s)"), why, cc.ref);
		rc = CLI_FAIL;
	}
	struct lsn_status st = {0};
	int64_t replaces = 0, seq = 0;
	char attachment[LSN_ID_HEX + 1] = "", key[64];
	long k = CONCIL_K_DEFAULT;
	if (it && k_text == NULL) {
		k_key(v.channel, key);
		k = (long)local_setting(e->p, key, CONCIL_K_DEFAULT);
	} else if (it && !args_int(k_text, 1, CONCIL_K_MAX, &k)) {
		out_error(_("--k \"%.20s\": give the smallest group, a whole number from 1 to %d"),
			  k_text, CONCIL_K_MAX);
		rc = CLI_USAGE;
	}
	if (it && rc == CLI_OK && circle_load(e, &v, &cs, &st) != LSN_OK)
		rc = out_fail(&st);
	json_t *msg = it && rc == CLI_OK ? circle_message(&it->ep, &cc, v.channel, &cs, (int)k, &r)
					 : NULL;
	if (it && rc == CLI_OK && msg == NULL)
		rc = CLI_FAIL;
	for (size_t i = 0; msg && rc == CLI_OK && i < cs.n_cases; i++)
		if (strcmp(cs.cases[i].ref, user_view_str(msg, "ref")) == 0)
			replaces = cs.cases[i].m->seq;
	topic_of(e, &v, topic, sizeof topic);
	lsn_id_to_hex(v.channel, hex);
	if (msg && rc == CLI_OK && dry_run) {
		char *text = json_dumps(msg, JSON_COMPACT);
		size_t bytes = text ? strlen(text) : 0;
		free(text);
		if (out_json_mode()) {
			json_t *o = json_pack("{s:b, s:s, s:O, s:I, s:I, s:o}", "dry_run", 1, "circle",
					      hex, "message", msg, "bytes", (json_int_t)bytes,
					      "replaces", (json_int_t)replaces, "generalisation",
					      deid_json(&r));
			rc = out_json(o);
			json_decref(o);
		} else {
			char *pretty = json_dumps(msg, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			fputs(_("Dry run: nothing was sent. This is exactly what would be posted, "
			      "encrypted, in the circle "), stdout);
			out_text(stdout, topic);
			printf(_(" (%zu bytes; the thread adds \"channel\" and "
					"\"sender\"):\n"), bytes);
			print_lines(pretty ? pretty : "?");
			free(pretty);
			deid_print(&it->ep, &r);
			puts(_("Checked: built field by field from the whitelist of "
			     "docs/CONCILIATION.md (\"Circle copy\"), then generalised "
			     "(\"Generalisation\"); no patient name, birth date or INS, no note, "
			     "no professional's name or id, no case or episode id, no day or "
			     "month."));
		}
	} else if (msg && rc == CLI_OK) {
		json_t *pointer = json_pack("{s:s, s:i, s:s}", "type", CIRCLE_CASE_TYPE, "version", 1,
					    "ref", user_view_str(msg, "ref"));
		size_t n_discs = it->ep.discs.n;
		if (concil_doc_post(e, &v, json_deep_copy(msg), pointer, "circle-case.json", &seq,
				    attachment, &st) != LSN_OK) {
			rc = out_fail(&st);
		} else if (out_json_mode()) {
			json_t *o = json_pack("{s:s, s:I, s:s?, s:I, s:O, s:o}", "circle", hex, "seq",
					      (json_int_t)seq, "attachment",
					      attachment[0] ? attachment : NULL, "replaces",
					      (json_int_t)replaces, "message", msg, "generalisation",
					      deid_json(&r));
			rc = out_json(o);
			json_decref(o);
		} else {
			fputs(_("Shared with the circle "), stdout);
			out_text(stdout, topic);
			printf(ngettext(" (message #%lld%s): a de-identified copy of "
					"reconciliation %.8s, %zu discrepancy.\n",
					" (message #%lld%s): a de-identified copy of "
					"reconciliation %.8s, %zu discrepancies.\n", n_discs),
			       (long long)seq, attachment[0] ? _(", as an encrypted attachment") : "",
			       it->ep.episode, n_discs);
			if (replaces)
				printf(_("It replaces the copy shared before (message #%lld).\n"),
				       (long long)replaces);
			deid_print(&it->ep, &r);
			puts(_("No patient, note, name, id, day or month left the case thread."));
		}
	}
	concil_deid_free(&r);
	json_decref(msg);
	circle_state_free(&cs);
	concil_fold_free(&fold);
	case_ctx_free(&cc);
	chan_view_free(&v);
	return rc;
}

int
cmd_circle_share_run(struct cmd_call *c)
{
	return share(c->e, c->pos[0], c->pos[1], c->pos[2], cmd_opt(c, "--k"),
		     cmd_flag(c, "--dry-run"));
}

/* circle k CIRCLE [N]: this profile's k for the circle (shown, or set). */
int
cmd_circle_k_run(struct cmd_call *c)
{
	struct chan_view v;
	struct lsn_status st = {0};
	char key[64], hex[LSN_ID_HEX + 1];
	long k = 0;
	if (c->n_pos == 2 && !args_int(c->pos[1], 1, CONCIL_K_MAX, &k)) {
		out_error(_("circle k: give the smallest group, a whole number from 1 to %d"),
			  CONCIL_K_MAX);
		return CLI_USAGE;
	}
	int rc = circle_open(c->e, c->pos[0], &v);
	if (rc != CLI_OK)
		return rc;
	k_key(v.channel, key);
	lsn_id_to_hex(v.channel, hex);
	if (c->n_pos == 2 && local_set_setting(c->e->p, key, k, &st) != LSN_OK) {
		chan_view_free(&v);
		return out_fail(&st);
	}
	k = (long)local_setting(c->e->p, key, CONCIL_K_DEFAULT);
	if (out_json_mode()) {
		json_t *o = json_pack("{s:s, s:i, s:b}", "circle", hex, "k", (int)k, "default",
				      k == CONCIL_K_DEFAULT);
		rc = out_json(o);
		json_decref(o);
	} else {
		printf(_("k = %ld for the circle %.8s on this profile%s: circle share generalises "
		       "a copy until it is one of at least %ld, and refuses it "
		       "otherwise.\n"), k, hex,
		       k == CONCIL_K_DEFAULT ? _(" (the default)") : "", k);
	}
	chan_view_free(&v);
	return rc;
}

/* ---- session ----------------------------------------------------------------------------- */

struct session_opts {
	const char *circle, *date, *theme, *consensus, *follow_up;
	const char *attendees[CIRCLE_LIST_MAX], *cases[CIRCLE_LIST_MAX], *actions[CIRCLE_LIST_MAX];
	size_t n_attendees, n_cases, n_actions;
};

/* Options that repeat and take several values: every word after them up to
 * the next option. */
static int
parse_session(int argc, char **argv, struct session_opts *o)
{
	const char **list = NULL;
	size_t *count = NULL;
	const char *option = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			return CMD_HELP;
		const char **single = NULL;
		if (a[0] == '-' && a[1] == '-') {
			list = NULL;
			count = NULL;
			option = a;
			if (strcmp(a, "--date") == 0)
				single = &o->date;
			else if (strcmp(a, "--theme") == 0)
				single = &o->theme;
			else if (strcmp(a, "--consensus") == 0)
				single = &o->consensus;
			else if (strcmp(a, "--follow-up") == 0)
				single = &o->follow_up;
			else if (strcmp(a, "--attendee") == 0 || strcmp(a, "--attendees") == 0)
				list = o->attendees, count = &o->n_attendees;
			else if (strcmp(a, "--cases") == 0 || strcmp(a, "--case") == 0)
				list = o->cases, count = &o->n_cases;
			else if (strcmp(a, "--action") == 0 || strcmp(a, "--actions") == 0)
				list = o->actions, count = &o->n_actions;
			else {
				out_error(_("unknown option \"%s\" for \"circle session\"; see "
					  "liaison circle --help"), a);
				return CLI_USAGE;
			}
			if (single) {
				if (i + 1 >= argc) {
					out_error(_("option %s needs a value; see liaison circle "
							"--help"), a);
					return CLI_USAGE;
				}
				*single = argv[++i];
				option = NULL;
			}
			continue;
		}
		if (list) {
			if (*count == CIRCLE_LIST_MAX) {
				out_error(_("%s: at most %d values"), option, CIRCLE_LIST_MAX);
				return CLI_USAGE;
			}
			list[(*count)++] = a;
		} else if (o->circle == NULL) {
			o->circle = a;
		} else {
			out_error(_("unexpected argument \"%s\" for \"circle session\"; see "
				  "liaison circle --help"), a);
			return CLI_USAGE;
		}
	}
	return CLI_OK;
}

static bool
text_ok(const char *s, size_t max)
{
	return s && s[0] && strlen(s) <= max && lsn_display_text_valid(s, max);
}

/* Everything that needs no connection. */
static int
check_session(struct session_opts *o, char theme[CONCIL_ATC_LEN + 1])
{
	int64_t day, follow;
	if (o->circle == NULL) {
		out_error(_("circle session needs the CIRCLE first; see liaison circle --help"));
		return CLI_USAGE;
	}
	if (o->date == NULL || !day_parse(o->date, &day)) {
		out_error(_("circle session needs --date YYYY-MM-DD, the day of the meeting"));
		return CLI_USAGE;
	}
	snprintf(theme, CONCIL_ATC_LEN + 1, "%s", o->theme ? o->theme : "");
	for (char *p = theme; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	if (o->theme == NULL || strlen(o->theme) > CONCIL_ATC_LEN || concil_atc_level(theme) == 0) {
		out_error(_("--theme needs an ATC prefix: a letter (C), then 2 digits (C03), a "
			  "letter (C03C), a letter (C03CA), 2 digits (C03CA01)"));
		return CLI_USAGE;
	}
	if (o->n_attendees == 0) {
		out_error(_("circle session needs --attendee USER... (members of the circle who "
			  "attended)"));
		return CLI_USAGE;
	}
	if (!text_ok(o->consensus, CIRCLE_CONSENSUS_MAX)) {
		out_error(_("circle session needs --consensus TEXT (at most %d bytes, no control "
			  "characters): what the circle agreed"), CIRCLE_CONSENSUS_MAX);
		return CLI_USAGE;
	}
	for (size_t i = 0; i < o->n_actions; i++)
		if (!text_ok(o->actions[i], CIRCLE_ACTION_MAX)) {
			out_error(_("--action \"%.40s\": at most %d bytes, no control characters"),
				  o->actions[i], CIRCLE_ACTION_MAX);
			return CLI_USAGE;
		}
	if (o->follow_up && (!day_parse(o->follow_up, &follow) || follow <= day)) {
		out_error(_("--follow-up needs a date YYYY-MM-DD after the meeting (%s)"), o->date);
		return CLI_USAGE;
	}
	for (size_t i = 0; i < o->n_cases; i++) {
		long n;
		const char *c = o->cases[i][0] == '#' ? o->cases[i] + 1 : o->cases[i];
		if (!args_int(c, 1, 1L << 50, &n)) {
			out_error(_("--cases \"%s\": give the numbers of the cases as liaison "
				  "circle review shows them (#12)"), o->cases[i]);
			return CLI_USAGE;
		}
	}
	return CLI_OK;
}

static int
session_attendees(struct e2e *e, const struct chan_view *v, const struct session_opts *o,
		  json_t *list)
{
	for (size_t i = 0; i < o->n_attendees; i++) {
		uint8_t user[LSN_ID_BYTES];
		char name[160], hex[LSN_ID_HEX + 1];
		int rc = e2e_resolve_user(e, o->attendees[i], user);
		if (rc != CLI_OK)
			return rc;
		concil_person_of(e, user, name, sizeof name, NULL, 0);
		if (!chan_view_ever(v, user)) {
			out_error(_("--attendee %s: %s is not a member of the circle; add them first "
				  "(liaison channel add)"), o->attendees[i], name[0] ? name : _("they"));
			return CLI_USAGE;
		}
		lsn_id_to_hex(user, hex);
		json_t *x;
		size_t k;
		bool twice = false;
		json_array_foreach(list, k, x)
			twice = twice || strcmp(user_view_str(x, "user"), hex) == 0;
		if (!twice)
			json_array_append_new(list, json_pack("{s:s, s:s}", "user", hex, "name", name));
	}
	return CLI_OK;
}

static int
session_cases(const struct circle_state *cs, const struct session_opts *o, json_t *list)
{
	for (size_t i = 0; i < o->n_cases; i++) {
		long n = 0;
		args_int(o->cases[i][0] == '#' ? o->cases[i] + 1 : o->cases[i], 1, 1L << 50, &n);
		bool found = false;
		for (size_t k = 0; k < cs->n_cases && !found; k++)
			found = cs->cases[k].m->seq == n;
		if (!found) {
			out_error(_("--cases %s: no case shared in this circle has that number; "
				  "see liaison circle review"), o->cases[i]);
			return CLI_USAGE;
		}
		json_array_append_new(list, json_integer(n));
	}
	return CLI_OK;
}

/* What the server counts of a session (op circle_session, for the CPTS
 * report): the circle, the day and who attended; nothing else. A second
 * record of the same day replaces the first. */
static enum lsn_err
count_session(struct e2e *e, const struct chan_view *v, const char *date, json_t *attendees,
	      struct lsn_status *st)
{
	json_t *ids = json_array(), *reply = NULL, *x;
	size_t i;
	char hex[LSN_ID_HEX + 1];
	json_array_foreach(attendees, i, x)
		json_array_append_new(ids, json_string(user_view_str(x, "user")));
	lsn_id_to_hex(v->channel, hex);
	enum lsn_err err = e2e_write(e, "circle_session", json_pack("{s:s, s:s, s:o}", "channel",
				     hex, "day", date, "attendees", ids), &reply, st);
	json_decref(reply);
	return err;
}

static int
record_session(struct e2e *e, struct session_opts *o, const char *theme)
{
	struct chan_view v;
	struct circle_state cs;
	struct lsn_status st = {0};
	memset(&cs, 0, sizeof cs);
	json_t *attendees = json_array(), *cases = json_array(), *actions = json_array();
	int rc = circle_open(e, o->circle, &v);
	if (rc == CLI_OK)
		rc = session_attendees(e, &v, o, attendees);
	if (rc == CLI_OK && circle_load(e, &v, &cs, &st) != LSN_OK)
		rc = out_fail(&st);
	if (rc == CLI_OK)
		rc = session_cases(&cs, o, cases);
	for (size_t i = 0; i < o->n_actions; i++)
		json_array_append_new(actions, json_string(o->actions[i]));
	int64_t seq = 0, ts = 0;
	if (rc == CLI_OK) {
		json_t *msg = json_pack("{s:s, s:i, s:s, s:s, s:O, s:O, s:s, s:O, s:s?}", "type",
					CIRCLE_SESSION_TYPE, "version", 1, "date", o->date, "theme",
					theme, "attendees", attendees, "cases", cases, "consensus",
					o->consensus, "actions", actions, "follow_up", o->follow_up);
		char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
		size_t len = text ? strlen(text) : 0;
		free(text);
		if (msg == NULL || len == 0) {
			json_decref(msg);
			out_error(_("out of memory"));
			rc = CLI_FAIL;
		} else if (len > THREAD_TEXT_MAX) {
			json_decref(msg);
			out_error(_("the session record is %zu bytes, more than a message holds "
				  "(%d): shorten the consensus or the "
				  "actions"), len, THREAD_TEXT_MAX);
			rc = CLI_USAGE;
		} else if (thread_send(e, &v, msg, &seq, &ts, &st) != LSN_OK) {
			rc = out_fail(&st);
		} else if (count_session(e, &v, o->date, attendees, &st) != LSN_OK) {
			out_error(_("the session is recorded in the circle (message #%lld) but the "
				  "server did not count it for the CPTS report; run the same "
				  "command again"),
				  (long long)seq);
			rc = out_fail(&st);
		}
	}
	if (rc == CLI_OK && out_json_mode()) {
		char hex[LSN_ID_HEX + 1];
		lsn_id_to_hex(v.channel, hex);
		json_t *out = json_pack("{s:s, s:I, s:s, s:s, s:O, s:O, s:O}", "circle", hex, "seq",
					(json_int_t)seq, "date", o->date, "theme", theme, "attendees",
					attendees, "cases", cases, "actions", actions);
		rc = out_json(out);
		json_decref(out);
	} else if (rc == CLI_OK) {
		size_t na = json_array_size(attendees), nc = json_array_size(cases),
		       nx = (size_t)o->n_actions;
		printf(_("Session of %s (theme %s) recorded, encrypted, in the circle: message "
			 "#%lld; "), o->date, theme, (long long)seq);
		printf(ngettext("%zu attendee, ", "%zu attendees, ", na), na);
		printf(ngettext("%zu case reviewed, ", "%zu cases reviewed, ", nc), nc);
		printf(ngettext("%zu action", "%zu actions", nx), nx);
		printf("%s%s.\n", o->follow_up ? _("; follow-up on ") : "",
		       o->follow_up ? o->follow_up : "");
	}
	json_decref(attendees);
	json_decref(cases);
	json_decref(actions);
	circle_state_free(&cs);
	chan_view_free(&v);
	return rc;
}

/* What the parser and check prepare for run. */
struct session_call {
	struct session_opts o;
	char theme[CONCIL_ATC_LEN + 1];
};

int
cmd_circle_session_parse(struct cmd_call *c, int argc, char **argv)
{
	struct session_call *d = cmd_keep_new(c, sizeof *d, NULL);
	if (d == NULL)
		return CLI_FAIL;
	return parse_session(argc, argv, &d->o);
}

int
cmd_circle_session_check(struct cmd_call *c)
{
	struct session_call *d = c->data;
	return check_session(&d->o, d->theme);
}

int
cmd_circle_session_run(struct cmd_call *c)
{
	struct session_call *d = c->data;
	return record_session(c->e, &d->o, d->theme);
}

/* ---- review ------------------------------------------------------------------------------ */

static void
type_summary(const struct concil_episode *ep, char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (int t = 0; t < CONCIL_DTYPE__COUNT && used + 1 < len; t++) {
		size_t n = 0;
		for (size_t i = 0; i < ep->discs.n; i++)
			n += ep->discs.v[i].type == (enum concil_dtype)t;
		if (n == 0)
			continue;
		int w = n > 1 ? snprintf(out + used, len - used, "%s%s ×%zu", used ? ", " : "",
					 concil_code(CONCIL_V_TYPE, t), n)
			      : snprintf(out + used, len - used, "%s%s", used ? ", " : "",
					 concil_code(CONCIL_V_TYPE, t));
		used += w > 0 ? (size_t)w : 0;
	}
}

static size_t
count_if(const struct concil_episode *ep, bool resolved, bool unintentional)
{
	size_t n = 0;
	for (size_t i = 0; i < ep->discs.n; i++)
		n += (resolved && ep->discs.v[i].resolution != CONCIL_PENDING) ||
		     (unintentional && ep->discs.v[i].intent == CONCIL_UNINTENTIONAL);
	return n;
}

static void
print_cases(struct e2e *e, const struct circle_state *cs)
{
	printf(_("Cases shared in the circle: %zu\n"), cs->n_cases);
	if (cs->n_cases == 0)
		return;
	const char *headers[] = {"#", N_("SHARED BY"), N_("PATHWAY"), N_("TRANSITION"),
				 N_("STARTED"), N_("STATUS"), N_("DISCREPANCIES"),
				 N_("UNINTENTIONAL"), N_("RESOLVED"), N_("TYPES")};
	struct out_table *t = out_table_new(10, headers);
	for (size_t i = 0; t && i < cs->n_cases; i++) {
		const struct shared_case *sc = &cs->cases[i];
		char seq[24], who[160], started[8], nd[16], nu[16], nr[16], types[400];
		snprintf(seq, sizeof seq, "#%lld", (long long)sc->m->seq);
		concil_person_of(e, sc->m->sender, who, sizeof who, NULL, 0);
		snprintf(started, sizeof started, "%s", user_view_str(sc->copy, "started") ?
			 user_view_str(sc->copy, "started") : "?");
		snprintf(nd, sizeof nd, "%zu", sc->ep.discs.n);
		snprintf(nu, sizeof nu, "%zu", count_if(&sc->ep, false, true));
		snprintf(nr, sizeof nr, "%zu", count_if(&sc->ep, true, false));
		type_summary(&sc->ep, types, sizeof types);
		const char *cells[] = {seq, who, sc->ep.pathway,
				       concil_code(CONCIL_V_TRANSITION, (int)sc->ep.transition),
				       started, concil_code(CONCIL_V_STATUS, (int)sc->ep.status), nd,
				       nu, nr, types};
		out_table_add(t, cells);
	}
	out_table_print(t, stdout);
	out_table_free(t);
	for (size_t i = 0; i < cs->n_cases; i++)
		for (size_t k = 0; k < cs->cases[i].n_replaces; k++)
			printf(_("  #%lld replaces #%lld (the same reconciliation shared again)\n"),
			       (long long)cs->cases[i].m->seq, (long long)cs->cases[i].replaces[k]);
}

/* The aggregate CSV as a table: totals, then the non-zero rows. */
static void
print_aggregates(const char *csv, size_t cases)
{
	printf(ngettext("\nAggregates over %zu case (computed on this computer from the "
			"decrypted copies):\n",
			"\nAggregates over %zu cases (computed on this computer from the "
			"decrypted copies):\n", cases),
	       cases);
	const char *headers[] = {N_("DIMENSION"), N_("KEY"), N_("COUNT"), N_("SHARE")};
	struct out_table *t = out_table_new(4, headers);
	char *copy = strdup(csv);
	bool first = true;
	for (char *save = NULL, *line = copy ? strtok_r(copy, "\n", &save) : NULL; t && line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *cells[4] = {NULL};
		char *p = line;
		for (int c = 0; c < 4; c++) {
			cells[c] = p;
			char *comma = p ? strchr(p, ',') : NULL;
			if (comma)
				*comma = '\0';
			p = comma ? comma + 1 : NULL;
		}
		if (first) {
			first = false;
			continue;
		}
		if (cells[2] && strcmp(cells[2], "0") == 0)
			continue;
		const char *row[] = {cells[0], cells[1], cells[2], cells[3]};
		out_table_add(t, row);
	}
	if (t)
		out_table_print(t, stdout);
	out_table_free(t);
	free(copy);
	puts(_("(rows with a count of 0 are left out; --csv gives them all)"));
}

static bool
session_valid(json_t *c, char *why, size_t len)
{
	int64_t d;
	const char *date = user_view_str(c, "date"), *theme = user_view_str(c, "theme");
	if (date == NULL || !day_parse(date, &d)) {
		snprintf(why, len, _("date: expected YYYY-MM-DD"));
		return false;
	}
	if (theme == NULL || strlen(theme) > CONCIL_ATC_LEN || concil_atc_level(theme) == 0) {
		snprintf(why, len, _("theme: expected an ATC prefix"));
		return false;
	}
	if (!json_is_array(json_object_get(c, "attendees")) ||
	    !json_is_array(json_object_get(c, "cases")) ||
	    !json_is_array(json_object_get(c, "actions")) || !user_view_str(c, "consensus")) {
		snprintf(why, len, _("attendees, cases, actions or consensus missing"));
		return false;
	}
	return true;
}

static void
print_sessions(struct e2e *e, const struct circle_state *cs, json_t *ignored)
{
	size_t n = 0;
	for (size_t i = 0; i < cs->msgs.n; i++) {
		const struct thread_doc *m = &cs->msgs.v[i];
		char why[120], who[160], when[32];
		if (strcmp(type_of(m), CIRCLE_SESSION_TYPE) != 0)
			continue;
		if (!session_valid(m->content, why, sizeof why)) {
			json_array_append_new(ignored, json_pack("{s:I, s:s}", "seq",
								 (json_int_t)m->seq, "reason", why));
			continue;
		}
		if (n++ == 0)
			puts(_("\nSessions:"));
		concil_person_of(e, m->sender, who, sizeof who, NULL, 0);
		out_time(m->ts, when, sizeof when);
		printf(_("#%lld, recorded %s by "), (long long)m->seq, when);
		out_text(stdout, who);
		putchar('\n');
		circle_view_session_message(stdout, m->content, "  ");
		json_t *x;
		size_t k;
		fputs(_("  Attendees: "), stdout);
		json_array_foreach(json_object_get(m->content, "attendees"), k, x) {
			fputs(k ? ", " : "", stdout);
			out_text(stdout, user_view_str(x, "name") ? user_view_str(x, "name") : "?");
		}
		fputs(_("\n  Cases reviewed:"), stdout);
		json_array_foreach(json_object_get(m->content, "cases"), k, x)
			printf(" #%lld", (long long)json_integer_value(x));
		putchar('\n');
	}
	if (n == 0)
		puts(_("\nNo session recorded yet (liaison circle session)."));
}

static json_t *
review_json(struct e2e *e, const struct chan_view *v, struct circle_state *cs, json_t *agg)
{
	char hex[LSN_ID_HEX + 1], topic[THREAD_TOPIC_MAX];
	json_t *cases = json_array(), *sessions = json_array();
	lsn_id_to_hex(v->channel, hex);
	local_channel_topic(e->p, v->channel, topic, sizeof topic);
	for (size_t i = 0; i < cs->n_cases; i++) {
		const struct shared_case *sc = &cs->cases[i];
		char who[160], sender[LSN_ID_HEX + 1];
		concil_person_of(e, sc->m->sender, who, sizeof who, NULL, 0);
		lsn_id_to_hex(sc->m->sender, sender);
		json_t *repl = json_array();
		for (size_t k = 0; k < sc->n_replaces; k++)
			json_array_append_new(repl, json_integer(sc->replaces[k]));
		json_array_append_new(cases, json_pack("{s:I, s:I, s:s, s:s, s:s?, s:o, s:O}", "seq",
			(json_int_t)sc->m->seq, "ts", (json_int_t)sc->m->ts, "sender", sender,
			"sender_name", who, "ref", sc->ref[0] ? sc->ref : NULL, "replaces", repl,
			"copy", sc->copy));
	}
	for (size_t i = 0; i < cs->msgs.n; i++) {
		const struct thread_doc *m = &cs->msgs.v[i];
		char why[120], sender[LSN_ID_HEX + 1];
		if (strcmp(type_of(m), CIRCLE_SESSION_TYPE) != 0 ||
		    !session_valid(m->content, why, sizeof why))
			continue;
		lsn_id_to_hex(m->sender, sender);
		json_t *s = json_deep_copy(m->content);
		json_object_del(s, "channel");
		json_object_set_new(s, "seq", json_integer(m->seq));
		json_object_set_new(s, "recorded_by", json_string(sender));
		json_array_append_new(sessions, s);
	}
	return json_pack("{s:s, s:s?, s:o, s:o, s:o, s:O}", "circle", hex, "topic",
			 topic[0] ? topic : NULL, "cases", cases, "aggregates", agg, "sessions",
			 sessions, "ignored", cs->ignored);
}

static int
review(struct e2e *e, const char *circle_text, bool csv, bool french)
{
	struct chan_view v;
	struct circle_state cs;
	struct concil_agg agg;
	struct lsn_status st = {0};
	memset(&cs, 0, sizeof cs);
	concil_agg_init(&agg);
	int rc = circle_open(e, circle_text, &v);
	if (rc == CLI_OK && circle_load(e, &v, &cs, &st) != LSN_OK)
		rc = out_fail(&st);
	for (size_t i = 0; rc == CLI_OK && i < cs.n_cases; i++)
		if (!concil_agg_add(&agg, &cs.cases[i].ep)) {
			out_error(_("out of memory"));
			rc = CLI_FAIL;
		}
	char *text = rc == CLI_OK ? concil_agg_csv(&agg) : NULL;
	if (rc == CLI_OK && text == NULL) {
		out_error(_("out of memory"));
		rc = CLI_FAIL;
	}
	if (rc == CLI_OK && csv) {
		struct csv_out w;
		csv_start(&w, stdout, french);
		csv_recode(&w, text);
	} else if (rc == CLI_OK && out_json_mode()) {
		json_t *o = review_json(e, &v, &cs, concil_agg_json(&agg));
		rc = out_json(o);
		json_decref(o);
	} else if (rc == CLI_OK) {
		char topic[THREAD_TOPIC_MAX], hex[LSN_ID_HEX + 1];
		lsn_id_to_hex(v.channel, hex);
		local_channel_topic(e->p, v.channel, topic, sizeof topic);
		printf(_("Quality circle %s"), hex);
		if (topic[0]) {
			fputs(" — ", stdout);
			out_text(stdout, topic);
		}
		puts("\n");
		print_cases(e, &cs);
		print_aggregates(text, cs.n_cases);
		printf(_("Share resolved: %.1f %% (%lld of %lld discrepancies decided by the "
		       "prescriber)\n"), 100.0 * concil_agg_resolved_share(&agg),
		       (long long)agg.resolved, (long long)agg.discrepancies);
		print_sessions(e, &cs, cs.ignored);
		json_t *x;
		size_t i;
		json_array_foreach(cs.ignored, i, x) {
			printf(_("Message #%lld was not taken into account: "),
			       (long long)user_view_int(x, "seq"));
			out_text(stdout, user_view_str(x, "reason"));
			putchar('\n');
		}
	}
	free(text);
	concil_agg_free(&agg);
	circle_state_free(&cs);
	chan_view_free(&v);
	return rc;
}

int
cmd_circle_review_run(struct cmd_call *c)
{
	bool french;
	bool csv = cmd_csv(c, &french);
	return review(c->e, c->pos[0], csv, french);
}
