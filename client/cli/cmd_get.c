/* cmd_get.c — "liaison get": download an attachment, decrypt it with the key
 * carried by the message that announced it, check it whole, save it. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "attach_io.h"
#include "cli.h"
#include "output.h"
#include "sync.h"

static const char get_help[] =
	"usage: liaison get ATTACHMENT [-o FILE]\n"
	"\n"
	"Download and decrypt an attachment (its id is shown by liaison read). It is\n"
	"saved under its own name in the current directory, or as FILE; an existing\n"
	"file is never overwritten. The file is written only if it decrypts whole\n"
	"(truncation and any change are detected).\n";

int
cmd_get(const struct cli *cli, int argc, char **argv)
{
	const char *pos[1] = {NULL}, *out_path = NULL, *out_long = NULL;
	int n_pos = 0;
	const struct args_opt opts[] = {{"-o", &out_path, NULL}, {"--output", &out_long, NULL},
					{NULL, NULL, NULL}};
	switch (args_parse(argc, argv, opts, pos, 1, &n_pos)) {
	case ARGS_HELP:
		fputs(get_help, stdout);
		return CLI_OK;
	case ARGS_USAGE:
		return CLI_USAGE;
	case ARGS_OK:
		break;
	}
	uint8_t id[LSN_ID_BYTES];
	if (n_pos != 1 || !lsn_id_from_hex(pos[0], id)) {
		out_error("get needs an ATTACHMENT id (32 hex characters, shown by liaison read)");
		return CLI_USAGE;
	}
	struct e2e e;
	int rc = e2e_start(cli, &e);
	if (rc != CLI_OK)
		return rc;
	struct lsn_status st = {0};
	char saved[4096];
	if (attach_download(&e, id, out_path ? out_path : out_long, saved, sizeof saved, &st) !=
	    LSN_OK) {
		rc = out_fail(&st);
	} else if (cli->json) {
		json_t *out = json_pack("{s:s, s:s}", "attachment", pos[0], "saved", saved);
		rc = out_json(out);
		json_decref(out);
	} else {
		fputs("Saved ", stdout);
		out_text(stdout, saved);
		puts(".");
	}
	e2e_end(&e);
	return rc;
}
