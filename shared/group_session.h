/* group_session.h — group sessions: one Megolm-like sender ratchet per
 * channel per sending device (CRYPTO.md §4). The sender ratchets a chain key
 * forward once per message; the message key encrypts (XChaCha20-Poly1305,
 * AD = the 80-byte header of msg_header.h) and the session's Ed25519 key
 * signs, so a member who holds the chain key still cannot forge another
 * member's message.
 *
 *   MK_i     = crypto_kdf_derive_from_key(32, 1, "lsn-mkey", CK_i)
 *   CK_{i+1} = crypto_kdf_derive_from_key(32, 2, "lsn-ckey", CK_i)
 *   envelope = H(80) || nonce(24) || ct (plaintext + 16) || sig(64)
 *   sig      = Ed25519(S_sk, "liaison-msg-sig-v1" || H || nonce || ct)
 *
 * Structures below hold secrets: wipe them (lsn_gs_outbound_wipe,
 * sodium_memzero) when done, and store them only sealed. */
#ifndef LSN_GROUP_SESSION_H
#define LSN_GROUP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ident.h"
#include "msg_header.h"

#define LSN_GS_MAX_AHEAD        1000u    /* receiver: furthest index past first_index */
#define LSN_GS_MAX_ADVANCE      100000u  /* lsn_gs_advance: furthest step it will take */
#define LSN_GS_MAX_PLAIN        (LSN_MSG_MAX_BYTES - LSN_MSG_MIN_BYTES)
#define LSN_GS_ROTATE_MESSAGES  100u                       /* design §5 */
#define LSN_GS_ROTATE_MS        (7LL * 24 * 3600 * 1000)   /* 7 days */

struct lsn_gs_outbound {
	uint8_t channel[LSN_ID_BYTES];
	uint8_t sign_pk[32];     /* = session_id */
	uint8_t sign_sk[64];
	uint8_t chain_key[32];   /* CK_i */
	uint32_t index;          /* i: the index the next message will use */
	int64_t created_at;      /* ms, for the 7-day rotation */
};

/* Fresh session: new Ed25519 pair S, random CK_0, index 0. */
void lsn_gs_outbound_new(struct lsn_gs_outbound *s, const uint8_t channel[LSN_ID_BYTES],
			 int64_t now_ms);
/* Same from a given Ed25519 seed and CK_0: for test vectors only. */
void lsn_gs_outbound_new_det(struct lsn_gs_outbound *s, const uint8_t channel[LSN_ID_BYTES],
			     const uint8_t sign_seed[32], const uint8_t ck0[32], int64_t now_ms);
/* Wipe every byte of s. */
void lsn_gs_outbound_wipe(struct lsn_gs_outbound *s);
/* True when the design asks for a new session before the next message:
 * LSN_GS_ROTATE_MESSAGES messages sent, or LSN_GS_ROTATE_MS elapsed. The
 * other reasons (member left, device revoked, failed check) are the caller's. */
bool lsn_gs_outbound_needs_rotation(const struct lsn_gs_outbound *s, int64_t now_ms);

/* MK_i = kdf(32, 1, "lsn-mkey", CK_i), CK_{i+1} = kdf(32, 2, "lsn-ckey", CK_i),
 * erase CK_i; *index_used = i; s->index = i+1.
 * The caller persists s BEFORE calling lsn_gs_seal (a crash must never reuse
 * an index). A session carries at most UINT32_MAX messages (indices
 * 0..UINT32_MAX-1): at s->index == UINT32_MAX the step leaves s unchanged,
 * sets mk to zeros and *index_used = UINT32_MAX, which lsn_gs_seal refuses.
 * (Rotation after LSN_GS_ROTATE_MESSAGES keeps this far away.) */
void lsn_gs_ratchet_step(struct lsn_gs_outbound *s, uint8_t mk[32], uint32_t *index_used);

/* envelope = H || nonce(24) || ct || sig(64) with H per msg_header.h (channel,
 * session_id = sign_pk, index, sender_device, ts), ct =
 * xchacha20poly1305_ietf(MK_i, nonce, AD = H, plain), sig = Ed25519(S_sk,
 * "liaison-msg-sig-v1" || H || nonce || ct). index and mk are those of
 * lsn_gs_ratchet_step. On success 0 and *env is malloc'd (*env_len bytes; the
 * caller frees it). -1 (*env = NULL) if len > LSN_GS_MAX_PLAIN, index ==
 * UINT32_MAX or no memory. The caller wipes mk after use. */
int lsn_gs_seal(const struct lsn_gs_outbound *s, uint32_t index, const uint8_t mk[32],
		const uint8_t sender_device[LSN_ID_BYTES], uint64_t ts_ms,
		const uint8_t *plain, size_t len, uint8_t **env, size_t *env_len);
/* Same with the nonce given: for test vectors only. */
int lsn_gs_seal_det(const struct lsn_gs_outbound *s, uint32_t index, const uint8_t mk[32],
		    const uint8_t sender_device[LSN_ID_BYTES], uint64_t ts_ms,
		    const uint8_t nonce[24], const uint8_t *plain, size_t len,
		    uint8_t **env, size_t *env_len);

/* What a receiver keeps: the chain key at the EARLIEST index it knows (so
 * history can be forwarded at that index and any later index decrypted by
 * ratcheting forward from it). */
struct lsn_gs_inbound {
	uint8_t channel[LSN_ID_BYTES];
	uint8_t session_id[32];
	uint8_t sender_device[LSN_ID_BYTES];
	uint32_t first_index;
	uint8_t chain_key[32];   /* CK_first_index */
};

/* The inbound state to share from an outbound session at its current index
 * (what goes into a room_key share, and what the sender keeps to read its
 * own later messages). */
void lsn_gs_inbound_from_outbound(struct lsn_gs_inbound *in, const struct lsn_gs_outbound *s,
				  const uint8_t sender_device[LSN_ID_BYTES]);

/* True when a and b describe the same session (channel, session_id,
 * sender_device) and the one at the later index is the earlier one ratcheted
 * forward (at most LSN_GS_MAX_ADVANCE steps). Check this before replacing a
 * kept key by one at a lower index: a share that disagrees is an alarm. */
bool lsn_gs_inbound_consistent(const struct lsn_gs_inbound *a, const struct lsn_gs_inbound *b);

enum lsn_gs_result {
	LSN_GS_OK,
	LSN_GS_BAD_FORMAT,        /* not a version-1 message envelope */
	LSN_GS_WRONG_SESSION,     /* channel or session_id differ from the session given */
	LSN_GS_WRONG_SENDER,      /* header's sender device is not the session's */
	LSN_GS_BAD_SIGNATURE,     /* not signed by the session key */
	LSN_GS_BEFORE_FIRST_KEY,  /* index below the earliest key we hold */
	LSN_GS_TOO_FAR_AHEAD,     /* index more than LSN_GS_MAX_AHEAD past it */
	LSN_GS_DECRYPT_FAILED,    /* authentic signature but the content does not open */
};

/* One human line each, e.g. "no key for this message: it was sent before our
 * first key". Never NULL. */
const char *lsn_gs_result_text(enum lsn_gs_result r);

/* In the design's order: parse H; channel/session_id/sender_device must match
 * s (WRONG_SESSION/WRONG_SENDER); verify sig with session_id (the Ed25519
 * public key) BEFORE any ratchet work; index < first_index →
 * BEFORE_FIRST_KEY; index - first_index > LSN_GS_MAX_AHEAD → TOO_FAR_AHEAD;
 * ratchet a copy from CK_first to CK_index, derive MK, decrypt (AD = H).
 * h_out (may be NULL) is filled whenever the header parses, whatever the
 * result. On LSN_GS_OK *plain is malloc'd (*plain_len bytes, may be 0; the
 * caller frees it); otherwise *plain = NULL. s is not modified. */
enum lsn_gs_result lsn_gs_open(const struct lsn_gs_inbound *s, const uint8_t *env, size_t len,
			       struct lsn_msg_header *h_out, uint8_t **plain, size_t *plain_len);

/* Chain key at a later index (to share a session from the current index, or
 * to forward): out = CK_to_index from ck = CK_from_index. 0 on success; -1
 * (out zeroed) if to_index < from_index or to_index - from_index >
 * LSN_GS_MAX_ADVANCE. out may alias ck. */
int lsn_gs_advance(const uint8_t ck[32], uint32_t from_index, uint32_t to_index, uint8_t out[32]);

/* BLAKE2b-256 of the whole envelope: the receiver keeps (session_id, index)
 * → hash to tell a duplicate (same hash) from an alarm (different envelope,
 * same index). */
void lsn_gs_envelope_hash(const uint8_t *env, size_t len, uint8_t out[32]);

#endif
