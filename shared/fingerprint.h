/* fingerprint.h — user fingerprints and pairwise safety numbers (CRYPTO.md §2).
 * Two people compare the safety number of their pair, read aloud or on
 * screen, to confirm that each holds the other's real identity key (IK).
 * docs/CRYPTO.md gives the construction byte by byte and test vectors. */
#ifndef LSN_FINGERPRINT_H
#define LSN_FINGERPRINT_H

#include <stdint.h>

#include "ident.h"

#define LSN_FPR_DIGITS       30
#define LSN_FPR_ROUNDS       5200   /* BLAKE2b-256 calls in all */
#define LSN_FPR_RPPS_MAX     64     /* longer "rpps" strings are refused */
#define LSN_SAFETY_NUMBER_TEXT 71   /* 12 groups of 5 digits + 11 spaces */

/* h = BLAKE2b-256("liaison-fpr-v1" || LP(user) || LP(rpps) || IK_pk); then
 * 5199 more rounds h = BLAKE2b-256(h || IK_pk) (5200 hashes in all); digits:
 * bytes 0..29 as 6 chunks of 5 bytes, each big-endian integer mod 100000,
 * zero-padded to 5 digits. rpps may be "" or NULL (not in RPPS; both hash as
 * LP("")). An rpps longer than LSN_FPR_RPPS_MAX bytes is not an RPPS number:
 * out is then set to "" (empty string), which matches no fingerprint. */
void lsn_fingerprint(const uint8_t user[LSN_ID_BYTES], const char *rpps,
		     const uint8_t ik_pk[32], char out[LSN_FPR_DIGITS + 1]);

/* Both 30-digit strings, the lower user id (memcmp) first, as 12 groups of 5
 * digits separated by single spaces (71 chars + NUL). Both users see the
 * same number. If a fingerprint is not 30 digits, out is set to "". */
void lsn_safety_number(const uint8_t user_a[LSN_ID_BYTES], const char fpr_a[LSN_FPR_DIGITS + 1],
		       const uint8_t user_b[LSN_ID_BYTES], const char fpr_b[LSN_FPR_DIGITS + 1],
		       char out[LSN_SAFETY_NUMBER_TEXT + 1]);

#endif
