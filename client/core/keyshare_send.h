/* keyshare_send.h — key-share envelopes out (CRYPTO.md §3, §5): room keys
 * to the devices of channel members, forwarded history for newcomers, key
 * requests, withheld notices. Each plaintext is sealed with lsn_ks_seal for
 * one device (its AK, after its chain verified) and queued with
 * to_device_send; what was shared is recorded only once the server has
 * stored it.
 *
 * Plaintexts (JSON):
 *   {"type":"room_key","channel":HEX,"session_id":B64,"index":N,"chain_key":B64,
 *    "history":BOOL,"forwarded":BOOL,"sender_user":HEX,"sender_device":HEX,
 *    "mlog":{"seq":N,"hash":B64}}      (the sharer's verified membership-log head)
 *   {"type":"key_request","channel":HEX,"session_id":B64,"index":N}
 *   {"type":"room_key_withheld","channel":HEX,"session_id":B64,"reason":TEXT} */
#ifndef LIAISON_KEYSHARE_SEND_H
#define LIAISON_KEYSHARE_SEND_H

#include <stdbool.h>
#include <stddef.h>

#include "e2e.h"
#include "mlog_verify.h"
#include "peers.h"
#include "local.h"

/* Share our outbound session at its current index with every device of
 * every current member (ours included) that lacks it; devices of users we
 * may not share with get a withheld notice and a warning is printed once.
 * *count: devices that received it now. */
enum lsn_err share_outbound(struct e2e *e, const struct chan_view *v,
			    const struct local_outbound *o, size_t *count, struct lsn_status *st);

/* Why the outbound session must be replaced now ("" if not): member left or
 * removed, device revoked, identity changed, rotation limits. */
void share_rotation_reason(struct e2e *e, const struct chan_view *v,
			   const struct local_outbound *o, char *why, size_t len);

/* Forward every inbound session we hold for the channel, at its earliest
 * index and marked forwarded, to the devices of newcomer (history shared).
 * *count: sessions forwarded. */
enum lsn_err share_history(struct e2e *e, const struct chan_view *v,
			   const uint8_t newcomer[LSN_ID_BYTES], size_t *count,
			   struct lsn_status *st);

/* Send one session (in) to every allowed device of user: as history when
 * forwarded is true. Used to answer key requests. */
enum lsn_err share_session_to(struct e2e *e, const struct chan_view *v,
			      const struct local_inbound *in, uint32_t index,
			      const uint8_t user[LSN_ID_BYTES], const uint8_t device[LSN_ID_BYTES],
			      struct lsn_status *st);

/* Ask the devices of sender_user for a session we lack. */
enum lsn_err share_request_key(struct e2e *e, const uint8_t channel[LSN_ID_BYTES],
			       const uint8_t sender_user[LSN_ID_BYTES],
			       const uint8_t session_id[LOCAL_SID_BYTES], uint32_t index,
			       struct lsn_status *st);

#endif
