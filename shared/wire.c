/* wire.c — JSON wire codec: request/frame decoding, encoders, field getters. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "wire.h"

#define DECODE_FLAGS (JSON_REJECT_DUPLICATES)

#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)
#define DUMP_STACK 4096   /* a text up to this is written on the stack first */

/* A usual frame is written into a stack buffer and copied out once; a
 * larger one goes through json_dumps as before. */
char *
wire_dump(const json_t *v, size_t *len)
{
	char buf[DUMP_STACK];
	if (v == NULL)
		return NULL;
	size_t n = json_dumpb(v, buf, sizeof buf, DUMP_FLAGS);
	if (n == 0)
		return NULL;
	char *text;
	if (n <= sizeof buf) {
		if ((text = malloc(n + 1)) == NULL)
			return NULL;
		memcpy(text, buf, n);
		text[n] = '\0';
	} else if ((text = json_dumps(v, DUMP_FLAGS)) == NULL) {
		return NULL;
	} else {
		n = strlen(text);
	}
	if (len)
		*len = n;
	return text;
}

/* Compact, key-order-preserving encoding of obj; takes a reference from obj. */
static char *
encode_steal(json_t *obj, size_t *len)
{
	if (obj == NULL)
		return NULL;
	char *text = wire_dump(obj, len);
	json_decref(obj);
	return text;
}

static bool
merge_body(json_t *frame, json_t *body)
{
	if (body == NULL)
		return true;
	bool ok = json_is_object(body) && json_object_update(frame, body) == 0;
	json_decref(body);
	return ok;
}

enum lsn_err
wire_decode_request(const char *buf, size_t len, struct wire_request *req,
		    struct lsn_status *st)
{
	json_error_t jerr;
	memset(req, 0, sizeof *req);
	req->id = -1;
	req->root = json_loadb(buf, len, DECODE_FLAGS, &jerr);
	if (req->root == NULL)
		return lsn_fail(st, LSN_ERR_BAD_JSON, "not valid JSON (line %d, column %d): %s",
				jerr.line, jerr.column, jerr.text);
	if (!json_is_object(req->root))
		return lsn_fail(st, LSN_ERR_BAD_JSON, "a request must be a JSON object");

	json_t *id = json_object_get(req->root, "id");
	if (!json_is_integer(id) || json_integer_value(id) < 0 ||
	    json_integer_value(id) > WIRE_ID_MAX)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST,
				"field \"id\": expected an integer from 0 to 2^53-1");
	req->id = json_integer_value(id);

	json_t *op = json_object_get(req->root, "op");
	if (!json_is_string(op) || json_string_length(op) == 0 ||
	    json_string_length(op) > WIRE_OP_MAX)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "field \"op\": expected the op name as a string");
	req->op = json_string_value(op);
	return LSN_OK;
}

void
wire_request_free(struct wire_request *req)
{
	json_decref(req->root);
	memset(req, 0, sizeof *req);
	req->id = -1;
}

static enum lsn_err
decode_reply(struct wire_frame *fr, json_t *id, struct lsn_status *st)
{
	fr->kind = WIRE_REPLY;
	fr->id = json_is_integer(id) ? json_integer_value(id) : -1;
	json_t *ok = json_object_get(fr->root, "ok");
	if (!json_is_boolean(ok))
		return lsn_fail(st, LSN_ERR_BAD_JSON, "reply without a boolean \"ok\"");
	fr->ok = json_is_true(ok);
	if (fr->ok)
		return LSN_OK;
	json_t *error = json_object_get(fr->root, "error");
	const char *code = json_string_value(json_object_get(error, "code"));
	const char *message = json_string_value(json_object_get(error, "message"));
	if (code == NULL)
		return lsn_fail(st, LSN_ERR_BAD_JSON, "error reply without a code");
	fr->err_code = code;
	fr->err_message = message ? message : "";
	fr->err = lsn_err_from_code(code);
	return LSN_OK;
}

enum lsn_err
wire_decode_frame(const char *buf, size_t len, struct wire_frame *fr, struct lsn_status *st)
{
	json_error_t jerr;
	return wire_decode_json(json_loadb(buf, len, DECODE_FLAGS, &jerr), fr, st);
}

enum lsn_err
wire_decode_json(json_t *root, struct wire_frame *fr, struct lsn_status *st)
{
	memset(fr, 0, sizeof *fr);
	fr->id = -1;
	fr->root = root;
	if (!json_is_object(fr->root))
		return lsn_fail(st, LSN_ERR_BAD_JSON, "server sent a frame that is not a JSON object");
	json_t *ev = json_object_get(fr->root, "ev");
	if (json_is_string(ev)) {
		fr->kind = WIRE_EVENT;
		fr->ev = json_string_value(ev);
		return LSN_OK;
	}
	json_t *id = json_object_get(fr->root, "id");
	if (id == NULL)
		return lsn_fail(st, LSN_ERR_BAD_JSON, "server frame is neither a reply nor an event");
	return decode_reply(fr, id, st);
}

json_t *
wire_load_frame(const char *buf, size_t len)
{
	json_error_t jerr;
	return json_loadb(buf, len, DECODE_FLAGS, &jerr);
}

json_t *
wire_batch_items(const json_t *root)
{
	json_t *items = json_is_object(root) && json_object_size(root) == 1
				? json_object_get(root, "batch") : NULL;
	return json_is_array(items) ? items : NULL;
}

void
wire_frame_free(struct wire_frame *fr)
{
	json_decref(fr->root);
	memset(fr, 0, sizeof *fr);
}

char *
wire_encode_request(int64_t id, const char *op, json_t *body, size_t *len)
{
	json_t *frame = json_pack("{sIss}", "id", (json_int_t)id, "op", op);
	if (frame == NULL || !merge_body(frame, body)) {
		json_decref(frame);
		return NULL;
	}
	/* id and op stay authoritative even if body carried them */
	json_object_set_new(frame, "id", json_integer(id));
	json_object_set_new(frame, "op", json_string(op));
	return encode_steal(frame, len);
}

char *
wire_encode_reply_ok(int64_t id, json_t *body, size_t *len)
{
	json_t *frame = id >= 0 ? json_pack("{sIsb}", "id", (json_int_t)id, "ok", 1)
				: json_pack("{snsb}", "id", "ok", 1);
	if (frame == NULL || !merge_body(frame, body)) {
		json_decref(frame);
		return NULL;
	}
	/* the envelope stays authoritative even if body carried these keys */
	json_object_set_new(frame, "id", id >= 0 ? json_integer(id) : json_null());
	json_object_set_new(frame, "ok", json_true());
	return encode_steal(frame, len);
}

char *
wire_encode_reply_err(int64_t id, enum lsn_err err, const char *message, size_t *len)
{
	json_t *error = json_pack("{ssss}", "code", lsn_err_code(err), "message",
				  message && *message ? message : lsn_err_message(err));
	if (error == NULL) /* message was not valid UTF-8: fall back to the table */
		error = json_pack("{ssss}", "code", lsn_err_code(err), "message",
				  lsn_err_message(err));
	json_t *frame = id >= 0 ? json_pack("{sIsbso}", "id", (json_int_t)id, "ok", 0, "error", error)
				: json_pack("{snsbso}", "id", "ok", 0, "error", error);
	return encode_steal(frame, len);
}

char *
wire_encode_event(const char *ev, json_t *body, size_t *len)
{
	json_t *frame = json_pack("{ss}", "ev", ev);
	if (frame == NULL || !merge_body(frame, body)) {
		json_decref(frame);
		return NULL;
	}
	json_object_set_new(frame, "ev", json_string(ev));
	return encode_steal(frame, len);
}

/* ---- field getters ------------------------------------------------------ */

static json_t *
field_value(json_t *obj, const char *field)
{
	json_t *v = json_object_get(obj, field);
	return json_is_null(v) ? NULL : v;
}

static enum lsn_err
missing(const char *field, bool required, struct lsn_status *st)
{
	if (!required)
		return LSN_OK;
	return lsn_fail(st, LSN_ERR_BAD_REQUEST, "field \"%s\" is required", field);
}

enum lsn_err
wire_get_str(json_t *obj, const char *field, bool required, size_t max_len,
	     const char **out, struct lsn_status *st)
{
	json_t *v = field_value(obj, field);
	if (v == NULL)
		return missing(field, required, st);
	if (!json_is_string(v))
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "field \"%s\": expected a string", field);
	size_t len = json_string_length(v);
	if (len > max_len)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "field \"%s\": longer than %zu bytes",
				field, max_len);
	if (strlen(json_string_value(v)) != len)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "field \"%s\": contains a NUL character",
				field);
	*out = json_string_value(v);
	return LSN_OK;
}

enum lsn_err
wire_get_text(json_t *obj, const char *field, bool required, size_t max_len,
	      const char **out, struct lsn_status *st)
{
	const char *s = NULL;
	enum lsn_err err = wire_get_str(obj, field, required, max_len, &s, st);
	if (err != LSN_OK || s == NULL)
		return err;
	if (!lsn_display_text_valid(s, max_len))
		return lsn_fail(st, LSN_ERR_BAD_REQUEST,
				"field \"%s\": must be non-empty text without control characters",
				field);
	*out = s;
	return LSN_OK;
}

enum lsn_err
wire_get_int(json_t *obj, const char *field, bool required, int64_t min, int64_t max,
	     int64_t *out, struct lsn_status *st)
{
	json_t *v = field_value(obj, field);
	if (v == NULL)
		return missing(field, required, st);
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST,
				"field \"%s\": expected an integer from %lld to %lld", field,
				(long long)min, (long long)max);
	*out = json_integer_value(v);
	return LSN_OK;
}

enum lsn_err
wire_get_bool(json_t *obj, const char *field, bool required, bool *out, struct lsn_status *st)
{
	json_t *v = field_value(obj, field);
	if (v == NULL)
		return missing(field, required, st);
	if (!json_is_boolean(v))
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "field \"%s\": expected true or false", field);
	*out = json_is_true(v);
	return LSN_OK;
}

enum lsn_err
wire_get_id(json_t *obj, const char *field, bool required, uint8_t out[LSN_ID_BYTES],
	    bool *present, struct lsn_status *st)
{
	if (present)
		*present = false;
	json_t *v = field_value(obj, field);
	if (v == NULL)
		return missing(field, required, st);
	if (!json_is_string(v) || !lsn_id_from_hex(json_string_value(v), out))
		return lsn_fail(st, LSN_ERR_BAD_REQUEST,
				"field \"%s\": expected an id of 32 lowercase hex characters", field);
	if (present)
		*present = true;
	return LSN_OK;
}

bool
wire_b64_decode(const char *text, uint8_t *out, size_t cap, size_t *out_len)
{
	const char *end = NULL;
	size_t len = strlen(text);
	if (sodium_base642bin(out, cap, text, len, NULL, out_len, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	return end == text + len;
}

enum lsn_err
wire_get_b64(json_t *obj, const char *field, bool required, uint8_t *out, size_t want,
	     struct lsn_status *st)
{
	json_t *v = field_value(obj, field);
	if (v == NULL)
		return missing(field, required, st);
	size_t got = 0;
	if (!json_is_string(v) ||
	    json_string_length(v) != sodium_base64_ENCODED_LEN(want, sodium_base64_VARIANT_ORIGINAL) - 1 ||
	    !wire_b64_decode(json_string_value(v), out, want, &got) || got != want)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST,
				"field \"%s\": expected %zu bytes in standard base64", field, want);
	return LSN_OK;
}

json_t *
wire_b64(const uint8_t *data, size_t len)
{
	size_t b64len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char stackbuf[256];
	char *text = b64len <= sizeof stackbuf ? stackbuf : malloc(b64len);
	if (text == NULL)
		return NULL;
	sodium_bin2base64(text, b64len, data, len, sodium_base64_VARIANT_ORIGINAL);
	json_t *v = json_string(text);
	if (text != stackbuf)
		free(text);
	return v;
}

json_t *
wire_id(const uint8_t id[LSN_ID_BYTES])
{
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(id, hex);
	return json_string(hex);
}
