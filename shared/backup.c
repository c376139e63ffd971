/* backup.c — key backup: recovery key, recovery code, session entries and
 * the identity blob (CRYPTO.md §7). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "backup.h"
#include "base32.h"
#include "sigs.h"

static const char entry_label[] = "liaison-backup-v1";
static const char identity_label[] = "liaison-backup-ik-v1";
static const char rk_label[] = "liaison-rk-v1";

#define NONCE_BYTES  crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES    crypto_aead_xchacha20poly1305_ietf_ABYTES
#define CODE_RAW     35   /* RK + 3 checksum bytes */
#define ENTRY_AD_MAX 128

_Static_assert(LSN_BACKUP_OVERHEAD == 1 + NONCE_BYTES + TAG_BYTES, "backup overhead");
_Static_assert(CODE_RAW * 8 == LSN_RECOVERY_CODE_CHARS * 5, "recovery code is whole characters");
_Static_assert(LSN_BASE32_CHARS(CODE_RAW) == LSN_RECOVERY_CODE_CHARS, "recovery code length");

/* ---- keys ---------------------------------------------------------------- */

void
lsn_backup_rk_random(uint8_t rk[32])
{
	randombytes_buf(rk, 32);
}

void
lsn_backup_keys(const uint8_t rk[32], uint8_t bk[32], uint8_t ikk[32])
{
	crypto_kdf_derive_from_key(bk, 32, 1, "lsn-bkup", rk);
	crypto_kdf_derive_from_key(ikk, 32, 2, "lsn-idnt", rk);
}

int
lsn_backup_rk_from_passphrase(const char *pass, const uint8_t salt[LSN_BACKUP_SALT_BYTES],
			      uint8_t rk[32])
{
	_Static_assert(crypto_pwhash_SALTBYTES == LSN_BACKUP_SALT_BYTES, "salt size");
	if (pass == NULL ||
	    crypto_pwhash(rk, 32, pass, strlen(pass), salt, crypto_pwhash_OPSLIMIT_MODERATE,
			  crypto_pwhash_MEMLIMIT_MODERATE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_memzero(rk, 32);
		return -1;
	}
	return 0;
}

/* ---- recovery code ------------------------------------------------------- */

static void
rk_checksum(const uint8_t rk[32], uint8_t sum[3])
{
	uint8_t h[32];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(&st, (const uint8_t *)rk_label, sizeof rk_label - 1);
	crypto_generichash_update(&st, rk, 32);
	crypto_generichash_final(&st, h, sizeof h);
	memcpy(sum, h, 3);
	sodium_memzero(&st, sizeof st);
	sodium_memzero(h, sizeof h);
}

void
lsn_recovery_code_format(const uint8_t rk[32], char out[LSN_RECOVERY_CODE_TEXT + 1])
{
	uint8_t raw[CODE_RAW];
	memcpy(raw, rk, 32);
	rk_checksum(rk, raw + 32);
	lsn_base32_encode(raw, CODE_RAW, 4, out, LSN_RECOVERY_CODE_TEXT + 1);
	sodium_memzero(raw, sizeof raw);
}

bool
lsn_recovery_code_parse(const char *text, uint8_t rk[32])
{
	uint8_t raw[CODE_RAW], sum[3];
	bool ok = lsn_base32_decode(text, raw, CODE_RAW);
	if (ok) {
		rk_checksum(raw, sum);
		ok = sodium_memcmp(sum, raw + 32, 3) == 0;
	}
	if (ok)
		memcpy(rk, raw, 32);
	else
		sodium_memzero(rk, 32);
	sodium_memzero(raw, sizeof raw);
	sodium_memzero(sum, sizeof sum);
	return ok;
}

/* ---- sealed blobs -------------------------------------------------------- */

/* "liaison-backup-v1" LP(user) channel session_id u32(first_index) */
static size_t
entry_ad(uint8_t out[ENTRY_AD_MAX], const uint8_t user[LSN_ID_BYTES],
	 const uint8_t channel[LSN_ID_BYTES], const uint8_t session_id[32], uint32_t first_index)
{
	struct lsn_buf b;
	lsn_buf_init(&b, out, ENTRY_AD_MAX);
	lsn_buf_put(&b, entry_label, sizeof entry_label - 1);
	lsn_buf_put_lp(&b, user, LSN_ID_BYTES);
	lsn_buf_put(&b, channel, LSN_ID_BYTES);
	lsn_buf_put(&b, session_id, 32);
	lsn_buf_put_u32(&b, first_index);
	return b.len;
}

/* "liaison-backup-ik-v1" LP(user) IK_pk */
static size_t
identity_ad(uint8_t out[ENTRY_AD_MAX], const uint8_t user[LSN_ID_BYTES], const uint8_t ik_pk[32])
{
	struct lsn_buf b;
	lsn_buf_init(&b, out, ENTRY_AD_MAX);
	lsn_buf_put(&b, identity_label, sizeof identity_label - 1);
	lsn_buf_put_lp(&b, user, LSN_ID_BYTES);
	lsn_buf_put(&b, ik_pk, 32);
	return b.len;
}

/* version || nonce || AEAD(key, nonce, ad, data) into a malloc'd *out. */
static int
seal_blob(const uint8_t key[32], const uint8_t *ad, size_t ad_len, const uint8_t nonce[24],
	  const uint8_t *data, size_t len, uint8_t **out, size_t *out_len)
{
	size_t total = LSN_BACKUP_OVERHEAD + len;
	uint8_t *blob = malloc(total);
	if (blob == NULL)
		return -1;
	blob[0] = LSN_BACKUP_VERSION;
	memcpy(blob + 1, nonce, NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(blob + 1 + NONCE_BYTES, NULL, data, len, ad,
						   ad_len, NULL, nonce, key);
	*out = blob;
	*out_len = total;
	return 0;
}

/* Open version || nonce || ct into out (room for len - overhead). */
static int
open_blob(const uint8_t key[32], const uint8_t *ad, size_t ad_len, const uint8_t *blob,
	  size_t len, uint8_t *out)
{
	if (blob == NULL || len < LSN_BACKUP_OVERHEAD || blob[0] != LSN_BACKUP_VERSION)
		return -1;
	return crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, blob + 1 + NONCE_BYTES,
							  len - 1 - NONCE_BYTES, ad, ad_len,
							  blob + 1, key);
}

int
lsn_backup_seal_det(const uint8_t bk[32], const uint8_t user[LSN_ID_BYTES],
		    const uint8_t channel[LSN_ID_BYTES], const uint8_t session_id[32],
		    uint32_t first_index, const uint8_t nonce[24], const uint8_t *data,
		    size_t len, uint8_t **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	if (len > LSN_BACKUP_MAX_DATA || (data == NULL && len > 0))
		return -1;
	uint8_t ad[ENTRY_AD_MAX];
	size_t ad_len = entry_ad(ad, user, channel, session_id, first_index);
	return seal_blob(bk, ad, ad_len, nonce, data, len, out, out_len);
}

int
lsn_backup_seal(const uint8_t bk[32], const uint8_t user[LSN_ID_BYTES],
		const uint8_t channel[LSN_ID_BYTES], const uint8_t session_id[32],
		uint32_t first_index, const uint8_t *data, size_t len,
		uint8_t **out, size_t *out_len)
{
	uint8_t nonce[NONCE_BYTES];
	randombytes_buf(nonce, sizeof nonce);
	return lsn_backup_seal_det(bk, user, channel, session_id, first_index, nonce, data, len,
				   out, out_len);
}

int
lsn_backup_open(const uint8_t bk[32], const uint8_t user[LSN_ID_BYTES],
		const uint8_t channel[LSN_ID_BYTES], const uint8_t session_id[32],
		uint32_t first_index, const uint8_t *blob, size_t len,
		uint8_t **data, size_t *data_len)
{
	*data = NULL;
	*data_len = 0;
	if (blob == NULL || len < LSN_BACKUP_OVERHEAD || len > LSN_BACKUP_OVERHEAD + LSN_BACKUP_MAX_DATA)
		return -1;
	uint8_t ad[ENTRY_AD_MAX];
	size_t ad_len = entry_ad(ad, user, channel, session_id, first_index);
	size_t plain_len = len - LSN_BACKUP_OVERHEAD;
	uint8_t *plain = malloc(plain_len ? plain_len : 1);
	if (plain == NULL)
		return -1;
	if (open_blob(bk, ad, ad_len, blob, len, plain) != 0) {
		free(plain);
		return -1;
	}
	*data = plain;
	*data_len = plain_len;
	return 0;
}

int
lsn_backup_seal_identity_det(const uint8_t ikk[32], const uint8_t user[LSN_ID_BYTES],
			     const uint8_t ik_pk[32], const uint8_t ik_sk[64],
			     const uint8_t nonce[24], uint8_t **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	uint8_t ad[ENTRY_AD_MAX];
	size_t ad_len = identity_ad(ad, user, ik_pk);
	return seal_blob(ikk, ad, ad_len, nonce, ik_sk, 64, out, out_len);
}

int
lsn_backup_seal_identity(const uint8_t ikk[32], const uint8_t user[LSN_ID_BYTES],
			 const uint8_t ik_pk[32], const uint8_t ik_sk[64],
			 uint8_t **out, size_t *out_len)
{
	uint8_t nonce[NONCE_BYTES];
	randombytes_buf(nonce, sizeof nonce);
	return lsn_backup_seal_identity_det(ikk, user, ik_pk, ik_sk, nonce, out, out_len);
}

int
lsn_backup_open_identity(const uint8_t ikk[32], const uint8_t user[LSN_ID_BYTES],
			 const uint8_t ik_pk[32], const uint8_t *blob, size_t len,
			 uint8_t ik_sk[64])
{
	uint8_t ad[ENTRY_AD_MAX], pk[32], sk[64];
	size_t ad_len = identity_ad(ad, user, ik_pk);
	int rc = -1;
	if (len == LSN_BACKUP_IDENTITY_BYTES && open_blob(ikk, ad, ad_len, blob, len, ik_sk) == 0) {
		/* the secret key must be the one of ik_pk, recomputed from its seed */
		crypto_sign_seed_keypair(pk, sk, ik_sk);
		if (sodium_memcmp(pk, ik_pk, 32) == 0 && sodium_memcmp(sk, ik_sk, 64) == 0)
			rc = 0;
	}
	if (rc != 0)
		sodium_memzero(ik_sk, 64);
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(pk, sizeof pk);
	return rc;
}
