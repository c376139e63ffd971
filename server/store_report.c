/* store_report.c — the queries behind the CPTS indicators. They read
 * metadata only (dates, step codes, who acknowledged): nothing clinical is
 * stored on the server to read. */
#include "store_internal.h"

enum {
	SLOT_BASE = 256,
	ST_REP_STEP = SLOT_BASE, ST_REP_DUE, ST_REP_PAIR, ST_REP_NOTICES, ST_REP_OPENED, ST_REP_PROS,
	ST_REP_OVERDUE, ST_CONC_PUT, ST_REP_CONC, ST_REP_CASES,
};

/* "a,b" contains x: instr(',' || list || ',', ',' || x || ',') > 0 */
#define IN_LIST(list, x) "instr(',' || " list " || ',', ',' || " x " || ',') > 0"

enum lsn_err
store_report_step(struct store *s, const char *pathways, const char *step, int64_t occurrence,
		  int64_t from, int64_t to, store_step_outcome_cb cb, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_REP_STEP,
		"SELECT c.j0, t.due_at, CASE WHEN t.status = 'done' THEN t.done_at ELSE -1 END "
		"FROM cases c JOIN case_steps t ON t.case_id = c.id AND t.step = ?2 AND t.occurrence = ?3 "
		"WHERE " IN_LIST("?1", "c.pathway") " AND c.j0 >= ?4 AND c.j0 < ?5 ORDER BY c.j0");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_text(st, 1, pathways, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, step, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, occurrence);
	sqlite3_bind_int64(st, 4, from);
	sqlite3_bind_int64(st, 5, to);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb(sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2), arg);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "report step");
}

enum lsn_err
store_report_steps_due(struct store *s, const char *steps, int64_t from, int64_t to,
		       int64_t *planned, int64_t *done)
{
	sqlite3_stmt *st = store_stmt(s, ST_REP_DUE,
		"SELECT count(*), coalesce(sum(t.status = 'done'), 0) FROM case_steps t "
		"WHERE " IN_LIST("?1", "t.step") " AND t.due_at >= ?2 AND t.due_at < ?3");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_text(st, 1, steps, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*planned = sqlite3_column_int64(st, 0);
		*done = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? LSN_OK : store_db_error(s, "report steps due");
}

enum lsn_err
store_report_step_pair(struct store *s, const char *pathway, const char *first, const char *second,
		       int64_t from, int64_t to, store_pair_cb cb, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_REP_PAIR,
		"SELECT (SELECT min(done_at) FROM case_steps a WHERE a.case_id = c.id AND a.step = ?2 "
		"        AND a.status = 'done'), "
		"       (SELECT min(done_at) FROM case_steps b WHERE b.case_id = c.id AND b.step = ?3 "
		"        AND b.status = 'done') "
		"FROM cases c WHERE c.pathway = ?1 AND c.j0 >= ?4 AND c.j0 < ?5");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_text(st, 1, pathway, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, first, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, second, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, from);
	sqlite3_bind_int64(st, 5, to);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb(sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), arg);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "report step pair");
}

enum lsn_err
store_report_notices(struct store *s, int64_t from, int64_t to, store_notice_cb cb, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_REP_NOTICES,
		"SELECT case_id, message_seq, posted_by, posted_at, escalated_at FROM case_notices "
		"WHERE posted_at >= ? AND posted_at < ? ORDER BY posted_at");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_notice n;
		store_col_blob(st, 0, n.case_id, sizeof n.case_id);
		n.message_seq = sqlite3_column_int64(st, 1);
		store_col_blob(st, 2, n.posted_by, sizeof n.posted_by);
		n.posted_at = sqlite3_column_int64(st, 3);
		n.escalated_at = sqlite3_column_int64(st, 4);
		cb(&n, arg);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "report notices");
}

enum lsn_err
store_report_cases_opened(struct store *s, int64_t from, int64_t to, store_count_cb cb, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_REP_OPENED,
		"SELECT t.code, (SELECT count(*) FROM cases c WHERE c.pathway = t.code "
		"AND c.opened_at >= ?1 AND c.opened_at < ?2) FROM pathway_templates t "
		"WHERE t.current = 1 ORDER BY t.code");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1), arg);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "report cases opened");
}

enum lsn_err
store_report_professionals(struct store *s, int64_t from, int64_t to, int64_t *count)
{
	sqlite3_stmt *st = store_stmt(s, ST_REP_PROS,
		"SELECT count(DISTINCT m.user_id) FROM cases c JOIN channel_members m "
		"ON m.channel_id = c.channel_id WHERE c.opened_at >= ? AND c.opened_at < ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? LSN_OK : store_db_error(s, "report professionals");
}

enum lsn_err
store_report_overdue(struct store *s, int64_t before, int64_t *count)
{
	sqlite3_stmt *st = store_stmt(s, ST_REP_OVERDUE,
		"SELECT count(*) FROM case_steps t JOIN cases c ON c.id = t.case_id "
		"WHERE c.status = 'open' AND t.status = 'pending' AND t.due_at IS NOT NULL AND t.due_at < ?");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_int64(st, 1, before);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? LSN_OK : store_db_error(s, "report overdue");
}

enum lsn_err
store_conciliation_put(struct store *s, const struct store_conciliation *c, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, ST_CONC_PUT,
		"INSERT OR REPLACE INTO conciliation_counts(case_id, episode, transition, status, "
		"source_types, lines_bmo, lines_order, discrepancies, by_type, by_intent, unintentional, "
		"resolved, resolution_ms, started_at, compared_at, closed_at, reported_by, updated_at) "
		"VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	store_bind_blob(st, 1, c->case_id, LSN_ID_BYTES);
	store_bind_blob(st, 2, c->episode, LSN_ID_BYTES);
	sqlite3_bind_text(st, 3, c->transition, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, c->status, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, c->source_types);
	sqlite3_bind_int64(st, 6, c->lines_bmo);
	sqlite3_bind_int64(st, 7, c->lines_order);
	sqlite3_bind_int64(st, 8, c->discrepancies);
	sqlite3_bind_text(st, 9, c->by_type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 10, c->by_intent, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 11, c->unintentional);
	sqlite3_bind_int64(st, 12, c->resolved);
	sqlite3_bind_text(st, 13, c->resolution_ms, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 14, c->started_at);
	if (c->compared_at)
		sqlite3_bind_int64(st, 15, c->compared_at);
	if (c->closed_at)
		sqlite3_bind_int64(st, 16, c->closed_at);
	store_bind_blob(st, 17, c->reported_by, LSN_ID_BYTES);
	sqlite3_bind_int64(st, 18, now);
	return store_exec(s, st, "store reconciliation counts", false);
}

enum lsn_err
store_report_conciliations(struct store *s, const char *pathways, int64_t from, int64_t to,
			   store_conciliation_cb cb, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_REP_CONC,
		"SELECT k.case_id, k.episode, k.status, k.discrepancies, k.unintentional, k.resolved, "
		"k.resolution_ms, k.compared_at, c.j0 FROM conciliation_counts k "
		"JOIN cases c ON c.id = k.case_id "
		"WHERE " IN_LIST("?1", "c.pathway") " AND c.j0 >= ?2 AND c.j0 < ?3 "
		"ORDER BY c.j0, k.case_id, k.compared_at");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_text(st, 1, pathways, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_conciliation k;
		memset(&k, 0, sizeof k);
		store_col_blob(st, 0, k.case_id, sizeof k.case_id);
		store_col_blob(st, 1, k.episode, sizeof k.episode);
		store_col_text(st, 2, k.status, sizeof k.status);
		k.discrepancies = sqlite3_column_int64(st, 3);
		k.unintentional = sqlite3_column_int64(st, 4);
		k.resolved = sqlite3_column_int64(st, 5);
		k.resolution_ms = (const char *)sqlite3_column_text(st, 6);
		k.compared_at = sqlite3_column_int64(st, 7);
		k.j0 = sqlite3_column_int64(st, 8);
		cb(&k, arg);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? LSN_OK : store_db_error(s, "report reconciliations");
}

enum lsn_err
store_report_case_count(struct store *s, const char *pathways, int64_t from, int64_t to,
			int64_t *count)
{
	sqlite3_stmt *st = store_stmt(s, ST_REP_CASES,
		"SELECT count(*) FROM cases c WHERE " IN_LIST("?1", "c.pathway")
		" AND c.j0 >= ?2 AND c.j0 < ?3");
	if (st == NULL)
		return LSN_ERR_STORAGE;
	sqlite3_bind_text(st, 1, pathways, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, from);
	sqlite3_bind_int64(st, 3, to);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? LSN_OK : store_db_error(s, "report case count");
}
