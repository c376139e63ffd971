/* seal.c — passphrase key derivation and per-item AEAD for the local profile. */
#include <string.h>

#include "seal.h"

#define SEAL_MEMLIMIT_CAP (1LL << 30)

void
seal_kdf_new(struct seal_kdf *kdf)
{
	randombytes_buf(kdf->salt, sizeof kdf->salt);
	kdf->opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	kdf->memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	kdf->alg = crypto_pwhash_ALG_ARGON2ID13;
}

enum lsn_err
seal_derive(const struct seal_kdf *kdf, const char *passphrase, uint8_t **key,
	    struct lsn_status *st)
{
	*key = NULL;
	if (kdf->alg != crypto_pwhash_ALG_ARGON2ID13 ||
	    kdf->opslimit < (int64_t)crypto_pwhash_OPSLIMIT_MIN ||
	    kdf->opslimit > (int64_t)crypto_pwhash_OPSLIMIT_SENSITIVE * 4 ||
	    kdf->memlimit < (int64_t)crypto_pwhash_MEMLIMIT_MIN ||
	    kdf->memlimit > SEAL_MEMLIMIT_CAP)
		return lsn_fail(st, LSN_ERR_INTERNAL,
				"the profile's key derivation parameters are not usable; "
				"the profile may be damaged");
	uint8_t *k = sodium_malloc(SEAL_KEYBYTES);
	if (k == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	if (crypto_pwhash(k, SEAL_KEYBYTES, passphrase, strlen(passphrase), kdf->salt,
			  (unsigned long long)kdf->opslimit, (size_t)kdf->memlimit,
			  kdf->alg) != 0) {
		sodium_free(k);
		return lsn_fail(st, LSN_ERR_INTERNAL,
				"not enough memory to derive the profile key (Argon2id)");
	}
	*key = k;
	return LSN_OK;
}

void
seal_key_free(uint8_t *key)
{
	if (key)
		sodium_free(key);
}

void
seal_db_key(const uint8_t *local_key, uint8_t out[SEAL_DB_KEYBYTES])
{
	_Static_assert(SEAL_KEYBYTES == crypto_kdf_KEYBYTES, "the local key is a crypto_kdf key");
	crypto_kdf_derive_from_key(out, SEAL_DB_KEYBYTES, SEAL_DB_KDF_ID, SEAL_DB_KDF_CONTEXT,
				   local_key);
}

/* AD = "liaison-local-v1" || name; returns its length, 0 if name is too long. */
static size_t
item_ad(const char *name, uint8_t ad[sizeof SEAL_AD_LABEL + SEAL_NAME_MAX])
{
	size_t label_len = strlen(SEAL_AD_LABEL), name_len = strlen(name);
	if (name_len == 0 || name_len > SEAL_NAME_MAX)
		return 0;
	memcpy(ad, SEAL_AD_LABEL, label_len);
	memcpy(ad + label_len, name, name_len);
	return label_len + name_len;
}

bool
seal_item(const uint8_t *key, const char *name, const uint8_t *plain, size_t len,
	  uint8_t nonce[SEAL_NONCEBYTES], uint8_t *ct)
{
	uint8_t ad[sizeof SEAL_AD_LABEL + SEAL_NAME_MAX];
	size_t ad_len = item_ad(name, ad);
	if (ad_len == 0)
		return false;
	randombytes_buf(nonce, SEAL_NONCEBYTES);
	unsigned long long ct_len = 0;
	return crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ct_len, plain, len, ad, ad_len,
							  NULL, nonce, key) == 0;
}

bool
seal_open_item(const uint8_t *key, const char *name, const uint8_t nonce[SEAL_NONCEBYTES],
	       const uint8_t *ct, size_t ct_len, uint8_t *plain)
{
	uint8_t ad[sizeof SEAL_AD_LABEL + SEAL_NAME_MAX];
	size_t ad_len = item_ad(name, ad);
	if (ad_len == 0 || ct_len < SEAL_ABYTES)
		return false;
	unsigned long long plain_len = 0;
	return crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plain_len, NULL, ct, ct_len,
							  ad, ad_len, nonce, key) == 0;
}
