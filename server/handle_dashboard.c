/* handle_dashboard.c — the lists a coordinator's dashboard reads in one
 * request each: discharge notices still waiting for acknowledgements
 * (unacked_notices) and the alerts of the last days (recent_alerts). Same
 * scope as late_steps (case_list_scope): the caller's cases and, for a
 * coordinator, her CPTS's; "all" (every CPTS) for the territory role.
 * Metadata only: codes, dates, who; the notice and the alert themselves
 * stay in the encrypted thread. */
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "handlers.h"
#include "wire.h"

/* How far back recent_alerts looks (days): default and bounds. */
#define ALERT_DAYS_DEFAULT 7
#define ALERT_DAYS_MAX     31
#define DAY_MS             (24LL * 60 * 60 * 1000)

/* The fields every row names its case by. */
static json_t *
case_row(const struct store_case *c)
{
	return json_pack("{s:o, s:s, s:s, s:o}", "case", wire_id(c->id), "patient_ref",
			 c->patient_ref, "pathway", c->pathway, "channel", wire_id(c->channel));
}

static const char *
user_name(struct store *s, const uint8_t id[LSN_ID_BYTES], struct store_user *u)
{
	return store_user_get(s, id, u) == LSN_OK ? u->name : "?";
}

static json_int_t
int_of(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

static int
by_ref(json_t *x, json_t *y)
{
	return strcmp(json_string_value(json_object_get(x, "patient_ref")),
		      json_string_value(json_object_get(y, "patient_ref")));
}

/* The fields common to both ops; refuses "all" to all but the territory role. */
static enum lsn_err
read_scope(struct handler_ctx *hc, json_t *req, struct store_case_filter *f, const char *what)
{
	bool all = false;
	const char *pathway = NULL;
	enum lsn_err err;
	if ((err = wire_get_bool(req, "all", false, &all, &hc->st)) ||
	    (err = wire_get_str(req, "pathway", false, 31, &pathway, &hc->st)))
		return err;
	if (!case_list_scope(hc->sess, all, f))
		return lsn_fail(&hc->st, LSN_ERR_COORDINATOR_ONLY, "%s of every CPTS are for territory "
				"coordinators; without \"all\" you see your CPTS's", what);
	f->pathway = pathway;
	return LSN_OK;
}

/* ---- unacked_notices ---------------------------------------------------- */

struct notice_list {
	struct handler_ctx *hc;
	json_t *list;
};

/* UNACKED: the case, then NOTICE's fields about who is missing. */
static void
append_unacked(const struct store_case *c, void *arg)
{
	struct notice_list *l = arg;
	struct store_user u;
	json_t *notice = case_render_notice(l->hc->srv->store, c);
	if (!json_is_object(notice) || int_of(notice, "missing") == 0) {
		json_decref(notice);
		return;
	}
	uint8_t poster[LSN_ID_BYTES];
	json_t *row = case_row(c);
	static const char *const keys[] = {"seq", "posted_by", "posted_at", "escalated_at",
					   "expected", "missing", "missing_people"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		json_object_set(row, keys[i], json_object_get(notice, keys[i]));
	bool known = lsn_id_from_hex(json_string_value(json_object_get(notice, "posted_by")), poster);
	json_object_set_new(row, "posted_by_name",
			    json_string(known ? user_name(l->hc->srv->store, poster, &u) : "?"));
	json_decref(notice);
	json_array_append_new(l->list, row);
}

static int
unacked_order(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t px = int_of(x, "posted_at"), py = int_of(y, "posted_at");
	return px != py ? (px < py ? -1 : 1) : by_ref(x, y);
}

/* Open cases whose discharge notice has a recipient, still a member, who has
 * not acknowledged it: oldest notice first, then patient_ref. */
enum lsn_err
handle_unacked_notices(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_case_filter f = {.open_only = true, .with_notice = true};
	enum lsn_err err = read_scope(hc, req, &f, "the unacknowledged notices");
	if (err != LSN_OK)
		return err;
	struct notice_list l = {.hc = hc, .list = json_array()};
	json_object_set_new(reply, "notices", l.list);
	err = store_case_list(hc->srv->store, &f, append_unacked, &l);
	if (err == LSN_OK && !render_sort(l.list, unacked_order))
		err = LSN_ERR_INTERNAL;
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "case");
}

/* ---- recent_alerts ------------------------------------------------------ */

struct alert_list {
	struct handler_ctx *hc;
	const struct store_case *c;
	int64_t since;
	json_t *list;
};

static void
append_alert(const struct store_raised_alert *a, void *arg)
{
	struct alert_list *l = arg;
	struct store_user u;
	json_t *row = case_row(l->c);
	json_object_set_new(row, "case_status", json_string(l->c->status));
	json_object_update_new(row, json_pack("{s:I, s:s, s:s, s:o, s:s, s:I}", "seq",
					      (json_int_t)a->seq, "kind", a->kind, "label",
					      a->label_fr, "by", wire_id(a->by), "by_name",
					      user_name(l->hc->srv->store, a->by, &u), "at",
					      (json_int_t)a->at));
	json_array_append_new(l->list, row);
}

static void
alerts_of_case(const struct store_case *c, void *arg)
{
	struct alert_list *l = arg;
	l->c = c;
	store_case_alerts(l->hc->srv->store, c->id, l->since, append_alert, l);
}

static int
alert_order(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t tx = int_of(x, "at"), ty = int_of(y, "at");
	if (tx != ty)
		return tx > ty ? -1 : 1;
	int c = by_ref(x, y);
	if (c != 0)
		return c;
	json_int_t sx = int_of(x, "seq"), sy = int_of(y, "seq");
	return (sx < sy) - (sx > sy);
}

/* Alerts raised in the last `days` days (server clock), open and closed
 * cases: newest first, then patient_ref, then the later message first. */
enum lsn_err
handle_recent_alerts(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_case_filter f = {0};
	int64_t days = ALERT_DAYS_DEFAULT;
	enum lsn_err err;
	/* out of range: "field \"days\": expected an integer from 1 to 31" */
	if ((err = wire_get_int(req, "days", false, 1, ALERT_DAYS_MAX, &days, &hc->st)) != LSN_OK)
		return err;
	if ((err = read_scope(hc, req, &f, "the alerts")) != LSN_OK)
		return err;
	struct alert_list l = {.hc = hc, .since = hc->now - days * DAY_MS, .list = json_array()};
	f.alerted_since = l.since;
	json_object_set_new(reply, "alerts", l.list);
	json_object_set_new(reply, "days", json_integer(days));
	json_object_set_new(reply, "since", json_integer(l.since));
	err = store_case_list(hc->srv->store, &f, alerts_of_case, &l);
	if (err == LSN_OK && !render_sort(l.list, alert_order))
		err = LSN_ERR_INTERNAL;
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "case");
}
