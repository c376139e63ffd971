/* test_base32.c — shared/base32.c: Crockford base32 as invite and recovery
 * codes write it, with vectors computed outside this code base, lenient
 * reading, and what it refuses. */
#include "testutil.h"

#include "base32.h"

/* RFC 4648 §10 vectors (base32, no padding) written in Crockford's
 * alphabet: the same 5-bit groups, each mapped to the character of the same
 * value. Computed with python3:
 *
 *   import base64
 *   t = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
 *                       b"0123456789ABCDEFGHJKMNPQRSTVWXYZ")
 *   base64.b32encode(x).rstrip(b"=").translate(t)
 */
static const struct {
	const char *in, *rfc, *out;
} rfc_vectors[] = {
	{"", "", ""},
	{"f", "MY======", "CR"},
	{"fo", "MZXQ====", "CSQG"},
	{"foo", "MZXW6===", "CSQPY"},
	{"foob", "MZXW6YQ=", "CSQPYRG"},
	{"fooba", "MZXW6YTB", "CSQPYRK1"},
	{"foobar", "MZXW6YTBOI======", "CSQPYRK1E8"},
};

/* The same function on bytes 00 01 … 22 (35 bytes, a recovery code's
 * size), then cut into groups of 4 with '-'; the first 24 characters are
 * test_invite.c's vector for 00 … 0e. */
#define SEQ35 "000G40R40M30E209185GR38E1W8124GK2GAHC5RR34D1P70X3RFJ0892"
#define SEQ35_GROUPED "000G-40R4-0M30-E209-185G-R38E-1W81-24GK-2GAH-C5RR-34D1-P70X-3RFJ-0892"

static void
rfc4648_vectors(void **state)
{
	static const char rfc_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	char text[32];
	uint8_t back[16];
	for (size_t i = 0; i < sizeof rfc_vectors / sizeof rfc_vectors[0]; i++) {
		const char *in = rfc_vectors[i].in;
		size_t n = strlen(in);
		/* the table itself: the RFC text, mapped, is the expected text */
		for (size_t k = 0; rfc_vectors[i].out[k]; k++) {
			const char *p = strchr(rfc_alphabet, rfc_vectors[i].rfc[k]);
			assert_non_null(p);
			assert_int_equal(LSN_BASE32_ALPHABET[p - rfc_alphabet], rfc_vectors[i].out[k]);
		}
		assert_int_equal(LSN_BASE32_CHARS(n), strlen(rfc_vectors[i].out));
		assert_int_equal(lsn_base32_encode((const uint8_t *)in, n, 0, text, sizeof text),
				 strlen(rfc_vectors[i].out));
		assert_string_equal(text, rfc_vectors[i].out);
		memset(back, 0xaa, sizeof back);
		assert_true(lsn_base32_decode(rfc_vectors[i].out, back, n));
		assert_memory_equal(back, in, n);
	}
}

static void
grouped(void **state)
{
	uint8_t raw[35], back[35];
	char text[80];
	fill_seq(raw, sizeof raw, 0);
	assert_int_equal(lsn_base32_text_len(35, 0), 56);
	assert_int_equal(lsn_base32_text_len(35, 4), 69);       /* LSN_RECOVERY_CODE_TEXT */
	assert_int_equal(lsn_base32_text_len(15, 4), 29);       /* LSN_INVITE_TEXT */
	assert_int_equal(lsn_base32_text_len(0, 4), 0);
	assert_int_equal(lsn_base32_encode(raw, 35, 0, text, sizeof text), 56);
	assert_string_equal(text, SEQ35);
	assert_int_equal(lsn_base32_encode(raw, 35, 4, text, sizeof text), 69);
	assert_string_equal(text, SEQ35_GROUPED);
	assert_int_equal(lsn_base32_encode(raw, 15, 4, text, sizeof text), 29);
	assert_string_equal(text, "000G-40R4-0M30-E209-185G-R38E");
	assert_int_equal(lsn_base32_encode((const uint8_t *)"foobar", 6, 4, text, sizeof text), 12);
	assert_string_equal(text, "CSQP-YRK1-E8");
	assert_true(lsn_base32_decode(SEQ35_GROUPED, back, 35));
	assert_memory_equal(back, raw, 35);
	assert_true(lsn_base32_decode(SEQ35, back, 35));
	assert_memory_equal(back, raw, 35);
	/* all ones: every character is the last of the alphabet */
	memset(raw, 0xff, 6);
	lsn_base32_encode(raw, 5, 0, text, sizeof text);
	assert_string_equal(text, "ZZZZZZZZ");
	lsn_base32_encode(raw, 6, 0, text, sizeof text);    /* 48 ones, 2 zero fill bits */
	assert_string_equal(text, "ZZZZZZZZZW");
}

/* A person retypes: lower case, I/L for 1, O for 0, blanks and dashes
 * anywhere. */
static void
lenient(void **state)
{
	uint8_t raw[35], back[35];
	fill_seq(raw, sizeof raw, 0);
	static const char *const same[] = {
		"000g40r40m30e209185gr38e1w8124gk2gahc5rr34d1p70x3rfj0892",
		"OOOG-4OR4-OM3O-E2O9-I85G-R38E-IW8I-24GK-2GAH-C5RR-34DI-P7OX-3RFJ-O892",
		"000G 40R4 0M30 E209 185G R38E 1W81 24GK 2GAH C5RR 34D1 P70X 3RFJ 0892",
		"-000G40R40M30E209185GR38E1W8124GK2GAHC5RR34D1P70X3RFJ0892-",
		"o0oG40r40m30e2o9l85gR38E1W8124GK2GAHC5RR34D1P70X3RFJ0892",
	};
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
		memset(back, 0, sizeof back);
		if (!lsn_base32_decode(same[i], back, sizeof back))
			fail_msg("refused \"%s\"", same[i]);
		assert_memory_equal(back, raw, sizeof raw);
	}
}

static void
refused(void **state)
{
	uint8_t back[35];
	char text[16];
	static const char *const bad[] = {
		SEQ35 "0",                  /* one character too many */
		"000G40R40M30E209185GR38E1W8124GK2GAHC5RR34D1P70X3RFJ089",   /* one short */
		"000G40R40M30E209185GR38E1W8124GK2GAHC5RR34D1P70X3RFJ089U",  /* U is not in it */
		"000G40R40M30E209185GR38E1W8124GK2GAHC5RR34D1P70X3RFJ089*",
		"000G_40R40M30E209185GR38E1W8124GK2GAHC5RR34D1P70X3RFJ0892",
		"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(back, 0xaa, sizeof back);
		if (lsn_base32_decode(bad[i], back, sizeof back))
			fail_msg("accepted \"%s\"", bad[i]);
		for (size_t k = 0; k < sizeof back; k++)
			assert_int_equal(back[k], 0);      /* wiped */
	}
	assert_false(lsn_base32_decode(NULL, back, sizeof back));
	/* "f" is CR: R is 11000, its last 2 bits are fill and must be zero
	 * (S is 11001, T 11010) */
	assert_true(lsn_base32_decode("CR", back, 1));
	assert_int_equal(back[0], 'f');
	assert_false(lsn_base32_decode("CS", back, 1));
	assert_false(lsn_base32_decode("CT", back, 1));
	/* an output buffer too small: nothing written but the NUL; the exact
	 * size (8 characters and the NUL) is enough */
	assert_int_equal(lsn_base32_encode((const uint8_t *)"fooba", 5, 0, text, 8), 0);
	assert_string_equal(text, "");
	assert_int_equal(lsn_base32_encode((const uint8_t *)"fooba", 5, 0, text, 9), 8);
	assert_string_equal(text, "CSQPYRK1");
	assert_int_equal(lsn_base32_encode((const uint8_t *)"fooba", 5, 4, text, 9), 0);
	assert_int_equal(lsn_base32_encode((const uint8_t *)"fooba", 5, 4, text, 10), 9);
	assert_string_equal(text, "CSQP-YRK1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc4648_vectors),
		cmocka_unit_test(grouped),
		cmocka_unit_test(lenient),
		cmocka_unit_test(refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
