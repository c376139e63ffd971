/* handle_todevice.c — the durable to-device queue of pairwise key-share
 * envelopes: send, fetch, acknowledge. An entry leaves the queue only when
 * its recipient device acknowledges it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fanout.h"
#include "handlers.h"
#include "metrics.h"
#include "wire.h"

#define TODEVICE_BATCH_MAX 1000
#define TODEVICE_BODY_MAX  16384
#define TODEVICE_FETCH_MAX 500

/* The to-device bounds (docs/OPERATIONS.md, "Bounds"): the recipient is
 * one of the sender's own devices, or its user is or was a member of a
 * channel the sender is a current member of, or wrote to the sender within
 * todevice_reply_window; and the
 * recipient device's queue is under both caps. Each accepted entry notes
 * the contact, so the recipient may answer. */
static enum lsn_err
todevice_bounds(struct handler_ctx *hc, const struct store_device *dev, size_t index)
{
	const struct config *cfg = hc->srv->cfg;
	struct store *s = hc->srv->store;
	enum lsn_err err = LSN_OK;
	if (memcmp(dev->user_id, hc->sess->user, LSN_ID_BYTES) != 0) {
		bool allowed = false;
		err = store_todevice_allowed(s, hc->sess->user, dev->user_id,
					     hc->now - cfg->todevice_reply_window_ms, &allowed);
		if (err != LSN_OK)
			return handler_store_fail(hc, err, "to-device policy");
		if (!allowed)
			return lsn_fail(&hc->st, LSN_ERR_TODEVICE_NOT_ALLOWED,
					"messages[%zu]: you share no channel with this user, and "
					"they have not written to you recently", index);
	}
	int64_t total = 0, from_me = 0;
	int64_t cap = cfg->todevice_max_queued, cap_me = cfg->todevice_max_per_sender;
	if (cap || cap_me)
		err = store_todevice_queued(s, dev->id, hc->sess->user, cap ? cap : INT32_MAX,
					    cap_me ? cap_me : INT32_MAX, &total, &from_me);
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "to-device entry");
	if (cap && total >= cap)
		return lsn_fail(&hc->st, LSN_ERR_TODEVICE_QUEUE_FULL,
				"messages[%zu]: the recipient device has %lld entries waiting "
				"(todevice_max_queued); it must fetch them first", index, (long long)cap);
	if (cap_me && from_me >= cap_me)
		return lsn_fail(&hc->st, LSN_ERR_TODEVICE_QUEUE_FULL,
				"messages[%zu]: the recipient device has %lld entries from you waiting "
				"(todevice_max_per_sender); it must fetch them first", index,
				(long long)cap_me);
	if (memcmp(dev->user_id, hc->sess->user, LSN_ID_BYTES) != 0 &&
	    (err = store_todevice_contact(s, hc->sess->user, dev->user_id, hc->now)) != LSN_OK)
		return handler_store_fail(hc, err, "to-device contact");
	return LSN_OK;
}

/* Check and queue one entry of a to_device_send request. With refused (a
 * "partial" request), an entry the bounds refuse is listed there and
 * skipped instead of failing the request. */
static enum lsn_err
queue_one(struct handler_ctx *hc, json_t *item, size_t index, uint8_t *body_buf, json_t *refused)
{
	struct store_todevice t = {0};
	struct store_device dev;
	const char *text = NULL;
	size_t len = 0;
	enum lsn_err err;
	if (!json_is_object(item))
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "messages[%zu]: expected an object", index);
	if ((err = wire_get_id(item, "user", true, t.sender_user, NULL, &hc->st)) ||
	    (err = wire_get_id(item, "device", true, t.recipient, NULL, &hc->st)) ||
	    (err = wire_get_str(item, "body", true, TODEVICE_BODY_MAX / 3 * 4 + 8, &text, &hc->st)))
		return lsn_fail(&hc->st, err, "messages[%zu]: %s", index, hc->st.msg);
	if (!wire_b64_decode(text, body_buf, TODEVICE_BODY_MAX, &len) || len == 0)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"messages[%zu].body: expected base64 of 1 to %d bytes", index,
				TODEVICE_BODY_MAX);
	err = store_device_get(hc->srv->store, t.recipient, &dev);
	if (err == LSN_OK && (memcmp(dev.user_id, t.sender_user, LSN_ID_BYTES) != 0 || dev.revoked_at))
		err = LSN_ERR_NOT_FOUND;
	if (err != LSN_OK)
		return err == LSN_ERR_NOT_FOUND
			       ? lsn_fail(&hc->st, err, "messages[%zu]: no active device with that id "
							"for that user; refresh with op \"keys\"", index)
			       : handler_store_fail(hc, err, "device");
	if ((err = todevice_bounds(hc, &dev, index)) != LSN_OK) {
		if (refused == NULL || (err != LSN_ERR_TODEVICE_NOT_ALLOWED &&
					err != LSN_ERR_TODEVICE_QUEUE_FULL))
			return err;
		metrics_todevice_skipped(err == LSN_ERR_TODEVICE_QUEUE_FULL);
		json_array_append_new(refused, json_pack("{s:I, s:s, s:s}", "index",
							 (json_int_t)index, "code", lsn_err_code(err),
							 "message", hc->st.msg));
		hc->st = (struct lsn_status){0};
		return LSN_OK;
	}
	/* sender_user was used to read the recipient's user; now the real sender */
	memcpy(t.sender_user, hc->sess->user, LSN_ID_BYTES);
	memcpy(t.sender_device, hc->sess->device, LSN_ID_BYTES);
	t.ts = hc->now;
	t.body = body_buf;
	t.body_len = len;
	if ((err = store_todevice_put(hc->srv->store, &t)) != LSN_OK)
		return handler_store_fail(hc, err, "to-device entry");
	return fanout_device(hc, t.recipient, "to_device",
			     json_pack("{s:I, s:o, s:o, s:I, s:o}", "id", (json_int_t)t.id,
				       "sender_user", wire_id(t.sender_user),
				       "sender_device", wire_id(t.sender_device), "ts", (json_int_t)t.ts,
				       "body", wire_b64(body_buf, len)));
}

enum lsn_err
handle_to_device_send(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	json_t *messages = json_object_get(req, "messages");
	if (!json_is_array(messages) || json_array_size(messages) == 0 ||
	    json_array_size(messages) > TODEVICE_BATCH_MAX)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"messages\": expected an array of 1 to %d entries",
				TODEVICE_BATCH_MAX);
	json_t *partial = json_object_get(req, "partial");
	if (partial && !json_is_boolean(partial))
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "field \"partial\": expected true or false");
	uint8_t *body = malloc(TODEVICE_BODY_MAX);
	json_t *refused = json_is_true(partial) ? json_array() : NULL;
	if (body == NULL || (json_is_true(partial) && refused == NULL)) {
		free(body);
		return lsn_fail(&hc->st, LSN_ERR_INTERNAL, NULL);
	}
	enum lsn_err err = LSN_OK;
	for (size_t i = 0; err == LSN_OK && i < json_array_size(messages); i++)
		err = queue_one(hc, json_array_get(messages, i), i, body, refused);
	free(body);
	if (err != LSN_OK) {
		json_decref(refused);
		return err;
	}
	size_t n = json_array_size(messages) - (refused ? json_array_size(refused) : 0);
	json_object_set_new(reply, "count", json_integer((json_int_t)n));
	if (refused)
		json_object_set_new(reply, "refused", refused);
	return LSN_OK;
}

struct td_list {
	json_t *list;
	int count;
};

static void
append_todevice(const struct store_todevice *t, void *arg)
{
	struct td_list *l = arg;
	json_array_append_new(l->list,
		json_pack("{s:I, s:o, s:o, s:I, s:o}", "id", (json_int_t)t->id,
			  "sender_user", wire_id(t->sender_user),
			  "sender_device", wire_id(t->sender_device), "ts", (json_int_t)t->ts,
			  "body", wire_b64(t->body, t->body_len)));
	l->count++;
}

enum lsn_err
handle_to_device_fetch(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	int64_t after = 0, limit = 100;
	enum lsn_err err;
	if ((err = wire_get_int(req, "after", false, 0, WIRE_ID_MAX, &after, &hc->st)) ||
	    (err = wire_get_int(req, "limit", false, 1, TODEVICE_FETCH_MAX, &limit, &hc->st)))
		return err;
	struct td_list l = {.list = json_array()};
	json_object_set_new(reply, "messages", l.list);
	if ((err = store_todevice_list(hc->srv->store, hc->sess->device, after, (int)limit + 1,
				       append_todevice, &l)) != LSN_OK)
		return handler_store_fail(hc, err, "to-device entry");
	handler_page_finish(reply, l.list, limit);
	return LSN_OK;
}

enum lsn_err
handle_to_device_ack(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	int64_t upto = 0, deleted = 0;
	enum lsn_err err = wire_get_int(req, "upto", true, 1, WIRE_ID_MAX, &upto, &hc->st);
	if (err != LSN_OK)
		return err;
	if ((err = store_todevice_ack(hc->srv->store, hc->sess->device, upto, &deleted)) != LSN_OK)
		return handler_store_fail(hc, err, "to-device entry");
	json_object_set_new(reply, "deleted", json_integer(deleted));
	return LSN_OK;
}
