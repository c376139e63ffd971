/* store_alert.c — alert kinds and their routes, and the measurement
 * thresholds of a template version (template data, 011), and the alerts
 * raised on a case: one's kind, those of a period (SQLite). */
#include <string.h>

#include "store_internal.h"
#include "store_row.h"

enum {
	SLOT_BASE = 340,
	ST_ROUTE_GET = SLOT_BASE, ST_ROUTE_LIST, ST_THRESHOLD_LIST, ST_ALERT_KIND, ST_CASE_ALERTS,
};

static const struct store_col route_cols[] = {
	COL_TEXT(0, struct store_alert_route, kind),
	COL_TEXT(1, struct store_alert_route, roles),
	COL_TEXT(2, struct store_alert_route, label_fr),
};

#define ROUTE_COLUMNS "kind, roles, label_fr FROM pathway_alert_routes "

enum lsn_err
store_alert_route(struct store *s, const char *template, int64_t version, const char *kind,
		  struct store_alert_route *out)
{
	return store_one(s, STORE_Q(s, ST_ROUTE_GET, "SELECT " ROUTE_COLUMNS
				    "WHERE template = ? AND version = ? AND kind = ?",
				    P_TEXT(template), P_INT(version), P_TEXT(kind)),
			 STORE_COLS(route_cols), out, "read alert route");
}

enum lsn_err
store_alert_routes(struct store *s, const char *template, int64_t version, store_alert_route_cb cb,
		   void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_ROUTE_LIST, "SELECT " ROUTE_COLUMNS
				   "WHERE template = ? AND version = ? ORDER BY position",
				   P_TEXT(template), P_INT(version));
	struct store_alert_route r;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(route_cols), &r, &err, "list alert routes"))
		cb(&r, arg);
	return err;
}

static const struct store_col threshold_cols[] = {
	COL_TEXT(0, struct store_threshold, measure),
	COL_TEXT(1, struct store_threshold, rule),
	COL_I64(2, struct store_threshold, amount_milli),
	COL_I64(3, struct store_threshold, days),
	COL_TEXT(4, struct store_threshold, alert_kind),
};

enum lsn_err
store_thresholds(struct store *s, const char *template, int64_t version, store_threshold_cb cb,
		 void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_THRESHOLD_LIST, "SELECT measure, rule, "
				   "CAST(round(amount * 1000) AS INTEGER), days, alert_kind "
				   "FROM pathway_thresholds WHERE template = ? AND version = ? "
				   "ORDER BY position", P_TEXT(template), P_INT(version));
	struct store_threshold t;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(threshold_cols), &t, &err, "list thresholds"))
		cb(&t, arg);
	return err;
}

struct kind_row {
	char kind[STORE_ALERT_KIND];
};

static const struct store_col kind_cols[] = {
	COL_TEXT(0, struct kind_row, kind),
};

enum lsn_err
store_alert_kind(struct store *s, const uint8_t case_id[LSN_ID_BYTES], int64_t seq, char *out,
		 size_t cap)
{
	struct kind_row r;
	enum lsn_err err = store_one(s, STORE_Q(s, ST_ALERT_KIND, "SELECT kind FROM case_alerts "
						"WHERE case_id = ? AND message_seq = ?",
						P_ID(case_id), P_INT(seq)),
				     STORE_COLS(kind_cols), &r, "read alert kind");
	if (err == LSN_OK)
		snprintf(out, cap, "%s", r.kind);
	return err;
}

static const struct store_col raised_cols[] = {
	COL_I64(0, struct store_raised_alert, seq),
	COL_TEXT(1, struct store_raised_alert, kind),
	COL_TEXT(2, struct store_raised_alert, label_fr),
	COL_BLOB(3, struct store_raised_alert, by),
	COL_I64(4, struct store_raised_alert, at),
};

enum lsn_err
store_case_alerts(struct store *s, const uint8_t case_id[LSN_ID_BYTES], int64_t since,
		  store_raised_alert_cb cb, void *arg)
{
	sqlite3_stmt *st = STORE_Q(s, ST_CASE_ALERTS, "SELECT a.message_seq, a.kind, "
		"COALESCE(r.label_fr, a.kind), a.alerted_by, a.alerted_at FROM case_alerts a "
		"JOIN cases c ON c.id = a.case_id "
		"LEFT JOIN pathway_alert_routes r ON r.template = c.pathway "
		"AND r.version = c.template_version AND r.kind = a.kind "
		"WHERE a.case_id = ? AND a.alerted_at >= ? "
		"ORDER BY a.alerted_at DESC, a.message_seq DESC", P_ID(case_id), P_INT(since));
	struct store_raised_alert a;
	enum lsn_err err;
	while (store_next(s, st, STORE_COLS(raised_cols), &a, &err, "list case alerts"))
		cb(&a, arg);
	return err;
}
