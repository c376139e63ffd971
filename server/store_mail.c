/* store_mail.c — the addresses, choices and outbox of the "something is
 * waiting" e-mails (SQLite; schema/014_mail.sql). Statement slots
 * 400..431. */
#include "store_internal.h"
#include "store_row.h"

enum {
	SLOT_BASE = 400,
	ST_SETTINGS_GET = SLOT_BASE, ST_ADDRESS_SET, ST_ENABLED_SET, ST_PEOPLE, ST_BATCH_ADD,
	ST_UPTO_SET, ST_DUE, ST_SENDING, ST_RETRY, ST_FINISH, ST_LAST_SENT, ST_RECOVER_LAST,
	ST_RECOVER, ST_SWEEP, ST_NEXT_DUE,
	SLOT_END
};
_Static_assert(SLOT_END <= STORE_STMT_SLOTS, "store_mail.c slots past STORE_STMT_SLOTS");

/* What waits for user U (an SQL expression naming the user column): the
 * unseen notifications of open cases, and the notices of open cases U must
 * acknowledge, has not, and whose thread U is still in. Each as a SELECT of
 * one column "at" (when it appeared), to be completed with AND … */
#define UNSEEN_NOTIFICATIONS(U) \
	"SELECT n.created_at AS at FROM notifications n " \
	"JOIN cases c ON c.id = n.case_id AND c.status = 'open' " \
	"WHERE n.user_id = " U " AND n.seen_at IS NULL"
#define UNACKED_NOTICES(U) \
	"SELECT cn.posted_at AS at FROM case_notice_recipients r " \
	"JOIN case_notices cn ON cn.case_id = r.case_id " \
	"JOIN cases c ON c.id = r.case_id AND c.status = 'open' " \
	"JOIN channel_members cm ON cm.channel_id = c.channel_id AND cm.user_id = r.user_id " \
	"AND cm.left_msg_seq IS NULL " \
	"WHERE r.user_id = " U " AND NOT EXISTS (SELECT 1 FROM case_acks a " \
	"WHERE a.case_id = r.case_id AND a.user_id = r.user_id)"

static const struct store_col settings_cols[] = {
	COL_TEXT(0, struct store_mail_settings, address),
	COL_BOOL(1, struct store_mail_settings, enabled),
	COL_I64(2, struct store_mail_settings, mailed_upto),
	COL_I64(3, struct store_mail_settings, last_sent_at),
};

enum lsn_err
store_mail_settings_get(struct store *s, const uint8_t user[LSN_ID_BYTES],
			struct store_mail_settings *out)
{
	memset(out, 0, sizeof *out);
	return store_one(s, STORE_Q(s, ST_SETTINGS_GET,
		"SELECT address, enabled, mailed_upto, last_sent_at FROM mail_settings "
		"WHERE user_id = ?", P_ID(user)), STORE_COLS(settings_cols), out, "read mail settings");
}

enum lsn_err
store_mail_address_set(struct store *s, const uint8_t user[LSN_ID_BYTES], const char *address,
		       int64_t now)
{
	return store_exec(s, STORE_Q(s, ST_ADDRESS_SET,
		"INSERT INTO mail_settings(user_id, address, updated_at) VALUES (?1, ?2, ?3) "
		"ON CONFLICT (user_id) DO UPDATE SET address = ?2, updated_at = ?3",
		P_ID(user), P_TEXT(address), P_INT(now)), "set mail address", false);
}

enum lsn_err
store_mail_enabled_set(struct store *s, const uint8_t user[LSN_ID_BYTES], bool on, int64_t now)
{
	return store_exec(s, STORE_Q(s, ST_ENABLED_SET,
		"INSERT INTO mail_settings(user_id, enabled, updated_at) VALUES (?1, ?2, ?3) "
		"ON CONFLICT (user_id) DO UPDATE SET enabled = ?2, updated_at = ?3",
		P_ID(user), P_INT(on ? 1 : 0), P_INT(now)), "set mail choice", false);
}

static const struct store_col person_cols[] = {
	COL_BLOB(0, struct store_mail_person, user),
	COL_I64(1, struct store_mail_person, oldest_new),
	COL_I64(2, struct store_mail_person, last_sent_at),
	COL_BOOL(3, struct store_mail_person, batch_open),
};

enum lsn_err
store_mail_people(struct store *s, int limit, store_mail_person_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_PEOPLE,
		"SELECT m.user_id, (SELECT min(at) FROM ("
		UNSEEN_NOTIFICATIONS("m.user_id") " AND n.created_at > m.mailed_upto UNION ALL "
		UNACKED_NOTICES("m.user_id") " AND cn.posted_at > m.mailed_upto)), "
		"coalesce(m.last_sent_at, 0), EXISTS (SELECT 1 FROM mail_outbox o "
		"WHERE o.user_id = m.user_id AND o.state IN ('pending', 'sending')) "
		"FROM mail_settings m WHERE m.address IS NOT NULL AND m.enabled = 1 "
		"AND EXISTS (SELECT 1 FROM devices d WHERE d.user_id = m.user_id "
		"AND d.revoked_at IS NULL) "
		"ORDER BY m.user_id LIMIT ?", P_INT(limit));
	struct store_mail_person p;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(person_cols), &p, &err, "list mail people"))
		cb(&p, arg);
	return err;
}

enum lsn_err
store_mail_batch_add(struct store *s, const uint8_t user[LSN_ID_BYTES], int64_t now, int64_t upto)
{
	enum lsn_err err = store_exec(s, STORE_Q(s, ST_BATCH_ADD,
		"INSERT INTO mail_outbox(user_id, created_at, state, next_attempt_at) "
		"VALUES (?1, ?2, 'pending', ?2)", P_ID(user), P_INT(now)), "add mail", false);
	if (err == LSN_OK)
		err = store_exec(s, STORE_Q(s, ST_UPTO_SET,
			"UPDATE mail_settings SET mailed_upto = max(mailed_upto, ?2) WHERE user_id = ?1",
			P_ID(user), P_INT(upto)), "note what a mail announces", true);
	return err;
}

static const struct store_col job_cols[] = {
	COL_I64(0, struct store_mail_job, id),
	COL_BLOB(1, struct store_mail_job, user),
	COL_I64(2, struct store_mail_job, created_at),
	COL_I64(3, struct store_mail_job, attempts),
	COL_TEXT(4, struct store_mail_job, address),
	COL_BOOL(5, struct store_mail_job, enabled),
	COL_BOOL(6, struct store_mail_job, waiting),
};

enum lsn_err
store_mail_due(struct store *s, int64_t now, int limit, store_mail_job_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_DUE,
		"SELECT o.id, o.user_id, o.created_at, o.attempts, coalesce(m.address, ''), "
		"coalesce(m.enabled, 0), EXISTS (" UNSEEN_NOTIFICATIONS("o.user_id") ") "
		"OR EXISTS (" UNACKED_NOTICES("o.user_id") ") "
		"FROM mail_outbox o LEFT JOIN mail_settings m ON m.user_id = o.user_id "
		"WHERE o.state = 'pending' AND o.next_attempt_at <= ? ORDER BY o.id LIMIT ?",
		P_INT(now), P_INT(limit));
	struct store_mail_job j;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(job_cols), &j, &err, "list due mails"))
		cb(&j, arg);
	return err;
}

enum lsn_err
store_mail_next_due(struct store *s, int64_t *at)
{
	return store_scalar(s, store_stmt(s, ST_NEXT_DUE,
		"SELECT coalesce(min(next_attempt_at), 0) FROM mail_outbox WHERE state = 'pending'"),
		at, "next mail due");
}

enum lsn_err
store_mail_sending(struct store *s, int64_t id, int64_t now)
{
	return store_exec(s, STORE_Q(s, ST_SENDING,
		"UPDATE mail_outbox SET state = 'sending', attempts = attempts + 1, "
		"last_attempt_at = ?2 WHERE id = ?1 AND state = 'pending'", P_INT(id), P_INT(now)),
		"mark mail sending", true);
}

enum lsn_err
store_mail_retry(struct store *s, int64_t id, int64_t next_at, const char *error)
{
	return store_exec(s, STORE_Q(s, ST_RETRY,
		"UPDATE mail_outbox SET state = 'pending', next_attempt_at = ?2, last_error = ?3 "
		"WHERE id = ?1 AND state = 'sending'", P_INT(id), P_INT(next_at), P_TEXT(error)),
		"mark mail to retry", true);
}

enum lsn_err
store_mail_finish(struct store *s, int64_t id, enum store_mail_state state, int64_t now,
		  const char *error)
{
	static const char *const names[] = {"sent", "interrupted", "dropped"};
	enum lsn_err err = store_exec(s, STORE_Q(s, ST_FINISH,
		"UPDATE mail_outbox SET state = ?2, done_at = ?3, last_error = ?4 "
		"WHERE id = ?1 AND state IN ('pending', 'sending')",
		P_INT(id), P_TEXT(names[state]), P_INT(now), P_TEXT(error)), "finish mail", true);
	if (err == LSN_OK && state != STORE_MAIL_DROPPED)
		err = store_exec(s, STORE_Q(s, ST_LAST_SENT,
			"UPDATE mail_settings SET last_sent_at = ?2 WHERE user_id = "
			"(SELECT user_id FROM mail_outbox WHERE id = ?1)", P_INT(id), P_INT(now)),
			"note last mail", false);
	return err;
}

enum lsn_err
store_mail_recover(struct store *s, int64_t now, int64_t *n)
{
	*n = 0;
	/* the period counts from the attempt that may have reached the relay */
	enum lsn_err err = store_exec(s, store_stmt(s, ST_RECOVER_LAST,
		"UPDATE mail_settings SET last_sent_at = (SELECT max(o.last_attempt_at) FROM "
		"mail_outbox o WHERE o.user_id = mail_settings.user_id AND o.state = 'sending') "
		"WHERE user_id IN (SELECT user_id FROM mail_outbox WHERE state = 'sending')"),
		"recover mail", false);
	if (err == LSN_OK)
		err = store_exec(s, STORE_Q(s, ST_RECOVER,
			"UPDATE mail_outbox SET state = 'interrupted', done_at = ?1, last_error = "
			"'the server stopped while sending: not sent again' WHERE state = 'sending'",
			P_INT(now)), "recover mail", false);
	if (err == LSN_OK)
		*n = sqlite3_changes(s->db);
	return err;
}

enum lsn_err
store_mail_sweep(struct store *s, int64_t before, int64_t *deleted)
{
	enum lsn_err err = store_exec(s, STORE_Q(s, ST_SWEEP,
		"DELETE FROM mail_outbox WHERE state IN ('sent', 'interrupted', 'dropped') "
		"AND done_at < ?", P_INT(before)), "prune mail outbox", false);
	*deleted = err == LSN_OK ? sqlite3_changes(s->db) : 0;
	return err;
}
