/* admin_mail.c — "liaisond user email": the address a professional's
 * "something is waiting" e-mails go to (docs/OPERATIONS.md, "Mail"). The
 * administrator sets it, as the name and RPPS number: a user cannot send
 * the mails elsewhere. Without --email it shows the address and the
 * person's choice. Like the other subcommands it opens the database
 * directly; a change is an audit entry (user_email). */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "admin.h"
#include "audit.h"
#include "clock.h"

static const char email_usage[] =
	"usage: liaisond user email --user ID | --rpps N [--email ADDRESS | --email none] [--json]";

struct email_opts {
	const char *user, *rpps, *email;
	bool json;
};

static int
email_parse(int argc, char **argv, struct email_opts *o)
{
	memset(o, 0, sizeof *o);
	for (int i = 0; i < argc; i++) {
		const char **slot = strcmp(argv[i], "--user") == 0    ? &o->user
				    : strcmp(argv[i], "--rpps") == 0  ? &o->rpps
				    : strcmp(argv[i], "--email") == 0 ? &o->email
								      : NULL;
		if (strcmp(argv[i], "--json") == 0) {
			o->json = true;
		} else if (slot && i + 1 < argc) {
			*slot = argv[++i];
		} else {
			fprintf(stderr, "liaisond: %s %s\n%s\n", argv[i],
				slot ? "needs a value" : "is not an option of user email", email_usage);
			return 2;
		}
	}
	if ((o->user == NULL) == (o->rpps == NULL)) {
		fprintf(stderr, "liaisond: give --user ID or --rpps N\n%s\n", email_usage);
		return 2;
	}
	if (o->email && strcmp(o->email, "none") != 0 && !config_address_ok(o->email)) {
		fprintf(stderr, "liaisond: --email %s: expected an e-mail address such as "
			"claire.martin@example.fr (printable ASCII, no spaces), or none\n", o->email);
		return 2;
	}
	return 0;
}

static int
email_show(const struct store_user *u, const struct store_mail_settings *ms, bool json)
{
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(u->id, hex);
	if (json) {
		json_t *o = json_pack("{s:s, s:o, s:b, s:o}", "user", hex, "address",
				      ms->address[0] ? json_string(ms->address) : json_null(),
				      "enabled", ms->enabled, "last_sent_at",
				      ms->last_sent_at ? json_integer(ms->last_sent_at) : json_null());
		if (o == NULL)
			return 1;
		json_dumpf(o, stdout, JSON_COMPACT);
		printf("\n");
		json_decref(o);
		return 0;
	}
	printf("%s: %s; %s\n", u->name, ms->address[0] ? ms->address : "no address",
	       ms->enabled ? "mail on" : "mail turned off by the user");
	return 0;
}

int
admin_user_email(const struct config *cfg, int argc, char **argv)
{
	struct email_opts o;
	struct store_user u;
	struct store_mail_settings ms;
	uint8_t id[LSN_ID_BYTES];
	int rc = email_parse(argc, argv, &o);
	if (rc)
		return rc;
	if (o.user && !lsn_id_from_hex(o.user, id)) {
		fprintf(stderr, "liaisond: --user %s: expected 32 hex characters; see liaisond users\n",
			o.user);
		return 2;
	}
	struct store *s = NULL;
	struct lsn_status st = {0};
	struct store_options opt = {.sync = cfg->synchronous, .busy_timeout_ms = 10000};
	char path[CONFIG_PATH_MAX + 16];
	config_db_path(cfg, path, sizeof path);
	if (store_open(&s, path, &opt, &st) != LSN_OK) {
		fprintf(stderr, "liaisond: %s\n", st.msg);
		return 1;
	}
	enum lsn_err err = o.user ? store_user_get(s, id, &u) : store_user_find_rpps(s, o.rpps, &u);
	if (err == LSN_OK && o.email && (err = store_batch_begin(s)) == LSN_OK) {
		bool none = strcmp(o.email, "none") == 0;
		int64_t now = lsn_clock_now_ms();
		err = store_mail_address_set(s, u.id, none ? NULL : o.email, now);
		if (err == LSN_OK)   /* the address itself stays out of the audit trail */
			err = audit_admin(s, "user_email", &(struct audit_ids){.target_user = u.id,
					  .detail = none ? "address=none" : "address=set"}, now);
		if (err == LSN_OK)
			err = store_batch_commit(s);
		else
			store_batch_rollback(s);
	}
	if (err == LSN_OK) {
		err = store_mail_settings_get(s, u.id, &ms);
		if (err == LSN_ERR_NOT_FOUND) {
			memset(&ms, 0, sizeof ms);
			ms.enabled = true;
			err = LSN_OK;
		}
	}
	store_close(s);
	if (err == LSN_ERR_NOT_FOUND) {
		fprintf(stderr, "liaisond: no such user %s; see liaisond users\n",
			o.user ? o.user : o.rpps);
		return 1;
	}
	if (err != LSN_OK) {
		fprintf(stderr, "liaisond: the address was not changed (%s)\n", lsn_err_code(err));
		return 1;
	}
	return email_show(&u, &ms, o.json);
}
