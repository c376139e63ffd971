/* handle_message.c — message envelopes (send, catch-up) and receipts. The
 * server reads only the envelope's cleartext header (shared/msg_header.h). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fanout.h"
#include "handlers.h"
#include "msg_header.h"
#include "wire.h"

#define MESSAGES_LIMIT_MAX 500

/* Decode base64 field into a malloc'd buffer of at most max bytes. */
static enum lsn_err
get_blob(struct handler_ctx *hc, json_t *req, const char *field, size_t max, uint8_t **out,
	 size_t *len)
{
	const char *text = NULL;
	enum lsn_err err = wire_get_str(req, field, true, max / 3 * 4 + 8, &text, &hc->st);
	if (err != LSN_OK)
		return err == LSN_ERR_BAD_REQUEST && strstr(hc->st.msg, "longer than")
			       ? lsn_fail(&hc->st, LSN_ERR_TOO_LARGE, "field \"%s\": more than %zu bytes",
					  field, max)
			       : err;
	/* sized by the text, not by max: no 64 KiB buffer per 512-byte message */
	size_t cap = strlen(text) / 4 * 3 + 3;
	if (cap > max)
		cap = max;
	*out = malloc(cap + 1);
	if (*out == NULL)
		return lsn_fail(&hc->st, LSN_ERR_INTERNAL, NULL);
	if (!wire_b64_decode(text, *out, cap, len)) {
		free(*out);
		*out = NULL;
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"%s\": expected standard base64 of at most %zu bytes", field, max);
	}
	return LSN_OK;
}

static enum lsn_err
require_current_member(struct handler_ctx *hc, const uint8_t channel[LSN_ID_BYTES])
{
	struct store_member me;
	enum lsn_err err = handler_channel_access(hc, channel, &me);
	if (err == LSN_OK && !me.current)
		err = lsn_fail(&hc->st, LSN_ERR_FORBIDDEN,
			       "you are no longer a member of this channel");
	return err;
}

enum lsn_err
handle_send(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	uint8_t channel[LSN_ID_BYTES], *env = NULL;
	size_t len = 0;
	struct lsn_msg_header h;
	enum lsn_err err;
	if ((err = wire_get_id(req, "channel", true, channel, NULL, &hc->st)) ||
	    (err = require_current_member(hc, channel)) ||
	    (err = get_blob(hc, req, "envelope", LSN_MSG_MAX_BYTES, &env, &len)))
		return err;
	err = lsn_msg_header_parse(env, len, &h, &hc->st);
	if (err == LSN_OK && memcmp(h.channel, channel, LSN_ID_BYTES) != 0)
		err = lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
			       "the envelope's header names another channel than the request");
	if (err == LSN_OK && memcmp(h.sender_device, hc->sess->device, LSN_ID_BYTES) != 0)
		err = lsn_fail(&hc->st, LSN_ERR_FORBIDDEN,
			       "the envelope's sender device is not the logged-in device");
	struct store_message m = {0};
	if (err == LSN_OK) {
		memcpy(m.channel, channel, LSN_ID_BYTES);
		memcpy(m.sender_user, hc->sess->user, LSN_ID_BYTES);
		memcpy(m.sender_device, hc->sess->device, LSN_ID_BYTES);
		m.ts = hc->now;
		m.envelope = env;
		m.envelope_len = len;
		err = store_message_append(hc->srv->store, &m);
		if (err != LSN_OK)
			err = handler_store_fail(hc, err, "channel");
	}
	if (err == LSN_OK)
		err = fanout_channel(hc, channel, "message", render_message(&m), NULL);
	free(env);
	if (err != LSN_OK)
		return err;
	json_object_set_new(reply, "channel", wire_id(channel));
	json_object_set_new(reply, "seq", json_integer(m.seq));
	json_object_set_new(reply, "ts", json_integer(m.ts));
	return LSN_OK;
}

struct msg_list {
	json_t *list;
	int count;
	int64_t last;
};

static void
append_message(const struct store_message *m, void *arg)
{
	struct msg_list *l = arg;
	json_array_append_new(l->list, render_message(m));
	l->count++;
	l->last = m->seq;
}

enum lsn_err
handle_messages(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	uint8_t channel[LSN_ID_BYTES];
	int64_t after = 0, limit = 200;
	struct store_member me;
	struct store_channel c;
	enum lsn_err err;
	if ((err = wire_get_id(req, "channel", true, channel, NULL, &hc->st)) ||
	    (err = wire_get_int(req, "after", false, 0, WIRE_ID_MAX, &after, &hc->st)) ||
	    (err = wire_get_int(req, "limit", false, 1, MESSAGES_LIMIT_MAX, &limit, &hc->st)) ||
	    (err = handler_channel_access(hc, channel, &me)))
		return err;
	if ((err = store_channel_get(hc->srv->store, channel, &c)) != LSN_OK)
		return handler_store_fail(hc, err, "channel");
	int64_t upto = me.current ? c.last_seq : me.left_msg_seq;
	struct msg_list l = {.list = json_array()};
	json_object_set_new(reply, "channel", wire_id(channel));
	json_object_set_new(reply, "last_seq", json_integer(upto));
	json_object_set_new(reply, "messages", l.list);
	/* ask for one more than the limit to know whether there is more */
	if ((err = store_message_list(hc->srv->store, channel, after, upto, (int)limit + 1,
				      append_message, &l)) != LSN_OK)
		return handler_store_fail(hc, err, "channel");
	handler_page_finish(reply, l.list, limit);
	return LSN_OK;
}

enum lsn_err
handle_receipt(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	uint8_t channel[LSN_ID_BYTES];
	const char *kind = NULL;
	int64_t seq = 0;
	struct store_channel c;
	enum lsn_err err;
	if ((err = wire_get_id(req, "channel", true, channel, NULL, &hc->st)) ||
	    (err = wire_get_str(req, "kind", true, 16, &kind, &hc->st)) ||
	    (err = wire_get_int(req, "seq", true, 1, WIRE_ID_MAX, &seq, &hc->st)) ||
	    (err = require_current_member(hc, channel)))
		return err;
	bool read = strcmp(kind, "read") == 0;
	if (!read && strcmp(kind, "delivered") != 0)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"kind\": expected \"delivered\" or \"read\"");
	if ((err = store_channel_get(hc->srv->store, channel, &c)) != LSN_OK)
		return handler_store_fail(hc, err, "channel");
	if (seq > c.last_seq)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"seq\": message %lld does not exist yet (last is %lld)",
				(long long)seq, (long long)c.last_seq);
	bool changed = false;
	if ((err = store_receipt_raise(hc->srv->store, channel, hc->sess->user, read, seq, hc->now,
				       &changed)) != LSN_OK)
		return handler_store_fail(hc, err, "receipt");
	if (changed)
		return fanout_channel(hc, channel, "receipt",
				      json_pack("{s:o, s:o, s:s, s:I}", "channel", wire_id(channel),
						"user", wire_id(hc->sess->user), "kind", kind,
						"seq", (json_int_t)seq), NULL);
	return LSN_OK;
}

struct receipt_list {
	json_t *list;
	int64_t upto;   /* former members: last message they may know of; -1: no cap */
};

static void
append_receipt(const uint8_t user[LSN_ID_BYTES], int64_t delivered, int64_t read, void *arg)
{
	struct receipt_list *l = arg;
	/* a former member must not learn how far the channel went after they left */
	if (l->upto >= 0) {
		delivered = delivered < l->upto ? delivered : l->upto;
		read = read < l->upto ? read : l->upto;
	}
	json_array_append_new(l->list, json_pack("{s:o, s:I, s:I}", "user", wire_id(user),
						 "delivered", (json_int_t)delivered,
						 "read", (json_int_t)read));
}

enum lsn_err
handle_receipts(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	uint8_t channel[LSN_ID_BYTES];
	struct store_member me;
	enum lsn_err err;
	if ((err = wire_get_id(req, "channel", true, channel, NULL, &hc->st)) ||
	    (err = handler_channel_access(hc, channel, &me)))
		return err;
	struct receipt_list l = {.list = json_array(), .upto = me.current ? -1 : me.left_msg_seq};
	json_object_set_new(reply, "channel", wire_id(channel));
	json_object_set_new(reply, "receipts", l.list);
	err = store_receipt_list(hc->srv->store, channel, append_receipt, &l);
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "receipt");
}
