/* mlog.c — membership log entries: canonical bytes, signature, hash chain,
 * the append rules, and the JSON form. */
#include <string.h>

#include <sodium.h>

#include "mlog.h"
#include "sigs.h"
#include "wire.h"

static const char *const action_names[] = {NULL, "create", "add", "remove", "leave", "role"};
static const char *const role_names[] = {NULL, "member", "admin"};
static const char *const history_names[] = {NULL, "shared", "from_join"};
static const char *const kind_names[] = {NULL, "case", "circle", "team", "direct"};

#define NAME_AT(table, i) \
	((unsigned)(i) < sizeof table / sizeof table[0] ? table[(unsigned)(i)] : NULL)

const char *lsn_mlog_action_name(enum lsn_mlog_action a) { return NAME_AT(action_names, a); }
const char *lsn_chan_role_name(enum lsn_chan_role r) { return NAME_AT(role_names, r); }
const char *lsn_history_name(enum lsn_history h) { return NAME_AT(history_names, h); }
const char *lsn_chan_kind_name(enum lsn_chan_kind k) { return NAME_AT(kind_names, k); }

static int
name_index(const char *const *table, size_t n, const char *name)
{
	for (size_t i = 1; name && i < n; i++)
		if (strcmp(table[i], name) == 0)
			return (int)i;
	return 0;
}

enum lsn_chan_kind
lsn_chan_kind_parse(const char *name)
{
	return (enum lsn_chan_kind)name_index(kind_names, 5, name);
}

enum lsn_chan_role
lsn_chan_role_parse(const char *name)
{
	return (enum lsn_chan_role)name_index(role_names, 3, name);
}

enum lsn_history
lsn_history_parse(const char *name)
{
	return (enum lsn_history)name_index(history_names, 3, name);
}

/* ---- bytes, hash, signature ------------------------------------------- */

size_t
lsn_mlog_signed_bytes(const struct lsn_mlog_entry *e, uint8_t out[LSN_MLOG_SIGNED_MAX])
{
	static const char label[] = "liaison-mlog-v1";
	struct lsn_buf b;
	uint8_t version = 1;
	uint8_t codes[3] = {(uint8_t)e->role, (uint8_t)e->history, (uint8_t)e->kind};
	uint8_t action = (uint8_t)e->action;
	lsn_buf_init(&b, out, LSN_MLOG_SIGNED_MAX);
	lsn_buf_put(&b, label, sizeof label - 1);
	lsn_buf_put(&b, &version, 1);
	lsn_buf_put_lp(&b, e->channel, LSN_ID_BYTES);
	lsn_buf_put_u64(&b, e->seq);
	lsn_buf_put_lp(&b, e->prev, e->seq == 0 ? 0 : 32);
	lsn_buf_put_lp(&b, e->actor, LSN_ID_BYTES);
	lsn_buf_put_lp(&b, e->actor_device, LSN_ID_BYTES);
	lsn_buf_put(&b, &action, 1);
	lsn_buf_put_lp(&b, e->subject, LSN_ID_BYTES);
	lsn_buf_put(&b, codes, 3);
	lsn_buf_put_u64(&b, (uint64_t)e->ts);
	return b.overflow ? 0 : b.len;
}

void
lsn_mlog_hash(const struct lsn_mlog_entry *e, uint8_t out[32])
{
	uint8_t bytes[LSN_MLOG_SIGNED_MAX];
	size_t len = lsn_mlog_signed_bytes(e, bytes);
	crypto_generichash(out, 32, bytes, len, NULL, 0);
}

void
lsn_mlog_sign(struct lsn_mlog_entry *e, const uint8_t dk_sk[64])
{
	uint8_t bytes[LSN_MLOG_SIGNED_MAX];
	size_t len = lsn_mlog_signed_bytes(e, bytes);
	crypto_sign_detached(e->sig, NULL, bytes, len, dk_sk);
}

bool
lsn_mlog_verify_sig(const struct lsn_mlog_entry *e, const uint8_t dk_pk[32])
{
	uint8_t bytes[LSN_MLOG_SIGNED_MAX];
	size_t len = lsn_mlog_signed_bytes(e, bytes);
	return lsn_sig_verify(e->sig, bytes, len, dk_pk);
}

/* ---- rules --------------------------------------------------------------- */

void
lsn_mlog_state_init(struct lsn_mlog_state *st)
{
	memset(st, 0, offsetof(struct lsn_mlog_state, members));
}

static struct lsn_mlog_member *
find_member(struct lsn_mlog_state *st, const uint8_t user[LSN_ID_BYTES])
{
	for (size_t i = 0; i < st->count; i++)
		if (memcmp(st->members[i].user, user, LSN_ID_BYTES) == 0)
			return &st->members[i];
	return NULL;
}

const struct lsn_mlog_member *
lsn_mlog_member(const struct lsn_mlog_state *st, const uint8_t user[LSN_ID_BYTES])
{
	return find_member((struct lsn_mlog_state *)st, user);
}

static size_t
admin_count(const struct lsn_mlog_state *st)
{
	size_t n = 0;
	for (size_t i = 0; i < st->count; i++)
		n += st->members[i].role == LSN_CROLE_ADMIN;
	return n;
}

static void
member_drop(struct lsn_mlog_state *st, struct lsn_mlog_member *m)
{
	size_t i = (size_t)(m - st->members);
	memmove(&st->members[i], &st->members[i + 1], (st->count - i - 1) * sizeof *m);
	st->count--;
}

static enum lsn_err
refuse(struct lsn_status *status, const char *why)
{
	return lsn_fail(status, LSN_ERR_FORBIDDEN, "membership log entry refused: %s", why);
}

static enum lsn_err
apply_create(struct lsn_mlog_state *st, const struct lsn_mlog_entry *e, struct lsn_status *status)
{
	if (e->seq != 0)
		return refuse(status, "create is only the first entry");
	if (memcmp(e->subject, e->actor, LSN_ID_BYTES) != 0 || e->role != LSN_CROLE_ADMIN)
		return refuse(status, "the creator must be the subject and an admin");
	if (e->kind < LSN_KIND_CASE || e->kind > LSN_KIND_DIRECT)
		return refuse(status, "create needs a channel kind");
	if (e->history != LSN_HISTORY_SHARED && e->history != LSN_HISTORY_FROM_JOIN)
		return refuse(status, "create needs a history policy");
	memcpy(st->channel, e->channel, LSN_ID_BYTES);
	st->kind = e->kind;
	st->history = e->history;
	struct lsn_mlog_member *m = &st->members[st->count++];
	memcpy(m->user, e->actor, LSN_ID_BYTES);
	memcpy(m->added_by, e->actor, LSN_ID_BYTES);
	m->role = LSN_CROLE_ADMIN;
	m->since_seq = 0;
	return LSN_OK;
}

static enum lsn_err
apply_change(struct lsn_mlog_state *st, const struct lsn_mlog_entry *e, struct lsn_status *status)
{
	struct lsn_mlog_member *actor = find_member(st, e->actor);
	struct lsn_mlog_member *subject = find_member(st, e->subject);
	bool self = memcmp(e->actor, e->subject, LSN_ID_BYTES) == 0;
	if (actor == NULL)
		return refuse(status, "the actor is not a member of the channel");
	if (e->history != LSN_HISTORY_NONE || e->kind != LSN_KIND_NONE)
		return refuse(status, "history and kind are fixed by the create entry");
	switch (e->action) {
	case LSN_MLOG_ADD:
		if (actor->role != LSN_CROLE_ADMIN)
			return refuse(status, "only a channel admin may add members");
		if (subject)
			return refuse(status, "the subject is already a member");
		if (e->role != LSN_CROLE_MEMBER && e->role != LSN_CROLE_ADMIN)
			return refuse(status, "add needs the role member or admin");
		if (st->count >= LSN_MLOG_MAX_MEMBERS ||
		    (st->kind == LSN_KIND_DIRECT && st->count >= 2))
			return refuse(status, st->kind == LSN_KIND_DIRECT
						      ? "a direct channel has two members"
						      : "the channel is full");
		subject = &st->members[st->count++];
		memcpy(subject->user, e->subject, LSN_ID_BYTES);
		memcpy(subject->added_by, e->actor, LSN_ID_BYTES);
		subject->role = e->role;
		subject->since_seq = e->seq;
		return LSN_OK;
	case LSN_MLOG_REMOVE:
		if (actor->role != LSN_CROLE_ADMIN)
			return refuse(status, "only a channel admin may remove members");
		if (subject == NULL || self)
			return refuse(status, self ? "to remove yourself, leave" : "the subject is not a member");
		if (e->role != LSN_CROLE_NONE)
			return refuse(status, "remove carries no role");
		member_drop(st, subject);
		return LSN_OK;
	case LSN_MLOG_LEAVE:
		if (!self || e->role != LSN_CROLE_NONE)
			return refuse(status, "leave is the actor's own, without a role");
		if (actor->role == LSN_CROLE_ADMIN && admin_count(st) == 1 && st->count > 1)
			return refuse(status, "the last admin cannot leave; make another member admin first");
		member_drop(st, actor);
		return LSN_OK;
	case LSN_MLOG_ROLE:
		if (actor->role != LSN_CROLE_ADMIN)
			return refuse(status, "only a channel admin may change roles");
		if (subject == NULL)
			return refuse(status, "the subject is not a member");
		if (e->role != LSN_CROLE_MEMBER && e->role != LSN_CROLE_ADMIN)
			return refuse(status, "role needs member or admin");
		if (subject->role == LSN_CROLE_ADMIN && e->role == LSN_CROLE_MEMBER &&
		    admin_count(st) == 1)
			return refuse(status, "the last admin cannot step down; make another member admin first");
		subject->role = e->role;
		return LSN_OK;
	default:
		return refuse(status, "unknown action");
	}
}

enum lsn_err
lsn_mlog_apply(struct lsn_mlog_state *st, const struct lsn_mlog_entry *e, struct lsn_status *status)
{
	if (e->seq != st->next_seq)
		return lsn_fail(status, LSN_ERR_CONFLICT,
				"membership log entry %llu does not follow entry %llu; fetch the log and retry",
				(unsigned long long)e->seq, (unsigned long long)st->next_seq);
	if (e->seq > 0 && (memcmp(e->channel, st->channel, LSN_ID_BYTES) != 0))
		return refuse(status, "the entry belongs to another channel");
	if (e->seq > 0 && sodium_memcmp(e->prev, st->last_hash, 32) != 0)
		return lsn_fail(status, LSN_ERR_CONFLICT,
				"membership log entry %llu does not chain to the previous entry; "
				"fetch the log and retry", (unsigned long long)e->seq);
	enum lsn_err err = e->action == LSN_MLOG_CREATE ? apply_create(st, e, status)
						        : (e->seq == 0 ? refuse(status, "the first entry must be create")
								       : apply_change(st, e, status));
	if (err != LSN_OK)
		return err;
	lsn_mlog_hash(e, st->last_hash);
	st->next_seq = e->seq + 1;
	return LSN_OK;
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *
name_or_null(const char *name)
{
	return name ? json_string(name) : json_null();
}

json_t *
lsn_mlog_to_json(const struct lsn_mlog_entry *e)
{
	return json_pack("{s:o, s:I, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:I, s:o}",
			 "channel", wire_id(e->channel),
			 "seq", (json_int_t)e->seq,
			 "prev", e->seq == 0 ? json_null() : wire_b64(e->prev, 32),
			 "actor", wire_id(e->actor),
			 "actor_device", wire_id(e->actor_device),
			 "action", lsn_mlog_action_name(e->action) ? lsn_mlog_action_name(e->action) : "?",
			 "subject", wire_id(e->subject),
			 "role", name_or_null(lsn_chan_role_name(e->role)),
			 "history", name_or_null(lsn_history_name(e->history)),
			 "kind", name_or_null(lsn_chan_kind_name(e->kind)),
			 "ts", (json_int_t)e->ts,
			 "sig", wire_b64(e->sig, sizeof e->sig));
}

/* An optional enum name: absent/null → 0; an unknown name is an error. */
static enum lsn_err
get_enum(json_t *obj, const char *field, int (*parse)(const char *), int *out,
	 struct lsn_status *st)
{
	const char *name = NULL;
	enum lsn_err err = wire_get_str(obj, field, false, 32, &name, st);
	if (err != LSN_OK)
		return err;
	*out = name ? parse(name) : 0;
	if (name && *out == 0)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "field \"%s\": unknown value \"%s\"", field, name);
	return LSN_OK;
}

static int parse_action(const char *n) { return name_index(action_names, 6, n); }
static int parse_role(const char *n) { return (int)lsn_chan_role_parse(n); }
static int parse_history(const char *n) { return (int)lsn_history_parse(n); }
static int parse_kind(const char *n) { return (int)lsn_chan_kind_parse(n); }

enum lsn_err
lsn_mlog_from_json(json_t *obj, struct lsn_mlog_entry *e, struct lsn_status *st)
{
	int64_t seq = 0, ts = 0;
	int action = 0, role = 0, history = 0, kind = 0;
	enum lsn_err err;
	memset(e, 0, sizeof *e);
	if (!json_is_object(obj))
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "field \"entry\": expected an object");
	if ((err = wire_get_id(obj, "channel", true, e->channel, NULL, st)) ||
	    (err = wire_get_int(obj, "seq", true, 0, 1000000000, &seq, st)) ||
	    (err = wire_get_id(obj, "actor", true, e->actor, NULL, st)) ||
	    (err = wire_get_id(obj, "actor_device", true, e->actor_device, NULL, st)) ||
	    (err = get_enum(obj, "action", parse_action, &action, st)) ||
	    (err = wire_get_id(obj, "subject", true, e->subject, NULL, st)) ||
	    (err = get_enum(obj, "role", parse_role, &role, st)) ||
	    (err = get_enum(obj, "history", parse_history, &history, st)) ||
	    (err = get_enum(obj, "kind", parse_kind, &kind, st)) ||
	    (err = wire_get_int(obj, "ts", true, 0, WIRE_ID_MAX, &ts, st)) ||
	    (err = wire_get_b64(obj, "sig", true, e->sig, sizeof e->sig, st)))
		return err;
	if (action == 0)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "field \"action\" is required");
	if (seq > 0 && (err = wire_get_b64(obj, "prev", true, e->prev, 32, st)) != LSN_OK)
		return err;
	e->seq = (uint64_t)seq;
	e->ts = ts;
	e->action = (enum lsn_mlog_action)action;
	e->role = (enum lsn_chan_role)role;
	e->history = (enum lsn_history)history;
	e->kind = (enum lsn_chan_kind)kind;
	return LSN_OK;
}

/* ---- heads ------------------------------------------------------------------ */

json_t *
lsn_mlog_head_json(const struct lsn_mlog_entry *e)
{
	uint8_t h[32];
	lsn_mlog_hash(e, h);
	return json_pack("{s:I, s:o}", "seq", (json_int_t)e->seq, "hash", wire_b64(h, 32));
}

bool
lsn_mlog_head_parse(json_t *obj, uint64_t *seq, uint8_t hash[32])
{
	struct lsn_status st;
	int64_t n = 0;
	if (!json_is_object(obj) || json_object_size(obj) != 2 ||
	    wire_get_int(obj, "seq", true, 0, WIRE_ID_MAX, &n, &st) != LSN_OK ||
	    wire_get_b64(obj, "hash", true, hash, 32, &st) != LSN_OK)
		return false;
	*seq = (uint64_t)n;
	return true;
}
