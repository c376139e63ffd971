/* handlers.h — one function per op. A handler reads its fields from req,
 * fills reply (an empty JSON object) and returns LSN_OK, or returns an error
 * with hc->st explaining it. Writes go through store_*; deferred effects
 * (events, closes) into hc->effects. */
#ifndef LSN_HANDLERS_H
#define LSN_HANDLERS_H

#include <jansson.h>

#include "config.h"
#include "effects.h"
#include "err.h"
#include "ratelimit.h"
#include "session.h"
#include "store.h"

/* What the server gives every request: the store, the configuration and
 * the rate-limit tables (dispatch.c uses them; handlers read the first two). */
struct server_ctx {
	struct store *store;
	const struct config *cfg;
	struct ratelimit *rl;    /* rate limits; NULL: none (unit tests) */
	/* logged-in connections of a user, for conn_per_user; NULL: no count */
	unsigned (*user_conns)(const uint8_t user[LSN_ID_BYTES]);
};

struct handler_ctx {
	struct server_ctx *srv;
	struct session *sess;
	struct effects *effects;
	struct lsn_status st;
	int64_t now;
	/* attachment chunks in binary frames (PROTOCOL.md "Binary chunk
	 * frames"): chunk_in is the raw ciphertext of a binary attachment_put
	 * (NULL: the request is JSON, with "data" in base64); chunk_out, when
	 * the handler sets it (malloc'd, dispatch.c frees it), is sent as the
	 * binary reply instead of the JSON body. */
	const uint8_t *chunk_in;
	size_t chunk_in_len;
	uint8_t *chunk_out;
	size_t chunk_out_len;
};

typedef enum lsn_err (*handler_fn)(struct handler_ctx *hc, json_t *req, json_t *reply);

/* handle_session.c */
enum lsn_err handle_ping(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_challenge(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_login(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_whoami(struct handler_ctx *hc, json_t *req, json_t *reply);
/* handle_enrol.c */
enum lsn_err handle_invite_info(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_enrol(struct handler_ctx *hc, json_t *req, json_t *reply);
/* handle_device.c */
enum lsn_err handle_devices(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_device_revoke(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_keys(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_ak_publish(struct handler_ctx *hc, json_t *req, json_t *reply);
/* handle_channel.c */
enum lsn_err handle_channel_create(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_channel_append(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_channel_log(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_channels(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_channel_members(struct handler_ctx *hc, json_t *req, json_t *reply);
/* handle_message.c */
enum lsn_err handle_send(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_messages(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_receipt(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_receipts(struct handler_ctx *hc, json_t *req, json_t *reply);
/* handle_todevice.c */
enum lsn_err handle_to_device_send(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_to_device_fetch(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_to_device_ack(struct handler_ctx *hc, json_t *req, json_t *reply);
/* handle_attachment.c */
enum lsn_err handle_attachment_begin(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_attachment_put(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_attachment_finish(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_attachment_info(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_attachment_get(struct handler_ctx *hc, json_t *req, json_t *reply);
/* handle_backup.c */
enum lsn_err handle_backup_identity_put(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_backup_identity_get(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_backup_put(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_backup_get(struct handler_ctx *hc, json_t *req, json_t *reply);
/* handle_case.c */
enum lsn_err handle_pathways(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_case_open(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_case_get(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_cases(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_step_complete(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_step_skip(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_step_reopen(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_step_assign(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_step_reschedule(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_late_steps(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_case_close(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_case_flag(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_case_event(struct handler_ctx *hc, json_t *req, json_t *reply);
/* handle_dashboard.c */
enum lsn_err handle_unacked_notices(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_recent_alerts(struct handler_ctx *hc, json_t *req, json_t *reply);
/* handle_notice.c */
enum lsn_err handle_notice_post(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_ack(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_alert(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_notifications(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_notifications_seen(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_clock_advance(struct handler_ctx *hc, json_t *req, json_t *reply);
/* handle_mail.c */
enum lsn_err handle_mail_status(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_mail_set(struct handler_ctx *hc, json_t *req, json_t *reply);
/* handle_conciliation.c */
enum lsn_err handle_conciliation_counts(struct handler_ctx *hc, json_t *req, json_t *reply);
/* handle_report.c */
enum lsn_err handle_report(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_target_set(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_targets(struct handler_ctx *hc, json_t *req, json_t *reply);
enum lsn_err handle_circle_session(struct handler_ctx *hc, json_t *req, json_t *reply);
/* "ge" or "le" (the better direction) for an indicator id of the report,
 * NULL for anything else. */
const char *report_indicator_direction(const char *id);
/* "YYYY-S1" → "YYYY-01-01".."YYYY-06-30", "YYYY-S2" → "YYYY-07-01".."YYYY-12-31". */
bool report_semester_days(const char *text, char from[11], char to[11]);
/* handle_directory.c */
enum lsn_err handle_directory_search(struct handler_ctx *hc, json_t *req, json_t *reply);

/* render.c — the JSON objects of PROTOCOL.md ("Identity", the message item). */
json_t *render_org(const struct store_org *org);
json_t *render_user(const struct store_user *user);
/* viewer: the user the reply goes to; last_seen_at only when it is dev's own */
json_t *render_device(const struct store_device *dev, const uint8_t viewer[LSN_ID_BYTES]);
json_t *render_roles(unsigned roles);
/* One message as PROTOCOL.md shows it: the pushed "message" event's body and
 * each item of a "messages" reply are this same object (channel, seq, ts,
 * sender_user, sender_device, envelope), so a client can decrypt either. */
json_t *render_message(const struct store_message *m);
/* Paged lists: the store was asked for limit + 1 items; drop the extra one
 * and set "more" in reply accordingly. */
void handler_page_finish(json_t *reply, json_t *list, int64_t limit);
/* Sort a JSON list in place; cmp compares two json_t ** (qsort's way).
 * false: out of memory (the list is left as it was). */
bool render_sort(json_t *list, int (*cmp)(const void *, const void *));
/* Store error → wire error with a message naming what was not found. */
enum lsn_err handler_store_fail(struct handler_ctx *hc, enum lsn_err err, const char *what);

#endif
