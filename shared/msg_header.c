/* msg_header.c — encode and parse the 80-byte group message header. */
#include <string.h>

#include "msg_header.h"
#include "sigs.h"

enum lsn_err
lsn_msg_header_parse(const uint8_t *env, size_t len, struct lsn_msg_header *h,
		     struct lsn_status *st)
{
	if (len < LSN_MSG_MIN_BYTES)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST,
				"envelope of %zu bytes is shorter than the minimum of %d", len,
				LSN_MSG_MIN_BYTES);
	if (len > LSN_MSG_MAX_BYTES)
		return lsn_fail(st, LSN_ERR_TOO_LARGE,
				"envelope of %zu bytes is larger than %d; send documents as attachments",
				len, LSN_MSG_MAX_BYTES);
	if (memcmp(env, "LSN", 3) != 0)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "envelope does not start with \"LSN\"");
	if (env[3] != LSN_MSG_VERSION)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "envelope version %u is not supported",
				env[3]);
	const uint8_t *p = env + 4;
	h->version = env[3];
	memcpy(h->channel, p, LSN_ID_BYTES);
	p += LSN_ID_BYTES;
	memcpy(h->session_id, p, 32);
	p += 32;
	h->index = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	p += 4;
	memcpy(h->sender_device, p, LSN_ID_BYTES);
	p += LSN_ID_BYTES;
	h->ts_ms = 0;
	for (int i = 0; i < 8; i++)
		h->ts_ms = h->ts_ms << 8 | p[i];
	return LSN_OK;
}

void
lsn_msg_header_write(const struct lsn_msg_header *h, uint8_t out[LSN_MSG_HEADER_BYTES])
{
	struct lsn_buf b;
	lsn_buf_init(&b, out, LSN_MSG_HEADER_BYTES);
	lsn_buf_put(&b, "LSN", 3);
	uint8_t version = LSN_MSG_VERSION;
	lsn_buf_put(&b, &version, 1);
	lsn_buf_put(&b, h->channel, LSN_ID_BYTES);
	lsn_buf_put(&b, h->session_id, 32);
	lsn_buf_put_u32(&b, h->index);
	lsn_buf_put(&b, h->sender_device, LSN_ID_BYTES);
	lsn_buf_put_u64(&b, h->ts_ms);
}
