/* store_thread.c — channels, their membership log and members, message
 * envelopes and receipts (SQLite). */
#include <stdlib.h>

#include "store_internal.h"

enum {
	SLOT_BASE = 64,
	ST_CHAN_INSERT = SLOT_BASE, ST_CHAN_GET, ST_LOG_INSERT, ST_CHAN_HEAD, ST_LOG_LIST,
	ST_CHANS_OF_USER, ST_MEMBER_PUT, ST_MEMBER_LEAVE, ST_MEMBER_ROLE, ST_MEMBER_GET,
	ST_MEMBER_LIST_ALL, ST_MEMBER_LIST_CURRENT, ST_COMEMBERS, ST_MSG_NEXT, ST_MSG_INSERT,
	ST_MSG_LIST, ST_RECEIPT_DELIVERED, ST_RECEIPT_READ, ST_RECEIPT_LIST, ST_MSG_SENDER,
};

#define CHANNEL_COLUMNS "c.id, c.kind, c.history, c.creator, c.created_at, c.log_seq, " \
			"c.log_hash, c.last_seq "
#define MEMBER_COLUMNS "m.channel_id, m.user_id, m.role, m.since_log_seq, m.left_msg_seq "

static void
read_channel(sqlite3_stmt *st, int base, struct store_channel *c)
{
	store_col_blob(st, base + 0, c->id, sizeof c->id);
	store_col_text(st, base + 1, c->kind, sizeof c->kind);
	store_col_text(st, base + 2, c->history, sizeof c->history);
	store_col_blob(st, base + 3, c->creator, sizeof c->creator);
	c->created_at = sqlite3_column_int64(st, base + 4);
	c->log_seq = sqlite3_column_int64(st, base + 5);
	store_col_blob(st, base + 6, c->log_hash, sizeof c->log_hash);
	c->last_seq = sqlite3_column_int64(st, base + 7);
}

static void
read_member(sqlite3_stmt *st, int base, struct store_member *m)
{
	store_col_blob(st, base + 0, m->channel, sizeof m->channel);
	store_col_blob(st, base + 1, m->user, sizeof m->user);
	store_col_text(st, base + 2, m->role, sizeof m->role);
	m->since_log_seq = sqlite3_column_int64(st, base + 3);
	m->current = sqlite3_column_type(st, base + 4) == SQLITE_NULL;
	m->left_msg_seq = sqlite3_column_int64(st, base + 4);
}

/* ---- channels ----------------------------------------------------------- */

enum lsn_err
store_channel_create(struct store *s, const struct store_channel *c)
{
	sqlite3_stmt *st = store_stmt(s, ST_CHAN_INSERT,
		"INSERT INTO channels(id, kind, history, creator, created_at, log_seq, log_hash, last_seq) "
		"VALUES (?,?,?,?,?,?,?,0)");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, c->id, sizeof c->id);
	sqlite3_bind_text(st, 2, c->kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, c->history, -1, SQLITE_TRANSIENT);
	store_bind_blob(st, 4, c->creator, sizeof c->creator);
	sqlite3_bind_int64(st, 5, c->created_at);
	sqlite3_bind_int64(st, 6, c->log_seq);
	store_bind_blob(st, 7, c->log_hash, sizeof c->log_hash);
	return store_exec(s, st, "insert channel", false);
}

enum lsn_err
store_channel_get(struct store *s, const uint8_t id[LSN_ID_BYTES], struct store_channel *out)
{
	sqlite3_stmt *st = store_stmt(s, ST_CHAN_GET,
				      "SELECT " CHANNEL_COLUMNS "FROM channels c WHERE c.id = ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, id, LSN_ID_BYTES);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_channel(st, 0, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return LSN_OK;
	return rc == SQLITE_DONE ? LSN_ERR_NOT_FOUND : store_db_error(s, "read channel");
}

enum lsn_err
store_channel_log_append(struct store *s, const uint8_t channel[LSN_ID_BYTES], int64_t seq,
			 const uint8_t hash[32], const char *entry_json, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, ST_LOG_INSERT,
		"INSERT INTO channel_log(channel_id, seq, entry, created_at) VALUES (?,?,?,?)");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, channel, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_text(st, 3, entry_json, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, now);
	enum lsn_err err = store_exec(s, st, "append log entry", false);
	if (err != LSN_OK)
		return err;
	st = store_stmt(s, ST_CHAN_HEAD, "UPDATE channels SET log_seq = ?, log_hash = ? WHERE id = ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, seq);
	store_bind_blob(st, 2, hash, 32);
	store_bind_blob(st, 3, channel, LSN_ID_BYTES);
	return store_exec(s, st, "move log head", true);
}

enum lsn_err
store_channel_log_list(struct store *s, const uint8_t channel[LSN_ID_BYTES], store_log_cb cb,
		       void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_LOG_LIST,
		"SELECT seq, entry FROM channel_log WHERE channel_id = ? ORDER BY seq");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, channel, LSN_ID_BYTES);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb(sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1), arg);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "list log");
}

enum lsn_err
store_channels_of_user(struct store *s, const uint8_t user[LSN_ID_BYTES], store_channel_cb cb,
		       void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_CHANS_OF_USER,
		"SELECT " CHANNEL_COLUMNS ", " MEMBER_COLUMNS "FROM channel_members m "
		"JOIN channels c ON c.id = m.channel_id WHERE m.user_id = ? ORDER BY c.created_at, c.id");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, user, LSN_ID_BYTES);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_channel c;
		struct store_member m;
		read_channel(st, 0, &c);
		read_member(st, 8, &m);
		cb(&c, &m, arg);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "list channels");
}

/* ---- members ------------------------------------------------------------ */

enum lsn_err
store_member_put(struct store *s, const uint8_t channel[LSN_ID_BYTES],
		 const uint8_t user[LSN_ID_BYTES], const char *role, int64_t since_log_seq)
{
	sqlite3_stmt *st = store_stmt(s, ST_MEMBER_PUT,
		"INSERT INTO channel_members(channel_id, user_id, role, since_log_seq, left_msg_seq) "
		"VALUES (?,?,?,?,NULL) ON CONFLICT (channel_id, user_id) DO UPDATE SET "
		"role = excluded.role, since_log_seq = excluded.since_log_seq, left_msg_seq = NULL");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, channel, LSN_ID_BYTES);
	store_bind_blob(st, 2, user, LSN_ID_BYTES);
	sqlite3_bind_text(st, 3, role, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, since_log_seq);
	return store_exec(s, st, "put member", false);
}

enum lsn_err
store_member_leave(struct store *s, const uint8_t channel[LSN_ID_BYTES],
		   const uint8_t user[LSN_ID_BYTES])
{
	sqlite3_stmt *st = store_stmt(s, ST_MEMBER_LEAVE,
		"UPDATE channel_members SET left_msg_seq = "
		"(SELECT last_seq FROM channels WHERE id = ?1) "
		"WHERE channel_id = ?1 AND user_id = ?2 AND left_msg_seq IS NULL");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, channel, LSN_ID_BYTES);
	store_bind_blob(st, 2, user, LSN_ID_BYTES);
	return store_exec(s, st, "member leaves", true);
}

enum lsn_err
store_member_set_role(struct store *s, const uint8_t channel[LSN_ID_BYTES],
		      const uint8_t user[LSN_ID_BYTES], const char *role)
{
	sqlite3_stmt *st = store_stmt(s, ST_MEMBER_ROLE,
		"UPDATE channel_members SET role = ? WHERE channel_id = ? AND user_id = ? "
		"AND left_msg_seq IS NULL");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_text(st, 1, role, -1, SQLITE_TRANSIENT);
	store_bind_blob(st, 2, channel, LSN_ID_BYTES);
	store_bind_blob(st, 3, user, LSN_ID_BYTES);
	return store_exec(s, st, "set member role", true);
}

enum lsn_err
store_member_get(struct store *s, const uint8_t channel[LSN_ID_BYTES],
		 const uint8_t user[LSN_ID_BYTES], struct store_member *out)
{
	sqlite3_stmt *st = store_stmt(s, ST_MEMBER_GET,
		"SELECT " MEMBER_COLUMNS "FROM channel_members m WHERE m.channel_id = ? AND m.user_id = ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, channel, LSN_ID_BYTES);
	store_bind_blob(st, 2, user, LSN_ID_BYTES);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_member(st, 0, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return LSN_OK;
	return rc == SQLITE_DONE ? LSN_ERR_NOT_FOUND : store_db_error(s, "read member");
}

enum lsn_err
store_member_list(struct store *s, const uint8_t channel[LSN_ID_BYTES], bool current_only,
		  store_member_cb cb, void *arg)
{
	sqlite3_stmt *st = current_only
		? store_stmt(s, ST_MEMBER_LIST_CURRENT, "SELECT " MEMBER_COLUMNS
			     "FROM channel_members m WHERE m.channel_id = ? AND m.left_msg_seq IS NULL "
			     "ORDER BY m.since_log_seq")
		: store_stmt(s, ST_MEMBER_LIST_ALL, "SELECT " MEMBER_COLUMNS
			     "FROM channel_members m WHERE m.channel_id = ? ORDER BY m.since_log_seq");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, channel, LSN_ID_BYTES);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_member m;
		read_member(st, 0, &m);
		cb(&m, arg);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "list members");
}

enum lsn_err
store_comembers(struct store *s, const uint8_t user[LSN_ID_BYTES], store_id_cb cb, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_COMEMBERS,
		"SELECT DISTINCT o.user_id FROM channel_members m "
		"JOIN channel_members o ON o.channel_id = m.channel_id AND o.left_msg_seq IS NULL "
		"WHERE m.user_id = ? AND m.left_msg_seq IS NULL");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, user, LSN_ID_BYTES);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint8_t id[LSN_ID_BYTES];
		store_col_blob(st, 0, id, sizeof id);
		cb(id, arg);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "list co-members");
}

/* ---- messages ----------------------------------------------------------- */

enum lsn_err
store_message_append(struct store *s, struct store_message *m)
{
	sqlite3_stmt *st = store_stmt(s, ST_MSG_NEXT,
		"UPDATE channels SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, m->channel, LSN_ID_BYTES);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		m->seq = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? LSN_ERR_NOT_FOUND : store_db_error(s, "next message seq");
	st = store_stmt(s, ST_MSG_INSERT,
		"INSERT INTO messages(channel_id, seq, sender_user, sender_device, ts, envelope) "
		"VALUES (?,?,?,?,?,?)");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, m->channel, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 2, m->seq);
	store_bind_blob(st, 3, m->sender_user, LSN_ID_BYTES);
	store_bind_blob(st, 4, m->sender_device, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 5, m->ts);
	store_bind_blob(st, 6, m->envelope, m->envelope_len);
	return store_exec(s, st, "insert message", false);
}

enum lsn_err
store_message_sender(struct store *s, const uint8_t channel[LSN_ID_BYTES], int64_t seq,
		     uint8_t user[LSN_ID_BYTES])
{
	sqlite3_stmt *st = store_stmt(s, ST_MSG_SENDER,
		"SELECT sender_user FROM messages WHERE channel_id = ? AND seq = ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, channel, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 2, seq);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		store_col_blob(st, 0, user, LSN_ID_BYTES);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return LSN_OK;
	return rc == SQLITE_DONE ? LSN_ERR_NOT_FOUND : store_db_error(s, "read message sender");
}

enum lsn_err
store_message_list(struct store *s, const uint8_t channel[LSN_ID_BYTES], int64_t after,
		   int64_t upto, int limit, store_message_cb cb, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_MSG_LIST,
		"SELECT channel_id, seq, sender_user, sender_device, ts, envelope FROM messages "
		"WHERE channel_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, channel, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int64(st, 3, upto);
	sqlite3_bind_int(st, 4, limit);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_message m;
		store_col_blob(st, 0, m.channel, sizeof m.channel);
		m.seq = sqlite3_column_int64(st, 1);
		store_col_blob(st, 2, m.sender_user, sizeof m.sender_user);
		store_col_blob(st, 3, m.sender_device, sizeof m.sender_device);
		m.ts = sqlite3_column_int64(st, 4);
		m.envelope = sqlite3_column_blob(st, 5);
		m.envelope_len = (size_t)sqlite3_column_bytes(st, 5);
		cb(&m, arg);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "list messages");
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
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, channel, LSN_ID_BYTES);
	store_bind_blob(st, 2, user, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 3, seq);
	sqlite3_bind_int64(st, 4, now);
	enum lsn_err err = store_exec(s, st, "raise receipt", true);
	*changed = err == LSN_OK;
	return err == LSN_ERR_NOT_FOUND ? LSN_OK : err;
}

enum lsn_err
store_receipt_list(struct store *s, const uint8_t channel[LSN_ID_BYTES], store_receipt_cb cb,
		   void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_RECEIPT_LIST,
		"SELECT user_id, delivered, read FROM receipts WHERE channel_id = ? ORDER BY user_id");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, channel, LSN_ID_BYTES);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint8_t user[LSN_ID_BYTES];
		store_col_blob(st, 0, user, sizeof user);
		cb(user, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2), arg);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "list receipts");
}
