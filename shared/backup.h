/* backup.h — the encrypted key backup (CRYPTO.md §7): recovery key RK (a
 * recovery code or a passphrase), the two keys derived from it, and the two
 * kinds of blob the server stores without being able to read them: one entry
 * per inbound group session, and the identity key's private half.
 *
 *   BK  = crypto_kdf_derive_from_key(32, 1, "lsn-bkup", RK)
 *   IKK = crypto_kdf_derive_from_key(32, 2, "lsn-idnt", RK)
 *   entry    = version(1)=1 || nonce(24) || AEAD(BK, nonce,
 *              AD = "liaison-backup-v1" LP(user) channel(16) session_id(32) u32(first_index), data)
 *   identity = version(1)=1 || nonce(24) || AEAD(IKK, nonce,
 *              AD = "liaison-backup-ik-v1" LP(user) IK_pk(32), IK_sk(64))
 * AEAD = crypto_aead_xchacha20poly1305_ietf. */
#ifndef LSN_BACKUP_H
#define LSN_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ident.h"

#define LSN_BACKUP_VERSION        1
#define LSN_BACKUP_SALT_BYTES     16
#define LSN_BACKUP_MAX_DATA       65536   /* entry plaintext cap */
#define LSN_BACKUP_OVERHEAD       (1 + 24 + 16)
#define LSN_BACKUP_IDENTITY_BYTES (LSN_BACKUP_OVERHEAD + 64)   /* 105 */
#define LSN_RECOVERY_CODE_CHARS   56
#define LSN_RECOVERY_CODE_TEXT    69      /* 14 groups of 4 + 13 dashes */

/* Fresh random RK (to show once as a recovery code). */
void lsn_backup_rk_random(uint8_t rk[32]);
/* bk = kdf(32, 1, "lsn-bkup", RK), ikk = kdf(32, 2, "lsn-idnt", RK). */
void lsn_backup_keys(const uint8_t rk[32], uint8_t bk[32], uint8_t ikk[32]);
/* RK = crypto_pwhash(32, pass, salt, OPSLIMIT_MODERATE, MEMLIMIT_MODERATE,
 * ALG_ARGON2ID13) — about 256 MiB and a second or so. The salt (random, 16
 * bytes) is stored beside the backup. 0 on success, -1 (rk zeroed) when out
 * of memory or pass is NULL. */
int lsn_backup_rk_from_passphrase(const char *pass, const uint8_t salt[LSN_BACKUP_SALT_BYTES],
				  uint8_t rk[32]);

/* Recovery code: RK (32 bytes) + 3 checksum bytes (first 3 of
 * BLAKE2b-256("liaison-rk-v1" || RK)) = 35 bytes = 56 Crockford base32 chars
 * (shared/base32.c, as invite codes: case, '-' and ' ' ignored, I/L read
 * as 1, O as 0), 14 groups of 4 separated by '-'. */
void lsn_recovery_code_format(const uint8_t rk[32], char out[LSN_RECOVERY_CODE_TEXT + 1]);
/* false (rk zeroed) on any typo: wrong length, a character outside the
 * alphabet, or a checksum mismatch. */
bool lsn_recovery_code_parse(const char *text, uint8_t rk[32]);

/* Session entry (data: the serialised inbound session, at most
 * LSN_BACKUP_MAX_DATA bytes). On success 0 and *out is malloc'd (*out_len =
 * len + LSN_BACKUP_OVERHEAD bytes; the caller frees it). -1 (*out = NULL)
 * when too long or out of memory. */
int lsn_backup_seal(const uint8_t bk[32], const uint8_t user[LSN_ID_BYTES],
		    const uint8_t channel[LSN_ID_BYTES], const uint8_t session_id[32],
		    uint32_t first_index, const uint8_t *data, size_t len,
		    uint8_t **out, size_t *out_len);
/* Same with the nonce given: for test vectors only. */
int lsn_backup_seal_det(const uint8_t bk[32], const uint8_t user[LSN_ID_BYTES],
			const uint8_t channel[LSN_ID_BYTES], const uint8_t session_id[32],
			uint32_t first_index, const uint8_t nonce[24], const uint8_t *data,
			size_t len, uint8_t **out, size_t *out_len);
/* 0 and *data malloc'd (*data_len bytes, may be 0; the caller wipes and frees
 * it); -1 (*data = NULL) on a wrong key, any other AD input (user, channel,
 * session, first_index), an altered or truncated blob, or an unknown version. */
int lsn_backup_open(const uint8_t bk[32], const uint8_t user[LSN_ID_BYTES],
		    const uint8_t channel[LSN_ID_BYTES], const uint8_t session_id[32],
		    uint32_t first_index, const uint8_t *blob, size_t len,
		    uint8_t **data, size_t *data_len);

/* Identity blob: always LSN_BACKUP_IDENTITY_BYTES. ik_sk is libsodium's
 * 64-byte Ed25519 secret key. 0 on success (*out malloc'd, caller frees),
 * -1 (*out = NULL) when out of memory. */
int lsn_backup_seal_identity(const uint8_t ikk[32], const uint8_t user[LSN_ID_BYTES],
			     const uint8_t ik_pk[32], const uint8_t ik_sk[64],
			     uint8_t **out, size_t *out_len);
int lsn_backup_seal_identity_det(const uint8_t ikk[32], const uint8_t user[LSN_ID_BYTES],
				 const uint8_t ik_pk[32], const uint8_t ik_sk[64],
				 const uint8_t nonce[24], uint8_t **out, size_t *out_len);
/* 0 and ik_sk filled on success; -1 (ik_sk zeroed) on a wrong key or user,
 * an altered blob, or a recovered secret key whose public half is not ik_pk. */
int lsn_backup_open_identity(const uint8_t ikk[32], const uint8_t user[LSN_ID_BYTES],
			     const uint8_t ik_pk[32], const uint8_t *blob, size_t len,
			     uint8_t ik_sk[64]);

#endif
