/* handle_session.c — ops of the connection itself: ping, challenge, login,
 * whoami. */
#include <string.h>

#include <sodium.h>

#include "audit.h"
#include "clock.h"
#include "handlers.h"
#include "metrics.h"
#include "log.h"
#include "sigs.h"
#include "wire.h"

void
session_new_challenge(struct session *sess)
{
	randombytes_buf(sess->challenge, sizeof sess->challenge);
	sess->has_challenge = true;
}

enum lsn_err
handle_ping(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	json_object_set_new(reply, "ts", json_integer(hc->now));
	return LSN_OK;
}

enum lsn_err
handle_challenge(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	session_new_challenge(hc->sess);
	json_object_set_new(reply, "challenge",
			    wire_b64(hc->sess->challenge, sizeof hc->sess->challenge));
	return LSN_OK;
}

/* Verify sig over the login string for this connection's challenge. The
 * challenge is consumed first, so a signature can never be tried twice. */
static enum lsn_err
login_verify(struct handler_ctx *hc, const uint8_t user[LSN_ID_BYTES],
	     const struct store_device *dev, const uint8_t sig[crypto_sign_BYTES])
{
	uint8_t challenge[LSN_CHALLENGE_BYTES];
	memcpy(challenge, hc->sess->challenge, sizeof challenge);
	hc->sess->has_challenge = false;
	sodium_memzero(hc->sess->challenge, sizeof hc->sess->challenge);

	uint8_t signed_bytes[LSN_SIGNED_MAX];
	size_t len = lsn_signed_login(signed_bytes, hc->srv->cfg->server_name, user, dev->id,
				      challenge);
	if (!lsn_sig_verify(sig, signed_bytes, len, dev->dk))
		return lsn_fail(&hc->st, LSN_ERR_BAD_SIGNATURE,
				"login signature does not verify for this device and challenge; "
				"request a new challenge and sign it with this device's key");
	return LSN_OK;
}

enum lsn_err
handle_login(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	uint8_t user[LSN_ID_BYTES], device[LSN_ID_BYTES], sig[crypto_sign_BYTES];
	enum lsn_err err;
	if (hc->sess->logged_in)
		return lsn_fail(&hc->st, LSN_ERR_ALREADY_LOGGED_IN, NULL);
	if ((err = wire_get_id(req, "user", true, user, NULL, &hc->st)) ||
	    (err = wire_get_id(req, "device", true, device, NULL, &hc->st)) ||
	    (err = wire_get_b64(req, "sig", true, sig, sizeof sig, &hc->st)))
		return err;
	json_t *batch = json_object_get(req, "batch");
	if (batch && !json_is_boolean(batch))
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"\"batch\" must be true or false (true: this client unpacks "
				"{\"batch\":[...]} frames)");
	json_t *binary = json_object_get(req, "binary");
	if (binary && !json_is_boolean(binary))
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"\"binary\" must be true or false (true: attachment chunks travel in "
				"binary frames, docs/PROTOCOL.md)");
	if (!hc->sess->has_challenge)
		return lsn_fail(&hc->st, LSN_ERR_NO_CHALLENGE, NULL);

	struct store_device dev;
	err = store_device_get(hc->srv->store, device, &dev);
	if (err == LSN_OK && memcmp(dev.user_id, user, LSN_ID_BYTES) != 0)
		err = LSN_ERR_NOT_FOUND;
	if (err != LSN_OK) {
		hc->sess->has_challenge = false;
		if (err == LSN_ERR_NOT_FOUND)
			return lsn_fail(&hc->st, LSN_ERR_UNKNOWN_DEVICE, NULL);
		return handler_store_fail(hc, err, "device");
	}
	if ((err = login_verify(hc, user, &dev, sig)) != LSN_OK)
		return err;
	if (dev.revoked_at)
		return lsn_fail(&hc->st, LSN_ERR_DEVICE_REVOKED, NULL);
	unsigned conn_cap = hc->srv->cfg->conn_per_user;   /* docs/OPERATIONS.md, "Bounds" */
	if (conn_cap && hc->srv->user_conns && hc->srv->user_conns(user) >= conn_cap) {
		metrics_conn_refused(METRICS_REFUSED_PER_USER);
		return lsn_fail(&hc->st, LSN_ERR_TOO_MANY_CONNECTIONS, "%u connections of this user "
				"are open, the most this server allows (conn_per_user); close one "
				"and retry", conn_cap);
	}

	struct store_user u;
	if ((err = store_user_get(hc->srv->store, user, &u)) != LSN_OK ||
	    (err = store_device_touch(hc->srv->store, device, hc->now)) != LSN_OK)
		return handler_store_fail(hc, err, "user");
	dev.last_seen_at = hc->now;
	hc->sess->logged_in = true;
	memcpy(hc->sess->user, user, LSN_ID_BYTES);
	memcpy(hc->sess->device, device, LSN_ID_BYTES);
	hc->sess->roles = u.roles;
	memcpy(hc->sess->org, u.org.id, LSN_ID_BYTES);
	hc->sess->batch = json_is_true(batch);
	hc->sess->binary = json_is_true(binary);
	char dev_hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(device, dev_hex);
	log_info("login: conn %llu device %s", (unsigned long long)hc->sess->conn_id, dev_hex);
	if ((err = audit_request(hc, "login", NULL)) != LSN_OK) {
		hc->sess->logged_in = false;
		return err;
	}
	json_object_set_new(reply, "user", render_user(&u));
	json_object_set_new(reply, "device", render_device(&dev, hc->sess->user));
	if (hc->sess->batch)
		json_object_set_new(reply, "batch", json_true());
	if (hc->sess->binary)
		json_object_set_new(reply, "binary", json_true());
	return LSN_OK;
}

enum lsn_err
handle_whoami(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_user u;
	struct store_device dev;
	enum lsn_err err = store_user_get(hc->srv->store, hc->sess->user, &u);
	if (err == LSN_OK)
		err = store_device_get(hc->srv->store, hc->sess->device, &dev);
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "user");
	json_object_set_new(reply, "user", render_user(&u));
	json_object_set_new(reply, "device", render_device(&dev, hc->sess->user));
	if (hc->sess->batch)
		json_object_set_new(reply, "batch", json_true());
	if (hc->sess->binary)
		json_object_set_new(reply, "binary", json_true());
	return LSN_OK;
}
