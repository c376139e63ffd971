/* store.h — the server's storage interface. Handlers reach the database only
 * through these functions; nothing here speaks SQL to its callers, so a second
 * backend (PostgreSQL) can be added behind the same interface.
 *
 * Write path (group commit): commit.c opens a batch with store_batch_begin(),
 * runs each request between store_req_begin() and store_req_end() (a
 * request that fails is undone alone), and commits the whole batch with
 * store_batch_commit(); replies are released only after that.
 *
 * Inside, every statement goes through one idiom (store_row.h): prepared
 * once and cached, parameters bound from a typed list, columns read into
 * the structs below through column tables.
 *
 * Return values: LSN_OK, LSN_ERR_NOT_FOUND, LSN_ERR_CONFLICT (uniqueness),
 * LSN_ERR_STORAGE (the database refused; logged). */
#ifndef LSN_STORE_H
#define LSN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ident.h"

struct store;

enum store_sync { STORE_SYNC_FULL, STORE_SYNC_NORMAL };

struct store_options {
	enum store_sync sync;
	int busy_timeout_ms;
	bool create;          /* create the database file if missing */
	int migrate_to;       /* 0 = latest; tests migrate to older versions */
	size_t cache_bytes;   /* SQLite's page cache; 0 = its default (2 MiB) */
};

#define STORE_NAME_MAX       128
#define STORE_DEVNAME_MAX    64
#define STORE_PROFESSION_MAX 31
#define STORE_KIND_MAX       23

struct store_org {
	uint8_t id[LSN_ID_BYTES];
	char name[STORE_NAME_MAX + 1];
	char finess[10];
	char kind[STORE_KIND_MAX + 1];
	int64_t created_at;
};

struct store_user {
	uint8_t id[LSN_ID_BYTES];
	char rpps[12];                 /* "" when the profession is outside RPPS */
	char name[STORE_NAME_MAX + 1];
	char profession[STORE_PROFESSION_MAX + 1];
	unsigned roles;                /* enum lsn_role bits */
	uint8_t ik[32];
	int64_t created_at;
	struct store_org org;
};

struct store_device {
	uint8_t id[LSN_ID_BYTES];
	uint8_t user_id[LSN_ID_BYTES];
	char name[STORE_DEVNAME_MAX + 1];
	uint8_t dk[32];
	int64_t dk_ts;
	uint8_t dk_sig[64];
	uint8_t ak_id[LSN_ID_BYTES];   /* the current agreement key */
	uint8_t ak[32];
	int64_t ak_ts;
	uint8_t ak_sig[64];
	int64_t created_at;
	int64_t last_seen_at;          /* 0 = never */
	int64_t revoked_at;            /* 0 = active */
};

struct store_invite {
	uint8_t hash[32];
	char rpps[12];
	char name[STORE_NAME_MAX + 1];
	char profession[STORE_PROFESSION_MAX + 1];
	uint8_t org_id[LSN_ID_BYTES];
	unsigned roles;
	int64_t created_at;
	int64_t expires_at;
	int64_t used_at;               /* 0 = unused */
	bool for_user;                 /* a further device of an existing user */
	uint8_t user_id[LSN_ID_BYTES]; /* that user, when for_user */
	bool new_identity;             /* for_user: the device brings a new identity key
					  (liaisond user reset, a lost only device) */
	char email[255];               /* the new user's e-mail address; "" = none */
};

struct store_user_query {
	const char *text;              /* name substring or RPPS prefix; NULL = any */
	const char *profession;        /* NULL = any */
	const uint8_t *org_id;         /* NULL = any */
	int limit;
};

typedef void (*store_org_cb)(const struct store_org *org, void *arg);
typedef void (*store_user_cb)(const struct store_user *user, void *arg);
typedef void (*store_device_cb)(const struct store_device *dev, void *arg);

/* ---- lifecycle ---- */
/* Once per process, before the first store_open and any thread: SQLite's
 * process-wide settings. Today its memory statistics off, which cost a
 * global mutex around every allocation SQLite makes (sqlite3_config,
 * SQLITE_CONFIG_MEMSTATUS). Optional: without it SQLite keeps its
 * defaults. */
void store_process_init(void);
enum lsn_err store_open(struct store **out, const char *path, const struct store_options *opt,
			struct lsn_status *st);
void store_close(struct store *s);
int store_schema_version(struct store *s);
int store_schema_latest(void);
/* PRAGMA integrity_check; LSN_OK when "ok", else details in st. */
enum lsn_err store_check(struct store *s, struct lsn_status *st);

/* ---- group commit ---- */
enum lsn_err store_batch_begin(struct store *s);
enum lsn_err store_batch_commit(struct store *s);
void store_batch_rollback(struct store *s);
bool store_in_batch(const struct store *s);
/* Set the connection's synchronous mode (outside a batch). The pipelined
 * commit (commit.h) runs with NORMAL: COMMIT writes the WAL without a sync
 * (SQLite still syncs around checkpoints and the WAL header on reuse) and
 * its own sync thread makes each batch durable before its replies go. */
enum lsn_err store_set_sync(struct store *s, enum store_sync sync);
/* The path of the database's WAL file (it exists while the store is open). */
enum lsn_err store_wal_path(struct store *s, char *buf, size_t size);

/* Checkpoints (store_checkpoint.c): once the WAL holds start_pages, a
 * thread with its own connection copies it into the database; past
 * limit_pages the committing connection finishes the copy itself so that
 * the WAL restarts. false: not started (SQLite's automatic checkpoint, on
 * the committing thread, stays). store_close() stops it. */
bool store_checkpointer_start(struct store *s, unsigned start_pages, unsigned limit_pages);
void store_checkpointer_stop(struct store *s);
struct store_checkpoint_counts {
	uint64_t by_thread;           /* checkpoints the thread completed */
	uint64_t by_writer;           /* ... and the committing connection */
};
struct store_checkpoint_counts store_checkpoint_counts(struct store *s);
enum lsn_err store_req_begin(struct store *s);
void store_req_end(struct store *s, bool keep);

/* ---- organisations ---- */
enum lsn_err store_org_create(struct store *s, const struct store_org *org);
enum lsn_err store_org_get(struct store *s, const uint8_t id[LSN_ID_BYTES], struct store_org *out);
enum lsn_err store_org_find_finess(struct store *s, const char *finess, struct store_org *out);
enum lsn_err store_org_list(struct store *s, store_org_cb cb, void *arg);

/* ---- invites ---- */
enum lsn_err store_invite_create(struct store *s, const struct store_invite *inv);
enum lsn_err store_invite_get(struct store *s, const uint8_t hash[32], struct store_invite *out);
/* Marks the invite used; LSN_ERR_CONFLICT if it already was. */
enum lsn_err store_invite_consume(struct store *s, const uint8_t hash[32],
				  const uint8_t user_id[LSN_ID_BYTES], int64_t at);

/* ---- users ---- */
enum lsn_err store_user_create(struct store *s, const struct store_user *user);
/* A new identity key for the user (liaisond user reset, then enrolment). */
enum lsn_err store_user_set_ik(struct store *s, const uint8_t id[LSN_ID_BYTES],
			       const uint8_t ik[32]);
enum lsn_err store_user_get(struct store *s, const uint8_t id[LSN_ID_BYTES], struct store_user *out);
enum lsn_err store_user_find_rpps(struct store *s, const char *rpps, struct store_user *out);
enum lsn_err store_user_search(struct store *s, const struct store_user_query *q,
			       store_user_cb cb, void *arg);

/* ---- devices ---- */
/* Creates the device and its first agreement key. */
enum lsn_err store_device_create(struct store *s, const struct store_device *dev);
/* A further agreement key (rotation): dev->id, ak_id, ak, ak_ts, ak_sig,
 * created_at. The newest ak_ts is the device's current key. */
enum lsn_err store_device_add_ak(struct store *s, const struct store_device *dev);
enum lsn_err store_device_get(struct store *s, const uint8_t id[LSN_ID_BYTES],
			      struct store_device *out);
enum lsn_err store_device_list(struct store *s, const uint8_t user_id[LSN_ID_BYTES],
			       store_device_cb cb, void *arg);
/* LSN_ERR_CONFLICT if already revoked. */
enum lsn_err store_device_revoke(struct store *s, const uint8_t id[LSN_ID_BYTES], int64_t at);
enum lsn_err store_device_touch(struct store *s, const uint8_t id[LSN_ID_BYTES], int64_t at);

/* ---- idempotency ---- */
/* On LSN_OK, *op_out and *reply_out are malloc'd copies (caller frees). */
enum lsn_err store_idem_get(struct store *s, const char *scope, const char *key,
			    char **op_out, char **reply_out);
enum lsn_err store_idem_put(struct store *s, const char *scope, const char *key,
			    const char *op, const char *reply, int64_t at);

/* ---- channels, membership log, members (store_thread.c) ---- */
struct store_channel {
	uint8_t id[LSN_ID_BYTES];
	char kind[16];
	char history[16];
	uint8_t creator[LSN_ID_BYTES];
	int64_t created_at;
	int64_t log_seq;
	uint8_t log_hash[32];
	int64_t last_seq;              /* last message */
};

struct store_member {
	uint8_t channel[LSN_ID_BYTES];
	uint8_t user[LSN_ID_BYTES];
	char role[16];
	int64_t since_log_seq;
	bool current;
	int64_t left_msg_seq;          /* former members: last readable message */
};

struct store_message {
	uint8_t channel[LSN_ID_BYTES];
	int64_t seq;
	uint8_t sender_user[LSN_ID_BYTES];
	uint8_t sender_device[LSN_ID_BYTES];
	int64_t ts;
	const uint8_t *envelope;       /* valid during the callback only */
	size_t envelope_len;
};

typedef void (*store_member_cb)(const struct store_member *m, void *arg);
typedef void (*store_channel_cb)(const struct store_channel *c, const struct store_member *me,
				 void *arg);
typedef void (*store_message_cb)(const struct store_message *m, void *arg);
typedef void (*store_log_cb)(int64_t seq, const char *entry_json, void *arg);
typedef void (*store_id_cb)(const uint8_t id[LSN_ID_BYTES], void *arg);
/* PRAGMA data_version: changes when another process (an administrator's
 * liaisond command) has committed to the database since the last call. */
enum lsn_err store_data_version(struct store *s, int64_t *version);
/* Devices revoked at or after since (ms): ids to cb. */
enum lsn_err store_devices_revoked_since(struct store *s, int64_t since, store_id_cb cb, void *arg);

enum lsn_err store_channel_create(struct store *s, const struct store_channel *c);
enum lsn_err store_channel_get(struct store *s, const uint8_t id[LSN_ID_BYTES],
			       struct store_channel *out);
/* Append a log entry and move the channel's log head. */
enum lsn_err store_channel_log_append(struct store *s, const uint8_t channel[LSN_ID_BYTES],
				      int64_t seq, const uint8_t hash[32], const char *entry_json,
				      int64_t now);
enum lsn_err store_channel_log_list(struct store *s, const uint8_t channel[LSN_ID_BYTES],
				    store_log_cb cb, void *arg);
/* Channels the user is or was a member of, with their membership row. */
enum lsn_err store_channels_of_user(struct store *s, const uint8_t user[LSN_ID_BYTES],
				    store_channel_cb cb, void *arg);

/* Add (or re-add) a current member. */
enum lsn_err store_member_put(struct store *s, const uint8_t channel[LSN_ID_BYTES],
			      const uint8_t user[LSN_ID_BYTES], const char *role, int64_t since_log_seq);
/* Mark a member as gone, readable up to the channel's current last message. */
enum lsn_err store_member_leave(struct store *s, const uint8_t channel[LSN_ID_BYTES],
				const uint8_t user[LSN_ID_BYTES]);
enum lsn_err store_member_set_role(struct store *s, const uint8_t channel[LSN_ID_BYTES],
				   const uint8_t user[LSN_ID_BYTES], const char *role);
enum lsn_err store_member_get(struct store *s, const uint8_t channel[LSN_ID_BYTES],
			      const uint8_t user[LSN_ID_BYTES], struct store_member *out);
enum lsn_err store_member_list(struct store *s, const uint8_t channel[LSN_ID_BYTES],
			       bool current_only, store_member_cb cb, void *arg);
/* Distinct users sharing at least one channel with user (user included). */
enum lsn_err store_comembers(struct store *s, const uint8_t user[LSN_ID_BYTES], store_id_cb cb,
			     void *arg);

/* ---- messages and receipts (store_thread.c) ---- */
/* Assign the next per-channel seq and store the envelope. */
enum lsn_err store_message_append(struct store *s, struct store_message *m);
/* The sender of message seq of a channel. */
enum lsn_err store_message_sender(struct store *s, const uint8_t channel[LSN_ID_BYTES], int64_t seq,
				  uint8_t user[LSN_ID_BYTES]);
/* Messages with after < seq <= upto, in order, at most limit. */
enum lsn_err store_message_list(struct store *s, const uint8_t channel[LSN_ID_BYTES], int64_t after,
				int64_t upto, int limit, store_message_cb cb, void *arg);
/* Raise delivered or read to seq (never lowers). *changed tells whether it moved. */
enum lsn_err store_receipt_raise(struct store *s, const uint8_t channel[LSN_ID_BYTES],
				 const uint8_t user[LSN_ID_BYTES], bool read, int64_t seq, int64_t now,
				 bool *changed);
typedef void (*store_receipt_cb)(const uint8_t user[LSN_ID_BYTES], int64_t delivered,
				 int64_t read, void *arg);
enum lsn_err store_receipt_list(struct store *s, const uint8_t channel[LSN_ID_BYTES],
				store_receipt_cb cb, void *arg);

/* ---- to-device queue, attachments, key backup (store_queue.c) ---- */
struct store_todevice {
	int64_t id;
	uint8_t recipient[LSN_ID_BYTES];
	uint8_t sender_user[LSN_ID_BYTES];
	uint8_t sender_device[LSN_ID_BYTES];
	int64_t ts;
	const uint8_t *body;           /* valid during the callback / until the next store call */
	size_t body_len;
};
typedef void (*store_todevice_cb)(const struct store_todevice *t, void *arg);

enum lsn_err store_todevice_put(struct store *s, struct store_todevice *t); /* sets t->id */
enum lsn_err store_todevice_list(struct store *s, const uint8_t device[LSN_ID_BYTES], int64_t after,
				 int limit, store_todevice_cb cb, void *arg);
enum lsn_err store_todevice_ack(struct store *s, const uint8_t device[LSN_ID_BYTES], int64_t upto,
				int64_t *deleted);

struct store_attachment {
	uint8_t id[LSN_ID_BYTES];
	uint8_t channel[LSN_ID_BYTES];
	uint8_t uploader[LSN_ID_BYTES];
	int64_t size;
	int64_t chunks;
	bool complete;
	int64_t created_at;
};
enum lsn_err store_attachment_create(struct store *s, const struct store_attachment *a);
enum lsn_err store_attachment_get(struct store *s, const uint8_t id[LSN_ID_BYTES],
				  struct store_attachment *out);
enum lsn_err store_attachment_put_chunk(struct store *s, const uint8_t id[LSN_ID_BYTES],
					int64_t index, const uint8_t *data, size_t len);
/* malloc'd copy of a chunk in *data (caller frees). */
enum lsn_err store_attachment_get_chunk(struct store *s, const uint8_t id[LSN_ID_BYTES],
					int64_t index, uint8_t **data, size_t *len);
/* Checks every chunk is there, the sizes add up and BLAKE2b-256 of the chunks
 * in order equals hash; then marks the attachment complete. LSN_ERR_CONFLICT
 * with a reason in st otherwise. */
enum lsn_err store_attachment_finish(struct store *s, const uint8_t id[LSN_ID_BYTES],
				     const uint8_t hash[32], struct lsn_status *st);

enum lsn_err store_backup_identity_put(struct store *s, const uint8_t user[LSN_ID_BYTES],
				       const uint8_t *blob, size_t len, int64_t now);
/* malloc'd copy in *blob; LSN_ERR_NOT_FOUND when the user has no backup. */
/* Delete the user's key backup, identity and sessions (liaisond user reset:
 * a new identity key, the old backup useless without its recovery code). */
enum lsn_err store_backup_forget(struct store *s, const uint8_t user[LSN_ID_BYTES]);
enum lsn_err store_backup_identity_get(struct store *s, const uint8_t user[LSN_ID_BYTES],
				       uint8_t **blob, size_t *len);
struct store_backup_entry {
	int64_t id;
	uint8_t channel[LSN_ID_BYTES];
	uint8_t session_id[32];
	int64_t first_index;
	const uint8_t *data;
	size_t data_len;
};
typedef void (*store_backup_cb)(const struct store_backup_entry *e, void *arg);
/* Keeps the entry with the lowest first_index; *stored false when ignored. */
enum lsn_err store_backup_put(struct store *s, const uint8_t user[LSN_ID_BYTES],
			      const struct store_backup_entry *e, int64_t now, bool *stored);
enum lsn_err store_backup_list(struct store *s, const uint8_t user[LSN_ID_BYTES], int64_t after,
			       int limit, store_backup_cb cb, void *arg);

/* ---- pathways, cases, steps, notices, notifications (store_case.c) ---- */
struct store_template {
	char code[32];
	int64_t version;
	char label_fr[160];
	char j0_label[96];
	char sources[400];
	char flags[128];
};
struct store_schedule_row {
	char step[48];
	int64_t position;
	char label_fr[200];
	char roles[96];
	bool mandatory;
	char flag[64];                 /* '|'-separated, any applies; "" = always */
	bool replaces_base;
	char unless[64];               /* '|'-separated: none may be set; "" = none */
	char anchor[24];               /* a case event the days count from; "" = J0 */
	bool has_first_day;
	int64_t first_day;
	int64_t every_days;            /* 0 = once */
	int64_t last_day;
};
struct store_case {
	uint8_t id[LSN_ID_BYTES];
	char patient_ref[24];
	char pathway[32];
	int64_t template_version;
	uint8_t channel[LSN_ID_BYTES];
	int64_t j0;
	char flags[128];
	char status[12];               /* open | closed */
	char close_reason[24];
	uint8_t opened_by[LSN_ID_BYTES];
	int64_t opened_at;
	int64_t closed_at;
	bool has_cpts;                 /* false: no CPTS (territory coordinators only) */
	uint8_t cpts[LSN_ID_BYTES];    /* the CPTS (org) whose coordinators work the case */
};
struct store_step {
	int64_t id;
	uint8_t case_id[LSN_ID_BYTES];
	char step[48];
	int64_t occurrence;
	char roles[96];
	int64_t due_at;                /* 0 = no deadline */
	char status[12];               /* pending | done | skipped */
	bool has_assignee;
	uint8_t assignee[LSN_ID_BYTES];
	bool has_done_by;
	uint8_t done_by[LSN_ID_BYTES];
	int64_t done_at;
	char skip_reason[200];
	int64_t note_seq;              /* 0 = none */
	int64_t notified_soon, notified_late;
	char done_via[24];             /* the action that completed it; "" = a person */
};
struct store_notice {
	uint8_t case_id[LSN_ID_BYTES];
	int64_t message_seq;
	uint8_t posted_by[LSN_ID_BYTES];
	int64_t posted_at;
	int64_t escalated_at;          /* 0 = not escalated */
};
struct store_case_filter {
	/* which cases: every case (all), or those whose channel has this current
	 * member, those of this CPTS, those with no CPTS (any that matches) */
	bool all;
	const uint8_t *member;         /* NULL = not by membership */
	const uint8_t *cpts;           /* NULL = not by CPTS */
	bool no_cpts;
	const char *pathway;           /* NULL = any */
	const uint8_t *assignee;       /* cases with a pending step assigned to this user */
	int64_t overdue_at;            /* >0: cases with a pending step due before this time */
	bool open_only;
	bool with_notice;              /* cases whose discharge notice is posted */
	int64_t alerted_since;         /* >0: cases with an alert raised at or after this time */
};
typedef void (*store_template_cb)(const struct store_template *t, void *arg);
typedef void (*store_schedule_cb)(const struct store_schedule_row *r, void *arg);
typedef void (*store_case_cb)(const struct store_case *c, void *arg);
typedef void (*store_step_cb)(const struct store_step *st, void *arg);
typedef void (*store_ack_cb)(const uint8_t user[LSN_ID_BYTES], int64_t acked_at, void *arg);

enum lsn_err store_template_list(struct store *s, store_template_cb cb, void *arg);
enum lsn_err store_template_current(struct store *s, const char *code, struct store_template *out);
enum lsn_err store_template_get(struct store *s, const char *code, int64_t version,
				 struct store_template *out);
enum lsn_err store_template_schedule(struct store *s, const char *code, int64_t version,
				     store_schedule_cb cb, void *arg);
enum lsn_err store_case_create(struct store *s, const struct store_case *c);
enum lsn_err store_case_get(struct store *s, const uint8_t id[LSN_ID_BYTES], struct store_case *out);
enum lsn_err store_case_by_channel(struct store *s, const uint8_t channel[LSN_ID_BYTES],
				   struct store_case *out);
enum lsn_err store_case_close(struct store *s, const uint8_t id[LSN_ID_BYTES], const char *reason,
			      int64_t at);
enum lsn_err store_case_set_flags(struct store *s, const uint8_t id[LSN_ID_BYTES], const char *flags);
/* A case event that anchors steps (op case_event): its code, its local day. */
struct store_case_event {
	char event[24];
	int64_t day;                   /* local midnight of the event's day, ms */
	uint8_t recorded_by[LSN_ID_BYTES];
	int64_t recorded_at;
};
typedef void (*store_case_event_cb)(const struct store_case_event *e, void *arg);
/* Record (or correct: replaces the day) an event of a case. */
enum lsn_err store_case_event_put(struct store *s, const uint8_t case_id[LSN_ID_BYTES],
				  const struct store_case_event *e);
enum lsn_err store_case_event_list(struct store *s, const uint8_t case_id[LSN_ID_BYTES],
				   store_case_event_cb cb, void *arg);
enum lsn_err store_case_list(struct store *s, const struct store_case_filter *f, store_case_cb cb,
			     void *arg);
/* Insert a step occurrence; if (case, step, occurrence) exists and is still
 * pending, move its due date to st->due_at instead. */
enum lsn_err store_step_insert(struct store *s, struct store_step *st, int64_t now);
enum lsn_err store_step_get(struct store *s, int64_t id, struct store_step *out);
enum lsn_err store_step_list(struct store *s, const uint8_t case_id[LSN_ID_BYTES], store_step_cb cb,
			     void *arg);
/* Write status, assignee, done_by/at, skip_reason, note_seq of st; done_via
 * only when the new status is done (else NULL). */
enum lsn_err store_step_update(struct store *s, const struct store_step *st, int64_t now);
/* Pending steps due before `before` whose soon/late notice is not sent yet. */
enum lsn_err store_step_due_scan(struct store *s, int64_t soon_before, int64_t late_before,
				 store_step_cb cb, void *arg);
enum lsn_err store_step_mark_notified(struct store *s, int64_t id, bool late, int64_t at);
enum lsn_err store_notice_put(struct store *s, const struct store_notice *n);
enum lsn_err store_notice_get(struct store *s, const uint8_t case_id[LSN_ID_BYTES],
			      struct store_notice *out);
enum lsn_err store_notice_escalate(struct store *s, const uint8_t case_id[LSN_ID_BYTES], int64_t at);
typedef void (*store_notice_cb)(const struct store_notice *n, void *arg);
/* Notices posted before `before`, not escalated, on open cases. */
enum lsn_err store_notice_overdue(struct store *s, int64_t before, store_notice_cb cb, void *arg);
/* *added false when the user had already acknowledged. */
enum lsn_err store_ack_put(struct store *s, const uint8_t case_id[LSN_ID_BYTES],
			   const uint8_t user[LSN_ID_BYTES], int64_t at, bool *added);
enum lsn_err store_ack_list(struct store *s, const uint8_t case_id[LSN_ID_BYTES], store_ack_cb cb,
			    void *arg);
/* An administrator changes a user's roles (effective at their next login). */
enum lsn_err store_user_set_roles(struct store *s, const uint8_t user[LSN_ID_BYTES], unsigned roles);
/* The coordinators of a CPTS (users with the coordinator role in that org);
 * cpts NULL: the coordinators holding the territory role. */
enum lsn_err store_cpts_coordinators(struct store *s, const uint8_t *cpts, store_id_cb cb, void *arg);

/* ---- actions that fulfil steps, notice recipients, alerts (store_action.c) ---- */

typedef void (*store_text_cb)(const char *text, void *arg);
/* The step codes an action fulfils in a template version (pathway_step_actions). */
enum lsn_err store_step_actions(struct store *s, const char *template, int64_t version,
				const char *action, store_text_cb cb, void *arg);
enum lsn_err store_notice_recipient_add(struct store *s, const uint8_t case_id[LSN_ID_BYTES],
					const uint8_t user[LSN_ID_BYTES]);
/* Who must acknowledge the case's notice, fixed when it was posted. */
enum lsn_err store_notice_recipients(struct store *s, const uint8_t case_id[LSN_ID_BYTES],
				     store_id_cb cb, void *arg);
/* LSN_ERR_CONFLICT when that message has already raised an alert. */
enum lsn_err store_alert_put(struct store *s, const uint8_t case_id[LSN_ID_BYTES], int64_t seq,
			     const uint8_t by[LSN_ID_BYTES], int64_t at, const char *kind);

/* ---- alert kinds, routes and measurement thresholds (store_alert.c, 011) ---- */
#define STORE_ALERT_KIND 24
struct store_alert_route {
	char kind[STORE_ALERT_KIND];
	char roles[128];               /* step-role syntax; 'coordinator': of the case's CPTS */
	char label_fr[128];
};
struct store_threshold {
	char measure[24];
	char rule[16];                 /* above | at_least | below | rise */
	int64_t amount_milli;          /* the amount, in thousandths of the measure's unit */
	int64_t days;                  /* rise: the window in days; else 0 */
	char alert_kind[STORE_ALERT_KIND];
};
typedef void (*store_alert_route_cb)(const struct store_alert_route *r, void *arg);
typedef void (*store_threshold_cb)(const struct store_threshold *t, void *arg);
/* LSN_ERR_NOT_FOUND when the template version does not know the kind. */
enum lsn_err store_alert_route(struct store *s, const char *template, int64_t version,
			       const char *kind, struct store_alert_route *out);
/* The kinds of a template version, the most urgent first. */
enum lsn_err store_alert_routes(struct store *s, const char *template, int64_t version,
				store_alert_route_cb cb, void *arg);
enum lsn_err store_thresholds(struct store *s, const char *template, int64_t version,
			      store_threshold_cb cb, void *arg);
/* The kind of the alert a message raised (LSN_ERR_NOT_FOUND: none). */
enum lsn_err store_alert_kind(struct store *s, const uint8_t case_id[LSN_ID_BYTES], int64_t seq,
			      char *out, size_t cap);
/* An alert raised on a case (case_alerts), with its kind's label in the
 * case's template version (the kind itself when the version lacks it). */
struct store_raised_alert {
	int64_t seq;                   /* the alert message */
	char kind[STORE_ALERT_KIND];
	char label_fr[128];
	uint8_t by[LSN_ID_BYTES];
	int64_t at;
};
typedef void (*store_raised_alert_cb)(const struct store_raised_alert *a, void *arg);
/* The alerts of a case raised at or after since, newest first (then the
 * later message first). */
enum lsn_err store_case_alerts(struct store *s, const uint8_t case_id[LSN_ID_BYTES], int64_t since,
			       store_raised_alert_cb cb, void *arg);
struct store_notification {
	int64_t id;
	char kind[24];
	uint8_t case_id[LSN_ID_BYTES];
	int64_t step_id;               /* 0 = none */
	int64_t message_seq;           /* 0 = none (alerts: the alert message) */
	int64_t created_at;
};
typedef void (*store_notification_cb)(const struct store_notification *n, void *arg);
enum lsn_err store_notification_add(struct store *s, const uint8_t user[LSN_ID_BYTES],
				    struct store_notification *n);
enum lsn_err store_notification_list(struct store *s, const uint8_t user[LSN_ID_BYTES],
				     store_notification_cb cb, void *arg);
enum lsn_err store_notification_seen(struct store *s, const uint8_t user[LSN_ID_BYTES], int64_t upto,
				     int64_t at);

/* A change in a step's history beyond its state (case_step_events). */
struct store_step_event {
	int64_t id;
	uint8_t case_id[LSN_ID_BYTES];
	int64_t step_id;
	char action[16];               /* rescheduled */
	uint8_t by[LSN_ID_BYTES];
	int64_t at;
	char reason[32];
	int64_t old_due, new_due;      /* 0 = no deadline */
	int64_t note_seq;              /* 0 = none */
};
typedef void (*store_step_event_cb)(const struct store_step_event *ev, void *arg);
/* Move a pending step's due date; its due-soon and overdue marks are cleared. */
enum lsn_err store_step_reschedule(struct store *s, int64_t step_id, int64_t due_at, int64_t now);
enum lsn_err store_step_event_add(struct store *s, const struct store_step_event *ev);
enum lsn_err store_step_event_list(struct store *s, const uint8_t case_id[LSN_ID_BYTES],
				   store_step_event_cb cb, void *arg);
/* A closed case's unseen notifications are marked seen (never listed again). */
enum lsn_err store_notifications_prune(struct store *s, const uint8_t case_id[LSN_ID_BYTES],
				       int64_t at);

/* ---- indicators (store_report.c); periods are [from, to) in ms, from one
 * local midnight to another (server/pathway.h); cpts: the cases (and
 * circle sessions) of that CPTS only, NULL: of every CPTS and none ---- */
#define STORE_PATHWAY_CODE 32
struct store_step_outcome {
	char pathway[STORE_PATHWAY_CODE];
	int64_t j0, due_at;
	int64_t done_at;               /* -1 when not done */
};
typedef void (*store_step_outcome_cb)(const struct store_step_outcome *o, void *arg);
/* Occurrences of the steps (comma list; occurrence 0 = every occurrence) of
 * cases of the given pathways (comma list; NULL: any) due in the period. */
enum lsn_err store_report_step(struct store *s, const uint8_t *cpts, const char *pathways,
			       const char *steps, int64_t occurrence, int64_t from, int64_t to,
			       store_step_outcome_cb cb, void *arg);
/* Per case of pathway with J0 in the period: done_at of two steps (0 = not done). */
typedef void (*store_pair_cb)(const char *pathway, int64_t first_done, int64_t second_done,
			      void *arg);
enum lsn_err store_report_step_pair(struct store *s, const uint8_t *cpts, const char *pathway,
				    const char *first, const char *second, int64_t from, int64_t to,
				    store_pair_cb cb, void *arg);
/* Discharge notices posted in the period. */
enum lsn_err store_report_notices(struct store *s, int64_t from, int64_t to, store_notice_cb cb,
				  void *arg);
typedef void (*store_count_cb)(const char *key, int64_t count, void *arg);
/* Cases opened in the period, per pathway. */
enum lsn_err store_report_cases_opened(struct store *s, const uint8_t *cpts, int64_t from,
				       int64_t to, store_count_cb cb, void *arg);
/* Distinct professionals in the channels of cases opened in the period: in
 * all, and per pathway. */
enum lsn_err store_report_professionals(struct store *s, const uint8_t *cpts, int64_t from,
					int64_t to, int64_t *count);
enum lsn_err store_report_professionals_by(struct store *s, const uint8_t *cpts, int64_t from,
					   int64_t to, store_count_cb cb, void *arg);
/* Pending steps of open cases due before `before`, per pathway. */
enum lsn_err store_report_overdue(struct store *s, const uint8_t *cpts, int64_t before,
				  store_count_cb cb, void *arg);
/* Cases of the given pathways (comma list) whose J0 is in [from, to). */
struct store_report_case {
	uint8_t id[LSN_ID_BYTES];
	char pathway[STORE_PATHWAY_CODE];
	int64_t j0;
};
typedef void (*store_report_case_cb)(const struct store_report_case *c, void *arg);
enum lsn_err store_report_cases(struct store *s, const uint8_t *cpts, const char *pathways,
				int64_t from, int64_t to, store_report_case_cb cb, void *arg);

/* ---- quality-circle sessions and targets (store_report.c, 009) ---- */
struct store_circle_session {
	uint8_t channel[LSN_ID_BYTES];
	bool has_cpts;                 /* false: no CPTS (territory reports only) */
	uint8_t cpts[LSN_ID_BYTES];    /* the CPTS it counts for */
	int64_t day;                   /* local midnight of the session day, ms */
	char day_text[11];
	uint8_t recorded_by[LSN_ID_BYTES];
	int64_t recorded_at;
};
/* Record a session with its n attendees (user ids); a second record of the
 * same circle and day replaces the first (*replaced). */
enum lsn_err store_circle_session_put(struct store *s, const struct store_circle_session *cs,
				      const uint8_t (*attendees)[LSN_ID_BYTES], size_t n,
				      bool *replaced);
/* Sessions held in [from, to): how many, the sum of their participants and
 * the distinct participants. */
enum lsn_err store_report_circles(struct store *s, const uint8_t *cpts, int64_t from, int64_t to,
				  int64_t *sessions, int64_t *participants, int64_t *distinct);
struct store_target {
	uint8_t cpts[LSN_ID_BYTES];
	char indicator[8];
	int64_t value_milli;           /* the target × 1000 */
	char direction[4];             /* "ge" (at least) or "le" (at most) */
	bool has_set_by;               /* false: set by the administrator */
	uint8_t set_by[LSN_ID_BYTES];
	int64_t set_at;
};
enum lsn_err store_target_put(struct store *s, const struct store_target *t);
/* NOT_FOUND when there was none. */
enum lsn_err store_target_delete(struct store *s, const uint8_t cpts[LSN_ID_BYTES],
				 const char *indicator);
typedef void (*store_target_cb)(const struct store_target *t, void *arg);
/* The targets of one CPTS, or of every CPTS when cpts is NULL. */
enum lsn_err store_target_list(struct store *s, const uint8_t cpts[LSN_ID_BYTES],
			       store_target_cb cb, void *arg);

/* ---- medication reconciliation counts (store_report.c) ---- */
struct store_conciliation {
	uint8_t case_id[LSN_ID_BYTES];
	uint8_t episode[LSN_ID_BYTES];
	char transition[32];
	char status[24];
	int64_t source_types, lines_bmo, lines_order, discrepancies, unintentional, resolved;
	const char *by_type;           /* JSON text */
	const char *by_intent;         /* JSON text */
	const char *resolution_ms;     /* JSON array text */
	int64_t started_at, compared_at, closed_at;   /* 0 = not yet */
	uint8_t reported_by[LSN_ID_BYTES];
	int64_t j0;                    /* filled by the report query */
	char pathway[STORE_PATHWAY_CODE];   /* filled by the report query */
};
/* Insert or replace the counts of one episode. */
enum lsn_err store_conciliation_put(struct store *s, const struct store_conciliation *c, int64_t now);
typedef void (*store_conciliation_cb)(const struct store_conciliation *c, void *arg);
/* Episodes of cases of the given pathways (comma list) whose J0 is in the period. */
enum lsn_err store_report_conciliations(struct store *s, const uint8_t *cpts, const char *pathways,
					int64_t from, int64_t to, store_conciliation_cb cb, void *arg);

/* ---- audit trail (store_audit.c; the chain itself is server/audit.c) ---- */
#define STORE_AUDIT_WORD   32      /* action, outcome, origin: up to 31 bytes */
#define STORE_AUDIT_PEER   64      /* up to 63 bytes */
#define STORE_AUDIT_DETAIL 96      /* up to 95 bytes */
struct store_audit {
	int64_t seq;                   /* 1, 2, ... */
	int64_t at;                    /* ms since the epoch */
	char action[STORE_AUDIT_WORD];
	char outcome[STORE_AUDIT_WORD];
	char origin[STORE_AUDIT_WORD];
	bool has_actor_user, has_actor_device, has_target_user, has_target_device;
	bool has_channel, has_case;
	uint8_t actor_user[LSN_ID_BYTES], actor_device[LSN_ID_BYTES];
	uint8_t target_user[LSN_ID_BYTES], target_device[LSN_ID_BYTES];
	uint8_t channel[LSN_ID_BYTES], case_id[LSN_ID_BYTES];
	char peer[STORE_AUDIT_PEER];
	char detail[STORE_AUDIT_DETAIL];
	uint8_t prev_hash[32], hash[32];
	bool malformed;                /* read back: a column of the wrong type or size */
};
struct store_audit_filter {
	const uint8_t *user;           /* actor or target user; NULL = any */
	const uint8_t *case_id;        /* NULL = any */
	int64_t since, until;          /* [since, until) in ms; 0 = open */
};
typedef void (*store_audit_cb)(const struct store_audit *e, void *arg);
/* The chain head: the last entry's seq and hash (0 and zeros when empty). */
enum lsn_err store_audit_head(struct store *s, int64_t *seq, uint8_t hash[32]);
/* Insert one entry whose seq, prev_hash and hash are already set. */
enum lsn_err store_audit_insert(struct store *s, const struct store_audit *e);
/* Entries in seq order (all of them when f is NULL). */
enum lsn_err store_audit_list(struct store *s, const struct store_audit_filter *f,
			      store_audit_cb cb, void *arg);
/* A read snapshot (outside any batch): reads between begin and end see one
 * state of the database while the server keeps writing. */
enum lsn_err store_audit_snapshot_begin(struct store *s);
void store_audit_snapshot_end(struct store *s);

/* ---- online backup (store_backup.c) ---- */
/* Copy the open database into a new file at path with SQLite's online
 * backup (the server keeps running), then check the copy with PRAGMA
 * integrity_check. Written to a temporary file in the same directory and
 * linked into place only when complete; never overwrites path. *pages
 * receives the page count copied. */
enum lsn_err store_backup(struct store *s, const char *path, int64_t *pages,
			  struct lsn_status *st);

/* ---- bounds on queues and tables (store_bounds.c) ---- */
/* Entries queued for device, in all and from sender_user; each count stops
 * just past its cap (cap + 1 means "over"). */
enum lsn_err store_todevice_queued(struct store *s, const uint8_t device[LSN_ID_BYTES],
				   const uint8_t sender_user[LSN_ID_BYTES], int64_t cap_total,
				   int64_t cap_sender, int64_t *total, int64_t *from_sender);
/* May sender_user queue a to-device entry for recipient_user: sender_user
 * is a current member of a channel recipient_user is or was a member of
 * (a key request may go to a sender who left since), or recipient_user
 * queued one for sender_user at or after reply_since. */
enum lsn_err store_todevice_allowed(struct store *s, const uint8_t sender_user[LSN_ID_BYTES],
				    const uint8_t recipient_user[LSN_ID_BYTES], int64_t reply_since,
				    bool *allowed);
/* Note that sender_user queued an entry for recipient_user at now. */
enum lsn_err store_todevice_contact(struct store *s, const uint8_t sender_user[LSN_ID_BYTES],
				    const uint8_t recipient_user[LSN_ID_BYTES], int64_t now);
/* Channels user is a current member of. */
enum lsn_err store_member_channel_count(struct store *s, const uint8_t user[LSN_ID_BYTES],
					int64_t *n);
/* Open cases user has opened. */
enum lsn_err store_case_open_count(struct store *s, const uint8_t user[LSN_ID_BYTES], int64_t *n);
/* Bytes of attachments (finished or not) user uploaded. */
enum lsn_err store_attachment_usage(struct store *s, const uint8_t user[LSN_ID_BYTES],
				    int64_t *bytes);
/* Times (ms) before which rows go: unfinished attachments created, stored
 * idempotent replies, notifications, to-device contacts. */
struct store_sweep_before {
	int64_t attachment, idempotency, notification, contact;
};
struct store_sweep_counts {
	int64_t attachments, chunks, idempotency, notifications, contacts; /* deleted */
	int64_t todevice_entries, attachment_bytes;                        /* left */
};
/* Delete what expired, then count what is left (for the gauges). */
enum lsn_err store_bounds_sweep(struct store *s, const struct store_sweep_before *before,
				struct store_sweep_counts *out);

/* ---- "something is waiting" e-mails (store_mail.c, 014) ---- */
#define STORE_ADDRESS_MAX 254
struct store_mail_settings {
	char address[STORE_ADDRESS_MAX + 1]; /* "" = none */
	bool enabled;                        /* the user's choice (default on) */
	int64_t mailed_upto;
	int64_t last_sent_at;                /* 0 = never */
};
/* One person with an address and mail on, for the due-mail scan: the
 * oldest item (unseen notification of an open case, notice of an open
 * case not acknowledged by this recipient who is still in the thread)
 * created after what was announced (0 = none), the last mail, and
 * whether a mail is still pending or being sent. */
struct store_mail_person {
	uint8_t user[LSN_ID_BYTES];
	int64_t oldest_new;
	int64_t last_sent_at;
	bool batch_open;
};
/* A pending mail whose time has come. */
struct store_mail_job {
	int64_t id;
	uint8_t user[LSN_ID_BYTES];
	int64_t created_at;
	int64_t attempts;                    /* attempts made so far */
	char address[STORE_ADDRESS_MAX + 1]; /* "" = none any more */
	bool enabled;
	bool waiting;                        /* the person still has something unseen */
};
enum store_mail_state { STORE_MAIL_SENT, STORE_MAIL_INTERRUPTED, STORE_MAIL_DROPPED };
typedef void (*store_mail_person_cb)(const struct store_mail_person *p, void *arg);
typedef void (*store_mail_job_cb)(const struct store_mail_job *j, void *arg);

/* LSN_ERR_NOT_FOUND: no row (no address, no choice made: mail on). */
enum lsn_err store_mail_settings_get(struct store *s, const uint8_t user[LSN_ID_BYTES],
				     struct store_mail_settings *out);
/* address NULL: remove it. */
enum lsn_err store_mail_address_set(struct store *s, const uint8_t user[LSN_ID_BYTES],
				    const char *address, int64_t now);
enum lsn_err store_mail_enabled_set(struct store *s, const uint8_t user[LSN_ID_BYTES], bool on,
				    int64_t now);
/* Everyone with an address, mail on and an active device (at most limit):
 * a person whose every device was revoked gets no mail. */
enum lsn_err store_mail_people(struct store *s, int limit, store_mail_person_cb cb, void *arg);
/* A new pending mail for user; what it announces goes up to upto. */
enum lsn_err store_mail_batch_add(struct store *s, const uint8_t user[LSN_ID_BYTES], int64_t now,
				  int64_t upto);
/* Pending mails due at now, oldest first, at most limit. */
enum lsn_err store_mail_due(struct store *s, int64_t now, int limit, store_mail_job_cb cb,
			    void *arg);
/* The earliest next_attempt_at of the pending mails (0: none). */
enum lsn_err store_mail_next_due(struct store *s, int64_t *at);
/* pending → sending (attempts + 1), before the relay is contacted. */
enum lsn_err store_mail_sending(struct store *s, int64_t id, int64_t now);
/* sending → pending again, at next_at, with what went wrong. */
enum lsn_err store_mail_retry(struct store *s, int64_t id, int64_t next_at, const char *error);
/* → sent, interrupted or dropped (error: why, or NULL); sent and
 * interrupted also set the person's last_sent_at. */
enum lsn_err store_mail_finish(struct store *s, int64_t id, enum store_mail_state state,
			       int64_t now, const char *error);
/* At start-up: mails left "sending" by a server that stopped → interrupted
 * (the relay may have taken them: never sent again); *n how many. */
enum lsn_err store_mail_recover(struct store *s, int64_t now, int64_t *n);
/* Delete finished mails (sent, interrupted, dropped) done before `before`. */
enum lsn_err store_mail_sweep(struct store *s, int64_t before, int64_t *deleted);

#endif
