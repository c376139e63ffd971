/* store_report.c — the queries behind the CPTS indicators. They read
 * metadata only (dates, step codes, who acknowledged): nothing clinical is
 * stored on the server to read. */
#include "store_cols.h"
#include "store_internal.h"
#include "store_row.h"

enum {
	SLOT_BASE = 256,
	ST_REP_STEP = SLOT_BASE, ST_REP_DUE, ST_REP_PAIR, ST_REP_NOTICES, ST_REP_OPENED, ST_REP_PROS,
	ST_REP_OVERDUE, ST_CONC_PUT, ST_REP_CONC, ST_REP_CASES,
};

/* "a,b" contains x: instr(',' || list || ',', ',' || x || ',') > 0 */
#define IN_LIST(list, x) "instr(',' || " list " || ',', ',' || " x " || ',') > 0"

struct outcome_row {
	int64_t j0, due_at, done_at;
};

static const struct store_col outcome_cols[] = {
	COL_I64(0, struct outcome_row, j0),
	COL_I64(1, struct outcome_row, due_at),
	COL_I64(2, struct outcome_row, done_at),
};

struct pair_row {
	int64_t first, second;
};

static const struct store_col pair_cols[] = {
	COL_I64(0, struct pair_row, first),
	COL_I64(1, struct pair_row, second),
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
};

enum lsn_err
store_report_step(struct store *s, const char *pathways, const char *step, int64_t occurrence,
		  int64_t from, int64_t to, store_step_outcome_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_REP_STEP,
		"SELECT c.j0, t.due_at, CASE WHEN t.status = 'done' THEN t.done_at ELSE -1 END "
		"FROM cases c JOIN case_steps t ON t.case_id = c.id AND t.step = ?2 AND t.occurrence = ?3 "
		"WHERE " IN_LIST("?1", "c.pathway") " AND c.j0 >= ?4 AND c.j0 < ?5 ORDER BY c.j0",
		P_TEXT(pathways), P_TEXT(step), P_INT(occurrence), P_INT(from), P_INT(to));
	struct outcome_row r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(outcome_cols), &r, &err, "report step"))
		cb(r.j0, r.due_at, r.done_at, arg);
	return err;
}

enum lsn_err
store_report_steps_due(struct store *s, const char *steps, int64_t from, int64_t to,
		       int64_t *planned, int64_t *done)
{
	struct pair_row r;
	enum lsn_err err = store_one(s, STORE_Q(s, ST_REP_DUE,
		"SELECT count(*), coalesce(sum(t.status = 'done'), 0) FROM case_steps t "
		"WHERE " IN_LIST("?1", "t.step") " AND t.due_at >= ?2 AND t.due_at < ?3",
		P_TEXT(steps), P_INT(from), P_INT(to)), STORE_COLS(pair_cols), &r, "report steps due");
	if (err == LSN_OK) {
		*planned = r.first;
		*done = r.second;
	}
	/* an aggregate always returns a row */
	return err == LSN_ERR_NOT_FOUND ? store_db_error(s, "report steps due") : err;
}

enum lsn_err
store_report_step_pair(struct store *s, const char *pathway, const char *first, const char *second,
		       int64_t from, int64_t to, store_pair_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_REP_PAIR,
		"SELECT (SELECT min(done_at) FROM case_steps a WHERE a.case_id = c.id AND a.step = ?2 "
		"        AND a.status = 'done'), "
		"       (SELECT min(done_at) FROM case_steps b WHERE b.case_id = c.id AND b.step = ?3 "
		"        AND b.status = 'done') "
		"FROM cases c WHERE c.pathway = ?1 AND c.j0 >= ?4 AND c.j0 < ?5",
		P_TEXT(pathway), P_TEXT(first), P_TEXT(second), P_INT(from), P_INT(to));
	struct pair_row r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(pair_cols), &r, &err, "report step pair"))
		cb(r.first, r.second, arg);
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
store_report_cases_opened(struct store *s, int64_t from, int64_t to, store_count_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_REP_OPENED,
		"SELECT t.code, (SELECT count(*) FROM cases c WHERE c.pathway = t.code "
		"AND c.opened_at >= ?1 AND c.opened_at < ?2) FROM pathway_templates t "
		"WHERE t.current = 1 ORDER BY t.code", P_INT(from), P_INT(to));
	struct count_row r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(count_cols), &r, &err, "report cases opened"))
		cb(r.code, r.count, arg);
	return err;
}

enum lsn_err
store_report_professionals(struct store *s, int64_t from, int64_t to, int64_t *count)
{
	return store_scalar(s, STORE_Q(s, ST_REP_PROS,
		"SELECT count(DISTINCT m.user_id) FROM cases c JOIN channel_members m "
		"ON m.channel_id = c.channel_id WHERE c.opened_at >= ? AND c.opened_at < ?",
		P_INT(from), P_INT(to)), count, "report professionals");
}

enum lsn_err
store_report_overdue(struct store *s, int64_t before, int64_t *count)
{
	return store_scalar(s, STORE_Q(s, ST_REP_OVERDUE,
		"SELECT count(*) FROM case_steps t JOIN cases c ON c.id = t.case_id "
		"WHERE c.status = 'open' AND t.status = 'pending' AND t.due_at IS NOT NULL AND t.due_at < ?",
		P_INT(before)), count, "report overdue");
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
store_report_conciliations(struct store *s, const char *pathways, int64_t from, int64_t to,
			   store_conciliation_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_REP_CONC,
		"SELECT k.case_id, k.episode, k.status, k.discrepancies, k.unintentional, k.resolved, "
		"k.resolution_ms, k.compared_at, c.j0 FROM conciliation_counts k "
		"JOIN cases c ON c.id = k.case_id "
		"WHERE " IN_LIST("?1", "c.pathway") " AND c.j0 >= ?2 AND c.j0 < ?3 "
		"ORDER BY c.j0, k.case_id, k.compared_at", P_TEXT(pathways), P_INT(from), P_INT(to));
	struct store_conciliation k;
	enum lsn_err err;
	memset(&k, 0, sizeof k);
	while (store_next(s, st, STORE_COLS(conciliation_cols), &k, &err, "report reconciliations"))
		cb(&k, arg);
	return err;
}

enum lsn_err
store_report_case_count(struct store *s, const char *pathways, int64_t from, int64_t to,
			int64_t *count)
{
	return store_scalar(s, STORE_Q(s, ST_REP_CASES,
		"SELECT count(*) FROM cases c WHERE " IN_LIST("?1", "c.pathway")
		" AND c.j0 >= ?2 AND c.j0 < ?3", P_TEXT(pathways), P_INT(from), P_INT(to)),
		count, "report case count");
}
