/* channel_ops.h — creating a channel and changing its members with signed
 * log entries (CRYPTO.md §6), shared by "liaison channel" and "liaison
 * discharge". Errors come back in st, worded for the user. */
#ifndef LIAISON_CHANNEL_OPS_H
#define LIAISON_CHANNEL_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "e2e.h"
#include "mlog.h"
#include "mlog_verify.h"

/* Sign and send the creation entry of a new channel (random id into
 * channel); with a topic, send it as the first encrypted message. */
enum lsn_err chan_ops_create(struct e2e *e, enum lsn_chan_kind kind, enum lsn_history history,
			     const char *topic, uint8_t channel[LSN_ID_BYTES],
			     struct lsn_status *st);

/* Load and verify the channel; an INVALID one is an error (nothing changes
 * in a channel whose log does not verify). */
enum lsn_err chan_ops_load_valid(struct e2e *e, const uint8_t channel[LSN_ID_BYTES],
				 struct chan_view *v, struct lsn_status *st);

/* Append action (add, remove, leave, role) about user. After an add the
 * history (shared channels) and our current session go to the newcomer;
 * *forwarded: history sessions forwarded. *seq: the entry's log seq. */
enum lsn_err chan_ops_change(struct e2e *e, const uint8_t channel[LSN_ID_BYTES],
			     enum lsn_mlog_action action, const uint8_t user[LSN_ID_BYTES],
			     enum lsn_chan_role role, int64_t *seq, size_t *forwarded,
			     struct lsn_status *st);

#endif
