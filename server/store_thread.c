/* store_thread.c — channels, their membership log and members, message
 * envelopes and receipts (SQLite). */
#include <stdlib.h>

#include "store_cols.h"
#include "store_internal.h"
#include "store_row.h"

enum {
	SLOT_BASE = 64,
	ST_CHAN_INSERT = SLOT_BASE, ST_CHAN_GET, ST_LOG_INSERT, ST_CHAN_HEAD, ST_LOG_LIST,
	ST_CHANS_OF_USER, ST_MEMBER_PUT, ST_MEMBER_LEAVE, ST_MEMBER_ROLE, ST_MEMBER_GET,
	ST_MEMBER_LIST_ALL, ST_MEMBER_LIST_CURRENT, ST_COMEMBERS, ST_MSG_INSERT,
	ST_MSG_LIST, ST_RECEIPT_DELIVERED, ST_RECEIPT_READ, ST_RECEIPT_LIST, ST_MSG_SENDER,
};

/* A channel's last message seq is its messages' highest (one seek in the
 * index messages_by_channel), not a column rewritten by every message:
 * that row update was a page written to the WAL per message (schema 015,
 * docs/PERFORMANCE.md "Messages in arrival order"). */
#define LAST_SEQ_OF(ch) "(SELECT coalesce(max(seq), 0) FROM messages WHERE channel_id = " ch ")"
#define CHANNEL_COLUMNS "c.id, c.kind, c.history, c.creator, c.created_at, c.log_seq, " \
			"c.log_hash, " LAST_SEQ_OF("c.id") " "
#define MEMBER_COLUMNS "m.channel_id, m.user_id, m.role, m.since_log_seq, m.left_msg_seq "

/* Column tables; f is the path to the struct inside T ("" or "c."), b the
 * first column. */
#define CHANNEL_COLS(b, T, f) \
	COL_BLOB((b) + 0, T, f id), COL_TEXT((b) + 1, T, f kind), \
	COL_TEXT((b) + 2, T, f history), COL_BLOB((b) + 3, T, f creator), \
	COL_I64((b) + 4, T, f created_at), COL_I64((b) + 5, T, f log_seq), \
	COL_BLOB((b) + 6, T, f log_hash), COL_I64((b) + 7, T, f last_seq)
#define MEMBER_COLS(b, T, f) \
	COL_BLOB((b) + 0, T, f channel), COL_BLOB((b) + 1, T, f user), \
	COL_TEXT((b) + 2, T, f role), COL_I64((b) + 3, T, f since_log_seq), \
	COL_IS_NULL((b) + 4, T, f current), COL_I64((b) + 4, T, f left_msg_seq)

struct channel_member {
	struct store_channel c;
	struct store_member m;
};

static const struct store_col channel_cols[] = {CHANNEL_COLS(0, struct store_channel, )};
static const struct store_col member_cols[] = {MEMBER_COLS(0, struct store_member, )};
static const struct store_col channel_member_cols[] = {
	CHANNEL_COLS(0, struct channel_member, c.), MEMBER_COLS(8, struct channel_member, m.),
};

struct log_row {
	int64_t seq;
	const char *entry;
};

static const struct store_col log_cols[] = {
	COL_I64(0, struct log_row, seq),
	COL_TEXT_REF(1, struct log_row, entry),
};

struct seq_row {
	int64_t seq;
};

static const struct store_col seq_cols[] = {COL_I64(0, struct seq_row, seq)};

static const struct store_col message_cols[] = {
	COL_BLOB(0, struct store_message, channel),
	COL_I64(1, struct store_message, seq),
	COL_BLOB(2, struct store_message, sender_user),
	COL_BLOB(3, struct store_message, sender_device),
	COL_I64(4, struct store_message, ts),
	COL_BLOB_REF(5, struct store_message, envelope, envelope_len),
};

struct receipt_row {
	uint8_t user[LSN_ID_BYTES];
	int64_t delivered, read;
};

static const struct store_col receipt_cols[] = {
	COL_BLOB(0, struct receipt_row, user),
	COL_I64(1, struct receipt_row, delivered),
	COL_I64(2, struct receipt_row, read),
};

/* ---- channels ----------------------------------------------------------- */

enum lsn_err
store_channel_create(struct store *s, const struct store_channel *c)
{
	return store_exec(s, STORE_Q(s, ST_CHAN_INSERT,
		"INSERT INTO channels(id, kind, history, creator, created_at, log_seq, log_hash) "
		"VALUES (?,?,?,?,?,?,?)",
		P_BLOB(c->id, sizeof c->id), P_TEXT(c->kind), P_TEXT(c->history),
		P_BLOB(c->creator, sizeof c->creator), P_INT(c->created_at), P_INT(c->log_seq),
		P_BLOB(c->log_hash, sizeof c->log_hash)), "insert channel", false);
}

enum lsn_err
store_channel_get(struct store *s, const uint8_t id[LSN_ID_BYTES], struct store_channel *out)
{
	return store_one(s, STORE_Q(s, ST_CHAN_GET,
				    "SELECT " CHANNEL_COLUMNS "FROM channels c WHERE c.id = ?", P_ID(id)),
			 STORE_COLS(channel_cols), out, "read channel");
}

enum lsn_err
store_channel_log_append(struct store *s, const uint8_t channel[LSN_ID_BYTES], int64_t seq,
			 const uint8_t hash[32], const char *entry_json, int64_t now)
{
	enum lsn_err err = store_exec(s, STORE_Q(s, ST_LOG_INSERT,
		"INSERT INTO channel_log(channel_id, seq, entry, created_at) VALUES (?,?,?,?)",
		P_ID(channel), P_INT(seq), P_TEXT(entry_json), P_INT(now)), "append log entry", false);
	if (err != LSN_OK)
		return err;
	return store_exec(s, STORE_Q(s, ST_CHAN_HEAD,
		"UPDATE channels SET log_seq = ?, log_hash = ? WHERE id = ?",
		P_INT(seq), P_BLOB(hash, 32), P_ID(channel)), "move log head", true);
}

enum lsn_err
store_channel_log_list(struct store *s, const uint8_t channel[LSN_ID_BYTES], store_log_cb cb,
		       void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_LOG_LIST,
		"SELECT seq, entry FROM channel_log WHERE channel_id = ? ORDER BY seq", P_ID(channel));
	struct log_row r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(log_cols), &r, &err, "list log"))
		cb(r.seq, r.entry, arg);
	return err;
}

enum lsn_err
store_channels_of_user(struct store *s, const uint8_t user[LSN_ID_BYTES], store_channel_cb cb,
		       void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_CHANS_OF_USER,
		"SELECT " CHANNEL_COLUMNS ", " MEMBER_COLUMNS "FROM channel_members m "
		"JOIN channels c ON c.id = m.channel_id WHERE m.user_id = ? ORDER BY c.created_at, c.id",
		P_ID(user));
	struct channel_member r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(channel_member_cols), &r, &err, "list channels"))
		cb(&r.c, &r.m, arg);
	return err;
}

/* ---- members ------------------------------------------------------------ */

enum lsn_err
store_member_put(struct store *s, const uint8_t channel[LSN_ID_BYTES],
		 const uint8_t user[LSN_ID_BYTES], const char *role, int64_t since_log_seq)
{
	return store_exec(s, STORE_Q(s, ST_MEMBER_PUT,
		"INSERT INTO channel_members(channel_id, user_id, role, since_log_seq, left_msg_seq) "
		"VALUES (?,?,?,?,NULL) ON CONFLICT (channel_id, user_id) DO UPDATE SET "
		"role = excluded.role, since_log_seq = excluded.since_log_seq, left_msg_seq = NULL",
		P_ID(channel), P_ID(user), P_TEXT(role), P_INT(since_log_seq)), "put member", false);
}

enum lsn_err
store_member_leave(struct store *s, const uint8_t channel[LSN_ID_BYTES],
		   const uint8_t user[LSN_ID_BYTES])
{
	return store_exec(s, STORE_Q(s, ST_MEMBER_LEAVE,
		"UPDATE channel_members SET left_msg_seq = "
		LAST_SEQ_OF("?1") " "
		"WHERE channel_id = ?1 AND user_id = ?2 AND left_msg_seq IS NULL",
		P_ID(channel), P_ID(user)), "member leaves", true);
}

enum lsn_err
store_member_set_role(struct store *s, const uint8_t channel[LSN_ID_BYTES],
		      const uint8_t user[LSN_ID_BYTES], const char *role)
{
	return store_exec(s, STORE_Q(s, ST_MEMBER_ROLE,
		"UPDATE channel_members SET role = ? WHERE channel_id = ? AND user_id = ? "
		"AND left_msg_seq IS NULL",
		P_TEXT(role), P_ID(channel), P_ID(user)), "set member role", true);
}

enum lsn_err
store_member_get(struct store *s, const uint8_t channel[LSN_ID_BYTES],
		 const uint8_t user[LSN_ID_BYTES], struct store_member *out)
{
	return store_one(s, STORE_Q(s, ST_MEMBER_GET,
		"SELECT " MEMBER_COLUMNS "FROM channel_members m WHERE m.channel_id = ? AND m.user_id = ?",
		P_ID(channel), P_ID(user)), STORE_COLS(member_cols), out, "read member");
}

enum lsn_err
store_member_list(struct store *s, const uint8_t channel[LSN_ID_BYTES], bool current_only,
		  store_member_cb cb, void *arg)
{
	sqlite3_stmt *st = current_only
		? STORE_Q(s, ST_MEMBER_LIST_CURRENT, "SELECT " MEMBER_COLUMNS
			  "FROM channel_members m WHERE m.channel_id = ? AND m.left_msg_seq IS NULL "
			  "ORDER BY m.since_log_seq", P_ID(channel))
		: STORE_Q(s, ST_MEMBER_LIST_ALL, "SELECT " MEMBER_COLUMNS
			  "FROM channel_members m WHERE m.channel_id = ? ORDER BY m.since_log_seq",
			  P_ID(channel));
	struct store_member m;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(member_cols), &m, &err, "list members"))
		cb(&m, arg);
	return err;
}

enum lsn_err
store_comembers(struct store *s, const uint8_t user[LSN_ID_BYTES], store_id_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_COMEMBERS,
		"SELECT DISTINCT o.user_id FROM channel_members m "
		"JOIN channel_members o ON o.channel_id = m.channel_id AND o.left_msg_seq IS NULL "
		"WHERE m.user_id = ? AND m.left_msg_seq IS NULL", P_ID(user));
	struct store_id_row r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(store_id_cols), &r, &err, "list co-members"))
		cb(r.id, arg);
	return err;
}

/* ---- messages ----------------------------------------------------------- */

enum lsn_err
store_message_append(struct store *s, struct store_message *m)
{
	struct seq_row r;
	enum lsn_err err = store_one(s, STORE_Q(s, ST_MSG_INSERT,
		"INSERT INTO messages(channel_id, seq, sender_user, sender_device, ts, envelope) "
		"VALUES (?1, " LAST_SEQ_OF("?1") " + 1, ?2, ?3, ?4, ?5) RETURNING seq",
		P_ID(m->channel), P_ID(m->sender_user), P_ID(m->sender_device), P_INT(m->ts),
		P_BLOB(m->envelope, m->envelope_len)), STORE_COLS(seq_cols), &r, "insert message");
	if (err == LSN_OK)
		m->seq = r.seq;
	return err;
}

enum lsn_err
store_message_sender(struct store *s, const uint8_t channel[LSN_ID_BYTES], int64_t seq,
		     uint8_t user[LSN_ID_BYTES])
{
	struct store_id_row r;
	enum lsn_err err = store_one(s, STORE_Q(s, ST_MSG_SENDER,
		"SELECT sender_user FROM messages WHERE channel_id = ? AND seq = ?",
		P_ID(channel), P_INT(seq)), STORE_COLS(store_id_cols), &r, "read message sender");
	if (err == LSN_OK)
		memcpy(user, r.id, LSN_ID_BYTES);
	return err;
}

enum lsn_err
store_message_list(struct store *s, const uint8_t channel[LSN_ID_BYTES], int64_t after,
		   int64_t upto, int limit, store_message_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_MSG_LIST,
		"SELECT channel_id, seq, sender_user, sender_device, ts, envelope FROM messages "
		"WHERE channel_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
		P_ID(channel), P_INT(after), P_INT(upto), P_INT(limit));
	struct store_message m;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(message_cols), &m, &err, "list messages"))
		cb(&m, arg);
	return err;
}

/* ---- receipts ----------------------------------------------------------- */

enum lsn_err
store_receipt_raise(struct store *s, const uint8_t channel[LSN_ID_BYTES],
		    const uint8_t user[LSN_ID_BYTES], bool read, int64_t seq, int64_t now,
		    bool *changed)
{
	sqlite3_stmt *st = read
		? store_stmt(s, ST_RECEIPT_READ,
			     "INSERT INTO receipts(channel_id, user_id, delivered, read, updated_at) "
			     "VALUES (?1, ?2, ?3, ?3, ?4) ON CONFLICT (channel_id, user_id) DO UPDATE SET "
			     "read = excluded.read, delivered = max(delivered, excluded.read), "
			     "updated_at = excluded.updated_at WHERE excluded.read > read")
		: store_stmt(s, ST_RECEIPT_DELIVERED,
			     "INSERT INTO receipts(channel_id, user_id, delivered, read, updated_at) "
			     "VALUES (?1, ?2, ?3, 0, ?4) ON CONFLICT (channel_id, user_id) DO UPDATE SET "
			     "delivered = excluded.delivered, updated_at = excluded.updated_at "
			     "WHERE excluded.delivered > delivered");
	if (st)
		store_bind(st, STORE_PARAMS(P_ID(channel), P_ID(user), P_INT(seq), P_INT(now)));
	enum lsn_err err = store_exec(s, st, "raise receipt", true);
	*changed = err == LSN_OK;
	return err == LSN_ERR_NOT_FOUND ? LSN_OK : err;
}

enum lsn_err
store_receipt_list(struct store *s, const uint8_t channel[LSN_ID_BYTES], store_receipt_cb cb,
		   void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_RECEIPT_LIST,
		"SELECT user_id, delivered, read FROM receipts WHERE channel_id = ? ORDER BY user_id",
		P_ID(channel));
	struct receipt_row r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(receipt_cols), &r, &err, "list receipts"))
		cb(r.user, r.delivered, r.read, arg);
	return err;
}
