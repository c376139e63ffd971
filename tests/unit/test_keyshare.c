/* test_keyshare.c — the pairwise key-share envelope (shared/keyshare.c,
 * CRYPTO.md §3): a byte-exact vector computed outside this code base, and
 * every reason lsn_ks_open can refuse an envelope. */
#include "testutil.h"

#include <stdlib.h>

#include <sodium.h>

#include "keyshare.h"

/* ---- vector (docs/CRYPTO.md "Key-share envelope") --------------------------
 * from = (user a0..af, device b0..bf), DK_A = Ed25519 seed 00..1f
 * to   = (user d0..df, device e0..ef), ak_id c0..cf, AK_B secret 40..5f
 * E secret 60..7f, nonce 80..97, share_id 10..1f
 * plaintext = {"type":"room_key","index":0}   (29 bytes ASCII)
 *
 * Computed by tests/unit/crypto_vectors.py without libsodium:
 *  - AK_B_pk, E_pk and the X25519 secret q with OpenSSL 3.0
 *    (PKCS#8 prefix 302e020100300506032b656e04220420 || secret;
 *     openssl pkey -pubout; openssl pkeyutl -derive -inkey e.pem -peerkey akb.pem);
 *  - K = BLAKE2b-512(q || E_pk || AK_B_pk)[32:64] (hashlib), which is what
 *    crypto_kx_client_session_keys calls tx and the server side calls rx;
 *  - XChaCha20-Poly1305 with a from-scratch Python implementation of RFC 8439
 *    and draft-irtf-cfrg-xchacha-03, itself checked against the RFC vectors;
 *  - the signature with openssl pkeyutl -sign -rawin over
 *    "liaison-ks-sig-v1" || AD || nonce || ct.
 */
#define AK_B_PK "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a"
#define KS_K    "4586a1ddb924647c5937cce718df52d0fe60f0498cda805ce061932480bfb2dc"
#define KS_PLAIN "{\"type\":\"room_key\",\"index\":0}"
#define KS_ENV                                                                            \
	"016c696169736f6e2d6b732d76310010a0a1a2a3a4a5a6a7a8a9aaabacadaeaf0010b0b1b2b3b4b5" \
	"b6b7b8b9babbbcbdbebf0010d0d1d2d3d4d5d6d7d8d9dadbdcdddedf0010e0e1e2e3e4e5e6e7e8e9" \
	"eaebecedeeef0010c0c1c2c3c4c5c6c7c8c9cacbcccdcecf675dd574ed7789310b3d2e7681f3790b" \
	"466c773b1521fecf36577958371ea52f101112131415161718191a1b1c1d1e1f8081828384858687" \
	"88898a8b8c8d8e8f90919293949596970000002dd345baa5aca935abebacaad6c64ea4667c4a0089" \
	"cfea8a45fd958637a0a2a9473bfc4bf630b4950a17d452f5d9c9188c5380245bcc697d3e0972e2f0" \
	"e9efe9a242bd8a294d5f847a5349a38f6ddcb6dd2a43c59552312298a202c8b9ba272c36df662c9a" \
	"3cf4468bb756994204"

/* Offsets in the envelope, from the documented layout. */
#define OFF_FROM_USER (1 + 13 + 2)
#define OFF_TO_DEVICE (1 + 13 + 3 * 18 + 2)
#define OFF_E_PK      (1 + 13 + 5 * 18)
#define OFF_SHARE     (OFF_E_PK + 32)
#define OFF_NONCE     (1 + 151)
#define OFF_CTLEN     (OFF_NONCE + 24)
#define OFF_CT        (OFF_CTLEN + 4)

struct fixture {
	struct lsn_ks_addr a, b;
	uint8_t ak_id[16];
	uint8_t dk_pk[32], dk_sk[64];
	uint8_t ak_pk[32], ak_sk[32];
	uint8_t e_sk[32], nonce[24], share_id[16];
};
static struct fixture f;

static int
setup(void **state)
{
	uint8_t seed[32];
	fill_seq(f.a.user, 16, 0xa0);
	fill_seq(f.a.device, 16, 0xb0);
	fill_seq(f.b.user, 16, 0xd0);
	fill_seq(f.b.device, 16, 0xe0);
	fill_seq(f.ak_id, 16, 0xc0);
	fill_seq(seed, 32, 0x00);
	crypto_sign_seed_keypair(f.dk_pk, f.dk_sk, seed);
	fill_seq(f.ak_sk, 32, 0x40);
	crypto_scalarmult_base(f.ak_pk, f.ak_sk);
	fill_seq(f.e_sk, 32, 0x60);
	fill_seq(f.nonce, 24, 0x80);
	fill_seq(f.share_id, 16, 0x10);
	return 0;
}

static uint8_t *
seal_random(const uint8_t *plain, size_t len, size_t *env_len)
{
	uint8_t *env = NULL;
	assert_int_equal(lsn_ks_seal(&f.a, f.dk_sk, &f.b, f.ak_id, f.ak_pk, plain, len, &env,
				     env_len), 0);
	return env;
}

/* Parse and open as device B with the right keys. */
static enum lsn_ks_result
open_as_b(const uint8_t *env, size_t len, const uint8_t dk_pk[32], uint8_t **plain,
	  size_t *plain_len)
{
	struct lsn_ks_parsed p;
	enum lsn_ks_result r = lsn_ks_parse(env, len, &p);
	if (r != LSN_KS_OK) {
		*plain = NULL;
		return r;
	}
	return lsn_ks_open(&p, &f.b, dk_pk, f.ak_pk, f.ak_sk, plain, plain_len);
}

/* Replace the signature of env by one of DK_A over label || AD || nonce || ct. */
static void
resign(uint8_t *env, size_t len, const char *label)
{
	size_t lab = strlen(label);
	uint8_t *msg = malloc(lab + len);
	assert_non_null(msg);
	memcpy(msg, label, lab);
	/* AD || nonce, then ct (skipping the 4-byte ct_len) */
	memcpy(msg + lab, env + 1, 151 + 24);
	memcpy(msg + lab + 151 + 24, env + OFF_CT, len - OFF_CT - 64);
	size_t n = lab + 151 + 24 + (len - OFF_CT - 64);
	crypto_sign_detached(env + len - 64, NULL, msg, n, f.dk_sk);
	free(msg);
}

/* ---- vector ---------------------------------------------------------------- */

static void
vector(void **state)
{
	uint8_t want[512], ak_pk[32], k[32], rx[32], tx[32], e_pk[32];
	size_t want_len = hex_to_bytes(KS_ENV, want, sizeof want);
	hex_to_bytes(AK_B_PK, ak_pk, sizeof ak_pk);
	assert_memory_equal(ak_pk, f.ak_pk, 32);   /* libsodium X25519 = OpenSSL X25519 */
	/* K, as both ends of crypto_kx compute it */
	hex_to_bytes(KS_K, k, sizeof k);
	crypto_scalarmult_base(e_pk, f.e_sk);
	assert_int_equal(crypto_kx_client_session_keys(rx, tx, e_pk, f.e_sk, f.ak_pk), 0);
	assert_memory_equal(tx, k, 32);
	assert_int_equal(crypto_kx_server_session_keys(rx, tx, f.ak_pk, f.ak_sk, e_pk), 0);
	assert_memory_equal(rx, k, 32);

	uint8_t *env = NULL;
	size_t env_len = 0;
	assert_int_equal(lsn_ks_seal_det(&f.a, f.dk_sk, &f.b, f.ak_id, f.ak_pk, f.e_sk, f.nonce,
					 f.share_id, (const uint8_t *)KS_PLAIN, strlen(KS_PLAIN),
					 &env, &env_len), 0);
	assert_int_equal(env_len, want_len);
	assert_int_equal(env_len, LSN_KS_OVERHEAD + strlen(KS_PLAIN));
	assert_memory_equal(env, want, want_len);
	free(env);

	struct lsn_ks_parsed p;
	assert_int_equal(lsn_ks_parse(want, want_len, &p), LSN_KS_OK);
	assert_int_equal(p.version, 1);
	assert_memory_equal(p.from.user, f.a.user, 16);
	assert_memory_equal(p.from.device, f.a.device, 16);
	assert_memory_equal(p.to.user, f.b.user, 16);
	assert_memory_equal(p.to.device, f.b.device, 16);
	assert_memory_equal(p.ak_id, f.ak_id, 16);
	assert_memory_equal(p.e_pk, e_pk, 32);
	assert_memory_equal(p.share_id, f.share_id, 16);
	assert_ptr_equal(p.ad, want + 1);
	assert_int_equal(p.ad_len, 151);
	assert_ptr_equal(p.nonce, want + OFF_NONCE);
	assert_ptr_equal(p.ct, want + OFF_CT);
	assert_int_equal(p.ct_len, strlen(KS_PLAIN) + 16);
	assert_ptr_equal(p.sig, want + want_len - 64);

	uint8_t *plain = NULL;
	size_t plain_len = 0;
	assert_int_equal(lsn_ks_open(&p, &f.b, f.dk_pk, f.ak_pk, f.ak_sk, &plain, &plain_len),
			 LSN_KS_OK);
	assert_int_equal(plain_len, strlen(KS_PLAIN));
	assert_memory_equal(plain, KS_PLAIN, plain_len);
	free(plain);
}

/* ---- behaviour ------------------------------------------------------------- */

static void
round_trip_fresh_randomness(void **state)
{
	static const uint8_t msg[] = "chain key material";
	size_t l1, l2;
	uint8_t *e1 = seal_random(msg, sizeof msg, &l1), *e2 = seal_random(msg, sizeof msg, &l2);
	assert_int_equal(l1, l2);
	/* fresh E, share_id and nonce every time */
	assert_memory_not_equal(e1 + OFF_E_PK, e2 + OFF_E_PK, 32);
	assert_memory_not_equal(e1 + OFF_SHARE, e2 + OFF_SHARE, 16);
	assert_memory_not_equal(e1 + OFF_NONCE, e2 + OFF_NONCE, 24);
	uint8_t *plain;
	size_t plain_len;
	assert_int_equal(open_as_b(e1, l1, f.dk_pk, &plain, &plain_len), LSN_KS_OK);
	assert_int_equal(plain_len, sizeof msg);
	assert_memory_equal(plain, msg, sizeof msg);
	free(plain);
	free(e1);
	free(e2);
}

static void
sizes(void **state)
{
	uint8_t *big = calloc(1, LSN_KS_MAX_PLAIN + 1), *env, *plain;
	size_t len, plain_len;
	assert_non_null(big);
	env = seal_random(NULL, 0, &len);   /* empty plaintext */
	assert_int_equal(open_as_b(env, len, f.dk_pk, &plain, &plain_len), LSN_KS_OK);
	assert_int_equal(plain_len, 0);
	free(plain);
	free(env);
	env = seal_random(big, LSN_KS_MAX_PLAIN, &len);
	assert_int_equal(len, LSN_KS_MAX_BYTES);
	assert_int_equal(open_as_b(env, len, f.dk_pk, &plain, &plain_len), LSN_KS_OK);
	free(plain);
	free(env);
	env = (uint8_t *)1;
	assert_int_equal(lsn_ks_seal(&f.a, f.dk_sk, &f.b, f.ak_id, f.ak_pk, big,
				     LSN_KS_MAX_PLAIN + 1, &env, &len), -1);
	assert_null(env);
	free(big);
}

static void
refuses_low_order_agreement_key(void **state)
{
	uint8_t zero_pk[32] = {0}, *env = NULL;
	size_t len;
	assert_int_equal(lsn_ks_seal(&f.a, f.dk_sk, &f.b, f.ak_id, zero_pk, (const uint8_t *)"x",
				     1, &env, &len), -1);
	assert_null(env);
}

static void
not_for_me(void **state)
{
	size_t len;
	uint8_t *env = seal_random((const uint8_t *)"k", 1, &len), *plain;
	size_t plain_len;
	struct lsn_ks_parsed p;
	assert_int_equal(lsn_ks_parse(env, len, &p), LSN_KS_OK);
	struct lsn_ks_addr other = f.b;
	other.device[0] ^= 1;   /* another device of the same user */
	assert_int_equal(lsn_ks_open(&p, &other, f.dk_pk, f.ak_pk, f.ak_sk, &plain, &plain_len),
			 LSN_KS_NOT_FOR_ME);
	assert_null(plain);
	other = f.b;
	other.user[15] ^= 1;    /* another user */
	assert_int_equal(lsn_ks_open(&p, &other, f.dk_pk, f.ak_pk, f.ak_sk, &plain, &plain_len),
			 LSN_KS_NOT_FOR_ME);
	/* the sender's own address is not the recipient's either */
	assert_int_equal(lsn_ks_open(&p, &f.a, f.dk_pk, f.ak_pk, f.ak_sk, &plain, &plain_len),
			 LSN_KS_NOT_FOR_ME);
	/* re-addressing the envelope in transit: refused by the signature */
	env[OFF_TO_DEVICE] ^= 1;
	other = f.b;
	other.device[0] ^= 1;
	assert_int_equal(lsn_ks_parse(env, len, &p), LSN_KS_OK);
	assert_int_equal(lsn_ks_open(&p, &other, f.dk_pk, f.ak_pk, f.ak_sk, &plain, &plain_len),
			 LSN_KS_BAD_SIGNATURE);
	free(env);
}

static void
tampering_breaks_the_signature(void **state)
{
	size_t len;
	uint8_t *env = seal_random((const uint8_t *)"room key", 8, &len), *plain;
	size_t plain_len;
	/* every byte of AD (past the checked layout: ids, E_pk, share_id), nonce,
	 * ct and sig; the recipient's address is covered by not_for_me */
	for (size_t i = 1; i < len; i++) {
		bool layout = i < 1 + 13 || (i >= OFF_CTLEN && i < OFF_CT) ||
			      (i >= 1 + 13 + 2 * 18 && i < 1 + 13 + 4 * 18);
		for (size_t j = 0; j < 5; j++)   /* LP length bytes */
			if (i == 1 + 13 + 18 * j || i == 1 + 13 + 18 * j + 1)
				layout = true;
		if (layout)
			continue;
		env[i] ^= 0x20;
		enum lsn_ks_result r = open_as_b(env, len, f.dk_pk, &plain, &plain_len);
		if (r != LSN_KS_BAD_SIGNATURE)
			fail_msg("byte %zu altered: %s", i, lsn_ks_result_text(r));
		assert_null(plain);
		env[i] ^= 0x20;
	}
	/* the sender's claimed address is signed too */
	env[OFF_FROM_USER] ^= 1;
	assert_int_equal(open_as_b(env, len, f.dk_pk, &plain, &plain_len), LSN_KS_BAD_SIGNATURE);
	env[OFF_FROM_USER] ^= 1;
	/* another device key (say, another device of the same user) */
	uint8_t pk2[32], sk2[64];
	crypto_sign_keypair(pk2, sk2);
	assert_int_equal(open_as_b(env, len, pk2, &plain, &plain_len), LSN_KS_BAD_SIGNATURE);
	assert_int_equal(open_as_b(env, len, f.dk_pk, &plain, &plain_len), LSN_KS_OK);
	free(plain);
	free(env);
}

/* lsn_ks_verify: the same refusals as lsn_ks_open up to the signature,
 * without any agreement key (a share sealed to a key the recipient erased). */
static void
verify_without_agreement_key(void **state)
{
	size_t len;
	uint8_t *env = seal_random((const uint8_t *)"room key", 8, &len);
	struct lsn_ks_parsed p;
	assert_int_equal(lsn_ks_parse(env, len, &p), LSN_KS_OK);
	assert_memory_equal(p.ak_id, f.ak_id, 16);
	assert_int_equal(lsn_ks_verify(&p, &f.b, f.dk_pk), LSN_KS_OK);
	assert_int_equal(lsn_ks_verify(&p, &f.a, f.dk_pk), LSN_KS_NOT_FOR_ME);
	uint8_t other_pk[32], other_sk[64];
	crypto_sign_keypair(other_pk, other_sk);
	assert_int_equal(lsn_ks_verify(&p, &f.b, other_pk), LSN_KS_BAD_SIGNATURE);
	/* the named ak_id is under the signature */
	env[1 + 13 + 4 * 18 + 2] ^= 1;
	assert_int_equal(lsn_ks_parse(env, len, &p), LSN_KS_OK);
	assert_int_equal(lsn_ks_verify(&p, &f.b, f.dk_pk), LSN_KS_BAD_SIGNATURE);
	struct lsn_ks_parsed blank;
	memset(&blank, 0, sizeof blank);
	assert_int_equal(lsn_ks_verify(&blank, &f.b, f.dk_pk), LSN_KS_BAD_FORMAT);
	free(env);
}

static void
decrypt_failed(void **state)
{
	size_t len, plain_len;
	uint8_t *env = seal_random((const uint8_t *)"room key", 8, &len), *plain;
	struct lsn_ks_parsed p;
	assert_int_equal(lsn_ks_parse(env, len, &p), LSN_KS_OK);
	/* an older agreement key of ours (wrong ak_id picked, or rotated away) */
	uint8_t old_pk[32], old_sk[32];
	crypto_kx_keypair(old_pk, old_sk);
	assert_int_equal(lsn_ks_open(&p, &f.b, f.dk_pk, old_pk, old_sk, &plain, &plain_len),
			 LSN_KS_DECRYPT_FAILED);
	assert_null(plain);
	/* the right sender signed a ciphertext that does not open (a buggy or
	 * hostile sender): the signature passes, the AEAD refuses */
	env[OFF_CT] ^= 1;
	resign(env, len, "liaison-ks-sig-v1");
	assert_int_equal(open_as_b(env, len, f.dk_pk, &plain, &plain_len), LSN_KS_DECRYPT_FAILED);
	assert_null(plain);
	free(env);
}

static void
domain_separation(void **state)
{
	size_t len, plain_len;
	uint8_t *env = seal_random((const uint8_t *)"room key", 8, &len), *plain;
	/* the same bytes signed by the same DK under any other purpose's label */
	static const char *const others[] = {"liaison-msg-sig-v1", "liaison-dev-v1",
					     "liaison-ak-v1", "liaison-login-v1", "liaison-ks-v1", ""};
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		resign(env, len, others[i]);
		assert_int_equal(open_as_b(env, len, f.dk_pk, &plain, &plain_len),
				 LSN_KS_BAD_SIGNATURE);
	}
	resign(env, len, "liaison-ks-sig-v1");
	assert_int_equal(open_as_b(env, len, f.dk_pk, &plain, &plain_len), LSN_KS_OK);
	free(plain);
	free(env);
}

static void
bad_format(void **state)
{
	uint8_t env[512];
	size_t len = hex_to_bytes(KS_ENV, env, sizeof env);
	struct lsn_ks_parsed p;
	assert_int_equal(lsn_ks_parse(env, len, &p), LSN_KS_OK);
	assert_int_equal(lsn_ks_parse(env, len - 1, &p), LSN_KS_BAD_FORMAT);   /* truncated */
	assert_int_equal(lsn_ks_parse(env, len + 1, &p), LSN_KS_BAD_FORMAT);   /* trailing byte */
	assert_int_equal(lsn_ks_parse(env, LSN_KS_OVERHEAD - 1, &p), LSN_KS_BAD_FORMAT);
	assert_int_equal(lsn_ks_parse(NULL, 0, &p), LSN_KS_BAD_FORMAT);
	const size_t offs[] = {0, 1, 1 + 12, 1 + 13, 1 + 14, 1 + 13 + 18 + 1, 1 + 13 + 72 + 1,
			       OFF_CTLEN + 3, OFF_CTLEN};
	for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
		env[offs[i]] ^= 1;   /* version, label, an LP length, ct_len */
		if (lsn_ks_parse(env, len, &p) != LSN_KS_BAD_FORMAT)
			fail_msg("byte %zu altered still parses", offs[i]);
		env[offs[i]] ^= 1;
	}
	assert_int_equal(lsn_ks_parse(env, len, &p), LSN_KS_OK);
	/* an opened struct that was not filled by parse is refused, not trusted */
	struct lsn_ks_parsed blank;
	memset(&blank, 0, sizeof blank);
	uint8_t *plain;
	size_t plain_len;
	assert_int_equal(lsn_ks_open(&blank, &f.b, f.dk_pk, f.ak_pk, f.ak_sk, &plain, &plain_len),
			 LSN_KS_BAD_FORMAT);
}

static void
result_texts(void **state)
{
	for (int r = LSN_KS_OK; r <= LSN_KS_DECRYPT_FAILED; r++) {
		const char *t = lsn_ks_result_text((enum lsn_ks_result)r);
		assert_non_null(t);
		assert_true(strlen(t) > 10);
		for (int s = LSN_KS_OK; s < r; s++)
			assert_string_not_equal(t, lsn_ks_result_text((enum lsn_ks_result)s));
	}
	assert_non_null(lsn_ks_result_text((enum lsn_ks_result)99));
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vector),
		cmocka_unit_test(round_trip_fresh_randomness),
		cmocka_unit_test(sizes),
		cmocka_unit_test(refuses_low_order_agreement_key),
		cmocka_unit_test(not_for_me),
		cmocka_unit_test(tampering_breaks_the_signature),
		cmocka_unit_test(decrypt_failed),
		cmocka_unit_test(verify_without_agreement_key),
		cmocka_unit_test(domain_separation),
		cmocka_unit_test(bad_format),
		cmocka_unit_test(result_texts),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
