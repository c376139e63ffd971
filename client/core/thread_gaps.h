/* thread_gaps.h — what a thread is missing, and how far a receipt may go
 * (CRYPTO.md "Gaps and the per-sender link", PROTOCOL.md "Receipts"). Pure
 * functions over what the local store holds, and the loader of the marks.
 *
 * A seq is missing when this device fetched past it (it is at or below the
 * channel's last synced seq) and holds no message for it: the server
 * answered and it is not there. A seq above the last synced one is only not
 * fetched yet. A message whose "link" names an envelope this device never
 * held (prev_missing) reveals a message of its sender that was removed even
 * if the server renumbered the seqs to hide the hole. */
#ifndef LIAISON_THREAD_GAPS_H
#define LIAISON_THREAD_GAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "local.h"

/* Between two held seqs prev < next (prev 0: the thread's start), the
 * missing ones: true with [*from, *to] when there are some (capped at
 * last_seq: above it nothing was fetched yet). */
bool thread_gap_between(int64_t prev, int64_t next, int64_t last_seq, int64_t *from,
			int64_t *to);

/* The receipt marks for rows (seq order): *delivered is the highest seq N
 * <= last_seq (what the server has shown; our own sends may be above) such
 * that every seq from 1 to N is held, not refused and has no missing
 * "link"; *read the same with every one of them decrypted ("ok"), except
 * messages sent before this device's first key ("before_first") while no
 * readable message precedes them (a member who joined later). 0: nothing
 * may be receipted. */
void thread_receipt_marks(const struct local_msg_brief *rows, size_t n, int64_t last_seq,
			  int64_t *delivered, int64_t *read);

/* thread_receipt_marks over every message of channel held here, up to the
 * channel's last synced seq and below any seqs the server no longer shows
 * (local_channel_set_cut). */
enum lsn_err thread_receipt_marks_load(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
				       int64_t *delivered, int64_t *read, struct lsn_status *st);

/* Is status one of a message refused (forged, altered, not its sender's)? */
bool thread_status_refused(const char *status);

/* The "link" of a plaintext (the hash it names): false if present but
 * not 64 lowercase hex characters; *has and prev filled when present. */
bool thread_prev_parse(json_t *content, bool *has, uint8_t prev[32]);

#endif
