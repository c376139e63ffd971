/* case_view.c — finding, fetching and naming cases and steps (case_view.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "case_view.h"
#include "day.h"
#include "mlog_verify.h"
#include "notice.h"
#include "output.h"
#include "local.h"
#include "thread.h"
#include "tr.h"
#include "user_view.h"
#include "wire.h"

static bool
me_role(struct e2e *e, const char *role)
{
	json_t *roles = json_object_get(json_object_get(e->s.login, "user"), "roles");
	size_t i;
	json_t *r;
	json_array_foreach(roles, i, r)
		if (json_is_string(r) && strcmp(json_string_value(r), role) == 0)
			return true;
	return false;
}

bool
case_me_coordinator(struct e2e *e)
{
	return me_role(e, "coordinator");
}

bool
case_me_territory(struct e2e *e)
{
	return me_role(e, "territory");
}

/* ---- CASE ----------------------------------------------------------------------- */

static bool
hex_prefix(const char *text)
{
	size_t len = strlen(text);
	if (len < 4 || len > LSN_ID_HEX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)text[i]))
			return false;
	return true;
}

static bool
case_matches(json_t *c, const char *text)
{
	const char *ref = user_view_str(c, "patient_ref"), *id = user_view_str(c, "case");
	if (ref && strcasecmp(ref, text) == 0)
		return true;
	return id && hex_prefix(text) && strncasecmp(id, text, strlen(text)) == 0;
}

int
case_resolve(struct e2e *e, const char *text, uint8_t id[LSN_ID_BYTES])
{
	if (lsn_id_from_hex(text, id))
		return CLI_OK;
	if (strncasecmp(text, "P-", 2) != 0 && !hex_prefix(text)) {
		out_error(_("\"%s\" is not a case: give its patient reference (P-…) or its id; see "
			    "liaison cases"), text);
		return CLI_USAGE;
	}
	bool coordinator = case_me_coordinator(e);
	struct lsn_status st = {0};
	json_t *reply = NULL;
	json_t *body = coordinator ? json_pack("{s:b, s:b}", "all", 1, "closed", 1)
				   : json_pack("{s:b}", "closed", 1);
	if (e2e_read(e, "cases", body, &reply, &st) != LSN_OK)
		return out_fail(&st);
	size_t i, n = 0;
	json_t *c, *found = NULL;
	json_array_foreach(json_object_get(reply, "cases"), i, c) {
		if (case_matches(c, text)) {
			found = c;
			n++;
		}
	}
	int rc = CLI_OK;
	if (n == 1 && lsn_id_from_hex(user_view_str(found, "case"), id)) {
		rc = CLI_OK;
	} else if (n == 0) {
		out_error(_("no case %s among yours (you see the cases of the threads you are a member "
			    "of%s); see liaison cases"), text,
			  coordinator ? _(", and as a coordinator every case") : "");
		rc = CLI_FAIL;
	} else {
		out_error(_("\"%s\" matches %zu cases; give more characters or the patient reference"),
			  text, n);
		rc = CLI_USAGE;
	}
	json_decref(reply);
	return rc;
}

enum lsn_err
case_fetch(struct e2e *e, const uint8_t id[LSN_ID_BYTES], struct case_ctx *cc,
	   struct lsn_status *st)
{
	memset(cc, 0, sizeof *cc);
	enum lsn_err err = e2e_read(e, "case_get", json_pack("{s:o}", "case", wire_id(id)),
				    &cc->reply, st);
	if (err != LSN_OK)
		return err;
	cc->summary = json_object_get(cc->reply, "case");
	cc->member = json_is_true(json_object_get(cc->reply, "member"));
	memcpy(cc->id, id, LSN_ID_BYTES);
	lsn_id_to_hex(id, cc->id_hex);
	snprintf(cc->ref, sizeof cc->ref, "%s",
		 user_view_str(cc->summary, "patient_ref") ? user_view_str(cc->summary, "patient_ref")
							   : "P-?");
	if (!lsn_id_from_hex(user_view_str(cc->summary, "channel"), cc->channel))
		return lsn_fail(st, LSN_ERR_BAD_JSON, _("the server's case_get reply is malformed"));
	return LSN_OK;
}

int
case_load(struct e2e *e, const char *text, struct case_ctx *cc)
{
	uint8_t id[LSN_ID_BYTES];
	memset(cc, 0, sizeof *cc);
	int rc = case_resolve(e, text, id);
	if (rc != CLI_OK)
		return rc;
	struct lsn_status st = {0};
	if (case_fetch(e, id, cc, &st) != LSN_OK) {
		case_ctx_free(cc);
		return out_fail(&st);
	}
	case_learn_people(e, cc);
	return CLI_OK;
}

static bool
known(struct e2e *e, const char *hex)
{
	uint8_t id[LSN_ID_BYTES];
	char name[160], prof[64];
	return hex == NULL || !lsn_id_from_hex(hex, id) ||
	       local_person_get(e->p, id, name, sizeof name, prof, sizeof prof);
}

/* Is anyone the case mentions missing from the people cache? */
static bool
someone_unknown(struct e2e *e, const struct case_ctx *cc)
{
	json_t *notice = json_object_get(cc->reply, "notice"), *x;
	size_t i;
	bool unknown = !known(e, user_view_str(cc->summary, "opened_by")) ||
		       !known(e, user_view_str(notice, "posted_by"));
	json_array_foreach(json_object_get(cc->reply, "steps"), i, x)
		unknown = unknown || !known(e, user_view_str(x, "assignee")) ||
			  !known(e, user_view_str(x, "done_by"));
	json_array_foreach(json_object_get(notice, "acks"), i, x)
		unknown = unknown || !known(e, user_view_str(x, "user"));
	json_array_foreach(json_object_get(notice, "missing_users"), i, x)
		unknown = unknown || !known(e, json_string_value(x));
	return unknown;
}

void
case_learn_people(struct e2e *e, const struct case_ctx *cc)
{
	struct lsn_status st = {0};
	json_t *reply = NULL, *list, *x;
	size_t i;
	if (cc->member) {
		if (e2e_read(e, "channel_members", json_pack("{s:o}", "channel",
							      wire_id(cc->channel)), &reply, &st) == LSN_OK)
			json_array_foreach(json_object_get(reply, "members"), i, x)
				e2e_remember_user(e, json_object_get(x, "user"));
	} else if (someone_unknown(e, cc) &&
		   e2e_read(e, "directory_search", json_pack("{s:i}", "limit", 100), &reply,
			    &st) == LSN_OK) {
		list = json_object_get(reply, "users");
		json_array_foreach(list, i, x)
			e2e_remember_user(e, x);
	}
	json_decref(reply);
}

void
case_ctx_free(struct case_ctx *cc)
{
	json_decref(cc->reply);
	memset(cc, 0, sizeof *cc);
}

enum lsn_err
case_sync_thread(struct e2e *e, struct case_ctx *cc, struct lsn_status *st)
{
	if (!cc->member)
		return LSN_OK;
	struct chan_view v;
	struct thread_fetch_result r;
	memset(&v, 0, sizeof v);
	enum lsn_err err = chan_view_load(e, cc->channel, &v, st);
	if (err == LSN_OK)
		err = thread_fetch_chase(e, &v, &r, st);
	chan_view_free(&v);
	return err;
}

/* ---- the thread, read locally ------------------------------------------------------ */

json_t *
case_message(struct e2e *e, const uint8_t channel[LSN_ID_BYTES], int64_t seq)
{
	struct local_msg m;
	struct lsn_status st;
	bool found = false;
	json_t *content = NULL;
	if (seq > 0 && local_msg_get(e->p, channel, seq, &m, &found, &st) == LSN_OK && found &&
	    strcmp(m.status, "ok") == 0 && m.plain)
		content = json_loads(m.plain, 0, NULL);
	if (found)
		local_msg_clear(&m);
	return content;
}

void
case_patient_name(struct e2e *e, const uint8_t channel[LSN_ID_BYTES], int64_t notice_seq,
		  char *out, size_t len)
{
	json_t *content = case_message(e, channel, notice_seq);
	bool named = content && notice_patient_name(content, out, len);
	json_decref(content);
	if (!named)
		local_channel_topic(e->p, channel, out, len);
}

/* ---- steps ---------------------------------------------------------------------------- */

static size_t
occurrences(const struct case_ctx *cc, const char *code)
{
	size_t i, n = 0;
	json_t *s;
	json_array_foreach(json_object_get(cc->reply, "steps"), i, s)
		n += user_view_str(s, "step") && strcmp(user_view_str(s, "step"), code) == 0;
	return n;
}

void
case_step_name(const struct case_ctx *cc, json_t *step, char *out, size_t len)
{
	const char *code = user_view_str(step, "step");
	if (code && occurrences(cc, code) > 1)
		snprintf(out, len, "%s#%lld", code, (long long)user_view_int(step, "occurrence"));
	else
		snprintf(out, len, "%s", code ? code : "?");
}

void
case_step_due(json_t *summary, json_t *step, char *out, size_t len)
{
	int64_t due = user_view_int(step, "due_at"), j0 = user_view_int(summary, "j0");
	char day[DAY_TEXT];
	if (due <= 0) {
		snprintf(out, len, "%s", _("no deadline"));
		return;
	}
	snprintf(out, len, "J+%lld %s", (long long)day_offset(j0, due), day_format_due(due, day));
}

/* Pick among the occurrences of code. */
static json_t *
pick_occurrence(const struct case_ctx *cc, const char *code, enum case_pick pick)
{
	size_t i;
	json_t *s, *first = NULL, *last = NULL, *chosen = NULL;
	json_array_foreach(json_object_get(cc->reply, "steps"), i, s) {
		if (user_view_str(s, "step") == NULL || strcmp(user_view_str(s, "step"), code) != 0)
			continue;
		bool pending = strcmp(user_view_str(s, "status") ? user_view_str(s, "status") : "",
				      "pending") == 0;
		first = first ? first : s;
		last = s;
		if (pick == CASE_PICK_PENDING && pending && chosen == NULL)
			chosen = s;
		if (pick == CASE_PICK_CLOSED && !pending)
			chosen = s;
	}
	/* none in the wanted state: the server says what is wrong with the nearest one */
	return chosen ? chosen : pick == CASE_PICK_PENDING ? last : first;
}

static void
list_codes(const struct case_ctx *cc, char *out, size_t len)
{
	size_t i, used = 0;
	json_t *s;
	out[0] = '\0';
	json_array_foreach(json_object_get(cc->reply, "steps"), i, s) {
		const char *code = user_view_str(s, "step");
		if (code == NULL || user_view_int(s, "occurrence") > 1)
			continue;
		int n = snprintf(out + used, len - used, "%s%s", used ? ", " : "", code);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
}

json_t *
case_find_step(const struct case_ctx *cc, const char *text, enum case_pick pick, char *why,
	       size_t why_len)
{
	json_t *steps = json_object_get(cc->reply, "steps"), *s;
	size_t i;
	char code[64], codes[700];
	long occurrence = 0;
	const char *hash = strchr(text, '#');
	bool numeric = text[0] && strspn(text, "0123456789") == strlen(text);
	snprintf(code, sizeof code, "%.*s", hash ? (int)(hash - text) : (int)strlen(text), text);
	if (hash && (sscanf(hash + 1, "%9ld", &occurrence) != 1 || occurrence < 1))
		occurrence = -1;
	json_array_foreach(steps, i, s) {
		const char *sc = user_view_str(s, "step");
		if (numeric && user_view_int(s, "id") == strtoll(text, NULL, 10))
			return s;
		if (!numeric && hash && sc && strcmp(sc, code) == 0 &&
		    user_view_int(s, "occurrence") == occurrence)
			return s;
	}
	if (!numeric && !hash && occurrences(cc, code) > 0)
		return pick_occurrence(cc, code, pick);
	list_codes(cc, codes, sizeof codes);
	if (hash && occurrences(cc, code) > 0)
		snprintf(why, why_len, _("%s has occurrences #1 to #%zu in case %s"), code,
			 occurrences(cc, code), cc->ref);
	else
		snprintf(why, why_len, _("no step \"%s\" in case %s; its steps: %s"), text, cc->ref,
			 codes);
	return NULL;
}

/* ---- people ---------------------------------------------------------------------------- */

void
case_person(struct e2e *e, const char *user_hex, char *out, size_t len)
{
	uint8_t id[LSN_ID_BYTES];
	if (user_hex == NULL || !lsn_id_from_hex(user_hex, id)) {
		snprintf(out, len, "-");
		return;
	}
	e2e_person(e, id, out, len);
}

static bool
in_ids(json_t *list, const char *user)
{
	size_t i;
	json_t *x;
	json_array_foreach(list, i, x)
		if (user && json_string_value(x) && strcmp(json_string_value(x), user) == 0)
			return true;
	return false;
}

/* The notice's recipients (fixed when it was posted) who have not
 * acknowledged, as the server counts them, with their names. */
static json_t *
missing_recipients(struct e2e *e, json_t *notice)
{
	json_t *missing = json_array(), *x;
	size_t i;
	json_array_foreach(json_object_get(notice, "missing_users"), i, x) {
		char who[200];
		case_person(e, json_string_value(x), who, sizeof who);
		json_array_append_new(missing, json_pack("{s:s?, s:s}", "user", json_string_value(x),
							 "name", who));
	}
	return missing;
}

json_t *
case_acks(struct e2e *e, const struct case_ctx *cc)
{
	json_t *notice = json_object_get(cc->reply, "notice");
	json_t *missing = missing_recipients(e, notice);
	json_t *recipients = json_object_get(notice, "recipients");
	json_t *acks = json_array(), *a;
	size_t i;
	json_array_foreach(json_object_get(notice, "acks"), i, a) {
		char who[200];
		const char *user = user_view_str(a, "user");
		case_person(e, user, who, sizeof who);
		json_array_append_new(acks, json_pack("{s:s?, s:s, s:I, s:b}", "user", user, "name", who,
						      "acked_at", (json_int_t)user_view_int(a, "acked_at"),
						      "recipient", in_ids(recipients, user)));
	}
	int64_t expected = user_view_int(notice, "expected");
	return json_pack("{s:o, s:o, s:I, s:I}", "acks", acks, "not_acknowledged", missing,
			 "expected", (json_int_t)expected, "acknowledged",
			 (json_int_t)(expected - (int64_t)json_array_size(missing)));
}

void
case_print_acks(FILE *f, json_t *acks, json_t *notice, const char *indent)
{
	json_t *list = json_object_get(acks, "acks");
	json_t *missing = json_object_get(acks, "not_acknowledged");
	json_t *a;
	size_t i;
	char when[32];
	long long expected = (long long)user_view_int(acks, "expected");
	fprintf(f, _("%sAcknowledgements: %lld/%lld of the recipients named when the notice was "
		    "posted\n"), indent, (long long)user_view_int(acks, "acknowledged"), expected);
	fprintf(f, _("%sAcknowledged by:%s\n"), indent, json_array_size(list) ? "" : _(" nobody yet"));
	json_array_foreach(list, i, a) {
		fprintf(f, "%s  %s  ", indent, out_time(user_view_int(a, "acked_at"), when,
							  sizeof when));
		out_text(f, user_view_str(a, "name"));
		if (!json_is_true(json_object_get(a, "recipient")))
			fputs(_("  (not a recipient)"), f);
		fputc('\n', f);
	}
	if (json_array_size(missing) == 0) {
		fprintf(f, _("%sEveryone has acknowledged the notice.\n"), indent);
		return;
	}
	fprintf(f, _("%sNot yet: %zu of the %lld recipients\n"), indent, json_array_size(missing),
		expected);
	json_array_foreach(missing, i, a) {
		fprintf(f, "%s  ", indent);
		out_styled(f, OUT_YELLOW, user_view_str(a, "name"));
		fputc('\n', f);
	}
}

/* ---- notifications --------------------------------------------------------------------- */

const char *
case_notification_words(const char *kind)
{
	static const struct {
		const char *kind, *words;
	} words[] = {
		{"step_due_soon", N_("step due soon")},
		{"step_overdue", N_("step overdue")},
		{"notice_escalated", N_("discharge notice escalated (not acknowledged in time)")},
		{"alert", N_("alert")},
	};
	for (size_t i = 0; kind && i < sizeof words / sizeof words[0]; i++)
		if (strcmp(words[i].kind, kind) == 0)
			return _(words[i].words);
	return kind ? kind : _("notification");
}

/* The case_get reply of case_hex, from the cache or the server. */
static json_t *
cached_case(struct e2e *e, const char *case_hex, json_t *cache)
{
	json_t *reply = json_object_get(cache, case_hex);
	uint8_t id[LSN_ID_BYTES];
	struct lsn_status st = {0};
	if (reply || !lsn_id_from_hex(case_hex, id))
		return reply;
	if (e2e_read(e, "case_get", json_pack("{s:o}", "case", wire_id(id)), &reply, &st) != LSN_OK)
		return NULL;
	json_object_set_new(cache, case_hex, reply);
	return reply;
}

/* The alert's text if this device can decrypt it (the thread synced first
 * when it is not here yet), clipped to a line; "" otherwise. */
static void
alert_text(struct e2e *e, struct case_ctx *cc, int64_t seq, char *out, size_t len)
{
	struct lsn_status st = {0};
	json_t *content = case_message(e, cc->channel, seq);
	out[0] = '\0';
	if (content == NULL && cc->member && case_sync_thread(e, cc, &st) == LSN_OK)
		content = case_message(e, cc->channel, seq);
	const char *body = user_view_str(content, "body");
	if (body) {
		size_t n = strlen(body), max = len > 4 ? len - 4 : 0;
		if (n > max) {
			n = max;
			while (n > 0 && ((unsigned char)body[n] & 0xC0) == 0x80)
				n--;   /* never cut a UTF-8 character in half */
		}
		snprintf(out, len, "%.*s%s", (int)n, body, n < strlen(body) ? "…" : "");
	}
	json_decref(content);
}

void
case_notification_text(struct e2e *e, json_t *n, json_t *cache, char *out, size_t len)
{
	const char *case_hex = user_view_str(n, "case");
	json_t *reply = case_hex ? cached_case(e, case_hex, cache) : NULL;
	struct case_ctx cc = {.reply = reply, .summary = json_object_get(reply, "case")};
	const char *kind = user_view_str(n, "kind");
	const char *ref = user_view_str(n, "patient_ref") ? user_view_str(n, "patient_ref")
			  : user_view_str(cc.summary, "patient_ref");
	const char *channel = user_view_str(n, "channel") ? user_view_str(n, "channel")
			      : user_view_str(cc.summary, "channel");
	cc.member = json_is_true(json_object_get(reply, "member"));
	if (channel == NULL || !lsn_id_from_hex(channel, cc.channel))
		channel = NULL;
	int64_t step_id = user_view_int(n, "step");
	json_t *step = NULL, *s;
	size_t i;
	json_array_foreach(json_object_get(reply, "steps"), i, s)
		if (step_id && user_view_int(s, "id") == step_id)
			step = s;
	char name[96] = "", due[48] = "", case_text[48], who[200], next[120], what[400];
	snprintf(case_text, sizeof case_text, "%s", ref ? ref : case_hex ? case_hex : "?");
	/* who: the server names the actor; the people cache is the fallback */
	if (user_view_str(n, "actor_name"))
		snprintf(who, sizeof who, "%s", user_view_str(n, "actor_name"));
	else if (user_view_str(n, "actor"))
		case_person(e, user_view_str(n, "actor"), who, sizeof who);
	else
		snprintf(who, sizeof who, "%s", _("nobody yet"));
	bool alert = kind && strcmp(kind, "alert") == 0;
	if (alert && channel)
		snprintf(next, sizeof next, "liaison read %s", channel);
	else
		snprintf(next, sizeof next, "liaison case show %s", case_text);
	if (alert) {
		/* the kind (011): a measurement's threshold, or "clinical" (free text) */
		const char *ak = user_view_str(n, "alert_kind");
		bool measured = ak && strcmp(ak, "clinical") != 0;
		char text[240] = "", head[64];
		snprintf(head, sizeof head, "%s%s%s", _("alert"), measured ? " " : "", measured ? ak : "");
		if (channel)
			alert_text(e, &cc, user_view_int(n, "seq"), text, sizeof text);
		if (text[0])
			snprintf(out, len, _("%s from %s on %s: \"%s\" — next: %s"), head, who, case_text,
				 text, next);
		else if (measured)
			snprintf(out, len, _("%s from %s on %s (a measurement crossed a threshold of the "
				   "pathway) — next: %s"), head, who, case_text, next);
		else
			snprintf(out, len, _("alert from %s on %s (not readable on this device yet) — "
				   "next: %s"), who, case_text, next);
		return;
	}
	if (step_id) {
		json_t *about = step ? step : n;
		const char *label = user_view_str(about, step ? "label" : "step_label");
		if (step)
			case_step_name(&cc, step, name, sizeof name);
		else
			snprintf(name, sizeof name, "%s", user_view_str(n, "step_code")
				 ? user_view_str(n, "step_code") : _("step"));
		case_step_due(cc.summary, about, due, sizeof due);
		snprintf(what, sizeof what, _("%s of %s (%s%s%s), held by %s"), name, case_text,
			 label ? label : "", label ? ", " : "", due, who);
	} else if (kind && strcmp(kind, "notice_escalated") == 0) {
		snprintf(what, sizeof what, _("%s, notice posted by %s"), case_text, who);
	} else {
		snprintf(what, sizeof what, "%s", case_text);
	}
	snprintf(out, len, _("%s: %s — next: %s"), case_notification_words(kind), what, next);
}
