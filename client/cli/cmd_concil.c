/* cmd_concil.c — "liaison conciliation" (alias "concil"): medication
 * reconciliation in a case (docs/CONCILIATION.md). The episode lives in
 * the case's encrypted thread: each change reads the episode folded from
 * the thread (concil_thread.h), makes the change with the rules of
 * concil_apply for the user's own profession (from the login reply), posts
 * the whole episode as a new encrypted message — an encrypted attachment
 * when it is too large for one — and then sends the server the
 * de-identified counts (op conciliation_counts). Nothing is posted when a
 * rule refuses the change. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "args.h"
#include "case_view.h"
#include "channel_ops.h"
#include "command.h"
#include "clock.h"
#include "concil_thread.h"
#include "concil_view.h"
#include "day.h"
#include "notice.h"
#include "output.h"
#include "tr.h"
#include "local.h"
#include "user_view.h"

/* ---- the context of a subcommand ------------------------------------------------- */

struct cctx {
	struct e2e *e;
	struct case_ctx cc;
	struct concil_fold fold;
	char profession[64];
	char me_name[160];
};

static void
cctx_free(struct cctx *c)
{
	concil_fold_free(&c->fold);
	case_ctx_free(&c->cc);
}

/* Load the case, sync its thread, fold its episodes. */
static int
cctx_open(struct e2e *e, const char *case_text, struct cctx *c)
{
	memset(c, 0, sizeof *c);
	c->e = e;
	json_t *user = json_object_get(e->s.login, "user");
	snprintf(c->profession, sizeof c->profession, "%s",
		 user_view_str(user, "profession") ? user_view_str(user, "profession") : "");
	/* Testing aid: a client that lies about its profession to itself, so
	 * that the integration test can check that the others' fold rejects
	 * what it posts (client/README.md, "Testing aid"). */
	const char *forged = getenv("LIAISON_TEST_CONCIL_PROFESSION");
	if (forged && forged[0])
		snprintf(c->profession, sizeof c->profession, "%s", forged);
	snprintf(c->me_name, sizeof c->me_name, "%s",
		 user_view_str(user, "name") ? user_view_str(user, "name") : "you");
	return concil_case_open(e, case_text, &c->cc, &c->fold);
}

static struct concil_item *
find_episode(struct cctx *c, const char *text)
{
	char why[1024];
	struct concil_item *it = concil_fold_find(&c->fold, text, why, sizeof why);
	if (it == NULL)
		out_error(_("%s (see liaison conciliation show %s)"), why, c->cc.ref);
	return it;
}

/* A line or discrepancy number: "13" or "#13". */
static bool
parse_number(const char *text, int *out)
{
	long v;
	if (text && text[0] == '#')
		text++;
	if (!args_int(text, 1, 1000000, &v))
		return false;
	*out = (int)v;
	return true;
}

static int
vocab_arg(enum concil_vocab voc, const char *option, const char *text, int *out)
{
	int v = concil_parse(voc, text);
	if (v >= 0 && concil_code(voc, v) != NULL) {
		*out = v;
		return CLI_OK;
	}
	char list[600];
	size_t used = 0;
	for (int i = 0; i < concil_count(voc) && used + 1 < sizeof list; i++) {
		const char *code = concil_code(voc, i);
		if (code == NULL || (voc == CONCIL_V_RESOLUTION && i == CONCIL_PENDING))
			continue;
		int n = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", code);
		used += n > 0 ? (size_t)n : 0;
	}
	out_error(_("%s \"%s\" is not known: one of %s"), option, text ? text : "", list);
	return CLI_USAGE;
}

/* ---- posting ------------------------------------------------------------------------ */

/* What a change posted, for the output. */
struct posted {
	int64_t seq;
	char attachment[LSN_ID_HEX + 1];
	json_t *counts;          /* what was sent to the server */
	bool counts_sent;
};

/* Post ep as the next version of it (NULL: a new episode), then the counts. */
static int
commit(struct cctx *c, const struct concil_item *it, const struct concil_episode *ep,
       const char *change, struct posted *out)
{
	struct lsn_status st = {0};
	char why[320];
	memset(out, 0, sizeof *out);
	if (!concil_legal_successor(it ? &it->ep : NULL, ep, concil_role_of(c->profession),
				    c->me_name, why, sizeof why)) {
		out_error(_("%s; nothing was posted"), why);
		return CLI_FAIL;
	}
	json_t *doc = concil_episode_encode(ep);
	json_t *pointer = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "type", CONCIL_DOC_TYPE,
				    "version", CONCIL_VERSION, "episode", ep->episode, "case",
				    ep->case_id, "transition",
				    concil_code(CONCIL_V_TRANSITION, (int)ep->transition), "status",
				    concil_code(CONCIL_V_STATUS, (int)ep->status));
	if (doc == NULL || pointer == NULL) {
		json_decref(doc);
		json_decref(pointer);
		out_error(_("out of memory"));
		return CLI_FAIL;
	}
	struct concil_episode check;
	if (concil_episode_decode(doc, &check, &st) != LSN_OK) {
		json_decref(doc);
		json_decref(pointer);
		out_error(_("the reconciliation does not pass its own checks (%s); nothing was "
				"posted"),
			  st.msg);
		return CLI_FAIL;
	}
	concil_episode_free(&check);
	json_object_set_new(doc, "prev", it ? json_integer(it->seq) : json_null());
	json_object_set_new(doc, "change", json_string(change));
	struct chan_view v;
	char name[64];
	memset(&v, 0, sizeof v);
	snprintf(name, sizeof name, "conciliation-%.8s.json", ep->episode);
	enum lsn_err err = chan_ops_load_valid(c->e, c->cc.channel, &v, &st);
	if (err == LSN_OK)
		err = concil_doc_post(c->e, &v, doc, pointer, name, &out->seq, out->attachment, &st);
	else {
		json_decref(doc);
		json_decref(pointer);
	}
	chan_view_free(&v);
	if (err != LSN_OK) {
		out_fail(&st);
		out_error(_("nothing was posted in the thread of case %s; run the command again"),
			  c->cc.ref);
		return CLI_FAIL;
	}
	out->counts = concil_counts(ep);
	json_t *reply = NULL;
	err = out->counts ? e2e_write(c->e, "conciliation_counts", json_incref(out->counts),
				      &reply, &st)
			  : lsn_fail(&st, LSN_ERR_INTERNAL, _("out of memory"));
	json_decref(reply);
	out->counts_sent = err == LSN_OK;
	if (err != LSN_OK) {
		out_fail(&st);
		out_error(_("the reconciliation was posted (message #%lld) but its counts did not "
			  "reach the server: send them with liaison conciliation counts %s %.8s"),
			  (long long)out->seq, c->cc.ref, ep->episode);
		return CLI_FAIL;
	}
	return CLI_OK;
}

static int
report_posted(struct cctx *c, const struct concil_episode *ep, const char *change,
	      struct posted *p, bool with_discs)
{
	int rc = CLI_OK;
	if (out_json_mode()) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s?, s:O, s:o}", "case",
				      c->cc.id_hex, "patient_ref", c->cc.ref, "episode", ep->episode,
				      "seq", (json_int_t)p->seq, "status",
				      concil_code(CONCIL_V_STATUS, (int)ep->status), "change", change,
				      "attachment", p->attachment[0] ? p->attachment : NULL, "counts",
				      p->counts, "document", concil_episode_encode(ep));
		rc = out_json(o);
		json_decref(o);
	} else {
		printf(_("Reconciliation %.8s of case %s: "), ep->episode, c->cc.ref);
		out_text(stdout, change);
		printf(_(" (status %s).\n"), concil_code(CONCIL_V_STATUS, (int)ep->status));
		if (with_discs) {
			putchar('\n');
			concil_view_print_discs(ep);
			putchar('\n');
		}
		printf(_("Posted, encrypted, in the case thread: message #%lld%s.\n"),
		       (long long)p->seq, p->attachment[0] ? _(" (too large for one message: an "
		       "encrypted attachment)") : "");
		json_t *k = p->counts;
		json_int_t unintentional = json_integer_value(json_object_get(k, "unintentional"));
		printf(ngettext("The server received only counts: %lld BMO lines, %lld "
				"prescription lines, %lld unintentional discrepancy, %lld "
				"resolved.\n",
				"The server received only counts: %lld BMO lines, %lld "
				"prescription lines, %lld unintentional discrepancies, %lld "
				"resolved.\n",
				(unsigned long)unintentional),
		       (long long)json_integer_value(json_object_get(k, "lines_bmo")),
		       (long long)json_integer_value(json_object_get(k, "lines_order")),
		       (long long)unintentional,
		       (long long)json_integer_value(json_object_get(k, "resolved")));
	}
	json_decref(p->counts);
	p->counts = NULL;
	return rc;
}

/* Apply one change to a copy of the episode; prints the refusal. */
static int
apply(struct cctx *c, struct concil_episode *ep, const struct concil_change *ch, const char *hint)
{
	struct lsn_status st = {0};
	enum lsn_err err = concil_apply(ep, ch, c->profession, lsn_clock_now_ms(), &st);
	if (err == LSN_OK)
		return CLI_OK;
	if (hint && err == LSN_ERR_FORBIDDEN)
		out_error(_("%s (%s); nothing was posted"), st.msg, hint);
	else
		out_error(_("%s; nothing was posted"), st.msg);
	return err == LSN_ERR_BAD_REQUEST ? CLI_USAGE : CLI_FAIL;
}

/* Copy the episode of it, run fn on the copy, post it. */
typedef int (*change_fn)(struct cctx *c, struct concil_episode *ep, void *arg, char *change,
			 size_t change_len);

static int
change_episode(struct cctx *c, struct concil_item *it, change_fn fn, void *arg, bool with_discs)
{
	struct concil_episode ep;
	char change[CONCIL_CHANGE_MAX + 1] = "";
	if (!concil_episode_copy(&ep, &it->ep)) {
		out_error(_("out of memory"));
		return CLI_FAIL;
	}
	int rc = fn(c, &ep, arg, change, sizeof change);
	struct posted p;
	memset(&p, 0, sizeof p);
	if (rc == CLI_OK)
		rc = commit(c, it, &ep, change, &p);
	if (rc == CLI_OK)
		rc = report_posted(c, &ep, change, &p, with_discs);
	json_decref(p.counts);
	concil_episode_free(&ep);
	return rc;
}

/* ---- arguments ------------------------------------------------------------------------ */

/* Open the case (CASE, the first argument) and find EPISODE (the second);
 * then fn. */
static int
with_episode(struct cmd_call *call, change_fn fn, void *arg, bool with_discs)
{
	struct cctx c;
	int rc = cctx_open(call->e, call->pos[0], &c);
	struct concil_item *it = rc == CLI_OK ? find_episode(&c, call->pos[1]) : NULL;
	if (rc == CLI_OK && it == NULL)
		rc = CLI_FAIL;
	if (it)
		rc = change_episode(&c, it, fn, arg, with_discs);
	cctx_free(&c);
	return rc;
}

static int
note_arg(const char *option, const char *note, size_t max)
{
	if (note && (strlen(note) > max || !lsn_display_text_valid(note, max))) {
		out_error(_("%s: at most %zu bytes of text without control "
				"characters"), option, max);
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* ---- start ------------------------------------------------------------------------------ */

/* A professional named in the episode: a current member of the case thread
 * whose profession has the role wanted. */
static int
named_person(struct cctx *c, const struct chan_view *v, const char *option, const char *text,
	     enum concil_role want, struct concil_person *p)
{
	uint8_t user[LSN_ID_BYTES];
	char name[160], prof[64];
	int rc = e2e_resolve_user(c->e, text, user);
	if (rc != CLI_OK)
		return rc;
	concil_person_of(c->e, user, name, sizeof name, prof, sizeof prof);
	if (chan_view_member(v, user) == NULL) {
		out_error(_("%s %s: %s is not a member of the thread of case %s; name a member, or "
			  "have them added first (liaison channel add)"), option, text,
			  name[0] ? name : text, c->cc.ref);
		return CLI_USAGE;
	}
	if (concil_role_of(prof) != want) {
		const struct lsn_profession *pr = lsn_profession_find(prof);
		out_error(_("%s %s: %s is %s, not a %s"), option, text, name[0] ? name : text,
			  pr ? pr->label_fr : prof[0] ? prof : _("of unknown profession"),
			  want == CONCIL_ROLE_PHARMACIST ? _("pharmacist") : _("prescriber (gp, "
			  "cardiologist, psychiatrist, hospital_doctor)"));
		return CLI_USAGE;
	}
	lsn_id_to_hex(user, p->user);
	snprintf(p->name, sizeof p->name, "%.*s", CONCIL_NAME_MAX, name);
	snprintf(p->profession, sizeof p->profession, "%.*s", CONCIL_PROFESSION_MAX, prof);
	return CLI_OK;
}

static void
me_as(struct cctx *c, struct concil_person *p)
{
	snprintf(p->user, sizeof p->user, "%s", c->e->me_hex);
	snprintf(p->name, sizeof p->name, "%.*s", CONCIL_NAME_MAX, c->me_name);
	snprintf(p->profession, sizeof p->profession, "%.*s", CONCIL_PROFESSION_MAX, c->profession);
}

/* The patient as the case's discharge notice names them (encrypted in the
 * thread; the episode document stays in the same thread). */
static void
patient_from_notice(struct cctx *c, struct concil_episode *ep)
{
	int64_t seq = user_view_int(json_object_get(c->cc.reply, "notice"), "seq");
	json_t *content = case_message(c->e, c->cc.channel, seq);
	json_t *patient = json_object_get(json_object_get(content, "notice"), "patient");
	const char *birth = user_view_str(patient, "birth_date"), *ins = user_view_str(patient, "ins");
	if (content && notice_patient_name(content, ep->patient.name, sizeof ep->patient.name)) {
		if (birth && strlen(birth) == 10)
			snprintf(ep->patient.birth_date, sizeof ep->patient.birth_date, "%s", birth);
		if (ins && strlen(ins) <= CONCIL_INS_MAX)
			snprintf(ep->patient.ins, sizeof ep->patient.ins, "%s", ins);
	}
	json_decref(content);
}

static int
start_episode(struct cctx *c, int transition, const char *prescriber, const char *pharmacist,
	      const char *note)
{
	enum concil_role role = concil_role_of(c->profession);
	if (role == CONCIL_ROLE_NONE) {
		const struct lsn_profession *pr = lsn_profession_find(c->profession);
		out_error(_("only a pharmacist or a prescriber starts a reconciliation, and you "
			  "are %s: ask the pharmacist of the "
			  "case"), pr ? pr->label_fr : c->profession);
		return CLI_FAIL;
	}
	struct lsn_status st = {0};
	struct concil_episode ep;
	struct chan_view v;
	uint8_t id[LSN_ID_BYTES];
	char hex[LSN_ID_HEX + 1];
	memset(&v, 0, sizeof v);
	lsn_id_random(id);
	lsn_id_to_hex(id, hex);
	if (concil_episode_init(&ep, hex, (enum concil_transition)transition, lsn_clock_now_ms(),
				&st) != LSN_OK)
		return out_fail(&st);
	snprintf(ep.case_id, sizeof ep.case_id, "%s", c->cc.id_hex);
	const char *pathway = user_view_str(c->cc.summary, "pathway");
	if (pathway && strlen(pathway) <= CONCIL_PATHWAY_MAX)
		snprintf(ep.pathway, sizeof ep.pathway, "%s", pathway);
	int rc = chan_ops_load_valid(c->e, c->cc.channel, &v, &st) == LSN_OK ? CLI_OK
									 : out_fail(&st);
	if (rc == CLI_OK && pharmacist)
		rc = named_person(c, &v, "--pharmacist", pharmacist, CONCIL_ROLE_PHARMACIST,
				  &ep.pharmacist);
	else if (rc == CLI_OK && role == CONCIL_ROLE_PHARMACIST)
		me_as(c, &ep.pharmacist);
	if (rc == CLI_OK && prescriber)
		rc = named_person(c, &v, "--prescriber", prescriber, CONCIL_ROLE_PRESCRIBER,
				  &ep.prescriber);
	else if (rc == CLI_OK && role == CONCIL_ROLE_PRESCRIBER)
		me_as(c, &ep.prescriber);
	chan_view_free(&v);
	if (rc == CLI_OK) {
		patient_from_notice(c, &ep);
		if (note)
			snprintf(ep.note, sizeof ep.note, "%s", note);
	}
	struct posted p;
	memset(&p, 0, sizeof p);
	if (rc == CLI_OK)
		rc = commit(c, NULL, &ep, "started", &p);
	if (rc == CLI_OK) {
		if (!out_json_mode())
			printf(_("Episode %s (give it, or its first 8 characters, to the next "
			       "commands).\n"), ep.episode);
		rc = report_posted(c, &ep, "started", &p, false);
		if (rc == CLI_OK && !out_json_mode())
			printf(_("Next: sources (3 distinct types), the BMO and the prescription: "
			       "liaison conciliation source add %s %.8s patient_interview\n"),
			       c->cc.ref, ep.episode);
	}
	json_decref(p.counts);
	concil_episode_free(&ep);
	return rc;
}

/* --transition as its code, kept for run. */
int
cmd_concil_start_check(struct cmd_call *c)
{
	const char *transition = cmd_opt(c, "--transition");
	int rc, *t = cmd_keep_new(c, sizeof *t, NULL);
	if (t == NULL)
		return CLI_FAIL;
	if (transition == NULL) {
		out_error(_("conciliation start needs --transition admission, transfer, discharge "
			  "or community_post_discharge"));
		return CLI_USAGE;
	}
	if ((rc = vocab_arg(CONCIL_V_TRANSITION, "--transition", transition, t)) != CLI_OK ||
	    (rc = note_arg("--note", cmd_opt(c, "--note"), CONCIL_NOTE_MAX)) != CLI_OK)
		return rc;
	return CLI_OK;
}

int
cmd_concil_start_run(struct cmd_call *call)
{
	struct cctx c;
	int rc = cctx_open(call->e, call->pos[0], &c);
	if (rc == CLI_OK)
		rc = start_episode(&c, *(int *)call->data, cmd_opt(call, "--prescriber"),
				   cmd_opt(call, "--pharmacist"), cmd_opt(call, "--note"));
	cctx_free(&c);
	return rc;
}

/* ---- sources and lines --------------------------------------------------------------------- */

struct source_arg {
	int type;
	int64_t at;
	const char *note;
};

static int
do_source(struct cctx *c, struct concil_episode *ep, void *arg, char *change, size_t len)
{
	struct source_arg *a = arg;
	struct concil_change ch = {.kind = CONCIL_CH_SOURCE_ADD};
	ch.source.type = (enum concil_source_type)a->type;
	ch.source.at = a->at ? a->at : lsn_clock_now_ms();
	snprintf(ch.source.note, sizeof ch.source.note, "%s", a->note ? a->note : "");
	int rc = apply(c, ep, &ch, NULL);
	snprintf(change, len, "source added: %s (%d distinct type%s)",
		 concil_code(CONCIL_V_SOURCE, a->type), concil_source_types(ep),
		 concil_source_types(ep) == 1 ? "" : "s");
	return rc;
}

int
cmd_concil_source_check(struct cmd_call *c)
{
	const char *at = cmd_opt(c, "--at"), *note = cmd_opt(c, "--note");
	struct source_arg *a = cmd_keep_new(c, sizeof *a, NULL);
	int64_t days;
	int rc;
	if (a == NULL)
		return CLI_FAIL;
	if ((rc = vocab_arg(CONCIL_V_SOURCE, _("the source "
			"type"), c->pos[2], &a->type)) != CLI_OK ||
	    (rc = note_arg("--note", note, CONCIL_NOTE_MAX)) != CLI_OK)
		return rc;
	if (at && !day_parse(at, &days)) {
		out_error(_("--at \"%s\" is not a date: write the day the source was consulted as "
			  "YYYY-MM-DD"), at);
		return CLI_USAGE;
	}
	a->at = at ? days * DAY_MS : 0;
	a->note = note;
	return CLI_OK;
}

int
cmd_concil_source_run(struct cmd_call *c)
{
	return with_episode(c, do_source, c->data, false);
}

/* Whole file, at most max bytes; NULL (error printed) otherwise. */
static char *
read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	if (f == NULL || fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		out_error(_("cannot read %s: %s"), path, f ? _("not a regular file") : strerror(errno));
		if (f)
			fclose(f);
		return NULL;
	}
	if ((uint64_t)sb.st_size > max) {
		out_error(_("%s is larger than a CSV of %d medication lines can be (%zu bytes): "
			  "split it"), path, CONCIL_LINES_MAX, max);
		fclose(f);
		return NULL;
	}
	char *buf = malloc((size_t)sb.st_size + 1);
	*len = buf ? fread(buf, 1, (size_t)sb.st_size, f) : 0;
	fclose(f);
	if (buf == NULL || *len != (size_t)sb.st_size) {
		out_error(_("cannot read %s"), path);
		free(buf);
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

struct import_arg {
	enum concil_list list;
	struct concil_lines lines;
	bool replace;
	bool from_notice;          /* the lines come from the case's discharge notice */
	int64_t notice_seq;        /* its message, once read */
	json_t *notice;            /* its content, once read */
};

static const char *
list_words(enum concil_list l)
{
	return l == CONCIL_BMO ? "the BMO" : "the prescription";
}

/* The lines of the case's discharge notice (decrypted from the thread), each
 * remark printed; refused when the case has no notice or none of its
 * treatments can become a line. */
static int
notice_lines(struct cctx *c, struct import_arg *a)
{
	json_t *notice = json_object_get(c->cc.reply, "notice");
	a->notice_seq = user_view_int(notice, "seq");
	if (!json_is_object(notice) || a->notice_seq <= 0) {
		out_error(_("case %s has no discharge notice: import the prescription from a CSV "
			  "file with --order FILE.csv; nothing was posted"), c->cc.ref);
		return CLI_FAIL;
	}
	json_t *content = case_message(c->e, c->cc.channel, a->notice_seq);
	a->notice = json_incref(content);
	if (content == NULL) {
		out_error(_("cannot read the discharge notice of case %s (message #%lld): run "
			  "liaison read on the case's channel, then import again; nothing was "
			  "posted"),
			  c->cc.ref, (long long)a->notice_seq);
		return CLI_FAIL;
	}
	struct concil_notice_report *rep = calloc(1, sizeof *rep);
	struct lsn_status st = {0};
	enum lsn_err err = rep ? concil_notice_lines(content, a->list, &a->lines, rep, &st)
			       : lsn_fail(&st, LSN_ERR_INTERNAL, _("out of memory"));
	json_decref(content);
	int rc = CLI_OK;
	if (err != LSN_OK) {
		out_error(_("the discharge notice of case %s: %s; nothing was posted"), c->cc.ref,
			  st.msg);
		rc = CLI_FAIL;
	}
	for (size_t i = 0; rc == CLI_OK && i < rep->n; i++) {
		char line[CONCIL_MSG_MAX + 80];
		snprintf(line, sizeof line, "discharge_treatments[%zu]: %s", rep->r[i].index,
			 rep->r[i].msg);
		out_notice(line);
	}
	if (rc == CLI_OK && rep->total > rep->n) {
		char line[80];
		snprintf(line, sizeof line, _("… and %zu more remarks"), rep->total - rep->n);
		out_notice(line);
	}
	if (rc == CLI_OK && a->lines.n == 0) {
		out_error(_("none of the %zu treatments of the discharge notice of case %s can be "
			  "imported: add the lines with liaison conciliation line add; nothing was "
			  "posted"), rep->skipped, c->cc.ref);
		rc = CLI_FAIL;
	}
	free(rep);
	return rc;
}

/* A drug of the BMO that the notice says was stopped at the hospital: its
 * omission is intended, with the reason the notice gives. Said, so that the
 * pharmacist qualifies it (the comparison cannot know). */
static void
stopped_hints(const struct concil_episode *ep, json_t *content, const char *ref)
{
	json_t *stopped = json_object_get(json_object_get(content, "notice"), "stopped_treatments");
	size_t i;
	json_t *t;
	json_array_foreach(stopped, i, t) {
		const char *drug = user_view_str(t, "drug"), *reason = user_view_str(t, "reason");
		char key[CONCIL_INN_MAX * 2 + 1], other[CONCIL_INN_MAX * 2 + 1];
		if (drug == NULL)
			continue;
		concil_inn_key(drug, key, sizeof key);
		for (size_t k = 0; k < ep->bmo.n; k++) {
			if (strcmp(concil_inn_key(ep->bmo.v[k].inn, other, sizeof other), key) != 0)
				continue;
			char line[CONCIL_MSG_MAX + 400];
			snprintf(line, sizeof line, _("stopped_treatments[%zu]: %.100s (BMO line "
				 "%d) was stopped during the stay (%.200s): after compare, its "
				 "omission is documented in the notice (discrepancy set %s EPISODE "
				 "N --intent intentional_documented)"), i, drug, ep->bmo.v[k].id,
				 reason ? reason : _("no reason given"), ref);
			out_notice(line);
		}
	}
}

static int
do_import(struct cctx *c, struct concil_episode *ep, void *arg, char *change, size_t len)
{
	struct import_arg *a = arg;
	const struct concil_lines *ls = a->list == CONCIL_BMO ? &ep->bmo : &ep->order;
	size_t removed = 0;
	int rc = CLI_OK, first;
	while (a->replace && rc == CLI_OK && ls->n > 0) {
		struct concil_change ch = {.kind = CONCIL_CH_LINE_REMOVE, .id = ls->v[0].id};
		rc = apply(c, ep, &ch, NULL);
		removed++;
	}
	first = ep->next_id;
	if (rc == CLI_OK && a->from_notice)
		rc = notice_lines(c, a);
	for (size_t i = 0; i < a->lines.n && rc == CLI_OK; i++) {
		struct concil_change ch = {.kind = CONCIL_CH_LINE_ADD};
		ch.line = a->lines.v[i];
		ch.line.list = a->list;
		rc = apply(c, ep, &ch, NULL);
	}
	char from[64] = "";
	if (rc == CLI_OK && a->from_notice)
		stopped_hints(ep, a->notice, c->cc.ref);
	if (a->from_notice)
		snprintf(from, sizeof from, " from the discharge notice (message #%lld)",
			 (long long)a->notice_seq);
	if (a->replace)
		snprintf(change, len, "%zu lines imported into %s%s (lines %d–%d), replacing %zu",
			 a->lines.n, list_words(a->list), from, first, ep->next_id - 1, removed);
	else
		snprintf(change, len, "%zu lines imported into %s%s (lines %d–%d)", a->lines.n,
			 list_words(a->list), from, first, ep->next_id - 1);
	return rc;
}

static void
print_csv_problems(const char *path, const struct concil_csv_report *rep)
{
	for (size_t i = 0; i < rep->n; i++) {
		const struct concil_csv_problem *p = &rep->p[i];
		if (p->line == 0)
			out_error("%s: %s", path, p->msg);
		else if (p->column[0])
			out_error(_("%s: line %zu, column %s: "
					"%s"), path, p->line, p->column, p->msg);
		else
			out_error(_("%s: line %zu: %s"), path, p->line, p->msg);
	}
	if (rep->total > rep->n)
		out_error(_("%s: … and %zu more problems"), path, rep->total - rep->n);
}

static void
import_arg_free(void *data)
{
	struct import_arg *a = data;
	concil_lines_free(&a->lines);
	json_decref(a->notice);
	free(a);
}

/* The CSV file read and checked whole before anything is started. */
int
cmd_concil_import_check(struct cmd_call *c)
{
	const char *bmo = cmd_opt(c, "--bmo"), *order = cmd_opt(c, "--order");
	struct import_arg *a = cmd_keep_new(c, sizeof *a, import_arg_free);
	if (a == NULL)
		return CLI_FAIL;
	a->replace = cmd_flag(c, "--replace");
	a->from_notice = cmd_flag(c, "--from-notice");
	if ((bmo != NULL) + (order != NULL) + a->from_notice != 1) {
		out_error(_("conciliation import needs one of --bmo FILE.csv (the BMO), --order "
			  "FILE.csv (the prescription) or --from-notice (the prescription from the "
			  "treatments of the case's discharge notice)"));
		return CLI_USAGE;
	}
	if (a->from_notice) {
		a->list = CONCIL_ORDER;   /* read at run time, from the case thread */
		return CLI_OK;
	}
	const char *path = bmo ? bmo : order;
	a->list = bmo ? CONCIL_BMO : CONCIL_ORDER;
	size_t len = 0;
	char *text = read_file(path, CONCIL_CSV_BYTES_MAX, &len);
	if (text == NULL)
		return CLI_USAGE;
	struct concil_csv_report *rep = calloc(1, sizeof *rep);
	struct lsn_status st = {0};
	enum lsn_err err = rep ? concil_csv_parse(text, len, a->list, &a->lines, rep, &st)
			       : LSN_ERR_INTERNAL;
	sodium_memzero(text, len);
	free(text);
	if (err != LSN_OK) {
		if (rep && rep->n)
			print_csv_problems(path, rep);
		else
			out_error("%s: %s", path, rep ? st.msg : _("out of memory"));
		size_t total = rep ? rep->total : 1;
		out_error(ngettext("%zu problem in %s: nothing was imported; correct the file and "
				   "run the command again",
				   "%zu problems in %s: nothing was imported; correct the file and "
				   "run the command again", total > 1 ? total : 1),
			  total ? total : 1, path);
		free(rep);
		return CLI_USAGE;
	}
	free(rep);
	if (a->lines.n == 0) {
		out_error(_("%s has no medication line (only its header?): nothing to "
				"import"), path);
		return CLI_USAGE;
	}
	return CLI_OK;
}

int
cmd_concil_import_run(struct cmd_call *c)
{
	return with_episode(c, do_import, c->data, false);
}

static int
parse_list(const char *text, enum concil_list *out)
{
	int v = concil_parse(CONCIL_V_LIST, text);
	if (text == NULL || v < 0) {
		out_error(_("--list bmo (the BMO) or --list order (the prescription) is needed"));
		return CLI_USAGE;
	}
	*out = (enum concil_list)v;
	return CLI_OK;
}

struct line_arg {
	struct concil_line ln;
	int id;
};

static int
do_line_add(struct cctx *c, struct concil_episode *ep, void *arg, char *change, size_t len)
{
	struct line_arg *a = arg;
	struct concil_change ch = {.kind = CONCIL_CH_LINE_ADD};
	ch.line = a->ln;
	int id = ep->next_id;
	int rc = apply(c, ep, &ch, NULL);
	snprintf(change, len, "line %d added to %s", id, list_words(a->ln.list));
	return rc;
}

int
cmd_concil_line_add_check(struct cmd_call *c)
{
	struct line_arg *a = cmd_keep_new(c, sizeof *a, NULL);
	int rc;
	if (a == NULL)
		return CLI_FAIL;
	if ((rc = parse_list(cmd_opt(c, "--list"), &a->ln.list)) != CLI_OK)
		return rc;
	if (c->n_pos == 2) {
		out_error(_("conciliation line add needs the line as KEY=VALUE words after "
			  "EPISODE, e.g. inn=furosémide atc=C03CA01 dose=1 unit=comprimé "
			  "frequency=matin"));
		return CLI_USAGE;
	}
	struct lsn_status st = {0};
	if (concil_entry_parse_argv(c->n_pos - 2, (char *const *)&c->pos[2], a->ln.list, &a->ln,
				    &st) != LSN_OK) {
		out_error(_("%s: nothing was added; correct it and run the command again"), st.msg);
		return CLI_USAGE;
	}
	return CLI_OK;
}

int
cmd_concil_line_add_run(struct cmd_call *c)
{
	return with_episode(c, do_line_add, c->data, false);
}

static int
do_line_remove(struct cctx *c, struct concil_episode *ep, void *arg, char *change, size_t len)
{
	struct line_arg *a = arg;
	struct concil_change ch = {.kind = CONCIL_CH_LINE_REMOVE, .id = a->id};
	snprintf(change, len, "line %d removed", a->id);
	return apply(c, ep, &ch, NULL);
}

int
cmd_concil_line_remove_check(struct cmd_call *c)
{
	struct line_arg *a = cmd_keep_new(c, sizeof *a, NULL);
	if (a == NULL)
		return CLI_FAIL;
	if (!parse_number(c->pos[2], &a->id)) {
		out_error(_("\"%s\" is not a line number (as liaison conciliation show prints it)"),
			  c->pos[2]);
		return CLI_USAGE;
	}
	return CLI_OK;
}

int
cmd_concil_line_remove_run(struct cmd_call *c)
{
	return with_episode(c, do_line_remove, c->data, false);
}

/* ---- comparison and review -------------------------------------------------------------- */

static int
do_compare(struct cctx *c, struct concil_episode *ep, void *arg, char *change, size_t len)
{
	(void)arg;
	struct lsn_status st = {0};
	int rc = CLI_OK, before = ep->next_id;
	if (ep->status == CONCIL_DRAFT) {
		struct concil_change ch = {.kind = CONCIL_CH_STATUS, .status = CONCIL_BMO_DONE};
		rc = apply(c, ep, &ch, NULL);
	}
	if (rc == CLI_OK &&
	    concil_apply_compare(ep, c->profession, lsn_clock_now_ms(), &st) != LSN_OK) {
		out_error(_("%s; nothing was posted"), st.msg);
		rc = CLI_FAIL;
	}
	snprintf(change, len, "compared: %zu discrepanc%s (%d new)", ep->discs.n,
		 ep->discs.n == 1 ? "y" : "ies", ep->next_id - before);
	return rc;
}

struct disc_arg {
	int id, intent, severity, resolution, type, bmo, order;
	const char *note;
	char hint[200];
};

static int
do_disc_set(struct cctx *c, struct concil_episode *ep, void *arg, char *change, size_t len)
{
	struct disc_arg *a = arg;
	struct concil_change ch = {.kind = CONCIL_CH_INTENT, .id = a->id};
	ch.intent = (enum concil_intent)a->intent;
	ch.severity = (enum concil_severity)a->severity;
	ch.note = a->note;
	if (a->severity != CONCIL_SEV_NONE)
		snprintf(change, len, "discrepancy %d: %s, %s", a->id,
			 concil_code(CONCIL_V_INTENT, a->intent),
			 concil_code(CONCIL_V_SEVERITY, a->severity));
	else
		snprintf(change, len, "discrepancy %d: %s", a->id,
			 concil_code(CONCIL_V_INTENT, a->intent));
	return apply(c, ep, &ch, NULL);
}

static int
disc_number(const char *text, int *id)
{
	if (parse_number(text, id))
		return CLI_OK;
	out_error(_("\"%s\" is not a discrepancy number (as liaison conciliation show prints it)"),
		  text ? text : "");
	return CLI_USAGE;
}

int
cmd_concil_disc_set_check(struct cmd_call *c)
{
	const char *intent = cmd_opt(c, "--intent"), *severity = cmd_opt(c, "--severity"),
		   *note = cmd_opt(c, "--note");
	struct disc_arg *a = cmd_keep_new(c, sizeof *a, NULL);
	int rc;
	if (a == NULL)
		return CLI_FAIL;
	if (intent == NULL) {
		out_error(_("conciliation discrepancy set needs --intent intentional_documented, "
			  "intentional_undocumented, unintentional (with --severity) or "
			  "undetermined"));
		return CLI_USAGE;
	}
	if ((rc = disc_number(c->pos[2], &a->id)) != CLI_OK ||
	    (rc = vocab_arg(CONCIL_V_INTENT, "--intent", intent, &a->intent)) != CLI_OK ||
	    (severity && (rc = vocab_arg(CONCIL_V_SEVERITY, "--severity", severity,
					 &a->severity)) != CLI_OK) ||
	    (rc = note_arg("--note", note, CONCIL_NOTE_MAX)) != CLI_OK)
		return rc;
	if (a->intent == CONCIL_UNINTENTIONAL && severity == NULL) {
		out_error(_("an unintentional discrepancy needs --severity minor, significant, "
			  "major or critical"));
		return CLI_USAGE;
	}
	if (a->intent != CONCIL_UNINTENTIONAL && severity) {
		out_error(_("--severity is for an unintentional discrepancy only; leave it out"));
		return CLI_USAGE;
	}
	a->note = note;
	return CLI_OK;
}

int
cmd_concil_disc_set_run(struct cmd_call *c)
{
	return with_episode(c, do_disc_set, c->data, false);
}

static int
do_disc_add(struct cctx *c, struct concil_episode *ep, void *arg, char *change, size_t len)
{
	struct disc_arg *a = arg;
	struct concil_change ch = {.kind = CONCIL_CH_DISC_ADD};
	ch.disc_type = (enum concil_dtype)a->type;
	ch.line_ids[0] = a->bmo;
	ch.line_ids[1] = a->order;
	ch.note = a->note;
	snprintf(change, len, "discrepancy %d added by hand: %s", ep->next_id,
		 concil_code(CONCIL_V_TYPE, a->type));
	return apply(c, ep, &ch, NULL);
}

int
cmd_concil_disc_add_check(struct cmd_call *c)
{
	const char *type = cmd_opt(c, "--type"), *bmo = cmd_opt(c, "--bmo"),
		   *order = cmd_opt(c, "--order"), *note = cmd_opt(c, "--note");
	struct disc_arg *a = cmd_keep_new(c, sizeof *a, NULL);
	int rc;
	if (a == NULL)
		return CLI_FAIL;
	if (type == NULL) {
		out_error(_("conciliation discrepancy add needs --type (omission, addition, "
			  "dose_change, …) and the lines it is about (--bmo N, --order N)"));
		return CLI_USAGE;
	}
	if ((rc = vocab_arg(CONCIL_V_TYPE, "--type", type, &a->type)) != CLI_OK ||
	    (rc = note_arg("--note", note, CONCIL_NOTE_MAX)) != CLI_OK)
		return rc;
	if ((bmo && !parse_number(bmo, &a->bmo)) || (order && !parse_number(order, &a->order))) {
		out_error(_("--bmo and --order take line numbers (as liaison conciliation show "
			  "prints them)"));
		return CLI_USAGE;
	}
	a->note = note;
	return CLI_OK;
}

int
cmd_concil_disc_add_run(struct cmd_call *c)
{
	return with_episode(c, do_disc_add, c->data, false);
}

static int
do_propose(struct cctx *c, struct concil_episode *ep, void *arg, char *change, size_t len)
{
	struct disc_arg *a = arg;
	struct concil_change ch = {.kind = CONCIL_CH_PROPOSE, .id = a->id};
	ch.resolution = (enum concil_resolution)a->resolution;
	ch.note = a->note;
	snprintf(change, len, "discrepancy %d: %s proposed", a->id,
		 concil_code(CONCIL_V_RESOLUTION, a->resolution));
	return apply(c, ep, &ch, NULL);
}

static int
do_resolve(struct cctx *c, struct concil_episode *ep, void *arg, char *change, size_t len)
{
	struct disc_arg *a = arg;
	struct concil_change ch = {.kind = CONCIL_CH_DECIDE, .id = a->id};
	ch.resolution = (enum concil_resolution)a->resolution;
	ch.note = a->note;
	snprintf(change, len, "discrepancy %d: decided %s", a->id,
		 concil_code(CONCIL_V_RESOLUTION, a->resolution));
	return apply(c, ep, &ch, a->hint);
}

/* propose and resolve: N RESOLUTION [--note TEXT]. */
int
cmd_concil_resolution_check(struct cmd_call *c)
{
	const char *const *pos = c->pos, *note = cmd_opt(c, "--note");
	struct disc_arg *a = cmd_keep_new(c, sizeof *a, NULL);
	int rc;
	if (a == NULL)
		return CLI_FAIL;
	if ((rc = disc_number(pos[2], &a->id)) != CLI_OK ||
	    (rc = vocab_arg(CONCIL_V_RESOLUTION, _("the resolution"), pos[3], &a->resolution)) !=
		    CLI_OK ||
	    (rc = note_arg("--note", note, CONCIL_NOTE_MAX)) != CLI_OK)
		return rc;
	if (a->resolution == CONCIL_PENDING) {
		out_error(_("the resolution is prescription_corrected, documented_as_intentional "
			  "or maintained_with_justification"));
		return CLI_USAGE;
	}
	a->note = note;
	snprintf(a->hint, sizeof a->hint, _("to propose it: liaison conciliation propose %.24s "
		 "%.8s %d "
		 "%s"), pos[0], pos[1], a->id, concil_code(CONCIL_V_RESOLUTION, a->resolution));
	return CLI_OK;
}

int
cmd_concil_propose_run(struct cmd_call *c)
{
	return with_episode(c, do_propose, c->data, false);
}

int
cmd_concil_resolve_run(struct cmd_call *c)
{
	return with_episode(c, do_resolve, c->data, false);
}

static int
do_status(struct cctx *c, struct concil_episode *ep, void *arg, char *change, size_t len)
{
	enum concil_status to = *(enum concil_status *)arg;
	struct concil_change ch = {.kind = CONCIL_CH_STATUS, .status = to};
	snprintf(change, len, "%s", to == CONCIL_AWAITING_PRESCRIBER ? "handed over to the prescriber"
				    : to == CONCIL_DRAFT ? "reopened: the BMO is a draft again"
				    : "closed");
	return apply(c, ep, &ch, NULL);
}

static int
status_sub(struct cmd_call *c, enum concil_status to)
{
	return with_episode(c, do_status, &to, false);
}

int
cmd_concil_review_run(struct cmd_call *c)
{
	return status_sub(c, CONCIL_AWAITING_PRESCRIBER);
}

int
cmd_concil_reopen_run(struct cmd_call *c)
{
	return status_sub(c, CONCIL_DRAFT);
}

int
cmd_concil_close_run(struct cmd_call *c)
{
	return status_sub(c, CONCIL_CLOSED);
}

int
cmd_concil_compare_run(struct cmd_call *c)
{
	return with_episode(c, do_compare, NULL, true);
}

/* ---- show and counts ---------------------------------------------------------------------- */

static int
show(struct cctx *c, const char *episode_text)
{
	struct concil_item *one = episode_text ? find_episode(c, episode_text) : NULL;
	if (episode_text && one == NULL)
		return CLI_FAIL;
	if (out_json_mode()) {
		json_t *list = json_array(), *rejected = json_array();
		for (size_t i = 0; i < c->fold.n; i++)
			if (one == NULL || one == &c->fold.items[i])
				json_array_append_new(list, concil_view_json(c->e, &c->fold,
									     &c->fold.items[i]));
		for (size_t i = 0; i < c->fold.n_rejected; i++)
			json_array_append_new(rejected, concil_view_rejected_json(c->e,
								      &c->fold.rejected[i]));
		json_t *o = json_pack("{s:s, s:s, s:o, s:o}", "case", c->cc.id_hex, "patient_ref",
				      c->cc.ref, "episodes", list, "rejected", rejected);
		int rc = out_json(o);
		json_decref(o);
		return rc;
	}
	if (c->fold.n == 0)
		printf(_("No reconciliation in case %s yet. Start one with: liaison conciliation "
		       "start %s --transition discharge\n"), c->cc.ref, c->cc.ref);
	for (size_t i = 0; i < c->fold.n; i++) {
		if (one && one != &c->fold.items[i])
			continue;
		if (one == NULL && i)
			puts("\n--------------------------------------------------------------------");
		concil_view_print(c->e, &c->cc, &c->fold, &c->fold.items[i]);
	}
	for (size_t i = 0; one == NULL && i < c->fold.n_rejected; i++)
		if (c->fold.rejected[i].episode[0] == '\0') {
			printf(_("Message #%lld is not a readable reconciliation and was "
					"ignored: "),
			       (long long)c->fold.rejected[i].seq);
			out_text(stdout, c->fold.rejected[i].reason);
			putchar('\n');
		}
	return CLI_OK;
}

int
cmd_concil_show_run(struct cmd_call *call)
{
	struct cctx c;
	int rc = cctx_open(call->e, call->pos[0], &c);
	if (rc == CLI_OK)
		rc = show(&c, call->pos[1]);
	cctx_free(&c);
	return rc;
}

static int
send_counts(struct cctx *c, const struct concil_item *it, bool dry_run)
{
	json_t *k = concil_counts(&it->ep), *reply = NULL;
	struct lsn_status st = {0};
	int rc = CLI_OK;
	if (k == NULL) {
		out_error(_("out of memory"));
		return CLI_FAIL;
	}
	if (!dry_run && e2e_write(c->e, "conciliation_counts", json_incref(k), &reply, &st) !=
	    LSN_OK)
		rc = out_fail(&st);
	json_decref(reply);
	if (rc == CLI_OK && out_json_mode()) {
		json_t *o = json_pack("{s:b, s:O}", "sent", !dry_run, "counts", k);
		rc = out_json(o);
		json_decref(o);
	} else if (rc == CLI_OK) {
		char *text = json_dumps(k, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf(_("%s (op conciliation_counts; numbers and fixed codes only):\n%s\n"),
		       dry_run ? _("What the server would receive") : _("Sent to the server"),
		       text ? text : "?");
		free(text);
	}
	json_decref(k);
	return rc;
}

int
cmd_concil_counts_run(struct cmd_call *call)
{
	struct cctx c;
	int rc = cctx_open(call->e, call->pos[0], &c);
	struct concil_item *it = rc == CLI_OK ? find_episode(&c, call->pos[1]) : NULL;
	if (rc == CLI_OK)
		rc = it ? send_counts(&c, it, cmd_flag(call, "--dry-run")) : CLI_FAIL;
	cctx_free(&c);
	return rc;
}
