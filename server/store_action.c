/* store_action.c — which steps an action fulfils (template data), the fixed
 * recipients of a discharge notice, and the one-alert-per-message record
 * (SQLite). */
#include "store_cols.h"
#include "store_internal.h"
#include "store_row.h"

enum {
	SLOT_BASE = 240,
	ST_STEP_ACTIONS = SLOT_BASE, ST_RECIPIENT_ADD, ST_RECIPIENTS, ST_ALERT_PUT,
};

struct text_row {
	const char *text;
};

static const struct store_col text_cols[] = {
	COL_TEXT_REF(0, struct text_row, text),
};

enum lsn_err
store_step_actions(struct store *s, const char *template, int64_t version, const char *action,
		   store_text_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_STEP_ACTIONS, "SELECT step FROM pathway_step_actions "
		"WHERE template = ? AND version = ? AND action = ? ORDER BY step",
		P_TEXT(template), P_INT(version), P_TEXT(action));
	struct text_row r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(text_cols), &r, &err, "read step actions"))
		cb(r.text, arg);
	return err;
}

enum lsn_err
store_notice_recipient_add(struct store *s, const uint8_t case_id[LSN_ID_BYTES],
			   const uint8_t user[LSN_ID_BYTES])
{
	return store_exec(s, STORE_Q(s, ST_RECIPIENT_ADD,
		"INSERT INTO case_notice_recipients(case_id, user_id) VALUES (?,?)",
		P_ID(case_id), P_ID(user)), "add notice recipient", false);
}

enum lsn_err
store_notice_recipients(struct store *s, const uint8_t case_id[LSN_ID_BYTES], store_id_cb cb,
			void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_RECIPIENTS, "SELECT user_id FROM case_notice_recipients "
				   "WHERE case_id = ? ORDER BY user_id", P_ID(case_id));
	struct store_id_row r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(store_id_cols), &r, &err, "list notice recipients"))
		cb(r.id, arg);
	return err;
}

enum lsn_err
store_alert_put(struct store *s, const uint8_t case_id[LSN_ID_BYTES], int64_t seq,
		const uint8_t by[LSN_ID_BYTES], int64_t at, const char *kind)
{
	return store_exec(s, STORE_Q(s, ST_ALERT_PUT,
		"INSERT INTO case_alerts(case_id, message_seq, alerted_by, alerted_at, kind) "
		"VALUES (?,?,?,?,?)",
		P_ID(case_id), P_INT(seq), P_ID(by), P_INT(at), P_TEXT(kind)), "record alert", false);
}
