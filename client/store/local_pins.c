/* local_pins.c — trust on first use of other users' identity keys
 * (CRYPTO.md §2): the first IK seen is pinned; a different one later is
 * recorded as a change, which blocks key sharing until accepted. */
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "sql.h"
#include "local.h"

enum lsn_err
local_pin_get(struct profile *p, const uint8_t user[LSN_ID_BYTES], struct local_pin *out,
	      struct lsn_status *st)
{
	memset(out, 0, sizeof *out);
	struct sql_q q;
	if (!sql_query(p->db, &q, st, "SELECT ik, verified, changed_ik, pinned_at, verified_at, "
				      "changed_at FROM pins WHERE user = ?", "i", user))
		return st->err;
	if (sql_next(&q) && sql_copy(&q, 0, out->ik, 32)) {
		out->present = true;
		out->verified = sql_int(&q, 1) != 0;
		out->changed = sql_copy(&q, 2, out->changed_ik, 32);
		out->pinned_at = sql_int(&q, 3);
		out->verified_at = sql_int(&q, 4);
		out->changed_at = sql_int(&q, 5);
	}
	return sql_end(&q, st);
}

static enum lsn_err
pin_history_add(struct profile *p, const uint8_t user[LSN_ID_BYTES], const uint8_t ik[32],
		struct lsn_status *st)
{
	return sql_exec(p->db, st, "INSERT OR IGNORE INTO pin_history (user, ik, accepted_at) "
				   "VALUES (?,?,?)", "ikn", user, ik, lsn_clock_now_ms());
}

static enum lsn_err
pin_observe(struct profile *p, const uint8_t user[LSN_ID_BYTES], const char *rpps,
	    const uint8_t ik[32], struct local_pin *out, struct lsn_status *st)
{
	enum lsn_err err = local_pin_get(p, user, out, st);
	if (err != LSN_OK)
		return err;
	int64_t now = lsn_clock_now_ms();
	if (!out->present) {
		err = sql_exec(p->db, st, "INSERT INTO pins (user, ik, rpps, pinned_at) VALUES "
					  "(?,?,?,?)", "iktn", user, ik, rpps, now);
		if (err == LSN_OK)
			err = pin_history_add(p, user, ik, st);
		if (err == LSN_OK)
			err = local_pin_get(p, user, out, st);
		return err;
	}
	if (sodium_memcmp(out->ik, ik, 32) == 0) {
		if (!out->changed)
			return LSN_OK;
		/* the server shows the pinned key again */
		err = sql_exec(p->db, st, "UPDATE pins SET changed_ik = NULL, changed_at = NULL "
					  "WHERE user = ?", "i", user);
		out->changed = false;
		return err;
	}
	if (out->changed && sodium_memcmp(out->changed_ik, ik, 32) == 0)
		return LSN_OK;
	err = sql_exec(p->db, st, "UPDATE pins SET changed_ik = ?, changed_at = ? WHERE user = ?",
		       "kni", ik, now, user);
	out->changed = true;
	out->changed_at = now;
	memcpy(out->changed_ik, ik, 32);
	return err;
}

enum lsn_err
local_pin_observe(struct profile *p, const uint8_t user[LSN_ID_BYTES], const char *rpps,
		  const uint8_t ik[32], struct local_pin *out, struct lsn_status *st)
{
	/* the pin is read and changed under the write lock (one process pins) */
	memset(out, 0, sizeof *out);
	enum lsn_err err = local_begin(p, st);
	if (err != LSN_OK)
		return err;
	err = pin_observe(p, user, rpps, ik, out, st);
	if (err == LSN_OK)
		err = local_commit(p, st);
	else
		local_rollback(p);
	return err;
}

bool
local_pin_known(struct profile *p, const uint8_t user[LSN_ID_BYTES], const uint8_t ik[32])
{
	struct lsn_status st;
	struct sql_q q;
	bool known = sql_query(p->db, &q, &st, "SELECT 1 FROM pin_history WHERE user = ? AND "
					       "ik = ?", "ik", user, ik) && sql_next(&q);
	sql_end(&q, NULL);
	return known;
}

enum lsn_err
local_pin_accept(struct profile *p, const uint8_t user[LSN_ID_BYTES], const uint8_t ik[32],
		 bool verified, struct lsn_status *st)
{
	int64_t now = lsn_clock_now_ms();
	enum lsn_err err = sql_upsert(
		p->db, st, "INSERT OR IGNORE INTO pins (user, ik, verified, pinned_at, verified_at) "
		       "VALUES (?1, ?2, ?3, ?4, CASE WHEN ?3 THEN ?4 END)",
		       "UPDATE pins SET ik = ?2, verified = ?3, changed_ik = NULL, "
		       "changed_at = NULL, verified_at = CASE WHEN ?3 THEN ?4 END WHERE user = ?1",
		"iknn", user, ik, (int64_t)verified, now);
	if (err == LSN_OK)
		err = pin_history_add(p, user, ik, st);
	return err;
}
