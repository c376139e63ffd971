/* cli.h — what every command of the liaison CLI shares: the global options
 * and the exit codes. A newcomer starts here, then reads command.h (how a
 * command is declared and called) and commands.c (the table of them all). */
#ifndef LIAISON_CLI_H
#define LIAISON_CLI_H

#include <stdbool.h>

/* Exit codes (docs: 0 success, 1 failure, 2 usage error). */
enum cli_exit {
	CLI_OK = 0,
	CLI_FAIL = 1,
	CLI_USAGE = 2,
};

/* Global options, valid before or after the command. */
struct cli {
	const char *profile;         /* --profile NAME, default "default" */
	const char *ca_file;         /* --ca FILE */
	const char *passphrase_file; /* --passphrase-file FILE */
	bool json;                   /* --json: machine-readable output on stdout */
};

#define CLI_DEFAULT_PROFILE "default"
#define CLI_TIMEOUT_MS      15000

#endif
