/* peers.c — fetch other users' identity and device keys, pin and verify
 * them (peers.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "peers.h"
#include "sigs.h"
#include "wire.h"
#include "tr.h"

#define PEERS_PER_REQUEST 200

struct peers {
	size_t n, cap;
	struct peer **list;
};

struct peers *
peers_new(void)
{
	return calloc(1, sizeof(struct peers));
}

static void
peer_free(struct peer *pr)
{
	if (pr) {
		free(pr->devices);
		free(pr);
	}
}

void
peers_free(struct peers *ps)
{
	if (ps == NULL)
		return;
	for (size_t i = 0; i < ps->n; i++)
		peer_free(ps->list[i]);
	free(ps->list);
	free(ps);
}

struct peer *
peers_get(struct peers *ps, const uint8_t user[LSN_ID_BYTES])
{
	for (size_t i = 0; i < ps->n; i++)
		if (memcmp(ps->list[i]->user, user, LSN_ID_BYTES) == 0)
			return ps->list[i];
	return NULL;
}

void
peers_forget(struct peers *ps, const uint8_t user[LSN_ID_BYTES])
{
	for (size_t i = 0; i < ps->n; i++)
		if (memcmp(ps->list[i]->user, user, LSN_ID_BYTES) == 0) {
			peer_free(ps->list[i]);
			ps->list[i] = ps->list[--ps->n];
			return;
		}
}

static bool
peers_put(struct peers *ps, struct peer *pr)
{
	peers_forget(ps, pr->user);
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? 2 * ps->cap : 16;
		struct peer **grown = realloc(ps->list, cap * sizeof *grown);
		if (grown == NULL)
			return false;
		ps->list = grown;
		ps->cap = cap;
	}
	ps->list[ps->n++] = pr;
	return true;
}

/* ---- verification ----------------------------------------------------------- */

/* DEVICE object of a reply into d (chain not yet checked). */
static bool
parse_device(json_t *obj, struct peer_device *d, uint8_t dk_sig[64], uint8_t ak_sig[64])
{
	struct lsn_status st;
	const char *name = NULL;
	memset(d, 0, sizeof *d);
	if (wire_get_id(obj, "id", true, d->id, NULL, &st) != LSN_OK ||
	    wire_get_b64(obj, "dk", true, d->dk, 32, &st) != LSN_OK ||
	    wire_get_int(obj, "dk_ts", true, 0, WIRE_ID_MAX, &d->dk_ts, &st) != LSN_OK ||
	    wire_get_b64(obj, "dk_sig", true, dk_sig, 64, &st) != LSN_OK ||
	    wire_get_id(obj, "ak_id", true, d->ak_id, NULL, &st) != LSN_OK ||
	    wire_get_b64(obj, "ak", true, d->ak, 32, &st) != LSN_OK ||
	    wire_get_int(obj, "ak_ts", true, 0, WIRE_ID_MAX, &d->ak_ts, &st) != LSN_OK ||
	    wire_get_b64(obj, "ak_sig", true, ak_sig, 64, &st) != LSN_OK ||
	    wire_get_int(obj, "revoked_at", false, 0, WIRE_ID_MAX, &d->revoked_at, &st) != LSN_OK)
		return false;
	if (wire_get_str(obj, "name", false, PEER_DEVICE_NAME_MAX, &name, &st) == LSN_OK && name)
		snprintf(d->name, sizeof d->name, "%s", name);
	return true;
}

/* IK -> DK -> AK under one identity key. */
static bool
chain_verifies(const uint8_t user[LSN_ID_BYTES], const struct peer_device *d,
	       const uint8_t dk_sig[64], const uint8_t ak_sig[64], const uint8_t ik[32])
{
	uint8_t msg[LSN_SIGNED_MAX];
	size_t len = lsn_signed_device_cert(msg, user, d->id, d->dk, (uint64_t)d->dk_ts);
	if (len == 0 || !lsn_sig_verify(dk_sig, msg, len, ik))
		return false;
	len = lsn_signed_ak_cert(msg, d->id, d->ak_id, d->ak, (uint64_t)d->ak_ts);
	return len != 0 && lsn_sig_verify(ak_sig, msg, len, d->dk);
}

/* Under the accepted IK, or under the server's IK if we accepted it before. */
static void
verify_device(struct e2e *e, const struct peer *pr, struct peer_device *d,
	      const uint8_t dk_sig[64], const uint8_t ak_sig[64])
{
	const uint8_t *accepted = pr->me ? e->p->ik_pk : pr->pin.ik;
	d->chain_ok = chain_verifies(pr->user, d, dk_sig, ak_sig, accepted);
	if (!d->chain_ok && !pr->me && sodium_memcmp(accepted, pr->server_ik, 32) != 0 &&
	    local_pin_known(e->p, pr->user, pr->server_ik))
		d->chain_ok = chain_verifies(pr->user, d, dk_sig, ak_sig, pr->server_ik);
}

/* The devices array of a reply into pr->devices, each verified. */
static bool
take_devices(struct e2e *e, struct peer *pr, json_t *devices)
{
	size_t n = json_array_size(devices);
	pr->devices = calloc(n ? n : 1, sizeof *pr->devices);
	if (pr->devices == NULL)
		return false;
	size_t i;
	json_t *obj;
	json_array_foreach(devices, i, obj) {
		uint8_t dk_sig[64], ak_sig[64];
		struct peer_device *d = &pr->devices[pr->n_devices];
		if (!parse_device(obj, d, dk_sig, ak_sig))
			continue; /* malformed: never shared with */
		verify_device(e, pr, d, dk_sig, ak_sig);
		pr->n_devices++;
	}
	return true;
}

/* Identity of one user of a keys/devices reply: pin or compare. */
static enum lsn_err
take_identity(struct e2e *e, struct peer *pr, json_t *obj, struct lsn_status *st)
{
	const char *rpps = NULL;
	if (wire_get_b64(obj, "ik", true, pr->server_ik, 32, st) != LSN_OK)
		return lsn_fail(st, LSN_ERR_BAD_JSON, "the server sent an unusable identity key");
	wire_get_str(obj, "rpps", false, sizeof pr->rpps - 1, &rpps, st);
	snprintf(pr->rpps, sizeof pr->rpps, "%s", rpps ? rpps : "");
	pr->me = memcmp(pr->user, e->p->user, LSN_ID_BYTES) == 0;
	if (pr->me) {
		pr->trusted = sodium_memcmp(pr->server_ik, e->p->ik_pk, 32) == 0;
		pr->pin.present = pr->pin.verified = true;
		memcpy(pr->pin.ik, e->p->ik_pk, 32);
		return LSN_OK;
	}
	enum lsn_err err = local_pin_observe(e->p, pr->user, rpps, pr->server_ik, &pr->pin, st);
	pr->trusted = err == LSN_OK && !pr->pin.changed;
	return err;
}

static enum lsn_err
take_user(struct e2e *e, json_t *obj, struct lsn_status *st)
{
	struct peer *pr = calloc(1, sizeof *pr);
	if (pr == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	enum lsn_err err = wire_get_id(obj, "user", true, pr->user, NULL, st);
	if (err == LSN_OK)
		err = take_identity(e, pr, obj, st);
	if (err == LSN_OK && !take_devices(e, pr, json_object_get(obj, "devices")))
		err = lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	if (err == LSN_OK && !peers_put(e->peers, pr))
		err = lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	if (err != LSN_OK)
		peer_free(pr);
	return err;
}

static enum lsn_err
load_batch(struct e2e *e, const uint8_t (*users)[LSN_ID_BYTES], size_t n,
	   struct lsn_status *st)
{
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, wire_id(users[i]));
	json_t *reply = NULL;
	enum lsn_err err = e2e_read(e, "keys", json_pack("{s:o}", "users", list), &reply, st);
	size_t i;
	json_t *obj;
	json_array_foreach(json_object_get(reply, "users"), i, obj) {
		if (err == LSN_OK)
			err = take_user(e, obj, st);
	}
	json_decref(reply);
	return err;
}

enum lsn_err
peers_load(struct e2e *e, const uint8_t (*users)[LSN_ID_BYTES], size_t n, bool refresh,
	   struct lsn_status *st)
{
	uint8_t (*want)[LSN_ID_BYTES] = calloc(n ? n : 1, LSN_ID_BYTES);
	if (want == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		bool dup = false;
		for (size_t j = 0; j < m && !dup; j++)
			dup = memcmp(want[j], users[i], LSN_ID_BYTES) == 0;
		if (!dup && (refresh || peers_get(e->peers, users[i]) == NULL))
			memcpy(want[m++], users[i], LSN_ID_BYTES);
	}
	enum lsn_err err = LSN_OK;
	for (size_t off = 0; off < m && err == LSN_OK; off += PEERS_PER_REQUEST)
		err = load_batch(e, (const uint8_t (*)[LSN_ID_BYTES])(want + off),
				 m - off < PEERS_PER_REQUEST ? m - off : PEERS_PER_REQUEST, st);
	free(want);
	return err;
}

/* Look for a revoked device of user with op devices; adds it to the peer. */
static enum lsn_err
load_revoked(struct e2e *e, struct peer *pr, const uint8_t device[LSN_ID_BYTES],
	     const struct peer_device **out, struct lsn_status *st)
{
	json_t *reply = NULL;
	enum lsn_err err = e2e_read(e, "devices", json_pack("{s:o}", "user", wire_id(pr->user)),
				    &reply, st);
	size_t i;
	json_t *obj;
	json_array_foreach(json_object_get(reply, "devices"), i, obj) {
		uint8_t dk_sig[64], ak_sig[64];
		struct peer_device d;
		if (err != LSN_OK || !parse_device(obj, &d, dk_sig, ak_sig) ||
		    memcmp(d.id, device, LSN_ID_BYTES) != 0)
			continue;
		verify_device(e, pr, &d, dk_sig, ak_sig);
		struct peer_device *grown = realloc(pr->devices,
						    (pr->n_devices + 1) * sizeof *grown);
		if (grown == NULL) {
			err = lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
			break;
		}
		pr->devices = grown;
		pr->devices[pr->n_devices] = d;
		*out = &pr->devices[pr->n_devices++];
	}
	json_decref(reply);
	return err;
}

enum lsn_err
peers_device(struct e2e *e, const uint8_t user[LSN_ID_BYTES], const uint8_t device[LSN_ID_BYTES],
	     bool include_revoked, const struct peer_device **out, struct lsn_status *st)
{
	*out = NULL;
	struct peer *pr = peers_get(e->peers, user);
	if (pr == NULL) {
		const uint8_t (*one)[LSN_ID_BYTES] = (const uint8_t (*)[LSN_ID_BYTES])user;
		enum lsn_err err = peers_load(e, one, 1, false, st);
		if (err != LSN_OK)
			return err;
		pr = peers_get(e->peers, user);
	}
	if (pr == NULL)
		return LSN_OK;
	for (size_t i = 0; i < pr->n_devices; i++)
		if (memcmp(pr->devices[i].id, device, LSN_ID_BYTES) == 0) {
			*out = &pr->devices[i];
			return LSN_OK;
		}
	return include_revoked ? load_revoked(e, pr, device, out, st) : LSN_OK;
}

void
peers_changed_text(struct e2e *e, const struct peer *pr, char *what, size_t what_len,
		   char *todo, size_t todo_len)
{
	char who[200], hex[LSN_ID_HEX + 1], when[32];
	time_t at = (time_t)(pr->pin.changed_at / 1000);
	struct tm tm;
	e2e_person(e, pr->user, who, sizeof who);
	lsn_id_to_hex(pr->user, hex);
	snprintf(when, sizeof when, "%s", _("recently"));
	if (pr->pin.changed_at > 0 && localtime_r(&at, &tm) != NULL)
		strftime(when, sizeof when, _("on %Y-%m-%d %H:%M"), &tm);
	snprintf(what, what_len, _("the identity key of %s changed (seen %s): a new device after "
				    "a loss, or someone posing as them"), who, when);
	snprintf(todo, todo_len, _("nothing is shared with them until you call them and compare "
				    "the safety number: liaison verify %s, then liaison verify %s --accept"),
		 hex, hex);
}

const char *
peers_blocked(const struct e2e *e, const struct peer *pr)
{
	if (pr->me)
		return pr->trusted ? "" : "the server shows another identity key for your own "
					  "account";
	if (!pr->trusted)
		return "their identity key changed";
	if (e->strict && !pr->pin.verified)
		return "not verified by safety number (strict mode)";
	return "";
}
