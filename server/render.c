/* render.c — JSON renderings of organisations, users, devices and messages. */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "wire.h"

json_t *
render_org(const struct store_org *org)
{
	return json_pack("{s:o, s:s, s:s, s:s}", "id", wire_id(org->id), "name", org->name,
			 "finess", org->finess, "kind", org->kind);
}

json_t *
render_roles(unsigned roles)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{LSN_ROLE_MEMBER, "member"}, {LSN_ROLE_DISCHARGE, "discharge"},
		{LSN_ROLE_COORDINATOR, "coordinator"}, {LSN_ROLE_ADMIN, "admin"},
		{LSN_ROLE_TERRITORY, "territory"},
	};
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < sizeof names / sizeof names[0]; i++)
		if (roles & names[i].bit)
			json_array_append_new(arr, json_string(names[i].name));
	return arr;
}

json_t *
render_user(const struct store_user *user)
{
	const struct lsn_profession *prof = lsn_profession_find(user->profession);
	return json_pack("{s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:I}",
			 "id", wire_id(user->id),
			 "rpps", user->rpps[0] ? json_string(user->rpps) : json_null(),
			 "name", user->name,
			 "profession", user->profession,
			 "profession_label", prof ? prof->label_fr : user->profession,
			 "org", render_org(&user->org),
			 "roles", render_roles(user->roles),
			 "ik", wire_b64(user->ik, sizeof user->ik),
			 "created_at", (json_int_t)user->created_at);
}

json_t *
render_message(const struct store_message *m)
{
	return json_pack("{s:o, s:I, s:I, s:o, s:o, s:o}", "channel", wire_id(m->channel),
			 "seq", (json_int_t)m->seq, "ts", (json_int_t)m->ts,
			 "sender_user", wire_id(m->sender_user),
			 "sender_device", wire_id(m->sender_device),
			 "envelope", wire_b64(m->envelope, m->envelope_len));
}

static json_t *
time_or_null(int64_t t)
{
	return t ? json_integer(t) : json_null();
}

/* last_seen_at (when the device last logged in) is presence: it is shown
 * only to the device's own user (docs/THREAT-MODEL.md, "Metadata"). */
json_t *
render_device(const struct store_device *dev, const uint8_t viewer[LSN_ID_BYTES])
{
	json_t *obj = json_pack("{s:o, s:s, s:o, s:I, s:o, s:o, s:o, s:I, s:o, s:I, s:o}",
			 "id", wire_id(dev->id),
			 "name", dev->name,
			 "dk", wire_b64(dev->dk, sizeof dev->dk),
			 "dk_ts", (json_int_t)dev->dk_ts,
			 "dk_sig", wire_b64(dev->dk_sig, sizeof dev->dk_sig),
			 "ak_id", wire_id(dev->ak_id),
			 "ak", wire_b64(dev->ak, sizeof dev->ak),
			 "ak_ts", (json_int_t)dev->ak_ts,
			 "ak_sig", wire_b64(dev->ak_sig, sizeof dev->ak_sig),
			 "created_at", (json_int_t)dev->created_at,
			 "revoked_at", time_or_null(dev->revoked_at));
	if (obj && viewer && memcmp(dev->user_id, viewer, LSN_ID_BYTES) == 0)
		json_object_set_new(obj, "last_seen_at", time_or_null(dev->last_seen_at));
	return obj;
}

enum lsn_err
handler_store_fail(struct handler_ctx *hc, enum lsn_err err, const char *what)
{
	switch (err) {
	case LSN_ERR_NOT_FOUND:
		return lsn_fail(&hc->st, err, "no such %s", what);
	case LSN_ERR_CONFLICT:
		return lsn_fail(&hc->st, err, "this %s already exists", what);
	case LSN_ERR_STORAGE:
		return lsn_fail(&hc->st, err, NULL);
	default:
		return lsn_fail(&hc->st, err, NULL);
	}
}

void
handler_page_finish(json_t *reply, json_t *list, int64_t limit)
{
	bool more = (int64_t)json_array_size(list) > limit;
	if (more)
		json_array_remove(list, json_array_size(list) - 1);
	json_object_set_new(reply, "more", json_boolean(more));
}

bool
render_sort(json_t *list, int (*cmp)(const void *, const void *))
{
	size_t n = json_array_size(list);
	json_t **order = calloc(n ? n : 1, sizeof *order);
	if (order == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		order[i] = json_incref(json_array_get(list, i));
	qsort(order, n, sizeof *order, cmp);
	json_array_clear(list);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, order[i]);
	free(order);
	return true;
}
