/* chunk_frame.h — the binary WebSocket frame that carries one attachment
 * chunk (docs/PROTOCOL.md "Binary chunk frames"): a fixed 36-byte header,
 * the idempotency key of an upload, then the chunk's ciphertext as raw
 * bytes. The one place that knows this layout: the server (dispatch.c,
 * handle_attachment.c), the CLI (client/net/link.c) and liaison-bench
 * encode and decode it only through these functions.
 *
 * Contract: pure byte codec, no allocation, no I/O. The decoder bounds
 * every read by len, never trusts a length it did not check, and on error
 * names the fault in st (with the frame's id in f->id when the header got
 * that far, -1 otherwise). Decoded pointers point into the caller's
 * buffer. Attachment-level limits (max_chunk, the number of chunks) are the
 * handler's, as for the JSON form. */
#ifndef LSN_CHUNK_FRAME_H
#define LSN_CHUNK_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ident.h"

#define CHUNK_FRAME_HEADER   36        /* bytes before the idem key */
#define CHUNK_FRAME_IDEM_MAX 64        /* = WIRE_IDEM_MAX */

enum chunk_kind {
	CHUNK_PUT = 0x01,   /* client → server: attachment_put */
	CHUNK_DATA = 0x02,  /* server → client: the reply to attachment_get */
};

struct chunk_frame {
	enum chunk_kind kind;
	int64_t id;                         /* request id, 0 .. 2^53-1; -1 unread */
	uint8_t attachment[LSN_ID_BYTES];
	int64_t index;                      /* 0 .. 2^53-1 */
	const uint8_t *idem;                /* CHUNK_PUT: 1..64 bytes; CHUNK_DATA: none */
	size_t idem_len;
	const uint8_t *data;                /* the ciphertext, at least 1 byte */
	size_t data_len;
};

/* Decode one binary frame. LSN_OK, or LSN_ERR_BAD_REQUEST (short header,
 * nonzero reserved bytes, id or index out of range, idem length wrong for
 * the kind, no data) or LSN_ERR_UNKNOWN_OP (an unknown kind), with st->msg
 * saying which. */
enum lsn_err chunk_frame_decode(const uint8_t *buf, size_t len, struct chunk_frame *f,
				struct lsn_status *st);

/* Bytes of the whole frame for these lengths. */
size_t chunk_frame_size(size_t idem_len, size_t data_len);

/* Write the header and the idem key of f (not the data) to out; returns
 * the bytes written (CHUNK_FRAME_HEADER + f->idem_len), the data then
 * goes right after. 0 when cap is short or f is out of range (the same
 * rules as the decoder, data_len included). */
size_t chunk_frame_encode_header(const struct chunk_frame *f, uint8_t *out, size_t cap);

/* The whole frame, data included; 0 as above. */
size_t chunk_frame_encode(const struct chunk_frame *f, uint8_t *out, size_t cap);

#endif
