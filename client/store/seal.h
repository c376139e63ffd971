/* seal.h — local sealing of secrets at rest (CRYPTO.md §7): a local key from
 * the passphrase with Argon2id (INTERACTIVE limits), then XChaCha20-Poly1305
 * per item with AD = "liaison-local-v1" || item name and a random nonce. */
#ifndef LIAISON_SEAL_H
#define LIAISON_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "err.h"

#define SEAL_KEYBYTES   crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define SEAL_NONCEBYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SEAL_ABYTES     crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEAL_SALTBYTES  crypto_pwhash_SALTBYTES
#define SEAL_AD_LABEL   "liaison-local-v1"
#define SEAL_NAME_MAX   64
#define SEAL_NAME_BUF   (SEAL_NAME_MAX + 1)

/* Key derivation parameters, stored in the clear beside the sealed items. */
struct seal_kdf {
	uint8_t salt[SEAL_SALTBYTES];
	int64_t opslimit;
	int64_t memlimit;
	int alg;
};

/* Fresh parameters: random salt, Argon2id13, INTERACTIVE limits. */
void seal_kdf_new(struct seal_kdf *kdf);

/* Derive the local key into sodium_malloc'd memory (*key, SEAL_KEYBYTES);
 * free with seal_key_free. Refuses parameters outside libsodium's bounds or
 * above 1 GiB of memory (a damaged profile must not exhaust the machine). */
enum lsn_err seal_derive(const struct seal_kdf *kdf, const char *passphrase, uint8_t **key,
			 struct lsn_status *st);
void seal_key_free(uint8_t *key);

/* The key of the profile database as a whole (SQLCipher's raw key, 32
 * bytes), a subkey of the local key: crypto_kdf_derive_from_key with
 * context SEAL_DB_KDF_CONTEXT and id SEAL_DB_KDF_ID (CRYPTO.md §7). */
#define SEAL_DB_KEYBYTES    32
#define SEAL_DB_KDF_CONTEXT "lsnprfdb"
#define SEAL_DB_KDF_ID      1
void seal_db_key(const uint8_t *local_key, uint8_t out[SEAL_DB_KEYBYTES]);

/* Seal len bytes of plain under key for item name: fills nonce (random) and
 * ct (len + SEAL_ABYTES bytes). false if name is too long. */
bool seal_item(const uint8_t *key, const char *name, const uint8_t *plain, size_t len,
	       uint8_t nonce[SEAL_NONCEBYTES], uint8_t *ct);

/* Open ct (ct_len bytes) into plain (ct_len - SEAL_ABYTES bytes); false when
 * the key is wrong or the item was altered or renamed. */
bool seal_open_item(const uint8_t *key, const char *name, const uint8_t nonce[SEAL_NONCEBYTES],
		    const uint8_t *ct, size_t ct_len, uint8_t *plain);

#endif
