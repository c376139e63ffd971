/* cmd_login.c — "liaison login": connect and log in, to check the profile,
 * the passphrase and the server. */
#include <stdio.h>

#include "tr.h"
#include "ak_rotate.h"
#include "command.h"
#include "output.h"
#include "login.h"
#include "user_view.h"

int
cmd_login_run(struct cmd_call *c)
{
	const struct cli *cli = c->cli;
	const struct login *s = c->s;
	int rc = CLI_OK;
	struct lsn_warnings w = {0};
	ak_rotate_if_due(s->profile, s->link, &w); /* CRYPTO.md §1: every 7 days */
	out_warnings(&w);
	if (cli->json) {
				json_object_set_new(s->login, "server", json_string(s->profile->server_url));
		json_object_set_new(s->login, "server_name", json_string(s->profile->server_name));
		rc = out_json_reply(s->login);
	} else {
		json_t *user = json_object_get(s->login, "user");
		char device[LSN_ID_HEX + 1];
		lsn_id_to_hex(s->profile->device, device);
		fputs(_("Logged in as "), stdout);
		out_text(stdout, user_view_str(user, "name"));
		fputs(" (", stdout);
		out_text(stdout, user_view_profession(user));
		printf(_(") on device %s at %s ("), device, s->profile->server_name);
		out_text(stdout, s->profile->server_url);
		puts(")");
	}
	return rc;
}
