/* cmd_backup.c — "liaison backup": set up the encrypted key backup (the
 * recovery code is shown once), show whether it is on, and restore the
 * history keys on another device of yours (CRYPTO.md §7). */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "args.h"
#include "cli.h"
#include "key_backup.h"
#include "passphrase.h"
#include "output.h"

static const char backup_help[] =
	"usage: liaison backup setup\n"
	"       liaison backup status\n"
	"       liaison backup restore [--recovery-code CODE]\n"
	"\n"
	"setup    create a recovery key, shown ONCE as a recovery code: write it down\n"
	"         and keep it safe. Your identity key and every conversation key are\n"
	"         then stored on the server encrypted under it (new keys as they\n"
	"         arrive); the server cannot read them.\n"
	"status   whether this device uploads its keys to the backup\n"
	"restore  on another device of yours: fetch and decrypt the conversation keys\n"
	"         so that it reads the history. The code comes from --recovery-code,\n"
	"         $LIAISON_RECOVERY_CODE or a prompt.\n"
	"To enrol a new device of yours with the recovery code, use\n"
	"liaison enrol --invite DEVICE_INVITE --recovery-code CODE.\n";

static int
backup_setup(struct e2e *e)
{
	char code[LSN_RECOVERY_CODE_TEXT + 1];
	struct lsn_status st = {0};
	if (key_backup_setup(e, code, &st) != LSN_OK)
		return out_fail(&st);
	int rc = CLI_OK;
	if (e->cli->json) {
		json_t *out = json_pack("{s:s}", "recovery_code", code);
		rc = out_json(out);
		json_decref(out);
	} else {
		printf("Key backup set up. Your recovery code (shown only this once):\n\n    %s\n\n"
		       "Write it down and keep it somewhere safe. With it, a new device of yours\n"
		       "can restore your identity and read your history; without it, nobody can.\n",
		       code);
	}
	sodium_memzero(code, sizeof code);
	return rc;
}

static int
backup_status(struct e2e *e)
{
	bool on = key_backup_enabled(e);
	if (e->cli->json) {
		json_t *out = json_pack("{s:b}", "enabled", on);
		int rc = out_json(out);
		json_decref(out);
		return rc;
	}
	puts(on ? "Key backup: on (new keys are uploaded as they arrive)."
		: "Key backup: off on this device. Set it up with liaison backup setup, or "
		  "restore it with liaison backup restore.");
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
	if (e->cli->json) {
		json_t *out = json_pack("{s:I}", "restored", (json_int_t)restored);
		int rc = out_json(out);
		json_decref(out);
		return rc;
	}
	printf("Restored %zu conversation key(s) from the backup; liaison read shows the "
	       "history.\n", restored);
	return CLI_OK;
}

int
cmd_backup(const struct cli *cli, int argc, char **argv)
{
	const char *pos[2] = {NULL, NULL}, *code = NULL;
	int n_pos = 0;
	const struct args_opt opts[] = {{"--recovery-code", &code, NULL}, {NULL, NULL, NULL}};
	switch (args_parse(argc, argv, opts, pos, 1, &n_pos)) {
	case ARGS_HELP:
		fputs(backup_help, stdout);
		return CLI_OK;
	case ARGS_USAGE:
		return CLI_USAGE;
	case ARGS_OK:
		break;
	}
	const char *sub = n_pos ? pos[0] : "";
	if (strcmp(sub, "setup") != 0 && strcmp(sub, "status") != 0 &&
	    strcmp(sub, "restore") != 0) {
		out_error("backup needs setup, status or restore; see liaison backup --help");
		return CLI_USAGE;
	}
	if (code && strcmp(sub, "restore") != 0) {
		out_error("--recovery-code goes with backup restore");
		return CLI_USAGE;
	}
	struct e2e e;
	int rc = e2e_start(cli, &e);
	if (rc != CLI_OK)
		return rc;
	if (strcmp(sub, "setup") == 0)
		rc = backup_setup(&e);
	else if (strcmp(sub, "status") == 0)
		rc = backup_status(&e);
	else
		rc = backup_restore(&e, code);
	e2e_end(&e);
	return rc;
}
