/* test_sigs.c — the signed byte strings (shared/sigs.c): exact layouts built
 * independently from the spec, Ed25519 test vectors made with OpenSSL, domain
 * separation, bounds. docs/CRYPTO.md ("Test vectors") lists the same vectors. */
#include "testutil.h"

#include <sodium.h>

#include "sigs.h"

/* ---- fixed inputs of the vectors (docs/CRYPTO.md, "Test vectors") --------------------
 * seed      = 00 01 02 ... 1f                (Ed25519 seed of the signing key)
 * user      = a0 a1 ... af                   device = b0 b1 ... bf
 * ak_id     = c0 c1 ... cf                   dk_pk  = 40 41 ... 5f (32 bytes)
 * ak_pk     = 60 61 ... 7f (32 bytes)        challenge = 80 81 ... 9f (32 bytes)
 * ts        = 1763900000000 ms = 0x0000019ab0a20700
 * server    = "localhost"
 *
 * Expected layouts, built with python3 (struct.pack('>H', len(x)) + x for LP,
 * struct.pack('>Q', ts) for the time):
 */
#define SEED_PK "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
#define DEV_LAYOUT                                                                        \
	"6c696169736f6e2d6465762d76310010a0a1a2a3a4a5a6a7a8a9aaabacadaeaf0010b0b1b2b3b4b5" \
	"b6b7b8b9babbbcbdbebf404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d" \
	"5e5f0000019ab0a20700"
#define AK_LAYOUT                                                                         \
	"6c696169736f6e2d616b2d76310010b0b1b2b3b4b5b6b7b8b9babbbcbdbebf0010c0c1c2c3c4c5c6" \
	"c7c8c9cacbcccdcecf606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e" \
	"7f0000019ab0a20700"
#define LOGIN_LAYOUT                                                                      \
	"6c696169736f6e2d6c6f67696e2d763100096c6f63616c686f73740010a0a1a2a3a4a5a6a7a8a9aa" \
	"abacadaeaf0010b0b1b2b3b4b5b6b7b8b9babbbcbdbebf0020808182838485868788898a8b8c8d8e" \
	"8f909192939495969798999a9b9c9d9e9f"
#define REVOKE_LAYOUT                                                                     \
	"6c696169736f6e2d7265766f6b652d76310010a0a1a2a3a4a5a6a7a8a9aaabacadaeaf0010b0b1b2" \
	"b3b4b5b6b7b8b9babbbcbdbebf0000019ab0a20700"

/* Expected Ed25519 signatures, made with OpenSSL 3.0 from the raw seed:
 *
 *   printf '302e020100300506032b657004220420%s' \
 *     000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \
 *     | xxd -r -p > seed.der                       # PKCS#8 DER prefix + seed
 *   openssl pkey -inform DER -in seed.der -out seed.pem
 *   openssl pkey -in seed.pem -pubout -outform DER | tail -c 32 | xxd -p -c 64
 *       -> SEED_PK
 *   openssl pkeyutl -sign -inkey seed.pem -rawin -in dev.bin | xxd -p -c 128
 *       (dev.bin = the DEV_LAYOUT bytes; likewise ak.bin, login.bin, revoke.bin)
 */
#define DEV_SIG                                                                           \
	"a2f0a69afbea21aef7e34bcefe4e2f2c195d997ee2ffdfb2db8c6f0106bf9ce26acb01fd6af66376" \
	"dc182a0fd0fe927ae86daa974e6ecde8944556d4e337ce0c"
#define AK_SIG                                                                            \
	"fdebe92832becd988fc8eb1015bcb05b8956bd53047ae81591fb32d5d76d023d38325487290a1541" \
	"e4c81c9dbe85c9a84275764829dd80505afbd2e95a3b7e02"
#define LOGIN_SIG                                                                         \
	"4e419a7fcca86520408ea87c2730598b55dd135b59e555c780b600749a9524a729eb5e8b3f975f11" \
	"658010223e9c89acbc10ba478d09a2b735b49f3781ef6506"
#define REVOKE_SIG                                                                        \
	"90233cb804564bd519f4315cc1241d7d382353334bff3ef91f2c0c467f8b9f1ffe6b3a71feaab8c7" \
	"1862ae38d7f6b2b419e32c53ea66d5853ea165f4d0c1a008"

#define TS_MS 1763900000000ULL

struct inputs {
	uint8_t user[LSN_ID_BYTES], device[LSN_ID_BYTES], ak_id[LSN_ID_BYTES];
	uint8_t dk_pk[32], ak_pk[32], challenge[32];
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
};

static struct inputs in;

static int
setup(void **state)
{
	uint8_t seed[crypto_sign_SEEDBYTES];
	fill_seq(seed, sizeof seed, 0x00);
	fill_seq(in.user, 16, 0xa0);
	fill_seq(in.device, 16, 0xb0);
	fill_seq(in.ak_id, 16, 0xc0);
	fill_seq(in.dk_pk, 32, 0x40);
	fill_seq(in.ak_pk, 32, 0x60);
	fill_seq(in.challenge, 32, 0x80);
	return crypto_sign_seed_keypair(in.pk, in.sk, seed);
}

/* ---- an independent layout builder, straight from the spec ------------------ */

struct layout {
	uint8_t b[600];
	size_t n;
};

static void
raw(struct layout *l, const void *p, size_t len)
{
	assert_true(l->n + len <= sizeof l->b);
	memcpy(l->b + l->n, p, len);
	l->n += len;
}

static void
lp(struct layout *l, const void *p, size_t len)
{
	uint8_t be[2] = {(uint8_t)(len / 256), (uint8_t)(len % 256)};
	raw(l, be, 2);
	raw(l, p, len);
}

static void
u64be(struct layout *l, uint64_t v)
{
	uint8_t be[8];
	for (int i = 7; i >= 0; i--, v /= 256)
		be[i] = (uint8_t)(v % 256);
	raw(l, be, 8);
}

static void
label(struct layout *l, const char *s)
{
	raw(l, s, strlen(s));
}

static void
check_layout(const uint8_t *got, size_t got_len, const struct layout *want, const char *hex)
{
	uint8_t lit[600];
	size_t lit_len = hex_to_bytes(hex, lit, sizeof lit);
	assert_int_equal(want->n, lit_len); /* the two independent expectations agree */
	assert_memory_equal(want->b, lit, lit_len);
	assert_int_equal(got_len, want->n);
	assert_memory_equal(got, want->b, want->n);
}

static void
check_signature(const uint8_t *msg, size_t len, const char *sig_hex)
{
	uint8_t sig[crypto_sign_BYTES], want[crypto_sign_BYTES];
	hex_to_bytes(sig_hex, want, sizeof want);
	assert_int_equal(crypto_sign_detached(sig, NULL, msg, len, in.sk), 0);
	assert_memory_equal(sig, want, sizeof sig); /* Ed25519 is deterministic */
	assert_true(lsn_sig_verify(want, msg, len, in.pk));
}

/* ---- layouts and vectors ------------------------------------------------------- */

static void
seed_public_key(void **state)
{
	uint8_t want[32];
	hex_to_bytes(SEED_PK, want, sizeof want);
	assert_memory_equal(in.pk, want, sizeof want);
}

static void
device_cert(void **state)
{
	uint8_t out[LSN_SIGNED_MAX];
	size_t n = lsn_signed_device_cert(out, in.user, in.device, in.dk_pk, TS_MS);
	struct layout want = {.n = 0};
	label(&want, "liaison-dev-v1");
	lp(&want, in.user, 16);
	lp(&want, in.device, 16);
	raw(&want, in.dk_pk, 32);
	u64be(&want, TS_MS);
	check_layout(out, n, &want, DEV_LAYOUT);
	assert_int_equal(n, 14 + 18 + 18 + 32 + 8);
	check_signature(out, n, DEV_SIG);
}

static void
ak_cert(void **state)
{
	uint8_t out[LSN_SIGNED_MAX];
	size_t n = lsn_signed_ak_cert(out, in.device, in.ak_id, in.ak_pk, TS_MS);
	struct layout want = {.n = 0};
	label(&want, "liaison-ak-v1");
	lp(&want, in.device, 16);
	lp(&want, in.ak_id, 16);
	raw(&want, in.ak_pk, 32);
	u64be(&want, TS_MS);
	check_layout(out, n, &want, AK_LAYOUT);
	check_signature(out, n, AK_SIG);
}

static void
login(void **state)
{
	uint8_t out[LSN_SIGNED_MAX];
	size_t n = lsn_signed_login(out, "localhost", in.user, in.device, in.challenge);
	struct layout want = {.n = 0};
	label(&want, "liaison-login-v1");
	lp(&want, "localhost", 9);
	lp(&want, in.user, 16);
	lp(&want, in.device, 16);
	lp(&want, in.challenge, 32);
	check_layout(out, n, &want, LOGIN_LAYOUT);
	check_signature(out, n, LOGIN_SIG);
}

static void
revoke(void **state)
{
	uint8_t out[LSN_SIGNED_MAX];
	size_t n = lsn_signed_revoke(out, in.user, in.device, TS_MS);
	struct layout want = {.n = 0};
	label(&want, "liaison-revoke-v1");
	lp(&want, in.user, 16);
	lp(&want, in.device, 16);
	u64be(&want, TS_MS);
	check_layout(out, n, &want, REVOKE_LAYOUT);
	check_signature(out, n, REVOKE_SIG);
}

static void
timestamps_big_endian(void **state)
{
	/* extreme times land in the last 8 bytes, most significant first */
	uint64_t times[] = {0, 1, 0x0102030405060708ULL, UINT64_MAX};
	for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
		uint8_t out[LSN_SIGNED_MAX];
		struct layout want = {.n = 0};
		u64be(&want, times[i]);
		size_t n = lsn_signed_revoke(out, in.user, in.device, times[i]);
		assert_int_equal(n, 17 + 18 + 18 + 8);
		assert_memory_equal(out + n - 8, want.b, 8);
		n = lsn_signed_device_cert(out, in.user, in.device, in.dk_pk, times[i]);
		assert_memory_equal(out + n - 8, want.b, 8);
		n = lsn_signed_ak_cert(out, in.device, in.ak_id, in.ak_pk, times[i]);
		assert_memory_equal(out + n - 8, want.b, 8);
	}
}

/* ---- bounds ----------------------------------------------------------------- */

static void
login_server_name_bounds(void **state)
{
	uint8_t out[LSN_SIGNED_MAX];
	char name[300];
	assert_int_equal(lsn_signed_login(out, "", in.user, in.device, in.challenge), 0);
	assert_int_equal(lsn_signed_login(out, NULL, in.user, in.device, in.challenge), 0);

	memset(name, 'a', sizeof name);
	name[LSN_SERVER_NAME_MAX] = '\0'; /* 253: the longest DNS name */
	size_t n = lsn_signed_login(out, name, in.user, in.device, in.challenge);
	assert_int_equal(n, 16 + 2 + 253 + 18 + 18 + 34);
	assert_int_equal(out[16], 0);
	assert_int_equal(out[17], 253);
	name[LSN_SERVER_NAME_MAX] = 'a';
	name[LSN_SERVER_NAME_MAX + 1] = '\0'; /* 254 */
	assert_int_equal(lsn_signed_login(out, name, in.user, in.device, in.challenge), 0);
	name[sizeof name - 1] = '\0';
	assert_int_equal(lsn_signed_login(out, name, in.user, in.device, in.challenge), 0);

	n = lsn_signed_login(out, "a", in.user, in.device, in.challenge);
	assert_int_equal(n, 16 + 3 + 18 + 18 + 34);
}

static void
server_name_is_bound(void **state)
{
	/* a login signature made for one server does not verify for another */
	uint8_t a[LSN_SIGNED_MAX], b[LSN_SIGNED_MAX], sig[crypto_sign_BYTES];
	size_t na = lsn_signed_login(a, "liaison.cpts-a.fr", in.user, in.device, in.challenge);
	size_t nb = lsn_signed_login(b, "liaison.cpts-b.fr", in.user, in.device, in.challenge);
	crypto_sign_detached(sig, NULL, a, na, in.sk);
	assert_true(lsn_sig_verify(sig, a, na, in.pk));
	assert_false(lsn_sig_verify(sig, b, nb, in.pk));
	/* LP keeps the fields apart: moving a byte between server name and user
	 * changes the bytes */
	size_t nc = lsn_signed_login(b, "liaison.cpts-a.f", in.user, in.device, in.challenge);
	assert_true(nc != na || memcmp(a, b, na) != 0);
}

static void
buf_builder(void **state)
{
	uint8_t store[8];
	struct lsn_buf b;
	lsn_buf_init(&b, store, sizeof store);
	lsn_buf_put_u32(&b, 0x01020304u);
	assert_int_equal(b.len, 4);
	assert_false(b.overflow);
	assert_memory_equal(store, "\x01\x02\x03\x04", 4);
	lsn_buf_put(&b, "abcd", 4);
	assert_int_equal(b.len, 8);
	assert_false(b.overflow);
	lsn_buf_put(&b, "x", 1); /* one past the end */
	assert_true(b.overflow);
	assert_int_equal(b.len, 8);
	lsn_buf_put(&b, "", 0); /* stays overflowed */
	assert_true(b.overflow);

	lsn_buf_init(&b, store, sizeof store);
	lsn_buf_put_lp(&b, "abcdef", 6);
	assert_false(b.overflow);
	assert_memory_equal(store, "\x00\x06""abcdef", 8);
	lsn_buf_init(&b, store, sizeof store);
	lsn_buf_put_lp(&b, "abcdefg", 7); /* 9 bytes do not fit */
	assert_true(b.overflow);

	static uint8_t big[0x10000 + 8];
	static uint8_t data[0x10000];
	lsn_buf_init(&b, big, sizeof big);
	lsn_buf_put_lp(&b, data, 0xffff);
	assert_false(b.overflow);
	assert_int_equal(b.len, 0x10001);
	assert_int_equal(big[0], 0xff);
	assert_int_equal(big[1], 0xff);
	lsn_buf_init(&b, big, sizeof big);
	lsn_buf_put_lp(&b, data, 0x10000); /* does not fit in 2 length bytes */
	assert_true(b.overflow);
	assert_int_equal(b.len, 0);

	lsn_buf_init(&b, store, sizeof store);
	lsn_buf_put_u64(&b, 0x0102030405060708ULL);
	assert_memory_equal(store, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	lsn_buf_put_u32(&b, 1);
	assert_true(b.overflow);
}

/* ---- domain separation and verification ------------------------------------ */

static void
domain_separation(void **state)
{
	uint8_t msgs[4][LSN_SIGNED_MAX];
	size_t lens[4];
	lens[0] = lsn_signed_device_cert(msgs[0], in.user, in.device, in.dk_pk, TS_MS);
	lens[1] = lsn_signed_ak_cert(msgs[1], in.device, in.ak_id, in.ak_pk, TS_MS);
	lens[2] = lsn_signed_login(msgs[2], "localhost", in.user, in.device, in.challenge);
	lens[3] = lsn_signed_revoke(msgs[3], in.user, in.device, TS_MS);
	const char *labels[4] = {"liaison-dev-v1", "liaison-ak-v1", "liaison-login-v1",
				 "liaison-revoke-v1"};
	for (int i = 0; i < 4; i++) {
		uint8_t sig[crypto_sign_BYTES];
		assert_true(lens[i] > 0);
		crypto_sign_detached(sig, NULL, msgs[i], lens[i], in.sk);
		for (int j = 0; j < 4; j++) {
			bool ok = lsn_sig_verify(sig, msgs[j], lens[j], in.pk);
			if (ok != (i == j))
				fail_msg("signature for %s verifies=%d over %s", labels[i], ok, labels[j]);
		}
		/* no label is a prefix of another, so no layout can start like another */
		for (int j = 0; j < 4; j++)
			if (i != j)
				assert_false(strncmp(labels[i], labels[j], strlen(labels[i])) == 0);
		assert_memory_equal(msgs[i], labels[i], strlen(labels[i]));
	}
}

static void
verify_rejects_changes(void **state)
{
	uint8_t msg[LSN_SIGNED_MAX], sig[crypto_sign_BYTES], bad[crypto_sign_BYTES];
	size_t n = lsn_signed_login(msg, "localhost", in.user, in.device, in.challenge);
	hex_to_bytes(LOGIN_SIG, sig, sizeof sig);
	assert_true(lsn_sig_verify(sig, msg, n, in.pk));

	for (size_t bit = 0; bit < 8 * sizeof sig; bit++) {
		memcpy(bad, sig, sizeof sig);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (lsn_sig_verify(bad, msg, n, in.pk))
			fail_msg("signature with bit %zu flipped verifies", bit);
	}
	for (size_t bit = 0; bit < 8 * n; bit += 7) {
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (lsn_sig_verify(sig, msg, n, in.pk))
			fail_msg("message with bit %zu flipped verifies", bit);
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_false(lsn_sig_verify(sig, msg, n - 1, in.pk)); /* truncated */
	assert_false(lsn_sig_verify(sig, msg, 0, in.pk));     /* empty */

	uint8_t other_pk[32], other_sk[64];
	crypto_sign_keypair(other_pk, other_sk);
	assert_false(lsn_sig_verify(sig, msg, n, other_pk));
	uint8_t pk_flip[32];
	memcpy(pk_flip, in.pk, 32);
	pk_flip[0] ^= 1;
	assert_false(lsn_sig_verify(sig, msg, n, pk_flip));
	uint8_t zero_sig[64] = {0};
	assert_false(lsn_sig_verify(zero_sig, msg, n, in.pk));
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seed_public_key),
		cmocka_unit_test(device_cert),
		cmocka_unit_test(ak_cert),
		cmocka_unit_test(login),
		cmocka_unit_test(revoke),
		cmocka_unit_test(timestamps_big_endian),
		cmocka_unit_test(login_server_name_bounds),
		cmocka_unit_test(server_name_is_bound),
		cmocka_unit_test(buf_builder),
		cmocka_unit_test(domain_separation),
		cmocka_unit_test(verify_rejects_changes),
	};
	return cmocka_run_group_tests_name("sigs", tests, setup, NULL);
}
