/* concil_thread.h — medication reconciliation in the encrypted threads
 * (docs/CONCILIATION.md, "For the CLI"): posting a structured document in a
 * channel (inline, or as an encrypted attachment when it is larger than a
 * message may be), reading it back, and the **fold** — the episodes of a
 * case as the messages of its thread establish them, update after update.
 *
 * Every change of an episode is a new message {"type":"conciliation", …}
 * with the whole episode (concil_episode_encode) and two fields of the
 * thread layer, ignored by concil_episode_decode:
 *   "prev":   the seq of the version the change was made on (null: a new episode);
 *   "change": what the change was, in words ("discrepancy 13: prescription_corrected").
 * A document above CONCIL_INLINE_MAX bytes is uploaded as an encrypted
 * attachment and the message is a pointer:
 *   {"type":"conciliation","version":1,"episode":HEX,"case":HEX,"status":CODE,
 *    "document":{"attachment","name","mime","size","chunks","key","header","hash"}}
 *
 * The fold reads the case thread in order. A version is accepted when it
 * decodes (every check of concil_episode_decode), names this case, and is a
 * legal successor of the version before it:
 *   - nothing after a closed version;
 *   - a decision, once made, never changes and never disappears;
 *   - a decision that appears is posted by a prescriber (profession of the
 *     sender as the case's member list gives it), a proposal that appears or
 *     changes by someone whose role is the one it names.
 * Anything else is listed as rejected, with the reason, and the episode
 * stays as it was. The last accepted version is the episode. */
#ifndef LIAISON_CONCIL_THREAD_H
#define LIAISON_CONCIL_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "care_case.h"
#include "concil.h"
#include "e2e.h"
#include "mlog_verify.h"
#include "thread.h"

#define CONCIL_INLINE_MAX   THREAD_TEXT_MAX           /* bytes of JSON in one message */
#define CONCIL_DOC_MAX      (8 * 1024 * 1024)         /* largest attached document read back */
#define CONCIL_CHANGE_MAX   200                       /* the "change" words */
#define CIRCLE_CASE_TYPE    "circle_case"             /* a shared copy in a circle channel */
#define CIRCLE_SESSION_TYPE "circle_session"          /* a circle meeting */

/* Post doc (stolen) in channel v: inline when its compact JSON is at most
 * CONCIL_INLINE_MAX bytes; otherwise doc is uploaded as an encrypted
 * attachment named file_name and the message sent is pointer (stolen; its
 * "type" and other fields) with "document" set to the file fields.
 * *attachment: the attachment id, "" when inline. */
enum lsn_err concil_doc_post(struct e2e *e, struct chan_view *v, json_t *doc, json_t *pointer,
			     const char *file_name, int64_t *seq,
			     char attachment[LSN_ID_HEX + 1], struct lsn_status *st);

/* The document a decrypted message carries: the message itself, or the
 * attachment its "document" names, downloaded and decrypted in memory.
 * *doc: a new reference. */
enum lsn_err concil_doc_load(struct e2e *e, json_t *content, json_t **doc,
			     struct lsn_status *st);

/* One accepted version of an episode. */
struct concil_update {
	int64_t seq, ts;
	uint8_t sender[LSN_ID_BYTES];
	enum concil_status status;
	char change[CONCIL_CHANGE_MAX + 1];      /* as the sender described it ("" none) */
	bool attached;                           /* came as an attachment */
	bool concurrent;                         /* made on an older version than the last */
};

/* An episode as the thread establishes it. */
struct concil_item {
	struct concil_episode ep;                /* the last accepted version */
	int64_t seq;                             /* its message */
	struct concil_update *updates;           /* every accepted version, in order */
	size_t n_updates;
};

/* A message the fold did not accept. */
struct concil_rejected {
	int64_t seq;
	uint8_t sender[LSN_ID_BYTES];
	char episode[LSN_ID_HEX + 1];            /* "" when unreadable */
	char reason[320];
};

struct concil_fold {
	struct concil_item *items;               /* in the order of their first message */
	size_t n;
	struct concil_rejected *rejected;
	size_t n_rejected;
};

/* Fold the conciliation messages of the case's thread from the local cache
 * (sync the thread first: case_sync_thread). Network only for attachments. */
enum lsn_err concil_fold_load(struct e2e *e, const struct case_ctx *cc, struct concil_fold *f,
			      struct lsn_status *st);
void concil_fold_free(struct concil_fold *f);

/* The fold's rule: is next a legal successor of prev (NULL: next is the
 * first version of its episode) when posted by someone of this role, named
 * who in the reason? false with why. The CLI checks what it is about to post
 * with the same rule, so that it never posts what others would reject. */
bool concil_legal_successor(const struct concil_episode *prev, const struct concil_episode *next,
			    enum concil_role role, const char *who, char *why, size_t len);

/* EPISODE as its id or the first 4+ hex characters of it. NULL with why
 * ("no reconciliation … in this case; its episodes: …"). */
struct concil_item *concil_fold_find(struct concil_fold *f, const char *text, char *why,
				     size_t why_len);

/* Display name and profession code of a user, from the people cache. */
void concil_person_of(struct e2e *e, const uint8_t user[LSN_ID_BYTES], char *name,
		      size_t name_len, char *profession, size_t prof_len);

/* A circle copy's "ref": BLAKE2b-128 of the episode id and the circle's
 * channel id, personalised. The same episode shared again in the same circle
 * has the same ref (the new copy replaces the old one); without the episode
 * id, which only the case thread knows, it links to nothing. */
void concil_circle_ref(const char *episode_hex, const uint8_t circle[LSN_ID_BYTES],
		       char out[LSN_ID_HEX + 1]);

/* ---- structured messages of a thread ---------------------------------------------- */

/* One readable message of a thread, its content decoded. */
struct thread_doc {
	int64_t seq, ts;
	uint8_t sender[LSN_ID_BYTES];
	json_t *content;                /* owned */
};

struct thread_docs {
	struct thread_doc *v;
	size_t n, cap;
};

/* The readable messages of channel in the local cache, oldest first, whose
 * content's "type" is one of types (NULL-terminated), into d (zeroed
 * first). Free d with thread_docs_free, also after a failure. */
enum lsn_err thread_docs_load(struct e2e *e, const uint8_t channel[LSN_ID_BYTES],
			      const char *const *types, struct thread_docs *d,
			      struct lsn_status *st);
void thread_docs_free(struct thread_docs *d);

#endif
