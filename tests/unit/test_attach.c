/* test_attach.c — attachment encryption (shared/attach.c, CRYPTO.md §8):
 * stream vectors computed outside this code base and decrypted by libsodium's
 * own pull side, round trips, truncation, reordering, wrong id/key/header,
 * tampering, chunk after final, hash mismatch, sizes. */
#include "testutil.h"

#include <stdlib.h>

#include <sodium.h>

#include "attach.h"

/* ---- vectors (docs/CRYPTO.md "Attachments") ---------------------------------
 * key = 40..5f, stream header = 60..77, attachment id = c0..cf
 * small: plaintext "Lettre de sortie: voir PDF joint." (33 bytes), one final chunk
 * empty: no plaintext, one final chunk of 17 bytes
 * big:   65546 bytes, byte i = i mod 251: a full chunk (TAG_MESSAGE) then a
 *        10-byte final chunk
 * hash = BLAKE2b-256 of the ciphertext chunks concatenated.
 *
 * Computed by tests/unit/crypto_vectors.py without libsodium: a from-scratch
 * Python ChaCha20/Poly1305/HChaCha20 (checked against RFC 8439 and
 * draft-irtf-cfrg-xchacha-03) following libsodium 1.0.18's
 * crypto_secretstream_xchacha20poly1305 construction: k = HChaCha20(key,
 * header[0..16]), nonce = LE32(counter = 1) || header[16..24]; per chunk the
 * Poly1305 key is ChaCha20 block 0, the tag byte is encrypted as the first
 * byte of block 1, the message from block 2; MAC over ad, pad, the 64-byte
 * block, c, (0x10 - 64 + mlen) & 0xf zero bytes, LE64(adlen), LE64(64 +
 * mlen); then the nonce's last 8 bytes are XORed with the MAC and the
 * counter incremented. Matching these bytes checks that model. The hashes
 * are hashlib.blake2b(..., digest_size=32). */
#define AT_SMALL_PLAIN "Lettre de sortie: voir PDF joint."
#define AT_SMALL_CT                                                                       \
	"7636aa2fcff2423b7f7ccc508ebf937737a55bc98b239f94e0d3c2e2bcea4e4ffba70589a9c4ffe4" \
	"51990afdd3c5b2c767ab"
#define AT_SMALL_HASH "85ab80f0d8cc3c959e058a111d9037ca42bf0b85797394b52e7042bd998c72e5"
#define AT_EMPTY_CT   "76712452af955ae5f2e33fa00f51c97e9f"
#define AT_EMPTY_HASH "af686ba17bcce18a4d9880042b9bf0f946e6b39d6798127e746521ae06e24770"
#define AT_BIG_C0_HEAD "757ace59b884221d1c11e529eac1ea105d8f6aadf75ef8a2a78f9dd8cd993a3f"
#define AT_BIG_C1 "a5a82d516cce424a394feded4038363b4d4a6e074551dc1afff93f"
#define AT_BIG_HASH "bccd8f0440415d2ab8b4c6597b8109c950d7aed89e22ca238adbf7a167752a72"
#define BIG_SIZE (LSN_ATTACH_CHUNK + 10)

static uint8_t key[32], header[24], id[16];
static uint8_t *big_plain;
static uint8_t ct_buf[LSN_ATTACH_CHUNK_CT], pt_buf[LSN_ATTACH_CHUNK];

static int
setup(void **state)
{
	fill_seq(key, 32, 0x40);
	fill_seq(header, 24, 0x60);
	fill_seq(id, 16, 0xc0);
	big_plain = malloc(BIG_SIZE);
	if (big_plain == NULL)
		return -1;
	for (size_t i = 0; i < BIG_SIZE; i++)
		big_plain[i] = (uint8_t)(i % 251);
	return 0;
}

static int
teardown(void **state)
{
	free(big_plain);
	return 0;
}

/* A whole encrypted file: chunks back to back, with their lengths. */
struct blob {
	uint8_t *data;
	size_t len;
	size_t nchunks;
	size_t off[8], clen[8];
	uint8_t hash[32];
};

/* Encrypt plain (det when k and h given, fresh otherwise) into b. */
static void
encrypt_file(struct blob *b, const uint8_t *plain, size_t len, const uint8_t *k, const uint8_t *h,
	     uint8_t key_out[32], uint8_t header_out[24])
{
	struct lsn_attach_enc e;
	if (k != NULL) {
		lsn_attach_enc_init_det(&e, id, k, h);
	} else {
		lsn_attach_enc_init(&e, id, key_out, header_out);
	}
	size_t chunks, total = lsn_attach_ct_size(len, &chunks);
	assert_true(chunks <= 8);
	b->data = malloc(total);
	assert_non_null(b->data);
	b->len = 0;
	b->nchunks = chunks;
	for (size_t c = 0; c < chunks; c++) {
		size_t start = c * LSN_ATTACH_CHUNK, n = len - start;
		if (n > LSN_ATTACH_CHUNK)
			n = LSN_ATTACH_CHUNK;
		size_t out_len;
		assert_int_equal(lsn_attach_enc_chunk(&e, plain ? plain + start : NULL, n, c + 1 == chunks,
						      b->data + b->len, &out_len), 0);
		assert_int_equal(out_len, n + crypto_secretstream_xchacha20poly1305_ABYTES);
		b->off[c] = b->len;
		b->clen[c] = out_len;
		b->len += out_len;
	}
	assert_int_equal(b->len, total);
	lsn_attach_enc_final(&e, b->hash);
}

/* Decrypt the chunks listed in order[] (indices into b); returns the number
 * accepted before the first refusal, and whether finish accepted the file. */
static size_t
decrypt_chunks(const struct blob *b, const size_t *order, size_t n, const uint8_t k[32],
	       const uint8_t h[24], const uint8_t *ident, const uint8_t expected[32], bool *ok,
	       const uint8_t *want_plain)
{
	struct lsn_attach_dec d;
	size_t accepted = 0;
	assert_int_equal(lsn_attach_dec_init(&d, ident, k, h), 0);
	for (size_t i = 0; i < n; i++) {
		size_t out_len;
		bool final;
		size_t c = order[i];
		if (lsn_attach_dec_chunk(&d, b->data + b->off[c], b->clen[c], pt_buf, &out_len,
					 &final) != 0)
			break;
		if (want_plain != NULL)
			assert_memory_equal(pt_buf, want_plain + c * LSN_ATTACH_CHUNK, out_len);
		assert_int_equal(final, c + 1 == b->nchunks);
		accepted++;
	}
	*ok = lsn_attach_dec_finish(&d, expected);
	return accepted;
}

static void
check_hex(const uint8_t *got, size_t len, const char *hex)
{
	uint8_t want[128];
	size_t n = hex_to_bytes(hex, want, sizeof want);
	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
}

/* ---- vectors ---------------------------------------------------------------- */

static void
small_vector(void **state)
{
	struct blob b;
	encrypt_file(&b, (const uint8_t *)AT_SMALL_PLAIN, strlen(AT_SMALL_PLAIN), key, header,
		     NULL, NULL);
	check_hex(b.data, b.len, AT_SMALL_CT);
	check_hex(b.hash, 32, AT_SMALL_HASH);
	free(b.data);

	/* the recorded bytes, decrypted by libsodium's pull side */
	uint8_t ct[64], want_hash[32];
	size_t len = hex_to_bytes(AT_SMALL_CT, ct, sizeof ct), out_len;
	hex_to_bytes(AT_SMALL_HASH, want_hash, sizeof want_hash);
	struct lsn_attach_dec d;
	bool final = false;
	assert_int_equal(lsn_attach_dec_init(&d, id, key, header), 0);
	assert_int_equal(lsn_attach_dec_chunk(&d, ct, len, pt_buf, &out_len, &final), 0);
	assert_true(final);
	assert_int_equal(out_len, strlen(AT_SMALL_PLAIN));
	assert_memory_equal(pt_buf, AT_SMALL_PLAIN, out_len);
	assert_true(lsn_attach_dec_finish(&d, want_hash));
}

static void
empty_vector(void **state)
{
	struct blob b;
	encrypt_file(&b, NULL, 0, key, header, NULL, NULL);
	assert_int_equal(b.nchunks, 1);
	check_hex(b.data, b.len, AT_EMPTY_CT);
	check_hex(b.hash, 32, AT_EMPTY_HASH);
	size_t order[] = {0};
	bool ok;
	assert_int_equal(decrypt_chunks(&b, order, 1, key, header, id, b.hash, &ok, NULL), 1);
	assert_true(ok);
	free(b.data);
}

static void
big_vector(void **state)
{
	struct blob b;
	encrypt_file(&b, big_plain, BIG_SIZE, key, header, NULL, NULL);
	assert_int_equal(b.nchunks, 2);
	assert_int_equal(b.clen[0], LSN_ATTACH_CHUNK_CT);
	check_hex(b.data, 32, AT_BIG_C0_HEAD);
	check_hex(b.data + b.off[1], b.clen[1], AT_BIG_C1);
	check_hex(b.hash, 32, AT_BIG_HASH);
	size_t order[] = {0, 1};
	bool ok;
	assert_int_equal(decrypt_chunks(&b, order, 2, key, header, id, b.hash, &ok, big_plain), 2);
	assert_true(ok);
	free(b.data);
}

/* ---- behaviour -------------------------------------------------------------- */

static void
round_trip_fresh_key(void **state)
{
	enum { SIZE = 3 * LSN_ATTACH_CHUNK + 12345 };
	uint8_t *plain = malloc(SIZE), k1[32], h1[24], k2[32], h2[24];
	assert_non_null(plain);
	randombytes_buf(plain, SIZE);
	struct blob b, b2;
	encrypt_file(&b, plain, SIZE, NULL, NULL, k1, h1);
	encrypt_file(&b2, plain, SIZE, NULL, NULL, k2, h2);
	assert_memory_not_equal(k1, k2, 32);   /* a fresh key per file */
	assert_memory_not_equal(h1, h2, 24);
	assert_int_equal(b.nchunks, 4);
	size_t order[] = {0, 1, 2, 3};
	bool ok;
	assert_int_equal(decrypt_chunks(&b, order, 4, k1, h1, id, b.hash, &ok, plain), 4);
	assert_true(ok);
	free(b.data);
	free(b2.data);
	free(plain);
}

static void
truncation_detected(void **state)
{
	struct blob b;
	encrypt_file(&b, big_plain, BIG_SIZE, key, header, NULL, NULL);
	size_t order[] = {0, 1};
	bool ok;
	/* the final chunk is missing: every chunk given verifies, the file does not */
	assert_int_equal(decrypt_chunks(&b, order, 1, key, header, id, b.hash, &ok, NULL), 1);
	assert_false(ok);
	/* even with the hash of what was received */
	uint8_t partial[32];
	crypto_generichash(partial, 32, b.data, b.clen[0], NULL, 0);
	assert_int_equal(decrypt_chunks(&b, order, 1, key, header, id, partial, &ok, NULL), 1);
	assert_false(ok);
	/* the final chunk cut short */
	b.clen[1] -= 1;
	assert_int_equal(decrypt_chunks(&b, order, 2, key, header, id, b.hash, &ok, NULL), 1);
	assert_false(ok);
	/* nothing at all */
	assert_int_equal(decrypt_chunks(&b, order, 0, key, header, id, b.hash, &ok, NULL), 0);
	assert_false(ok);
	free(b.data);
}

static void
reordered_or_dropped_chunks(void **state)
{
	enum { SIZE = 2 * LSN_ATTACH_CHUNK + 5 };
	uint8_t *plain = calloc(1, SIZE);   /* identical chunks: only position tells them apart */
	assert_non_null(plain);
	struct blob b;
	encrypt_file(&b, plain, SIZE, key, header, NULL, NULL);
	bool ok;
	size_t swapped[] = {1, 0, 2}, dropped[] = {0, 2}, repeated[] = {0, 0, 1, 2};
	assert_int_equal(decrypt_chunks(&b, swapped, 3, key, header, id, b.hash, &ok, NULL), 0);
	assert_false(ok);
	assert_int_equal(decrypt_chunks(&b, dropped, 2, key, header, id, b.hash, &ok, NULL), 1);
	assert_false(ok);
	assert_int_equal(decrypt_chunks(&b, repeated, 4, key, header, id, b.hash, &ok, NULL), 1);
	assert_false(ok);
	size_t in_order[] = {0, 1, 2};
	assert_int_equal(decrypt_chunks(&b, in_order, 3, key, header, id, b.hash, &ok, NULL), 3);
	assert_true(ok);
	free(b.data);
	free(plain);
}

static void
wrong_id_key_or_header(void **state)
{
	struct blob b;
	encrypt_file(&b, big_plain, BIG_SIZE, key, header, NULL, NULL);
	size_t order[] = {0, 1};
	bool ok;
	uint8_t other_id[16], other_key[32], other_header[24];
	memcpy(other_id, id, 16);
	other_id[15] ^= 1;   /* the blob of another attachment */
	assert_int_equal(decrypt_chunks(&b, order, 2, key, header, other_id, b.hash, &ok, NULL), 0);
	assert_false(ok);
	memcpy(other_key, key, 32);
	other_key[0] ^= 1;
	assert_int_equal(decrypt_chunks(&b, order, 2, other_key, header, id, b.hash, &ok, NULL), 0);
	assert_false(ok);
	memcpy(other_header, header, 24);
	other_header[23] ^= 1;
	assert_int_equal(decrypt_chunks(&b, order, 2, key, other_header, id, b.hash, &ok, NULL), 0);
	assert_false(ok);
	free(b.data);
}

static void
tampering_and_hash_mismatch(void **state)
{
	struct blob b;
	encrypt_file(&b, big_plain, BIG_SIZE, key, header, NULL, NULL);
	size_t order[] = {0, 1};
	bool ok;
	/* one byte altered in each chunk, including the encrypted tag byte */
	size_t spots[] = {0, 1, 1000, LSN_ATTACH_CHUNK_CT - 1, b.off[1], b.off[1] + 5,
			  b.len - 1};
	for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
		b.data[spots[i]] ^= 0x80;
		size_t got = decrypt_chunks(&b, order, 2, key, header, id, b.hash, &ok, NULL);
		assert_int_equal(got, spots[i] < b.off[1] ? 0 : 1);
		assert_false(ok);
		b.data[spots[i]] ^= 0x80;
	}
	/* all chunks authentic, but not the blob the message named */
	uint8_t wrong[32];
	memcpy(wrong, b.hash, 32);
	wrong[31] ^= 1;
	assert_int_equal(decrypt_chunks(&b, order, 2, key, header, id, wrong, &ok, NULL), 2);
	assert_false(ok);
	assert_int_equal(decrypt_chunks(&b, order, 2, key, header, id, b.hash, &ok, NULL), 2);
	assert_true(ok);
	free(b.data);
}

static void
chunk_after_final(void **state)
{
	struct blob small, big;
	encrypt_file(&small, (const uint8_t *)"x", 1, key, header, NULL, NULL);
	encrypt_file(&big, big_plain, BIG_SIZE, key, header, NULL, NULL);
	struct lsn_attach_dec d;
	size_t out_len;
	bool final;
	assert_int_equal(lsn_attach_dec_init(&d, id, key, header), 0);
	assert_int_equal(lsn_attach_dec_chunk(&d, small.data, small.len, pt_buf, &out_len, &final),
			 0);
	assert_true(final);
	/* anything after the final chunk is refused and spoils the file */
	assert_int_equal(lsn_attach_dec_chunk(&d, big.data, big.clen[0], pt_buf, &out_len, &final),
			 -1);
	assert_false(final);
	assert_false(lsn_attach_dec_finish(&d, small.hash));
	free(small.data);
	free(big.data);
}

static void
decoder_rejects_odd_lengths(void **state)
{
	struct blob b;
	encrypt_file(&b, big_plain, BIG_SIZE, key, header, NULL, NULL);
	struct lsn_attach_dec d;
	size_t out_len;
	bool final;
	assert_int_equal(lsn_attach_dec_init(&d, id, key, header), 0);
	assert_int_equal(lsn_attach_dec_chunk(&d, b.data, 16, pt_buf, &out_len, &final), -1);
	assert_false(lsn_attach_dec_finish(&d, b.hash));
	assert_int_equal(lsn_attach_dec_init(&d, id, key, header), 0);
	assert_int_equal(lsn_attach_dec_chunk(&d, b.data, LSN_ATTACH_CHUNK_CT + 1, pt_buf, &out_len,
					      &final), -1);
	/* once failed, even a good chunk is refused */
	assert_int_equal(lsn_attach_dec_chunk(&d, b.data, b.clen[0], pt_buf, &out_len, &final), -1);
	assert_false(lsn_attach_dec_finish(&d, b.hash));
	free(b.data);
}

static void
encoder_rules(void **state)
{
	struct lsn_attach_enc e;
	uint8_t k[32], h[24], hash[32];
	size_t out_len;
	static uint8_t plain[LSN_ATTACH_CHUNK + 1];
	lsn_attach_enc_init(&e, id, k, h);
	/* a short chunk that is not the last, and an oversized chunk */
	assert_int_equal(lsn_attach_enc_chunk(&e, plain, 100, false, ct_buf, &out_len), -1);
	assert_int_equal(lsn_attach_enc_chunk(&e, plain, LSN_ATTACH_CHUNK + 1, true, ct_buf,
					      &out_len), -1);
	assert_int_equal(lsn_attach_enc_chunk(&e, plain, LSN_ATTACH_CHUNK, false, ct_buf, &out_len),
			 0);
	assert_int_equal(out_len, LSN_ATTACH_CHUNK_CT);
	assert_int_equal(lsn_attach_enc_chunk(&e, plain, 3, true, ct_buf, &out_len), 0);
	/* nothing after the last chunk */
	assert_int_equal(lsn_attach_enc_chunk(&e, plain, 3, true, ct_buf, &out_len), -1);
	lsn_attach_enc_final(&e, hash);
	uint8_t zero[sizeof e];
	memset(zero, 0, sizeof zero);
	assert_memory_equal(&e, zero, sizeof e);   /* state wiped */
}

static void
sizes(void **state)
{
	size_t chunks = 0;
	const size_t A = crypto_secretstream_xchacha20poly1305_ABYTES;
	assert_int_equal(A, 17);
	assert_int_equal(lsn_attach_ct_size(0, &chunks), A);
	assert_int_equal(chunks, 1);
	assert_int_equal(lsn_attach_ct_size(1, &chunks), 1 + A);
	assert_int_equal(chunks, 1);
	assert_int_equal(lsn_attach_ct_size(LSN_ATTACH_CHUNK, &chunks), LSN_ATTACH_CHUNK_CT);
	assert_int_equal(chunks, 1);
	assert_int_equal(lsn_attach_ct_size(LSN_ATTACH_CHUNK + 1, &chunks),
			 LSN_ATTACH_CHUNK + 1 + 2 * A);
	assert_int_equal(chunks, 2);
	assert_int_equal(lsn_attach_ct_size(10u * 1024 * 1024, &chunks), 10u * 1024 * 1024 + 160 * A);
	assert_int_equal(chunks, 160);
	assert_int_equal(lsn_attach_ct_size(5, NULL), 5 + A);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(small_vector),
		cmocka_unit_test(empty_vector),
		cmocka_unit_test(big_vector),
		cmocka_unit_test(round_trip_fresh_key),
		cmocka_unit_test(truncation_detected),
		cmocka_unit_test(reordered_or_dropped_chunks),
		cmocka_unit_test(wrong_id_key_or_header),
		cmocka_unit_test(tampering_and_hash_mismatch),
		cmocka_unit_test(chunk_after_final),
		cmocka_unit_test(decoder_rejects_odd_lengths),
		cmocka_unit_test(encoder_rules),
		cmocka_unit_test(sizes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
