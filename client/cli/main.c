/* main.c — the liaison CLI entry point: global options (before or after the
 * command), --version, --help, and dispatch to the commands. */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "cli.h"
#include "conn_diag.h"
#include "lsn_config.h"
#include "output.h"
#include "profile.h"

static const char usage_text[] =
	"usage: liaison [--profile NAME] [--json] [--ca FILE] [--passphrase-file FILE]\n"
	"               COMMAND [ARGS]\n"
	"\n"
	"Secure messaging for healthcare coordination (CPTS).\n"
	"\n"
	"Commands:\n"
	"  enrol --server wss://HOST:PORT --invite CODE [--device-name NAME] [--yes]\n"
	"        [--recovery-code CODE]\n"
	"                          enrol this device with an invite from your administrator\n"
	"  login                   connect and log in (checks the profile and the server)\n"
	"  whoami                  show who you are and which device this is\n"
	"  devices [list]          list your devices\n"
	"  devices revoke DEVICE_ID\n"
	"                          revoke one of your devices\n"
	"  directory search [QUERY] [--profession CODE] [--org ORG_ID] [--limit N]\n"
	"                          search enrolled professionals\n"
	"  channel create --kind case|circle|team|direct [--history shared|from_join]\n"
	"                 [--topic TEXT]\n"
	"  channel add CHANNEL USER [--role member|admin] | remove CHANNEL USER |\n"
	"          leave CHANNEL | role CHANNEL USER ROLE | members CHANNEL | list\n"
	"                          end-to-end encrypted channels and their signed members\n"
	"  send CHANNEL [TEXT] [--attach FILE]\n"
	"                          send an encrypted message (text from stdin if omitted)\n"
	"  read CHANNEL [--limit N]\n"
	"                          fetch, decrypt and show the thread\n"
	"  get ATTACHMENT [-o FILE]\n"
	"                          download and decrypt an attachment\n"
	"  watch                   show new messages, receipts and membership changes live\n"
	"  verify USER [--accept]  safety number with USER; --accept records the check\n"
	"  strict [on|off]         share keys only with verified users\n"
	"  backup setup | status | restore [--recovery-code CODE]\n"
	"                          encrypted key backup (recovery code shown once)\n"
	"\n"
	"Care pathways:\n"
	"  pathways [PATHWAY]      the pathway templates and their schedules\n"
	"  discharge --pathway P --gp USER --pharmacist USER --nurse USER\n"
	"            [--cardiologist USER] [--flag F] --notice FILE.json [--letter FILE]\n"
	"            [--date YYYY-MM-DD] | --check --notice FILE.json\n"
	"                          hospital discharge: case thread, case, encrypted notice\n"
	"  ack CASE                read and acknowledge a case's discharge notice\n"
	"  cases [--overdue] [--mine] [--pathway P] [--all] [--closed]\n"
	"                          notifications, then your cases\n"
	"  case show CASE | step complete|skip|reopen|assign CASE STEP ... |\n"
	"       open CHANNEL --pathway P --j0 DATE | close CASE --reason R | flag CASE F...\n"
	"                          a case's timeline and its steps\n"
	"  alert CASE TEXT         high-priority message to the case's GP and cardiologist\n"
	"  report --from DATE --to DATE [--csv]\n"
	"                          the CPTS indicators (coordinators)\n"
	"\n"
	"Medication reconciliation and quality circles:\n"
	"  conciliation start|source add|import|line add|compare|discrepancy set|\n"
	"               propose|resolve|review|close|show ... (alias: concil)\n"
	"                          BMO, prescription and discrepancies, in the case thread\n"
	"  circle share CIRCLE CASE EPISODE [--dry-run] | session CIRCLE ... |\n"
	"         review CIRCLE [--csv]\n"
	"                          de-identified cases and meetings of a quality circle\n"
	"\n"
	"Global options:\n"
	"  --profile NAME          local profile to use (default \"default\")\n"
	"  --json                  print machine-readable JSON on stdout\n"
	"  --ca FILE               trust this CA certificate (PEM) for the server\n"
	"  --passphrase-file FILE  read the profile passphrase from FILE's first line\n"
	"  --version, --help\n"
	"\n"
	"Environment: LIAISON_HOME (profiles directory), LIAISON_PASSPHRASE,\n"
	"LIAISON_CA, LIAISON_DEBUG. Run \"liaison COMMAND --help\" for a command's options.\n"
	"Exit status: 0 success, 1 failure, 2 usage error.\n";

static const struct {
	const char *name;
	int (*run)(const struct cli *cli, int argc, char **argv);
} commands[] = {
	{"enrol", cmd_enrol},
	{"login", cmd_login},
	{"whoami", cmd_whoami},
	{"devices", cmd_devices},
	{"directory", cmd_directory},
	{"channel", cmd_channel},
	{"send", cmd_send},
	{"read", cmd_read},
	{"watch", cmd_watch},
	{"verify", cmd_verify},
	{"strict", cmd_strict},
	{"backup", cmd_backup},
	{"get", cmd_get},
	{"pathways", cmd_pathways},
	{"discharge", cmd_discharge},
	{"ack", cmd_ack},
	{"alert", cmd_alert},
	{"cases", cmd_cases},
	{"case", cmd_case},
	{"report", cmd_report},
	{"conciliation", cmd_conciliation},
	{"concil", cmd_conciliation},
	{"circle", cmd_circle},
};

/* Global options that take a value, and where they go. */
static const char **
global_value_slot(struct cli *cli, const char *name)
{
	if (strcmp(name, "--profile") == 0)
		return &cli->profile;
	if (strcmp(name, "--ca") == 0)
		return &cli->ca_file;
	if (strcmp(name, "--passphrase-file") == 0)
		return &cli->passphrase_file;
	return NULL;
}

/* Take one global option at argv[*i] if it is one; false if not. On a
 * missing value *bad is set (usage error already printed). */
static bool
take_global(struct cli *cli, int argc, char **argv, int *i, bool *bad)
{
	const char *arg = argv[*i];
	if (strcmp(arg, "--json") == 0) {
		cli->json = true;
		return true;
	}
	const char *eq = strchr(arg, '=');
	char name[32];
	snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
	const char **slot = global_value_slot(cli, name);
	if (slot == NULL)
		return false;
	if (eq) {
		*slot = eq + 1;
	} else if (*i + 1 < argc) {
		*slot = argv[++*i];
	} else {
		out_error("option %s needs a value; see liaison --help", name);
		*bad = true;
	}
	return true;
}

/* Move global options out of argv (anywhere before "--"); the rest, starting
 * with the command, is left in argv[0..*rest_argc-1]. */
static bool
split_globals(struct cli *cli, int argc, char **argv, int *rest_argc)
{
	int out = 0;
	bool bad = false, after_dashes = false;
	for (int i = 1; i < argc && !bad; i++) {
		if (!after_dashes && strcmp(argv[i], "--") == 0)
			after_dashes = true;
		if (after_dashes || !take_global(cli, argc, argv, &i, &bad))
			argv[out++] = argv[i];
	}
	*rest_argc = out;
	return !bad;
}

static int
run_command(const struct cli *cli, int argc, char **argv)
{
	const char *name = argv[0];
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		printf("liaison %s (protocol liaison.v1)\n", LSN_VERSION);
		return CLI_OK;
	}
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		fputs(usage_text, stdout);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, name) == 0)
			return commands[i].run(cli, argc, argv);
	if (name[0] == '-')
		out_error("unknown option \"%s\"; see liaison --help", name);
	else
		out_error("unknown command \"%s\"; see liaison --help", name);
	return CLI_USAGE;
}

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
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		out_error("cannot initialise libsodium");
		return CLI_FAIL;
	}
	json_set_alloc_funcs(malloc, json_wiping_free);
	conn_diag_set_sink(debug_line);
	struct cli cli = {.profile = CLI_DEFAULT_PROFILE};
	int rest_argc = 0;
	if (!split_globals(&cli, argc, argv, &rest_argc))
		return CLI_USAGE;
	if (rest_argc == 0) {
		fputs(usage_text, stderr);
		out_error("no command given; see liaison --help");
		return CLI_USAGE;
	}
	if (!profile_name_valid(cli.profile)) {
		out_error("invalid profile name \"%s\": use 1-64 letters, digits, '.', '_' or '-'",
			  cli.profile);
		return CLI_USAGE;
	}
	return run_command(&cli, rest_argc, argv);
}
