/* keyshare.c — the pairwise key-share envelope (CRYPTO.md §3). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keyshare.h"
#include "sigs.h"

static const char ks_label[] = "liaison-ks-v1";
static const char ks_sig_label[] = "liaison-ks-sig-v1";

/* Offsets inside the envelope (docs/CRYPTO.md, "Key-share envelope"). */
#define OFF_AD    1
#define OFF_NONCE (OFF_AD + LSN_KS_AD_BYTES)
#define OFF_CTLEN (OFF_NONCE + LSN_KS_NONCE_BYTES)
#define OFF_CT    (OFF_CTLEN + 4)
/* Offsets inside AD. */
#define AD_USER_A (sizeof ks_label - 1)
#define AD_DEV_A  (AD_USER_A + 2 + LSN_ID_BYTES)
#define AD_USER_B (AD_DEV_A + 2 + LSN_ID_BYTES)
#define AD_DEV_B  (AD_USER_B + 2 + LSN_ID_BYTES)
#define AD_AK_ID  (AD_DEV_B + 2 + LSN_ID_BYTES)
#define AD_E_PK   (AD_AK_ID + 2 + LSN_ID_BYTES)
#define AD_SHARE  (AD_E_PK + 32)

#define SIG_MSG_MAX (sizeof ks_sig_label - 1 + LSN_KS_AD_BYTES + LSN_KS_NONCE_BYTES \
		     + LSN_KS_MAX_PLAIN + LSN_KS_TAG_BYTES)

_Static_assert(AD_SHARE + 16 == LSN_KS_AD_BYTES, "AD layout");

const char *
lsn_ks_result_text(enum lsn_ks_result r)
{
	switch (r) {
	case LSN_KS_OK:
		return "key share opened";
	case LSN_KS_BAD_FORMAT:
		return "key share is malformed or of an unknown version; the sender may need to update";
	case LSN_KS_NOT_FOR_ME:
		return "key share is addressed to another device; it was delivered here by mistake";
	case LSN_KS_BAD_SIGNATURE:
		return "key share is not signed by the sending device; it was ignored";
	case LSN_KS_DECRYPT_FAILED:
		return "key share does not decrypt with our agreement key; it may be for an expired key, ask the sender to share again";
	}
	return "key share: unknown result";
}

/* "liaison-ks-sig-v1" || AD || nonce || ct into out; returns its length. */
static size_t
sig_message(uint8_t out[SIG_MSG_MAX], const uint8_t *ad, const uint8_t *nonce,
	    const uint8_t *ct, size_t ct_len)
{
	struct lsn_buf b;
	lsn_buf_init(&b, out, SIG_MSG_MAX);
	lsn_buf_put(&b, ks_sig_label, sizeof ks_sig_label - 1);
	lsn_buf_put(&b, ad, LSN_KS_AD_BYTES);
	lsn_buf_put(&b, nonce, LSN_KS_NONCE_BYTES);
	lsn_buf_put(&b, ct, ct_len);
	return b.overflow ? 0 : b.len;
}

static void
put_ad(struct lsn_buf *b, const struct lsn_ks_addr *from, const struct lsn_ks_addr *to,
       const uint8_t ak_id[LSN_ID_BYTES], const uint8_t e_pk[32], const uint8_t share_id[16])
{
	lsn_buf_put(b, ks_label, sizeof ks_label - 1);
	lsn_buf_put_lp(b, from->user, LSN_ID_BYTES);
	lsn_buf_put_lp(b, from->device, LSN_ID_BYTES);
	lsn_buf_put_lp(b, to->user, LSN_ID_BYTES);
	lsn_buf_put_lp(b, to->device, LSN_ID_BYTES);
	lsn_buf_put_lp(b, ak_id, LSN_ID_BYTES);
	lsn_buf_put(b, e_pk, 32);
	lsn_buf_put(b, share_id, 16);
}

/* Encrypt and sign into the (already sized) envelope whose AD is written. */
static int
encrypt_and_sign(uint8_t *env, const uint8_t k[32], const uint8_t nonce[24],
		 const uint8_t from_dk_sk[64], const uint8_t *plain, size_t len)
{
	size_t ct_len = len + LSN_KS_TAG_BYTES;
	memcpy(env + OFF_NONCE, nonce, LSN_KS_NONCE_BYTES);
	struct lsn_buf b;
	lsn_buf_init(&b, env + OFF_CTLEN, 4);
	lsn_buf_put_u32(&b, (uint32_t)ct_len);
	crypto_aead_xchacha20poly1305_ietf_encrypt(env + OFF_CT, NULL, plain, len,
						   env + OFF_AD, LSN_KS_AD_BYTES, NULL, nonce, k);
	uint8_t msg[SIG_MSG_MAX];
	size_t n = sig_message(msg, env + OFF_AD, nonce, env + OFF_CT, ct_len);
	if (n == 0)
		return -1;
	crypto_sign_detached(env + OFF_CT + ct_len, NULL, msg, n, from_dk_sk);
	return 0;
}

int
lsn_ks_seal_det(const struct lsn_ks_addr *from, const uint8_t from_dk_sk[64],
		const struct lsn_ks_addr *to, const uint8_t to_ak_id[LSN_ID_BYTES],
		const uint8_t to_ak_pk[32], const uint8_t e_sk[32], const uint8_t nonce[24],
		const uint8_t share_id[16], const uint8_t *plain, size_t len,
		uint8_t **env, size_t *env_len)
{
	*env = NULL;
	*env_len = 0;
	if (len > LSN_KS_MAX_PLAIN || (plain == NULL && len > 0))
		return -1;
	uint8_t e_pk[32], rx[32], tx[32];
	crypto_scalarmult_base(e_pk, e_sk);
	int rc = crypto_kx_client_session_keys(rx, tx, e_pk, e_sk, to_ak_pk);
	sodium_memzero(rx, sizeof rx);
	if (rc != 0) {
		sodium_memzero(tx, sizeof tx);
		return -1;
	}
	size_t total = LSN_KS_OVERHEAD + len;
	uint8_t *out = malloc(total);
	if (out == NULL) {
		sodium_memzero(tx, sizeof tx);
		return -1;
	}
	out[0] = LSN_KS_VERSION;
	struct lsn_buf b;
	lsn_buf_init(&b, out + OFF_AD, LSN_KS_AD_BYTES);
	put_ad(&b, from, to, to_ak_id, e_pk, share_id);
	rc = encrypt_and_sign(out, tx, nonce, from_dk_sk, plain, len);
	sodium_memzero(tx, sizeof tx);
	if (rc != 0) {
		free(out);
		return -1;
	}
	*env = out;
	*env_len = total;
	return 0;
}

int
lsn_ks_seal(const struct lsn_ks_addr *from, const uint8_t from_dk_sk[64],
	    const struct lsn_ks_addr *to, const uint8_t to_ak_id[LSN_ID_BYTES],
	    const uint8_t to_ak_pk[32], const uint8_t *plain, size_t len,
	    uint8_t **env, size_t *env_len)
{
	uint8_t e_sk[32], nonce[24], share_id[16];
	randombytes_buf(e_sk, sizeof e_sk);
	randombytes_buf(nonce, sizeof nonce);
	randombytes_buf(share_id, sizeof share_id);
	int rc = lsn_ks_seal_det(from, from_dk_sk, to, to_ak_id, to_ak_pk, e_sk, nonce, share_id,
				 plain, len, env, env_len);
	sodium_memzero(e_sk, sizeof e_sk);   /* E_sk erased at once */
	return rc;
}

static bool
lp16_at(const uint8_t *ad, size_t off, uint8_t out[LSN_ID_BYTES])
{
	if (ad[off] != 0 || ad[off + 1] != LSN_ID_BYTES)
		return false;
	memcpy(out, ad + off + 2, LSN_ID_BYTES);
	return true;
}

enum lsn_ks_result
lsn_ks_parse(const uint8_t *env, size_t len, struct lsn_ks_parsed *p)
{
	memset(p, 0, sizeof *p);
	if (env == NULL || len < LSN_KS_OVERHEAD || len > LSN_KS_MAX_BYTES)
		return LSN_KS_BAD_FORMAT;
	if (env[0] != LSN_KS_VERSION)
		return LSN_KS_BAD_FORMAT;
	const uint8_t *ad = env + OFF_AD;
	if (memcmp(ad, ks_label, sizeof ks_label - 1) != 0)
		return LSN_KS_BAD_FORMAT;
	if (!lp16_at(ad, AD_USER_A, p->from.user) || !lp16_at(ad, AD_DEV_A, p->from.device) ||
	    !lp16_at(ad, AD_USER_B, p->to.user) || !lp16_at(ad, AD_DEV_B, p->to.device) ||
	    !lp16_at(ad, AD_AK_ID, p->ak_id))
		return LSN_KS_BAD_FORMAT;
	const uint8_t *cl = env + OFF_CTLEN;
	size_t ct_len = (size_t)cl[0] << 24 | (size_t)cl[1] << 16 | (size_t)cl[2] << 8 | cl[3];
	if (ct_len < LSN_KS_TAG_BYTES || ct_len != len - (LSN_KS_OVERHEAD - LSN_KS_TAG_BYTES))
		return LSN_KS_BAD_FORMAT;
	p->version = env[0];
	memcpy(p->e_pk, ad + AD_E_PK, 32);
	memcpy(p->share_id, ad + AD_SHARE, 16);
	p->ad = ad;
	p->ad_len = LSN_KS_AD_BYTES;
	p->nonce = env + OFF_NONCE;
	p->ct = env + OFF_CT;
	p->ct_len = ct_len;
	p->sig = env + OFF_CT + ct_len;
	return LSN_KS_OK;
}

static bool
signature_ok(const struct lsn_ks_parsed *p, const uint8_t from_dk_pk[32])
{
	uint8_t msg[SIG_MSG_MAX];
	size_t n = sig_message(msg, p->ad, p->nonce, p->ct, p->ct_len);
	return n > 0 && crypto_sign_verify_detached(p->sig, msg, n, from_dk_pk) == 0;
}

enum lsn_ks_result
lsn_ks_verify(const struct lsn_ks_parsed *p, const struct lsn_ks_addr *me,
	      const uint8_t from_dk_pk[32])
{
	if (p->version != LSN_KS_VERSION || p->ad == NULL || p->ad_len != LSN_KS_AD_BYTES ||
	    p->ct_len < LSN_KS_TAG_BYTES || p->ct_len > LSN_KS_MAX_PLAIN + LSN_KS_TAG_BYTES)
		return LSN_KS_BAD_FORMAT;
	if (memcmp(p->to.user, me->user, LSN_ID_BYTES) != 0 ||
	    memcmp(p->to.device, me->device, LSN_ID_BYTES) != 0)
		return LSN_KS_NOT_FOR_ME;
	if (!signature_ok(p, from_dk_pk))
		return LSN_KS_BAD_SIGNATURE;
	return LSN_KS_OK;
}

enum lsn_ks_result
lsn_ks_open(const struct lsn_ks_parsed *p, const struct lsn_ks_addr *me,
	    const uint8_t from_dk_pk[32], const uint8_t my_ak_pk[32], const uint8_t my_ak_sk[32],
	    uint8_t **plain, size_t *plain_len)
{
	*plain = NULL;
	*plain_len = 0;
	enum lsn_ks_result checked = lsn_ks_verify(p, me, from_dk_pk);
	if (checked != LSN_KS_OK)
		return checked;

	uint8_t rx[32], tx[32];
	int rc = crypto_kx_server_session_keys(rx, tx, my_ak_pk, my_ak_sk, p->e_pk);
	sodium_memzero(tx, sizeof tx);
	if (rc != 0) {
		sodium_memzero(rx, sizeof rx);
		return LSN_KS_DECRYPT_FAILED;
	}
	size_t len = p->ct_len - LSN_KS_TAG_BYTES;
	uint8_t *out = malloc(len ? len : 1);
	if (out == NULL) {
		sodium_memzero(rx, sizeof rx);
		return LSN_KS_DECRYPT_FAILED;
	}
	rc = crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, p->ct, p->ct_len, p->ad,
							p->ad_len, p->nonce, rx);
	sodium_memzero(rx, sizeof rx);
	if (rc != 0) {
		free(out);
		return LSN_KS_DECRYPT_FAILED;
	}
	*plain = out;
	*plain_len = len;
	return LSN_KS_OK;
}
