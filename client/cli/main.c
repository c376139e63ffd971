/* main.c — the liaison CLI entry point: the process set-up (umask, SIGPIPE,
 * language, libsodium, wiping JSON memory), then the command front end (command.c). */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "command.h"
#include "i18n.h"
#include "link_diag.h"
#include "output.h"

/* JSON values carry chain keys and plaintext in transit: jansson's memory
 * is wiped before it is freed. */
static void
json_wiping_free(void *ptr)
{
	if (ptr)
		sodium_memzero(ptr, malloc_usable_size(ptr));
	free(ptr);
}

/* The connection's debug lines (LIAISON_DEBUG), on stderr. */
static void
debug_line(const char *line)
{
	out_error("%s", line);
}

int
main(int argc, char **argv)
{
	umask(077); /* profile files and SQLite journals: owner only */
	i18n_init(); /* French when the locale is French (po/) */
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		out_error("%s", _("cannot initialise libsodium"));
		return CLI_FAIL;
	}
	json_set_alloc_funcs(malloc, json_wiping_free);
	link_diag_set_sink(debug_line);
	return command_main(argc, argv);
}
