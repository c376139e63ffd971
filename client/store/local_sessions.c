/* local_sessions.c — outbound and inbound group sessions, who got which
 * session, what was withheld, seen messages and key shares (local.h).
 * Chain keys and session signing keys are sealed; the row's identity is in
 * the item name, and the index/first_index is sealed with the key so that a
 * row cannot be moved or rewound in the file without detection. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "sql.h"
#include "local.h"

#define OUTBOUND_SEALED (64 + 32 + 4 + 8)
#define INBOUND_SEALED  (32 + 4)

static void
put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static bool
column_id(struct sql_q *q, int col, uint8_t out[LSN_ID_BYTES])
{
	return sql_copy(q, col, out, LSN_ID_BYTES);
}

static enum lsn_err
damaged_row(struct lsn_status *st, const char *what)
{
	return lsn_fail(st, LSN_ERR_INTERNAL,
			"a %s in the profile database does not open (damaged or altered); "
			"restore the profile from a backup or enrol this device again", what);
}

/* ---- outbound ----------------------------------------------------------- */

enum lsn_err
local_outbound_get(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
		   struct local_outbound *out, bool *found, struct lsn_status *st)
{
	*found = false;
	struct sql_q q;
	if (!sql_query(p->db, &q, st, "SELECT session_id, created_log_seq, sent, rotate, sealed, "
				      "next_index FROM outbound WHERE channel = ?", "i", channel))
		return st->err;
	enum lsn_err err = LSN_OK;
	if (sql_next(&q)) {
		char name[SEAL_NAME_BUF];
		uint8_t plain[OUTBOUND_SEALED], sid[32];
		size_t len = 0, blob_len = 0;
		const uint8_t *blob = sql_blob(&q, 4, &blob_len);
		local_name_outbound(channel, name);
		memset(out, 0, sizeof *out);
		if (!local_unseal(p, name, blob, blob_len, plain, sizeof plain, &len) ||
		    len != OUTBOUND_SEALED || !sql_copy(&q, 0, sid, sizeof sid)) {
			err = damaged_row(st, "sending session");
		} else {
			memcpy(out->gs.channel, channel, LSN_ID_BYTES);
			memcpy(out->gs.sign_sk, plain, 64);
			crypto_sign_ed25519_sk_to_pk(out->gs.sign_pk, out->gs.sign_sk);
			memcpy(out->gs.chain_key, plain + 64, 32);
			out->gs.index = get_u32(plain + 96);
			out->gs.created_at = (int64_t)get_u64(plain + 100);
			out->created_log_seq = sql_int(&q, 1);
			out->sent = sql_int(&q, 2);
			const char *rotate = sql_text(&q, 3);
			snprintf(out->rotate, sizeof out->rotate, "%s", rotate ? rotate : "");
			if (sodium_memcmp(out->gs.sign_pk, sid, 32) != 0 ||
			    sql_int(&q, 5) != out->gs.index)
				err = damaged_row(st, "sending session");
			else
				*found = true;
		}
		sodium_memzero(plain, sizeof plain);
	}
	enum lsn_err qerr = sql_end(&q, st);
	err = err != LSN_OK ? err : qerr;
	if (err != LSN_OK) {
		*found = false;
		lsn_gs_outbound_wipe(&out->gs);
	}
	return err;
}

enum lsn_err
local_outbound_put(struct profile *p, const struct local_outbound *o, struct lsn_status *st)
{
	uint8_t plain[OUTBOUND_SEALED];
	char name[SEAL_NAME_BUF];
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	memcpy(plain, o->gs.sign_sk, 64);
	memcpy(plain + 64, o->gs.chain_key, 32);
	put_u32(plain + 96, o->gs.index);
	put_u64(plain + 100, (uint64_t)o->gs.created_at);
	local_name_outbound(o->gs.channel, name);
	bool sealed = local_seal(p, name, plain, sizeof plain, &blob, &blob_len);
	sodium_memzero(plain, sizeof plain);
	if (!sealed)
		return lsn_fail(st, LSN_ERR_INTERNAL, "cannot seal the sending session");
	enum lsn_err err = sql_exec(
		p->db, st, "INSERT OR REPLACE INTO outbound (channel, session_id, created_at, "
		       "created_log_seq, sent, next_index, rotate, sealed) VALUES (?,?,?,?,?,?,?,?)",
		"iknnnntb", o->gs.channel, o->gs.sign_pk, o->gs.created_at, o->created_log_seq,
		o->sent, (int64_t)o->gs.index, o->rotate[0] ? o->rotate : NULL, blob, blob_len);
	free(blob);
	return err;
}

enum lsn_err
local_outbound_mark_rotate(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
			   const char *reason, struct lsn_status *st)
{
	return sql_exec(p->db, st, "UPDATE outbound SET rotate = ? WHERE channel = ? AND "
				   "rotate IS NULL", "ti", reason, channel);
}

enum lsn_err
local_outbound_channels(struct profile *p, uint8_t (*channels)[LSN_ID_BYTES], size_t max,
			size_t *n, struct lsn_status *st)
{
	*n = 0;
	struct sql_q q;
	if (!sql_query(p->db, &q, st, "SELECT channel FROM outbound", ""))
		return st->err;
	while (*n < max && sql_next(&q))
		if (column_id(&q, 0, channels[*n]))
			(*n)++;
	return sql_end(&q, st);
}

/* ---- shared_with ---------------------------------------------------------- */

int64_t
local_shared_state(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES],
		   const uint8_t device[LSN_ID_BYTES])
{
	struct lsn_status st;
	struct sql_q q;
	int64_t state = LOCAL_SHARED_NONE;
	if (sql_query(p->db, &q, &st, "SELECT idx FROM shared_with WHERE session_id = ? AND "
				      "device = ?", "ki", sid, device) && sql_next(&q))
		state = sql_int(&q, 0);
	sql_end(&q, NULL);
	return state;
}

enum lsn_err
local_shared_add(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES],
		 const uint8_t user[LSN_ID_BYTES], const uint8_t device[LSN_ID_BYTES],
		 int64_t state, struct lsn_status *st)
{
	/* a device shared the session twice (two processes at once) keeps the
	 * lower index: it holds the key from there */
	return sql_upsert(p->db, st, "INSERT OR IGNORE INTO shared_with (session_id, device, "
				     "user, idx, shared_at) VALUES (?1,?2,?3,?4,?5)",
			  "UPDATE shared_with SET user = ?3, shared_at = ?5, idx = CASE "
			  "WHEN idx >= 0 AND ?4 >= 0 THEN min(idx, ?4) ELSE ?4 END "
			  "WHERE session_id = ?1 AND device = ?2",
			"kiinn", sid, device, user, state, lsn_clock_now_ms());
}

int64_t
local_shared_min_index(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES],
		       const uint8_t user[LSN_ID_BYTES])
{
	struct lsn_status st;
	struct sql_q q;
	int64_t index = -1;
	if (sql_query(p->db, &q, &st, "SELECT min(idx) FROM shared_with WHERE session_id = ? AND "
				      "user = ? AND idx >= 0", "ki", sid, user) &&
	    sql_next(&q) && sql_is_int(&q, 0))
		index = sql_int(&q, 0);
	sql_end(&q, NULL);
	return index;
}

enum lsn_err
local_shared_devices(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES],
		     uint8_t (*devices)[LSN_ID_BYTES], uint8_t (*users)[LSN_ID_BYTES], size_t max,
		     size_t *n, struct lsn_status *st)
{
	*n = 0;
	struct sql_q q;
	if (!sql_query(p->db, &q, st, "SELECT device, user FROM shared_with WHERE session_id = ? "
				      "AND idx >= 0", "k", sid))
		return st->err;
	while (*n < max && sql_next(&q))
		if (column_id(&q, 0, devices[*n]) && column_id(&q, 1, users[*n]))
			(*n)++;
	return sql_end(&q, st);
}

/* ---- inbound ------------------------------------------------------------ */

#define INBOUND_COLUMNS \
	"session_id, channel, sender_user, sender_device, first_index, forwarded_by, " \
	"via_device, history, received_at, backed_up, sealed, direct_index"

/* One row of INBOUND_COLUMNS into out; false if it does not open. */
static bool
inbound_row(struct profile *p, struct sql_q *q, struct local_inbound *out)
{
	char name[SEAL_NAME_BUF];
	uint8_t plain[INBOUND_SEALED];
	size_t len = 0, blob_len = 0;
	memset(out, 0, sizeof *out);
	if (!sql_copy(q, 0, out->gs.session_id, LOCAL_SID_BYTES))
		return false;
	local_name_inbound(out->gs.session_id, name);
	const uint8_t *blob = sql_blob(q, 10, &blob_len);
	bool ok = column_id(q, 1, out->gs.channel) && column_id(q, 2, out->sender_user) &&
		  column_id(q, 3, out->gs.sender_device) &&
		  local_unseal(p, name, blob, blob_len, plain, sizeof plain, &len) &&
		  len == INBOUND_SEALED && get_u32(plain + 32) == (uint32_t)sql_int(q, 4);
	if (ok) {
		memcpy(out->gs.chain_key, plain, 32);
		out->gs.first_index = get_u32(plain + 32);
		out->forwarded = column_id(q, 5, out->forwarded_by);
		column_id(q, 6, out->via_device);
		out->history = sql_int(q, 7) != 0;
		out->received_at = sql_int(q, 8);
		out->backed_up = sql_int(q, 9) != 0;
		out->direct_index = sql_int(q, 11);
	}
	sodium_memzero(plain, sizeof plain);
	return ok;
}

enum lsn_err
local_inbound_get(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES],
		  struct local_inbound *out, bool *found, struct lsn_status *st)
{
	*found = false;
	struct sql_q q;
	if (!sql_query(p->db, &q, st, "SELECT " INBOUND_COLUMNS " FROM inbound WHERE "
				      "session_id = ?", "k", sid))
		return st->err;
	enum lsn_err err = LSN_OK;
	if (sql_next(&q)) {
		if (inbound_row(p, &q, out))
			*found = true;
		else
			err = damaged_row(st, "received session key");
	}
	enum lsn_err qerr = sql_end(&q, st);
	err = err != LSN_OK ? err : qerr;
	if (!*found)
		sodium_memzero(out, sizeof *out);
	return err;
}

enum lsn_err
local_inbound_put(struct profile *p, const struct local_inbound *in, struct lsn_status *st)
{
	uint8_t plain[INBOUND_SEALED];
	char name[SEAL_NAME_BUF];
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	memcpy(plain, in->gs.chain_key, 32);
	put_u32(plain + 32, in->gs.first_index);
	local_name_inbound(in->gs.session_id, name);
	bool sealed = local_seal(p, name, plain, sizeof plain, &blob, &blob_len);
	sodium_memzero(plain, sizeof plain);
	if (!sealed)
		return lsn_fail(st, LSN_ERR_INTERNAL, "cannot seal a received session key");
	enum lsn_err err = sql_exec(
		p->db, st, "INSERT OR REPLACE INTO inbound (" INBOUND_COLUMNS ") VALUES "
		       "(?,?,?,?,?,?,?,?,?,?,?,?)", "kiiinbbnnnbn",
		in->gs.session_id, in->gs.channel, in->sender_user, in->gs.sender_device,
		(int64_t)in->gs.first_index, in->forwarded ? in->forwarded_by : NULL,
		(size_t)LSN_ID_BYTES, in->via_device, (size_t)LSN_ID_BYTES,
		(int64_t)in->history, in->received_at, (int64_t)in->backed_up, blob, blob_len,
		in->direct_index);
	free(blob);
	return err;
}

enum lsn_err
local_inbound_merge(struct profile *p, struct local_inbound *k, bool *kept, bool *conflict,
		    struct lsn_status *st)
{
	struct local_inbound old;
	bool found = false;
	*kept = *conflict = false;
	/* what we hold is read again under the write lock: another process may
	 * have merged a lower index for this session meanwhile */
	enum lsn_err err = local_begin(p, st);
	if (err != LSN_OK)
		return err;
	err = local_inbound_get(p, k->gs.session_id, &old, &found, st);
	if (err == LSN_OK && !found) {
		*kept = true;
		err = local_inbound_put(p, k, st);
	}
	if (err != LSN_OK || !found) {
		if (err == LSN_OK)
			err = local_commit(p, st);
		else
			local_rollback(p);
		return err;
	}
	bool same = memcmp(old.gs.channel, k->gs.channel, LSN_ID_BYTES) == 0 &&
		    memcmp(old.gs.sender_device, k->gs.sender_device, LSN_ID_BYTES) == 0 &&
		    memcmp(old.sender_user, k->sender_user, LSN_ID_BYTES) == 0;
	int64_t direct = old.direct_index;
	if (k->direct_index >= 0 && (direct < 0 || k->direct_index < direct))
		direct = k->direct_index;
	if (!same || !lsn_gs_inbound_consistent(&old.gs, &k->gs)) {
		*conflict = true;
	} else if (k->gs.first_index < old.gs.first_index) {
		k->direct_index = direct;
		k->backed_up = false;
		*kept = true;
		err = local_inbound_put(p, k, st);
	} else if (direct != old.direct_index) {
		old.direct_index = direct; /* the sender itself confirmed the chain */
		err = local_inbound_put(p, &old, st);
	}
	sodium_memzero(&old, sizeof old);
	if (err == LSN_OK)
		err = local_commit(p, st);
	else
		local_rollback(p);
	if (err != LSN_OK)
		*kept = false;
	return err;
}

enum lsn_err
local_inbound_each(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
		   bool (*fn)(void *arg, const struct local_inbound *in), void *arg,
		   struct lsn_status *st)
{
	/* the ids first, then each row: fn may write, which must not happen
	 * inside a read that another process's commit has made stale */
	struct sql_q q;
	if (!sql_query(p->db, &q, st, "SELECT session_id FROM inbound WHERE channel = ? "
				      "ORDER BY received_at", "i", channel))
		return st->err;
	size_t n = 0, cap = 0;
	uint8_t (*sids)[LOCAL_SID_BYTES] = NULL;
	enum lsn_err err = LSN_OK;
	while (err == LSN_OK && sql_next(&q)) {
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 32;
			uint8_t (*grown)[LOCAL_SID_BYTES] = realloc(sids, ncap * sizeof *sids);
			if (grown == NULL) {
				err = lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
				break;
			}
			sids = grown;
			cap = ncap;
		}
		if (sql_copy(&q, 0, sids[n], LOCAL_SID_BYTES))
			n++;
	}
	enum lsn_err qerr = sql_end(&q, st);
	err = err != LSN_OK ? err : qerr;
	struct local_inbound in;
	bool go = true;
	for (size_t i = 0; i < n && go && err == LSN_OK; i++) {
		struct lsn_status rst;
		bool found = false;
		/* a row that does not open is skipped, as before */
		if (local_inbound_get(p, sids[i], &in, &found, &rst) == LSN_OK && found)
			go = fn(arg, &in);
	}
	sodium_memzero(&in, sizeof in);
	free(sids);
	return err;
}

enum lsn_err
local_inbound_mark_backed_up(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES],
			     uint32_t first_index, struct lsn_status *st)
{
	/* only if the row still starts at the uploaded index: a lower one merged
	 * meanwhile (by another process) stays to be uploaded */
	return sql_exec(p->db, st, "UPDATE inbound SET backed_up = 1 WHERE session_id = ? AND "
				   "first_index = ?", "kn", sid, (int64_t)first_index);
}

enum lsn_err
local_inbound_backup_reset(struct profile *p, struct lsn_status *st)
{
	return sql_exec(p->db, st, "UPDATE inbound SET backed_up = 0", "");
}

enum lsn_err
local_inbound_not_backed_up(struct profile *p, uint8_t (*sids)[LOCAL_SID_BYTES], size_t max,
			    size_t *n, struct lsn_status *st)
{
	*n = 0;
	struct sql_q q;
	if (!sql_query(p->db, &q, st, "SELECT session_id FROM inbound WHERE backed_up = 0 LIMIT ?",
		       "n", (int64_t)max))
		return st->err;
	while (*n < max && sql_next(&q))
		if (sql_copy(&q, 0, sids[*n], LOCAL_SID_BYTES))
			(*n)++;
	return sql_end(&q, st);
}

/* ---- withheld --------------------------------------------------------------- */

enum lsn_err
local_withheld_put(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES],
		   const uint8_t channel[LSN_ID_BYTES], const uint8_t sender_user[LSN_ID_BYTES],
		   const char *reason, struct lsn_status *st)
{
	return sql_exec(p->db, st, "INSERT OR REPLACE INTO withheld (session_id, channel, "
				   "sender_user, reason, at) VALUES (?,?,?,?,?)", "kiitn", sid, channel,
			sender_user, reason, lsn_clock_now_ms());
}

bool
local_withheld_get(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES], char *reason,
		   size_t len)
{
	struct lsn_status st;
	struct sql_q q;
	bool found = sql_query(p->db, &q, &st, "SELECT reason FROM withheld WHERE session_id = ?",
			       "k", sid) && sql_next(&q);
	if (found) {
		const char *text = sql_text(&q, 0);
		snprintf(reason, len, "%s", text ? text : "");
	}
	sql_end(&q, NULL);
	return found;
}

/* ---- seen ------------------------------------------------------------------- */

enum lsn_err
local_seen_msg(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES], uint32_t index,
	       const uint8_t hash[32], const uint8_t channel[LSN_ID_BYTES], int64_t seq,
	       enum local_seen *out, int64_t *first_seq, struct lsn_status *st)
{
	*out = LOCAL_SEEN_NEW;
	*first_seq = seq;
	/* recorded first, compared after, in one statement each: whichever
	 * process records (session, index) first, every other one compares */
	enum lsn_err err = sql_exec(p->db, st, "INSERT OR IGNORE INTO seen_msg (session_id, idx, "
					       "env_hash, channel, seq) VALUES (?,?,?,?,?)", "knkin", sid, (int64_t)index, hash,
				    channel, seq);
	if (err != LSN_OK || sql_changes(p->db) == 1)
		return err;
	struct sql_q q;
	if (!sql_query(p->db, &q, st, "SELECT env_hash, seq FROM seen_msg WHERE session_id = ? "
				      "AND idx = ?", "kn", sid, (int64_t)index))
		return st->err;
	if (sql_next(&q)) {
		size_t len = 0;
		const uint8_t *seen = sql_blob(&q, 0, &len);
		bool same = seen && len == 32 && sodium_memcmp(seen, hash, 32) == 0;
		*out = same ? LOCAL_SEEN_DUPLICATE : LOCAL_SEEN_ALARM;
		*first_seq = sql_int(&q, 1);
	}
	return sql_end(&q, st);
}

enum lsn_err
local_seen_share(struct profile *p, const uint8_t share_id[16], bool *seen,
		 struct lsn_status *st)
{
	/* one statement: of two processes, exactly one records it first */
	*seen = false;
	enum lsn_err err = sql_exec(p->db, st, "INSERT OR IGNORE INTO seen_share (share_id, "
					       "seen_at) VALUES (?, ?)", "in", share_id,
				    lsn_clock_now_ms());
	if (err == LSN_OK)
		*seen = sql_changes(p->db) == 0;
	return err;
}

/* ---- key requests ------------------------------------------------------------ */

int64_t
local_key_request_at(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES])
{
	struct lsn_status st;
	struct sql_q q;
	int64_t at = 0;
	if (sql_query(p->db, &q, &st, "SELECT requested_at FROM key_requests WHERE session_id = ?",
		      "k", sid) && sql_next(&q))
		at = sql_int(&q, 0);
	sql_end(&q, NULL);
	return at;
}

enum lsn_err
local_key_request_put(struct profile *p, const uint8_t sid[LOCAL_SID_BYTES],
		      const uint8_t channel[LSN_ID_BYTES], int64_t at, struct lsn_status *st)
{
	return sql_exec(p->db, st, "INSERT OR REPLACE INTO key_requests (session_id, channel, "
				   "requested_at) VALUES (?,?,?)", "kin", sid, channel, at);
}
