/* cmd_passphrase.c — "liaison passphrase": change the profile's passphrase.
 * The current one is asked first (as for any command); the new one comes
 * from --new-passphrase-file, LIAISON_NEW_PASSPHRASE or the terminal
 * (twice). Every secret of the profile is sealed again under the new one in
 * one transaction (profile_rekey): no server is needed. */
#include <stdio.h>

#include "command.h"
#include "login.h"
#include "output.h"
#include "passphrase.h"
#include "profile.h"
#include "tr.h"

int
cmd_passphrase_run(struct cmd_call *c)
{
	struct login s;
	int rc = profile_start(c->cli, &s);
	if (rc != CLI_OK)
		return rc;
	struct lsn_status st = {0};
	char *pass = NULL;
	enum lsn_err err = passphrase_get_new(cmd_opt(c, "--new-passphrase-file"),
					      s.profile->name, &pass, &st);
	if (err == LSN_OK)
		err = profile_rekey(s.profile, pass, &st);
	passphrase_free(pass);
	if (err != LSN_OK) {
		rc = out_fail(&st);
	} else if (out_json_mode()) {
		json_t *out = json_pack("{s:s, s:b}", "profile", s.profile->name, "changed", 1);
		rc = out_json(out);
		json_decref(out);
	} else {
		printf(_("The passphrase of profile \"%s\" is changed; use the new one from now on.\n"),
		       s.profile->name);
	}
	login_end(&s);
	return rc;
}
