/* fuzz_wire.c — the request decoder (shared/wire.c): one WebSocket text
 * frame as the server receives it, then the same bytes as a server frame as
 * the client receives it. A decoded request also goes through the checked
 * getters the handlers use. */
#include <string.h>

#include "fuzz_check.h"
#include "wire.h"

/* A getter's status: on success it is left as it was (zeroed before each
 * call); on failure it names the same error as the return value and carries
 * a terminated, non-empty message. */
static void
check_status(enum lsn_err err, const struct lsn_status *st)
{
	FUZZ_CHECK(err >= LSN_OK && err < LSN_ERR__COUNT);
	FUZZ_CHECK(memchr(st->msg, '\0', sizeof st->msg) != NULL);
	if (err == LSN_OK) {
		FUZZ_CHECK(st->err == LSN_OK && st->msg[0] == '\0');
	} else {
		FUZZ_CHECK(st->err == err && st->msg[0] != '\0');
	}
}

#define GET(call)                                                                   \
	do {                                                                        \
		memset(&st, 0, sizeof st);                                          \
		check_status((call), &st);                                          \
	} while (0)

static void
getters(json_t *root)
{
	struct lsn_status st;
	const char *s = NULL;
	int64_t n = 0;
	bool b = false, present = false;
	uint8_t id[LSN_ID_BYTES], buf[96];
	GET(wire_get_str(root, "op", true, WIRE_OP_MAX, &s, &st));
	GET(wire_get_text(root, "name", false, 200, &s, &st));
	GET(wire_get_int(root, "seq", false, 0, WIRE_ID_MAX, &n, &st));
	GET(wire_get_int(root, "ts", false, INT64_MIN, INT64_MAX, &n, &st));
	GET(wire_get_bool(root, "history", false, &b, &st));
	GET(wire_get_id(root, "channel", false, id, &present, &st));
	GET(wire_get_id(root, "device", false, id, &present, &st));
	GET(wire_get_b64(root, "sig", false, buf, 64, &st));
	GET(wire_get_b64(root, "pk", false, buf, 32, &st));
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct lsn_status st;
	struct wire_request req;
	memset(&st, 0, sizeof st);
	if (wire_decode_request((const char *)data, size, &req, &st) == LSN_OK) {
		FUZZ_CHECK(req.op != NULL && strlen(req.op) <= WIRE_OP_MAX);
		FUZZ_CHECK(req.id >= 0 && req.id <= WIRE_ID_MAX);
		getters(req.root);
	} else {
		FUZZ_CHECK(req.id >= -1 && req.id <= WIRE_ID_MAX);
		FUZZ_CHECK(memchr(st.msg, '\0', sizeof st.msg) != NULL);
	}
	wire_request_free(&req);

	struct wire_frame fr;
	memset(&st, 0, sizeof st);
	if (wire_decode_frame((const char *)data, size, &fr, &st) == LSN_OK) {
		if (fr.kind == WIRE_EVENT)
			FUZZ_CHECK(fr.ev != NULL);
		else if (!fr.ok)
			FUZZ_CHECK(fr.err >= LSN_OK && fr.err < LSN_ERR__COUNT);
	} else {
		FUZZ_CHECK(st.err != LSN_OK && memchr(st.msg, '\0', sizeof st.msg) != NULL &&
			   st.msg[0] != '\0');
	}
	wire_frame_free(&fr);

	/* The base64 decoder on the raw bytes as a string. */
	char text[512];
	uint8_t out[384];
	size_t n = size < sizeof text - 1 ? size : sizeof text - 1, out_len = 0;
	memcpy(text, data, n);
	text[n] = '\0';
	if (wire_b64_decode(text, out, sizeof out, &out_len))
		FUZZ_CHECK(out_len <= sizeof out);
	return 0;
}
