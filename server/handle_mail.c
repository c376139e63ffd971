/* handle_mail.c — the logged-in user's "something is waiting" e-mails:
 * whether they get them, and turning them off or on (docs/PROTOCOL.md,
 * "E-mail when something waits"). The address itself is the
 * administrator's (liaisond user email, invite --email): a user cannot
 * redirect the mails. */
#include <string.h>

#include "handlers.h"
#include "wire.h"

/* reply: address (null when none), enabled, relay (the server has an SMTP
 * relay), last_sent_at (null when never). */
static enum lsn_err
mail_reply(struct handler_ctx *hc, json_t *reply)
{
	struct store_mail_settings ms;
	enum lsn_err err = store_mail_settings_get(hc->srv->store, hc->sess->user, &ms);
	if (err == LSN_ERR_NOT_FOUND) {
		memset(&ms, 0, sizeof ms);
		ms.enabled = true;             /* nobody said no */
	} else if (err != LSN_OK) {
		return handler_store_fail(hc, err, "mail settings");
	}
	json_object_set_new(reply, "address", ms.address[0] ? json_string(ms.address) : json_null());
	json_object_set_new(reply, "enabled", json_boolean(ms.enabled));
	json_object_set_new(reply, "relay", json_boolean(hc->srv->cfg->smtp_host[0] != '\0'));
	json_object_set_new(reply, "last_sent_at",
			    ms.last_sent_at ? json_integer(ms.last_sent_at) : json_null());
	return LSN_OK;
}

enum lsn_err
handle_mail_status(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	(void)req;
	return mail_reply(hc, reply);
}

enum lsn_err
handle_mail_set(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	bool on = true;
	enum lsn_err err = wire_get_bool(req, "enabled", true, &on, &hc->st);
	if (err != LSN_OK)
		return err;
	err = store_mail_enabled_set(hc->srv->store, hc->sess->user, on, hc->now);
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "mail settings");
	return mail_reply(hc, reply);
}
