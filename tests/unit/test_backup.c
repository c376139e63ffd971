/* test_backup.c — the key backup (shared/backup.c, CRYPTO.md §7): derived
 * keys, passphrase, recovery code, session entries and the identity blob,
 * with vectors computed outside this code base; typo detection; every AD
 * input bound. */
#include "testutil.h"

#include <stdlib.h>

#include <sodium.h>

#include "backup.h"

/* ---- vectors (docs/CRYPTO.md "Key backup") ---------------------------------
 * RK = 00 01 ... 1f
 * BK, IKK: crypto_kdf_derive_from_key = keyed BLAKE2b (python3 hashlib):
 *   blake2b(b"", digest_size=32, key=RK, salt=id.to_bytes(8, "little") + bytes(8),
 *           person=b"lsn-bkup" + bytes(8))            (id 1; "lsn-idnt" with id 2)
 * Recovery code: raw = RK + blake2b(b"liaison-rk-v1" + RK, digest_size=32)[:3]
 *   (checksum eb 25 16), 280 bits in Crockford base32, most significant first,
 *   14 groups of 4 joined by "-".
 * Passphrase: the reference argon2 tool (Debian package argon2):
 *   echo -n "correct horse battery staple" | argon2 liaison-salt-16b -id -t 3 -k 262144 -p 1 -l 32 -r
 *   (t = 3, m = 256 MiB, p = 1: libsodium's OPSLIMIT/MEMLIMIT_MODERATE)
 * Entry: user a0..af, channel f0..ff, session_id 29ac..6dd7 (Ed25519 public key
 *   of seed 20..3f), first_index 5, nonce 80..97, data {"first_index":5,"chain_key":"..."}
 * Identity: user a0..af, IK = Ed25519 seed 00..1f (IK_pk 03a1..31b8), nonce 80..97
 * The AEAD (XChaCha20-Poly1305) by the from-scratch Python implementation in
 * tests/unit/crypto_vectors.py, checked against the RFC 8439 and
 * draft-irtf-cfrg-xchacha-03 vectors.
 */
#define BK    "f761783de486f28860780ae700af0e81bfdf45341f87844059cf445f3c998780"
#define IKK   "db76042a4d3da60cc68d5a8b15198ac5f32c21a28c80511d916acb3129f967ad"
#define RCODE "000G-40R4-0M30-E209-185G-R38E-1W81-24GK-2GAH-C5RR-34D1-P70X-3RFY-P98P"
#define PASS_RK "14663ddd27e64be4e5a113aaeab3411cc29930b0ff8a5073db9696e2ae435fb4"
#define SESSION_ID "29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7"
#define BK_DATA "{\"first_index\":5,\"chain_key\":\"...\"}"
#define BK_ENTRY                                                                          \
	"01808182838485868788898a8b8c8d8e8f90919293949596976ea7276fd03c12e0e7a73a8f2c76d5" \
	"50ec74ba7326db2eb2ac54512e0a3fce129a8f1fcf35c6e7fbc97cf88fa2fa4dbcf721f9"
#define IK_BLOB                                                                           \
	"01808182838485868788898a8b8c8d8e8f909192939495969745446621453bff499fdac637208135" \
	"436a2f8ca64a946ae33242303d3d27168cb6d2d1d113b54d500d77bd8932c7e65580538eb5190b76" \
	"4f6c412f490415ddead51f7b688e52be32d3db4b8111614d16"

static uint8_t rk[32], bk[32], ikk[32], user[16], channel[16], session_id[32], nonce[24];
static uint8_t ik_pk[32], ik_sk[64];

static int
setup(void **state)
{
	uint8_t seed[32];
	fill_seq(rk, 32, 0x00);
	lsn_backup_keys(rk, bk, ikk);
	fill_seq(user, 16, 0xa0);
	fill_seq(channel, 16, 0xf0);
	fill_seq(nonce, 24, 0x80);
	fill_seq(seed, 32, 0x00);
	crypto_sign_seed_keypair(ik_pk, ik_sk, seed);
	hex_to_bytes(SESSION_ID, session_id, sizeof session_id);
	return 0;
}

static void
check_hex(const uint8_t *got, size_t len, const char *hex)
{
	uint8_t want[256];
	size_t n = hex_to_bytes(hex, want, sizeof want);
	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
}

/* ---- keys ------------------------------------------------------------------- */

static void
key_vectors(void **state)
{
	check_hex(bk, 32, BK);
	check_hex(ikk, 32, IKK);
	uint8_t r1[32], r2[32];
	lsn_backup_rk_random(r1);
	lsn_backup_rk_random(r2);
	assert_memory_not_equal(r1, r2, 32);
}

static void
passphrase_vector(void **state)
{
	uint8_t salt[16], out[32];
	memcpy(salt, "liaison-salt-16b", 16);
	assert_int_equal(lsn_backup_rk_from_passphrase("correct horse battery staple", salt, out), 0);
	check_hex(out, 32, PASS_RK);
	memset(out, 0xaa, sizeof out);
	assert_int_equal(lsn_backup_rk_from_passphrase(NULL, salt, out), -1);
	uint8_t zero[32] = {0};
	assert_memory_equal(out, zero, 32);
}

/* ---- recovery code ------------------------------------------------------------ */

static void
recovery_code_vector(void **state)
{
	char text[LSN_RECOVERY_CODE_TEXT + 1];
	uint8_t back[32];
	lsn_recovery_code_format(rk, text);
	assert_string_equal(text, RCODE);
	assert_int_equal(strlen(text), LSN_RECOVERY_CODE_TEXT);
	assert_true(lsn_recovery_code_parse(RCODE, back));
	assert_memory_equal(back, rk, 32);
	/* lenient spellings: case, no dashes, spaces, O for 0, I and L for 1 */
	static const char *const same[] = {
		"000g-40r4-0m30-e209-185g-r38e-1w81-24gk-2gah-c5rr-34d1-p70x-3rfy-p98p",
		"000G40R40M30E209185GR38E1W8124GK2GAHC5RR34D1P70X3RFYP98P",
		"000G 40R4 0M30 E209 185G R38E 1W81 24GK 2GAH C5RR 34D1 P70X 3RFY P98P",
		"OOOG-4OR4-OM3O-E2O9-I85G-R38E-lW8I-24GK-2GAH-C5RR-34DL-P7OX-3RFY-P98P",
	};
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
		memset(back, 0, sizeof back);
		assert_true(lsn_recovery_code_parse(same[i], back));
		assert_memory_equal(back, rk, 32);
	}
	/* random keys round-trip */
	for (int i = 0; i < 50; i++) {
		uint8_t k[32];
		lsn_backup_rk_random(k);
		lsn_recovery_code_format(k, text);
		assert_true(lsn_recovery_code_parse(text, back));
		assert_memory_equal(back, k, 32);
	}
}

static void
recovery_code_typos(void **state)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	char text[LSN_RECOVERY_CODE_TEXT + 1];
	uint8_t out[32], zero[32] = {0};
	int tried = 0;
	/* every single-character substitution, at every position */
	for (size_t pos = 0; pos < LSN_RECOVERY_CODE_TEXT; pos++) {
		if (RCODE[pos] == '-')
			continue;
		for (size_t a = 0; a < 32; a++) {
			if (alphabet[a] == RCODE[pos])
				continue;
			memcpy(text, RCODE, sizeof text);
			text[pos] = alphabet[a];
			memset(out, 0x55, sizeof out);
			if (lsn_recovery_code_parse(text, out))
				fail_msg("typo accepted: %s", text);
			assert_memory_equal(out, zero, 32);   /* nothing half-parsed left */
			tried++;
		}
	}
	assert_int_equal(tried, 56 * 31);
	/* every swap of two adjacent different characters */
	for (size_t pos = 0; pos + 1 < LSN_RECOVERY_CODE_TEXT; pos++) {
		memcpy(text, RCODE, sizeof text);
		if (text[pos] == '-' || text[pos + 1] == '-' || text[pos] == text[pos + 1])
			continue;
		char c = text[pos];
		text[pos] = text[pos + 1];
		text[pos + 1] = c;
		assert_false(lsn_recovery_code_parse(text, out));
	}
	/* wrong lengths and characters */
	assert_false(lsn_recovery_code_parse(RCODE "0", out));
	memcpy(text, RCODE, sizeof text);
	text[LSN_RECOVERY_CODE_TEXT - 1] = '\0';
	assert_false(lsn_recovery_code_parse(text, out));
	memcpy(text, RCODE, sizeof text);
	text[10] = 'U';
	assert_false(lsn_recovery_code_parse(text, out));
	text[10] = '_';
	assert_false(lsn_recovery_code_parse(text, out));
	assert_false(lsn_recovery_code_parse("", out));
	assert_false(lsn_recovery_code_parse(NULL, out));
	/* an invite code (24 characters) is not a recovery code */
	assert_false(lsn_recovery_code_parse("000G-40R4-0M30-E209-185G-R38E", out));
}

/* ---- session entries ---------------------------------------------------------- */

static void
entry_vector(void **state)
{
	uint8_t *blob = NULL, *data = NULL;
	size_t blob_len, data_len;
	assert_int_equal(lsn_backup_seal_det(bk, user, channel, session_id, 5, nonce,
					     (const uint8_t *)BK_DATA, strlen(BK_DATA), &blob,
					     &blob_len), 0);
	check_hex(blob, blob_len, BK_ENTRY);
	assert_int_equal(blob_len, LSN_BACKUP_OVERHEAD + strlen(BK_DATA));
	assert_int_equal(lsn_backup_open(bk, user, channel, session_id, 5, blob, blob_len, &data,
					 &data_len), 0);
	assert_int_equal(data_len, strlen(BK_DATA));
	assert_memory_equal(data, BK_DATA, data_len);
	free(data);
	free(blob);
}

static int
open_entry(const uint8_t key[32], const uint8_t u[16], const uint8_t c[16], const uint8_t sid[32],
	   uint32_t first, const uint8_t *blob, size_t len)
{
	uint8_t *data = (uint8_t *)1;
	size_t data_len;
	int rc = lsn_backup_open(key, u, c, sid, first, blob, len, &data, &data_len);
	if (rc == 0)
		free(data);
	else
		assert_null(data);
	return rc;
}

static void
entry_binds_its_ad(void **state)
{
	uint8_t blob[256], other[32];
	size_t len = hex_to_bytes(BK_ENTRY, blob, sizeof blob);
	assert_int_equal(open_entry(bk, user, channel, session_id, 5, blob, len), 0);
	memcpy(other, user, 16);
	other[0] ^= 1;
	assert_int_equal(open_entry(bk, other, channel, session_id, 5, blob, len), -1);
	memcpy(other, channel, 16);
	other[15] ^= 1;
	assert_int_equal(open_entry(bk, user, other, session_id, 5, blob, len), -1);
	memcpy(other, session_id, 32);
	other[31] ^= 1;
	assert_int_equal(open_entry(bk, user, channel, other, 5, blob, len), -1);
	/* an entry cannot pass for one at a lower index (the server keeps the lowest) */
	assert_int_equal(open_entry(bk, user, channel, session_id, 4, blob, len), -1);
	assert_int_equal(open_entry(bk, user, channel, session_id, 6, blob, len), -1);
	/* another key: IKK, or another recovery key */
	assert_int_equal(open_entry(ikk, user, channel, session_id, 5, blob, len), -1);
	memcpy(other, bk, 32);
	other[0] ^= 1;
	assert_int_equal(open_entry(other, user, channel, session_id, 5, blob, len), -1);
	/* every byte altered, truncated, extended */
	for (size_t i = 0; i < len; i++) {
		blob[i] ^= 0x10;
		assert_int_equal(open_entry(bk, user, channel, session_id, 5, blob, len), -1);
		blob[i] ^= 0x10;
	}
	assert_int_equal(open_entry(bk, user, channel, session_id, 5, blob, len - 1), -1);
	assert_int_equal(open_entry(bk, user, channel, session_id, 5, blob, len + 1), -1);
	assert_int_equal(open_entry(bk, user, channel, session_id, 5, blob, LSN_BACKUP_OVERHEAD - 1),
			 -1);
	assert_int_equal(open_entry(bk, user, channel, session_id, 5, NULL, 0), -1);
}

static void
entry_sizes_and_randomness(void **state)
{
	uint8_t *b1, *b2, *big = calloc(1, LSN_BACKUP_MAX_DATA + 1);
	size_t l1, l2;
	assert_non_null(big);
	assert_int_equal(lsn_backup_seal(bk, user, channel, session_id, 0, big, LSN_BACKUP_MAX_DATA,
					 &b1, &l1), 0);
	assert_int_equal(open_entry(bk, user, channel, session_id, 0, b1, l1), 0);
	free(b1);
	b1 = (uint8_t *)1;
	assert_int_equal(lsn_backup_seal(bk, user, channel, session_id, 0, big,
					 LSN_BACKUP_MAX_DATA + 1, &b1, &l1), -1);
	assert_null(b1);
	free(big);
	/* fresh nonce each time */
	assert_int_equal(lsn_backup_seal(bk, user, channel, session_id, 0, (const uint8_t *)"s", 1,
					 &b1, &l1), 0);
	assert_int_equal(lsn_backup_seal(bk, user, channel, session_id, 0, (const uint8_t *)"s", 1,
					 &b2, &l2), 0);
	assert_memory_not_equal(b1 + 1, b2 + 1, 24);
	free(b1);
	free(b2);
	/* empty data */
	assert_int_equal(lsn_backup_seal(bk, user, channel, session_id, 0, NULL, 0, &b1, &l1), 0);
	assert_int_equal(l1, LSN_BACKUP_OVERHEAD);
	assert_int_equal(open_entry(bk, user, channel, session_id, 0, b1, l1), 0);
	/* an unknown version is refused even when the rest is intact */
	b1[0] = 2;
	assert_int_equal(open_entry(bk, user, channel, session_id, 0, b1, l1), -1);
	free(b1);
}

/* ---- identity ------------------------------------------------------------------ */

static void
identity_vector(void **state)
{
	uint8_t *blob = NULL, sk[64];
	size_t len;
	assert_int_equal(lsn_backup_seal_identity_det(ikk, user, ik_pk, ik_sk, nonce, &blob, &len), 0);
	check_hex(blob, len, IK_BLOB);
	assert_int_equal(len, LSN_BACKUP_IDENTITY_BYTES);
	assert_int_equal(lsn_backup_open_identity(ikk, user, ik_pk, blob, len, sk), 0);
	assert_memory_equal(sk, ik_sk, 64);
	free(blob);
	/* from the recovery code alone: parse, derive IKK, open */
	uint8_t rk2[32], bk2[32], ikk2[32];
	assert_true(lsn_recovery_code_parse(RCODE, rk2));
	lsn_backup_keys(rk2, bk2, ikk2);
	uint8_t fixed[LSN_BACKUP_IDENTITY_BYTES];
	hex_to_bytes(IK_BLOB, fixed, sizeof fixed);
	assert_int_equal(lsn_backup_open_identity(ikk2, user, ik_pk, fixed, sizeof fixed, sk), 0);
	assert_memory_equal(sk, ik_sk, 64);
	sodium_memzero(sk, sizeof sk);
}

static void
identity_refusals(void **state)
{
	uint8_t blob[LSN_BACKUP_IDENTITY_BYTES + 1], sk[64], other[32], zero[64] = {0};
	size_t len = hex_to_bytes(IK_BLOB, blob, sizeof blob);
	memcpy(other, user, 16);
	other[0] ^= 1;
	assert_int_equal(lsn_backup_open_identity(ikk, other, ik_pk, blob, len, sk), -1);
	assert_memory_equal(sk, zero, 64);
	memcpy(other, ik_pk, 32);
	other[0] ^= 1;
	assert_int_equal(lsn_backup_open_identity(ikk, user, other, blob, len, sk), -1);
	assert_int_equal(lsn_backup_open_identity(bk, user, ik_pk, blob, len, sk), -1);
	for (size_t i = 0; i < len; i++) {
		blob[i] ^= 0x01;
		assert_int_equal(lsn_backup_open_identity(ikk, user, ik_pk, blob, len, sk), -1);
		blob[i] ^= 0x01;
	}
	assert_int_equal(lsn_backup_open_identity(ikk, user, ik_pk, blob, len - 1, sk), -1);
	assert_int_equal(lsn_backup_open_identity(ikk, user, ik_pk, blob, len + 1, sk), -1);
	assert_memory_equal(sk, zero, 64);

	/* a blob whose secret key is not IK_pk's (a buggy or hostile writer) */
	uint8_t pk2[32], sk2[64], *bad;
	size_t bad_len;
	crypto_sign_keypair(pk2, sk2);
	assert_int_equal(lsn_backup_seal_identity(ikk, user, ik_pk, sk2, &bad, &bad_len), 0);
	assert_int_equal(lsn_backup_open_identity(ikk, user, ik_pk, bad, bad_len, sk), -1);
	assert_memory_equal(sk, zero, 64);
	free(bad);
	sodium_memzero(sk2, sizeof sk2);
}

static void
entry_and_identity_are_separate(void **state)
{
	/* 64 bytes of session data under IKK do not open as an identity, and the
	 * identity blob does not open as a session entry, even under one key */
	uint8_t *blob, sk[64], *data;
	size_t len, data_len;
	assert_int_equal(lsn_backup_seal(ikk, user, channel, session_id, 0, ik_sk, 64, &blob, &len),
			 0);
	assert_int_equal(len, LSN_BACKUP_IDENTITY_BYTES);
	assert_int_equal(lsn_backup_open_identity(ikk, user, ik_pk, blob, len, sk), -1);
	free(blob);
	assert_int_equal(lsn_backup_seal_identity(ikk, user, ik_pk, ik_sk, &blob, &len), 0);
	assert_int_equal(lsn_backup_open(ikk, user, channel, session_id, 0, blob, len, &data,
					 &data_len), -1);
	free(blob);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(key_vectors),
		cmocka_unit_test(passphrase_vector),
		cmocka_unit_test(recovery_code_vector),
		cmocka_unit_test(recovery_code_typos),
		cmocka_unit_test(entry_vector),
		cmocka_unit_test(entry_binds_its_ad),
		cmocka_unit_test(entry_sizes_and_randomness),
		cmocka_unit_test(identity_vector),
		cmocka_unit_test(identity_refusals),
		cmocka_unit_test(entry_and_identity_are_separate),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
