/* store_case.c — pathway templates, cases, step occurrences, discharge
 * notices and acknowledgements, notifications (SQLite). */
#include <stdlib.h>

#include "store_cols.h"
#include "store_internal.h"
#include "store_row.h"

enum {
	SLOT_BASE = 192,
	ST_TPL_LIST = SLOT_BASE, ST_TPL_CURRENT, ST_TPL_SCHEDULE, ST_CASE_INSERT, ST_CASE_GET,
	ST_CASE_BY_CHANNEL, ST_CASE_CLOSE, ST_CASE_FLAGS, ST_CASE_LIST, ST_STEP_INSERT, ST_STEP_GET,
	ST_STEP_LIST, ST_STEP_UPDATE, ST_STEP_SCAN, ST_STEP_SOON, ST_STEP_LATE, ST_NOTICE_PUT,
	ST_NOTICE_GET, ST_NOTICE_ESC, ST_NOTICE_OVERDUE, ST_ACK_PUT, ST_ACK_LIST, ST_ROLE_USERS,
	ST_NOTIF_ADD, ST_NOTIF_LIST, ST_NOTIF_SEEN, ST_TPL_GET, ST_USER_ROLES, ST_STEP_RESCHEDULE,
	ST_EVENT_ADD, ST_EVENT_LIST, ST_NOTIF_PRUNE, ST_CASE_EVENT_PUT, ST_CASE_EVENT_LIST,
};

#define TEMPLATE_COLUMNS "code, version, label_fr, j0_label, sources, flags "
#define CASE_COLUMNS "c.id, c.patient_ref, c.pathway, c.template_version, c.channel_id, c.j0, " \
		     "c.flags, c.status, c.close_reason, c.opened_by, c.opened_at, c.closed_at, c.cpts_id "
#define STEP_COLUMNS "id, case_id, step, occurrence, roles, due_at, status, assignee, done_by, " \
		     "done_at, skip_reason, note_seq, notified_soon, notified_late, done_via "

static const struct store_col template_cols[] = {
	COL_TEXT(0, struct store_template, code),
	COL_I64(1, struct store_template, version),
	COL_TEXT(2, struct store_template, label_fr),
	COL_TEXT(3, struct store_template, j0_label),
	COL_TEXT(4, struct store_template, sources),
	COL_TEXT(5, struct store_template, flags),
};

static const struct store_col case_cols[] = {
	COL_BLOB(0, struct store_case, id),
	COL_TEXT(1, struct store_case, patient_ref),
	COL_TEXT(2, struct store_case, pathway),
	COL_I64(3, struct store_case, template_version),
	COL_BLOB(4, struct store_case, channel),
	COL_I64(5, struct store_case, j0),
	COL_TEXT(6, struct store_case, flags),
	COL_TEXT(7, struct store_case, status),
	COL_TEXT(8, struct store_case, close_reason),
	COL_BLOB(9, struct store_case, opened_by),
	COL_I64(10, struct store_case, opened_at),
	COL_I64(11, struct store_case, closed_at),
	COL_IS_BLOB(12, struct store_case, has_cpts),
	COL_BLOB(12, struct store_case, cpts),
};

static const struct store_col step_cols[] = {
	COL_I64(0, struct store_step, id),
	COL_BLOB(1, struct store_step, case_id),
	COL_TEXT(2, struct store_step, step),
	COL_I64(3, struct store_step, occurrence),
	COL_TEXT(4, struct store_step, roles),
	COL_I64(5, struct store_step, due_at),
	COL_TEXT(6, struct store_step, status),
	COL_IS_BLOB(7, struct store_step, has_assignee),
	COL_BLOB(7, struct store_step, assignee),
	COL_IS_BLOB(8, struct store_step, has_done_by),
	COL_BLOB(8, struct store_step, done_by),
	COL_I64(9, struct store_step, done_at),
	COL_TEXT(10, struct store_step, skip_reason),
	COL_I64(11, struct store_step, note_seq),
	COL_I64(12, struct store_step, notified_soon),
	COL_I64(13, struct store_step, notified_late),
	COL_TEXT(14, struct store_step, done_via),
};

static const struct store_col schedule_cols[] = {
	COL_TEXT(0, struct store_schedule_row, step),
	COL_I64(1, struct store_schedule_row, position),
	COL_TEXT(2, struct store_schedule_row, label_fr),
	COL_TEXT(3, struct store_schedule_row, roles),
	COL_BOOL(4, struct store_schedule_row, mandatory),
	COL_TEXT(5, struct store_schedule_row, flag),
	COL_BOOL(6, struct store_schedule_row, replaces_base),
	COL_NOT_NULL(7, struct store_schedule_row, has_first_day),
	COL_I64(7, struct store_schedule_row, first_day),
	COL_I64(8, struct store_schedule_row, every_days),
	COL_I64(9, struct store_schedule_row, last_day),
	COL_TEXT(10, struct store_schedule_row, unless),
	COL_TEXT(11, struct store_schedule_row, anchor),
};

static const struct store_col notification_cols[] = {
	COL_I64(0, struct store_notification, id),
	COL_TEXT(1, struct store_notification, kind),
	COL_BLOB(2, struct store_notification, case_id),
	COL_I64(3, struct store_notification, step_id),
	COL_I64(4, struct store_notification, created_at),
	COL_I64(5, struct store_notification, message_seq),
};

static const struct store_col event_cols[] = {
	COL_I64(0, struct store_step_event, id),
	COL_BLOB(1, struct store_step_event, case_id),
	COL_I64(2, struct store_step_event, step_id),
	COL_TEXT(3, struct store_step_event, action),
	COL_BLOB(4, struct store_step_event, by),
	COL_I64(5, struct store_step_event, at),
	COL_TEXT(6, struct store_step_event, reason),
	COL_I64(7, struct store_step_event, old_due),
	COL_I64(8, struct store_step_event, new_due),
	COL_I64(9, struct store_step_event, note_seq),
};

struct ack_row {
	uint8_t user[LSN_ID_BYTES];
	int64_t at;
};

static const struct store_col ack_cols[] = {
	COL_BLOB(0, struct ack_row, user),
	COL_I64(1, struct ack_row, at),
};

/* Each row of st into a zeroed T, then cb(&row, arg); returns the result. */
#define EACH_ROW(s, st, T, cols, cb, arg, what)                                   \
	do {                                                                      \
		T row_;                                                           \
		enum lsn_err err_;                                                \
		memset(&row_, 0, sizeof row_);                                    \
		while (store_next((s), (st), STORE_COLS(cols), &row_, &err_, (what))) \
			cb(&row_, (arg));                                         \
		return err_;                                                      \
	} while (0)

/* ---- templates ---------------------------------------------------------- */

enum lsn_err
store_template_list(struct store *s, store_template_cb cb, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_TPL_LIST, "SELECT " TEMPLATE_COLUMNS
				      "FROM pathway_templates WHERE current = 1 ORDER BY code");
	EACH_ROW(s, st, struct store_template, template_cols, cb, arg, "list templates");
}

enum lsn_err
store_template_get(struct store *s, const char *code, int64_t version, struct store_template *out)
{
	return store_one(s, STORE_Q(s, ST_TPL_GET, "SELECT " TEMPLATE_COLUMNS
				    "FROM pathway_templates WHERE code = ? AND version = ?",
				    P_TEXT(code), P_INT(version)),
			 STORE_COLS(template_cols), out, "read template");
}

enum lsn_err
store_template_current(struct store *s, const char *code, struct store_template *out)
{
	return store_one(s, STORE_Q(s, ST_TPL_CURRENT, "SELECT " TEMPLATE_COLUMNS
		"FROM pathway_templates WHERE code = ? AND current = 1 ORDER BY version DESC LIMIT 1",
		P_TEXT(code)), STORE_COLS(template_cols), out, "read template");
}

enum lsn_err
store_template_schedule(struct store *s, const char *code, int64_t version, store_schedule_cb cb,
			void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_TPL_SCHEDULE,
		"SELECT p.step, p.position, p.label_fr, p.roles, p.mandatory, s.flag, s.replaces_base, "
		"s.first_day, s.every_days, s.last_day, s.unless_flag, s.anchor FROM pathway_steps p "
		"JOIN pathway_schedule s ON s.template = p.template AND s.version = p.version "
		"AND s.step = p.step WHERE p.template = ? AND p.version = ? "
		"ORDER BY p.position, s.rowid", P_TEXT(code), P_INT(version));
	EACH_ROW(s, st, struct store_schedule_row, schedule_cols, cb, arg, "read schedule");
}

/* ---- cases -------------------------------------------------------------- */

enum lsn_err
store_case_create(struct store *s, const struct store_case *c)
{
	return store_exec(s, STORE_Q(s, ST_CASE_INSERT,
		"INSERT INTO cases(id, patient_ref, pathway, template_version, channel_id, j0, flags, "
		"status, opened_by, opened_at, cpts_id) VALUES (?,?,?,?,?,?,?,'open',?,?,?)",
		P_ID(c->id), P_TEXT(c->patient_ref), P_TEXT(c->pathway), P_INT(c->template_version),
		P_ID(c->channel), P_INT(c->j0), P_TEXT(c->flags), P_ID(c->opened_by),
		P_INT(c->opened_at), P_BLOB(c->has_cpts ? c->cpts : NULL, LSN_ID_BYTES)),
		"insert case", false);
}

enum lsn_err
store_case_get(struct store *s, const uint8_t id[LSN_ID_BYTES], struct store_case *out)
{
	return store_one(s, STORE_Q(s, ST_CASE_GET, "SELECT " CASE_COLUMNS "FROM cases c WHERE c.id = ?",
				    P_ID(id)), STORE_COLS(case_cols), out, "read case");
}

enum lsn_err
store_case_by_channel(struct store *s, const uint8_t channel[LSN_ID_BYTES], struct store_case *out)
{
	return store_one(s, STORE_Q(s, ST_CASE_BY_CHANNEL,
				    "SELECT " CASE_COLUMNS "FROM cases c WHERE c.channel_id = ?",
				    P_ID(channel)), STORE_COLS(case_cols), out, "read case");
}

enum lsn_err
store_case_close(struct store *s, const uint8_t id[LSN_ID_BYTES], const char *reason, int64_t at)
{
	return store_exec(s, STORE_Q(s, ST_CASE_CLOSE,
		"UPDATE cases SET status = 'closed', close_reason = ?, closed_at = ? "
		"WHERE id = ? AND status = 'open'", P_TEXT(reason), P_INT(at), P_ID(id)),
		"close case", true);
}

enum lsn_err
store_case_set_flags(struct store *s, const uint8_t id[LSN_ID_BYTES], const char *flags)
{
	return store_exec(s, STORE_Q(s, ST_CASE_FLAGS, "UPDATE cases SET flags = ? WHERE id = ?",
				     P_TEXT(flags), P_ID(id)), "set case flags", true);
}

static const struct store_col case_event_cols[] = {
	COL_TEXT(0, struct store_case_event, event),
	COL_I64(1, struct store_case_event, day),
	COL_BLOB(2, struct store_case_event, recorded_by),
	COL_I64(3, struct store_case_event, recorded_at),
};

enum lsn_err
store_case_event_put(struct store *s, const uint8_t case_id[LSN_ID_BYTES],
		     const struct store_case_event *e)
{
	return store_exec(s, STORE_Q(s, ST_CASE_EVENT_PUT,
		"INSERT INTO case_events(case_id, event, day, recorded_by, recorded_at) "
		"VALUES (?,?,?,?,?) ON CONFLICT(case_id, event) DO UPDATE SET day = excluded.day, "
		"recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
		P_ID(case_id), P_TEXT(e->event), P_INT(e->day), P_ID(e->recorded_by),
		P_INT(e->recorded_at)), "record case event", true);
}

enum lsn_err
store_case_event_list(struct store *s, const uint8_t case_id[LSN_ID_BYTES], store_case_event_cb cb,
		      void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_CASE_EVENT_LIST, "SELECT event, day, recorded_by, recorded_at "
				   "FROM case_events WHERE case_id = ? ORDER BY event", P_ID(case_id));
	EACH_ROW(s, st, struct store_case_event, case_event_cols, cb, arg, "list case events");
}

enum lsn_err
store_case_list(struct store *s, const struct store_case_filter *f, store_case_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_CASE_LIST, "SELECT " CASE_COLUMNS "FROM cases c "
		"WHERE (?6 = 1 OR (?1 IS NOT NULL AND EXISTS (SELECT 1 FROM channel_members m "
		"       WHERE m.channel_id = c.channel_id AND m.user_id = ?1 AND m.left_msg_seq IS NULL)) "
		"    OR (?7 IS NOT NULL AND c.cpts_id = ?7) OR (?8 = 1 AND c.cpts_id IS NULL)) "
		"AND (?2 IS NULL OR c.pathway = ?2) "
		"AND (?3 IS NULL OR EXISTS (SELECT 1 FROM case_steps t WHERE t.case_id = c.id "
		"       AND t.status = 'pending' AND t.assignee = ?3)) "
		"AND (?4 = 0 OR EXISTS (SELECT 1 FROM case_steps t WHERE t.case_id = c.id "
		"       AND t.status = 'pending' AND t.due_at IS NOT NULL AND t.due_at < ?4)) "
		"AND (?5 = 0 OR c.status = 'open') "
		"AND (?9 = 0 OR EXISTS (SELECT 1 FROM case_notices n WHERE n.case_id = c.id)) "
		"AND (?10 = 0 OR EXISTS (SELECT 1 FROM case_alerts a WHERE a.case_id = c.id "
		"       AND a.alerted_at >= ?10)) "
		"ORDER BY c.opened_at DESC, c.id",
		P_BLOB(f->member, LSN_ID_BYTES), P_TEXT_OPT(f->pathway),
		P_BLOB(f->assignee, LSN_ID_BYTES), P_INT(f->overdue_at), P_INT(f->open_only),
		P_INT(f->all), P_BLOB(f->cpts, LSN_ID_BYTES), P_INT(f->no_cpts),
		P_INT(f->with_notice), P_INT(f->alerted_since));
	EACH_ROW(s, st, struct store_case, case_cols, cb, arg, "list cases");
}

/* ---- steps -------------------------------------------------------------- */

enum lsn_err
store_step_insert(struct store *s, struct store_step *stp, int64_t now)
{
	enum lsn_err err = store_exec(s, STORE_Q(s, ST_STEP_INSERT,
		"INSERT INTO case_steps(case_id, step, occurrence, roles, due_at, status, assignee, "
		"updated_at) VALUES (?,?,?,?,?,'pending',?,?) ON CONFLICT (case_id, step, occurrence) "
		"DO UPDATE SET due_at = excluded.due_at, updated_at = excluded.updated_at, "
		"notified_soon = CASE WHEN due_at IS excluded.due_at THEN notified_soon END, "
		"notified_late = CASE WHEN due_at IS excluded.due_at THEN notified_late END "
		/* a date someone moved by hand stays where they put it */
		"WHERE status = 'pending' AND NOT EXISTS (SELECT 1 FROM case_step_events e "
		"WHERE e.step_id = case_steps.id AND e.action = 'rescheduled')",
		P_ID(stp->case_id), P_TEXT(stp->step), P_INT(stp->occurrence), P_TEXT(stp->roles),
		P_INT_OPT(stp->due_at), P_BLOB(stp->has_assignee ? stp->assignee : NULL, LSN_ID_BYTES),
		P_INT(now)), "insert step", false);
	if (err == LSN_OK)
		stp->id = sqlite3_changes(s->db) ? sqlite3_last_insert_rowid(s->db) : 0;
	return err;
}

enum lsn_err
store_step_get(struct store *s, int64_t id, struct store_step *out)
{
	return store_one(s, STORE_Q(s, ST_STEP_GET, "SELECT " STEP_COLUMNS "FROM case_steps WHERE id = ?",
				    P_INT(id)), STORE_COLS(step_cols), out, "read step");
}

enum lsn_err
store_step_list(struct store *s, const uint8_t case_id[LSN_ID_BYTES], store_step_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_STEP_LIST, "SELECT " STEP_COLUMNS "FROM case_steps "
		"WHERE case_id = ? ORDER BY due_at IS NULL, due_at, id", P_ID(case_id));
	EACH_ROW(s, st, struct store_step, step_cols, cb, arg, "list steps");
}

enum lsn_err
store_step_update(struct store *s, const struct store_step *stp, int64_t now)
{
	return store_exec(s, STORE_Q(s, ST_STEP_UPDATE,
		"UPDATE case_steps SET "
		/* a reopened step is announced again when it falls due */
		"notified_soon = CASE WHEN ?1 = 'pending' AND status != 'pending' THEN NULL ELSE notified_soon END, "
		"notified_late = CASE WHEN ?1 = 'pending' AND status != 'pending' THEN NULL ELSE notified_late END, "
		"status = ?1, assignee = ?2, done_by = ?3, done_at = ?4, "
		"skip_reason = ?5, note_seq = ?6, updated_at = ?7, "
		"done_via = CASE WHEN ?1 = 'done' THEN ?9 END WHERE id = ?8",
		P_TEXT(stp->status), P_BLOB(stp->has_assignee ? stp->assignee : NULL, LSN_ID_BYTES),
		P_BLOB(stp->has_done_by ? stp->done_by : NULL, LSN_ID_BYTES), P_INT_OPT(stp->done_at),
		P_TEXT_OPT(stp->skip_reason), P_INT_OPT(stp->note_seq), P_INT(now), P_INT(stp->id),
		P_TEXT_OPT(stp->done_via)),
		"update step", true);
}

enum lsn_err
store_step_reschedule(struct store *s, int64_t step_id, int64_t due_at, int64_t now)
{
	return store_exec(s, STORE_Q(s, ST_STEP_RESCHEDULE,
		"UPDATE case_steps SET due_at = ?, notified_soon = NULL, notified_late = NULL, "
		"updated_at = ? WHERE id = ? AND status = 'pending'",
		P_INT(due_at), P_INT(now), P_INT(step_id)), "reschedule step", true);
}

enum lsn_err
store_step_event_add(struct store *s, const struct store_step_event *ev)
{
	return store_exec(s, STORE_Q(s, ST_EVENT_ADD,
		"INSERT INTO case_step_events(case_id, step_id, action, by_user, at, reason, old_due, "
		"new_due, note_seq) VALUES (?,?,?,?,?,?,?,?,?)",
		P_ID(ev->case_id), P_INT(ev->step_id), P_TEXT(ev->action), P_ID(ev->by), P_INT(ev->at),
		P_TEXT_OPT(ev->reason), P_INT_OPT(ev->old_due), P_INT_OPT(ev->new_due),
		P_INT_OPT(ev->note_seq)), "add step event", false);
}

enum lsn_err
store_step_event_list(struct store *s, const uint8_t case_id[LSN_ID_BYTES], store_step_event_cb cb,
		      void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_EVENT_LIST, "SELECT id, case_id, step_id, action, by_user, "
		"at, reason, old_due, new_due, note_seq FROM case_step_events WHERE case_id = ? "
		"ORDER BY id", P_ID(case_id));
	EACH_ROW(s, st, struct store_step_event, event_cols, cb, arg, "list step events");
}

enum lsn_err
store_step_due_scan(struct store *s, int64_t soon_before, int64_t late_before, store_step_cb cb,
		    void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_STEP_SCAN, "SELECT " STEP_COLUMNS "FROM case_steps t "
		"WHERE t.status = 'pending' AND t.due_at IS NOT NULL "
		"AND ((t.due_at < ?1 AND t.notified_soon IS NULL) OR (t.due_at < ?2 AND t.notified_late IS NULL)) "
		"AND EXISTS (SELECT 1 FROM cases c WHERE c.id = t.case_id AND c.status = 'open') "
		"ORDER BY t.due_at, t.id", P_INT(soon_before), P_INT(late_before));
	EACH_ROW(s, st, struct store_step, step_cols, cb, arg, "scan due steps");
}

enum lsn_err
store_step_mark_notified(struct store *s, int64_t id, bool late, int64_t at)
{
	sqlite3_stmt *st = late
		? store_stmt(s, ST_STEP_LATE, "UPDATE case_steps SET notified_late = ?, "
			     "notified_soon = coalesce(notified_soon, ?1) WHERE id = ?")
		: store_stmt(s, ST_STEP_SOON, "UPDATE case_steps SET notified_soon = ? WHERE id = ?");
	if (st)
		store_bind(st, STORE_PARAMS(P_INT(at), P_INT(id)));
	return store_exec(s, st, "mark step notified", true);
}

/* ---- notices and acknowledgements -------------------------------------- */

enum lsn_err
store_notice_put(struct store *s, const struct store_notice *n)
{
	return store_exec(s, STORE_Q(s, ST_NOTICE_PUT,
		"INSERT INTO case_notices(case_id, message_seq, posted_by, posted_at) VALUES (?,?,?,?)",
		P_ID(n->case_id), P_INT(n->message_seq), P_ID(n->posted_by), P_INT(n->posted_at)),
		"insert notice", false);
}

enum lsn_err
store_notice_get(struct store *s, const uint8_t case_id[LSN_ID_BYTES], struct store_notice *out)
{
	return store_one(s, STORE_Q(s, ST_NOTICE_GET, "SELECT case_id, message_seq, posted_by, "
				    "posted_at, escalated_at FROM case_notices WHERE case_id = ?",
				    P_ID(case_id)), STORE_COLS(store_notice_cols), out, "read notice");
}

enum lsn_err
store_notice_escalate(struct store *s, const uint8_t case_id[LSN_ID_BYTES], int64_t at)
{
	return store_exec(s, STORE_Q(s, ST_NOTICE_ESC,
		"UPDATE case_notices SET escalated_at = ? WHERE case_id = ? AND escalated_at IS NULL",
		P_INT(at), P_ID(case_id)), "escalate notice", true);
}

enum lsn_err
store_notice_overdue(struct store *s, int64_t before, store_notice_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_NOTICE_OVERDUE, "SELECT n.case_id, n.message_seq, "
		"n.posted_by, n.posted_at, n.escalated_at FROM case_notices n JOIN cases c ON c.id = n.case_id "
		"WHERE n.escalated_at IS NULL AND n.posted_at < ? AND c.status = 'open' ORDER BY n.posted_at",
		P_INT(before));
	EACH_ROW(s, st, struct store_notice, store_notice_cols, cb, arg, "scan notices");
}

enum lsn_err
store_ack_put(struct store *s, const uint8_t case_id[LSN_ID_BYTES], const uint8_t user[LSN_ID_BYTES],
	      int64_t at, bool *added)
{
	enum lsn_err err = store_exec(s, STORE_Q(s, ST_ACK_PUT,
		"INSERT INTO case_acks(case_id, user_id, acked_at) "
		"VALUES (?,?,?) ON CONFLICT (case_id, user_id) DO NOTHING",
		P_ID(case_id), P_ID(user), P_INT(at)), "acknowledge", true);
	*added = err == LSN_OK;
	return err == LSN_ERR_NOT_FOUND ? LSN_OK : err;
}

enum lsn_err
store_ack_list(struct store *s, const uint8_t case_id[LSN_ID_BYTES], store_ack_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_ACK_LIST, "SELECT user_id, acked_at FROM case_acks "
				   "WHERE case_id = ? ORDER BY acked_at, user_id", P_ID(case_id));
	struct ack_row r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(ack_cols), &r, &err, "list acknowledgements"))
		cb(r.user, r.at, arg);
	return err;
}

enum lsn_err
store_cpts_coordinators(struct store *s, const uint8_t *cpts, store_id_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_ROLE_USERS,
		"SELECT id FROM users WHERE (roles & ?2) != 0 "
		"AND ((?1 IS NOT NULL AND org_id = ?1) OR (?1 IS NULL AND (roles & ?3) != 0)) ORDER BY id",
		P_BLOB(cpts, LSN_ID_BYTES), P_INT(LSN_ROLE_COORDINATOR), P_INT(LSN_ROLE_TERRITORY));
	struct store_id_row r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(store_id_cols), &r, &err, "list users by role"))
		cb(r.id, arg);
	return err;
}

enum lsn_err
store_user_set_roles(struct store *s, const uint8_t user[LSN_ID_BYTES], unsigned roles)
{
	return store_exec(s, STORE_Q(s, ST_USER_ROLES, "UPDATE users SET roles = ? WHERE id = ?",
				     P_INT(roles), P_ID(user)), "set user roles", true);
}

/* ---- notifications ------------------------------------------------------ */

enum lsn_err
store_notification_add(struct store *s, const uint8_t user[LSN_ID_BYTES], struct store_notification *n)
{
	enum lsn_err err = store_exec(s, STORE_Q(s, ST_NOTIF_ADD, "INSERT INTO notifications(user_id, kind, "
		"case_id, step_id, created_at, message_seq) VALUES (?,?,?,?,?,?)",
		P_ID(user), P_TEXT(n->kind), P_ID(n->case_id), P_INT_OPT(n->step_id),
		P_INT(n->created_at), P_INT_OPT(n->message_seq)), "add notification", false);
	if (err == LSN_OK)
		n->id = sqlite3_last_insert_rowid(s->db);
	return err;
}

enum lsn_err
store_notification_list(struct store *s, const uint8_t user[LSN_ID_BYTES], store_notification_cb cb,
			void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_NOTIF_LIST, "SELECT id, kind, case_id, step_id, created_at, message_seq "
		"FROM notifications n WHERE user_id = ? AND seen_at IS NULL "
		"AND EXISTS (SELECT 1 FROM cases c WHERE c.id = n.case_id AND c.status = 'open') "
		"ORDER BY id LIMIT 500", P_ID(user));
	EACH_ROW(s, st, struct store_notification, notification_cols, cb, arg, "list notifications");
}

enum lsn_err
store_notifications_prune(struct store *s, const uint8_t case_id[LSN_ID_BYTES], int64_t at)
{
	return store_exec(s, STORE_Q(s, ST_NOTIF_PRUNE, "UPDATE notifications SET seen_at = ? "
				     "WHERE case_id = ? AND seen_at IS NULL", P_INT(at), P_ID(case_id)),
			  "prune notifications", false);
}

enum lsn_err
store_notification_seen(struct store *s, const uint8_t user[LSN_ID_BYTES], int64_t upto, int64_t at)
{
	return store_exec(s, STORE_Q(s, ST_NOTIF_SEEN, "UPDATE notifications SET seen_at = ? "
				     "WHERE user_id = ? AND id <= ? AND seen_at IS NULL",
				     P_INT(at), P_ID(user), P_INT(upto)),
			  "mark notifications seen", false);
}
