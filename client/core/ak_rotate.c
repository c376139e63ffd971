/* ak_rotate.c — rotation of this device's agreement keys (ak_rotate.h).
 * Database first (agreement_keys.h), memory after the commit: a failed
 * transaction leaves both as they were. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "agreement_keys.h"
#include "ak_rotate.h"
#include "clock.h"
#include "sigs.h"
#include "wire.h"

/* A new key as drawn and certified (the private half lives in p->keys). */
struct ak_draw {
	size_t slot;                 /* index in p->held_ak */
	uint8_t sig[AK_SIG_BYTES];
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

	enum lsn_err err = ak_db_draw(p, (const uint8_t (*)[LSN_ID_BYTES])erase, n_erase, &a, sk,
				      d->sig, d->idem, now, st);
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

/* ---- publishing ---------------------------------------------------------------------- */

/* The server accepted the key: it becomes current, the current one previous. */
static enum lsn_err
promote(struct profile *p, const struct ak_draw *d, struct lsn_status *st)
{
	enum lsn_err err = ak_db_promote(p, &p->held_ak[d->slot], st);
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
	if (ak_db_drop(p, p->held_ak[slot].id, &st) == LSN_OK)
		forget_held(p, slot); /* otherwise it stays pending and is offered again */
}

static enum lsn_err
publish(struct profile *p, struct link *c, const struct ak_draw *d, struct lsn_status *st)
{
	const struct profile_ak *a = &p->held_ak[d->slot];
	json_t *body = json_pack("{s:s, s:o, s:o, s:I, s:o}", "idem", d->idem, "ak_id",
				 wire_id(a->id), "ak", wire_b64(a->pk, sizeof a->pk), "ak_ts",
				 (json_int_t)a->ts, "ak_sig", wire_b64(d->sig, sizeof d->sig));
	if (body == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	json_t *reply = NULL;
	enum lsn_err err = link_request(c, "ak_publish", body, &reply, st);
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

/* The held key still pending publication, or -1. */
static int
pending_slot(const struct profile *p)
{
	int pending = -1;
	for (size_t i = 0; i < p->n_held_ak; i++)
		if (p->held_ak[i].pending)
			pending = (int)i;
	return pending;
}

static bool
due(const struct profile *p)
{
	return pending_slot(p) >= 0 || lsn_clock_now_ms() - p->ak_ts >= AK_ROTATE_MS;
}

/* The rotation proper, with the lock held and p read again. */
static void
rotate(struct profile *p, struct link *c, struct lsn_warnings *w)
{
	struct lsn_status st = {0};
	struct ak_draw d;
	memset(&d, 0, sizeof d);
	int pending = pending_slot(p);
	enum lsn_err err = LSN_OK;
	if (pending >= 0) {          /* an earlier publication got no answer */
		d.slot = (size_t)pending;
		err = ak_db_pending(p, p->held_ak[pending].id, d.sig, d.idem, &st);
		if (err != LSN_OK)
			discard(p, (size_t)pending);  /* the next command draws a new one */
	} else if (lsn_clock_now_ms() - p->ak_ts < AK_ROTATE_MS) {
		return;              /* another process rotated it meanwhile */
	} else {
		err = draw(p, &d, &st);
	}
	if (err != LSN_OK) {
		lsn_warn(w, "could not rotate this device's agreement key (%s); the current one "
			 "stays in use", st.msg);
		return;
	}
	crash_point("before_ak_publish");   /* stored pending, never sent */
	err = publish(p, c, &d, &st);
	if (err == LSN_OK)
		crash_point("after_ak_publish"); /* the server took it, not made current here */
	if (err == LSN_ERR_INTERNAL) {
		/* no answer, or a server fault: it may have been applied; same idem next time */
		lsn_warn(w, "could not confirm the publication of this device's new agreement key "
			 "(%s); the current one stays in use, the next command will retry", st.msg);
		return;
	}
	if (err != LSN_OK) {
		lsn_warn(w, "the server refused this device's new agreement key (%s); the current "
			 "one stays in use", st.msg);
		discard(p, d.slot);
		return;
	}
	if (promote(p, &d, &st) != LSN_OK)
		lsn_warn(w, "the server took this device's new agreement key but it could not be "
			 "made current here (%s); the next command will retry", st.msg);
}

void
ak_rotate_if_due(struct profile *p, struct link *c, struct lsn_warnings *w)
{
	if (!due(p))
		return;
	struct lsn_status st = {0};
	bool held = p->lock_fd >= 0;
	enum lsn_err err = profile_lock(p, "rotating the agreement key", &st);
	if (err == LSN_OK)
		err = profile_ak_reload(p, &st);
	if (err != LSN_OK)
		lsn_warn(w, "could not rotate this device's agreement key (%s); the current one "
			 "stays in use", st.msg);
	else
		rotate(p, c, w);
	if (!held)
		profile_lock_release(p);
}
