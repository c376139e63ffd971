/* test_wire.c — the JSON wire codec (shared/wire.c): request decoding, field
 * getters, encoders read back with the client-side decoder. */
#include "testutil.h"

#include <stdlib.h>

#include <sodium.h>

#include "err.h"
#include "wire.h"

/* ---- helpers ------------------------------------------------------------- */

/* Decode text as a request; returns the error, stores the id. */
static enum lsn_err
decode(const char *text, size_t len, int64_t *id, struct lsn_status *st)
{
	struct wire_request req;
	enum lsn_err err = wire_decode_request(text, len, &req, st);
	if (id)
		*id = req.id;
	wire_request_free(&req);
	return err;
}

static enum lsn_err
decode_str(const char *text, int64_t *id)
{
	struct lsn_status st = {0};
	enum lsn_err err = decode(text, strlen(text), id, &st);
	if (err != LSN_OK) {
		assert_int_equal(st.err, err);
		assert_true(st.msg[0] != '\0');
	}
	return err;
}

static json_t *
obj(const char *text)
{
	json_error_t jerr;
	json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	return o;
}

/* ---- wire_decode_request -------------------------------------------------- */

static void
decode_valid(void **state)
{
	struct wire_request req;
	struct lsn_status st = {0};
	const char *text = "{\"id\":7,\"op\":\"whoami\",\"q\":\"x\"}";
	assert_int_equal(wire_decode_request(text, strlen(text), &req, &st), LSN_OK);
	assert_int_equal(req.id, 7);
	assert_string_equal(req.op, "whoami");
	assert_true(json_is_object(req.root));
	assert_string_equal(json_string_value(json_object_get(req.root, "q")), "x");
	wire_request_free(&req);
	assert_null(req.root);
	assert_int_equal(req.id, -1);

	int64_t id = -2;
	assert_int_equal(decode_str("{\"id\":0,\"op\":\"ping\"}", &id), LSN_OK);
	assert_int_equal(id, 0);
	assert_int_equal(decode_str(" \n{ \"op\" : \"ping\" , \"id\" : 9007199254740991 }\t\r\n", &id),
			 LSN_OK);
	assert_int_equal(id, WIRE_ID_MAX);
}

static void
decode_respects_length(void **state)
{
	/* the buffer is not NUL-terminated at len: bytes past len must be ignored */
	const char text[] = "{\"id\":1,\"op\":\"ping\"}GARBAGE";
	int64_t id = -2;
	assert_int_equal(decode(text, strlen("{\"id\":1,\"op\":\"ping\"}"), &id, NULL), LSN_OK);
	assert_int_equal(id, 1);
	/* ... and a length that cuts the object short is bad JSON */
	assert_int_equal(decode(text, 10, &id, NULL), LSN_ERR_BAD_JSON);
	assert_int_equal(id, -1);
}

static void
decode_not_json(void **state)
{
	int64_t id = 5;
	assert_int_equal(decode_str("not JSON", &id), LSN_ERR_BAD_JSON);
	assert_int_equal(id, -1);
	assert_int_equal(decode("", 0, &id, NULL), LSN_ERR_BAD_JSON);
	assert_int_equal(id, -1);
	assert_int_equal(decode_str("{", &id), LSN_ERR_BAD_JSON);
	assert_int_equal(decode_str("{\"id\":1,\"op\":\"ping\",}", &id), LSN_ERR_BAD_JSON);
	assert_int_equal(decode_str("{'id':1,'op':'ping'}", &id), LSN_ERR_BAD_JSON);
	/* trailing data after the object */
	assert_int_equal(decode_str("{\"id\":1,\"op\":\"ping\"} {}", &id), LSN_ERR_BAD_JSON);
	assert_int_equal(decode_str("{\"id\":1,\"op\":\"ping\"}x", &id), LSN_ERR_BAD_JSON);
	assert_int_equal(id, -1);
}

static void
decode_not_object(void **state)
{
	const char *texts[] = {"[]", "[{\"id\":1,\"op\":\"ping\"}]", "\"ping\"", "42", "null",
			       "true", "1.5"};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		int64_t id = 5;
		struct lsn_status st = {0};
		assert_int_equal(decode(texts[i], strlen(texts[i]), &id, &st), LSN_ERR_BAD_JSON);
		assert_int_equal(st.err, LSN_ERR_BAD_JSON);
		assert_int_equal(id, -1);
	}
}

static void
decode_bad_id(void **state)
{
	const char *texts[] = {
		"{\"op\":\"ping\"}",                              /* missing */
		"{\"id\":-1,\"op\":\"ping\"}",                    /* negative */
		"{\"id\":9007199254740992,\"op\":\"ping\"}",      /* 2^53 */
		"{\"id\":9223372036854775807,\"op\":\"ping\"}",   /* INT64_MAX */
		"{\"id\":1.0,\"op\":\"ping\"}",                   /* real */
		"{\"id\":1e3,\"op\":\"ping\"}",
		"{\"id\":\"1\",\"op\":\"ping\"}",                 /* string */
		"{\"id\":true,\"op\":\"ping\"}",
		"{\"id\":null,\"op\":\"ping\"}",
		"{\"id\":[1],\"op\":\"ping\"}",
	};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		int64_t id = 5;
		struct lsn_status st = {0};
		enum lsn_err err = decode(texts[i], strlen(texts[i]), &id, &st);
		if (err != LSN_ERR_BAD_REQUEST)
			fail_msg("%s: got %s", texts[i], lsn_err_code(err));
		assert_int_equal(id, -1);
		assert_non_null(strstr(st.msg, "\"id\""));
	}
	/* an integer too big for jansson is not JSON we can read at all */
	int64_t id = 5;
	assert_int_not_equal(decode_str("{\"id\":99999999999999999999999,\"op\":\"ping\"}", &id),
			     LSN_OK);
	assert_int_equal(id, -1);
}

static void
decode_bad_op(void **state)
{
	char long_op[200];
	const char *texts[] = {
		"{\"id\":3}",
		"{\"id\":3,\"op\":5}",
		"{\"id\":3,\"op\":null}",
		"{\"id\":3,\"op\":[\"ping\"]}",
		"{\"id\":3,\"op\":{}}",
		"{\"id\":3,\"op\":\"\"}",
	};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		int64_t id = -2;
		struct lsn_status st = {0};
		enum lsn_err err = decode(texts[i], strlen(texts[i]), &id, &st);
		if (err != LSN_ERR_BAD_REQUEST)
			fail_msg("%s: got %s", texts[i], lsn_err_code(err));
		assert_int_equal(id, 3); /* the id survives, so the reply can carry it */
		assert_non_null(strstr(st.msg, "\"op\""));
	}
	int64_t id;
	char op[WIRE_OP_MAX + 2];
	memset(op, 'a', sizeof op);
	op[WIRE_OP_MAX] = '\0';
	snprintf(long_op, sizeof long_op, "{\"id\":3,\"op\":\"%s\"}", op);
	assert_int_equal(decode_str(long_op, &id), LSN_OK);
	op[WIRE_OP_MAX] = 'a';
	op[WIRE_OP_MAX + 1] = '\0';
	snprintf(long_op, sizeof long_op, "{\"id\":3,\"op\":\"%s\"}", op);
	assert_int_equal(decode_str(long_op, &id), LSN_ERR_BAD_REQUEST);
	assert_int_equal(id, 3);
}

static void
decode_duplicate_keys(void **state)
{
	int64_t id;
	assert_int_equal(decode_str("{\"id\":1,\"op\":\"ping\",\"op\":\"login\"}", &id),
			 LSN_ERR_BAD_JSON);
	assert_int_equal(decode_str("{\"id\":1,\"id\":2,\"op\":\"ping\"}", &id), LSN_ERR_BAD_JSON);
	assert_int_equal(id, -1);
	/* nested objects too */
	assert_int_equal(decode_str("{\"id\":1,\"op\":\"x\",\"o\":{\"a\":1,\"a\":2}}", &id),
			 LSN_ERR_BAD_JSON);
}

static void
decode_invalid_utf8(void **state)
{
	const char *texts[] = {
		"{\"id\":1,\"op\":\"p\xffng\"}",             /* never valid */
		"{\"id\":1,\"op\":\"p\xc0\xafng\"}",         /* overlong '/' */
		"{\"id\":1,\"op\":\"p\xe0\x80\xafng\"}",     /* overlong, 3 bytes */
		"{\"id\":1,\"op\":\"p\xed\xa0\x80ng\"}",     /* UTF-16 surrogate D800 */
		"{\"id\":1,\"op\":\"p\xf4\x90\x80\x80ng\"}", /* above U+10FFFF */
		"{\"id\":1,\"op\":\"ping\",\"x\":\"\xc3\"}",  /* truncated */
		"{\"id\":1,\"op\":\"ping\",\"x\":\"\xe2\x82\"}",
		"{\"id\":1,\"op\":\"ping\",\"x\":\"\x80\"}", /* lone continuation */
		"{\"id\":1,\"op\":\"ping\",\"x\":\"\\ud800\"}", /* lone surrogate escape */
		"{\"id\":1,\"op\":\"ping\",\"x\":\"\\udc00\\ud800\"}",
	};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		int64_t id = 5;
		enum lsn_err err = decode(texts[i], strlen(texts[i]), &id, NULL);
		if (err != LSN_ERR_BAD_JSON)
			fail_msg("case %zu: got %s", i, lsn_err_code(err));
		assert_int_equal(id, -1);
	}
	/* valid UTF-8 and escapes are fine */
	int64_t id;
	assert_int_equal(decode_str("{\"id\":1,\"op\":\"ping\",\"x\":\"Cl\xc3\xa9mence \\u00e9 "
				    "\\ud83d\\ude00 \xf0\x9f\x98\x80\"}", &id),
			 LSN_OK);
}

static void
decode_nul(void **state)
{
	int64_t id = 5;
	/* escaped NUL inside a string */
	assert_int_equal(decode_str("{\"id\":1,\"op\":\"pi\\u0000ng\"}", &id), LSN_ERR_BAD_JSON);
	assert_int_equal(decode_str("{\"id\":1,\"op\":\"ping\",\"name\":\"a\\u0000b\"}", &id),
			 LSN_ERR_BAD_JSON);
	/* a raw NUL byte inside a string and after the object */
	const char raw1[] = "{\"id\":1,\"op\":\"pi\0ng\"}";
	assert_int_equal(decode(raw1, sizeof raw1 - 1, &id, NULL), LSN_ERR_BAD_JSON);
	const char raw2[] = "{\"id\":1,\"op\":\"ping\"}\0";
	assert_int_equal(decode(raw2, sizeof raw2 - 1, &id, NULL), LSN_ERR_BAD_JSON);
	/* a raw control character in a string is not JSON */
	assert_int_equal(decode_str("{\"id\":1,\"op\":\"pi\nng\"}", &id), LSN_ERR_BAD_JSON);
}

static void
decode_deep_nesting(void **state)
{
	/* must fail cleanly, not overflow the stack */
	size_t depth = 100000;
	char *text = malloc(depth + 64);
	assert_non_null(text);
	size_t n = (size_t)snprintf(text, depth + 64, "{\"id\":1,\"op\":\"x\",\"a\":");
	memset(text + n, '[', depth);
	int64_t id;
	assert_int_equal(decode(text, n + depth, &id, NULL), LSN_ERR_BAD_JSON);
	free(text);
}

static void
decode_null_status(void **state)
{
	/* st is optional */
	struct wire_request req;
	assert_int_equal(wire_decode_request("nope", 4, &req, NULL), LSN_ERR_BAD_JSON);
	wire_request_free(&req);
	assert_int_equal(wire_decode_request("{\"id\":1}", 8, &req, NULL), LSN_ERR_BAD_REQUEST);
	assert_int_equal(req.id, 1);
	wire_request_free(&req);
}

/* ---- field getters ---------------------------------------------------------- */

static void
get_str(void **state)
{
	json_t *o = obj("{\"s\":\"hello\",\"n\":5,\"z\":null,\"b\":true,\"a\":[],\"e\":\"\"}");
	struct lsn_status st = {0};
	const char *out = NULL;

	assert_int_equal(wire_get_str(o, "s", true, 5, &out, &st), LSN_OK);
	assert_string_equal(out, "hello");
	out = NULL;
	assert_int_equal(wire_get_str(o, "e", true, 5, &out, &st), LSN_OK);
	assert_string_equal(out, "");

	/* over-long by one byte */
	assert_int_equal(wire_get_str(o, "s", true, 4, &out, &st), LSN_ERR_BAD_REQUEST);
	assert_int_equal(st.err, LSN_ERR_BAD_REQUEST);
	assert_non_null(strstr(st.msg, "\"s\""));

	/* missing: required vs optional; null counts as absent */
	const char *untouched = "sentinel";
	out = untouched;
	assert_int_equal(wire_get_str(o, "missing", false, 10, &out, &st), LSN_OK);
	assert_ptr_equal(out, untouched);
	assert_int_equal(wire_get_str(o, "z", false, 10, &out, &st), LSN_OK);
	assert_ptr_equal(out, untouched);
	memset(&st, 0, sizeof st);
	assert_int_equal(wire_get_str(o, "missing", true, 10, &out, &st), LSN_ERR_BAD_REQUEST);
	assert_non_null(strstr(st.msg, "\"missing\""));
	assert_int_equal(wire_get_str(o, "z", true, 10, &out, &st), LSN_ERR_BAD_REQUEST);
	assert_non_null(strstr(st.msg, "\"z\""));

	/* wrong types */
	const char *wrong[] = {"n", "b", "a"};
	for (size_t i = 0; i < 3; i++) {
		memset(&st, 0, sizeof st);
		assert_int_equal(wire_get_str(o, wrong[i], false, 10, &out, &st),
				 LSN_ERR_BAD_REQUEST);
		assert_non_null(strstr(st.msg, wrong[i]));
	}
	assert_ptr_equal(out, untouched);
	json_decref(o);

	/* a NUL inside a string built in memory (not from the wire) is refused */
	o = json_object();
	json_object_set_new(o, "s", json_stringn("ab\0cd", 5));
	assert_int_equal(wire_get_str(o, "s", true, 10, &out, &st), LSN_ERR_BAD_REQUEST);
	assert_ptr_equal(out, untouched);
	json_decref(o);
}

static void
get_text(void **state)
{
	json_t *o = obj("{\"ok\":\"Dr Cl\\u00e9mence L\\u00e9a\",\"tab\":\"a\\tb\",\"nl\":\"a\\nb\","
			"\"del\":\"a\\u007fb\",\"c1\":\"a\\u0085b\",\"empty\":\"\",\"n\":1}");
	struct lsn_status st = {0};
	const char *out = NULL;
	assert_int_equal(wire_get_text(o, "ok", true, 128, &out, &st), LSN_OK);
	assert_string_equal(out, "Dr Cl\xc3\xa9mence L\xc3\xa9""a");
	const char *bad[] = {"tab", "nl", "del", "c1", "empty", "n", "missing"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		out = NULL;
		memset(&st, 0, sizeof st);
		if (wire_get_text(o, bad[i], true, 128, &out, &st) != LSN_ERR_BAD_REQUEST)
			fail_msg("field %s accepted", bad[i]);
		assert_null(out);
		assert_non_null(strstr(st.msg, bad[i]));
	}
	/* optional and absent is fine */
	assert_int_equal(wire_get_text(o, "missing", false, 128, &out, &st), LSN_OK);
	assert_null(out);
	/* the byte cap counts bytes, not characters: "é" is 2 bytes */
	json_t *o2 = obj("{\"t\":\"\\u00e9\\u00e9\"}");
	assert_int_equal(wire_get_text(o2, "t", true, 4, &out, &st), LSN_OK);
	assert_int_equal(wire_get_text(o2, "t", true, 3, &out, &st), LSN_ERR_BAD_REQUEST);
	json_decref(o2);
	json_decref(o);
}

static void
get_int(void **state)
{
	json_t *o = obj("{\"i\":42,\"neg\":-7,\"big\":9007199254740991,\"r\":42.0,\"s\":\"42\","
			"\"b\":false,\"z\":null}");
	struct lsn_status st = {0};
	int64_t out = 0;
	assert_int_equal(wire_get_int(o, "i", true, 42, 42, &out, &st), LSN_OK);
	assert_int_equal(out, 42);
	assert_int_equal(wire_get_int(o, "neg", true, -10, 0, &out, &st), LSN_OK);
	assert_int_equal(out, -7);
	assert_int_equal(wire_get_int(o, "big", true, 0, WIRE_ID_MAX, &out, &st), LSN_OK);
	assert_int_equal(out, WIRE_ID_MAX);

	out = 99;
	assert_int_equal(wire_get_int(o, "i", true, 43, 100, &out, &st), LSN_ERR_BAD_REQUEST);
	assert_non_null(strstr(st.msg, "\"i\""));
	assert_int_equal(wire_get_int(o, "i", true, 0, 41, &out, &st), LSN_ERR_BAD_REQUEST);
	assert_int_equal(wire_get_int(o, "big", true, 0, WIRE_ID_MAX - 1, &out, &st),
			 LSN_ERR_BAD_REQUEST);
	assert_int_equal(wire_get_int(o, "r", true, 0, 100, &out, &st), LSN_ERR_BAD_REQUEST);
	assert_int_equal(wire_get_int(o, "s", true, 0, 100, &out, &st), LSN_ERR_BAD_REQUEST);
	assert_int_equal(wire_get_int(o, "b", true, 0, 100, &out, &st), LSN_ERR_BAD_REQUEST);
	assert_int_equal(wire_get_int(o, "z", true, 0, 100, &out, &st), LSN_ERR_BAD_REQUEST);
	assert_int_equal(wire_get_int(o, "missing", true, 0, 100, &out, &st), LSN_ERR_BAD_REQUEST);
	assert_non_null(strstr(st.msg, "\"missing\""));
	assert_int_equal(wire_get_int(o, "missing", false, 0, 100, &out, &st), LSN_OK);
	assert_int_equal(wire_get_int(o, "z", false, 0, 100, &out, &st), LSN_OK);
	assert_int_equal(out, 99); /* untouched by errors and absent optionals */
	json_decref(o);
}

static void
get_bool(void **state)
{
	json_t *o = obj("{\"t\":true,\"f\":false,\"one\":1,\"s\":\"true\",\"z\":null}");
	struct lsn_status st = {0};
	bool out = false;
	assert_int_equal(wire_get_bool(o, "t", true, &out, &st), LSN_OK);
	assert_true(out);
	assert_int_equal(wire_get_bool(o, "f", true, &out, &st), LSN_OK);
	assert_false(out);
	out = true;
	assert_int_equal(wire_get_bool(o, "one", true, &out, &st), LSN_ERR_BAD_REQUEST);
	assert_non_null(strstr(st.msg, "\"one\""));
	assert_int_equal(wire_get_bool(o, "s", false, &out, &st), LSN_ERR_BAD_REQUEST);
	assert_int_equal(wire_get_bool(o, "z", true, &out, &st), LSN_ERR_BAD_REQUEST);
	assert_int_equal(wire_get_bool(o, "missing", false, &out, &st), LSN_OK);
	assert_true(out);
	json_decref(o);
}

static void
get_id(void **state)
{
	json_t *o = obj("{\"ok\":\"00112233445566778899aabbccddeeff\","
			"\"upper\":\"00112233445566778899AABBCCDDEEFF\","
			"\"mixed\":\"00112233445566778899aAbbccddeeff\","
			"\"short\":\"00112233445566778899aabbccddeef\","
			"\"long\":\"00112233445566778899aabbccddeeff0\","
			"\"nothex\":\"00112233445566778899aabbccddeefg\","
			"\"space\":\"00112233445566778899aabbccddeef \","
			"\"prefix\":\"0x112233445566778899aabbccddeeff\","
			"\"num\":1,\"z\":null,\"empty\":\"\"}");
	struct lsn_status st = {0};
	uint8_t id[LSN_ID_BYTES], want[LSN_ID_BYTES];
	bool present = false;
	for (int i = 0; i < LSN_ID_BYTES; i++)
		want[i] = (uint8_t)(0x11 * i);
	assert_int_equal(wire_get_id(o, "ok", true, id, &present, &st), LSN_OK);
	assert_true(present);
	assert_memory_equal(id, want, LSN_ID_BYTES);
	/* present may be NULL */
	assert_int_equal(wire_get_id(o, "ok", true, id, NULL, &st), LSN_OK);

	const char *bad[] = {"upper", "mixed", "short", "long", "nothex", "space", "prefix",
			     "num", "empty"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		present = true;
		memset(&st, 0, sizeof st);
		if (wire_get_id(o, bad[i], false, id, &present, &st) != LSN_ERR_BAD_REQUEST)
			fail_msg("id field %s accepted", bad[i]);
		assert_false(present);
		assert_non_null(strstr(st.msg, bad[i]));
	}
	present = true;
	assert_int_equal(wire_get_id(o, "missing", false, id, &present, &st), LSN_OK);
	assert_false(present);
	present = true;
	assert_int_equal(wire_get_id(o, "z", false, id, &present, &st), LSN_OK);
	assert_false(present);
	assert_int_equal(wire_get_id(o, "missing", true, id, &present, &st), LSN_ERR_BAD_REQUEST);
	assert_false(present);
	json_decref(o);
}

static void
get_b64(void **state)
{
	uint8_t raw[33];
	fill_seq(raw, sizeof raw, 0xf0);
	char b64_32[64], b64_31[64], b64_33[64];
	sodium_bin2base64(b64_32, sizeof b64_32, raw, 32, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(b64_31, sizeof b64_31, raw, 31, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(b64_33, sizeof b64_33, raw, 33, sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(strlen(b64_32), 44);
	assert_int_equal(b64_32[43], '=');

	json_t *o = json_object();
	json_object_set_new(o, "k32", json_string(b64_32));
	json_object_set_new(o, "k31", json_string(b64_31));
	json_object_set_new(o, "k33", json_string(b64_33));
	struct lsn_status st = {0};
	uint8_t out[64];

	memset(out, 0, sizeof out);
	assert_int_equal(wire_get_b64(o, "k32", true, out, 32, &st), LSN_OK);
	assert_memory_equal(out, raw, 32);
	assert_int_equal(wire_get_b64(o, "k31", true, out, 31, &st), LSN_OK);
	assert_int_equal(wire_get_b64(o, "k33", true, out, 33, &st), LSN_OK);
	/* exact length: one byte more or less is refused */
	assert_int_equal(wire_get_b64(o, "k31", true, out, 32, &st), LSN_ERR_BAD_REQUEST);
	assert_non_null(strstr(st.msg, "\"k31\""));
	assert_int_equal(wire_get_b64(o, "k33", true, out, 32, &st), LSN_ERR_BAD_REQUEST);
	assert_int_equal(wire_get_b64(o, "k32", true, out, 31, &st), LSN_ERR_BAD_REQUEST);
	assert_int_equal(wire_get_b64(o, "k32", true, out, 33, &st), LSN_ERR_BAD_REQUEST);

	/* mangled forms of the 32-byte value */
	char v[80];
	struct {
		const char *what;
		int edit;
	} cases[] = {
		{"no padding", 1}, {"padding doubled", 2}, {"padding in the middle", 3},
		{"url-safe alphabet", 4}, {"space", 5}, {"trailing garbage", 6},
		{"trailing newline", 7}, {"not base64", 8}, {"leading space", 9},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(v, sizeof v, "%s", b64_32);
		switch (cases[i].edit) {
		case 1: v[43] = '\0'; break;
		case 2: snprintf(v, sizeof v, "%s=", b64_32); break;
		case 3: v[20] = '='; break;
		case 4: v[0] = '-'; v[1] = '_'; break;
		case 5: v[10] = ' '; break;
		case 6: snprintf(v, sizeof v, "%sAAAA", b64_32); break;
		case 7: snprintf(v, sizeof v, "%s\n", b64_32); break;
		case 8: memset(v, '*', 43); break;
		case 9: memmove(v + 1, v, 45); v[0] = ' '; break;
		}
		json_object_set_new(o, "x", json_string(v));
		memset(&st, 0, sizeof st);
		if (wire_get_b64(o, "x", true, out, 32, &st) != LSN_ERR_BAD_REQUEST)
			fail_msg("base64 with %s accepted: %s", cases[i].what, v);
		assert_non_null(strstr(st.msg, "\"x\""));
	}
	/* wrong types, missing, optional */
	json_object_set_new(o, "n", json_integer(5));
	json_object_set_new(o, "z", json_null());
	assert_int_equal(wire_get_b64(o, "n", false, out, 32, &st), LSN_ERR_BAD_REQUEST);
	assert_int_equal(wire_get_b64(o, "missing", true, out, 32, &st), LSN_ERR_BAD_REQUEST);
	memset(out, 0x55, sizeof out);
	assert_int_equal(wire_get_b64(o, "missing", false, out, 32, &st), LSN_OK);
	assert_int_equal(wire_get_b64(o, "z", false, out, 32, &st), LSN_OK);
	assert_int_equal(out[0], 0x55);
	json_decref(o);
}

static void
b64_decode_direct(void **state)
{
	uint8_t out[8];
	size_t got = 0;
	assert_true(wire_b64_decode("AAECAw==", out, sizeof out, &got));
	assert_int_equal(got, 4);
	assert_int_equal(out[3], 3);
	assert_true(wire_b64_decode("", out, sizeof out, &got));
	assert_int_equal(got, 0);
	assert_false(wire_b64_decode("AAECAw==", out, 3, &got)); /* does not fit */
	assert_false(wire_b64_decode("AAECAw=", out, sizeof out, &got));
	assert_false(wire_b64_decode("AAECAw", out, sizeof out, &got));
	assert_false(wire_b64_decode("AAECAw==AAAA", out, sizeof out, &got));
	assert_false(wire_b64_decode("AAEC Aw==", out, sizeof out, &got));
	assert_false(wire_b64_decode("AAECAx==", out, sizeof out, &got)); /* non-zero spare bits */
	assert_false(wire_b64_decode("AAECAw==\n", out, sizeof out, &got));
}

static void
b64_and_id_values(void **state)
{
	uint8_t data[300];
	fill_seq(data, sizeof data, 7);
	/* both the stack path and the heap path of wire_b64 */
	size_t sizes[] = {0, 1, 2, 3, 32, 64, 189, 190, 191, 192, 300};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		json_t *v = wire_b64(data, sizes[i]);
		assert_non_null(v);
		uint8_t back[300];
		size_t got = 99;
		assert_true(wire_b64_decode(json_string_value(v), back, sizeof back, &got));
		assert_int_equal(got, sizes[i]);
		if (sizes[i])
			assert_memory_equal(back, data, sizes[i]);
		json_decref(v);
	}
	json_t *v = wire_b64((const uint8_t *)"hi!", 3);
	assert_string_equal(json_string_value(v), "aGkh");
	json_decref(v);

	uint8_t id[LSN_ID_BYTES];
	fill_seq(id, sizeof id, 0xa0);
	v = wire_id(id);
	assert_string_equal(json_string_value(v), "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
	json_t *o = json_object();
	json_object_set_new(o, "id", v);
	uint8_t back[LSN_ID_BYTES];
	assert_int_equal(wire_get_id(o, "id", true, back, NULL, NULL), LSN_OK);
	assert_memory_equal(back, id, LSN_ID_BYTES);
	json_decref(o);
}

/* ---- encoders, read back with wire_decode_frame -------------------------- */

static void
encode_request_roundtrip(void **state)
{
	size_t len = 0;
	char *text = wire_encode_request(5, "ping", NULL, &len);
	assert_non_null(text);
	assert_string_equal(text, "{\"id\":5,\"op\":\"ping\"}");
	assert_int_equal(len, strlen(text));
	free(text);

	json_t *body = obj("{\"q\":\"martin\",\"limit\":20,\"id\":999,\"op\":\"evil\"}");
	text = wire_encode_request(WIRE_ID_MAX, "directory_search", body, &len);
	assert_non_null(text);
	struct wire_request req;
	struct lsn_status st = {0};
	assert_int_equal(wire_decode_request(text, len, &req, &st), LSN_OK);
	assert_int_equal(req.id, WIRE_ID_MAX); /* id and op from the arguments win */
	assert_string_equal(req.op, "directory_search");
	const char *q = NULL;
	int64_t limit = 0;
	assert_int_equal(wire_get_str(req.root, "q", true, 64, &q, &st), LSN_OK);
	assert_string_equal(q, "martin");
	assert_int_equal(wire_get_int(req.root, "limit", true, 1, 100, &limit, &st), LSN_OK);
	assert_int_equal(limit, 20);
	wire_request_free(&req);
	free(text);

	/* a body that is not an object is refused (and freed) */
	assert_null(wire_encode_request(1, "ping", json_array(), &len));
	/* len may be NULL */
	text = wire_encode_request(1, "ping", NULL, NULL);
	assert_non_null(text);
	free(text);
}

static void
encode_reply_ok_roundtrip(void **state)
{
	size_t len = 0;
	char *text = wire_encode_reply_ok(7, obj("{\"ts\":1763900000000,\"user\":{\"name\":\"x\"}}"),
					  &len);
	assert_non_null(text);
	assert_string_equal(text, "{\"id\":7,\"ok\":true,\"ts\":1763900000000,\"user\":{\"name\":\"x\"}}");
	struct wire_frame fr;
	struct lsn_status st = {0};
	assert_int_equal(wire_decode_frame(text, len, &fr, &st), LSN_OK);
	assert_int_equal(fr.kind, WIRE_REPLY);
	assert_int_equal(fr.id, 7);
	assert_true(fr.ok);
	assert_null(fr.err_code);
	assert_int_equal(json_integer_value(json_object_get(fr.root, "ts")), 1763900000000LL);
	wire_frame_free(&fr);
	free(text);

	text = wire_encode_reply_ok(0, NULL, &len);
	assert_string_equal(text, "{\"id\":0,\"ok\":true}");
	free(text);

	/* id < 0: no usable id, the reply says null */
	text = wire_encode_reply_ok(-1, NULL, &len);
	assert_string_equal(text, "{\"id\":null,\"ok\":true}");
	assert_int_equal(wire_decode_frame(text, len, &fr, &st), LSN_OK);
	assert_int_equal(fr.kind, WIRE_REPLY);
	assert_int_equal(fr.id, -1);
	wire_frame_free(&fr);
	free(text);

	assert_null(wire_encode_reply_ok(1, json_string("x"), &len));
}

static void
encode_reply_keeps_id_and_ok(void **state)
{
	/* A handler body that happens to carry "id" or "ok" (say, the id of a
	 * created object) must not change the reply's id or status: the client
	 * matches replies to requests by id. */
	size_t len = 0;
	char *text = wire_encode_reply_ok(7, obj("{\"id\":\"0011\",\"ok\":false,\"x\":1}"), &len);
	assert_non_null(text);
	struct wire_frame fr;
	bool reply_intact = wire_decode_frame(text, len, &fr, NULL) == LSN_OK && fr.id == 7 && fr.ok;
	wire_frame_free(&fr);
	print_message("# reply: %s\n", text);
	free(text);

	text = wire_encode_event("hello", obj("{\"ev\":\"other\",\"protocol\":1}"), &len);
	assert_non_null(text);
	bool event_intact = wire_decode_frame(text, len, &fr, NULL) == LSN_OK && fr.kind == WIRE_EVENT && strcmp(fr.ev, "hello") == 0;
	wire_frame_free(&fr);
	print_message("# event: %s\n", text);
	free(text);

	if (!reply_intact)
		fail_msg("wire_encode_reply_ok: a body key \"id\"/\"ok\" overrode the reply envelope");
	if (!event_intact)
		fail_msg("wire_encode_event: a body key \"ev\" overrode the event name");
}

static void
encode_reply_err_roundtrip(void **state)
{
	size_t len = 0;
	char *text = wire_encode_reply_err(12, LSN_ERR_NOT_LOGGED_IN, "log in first, please", &len);
	assert_string_equal(text, "{\"id\":12,\"ok\":false,\"error\":{\"code\":\"not_logged_in\","
				  "\"message\":\"log in first, please\"}}");
	struct wire_frame fr;
	struct lsn_status st = {0};
	assert_int_equal(wire_decode_frame(text, len, &fr, &st), LSN_OK);
	assert_int_equal(fr.kind, WIRE_REPLY);
	assert_int_equal(fr.id, 12);
	assert_false(fr.ok);
	assert_int_equal(fr.err, LSN_ERR_NOT_LOGGED_IN);
	assert_string_equal(fr.err_code, "not_logged_in");
	assert_string_equal(fr.err_message, "log in first, please");
	wire_frame_free(&fr);
	free(text);

	/* no id: null; NULL or empty message: the table's message */
	text = wire_encode_reply_err(-1, LSN_ERR_BAD_JSON, NULL, &len);
	assert_non_null(strstr(text, "\"id\":null"));
	assert_int_equal(wire_decode_frame(text, len, &fr, &st), LSN_OK);
	assert_int_equal(fr.id, -1);
	assert_int_equal(fr.err, LSN_ERR_BAD_JSON);
	assert_string_equal(fr.err_message, lsn_err_message(LSN_ERR_BAD_JSON));
	wire_frame_free(&fr);
	free(text);

	text = wire_encode_reply_err(1, LSN_ERR_TOO_LARGE, "", &len);
	assert_int_equal(wire_decode_frame(text, len, &fr, &st), LSN_OK);
	assert_string_equal(fr.err_message, lsn_err_message(LSN_ERR_TOO_LARGE));
	wire_frame_free(&fr);
	free(text);

	/* a message that is not UTF-8 falls back to the table, never fails */
	text = wire_encode_reply_err(2, LSN_ERR_BAD_REQUEST, "field \xff\xfe", &len);
	assert_non_null(text);
	assert_int_equal(wire_decode_frame(text, len, &fr, &st), LSN_OK);
	assert_int_equal(fr.err, LSN_ERR_BAD_REQUEST);
	assert_string_equal(fr.err_message, lsn_err_message(LSN_ERR_BAD_REQUEST));
	wire_frame_free(&fr);
	free(text);

	/* every error code survives the trip */
	for (int e = 1; e < LSN_ERR__COUNT; e++) {
		text = wire_encode_reply_err(e, (enum lsn_err)e, NULL, &len);
		assert_non_null(text);
		assert_int_equal(wire_decode_frame(text, len, &fr, &st), LSN_OK);
		assert_int_equal(fr.id, e);
		assert_false(fr.ok);
		assert_int_equal(fr.err, e);
		assert_string_equal(fr.err_code, lsn_err_code((enum lsn_err)e));
		wire_frame_free(&fr);
		free(text);
	}
}

static void
encode_event_roundtrip(void **state)
{
	size_t len = 0;
	char *text = wire_encode_event("hello",
		obj("{\"server\":\"localhost\",\"protocol\":1,\"max_frame\":262144}"), &len);
	assert_string_equal(text, "{\"ev\":\"hello\",\"server\":\"localhost\",\"protocol\":1,"
				  "\"max_frame\":262144}");
	struct wire_frame fr;
	struct lsn_status st = {0};
	assert_int_equal(wire_decode_frame(text, len, &fr, &st), LSN_OK);
	assert_int_equal(fr.kind, WIRE_EVENT);
	assert_string_equal(fr.ev, "hello");
	assert_string_equal(json_string_value(json_object_get(fr.root, "server")), "localhost");
	wire_frame_free(&fr);
	free(text);

	text = wire_encode_event("tick", NULL, &len);
	assert_string_equal(text, "{\"ev\":\"tick\"}");
	free(text);
	assert_null(wire_encode_event("x", json_integer(1), &len));
}

static void
decode_frame_rejects(void **state)
{
	const char *bad[] = {
		"nope", "[]", "\"x\"", "{}",                   /* not an object / neither kind */
		"{\"id\":1}",                                  /* reply without ok */
		"{\"id\":1,\"ok\":1}",                         /* ok not boolean */
		"{\"id\":1,\"ok\":false}",                     /* error reply without error */
		"{\"id\":1,\"ok\":false,\"error\":{}}",        /* ... without code */
		"{\"id\":1,\"ok\":false,\"error\":{\"code\":7}}",
		"{\"id\":1,\"ok\":true,\"ok\":false}",        /* duplicate */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct wire_frame fr;
		struct lsn_status st = {0};
		enum lsn_err err = wire_decode_frame(bad[i], strlen(bad[i]), &fr, &st);
		if (err != LSN_ERR_BAD_JSON)
			fail_msg("frame %s: got %s", bad[i], lsn_err_code(err));
		wire_frame_free(&fr);
	}
	/* an unknown code from a newer server maps to internal, the text is kept */
	const char *text = "{\"id\":3,\"ok\":false,\"error\":{\"code\":\"new_thing\"}}";
	struct wire_frame fr;
	assert_int_equal(wire_decode_frame(text, strlen(text), &fr, NULL), LSN_OK);
	assert_int_equal(fr.err, LSN_ERR_INTERNAL);
	assert_string_equal(fr.err_code, "new_thing");
	assert_string_equal(fr.err_message, "");
	wire_frame_free(&fr);
}

/* wire_dump: the same text as json_dumps (compact, key order kept), below
 * and above its 4 KiB stack buffer, and at its exact size. */
static void
dump_matches_json_dumps(void **state)
{
	(void)state;
	/* 27 bytes of JSON around pad: 4069 makes a text of exactly 4096 */
	static const size_t sizes[] = {0, 10, 4068, 4069, 4070, 5000, 100000};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char *pad = malloc(sizes[i] + 1);
		assert_non_null(pad);
		memset(pad, 'x', sizes[i]);
		pad[sizes[i]] = '\0';
		json_t *v = json_pack("{s:s, s:i, s:[i,s]}", "z", pad, "a", 1, "m", 2, "\u00e9");
		assert_non_null(v);
		char *want = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
		size_t len = 0;
		char *got = wire_dump(v, &len);
		assert_non_null(got);
		assert_string_equal(got, want);
		assert_int_equal(len, strlen(want));
		free(got);
		free(want);
		json_decref(v);
		free(pad);
	}
	assert_null(wire_dump(NULL, NULL));
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_valid),
		cmocka_unit_test(decode_respects_length),
		cmocka_unit_test(decode_not_json),
		cmocka_unit_test(decode_not_object),
		cmocka_unit_test(decode_bad_id),
		cmocka_unit_test(decode_bad_op),
		cmocka_unit_test(decode_duplicate_keys),
		cmocka_unit_test(decode_invalid_utf8),
		cmocka_unit_test(decode_nul),
		cmocka_unit_test(decode_deep_nesting),
		cmocka_unit_test(decode_null_status),
		cmocka_unit_test(get_str),
		cmocka_unit_test(get_text),
		cmocka_unit_test(get_int),
		cmocka_unit_test(get_bool),
		cmocka_unit_test(get_id),
		cmocka_unit_test(get_b64),
		cmocka_unit_test(b64_decode_direct),
		cmocka_unit_test(b64_and_id_values),
		cmocka_unit_test(encode_request_roundtrip),
		cmocka_unit_test(encode_reply_ok_roundtrip),
		cmocka_unit_test(encode_reply_keeps_id_and_ok),
		cmocka_unit_test(encode_reply_err_roundtrip),
		cmocka_unit_test(encode_event_roundtrip),
		cmocka_unit_test(decode_frame_rejects),
		cmocka_unit_test(dump_matches_json_dumps),
	};
	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
