/* store_case.c — pathway templates, cases, step occurrences, discharge
 * notices and acknowledgements, notifications (SQLite). */
#include <stdlib.h>

#include "store_internal.h"

enum {
	SLOT_BASE = 192,
	ST_TPL_LIST = SLOT_BASE, ST_TPL_CURRENT, ST_TPL_SCHEDULE, ST_CASE_INSERT, ST_CASE_GET,
	ST_CASE_BY_CHANNEL, ST_CASE_CLOSE, ST_CASE_FLAGS, ST_CASE_LIST, ST_STEP_INSERT, ST_STEP_GET,
	ST_STEP_LIST, ST_STEP_UPDATE, ST_STEP_SCAN, ST_STEP_SOON, ST_STEP_LATE, ST_NOTICE_PUT,
	ST_NOTICE_GET, ST_NOTICE_ESC, ST_NOTICE_OVERDUE, ST_ACK_PUT, ST_ACK_LIST, ST_ROLE_USERS,
	ST_NOTIF_ADD, ST_NOTIF_LIST, ST_NOTIF_SEEN, ST_TPL_GET,
};

#define TEMPLATE_COLUMNS "code, version, label_fr, j0_label, sources, flags "
#define CASE_COLUMNS "c.id, c.patient_ref, c.pathway, c.template_version, c.channel_id, c.j0, " \
		     "c.flags, c.status, c.close_reason, c.opened_by, c.opened_at, c.closed_at "
#define STEP_COLUMNS "id, case_id, step, occurrence, roles, due_at, status, assignee, done_by, " \
		     "done_at, skip_reason, note_seq, notified_soon, notified_late "

static void
read_template(sqlite3_stmt *st, struct store_template *t)
{
	store_col_text(st, 0, t->code, sizeof t->code);
	t->version = sqlite3_column_int64(st, 1);
	store_col_text(st, 2, t->label_fr, sizeof t->label_fr);
	store_col_text(st, 3, t->j0_label, sizeof t->j0_label);
	store_col_text(st, 4, t->sources, sizeof t->sources);
	store_col_text(st, 5, t->flags, sizeof t->flags);
}

static void
read_case(sqlite3_stmt *st, struct store_case *c)
{
	store_col_blob(st, 0, c->id, sizeof c->id);
	store_col_text(st, 1, c->patient_ref, sizeof c->patient_ref);
	store_col_text(st, 2, c->pathway, sizeof c->pathway);
	c->template_version = sqlite3_column_int64(st, 3);
	store_col_blob(st, 4, c->channel, sizeof c->channel);
	c->j0 = sqlite3_column_int64(st, 5);
	store_col_text(st, 6, c->flags, sizeof c->flags);
	store_col_text(st, 7, c->status, sizeof c->status);
	store_col_text(st, 8, c->close_reason, sizeof c->close_reason);
	store_col_blob(st, 9, c->opened_by, sizeof c->opened_by);
	c->opened_at = sqlite3_column_int64(st, 10);
	c->closed_at = sqlite3_column_int64(st, 11);
}

static void
read_step(sqlite3_stmt *st, struct store_step *s)
{
	s->id = sqlite3_column_int64(st, 0);
	store_col_blob(st, 1, s->case_id, sizeof s->case_id);
	store_col_text(st, 2, s->step, sizeof s->step);
	s->occurrence = sqlite3_column_int64(st, 3);
	store_col_text(st, 4, s->roles, sizeof s->roles);
	s->due_at = sqlite3_column_int64(st, 5);
	store_col_text(st, 6, s->status, sizeof s->status);
	s->has_assignee = sqlite3_column_type(st, 7) == SQLITE_BLOB;
	store_col_blob(st, 7, s->assignee, sizeof s->assignee);
	s->has_done_by = sqlite3_column_type(st, 8) == SQLITE_BLOB;
	store_col_blob(st, 8, s->done_by, sizeof s->done_by);
	s->done_at = sqlite3_column_int64(st, 9);
	store_col_text(st, 10, s->skip_reason, sizeof s->skip_reason);
	s->note_seq = sqlite3_column_int64(st, 11);
	s->notified_soon = sqlite3_column_int64(st, 12);
	s->notified_late = sqlite3_column_int64(st, 13);
}

/* Step through a query, calling read+cb per row. */
#define FOR_EACH_ROW(s, st, T, reader, cb, arg, what)                  \
	do {                                                           \
		int rc_;                                               \
		while ((rc_ = sqlite3_step(st)) == SQLITE_ROW) {       \
			T row_;                                        \
			memset(&row_, 0, sizeof row_);                 \
			reader(st, &row_);                             \
			cb(&row_, arg);                                \
		}                                                      \
		sqlite3_reset(st);                                     \
		return rc_ == SQLITE_DONE ? LSN_OK : store_db_error(s, what); \
	} while (0)

static enum lsn_err
fetch_one(struct store *s, sqlite3_stmt *st, void (*reader)(sqlite3_stmt *, void *), void *out,
	  const char *what)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		reader(st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return LSN_OK;
	return rc == SQLITE_DONE ? LSN_ERR_NOT_FOUND : store_db_error(s, what);
}

/* ---- templates ---------------------------------------------------------- */

enum lsn_err
store_template_list(struct store *s, store_template_cb cb, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_TPL_LIST, "SELECT " TEMPLATE_COLUMNS
				      "FROM pathway_templates WHERE current = 1 ORDER BY code");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	FOR_EACH_ROW(s, st, struct store_template, read_template, cb, arg, "list templates");
}

enum lsn_err
store_template_get(struct store *s, const char *code, int64_t version, struct store_template *out)
{
	sqlite3_stmt *st = store_stmt(s, ST_TPL_GET, "SELECT " TEMPLATE_COLUMNS
				      "FROM pathway_templates WHERE code = ? AND version = ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, version);
	return fetch_one(s, st, (void (*)(sqlite3_stmt *, void *))read_template, out, "read template");
}

enum lsn_err
store_template_current(struct store *s, const char *code, struct store_template *out)
{
	sqlite3_stmt *st = store_stmt(s, ST_TPL_CURRENT, "SELECT " TEMPLATE_COLUMNS
		"FROM pathway_templates WHERE code = ? AND current = 1 ORDER BY version DESC LIMIT 1");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
	return fetch_one(s, st, (void (*)(sqlite3_stmt *, void *))read_template, out, "read template");
}

static void
read_schedule(sqlite3_stmt *st, struct store_schedule_row *r)
{
	store_col_text(st, 0, r->step, sizeof r->step);
	r->position = sqlite3_column_int64(st, 1);
	store_col_text(st, 2, r->label_fr, sizeof r->label_fr);
	store_col_text(st, 3, r->roles, sizeof r->roles);
	r->mandatory = sqlite3_column_int64(st, 4) != 0;
	store_col_text(st, 5, r->flag, sizeof r->flag);
	r->replaces_base = sqlite3_column_int64(st, 6) != 0;
	r->has_first_day = sqlite3_column_type(st, 7) != SQLITE_NULL;
	r->first_day = sqlite3_column_int64(st, 7);
	r->every_days = sqlite3_column_int64(st, 8);
	r->last_day = sqlite3_column_int64(st, 9);
}

enum lsn_err
store_template_schedule(struct store *s, const char *code, int64_t version, store_schedule_cb cb,
			void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_TPL_SCHEDULE,
		"SELECT p.step, p.position, p.label_fr, p.roles, p.mandatory, s.flag, s.replaces_base, "
		"s.first_day, s.every_days, s.last_day FROM pathway_steps p "
		"JOIN pathway_schedule s ON s.template = p.template AND s.version = p.version "
		"AND s.step = p.step WHERE p.template = ? AND p.version = ? "
		"ORDER BY p.position, s.rowid");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_text(st, 1, code, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, version);
	FOR_EACH_ROW(s, st, struct store_schedule_row, read_schedule, cb, arg, "read schedule");
}

/* ---- cases -------------------------------------------------------------- */

enum lsn_err
store_case_create(struct store *s, const struct store_case *c)
{
	sqlite3_stmt *st = store_stmt(s, ST_CASE_INSERT,
		"INSERT INTO cases(id, patient_ref, pathway, template_version, channel_id, j0, flags, "
		"status, opened_by, opened_at) VALUES (?,?,?,?,?,?,?,'open',?,?)");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, c->id, LSN_ID_BYTES);
	sqlite3_bind_text(st, 2, c->patient_ref, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, c->pathway, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, c->template_version);
	store_bind_blob(st, 5, c->channel, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 6, c->j0);
	sqlite3_bind_text(st, 7, c->flags, -1, SQLITE_TRANSIENT);
	store_bind_blob(st, 8, c->opened_by, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 9, c->opened_at);
	return store_exec(s, st, "insert case", false);
}

enum lsn_err
store_case_get(struct store *s, const uint8_t id[LSN_ID_BYTES], struct store_case *out)
{
	sqlite3_stmt *st = store_stmt(s, ST_CASE_GET, "SELECT " CASE_COLUMNS "FROM cases c WHERE c.id = ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, id, LSN_ID_BYTES);
	return fetch_one(s, st, (void (*)(sqlite3_stmt *, void *))read_case, out, "read case");
}

enum lsn_err
store_case_by_channel(struct store *s, const uint8_t channel[LSN_ID_BYTES], struct store_case *out)
{
	sqlite3_stmt *st = store_stmt(s, ST_CASE_BY_CHANNEL,
				      "SELECT " CASE_COLUMNS "FROM cases c WHERE c.channel_id = ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, channel, LSN_ID_BYTES);
	return fetch_one(s, st, (void (*)(sqlite3_stmt *, void *))read_case, out, "read case");
}

enum lsn_err
store_case_close(struct store *s, const uint8_t id[LSN_ID_BYTES], const char *reason, int64_t at)
{
	sqlite3_stmt *st = store_stmt(s, ST_CASE_CLOSE,
		"UPDATE cases SET status = 'closed', close_reason = ?, closed_at = ? "
		"WHERE id = ? AND status = 'open'");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_text(st, 1, reason, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, at);
	store_bind_blob(st, 3, id, LSN_ID_BYTES);
	return store_exec(s, st, "close case", true);
}

enum lsn_err
store_case_set_flags(struct store *s, const uint8_t id[LSN_ID_BYTES], const char *flags)
{
	sqlite3_stmt *st = store_stmt(s, ST_CASE_FLAGS, "UPDATE cases SET flags = ? WHERE id = ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_text(st, 1, flags, -1, SQLITE_TRANSIENT);
	store_bind_blob(st, 2, id, LSN_ID_BYTES);
	return store_exec(s, st, "set case flags", true);
}

enum lsn_err
store_case_list(struct store *s, const struct store_case_filter *f, store_case_cb cb, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_CASE_LIST, "SELECT " CASE_COLUMNS "FROM cases c "
		"WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM channel_members m WHERE m.channel_id = c.channel_id "
		"       AND m.user_id = ?1 AND m.left_msg_seq IS NULL)) "
		"AND (?2 IS NULL OR c.pathway = ?2) "
		"AND (?3 IS NULL OR EXISTS (SELECT 1 FROM case_steps t WHERE t.case_id = c.id "
		"       AND t.status = 'pending' AND t.assignee = ?3)) "
		"AND (?4 = 0 OR EXISTS (SELECT 1 FROM case_steps t WHERE t.case_id = c.id "
		"       AND t.status = 'pending' AND t.due_at IS NOT NULL AND t.due_at < ?4)) "
		"AND (?5 = 0 OR c.status = 'open') "
		"ORDER BY c.opened_at DESC, c.id");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	if (f->member)
		store_bind_blob(st, 1, f->member, LSN_ID_BYTES);
	store_bind_text_or_null(st, 2, f->pathway);
	if (f->assignee)
		store_bind_blob(st, 3, f->assignee, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 4, f->overdue_at);
	sqlite3_bind_int(st, 5, f->open_only ? 1 : 0);
	FOR_EACH_ROW(s, st, struct store_case, read_case, cb, arg, "list cases");
}

/* ---- steps -------------------------------------------------------------- */

enum lsn_err
store_step_insert(struct store *s, struct store_step *stp, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, ST_STEP_INSERT,
		"INSERT INTO case_steps(case_id, step, occurrence, roles, due_at, status, assignee, "
		"updated_at) VALUES (?,?,?,?,?,'pending',?,?) ON CONFLICT (case_id, step, occurrence) "
		"DO UPDATE SET due_at = excluded.due_at, updated_at = excluded.updated_at, "
		"notified_soon = CASE WHEN due_at IS excluded.due_at THEN notified_soon END, "
		"notified_late = CASE WHEN due_at IS excluded.due_at THEN notified_late END "
		"WHERE status = 'pending'");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, stp->case_id, LSN_ID_BYTES);
	sqlite3_bind_text(st, 2, stp->step, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, stp->occurrence);
	sqlite3_bind_text(st, 4, stp->roles, -1, SQLITE_TRANSIENT);
	if (stp->due_at)
		sqlite3_bind_int64(st, 5, stp->due_at);
	if (stp->has_assignee)
		store_bind_blob(st, 6, stp->assignee, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 7, now);
	enum lsn_err err = store_exec(s, st, "insert step", false);
	if (err == LSN_OK)
		stp->id = sqlite3_changes(s->db) ? sqlite3_last_insert_rowid(s->db) : 0;
	return err;
}

enum lsn_err
store_step_get(struct store *s, int64_t id, struct store_step *out)
{
	sqlite3_stmt *st = store_stmt(s, ST_STEP_GET, "SELECT " STEP_COLUMNS "FROM case_steps WHERE id = ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, id);
	return fetch_one(s, st, (void (*)(sqlite3_stmt *, void *))read_step, out, "read step");
}

enum lsn_err
store_step_list(struct store *s, const uint8_t case_id[LSN_ID_BYTES], store_step_cb cb, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_STEP_LIST, "SELECT " STEP_COLUMNS "FROM case_steps "
		"WHERE case_id = ? ORDER BY due_at IS NULL, due_at, id");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, case_id, LSN_ID_BYTES);
	FOR_EACH_ROW(s, st, struct store_step, read_step, cb, arg, "list steps");
}

enum lsn_err
store_step_update(struct store *s, const struct store_step *stp, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, ST_STEP_UPDATE,
		"UPDATE case_steps SET "
		/* a reopened step is announced again when it falls due */
		"notified_soon = CASE WHEN ?1 = 'pending' AND status != 'pending' THEN NULL ELSE notified_soon END, "
		"notified_late = CASE WHEN ?1 = 'pending' AND status != 'pending' THEN NULL ELSE notified_late END, "
		"status = ?1, assignee = ?2, done_by = ?3, done_at = ?4, "
		"skip_reason = ?5, note_seq = ?6, updated_at = ?7 WHERE id = ?8");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_text(st, 1, stp->status, -1, SQLITE_TRANSIENT);
	if (stp->has_assignee)
		store_bind_blob(st, 2, stp->assignee, LSN_ID_BYTES);
	if (stp->has_done_by)
		store_bind_blob(st, 3, stp->done_by, LSN_ID_BYTES);
	if (stp->done_at)
		sqlite3_bind_int64(st, 4, stp->done_at);
	store_bind_text_or_null(st, 5, stp->skip_reason);
	if (stp->note_seq)
		sqlite3_bind_int64(st, 6, stp->note_seq);
	sqlite3_bind_int64(st, 7, now);
	sqlite3_bind_int64(st, 8, stp->id);
	return store_exec(s, st, "update step", true);
}

enum lsn_err
store_step_due_scan(struct store *s, int64_t soon_before, int64_t late_before, store_step_cb cb,
		    void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_STEP_SCAN, "SELECT " STEP_COLUMNS "FROM case_steps t "
		"WHERE t.status = 'pending' AND t.due_at IS NOT NULL "
		"AND ((t.due_at < ?1 AND t.notified_soon IS NULL) OR (t.due_at < ?2 AND t.notified_late IS NULL)) "
		"AND EXISTS (SELECT 1 FROM cases c WHERE c.id = t.case_id AND c.status = 'open') "
		"ORDER BY t.due_at, t.id");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, soon_before);
	sqlite3_bind_int64(st, 2, late_before);
	FOR_EACH_ROW(s, st, struct store_step, read_step, cb, arg, "scan due steps");
}

enum lsn_err
store_step_mark_notified(struct store *s, int64_t id, bool late, int64_t at)
{
	sqlite3_stmt *st = late
		? store_stmt(s, ST_STEP_LATE, "UPDATE case_steps SET notified_late = ?, "
			     "notified_soon = coalesce(notified_soon, ?1) WHERE id = ?")
		: store_stmt(s, ST_STEP_SOON, "UPDATE case_steps SET notified_soon = ? WHERE id = ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, at);
	sqlite3_bind_int64(st, 2, id);
	return store_exec(s, st, "mark step notified", true);
}

/* ---- notices and acknowledgements -------------------------------------- */

static void
read_notice(sqlite3_stmt *st, struct store_notice *n)
{
	store_col_blob(st, 0, n->case_id, sizeof n->case_id);
	n->message_seq = sqlite3_column_int64(st, 1);
	store_col_blob(st, 2, n->posted_by, sizeof n->posted_by);
	n->posted_at = sqlite3_column_int64(st, 3);
	n->escalated_at = sqlite3_column_int64(st, 4);
}

enum lsn_err
store_notice_put(struct store *s, const struct store_notice *n)
{
	sqlite3_stmt *st = store_stmt(s, ST_NOTICE_PUT,
		"INSERT INTO case_notices(case_id, message_seq, posted_by, posted_at) VALUES (?,?,?,?)");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, n->case_id, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 2, n->message_seq);
	store_bind_blob(st, 3, n->posted_by, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 4, n->posted_at);
	return store_exec(s, st, "insert notice", false);
}

enum lsn_err
store_notice_get(struct store *s, const uint8_t case_id[LSN_ID_BYTES], struct store_notice *out)
{
	sqlite3_stmt *st = store_stmt(s, ST_NOTICE_GET, "SELECT case_id, message_seq, posted_by, "
				      "posted_at, escalated_at FROM case_notices WHERE case_id = ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, case_id, LSN_ID_BYTES);
	return fetch_one(s, st, (void (*)(sqlite3_stmt *, void *))read_notice, out, "read notice");
}

enum lsn_err
store_notice_escalate(struct store *s, const uint8_t case_id[LSN_ID_BYTES], int64_t at)
{
	sqlite3_stmt *st = store_stmt(s, ST_NOTICE_ESC,
		"UPDATE case_notices SET escalated_at = ? WHERE case_id = ? AND escalated_at IS NULL");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, at);
	store_bind_blob(st, 2, case_id, LSN_ID_BYTES);
	return store_exec(s, st, "escalate notice", true);
}

enum lsn_err
store_notice_overdue(struct store *s, int64_t before, store_notice_cb cb, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_NOTICE_OVERDUE, "SELECT n.case_id, n.message_seq, "
		"n.posted_by, n.posted_at, n.escalated_at FROM case_notices n JOIN cases c ON c.id = n.case_id "
		"WHERE n.escalated_at IS NULL AND n.posted_at < ? AND c.status = 'open' ORDER BY n.posted_at");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, before);
	FOR_EACH_ROW(s, st, struct store_notice, read_notice, cb, arg, "scan notices");
}

enum lsn_err
store_ack_put(struct store *s, const uint8_t case_id[LSN_ID_BYTES], const uint8_t user[LSN_ID_BYTES],
	      int64_t at, bool *added)
{
	sqlite3_stmt *st = store_stmt(s, ST_ACK_PUT, "INSERT INTO case_acks(case_id, user_id, acked_at) "
				      "VALUES (?,?,?) ON CONFLICT (case_id, user_id) DO NOTHING");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, case_id, LSN_ID_BYTES);
	store_bind_blob(st, 2, user, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 3, at);
	enum lsn_err err = store_exec(s, st, "acknowledge", true);
	*added = err == LSN_OK;
	return err == LSN_ERR_NOT_FOUND ? LSN_OK : err;
}

enum lsn_err
store_ack_list(struct store *s, const uint8_t case_id[LSN_ID_BYTES], store_ack_cb cb, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_ACK_LIST, "SELECT user_id, acked_at FROM case_acks "
				      "WHERE case_id = ? ORDER BY acked_at, user_id");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, case_id, LSN_ID_BYTES);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint8_t user[LSN_ID_BYTES];
		store_col_blob(st, 0, user, sizeof user);
		cb(user, sqlite3_column_int64(st, 1), arg);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "list acknowledgements");
}

enum lsn_err
store_users_with_role(struct store *s, unsigned role_bit, store_id_cb cb, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_ROLE_USERS,
		"SELECT id FROM users WHERE (roles & ?) != 0 ORDER BY id");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, role_bit);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint8_t id[LSN_ID_BYTES];
		store_col_blob(st, 0, id, sizeof id);
		cb(id, arg);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "list users by role");
}

/* ---- notifications ------------------------------------------------------ */

enum lsn_err
store_notification_add(struct store *s, const uint8_t user[LSN_ID_BYTES], struct store_notification *n)
{
	sqlite3_stmt *st = store_stmt(s, ST_NOTIF_ADD, "INSERT INTO notifications(user_id, kind, "
				      "case_id, step_id, created_at, message_seq) VALUES (?,?,?,?,?,?)");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, user, LSN_ID_BYTES);
	sqlite3_bind_text(st, 2, n->kind, -1, SQLITE_TRANSIENT);
	store_bind_blob(st, 3, n->case_id, LSN_ID_BYTES);
	if (n->step_id)
		sqlite3_bind_int64(st, 4, n->step_id);
	sqlite3_bind_int64(st, 5, n->created_at);
	if (n->message_seq)
		sqlite3_bind_int64(st, 6, n->message_seq);
	enum lsn_err err = store_exec(s, st, "add notification", false);
	if (err == LSN_OK)
		n->id = sqlite3_last_insert_rowid(s->db);
	return err;
}

static void
read_notification(sqlite3_stmt *st, struct store_notification *n)
{
	n->id = sqlite3_column_int64(st, 0);
	store_col_text(st, 1, n->kind, sizeof n->kind);
	store_col_blob(st, 2, n->case_id, sizeof n->case_id);
	n->step_id = sqlite3_column_int64(st, 3);
	n->created_at = sqlite3_column_int64(st, 4);
	n->message_seq = sqlite3_column_int64(st, 5);
}

enum lsn_err
store_notification_list(struct store *s, const uint8_t user[LSN_ID_BYTES], store_notification_cb cb,
			void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_NOTIF_LIST, "SELECT id, kind, case_id, step_id, created_at, message_seq "
		"FROM notifications WHERE user_id = ? AND seen_at IS NULL ORDER BY id LIMIT 500");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, user, LSN_ID_BYTES);
	FOR_EACH_ROW(s, st, struct store_notification, read_notification, cb, arg, "list notifications");
}

enum lsn_err
store_notification_seen(struct store *s, const uint8_t user[LSN_ID_BYTES], int64_t upto, int64_t at)
{
	sqlite3_stmt *st = store_stmt(s, ST_NOTIF_SEEN, "UPDATE notifications SET seen_at = ? "
				      "WHERE user_id = ? AND id <= ? AND seen_at IS NULL");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, at);
	store_bind_blob(st, 2, user, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 3, upto);
	return store_exec(s, st, "mark notifications seen", false);
}
