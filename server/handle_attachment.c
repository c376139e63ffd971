/* handle_attachment.c — encrypted attachments in chunks: begin, put,
 * finish, info, get. Only members of the attachment's channel may touch it;
 * the bytes are ciphertext the server cannot read. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fanout.h"
#include "handlers.h"
#include "wire.h"

#define ATTACH_MAX_CHUNK (65536 + crypto_secretstream_xchacha20poly1305_ABYTES)

/* The attachment, if the caller may read it (uploads: and is its uploader). */
static enum lsn_err
attachment_access(struct handler_ctx *hc, json_t *req, struct store_attachment *a, bool upload)
{
	uint8_t id[LSN_ID_BYTES];
	struct store_member me;
	enum lsn_err err = wire_get_id(req, "attachment", true, id, NULL, &hc->st);
	if (err != LSN_OK)
		return err;
	err = store_attachment_get(hc->srv->store, id, a);
	/* outsiders, former members included, cannot even learn it exists */
	if (err == LSN_OK && (store_member_get(hc->srv->store, a->channel, hc->sess->user, &me) != LSN_OK ||
			      !me.current))
		err = LSN_ERR_NOT_FOUND;
	if (err == LSN_ERR_NOT_FOUND)
		return lsn_fail(&hc->st, err, "no such attachment in your channels");
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "attachment");
	if (upload && (memcmp(a->uploader, hc->sess->user, LSN_ID_BYTES) != 0 || a->complete))
		return lsn_fail(&hc->st, LSN_ERR_FORBIDDEN,
				a->complete ? "this attachment is complete and can no longer change"
					    : "only the uploader may upload this attachment");
	return LSN_OK;
}

enum lsn_err
handle_attachment_begin(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_attachment a = {0};
	struct store_member me;
	int64_t max = (int64_t)hc->srv->cfg->attachment_max;
	enum lsn_err err;
	if ((err = wire_get_id(req, "attachment", true, a.id, NULL, &hc->st)) ||
	    (err = wire_get_id(req, "channel", true, a.channel, NULL, &hc->st)) ||
	    (err = wire_get_int(req, "size", true, 1, WIRE_ID_MAX, &a.size, &hc->st)) ||
	    (err = wire_get_int(req, "chunks", true, 1, WIRE_ID_MAX, &a.chunks, &hc->st)) ||
	    (err = handler_channel_access(hc, a.channel, &me)))
		return err;
	if (!me.current)
		return lsn_fail(&hc->st, LSN_ERR_FORBIDDEN, "you are no longer a member of this channel");
	if (a.size > max)
		return lsn_fail(&hc->st, LSN_ERR_TOO_LARGE,
				"the attachment is %lld bytes; this server accepts at most %lld",
				(long long)a.size, (long long)max);
	if (a.chunks > a.size / 17 + 1 || a.size > a.chunks * (int64_t)ATTACH_MAX_CHUNK)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"%lld chunks cannot hold %lld bytes (at most %d bytes a chunk)",
				(long long)a.chunks, (long long)a.size, (int)ATTACH_MAX_CHUNK);
	/* storage_quota (docs/OPERATIONS.md, "Bounds"): what this user's
	 * attachments take, finished or reserved, plus this one */
	uint64_t quota = hc->srv->cfg->storage_quota;
	int64_t used = 0;
	if (quota && (err = store_attachment_usage(hc->srv->store, hc->sess->user, &used)) != LSN_OK)
		return handler_store_fail(hc, err, "attachment");
	if (quota && (uint64_t)used + (uint64_t)a.size > quota)
		return lsn_fail(&hc->st, LSN_ERR_STORAGE_QUOTA,
				"your attachments take %lld bytes; %lld more would pass your quota of "
				"%llu bytes (storage_quota)", (long long)used, (long long)a.size,
				(unsigned long long)quota);
	memcpy(a.uploader, hc->sess->user, LSN_ID_BYTES);
	a.created_at = hc->now;
	if ((err = store_attachment_create(hc->srv->store, &a)) != LSN_OK)
		return err == LSN_ERR_CONFLICT
			       ? lsn_fail(&hc->st, err, "an attachment with this id exists; pick a new random id")
			       : handler_store_fail(hc, err, "attachment");
	json_object_set_new(reply, "attachment", wire_id(a.id));
	json_object_set_new(reply, "max_chunk", json_integer(ATTACH_MAX_CHUNK));
	return LSN_OK;
}

enum lsn_err
handle_attachment_put(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_attachment a;
	int64_t index = 0;
	const char *text = NULL;
	enum lsn_err err;
	if ((err = attachment_access(hc, req, &a, true)) ||
	    (err = wire_get_int(req, "index", true, 0, WIRE_ID_MAX, &index, &hc->st)) ||
	    (hc->chunk_in == NULL &&
	     (err = wire_get_str(req, "data", true, ATTACH_MAX_CHUNK / 3 * 4 + 8, &text, &hc->st))))
		return err;
	if (index >= a.chunks)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "field \"index\": the attachment has %lld chunks",
				(long long)a.chunks);
	if (hc->chunk_in) { /* a binary frame: the bytes as they came */
		if (hc->chunk_in_len > ATTACH_MAX_CHUNK)
			return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "binary chunk of %zu bytes; "
					"at most %d", hc->chunk_in_len, (int)ATTACH_MAX_CHUNK);
		err = store_attachment_put_chunk(hc->srv->store, a.id, index, hc->chunk_in,
						 hc->chunk_in_len);
		if (err != LSN_OK)
			return handler_store_fail(hc, err, "chunk");
		json_object_set_new(reply, "index", json_integer(index));
		return LSN_OK;
	}
	uint8_t *data = malloc(ATTACH_MAX_CHUNK);
	size_t len = 0;
	if (data == NULL)
		return lsn_fail(&hc->st, LSN_ERR_INTERNAL, NULL);
	if (!wire_b64_decode(text, data, ATTACH_MAX_CHUNK, &len) || len == 0)
		err = lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
			       "field \"data\": expected base64 of 1 to %d bytes", (int)ATTACH_MAX_CHUNK);
	else if ((err = store_attachment_put_chunk(hc->srv->store, a.id, index, data, len)) != LSN_OK)
		err = handler_store_fail(hc, err, "chunk");
	free(data);
	if (err != LSN_OK)
		return err;
	json_object_set_new(reply, "index", json_integer(index));
	return LSN_OK;
}

enum lsn_err
handle_attachment_finish(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_attachment a;
	uint8_t hash[32];
	enum lsn_err err;
	if ((err = attachment_access(hc, req, &a, true)) ||
	    (err = wire_get_b64(req, "hash", true, hash, sizeof hash, &hc->st)))
		return err;
	if ((err = store_attachment_finish(hc->srv->store, a.id, hash, &hc->st)) != LSN_OK)
		return err == LSN_ERR_CONFLICT ? err : handler_store_fail(hc, err, "attachment");
	json_object_set_new(reply, "attachment", wire_id(a.id));
	json_object_set_new(reply, "size", json_integer(a.size));
	return LSN_OK;
}

enum lsn_err
handle_attachment_info(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_attachment a;
	enum lsn_err err = attachment_access(hc, req, &a, false);
	if (err != LSN_OK)
		return err;
	json_object_set_new(reply, "attachment", wire_id(a.id));
	json_object_set_new(reply, "channel", wire_id(a.channel));
	json_object_set_new(reply, "size", json_integer(a.size));
	json_object_set_new(reply, "chunks", json_integer(a.chunks));
	json_object_set_new(reply, "complete", json_boolean(a.complete));
	return LSN_OK;
}

enum lsn_err
handle_attachment_get(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_attachment a;
	int64_t index = 0;
	uint8_t *data = NULL;
	size_t len = 0;
	enum lsn_err err;
	if ((err = attachment_access(hc, req, &a, false)) ||
	    (err = wire_get_int(req, "index", true, 0, WIRE_ID_MAX, &index, &hc->st)))
		return err;
	if (!a.complete)
		return lsn_fail(&hc->st, LSN_ERR_NOT_FOUND, "the attachment is still being uploaded");
	if ((err = store_attachment_get_chunk(hc->srv->store, a.id, index, &data, &len)) != LSN_OK)
		return handler_store_fail(hc, err, "chunk");
	json_object_set_new(reply, "index", json_integer(index));
	if (hc->sess->binary) { /* dispatch.c sends it as a binary chunk frame */
		hc->chunk_out = data;
		hc->chunk_out_len = len;
		return LSN_OK;
	}
	json_object_set_new(reply, "data", wire_b64(data, len));
	free(data);
	return LSN_OK;
}
