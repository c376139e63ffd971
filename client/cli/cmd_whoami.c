/* cmd_whoami.c — "liaison whoami": the logged-in user and this device, as the
 * server knows them (op whoami). */
#include <stdio.h>
#include <string.h>

#include "tr.h"
#include "command.h"
#include "output.h"
#include "login.h"
#include "user_view.h"

static void
print_whoami(const struct login *s, json_t *reply)
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
	out_kv(_("Name"), user_view_str(user, "name"));
	out_kv(_("RPPS"), user_view_str(user, "rpps"));
	out_kv(_("Profession"), user_view_profession(user));
	out_kv(_("Organisation"), org_line);
	out_kv(_("Roles"), user_view_roles(user, roles, sizeof roles));
	out_kv(_("User ID"), user_view_str(user, "id"));
	out_time(user_view_int(user, "created_at"), created, sizeof created);
	out_kv(_("Member since"), created);
	out_kv(_("This device"), device_line);
	out_kv(_("Server"), s->profile->server_name);
	out_kv(_("Server URL"), s->profile->server_url);
	out_kv(_("Profile"), s->profile->name);
}

int
cmd_whoami_run(struct cmd_call *c)
{
	int rc = CLI_OK;
	struct lsn_status st = {0};
	json_t *reply = NULL;
	if (link_request(c->s->link, "whoami", NULL, &reply, &st) != LSN_OK) {
		rc = out_fail(&st);
	} else if (c->cli->json) {
		rc = out_json_reply(reply);
	} else {
		print_whoami(c->s, reply);
	}
	json_decref(reply);
	return rc;
}
