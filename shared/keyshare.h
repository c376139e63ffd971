/* keyshare.h — the pairwise key-share envelope, device A → device B
 * (CRYPTO.md §3). It carries group-session keys, history keys and key
 * requests: an ephemeral X25519 agreement with B's agreement key (AK) gives
 * forward secrecy, XChaCha20-Poly1305 hides the content, and A's device key
 * (DK, Ed25519) signs the whole so B knows which device sent it.
 *
 * Envelope (all sizes fixed except ct; docs/CRYPTO.md "Key-share envelope"):
 *   version(1) = 1
 *   AD (151) = "liaison-ks-v1" LP(user_A) LP(dev_A) LP(user_B) LP(dev_B)
 *              LP(ak_id_B) E_pk(32) share_id(16)
 *   nonce(24) || ct_len(u32 BE) || ct (plaintext + 16) || sig(64)
 *   sig = Ed25519(DK_A, "liaison-ks-sig-v1" || AD || nonce || ct) */
#ifndef LSN_KEYSHARE_H
#define LSN_KEYSHARE_H

#include <stddef.h>
#include <stdint.h>

#include "ident.h"

#define LSN_KS_VERSION    1
#define LSN_KS_MAX_PLAIN  16384                       /* plaintext cap, bytes */
#define LSN_KS_AD_BYTES   151
#define LSN_KS_NONCE_BYTES 24
#define LSN_KS_TAG_BYTES  16
#define LSN_KS_SIG_BYTES  64
#define LSN_KS_OVERHEAD   (1 + LSN_KS_AD_BYTES + LSN_KS_NONCE_BYTES + 4 + LSN_KS_TAG_BYTES + LSN_KS_SIG_BYTES)
#define LSN_KS_MAX_BYTES  (LSN_KS_OVERHEAD + LSN_KS_MAX_PLAIN)

struct lsn_ks_addr {
	uint8_t user[LSN_ID_BYTES];
	uint8_t device[LSN_ID_BYTES];
};

enum lsn_ks_result {
	LSN_KS_OK,
	LSN_KS_BAD_FORMAT,      /* not a version-1 key-share envelope */
	LSN_KS_NOT_FOR_ME,      /* addressed to another user or device */
	LSN_KS_BAD_SIGNATURE,   /* not signed by the claimed sender device */
	LSN_KS_DECRYPT_FAILED,  /* wrong agreement key, or altered */
};

/* One human line each, saying what went wrong. Never NULL. */
const char *lsn_ks_result_text(enum lsn_ks_result r);

struct lsn_ks_parsed {   /* pointers into the envelope, valid while it lives */
	uint8_t version;
	struct lsn_ks_addr from, to;
	uint8_t ak_id[LSN_ID_BYTES];   /* which of the recipient's AKs to use */
	uint8_t e_pk[32];
	uint8_t share_id[16];
	const uint8_t *ad;
	size_t ad_len;
	const uint8_t *nonce;          /* 24 bytes */
	const uint8_t *ct;
	size_t ct_len;
	const uint8_t *sig;            /* 64 bytes */
};

/* Seal plain (at most LSN_KS_MAX_PLAIN bytes) for device `to` (its agreement
 * key to_ak_id/to_ak_pk), signed by the sender's device key from_dk_sk
 * (libsodium 64-byte Ed25519 secret key). Fresh ephemeral key, nonce and
 * share_id. On success returns 0 and *env is a malloc'd buffer of *env_len
 * bytes that the caller frees. -1 (and *env = NULL) on a too-long plaintext,
 * an invalid to_ak_pk (low-order point) or no memory. */
int lsn_ks_seal(const struct lsn_ks_addr *from, const uint8_t from_dk_sk[64],
		const struct lsn_ks_addr *to, const uint8_t to_ak_id[LSN_ID_BYTES],
		const uint8_t to_ak_pk[32], const uint8_t *plain, size_t len,
		uint8_t **env, size_t *env_len);

/* Same with the ephemeral X25519 secret key, nonce and share_id given: for
 * test vectors only (reusing any of them breaks the construction). */
int lsn_ks_seal_det(const struct lsn_ks_addr *from, const uint8_t from_dk_sk[64],
		    const struct lsn_ks_addr *to, const uint8_t to_ak_id[LSN_ID_BYTES],
		    const uint8_t to_ak_pk[32], const uint8_t e_sk[32], const uint8_t nonce[24],
		    const uint8_t share_id[16], const uint8_t *plain, size_t len,
		    uint8_t **env, size_t *env_len);

/* Check the layout (version, label, lengths, size caps) and fill p with
 * pointers into env. Authenticates nothing: use lsn_ks_open. */
enum lsn_ks_result lsn_ks_parse(const uint8_t *env, size_t len, struct lsn_ks_parsed *p);

/* The checks of lsn_ks_open that need no agreement key, in the same order:
 * layout, to == me (else NOT_FOR_ME), sig by from_dk_pk. For an envelope
 * sealed to an agreement key the recipient no longer holds: it can still
 * tell an authentic share from a forgery before saying why it cannot open it. */
enum lsn_ks_result lsn_ks_verify(const struct lsn_ks_parsed *p, const struct lsn_ks_addr *me,
				 const uint8_t from_dk_pk[32]);

/* In the design's order: to == me (else NOT_FOR_ME); verify sig with
 * from_dk_pk (the caller has verified that key's IK→DK chain for p->from);
 * derive K with crypto_kx_server_session_keys(my_ak_pk, my_ak_sk, e_pk)
 * (K = rx); decrypt. The caller picks my AK by p->ak_id (it keeps the last
 * three). On LSN_KS_OK *plain is malloc'd (*plain_len bytes, may be 0; the
 * caller frees it, wiping it first if it holds keys); otherwise *plain = NULL.
 * Rejecting an already-seen p->share_id is the caller's job (it keeps the set). */
enum lsn_ks_result lsn_ks_open(const struct lsn_ks_parsed *p, const struct lsn_ks_addr *me,
			       const uint8_t from_dk_pk[32], const uint8_t my_ak_pk[32],
			       const uint8_t my_ak_sk[32], uint8_t **plain, size_t *plain_len);

#endif
