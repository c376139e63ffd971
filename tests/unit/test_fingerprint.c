/* test_fingerprint.c — fingerprints and safety numbers (shared/fingerprint.c,
 * CRYPTO.md §2): fixed vectors computed outside this code base, symmetry of
 * the safety number, sensitivity to every input, bounds. */
#include "testutil.h"

#include <sodium.h>

#include "fingerprint.h"

/* ---- vectors (docs/CRYPTO.md "Fingerprint and safety number") --------------
 * user_a = a0 a1 ... af, rpps_a = "10003456786" (11 digits, Luhn-valid)
 * IK_a   = Ed25519 public key of seed 00 01 ... 1f
 * user_b = d0 d1 ... df, rpps_b = "" (not in RPPS)
 * IK_b   = Ed25519 public key of seed 20 21 ... 3f
 *
 * Public keys from OpenSSL 3.0 (not libsodium):
 *   printf '302e020100300506032b657004220420%s' <seed hex> | xxd -r -p > k.der
 *   openssl pkey -inform DER -in k.der -pubout -outform DER | tail -c 32 | xxd -p -c 64
 * Fingerprints with python3's hashlib (tests/unit/crypto_vectors.py):
 *   LP = lambda x: len(x).to_bytes(2, "big") + x
 *   h = blake2b(b"liaison-fpr-v1" + LP(user) + LP(rpps) + ik, digest_size=32).digest()
 *   for _ in range(5199): h = blake2b(h + ik, digest_size=32).digest()
 *   "".join("%05d" % (int.from_bytes(h[5*c:5*c+5], "big") % 100000) for c in range(6))
 */
#define IK_A   "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
#define IK_B   "29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7"
#define RPPS_A "10003456786"
#define FPR_A  "145620605441535129659252501072"
#define FPR_B  "919502920787200575366214122583"
#define FPR_A_NO_RPPS "640385483324234704142482583780"
#define SAFETY "14562 06054 41535 12965 92525 01072 91950 29207 87200 57536 62141 22583"

static uint8_t user_a[16], user_b[16], ik_a[32], ik_b[32];

static int
setup(void **state)
{
	uint8_t seed[32], pk[32], sk[64];
	fill_seq(user_a, 16, 0xa0);
	fill_seq(user_b, 16, 0xd0);
	hex_to_bytes(IK_A, ik_a, sizeof ik_a);
	hex_to_bytes(IK_B, ik_b, sizeof ik_b);
	/* libsodium agrees with OpenSSL on the public keys */
	fill_seq(seed, 32, 0x00);
	crypto_sign_seed_keypair(pk, sk, seed);
	if (memcmp(pk, ik_a, 32) != 0)
		return -1;
	fill_seq(seed, 32, 0x20);
	crypto_sign_seed_keypair(pk, sk, seed);
	return memcmp(pk, ik_b, 32) == 0 ? 0 : -1;
}

static void
fingerprint_vectors(void **state)
{
	char fpr[LSN_FPR_DIGITS + 1];
	lsn_fingerprint(user_a, RPPS_A, ik_a, fpr);
	assert_string_equal(fpr, FPR_A);
	lsn_fingerprint(user_b, "", ik_b, fpr);
	assert_string_equal(fpr, FPR_B);
	lsn_fingerprint(user_b, NULL, ik_b, fpr);   /* NULL is "" */
	assert_string_equal(fpr, FPR_B);
	lsn_fingerprint(user_a, "", ik_a, fpr);
	assert_string_equal(fpr, FPR_A_NO_RPPS);
}

static void
safety_number_vector_and_symmetry(void **state)
{
	char sn_ab[LSN_SAFETY_NUMBER_TEXT + 1], sn_ba[LSN_SAFETY_NUMBER_TEXT + 1];
	lsn_safety_number(user_a, FPR_A, user_b, FPR_B, sn_ab);
	lsn_safety_number(user_b, FPR_B, user_a, FPR_A, sn_ba);
	assert_string_equal(sn_ab, SAFETY);
	assert_string_equal(sn_ba, SAFETY);   /* both people see the same number */
	assert_int_equal(strlen(sn_ab), LSN_SAFETY_NUMBER_TEXT);
	for (int i = 0; i < LSN_SAFETY_NUMBER_TEXT; i++)
		assert_true(i % 6 == 5 ? sn_ab[i] == ' ' : (sn_ab[i] >= '0' && sn_ab[i] <= '9'));
}

static void
every_input_counts(void **state)
{
	char base[LSN_FPR_DIGITS + 1], fpr[LSN_FPR_DIGITS + 1];
	uint8_t u[16], ik[32];
	lsn_fingerprint(user_a, RPPS_A, ik_a, base);
	for (int bit = 0; bit < 8 * 32; bit += 5) {
		memcpy(ik, ik_a, 32);
		ik[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		lsn_fingerprint(user_a, RPPS_A, ik, fpr);
		assert_string_not_equal(fpr, base);
	}
	memcpy(u, user_a, 16);
	u[15] ^= 1;
	lsn_fingerprint(u, RPPS_A, ik_a, fpr);
	assert_string_not_equal(fpr, base);
	lsn_fingerprint(user_a, "10003456794", ik_a, fpr);
	assert_string_not_equal(fpr, base);
	/* an RPPS number of "1" is not the same as none */
	lsn_fingerprint(user_a, "1", ik_a, fpr);
	assert_string_not_equal(fpr, FPR_A_NO_RPPS);
}

static void
bounds(void **state)
{
	char fpr[LSN_FPR_DIGITS + 1], sn[LSN_SAFETY_NUMBER_TEXT + 1];
	char long_rpps[LSN_FPR_RPPS_MAX + 2];
	memset(long_rpps, '1', sizeof long_rpps - 1);
	long_rpps[sizeof long_rpps - 1] = '\0';
	memset(fpr, 'x', sizeof fpr);
	lsn_fingerprint(user_a, long_rpps, ik_a, fpr);
	assert_string_equal(fpr, "");
	long_rpps[LSN_FPR_RPPS_MAX] = '\0';   /* exactly the maximum is accepted */
	lsn_fingerprint(user_a, long_rpps, ik_a, fpr);
	assert_int_equal(strlen(fpr), LSN_FPR_DIGITS);

	char short_fpr[LSN_FPR_DIGITS + 1] = "12345";
	lsn_safety_number(user_a, short_fpr, user_b, FPR_B, sn);
	assert_string_equal(sn, "");
	lsn_safety_number(user_a, FPR_A, user_b, "91950292078720057536621412258x", sn);
	assert_string_equal(sn, "");
	/* same user twice (a user comparing with themselves): still well formed */
	lsn_safety_number(user_a, FPR_A, user_a, FPR_A, sn);
	assert_int_equal(strlen(sn), LSN_SAFETY_NUMBER_TEXT);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fingerprint_vectors),
		cmocka_unit_test(safety_number_vector_and_symmetry),
		cmocka_unit_test(every_input_counts),
		cmocka_unit_test(bounds),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
