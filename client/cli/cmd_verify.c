/* cmd_verify.c — "liaison verify": the safety number shared with another
 * user (CRYPTO.md §2, shared/fingerprint.h), the state of their pinned
 * identity key, and — after comparing the number with them — recording the
 * confirmation (which also accepts a changed identity key). "liaison strict"
 * turns strict mode on or off: keys are then shared only with verified users. */
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "fingerprint.h"
#include "output.h"
#include "peers.h"
#include "local.h"
#include "user_view.h"
#include "tr.h"

static const char *
pin_state(const struct peer *pr)
{
	if (!pr->trusted)
		return _("IDENTITY KEY CHANGED");
	return pr->pin.verified ? _("verified") : _("not verified (trusted on first use)");
}

static void
safety_number(struct e2e *e, const struct peer *pr, char out[LSN_SAFETY_NUMBER_TEXT + 1])
{
	char mine[LSN_FPR_DIGITS + 1], theirs[LSN_FPR_DIGITS + 1];
	const char *my_rpps = user_view_str(json_object_get(e->s.login, "user"), "rpps");
	lsn_fingerprint(e->p->user, my_rpps, e->p->ik_pk, mine);
	lsn_fingerprint(pr->user, pr->rpps, pr->server_ik, theirs);
	lsn_safety_number(e->p->user, mine, pr->user, theirs, out);
}

static int
report(struct e2e *e, const struct peer *pr, const char *number, bool accepted)
{
	char who[200], hex[LSN_ID_HEX + 1];
	e2e_person(e, pr->user, who, sizeof who);
	lsn_id_to_hex(pr->user, hex);
	if (out_json_mode()) {
		json_t *out = json_pack("{s:s, s:s, s:s, s:b, s:b, s:b}", "user", hex, "name", who,
					"safety_number", number, "verified",
					accepted || pr->pin.verified, "identity_key_changed",
					!accepted && !pr->trusted, "accepted", accepted);
		int rc = out_json(out);
		json_decref(out);
		return rc;
	}
	fputs(_("Safety number with "), stdout);
	out_text(stdout, who);
	printf(":\n\n    %.35s\n    %s\n\n", number, number + 36);
	if (accepted) {
		fputs(_("Recorded: you verified them; keys are shared with them.\n"), stdout);
	} else {
		printf(_("State: %s\n"), pin_state(pr));
		if (!pr->trusted)
			printf(_("WARNING: their identity key is not the one you knew. Keys are not "
			       "shared with them until you compare this number and run liaison "
			       "verify %s --accept.\n"), hex);
		else if (!pr->pin.verified)
			printf(_("Compare it with theirs; if it matches, run liaison verify %s "
			       "--accept.\n"), hex);
	}
	return CLI_OK;
}

static int
verify_user(struct e2e *e, const char *text, bool accept)
{
	uint8_t user[LSN_ID_BYTES];
	int rc = e2e_resolve_user(e, text, user);
	if (rc != CLI_OK)
		return rc;
	if (memcmp(user, e->p->user, LSN_ID_BYTES) == 0) {
		out_error("%s", _("that is you; verify another user"));
		return CLI_USAGE;
	}
	struct lsn_status st = {0};
	const uint8_t (*one)[LSN_ID_BYTES] = (const uint8_t (*)[LSN_ID_BYTES])user;
	if (peers_load(e, one, 1, true, &st) != LSN_OK)
		return out_fail(&st);
	struct peer *pr = peers_get(e->peers, user);
	if (pr == NULL) {
		out_error("%s", _("the server does not know this user; check the id"));
		return CLI_FAIL;
	}
	char number[LSN_SAFETY_NUMBER_TEXT + 1];
	safety_number(e, pr, number);
	if (strlen(number) != LSN_SAFETY_NUMBER_TEXT) {
		out_error("%s", _("cannot compute a safety number for this user (malformed RPPS)"));
		return CLI_FAIL;
	}
	if (accept && local_pin_accept(e->p, user, pr->server_ik, true, &st) != LSN_OK)
		return out_fail(&st);
	return report(e, pr, number, accept);
}

int
cmd_verify_run(struct cmd_call *c)
{
	return verify_user(c->e, c->pos[0], cmd_flag(c, "--accept"));
}

int
cmd_strict_check(struct cmd_call *c)
{
	if (c->n_pos == 1 && strcmp(c->pos[0], "on") != 0 && strcmp(c->pos[0], "off") != 0) {
		out_error("%s", _("strict takes on or off; see liaison strict --help"));
		return CLI_USAGE;
	}
	return CLI_OK;
}

int
cmd_strict_run(struct cmd_call *c)
{
	const struct cli *cli = c->cli;
	int n_pos = c->n_pos, rc = CLI_OK;
	const char *const *pos = c->pos;
	struct lsn_status st = {0};
	bool on = n_pos == 1 ? strcmp(pos[0], "on") == 0 : c->e->strict;
	if (n_pos == 1 && local_set_setting(c->e->p, "strict", on, &st) != LSN_OK)
		rc = out_fail(&st);
	else if (cli->json) {
		json_t *out = json_pack("{s:b}", "strict", on);
		rc = out_json(out);
		json_decref(out);
	} else {
		puts(on ? _("Strict mode is on: keys are shared only with users you verified.")
			 : _("Strict mode is off: keys are shared with every member whose identity "
			     "key has not changed."));
	}
	return rc;
}
