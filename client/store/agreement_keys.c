/* agreement_keys.c — rotation and erasure of this device's agreement keys
 * (agreement_keys.h). Database first, memory after the commit: a failed
 * transaction leaves both as they were. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "agreement_keys.h"
#include "clock.h"
#include "output.h"
#include "sigs.h"
#include "store.h"
#include "wire.h"

#define AK_IDEM_HEX 33   /* 32 hex characters + NUL */

/* A new key as drawn and certified (the private half lives in p->keys). */
struct ak_draw {
	size_t slot;                 /* index in p->held_ak */
	uint8_t sig[crypto_sign_BYTES];
	char idem[AK_IDEM_HEX];
};

/* ---- memory ----------------------------------------------------------------- */

static int
held_index(const struct profile *p, const uint8_t id[LSN_ID_BYTES])
{
	for (size_t i = 0; i < p->n_held_ak; i++)
		if (memcmp(p->held_ak[i].id, id, LSN_ID_BYTES) == 0)
			return (int)i;
	return -1;
}

/* Wipe held_ak[i] and its private half; the last one takes its place. */
static void
forget_held(struct profile *p, size_t i)
{
	size_t last = p->n_held_ak - 1;
	if (i != last) {
		p->held_ak[i] = p->held_ak[last];
		memcpy(p->keys->held_ak_sk[i], p->keys->held_ak_sk[last], crypto_kx_SECRETKEYBYTES);
	}
	sodium_memzero(p->keys->held_ak_sk[last], crypto_kx_SECRETKEYBYTES);
	sodium_memzero(&p->held_ak[last], sizeof p->held_ak[last]);
	p->n_held_ak--;
}

/* The pending key becomes current; the current one takes its slot as a
 * previous key. */
static void
swap_current(struct profile *p, size_t slot)
{
	struct profile_ak *a = &p->held_ak[slot];
	uint8_t id[LSN_ID_BYTES], pk[crypto_kx_PUBLICKEYBYTES], sk[crypto_kx_SECRETKEYBYTES];
	int64_t ts = p->ak_ts;
	memcpy(id, p->ak_id, sizeof id);
	memcpy(pk, p->ak_pk, sizeof pk);
	memcpy(sk, p->keys->ak_sk, sizeof sk);
	memcpy(p->ak_id, a->id, sizeof id);
	memcpy(p->ak_pk, a->pk, sizeof pk);
	memcpy(p->keys->ak_sk, p->keys->held_ak_sk[slot], sizeof sk);
	p->ak_ts = a->ts;
	memcpy(a->id, id, sizeof id);
	memcpy(a->pk, pk, sizeof pk);
	memcpy(p->keys->held_ak_sk[slot], sk, sizeof sk);
	a->ts = ts;
	a->pending = false;
	sodium_memzero(sk, sizeof sk);
}

/* ---- database ------------------------------------------------------------------ */

/* Delete the sealed private half of ak_id and mark its row erased. */
static enum lsn_err
erase_row(struct profile *p, const uint8_t id[LSN_ID_BYTES], int64_t now, struct lsn_status *st)
{
	char item[PROFILE_AK_ITEM_BUF];
	profile_ak_item(id, item);
	enum lsn_err err = store_exec(p, st, "DELETE FROM sealed WHERE name = ?", "t", item);
	if (err == LSN_OK)
		err = store_exec(p, st, "UPDATE agreement_keys SET state = 'erased', erased_at = ?,"
				 " idem = NULL WHERE ak_id = ?", "ni", now, id);
	return err;
}

/* A pending key the server refused: it was never in use, nothing remains. */
static enum lsn_err
drop_row(struct profile *p, const uint8_t id[LSN_ID_BYTES], struct lsn_status *st)
{
	char item[PROFILE_AK_ITEM_BUF];
	profile_ak_item(id, item);
	enum lsn_err err = store_exec(p, st, "DELETE FROM sealed WHERE name = ?", "t", item);
	if (err == LSN_OK)
		err = store_exec(p, st, "DELETE FROM agreement_keys WHERE ak_id = ?", "i", id);
	return err;
}

bool
ak_erased(struct profile *p, const uint8_t ak_id[LSN_ID_BYTES])
{
	struct lsn_status st;
	sqlite3_stmt *stmt = store_prepare(p, &st, "SELECT 1 FROM agreement_keys WHERE ak_id = ?"
					   " AND state = 'erased'", "i", ak_id);
	bool erased = stmt && sqlite3_step(stmt) == SQLITE_ROW;
	sqlite3_finalize(stmt);
	return erased;
}

/* ---- drawing a new key ------------------------------------------------------------ */

/* Previous keys to erase so that, with a new one, at most PROFILE_AK_KEEP are
 * held: all but the newest PROFILE_AK_KEEP - 2 (equal ak_ts: the first one
 * in p->held_ak counts as newer). Their ids into out; count. */
static size_t
pick_erasable(const struct profile *p, uint8_t (*out)[LSN_ID_BYTES])
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_held_ak; i++) {
		size_t newer = 0;
		for (size_t j = 0; j < p->n_held_ak; j++)
			newer += p->held_ak[j].ts > p->held_ak[i].ts ||
				 (j < i && p->held_ak[j].ts == p->held_ak[i].ts);
		if (newer >= PROFILE_AK_KEEP - 2)
			memcpy(out[n++], p->held_ak[i].id, LSN_ID_BYTES);
	}
	return n;
}

/* Erase what the new key pushes out and store the new key as pending, in
 * one transaction; then the same in memory. */
static enum lsn_err
draw(struct profile *p, struct ak_draw *d, struct lsn_status *st)
{
	uint8_t erase[PROFILE_AK_KEEP][LSN_ID_BYTES], sk[crypto_kx_SECRETKEYBYTES];
	uint8_t raw[16], msg[LSN_SIGNED_MAX];
	char item[PROFILE_AK_ITEM_BUF];
	size_t n_erase = pick_erasable(p, erase);
	if (p->n_held_ak - n_erase > PROFILE_AK_KEEP - 2)
		return lsn_fail(st, LSN_ERR_INTERNAL, "too many agreement keys held (a bug)");
	int64_t now = lsn_clock_now_ms();
	struct profile_ak a = {.ts = now, .pending = true};
	lsn_id_random(a.id);
	crypto_kx_keypair(a.pk, sk);
	size_t len = lsn_signed_ak_cert(msg, p->device, a.id, a.pk, (uint64_t)a.ts);
	crypto_sign_detached(d->sig, NULL, msg, len, p->keys->dk_sk);
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(d->idem, sizeof d->idem, raw, sizeof raw);
	profile_ak_item(a.id, item);

	enum lsn_err err = store_begin(p, st);
	for (size_t i = 0; i < n_erase && err == LSN_OK; i++)
		err = erase_row(p, erase[i], now, st);
	if (err == LSN_OK)
		err = store_exec(p, st, "INSERT INTO agreement_keys (ak_id, ak_pk, ak_ts, state,"
				 " ak_sig, idem, added_at) VALUES (?, ?, ?, 'pending', ?, ?, ?)",
				 "iknbtn", a.id, a.pk, a.ts, d->sig, sizeof d->sig, d->idem, now);
	if (err == LSN_OK)
		err = store_secret_put(p, item, sk, sizeof sk, st);
	if (err == LSN_OK)
		err = store_commit(p, st);
	else
		store_rollback(p);
	if (err == LSN_OK) {
		for (size_t i = 0; i < n_erase; i++) {
			int at = held_index(p, erase[i]);
			if (at >= 0)
				forget_held(p, (size_t)at);
		}
		d->slot = p->n_held_ak++;
		p->held_ak[d->slot] = a;
		memcpy(p->keys->held_ak_sk[d->slot], sk, sizeof sk);
	}
	sodium_memzero(sk, sizeof sk);
	return err;
}

/* The certificate and idem of the pending key in slot (drawn by an earlier
 * command whose publication got no answer). */
static enum lsn_err
load_pending(struct profile *p, size_t slot, struct ak_draw *d, struct lsn_status *st)
{
	sqlite3_stmt *stmt = store_prepare(p, st, "SELECT ak_sig, idem FROM agreement_keys"
					   " WHERE ak_id = ? AND state = 'pending'", "i",
					   p->held_ak[slot].id);
	if (stmt == NULL)
		return st->err;
	enum lsn_err err = LSN_OK;
	const char *idem = NULL;
	if (sqlite3_step(stmt) == SQLITE_ROW &&
	    sqlite3_column_bytes(stmt, 0) == (int)sizeof d->sig &&
	    (idem = (const char *)sqlite3_column_text(stmt, 1)) != NULL &&
	    strlen(idem) < sizeof d->idem) {
		d->slot = slot;
		memcpy(d->sig, sqlite3_column_blob(stmt, 0), sizeof d->sig);
		snprintf(d->idem, sizeof d->idem, "%s", idem);
	} else {
		err = lsn_fail(st, LSN_ERR_INTERNAL, "the new agreement key's record is damaged");
	}
	sqlite3_finalize(stmt);
	return err;
}

/* ---- publishing ---------------------------------------------------------------------- */

/* The server accepted the key: it becomes current, the current one previous. */
static enum lsn_err
promote(struct profile *p, const struct ak_draw *d, struct lsn_status *st)
{
	const struct profile_ak *a = &p->held_ak[d->slot];
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(a->id, hex);
	enum lsn_err err = store_begin(p, st);
	if (err == LSN_OK)
		err = store_exec(p, st, "UPDATE agreement_keys SET state = 'previous'"
				 " WHERE state = 'current'", "");
	if (err == LSN_OK)
		err = store_exec(p, st, "UPDATE agreement_keys SET state = 'current', idem = NULL"
				 " WHERE ak_id = ? AND state = 'pending'", "i", a->id);
	if (err == LSN_OK)
		err = store_exec(p, st, "INSERT OR REPLACE INTO meta (key, value) VALUES"
				 " ('ak_id', ?), ('ak_pk', ?), ('ak_ts', ?)", "tkn", hex, a->pk,
				 a->ts);
	if (err == LSN_OK)
		err = store_commit(p, st);
	else
		store_rollback(p);
	if (err == LSN_OK)
		swap_current(p, d->slot);
	return err;
}

/* The server refused the key in slot (or its record is unusable): erase it;
 * the current key stays. */
static void
discard(struct profile *p, size_t slot)
{
	struct lsn_status st = {0};
	enum lsn_err err = store_begin(p, &st);
	if (err == LSN_OK)
		err = drop_row(p, p->held_ak[slot].id, &st);
	if (err == LSN_OK)
		err = store_commit(p, &st);
	else
		store_rollback(p);
	if (err == LSN_OK) /* otherwise it stays pending and is offered again */
		forget_held(p, slot);
}

static enum lsn_err
publish(struct profile *p, struct conn *c, const struct ak_draw *d, struct lsn_status *st)
{
	const struct profile_ak *a = &p->held_ak[d->slot];
	json_t *body = json_pack("{s:s, s:o, s:o, s:I, s:o}", "idem", d->idem, "ak_id",
				 wire_id(a->id), "ak", wire_b64(a->pk, sizeof a->pk), "ak_ts",
				 (json_int_t)a->ts, "ak_sig", wire_b64(d->sig, sizeof d->sig));
	if (body == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	json_t *reply = NULL;
	enum lsn_err err = conn_request(c, "ak_publish", body, &reply, st);
	json_decref(reply);
	return err;
}

/* Fault injection for tests/integration/test_e2e_ak.py: with
 * LIAISON_TEST_CRASH=where, die like SIGKILL at that point. */
static void
crash_point(const char *where)
{
	const char *crash = getenv("LIAISON_TEST_CRASH");
	if (crash && strcmp(crash, where) == 0)
		_exit(137);
}

void
ak_rotate_if_due(struct profile *p, struct conn *c)
{
	struct lsn_status st = {0};
	struct ak_draw d;
	memset(&d, 0, sizeof d);
	int pending = -1;
	for (size_t i = 0; i < p->n_held_ak; i++)
		if (p->held_ak[i].pending)
			pending = (int)i;
	enum lsn_err err = LSN_OK;
	if (pending >= 0) {          /* an earlier publication got no answer */
		err = load_pending(p, (size_t)pending, &d, &st);
		if (err != LSN_OK)
			discard(p, (size_t)pending);  /* the next command draws a new one */
	} else if (lsn_clock_now_ms() - p->ak_ts < AK_ROTATE_MS) {
		return;
	} else {
		err = draw(p, &d, &st);
	}
	if (err != LSN_OK) {
		out_error("could not rotate this device's agreement key (%s); the current one "
			  "stays in use", st.msg);
		return;
	}
	crash_point("before_ak_publish");   /* stored pending, never sent */
	err = publish(p, c, &d, &st);
	if (err == LSN_OK)
		crash_point("after_ak_publish"); /* the server took it, not made current here */
	if (err == LSN_ERR_INTERNAL) {
		/* no answer, or a server fault: it may have been applied; same idem next time */
		out_error("could not confirm the publication of this device's new agreement key "
			  "(%s); the current one stays in use, the next command will retry",
			  st.msg);
		return;
	}
	if (err != LSN_OK) {
		out_error("the server refused this device's new agreement key (%s); the current "
			  "one stays in use", st.msg);
		discard(p, d.slot);
		return;
	}
	if (promote(p, &d, &st) != LSN_OK)
		out_error("the server took this device's new agreement key but it could not be "
			  "made current here (%s); the next command will retry", st.msg);
}
