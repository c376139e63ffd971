/* cli.h — what every command of the liaison CLI shares: the global options
 * and the exit codes. A newcomer starts here, then reads command.h (how a
 * command is declared and called) and commands.c (the table of them all). */
#ifndef LIAISON_CLI_H
#define LIAISON_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "ident.h"

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

/* The start of a command (start.c): the core's session or end-to-end
 * context opened with these options, errors printed, the exit code
 * returned; e2e_end prints the warnings the core gathered, then closes. */
struct login;
struct e2e;
struct lsn_warnings;
int login_start(const struct cli *cli, struct login *s);
/* The profile alone opened and unlocked (no server); close with login_end. */
int profile_start(const struct cli *cli, struct login *s);
int e2e_start(const struct cli *cli, struct e2e *e);
void e2e_end(struct e2e *e);
/* e2e_start, but when the server cannot be reached the profile and local
 * store are opened alone (e->s.offline), and the user told so on stderr. */
int e2e_start_or_offline(const struct cli *cli, struct e2e *e);
/* USER / CHANNEL arguments (e2e_find_user, e2e_find_channel) with the
 * error printed: CLI_OK with the id filled, CLI_USAGE when the text names
 * no one or several (the candidates listed), CLI_FAIL otherwise. */
int e2e_resolve_user(struct e2e *e, const char *text, uint8_t user[LSN_ID_BYTES]);
int e2e_resolve_channel(struct e2e *e, const char *text, uint8_t channel[LSN_ID_BYTES]);

#endif
