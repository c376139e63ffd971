/* cmd_backup.c — "liaison backup": set up the encrypted key backup (the
 * recovery code is shown once), show whether it is on, and restore the
 * history keys on another device of yours (CRYPTO.md §7). */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "command.h"
#include "key_backup.h"
#include "passphrase.h"
#include "output.h"
#include "tr.h"

int
cmd_backup_setup_in(struct e2e *e)
{
	char code[LSN_RECOVERY_CODE_TEXT + 1];
	struct lsn_status st = {0};
	if (key_backup_setup(e, code, &st) != LSN_OK)
		return out_fail(&st);
	int rc = CLI_OK;
	if (out_json_mode()) {
		json_t *out = json_pack("{s:s}", "recovery_code", code);
		rc = out_json(out);
		json_decref(out);
	} else {
		printf(_("Key backup set up. Your recovery code (shown only this once):\n\n    %s\n\n"
		       "Write it down and keep it somewhere safe. With it, a new device of yours\n"
		       "can restore your identity and read your history; without it, nobody can.\n"),
		       code);
	}
	sodium_memzero(code, sizeof code);
	return rc;
}

static int
backup_status(struct e2e *e)
{
	bool on = key_backup_enabled(e);
	if (out_json_mode()) {
		json_t *out = json_pack("{s:b}", "enabled", on);
		int rc = out_json(out);
		json_decref(out);
		return rc;
	}
	puts(on ? _("Key backup: on (new keys are uploaded as they arrive).")
		: _("Key backup: off on this device. Set it up with liaison backup setup, or "
		  "restore it with liaison backup restore."));
	return CLI_OK;
}

static int
backup_restore(struct e2e *e, const char *given)
{
	uint8_t rk[32];
	struct lsn_status st = {0};
	size_t restored = 0;
	enum lsn_err err = key_backup_read_code(given, rk, &st);
	if (err == LSN_OK)
		err = key_backup_restore(e, rk, &restored, &st);
	sodium_memzero(rk, sizeof rk);
	if (err != LSN_OK)
		return out_fail(&st);
	if (out_json_mode()) {
		json_t *out = json_pack("{s:I}", "restored", (json_int_t)restored);
		int rc = out_json(out);
		json_decref(out);
		return rc;
	}
	printf(ngettext("Restored %zu conversation key from the backup; liaison read shows the "
			"history.\n",
			"Restored %zu conversation keys from the backup; liaison read shows the "
			"history.\n", restored), restored);
	return CLI_OK;
}

int
cmd_backup_check(struct cmd_call *c)
{
	const char *sub = c->n_pos ? c->pos[0] : "";
	if (strcmp(sub, "setup") != 0 && strcmp(sub, "status") != 0 &&
	    strcmp(sub, "restore") != 0) {
		out_error("%s", _("backup needs setup, status or restore; see liaison backup --help"));
		return CLI_USAGE;
	}
	if (cmd_opt(c, "--recovery-code") && strcmp(sub, "restore") != 0) {
		out_error("%s", _("--recovery-code goes with backup restore"));
		return CLI_USAGE;
	}
	return CLI_OK;
}

int
cmd_backup_run(struct cmd_call *c)
{
	const char *sub = c->pos[0];
	if (strcmp(sub, "setup") == 0)
		return cmd_backup_setup_in(c->e);
	if (strcmp(sub, "status") == 0)
		return backup_status(c->e);
	return backup_restore(c->e, cmd_opt(c, "--recovery-code"));
}
