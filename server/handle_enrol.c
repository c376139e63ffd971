/* handle_enrol.c — invite_info and enrol: a one-time invite fixes who the
 * person is; enrolment registers their identity key and first device. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "fanout.h"
#include "handlers.h"
#include "invite.h"
#include "log.h"
#include "sigs.h"
#include "wire.h"

/* Look the invite up by code and check it can still be used. */
static enum lsn_err
invite_load(struct handler_ctx *hc, json_t *req, struct store_invite *inv)
{
	const char *code = NULL;
	uint8_t raw[LSN_INVITE_BYTES], hash[LSN_INVITE_HASHBYTES];
	enum lsn_err err = wire_get_str(req, "code", true, 64, &code, &hc->st);
	if (err != LSN_OK)
		return err;
	if (!lsn_invite_parse(code, raw))
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"code\": an invite code has 24 letters and digits, "
				"like 7K2M-QX9D-4T1B-ZR8W-0CFE-N5HJ");
	lsn_invite_hash(raw, hash);
	sodium_memzero(raw, sizeof raw);
	err = store_invite_get(hc->srv->store, hash, inv);
	if (err == LSN_ERR_NOT_FOUND)
		return lsn_fail(&hc->st, LSN_ERR_INVITE_UNKNOWN, NULL);
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "invite");
	if (inv->used_at)
		return lsn_fail(&hc->st, LSN_ERR_INVITE_USED, NULL);
	if (inv->expires_at <= hc->now)
		return lsn_fail(&hc->st, LSN_ERR_INVITE_EXPIRED, NULL);
	return LSN_OK;
}

enum lsn_err
handle_invite_info(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_invite inv;
	struct store_org org;
	enum lsn_err err = invite_load(hc, req, &inv);
	if (err != LSN_OK)
		return err;
	if ((err = store_org_get(hc->srv->store, inv.org_id, &org)) != LSN_OK)
		return handler_store_fail(hc, err, "organisation");
	const struct lsn_profession *prof = lsn_profession_find(inv.profession);
	json_object_set_new(reply, "rpps", inv.rpps[0] ? json_string(inv.rpps) : json_null());
	json_object_set_new(reply, "name", json_string(inv.name));
	json_object_set_new(reply, "profession", json_string(inv.profession));
	json_object_set_new(reply, "profession_label",
			    json_string(prof ? prof->label_fr : inv.profession));
	json_object_set_new(reply, "org", render_org(&org));
	json_object_set_new(reply, "roles", render_roles(inv.roles));
	json_object_set_new(reply, "expires_at", json_integer(inv.expires_at));
	if (inv.new_identity) {
		/* liaisond user reset: the device brings a new identity key */
		json_object_set_new(reply, "user", wire_id(inv.user_id));
		json_object_set_new(reply, "new_identity", json_true());
	} else if (inv.for_user) {
		uint8_t *blob = NULL;
		size_t len = 0;
		struct store_user u;
		json_object_set_new(reply, "user", wire_id(inv.user_id));
		/* the new device checks the restored identity key against it */
		if (store_user_get(hc->srv->store, inv.user_id, &u) == LSN_OK)
			json_object_set_new(reply, "ik", wire_b64(u.ik, sizeof u.ik));
		if (store_backup_identity_get(hc->srv->store, inv.user_id, &blob, &len) == LSN_OK)
			json_object_set_new(reply, "backup_identity", wire_b64(blob, len));
		free(blob);
	}
	return LSN_OK;
}

/* The keys and certificates sent with enrol. */
struct enrol_keys {
	uint8_t user[LSN_ID_BYTES];
	uint8_t ik[crypto_sign_PUBLICKEYBYTES];
	struct store_device dev;
};

static enum lsn_err
enrol_read(struct handler_ctx *hc, json_t *req, struct enrol_keys *k)
{
	const char *name = NULL;
	int64_t dk_ts = 0, ak_ts = 0;
	enum lsn_err err;
	memset(k, 0, sizeof *k);
	if ((err = wire_get_id(req, "user", true, k->user, NULL, &hc->st)) ||
	    (err = wire_get_id(req, "device", true, k->dev.id, NULL, &hc->st)) ||
	    (err = wire_get_text(req, "device_name", true, STORE_DEVNAME_MAX, &name, &hc->st)) ||
	    (err = wire_get_b64(req, "ik", true, k->ik, sizeof k->ik, &hc->st)) ||
	    (err = wire_get_b64(req, "dk", true, k->dev.dk, sizeof k->dev.dk, &hc->st)) ||
	    (err = wire_get_int(req, "dk_ts", true, 0, WIRE_ID_MAX, &dk_ts, &hc->st)) ||
	    (err = wire_get_b64(req, "dk_sig", true, k->dev.dk_sig, 64, &hc->st)) ||
	    (err = wire_get_id(req, "ak_id", true, k->dev.ak_id, NULL, &hc->st)) ||
	    (err = wire_get_b64(req, "ak", true, k->dev.ak, sizeof k->dev.ak, &hc->st)) ||
	    (err = wire_get_int(req, "ak_ts", true, 0, WIRE_ID_MAX, &ak_ts, &hc->st)) ||
	    (err = wire_get_b64(req, "ak_sig", true, k->dev.ak_sig, 64, &hc->st)))
		return err;
	snprintf(k->dev.name, sizeof k->dev.name, "%s", name);
	memcpy(k->dev.user_id, k->user, LSN_ID_BYTES);
	k->dev.dk_ts = dk_ts;
	k->dev.ak_ts = ak_ts;
	return LSN_OK;
}

/* IK certifies DK, DK certifies AK (CRYPTO.md §1). */
static enum lsn_err
enrol_verify_chain(struct handler_ctx *hc, const struct enrol_keys *k)
{
	uint8_t msg[LSN_SIGNED_MAX];
	size_t len = lsn_signed_device_cert(msg, k->user, k->dev.id, k->dev.dk,
					    (uint64_t)k->dev.dk_ts);
	if (!lsn_sig_verify(k->dev.dk_sig, msg, len, k->ik))
		return lsn_fail(&hc->st, LSN_ERR_BAD_SIGNATURE,
				"dk_sig: the identity key's signature over the device key does not verify");
	len = lsn_signed_ak_cert(msg, k->dev.id, k->dev.ak_id, k->dev.ak, (uint64_t)k->dev.ak_ts);
	if (!lsn_sig_verify(k->dev.ak_sig, msg, len, k->dev.dk))
		return lsn_fail(&hc->st, LSN_ERR_BAD_SIGNATURE,
				"ak_sig: the device key's signature over the agreement key does not verify");
	return LSN_OK;
}

static void
count_active(const struct store_device *d, void *arg)
{
	if (d->revoked_at == 0)
		++*(unsigned *)arg;
}

/* liaisond user reset: the user's devices were revoked and this invite
 * brings a new identity key. Refused if a device is active again (a
 * further device of the old identity was enrolled meanwhile). */
static enum lsn_err
enrol_new_identity(struct handler_ctx *hc, const struct enrol_keys *k, struct store_user *u)
{
	struct store *store = hc->srv->store;
	unsigned active = 0;
	enum lsn_err err = store_device_list(store, u->id, count_active, &active);
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "device");
	if (active > 0)
		return lsn_fail(&hc->st, LSN_ERR_CONFLICT,
				"this account has an active device again; ask your administrator "
				"for a new reset (liaisond user reset)");
	if ((err = store_user_set_ik(store, u->id, k->ik)) != LSN_OK)
		return handler_store_fail(hc, err, "user");
	memcpy(u->ik, k->ik, sizeof u->ik);
	return audit_request(hc, "identity_reset", &(struct audit_ids){
		.actor_user = u->id, .actor_device = k->dev.id, .target_user = u->id,
		.target_device = k->dev.id});
}

/* A further device of an existing user: same user id, same identity key
 * (or, after liaisond user reset, a new one: enrol_new_identity). */
static enum lsn_err
enrol_store_device(struct handler_ctx *hc, const struct store_invite *inv, struct enrol_keys *k,
		   struct store_user *u)
{
	struct store *store = hc->srv->store;
	enum lsn_err err;
	if (memcmp(k->user, inv->user_id, LSN_ID_BYTES) != 0)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"this invite adds a device to an existing user; enrol with the user "
				"id that invite_info returns");
	if ((err = store_user_get(store, k->user, u)) != LSN_OK)
		return handler_store_fail(hc, err, "user");
	if (inv->new_identity && (err = enrol_new_identity(hc, k, u)) != LSN_OK)
		return err;
	if (sodium_memcmp(u->ik, k->ik, sizeof u->ik) != 0)
		return lsn_fail(&hc->st, LSN_ERR_BAD_SIGNATURE,
				"the identity key is not this user's; restore it from the key backup "
				"(recovery code) or link the device from an existing one");
	k->dev.created_at = hc->now;
	if ((err = store_device_create(store, &k->dev)) != LSN_OK)
		return err == LSN_ERR_CONFLICT
			       ? lsn_fail(&hc->st, err, "this device id or key is taken; retry with new ones")
			       : handler_store_fail(hc, err, "device");
	if ((err = store_invite_consume(store, inv->hash, u->id, hc->now)) != LSN_OK)
		return err == LSN_ERR_CONFLICT ? lsn_fail(&hc->st, LSN_ERR_INVITE_USED, NULL)
					       : handler_store_fail(hc, err, "invite");
	return fanout_comembers(hc, u->id, "device_list", json_pack("{s:o}", "user", wire_id(u->id)));
}

static enum lsn_err
enrol_store(struct handler_ctx *hc, const struct store_invite *inv, struct enrol_keys *k,
	    struct store_user *u)
{
	if (inv->for_user)
		return enrol_store_device(hc, inv, k, u);
	struct store *store = hc->srv->store;
	enum lsn_err err;
	memset(u, 0, sizeof *u);
	memcpy(u->id, k->user, LSN_ID_BYTES);
	memcpy(u->ik, k->ik, sizeof u->ik);
	snprintf(u->rpps, sizeof u->rpps, "%s", inv->rpps);
	snprintf(u->name, sizeof u->name, "%s", inv->name);
	snprintf(u->profession, sizeof u->profession, "%s", inv->profession);
	u->roles = inv->roles;
	u->created_at = hc->now;
	if ((err = store_org_get(store, inv->org_id, &u->org)) != LSN_OK)
		return handler_store_fail(hc, err, "organisation");
	if (u->rpps[0] && store_user_find_rpps(store, u->rpps, &(struct store_user){0}) == LSN_OK)
		return lsn_fail(&hc->st, LSN_ERR_CONFLICT,
				"a user with RPPS %s is already enrolled; to add a device, "
				"use an existing device (device link) or the key backup", u->rpps);
	if ((err = store_user_create(store, u)) != LSN_OK)
		return err == LSN_ERR_CONFLICT
			       ? lsn_fail(&hc->st, err, "this user id is taken; retry with a new random id")
			       : handler_store_fail(hc, err, "user");
	k->dev.created_at = hc->now;
	if ((err = store_device_create(store, &k->dev)) != LSN_OK)
		return err == LSN_ERR_CONFLICT
			       ? lsn_fail(&hc->st, err, "this device id or key is taken; retry with new ones")
			       : handler_store_fail(hc, err, "device");
	if ((err = store_invite_consume(store, inv->hash, u->id, hc->now)) != LSN_OK)
		return err == LSN_ERR_CONFLICT ? lsn_fail(&hc->st, LSN_ERR_INVITE_USED, NULL)
					       : handler_store_fail(hc, err, "invite");
	/* the address the administrator gave with the invite (liaisond invite
	 * --email): the "something is waiting" e-mails go there */
	if (inv->email[0] && (err = store_mail_address_set(store, u->id, inv->email, hc->now)) != LSN_OK)
		return handler_store_fail(hc, err, "mail address");
	return LSN_OK;
}

enum lsn_err
handle_enrol(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_invite inv;
	struct enrol_keys k;
	struct store_user u;
	enum lsn_err err;
	if (hc->sess->logged_in)
		return lsn_fail(&hc->st, LSN_ERR_ALREADY_LOGGED_IN,
				"enrol on a connection that is not logged in");
	if ((err = invite_load(hc, req, &inv)) != LSN_OK ||
	    (err = enrol_read(hc, req, &k)) != LSN_OK ||
	    (err = enrol_verify_chain(hc, &k)) != LSN_OK ||
	    (err = enrol_store(hc, &inv, &k, &u)) != LSN_OK)
		return err;
	char user_hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(u.id, user_hex);
	log_info("enrol: user %s (%s), %s device", user_hex, u.profession,
		 inv.for_user ? "a further" : "first");
	if ((err = audit_request(hc, inv.for_user ? "device_add" : "enrol",
				 &(struct audit_ids){.actor_user = u.id, .actor_device = k.dev.id,
						     .target_user = u.id,
						     .target_device = k.dev.id})) != LSN_OK)
		return err;
	struct store_device dev;
	if ((err = store_device_get(hc->srv->store, k.dev.id, &dev)) != LSN_OK)
		return handler_store_fail(hc, err, "device");
	json_object_set_new(reply, "user", render_user(&u));
	json_object_set_new(reply, "device", render_device(&dev, u.id));
	return LSN_OK;
}
