/* cmd_directory.c — "liaison directory search": find enrolled professionals
 * by name or RPPS prefix, profession and organisation (op directory_search). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tr.h"
#include "args.h"
#include "command.h"
#include "output.h"
#include "login.h"
#include "user_view.h"

#define DIRECTORY_QUERY_MAX 128

struct search_opts {
	const char *query;
	const char *profession;
	const char *org;
	const char *limit_text;
	long limit;
};

/* After the help text: the profession codes. */
void
cmd_directory_help_more(void)
{
	for (size_t i = 0; lsn_profession_at(i); i++)
		printf("  %-20s %s\n", lsn_profession_at(i)->code, lsn_profession_at(i)->label_fr);
}

/* Check the filters before any network work; exit code or CLI_OK. */
static int
check_filters(struct search_opts *o)
{
	uint8_t org[LSN_ID_BYTES];
	if (o->query && (strlen(o->query) > DIRECTORY_QUERY_MAX || o->query[0] == '\0')) {
		out_error(_("the search text must have 1 to %d characters"), DIRECTORY_QUERY_MAX);
		return CLI_USAGE;
	}
	if (o->profession && lsn_profession_find(o->profession) == NULL) {
		out_error(_("unknown profession \"%s\"; see liaison directory search --help for "
			  "the codes"), o->profession);
		return CLI_USAGE;
	}
	if (o->org && !lsn_id_from_hex(o->org, org)) {
		out_error(_("\"%s\" is not an organisation id (32 lowercase hex characters)"), o->org);
		return CLI_USAGE;
	}
	if (o->limit_text && !args_int(o->limit_text, 1, 100, &o->limit)) {
		out_error(_("--limit must be a number from 1 to 100"));
		return CLI_USAGE;
	}
	return CLI_OK;
}

static json_t *
search_body(const struct search_opts *o)
{
	json_t *body = json_object();
	if (body == NULL)
		return NULL;
	if (o->query)
		json_object_set_new(body, "q", json_string(o->query));
	if (o->profession)
		json_object_set_new(body, "profession", json_string(o->profession));
	if (o->org)
		json_object_set_new(body, "org", json_string(o->org));
	if (o->limit_text)
		json_object_set_new(body, "limit", json_integer(o->limit));
	return body;
}

static int
print_users(json_t *reply)
{
	static const char *const headers[] = {N_("NAME"), N_("PROFESSION"), N_("RPPS"), N_("ORGANISATION"),
					      N_("USER ID")};
	struct out_table *t = out_table_new(5, headers);
	if (t == NULL) {
		out_error(_("out of memory"));
		return CLI_FAIL;
	}
	size_t i;
	json_t *user;
	json_t *users = json_object_get(reply, "users");
	json_array_foreach(users, i, user) {
		const char *cells[] = {user_view_str(user, "name"), user_view_profession(user),
				       user_view_str(user, "rpps"), user_view_org_name(user),
				       user_view_str(user, "id")};
		out_table_add(t, cells);
	}
	if (json_array_size(users) == 0)
		puts(_("No one found."));
	else
		out_table_print(t, stdout);
	out_table_free(t);
	return CLI_OK;
}

int
cmd_directory_check(struct cmd_call *c)
{
	if (c->n_pos == 0 || strcmp(c->pos[0], "search") != 0) {
		out_error(c->n_pos == 0 ? "directory needs a command: search"
					: "unknown directory command; use: directory search [QUERY]");
		return CLI_USAGE;
	}
	struct search_opts *o = cmd_keep_new(c, sizeof *o, NULL);
	if (o == NULL)
		return CLI_FAIL;
	o->query = c->pos[1];
	o->profession = cmd_opt(c, "--profession");
	o->org = cmd_opt(c, "--org");
	o->limit_text = cmd_opt(c, "--limit");
	return check_filters(o);
}

int
cmd_directory_run(struct cmd_call *c)
{
	const struct search_opts *o = c->data;
	int rc = CLI_OK;
	struct lsn_status st = {0};
	json_t *reply = NULL;
	if (link_request(c->s->link, "directory_search", search_body(o), &reply, &st) != LSN_OK) {
		rc = out_fail(&st);
	} else if (c->cli->json) {
		rc = out_json_reply(reply);
	} else {
		rc = print_users(reply);
	}
	json_decref(reply);
	return rc;
}
