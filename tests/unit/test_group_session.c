/* test_group_session.c — group sessions (shared/group_session.c, CRYPTO.md
 * §4): ratchet and message-envelope vectors computed outside this code base,
 * every reason lsn_gs_open refuses, the order of its checks, index
 * uniqueness, duplicate vs alarm hashes, rotation and exhaustion. */
#include "testutil.h"

#include <stdlib.h>

#include <sodium.h>

#include "group_session.h"

/* ---- vectors (docs/CRYPTO.md "Group sessions") ------------------------------
 * channel = f0..ff, S = Ed25519 seed 20..3f, CK_0 = 40..5f
 * sender_device = b0..bf, ts = 1763900000000 ms, nonce = 80..97
 * message index 1 (MK_1), plaintext "Sortie prevue demain 10h, ordonnance jointe."
 *
 * Computed by tests/unit/crypto_vectors.py without libsodium:
 *  - crypto_kdf_derive_from_key(32, id, ctx, key) is keyed BLAKE2b-256 with
 *    salt = id as 8 bytes little-endian + 8 zero bytes and personal = ctx + 8
 *    zero bytes (libsodium crypto_kdf/blake2b/kdf_blake2b.c), so in python3:
 *      hashlib.blake2b(b"", digest_size=32, key=ck,
 *                      salt=id.to_bytes(8, "little") + bytes(8),
 *                      person=ctx + bytes(8)).digest()
 *  - S_pk and the signature: openssl pkey / pkeyutl -sign -rawin over
 *    "liaison-msg-sig-v1" || H || nonce || ct;
 *  - XChaCha20-Poly1305: from-scratch Python (RFC 8439 + draft-irtf-cfrg-
 *    xchacha-03), checked against the RFC vectors;
 *  - the envelope hash: hashlib.blake2b(env, digest_size=32).
 */
#define S_PK   "29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7"
#define MK_0   "2f99626f1f6409025735fbe2834d8cb76afdd244efea7c1bc0d71b941812d0fd"
#define CK_1   "74859cc79bdf092dbb0f5cf24ff49faaa6c215ecc92bc7f84f4d719d70d9fbe9"
#define MK_1   "d9cf61871048ef40c3a7790f2d4d3a790faeb88ffb0926dd8e1ae38ef68f9618"
#define CK_2   "d5b7abc6914cba3ee8a803e073a3d9e5ee83a16ee2e9e22651cc100218a56292"
#define MK_2   "0a37da6e1d33ddac80405c374ec98b7489935a62adb9917620d429b3dc67c4dc"
#define CK_3   "e8245a616ef3d0cac95dcfd77c65d2409447c0fadecbf7be87f956d6228fd480"
#define CK_100 "96fa9d5d31b831f40d72504c2af77ee65a6a861ea98eb24ce45c357af6d0c0e9"
#define GS_PLAIN "Sortie prevue demain 10h, ordonnance jointe."
#define GS_ENV                                                                            \
	"4c534e01f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff29acbae141bccaf0b22e1a94d34d0bc7361e526d" \
	"0bfe12c89794bc9322966dd700000001b0b1b2b3b4b5b6b7b8b9babbbcbdbebf0000019ab0a20700" \
	"808182838485868788898a8b8c8d8e8f9091929394959697a4e7148caf1f9ba309b513ce106045fa" \
	"84173ba26b3e29b9497ae2b86c7ec831dc6d7fa37e44eb22fdb73544dd644230dec6cb24f9c06926" \
	"4fa25063ec86935e422c8fd81c6f57829dc92ed4fdd865ef4c5a0526470cfb97746190fcd1f3dcaa" \
	"0f7007ce434a8bc3059b0e36892913f40a8d116339ef16f3fd979301"
#define GS_ENV_HASH "9f54a4dbad36ae85d0f6d2eee7672dd20eb2ce66934ca94e0d7615c88ad1e644"

#define TS_MS 1763900000000ULL
#define NOW   1763900000000LL

static uint8_t channel[16], device[16], seed[32], ck0[32], nonce[24];

static int
setup(void **state)
{
	fill_seq(channel, 16, 0xf0);
	fill_seq(device, 16, 0xb0);
	fill_seq(seed, 32, 0x20);
	fill_seq(ck0, 32, 0x40);
	fill_seq(nonce, 24, 0x80);
	return 0;
}

static void
vector_session(struct lsn_gs_outbound *s)
{
	lsn_gs_outbound_new_det(s, channel, seed, ck0, NOW);
}

/* The inbound state a receiver holds from index 0 of the vector session. */
static void
vector_inbound(struct lsn_gs_inbound *in)
{
	struct lsn_gs_outbound s;
	vector_session(&s);
	lsn_gs_inbound_from_outbound(in, &s, device);
	lsn_gs_outbound_wipe(&s);
}

static void
check_hex(const uint8_t *got, const char *hex)
{
	uint8_t want[64];
	size_t n = hex_to_bytes(hex, want, sizeof want);
	assert_memory_equal(got, want, n);
}

/* Seal the next message of s with a random nonce. */
static uint8_t *
send_next(struct lsn_gs_outbound *s, const char *text, size_t *len, uint32_t *index)
{
	uint8_t mk[32], *env = NULL;
	uint32_t i;
	lsn_gs_ratchet_step(s, mk, &i);
	assert_int_equal(lsn_gs_seal(s, i, mk, device, TS_MS, (const uint8_t *)text, strlen(text),
				     &env, len), 0);
	sodium_memzero(mk, sizeof mk);
	if (index)
		*index = i;
	return env;
}

/* Replace the signature of env by one with sk over label || H || nonce || ct. */
static void
resign(uint8_t *env, size_t len, const char *label, const uint8_t sk[64])
{
	size_t lab = strlen(label), body = len - 64;
	uint8_t *msg = malloc(lab + body);
	assert_non_null(msg);
	memcpy(msg, label, lab);
	memcpy(msg + lab, env, body);
	crypto_sign_detached(env + body, NULL, msg, lab + body, sk);
	free(msg);
}

static enum lsn_gs_result
try_open(const struct lsn_gs_inbound *in, const uint8_t *env, size_t len)
{
	uint8_t *plain = (uint8_t *)1;
	size_t plain_len;
	enum lsn_gs_result r = lsn_gs_open(in, env, len, NULL, &plain, &plain_len);
	if (r == LSN_GS_OK)
		free(plain);
	else
		assert_null(plain);
	return r;
}

/* ---- vectors --------------------------------------------------------------- */

static void
ratchet_vector(void **state)
{
	struct lsn_gs_outbound s;
	uint8_t mk[32];
	uint32_t used = 99;
	vector_session(&s);
	check_hex(s.sign_pk, S_PK);   /* = session_id, from OpenSSL */
	assert_int_equal(s.index, 0);
	assert_int_equal(s.created_at, NOW);
	const char *mks[] = {MK_0, MK_1, MK_2}, *cks[] = {CK_1, CK_2, CK_3};
	for (uint32_t i = 0; i < 3; i++) {
		lsn_gs_ratchet_step(&s, mk, &used);
		assert_int_equal(used, i);
		assert_int_equal(s.index, i + 1);
		check_hex(mk, mks[i]);
		check_hex(s.chain_key, cks[i]);
	}
	lsn_gs_outbound_wipe(&s);
	uint8_t zero[sizeof s] = {0};
	assert_memory_equal(&s, zero, sizeof s);
}

static void
advance_vector(void **state)
{
	uint8_t out[32], ck1[32], ck[32];
	assert_int_equal(lsn_gs_advance(ck0, 0, 100, out), 0);
	check_hex(out, CK_100);
	assert_int_equal(lsn_gs_advance(ck0, 0, 0, out), 0);
	assert_memory_equal(out, ck0, 32);
	hex_to_bytes(CK_1, ck1, sizeof ck1);
	assert_int_equal(lsn_gs_advance(ck1, 1, 3, out), 0);   /* indices are relative */
	check_hex(out, CK_3);
	assert_int_equal(lsn_gs_advance(ck1, 1000001, 1000003, out), 0);
	check_hex(out, CK_3);
	memcpy(ck, ck0, 32);
	assert_int_equal(lsn_gs_advance(ck, 7, 107, ck), 0);   /* in place */
	check_hex(ck, CK_100);
	/* backwards or too far: refused, out zeroed */
	assert_int_equal(lsn_gs_advance(ck1, 2, 1, out), -1);
	uint8_t zero[32] = {0};
	assert_memory_equal(out, zero, 32);
	assert_int_equal(lsn_gs_advance(ck0, 0, LSN_GS_MAX_ADVANCE + 1, out), -1);
	assert_int_equal(lsn_gs_advance(ck0, 5, 5 + LSN_GS_MAX_ADVANCE, out), 0);
}

static void
message_vector(void **state)
{
	struct lsn_gs_outbound s;
	uint8_t mk[32], want[512], *env = NULL;
	uint32_t used;
	size_t env_len, want_len = hex_to_bytes(GS_ENV, want, sizeof want);
	vector_session(&s);
	lsn_gs_ratchet_step(&s, mk, &used);   /* index 0 */
	lsn_gs_ratchet_step(&s, mk, &used);   /* index 1 */
	assert_int_equal(used, 1);
	check_hex(mk, MK_1);
	assert_int_equal(lsn_gs_seal_det(&s, used, mk, device, TS_MS, nonce,
					 (const uint8_t *)GS_PLAIN, strlen(GS_PLAIN), &env,
					 &env_len), 0);
	assert_int_equal(env_len, want_len);
	assert_int_equal(env_len, LSN_MSG_MIN_BYTES + strlen(GS_PLAIN));
	assert_memory_equal(env, want, want_len);
	free(env);

	uint8_t hash[32];
	lsn_gs_envelope_hash(want, want_len, hash);
	check_hex(hash, GS_ENV_HASH);

	struct lsn_gs_inbound in;
	struct lsn_msg_header h;
	uint8_t *plain;
	size_t plain_len;
	vector_inbound(&in);
	assert_int_equal(lsn_gs_open(&in, want, want_len, &h, &plain, &plain_len), LSN_GS_OK);
	assert_int_equal(plain_len, strlen(GS_PLAIN));
	assert_memory_equal(plain, GS_PLAIN, plain_len);
	free(plain);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.index, 1);
	assert_int_equal(h.ts_ms, TS_MS);
	assert_memory_equal(h.channel, channel, 16);
	assert_memory_equal(h.session_id, s.sign_pk, 32);
	assert_memory_equal(h.sender_device, device, 16);
	/* also from a receiver that joined at index 1 */
	hex_to_bytes(CK_1, in.chain_key, 32);
	in.first_index = 1;
	assert_int_equal(try_open(&in, want, want_len), LSN_GS_OK);
}

/* ---- behaviour ------------------------------------------------------------- */

static void
index_never_reused(void **state)
{
	struct lsn_gs_outbound s, persisted;
	enum { N = 300 };
	static uint8_t mks[N][32];
	uint8_t prev_ck[32];
	vector_session(&s);
	for (uint32_t n = 0; n < N; n++) {
		uint32_t used;
		memcpy(prev_ck, s.chain_key, 32);
		lsn_gs_ratchet_step(&s, mks[n], &used);
		assert_int_equal(used, n);
		assert_int_equal(s.index, n + 1);
		assert_memory_not_equal(s.chain_key, prev_ck, 32);   /* CK_i is gone */
		for (uint32_t m = 0; m < n; m++)
			assert_memory_not_equal(mks[m], mks[n], 32);
	}
	/* a crash after persisting: the restored state continues, never repeats */
	persisted = s;
	uint8_t mk[32];
	uint32_t used;
	lsn_gs_ratchet_step(&persisted, mk, &used);
	assert_int_equal(used, N);
	for (uint32_t m = 0; m < N; m++)
		assert_memory_not_equal(mks[m], mk, 32);
	lsn_gs_outbound_wipe(&s);
	lsn_gs_outbound_wipe(&persisted);
}

static void
fresh_sessions_differ(void **state)
{
	struct lsn_gs_outbound a, b;
	lsn_gs_outbound_new(&a, channel, NOW);
	lsn_gs_outbound_new(&b, channel, NOW);
	assert_memory_not_equal(a.sign_pk, b.sign_pk, 32);
	assert_memory_not_equal(a.chain_key, b.chain_key, 32);
	assert_int_equal(a.index, 0);
	/* sign_sk is the secret half of sign_pk */
	uint8_t sig[64];
	crypto_sign_detached(sig, NULL, (const uint8_t *)"x", 1, a.sign_sk);
	assert_int_equal(crypto_sign_verify_detached(sig, (const uint8_t *)"x", 1, a.sign_pk), 0);
	lsn_gs_outbound_wipe(&a);
	lsn_gs_outbound_wipe(&b);
}

static void
round_trip_many_and_out_of_order(void **state)
{
	struct lsn_gs_outbound s;
	struct lsn_gs_inbound in;
	lsn_gs_outbound_new(&s, channel, NOW);
	lsn_gs_inbound_from_outbound(&in, &s, device);
	uint8_t *envs[20];
	size_t lens[20];
	char text[32];
	for (int i = 0; i < 20; i++) {
		snprintf(text, sizeof text, "message %d", i);
		envs[i] = send_next(&s, text, &lens[i], NULL);
	}
	/* receive in reverse: no skipped-key cache needed, in is never modified */
	for (int i = 19; i >= 0; i--) {
		uint8_t *plain;
		size_t plain_len;
		struct lsn_msg_header h;
		snprintf(text, sizeof text, "message %d", i);
		assert_int_equal(lsn_gs_open(&in, envs[i], lens[i], &h, &plain, &plain_len),
				 LSN_GS_OK);
		assert_int_equal(h.index, (uint32_t)i);
		assert_int_equal(plain_len, strlen(text));
		assert_memory_equal(plain, text, plain_len);
		free(plain);
		free(envs[i]);
	}
	lsn_gs_outbound_wipe(&s);
}

static void
wrong_session_and_sender(void **state)
{
	uint8_t env[512];
	size_t len = hex_to_bytes(GS_ENV, env, sizeof env);
	struct lsn_gs_inbound in, other;
	vector_inbound(&in);
	struct lsn_msg_header h;
	uint8_t *plain;
	size_t plain_len;

	other = in;
	other.channel[3] ^= 1;
	assert_int_equal(lsn_gs_open(&other, env, len, &h, &plain, &plain_len),
			 LSN_GS_WRONG_SESSION);
	assert_int_equal(h.index, 1);   /* the header is reported even on failure */
	other = in;
	other.session_id[31] ^= 1;
	assert_int_equal(try_open(&other, env, len), LSN_GS_WRONG_SESSION);
	other = in;
	other.sender_device[0] ^= 1;
	assert_int_equal(try_open(&other, env, len), LSN_GS_WRONG_SENDER);
	/* and altering the header the other way round is caught the same way */
	env[4] ^= 1;   /* channel */
	assert_int_equal(try_open(&in, env, len), LSN_GS_WRONG_SESSION);
	env[4] ^= 1;
	env[4 + 16 + 32 + 4] ^= 1;   /* sender_device */
	assert_int_equal(try_open(&in, env, len), LSN_GS_WRONG_SENDER);
	env[4 + 16 + 32 + 4] ^= 1;
	assert_int_equal(try_open(&in, env, len), LSN_GS_OK);
}

static void
tampering_breaks_the_signature(void **state)
{
	uint8_t env[512];
	size_t len = hex_to_bytes(GS_ENV, env, sizeof env);
	struct lsn_gs_inbound in;
	vector_inbound(&in);
	for (size_t i = 0; i < len; i++) {
		enum lsn_gs_result want = LSN_GS_BAD_SIGNATURE;
		if (i < 4)
			want = LSN_GS_BAD_FORMAT;            /* magic, version */
		else if (i < 4 + 16 + 32)
			want = LSN_GS_WRONG_SESSION;         /* channel, session_id */
		else if (i >= 56 && i < 72)
			want = LSN_GS_WRONG_SENDER;          /* sender_device */
		env[i] ^= 0x04;
		enum lsn_gs_result r = try_open(&in, env, len);
		if (r != want)
			fail_msg("byte %zu altered: %s", i, lsn_gs_result_text(r));
		env[i] ^= 0x04;
	}
	assert_int_equal(try_open(&in, env, len - 1), LSN_GS_BAD_SIGNATURE);   /* truncated */
}

static void
member_cannot_forge(void **state)
{
	/* Mallory holds the chain key (she is a member) and signs with her own key */
	uint8_t m_pk[32], m_sk[64];
	struct lsn_gs_inbound in;
	vector_inbound(&in);
	crypto_sign_keypair(m_pk, m_sk);
	struct lsn_gs_outbound forger;
	vector_session(&forger);
	memcpy(forger.sign_sk, m_sk, 64);   /* header still names the real session */
	uint8_t mk[32], *forged = NULL;
	uint32_t used;
	lsn_gs_ratchet_step(&forger, mk, &used);
	size_t flen;
	assert_int_equal(lsn_gs_seal(&forger, used, mk, device, TS_MS, (const uint8_t *)"forged", 6,
				     &forged, &flen), 0);
	assert_int_equal(try_open(&in, forged, flen), LSN_GS_BAD_SIGNATURE);
	free(forged);
	lsn_gs_outbound_wipe(&forger);
	sodium_memzero(m_sk, sizeof m_sk);
}

static void
domain_separation(void **state)
{
	uint8_t env[512], sk[64], pk[32];
	size_t len = hex_to_bytes(GS_ENV, env, sizeof env);
	struct lsn_gs_inbound in;
	vector_inbound(&in);
	crypto_sign_seed_keypair(pk, sk, seed);
	static const char *const others[] = {"liaison-ks-sig-v1", "liaison-ks-v1",
					     "liaison-dev-v1", "liaison-backup-v1", ""};
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		resign(env, len, others[i], sk);
		assert_int_equal(try_open(&in, env, len), LSN_GS_BAD_SIGNATURE);
	}
	resign(env, len, "liaison-msg-sig-v1", sk);
	assert_int_equal(try_open(&in, env, len), LSN_GS_OK);
	uint8_t want[512];
	hex_to_bytes(GS_ENV, want, sizeof want);
	assert_memory_equal(env, want, len);   /* Ed25519 is deterministic */
	sodium_memzero(sk, sizeof sk);
}

static void
before_first_key_and_too_far_ahead(void **state)
{
	struct lsn_gs_outbound s;
	struct lsn_gs_inbound in, late;
	vector_session(&s);
	lsn_gs_inbound_from_outbound(&in, &s, device);
	size_t len0, len1;
	uint8_t *m0 = send_next(&s, "zero", &len0, NULL), *m1 = send_next(&s, "one", &len1, NULL);
	lsn_gs_inbound_from_outbound(&late, &s, device);   /* joined at index 2 */
	assert_int_equal(late.first_index, 2);
	assert_int_equal(try_open(&late, m0, len0), LSN_GS_BEFORE_FIRST_KEY);
	assert_int_equal(try_open(&late, m1, len1), LSN_GS_BEFORE_FIRST_KEY);
	assert_int_equal(try_open(&in, m1, len1), LSN_GS_OK);
	/* the signature is checked first: a forged old message is BAD_SIGNATURE */
	m0[len0 - 1] ^= 1;
	assert_int_equal(try_open(&late, m0, len0), LSN_GS_BAD_SIGNATURE);
	free(m0);
	free(m1);

	/* exactly LSN_GS_MAX_AHEAD past first_index is read; one more is not */
	uint8_t ck[32], *env = NULL;
	size_t len;
	assert_int_equal(lsn_gs_advance(s.chain_key, 2, 2 + LSN_GS_MAX_AHEAD, ck), 0);
	memcpy(s.chain_key, ck, 32);
	s.index = 2 + LSN_GS_MAX_AHEAD;
	env = send_next(&s, "far", &len, NULL);
	assert_int_equal(try_open(&late, env, len), LSN_GS_OK);
	free(env);
	env = send_next(&s, "too far", &len, NULL);
	assert_int_equal(try_open(&late, env, len), LSN_GS_TOO_FAR_AHEAD);
	assert_int_equal(try_open(&in, env, len), LSN_GS_TOO_FAR_AHEAD);
	/* and a forged far-ahead message costs no ratchet work: BAD_SIGNATURE */
	env[len - 5] ^= 1;
	assert_int_equal(try_open(&late, env, len), LSN_GS_BAD_SIGNATURE);
	free(env);
	/* index UINT32_MAX-1 from first_index 0, genuinely signed */
	s.index = UINT32_MAX - 1;
	env = send_next(&s, "max", &len, NULL);
	assert_int_equal(try_open(&in, env, len), LSN_GS_TOO_FAR_AHEAD);
	free(env);
	lsn_gs_outbound_wipe(&s);
}

static void
decrypt_failed(void **state)
{
	uint8_t env[512];
	size_t len = hex_to_bytes(GS_ENV, env, sizeof env);
	struct lsn_gs_inbound in;
	vector_inbound(&in);
	in.chain_key[0] ^= 1;   /* a wrong chain key under the right session */
	assert_int_equal(try_open(&in, env, len), LSN_GS_DECRYPT_FAILED);
	vector_inbound(&in);
	in.first_index = 1;     /* right key, wrong index claimed for it */
	assert_int_equal(try_open(&in, env, len), LSN_GS_DECRYPT_FAILED);
	/* the session key signed a ciphertext that does not open */
	vector_inbound(&in);
	uint8_t pk[32], sk[64];
	crypto_sign_seed_keypair(pk, sk, seed);
	env[LSN_MSG_HEADER_BYTES + LSN_MSG_NONCE_BYTES] ^= 1;
	resign(env, len, "liaison-msg-sig-v1", sk);
	assert_int_equal(try_open(&in, env, len), LSN_GS_DECRYPT_FAILED);
	sodium_memzero(sk, sizeof sk);
}

static void
bad_format(void **state)
{
	uint8_t env[512];
	size_t len = hex_to_bytes(GS_ENV, env, sizeof env);
	struct lsn_gs_inbound in;
	vector_inbound(&in);
	assert_int_equal(try_open(&in, env, LSN_MSG_MIN_BYTES - 1), LSN_GS_BAD_FORMAT);
	assert_int_equal(try_open(&in, NULL, 0), LSN_GS_BAD_FORMAT);
	env[3] = 2;
	assert_int_equal(try_open(&in, env, len), LSN_GS_BAD_FORMAT);
	env[3] = 1;
	uint8_t *huge = calloc(1, LSN_MSG_MAX_BYTES + 1);
	assert_non_null(huge);
	memcpy(huge, env, len);
	assert_int_equal(try_open(&in, huge, LSN_MSG_MAX_BYTES + 1), LSN_GS_BAD_FORMAT);
	free(huge);
}

static void
sizes_and_exhaustion(void **state)
{
	struct lsn_gs_outbound s;
	struct lsn_gs_inbound in;
	uint8_t mk[32], *env = (uint8_t *)1, *big = calloc(1, LSN_GS_MAX_PLAIN + 1);
	uint32_t used;
	size_t len;
	assert_non_null(big);
	lsn_gs_outbound_new(&s, channel, NOW);
	lsn_gs_inbound_from_outbound(&in, &s, device);
	lsn_gs_ratchet_step(&s, mk, &used);
	assert_int_equal(lsn_gs_seal(&s, used, mk, device, TS_MS, big, LSN_GS_MAX_PLAIN + 1, &env,
				     &len), -1);
	assert_null(env);
	assert_int_equal(lsn_gs_seal(&s, used, mk, device, TS_MS, big, LSN_GS_MAX_PLAIN, &env,
				     &len), 0);
	assert_int_equal(len, LSN_MSG_MAX_BYTES);
	assert_int_equal(try_open(&in, env, len), LSN_GS_OK);
	free(env);
	lsn_gs_ratchet_step(&s, mk, &used);
	assert_int_equal(lsn_gs_seal(&s, used, mk, device, TS_MS, NULL, 0, &env, &len), 0);
	uint8_t *plain;
	size_t plain_len = 7;
	assert_int_equal(lsn_gs_open(&in, env, len, NULL, &plain, &plain_len), LSN_GS_OK);
	assert_int_equal(plain_len, 0);
	free(plain);
	free(env);
	free(big);

	/* index UINT32_MAX is never used: no key, and seal refuses it */
	s.index = UINT32_MAX;
	uint8_t ck_before[32], zero[32] = {0};
	memcpy(ck_before, s.chain_key, 32);
	lsn_gs_ratchet_step(&s, mk, &used);
	assert_int_equal(used, UINT32_MAX);
	assert_int_equal(s.index, UINT32_MAX);
	assert_memory_equal(mk, zero, 32);
	assert_memory_equal(s.chain_key, ck_before, 32);
	env = (uint8_t *)1;
	assert_int_equal(lsn_gs_seal(&s, used, mk, device, TS_MS, (const uint8_t *)"x", 1, &env,
				     &len), -1);
	assert_null(env);
	lsn_gs_outbound_wipe(&s);
}

static void
duplicate_or_alarm(void **state)
{
	struct lsn_gs_outbound s, crashed;
	struct lsn_gs_inbound in;
	lsn_gs_outbound_new(&s, channel, NOW);
	lsn_gs_inbound_from_outbound(&in, &s, device);
	crashed = s;   /* a copy taken before the step: what a missing persist would leave */
	size_t l1, l2;
	uint32_t i1, i2;
	uint8_t *e1 = send_next(&s, "hello", &l1, &i1);
	uint8_t *e2 = send_next(&crashed, "hello", &l2, &i2);
	assert_int_equal(i1, i2);   /* the bug persistence prevents: same index twice */
	uint8_t h1[32], h1_again[32], h2[32];
	lsn_gs_envelope_hash(e1, l1, h1);
	lsn_gs_envelope_hash(e1, l1, h1_again);
	lsn_gs_envelope_hash(e2, l2, h2);
	assert_memory_equal(h1, h1_again, 32);   /* the same envelope twice: duplicate */
	assert_memory_not_equal(h1, h2, 32);     /* another envelope, same index: alarm */
	/* both are authentic, which is why only the hash tells them apart */
	assert_int_equal(try_open(&in, e1, l1), LSN_GS_OK);
	assert_int_equal(try_open(&in, e2, l2), LSN_GS_OK);
	free(e1);
	free(e2);
	lsn_gs_outbound_wipe(&s);
	lsn_gs_outbound_wipe(&crashed);
}

static void
inbound_consistency(void **state)
{
	struct lsn_gs_outbound s;
	struct lsn_gs_inbound at0, at3, bad;
	uint8_t mk[32];
	uint32_t used;
	vector_session(&s);
	lsn_gs_inbound_from_outbound(&at0, &s, device);
	for (int i = 0; i < 3; i++)
		lsn_gs_ratchet_step(&s, mk, &used);
	lsn_gs_inbound_from_outbound(&at3, &s, device);
	assert_int_equal(at3.first_index, 3);
	check_hex(at3.chain_key, CK_3);
	assert_true(lsn_gs_inbound_consistent(&at0, &at3));
	assert_true(lsn_gs_inbound_consistent(&at3, &at0));
	assert_true(lsn_gs_inbound_consistent(&at3, &at3));
	bad = at0;
	bad.chain_key[5] ^= 1;   /* a share at a lower index that does not lead to ours */
	assert_false(lsn_gs_inbound_consistent(&bad, &at3));
	bad = at0;
	bad.sender_device[0] ^= 1;
	assert_false(lsn_gs_inbound_consistent(&bad, &at3));
	bad = at0;
	bad.session_id[0] ^= 1;
	assert_false(lsn_gs_inbound_consistent(&bad, &at3));
	lsn_gs_outbound_wipe(&s);
}

static void
rotation(void **state)
{
	struct lsn_gs_outbound s;
	lsn_gs_outbound_new(&s, channel, NOW);
	assert_false(lsn_gs_outbound_needs_rotation(&s, NOW));
	assert_false(lsn_gs_outbound_needs_rotation(&s, NOW + LSN_GS_ROTATE_MS - 1));
	assert_true(lsn_gs_outbound_needs_rotation(&s, NOW + LSN_GS_ROTATE_MS));
	s.index = LSN_GS_ROTATE_MESSAGES - 1;
	assert_false(lsn_gs_outbound_needs_rotation(&s, NOW));
	s.index = LSN_GS_ROTATE_MESSAGES;
	assert_true(lsn_gs_outbound_needs_rotation(&s, NOW));
	lsn_gs_outbound_wipe(&s);
}

static void
result_texts(void **state)
{
	for (int r = LSN_GS_OK; r <= LSN_GS_DECRYPT_FAILED; r++) {
		const char *t = lsn_gs_result_text((enum lsn_gs_result)r);
		assert_non_null(t);
		assert_true(strlen(t) > 10);
		for (int q = LSN_GS_OK; q < r; q++)
			assert_string_not_equal(t, lsn_gs_result_text((enum lsn_gs_result)q));
	}
	assert_non_null(strstr(lsn_gs_result_text(LSN_GS_BEFORE_FIRST_KEY),
			       "no key for this message"));
	assert_non_null(lsn_gs_result_text((enum lsn_gs_result)99));
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ratchet_vector),
		cmocka_unit_test(advance_vector),
		cmocka_unit_test(message_vector),
		cmocka_unit_test(index_never_reused),
		cmocka_unit_test(fresh_sessions_differ),
		cmocka_unit_test(round_trip_many_and_out_of_order),
		cmocka_unit_test(wrong_session_and_sender),
		cmocka_unit_test(tampering_breaks_the_signature),
		cmocka_unit_test(member_cannot_forge),
		cmocka_unit_test(domain_separation),
		cmocka_unit_test(before_first_key_and_too_far_ahead),
		cmocka_unit_test(decrypt_failed),
		cmocka_unit_test(bad_format),
		cmocka_unit_test(sizes_and_exhaustion),
		cmocka_unit_test(duplicate_or_alarm),
		cmocka_unit_test(inbound_consistency),
		cmocka_unit_test(rotation),
		cmocka_unit_test(result_texts),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
