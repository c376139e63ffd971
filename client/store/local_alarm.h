/* local_alarm.h — membership alarms of a channel (profile format 4, table
 * mlog_alarms; CRYPTO.md "Membership bound into messages"). A row names a
 * membership-log head (seq, hash) that a signed message or key share carried,
 * or that this device verified before, together with where it came from:
 *
 *   pending  the head was not in the log this device had; the log is to be
 *            fetched again (mlog_verify.c settles it: dropped if found)
 *   active   the log fetched again still lacks it: the server hides a
 *            membership change; no key is shared in the channel
 *   cleared  the served log contains the head again (kept, with when)
 *
 * One row per (channel, head_seq, head_hash) that is not cleared, and at
 * most LOCAL_ALARM_OPEN_MAX rows not cleared per channel. */
#ifndef LIAISON_LOCAL_ALARM_H
#define LIAISON_LOCAL_ALARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ident.h"
#include "profile.h"

#define LOCAL_ALARM_OPEN_MAX 64
#define LOCAL_ALARM_OPEN_MAX_TEXT "64"

struct local_alarm {
	int64_t id;
	uint8_t channel[LSN_ID_BYTES];
	int64_t head_seq;
	uint8_t head_hash[32];
	char source[16];               /* "message", "key_share", "rollback" */
	bool has_by;
	uint8_t by_user[LSN_ID_BYTES]; /* sender of the message or key share */
	int64_t msg_seq;               /* the message's seq, 0 if none */
	char state[12];                /* "pending", "active", "cleared" */
	int64_t noted_at, raised_at, cleared_at;   /* 0: not yet */
};

/* Record a (a->state: "pending" or "active"), unless a row for the same
 * channel and head that is not cleared exists (*added false then). */
enum lsn_err local_alarm_note(struct profile *p, const struct local_alarm *a, bool *added,
			      struct lsn_status *st);

/* Rows of channel (NULL: every channel) in state (NULL: any), oldest first.
 * fn returns false to stop. */
enum lsn_err local_alarm_each(struct profile *p, const uint8_t *channel, const char *state,
			      bool (*fn)(void *arg, const struct local_alarm *a), void *arg,
			      struct lsn_status *st);

/* Move row id to state ("active": raised_at = at; "cleared": cleared_at = at). */
enum lsn_err local_alarm_set_state(struct profile *p, int64_t id, const char *state, int64_t at,
				   struct lsn_status *st);

/* Forget a pending row whose head the served log turned out to contain. */
enum lsn_err local_alarm_drop(struct profile *p, int64_t id, struct lsn_status *st);

/* Forget every pending row of channel (its log cannot be fetched at all:
 * not a channel of ours). */
enum lsn_err local_alarm_drop_pending(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
				      struct lsn_status *st);

/* Does channel have a row in state? */
bool local_alarm_any(struct profile *p, const uint8_t channel[LSN_ID_BYTES], const char *state);

#endif
