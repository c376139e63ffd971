/* agreement_keys.c — the table agreement_keys and the sealed private halves
 * of this device's agreement keys (agreement_keys.h). Each change is one
 * transaction; the caller updates its copy in memory after the commit. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "agreement_keys.h"
#include "sql.h"
#include "local.h"

/* Delete the sealed private half of ak_id and mark its row erased. */
static enum lsn_err
erase_row(struct profile *p, const uint8_t id[LSN_ID_BYTES], int64_t now, struct lsn_status *st)
{
	char item[PROFILE_AK_ITEM_BUF];
	profile_ak_item(id, item);
	enum lsn_err err = sql_exec(p->db, st, "DELETE FROM sealed WHERE name = ?", "t", item);
	if (err == LSN_OK)
		err = sql_exec(p->db, st, "UPDATE agreement_keys SET state = 'erased', erased_at = ?,"
					  " idem = NULL WHERE ak_id = ?", "ni", now, id);
	return err;
}

bool
ak_erased(struct profile *p, const uint8_t ak_id[LSN_ID_BYTES])
{
	struct lsn_status st;
	struct sql_q q;
	bool erased = sql_query(p->db, &q, &st, "SELECT 1 FROM agreement_keys WHERE ak_id = ?"
						" AND state = 'erased'", "i", ak_id) && sql_next(&q);
	sql_end(&q, NULL);
	return erased;
}

static enum lsn_err
finish(struct profile *p, enum lsn_err err, struct lsn_status *st)
{
	if (err == LSN_OK)
		return local_commit(p, st);
	local_rollback(p);
	return err;
}

enum lsn_err
ak_db_draw(struct profile *p, const uint8_t (*erase)[LSN_ID_BYTES], size_t n_erase,
	   const struct profile_ak *a, const uint8_t sk[crypto_kx_SECRETKEYBYTES],
	   const uint8_t sig[AK_SIG_BYTES], const char *idem, int64_t now, struct lsn_status *st)
{
	char item[PROFILE_AK_ITEM_BUF];
	profile_ak_item(a->id, item);
	enum lsn_err err = local_begin(p, st);
	if (err != LSN_OK)
		return err;
	for (size_t i = 0; i < n_erase && err == LSN_OK; i++)
		err = erase_row(p, erase[i], now, st);
	if (err == LSN_OK)
		err = sql_exec(p->db, st, "INSERT INTO agreement_keys (ak_id, ak_pk, ak_ts, state,"
					  " ak_sig, idem, added_at) VALUES (?, ?, ?, 'pending', ?, ?, ?)",
			       "iknbtn", a->id, a->pk, a->ts, sig, (size_t)AK_SIG_BYTES, idem, now);
	if (err == LSN_OK)
		err = local_secret_put(p, item, sk, crypto_kx_SECRETKEYBYTES, st);
	return finish(p, err, st);
}

enum lsn_err
ak_db_pending(struct profile *p, const uint8_t id[LSN_ID_BYTES], uint8_t sig[AK_SIG_BYTES],
	      char idem[AK_IDEM_HEX], struct lsn_status *st)
{
	struct sql_q q;
	if (!sql_query(p->db, &q, st, "SELECT ak_sig, idem FROM agreement_keys"
				      " WHERE ak_id = ? AND state = 'pending'", "i", id))
		return st->err;
	const char *text = NULL;
	bool ok = sql_next(&q) && sql_copy(&q, 0, sig, AK_SIG_BYTES) &&
		  (text = sql_text(&q, 1)) != NULL && strlen(text) < AK_IDEM_HEX;
	if (ok)
		snprintf(idem, AK_IDEM_HEX, "%s", text);
	sql_end(&q, NULL);
	if (!ok)
		return lsn_fail(st, LSN_ERR_INTERNAL, "the new agreement key's record is damaged");
	return LSN_OK;
}

enum lsn_err
ak_db_promote(struct profile *p, const struct profile_ak *a, struct lsn_status *st)
{
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(a->id, hex);
	enum lsn_err err = local_begin(p, st);
	if (err != LSN_OK)
		return err;
	err = sql_exec(p->db, st, "UPDATE agreement_keys SET state = 'previous'"
				  " WHERE state = 'current'", "");
	if (err == LSN_OK)
		err = sql_exec(p->db, st, "UPDATE agreement_keys SET state = 'current', idem = NULL"
					  " WHERE ak_id = ? AND state = 'pending'", "i", a->id);
	if (err == LSN_OK)
		err = sql_exec(p->db, st, "INSERT OR REPLACE INTO meta (key, value) VALUES"
					  " ('ak_id', ?), ('ak_pk', ?), ('ak_ts', ?)", "tkn", hex,
			       a->pk, a->ts);
	return finish(p, err, st);
}

enum lsn_err
ak_db_drop(struct profile *p, const uint8_t id[LSN_ID_BYTES], struct lsn_status *st)
{
	char item[PROFILE_AK_ITEM_BUF];
	profile_ak_item(id, item);
	enum lsn_err err = local_begin(p, st);
	if (err != LSN_OK)
		return err;
	err = sql_exec(p->db, st, "DELETE FROM sealed WHERE name = ?", "t", item);
	if (err == LSN_OK)
		err = sql_exec(p->db, st, "DELETE FROM agreement_keys WHERE ak_id = ?", "i", id);
	return finish(p, err, st);
}
