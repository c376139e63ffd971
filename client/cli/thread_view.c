/* thread_view.c — printing a thread for people and as JSON (thread_view.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tr.h"
#include "concil.h"
#include "concil_thread.h"
#include "concil_view.h"
#include "notice.h"
#include "notice_view.h"
#include "output.h"
#include "peers.h"
#include "thread.h"
#include "thread_gaps.h"
#include "alarm_view.h"
#include "thread_view.h"
#include "day.h"
#include "measure.h"
#include "wire.h"

/* ---- receipts ------------------------------------------------------------------ */

enum lsn_err
receipts_load(struct e2e *e, const uint8_t channel[LSN_ID_BYTES], struct receipts *rc,
	      struct lsn_status *st)
{
	memset(rc, 0, sizeof *rc);
	json_t *reply = NULL;
	struct lsn_status rst = {0};
	enum lsn_err err = e2e_read(e, "receipts", json_pack("{s:o}", "channel", wire_id(channel)),
				    &reply, &rst);
	if (err == LSN_ERR_FORBIDDEN || err == LSN_ERR_NOT_FOUND)
		return LSN_OK;
	if (err != LSN_OK) {
		*st = rst;
		return err;
	}
	json_t *list = json_object_get(reply, "receipts");
	rc->list = calloc(json_array_size(list) + 1, sizeof *rc->list);
	size_t i;
	json_t *r;
	json_array_foreach(list, i, r) {
		struct receipt *x = &rc->list[rc->n];
		struct lsn_status pst;
		if (rc->list && wire_get_id(r, "user", true, x->user, NULL, &pst) == LSN_OK) {
			x->delivered = json_integer_value(json_object_get(r, "delivered"));
			x->read = json_integer_value(json_object_get(r, "read"));
			rc->n++;
		}
	}
	json_decref(reply);
	return LSN_OK;
}

void
receipts_free(struct receipts *rc)
{
	free(rc->list);
	memset(rc, 0, sizeof *rc);
}

void
receipts_update(struct receipts *rc, json_t *ev)
{
	uint8_t user[LSN_ID_BYTES];
	struct lsn_status st;
	const char *kind = json_string_value(json_object_get(ev, "kind"));
	int64_t seq = json_integer_value(json_object_get(ev, "seq"));
	if (kind == NULL || wire_get_id(ev, "user", true, user, NULL, &st) != LSN_OK)
		return;
	struct receipt *x = NULL;
	for (size_t i = 0; i < rc->n && !x; i++)
		if (memcmp(rc->list[i].user, user, LSN_ID_BYTES) == 0)
			x = &rc->list[i];
	if (x == NULL) {
		struct receipt *grown = realloc(rc->list, (rc->n + 1) * sizeof *grown);
		if (grown == NULL)
			return;
		rc->list = grown;
		x = &rc->list[rc->n++];
		memset(x, 0, sizeof *x);
		memcpy(x->user, user, LSN_ID_BYTES);
	}
	int64_t *slot = strcmp(kind, "read") == 0 ? &x->read : &x->delivered;
	if (seq > *slot)
		*slot = seq;
}

/* ---- header ---------------------------------------------------------------------- */

static void
print_departure(struct e2e *e, const struct chan_view *v)
{
	const struct lsn_mlog_entry *d = v->my_departure;
	char by[200], when[32];
	if (d == NULL || v->me_member)
		return;
	e2e_person(e, d->actor, by, sizeof by);
	out_time(d->ts, when, sizeof when);
	if (d->action == LSN_MLOG_LEAVE)
		printf(_("You left this channel on %s: messages sent after that are not available to "
		       "you.\n"), when);
	else
		printf(_("You were removed from this channel by %s on %s: messages sent after that "
		       "are not available to you.\n"), by, when);
}

void
view_print_header(struct e2e *e, const struct chan_view *v)
{
	char hex[LSN_ID_HEX + 1], topic[THREAD_TOPIC_MAX];
	lsn_id_to_hex(v->channel, hex);
	local_channel_topic(e->p, v->channel, topic, sizeof topic);
	printf(_("Channel %s"), hex);
	if (v->state && v->state->kind)
		printf(_(" (%s, history %s)"), lsn_chan_kind_name(v->state->kind),
		       lsn_history_name(v->state->history));
	putchar('\n');
	if (topic[0]) {
		fputs(_("Topic: "), stdout);
		out_text(stdout, topic);
		putchar('\n');
	}
	alarm_view_print(e, v->channel);
	if (!v->valid && !v->alarm)
		printf(_("INVALID: %s\nNo keys are shared in this channel.\n"), v->reason);
	if (v->valid && v->state->count) {
		fputs(_("Members: "), stdout);
		for (size_t i = 0; i < v->state->count; i++) {
			char who[200];
			e2e_person(e, v->state->members[i].user, who, sizeof who);
			out_text(stdout, who);
			if (v->state->members[i].role == LSN_CROLE_ADMIN)
				fputs(_(" [admin]"), stdout);
			fputs(i + 1 < v->state->count ? ", " : "\n", stdout);
		}
	}
	print_departure(e, v);
	for (size_t i = 0; v->state && i < v->state->count; i++) {
		const struct peer *pr = peers_get(e->peers, v->state->members[i].user);
		if (pr == NULL || pr->trusted)
			continue;
		char text[700], what[300], todo[300];
		if (pr->me) {
			snprintf(text, sizeof text, "the server shows another identity key for your "
				 "own account; tell your administrator");
		} else {
			peers_changed_text(e, pr, what, sizeof what, todo, sizeof todo);
			snprintf(text, sizeof text, "%s; %s", what, todo);
		}
		fputs(_("WARNING: "), stdout);
		out_text(stdout, text);
		fputs(".\n", stdout);
	}
	putchar('\n');
}

json_t *
view_header_json(struct e2e *e, const struct chan_view *v)
{
	char hex[LSN_ID_HEX + 1], topic[THREAD_TOPIC_MAX];
	lsn_id_to_hex(v->channel, hex);
	local_channel_topic(e->p, v->channel, topic, sizeof topic);
	json_t *members = json_array();
	for (size_t i = 0; v->state && i < v->state->count; i++) {
		char who[200], uhex[LSN_ID_HEX + 1];
		e2e_person(e, v->state->members[i].user, who, sizeof who);
		lsn_id_to_hex(v->state->members[i].user, uhex);
		json_array_append_new(members, json_pack("{s:s, s:s, s:s}", "user", uhex, "name", who,
							 "role", lsn_chan_role_name(
									 v->state->members[i].role)));
	}
	json_t *changed = json_array();
	for (size_t i = 0; v->state && i < v->state->count; i++) {
		const struct peer *pr = peers_get(e->peers, v->state->members[i].user);
		char uhex[LSN_ID_HEX + 1];
		if (pr && !pr->trusted) {
			lsn_id_to_hex(pr->user, uhex);
			json_array_append_new(changed, json_string(uhex));
		}
	}
	return json_pack("{s:s, s:s?, s:s?, s:b, s:s?, s:s?, s:b, s:o, s:o, s:o}", "channel", hex,
			 "kind", v->state ? lsn_chan_kind_name(v->state->kind) : NULL, "history",
			 v->state ? lsn_history_name(v->state->history) : NULL, "valid", v->valid,
			 "reason", v->valid ? NULL : v->reason, "topic", topic[0] ? topic : NULL,
			 "member", v->me_member, "members", members, "identity_changed", changed,
			 "membership_alarms", alarm_view_json(e, v->channel));
}

/* ---- what is missing ------------------------------------------------------------- */

bool
view_verified(const struct local_msg *m)
{
	return strcmp(m->status, "ok") == 0;
}

void
view_print_gap(int64_t from, int64_t to)
{
	if (from == to)
		printf(_("#%lld  message #%lld is missing: withheld or deleted by the server\n"),
		       (long long)from, (long long)from);
	else
		printf(_("#%lld-#%lld  messages #%lld to #%lld are missing: withheld or deleted by "
			 "the server\n"), (long long)from, (long long)to, (long long)from,
		       (long long)to);
}

json_t *
view_gap_json(int64_t from, int64_t to)
{
	char detail[160];
	if (from == to)
		snprintf(detail, sizeof detail, "message #%lld is missing: withheld or deleted by "
			 "the server", (long long)from);
	else
		snprintf(detail, sizeof detail, "messages #%lld to #%lld are missing: withheld or "
			 "deleted by the server", (long long)from, (long long)to);
	return json_pack("{s:s, s:I, s:I, s:s}", "kind", "seq", "seq", (json_int_t)from,
			 "through", (json_int_t)to, "detail", detail);
}

json_t *
view_link_json(struct e2e *e, const struct local_msg *m)
{
	char who[200], sender[LSN_ID_HEX + 1], prev[65], detail[400];
	e2e_person(e, m->sender_user, who, sizeof who);
	lsn_id_to_hex(m->sender_user, sender);
	sodium_bin2hex(prev, sizeof prev, m->prev, sizeof m->prev);
	snprintf(detail, sizeof detail, "a message from %s sent before #%lld is missing: withheld or "
		 "deleted by the server", who, (long long)m->seq);
	return json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "kind", "link", "before_seq",
			 (json_int_t)m->seq, "sender", sender, "sender_name", who, "prev", prev,
			 "detail", detail);
}

/* Messages this device had that the server no longer shows (it deleted the
 * last ones and set the channel's counter back): told once, before the
 * first of them or after the thread. */
static void
view_cut(struct view_gaps *g)
{
	char detail[200];
	long long from = (long long)g->cut_from, to = (long long)g->cut_to;
	g->cut_told = true;
	if (g->missing) {
		if (from == to)
			snprintf(detail, sizeof detail, "message #%lld, which this device had, is no "
				 "longer on the server: deleted by the server", from);
		else
			snprintf(detail, sizeof detail, "messages #%lld to #%lld, which this device "
				 "had, are no longer on the server: deleted by the server", from, to);
		json_array_append_new(g->missing, json_pack("{s:s, s:I, s:I, s:s}", "kind",
				      "truncated", "seq", (json_int_t)from, "through",
				      (json_int_t)to, "detail", detail));
	} else if (from == to) {
		printf(_("#%lld  message #%lld, which this device had, is no longer on the server: "
			 "deleted by the server\n"), from, from);
	} else {
		printf(_("#%lld-#%lld  messages #%lld to #%lld, which this device had, are no longer "
			 "on the server: deleted by the server\n"), from, to, from, to);
	}
}

void
view_gaps_before(struct view_gaps *g, const struct local_msg *m)
{
	int64_t from, to;
	if (g->cut_from > 0 && !g->cut_told && m->seq >= g->cut_from)
		view_cut(g);
	if (thread_gap_between(g->prev, m->seq, g->last_seq, &from, &to)) {
		if (g->missing)
			json_array_append_new(g->missing, view_gap_json(from, to));
		else
			view_print_gap(from, to);
	}
	if (g->missing && m->prev_missing && view_verified(m))
		json_array_append_new(g->missing, view_link_json(g->e, m));
	if (m->seq > g->prev)
		g->prev = m->seq;
}

void
view_gaps_end(struct view_gaps *g)
{
	int64_t from, to;
	if (g->cut_from > 0 && !g->cut_told)
		view_cut(g);
	if (!thread_gap_between(g->prev, g->last_seq + 1, g->last_seq, &from, &to))
		return;
	if (g->missing)
		json_array_append_new(g->missing, view_gap_json(from, to));
	else
		view_print_gap(from, to);
}

/* ---- messages ----------------------------------------------------------------------- */

/* "read by A, B; delivered to C" for the readers other than the sender. */
static void
receipt_line(struct e2e *e, const struct local_msg *m, const struct receipts *rc, char *out,
	     size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (int pass = 0; pass < 2; pass++) {
		bool first = true;
		for (size_t i = 0; i < rc->n; i++) {
			const struct receipt *r = &rc->list[i];
			bool read = r->read >= m->seq;
			if (memcmp(r->user, m->sender_user, LSN_ID_BYTES) == 0 ||
			    (pass == 0 ? !read : (read || r->delivered < m->seq)))
				continue;
			char who[200];
			e2e_person(e, r->user, who, sizeof who);
			int n = snprintf(out + used, len - used, "%s%s%s",
					 first ? (used ? "; " : "") : ", ",
					 first ? (pass == 0 ? "read by " : "delivered to ") : "", who);
			if (n < 0 || (size_t)n >= len - used)
				return;
			used += (size_t)n;
			first = false;
		}
	}
}

static void
print_body(const char *text)
{
	const char *line = text;
	while (line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		char *copy = strndup(line, n);
		fputs("    ", stdout);
		out_text(stdout, copy ? copy : "");
		putchar('\n');
		free(copy);
		line = nl ? nl + 1 : NULL;
	}
}

/* "[measurement, 2026-12-07] weight 82.5 kg", or why it cannot be trusted. */
static void
print_measurement(json_t *obj)
{
	struct measurement m;
	char at[DAY_TEXT];
	if (!measure_decode(obj, &m)) {
		puts("    [a measurement that is malformed or out of range: not shown, not used]");
		return;
	}
	printf("    [measurement, %s]", day_format(m.day, at));
	for (size_t i = 0; i < m.n; i++) {
		char v[24];
		const char *unit = measure_unit(m.v[i].name);
		measure_format(m.v[i].milli, v, sizeof v);
		printf("%s %s %s%s%s", i ? "," : "", m.v[i].name, v, unit[0] ? " " : "", unit);
	}
	putchar('\n');
}

static void
print_content(json_t *obj)
{
	const char *type = json_string_value(json_object_get(obj, "type"));
	if (type && strcmp(type, "text") == 0) {
		print_body(json_string_value(json_object_get(obj, "body")));
	} else if (type && strcmp(type, "topic") == 0) {
		fputs(_("    set the topic: "), stdout);
		out_text(stdout, json_string_value(json_object_get(obj, "topic")));
		putchar('\n');
	} else if (type && strcmp(type, "file") == 0) {
		const char *caption = json_string_value(json_object_get(obj, "caption"));
		const char *id = json_string_value(json_object_get(obj, "attachment"));
		if (caption && caption[0])
			print_body(caption);
		printf(_("    [file] "));
		out_text(stdout, json_string_value(json_object_get(obj, "name")));
		printf(_(" (%lld bytes) — liaison get "),
		       (long long)json_integer_value(json_object_get(obj, "size")));
		out_text(stdout, id ? id : "?");
		putchar('\n');
	} else if (type && strcmp(type, "discharge_notice") == 0) {
		notice_print(stdout, obj, "    ");
		fputs(_("    Acknowledge with: liaison ack "), stdout);
		out_text(stdout, json_string_value(json_object_get(obj, "patient_ref")));
		putchar('\n');
	} else if (type && strcmp(type, "alert") == 0) {
		char head[96];
		snprintf(head, sizeof head, "!!! ALERT — high priority — case %.24s",
			 json_string_value(json_object_get(obj, "patient_ref"))
				 ? json_string_value(json_object_get(obj, "patient_ref")) : "?");
		fputs("    ", stdout);
		out_styled(stdout, OUT_ALERT, head);
		putchar('\n');
		print_body(json_string_value(json_object_get(obj, "body")));
	} else if (type && strcmp(type, "step_note") == 0) {
		fputs(_("    [note on "), stdout);
		out_text(stdout, json_string_value(json_object_get(obj, "step_code")));
		fputs(" (", stdout);
		out_text(stdout, json_string_value(json_object_get(obj, "action")));
		fputs(_("), case "), stdout);
		out_text(stdout, json_string_value(json_object_get(obj, "patient_ref")));
		puts("]");
		print_body(json_string_value(json_object_get(obj, "body")));
	} else if (type && strcmp(type, CONCIL_DOC_TYPE) == 0) {
		concil_view_message(stdout, obj, "    ");
	} else if (type && strcmp(type, CIRCLE_CASE_TYPE) == 0) {
		circle_view_case_message(stdout, obj, "    ");
	} else if (type && strcmp(type, CIRCLE_SESSION_TYPE) == 0) {
		circle_view_session_message(stdout, obj, "    ");
	} else if (type && strcmp(type, MEASURE_TYPE) == 0) {
		print_measurement(obj);
	} else {
		printf(_("    [a message of type \""));
		out_text(stdout, type);
		printf(_("\" that this version of liaison cannot show]\n"));
	}
}

void
view_print_message(struct e2e *e, const struct local_msg *m, const struct receipts *rc)
{
	char when[32], who[200], line[1024];
	out_time(m->ts, when, sizeof when);
	e2e_person(e, m->sender_user, who, sizeof who);
	printf("#%lld  %s  ", (long long)m->seq, when);
	if (!view_verified(m))
		fputs(_("unverified message (the server says from "), stdout);
	out_text(stdout, who);
	puts(view_verified(m) ? "" : ")");
	json_t *obj = m->plain ? json_loads(m->plain, 0, NULL) : NULL;
	if (obj)
		print_content(obj);
	else
		printf(_("    [cannot decrypt: %s]\n"), m->detail[0] ? m->detail : m->status);
	if (obj && m->detail[0])
		printf("    %s\n", m->detail);
	if (obj && m->shared) {
		e2e_person(e, m->shared_by, who, sizeof who);
		fputs(_("    (history shared by "), stdout);
		out_text(stdout, who);
		puts(")");
	}
	if (m->prev_missing) {
		e2e_person(e, m->sender_user, who, sizeof who);
		fputs(_("    WARNING: a message from "), stdout);
		out_text(stdout, who);
		puts(_(" sent before this one is missing: withheld or deleted by the server"));
	}
	receipt_line(e, m, rc, line, sizeof line);
	if (line[0]) {
		fputs("    ✓ ", stdout);
		out_text(stdout, line);
		putchar('\n');
	}
	json_decref(obj);
}

static json_t *
receipt_users(struct e2e *e, const struct local_msg *m, const struct receipts *rc, bool read)
{
	json_t *list = json_array();
	for (size_t i = 0; i < rc->n; i++) {
		const struct receipt *r = &rc->list[i];
		bool has_read = r->read >= m->seq;
		if (memcmp(r->user, m->sender_user, LSN_ID_BYTES) == 0 ||
		    (read ? !has_read : (has_read || r->delivered < m->seq)))
			continue;
		char who[200];
		e2e_person(e, r->user, who, sizeof who);
		json_array_append_new(list, json_string(who));
	}
	return list;
}

json_t *
view_message_json(struct e2e *e, const struct local_msg *m, const struct receipts *rc)
{
	char who[200], sender[LSN_ID_HEX + 1], by[200];
	e2e_person(e, m->sender_user, who, sizeof who);
	lsn_id_to_hex(m->sender_user, sender);
	if (m->shared)
		e2e_person(e, m->shared_by, by, sizeof by);
	json_t *content = m->plain ? json_loads(m->plain, 0, NULL) : NULL;
	bool verified = view_verified(m);
	json_t *out = json_pack("{s:I, s:I, s:s?, s:s?, s:b, s:s, s:s?, s:s?}", "seq",
				(json_int_t)m->seq, "ts", (json_int_t)m->ts,
				"sender", verified ? sender : NULL,
				"sender_name", verified ? who : NULL, "verified", verified,
				"status", m->status, "detail", m->detail[0] ? m->detail : NULL,
				"history_shared_by", m->shared ? by : NULL);
	if (!verified) {
		json_object_set_new(out, "claimed_sender", json_string(sender));
		json_object_set_new(out, "claimed_sender_name", json_string(who));
	}
	if (m->prev_missing)
		json_object_set_new(out, "prev_missing", view_link_json(e, m));
	if (content) {
		json_object_set(out, "type", json_object_get(content, "type"));
		json_object_set_new(out, "content", content);
	}
	json_object_set_new(out, "read_by", receipt_users(e, m, rc, true));
	json_object_set_new(out, "delivered_to", receipt_users(e, m, rc, false));
	return out;
}
