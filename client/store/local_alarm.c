/* local_alarm.c — membership alarms of a channel (local_alarm.h). */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "local_alarm.h"
#include "sql.h"

enum lsn_err
local_alarm_note(struct profile *p, const struct local_alarm *a, bool *added,
		 struct lsn_status *st)
{
	int64_t now = lsn_clock_now_ms();
	bool active = strcmp(a->state, "active") == 0;
	enum lsn_err err = sql_exec(
		p->db, st, "INSERT INTO mlog_alarms (channel, head_seq, head_hash, source, by_user,"
			   " msg_seq, state, noted_at, raised_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7,"
			   " ?8, ?9 WHERE NOT EXISTS (SELECT 1 FROM mlog_alarms WHERE channel = ?1"
			   " AND head_seq = ?2 AND head_hash = ?3 AND state <> 'cleared')"
			   /* a member sending made-up heads cannot grow the table:
			    * one open alarm is enough to stop sharing */
			   " AND (SELECT count(*) FROM mlog_alarms WHERE channel = ?1"
			   " AND state <> 'cleared') < " LOCAL_ALARM_OPEN_MAX_TEXT,
		"inktbntnn", a->channel, a->head_seq, a->head_hash, a->source,
		a->has_by ? a->by_user : NULL, (size_t)LSN_ID_BYTES, a->msg_seq, a->state, now,
		active ? now : (int64_t)0);
	if (added)
		*added = err == LSN_OK && sql_changes(p->db) > 0;
	return err;
}

enum lsn_err
local_alarm_each(struct profile *p, const uint8_t *channel, const char *state,
		 bool (*fn)(void *arg, const struct local_alarm *a), void *arg,
		 struct lsn_status *st)
{
	struct sql_q q;
	if (!sql_query(p->db, &q, st, "SELECT id, channel, head_seq, head_hash, source, by_user,"
				      " msg_seq, state, noted_at, raised_at, cleared_at FROM mlog_alarms"
				      " WHERE (?1 IS NULL OR channel = ?1) AND (?2 IS NULL OR state = ?2)"
				      " ORDER BY id", "bt", channel, channel ? (size_t)LSN_ID_BYTES : 0,
		       state))
		return st->err;
	bool go = true;
	while (go && sql_next(&q)) {
		struct local_alarm a;
		memset(&a, 0, sizeof a);
		a.id = sql_int(&q, 0);
		if (!sql_copy(&q, 1, a.channel, LSN_ID_BYTES) || !sql_copy(&q, 3, a.head_hash, 32))
			continue;
		a.head_seq = sql_int(&q, 2);
		snprintf(a.source, sizeof a.source, "%s", sql_text(&q, 4) ? sql_text(&q, 4) : "");
		a.has_by = sql_copy(&q, 5, a.by_user, LSN_ID_BYTES);
		a.msg_seq = sql_int(&q, 6);
		snprintf(a.state, sizeof a.state, "%s", sql_text(&q, 7) ? sql_text(&q, 7) : "");
		a.noted_at = sql_int(&q, 8);
		a.raised_at = sql_int(&q, 9);
		a.cleared_at = sql_int(&q, 10);
		go = fn(arg, &a);
	}
	return sql_end(&q, st);
}

enum lsn_err
local_alarm_set_state(struct profile *p, int64_t id, const char *state, int64_t at,
		      struct lsn_status *st)
{
	return sql_exec(p->db, st, "UPDATE mlog_alarms SET state = ?1,"
				   " raised_at = CASE WHEN ?1 = 'active' THEN ?2 ELSE raised_at END,"
				   " cleared_at = CASE WHEN ?1 = 'cleared' THEN ?2 ELSE cleared_at END"
				   " WHERE id = ?3", "tnn", state, at, id);
}

enum lsn_err
local_alarm_drop(struct profile *p, int64_t id, struct lsn_status *st)
{
	return sql_exec(p->db, st, "DELETE FROM mlog_alarms WHERE id = ? AND state = 'pending'",
			"n", id);
}

enum lsn_err
local_alarm_drop_pending(struct profile *p, const uint8_t channel[LSN_ID_BYTES],
			 struct lsn_status *st)
{
	return sql_exec(p->db, st, "DELETE FROM mlog_alarms WHERE channel = ? AND state = 'pending'",
			"i", channel);
}

bool
local_alarm_any(struct profile *p, const uint8_t channel[LSN_ID_BYTES], const char *state)
{
	struct lsn_status st;
	struct sql_q q;
	bool any = sql_query(p->db, &q, &st, "SELECT 1 FROM mlog_alarms WHERE channel = ? AND"
					     " state = ? LIMIT 1", "it", channel, state) &&
		   sql_next(&q);
	sql_end(&q, NULL);
	return any;
}
