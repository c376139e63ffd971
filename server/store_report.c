/* store_report.c — the queries behind the CPTS indicators. They read
 * metadata only (dates, step codes, who acknowledged): nothing clinical is
 * stored on the server to read. */
#include "store_cols.h"
#include "store_internal.h"
#include "store_row.h"

enum {
	SLOT_BASE = 256,
	ST_REP_STEP = SLOT_BASE, ST_REP_DUE, ST_REP_PAIR, ST_REP_NOTICES, ST_REP_OPENED, ST_REP_PROS,
	ST_REP_OVERDUE, ST_CONC_PUT, ST_REP_CONC, ST_REP_CASES, ST_REP_PROS_BY,
	ST_CIRCLE_PUT, ST_CIRCLE_ID, ST_CIRCLE_DEL_ATT, ST_CIRCLE_ATT, ST_REP_CIRCLES,
	ST_REP_CIRCLE_PEOPLE, ST_TARGET_PUT, ST_TARGET_DEL, ST_TARGET_LIST, ST_CIRCLE_UPD,
};

/* "a,b" contains x: instr(',' || list || ',', ',' || x || ',') > 0 */
#define IN_LIST(list, x) "instr(',' || " list " || ',', ',' || " x " || ',') > 0"

static const struct store_col outcome_cols[] = {
	COL_TEXT(0, struct store_step_outcome, pathway),
	COL_I64(1, struct store_step_outcome, j0),
	COL_I64(2, struct store_step_outcome, due_at),
	COL_I64(3, struct store_step_outcome, done_at),
};

struct pair_row {
	char pathway[STORE_PATHWAY_CODE];
	int64_t first, second;
};

static const struct store_col pair_cols[] = {
	COL_TEXT(0, struct pair_row, pathway),
	COL_I64(1, struct pair_row, first),
	COL_I64(2, struct pair_row, second),
};

struct count_row {
	const char *code;
	int64_t count;
};

static const struct store_col count_cols[] = {
	COL_TEXT_REF(0, struct count_row, code),
	COL_I64(1, struct count_row, count),
};

static const struct store_col conciliation_cols[] = {
	COL_BLOB(0, struct store_conciliation, case_id),
	COL_BLOB(1, struct store_conciliation, episode),
	COL_TEXT(2, struct store_conciliation, status),
	COL_I64(3, struct store_conciliation, discrepancies),
	COL_I64(4, struct store_conciliation, unintentional),
	COL_I64(5, struct store_conciliation, resolved),
	COL_TEXT_REF(6, struct store_conciliation, resolution_ms),
	COL_I64(7, struct store_conciliation, compared_at),
	COL_I64(8, struct store_conciliation, j0),
	COL_TEXT(9, struct store_conciliation, pathway),
};

enum lsn_err
store_report_step(struct store *s, const uint8_t *cpts, const char *pathways, const char *steps,
		  int64_t occurrence, int64_t from, int64_t to, store_step_outcome_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_REP_STEP,
		"SELECT c.pathway, c.j0, t.due_at, "
		"CASE WHEN t.status = 'done' THEN t.done_at ELSE -1 END "
		"FROM cases c JOIN case_steps t ON t.case_id = c.id "
		"WHERE (?1 IS NULL OR " IN_LIST("?1", "c.pathway") ") AND " IN_LIST("?2", "t.step")
		" AND (?3 = 0 OR t.occurrence = ?3) AND t.due_at >= ?4 AND t.due_at < ?5 "
		"AND (?6 IS NULL OR c.cpts_id = ?6) ORDER BY t.due_at",
		P_TEXT(pathways), P_TEXT(steps), P_INT(occurrence), P_INT(from), P_INT(to), (cpts ? P_ID(cpts) : P_NULL));
	struct store_step_outcome r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(outcome_cols), &r, &err, "report step"))
		cb(&r, arg);
	return err;
}

enum lsn_err
store_report_step_pair(struct store *s, const uint8_t *cpts, const char *pathway, const char *first,
		       const char *second, int64_t from, int64_t to, store_pair_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_REP_PAIR,
		"SELECT c.pathway, "
		"       (SELECT min(done_at) FROM case_steps a WHERE a.case_id = c.id AND a.step = ?2 "
		"        AND a.status = 'done'), "
		"       (SELECT min(done_at) FROM case_steps b WHERE b.case_id = c.id AND b.step = ?3 "
		"        AND b.status = 'done') "
		"FROM cases c WHERE c.pathway = ?1 AND c.j0 >= ?4 AND c.j0 < ?5 "
		"AND (?6 IS NULL OR c.cpts_id = ?6)",
		P_TEXT(pathway), P_TEXT(first), P_TEXT(second), P_INT(from), P_INT(to), (cpts ? P_ID(cpts) : P_NULL));
	struct pair_row r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(pair_cols), &r, &err, "report step pair"))
		cb(r.pathway, r.first, r.second, arg);
	return err;
}

enum lsn_err
store_report_notices(struct store *s, int64_t from, int64_t to, store_notice_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_REP_NOTICES,
		"SELECT case_id, message_seq, posted_by, posted_at, escalated_at FROM case_notices "
		"WHERE posted_at >= ? AND posted_at < ? ORDER BY posted_at", P_INT(from), P_INT(to));
	struct store_notice n;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(store_notice_cols), &n, &err, "report notices"))
		cb(&n, arg);
	return err;
}

enum lsn_err
store_report_cases_opened(struct store *s, const uint8_t *cpts, int64_t from, int64_t to,
			  store_count_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_REP_OPENED,
		"SELECT t.code, (SELECT count(*) FROM cases c WHERE c.pathway = t.code "
		"AND c.opened_at >= ?1 AND c.opened_at < ?2 AND (?3 IS NULL OR c.cpts_id = ?3)) "
		"FROM pathway_templates t WHERE t.current = 1 ORDER BY t.code", P_INT(from), P_INT(to),
		(cpts ? P_ID(cpts) : P_NULL));
	struct count_row r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(count_cols), &r, &err, "report cases opened"))
		cb(r.code, r.count, arg);
	return err;
}

enum lsn_err
store_report_professionals(struct store *s, const uint8_t *cpts, int64_t from, int64_t to,
			   int64_t *count)
{
	return store_scalar(s, STORE_Q(s, ST_REP_PROS,
		"SELECT count(DISTINCT m.user_id) FROM cases c JOIN channel_members m "
		"ON m.channel_id = c.channel_id WHERE c.opened_at >= ?1 AND c.opened_at < ?2 "
		"AND (?3 IS NULL OR c.cpts_id = ?3)",
		P_INT(from), P_INT(to), (cpts ? P_ID(cpts) : P_NULL)), count, "report professionals");
}

enum lsn_err
store_report_professionals_by(struct store *s, const uint8_t *cpts, int64_t from, int64_t to,
			      store_count_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_REP_PROS_BY,
		"SELECT c.pathway, count(DISTINCT m.user_id) FROM cases c JOIN channel_members m "
		"ON m.channel_id = c.channel_id WHERE c.opened_at >= ?1 AND c.opened_at < ?2 "
		"AND (?3 IS NULL OR c.cpts_id = ?3) GROUP BY c.pathway ORDER BY c.pathway",
		P_INT(from), P_INT(to), (cpts ? P_ID(cpts) : P_NULL));
	struct count_row r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(count_cols), &r, &err, "report professionals"))
		cb(r.code, r.count, arg);
	return err;
}

enum lsn_err
store_report_overdue(struct store *s, const uint8_t *cpts, int64_t before, store_count_cb cb,
		     void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_REP_OVERDUE,
		"SELECT c.pathway, count(*) FROM case_steps t JOIN cases c ON c.id = t.case_id "
		"WHERE c.status = 'open' AND t.status = 'pending' AND t.due_at IS NOT NULL "
		"AND t.due_at > 0 AND t.due_at < ?1 AND (?2 IS NULL OR c.cpts_id = ?2) "
		"GROUP BY c.pathway ORDER BY c.pathway", P_INT(before), (cpts ? P_ID(cpts) : P_NULL));
	struct count_row r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(count_cols), &r, &err, "report overdue"))
		cb(r.code, r.count, arg);
	return err;
}

enum lsn_err
store_conciliation_put(struct store *s, const struct store_conciliation *c, int64_t now)
{
	return store_exec(s, STORE_Q(s, ST_CONC_PUT,
		"INSERT OR REPLACE INTO conciliation_counts(case_id, episode, transition, status, "
		"source_types, lines_bmo, lines_order, discrepancies, by_type, by_intent, unintentional, "
		"resolved, resolution_ms, started_at, compared_at, closed_at, reported_by, updated_at) "
		"VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		P_ID(c->case_id), P_ID(c->episode), P_TEXT(c->transition), P_TEXT(c->status),
		P_INT(c->source_types), P_INT(c->lines_bmo), P_INT(c->lines_order),
		P_INT(c->discrepancies), P_TEXT(c->by_type), P_TEXT(c->by_intent),
		P_INT(c->unintentional), P_INT(c->resolved), P_TEXT(c->resolution_ms),
		P_INT(c->started_at), P_INT_OPT(c->compared_at), P_INT_OPT(c->closed_at),
		P_ID(c->reported_by), P_INT(now)), "store reconciliation counts", false);
}

enum lsn_err
store_report_conciliations(struct store *s, const uint8_t *cpts, const char *pathways, int64_t from,
			   int64_t to, store_conciliation_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_REP_CONC,
		"SELECT k.case_id, k.episode, k.status, k.discrepancies, k.unintentional, k.resolved, "
		"k.resolution_ms, k.compared_at, c.j0, c.pathway FROM conciliation_counts k "
		"JOIN cases c ON c.id = k.case_id "
		"WHERE " IN_LIST("?1", "c.pathway") " AND c.j0 >= ?2 AND c.j0 < ?3 "
		"AND (?4 IS NULL OR c.cpts_id = ?4) ORDER BY c.j0, k.case_id, k.compared_at",
		P_TEXT(pathways), P_INT(from), P_INT(to), (cpts ? P_ID(cpts) : P_NULL));
	struct store_conciliation k;
	enum lsn_err err;
	memset(&k, 0, sizeof k);
	while (store_next(s, st, STORE_COLS(conciliation_cols), &k, &err, "report reconciliations"))
		cb(&k, arg);
	return err;
}

static const struct store_col case_cols[] = {
	COL_BLOB(0, struct store_report_case, id),
	COL_TEXT(1, struct store_report_case, pathway),
	COL_I64(2, struct store_report_case, j0),
};

enum lsn_err
store_report_cases(struct store *s, const uint8_t *cpts, const char *pathways, int64_t from,
		   int64_t to, store_report_case_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_REP_CASES,
		"SELECT c.id, c.pathway, c.j0 FROM cases c WHERE " IN_LIST("?1", "c.pathway")
		" AND c.j0 >= ?2 AND c.j0 < ?3 AND (?4 IS NULL OR c.cpts_id = ?4) ORDER BY c.j0",
		P_TEXT(pathways), P_INT(from), P_INT(to), (cpts ? P_ID(cpts) : P_NULL));
	struct store_report_case r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(case_cols), &r, &err, "report cases"))
		cb(&r, arg);
	return err;
}

/* ---- quality-circle sessions -------------------------------------------- */

enum lsn_err
store_circle_session_put(struct store *s, const struct store_circle_session *cs,
			 const uint8_t (*attendees)[LSN_ID_BYTES], size_t n, bool *replaced)
{
	int64_t old = 0;
	enum lsn_err err = store_scalar(s, STORE_Q(s, ST_CIRCLE_ID,
		"SELECT coalesce((SELECT id FROM circle_sessions WHERE channel_id = ? AND day = ?), 0)",
		P_ID(cs->channel), P_INT(cs->day)), &old, "circle session");
	if (err != LSN_OK)
		return err;
	*replaced = old != 0;
	if (old) {
		err = store_exec(s, STORE_Q(s, ST_CIRCLE_DEL_ATT,
			"DELETE FROM circle_session_attendees WHERE session_id = ?", P_INT(old)),
			"circle session", false);
		if (err == LSN_OK)
			err = store_exec(s, STORE_Q(s, ST_CIRCLE_UPD,
				"UPDATE circle_sessions SET cpts_id = ?, participants = ?, recorded_by = ?, "
				"recorded_at = ? WHERE id = ?", cs->has_cpts ? P_ID(cs->cpts) : P_NULL,
				P_INT(n),
				P_ID(cs->recorded_by), P_INT(cs->recorded_at), P_INT(old)),
				"circle session", true);
	} else {
		err = store_exec(s, STORE_Q(s, ST_CIRCLE_PUT,
			"INSERT INTO circle_sessions(channel_id, cpts_id, day, day_text, participants, "
			"recorded_by, recorded_at) VALUES (?,?,?,?,?,?,?)",
			P_ID(cs->channel), cs->has_cpts ? P_ID(cs->cpts) : P_NULL, P_INT(cs->day),
			P_TEXT(cs->day_text),
			P_INT(n), P_ID(cs->recorded_by), P_INT(cs->recorded_at)), "circle session", false);
	}
	if (err != LSN_OK)
		return err;
	int64_t id = old ? old : sqlite3_last_insert_rowid(s->db);
	for (size_t i = 0; i < n && err == LSN_OK; i++)
		err = store_exec(s, STORE_Q(s, ST_CIRCLE_ATT,
			"INSERT OR IGNORE INTO circle_session_attendees(session_id, user_id) VALUES (?,?)",
			P_INT(id), P_ID(attendees[i])), "circle session attendee", false);
	return err;
}

enum lsn_err
store_report_circles(struct store *s, const uint8_t *cpts, int64_t from, int64_t to,
		     int64_t *sessions, int64_t *participants, int64_t *distinct)
{
	struct {
		int64_t sessions, participants;
	} r = {0};
	static const struct store_col cols[] = {
		{0, SC_I64, 0, sizeof(int64_t), 0},
		{1, SC_I64, sizeof(int64_t), sizeof(int64_t), 0},
	};
	enum lsn_err err = store_one(s, STORE_Q(s, ST_REP_CIRCLES,
		"SELECT count(*), coalesce(sum(participants), 0) FROM circle_sessions "
		"WHERE day >= ?1 AND day < ?2 AND (?3 IS NULL OR cpts_id = ?3)", P_INT(from), P_INT(to),
		(cpts ? P_ID(cpts) : P_NULL)), STORE_COLS(cols), &r,
		"report circles");
	if (err != LSN_OK)
		return err == LSN_ERR_NOT_FOUND ? store_db_error(s, "report circles") : err;
	*sessions = r.sessions;
	*participants = r.participants;
	return store_scalar(s, STORE_Q(s, ST_REP_CIRCLE_PEOPLE,
		"SELECT count(DISTINCT a.user_id) FROM circle_sessions c "
		"JOIN circle_session_attendees a ON a.session_id = c.id "
		"WHERE c.day >= ?1 AND c.day < ?2 AND (?3 IS NULL OR c.cpts_id = ?3)", P_INT(from),
		P_INT(to), (cpts ? P_ID(cpts) : P_NULL)), distinct,
		"report circle participants");
}

/* ---- quantified targets ------------------------------------------------- */

enum lsn_err
store_target_put(struct store *s, const struct store_target *t)
{
	return store_exec(s, STORE_Q(s, ST_TARGET_PUT,
		"INSERT OR REPLACE INTO report_targets(cpts_id, indicator, value_milli, direction, "
		"set_by, set_at) VALUES (?,?,?,?,?,?)", P_ID(t->cpts), P_TEXT(t->indicator),
		P_INT(t->value_milli), P_TEXT(t->direction), t->has_set_by ? P_ID(t->set_by) : P_NULL,
		P_INT(t->set_at)), "store target", false);
}

enum lsn_err
store_target_delete(struct store *s, const uint8_t cpts[LSN_ID_BYTES], const char *indicator)
{
	return store_exec(s, STORE_Q(s, ST_TARGET_DEL,
		"DELETE FROM report_targets WHERE cpts_id = ? AND indicator = ?", P_ID(cpts),
		P_TEXT(indicator)), "delete target", true);
}

static const struct store_col target_cols[] = {
	COL_BLOB(0, struct store_target, cpts),
	COL_TEXT(1, struct store_target, indicator),
	COL_I64(2, struct store_target, value_milli),
	COL_TEXT(3, struct store_target, direction),
	COL_NOT_NULL(4, struct store_target, has_set_by),
	COL_BLOB(4, struct store_target, set_by),
	COL_I64(5, struct store_target, set_at),
};

enum lsn_err
store_target_list(struct store *s, const uint8_t cpts[LSN_ID_BYTES], store_target_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_TARGET_LIST,
		"SELECT cpts_id, indicator, value_milli, direction, set_by, set_at FROM report_targets "
		"WHERE ?1 IS NULL OR cpts_id = ?1 ORDER BY cpts_id, indicator",
		cpts ? P_ID(cpts) : P_NULL);
	struct store_target t;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(target_cols), &t, &err, "list targets"))
		cb(&t, arg);
	return err;
}
