/* thread.h — the messages of a channel (CRYPTO.md §4–§5): send with our
 * outbound group session (rotated when needed, shared before use, state
 * committed before the envelope leaves), fetch and decrypt with the inbound
 * sessions, cache every result — text or the exact reason it cannot be
 * read — and ask for missing keys.
 *
 * Plaintext of a message (JSON): {"type":"text"|"topic"|"file","channel":HEX,
 * "sender":USER_HEX, ...}; "text" has "body", "topic" has "topic". The
 * receiver checks channel and sender against the header and the session. */
#ifndef LIAISON_THREAD_H
#define LIAISON_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "e2e.h"
#include "mlog_verify.h"
#include "local.h"

#define THREAD_TEXT_MAX (32 * 1024)
#define THREAD_TOPIC_MAX 512
#define THREAD_KEY_REQUEST_DELAY_MS 2000      /* wait this long for a key first */
#define THREAD_KEY_REQUEST_AGAIN_MS (3600 * 1000)
#define THREAD_ANSWER_WAIT_MS 3000            /* then wait this long for an answer */

/* Send content (an object with "type" and its fields; stolen) as the next
 * message of the channel. */
enum lsn_err thread_send(struct e2e *e, struct chan_view *v, json_t *content, int64_t *seq,
			 int64_t *ts, struct lsn_status *st);

struct thread_fetch_result {
	size_t fetched;       /* new messages from the server */
	size_t decrypted;     /* of which readable, plus older ones now readable */
	size_t waiting;       /* messages still waiting for a key */
	int64_t last_seq;     /* highest seq known */
	bool refetched;       /* thread_deliver fell back to `messages` (a gap) */
};

/* Messages after the last synced seq, then a retry of those waiting for a key. */
enum lsn_err thread_fetch(struct e2e *e, const struct chan_view *v,
			  struct thread_fetch_result *r, struct lsn_status *st);

/* Only the retry of messages waiting for a key (new keys arrived). */
enum lsn_err thread_retry(struct e2e *e, const struct chan_view *v,
			  struct thread_fetch_result *r, struct lsn_status *st);

/* A `message` event of v's channel (the same fields as a `messages` item).
 * When its seq is the next one (last synced seq + 1) it is verified,
 * decrypted and cached from the event alone, with no request; when its seq
 * skips some (an event was missed) the missing ones and it are fetched with
 * `messages` (r->refetched); at or below the last synced seq it is already
 * here and nothing changes. r->fetched counts the messages newly cached. */
enum lsn_err thread_deliver(struct e2e *e, const struct chan_view *v, json_t *ev,
			    struct thread_fetch_result *r, struct lsn_status *st);

/* thread_fetch, then for messages still waiting for a key: wait a little
 * for it (to-device pushes), fetch again; if some still wait, send key
 * requests to their senders and wait once more (what read does). */
enum lsn_err thread_fetch_chase(struct e2e *e, const struct chan_view *v,
				struct thread_fetch_result *r, struct lsn_status *st);

/* One {"seq","ts","sender_user","sender_device","envelope"} (a messages entry
 * or a message event): decrypt and cache into m (caller clears m). */
enum lsn_err thread_take(struct e2e *e, const struct chan_view *v, json_t *msg,
			 struct local_msg *m, struct lsn_status *st);

/* What a decrypted message changes beyond the thread (a topic). */
enum lsn_err thread_note_content(struct e2e *e, const uint8_t channel[LSN_ID_BYTES], int64_t seq,
				 json_t *content, struct lsn_status *st);

/* Send key requests for sessions that messages have waited for at least
 * min_wait_ms (once an hour per session). *sent: requests sent. */
enum lsn_err thread_request_missing(struct e2e *e, const struct chan_view *v,
				    int64_t min_wait_ms, size_t *sent, struct lsn_status *st);

#endif
