/* local.h — the end-to-end state of an unlocked profile, in profile.db
 * (format 2, profile_migrate.c): group sessions, identity pins, the message
 * cache, sync positions. Every secret is sealed under the local key before
 * it is written.
 *
 * Several liaison processes may use one profile at once (profile.h). So a
 * change that depends on what is stored (the next ratchet index, the
 * lowest index of an inbound session, a share id or message already seen,
 * a sync position) reads it again inside local_begin ... local_commit, never
 * from a copy read before: BEGIN IMMEDIATE takes the write lock at once and
 * other processes wait (up to 30 s) for the commit. The functions below that
 * read-modify-write on their own (merge, seen_*, positions) are atomic
 * whether or not the caller has a transaction open (nested ones are
 * savepoints).
 *
 * The functions are split by concern: local.c (transactions, sealing,
 * settings), local_sessions.c, local_pins.c, local_messages.c. */
#ifndef LIAISON_LOCAL_H
#define LIAISON_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ident.h"
#include "profile.h"
#include "group_session.h"
#include "seal.h"

#define LOCAL_CK_BYTES    32
#define LOCAL_SID_BYTES   32
#define LOCAL_SSK_BYTES   64
#define LOCAL_PLAIN_MAX   (64 * 1024)

/* ---- local.c: transactions, sealing, settings ---------------------------- */

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK on p->db (inside an open transaction:
 * a savepoint). begin waits for another process's transaction to end;
 * commit fails with a message that says what to do. */
enum lsn_err local_begin(struct profile *p, struct lsn_status *st);
enum lsn_err local_commit(struct profile *p, struct lsn_status *st);
void local_rollback(struct profile *p);

/* Seal plain under the local key for item name into a malloc'd blob
 * nonce || ct (*blob, *blob_len). false on failure. */
bool local_seal(const struct profile *p, const char *name, const uint8_t *plain, size_t len,
		uint8_t **blob, size_t *blob_len);
/* Open a sealed blob for item name into plain (cap bytes); *len its length.
 * false if it does not open (damaged, or sealed for another item). */
bool local_unseal(const struct profile *p, const char *name, const uint8_t *blob,
		  size_t blob_len, uint8_t *plain, size_t cap, size_t *len);

/* Small secrets of the profile in table sealed (name, nonce, ct), beside
 * the device keys: e.g. the backup key. get: false if absent or not opening. */
enum lsn_err local_secret_put(struct profile *p, const char *name, const uint8_t *data,
			      size_t len, struct lsn_status *st);
bool local_secret_get(struct profile *p, const char *name, uint8_t *out, size_t len);

/* Settings in meta (clear): integers; missing -> fallback. */
int64_t local_setting(struct profile *p, const char *key, int64_t fallback);
enum lsn_err local_set_setting(struct profile *p, const char *key, int64_t value,
			       struct lsn_status *st);
/* A position that only moves forward (a sync cursor): set it to value
 * unless the stored one (another process's) is already further. */
enum lsn_err local_advance_setting(struct profile *p, const char *key, int64_t value,
				   struct lsn_status *st);

/* Item names for sealed rows, bound to the row's identity. */
void local_name_outbound(const uint8_t channel[LSN_ID_BYTES], char out[SEAL_NAME_BUF]);
void local_name_inbound(const uint8_t session_id[LOCAL_SID_BYTES], char out[SEAL_NAME_BUF]);
void local_name_message(const uint8_t channel[LSN_ID_BYTES], int64_t seq,
			char out[SEAL_NAME_BUF]);
void local_name_topic(const uint8_t channel[LSN_ID_BYTES], char out[SEAL_NAME_BUF]);

/* ---- local_sessions.c: group sessions (CRYPTO.md §4–§5) ------------------- */

/* Our sending session in a channel. rotate: why it must be replaced before
 * the next message ("" when it need not). */
struct local_outbound {
	struct lsn_gs_outbound gs;
	int64_t created_log_seq;   /* membership log seq when it was created */
	int64_t sent;              /* messages sent with it */
	char rotate[128];
};

enum lsn_err local_outbound_get(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
				struct local_outbound *out, bool *found, struct lsn_status *st);
/* Insert or replace (sealed); the caller commits before the envelope leaves. */
enum lsn_err local_outbound_put(struct profile *p, const struct local_outbound *o,
				struct lsn_status *st);
enum lsn_err local_outbound_mark_rotate(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
					const char *reason, struct lsn_status *st);
/* Every channel with an outbound session (up to max) into channels; *n. */
enum lsn_err local_outbound_channels(struct profile *p, uint8_t (*channels)[LSN_ID_BYTES],
				     size_t max, size_t *n, struct lsn_status *st);

/* Devices an outbound session was shared with, and from which index.
 * state: the index it was shared at, LOCAL_SHARED_WITHHELD when we told the
 * device we withhold it, LOCAL_SHARED_NONE when neither. */
#define LOCAL_SHARED_NONE     (-2)
#define LOCAL_SHARED_WITHHELD (-1)
int64_t local_shared_state(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES],
			   const uint8_t device[LSN_ID_BYTES]);
enum lsn_err local_shared_add(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES],
			      const uint8_t user[LSN_ID_BYTES], const uint8_t device[LSN_ID_BYTES],
			      int64_t state, struct lsn_status *st);
/* Lowest index shared with any device of user; -1 if never shared. */
int64_t local_shared_min_index(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES],
			       const uint8_t user[LSN_ID_BYTES]);
/* Devices the session was shared with (up to max) into devices; *n. */
enum lsn_err local_shared_devices(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES],
				  uint8_t (*devices)[LSN_ID_BYTES], uint8_t (*users)[LSN_ID_BYTES],
				  size_t max, size_t *n, struct lsn_status *st);

/* A session we can decrypt. sender_user owns gs.sender_device; forwarded:
 * the key at first_index came from forwarded_by (history shared by an adder,
 * or a key request answered by another member), not from the sender;
 * direct_index: the lowest index the sender itself gave us (-1: none), so
 * messages below it were read thanks to forwarded_by. */
struct local_inbound {
	struct lsn_gs_inbound gs;
	uint8_t sender_user[LSN_ID_BYTES];
	bool forwarded;
	uint8_t forwarded_by[LSN_ID_BYTES];
	int64_t direct_index;
	uint8_t via_device[LSN_ID_BYTES];  /* the device that sent us the key */
	bool history;                      /* shared as history */
	int64_t received_at;
	bool backed_up;
};

enum lsn_err local_inbound_get(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES],
			       struct local_inbound *out, bool *found, struct lsn_status *st);
enum lsn_err local_inbound_put(struct profile *p, const struct local_inbound *in,
			       struct lsn_status *st);
/* Merge k with what we hold for its session: keep the lowest index; a key
 * that does not ratchet to/from the one we hold, or names another channel or
 * sender, is refused (*conflict). *kept: k changed what we hold. */
enum lsn_err local_inbound_merge(struct profile *p, struct local_inbound *k, bool *kept,
				 bool *conflict, struct lsn_status *st);
/* Call fn for each inbound session of channel (rows unsealed one at a time);
 * fn returns false to stop. */
enum lsn_err local_inbound_each(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
				bool (*fn)(void *arg, const struct local_inbound *in), void *arg,
				struct lsn_status *st);
/* The session's row is in the key backup from first_index: marked only if
 * it still starts there (a lower index merged meanwhile stays to upload). */
enum lsn_err local_inbound_mark_backed_up(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES],
					  uint32_t first_index, struct lsn_status *st);
/* A new key backup: every session is to be uploaded again. */
enum lsn_err local_inbound_backup_reset(struct profile *p, struct lsn_status *st);
/* Up to max session ids not yet in the key backup. */
enum lsn_err local_inbound_not_backed_up(struct profile *p, uint8_t (*sids)[LOCAL_SID_BYTES],
					 size_t max, size_t *n, struct lsn_status *st);

/* The sender withheld a session from us (reason: one line, from the sender). */
enum lsn_err local_withheld_put(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES],
				const uint8_t channel[LSN_ID_BYTES],
				const uint8_t sender_user[LSN_ID_BYTES], const char *reason,
				struct lsn_status *st);
bool local_withheld_get(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES], char *reason,
			size_t len);

/* (session, index) -> envelope hash: first sight records it. */
enum local_seen { LOCAL_SEEN_NEW, LOCAL_SEEN_DUPLICATE, LOCAL_SEEN_ALARM };
enum lsn_err local_seen_msg(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES], uint32_t index,
			    const uint8_t hash[32], const uint8_t channel[LSN_ID_BYTES],
			    int64_t seq, enum local_seen *out, int64_t *first_seq,
			    struct lsn_status *st);
/* Key-share ids: true if seen before; otherwise records it. */
enum lsn_err local_seen_share(struct profile *p, const uint8_t share_id[16], bool *seen,
			      struct lsn_status *st);

/* Key requests we sent: when, or 0. */
int64_t local_key_request_at(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES]);
enum lsn_err local_key_request_put(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES],
				   const uint8_t channel[LSN_ID_BYTES], int64_t at,
				   struct lsn_status *st);

/* ---- local_pins.c: identity keys of other users (CRYPTO.md §2) ------------ */

struct local_pin {
	bool present;
	uint8_t ik[32];          /* the accepted identity key */
	bool verified;           /* confirmed by safety number */
	bool changed;            /* the server now shows changed_ik instead */
	uint8_t changed_ik[32];
	int64_t pinned_at;
	int64_t verified_at;
	int64_t changed_at;      /* when this device first saw changed_ik */
};

enum lsn_err local_pin_get(struct profile *p, const uint8_t user[LSN_ID_BYTES],
			   struct local_pin *out, struct lsn_status *st);
/* The server shows ik for user: pin it if unknown (trust on first use); if it
 * differs from the pin, record the change (out->changed). */
enum lsn_err local_pin_observe(struct profile *p, const uint8_t user[LSN_ID_BYTES],
			       const char *rpps, const uint8_t ik[32], struct local_pin *out,
			       struct lsn_status *st);
/* Was ik ever accepted for user (device certificates made under it stay valid)? */
bool local_pin_known(struct profile *p, const uint8_t user[LSN_ID_BYTES], const uint8_t ik[32]);
/* Accept ik as user's identity key (verify --accept); verified when compared. */
enum lsn_err local_pin_accept(struct profile *p, const uint8_t user[LSN_ID_BYTES],
			      const uint8_t ik[32], bool verified, struct lsn_status *st);

/* ---- local_messages.c: the thread cache, channels, people ------------------ */

/* One message of a thread as this device saw it. status: "ok" (plain holds
 * the decrypted JSON) or why it could not be read (detail says it in words;
 * envelope is kept to retry when keys arrive). */
struct local_msg {
	uint8_t channel[LSN_ID_BYTES];
	int64_t seq;
	int64_t ts;
	uint8_t sender_user[LSN_ID_BYTES];
	uint8_t sender_device[LSN_ID_BYTES];
	bool has_session;
	uint8_t session_id[LOCAL_SID_BYTES];
	uint32_t index;
	char status[24];
	char detail[256];
	uint8_t *envelope;
	size_t env_len;
	char *plain;             /* NUL-terminated */
	size_t plain_len;
	int64_t first_seen;
	bool shared;             /* decrypted with history forwarded by shared_by */
	uint8_t shared_by[LSN_ID_BYTES];
	bool has_env_hash;       /* BLAKE2b-256 of the envelope (set from envelope on put) */
	uint8_t env_hash[32];
	bool prev_missing;       /* its "link" names an envelope never held here */
	uint8_t prev[32];        /* that envelope's hash */
};

/* What receipts and gap reports need of a message, without opening it. */
struct local_msg_brief {
	int64_t seq;
	char status[24];
	bool prev_missing;
};

void local_msg_clear(struct local_msg *m);   /* frees and wipes envelope/plain */
enum lsn_err local_msg_put(struct profile *p, const struct local_msg *m, struct lsn_status *st);
enum lsn_err local_msg_get(struct profile *p, const uint8_t channel[LSN_ID_BYTES], int64_t seq,
			   struct local_msg *out, bool *found, struct lsn_status *st);
/* The last `limit` messages of channel in seq order (limit <= 0: all);
 * fn returns false to stop. Each m is cleared after fn returns. */
enum lsn_err local_msg_each(struct profile *p, const uint8_t channel[LSN_ID_BYTES], long limit,
			    bool (*fn)(void *arg, struct local_msg *m), void *arg,
			    struct lsn_status *st);
/* Messages of channel with seq > after, in order (fn as for local_msg_each). */
enum lsn_err local_msg_since(struct profile *p, const uint8_t channel[LSN_ID_BYTES], int64_t after,
			     bool (*fn)(void *arg, struct local_msg *m), void *arg,
			     struct lsn_status *st);
/* Messages of channel with this status, in order. */
enum lsn_err local_msg_with_status(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
				   const char *status, bool (*fn)(void *arg, struct local_msg *m),
				   void *arg, struct lsn_status *st);
/* Every message of channel (seq order) as briefs: *out malloc'd, *n rows. */
enum lsn_err local_msg_briefs(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
			      struct local_msg_brief **out, size_t *n, struct lsn_status *st);
/* Does this device hold (any status) a message of channel whose envelope
 * hashes to hash? */
enum lsn_err local_msg_hash_held(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
				 const uint8_t hash[32], bool *held, struct lsn_status *st);
/* The envelope hash of device's latest readable message in channel. */
enum lsn_err local_msg_last_of_device(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
				      const uint8_t device[LSN_ID_BYTES], uint8_t hash[32],
				      bool *found, struct lsn_status *st);
/* Seqs of messages of channel not yet decrypted but retryable (up to max). */
enum lsn_err local_msg_pending(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
			       int64_t *seqs, size_t max, size_t *n, struct lsn_status *st);

struct local_channel {
	bool present;
	int64_t last_seq;        /* messages fetched up to here */
	int64_t log_seq;         /* last verified log entry, -1 none */
	bool has_log_hash;
	uint8_t log_hash[32];    /* hash of that entry: the server may not rewrite it */
	bool valid;
	char reason[320];
	char kind[16];
	char history[16];
	int64_t cut_from, cut_to; /* seqs held here the server no longer shows; 0 none */
};
enum lsn_err local_channel_get(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
			       struct local_channel *out, struct lsn_status *st);
/* The channel this device has stored whose hex id starts with prefix (hex
 * characters only): *n is how many match (0, 1, or 2 for several); channel
 * filled when *n is 1. Without the server (liaison read offline). */
enum lsn_err local_channel_find(struct profile *p, const char *prefix,
				uint8_t channel[LSN_ID_BYTES], size_t *n, struct lsn_status *st);
enum lsn_err local_channel_put(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
			       const struct local_channel *c, struct lsn_status *st);
/* The server shows fewer messages than this device synced: from..to (joined
 * with a range already noted) are kept here and reported as deleted. */
enum lsn_err local_channel_set_cut(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
				   int64_t from, int64_t to, struct lsn_status *st);

/* The channel's topic (sealed), set from the latest topic message. */
enum lsn_err local_channel_set_topic(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
				     int64_t seq, const char *topic, struct lsn_status *st);
/* Topic into buf ("" if none). */
void local_channel_topic(struct profile *p, const uint8_t channel[LSN_ID_BYTES], char *buf,
			 size_t len);
/* Messages fetched up to last_seq: the position only moves forward (another
 * process may have fetched further). */
enum lsn_err local_channel_set_last_seq(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
					int64_t last_seq, struct lsn_status *st);

/* Display names of professionals (as the directory returned them). */
enum lsn_err local_person_put(struct profile *p, const uint8_t user[LSN_ID_BYTES],
			      const char *name, const char *profession, const char *rpps,
			      struct lsn_status *st);
/* name and profession (code) into the buffers; false if unknown. */
bool local_person_get(struct profile *p, const uint8_t user[LSN_ID_BYTES], char *name,
		      size_t name_len, char *profession, size_t prof_len);

#endif
