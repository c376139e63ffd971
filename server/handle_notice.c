/* handle_notice.c — the discharge notice and its acknowledgements,
 * high-priority alerts, per-user notifications, and the testing clock. */
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "clock.h"
#include "fanout.h"
#include "handlers.h"
#include "log.h"
#include "wire.h"

/* The case (field "case") if the caller is a current member of its thread. */
static enum lsn_err
member_case(struct handler_ctx *hc, json_t *req, struct store_case *c)
{
	uint8_t id[LSN_ID_BYTES];
	struct store_member me;
	enum lsn_err err = wire_get_id(req, "case", true, id, NULL, &hc->st);
	if (err != LSN_OK)
		return err;
	err = store_case_get(hc->srv->store, id, c);
	if (err == LSN_OK && (store_member_get(hc->srv->store, c->channel, hc->sess->user, &me) != LSN_OK ||
			      !me.current))
		err = LSN_ERR_NOT_FOUND;
	if (err == LSN_ERR_NOT_FOUND)
		return lsn_fail(&hc->st, err, "no such case among yours; see \"liaison cases\"");
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "case");
}

/* seq must be a message of the case thread sent by the caller. */
static enum lsn_err
own_message(struct handler_ctx *hc, const struct store_case *c, int64_t seq)
{
	uint8_t sender[LSN_ID_BYTES];
	enum lsn_err err = store_message_sender(hc->srv->store, c->channel, seq, sender);
	if (err == LSN_ERR_NOT_FOUND)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "field \"seq\": the thread has no message %lld",
				(long long)seq);
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "message");
	if (memcmp(sender, hc->sess->user, LSN_ID_BYTES) != 0)
		return lsn_fail(&hc->st, LSN_ERR_FORBIDDEN,
				"field \"seq\": message %lld was sent by someone else; point at your own",
				(long long)seq);
	return LSN_OK;
}

enum lsn_err
handle_notice_post(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_case c;
	int64_t seq = 0;
	enum lsn_err err;
	if ((err = member_case(hc, req, &c)) ||
	    (err = wire_get_int(req, "seq", true, 1, WIRE_ID_MAX, &seq, &hc->st)) ||
	    (err = own_message(hc, &c, seq)))
		return err;
	if (strcmp(c.status, "open") != 0)
		return lsn_fail(&hc->st, LSN_ERR_CASE_CLOSED, NULL);
	struct store_notice n = {.message_seq = seq, .posted_at = hc->now};
	memcpy(n.case_id, c.id, LSN_ID_BYTES);
	memcpy(n.posted_by, hc->sess->user, LSN_ID_BYTES);
	if ((err = store_notice_put(hc->srv->store, &n)) != LSN_OK)
		return err == LSN_ERR_CONFLICT
			       ? lsn_fail(&hc->st, err, "this case already has a discharge notice")
			       : handler_store_fail(hc, err, "notice");
	json_object_set_new(reply, "case", wire_id(c.id));
	json_object_set_new(reply, "seq", json_integer(seq));
	return fanout_channel(hc, c.channel, "case",
			      json_pack("{s:o, s:s, s:I}", "case", wire_id(c.id), "change", "notice",
					"seq", (json_int_t)seq), NULL);
}

/* The discharge_notice step is done once every recipient acknowledged. */
struct notice_step {
	struct store_step step;
	bool found;
};

static void
find_notice_step(const struct store_step *st, void *arg)
{
	struct notice_step *n = arg;
	if (!n->found && strcmp(st->step, "discharge_notice") == 0 && strcmp(st->status, "pending") == 0) {
		n->step = *st;
		n->found = true;
	}
}

static enum lsn_err
complete_notice_step(struct handler_ctx *hc, const struct store_case *c)
{
	struct notice_step n = {0};
	enum lsn_err err = store_step_list(hc->srv->store, c->id, find_notice_step, &n);
	if (err != LSN_OK || !n.found)
		return err;
	snprintf(n.step.status, sizeof n.step.status, "done");
	n.step.has_done_by = true;
	memcpy(n.step.done_by, hc->sess->user, LSN_ID_BYTES);
	n.step.done_at = hc->now;
	return store_step_update(hc->srv->store, &n.step, hc->now);
}

enum lsn_err
handle_ack(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_case c;
	struct store_notice n;
	bool added = false;
	enum lsn_err err = member_case(hc, req, &c);
	if (err != LSN_OK)
		return err;
	if (strcmp(c.status, "open") != 0)
		return lsn_fail(&hc->st, LSN_ERR_CASE_CLOSED, NULL);
	if ((err = store_notice_get(hc->srv->store, c.id, &n)) != LSN_OK)
		return err == LSN_ERR_NOT_FOUND
			       ? lsn_fail(&hc->st, err, "this case has no discharge notice to acknowledge")
			       : handler_store_fail(hc, err, "notice");
	if (memcmp(n.posted_by, hc->sess->user, LSN_ID_BYTES) == 0)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "you posted this notice; the others acknowledge it");
	if ((err = store_ack_put(hc->srv->store, c.id, hc->sess->user, hc->now, &added)) != LSN_OK)
		return handler_store_fail(hc, err, "acknowledgement");
	size_t missing = case_missing_acks(hc->srv->store, &c, &n);
	if (added && missing == 0 && (err = complete_notice_step(hc, &c)) != LSN_OK)
		return handler_store_fail(hc, err, "step");
	json_object_set_new(reply, "case", wire_id(c.id));
	json_object_set_new(reply, "acknowledged", json_boolean(added));
	json_object_set_new(reply, "missing", json_integer((json_int_t)missing));
	if (!added)
		return LSN_OK;
	return fanout_channel(hc, c.channel, "ack",
			      json_pack("{s:o, s:o, s:I, s:I}", "case", wire_id(c.id), "user",
					wire_id(hc->sess->user), "acked_at", (json_int_t)hc->now,
					"missing", (json_int_t)missing), NULL);
}

/* ---- alerts ------------------------------------------------------------- */

struct alert_targets {
	struct handler_ctx *hc;
	const struct store_case *c;
	int64_t seq;
	unsigned count;
	enum lsn_err err;
};

static void
alert_member(const struct store_member *m, void *arg)
{
	struct alert_targets *a = arg;
	struct store_user u;
	if (a->err != LSN_OK || store_user_get(a->hc->srv->store, m->user, &u) != LSN_OK ||
	    (strcmp(u.profession, "gp") != 0 && strcmp(u.profession, "cardiologist") != 0))
		return;
	struct store_notification n = {.created_at = a->hc->now, .message_seq = a->seq};
	snprintf(n.kind, sizeof n.kind, "alert");
	memcpy(n.case_id, a->c->id, LSN_ID_BYTES);
	if ((a->err = store_notification_add(a->hc->srv->store, m->user, &n)) != LSN_OK)
		return;
	size_t len = 0;
	json_t *ev = json_pack("{s:o, s:I, s:o, s:I, s:I}", "case", wire_id(a->c->id), "seq",
			       (json_int_t)a->seq, "from", wire_id(a->hc->sess->user), "notification",
			       (json_int_t)n.id, "created_at", (json_int_t)n.created_at);
	json_t *about = case_render_notification(a->hc->srv->store, &n);
	json_object_del(about, "id");            /* "id" is for replies; here "notification" */
	json_object_update_missing(ev, about);   /* who and what, as in "notifications" */
	json_decref(about);
	char *frame = wire_encode_event("alert", ev, &len);
	if (frame)
		effects_event(a->hc->effects, EFFECT_EVENT_USER, m->user, frame, len);
	a->count++;
}

enum lsn_err
handle_alert(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_case c;
	int64_t seq = 0;
	enum lsn_err err;
	if ((err = member_case(hc, req, &c)) ||
	    (err = wire_get_int(req, "seq", true, 1, WIRE_ID_MAX, &seq, &hc->st)) ||
	    (err = own_message(hc, &c, seq)))
		return err;
	if (strcmp(c.status, "open") != 0)   /* a closed case notifies no one */
		return lsn_fail(&hc->st, LSN_ERR_CASE_CLOSED, NULL);
	struct alert_targets a = {.hc = hc, .c = &c, .seq = seq};
	if ((err = store_member_list(hc->srv->store, c.channel, true, alert_member, &a)) != LSN_OK ||
	    (err = a.err) != LSN_OK)
		return handler_store_fail(hc, err, "alert");
	json_object_set_new(reply, "notified", json_integer(a.count));
	return LSN_OK;
}

/* ---- notifications ------------------------------------------------------ */

struct notif_list {
	struct store *s;
	json_t *list;
};

static void
append_notification(const struct store_notification *n, void *arg)
{
	struct notif_list *l = arg;
	json_array_append_new(l->list, case_render_notification(l->s, n));
}

enum lsn_err
handle_notifications(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct notif_list l = {.s = hc->srv->store, .list = json_array()};
	json_object_set_new(reply, "notifications", l.list);
	enum lsn_err err = store_notification_list(hc->srv->store, hc->sess->user, append_notification, &l);
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "notification");
}

enum lsn_err
handle_notifications_seen(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	int64_t upto = 0;
	enum lsn_err err = wire_get_int(req, "upto", true, 1, WIRE_ID_MAX, &upto, &hc->st);
	if (err != LSN_OK)
		return err;
	err = store_notification_seen(hc->srv->store, hc->sess->user, upto, hc->now);
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "notification");
}

/* ---- testing clock ------------------------------------------------------ */

enum lsn_err
handle_clock_advance(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	int64_t ms = 0;
	enum lsn_err err = wire_get_int(req, "ms", true, 1, 3650LL * 86400 * 1000, &ms, &hc->st);
	if (err != LSN_OK)
		return err;
	if (hc->srv->cfg->production)
		return lsn_fail(&hc->st, LSN_ERR_FORBIDDEN,
				"moving the clock is a testing aid, refused in production mode");
	if (!(hc->sess->roles & LSN_ROLE_ADMIN))
		return lsn_fail(&hc->st, LSN_ERR_FORBIDDEN, "only an administrator can move the clock");
	lsn_clock_advance_ms(ms);
	hc->now = lsn_clock_now_ms();
	log_warn("testing aid: server clock moved forward by %lld ms (offset now %lld ms)",
		 (long long)ms, (long long)lsn_clock_offset_ms());
	unsigned pushed = 0;
	if ((err = case_tick(hc->srv->store, hc->srv->cfg, hc->effects, hc->now, &pushed)) != LSN_OK)
		return handler_store_fail(hc, err, "case");
	json_object_set_new(reply, "now", json_integer(hc->now));
	json_object_set_new(reply, "notified", json_integer(pushed));
	return LSN_OK;
}
