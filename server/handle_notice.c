/* handle_notice.c — the discharge notice and its acknowledgements,
 * high-priority alerts, per-user notifications, and the testing clock. */
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "case_action.h"
#include "clock.h"
#include "fanout.h"
#include "handlers.h"
#include "log.h"
#include "pathway.h"
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

#define RECIPIENTS_MAX 100

/* The "recipients" field: ids of current members of the case thread other
 * than the caller, each once. *n = 0 when the field is absent. */
static enum lsn_err
read_recipients(struct handler_ctx *hc, json_t *req, const struct store_case *c,
		uint8_t (*out)[LSN_ID_BYTES], size_t *n)
{
	json_t *list = json_object_get(req, "recipients"), *v;
	size_t i;
	*n = 0;
	if (list == NULL || json_is_null(list))
		return LSN_OK;
	if (!json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > RECIPIENTS_MAX)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "field \"recipients\": expected a list of "
				"1 to %d user ids (or no field: every other current member)",
				RECIPIENTS_MAX);
	json_array_foreach(list, i, v) {
		struct store_member m;
		const char *hex = json_string_value(v);
		if (hex == NULL || strlen(hex) != LSN_ID_HEX || !lsn_id_from_hex(hex, out[i]))
			return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
					"recipients[%zu]: expected a user id (32 hex digits)", i);
		if (memcmp(out[i], hc->sess->user, LSN_ID_BYTES) == 0)
			return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "recipients[%zu]: that is you; the "
					"recipients are the others who must acknowledge the notice", i);
		for (size_t j = 0; j < i; j++)
			if (memcmp(out[i], out[j], LSN_ID_BYTES) == 0)
				return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
						"recipients[%zu]: listed twice; name each recipient once",
						i);
		if (store_member_get(hc->srv->store, c->channel, out[i], &m) != LSN_OK || !m.current)
			return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "recipients[%zu]: not a member of the "
					"case thread; add them to the thread before posting the notice",
					i);
	}
	*n = json_array_size(list);
	return LSN_OK;
}

/* Without a "recipients" field: every current member but the poster. */
struct default_recipients {
	struct handler_ctx *hc;
	const uint8_t *case_id;
	size_t count;
	enum lsn_err err;
};

static void
add_default_recipient(const struct store_member *m, void *arg)
{
	struct default_recipients *d = arg;
	if (d->err != LSN_OK || memcmp(m->user, d->hc->sess->user, LSN_ID_BYTES) == 0)
		return;
	if ((d->err = store_notice_recipient_add(d->hc->srv->store, d->case_id, m->user)) == LSN_OK)
		d->count++;
}

static enum lsn_err
store_recipients(struct handler_ctx *hc, const struct store_case *c,
		 uint8_t (*list)[LSN_ID_BYTES], size_t n, size_t *count)
{
	enum lsn_err err = LSN_OK;
	*count = n;
	for (size_t i = 0; i < n && err == LSN_OK; i++)
		err = store_notice_recipient_add(hc->srv->store, c->id, list[i]);
	if (n == 0) {
		struct default_recipients d = {.hc = hc, .case_id = c->id};
		err = store_member_list(hc->srv->store, c->channel, true, add_default_recipient, &d);
		if (err == LSN_OK)
			err = d.err;
		*count = d.count;
	}
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "notice recipient");
}

enum lsn_err
handle_notice_post(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_case c;
	uint8_t recipients[RECIPIENTS_MAX][LSN_ID_BYTES];
	size_t n_recipients = 0, stored = 0;
	int64_t seq = 0;
	bool letter = false;
	enum lsn_err err;
	if ((err = member_case(hc, req, &c)) ||
	    (err = wire_get_int(req, "seq", true, 1, WIRE_ID_MAX, &seq, &hc->st)) ||
	    (err = wire_get_bool(req, "letter", false, &letter, &hc->st)) ||
	    (err = own_message(hc, &c, seq)))
		return err;
	if (strcmp(c.status, "open") != 0)
		return lsn_fail(&hc->st, LSN_ERR_CASE_CLOSED, NULL);
	if ((err = read_recipients(hc, req, &c, recipients, &n_recipients)) != LSN_OK)
		return err;
	struct store_notice n = {.message_seq = seq, .posted_at = hc->now};
	memcpy(n.case_id, c.id, LSN_ID_BYTES);
	memcpy(n.posted_by, hc->sess->user, LSN_ID_BYTES);
	if ((err = store_notice_put(hc->srv->store, &n)) != LSN_OK)
		return err == LSN_ERR_CONFLICT
			       ? lsn_fail(&hc->st, err, "this case already has a discharge notice")
			       : handler_store_fail(hc, err, "notice");
	json_t *done = json_array();
	json_object_set_new(reply, "steps_done", done);
	if ((err = store_recipients(hc, &c, recipients, n_recipients, &stored)) ||
	    (err = case_action_fulfil(hc, &c, CASE_ACTION_NOTICE_POSTED, done)) ||
	    (letter && (err = case_action_fulfil(hc, &c, CASE_ACTION_LETTER_ATTACHED, done))))
		return err;
	json_object_set_new(reply, "case", wire_id(c.id));
	json_object_set_new(reply, "seq", json_integer(seq));
	json_object_set_new(reply, "recipients", json_integer((json_int_t)stored));
	return fanout_channel(hc, c.channel, "case",
			      json_pack("{s:o, s:s, s:I}", "case", wire_id(c.id), "change", "notice",
					"seq", (json_int_t)seq), NULL);
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

/* Who an alert of a kind notifies is template data (pathway_alert_routes,
 * 011): the members of the case thread whose profession the route names,
 * and with 'coordinator' the coordinators of the case's CPTS, members of
 * the thread or not (never those of another CPTS). Each person once. */
#define ALERT_TARGETS_MAX 256

struct alert_targets {
	struct handler_ctx *hc;
	const struct store_case *c;
	const char *kind;
	const char *member_roles;      /* the route without its 'coordinator' token */
	int64_t seq;
	unsigned count;
	uint8_t done[ALERT_TARGETS_MAX][LSN_ID_BYTES];
	enum lsn_err err;
};

static void
alert_notify(struct alert_targets *a, const uint8_t user[LSN_ID_BYTES])
{
	if (a->err != LSN_OK || a->count >= ALERT_TARGETS_MAX)
		return;
	for (unsigned i = 0; i < a->count; i++)
		if (memcmp(a->done[i], user, LSN_ID_BYTES) == 0)
			return;
	struct store_notification n = {.created_at = a->hc->now, .message_seq = a->seq};
	snprintf(n.kind, sizeof n.kind, "alert");
	memcpy(n.case_id, a->c->id, LSN_ID_BYTES);
	if ((a->err = store_notification_add(a->hc->srv->store, user, &n)) != LSN_OK)
		return;
	size_t len = 0;
	json_t *ev = json_pack("{s:o, s:I, s:o, s:I, s:I, s:s}", "case", wire_id(a->c->id), "seq",
			       (json_int_t)a->seq, "from", wire_id(a->hc->sess->user), "notification",
			       (json_int_t)n.id, "created_at", (json_int_t)n.created_at,
			       "alert_kind", a->kind);
	json_t *about = case_render_notification(a->hc->srv->store, &n);
	json_object_del(about, "id");            /* "id" is for replies; here "notification" */
	json_object_update_missing(ev, about);   /* who and what, as in "notifications" */
	json_decref(about);
	char *frame = wire_encode_event("alert", ev, &len);
	if (frame)
		effects_event(a->hc->effects, EFFECT_EVENT_USER, user, frame, len);
	memcpy(a->done[a->count++], user, LSN_ID_BYTES);
}

static void
alert_member(const struct store_member *m, void *arg)
{
	struct alert_targets *a = arg;
	struct store_user u;
	if (a->err != LSN_OK || store_user_get(a->hc->srv->store, m->user, &u) != LSN_OK ||
	    !pathway_role_matches(a->member_roles, u.profession, u.roles))
		return;
	alert_notify(a, m->user);
}

static void
alert_coordinator(const uint8_t id[LSN_ID_BYTES], void *arg)
{
	alert_notify(arg, id);
}

/* roles without its 'coordinator' token into out; true when it had one. */
static bool
split_coordinator(const char *roles, char *out, size_t cap)
{
	bool coordinator = false;
	size_t n = 0;
	out[0] = '\0';
	for (const char *p = roles; *p;) {
		const char *end = strchr(p, '|');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == 11 && memcmp(p, "coordinator", 11) == 0)
			coordinator = true;
		else if (len > 0 && n + len + 2 <= cap) {
			if (n)
				out[n++] = '|';
			memcpy(out + n, p, len);
			n += len;
			out[n] = '\0';
		}
		p = end ? end + 1 : p + len;
	}
	return coordinator;
}

static bool
alert_kind_valid(const char *kind)
{
	if (kind[0] == '\0')
		return false;
	for (const char *p = kind; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

enum lsn_err
handle_alert(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_case c;
	struct store_alert_route route;
	const char *kind = "clinical";
	int64_t seq = 0;
	enum lsn_err err;
	if ((err = member_case(hc, req, &c)) ||
	    (err = wire_get_int(req, "seq", true, 1, WIRE_ID_MAX, &seq, &hc->st)) ||
	    (err = wire_get_str(req, "kind", false, STORE_ALERT_KIND - 1, &kind, &hc->st)) ||
	    (err = own_message(hc, &c, seq)))
		return err;
	if (!alert_kind_valid(kind))
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "field \"kind\": expected an alert kind "
				"code (a-z, 0-9, _), such as \"clinical\"; see op \"pathways\"");
	if ((err = store_alert_route(hc->srv->store, c.pathway, c.template_version, kind, &route)) != LSN_OK)
		return err == LSN_ERR_NOT_FOUND
			       ? lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "field \"kind\": pathway %s "
					  "(version %lld) has no alert kind \"%s\"; see op \"pathways\"",
					  c.pathway, (long long)c.template_version, kind)
			       : handler_store_fail(hc, err, "alert route");
	if (strcmp(c.status, "open") != 0)   /* a closed case notifies no one */
		return lsn_fail(&hc->st, LSN_ERR_CASE_CLOSED, NULL);
	if ((err = store_alert_put(hc->srv->store, c.id, seq, hc->sess->user, hc->now, route.kind)) != LSN_OK)
		return err == LSN_ERR_CONFLICT
			       ? lsn_fail(&hc->st, LSN_ERR_ALREADY_ALERTED, "message %lld has already raised "
					  "an alert; post a new message if this is a new alarm",
					  (long long)seq)
			       : handler_store_fail(hc, err, "alert");
	char member_roles[sizeof route.roles];
	bool coordinators = split_coordinator(route.roles, member_roles, sizeof member_roles);
	struct alert_targets *a = calloc(1, sizeof *a);
	if (a == NULL)
		return lsn_fail(&hc->st, LSN_ERR_INTERNAL, NULL);
	*a = (struct alert_targets){.hc = hc, .c = &c, .kind = route.kind, .member_roles = member_roles,
				    .seq = seq};
	if (member_roles[0])
		err = store_member_list(hc->srv->store, c.channel, true, alert_member, a);
	if (err == LSN_OK && coordinators)
		err = store_cpts_coordinators(hc->srv->store, c.has_cpts ? c.cpts : NULL,
					      alert_coordinator, a);
	if (err == LSN_OK)
		err = a->err;
	unsigned count = a->count;
	json_t *users = json_array();
	for (unsigned i = 0; i < count; i++)
		json_array_append_new(users, wire_id(a->done[i]));
	free(a);
	if (err != LSN_OK) {
		json_decref(users);
		return handler_store_fail(hc, err, "alert");
	}
	json_object_set_new(reply, "kind", json_string(route.kind));
	json_object_set_new(reply, "notified", json_integer(count));
	json_object_set_new(reply, "users", users);
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
