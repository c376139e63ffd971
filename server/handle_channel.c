/* handle_channel.c — channels and their signed membership log: create,
 * append (add, remove, leave, role), read the log, list channels and
 * members. The server authorises each entry with the same rules the
 * clients replay (shared/mlog.c) and checks the actor device's signature. */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "case.h"
#include "fanout.h"
#include "handlers.h"
#include "log.h"
#include "mlog.h"
#include "wire.h"

/* ---- helpers ------------------------------------------------------------ */

struct log_replay {
	struct lsn_mlog_state *state;
	enum lsn_err err;
	struct lsn_status st;
};

static void
replay_one(int64_t seq, const char *entry_json, void *arg)
{
	struct log_replay *r = arg;
	struct lsn_mlog_entry e;
	if (r->err != LSN_OK)
		return;
	json_t *obj = json_loads(entry_json, 0, NULL);
	r->err = obj ? lsn_mlog_from_json(obj, &e, &r->st) : LSN_ERR_INTERNAL;
	json_decref(obj);
	if (r->err == LSN_OK && (int64_t)e.seq != seq)
		r->err = lsn_fail(&r->st, LSN_ERR_INTERNAL, "stored log entry %lld is out of order",
				  (long long)seq);
	if (r->err == LSN_OK)
		r->err = lsn_mlog_apply(r->state, &e, &r->st);
}

/* Rebuild the membership a channel's stored log establishes. *out is
 * malloc'd (the state is large). */
static enum lsn_err
load_state(struct handler_ctx *hc, const uint8_t channel[LSN_ID_BYTES],
	   struct lsn_mlog_state **out)
{
	struct log_replay r = {.state = malloc(sizeof *r.state)};
	*out = NULL;
	if (r.state == NULL)
		return lsn_fail(&hc->st, LSN_ERR_INTERNAL, NULL);
	lsn_mlog_state_init(r.state);
	enum lsn_err err = store_channel_log_list(hc->srv->store, channel, replay_one, &r);
	if (err == LSN_OK && r.err != LSN_OK) {
		log_error("channel log does not replay: %s", r.st.msg);
		err = lsn_fail(&hc->st, LSN_ERR_INTERNAL, NULL);
	} else if (err != LSN_OK) {
		err = handler_store_fail(hc, err, "channel");
	}
	if (err != LSN_OK) {
		free(r.state);
		return err;
	}
	*out = r.state;
	return LSN_OK;
}

/* The entry must be made by this connection's user and device, signed by
 * that device's key. */
static enum lsn_err
check_entry_author(struct handler_ctx *hc, const struct lsn_mlog_entry *e)
{
	if (memcmp(e->actor, hc->sess->user, LSN_ID_BYTES) != 0 ||
	    memcmp(e->actor_device, hc->sess->device, LSN_ID_BYTES) != 0)
		return lsn_fail(&hc->st, LSN_ERR_FORBIDDEN,
				"the entry's actor and actor_device must be the logged-in user and device");
	struct store_device dev;
	enum lsn_err err = store_device_get(hc->srv->store, hc->sess->device, &dev);
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "device");
	if (!lsn_mlog_verify_sig(e, dev.dk))
		return lsn_fail(&hc->st, LSN_ERR_BAD_SIGNATURE,
				"the entry's signature does not verify with this device's key");
	return LSN_OK;
}

static enum lsn_err
read_entry(struct handler_ctx *hc, json_t *req, struct lsn_mlog_entry *e)
{
	json_t *obj = json_object_get(req, "entry");
	if (obj == NULL)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "field \"entry\" is required");
	return lsn_mlog_from_json(obj, e, &hc->st);
}

/* Store the entry and push it to members, the subject and the actor. */
static enum lsn_err
log_and_announce(struct handler_ctx *hc, const struct lsn_mlog_entry *e)
{
	uint8_t hash[32];
	json_t *obj = lsn_mlog_to_json(e);
	char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(obj);
	if (text == NULL)
		return lsn_fail(&hc->st, LSN_ERR_INTERNAL, NULL);
	lsn_mlog_hash(e, hash);
	enum lsn_err err = store_channel_log_append(hc->srv->store, e->channel, (int64_t)e->seq, hash,
						    text, hc->now);
	free(text);
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "log entry");
	char action[32], detail[48] = "";
	const char *verb = lsn_mlog_action_name(e->action), *role = lsn_chan_role_name(e->role);
	snprintf(action, sizeof action, e->action == LSN_MLOG_CREATE ? "channel_%s" : "member_%s",
		 verb ? verb : "?");
	if (role && (e->action == LSN_MLOG_ADD || e->action == LSN_MLOG_ROLE))
		snprintf(detail, sizeof detail, "seq=%llu role=%s", (unsigned long long)e->seq, role);
	else
		snprintf(detail, sizeof detail, "seq=%llu", (unsigned long long)e->seq);
	if ((err = audit_request(hc, action, &(struct audit_ids){
		     .target_user = e->action == LSN_MLOG_CREATE ? NULL : e->subject,
		     .channel = e->channel, .detail = detail})) != LSN_OK)
		return err;
	json_t *body = json_pack("{s:o, s:o}", "channel", wire_id(e->channel), "entry",
				 lsn_mlog_to_json(e));
	return fanout_channel(hc, e->channel, "channel_log", body, e->subject);
}

/* ---- create ------------------------------------------------------------- */

/* channels_per_user: user may join one more channel (docs/OPERATIONS.md,
 * "Bounds"). */
static enum lsn_err
channel_room(struct handler_ctx *hc, const uint8_t user[LSN_ID_BYTES], bool self)
{
	unsigned cap = hc->srv->cfg->channels_per_user;
	int64_t n = 0;
	if (cap == 0)
		return LSN_OK;
	enum lsn_err err = store_member_channel_count(hc->srv->store, user, &n);
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "member");
	if (n >= (int64_t)cap)
		return lsn_fail(&hc->st, LSN_ERR_TOO_MANY_CHANNELS,
				self ? "you are a member of %u channels, the most this server allows "
				       "(channels_per_user); leave one first"
				     : "this user is a member of %u channels, the most this server allows "
				       "(channels_per_user)", cap);
	return LSN_OK;
}

enum lsn_err
handle_channel_create(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct lsn_mlog_entry e;
	struct lsn_mlog_state *state = malloc(sizeof *state);
	enum lsn_err err = state ? read_entry(hc, req, &e) : LSN_ERR_INTERNAL;
	if (err == LSN_OK && e.action != LSN_MLOG_CREATE)
		err = lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "channel_create takes a create entry");
	if (err == LSN_OK)
		err = check_entry_author(hc, &e);
	if (err == LSN_OK) {
		lsn_mlog_state_init(state);
		err = lsn_mlog_apply(state, &e, &hc->st);
	}
	free(state);
	if (err != LSN_OK)
		return err == LSN_ERR_INTERNAL ? lsn_fail(&hc->st, err, NULL) : err;

	if ((err = channel_room(hc, e.actor, true)) != LSN_OK)
		return err;
	struct store_channel c = {0};
	memcpy(c.id, e.channel, LSN_ID_BYTES);
	snprintf(c.kind, sizeof c.kind, "%s", lsn_chan_kind_name(e.kind));
	snprintf(c.history, sizeof c.history, "%s", lsn_history_name(e.history));
	memcpy(c.creator, e.actor, LSN_ID_BYTES);
	c.created_at = hc->now;
	c.log_seq = -1;
	if ((err = store_channel_create(hc->srv->store, &c)) != LSN_OK)
		return err == LSN_ERR_CONFLICT
			       ? lsn_fail(&hc->st, err, "a channel with this id exists; pick a new random id")
			       : handler_store_fail(hc, err, "channel");
	if ((err = store_member_put(hc->srv->store, e.channel, e.actor, "admin", 0)) != LSN_OK)
		return handler_store_fail(hc, err, "member");
	if ((err = log_and_announce(hc, &e)) != LSN_OK)
		return err;
	json_object_set_new(reply, "channel", wire_id(e.channel));
	json_object_set_new(reply, "seq", json_integer(0));
	return LSN_OK;
}

/* ---- append ------------------------------------------------------------- */

/* Mirror an applied entry into the members table. */
static enum lsn_err
apply_to_members(struct handler_ctx *hc, const struct lsn_mlog_entry *e)
{
	struct store *s = hc->srv->store;
	switch (e->action) {
	case LSN_MLOG_ADD: {
		enum lsn_err err = store_member_put(s, e->channel, e->subject,
						    lsn_chan_role_name(e->role), (int64_t)e->seq);
		/* in a case channel, the newcomer takes the unassigned steps of their role */
		return err == LSN_OK ? case_assign_newcomer(s, e->channel, e->subject, hc->now) : err;
	}
	case LSN_MLOG_REMOVE:
	case LSN_MLOG_LEAVE:
		return store_member_leave(s, e->channel, e->subject);
	case LSN_MLOG_ROLE:
		return store_member_set_role(s, e->channel, e->subject, lsn_chan_role_name(e->role));
	default:
		return LSN_ERR_INTERNAL;
	}
}

enum lsn_err
handle_channel_append(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct lsn_mlog_entry e;
	struct lsn_mlog_state *state = NULL;
	enum lsn_err err = read_entry(hc, req, &e);
	if (err == LSN_OK && e.action == LSN_MLOG_CREATE)
		err = lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "create a channel with channel_create");
	if (err == LSN_OK)
		err = check_entry_author(hc, &e);
	if (err == LSN_OK && e.action == LSN_MLOG_ADD &&
	    store_user_get(hc->srv->store, e.subject, &(struct store_user){0}) != LSN_OK)
		err = lsn_fail(&hc->st, LSN_ERR_NOT_FOUND, "the user to add is not enrolled here");
	if (err == LSN_OK && e.action == LSN_MLOG_ADD)
		err = channel_room(hc, e.subject, memcmp(e.subject, hc->sess->user, LSN_ID_BYTES) == 0);
	if (err == LSN_OK)
		err = load_state(hc, e.channel, &state);
	if (err == LSN_OK && state->next_seq == 0)
		err = lsn_fail(&hc->st, LSN_ERR_NOT_FOUND, "no such channel");
	if (err == LSN_OK)
		err = lsn_mlog_apply(state, &e, &hc->st);
	free(state);
	if (err != LSN_OK)
		return err;
	if ((err = apply_to_members(hc, &e)) != LSN_OK)
		return handler_store_fail(hc, err, "member");
	if ((err = log_and_announce(hc, &e)) != LSN_OK)
		return err;
	json_object_set_new(reply, "channel", wire_id(e.channel));
	json_object_set_new(reply, "seq", json_integer((json_int_t)e.seq));
	return LSN_OK;
}

/* ---- reads -------------------------------------------------------------- */

/* Members and former members may read a channel's log and membership. */
enum lsn_err
handler_channel_access(struct handler_ctx *hc, const uint8_t channel[LSN_ID_BYTES],
		       struct store_member *me)
{
	enum lsn_err err = store_member_get(hc->srv->store, channel, hc->sess->user, me);
	if (err == LSN_ERR_NOT_FOUND)
		return lsn_fail(&hc->st, LSN_ERR_NOT_FOUND,
				"no such channel among yours; see \"liaison channel list\"");
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "channel");
}

static void
append_entry(int64_t seq, const char *entry_json, void *arg)
{
	(void)seq;
	json_t *obj = json_loads(entry_json, 0, NULL);
	if (obj)
		json_array_append_new((json_t *)arg, obj);
}

enum lsn_err
handle_channel_log(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	uint8_t channel[LSN_ID_BYTES];
	struct store_member me;
	enum lsn_err err;
	if ((err = wire_get_id(req, "channel", true, channel, NULL, &hc->st)) ||
	    (err = handler_channel_access(hc, channel, &me)))
		return err;
	json_t *entries = json_array();
	json_object_set_new(reply, "channel", wire_id(channel));
	json_object_set_new(reply, "entries", entries);
	if ((err = store_channel_log_list(hc->srv->store, channel, append_entry, entries)) != LSN_OK)
		return handler_store_fail(hc, err, "channel");
	return LSN_OK;
}

static void
append_channel(const struct store_channel *c, const struct store_member *me, void *arg)
{
	json_array_append_new((json_t *)arg,
		json_pack("{s:o, s:s, s:s, s:b, s:s, s:I, s:I, s:I}",
			  "channel", wire_id(c->id), "kind", c->kind, "history", c->history,
			  "member", me->current, "role", me->role,
			  "log_seq", (json_int_t)c->log_seq,
			  "last_seq", (json_int_t)(me->current ? c->last_seq : me->left_msg_seq),
			  "created_at", (json_int_t)c->created_at));
}

enum lsn_err
handle_channels(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	json_t *list = json_array();
	json_object_set_new(reply, "channels", list);
	enum lsn_err err = store_channels_of_user(hc->srv->store, hc->sess->user, append_channel, list);
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "channel");
}

struct member_render {
	struct handler_ctx *hc;
	json_t *list;
	enum lsn_err err;
};

static void
append_member(const struct store_member *m, void *arg)
{
	struct member_render *r = arg;
	struct store_user u;
	if (r->err != LSN_OK)
		return;
	r->err = store_user_get(r->hc->srv->store, m->user, &u);
	if (r->err == LSN_OK)
		json_array_append_new(r->list, json_pack("{s:o, s:s, s:I}", "user", render_user(&u),
							 "role", m->role, "since_seq",
							 (json_int_t)m->since_log_seq));
}

enum lsn_err
handle_channel_members(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	uint8_t channel[LSN_ID_BYTES];
	struct store_member me;
	enum lsn_err err;
	if ((err = wire_get_id(req, "channel", true, channel, NULL, &hc->st)) ||
	    (err = handler_channel_access(hc, channel, &me)))
		return err;
	struct member_render r = {.hc = hc, .list = json_array()};
	json_object_set_new(reply, "channel", wire_id(channel));
	json_object_set_new(reply, "members", r.list);
	err = store_member_list(hc->srv->store, channel, true, append_member, &r);
	if (err == LSN_OK)
		err = r.err;
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "member");
}
