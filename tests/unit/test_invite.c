/* test_invite.c — invite codes (shared/invite.c): Crockford base32 text form,
 * lenient parsing, and the stored hash, with a fixed test vector. */
#include "testutil.h"

#include <ctype.h>

#include <sodium.h>

#include "invite.h"

/* Test vector, computed independently of this code base with python3:
 *
 *   raw = bytes(range(15))                       # 00 01 02 ... 0e
 *   A = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"       # Crockford base32
 *   n = int.from_bytes(raw, "big")
 *   s = "".join(A[(n >> (120 - 5 * (i + 1))) & 31] for i in range(24))
 *   "-".join(s[i:i + 4] for i in range(0, 24, 4))
 *       -> "000G-40R4-0M30-E209-185G-R38E"
 *   hashlib.blake2b(b"liaison-invite-v1" + raw, digest_size=32).hexdigest()
 *       -> "7b9d09cd7c1eb704c894dce38504e32d254b2e13d2ebff3d2ebf6336218b09f4"
 */
#define VECTOR_TEXT "000G-40R4-0M30-E209-185G-R38E"
#define VECTOR_HASH "7b9d09cd7c1eb704c894dce38504e32d254b2e13d2ebff3d2ebf6336218b09f4"

static void
vector(void **state)
{
	uint8_t raw[LSN_INVITE_BYTES], back[LSN_INVITE_BYTES];
	uint8_t hash[LSN_INVITE_HASHBYTES], want[LSN_INVITE_HASHBYTES];
	char text[LSN_INVITE_TEXT + 1];
	fill_seq(raw, sizeof raw, 0);
	lsn_invite_format(raw, text);
	assert_string_equal(text, VECTOR_TEXT);
	assert_true(lsn_invite_parse(VECTOR_TEXT, back));
	assert_memory_equal(raw, back, sizeof raw);
	lsn_invite_hash(raw, hash);
	hex_to_bytes(VECTOR_HASH, want, sizeof want);
	assert_memory_equal(hash, want, sizeof want);
}

static void
edge_values(void **state)
{
	uint8_t raw[LSN_INVITE_BYTES], back[LSN_INVITE_BYTES];
	char text[LSN_INVITE_TEXT + 1];
	memset(raw, 0, sizeof raw);
	lsn_invite_format(raw, text);
	assert_string_equal(text, "0000-0000-0000-0000-0000-0000");
	memset(raw, 0xff, sizeof raw);
	lsn_invite_format(raw, text);
	assert_string_equal(text, "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ");
	assert_true(lsn_invite_parse(text, back));
	assert_memory_equal(raw, back, sizeof raw);
}

static void
random_roundtrip(void **state)
{
	for (int round = 0; round < 1000; round++) {
		uint8_t raw[LSN_INVITE_BYTES], back[LSN_INVITE_BYTES];
		char text[LSN_INVITE_TEXT + 1];
		lsn_invite_random(raw);
		memset(text, 'X', sizeof text);
		lsn_invite_format(raw, text);
		assert_int_equal(strlen(text), LSN_INVITE_TEXT);
		for (int i = 0; i < LSN_INVITE_TEXT; i++) {
			if (i % 5 == 4)
				assert_int_equal(text[i], '-');
			else
				assert_non_null(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", text[i]));
		}
		memset(back, 0, sizeof back);
		assert_true(lsn_invite_parse(text, back));
		assert_memory_equal(raw, back, sizeof raw);

		/* lowercase, no dashes, spaces instead */
		char loose[64];
		size_t o = 0;
		for (int i = 0; i < LSN_INVITE_TEXT; i++) {
			char c = text[i];
			if (c == '-')
				c = (round % 2) ? ' ' : '\0';
			if (c)
				loose[o++] = (char)tolower((unsigned char)c);
		}
		loose[o] = '\0';
		memset(back, 0, sizeof back);
		if (!lsn_invite_parse(loose, back))
			fail_msg("lenient form \"%s\" of %s rejected", loose, text);
		assert_memory_equal(raw, back, sizeof raw);
	}
}

static void
lenient(void **state)
{
	uint8_t raw[LSN_INVITE_BYTES], want[LSN_INVITE_BYTES];
	fill_seq(want, sizeof want, 0);
	const char *forms[] = {
		"000G-40R4-0M30-E209-185G-R38E",
		"000g-40r4-0m30-e209-185g-r38e",
		"000G40R40M30E209185GR38E",
		"000G 40R4 0M30 E209 185G R38E",
		"  000G-40R4 -0M30--E209-185G-R38E  ",
		"OOOG-40R4-0M30-E209-185G-R38E",   /* O -> 0 */
		"ooOG-40R4-0m3o-E2o9-185G-R38E",
		"000G-40R4-0M30-E209-I85G-R38E",   /* I -> 1 */
		"000G-40R4-0M30-E209-l85G-R38E",   /* l -> 1 */
		"000G-40R4-0M30-E209-L85G-R38E",
		"000G-40R4-0M30-E209-i85G-R38E",
	};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		memset(raw, 0xaa, sizeof raw);
		if (!lsn_invite_parse(forms[i], raw))
			fail_msg("lenient form \"%s\" rejected", forms[i]);
		assert_memory_equal(raw, want, sizeof raw);
	}
}

static void
rejects(void **state)
{
	uint8_t raw[LSN_INVITE_BYTES];
	const char *bad[] = {
		"000G-40R4-0M30-E209-185G-R38",    /* 23 characters */
		"000G-40R4-0M30-E209-185G-R38EE",  /* 25 characters */
		"000G-40R4-0M30-E209-185G-R38E-0",
		"000G-40R4-0M30-E209-185G-R38U",   /* U is not Crockford */
		"U00G-40R4-0M30-E209-185G-R38E",
		"000G-40R4-0M30-E209-185G-R38*",
		"000G-40R4-0M30-E209-185G-R38_",
		"000G_40R4_0M30_E209_185G_R38E",   /* underscore is not a separator */
		"000G.40R4.0M30.E209.185G.R38E",
		"000G-40R4-0M30-E209-185G-R3\xc3\xa9", /* non-ASCII */
		"000G-40R4-0M30-E209-185G-R38E\n",
		"000G-40R4-0M30-E209-185G-R38E\t",
		"",
		"----",
		"ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (lsn_invite_parse(bad[i], raw))
			fail_msg("bad code \"%s\" accepted", bad[i]);
	assert_false(lsn_invite_parse(NULL, raw));
}

static void
hash_properties(void **state)
{
	uint8_t a[LSN_INVITE_BYTES], b[LSN_INVITE_BYTES];
	uint8_t ha[LSN_INVITE_HASHBYTES], ha2[LSN_INVITE_HASHBYTES], hb[LSN_INVITE_HASHBYTES];
	lsn_invite_random(a);
	lsn_invite_hash(a, ha);
	lsn_invite_hash(a, ha2);
	assert_memory_equal(ha, ha2, sizeof ha); /* deterministic */
	memcpy(b, a, sizeof b);
	b[LSN_INVITE_BYTES - 1] ^= 1;              /* one bit away */
	lsn_invite_hash(b, hb);
	assert_memory_not_equal(ha, hb, sizeof ha);
	lsn_invite_random(b);
	lsn_invite_hash(b, hb);
	assert_memory_not_equal(ha, hb, sizeof ha);

	/* the label is part of the hash: plain BLAKE2b of raw differs */
	uint8_t plain[LSN_INVITE_HASHBYTES];
	crypto_generichash(plain, sizeof plain, a, sizeof a, NULL, 0);
	assert_memory_not_equal(ha, plain, sizeof ha);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vector),
		cmocka_unit_test(edge_values),
		cmocka_unit_test(random_roundtrip),
		cmocka_unit_test(lenient),
		cmocka_unit_test(rejects),
		cmocka_unit_test(hash_properties),
	};
	return cmocka_run_group_tests_name("invite", tests, NULL, NULL);
}
