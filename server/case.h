/* case.h — case helpers shared by the case handlers and the timer. */
#ifndef LSN_CASE_H
#define LSN_CASE_H

#include <jansson.h>

#include "config.h"
#include "effects.h"
#include "session.h"
#include "store.h"

/* The caller coordinates this case (may act on it as a coordinator): the
 * coordinator role and the case's CPTS is her organisation; for a case with
 * no CPTS, the coordinator and territory roles together. */
bool case_coordinator_of(const struct session *sess, const struct store_case *c);
/* The caller may see the case as a coordinator does (metadata, lists,
 * notifications): she coordinates it, or holds the territory role. */
bool case_coordinator_view(const struct session *sess, const struct store_case *c);
/* The same for an enrolled user (as now in the directory, not a session). */
bool case_user_coordinates(const struct store_user *u, const struct store_case *c);
/* The CPTS a new case belongs to by default: the opener's organisation if it
 * is a CPTS, else that of the first current member of the channel (joining
 * order) whose organisation is a CPTS. false: none. */
bool case_default_cpts(struct store *s, const uint8_t opener[LSN_ID_BYTES],
		       const uint8_t channel[LSN_ID_BYTES], uint8_t out[LSN_ID_BYTES]);

/* A template's schedule rows (malloc'd array, caller frees). */
enum lsn_err case_load_schedule(struct store *s, const char *pathway, int64_t version,
				struct store_schedule_row **rows, size_t *n);
/* Create (or re-date) every step occurrence the case's template and flags call
 * for, assigning each to the first current member holding its role. */
enum lsn_err case_instantiate(struct store *s, const struct store_case *c, int64_t now);
/* A member joined a case channel: give them the unassigned pending steps of
 * their role. No-op for channels without a case. */
enum lsn_err case_assign_newcomer(struct store *s, const uint8_t channel[LSN_ID_BYTES],
				  const uint8_t user[LSN_ID_BYTES], int64_t now);
bool case_pick_assignee(struct store *s, const uint8_t channel[LSN_ID_BYTES], const char *roles,
			uint8_t out[LSN_ID_BYTES]);
json_t *case_render_summary(const struct store_case *c);
/* A notification for its recipient: id, kind, case, step, seq, created_at,
 * and who and what it is about — patient_ref, pathway, channel, step_code,
 * step_label, due_at, actor and actor_name (the alert's sender, the step's
 * assignee, the notice's poster). */
json_t *case_render_notification(struct store *s, const struct store_notification *n);
/* The label of a step code in the case's template (the code if unknown). */
void case_step_label(struct store *s, const struct store_case *c, const char *step, char *out,
		     size_t cap);
json_t *case_render_step(const struct store_step *st, const char *label, int64_t now);
enum lsn_err case_has_acked(struct store *s, const uint8_t case_id[LSN_ID_BYTES],
			    const uint8_t user[LSN_ID_BYTES], bool *acked);
/* The discharge notice's recipients (fixed when it was posted) who are still
 * members of the case thread: how many, how many have not acknowledged, and
 * the time of the last acknowledgement among them (0 = none). A member who
 * joined later may acknowledge but is never counted. If missing is not
 * NULL, the ids of who has not acknowledged are appended to it. */
struct case_ack_state {
	size_t recipients, missing;
	int64_t last_ack;
};
enum lsn_err case_notice_acks(struct store *s, const struct store_case *c,
			      struct case_ack_state *out, json_t *missing);
/* Recipients (as above) who have not acknowledged. */
size_t case_missing_acks(struct store *s, const struct store_case *c, const struct store_notice *n);
/* The same, as a JSON array of user ids. */
json_t *case_missing_ack_users(struct store *s, const struct store_case *c, const struct store_notice *n);
/* NOTICE of docs/PROTOCOL.md for the case's discharge notice (null without
 * one): seq, poster, escalation, acks, recipients, expected, missing,
 * missing_users and missing_people. */
json_t *case_render_notice(struct store *s, const struct store_case *c);
/* [{user, name}] for a JSON list of user ids ("?" for an unknown one):
 * coordinators outside the thread cannot name people from their own
 * directory. */
json_t *case_named_users(struct store *s, json_t *ids);
/* The cases a list op covers (late_steps, unacked_notices, recent_alerts),
 * into f: the caller's own (member) and, for a coordinator, her CPTS's (and
 * the cases without a CPTS for a territory coordinator); all: every case,
 * for the territory role only (false: the caller may not). */
bool case_list_scope(const struct session *sess, bool all, struct store_case_filter *f);
/* Steps due soon or overdue, notices unacknowledged past the timeout:
 * notification rows and pushed events (into fx). *pushed counts them. */
enum lsn_err case_tick(struct store *s, const struct config *cfg, struct effects *fx, int64_t now,
		       unsigned *pushed);

#endif
