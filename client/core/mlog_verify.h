/* mlog_verify.h — a channel as its signed membership log establishes it
 * (CRYPTO.md §6). The whole log is fetched and replayed from the creator's
 * entry on every use: each entry's device must belong to its actor with a
 * chain IK → DK that verifies under the accepted (pinned) IK, its signature
 * must verify, and lsn_mlog_apply must accept it. The server's member list
 * must agree with the result, and the log must extend the one verified
 * before (the server may not rewrite or roll it back). Any failure makes the
 * channel INVALID, with the reason, and no key is shared in it. */
#ifndef LIAISON_MLOG_VERIFY_H
#define LIAISON_MLOG_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "e2e.h"
#include "mlog.h"

struct chan_view {
	uint8_t channel[LSN_ID_BYTES];
	bool valid;
	char reason[320];                /* why not valid */
	struct lsn_mlog_state *state;    /* membership after the verified entries */
	size_t n_entries;
	struct lsn_mlog_entry *entries;  /* as served */
	size_t n_verified;               /* of which replayed and verified */
	bool alarm;                      /* a membership alarm is active (local_alarm.h) */
	int64_t last_departure_seq;      /* last remove/leave entry, -1 if none */
	size_t n_ever;
	uint8_t (*ever)[LSN_ID_BYTES];   /* everyone the verified log ever admitted */
	bool me_member;
	int64_t my_join_ts;              /* ts of the entry that last added me, 0 none */
	const struct lsn_mlog_entry *my_departure;  /* when I was removed or left */
	json_t *members;                 /* channel_members reply entries, or NULL */
};

/* Fetch and verify. Network and server errors return an error; a log that
 * does not verify returns LSN_OK with v->valid false and v->reason set.
 * The verified position is saved in the store (local_channel). */
enum lsn_err chan_view_load(struct e2e *e, const uint8_t channel[LSN_ID_BYTES],
			    struct chan_view *v, struct lsn_status *st);
void chan_view_free(struct chan_view *v);

/* Current member's entry in the verified state, or NULL. */
const struct lsn_mlog_member *chan_view_member(const struct chan_view *v,
					       const uint8_t user[LSN_ID_BYTES]);
/* Was user ever a member per the verified log? */
bool chan_view_ever(const struct chan_view *v, const uint8_t user[LSN_ID_BYTES]);

/* ---- membership bound into messages and key shares (CRYPTO.md) ----------
 * Senders put {"seq":N,"hash":B64} of the last entry of the log they
 * verified as "mlog" in every group-message plaintext and room_key share. */

/* The head of v's verified log as that JSON object, or NULL (nothing verified). */
json_t *chan_view_head_json(const struct chan_view *v);

/* A membership alarm (local_alarm.h) in words, into buf: who and which
 * change the server no longer shows; translated unless english (a
 * channel's INVALID reason and --json stay English). */
struct local_alarm;
void chan_alarm_text(struct e2e *e, const struct local_alarm *a, bool english, char *buf,
		     size_t len);

/* Is (seq, hash) an entry of v's verified log? */
bool chan_view_has_head(const struct chan_view *v, int64_t seq, const uint8_t hash[32]);

/* The "mlog" field of a received plaintext obj (message or room_key share of
 * channel, from by; msg_seq: the message's seq, 0 for a share). Absent:
 * nothing to check. Malformed: *malformed. A head found in v (or, when v is
 * NULL, equal to the position verified last) is fine; any other is noted
 * pending, for chan_settle_pending to check against the log fetched again. */
enum lsn_err chan_head_note(struct e2e *e, const struct chan_view *v,
			    const uint8_t channel[LSN_ID_BYTES], json_t *obj, const char *source,
			    const uint8_t by[LSN_ID_BYTES], int64_t msg_seq, bool *malformed,
			    struct lsn_status *st);

/* Fetch and verify again the log of every channel (or only channel, if not
 * NULL) with pending heads: each head is then found (dropped) or raises a
 * membership alarm. */
enum lsn_err chan_settle_pending(struct e2e *e, const uint8_t *channel, struct lsn_status *st);

/* The alarm of channel in words, if one is active: true and text in buf. */
bool chan_alarm_active(struct e2e *e, const uint8_t channel[LSN_ID_BYTES], char *buf, size_t len);

/* Sign and append an entry (action, subject, role; create: kind, history)
 * after the verified log, retrying once on a stale seq. *seq_out: its seq. */
enum lsn_err chan_append(struct e2e *e, struct chan_view *v, enum lsn_mlog_action action,
			 const uint8_t subject[LSN_ID_BYTES], enum lsn_chan_role role,
			 int64_t *seq_out, struct lsn_status *st);

#endif
