/* handle_device.c — a user's device list and self-revocation signed by IK. */
#include <string.h>

#include "audit.h"
#include "fanout.h"
#include "handlers.h"
#include "log.h"
#include "sigs.h"
#include "wire.h"

/* A device list being rendered for one viewer (render_device). */
struct device_list {
	json_t *list;
	const uint8_t *viewer;
};

static void
append_device(const struct store_device *dev, void *arg)
{
	struct device_list *dl = arg;
	json_array_append_new(dl->list, render_device(dev, dl->viewer));
}

enum lsn_err
handle_devices(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	uint8_t user_id[LSN_ID_BYTES];
	bool present = false;
	enum lsn_err err = wire_get_id(req, "user", false, user_id, &present, &hc->st);
	if (err != LSN_OK)
		return err;
	if (!present)
		memcpy(user_id, hc->sess->user, LSN_ID_BYTES);
	struct store_user u;
	if ((err = store_user_get(hc->srv->store, user_id, &u)) != LSN_OK)
		return handler_store_fail(hc, err, "user");
	json_t *list = json_array();
	if (list == NULL)
		return lsn_fail(&hc->st, LSN_ERR_INTERNAL, NULL);
	json_object_set_new(reply, "user", wire_id(user_id));
	json_object_set_new(reply, "ik", wire_b64(u.ik, sizeof u.ik));
	json_object_set_new(reply, "devices", list);
	struct device_list dl = {list, hc->sess->user};
	if ((err = store_device_list(hc->srv->store, user_id, append_device, &dl)) != LSN_OK)
		return handler_store_fail(hc, err, "device");
	return LSN_OK;
}

enum lsn_err
handle_device_revoke(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	uint8_t device[LSN_ID_BYTES], sig[64];
	int64_t ts = 0;
	enum lsn_err err;
	if ((err = wire_get_id(req, "device", true, device, NULL, &hc->st)) ||
	    (err = wire_get_int(req, "ts", true, 0, WIRE_ID_MAX, &ts, &hc->st)) ||
	    (err = wire_get_b64(req, "sig", true, sig, sizeof sig, &hc->st)))
		return err;
	struct store_device dev;
	struct store_user u;
	err = store_device_get(hc->srv->store, device, &dev);
	if (err == LSN_OK && memcmp(dev.user_id, hc->sess->user, LSN_ID_BYTES) != 0)
		err = LSN_ERR_NOT_FOUND;
	if (err != LSN_OK)
		return err == LSN_ERR_NOT_FOUND
			       ? lsn_fail(&hc->st, err, "no such device among your devices; "
							"list them with \"liaison devices\"")
			       : handler_store_fail(hc, err, "device");
	if ((err = store_user_get(hc->srv->store, hc->sess->user, &u)) != LSN_OK)
		return handler_store_fail(hc, err, "user");
	uint8_t msg[LSN_SIGNED_MAX];
	size_t len = lsn_signed_revoke(msg, hc->sess->user, device, (uint64_t)ts);
	if (!lsn_sig_verify(sig, msg, len, u.ik))
		return lsn_fail(&hc->st, LSN_ERR_BAD_SIGNATURE,
				"the revocation must be signed by your identity key");
	if (dev.revoked_at)
		return lsn_fail(&hc->st, LSN_ERR_CONFLICT, "this device is already revoked");
	if ((err = store_device_revoke(hc->srv->store, device, hc->now)) != LSN_OK)
		return handler_store_fail(hc, err, "device");
	effects_close_device(hc->effects, device, 1008, "device revoked");
	if ((err = fanout_comembers(hc, hc->sess->user, "device_list",
				    json_pack("{s:o}", "user", wire_id(hc->sess->user)))) != LSN_OK)
		return err;
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(device, hex);
	log_info("device revoked by its user: %s", hex);
	if ((err = audit_request(hc, "device_revoke",
				 &(struct audit_ids){.target_user = hc->sess->user,
						     .target_device = device})) != LSN_OK)
		return err;
	json_object_set_new(reply, "device", wire_id(device));
	json_object_set_new(reply, "revoked_at", json_integer(hc->now));
	return LSN_OK;
}

#define KEYS_USERS_MAX 200

/* One user's identity key and active devices. */
static enum lsn_err
keys_one(struct handler_ctx *hc, const uint8_t user_id[LSN_ID_BYTES], json_t *list)
{
	struct store_user u;
	enum lsn_err err = store_user_get(hc->srv->store, user_id, &u);
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "user");
	json_t *all = json_array(), *active = json_array();
	struct device_list dl = {all, hc->sess->user};
	err = store_device_list(hc->srv->store, user_id, append_device, &dl);
	size_t i;
	json_t *dev;
	json_array_foreach(all, i, dev)
		if (json_is_null(json_object_get(dev, "revoked_at")))
			json_array_append(active, dev);
	json_decref(all);
	json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:o}", "user", wire_id(user_id),
					      "rpps", u.rpps[0] ? json_string(u.rpps) : json_null(),
					      "ik", wire_b64(u.ik, sizeof u.ik), "devices", active));
	return err == LSN_OK ? LSN_OK : handler_store_fail(hc, err, "device");
}

enum lsn_err
handle_keys(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	json_t *users = json_object_get(req, "users");
	if (!json_is_array(users) || json_array_size(users) == 0 ||
	    json_array_size(users) > KEYS_USERS_MAX)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"users\": expected an array of 1 to %d user ids", KEYS_USERS_MAX);
	json_t *list = json_array();
	json_object_set_new(reply, "users", list);
	for (size_t i = 0; i < json_array_size(users); i++) {
		uint8_t id[LSN_ID_BYTES];
		if (!lsn_id_from_hex(json_string_value(json_array_get(users, i)), id))
			return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
					"users[%zu]: expected an id of 32 lowercase hex characters", i);
		enum lsn_err err = keys_one(hc, id, list);
		if (err != LSN_OK)
			return err;
	}
	return LSN_OK;
}

/* A device publishes a new agreement key, certified by its DK (CRYPTO.md §1:
 * AK rotates every 7 days). Co-members refresh their copy of the keys. */
enum lsn_err
handle_ak_publish(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_device dev, next;
	int64_t ts = 0;
	enum lsn_err err = store_device_get(hc->srv->store, hc->sess->device, &dev);
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "device");
	next = dev;
	if ((err = wire_get_id(req, "ak_id", true, next.ak_id, NULL, &hc->st)) ||
	    (err = wire_get_b64(req, "ak", true, next.ak, sizeof next.ak, &hc->st)) ||
	    (err = wire_get_int(req, "ak_ts", true, 0, WIRE_ID_MAX, &ts, &hc->st)) ||
	    (err = wire_get_b64(req, "ak_sig", true, next.ak_sig, sizeof next.ak_sig, &hc->st)))
		return err;
	next.ak_ts = ts;
	if (ts <= dev.ak_ts)
		return lsn_fail(&hc->st, LSN_ERR_CONFLICT,
				"field \"ak_ts\": a new agreement key must be newer than the current one");
	uint8_t msg[LSN_SIGNED_MAX];
	size_t len = lsn_signed_ak_cert(msg, dev.id, next.ak_id, next.ak, (uint64_t)ts);
	if (!lsn_sig_verify(next.ak_sig, msg, len, dev.dk))
		return lsn_fail(&hc->st, LSN_ERR_BAD_SIGNATURE,
				"ak_sig: this device's key did not sign that agreement key");
	next.created_at = hc->now;
	if ((err = store_device_add_ak(hc->srv->store, &next)) != LSN_OK)
		return err == LSN_ERR_CONFLICT
			       ? lsn_fail(&hc->st, err, "this agreement key id is already used; draw a new one")
			       : handler_store_fail(hc, err, "agreement key");
	json_object_set_new(reply, "device", wire_id(dev.id));
	json_object_set_new(reply, "ak_id", wire_id(next.ak_id));
	return fanout_comembers(hc, hc->sess->user, "device_list",
				json_pack("{s:o}", "user", wire_id(hc->sess->user)));
}
