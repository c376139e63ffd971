/* wire.h — the JSON wire codec (docs/PROTOCOL.md): requests, replies, events,
 * and checked field access. Built on jansson; every getter bounds its input and
 * names the offending field in its error message. */
#ifndef LSN_WIRE_H
#define LSN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "ident.h"

#define LSN_PROTOCOL_NAME    "liaison.v1"
#define LSN_PROTOCOL_VERSION 1
#define WIRE_ID_MAX          9007199254740991LL /* 2^53 - 1: exact in every JSON reader */
#define WIRE_OP_MAX          64
#define WIRE_IDEM_MAX        64

/* A decoded request; root is owned and freed by wire_request_free. */
struct wire_request {
	json_t *root;
	int64_t id;        /* -1 when the frame carried no usable id */
	const char *op;    /* points into root */
};

/* Parse one text frame as a request. On error, req->id is still set when the
 * frame had a valid id, so the reply can carry it. */
enum lsn_err wire_decode_request(const char *buf, size_t len, struct wire_request *req,
				 struct lsn_status *st);
void wire_request_free(struct wire_request *req);

/* A decoded server frame (client side). */
enum wire_frame_kind { WIRE_REPLY, WIRE_EVENT };
struct wire_frame {
	json_t *root;
	enum wire_frame_kind kind;
	int64_t id;               /* replies */
	bool ok;                  /* replies */
	enum lsn_err err;         /* replies with ok=false */
	const char *err_code;     /* as sent, points into root */
	const char *err_message;  /* points into root */
	const char *ev;           /* events */
};
enum lsn_err wire_decode_frame(const char *buf, size_t len, struct wire_frame *fr,
			       struct lsn_status *st);
/* The same, from a parsed value; takes ownership of root (NULL allowed:
 * an unparsable frame). */
enum lsn_err wire_decode_json(json_t *root, struct wire_frame *fr, struct lsn_status *st);
void wire_frame_free(struct wire_frame *fr);
/* Parse a frame's text (NULL when it is not JSON). */
json_t *wire_load_frame(const char *buf, size_t len);
/* A coalesced frame {"batch":[F1,F2,...]} (PROTOCOL.md "Coalesced frames"):
 * its array, borrowed from root; NULL for any other frame. */
json_t *wire_batch_items(const json_t *root);

/* Encoders return malloc'd compact JSON text (caller frees) and set *len.
 * body is stolen (may be NULL for an empty body); its keys are merged into
 * the frame object. NULL on allocation failure. */
char *wire_encode_request(int64_t id, const char *op, json_t *body, size_t *len);
char *wire_encode_reply_ok(int64_t id, json_t *body, size_t *len);
char *wire_encode_reply_err(int64_t id, enum lsn_err err, const char *message, size_t *len);
char *wire_encode_event(const char *ev, json_t *body, size_t *len);
/* The compact, key-order-preserving text of a JSON object or array
 * (malloc'd, caller frees; *len set when len is not NULL), or NULL. Up to
 * 4 KiB it costs one allocation, where json_dumps grows its buffer from 16
 * bytes (about 8 allocations for a 1 KiB frame). */
char *wire_dump(const json_t *v, size_t *len);

/* Field access. Each returns LSN_OK, or LSN_ERR_BAD_REQUEST with st->msg naming
 * the field. Optional fields (required=false) leave *out untouched when absent
 * or null and return LSN_OK. */
enum lsn_err wire_get_str(json_t *obj, const char *field, bool required, size_t max_len,
			  const char **out, struct lsn_status *st);
enum lsn_err wire_get_text(json_t *obj, const char *field, bool required, size_t max_len,
			   const char **out, struct lsn_status *st); /* display text: no controls */
enum lsn_err wire_get_int(json_t *obj, const char *field, bool required, int64_t min,
			  int64_t max, int64_t *out, struct lsn_status *st);
enum lsn_err wire_get_bool(json_t *obj, const char *field, bool required, bool *out,
			   struct lsn_status *st);
enum lsn_err wire_get_id(json_t *obj, const char *field, bool required,
			 uint8_t out[LSN_ID_BYTES], bool *present, struct lsn_status *st);
/* Standard base64 with padding, decoding to exactly want bytes. */
enum lsn_err wire_get_b64(json_t *obj, const char *field, bool required, uint8_t *out,
			  size_t want, struct lsn_status *st);

/* JSON values for binary data. NULL on allocation failure. */
json_t *wire_b64(const uint8_t *data, size_t len);
json_t *wire_id(const uint8_t id[LSN_ID_BYTES]);

/* Base64 (standard, padded) decode into out (cap bytes); true on exact success. */
bool wire_b64_decode(const char *text, uint8_t *out, size_t cap, size_t *out_len);

#endif
