/* sigs.h — the signed byte strings of CRYPTO.md §1 and the login challenge.
 * Each starts with its own domain label so no signature made for one purpose
 * verifies for another. docs/CRYPTO.md gives the layouts and test vectors. */
#ifndef LSN_SIGS_H
#define LSN_SIGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "ident.h"

#define LSN_CHALLENGE_BYTES 32
#define LSN_SERVER_NAME_MAX 253
#define LSN_SIGNED_MAX      512

/* A bounded byte builder: appends past cap set overflow instead of writing. */
struct lsn_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	bool overflow;
};

void lsn_buf_init(struct lsn_buf *b, uint8_t *storage, size_t cap);
void lsn_buf_put(struct lsn_buf *b, const void *data, size_t len);
/* LP(x): 2-byte big-endian length, then x. */
void lsn_buf_put_lp(struct lsn_buf *b, const void *data, size_t len);
void lsn_buf_put_u32(struct lsn_buf *b, uint32_t v);
void lsn_buf_put_u64(struct lsn_buf *b, uint64_t v);

/* "liaison-dev-v1" LP(user) LP(device) DK_pk ts(u64 BE ms); signed by IK. */
size_t lsn_signed_device_cert(uint8_t out[LSN_SIGNED_MAX],
			      const uint8_t user[LSN_ID_BYTES], const uint8_t device[LSN_ID_BYTES],
			      const uint8_t dk_pk[crypto_sign_PUBLICKEYBYTES], uint64_t ts_ms);

/* "liaison-ak-v1" LP(device) LP(ak_id) AK_pk ts(u64 BE ms); signed by DK. */
size_t lsn_signed_ak_cert(uint8_t out[LSN_SIGNED_MAX],
			  const uint8_t device[LSN_ID_BYTES], const uint8_t ak_id[LSN_ID_BYTES],
			  const uint8_t ak_pk[crypto_kx_PUBLICKEYBYTES], uint64_t ts_ms);

/* "liaison-login-v1" LP(server_name) LP(user) LP(device) LP(challenge); signed by DK.
 * Returns 0 if server_name is empty or too long. */
size_t lsn_signed_login(uint8_t out[LSN_SIGNED_MAX], const char *server_name,
			const uint8_t user[LSN_ID_BYTES], const uint8_t device[LSN_ID_BYTES],
			const uint8_t challenge[LSN_CHALLENGE_BYTES]);

/* "liaison-revoke-v1" LP(user) LP(device) ts(u64 BE ms); signed by IK. */
size_t lsn_signed_revoke(uint8_t out[LSN_SIGNED_MAX],
			 const uint8_t user[LSN_ID_BYTES], const uint8_t device[LSN_ID_BYTES],
			 uint64_t ts_ms);

/* Detached Ed25519 signature check over msg; true when it verifies. */
bool lsn_sig_verify(const uint8_t sig[crypto_sign_BYTES], const uint8_t *msg, size_t len,
		    const uint8_t pk[crypto_sign_PUBLICKEYBYTES]);

#endif
