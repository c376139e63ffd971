/* start.c — the CLI's side of opening the core (cli.h): the options become
 * a session_opts, errors and warnings are printed here, exit codes chosen
 * here. The core itself never prints. */
#include <stdio.h>
#include <string.h>

#include "tr.h"
#include "cli.h"
#include "core.h"
#include "output.h"
#include "passphrase.h"
#include "login.h"
#include "profile.h"
#include "user_view.h"

#define PASSPHRASE_TRIES 3   /* on a terminal */

static int passphrase_asked; /* in this process, for "try again" */

static enum lsn_err
ask_passphrase(void *arg, const char *name, char **out, struct lsn_status *st)
{
	const struct cli *cli = arg;
	if (passphrase_asked++ > 0)
		out_error(_("wrong passphrase; try again (%d of %d)"), passphrase_asked,
			  PASSPHRASE_TRIES);
	return passphrase_get(cli->passphrase_file, name, false, out, st);
}

static void
login_config_of(const struct cli *cli, struct login_config *o)
{
	memset(o, 0, sizeof *o);
	o->profile = cli->profile;
	o->ca_file = cli->ca_file;
	o->timeout_ms = CLI_TIMEOUT_MS;
	o->passphrase = ask_passphrase;
	o->passphrase_free = passphrase_free;
	o->arg = (void *)cli;
	/* a file or the environment gives the same passphrase again: once */
	o->passphrase_tries =
		passphrase_source(cli->passphrase_file) == PASSPHRASE_TERMINAL ? PASSPHRASE_TRIES : 1;
	passphrase_asked = 0;
}

/* The error of opening the profile and logging in, printed; a wrong
 * passphrase says where it came from. */
static int
open_failed(const struct cli *cli, const struct lsn_status *st)
{
	if (st->err != LSN_ERR_BAD_SIGNATURE ||
	    strncmp(st->msg, PROFILE_WRONG_PASSPHRASE, strlen(PROFILE_WRONG_PASSPHRASE)) != 0)
		return out_fail(st);
	struct lsn_status wrong = {.err = st->err};
	switch (passphrase_source(cli->passphrase_file)) {
	case PASSPHRASE_FILE:
		snprintf(wrong.msg, sizeof wrong.msg, "%s \"%s\" (read from %s); check the "
			 "file", PROFILE_WRONG_PASSPHRASE, cli->profile, cli->passphrase_file);
		break;
	case PASSPHRASE_ENV:
		snprintf(wrong.msg, sizeof wrong.msg, "%s \"%s\" (from LIAISON_PASSPHRASE); "
			 "check the variable", PROFILE_WRONG_PASSPHRASE, cli->profile);
		break;
	default:
		snprintf(wrong.msg, sizeof wrong.msg, "%s \"%s\" (%d tries); run the command "
			 "again", PROFILE_WRONG_PASSPHRASE, cli->profile, passphrase_asked);
		break;
	}
	return out_fail_code(&wrong, "wrong_passphrase");
}

int
login_start(const struct cli *cli, struct login *s)
{
	struct lsn_status st = {0};
	struct login_config o;
	memset(s, 0, sizeof *s);
	if (login_test_clock(&st) != LSN_OK) {
		out_fail(&st);
		return CLI_USAGE;
	}
	login_config_of(cli, &o);
	return login_open(&o, s, &st) == LSN_OK ? CLI_OK : open_failed(cli, &st);
}

int
profile_start(const struct cli *cli, struct login *s)
{
	struct lsn_status st = {0};
	struct login_config o;
	login_config_of(cli, &o);
	return login_open_profile(&o, s, &st) == LSN_OK ? CLI_OK : open_failed(cli, &st);
}

/* Open the core; offline_ok: a server that cannot be reached leaves the
 * core on the local store (e->s.offline), said on stderr. */
static int
start_core(const struct cli *cli, struct e2e *e, bool offline_ok)
{
	struct lsn_status st = {0};
	struct login_config o;
	memset(e, 0, sizeof *e);
	if (login_test_clock(&st) != LSN_OK) {
		out_fail(&st);
		return CLI_USAGE;
	}
	login_config_of(cli, &o);
	o.offline_ok = offline_ok;
	if (core_open(&o, e, &st) != LSN_OK)
		return open_failed(cli, &st);
	e->progress.fn = out_progress;
	out_warnings(&e->warnings);
	if (e->s.offline) {
		char line[sizeof e->s.offline_why + 16];
		snprintf(line, sizeof line, "offline: %s", e->s.offline_why);
		out_notice(line);
		out_notice(_("showing what this device stored when it last read the thread"));
	}
	return CLI_OK;
}

int
e2e_start(const struct cli *cli, struct e2e *e)
{
	return start_core(cli, e, false);
}

int
e2e_start_or_offline(const struct cli *cli, struct e2e *e)
{
	return start_core(cli, e, true);
}

void
e2e_end(struct e2e *e)
{
	out_warnings(&e->warnings);
	core_close(e);
}

/* ---- USER and CHANNEL arguments ---------------------------------------------------- */

static void
print_candidates(json_t *users)
{
	size_t i;
	json_t *u;
	json_array_foreach(users, i, u) {
		if (i == E2E_PICK_SHOWN) {
			fputs("  ...\n", stderr);
			break;
		}
		fprintf(stderr, "  %s  ", user_view_str(u, "id") ? user_view_str(u, "id") : "-");
		out_text(stderr, user_view_str(u, "name"));
		fputs("  ", stderr);
		out_text(stderr, user_view_profession(u));
		fprintf(stderr, _("  RPPS %s\n"), user_view_str(u, "rpps") ? user_view_str(u, "rpps")
									  : "-");
	}
}

static int
picked(enum lsn_err err, struct e2e_pick *pick, const struct lsn_status *st)
{
	int rc = CLI_OK;
	if (err != LSN_OK && pick->usage) {
		out_fail(st);
		print_candidates(pick->candidates);
		if (pick->candidates)
			out_error_attach("candidates", json_deep_copy(pick->candidates));
		rc = CLI_USAGE;
	} else if (err != LSN_OK) {
		rc = out_fail(st);
	}
	json_decref(pick->candidates);
	return rc;
}

int
e2e_resolve_user(struct e2e *e, const char *text, uint8_t user[LSN_ID_BYTES])
{
	struct lsn_status st = {0};
	struct e2e_pick pick;
	enum lsn_err err = e2e_find_user(e, text, user, &pick, &st);
	return picked(err, &pick, &st);
}

int
e2e_resolve_channel(struct e2e *e, const char *text, uint8_t channel[LSN_ID_BYTES])
{
	struct lsn_status st = {0};
	struct e2e_pick pick;
	enum lsn_err err = e2e_find_channel(e, text, channel, &pick, &st);
	return picked(err, &pick, &st);
}
