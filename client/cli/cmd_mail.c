/* cmd_mail.c — "liaison mail [on|off|status]": whether the server e-mails
 * you when something waits for you in Liaison (ops mail_status, mail_set;
 * docs/PROTOCOL.md, "E-mail when something waits"). The mail says only
 * that something waits, with the server's link; the address is set by the
 * administrator. */
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "login.h"
#include "output.h"
#include "tr.h"

int
cmd_mail_check(struct cmd_call *c)
{
	if (c->n_pos == 1 && strcmp(c->pos[0], "on") != 0 && strcmp(c->pos[0], "off") != 0 &&
	    strcmp(c->pos[0], "status") != 0) {
		out_error("%s", _("mail takes on, off or status; see liaison mail --help"));
		return CLI_USAGE;
	}
	return CLI_OK;
}

static void
print_mail(json_t *reply)
{
	const char *address = json_string_value(json_object_get(reply, "address"));
	bool enabled = json_is_true(json_object_get(reply, "enabled"));
	bool relay = json_is_true(json_object_get(reply, "relay"));
	json_t *last = json_object_get(reply, "last_sent_at");
	char when[32];
	out_kv(_("Address"), address ? address : _("none (your administrator sets it)"));
	out_kv(_("E-mails"), enabled ? _("on") : _("off"));
	if (json_is_integer(last))
		out_kv(_("Last e-mail"), out_time(json_integer_value(last), when, sizeof when));
	if (!relay)
		puts(_("This server sends no e-mail (no SMTP relay is configured)."));
	else if (enabled && address)
		puts(_("When a notice, an alert or a step waits unseen for you, you get one e-mail "
		       "saying only that something waits, with the server's link (at most one per "
		       "period)."));
	else if (!enabled)
		puts(_("You get no e-mail when something waits for you; turn them on with: "
		       "liaison mail on"));
	else
		puts(_("No e-mail is sent until your administrator sets your address."));
}

int
cmd_mail_run(struct cmd_call *c)
{
	int rc = CLI_OK;
	struct lsn_status st = {0};
	json_t *reply = NULL;
	const char *word = c->n_pos == 1 ? c->pos[0] : "status";
	enum lsn_err err;
	if (strcmp(word, "status") == 0)
		err = link_request(c->s->link, "mail_status", NULL, &reply, &st);
	else
		err = link_request(c->s->link, "mail_set",
				   json_pack("{s:b}", "enabled", strcmp(word, "on") == 0), &reply, &st);
	if (err != LSN_OK)
		rc = out_fail(&st);
	else if (c->cli->json)
		rc = out_json_reply(reply);
	else
		print_mail(reply);
	json_decref(reply);
	return rc;
}
