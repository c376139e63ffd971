/* cmd_channel.c — "liaison channel": create a channel with its signed
 * creation entry, change membership with signed log entries (add, remove,
 * leave, role), and show members and channels as the verified log
 * establishes them (CRYPTO.md §6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "channel_ops.h"
#include "command.h"
#include "mlog_verify.h"
#include "output.h"
#include "peers.h"
#include "local.h"
#include "thread.h"
#include "wire.h"
#include "tr.h"

struct channel_opts {
	const char *kind, *history, *topic, *role;
	const char *const *pos;
	int n_pos;
};

static struct channel_opts
opts_of(const struct cmd_call *c)
{
	return (struct channel_opts){cmd_opt(c, "--kind"), cmd_opt(c, "--history"),
				     cmd_opt(c, "--topic"), cmd_opt(c, "--role"), c->pos, c->n_pos};
}

/* ---- create ------------------------------------------------------------------ */

static int
channel_create(struct e2e *e, const struct channel_opts *o)
{
	enum lsn_chan_kind kind = lsn_chan_kind_parse(o->kind);
	enum lsn_history history = o->history ? lsn_history_parse(o->history)
				 : kind == LSN_KIND_DIRECT ? LSN_HISTORY_FROM_JOIN
							   : LSN_HISTORY_SHARED;
	uint8_t channel[LSN_ID_BYTES];
	char hex[LSN_ID_HEX + 1];
	struct lsn_status st = {0};
	if (chan_ops_create(e, kind, history, o->topic, channel, &st) != LSN_OK)
		return out_fail(&st);
	lsn_id_to_hex(channel, hex);
	int rc = CLI_OK;
	if (out_json_mode()) {
		json_t *out = json_pack("{s:s, s:s, s:s, s:s?}", "channel", hex, "kind",
					lsn_chan_kind_name(kind), "history", lsn_history_name(history),
					"topic", o->topic);
		rc = out_json(out);
		json_decref(out);
	} else {
		printf(_("Channel %s created (%s, history %s).\n"), hex, lsn_chan_kind_name(kind),
		       lsn_history_name(history));
	}
	return rc;
}

/* ---- membership changes ------------------------------------------------------------ */

static int
report_change(struct e2e *e, const char *what, const uint8_t user[LSN_ID_BYTES], int64_t seq,
	      size_t forwarded)
{
	char who[200], hex[LSN_ID_HEX + 1];
	e2e_person(e, user, who, sizeof who);
	lsn_id_to_hex(user, hex);
	if (out_json_mode()) {
		json_t *out = json_pack("{s:s, s:s, s:I, s:I}", "action", what, "user", hex,
					"log_seq", (json_int_t)seq, "history_sessions",
					(json_int_t)forwarded);
		int rc = out_json(out);
		json_decref(out);
		return rc;
	}
	printf(_("%s: %s (log entry %lld).\n"), _(what), who, (long long)seq);
	if (forwarded)
		printf(ngettext("History shared: %zu session key forwarded.\n",
				"History shared: %zu session keys forwarded.\n", forwarded), forwarded);
	return CLI_OK;
}

static int
channel_change(struct e2e *e, enum lsn_mlog_action action, const char *channel_text,
	       const char *user_text, enum lsn_chan_role role)
{
	uint8_t channel[LSN_ID_BYTES], user[LSN_ID_BYTES];
	int rc = e2e_resolve_channel(e, channel_text, channel);
	if (rc == CLI_OK && user_text)
		rc = e2e_resolve_user(e, user_text, user);
	else if (rc == CLI_OK)
		memcpy(user, e->p->user, LSN_ID_BYTES);
	if (rc != CLI_OK)
		return rc;
	struct lsn_status st = {0};
	int64_t seq = 0;
	size_t forwarded = 0;
	if (chan_ops_change(e, channel, action, user, role, &seq, &forwarded, &st) != LSN_OK)
		return out_fail(&st);
	static const char *const labels[] = {"", N_("created"), N_("Added"), N_("Removed"), N_("Left"),
						    N_("Role changed")};
	return report_change(e, labels[action], user, seq, forwarded);
}

/* ---- members and list ---------------------------------------------------------------- */

static json_t *
members_json(struct e2e *e, const struct chan_view *v)
{
	json_t *list = json_array();
	for (size_t i = 0; v->state && i < v->state->count; i++) {
		const struct lsn_mlog_member *m = &v->state->members[i];
		char hex[LSN_ID_HEX + 1], by[LSN_ID_HEX + 1], who[200];
		lsn_id_to_hex(m->user, hex);
		lsn_id_to_hex(m->added_by, by);
		e2e_person(e, m->user, who, sizeof who);
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:I, s:s}", "user", hex,
						      "name", who, "role",
						      lsn_chan_role_name(m->role), "since_log_seq",
						      (json_int_t)m->since_seq, "added_by", by));
	}
	return list;
}

static void
print_banner(const struct chan_view *v)
{
	if (!v->valid)
		printf(_("INVALID: %s\nNo keys are shared in this channel.\n"), v->reason);
}

static int
channel_members(struct e2e *e, const char *channel_text)
{
	uint8_t channel[LSN_ID_BYTES];
	int rc = e2e_resolve_channel(e, channel_text, channel);
	struct chan_view v;
	struct lsn_status st = {0};
	if (rc != CLI_OK)
		return rc;
	if (chan_view_load(e, channel, &v, &st) != LSN_OK) {
		chan_view_free(&v);
		return out_fail(&st);
	}
	json_t *members = members_json(e, &v);
	if (out_json_mode()) {
		char hex[LSN_ID_HEX + 1];
		lsn_id_to_hex(channel, hex); /* the full id, whatever prefix was typed */
		json_t *out = json_pack("{s:s, s:b, s:s?, s:O}", "channel", hex, "valid",
					v.valid, "reason", v.valid ? NULL : v.reason, "members",
					members);
		rc = out_json(out);
		json_decref(out);
	} else {
		print_banner(&v);
		static const char *const headers[] = {N_("NAME"), N_("ROLE"), N_("SINCE"),
						      N_("USER ID")};
		struct out_table *t = out_table_new(4, headers);
		size_t i;
		json_t *m;
		json_array_foreach(members, i, m) {
			char since[32];
			snprintf(since, sizeof since, _("log #%lld"),
				 (long long)json_integer_value(json_object_get(m, "since_log_seq")));
			const char *cells[] = {json_string_value(json_object_get(m, "name")),
					       json_string_value(json_object_get(m, "role")), since,
					       json_string_value(json_object_get(m, "user"))};
			out_table_add(t, cells);
		}
		out_table_print(t, stdout);
		out_table_free(t);
	}
	json_decref(members);
	if (!v.valid && !out_json_mode())
		rc = CLI_FAIL;
	chan_view_free(&v);
	return rc;
}

static json_t *
list_entry(struct e2e *e, json_t *c)
{
	uint8_t channel[LSN_ID_BYTES];
	char topic[THREAD_TOPIC_MAX];
	struct chan_view v;
	struct lsn_status st = {0};
	json_t *out = json_deep_copy(c);
	if (!lsn_id_from_hex(json_string_value(json_object_get(c, "channel")), channel))
		return out;
	if (chan_view_load(e, channel, &v, &st) == LSN_OK) {
		json_object_set_new(out, "valid", json_boolean(v.valid));
		if (!v.valid)
			json_object_set_new(out, "reason", json_string(v.reason));
		json_object_set_new(out, "members", json_integer((json_int_t)v.state->count));
	} else {
		json_object_set_new(out, "valid", json_null());
		json_object_set_new(out, "reason", json_string(st.msg));
	}
	chan_view_free(&v);
	local_channel_topic(e->p, channel, topic, sizeof topic);
	json_object_set_new(out, "topic", topic[0] ? json_string(topic) : json_null());
	return out;
}

static void
print_list(json_t *list)
{
	static const char *const headers[] = {N_("CHANNEL"), N_("KIND"), N_("HISTORY"), N_("ROLE"),
					      N_("MESSAGES"), N_("STATE"), N_("TOPIC")};
	struct out_table *t = out_table_new(7, headers);
	size_t i;
	json_t *c;
	json_array_foreach(list, i, c) {
		char count[24];
		json_t *valid = json_object_get(c, "valid");
		snprintf(count, sizeof count, "%lld",
			 (long long)json_integer_value(json_object_get(c, "last_seq")));
		bool member = json_is_true(json_object_get(c, "member"));
		const char *cells[] = {
			json_string_value(json_object_get(c, "channel")),
			json_string_value(json_object_get(c, "kind")),
			json_string_value(json_object_get(c, "history")),
			member ? json_string_value(json_object_get(c, "role")) : _("former member"),
			count,
			json_is_true(valid) ? _("ok")
			: json_is_false(valid) ? _("INVALID") : _("unverified"),
			json_string_value(json_object_get(c, "topic")),
		};
		out_table_add(t, cells);
	}
	if (json_array_size(list) == 0)
		puts(_("No channels yet. Create one with liaison channel create --kind case."));
	else
		out_table_print(t, stdout);
	out_table_free(t);
	json_array_foreach(list, i, c)
		if (json_is_false(json_object_get(c, "valid")))
			printf(_("INVALID %s: %s\n"), json_string_value(json_object_get(c, "channel")),
			       json_string_value(json_object_get(c, "reason")));
}

static int
channel_list(struct e2e *e)
{
	struct lsn_status st = {0};
	json_t *reply = NULL;
	if (e2e_read(e, "channels", NULL, &reply, &st) != LSN_OK)
		return out_fail(&st);
	json_t *list = json_array();
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(reply, "channels"), i, c)
		json_array_append_new(list, list_entry(e, c));
	int rc = CLI_OK;
	if (out_json_mode()) {
		json_t *out = json_pack("{s:O}", "channels", list);
		rc = out_json(out);
		json_decref(out);
	} else {
		print_list(list);
	}
	json_decref(list);
	json_decref(reply);
	return rc;
}

/* ---- dispatch ---------------------------------------------------------------------------- */

/* Usage checks before any network work; CLI_OK or CLI_USAGE. */
static int
check_usage(const struct channel_opts *o)
{
	static const struct {
		const char *name;
		int min, max;
	} subs[] = {{"create", 1, 1}, {"add", 3, 3}, {"remove", 3, 3}, {"leave", 2, 2},
		    {"role", 4, 4}, {"members", 2, 2}, {"list", 1, 1}};
	const char *sub = o->n_pos ? o->pos[0] : "";
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		if (strcmp(sub, subs[i].name) != 0)
			continue;
		if (o->n_pos < subs[i].min || o->n_pos > subs[i].max) {
			out_error(_("wrong number of arguments for channel %s; see liaison channel "
				    "--help"), sub);
			return CLI_USAGE;
		}
		return CLI_OK;
	}
	if (o->n_pos)
		out_error(_("unknown channel command \"%s\"; see liaison channel --help"), sub);
	else
		out_error("%s", _("channel needs a command; see liaison channel --help"));
	return CLI_USAGE;
}

static int
check_values(const struct channel_opts *o)
{
	const char *sub = o->pos[0];
	if (strcmp(sub, "create") == 0 && lsn_chan_kind_parse(o->kind) == LSN_KIND_NONE) {
		out_error("%s", _("channel create needs --kind case, circle, team or direct"));
		return CLI_USAGE;
	}
	if (o->history && lsn_history_parse(o->history) == LSN_HISTORY_NONE) {
		out_error("%s", _("--history must be shared or from_join"));
		return CLI_USAGE;
	}
	if (o->topic && (strlen(o->topic) == 0 || strlen(o->topic) >= THREAD_TOPIC_MAX)) {
		out_error(_("--topic must have 1 to %d bytes"), THREAD_TOPIC_MAX - 1);
		return CLI_USAGE;
	}
	const char *role = strcmp(sub, "role") == 0 ? o->pos[3] : o->role;
	if (role && lsn_chan_role_parse(role) == LSN_CROLE_NONE) {
		out_error("%s", _("the role must be member or admin"));
		return CLI_USAGE;
	}
	return CLI_OK;
}

static int
run_sub(struct e2e *e, const struct channel_opts *o)
{
	const char *sub = o->pos[0];
	if (strcmp(sub, "create") == 0)
		return channel_create(e, o);
	if (strcmp(sub, "add") == 0)
		return channel_change(e, LSN_MLOG_ADD, o->pos[1], o->pos[2],
				      o->role ? lsn_chan_role_parse(o->role) : LSN_CROLE_MEMBER);
	if (strcmp(sub, "remove") == 0)
		return channel_change(e, LSN_MLOG_REMOVE, o->pos[1], o->pos[2], LSN_CROLE_NONE);
	if (strcmp(sub, "leave") == 0)
		return channel_change(e, LSN_MLOG_LEAVE, o->pos[1], NULL, LSN_CROLE_NONE);
	if (strcmp(sub, "role") == 0)
		return channel_change(e, LSN_MLOG_ROLE, o->pos[1], o->pos[2],
				      lsn_chan_role_parse(o->pos[3]));
	if (strcmp(sub, "members") == 0)
		return channel_members(e, o->pos[1]);
	return channel_list(e);
}

int
cmd_channel_check(struct cmd_call *c)
{
	struct channel_opts o = opts_of(c);
	int rc = check_usage(&o);
	if (rc == CLI_OK)
		rc = check_values(&o);
	return rc;
}

int
cmd_channel_run(struct cmd_call *c)
{
	struct channel_opts o = opts_of(c);
	return run_sub(c->e, &o);
}
