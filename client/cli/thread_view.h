/* thread_view.h — how a thread is shown (read, watch): a header with the
 * channel's state, each message with time, sender name and profession, its
 * text or the exact reason it cannot be read, who shared the history, and
 * receipts ("read by ..."). Text from others is printed with control
 * characters neutralised. */
#ifndef LIAISON_THREAD_VIEW_H
#define LIAISON_THREAD_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "e2e.h"
#include "mlog_verify.h"
#include "local.h"

struct receipt {
	uint8_t user[LSN_ID_BYTES];
	int64_t delivered;
	int64_t read;
};

struct receipts {
	size_t n;
	struct receipt *list;
};

/* op receipts for channel (empty when the server refuses, e.g. a former member). */
enum lsn_err receipts_load(struct e2e *e, const uint8_t channel[LSN_ID_BYTES],
			   struct receipts *rc, struct lsn_status *st);
void receipts_free(struct receipts *rc);
/* Apply a {"ev":"receipt","user","kind","seq"} event. */
void receipts_update(struct receipts *rc, json_t *ev);

/* Shown with its author only when verified (decrypted and checked: "ok");
 * otherwise "unverified message (the server says from X)", and in JSON
 * sender/sender_name null with claimed_sender/claimed_sender_name. */
bool view_verified(const struct local_msg *m);

/* Missing messages (thread_gaps.h): a range of seqs the server answered
 * without, and a message whose "link" names one this device never held. */
void view_print_gap(int64_t from, int64_t to);
json_t *view_gap_json(int64_t from, int64_t to);
json_t *view_link_json(struct e2e *e, const struct local_msg *m);

/* Walking a thread in seq order: view_gaps_before(m) before showing m
 * reports the seqs missing since the previous one (printed, or appended to
 * missing in --json, with each link item); view_gaps_end after the last.
 * prev: the last seq held before the window (0: the thread's start). */
struct view_gaps {
	struct e2e *e;
	int64_t last_seq;        /* fetched up to here: above it nothing is missing yet */
	int64_t prev;
	json_t *missing;         /* --json: the "missing" array; NULL: print */
	int64_t cut_from, cut_to; /* held here, no longer on the server (0: none) */
	bool cut_told;
};
void view_gaps_before(struct view_gaps *g, const struct local_msg *m);
void view_gaps_end(struct view_gaps *g);

void view_print_header(struct e2e *e, const struct chan_view *v);
void view_print_message(struct e2e *e, const struct local_msg *m, const struct receipts *rc);
json_t *view_message_json(struct e2e *e, const struct local_msg *m, const struct receipts *rc);
json_t *view_header_json(struct e2e *e, const struct chan_view *v);

#endif
