/* cmd_whoami.c — "liaison whoami": the logged-in user and this device, as the
 * server knows them (op whoami). */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "output.h"
#include "session.h"
#include "user_view.h"

static const char whoami_help[] =
	"usage: liaison [--profile NAME] whoami\n"
	"\n"
	"Show your name, RPPS number, profession, organisation and roles, and this\n"
	"device's id and name, as recorded by the server.\n";

static void
print_whoami(const struct session *s, json_t *reply)
{
	json_t *user = json_object_get(reply, "user");
	json_t *device = json_object_get(reply, "device");
	json_t *org = json_object_get(user, "org");
	char roles[128], org_line[400], device_line[200], created[32];
	snprintf(org_line, sizeof org_line, "%s (FINESS %s, %s)",
		 user_view_str(org, "name") ? user_view_str(org, "name") : "-",
		 user_view_str(org, "finess") ? user_view_str(org, "finess") : "-",
		 user_view_str(org, "kind") ? user_view_str(org, "kind") : "-");
	snprintf(device_line, sizeof device_line, "%s (%s)",
		 user_view_str(device, "id") ? user_view_str(device, "id") : "-",
		 user_view_str(device, "name") ? user_view_str(device, "name") : "-");
	out_kv("Name", user_view_str(user, "name"));
	out_kv("RPPS", user_view_str(user, "rpps"));
	out_kv("Profession", user_view_profession(user));
	out_kv("Organisation", org_line);
	out_kv("Roles", user_view_roles(user, roles, sizeof roles));
	out_kv("User ID", user_view_str(user, "id"));
	out_time(user_view_int(user, "created_at"), created, sizeof created);
	out_kv("Member since", created);
	out_kv("This device", device_line);
	out_kv("Server", s->profile->server_name);
	out_kv("Server URL", s->profile->server_url);
	out_kv("Profile", s->profile->name);
}

int
cmd_whoami(const struct cli *cli, int argc, char **argv)
{
	int n_pos = 0;
	const struct args_opt opts[] = {{NULL, NULL, NULL}};
	switch (args_parse(argc, argv, opts, NULL, 0, &n_pos)) {
	case ARGS_HELP:
		fputs(whoami_help, stdout);
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
	struct lsn_status st = {0};
	json_t *reply = NULL;
	if (conn_request(s.conn, "whoami", NULL, &reply, &st) != LSN_OK) {
		rc = out_fail(&st);
	} else if (cli->json) {
		json_object_del(reply, "id");
		rc = out_json(reply);
	} else {
		print_whoami(&s, reply);
	}
	json_decref(reply);
	session_end(&s);
	return rc;
}
