/* store_bounds.c — the counts behind the bounds on queues and tables
 * (docs/OPERATIONS.md, "Bounds"), the to-device policy's contacts and the
 * retention sweep (SQLite). Statement slots 360..399. */
#include "store_internal.h"
#include "store_row.h"

enum {
	SLOT_BASE = 360,
	ST_TD_COUNT = SLOT_BASE, ST_TD_COUNT_SENDER, ST_TD_ALLOWED, ST_TD_CONTACT,
	ST_MEMBER_COUNT, ST_CASE_OPEN_COUNT, ST_ATT_USAGE,
	ST_SW_CHUNKS, ST_SW_ATTACH, ST_SW_IDEM, ST_SW_NOTIF, ST_SW_CONTACTS,
	ST_G_TODEVICE, ST_G_ATT_BYTES,
	SLOT_END
};
_Static_assert(SLOT_END <= STORE_STMT_SLOTS, "store_bounds.c slots past STORE_STMT_SLOTS");

/* Counting stops at the first row past the limit: a full queue costs no
 * more to check than a full-but-one. */
enum lsn_err
store_todevice_queued(struct store *s, const uint8_t device[LSN_ID_BYTES],
		      const uint8_t sender_user[LSN_ID_BYTES], int64_t cap_total, int64_t cap_sender,
		      int64_t *total, int64_t *from_sender)
{
	enum lsn_err err = store_scalar(s, STORE_Q(s, ST_TD_COUNT,
		"SELECT count(*) FROM (SELECT 1 FROM to_device WHERE recipient_device = ? LIMIT ?)",
		P_ID(device), P_INT(cap_total + 1)), total, "count to-device");
	if (err == LSN_OK)
		err = store_scalar(s, STORE_Q(s, ST_TD_COUNT_SENDER,
			"SELECT count(*) FROM (SELECT 1 FROM to_device WHERE recipient_device = ? "
			"AND sender_user = ? LIMIT ?)",
			P_ID(device), P_ID(sender_user), P_INT(cap_sender + 1)), from_sender,
			"count to-device");
	return err;
}

enum lsn_err
store_todevice_allowed(struct store *s, const uint8_t sender_user[LSN_ID_BYTES],
		       const uint8_t recipient_user[LSN_ID_BYTES], int64_t reply_since, bool *allowed)
{
	int64_t v = 0;
	enum lsn_err err = store_scalar(s, STORE_Q(s, ST_TD_ALLOWED,
		"SELECT EXISTS (SELECT 1 FROM channel_members a JOIN channel_members b "
		"ON b.channel_id = a.channel_id AND b.user_id = ?2 "
		"WHERE a.user_id = ?1 AND a.left_msg_seq IS NULL) "
		"OR EXISTS (SELECT 1 FROM to_device_contacts WHERE sender_user = ?2 "
		"AND recipient_user = ?1 AND last_at >= ?3)",
		P_ID(sender_user), P_ID(recipient_user), P_INT(reply_since)), &v,
		"check to-device policy");
	*allowed = err == LSN_OK && v != 0;
	return err;
}

enum lsn_err
store_todevice_contact(struct store *s, const uint8_t sender_user[LSN_ID_BYTES],
		       const uint8_t recipient_user[LSN_ID_BYTES], int64_t now)
{
	return store_exec(s, STORE_Q(s, ST_TD_CONTACT,
		"INSERT INTO to_device_contacts(sender_user, recipient_user, last_at) VALUES (?,?,?) "
		"ON CONFLICT (sender_user, recipient_user) DO UPDATE SET last_at = excluded.last_at",
		P_ID(sender_user), P_ID(recipient_user), P_INT(now)), "note to-device contact", false);
}

enum lsn_err
store_member_channel_count(struct store *s, const uint8_t user[LSN_ID_BYTES], int64_t *n)
{
	return store_scalar(s, STORE_Q(s, ST_MEMBER_COUNT,
		"SELECT count(*) FROM channel_members WHERE user_id = ? AND left_msg_seq IS NULL",
		P_ID(user)), n, "count channels");
}

enum lsn_err
store_case_open_count(struct store *s, const uint8_t user[LSN_ID_BYTES], int64_t *n)
{
	return store_scalar(s, STORE_Q(s, ST_CASE_OPEN_COUNT,
		"SELECT count(*) FROM cases WHERE opened_by = ? AND status = 'open'",
		P_ID(user)), n, "count open cases");
}

enum lsn_err
store_attachment_usage(struct store *s, const uint8_t user[LSN_ID_BYTES], int64_t *bytes)
{
	return store_scalar(s, STORE_Q(s, ST_ATT_USAGE,
		"SELECT coalesce(sum(size), 0) FROM attachments WHERE uploader = ?",
		P_ID(user)), bytes, "sum attachment sizes");
}

static enum lsn_err
sweep_one(struct store *s, sqlite3_stmt *st, const char *what, int64_t *n)
{
	enum lsn_err err = store_exec(s, st, what, false);
	*n = err == LSN_OK ? sqlite3_changes(s->db) : 0;
	return err;
}

enum lsn_err
store_bounds_sweep(struct store *s, const struct store_sweep_before *before,
		   struct store_sweep_counts *out)
{
	int64_t chunks = 0;
	memset(out, 0, sizeof *out);
	enum lsn_err err = sweep_one(s, STORE_Q(s, ST_SW_CHUNKS,
		"DELETE FROM attachment_chunks WHERE attachment_id IN "
		"(SELECT id FROM attachments WHERE complete = 0 AND created_at < ?)",
		P_INT(before->attachment)), "delete unfinished chunks", &chunks);
	if (err == LSN_OK)
		err = sweep_one(s, STORE_Q(s, ST_SW_ATTACH,
			"DELETE FROM attachments WHERE complete = 0 AND created_at < ?",
			P_INT(before->attachment)), "delete unfinished attachments", &out->attachments);
	out->chunks = chunks;
	if (err == LSN_OK)
		err = sweep_one(s, STORE_Q(s, ST_SW_IDEM,
			"DELETE FROM idempotency WHERE created_at < ?", P_INT(before->idempotency)),
			"prune idempotency keys", &out->idempotency);
	if (err == LSN_OK)
		err = sweep_one(s, STORE_Q(s, ST_SW_NOTIF,
			"DELETE FROM notifications WHERE created_at < ?", P_INT(before->notification)),
			"prune notifications", &out->notifications);
	if (err == LSN_OK)
		err = sweep_one(s, STORE_Q(s, ST_SW_CONTACTS,
			"DELETE FROM to_device_contacts WHERE last_at < ?", P_INT(before->contact)),
			"prune to-device contacts", &out->contacts);
	if (err == LSN_OK)
		err = store_scalar(s, store_stmt(s, ST_G_TODEVICE, "SELECT count(*) FROM to_device"),
				   &out->todevice_entries, "count to-device");
	if (err == LSN_OK)
		err = store_scalar(s, store_stmt(s, ST_G_ATT_BYTES,
			"SELECT coalesce(sum(size), 0) FROM attachments"),
			&out->attachment_bytes, "sum attachment sizes");
	return err;
}
