/* transport.c — the conn_* calls of the core, through the transport's
 * operations (transport.h). */
#include <stddef.h>

#include "transport.h"
#include "wire.h"

const struct link_hello *
link_hello(const struct link *c)
{
	return c->ops->hello(c);
}

bool
link_take_challenge(struct link *c, uint8_t out[LSN_CHALLENGE_BYTES])
{
	return c->ops->take_challenge(c, out);
}

enum lsn_err
link_request(struct link *c, const char *op, json_t *body, json_t **reply,
	     struct lsn_status *st)
{
	return c->ops->request(c, op, body, reply, st);
}

bool
link_alive(const struct link *c)
{
	return c != NULL && c->ops->alive(c);
}

json_t *
link_next_event(struct link *c)
{
	return c->ops->next_event(c);
}

bool
link_wait_event(struct link *c, int timeout_ms)
{
	return c->ops->wait_event(c, timeout_ms);
}

void
link_interrupt(struct link *c)
{
	if (c)
		c->ops->interrupt(c);
}

uint64_t
link_events_dropped(const struct link *c)
{
	return c->ops->events_dropped(c);
}

static bool
chunks_binary(const struct link *c)
{
	return c->ops->binary && c->ops->chunk_put && c->ops->chunk_get && c->ops->binary(c);
}

enum lsn_err
link_chunk_put(struct link *c, const char *idem, const uint8_t attachment[LSN_ID_BYTES],
	       int64_t index, const uint8_t *data, size_t len, struct lsn_status *st)
{
	if (chunks_binary(c))
		return c->ops->chunk_put(c, idem, attachment, index, data, len, st);
	json_t *reply = NULL;
	json_t *body = json_pack("{s:s, s:o, s:I, s:o}", "idem", idem, "attachment",
				 wire_id(attachment), "index", (json_int_t)index, "data",
				 wire_b64(data, len));
	if (body == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	enum lsn_err err = c->ops->request(c, "attachment_put", body, &reply, st);
	json_decref(reply);
	return err;
}

enum lsn_err
link_chunk_get(struct link *c, const uint8_t attachment[LSN_ID_BYTES], int64_t index,
	       uint8_t *out, size_t cap, size_t *len, struct lsn_status *st)
{
	if (chunks_binary(c))
		return c->ops->chunk_get(c, attachment, index, out, cap, len, st);
	json_t *reply = NULL;
	json_t *body = json_pack("{s:o, s:I}", "attachment", wire_id(attachment), "index",
				 (json_int_t)index);
	if (body == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	enum lsn_err err = c->ops->request(c, "attachment_get", body, &reply, st);
	if (err == LSN_OK)
		err = link_chunk_from_json(reply, index, out, cap, len, st);
	json_decref(reply);
	return err;
}

enum lsn_err
link_chunk_from_json(json_t *reply, int64_t index, uint8_t *out, size_t cap, size_t *len,
		     struct lsn_status *st)
{
	const char *b64 = NULL;
	if (wire_get_str(reply, "data", true, 4 * (cap / 3 + 1), &b64, st) != LSN_OK ||
	    !wire_b64_decode(b64, out, cap, len))
		return lsn_fail(st, LSN_ERR_BAD_JSON, "chunk %lld of the attachment is malformed",
				(long long)index);
	return LSN_OK;
}

void
link_close(struct link *c)
{
	if (c)
		c->ops->close(c);
}
