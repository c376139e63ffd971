/* cmd_discharge.c — "liaison discharge": the one command of a hospital
 * discharge team. From a checked notice file it creates the case thread
 * (kind case, history shared, encrypted topic), adds the GP, pharmacist,
 * nurse (and cardiologist, and the referring doctor the notice names when
 * they are enrolled), opens the case (J0 = the discharge day), posts the
 * encrypted discharge notice with the letter attached, and tells the server
 * which message is the notice, who must acknowledge it and whether the
 * letter came with it (notice_post). The patient's identity travels only
 * inside encrypted messages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attach_io.h"
#include "channel_ops.h"
#include "command.h"
#include "day.h"
#include "mlog_verify.h"
#include "notice.h"
#include "notice_view.h"
#include "output.h"
#include "local.h"
#include "thread.h"
#include "user_view.h"
#include "wire.h"
#include "tr.h"

struct discharge_opts {
	const char *pathway, *gp, *pharmacist, *nurse, *cardiologist, *flags, *notice_path;
	const char *letter, *date;
	bool check;
};

/* A member to add: who, for which option, the profession expected. */
struct recipient {
	const char *option;        /* "--gp"; "referring_doctor" for the one the notice names */
	const char *text;          /* as typed */
	const char *profession;    /* expected profession code; NULL = any */
	uint8_t user[LSN_ID_BYTES];
};

#define RECIPIENTS_MAX 5           /* --gp, --pharmacist, --nurse, --cardiologist, referring */

/* What exists so far, to say so if a later step fails. */
struct progress {
	bool channel_made;
	char channel_hex[LSN_ID_HEX + 1];
	size_t added;
	bool case_opened;
	char ref[24];
	char case_hex[LSN_ID_HEX + 1];
	int64_t notice_seq;
	json_t *steps_done;        /* steps the notice completed (notice_post reply) */
	bool referring_absent;     /* the notice names a referring doctor not on Liaison */
	bool referring_no_rpps;    /* … without an RPPS, so not even looked for */
};

/* ---- checks before anything is sent ------------------------------------------------ */

static int
check_usage(const struct discharge_opts *o)
{
	int64_t days;
	if (o->notice_path == NULL) {
		out_error("%s", _("discharge needs --notice FILE.json (format: docs/PATHWAYS.md, "
				"\"Discharge notice format\")"));
		return CLI_USAGE;
	}
	if (o->date && !day_parse(o->date, &days)) {
		out_error(_("--date \"%s\" is not a date: write the discharge day as YYYY-MM-DD"),
			  o->date);
		return CLI_USAGE;
	}
	if (o->check)
		return CLI_OK;
	if (o->pathway == NULL || (strcmp(o->pathway, "hospital_discharge") != 0 &&
				   strcmp(o->pathway, "heart_failure") != 0)) {
		out_error("%s", _("discharge needs --pathway hospital_discharge or heart_failure (see "
				"liaison pathways)"));
		return CLI_USAGE;
	}
	if (o->gp == NULL || o->pharmacist == NULL || o->nurse == NULL) {
		out_error("%s", _("discharge needs --gp, --pharmacist and --nurse: the professionals who "
				"take over the patient (find them with liaison directory search)"));
		return CLI_USAGE;
	}
	struct stat sb;
	errno = 0;
	if (o->letter && (stat(o->letter, &sb) != 0 || !S_ISREG(sb.st_mode))) {
		out_error(_("--letter %s: %s: give the path of the letter (PDF)"), o->letter,
			  errno ? strerror(errno) : _("not a regular file"));
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* The pathway exists on the server and knows every flag asked for. */
static int
check_pathway(struct e2e *e, const char *pathway, const char *flags)
{
	struct lsn_status st = {0};
	json_t *reply = NULL, *p, *found = NULL;
	size_t i;
	if (e2e_read(e, "pathways", NULL, &reply, &st) != LSN_OK)
		return out_fail(&st);
	json_array_foreach(json_object_get(reply, "pathways"), i, p)
		if (user_view_str(p, "pathway") && strcmp(user_view_str(p, "pathway"), pathway) == 0)
			found = p;
	int rc = CLI_OK;
	const char *known = found ? user_view_str(found, "flags") : NULL;
	char list[128];
	snprintf(list, sizeof list, "%s", flags ? flags : "");
	for (char *save = NULL, *f = strtok_r(list, ",", &save); found && f;
	     f = strtok_r(NULL, ",", &save)) {
		char padded[160], hay[160];
		snprintf(padded, sizeof padded, ",%s,", f);
		snprintf(hay, sizeof hay, ",%s,", known ? known : "");
		if (strstr(hay, padded) == NULL) {
			out_error(_("--flag %s: pathway %s knows the flags \"%s\""), f, pathway,
				  known && known[0] ? known : _("(none)"));
			rc = CLI_USAGE;
		}
	}
	if (found == NULL) {
		out_error(_("the server has no pathway %s; see liaison pathways"), pathway);
		rc = CLI_FAIL;
	}
	json_decref(reply);
	return rc;
}

/* USER resolved; its profession checked when the directory told us. */
static int
resolve_recipient(struct e2e *e, struct recipient *r)
{
	int rc = e2e_resolve_user(e, r->text, r->user);
	if (rc != CLI_OK)
		return rc;
	char name[160], prof[64];
	if (memcmp(r->user, e->p->user, LSN_ID_BYTES) == 0) {
		out_error(_("%s %s: that is you; give the professional who takes over the patient"),
			  r->option, r->text);
		return CLI_USAGE;
	}
	if (local_person_get(e->p, r->user, name, sizeof name, prof, sizeof prof) && prof[0] &&
	    strcmp(prof, r->profession) != 0) {
		const struct lsn_profession *want = lsn_profession_find(r->profession);
		const struct lsn_profession *have = lsn_profession_find(prof);
		out_error(_("%s %s: %s is %s, not %s; give the right person (liaison directory "
			    "search --profession %s)"), r->option, r->text, name, have ? have->label_fr : prof,
			  want ? want->label_fr : r->profession, r->profession);
		return CLI_USAGE;
	}
	return CLI_OK;
}

static int
resolve_all(struct e2e *e, struct recipient *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = resolve_recipient(e, &r[i]);
		if (rc != CLI_OK)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (memcmp(r[i].user, r[j].user, LSN_ID_BYTES) == 0) {
				out_error(_("%s and %s name the same person; give each professional "
					    "once"), r[j].option, r[i].option);
				return CLI_USAGE;
			}
	}
	return CLI_OK;
}

/* The referring doctor the notice names (R1112-1-2: the letter goes to
 * them too), if enrolled here: found by exact RPPS in the directory and
 * added as one more recipient unless already named. */
static int
find_referring(struct e2e *e, json_t *notice, struct recipient *r, size_t *n, struct progress *pg)
{
	const char *rpps = user_view_str(json_object_get(notice, "referring_doctor"), "rpps");
	json_t *reply = NULL, *u, *match = NULL;
	struct lsn_status st = {0};
	size_t i;
	if (rpps == NULL) {
		/* named without an RPPS: nobody to look for, said in the report */
		pg->referring_absent = pg->referring_no_rpps =
			json_is_object(json_object_get(notice, "referring_doctor"));
		return CLI_OK;
	}
	if (e2e_read(e, "directory_search", json_pack("{s:s, s:i}", "q", rpps, "limit", 20), &reply,
		     &st) != LSN_OK)
		return out_fail(&st);
	json_array_foreach(json_object_get(reply, "users"), i, u)
		if (user_view_str(u, "rpps") && strcmp(user_view_str(u, "rpps"), rpps) == 0)
			match = u;
	uint8_t id[LSN_ID_BYTES];
	if (match == NULL || !lsn_id_from_hex(user_view_str(match, "id"), id)) {
		pg->referring_absent = true;
		json_decref(reply);
		return CLI_OK;
	}
	e2e_remember_user(e, match);
	json_decref(reply);
	bool named = memcmp(id, e->p->user, LSN_ID_BYTES) == 0;
	for (size_t k = 0; k < *n; k++)
		named |= memcmp(id, r[k].user, LSN_ID_BYTES) == 0;
	if (!named && *n < RECIPIENTS_MAX) {
		r[*n] = (struct recipient){"referring_doctor", rpps, NULL, {0}};
		memcpy(r[*n].user, id, LSN_ID_BYTES);
		(*n)++;
	}
	return CLI_OK;
}

/* ---- the steps ------------------------------------------------------------------------ */

static enum lsn_err
make_channel(struct e2e *e, json_t *notice, uint8_t channel[LSN_ID_BYTES], struct progress *pg,
	     struct lsn_status *st)
{
	char name[400], topic[THREAD_TOPIC_MAX];
	json_t *patient = json_object_get(notice, "patient");
	notice_patient_name(notice, name, sizeof name);
	snprintf(topic, sizeof topic, "%.200s, né(e) le %.10s — sortie du %.10s", name,
		 json_string_value(json_object_get(patient, "birth_date")),
		 json_string_value(json_object_get(notice, "discharge_date")));
	enum lsn_err err = chan_ops_create(e, LSN_KIND_CASE, LSN_HISTORY_SHARED, topic, channel, st);
	if (err == LSN_OK) {
		pg->channel_made = true;
		lsn_id_to_hex(channel, pg->channel_hex);
	}
	return err;
}

static enum lsn_err
add_members(struct e2e *e, const uint8_t channel[LSN_ID_BYTES], const struct recipient *r,
	    size_t n, struct progress *pg, struct lsn_status *st)
{
	for (size_t i = 0; i < n; i++) {
		int64_t seq = 0;
		size_t forwarded = 0;
		enum lsn_err err = chan_ops_change(e, channel, LSN_MLOG_ADD, r[i].user,
						   LSN_CROLE_MEMBER, &seq, &forwarded, st);
		if (err != LSN_OK)
			return err;
		pg->added++;
	}
	return LSN_OK;
}

static json_t *
flags_json(const char *flags)
{
	json_t *list = json_array();
	char copy[128];
	snprintf(copy, sizeof copy, "%s", flags ? flags : "");
	for (char *save = NULL, *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save))
		json_array_append_new(list, json_string(f));
	return list;
}

static enum lsn_err
open_case(struct e2e *e, const uint8_t channel[LSN_ID_BYTES], const struct discharge_opts *o,
	  const char *j0, json_t **reply, struct progress *pg, struct lsn_status *st)
{
	enum lsn_err err = e2e_write(e, "case_open",
				     json_pack("{s:o, s:s, s:s, s:o}", "channel", wire_id(channel),
					       "pathway", o->pathway, "j0", j0, "flags",
					       flags_json(o->flags)), reply, st);
	json_t *c = json_object_get(*reply, "case");
	if (err == LSN_OK && (user_view_str(c, "patient_ref") == NULL ||
			      user_view_str(c, "case") == NULL))
		err = lsn_fail(st, LSN_ERR_BAD_JSON, "the server's case_open reply is malformed");
	if (err == LSN_OK) {
		pg->case_opened = true;
		snprintf(pg->ref, sizeof pg->ref, "%s", user_view_str(c, "patient_ref"));
		snprintf(pg->case_hex, sizeof pg->case_hex, "%s", user_view_str(c, "case"));
	}
	return err;
}

/* The letter uploaded; its "file" fields become the notice's "letter". */
static enum lsn_err
upload_letter(struct e2e *e, struct chan_view *v, const char *path, json_t **letter,
	      struct lsn_status *st)
{
	*letter = NULL;
	if (path == NULL)
		return LSN_OK;
	enum lsn_err err = attach_upload(e, v, path, "", letter, st);
	if (err == LSN_OK) {
		json_object_del(*letter, "type");
		json_object_del(*letter, "caption");
	}
	return err;
}

static enum lsn_err
post_notice(struct e2e *e, const uint8_t channel[LSN_ID_BYTES], const struct discharge_opts *o,
	    json_t *notice, const char *j0, const struct recipient *r, size_t n, json_t **letter,
	    struct progress *pg, struct lsn_status *st)
{
	struct chan_view v;
	int64_t seq = 0, ts = 0;
	memset(&v, 0, sizeof v);
	enum lsn_err err = chan_ops_load_valid(e, channel, &v, st);
	if (err == LSN_OK)
		err = upload_letter(e, &v, o->letter, letter, st);
	if (err == LSN_OK) {
		json_t *content = json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:O}", "type",
					    "discharge_notice", "version", NOTICE_VERSION, "case",
					    pg->case_hex, "patient_ref", pg->ref, "pathway",
					    o->pathway, "j0", j0, "notice", notice);
		if (*letter)
			json_object_set(content, "letter", *letter);
		err = thread_send(e, &v, content, &seq, &ts, st);
	}
	chan_view_free(&v);
	json_t *reply = NULL;
	if (err == LSN_OK) {
		/* the recipients are fixed now: members added later never "miss" it */
		json_t *to = json_array();
		char hex[LSN_ID_HEX + 1];
		for (size_t i = 0; i < n; i++) {
			lsn_id_to_hex(r[i].user, hex);
			json_array_append_new(to, json_string(hex));
		}
		pg->notice_seq = seq;
		err = e2e_write(e, "notice_post", json_pack("{s:s, s:I, s:o, s:b}", "case", pg->case_hex,
							   "seq", (json_int_t)seq, "recipients", to,
							   "letter", *letter != NULL), &reply, st);
	}
	if (err == LSN_OK)
		pg->steps_done = json_incref(json_object_get(reply, "steps_done"));
	json_decref(reply);
	return err;
}

/* ---- saying what happened ------------------------------------------------------------------ */

static void
report_partial(const struct progress *pg, const struct lsn_status *st)
{
	out_fail(st);
	if (!pg->channel_made)
		return;
	if (!pg->case_opened)
		out_error(_("the discharge is incomplete: channel %s was created with %zu of the "
			    "professionals but no case was opened in it; run liaison discharge again "
			    "(the channel stays unused), or open the case in it with liaison case open "
			    "%s"), pg->channel_hex, pg->added, pg->channel_hex);
	else
		out_error(_("the discharge is incomplete: case %s is open in channel %s, but its "
			    "notice was %s; close it with liaison case close %s --reason moved and run "
			    "liaison discharge again"), pg->ref, pg->channel_hex,
			  pg->notice_seq ? _("sent and not registered (notice_post)") : _("not sent"),
			  pg->ref);
}

static int
report_done(struct e2e *e, const struct progress *pg, const struct discharge_opts *o,
	    const char *j0, json_t *notice, json_t *letter, const struct recipient *r, size_t n)
{
	char name[400], who[200], hex[LSN_ID_HEX + 1];
	notice_patient_name(notice, name, sizeof name);
	if (out_json_mode()) {
		json_t *must = json_array();
		for (size_t i = 0; i < n; i++) {
			e2e_person(e, r[i].user, who, sizeof who);
			lsn_id_to_hex(r[i].user, hex);
			json_array_append_new(must, json_pack("{s:s, s:s}", "user", hex, "name", who));
		}
		json_t *done = json_array(), *x;
		size_t i;
		json_array_foreach(pg->steps_done, i, x)
			json_array_append_new(done, json_pack("{s:s?, s:s?}", "step",
							      user_view_str(x, "step"), "done_via",
							      user_view_str(x, "done_via")));
		json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s?, s:o, s:o, s:b}", "case",
					pg->case_hex, "patient_ref", pg->ref, "channel",
					pg->channel_hex, "pathway", o->pathway, "j0", j0, "notice_seq",
					(json_int_t)pg->notice_seq, "letter",
					user_view_str(letter, "attachment"), "must_acknowledge", must,
					"steps_done", done, "referring_doctor_absent",
					pg->referring_absent);
		int rc = out_json(out);
		json_decref(out);
		return rc;
	}
	printf(_("Discharge notice posted: case %s (%s, J0 %s).\n"), pg->ref, o->pathway, j0);
	printf(_("Channel:  %s (message #%lld)\n"), pg->channel_hex, (long long)pg->notice_seq);
	fputs(_("Patient:  "), stdout);
	out_text(stdout, name);
	puts(_("  (encrypted for the case members; the server knows only the reference)"));
	if (letter) {
		fputs(_("Letter:   "), stdout);
		out_text(stdout, user_view_str(letter, "name"));
		printf(_(" (%lld bytes), encrypted\n"), (long long)user_view_int(letter, "size"));
	}
	printf(_("Must acknowledge (liaison ack %s):\n"), pg->ref);
	for (size_t i = 0; i < n; i++) {
		e2e_person(e, r[i].user, who, sizeof who);
		fputs("  ", stdout);
		out_text(stdout, who);
		if (r[i].profession == NULL)
			fputs(_("  (referring doctor named in the notice)"), stdout);
		putchar('\n');
	}
	if (pg->referring_absent) {
		json_t *ref = json_object_get(notice, "referring_doctor");
		fputs(_("The referring doctor named in the notice, "), stdout);
		out_text(stdout, user_view_str(ref, "name"));
		if (pg->referring_no_rpps)
			puts(_(", has no RPPS in the notice, so Liaison cannot find them: they were "
			     "not added to the case and are not asked to acknowledge. Send them the "
			     "letter by other means (MSSanté, post), or add referring_doctor.rpps."));
		else
			printf(_(" (RPPS %s), is not enrolled on Liaison: they were not added to the "
			       "case and are not asked to acknowledge. Send them the letter by other "
			       "means (MSSanté, post), or ask the administrator to invite them (liaisond invite).\n"),
			       user_view_str(ref, "rpps"));
	}
	json_t *x;
	size_t k;
	json_array_foreach(pg->steps_done, k, x) {
		fputs(k ? ", " : _("Steps done: "), stdout);
		out_text(stdout, user_view_str(x, "step"));
	}
	if (json_array_size(pg->steps_done))
		putchar('\n');
	puts(_("Not acknowledged by all within 24 h, the notice goes to the CPTS coordinators."));
	printf(_("Follow the case with: liaison case show %s\n"), pg->ref);
	return CLI_OK;
}

/* ---- the command ------------------------------------------------------------------------------ */

static int
run_discharge(struct e2e *e, const struct discharge_opts *o, json_t *notice)
{
	struct recipient r[RECIPIENTS_MAX] = {
		{"--gp", o->gp, "gp", {0}},
		{"--pharmacist", o->pharmacist, "pharmacist", {0}},
		{"--nurse", o->nurse, "nurse", {0}},
		{"--cardiologist", o->cardiologist, "cardiologist", {0}},
	};
	size_t n = o->cardiologist ? 4 : 3;
	const char *j0 = json_string_value(json_object_get(notice, "discharge_date"));
	struct progress pg;
	memset(&pg, 0, sizeof pg);
	int rc = check_pathway(e, o->pathway, o->flags);
	if (rc == CLI_OK)
		rc = resolve_all(e, r, n);
	if (rc == CLI_OK)
		rc = find_referring(e, notice, r, &n, &pg);
	if (rc != CLI_OK)
		return rc;
	struct lsn_status st = {0};
	uint8_t channel[LSN_ID_BYTES];
	json_t *reply = NULL, *letter = NULL;
	enum lsn_err err = make_channel(e, notice, channel, &pg, &st);
	if (err == LSN_OK)
		err = add_members(e, channel, r, n, &pg, &st);
	if (err == LSN_OK)
		err = open_case(e, channel, o, j0, &reply, &pg, &st);
	if (err == LSN_OK)
		err = post_notice(e, channel, o, notice, j0, r, n, &letter, &pg, &st);
	if (err == LSN_OK)
		rc = report_done(e, &pg, o, j0, notice, letter, r, n);
	else
		report_partial(&pg, &st);
	json_decref(reply);
	json_decref(letter);
	json_decref(pg.steps_done);
	return err == LSN_OK ? rc : CLI_FAIL;
}

static int
check_only(const struct cli *cli, json_t *notice, const char *path)
{
	if (cli->json) {
		json_t *out = json_pack("{s:b, s:O}", "complete", 1, "notice", notice);
		int rc = out_json(out);
		json_decref(out);
		return rc;
	}
	json_t *content = json_pack("{s:s, s:O}", "type", "discharge_notice", "notice", notice);
	printf(_("%s: the notice is complete.\n"), path);
	notice_print(stdout, content, "  ");
	json_decref(content);
	return CLI_OK;
}

/* One problem of the notice file, as an error line. */
static void
print_problem(void *arg, const char *problem)
{
	(void)arg;
	out_error("%s", problem);
}

/* What check prepares for run: the options and the checked notice. */
struct discharge_call {
	struct discharge_opts o;
	json_t *notice;
};

static void
discharge_call_free(void *data)
{
	struct discharge_call *d = data;
	json_decref(d->notice);
	free(d);
}

int
cmd_discharge_check(struct cmd_call *c)
{
	struct discharge_call *d = cmd_keep_new(c, sizeof *d, discharge_call_free);
	if (d == NULL)
		return CLI_FAIL;
	struct discharge_opts *o = &d->o;
	*o = (struct discharge_opts){
		.pathway = cmd_opt(c, "--pathway"),
		.gp = cmd_opt(c, "--gp"),
		.pharmacist = cmd_opt(c, "--pharmacist"),
		.nurse = cmd_opt(c, "--nurse"),
		.cardiologist = cmd_opt(c, "--cardiologist"),
		.flags = cmd_opt(c, "--flag"),
		.notice_path = cmd_opt(c, "--notice"),
		.letter = cmd_opt(c, "--letter"),
		.date = cmd_opt(c, "--date"),
		.check = cmd_flag(c, "--check"),
	};
	int rc = check_usage(o);
	if (rc != CLI_OK)
		return rc;
	size_t problems = notice_load(o->notice_path, o->date, &d->notice, print_problem, NULL);
	if (problems) {
		out_error(ngettext("%zu problem in %s: nothing was sent; correct the file and run the "
				   "command again",
				   "%zu problems in %s: nothing was sent; correct the file and run "
				   "the command again", problems), problems, o->notice_path);
		return CLI_USAGE;
	}
	if (o->check)
		c->needs = CMD_NOTHING; /* --check: the file only, no connection */
	return CLI_OK;
}

int
cmd_discharge_run(struct cmd_call *c)
{
	struct discharge_call *d = c->data;
	if (d->o.check)
		return check_only(c->cli, d->notice, d->o.notice_path);
	return run_discharge(c->e, &d->o, d->notice);
}
