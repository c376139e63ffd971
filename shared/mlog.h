/* mlog.h — the signed membership log of a channel (CRYPTO.md §6): entry
 * encoding, signature, hash chain and the rules that decide who may append
 * what. The server applies the same rules to authorise an append; clients
 * replay the whole chain from the creator's entry and share keys only with
 * the members it establishes.
 *
 * Signed bytes (signed by the actor's device key DK):
 *   "liaison-mlog-v1" || version(1) = 1 || LP(channel) || u64(seq)
 *   || LP(prev)            (empty at seq 0, else 32 bytes)
 *   || LP(actor) || LP(actor_device) || action(1) || LP(subject)
 *   || role(1) || history(1) || kind(1) || u64(ts)
 * prev of entry n = BLAKE2b-256(signed bytes of entry n-1). */
#ifndef LSN_MLOG_H
#define LSN_MLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "ident.h"

#define LSN_MLOG_SIGNED_MAX 256
#define LSN_MLOG_MAX_MEMBERS 1000

enum lsn_mlog_action {
	LSN_MLOG_CREATE = 1, LSN_MLOG_ADD = 2, LSN_MLOG_REMOVE = 3, LSN_MLOG_LEAVE = 4,
	LSN_MLOG_ROLE = 5,
};
enum lsn_chan_role { LSN_CROLE_NONE = 0, LSN_CROLE_MEMBER = 1, LSN_CROLE_ADMIN = 2 };
enum lsn_history { LSN_HISTORY_NONE = 0, LSN_HISTORY_SHARED = 1, LSN_HISTORY_FROM_JOIN = 2 };
enum lsn_chan_kind {
	LSN_KIND_NONE = 0, LSN_KIND_CASE = 1, LSN_KIND_CIRCLE = 2, LSN_KIND_TEAM = 3,
	LSN_KIND_DIRECT = 4,
};

struct lsn_mlog_entry {
	uint8_t channel[LSN_ID_BYTES];
	uint64_t seq;
	uint8_t prev[32];              /* ignored at seq 0 */
	uint8_t actor[LSN_ID_BYTES];
	uint8_t actor_device[LSN_ID_BYTES];
	enum lsn_mlog_action action;
	uint8_t subject[LSN_ID_BYTES];
	enum lsn_chan_role role;       /* create: admin; add: member|admin; role: new role */
	enum lsn_history history;      /* create only */
	enum lsn_chan_kind kind;       /* create only */
	int64_t ts;
	uint8_t sig[64];
};

struct lsn_mlog_member {
	uint8_t user[LSN_ID_BYTES];
	enum lsn_chan_role role;
	uint64_t since_seq;            /* log seq of the entry that added them */
	uint8_t added_by[LSN_ID_BYTES];
};

/* The membership a log establishes, entry by entry. */
struct lsn_mlog_state {
	uint8_t channel[LSN_ID_BYTES];
	enum lsn_chan_kind kind;
	enum lsn_history history;
	uint64_t next_seq;
	uint8_t last_hash[32];
	size_t count;
	struct lsn_mlog_member members[LSN_MLOG_MAX_MEMBERS];
};

size_t lsn_mlog_signed_bytes(const struct lsn_mlog_entry *e, uint8_t out[LSN_MLOG_SIGNED_MAX]);
void lsn_mlog_hash(const struct lsn_mlog_entry *e, uint8_t out[32]);
void lsn_mlog_sign(struct lsn_mlog_entry *e, const uint8_t dk_sk[64]);
bool lsn_mlog_verify_sig(const struct lsn_mlog_entry *e, const uint8_t dk_pk[32]);

/* Rules, without signatures (the caller checks that actor_device belongs to
 * actor and that the signature verifies with its DK). On success the entry is
 * applied to st. Every refusal names its reason. */
void lsn_mlog_state_init(struct lsn_mlog_state *st);
enum lsn_err lsn_mlog_apply(struct lsn_mlog_state *st, const struct lsn_mlog_entry *e,
			    struct lsn_status *status);
const struct lsn_mlog_member *lsn_mlog_member(const struct lsn_mlog_state *st,
					      const uint8_t user[LSN_ID_BYTES]);

/* JSON form on the wire: {"channel","seq","prev"|null,"actor","actor_device",
 * "action","subject","role"|null,"history"|null,"kind"|null,"ts","sig"}. */
json_t *lsn_mlog_to_json(const struct lsn_mlog_entry *e);
enum lsn_err lsn_mlog_from_json(json_t *obj, struct lsn_mlog_entry *e, struct lsn_status *st);

/* The head of a verified log, as senders bind it into every group message
 * and room_key share ("mlog", CRYPTO.md "Membership bound into messages"):
 * {"seq":N,"hash":B64} with hash = lsn_mlog_hash of entry N. parse: false
 * unless obj is exactly such an object (seq 0 … 2^53, 32-byte hash). */
json_t *lsn_mlog_head_json(const struct lsn_mlog_entry *e);
bool lsn_mlog_head_parse(json_t *obj, uint64_t *seq, uint8_t hash[32]);

/* Names on the wire; NULL / 0 when unknown. */
const char *lsn_mlog_action_name(enum lsn_mlog_action a);
const char *lsn_chan_role_name(enum lsn_chan_role r);
const char *lsn_history_name(enum lsn_history h);
const char *lsn_chan_kind_name(enum lsn_chan_kind k);
enum lsn_chan_kind lsn_chan_kind_parse(const char *name);
enum lsn_chan_role lsn_chan_role_parse(const char *name);
enum lsn_history lsn_history_parse(const char *name);

#endif
