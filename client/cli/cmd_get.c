/* cmd_get.c — "liaison get": download an attachment, decrypt it with the key
 * carried by the message that announced it, check it whole, save it. */
#include <stdio.h>
#include <string.h>

#include "attach_io.h"
#include "command.h"
#include "output.h"
#include "sync.h"
#include "tr.h"

int
cmd_get_check(struct cmd_call *c)
{
	uint8_t id[LSN_ID_BYTES];
	return lsn_id_from_hex(c->pos[0], id) ? CLI_OK : cmd_missing(c);
}

int
cmd_get_run(struct cmd_call *c)
{
	const struct cli *cli = c->cli;
	const char *const *pos = c->pos;
	const char *out_path = cmd_opt(c, "-o"), *out_long = cmd_opt(c, "--output");
	uint8_t id[LSN_ID_BYTES];
	lsn_id_from_hex(pos[0], id);
	int rc = CLI_OK;
	struct lsn_status st = {0};
	char saved[4096];
	if (attach_download(c->e, id, out_path ? out_path : out_long, saved, sizeof saved, &st) !=
	    LSN_OK) {
		rc = out_fail(&st);
	} else if (cli->json) {
		char hex[LSN_ID_HEX + 1];
		lsn_id_to_hex(id, hex);
		json_t *out = json_pack("{s:s, s:s}", "attachment", hex, "saved", saved);
		rc = out_json(out);
		json_decref(out);
	} else {
		fputs(_("Saved "), stdout);
		out_text(stdout, saved);
		puts(".");
	}
	return rc;
}
