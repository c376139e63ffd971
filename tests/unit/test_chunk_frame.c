/* test_chunk_frame.c — the binary chunk frame (shared/chunk_frame.c,
 * docs/PROTOCOL.md "Binary chunk frames"): the documented vectors byte for
 * byte, round trips, and every refusal of a hostile frame. */
#include "testutil.h"

#include "chunk_frame.h"

/* The PROTOCOL.md example: attachment_put, id 22, attachment 00112233...ff,
 * index 3, idem "k1", data 01 02 03. */
#define PUT_HEX                                                                  \
	"01" "02" "0000" "0000000000000016"                                      \
	"00112233445566778899aabbccddeeff" "0000000000000003" "6b31" "010203"
/* Its reply to attachment_get id 25, index 3, data aa bb. */
#define DATA_HEX                                                                 \
	"02" "00" "0000" "0000000000000019"                                      \
	"00112233445566778899aabbccddeeff" "0000000000000003" "aabb"

static const uint8_t ATT[LSN_ID_BYTES] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
					  0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

static void
vector_put(void **state)
{
	(void)state;
	uint8_t buf[128], out[128];
	size_t len = hex_to_bytes(PUT_HEX, buf, sizeof buf);
	struct chunk_frame f;
	struct lsn_status st = {0};
	assert_int_equal(len, 41);
	assert_int_equal(chunk_frame_decode(buf, len, &f, &st), LSN_OK);
	assert_int_equal(f.kind, CHUNK_PUT);
	assert_int_equal(f.id, 22);
	assert_memory_equal(f.attachment, ATT, sizeof ATT);
	assert_int_equal(f.index, 3);
	assert_int_equal(f.idem_len, 2);
	assert_memory_equal(f.idem, "k1", 2);
	assert_int_equal(f.data_len, 3);
	assert_memory_equal(f.data, "\x01\x02\x03", 3);
	/* and back, byte for byte */
	assert_int_equal(chunk_frame_size(f.idem_len, f.data_len), len);
	assert_int_equal(chunk_frame_encode(&f, out, sizeof out), len);
	assert_memory_equal(out, buf, len);
	/* a buffer one byte short: nothing */
	assert_int_equal(chunk_frame_encode(&f, out, len - 1), 0);
	assert_int_equal(chunk_frame_encode_header(&f, out, 37), 0);
	assert_int_equal(chunk_frame_encode_header(&f, out, 38), 38);
}

static void
vector_data(void **state)
{
	(void)state;
	uint8_t buf[128], out[128];
	size_t len = hex_to_bytes(DATA_HEX, buf, sizeof buf);
	struct chunk_frame f;
	struct lsn_status st = {0};
	assert_int_equal(chunk_frame_decode(buf, len, &f, &st), LSN_OK);
	assert_int_equal(f.kind, CHUNK_DATA);
	assert_int_equal(f.id, 25);
	assert_int_equal(f.index, 3);
	assert_int_equal(f.idem_len, 0);
	assert_null(f.idem);
	assert_int_equal(f.data_len, 2);
	assert_int_equal(chunk_frame_encode(&f, out, sizeof out), len);
	assert_memory_equal(out, buf, len);
}

/* The largest values pass, one more is refused; a large chunk round-trips. */
static void
bounds(void **state)
{
	(void)state;
	static uint8_t data[65553], frame[65553 + 100];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7);
	char idem[CHUNK_FRAME_IDEM_MAX + 1];
	memset(idem, 'x', sizeof idem);
	struct chunk_frame f = {.kind = CHUNK_PUT, .id = 9007199254740991LL,
				.index = 9007199254740991LL, .idem = (const uint8_t *)idem,
				.idem_len = CHUNK_FRAME_IDEM_MAX, .data = data, .data_len = sizeof data};
	memcpy(f.attachment, ATT, sizeof ATT);
	size_t len = chunk_frame_encode(&f, frame, sizeof frame);
	assert_int_equal(len, CHUNK_FRAME_HEADER + CHUNK_FRAME_IDEM_MAX + sizeof data);
	struct chunk_frame g;
	struct lsn_status st = {0};
	assert_int_equal(chunk_frame_decode(frame, len, &g, &st), LSN_OK);
	assert_int_equal(g.id, f.id);
	assert_int_equal(g.index, f.index);
	assert_int_equal(g.data_len, sizeof data);
	assert_memory_equal(g.data, data, sizeof data);
	/* out of range on the way out: nothing written */
	struct chunk_frame bad = f;
	bad.idem_len = CHUNK_FRAME_IDEM_MAX + 1;
	assert_int_equal(chunk_frame_encode(&bad, frame, sizeof frame), 0);
	bad = f;
	bad.id = 9007199254740992LL;
	assert_int_equal(chunk_frame_encode(&bad, frame, sizeof frame), 0);
	bad = f;
	bad.index = -1;
	assert_int_equal(chunk_frame_encode(&bad, frame, sizeof frame), 0);
	bad = f;
	bad.data_len = 0;
	assert_int_equal(chunk_frame_encode(&bad, frame, sizeof frame), 0);
	bad = f;
	bad.kind = CHUNK_DATA;   /* a reply carries no idem */
	assert_int_equal(chunk_frame_encode(&bad, frame, sizeof frame), 0);
}

/* Decode hex, expect err; returns the id the decoder could read. */
static int64_t
refused(const char *hex, enum lsn_err want, const char *words)
{
	uint8_t buf[128];
	size_t len = hex_to_bytes(hex, buf, sizeof buf);
	struct chunk_frame f;
	struct lsn_status st = {0};
	assert_int_equal(chunk_frame_decode(buf, len, &f, &st), want);
	assert_int_equal(st.err, want);
	if (strstr(st.msg, words) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", st.msg, words);
	return f.id;
}

static void
hostile(void **state)
{
	(void)state;
	struct chunk_frame f;
	struct lsn_status st = {0};
	/* empty, and a header cut short: before and after the id */
	assert_int_equal(chunk_frame_decode((const uint8_t *)"", 0, &f, &st), LSN_ERR_BAD_REQUEST);
	assert_int_equal(f.id, -1);
	assert_int_equal(refused("0102000000000000", LSN_ERR_BAD_REQUEST, "shorter than the 36-byte"),
			 -1);
	assert_int_equal(refused("01020000" "0000000000000016" "0011", LSN_ERR_BAD_REQUEST,
				 "shorter than the 36-byte"), 22);
	/* header only, no idem, no data: the length does not match */
	assert_int_equal(refused("01020000" "0000000000000016" "00112233445566778899aabbccddeeff"
				 "0000000000000003", LSN_ERR_BAD_REQUEST, "too short"), 22);
	/* the idem but no data byte */
	refused("01020000" "0000000000000016" "00112233445566778899aabbccddeeff"
		"0000000000000003" "6b31", LSN_ERR_BAD_REQUEST, "at least one data byte");
	/* idem length announces more than the frame holds */
	refused("01400000" "0000000000000016" "00112233445566778899aabbccddeeff"
		"0000000000000003" "6b31", LSN_ERR_BAD_REQUEST, "too short");
	/* unknown kinds, with the id still read for the error reply */
	assert_int_equal(refused("03020000" "0000000000000016" "00112233445566778899aabbccddeeff"
				 "0000000000000003" "6b3101", LSN_ERR_UNKNOWN_OP, "kind 0x03"), 22);
	refused("00020000" "0000000000000016" "00112233445566778899aabbccddeeff"
		"0000000000000003" "6b3101", LSN_ERR_UNKNOWN_OP, "kind 0x00");
	refused("7b020000" "0000000000000016" "00112233445566778899aabbccddeeff"
		"0000000000000003" "6b3101", LSN_ERR_UNKNOWN_OP, "kind 0x7b");   /* '{' */
	/* reserved bytes */
	refused("01020001" "0000000000000016" "00112233445566778899aabbccddeeff"
		"0000000000000003" "6b3101", LSN_ERR_BAD_REQUEST, "reserved");
	/* id and index above 2^53-1 */
	assert_int_equal(refused("01020000" "0020000000000000" "00112233445566778899aabbccddeeff"
				 "0000000000000003" "6b3101", LSN_ERR_BAD_REQUEST, "id above"), -1);
	refused("01020000" "0000000000000016" "00112233445566778899aabbccddeeff"
		"ffffffffffffffff" "6b3101", LSN_ERR_BAD_REQUEST, "index above");
	/* idem length: none on a put, 65 on a put, one on a reply */
	refused("01000000" "0000000000000016" "00112233445566778899aabbccddeeff"
		"0000000000000003" "6b3101", LSN_ERR_BAD_REQUEST, "expected 1 to 64");
	refused("01410000" "0000000000000016" "00112233445566778899aabbccddeeff"
		"0000000000000003" "6b3101", LSN_ERR_BAD_REQUEST, "expected 1 to 64");
	refused("02010000" "0000000000000019" "00112233445566778899aabbccddeeff"
		"0000000000000003" "6b3101", LSN_ERR_BAD_REQUEST, "expected 0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vector_put),
		cmocka_unit_test(vector_data),
		cmocka_unit_test(bounds),
		cmocka_unit_test(hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
