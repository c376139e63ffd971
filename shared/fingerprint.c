/* fingerprint.c — user fingerprints and safety numbers (CRYPTO.md §2). */
#include <string.h>

#include <sodium.h>

#include "fingerprint.h"
#include "sigs.h"

#define FPR_HASH_BYTES 32
#define FPR_CHUNKS     6
#define FPR_CHUNK_DIGITS 5

/* Six 5-byte chunks of h, each a big-endian integer mod 100000, 5 digits. */
static void
digits_from_hash(const uint8_t h[FPR_HASH_BYTES], char out[LSN_FPR_DIGITS + 1])
{
	for (int c = 0; c < FPR_CHUNKS; c++) {
		uint64_t v = 0;
		for (int i = 0; i < 5; i++)
			v = v << 8 | h[5 * c + i];
		v %= 100000;
		for (int d = FPR_CHUNK_DIGITS - 1; d >= 0; d--) {
			out[FPR_CHUNK_DIGITS * c + d] = (char)('0' + v % 10);
			v /= 10;
		}
	}
	out[LSN_FPR_DIGITS] = '\0';
}

void
lsn_fingerprint(const uint8_t user[LSN_ID_BYTES], const char *rpps, const uint8_t ik_pk[32],
		char out[LSN_FPR_DIGITS + 1])
{
	static const char label[] = "liaison-fpr-v1";
	size_t rpps_len = rpps ? strnlen(rpps, LSN_FPR_RPPS_MAX + 1) : 0;
	if (rpps_len > LSN_FPR_RPPS_MAX) {
		out[0] = '\0';
		return;
	}
	uint8_t first[sizeof label - 1 + 2 + LSN_ID_BYTES + 2 + LSN_FPR_RPPS_MAX + 32];
	struct lsn_buf b;
	lsn_buf_init(&b, first, sizeof first);
	lsn_buf_put(&b, label, sizeof label - 1);
	lsn_buf_put_lp(&b, user, LSN_ID_BYTES);
	lsn_buf_put_lp(&b, rpps ? rpps : "", rpps_len);
	lsn_buf_put(&b, ik_pk, 32);

	uint8_t h[FPR_HASH_BYTES];
	crypto_generichash(h, sizeof h, first, b.len, NULL, 0);
	for (int round = 1; round < LSN_FPR_ROUNDS; round++) {
		crypto_generichash_state st;
		crypto_generichash_init(&st, NULL, 0, sizeof h);
		crypto_generichash_update(&st, h, sizeof h);
		crypto_generichash_update(&st, ik_pk, 32);
		crypto_generichash_final(&st, h, sizeof h);
	}
	digits_from_hash(h, out);
}

static bool
is_fingerprint(const char *fpr)
{
	for (int i = 0; i < LSN_FPR_DIGITS; i++)
		if (fpr[i] < '0' || fpr[i] > '9')
			return false;
	return fpr[LSN_FPR_DIGITS] == '\0';
}

/* Append the 30 digits of fpr as 6 space-separated groups of 5. */
static size_t
put_groups(char *out, size_t o, const char *fpr)
{
	for (int g = 0; g < FPR_CHUNKS; g++) {
		if (o > 0)
			out[o++] = ' ';
		memcpy(out + o, fpr + FPR_CHUNK_DIGITS * g, FPR_CHUNK_DIGITS);
		o += FPR_CHUNK_DIGITS;
	}
	return o;
}

void
lsn_safety_number(const uint8_t user_a[LSN_ID_BYTES], const char fpr_a[LSN_FPR_DIGITS + 1],
		  const uint8_t user_b[LSN_ID_BYTES], const char fpr_b[LSN_FPR_DIGITS + 1],
		  char out[LSN_SAFETY_NUMBER_TEXT + 1])
{
	if (!is_fingerprint(fpr_a) || !is_fingerprint(fpr_b)) {
		out[0] = '\0';
		return;
	}
	bool a_first = memcmp(user_a, user_b, LSN_ID_BYTES) <= 0;
	size_t o = put_groups(out, 0, a_first ? fpr_a : fpr_b);
	o = put_groups(out, o, a_first ? fpr_b : fpr_a);
	out[o] = '\0';
}
