/* alarm_view.c — membership alarms in a thread view (alarm_view.h). */
#include <stdio.h>
#include <string.h>

#include "tr.h"
#include "alarm_view.h"
#include "local.h"
#include "local_alarm.h"
#include "mlog_verify.h"
#include "output.h"
#include "wire.h"

struct alarm_walk {
	struct e2e *e;
	json_t *list;
};

static bool
print_one(void *arg, const struct local_alarm *a)
{
	struct alarm_walk *w = arg;
	char text[600], when[32], cleared[32];
	if (strcmp(a->state, "pending") == 0)
		return true;
	chan_alarm_text(w->e, a, false, text, sizeof text);
	out_time(a->raised_at, when, sizeof when);
	if (strcmp(a->state, "active") == 0) {
		fputs(_("ALARM: "), stdout);
		out_text(stdout, text);
		printf(_(" (seen %s).\nThe server may be hiding a removal: no keys are shared in "
			 "this channel until it shows that change again. Tell your administrator.\n"),
		       when);
	} else {
		out_time(a->cleared_at, cleared, sizeof cleared);
		fputs(_("Membership alarm, cleared: "), stdout);
		out_text(stdout, text);
		printf(_(" (seen %s; the server showed that change again %s).\n"), when, cleared);
	}
	return true;
}

void
alarm_view_print(struct e2e *e, const uint8_t channel[LSN_ID_BYTES])
{
	struct alarm_walk w = {e, NULL};
	struct lsn_status st;
	local_alarm_each(e->p, channel, "active", print_one, &w, &st);
	local_alarm_each(e->p, channel, "cleared", print_one, &w, &st);
}

static bool
json_one(void *arg, const struct local_alarm *a)
{
	struct alarm_walk *w = arg;
	char text[600], who[200] = "";
	if (strcmp(a->state, "pending") == 0)
		return true;
	chan_alarm_text(w->e, a, true, text, sizeof text);
	if (a->has_by)
		e2e_person(w->e, a->by_user, who, sizeof who);
	json_t *o = json_pack("{s:s, s:s, s:I, s:o, s:o, s:s?, s:o, s:I, s:o, s:s}", "state",
			      a->state, "source", a->source, "log_seq", (json_int_t)a->head_seq,
			      "log_hash", wire_b64(a->head_hash, 32), "by",
			      a->has_by ? wire_id(a->by_user) : json_null(), "by_name",
			      a->has_by ? who : NULL, "message_seq",
			      a->msg_seq > 0 ? json_integer(a->msg_seq) : json_null(), "raised_at",
			      (json_int_t)a->raised_at, "cleared_at",
			      a->cleared_at > 0 ? json_integer(a->cleared_at) : json_null(), "text",
			      text);
	if (o)
		json_array_append_new(w->list, o);
	return true;
}

json_t *
alarm_view_json(struct e2e *e, const uint8_t channel[LSN_ID_BYTES])
{
	struct alarm_walk w = {e, json_array()};
	struct lsn_status st;
	local_alarm_each(e->p, channel, NULL, json_one, &w, &st);
	return w.list;
}
