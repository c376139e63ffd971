/* case_view.h — what the care-pathway commands (discharge, ack, alert,
 * cases, case, report, watch) share: finding a case from what the user
 * typed (its patient reference P-… or its id), fetching it (op case_get),
 * naming its steps (id, code, code#occurrence), the patient's name — read
 * only from the decrypted thread, on this computer — and the words for
 * notifications. docs/PROTOCOL.md, "Care pathways", has the objects. */
#ifndef LIAISON_CASE_VIEW_H
#define LIAISON_CASE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "care_case.h"
#include "e2e.h"

/* Does the logged-in user have the coordinator role? */
bool case_me_coordinator(struct e2e *e);
/* Does the logged-in user hold the territory role (every CPTS's cases)? */
bool case_me_territory(struct e2e *e);

/* CASE as a case id (32 hex), a patient reference "P-…" (any case), or the
 * first 4+ hex characters of a case id, among the caller's cases (for a
 * coordinator: all cases). Prints the error; CLI_OK with id filled. */
int case_resolve(struct e2e *e, const char *text, uint8_t id[LSN_ID_BYTES]);

/* case_get into cc (caller frees with case_ctx_free). */
enum lsn_err case_fetch(struct e2e *e, const uint8_t id[LSN_ID_BYTES], struct case_ctx *cc,
			struct lsn_status *st);
/* Put the names of the people the case mentions in the people cache: the
 * thread's members (channel_members) for a member; for a coordinator
 * outside the thread, the directory (first 100 people) when someone it
 * mentions is not known yet. */
void case_learn_people(struct e2e *e, const struct case_ctx *cc);

/* case_resolve + case_fetch + case_learn_people; prints errors, returns the
 * exit code. */
int case_load(struct e2e *e, const char *text, struct case_ctx *cc);
void case_ctx_free(struct case_ctx *cc);

/* Verify the case channel and fetch and decrypt its new messages, chasing
 * missing keys (members only; a no-op for a coordinator's view). */
enum lsn_err case_sync_thread(struct e2e *e, struct case_ctx *cc, struct lsn_status *st);

/* The patient's name from the cached discharge notice (message notice_seq,
 * 0: none), else from the channel's topic; "" when this device cannot
 * read either. Nothing leaves the computer. */
void case_patient_name(struct e2e *e, const uint8_t channel[LSN_ID_BYTES], int64_t notice_seq,
		       char *out, size_t len);

/* The decrypted content of message seq of channel, if this device can read
 * it (caller json_decref's), else NULL. */
json_t *case_message(struct e2e *e, const uint8_t channel[LSN_ID_BYTES], int64_t seq);

/* Which occurrence a step code without "#n" means. */
enum case_pick {
	CASE_PICK_PENDING,   /* complete, skip, assign: the first pending one */
	CASE_PICK_CLOSED,    /* reopen: the last done or skipped one */
};

/* The step named by text: its id, "code" or "code#n". NULL with why set
 * ("no step ... in this case; steps: ...") when none matches. Borrowed. */
json_t *case_find_step(const struct case_ctx *cc, const char *text, enum case_pick pick,
		       char *why, size_t why_len);

/* "gp_consultation", or "nurse_followup#3" for a repeated step. */
void case_step_name(const struct case_ctx *cc, json_t *step, char *out, size_t len);

/* "J+7 2026-11-30" (UTC date of the deadline), or "no deadline". */
void case_step_due(json_t *summary, json_t *step, char *out, size_t len);

/* Display name of a user id (hex) from the people cache ("user 1a2b3c4d"
 * when unknown). */
void case_person(struct e2e *e, const char *user_hex, char *out, size_t len);

/* The notice's acknowledgements with names and times, and who has not
 * acknowledged yet, as the server names them (notice.missing_people; from
 * the server's channel_members with an older server):
 *   {"acks":[{"user","name","acked_at"}], "not_acknowledged":[{"user","name"}] | null}
 * "not_acknowledged" is null only when neither is available (an older server
 * and a coordinator outside the thread: then only the count notice.missing). */
json_t *case_acks(struct e2e *e, const struct case_ctx *cc);
/* Print that object: "Acknowledged:" and "Not yet:" blocks, each line
 * starting with indent. */
void case_print_acks(FILE *f, json_t *acks, json_t *notice, const char *indent);

/* The notification in words for people; see case_notification_text. */
const char *case_notification_words(const char *kind);

/* One line for a notification (op notifications, or a pushed event): who,
 * what and the next command, e.g. "step overdue: gp_consultation of
 * P-7K2MQX9D (Consultation du médecin traitant, J+7 2026-11-30), held by
 * Dr Paul Ville — next: liaison case show P-7K2MQX9D"; an alert: its sender
 * and, when this device can decrypt it, its text. cache is {case id:
 * case_get reply}, filled as needed. */
void case_notification_text(struct e2e *e, json_t *n, json_t *cache, char *out, size_t len);

#endif
