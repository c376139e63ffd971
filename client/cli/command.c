/* command.c — the front end every command goes through: global options
 * (before or after the command), --version and --help, the command and its
 * sub-command found in the table (commands.c), its options and positional
 * arguments checked there (usage errors: exit 2), then check, the start of
 * what it needs (session or end-to-end context), run, and the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "command.h"
#include "i18n.h"
#include "e2e.h"
#include "lsn_config.h"
#include "output.h"
#include "profile.h"
#include "login.h"

/* ---- global options ------------------------------------------------------------------------ */

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
		out_error(_("option %s needs a value; see liaison --help"), name);
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

/* ---- options of a call --------------------------------------------------------------------- */

/* A row of the table that the code contradicts: a bug, stop here. */
static _Noreturn void
table_error(const struct cmd *cmd, const char *what)
{
	fprintf(stderr, "liaison: internal error in the command table: %s: %s\n", cmd->name,
		what);
	abort();
}

static int
opt_index(const struct cmd_call *c, const char *name)
{
	for (int i = 0; c->cmd->opts && c->cmd->opts[i].name; i++)
		if (strcmp(c->cmd->opts[i].name, name) == 0)
			return i;
	table_error(c->cmd, name); /* a handler asking for an option its row lacks */
}

const char *
cmd_opt(const struct cmd_call *c, const char *name)
{
	return c->values[opt_index(c, name)];
}

bool
cmd_flag(const struct cmd_call *c, const char *name)
{
	return c->flags[opt_index(c, name)];
}

int
cmd_missing(const struct cmd_call *c)
{
	out_error("%s", _(c->cmd->missing));
	return CLI_USAGE;
}

bool
cmd_csv(const struct cmd_call *c, bool *french)
{
	bool fr = cmd_flag(c, "--csv-fr");
	*french = fr || i18n_french();
	return fr || cmd_flag(c, "--csv");
}

int
cmd_csv_not_json(struct cmd_call *c)
{
	if ((cmd_flag(c, "--csv") || cmd_flag(c, "--csv-fr")) && c->cli->json) {
		out_error("%s", _("choose --csv or --json, not both"));
		return CLI_USAGE;
	}
	return CLI_OK;
}

void
cmd_keep(struct cmd_call *c, void *data, void (*free_fn)(void *data))
{
	c->data = data;
	c->data_free = free_fn;
}

void *
cmd_keep_new(struct cmd_call *c, size_t size, void (*free_fn)(void *data))
{
	void *data = calloc(1, size);
	if (data == NULL)
		out_error("%s", _("out of memory"));
	else
		cmd_keep(c, data, free_fn ? free_fn : free);
	return data;
}

/* The table's options as args_parse takes them, pointing into the call. */
static int
parse_options(struct cmd_call *c, int argc, char **argv)
{
	struct args_opt opts[CMD_OPT_MAX + 1];
	int n = 0;
	if (c->cmd->max_pos > CMD_POS_MAX)
		table_error(c->cmd, "too many positional arguments (CMD_POS_MAX)");
	for (; c->cmd->opts && c->cmd->opts[n].name; n++) {
		if (n == CMD_OPT_MAX)
			table_error(c->cmd, "too many options (CMD_OPT_MAX)");
		const struct cmd_opt *o = &c->cmd->opts[n];
		opts[n] = (struct args_opt){o->name, o->flag ? NULL : &c->values[n],
					    o->flag ? &c->flags[n] : NULL};
	}
	opts[n] = (struct args_opt){NULL, NULL, NULL};
	switch (args_parse(argc, argv, opts, c->pos, c->cmd->max_pos, &c->n_pos)) {
	case ARGS_HELP:
		return CMD_HELP;
	case ARGS_USAGE:
		return CLI_USAGE;
	case ARGS_OK:
		break;
	}
	return CLI_OK;
}

/* ---- one call ------------------------------------------------------------------------------ */

/* Start what the call needs; CLI_OK or the exit code (error printed). */
static int
start(struct cmd_call *c, struct login *s, struct e2e *e)
{
	int rc = CLI_OK;
	if (c->needs == CMD_LOGIN && (rc = login_start(c->cli, s)) == CLI_OK)
		c->s = s;
	if (c->needs == CMD_E2E && (rc = e2e_start(c->cli, e)) == CLI_OK) {
		c->e = e;
		c->s = &e->s;
	}
	return rc;
}

static void
end(struct cmd_call *c)
{
	if (c->e)
		e2e_end(c->e);
	else if (c->s)
		login_end(c->s);
	c->e = NULL;
	c->s = NULL;
}

/* Parse, check, start, run, end. argv[0] is the command as typed. */
static int
call(const struct cli *cli, const struct cmd *cmd, const char *help, int argc, char **argv)
{
	struct cmd_call c;
	memset(&c, 0, sizeof c);
	c.cli = cli;
	c.cmd = cmd;
	c.needs = cmd->needs;
	int rc = cmd->parse ? cmd->parse(&c, argc, argv) : parse_options(&c, argc, argv);
	if (rc == CMD_HELP) {
		fputs(_(help), stdout);
		if (cmd->help_more)
			cmd->help_more();
		rc = CLI_OK;
	} else if (rc == CLI_OK && c.n_pos < cmd->min_pos) {
		rc = cmd_missing(&c);
	} else if (rc == CLI_OK) {
		struct login s;
		struct e2e e;
		if (cmd->check)
			rc = cmd->check(&c);
		if (rc == CLI_OK)
			rc = start(&c, &s, &e);
		if (rc == CLI_OK)
			rc = cmd->run(&c);
		end(&c);
	}
	if (c.data && c.data_free)
		c.data_free(c.data);
	return rc;
}

static bool
is_help(const char *word)
{
	return strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0 ||
	       strcmp(word, "help") == 0;
}

/* "conciliation source needs add; see liaison conciliation --help": the
 * second words of the sub-commands that start with word. */
static bool
second_words(const struct cmd *cmd, const char *word, char *out, size_t len)
{
	size_t wlen = strlen(word), n = 0, total = 0;
	const char *seconds[8];
	for (const struct cmd *s = cmd->subs; s->name && n < 8; s++)
		if (strncmp(s->name, word, wlen) == 0 && s->name[wlen] == ' ')
			seconds[n++] = s->name + wlen + 1;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		total += (size_t)snprintf(out + total, total < len ? len - total : 0, "%s%s",
					  i == 0 ? "" : i + 1 == n ? _(" or ") : ", ", seconds[i]);
	return n > 0;
}

/* A command made of sub-commands: the word after it names one ("source add":
 * two words). The sub-command sees argv[0] = the command as typed. */
static int
call_sub(const struct cli *cli, const struct cmd *cmd, int argc, char **argv)
{
	if (argc >= 2 && is_help(argv[1])) {
		fputs(_(cmd->help), stdout);
		return CLI_OK;
	}
	if (argc < 2) {
		fputs(_(cmd->help), stderr);
		out_error("%s", _(cmd->no_sub));
		return CLI_USAGE;
	}
	for (const struct cmd *s = cmd->subs; s->name; s++) {
		const char *space = strchr(s->name, ' ');
		size_t first = space ? (size_t)(space - s->name) : strlen(s->name);
		if (strlen(argv[1]) != first || strncmp(s->name, argv[1], first) != 0)
			continue;
		int skip = 1;
		if (space) {
			if (argc < 3 || strcmp(space + 1, argv[2]) != 0)
				continue;
			skip = 2;
		}
		argv[skip] = argv[0];
		return call(cli, s, cmd->help, argc - skip, argv + skip);
	}
	char seconds[128];
	if (second_words(cmd, argv[1], seconds, sizeof seconds))
		out_error(_("%s %s needs %s; see liaison %s --help"), cmd->name, argv[1], seconds,
			  cmd->name);
	else
		out_error(_("unknown subcommand \"%s\" of %s%s; see liaison %s --help"), argv[1],
			  cmd->name, cmd->subs_listed ? _(cmd->subs_listed) : "", cmd->name);
	return CLI_USAGE;
}

static int
run_command(const struct cli *cli, int argc, char **argv)
{
	const char *name = argv[0];
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		printf("liaison %s (protocol liaison.v1)\n", LSN_VERSION);
		return CLI_OK;
	}
	if (is_help(name)) {
		fputs(_(cmd_usage_text), stdout);
		fputs(_(cmd_usage_more), stdout);
		return CLI_OK;
	}
	for (const struct cmd *cmd = cmd_table; cmd->name; cmd++) {
		if (strcmp(cmd->name, name) != 0 && !(cmd->alias && strcmp(cmd->alias, name) == 0))
			continue;
		return cmd->subs ? call_sub(cli, cmd, argc, argv)
				 : call(cli, cmd, cmd->help, argc, argv);
	}
	if (name[0] == '-')
		out_error(_("unknown option \"%s\"; see liaison --help"), name);
	else
		out_error(_("unknown command \"%s\"; see liaison --help"), name);
	return CLI_USAGE;
}

static int
command_start(struct cli *cli, int rest_argc, char **argv)
{
	if (rest_argc == 0) {
		fputs(_(cmd_usage_text), stderr);
		fputs(_(cmd_usage_more), stderr);
		out_error("%s", _("no command given; see liaison --help"));
		return CLI_USAGE;
	}
	if (!profile_name_valid(cli->profile)) {
		out_error(_("invalid profile name \"%s\": use 1-64 letters, digits, '.', '_' or '-'"),
			  cli->profile);
		return CLI_USAGE;
	}
	return run_command(cli, rest_argc, argv);
}

int
command_main(int argc, char **argv)
{
	struct cli cli = {.profile = CLI_DEFAULT_PROFILE};
	int rest_argc = 0;
	bool ok = split_globals(&cli, argc, argv, &rest_argc);
	out_set_json_mode(cli.json);
	int rc = ok ? command_start(&cli, rest_argc, argv) : CLI_USAGE;
	out_json_error(rc);
	return rc;
}
