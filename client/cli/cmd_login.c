/* cmd_login.c — "liaison login": connect and log in, to check the profile,
 * the passphrase and the server. */
#include <stdio.h>

#include "ak_rotate.h"
#include "args.h"
#include "cli.h"
#include "output.h"
#include "session.h"
#include "user_view.h"

static const char login_help[] =
	"usage: liaison [--profile NAME] login\n"
	"\n"
	"Connect to the profile's server and log in with this device's key.\n"
	"Publishes a new agreement key when the current one is 7 days old.\n"
	"Prints who you are logged in as; --json prints the server's login reply.\n";

int
cmd_login(const struct cli *cli, int argc, char **argv)
{
	int n_pos = 0;
	const struct args_opt opts[] = {{NULL, NULL, NULL}};
	switch (args_parse(argc, argv, opts, NULL, 0, &n_pos)) {
	case ARGS_HELP:
		fputs(login_help, stdout);
		return CLI_OK;
	case ARGS_USAGE:
		return CLI_USAGE;
	case ARGS_OK:
		break;
	}
	struct session s;
	int rc = session_start(cli, &s);
	if (rc != CLI_OK)
		return rc;
	struct lsn_warnings w = {0};
	ak_rotate_if_due(s.profile, s.conn, &w); /* CRYPTO.md §1: every 7 days */
	for (size_t i = 0; i < w.n; i++)
		out_error("%s", w.msg[i]);
	if (cli->json) {
		json_object_del(s.login, "id");
		json_object_set_new(s.login, "server", json_string(s.profile->server_url));
		json_object_set_new(s.login, "server_name", json_string(s.profile->server_name));
		rc = out_json(s.login);
	} else {
		json_t *user = json_object_get(s.login, "user");
		char device[LSN_ID_HEX + 1];
		lsn_id_to_hex(s.profile->device, device);
		fputs("Logged in as ", stdout);
		out_text(stdout, user_view_str(user, "name"));
		fputs(" (", stdout);
		out_text(stdout, user_view_profession(user));
		printf(") on device %s at %s (", device, s.profile->server_name);
		out_text(stdout, s.profile->server_url);
		puts(")");
	}
	session_end(&s);
	return rc;
}
