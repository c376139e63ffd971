/* chunk_frame.c — the binary chunk frame's byte layout (chunk_frame.h,
 * docs/PROTOCOL.md "Binary chunk frames"). Integers are big-endian. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "chunk_frame.h"

#define ID_MAX 9007199254740991ULL   /* 2^53 - 1, as WIRE_ID_MAX */

/* offsets */
#define OFF_KIND     0
#define OFF_IDEM_LEN 1
#define OFF_RESERVED 2
#define OFF_ID       4
#define OFF_ATT      12
#define OFF_INDEX    28

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static bool
idem_len_ok(enum chunk_kind kind, size_t n)
{
	return kind == CHUNK_PUT ? n >= 1 && n <= CHUNK_FRAME_IDEM_MAX : n == 0;
}

enum lsn_err
chunk_frame_decode(const uint8_t *buf, size_t len, struct chunk_frame *f, struct lsn_status *st)
{
	memset(f, 0, sizeof *f);
	f->id = -1;
	if (len >= OFF_ATT) {
		uint64_t id = get_be64(buf + OFF_ID);
		if (id <= ID_MAX)
			f->id = (int64_t)id;
	}
	if (len < CHUNK_FRAME_HEADER)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "binary frame of %zu bytes: shorter than "
				"the %d-byte chunk header", len, CHUNK_FRAME_HEADER);
	if (buf[OFF_KIND] != CHUNK_PUT && buf[OFF_KIND] != CHUNK_DATA)
		return lsn_fail(st, LSN_ERR_UNKNOWN_OP, "unknown binary frame kind 0x%02x; "
				"see docs/PROTOCOL.md \"Binary chunk frames\"", buf[OFF_KIND]);
	f->kind = (enum chunk_kind)buf[OFF_KIND];
	if (buf[OFF_RESERVED] != 0 || buf[OFF_RESERVED + 1] != 0)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "binary frame: reserved bytes 2-3 must be zero");
	if (f->id < 0)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "binary frame: id above 2^53-1");
	memcpy(f->attachment, buf + OFF_ATT, LSN_ID_BYTES);
	uint64_t index = get_be64(buf + OFF_INDEX);
	if (index > ID_MAX)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "binary frame: index above 2^53-1");
	f->index = (int64_t)index;
	size_t idem_len = buf[OFF_IDEM_LEN];
	if (!idem_len_ok(f->kind, idem_len))
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, f->kind == CHUNK_PUT
				? "binary frame: idem length %zu, expected 1 to 64"
				: "binary frame: idem length %zu, expected 0 in a chunk reply", idem_len);
	if (len - CHUNK_FRAME_HEADER <= idem_len)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "binary frame of %zu bytes: too short for "
				"its header, an idem key of %zu bytes and at least one data byte",
				len, idem_len);
	f->idem = idem_len ? buf + CHUNK_FRAME_HEADER : NULL;
	f->idem_len = idem_len;
	f->data = buf + CHUNK_FRAME_HEADER + idem_len;
	f->data_len = len - CHUNK_FRAME_HEADER - idem_len;
	return LSN_OK;
}

size_t
chunk_frame_size(size_t idem_len, size_t data_len)
{
	return CHUNK_FRAME_HEADER + idem_len + data_len;
}

size_t
chunk_frame_encode_header(const struct chunk_frame *f, uint8_t *out, size_t cap)
{
	if ((f->kind != CHUNK_PUT && f->kind != CHUNK_DATA) || !idem_len_ok(f->kind, f->idem_len) ||
	    (f->idem_len && f->idem == NULL) || f->id < 0 || (uint64_t)f->id > ID_MAX ||
	    f->index < 0 || (uint64_t)f->index > ID_MAX || f->data_len == 0 ||
	    cap < CHUNK_FRAME_HEADER + f->idem_len)
		return 0;
	out[OFF_KIND] = (uint8_t)f->kind;
	out[OFF_IDEM_LEN] = (uint8_t)f->idem_len;
	out[OFF_RESERVED] = out[OFF_RESERVED + 1] = 0;
	put_be64(out + OFF_ID, (uint64_t)f->id);
	memcpy(out + OFF_ATT, f->attachment, LSN_ID_BYTES);
	put_be64(out + OFF_INDEX, (uint64_t)f->index);
	if (f->idem_len)
		memcpy(out + CHUNK_FRAME_HEADER, f->idem, f->idem_len);
	return CHUNK_FRAME_HEADER + f->idem_len;
}

size_t
chunk_frame_encode(const struct chunk_frame *f, uint8_t *out, size_t cap)
{
	size_t head = chunk_frame_encode_header(f, out, cap);
	if (head == 0 || cap - head < f->data_len || f->data == NULL)
		return 0;
	memcpy(out + head, f->data, f->data_len);
	return head + f->data_len;
}
