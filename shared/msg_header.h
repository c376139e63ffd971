/* msg_header.h — the cleartext header of a group message envelope
 * (CRYPTO.md §4). The server reads it to route and order a message; it never
 * decrypts or verifies the rest.
 *
 *   H = "LSN" || version(1) = 1 || channel(16) || session_id(32)
 *       || index(u32 BE) || sender_device(16) || ts(u64 BE, ms)        80 bytes
 *   envelope = H || nonce(24) || ct (plaintext + 16) || sig(64)        */
#ifndef LSN_MSG_HEADER_H
#define LSN_MSG_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ident.h"

#define LSN_MSG_VERSION      1
#define LSN_MSG_HEADER_BYTES 80
#define LSN_MSG_NONCE_BYTES  24
#define LSN_MSG_TAG_BYTES    16
#define LSN_MSG_SIG_BYTES    64
#define LSN_MSG_MIN_BYTES    (LSN_MSG_HEADER_BYTES + LSN_MSG_NONCE_BYTES + LSN_MSG_TAG_BYTES + LSN_MSG_SIG_BYTES)
#define LSN_MSG_MAX_BYTES    (64 * 1024)   /* envelope cap; documents go as attachments */

struct lsn_msg_header {
	uint8_t version;
	uint8_t channel[LSN_ID_BYTES];
	uint8_t session_id[32];
	uint32_t index;
	uint8_t sender_device[LSN_ID_BYTES];
	uint64_t ts_ms;
};

/* Parse and check the header of a whole envelope (magic, version, minimum and
 * maximum length). LSN_ERR_BAD_REQUEST with a reason otherwise. */
enum lsn_err lsn_msg_header_parse(const uint8_t *env, size_t len, struct lsn_msg_header *h,
				  struct lsn_status *st);
/* Write the 80 header bytes. */
void lsn_msg_header_write(const struct lsn_msg_header *h, uint8_t out[LSN_MSG_HEADER_BYTES]);

#endif
