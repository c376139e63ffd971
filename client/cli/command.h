/* command.h — the command front end of the liaison CLI: one table
 * (commands.c) says, for every command and sub-command, its help text, the
 * options it accepts, how many positional arguments it takes and what it
 * needs started (nothing, a logged-in session, the end-to-end context);
 * command.c parses the global options, finds the command, answers --help,
 * checks the arguments against the table (usage errors: exit 2), starts what
 * the command needs, calls its handlers and ends the session. A cmd_*.c file
 * holds only the command's own logic: a check (arguments that need no
 * server) and a run (the work, with the started context). */
#ifndef LIAISON_COMMAND_H
#define LIAISON_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

struct e2e;
struct login;

/* What the front end starts before run, and ends after it. */
enum cmd_needs {
	CMD_NOTHING,   /* run opens what it needs itself (enrol) */
	CMD_LOGIN,   /* profile unlocked, connected, logged in: login_start */
	CMD_E2E,       /* the session plus store and peers, keys synced: e2e_start */
};

/* One option of a command: "--name VALUE" (or "--name=VALUE"), or a flag. */
struct cmd_opt {
	const char *name; /* with the dashes, e.g. "--attach" */
	bool flag;        /* takes no value */
};

#define CMD_OPT_MAX 12
#define CMD_POS_MAX 40

/* One call of a command, as the front end hands it to check and run. */
struct cmd_call {
	const struct cli *cli;
	const struct cmd *cmd;   /* the table row (the sub-command's for one) */
	const char *pos[CMD_POS_MAX];
	int n_pos;
	const char *values[CMD_OPT_MAX]; /* by the index of the option in cmd->opts */
	bool flags[CMD_OPT_MAX];
	enum cmd_needs needs;    /* from the table; check may lower it */
	struct login *s;       /* CMD_LOGIN and CMD_E2E: the logged-in session */
	struct e2e *e;           /* CMD_E2E */
	void *data;              /* what check prepared for run, if anything */
	void (*data_free)(void *data); /* called once at the end when data is set */
};

/* Called before anything is started; CLI_OK to go on, else the exit code
 * (the error printed). */
typedef int (*cmd_check_fn)(struct cmd_call *c);
/* The command's work; returns the exit code. */
typedef int (*cmd_run_fn)(struct cmd_call *c);
/* A parser of its own, for options that take several values; returns
 * CLI_OK, CLI_USAGE (printed) or CMD_HELP. */
typedef int (*cmd_parse_fn)(struct cmd_call *c, int argc, char **argv);

#define CMD_HELP (-1)

struct cmd {
	const char *name;         /* a sub-command: "share", or "source add" */
	const char *alias;        /* another name, or NULL */
	const char *help;         /* --help text (stdout); NULL: the parent's */
	void (*help_more)(void);  /* printed after help, or NULL */
	const struct cmd_opt *opts; /* ends with {NULL}; NULL for none */
	int min_pos, max_pos;     /* positional arguments */
	const char *missing;      /* the usage error when fewer than min_pos */
	enum cmd_needs needs;
	cmd_parse_fn parse;       /* NULL: the options of opts, then positionals */
	cmd_check_fn check;       /* NULL: nothing to check */
	cmd_run_fn run;
	/* A command made of sub-commands named by the words after it (their
	 * rows in subs, ending with {NULL}): the error without one, and what the
	 * error for an unknown one adds after its name (": a, b or c"). */
	const struct cmd *subs;
	const char *no_sub, *subs_listed;
};

/* The table (commands.c) and the text of liaison --help. */
extern const struct cmd cmd_table[];
extern const char cmd_usage_text[];
extern const char cmd_usage_more[];   /* the rest of the usage, after cmd_usage_text */

/* The whole CLI after process set-up: global options, then the command. */
int command_main(int argc, char **argv);

/* The value of option name (NULL when not given) or whether the flag was
 * given. name must be one of the command's options. */
const char *cmd_opt(const struct cmd_call *c, const char *name);
bool cmd_flag(const struct cmd_call *c, const char *name);
/* Print the table's "missing" message of the command; CLI_USAGE. For checks
 * that refuse an argument with the same words as a missing one. */
int cmd_missing(const struct cmd_call *c);
/* A check for commands with --csv: refuses it with --json (CLI_USAGE). */
int cmd_csv_not_json(struct cmd_call *c);
/* Whether --csv or --csv-fr was given, and in *french whether the CSV takes
 * the French form (--csv-fr, or a French locale; csv.h). The command's row
 * has both options. */
bool cmd_csv(const struct cmd_call *c, bool *french);
/* Keep data for run; free_fn (may be NULL for none) releases it at the end. */
void cmd_keep(struct cmd_call *c, void *data, void (*free_fn)(void *data));
/* size zeroed bytes kept for run, released by free_fn (NULL: free); NULL,
 * "out of memory" printed, if there is no memory. */
void *cmd_keep_new(struct cmd_call *c, size_t size, void (*free_fn)(void *data));

/* ---- the handlers, by file --------------------------------------------------------------- */

/* cmd_enrol.c */
int cmd_enrol_check(struct cmd_call *c);
int cmd_enrol_run(struct cmd_call *c);
/* cmd_login.c, cmd_whoami.c */
int cmd_login_run(struct cmd_call *c);
int cmd_whoami_run(struct cmd_call *c);
/* cmd_passphrase.c */
int cmd_passphrase_run(struct cmd_call *c);
/* cmd_devices.c */
int cmd_devices_check(struct cmd_call *c);
int cmd_devices_run(struct cmd_call *c);
/* cmd_directory.c */
void cmd_directory_help_more(void);
int cmd_directory_check(struct cmd_call *c);
int cmd_directory_run(struct cmd_call *c);
/* cmd_channel.c */
int cmd_channel_check(struct cmd_call *c);
int cmd_channel_run(struct cmd_call *c);
/* cmd_send.c, cmd_read.c, cmd_get.c, cmd_watch.c */
int cmd_send_check(struct cmd_call *c);
int cmd_send_run(struct cmd_call *c);
int cmd_read_check(struct cmd_call *c);
int cmd_read_run(struct cmd_call *c);
int cmd_get_check(struct cmd_call *c);
int cmd_get_run(struct cmd_call *c);
int cmd_watch_run(struct cmd_call *c);
/* cmd_verify.c */
int cmd_verify_run(struct cmd_call *c);
int cmd_strict_check(struct cmd_call *c);
/* cmd_mail.c */
int cmd_mail_check(struct cmd_call *c);
int cmd_mail_run(struct cmd_call *c);
int cmd_strict_run(struct cmd_call *c);
/* cmd_backup.c */
int cmd_backup_check(struct cmd_call *c);
int cmd_backup_run(struct cmd_call *c);
/* backup setup in an open context (also offered at the end of enrol). */
int cmd_backup_setup_in(struct e2e *e);
/* Care pathways (docs/PATHWAYS.md): cmd_pathways.c, cmd_discharge.c,
 * cmd_notice.c, cmd_cases.c, cmd_case.c, cmd_report.c */
int cmd_pathways_run(struct cmd_call *c);
int cmd_discharge_check(struct cmd_call *c);
int cmd_discharge_run(struct cmd_call *c);
int cmd_ack_run(struct cmd_call *c);
int cmd_alert_check(struct cmd_call *c);
int cmd_alert_run(struct cmd_call *c);
int cmd_measure_check(struct cmd_call *c);
int cmd_measure_run(struct cmd_call *c);
int cmd_cases_run(struct cmd_call *c);
int cmd_case_check(struct cmd_call *c);
int cmd_case_run(struct cmd_call *c);
int cmd_report_check(struct cmd_call *c);
int cmd_report_run(struct cmd_call *c);
/* Medication reconciliation (docs/CONCILIATION.md): cmd_concil.c */
int cmd_concil_start_check(struct cmd_call *c);
int cmd_concil_start_run(struct cmd_call *c);
int cmd_concil_source_check(struct cmd_call *c);
int cmd_concil_source_run(struct cmd_call *c);
int cmd_concil_import_check(struct cmd_call *c);
int cmd_concil_import_run(struct cmd_call *c);
int cmd_concil_line_add_check(struct cmd_call *c);
int cmd_concil_line_add_run(struct cmd_call *c);
int cmd_concil_line_remove_check(struct cmd_call *c);
int cmd_concil_line_remove_run(struct cmd_call *c);
int cmd_concil_compare_run(struct cmd_call *c);
int cmd_concil_disc_set_check(struct cmd_call *c);
int cmd_concil_disc_set_run(struct cmd_call *c);
int cmd_concil_disc_add_check(struct cmd_call *c);
int cmd_concil_disc_add_run(struct cmd_call *c);
int cmd_concil_resolution_check(struct cmd_call *c);
int cmd_concil_propose_run(struct cmd_call *c);
int cmd_concil_resolve_run(struct cmd_call *c);
int cmd_concil_review_run(struct cmd_call *c);
int cmd_concil_reopen_run(struct cmd_call *c);
int cmd_concil_close_run(struct cmd_call *c);
int cmd_concil_show_run(struct cmd_call *c);
int cmd_concil_counts_run(struct cmd_call *c);
/* Quality circles: cmd_circle.c */
int cmd_circle_share_run(struct cmd_call *c);
int cmd_circle_k_run(struct cmd_call *c);
int cmd_circle_session_parse(struct cmd_call *c, int argc, char **argv);
int cmd_circle_session_check(struct cmd_call *c);
int cmd_circle_session_run(struct cmd_call *c);
int cmd_circle_review_run(struct cmd_call *c);

#endif
