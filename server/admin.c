/* admin.c — liaisond's administrator subcommands (init, org, invite, users,
 * revoke, check, audit, backup). They open the database directly and are safe while the
 * server runs: WAL lets them read, and each write is one short transaction. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "admin.h"
#include "admin_sheet.h"
#include "audit.h"
#include "clock.h"
#include "invite.h"
#include "log.h"
#include "wire.h"

/* Parsed "--key value" options of a subcommand. */
struct opts {
	const char *name, *finess, *kind, *rpps, *profession, *org, *roles, *expires_in;
	const char *device, *user, *query, *email;
	const char *case_id, *since, *until;
	const char *csv;
	bool json;
};

/* While `invite --csv` checks a row: "row 7 of team.csv (Dr X): ", put
 * before every message about it. */
static char row_context[STORE_NAME_MAX + 128];

static int __attribute__((format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "liaisond: %s", row_context);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	return 2;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct { const char *flag; size_t off; } table[] = {
		{"--name", offsetof(struct opts, name)},
		{"--finess", offsetof(struct opts, finess)},
		{"--kind", offsetof(struct opts, kind)},
		{"--rpps", offsetof(struct opts, rpps)},
		{"--profession", offsetof(struct opts, profession)},
		{"--org", offsetof(struct opts, org)},
		{"--roles", offsetof(struct opts, roles)},
		{"--expires-in", offsetof(struct opts, expires_in)},
		{"--device", offsetof(struct opts, device)},
		{"--user", offsetof(struct opts, user)},
		{"--query", offsetof(struct opts, query)},
		{"--email", offsetof(struct opts, email)},
		{"--case", offsetof(struct opts, case_id)},
		{"--since", offsetof(struct opts, since)},
		{"--until", offsetof(struct opts, until)},
		{"--csv", offsetof(struct opts, csv)},
	};
	memset(o, 0, sizeof *o);
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			o->json = true;
			continue;
		}
		bool known = false;
		for (size_t k = 0; k < sizeof table / sizeof table[0]; k++) {
			if (strcmp(argv[i], table[k].flag) != 0)
				continue;
			if (i + 1 >= argc)
				return usage_error("option %s needs a value", argv[i]);
			*(const char **)((char *)o + table[k].off) = argv[++i];
			known = true;
		}
		if (!known)
			return usage_error("unknown option %s; see liaisond --help", argv[i]);
	}
	return 0;
}

static int
fail(const struct lsn_status *st)
{
	fprintf(stderr, "liaisond: %s\n", st->msg);
	return 1;
}

static int
open_store(const struct config *cfg, bool create, struct store **s)
{
	char path[CONFIG_PATH_MAX + 16];
	struct lsn_status st = {0};
	struct store_options opt = {.sync = cfg->synchronous, .busy_timeout_ms = 10000,
				    .create = create};
	config_db_path(cfg, path, sizeof path);
	if (store_open(s, path, &opt, &st) != LSN_OK)
		return fail(&st);
	return 0;
}

/* Run fn inside one write transaction. */
static enum lsn_err
in_transaction(struct store *s, enum lsn_err err_of_body)
{
	if (err_of_body != LSN_OK) {
		store_batch_rollback(s);
		return err_of_body;
	}
	return store_batch_commit(s);
}

int
admin_init(const struct config *cfg)
{
	if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "liaisond: cannot create data directory %s: %s\n", cfg->data_dir,
			strerror(errno));
		return 1;
	}
	struct store *s;
	if (open_store(cfg, true, &s))
		return 1;
	char path[CONFIG_PATH_MAX + 16];
	config_db_path(cfg, path, sizeof path);
	printf("Database ready: %s (schema version %d)\n", path, store_schema_version(s));
	store_close(s);
	return 0;
}

/* ---- org ---------------------------------------------------------------- */

static int
org_add(struct store *s, const struct opts *o)
{
	struct store_org org = {0};
	if (!o->name || !o->finess || !o->kind)
		return usage_error("%s", "org add needs --name, --finess and --kind");
	if (!lsn_display_text_valid(o->name, STORE_NAME_MAX))
		return usage_error("%s", "--name: 1 to 128 characters of text");
	if (!lsn_finess_valid(o->finess))
		return usage_error("--finess %s: a FINESS number has 9 digits, the last a check digit",
				   o->finess);
	if (!lsn_org_kind_valid(o->kind))
		return usage_error("--kind %s: expected hospital, cpts, health_centre, practice, "
				   "pharmacy, nursing_home, home_care or other", o->kind);
	lsn_id_random(org.id);
	snprintf(org.name, sizeof org.name, "%s", o->name);
	snprintf(org.finess, sizeof org.finess, "%s", o->finess);
	snprintf(org.kind, sizeof org.kind, "%s", o->kind);
	org.created_at = lsn_clock_now_ms();
	enum lsn_err err = store_batch_begin(s);
	if (err == LSN_OK)
		err = in_transaction(s, store_org_create(s, &org));
	if (err == LSN_ERR_CONFLICT) {
		fprintf(stderr, "liaisond: an organisation with FINESS %s already exists; see "
				"\"liaisond org list\"\n", org.finess);
		return 1;
	}
	if (err != LSN_OK) {
		fprintf(stderr, "liaisond: could not store the organisation (%s)\n", lsn_err_code(err));
		return 1;
	}
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(org.id, hex);
	if (o->json)
		printf("{\"id\":\"%s\",\"finess\":\"%s\"}\n", hex, org.finess);
	else
		printf("Organisation created: %s (FINESS %s, %s)\nid %s\n", org.name, org.finess,
		       org.kind, hex);
	return 0;
}

static void
print_org(const struct store_org *org, void *arg)
{
	json_t *list = arg;
	if (list) {
		json_array_append_new(list, json_pack("{s:o,s:s,s:s,s:s}", "id", wire_id(org->id),
						      "name", org->name, "finess", org->finess,
						      "kind", org->kind));
		return;
	}
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(org->id, hex);
	printf("%-32s  %-9s  %-13s  %s\n", hex, org->finess, org->kind, org->name);
}

int
admin_org(const struct config *cfg, int argc, char **argv)
{
	struct opts o;
	if (argc < 1 || (strcmp(argv[0], "add") != 0 && strcmp(argv[0], "list") != 0))
		return usage_error("%s", "usage: liaisond org add --name N --finess F --kind K | org list");
	int rc = parse_opts(argc - 1, argv + 1, &o);
	struct store *s;
	if (rc || (rc = open_store(cfg, false, &s)))
		return rc;
	if (strcmp(argv[0], "add") == 0) {
		rc = org_add(s, &o);
	} else {
		json_t *list = o.json ? json_array() : NULL;
		if (!o.json)
			printf("%-32s  %-9s  %-13s  %s\n", "ID", "FINESS", "KIND", "NAME");
		rc = store_org_list(s, print_org, list) == LSN_OK ? 0 : 1;
		if (list) {
			json_dumpf(list, stdout, JSON_COMPACT);
			printf("\n");
			json_decref(list);
		}
	}
	store_close(s);
	return rc;
}

/* ---- invite ------------------------------------------------------------- */

static int
find_org(struct store *s, const char *ref, struct store_org *org)
{
	uint8_t id[LSN_ID_BYTES];
	if (lsn_id_from_hex(ref, id) && store_org_get(s, id, org) == LSN_OK)
		return 0;
	if (store_org_find_finess(s, ref, org) == LSN_OK)
		return 0;
	fprintf(stderr, "liaisond: %sno organisation with FINESS or id \"%s\"; create it with "
			"\"liaisond org add\" or see \"liaisond org list\"\n", row_context, ref);
	return 1;
}

/* Check the invite options; fills inv except hash and times. */
/* A device invite: everything comes from the existing user. */
static int
invite_fill_for_user(struct store *s, const struct opts *o, struct store_invite *inv)
{
	struct store_user u;
	uint8_t id[LSN_ID_BYTES];
	if (o->name || o->profession || o->org || o->roles || o->rpps || o->email)
		return usage_error("%s", "invite --user takes no other identity option: the new device "
					 "belongs to that user as enrolled (liaisond user email changes "
					 "the address)");
	if (!lsn_id_from_hex(o->user, id) || store_user_get(s, id, &u) != LSN_OK) {
		fprintf(stderr, "liaisond: no user with id \"%s\"; see \"liaisond users\"\n", o->user);
		return 1;
	}
	inv->for_user = true;
	memcpy(inv->user_id, u.id, LSN_ID_BYTES);
	memcpy(inv->org_id, u.org.id, LSN_ID_BYTES);
	inv->roles = u.roles;
	snprintf(inv->rpps, sizeof inv->rpps, "%s", u.rpps);
	snprintf(inv->name, sizeof inv->name, "%s", u.name);
	snprintf(inv->profession, sizeof inv->profession, "%s", u.profession);
	return 0;
}

static int
invite_fill(struct store *s, const struct opts *o, struct store_invite *inv)
{
	if (o->user)
		return invite_fill_for_user(s, o, inv);
	if (!o->name || !o->profession || !o->org || !o->roles)
		return usage_error("%s", "invite needs --name, --profession, --org and --roles "
					 "(and --rpps for health professionals)");
	const struct lsn_profession *prof = lsn_profession_find(o->profession);
	if (prof == NULL)
		return usage_error("--profession %s: unknown; expected gp, cardiologist, psychiatrist, "
				   "hospital_doctor, pharmacist, hospital_pharmacist, nurse, "
				   "psychologist, physiotherapist, midwife, dietitian, social_worker, "
				   "coordinator or secretary", o->profession);
	if (prof->needs_rpps && !o->rpps)
		return usage_error("--profession %s needs --rpps (11 digits)", o->profession);
	if (o->rpps && !lsn_rpps_valid(o->rpps))
		return usage_error("--rpps %s: an RPPS number has 11 digits, the last a check digit; "
				   "check the number", o->rpps);
	if (!lsn_display_text_valid(o->name, STORE_NAME_MAX))
		return usage_error("%s", "--name: 1 to 128 characters of text");
	if (!lsn_roles_parse(o->roles, &inv->roles))
		return usage_error("--roles %s: expected a comma list of member, discharge, "
				   "coordinator, territory, admin", o->roles);
	if (o->email && !config_address_ok(o->email))
		return usage_error("--email %s: expected an e-mail address such as "
				   "claire.martin@example.fr (printable ASCII, no spaces)", o->email);
	snprintf(inv->email, sizeof inv->email, "%s", o->email ? o->email : "");
	struct store_org org;
	if (find_org(s, o->org, &org))
		return 1;
	if (o->rpps && store_user_find_rpps(s, o->rpps, &(struct store_user){0}) == LSN_OK) {
		fprintf(stderr, "liaisond: %sRPPS %s is already enrolled; see \"liaisond users\"\n",
			row_context, o->rpps);
		return 1;
	}
	memcpy(inv->org_id, org.id, LSN_ID_BYTES);
	snprintf(inv->rpps, sizeof inv->rpps, "%s", o->rpps ? o->rpps : "");
	snprintf(inv->name, sizeof inv->name, "%s", o->name);
	snprintf(inv->profession, sizeof inv->profession, "%s", o->profession);
	return 0;
}

/* A fresh one-time code for inv: only its hash is kept (inv->hash); the
 * code itself is shown once. Issued at now (ms), valid ttl ms from then. */
static void
invite_new_code(struct store_invite *inv, int64_t now, int64_t ttl,
		char code[LSN_INVITE_TEXT + 1])
{
	uint8_t raw[LSN_INVITE_BYTES];
	lsn_invite_random(raw);
	lsn_invite_format(raw, code);
	lsn_invite_hash(raw, inv->hash);
	sodium_memzero(raw, sizeof raw);
	inv->created_at = now;
	inv->expires_at = now + ttl;
}

/* A time in the administrator's time zone: "2026-12-10 14:00:05", or with
 * the zone and to the minute, "2026-12-10 14:00 CET"; the ms if it cannot. */
static void
format_time(int64_t ms, bool with_zone, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n = 0;
	if (localtime_r(&t, &tm) != NULL)
		n = with_zone ? strftime(out, cap, "%Y-%m-%d %H:%M %Z", &tm)
			      : strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
	if (n == 0)
		snprintf(out, cap, "%lld", (long long)ms);
}

static void
format_when(int64_t ms, char *out, size_t cap)
{
	format_time(ms, false, out, cap);
}

/* ---- invite --csv: a whole CPTS at once -------------------------------- */

/* One person of the sheet checked as `invite` checks its options. */
static int
sheet_row_fill(struct store *s, const struct invite_sheet_row *r, struct store_invite *inv)
{
	struct opts o = {.name = r->cell[IC_NAME], .profession = r->cell[IC_PROFESSION],
			 .rpps = r->cell[IC_RPPS], .org = r->cell[IC_ORG], .roles = r->cell[IC_ROLES],
			 .email = r->cell[IC_EMAIL]};
	return invite_fill(s, &o, inv);
}

/* The answer for mail merge: the sheet's columns, the code and its expiry,
 * in the sheet's separator (and byte order mark, if it had one). */
static void
sheet_print(const struct invite_sheet *sh, const struct store_invite *invs,
	    char (*codes)[LSN_INVITE_TEXT + 1], bool json)
{
	if (json) {
		putchar('[');
		for (size_t i = 0; i < sh->n; i++) {
			json_t *o = json_pack("{s:I, s:s, s:s, s:s?, s:s, s:I}", "row",
					      (json_int_t)sh->rows[i].row, "name", invs[i].name,
					      "profession", invs[i].profession, "rpps",
					      invs[i].rpps[0] ? invs[i].rpps : NULL, "code", codes[i],
					      "expires_at", (json_int_t)invs[i].expires_at);
			char *text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
			printf("%s%s", i ? "," : "", text ? text : "null");
			free(text);
			json_decref(o);
		}
		puts("]");
		return;
	}
	invite_sheet_answer_header(stdout, sh);
	for (size_t i = 0; i < sh->n; i++) {
		char when[64];
		format_time(invs[i].expires_at, true, when, sizeof when);
		invite_sheet_answer_row(stdout, sh, i, codes[i], when);
	}
}

/* Every row checked first (as one invite each, and no RPPS twice); then all
 * the invites in one transaction, or none. */
static int
invite_sheet(const struct config *cfg, const struct opts *o, int64_t ttl)
{
	if (o->name || o->profession || o->org || o->roles || o->rpps || o->email || o->user)
		return usage_error("%s", "invite --csv FILE takes the people from the file: no "
					 "--name, --profession, --org, --roles, --rpps, --email or --user");
	FILE *f = strcmp(o->csv, "-") == 0 ? stdin : fopen(o->csv, "rb");
	if (f == NULL) {
		fprintf(stderr, "liaisond: cannot open %s: %s\n", o->csv, strerror(errno));
		return 1;
	}
	struct invite_sheet sh;
	char err[512];
	int rc = invite_sheet_read(f, &sh, err, sizeof err);
	if (f != stdin)
		fclose(f);
	if (rc) {
		fprintf(stderr, "liaisond: %s: %s\n", o->csv, err);
		return 2;
	}
	struct store *s;
	if ((rc = open_store(cfg, false, &s))) {
		invite_sheet_free(&sh);
		return rc;
	}
	struct store_invite *invs = calloc(sh.n, sizeof *invs);
	char (*codes)[LSN_INVITE_TEXT + 1] = calloc(sh.n, sizeof *codes);
	size_t bad = 0;
	for (size_t i = 0; invs && codes && i < sh.n; i++) {
		const struct invite_sheet_row *r = &sh.rows[i];
		bool wrong = false;
		snprintf(row_context, sizeof row_context, "row %ld of %s (%s): ", r->row, o->csv,
			 r->cell[IC_NAME] ? r->cell[IC_NAME] : "no name");
		if (sheet_row_fill(s, r, &invs[i]) != 0) {
			wrong = true;
		} else {
			for (size_t j = 0; j < i && invs[i].rpps[0]; j++)
				if (strcmp(invs[j].rpps, invs[i].rpps) == 0) {
					fprintf(stderr, "liaisond: %sRPPS %s is on row %ld too\n",
						row_context, invs[i].rpps, sh.rows[j].row);
					wrong = true;
					break;
				}
		}
		if (wrong)
			bad++;
	}
	row_context[0] = '\0';
	int64_t now = lsn_clock_now_ms();
	enum lsn_err e = invs && codes ? LSN_OK : LSN_ERR_INTERNAL;
	if (e == LSN_OK && bad == 0) {
		for (size_t i = 0; i < sh.n; i++) {
			invite_new_code(&invs[i], now, ttl, codes[i]);
		}
		e = store_batch_begin(s);
		if (e == LSN_OK) {
			for (size_t i = 0; e == LSN_OK && i < sh.n; i++) {
				e = store_invite_create(s, &invs[i]);
				if (e == LSN_OK)
					e = audit_admin(s, "invite_issue", &(struct audit_ids){0}, now);
			}
			e = in_transaction(s, e);
		}
	}
	store_close(s);
	if (bad > 0) {
		fprintf(stderr, "liaisond: %zu of %zu rows cannot be invited as they are; nothing was "
				"issued: correct them and run again\n", bad, sh.n);
		rc = 2;
	} else if (e != LSN_OK) {
		fprintf(stderr, "liaisond: could not store the invites (%s); nothing was issued\n",
			lsn_err_code(e));
		rc = 1;
	} else {
		sheet_print(&sh, invs, codes, o->json);
		if (!o->json) {
			char when[64];
			format_time(now + ttl, true, when, sizeof when);
			fprintf(stderr, "liaisond: %zu invites issued, single use, valid until %s. The "
					"codes are secrets: give each to its person by a channel other than "
					"the server's address, then delete this list.\n", sh.n, when);
		}
	}
	if (codes)
		sodium_memzero(codes, sh.n * sizeof *codes);
	free(codes);
	free(invs);
	invite_sheet_free(&sh);
	return rc;
}

int
admin_invite(const struct config *cfg, int argc, char **argv)
{
	struct opts o;
	struct store_invite inv = {0};
	int64_t ttl = cfg->invite_ttl_ms;
	int rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc;
	if (o.expires_in && !config_parse_duration_ms(o.expires_in, &ttl))
		return usage_error("--expires-in %s: expected a duration such as 72h, 30m, 45s or 7d",
				   o.expires_in);
	if (o.csv)
		return invite_sheet(cfg, &o, ttl);
	struct store *s;
	if ((rc = open_store(cfg, false, &s)))
		return rc;
	if ((rc = invite_fill(s, &o, &inv))) {
		store_close(s);
		return rc;
	}
	char code[LSN_INVITE_TEXT + 1];
	invite_new_code(&inv, lsn_clock_now_ms(), ttl, code);
	enum lsn_err err = store_batch_begin(s);
	if (err == LSN_OK) {
		err = store_invite_create(s, &inv);
		if (err == LSN_OK)
			err = audit_admin(s, "invite_issue", &(struct audit_ids){
				.target_user = inv.for_user ? inv.user_id : NULL}, inv.created_at);
		err = in_transaction(s, err);
	}
	store_close(s);
	if (err != LSN_OK) {
		fprintf(stderr, "liaisond: could not store the invite (%s)\n", lsn_err_code(err));
		return 1;
	}
	if (o.json) {
		printf("{\"code\":\"%s\",\"expires_at\":%lld}\n", code, (long long)inv.expires_at);
	} else {
		char when[64];
		format_time(inv.expires_at, true, when, sizeof when);
		printf("Invite for %s%s (%s) — single use, expires %s.\n"
		       "Give this code to the person, by a channel other than the server URL:\n%s\n",
		       inv.for_user ? "a new device of " : "", inv.name, inv.profession, when, code);
	}
	sodium_memzero(code, sizeof code);
	return 0;
}

/* ---- users, revoke, check ---------------------------------------------- */

/* The users found, kept so that their devices are read after the search. */
struct user_list {
	struct store_user *v;
	size_t n, cap;
	bool failed;
};

static void
keep_user(const struct store_user *u, void *arg)
{
	struct user_list *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct store_user *grown = realloc(l->v, cap * sizeof *grown);
		if (grown == NULL) {
			l->failed = true;
			return;
		}
		l->v = grown;
		l->cap = cap;
	}
	l->v[l->n++] = *u;
}

/* One device of a user: a JSON object (list) or an indented line. */
static void
print_device(const struct store_device *d, void *arg)
{
	json_t *list = arg;
	char hex[LSN_ID_HEX + 1], seen[32], revoked[32];
	lsn_id_to_hex(d->id, hex);
	if (list) {
		json_array_append_new(list, json_pack(
			"{s:s, s:s, s:s, s:I, s:o, s:o}", "id", hex, "name", d->name, "state",
			d->revoked_at ? "revoked" : "active", "created_at", (json_int_t)d->created_at,
			"last_seen_at", d->last_seen_at ? json_integer(d->last_seen_at) : json_null(),
			"revoked_at", d->revoked_at ? json_integer(d->revoked_at) : json_null()));
		return;
	}
	format_when(d->last_seen_at, seen, sizeof seen);
	format_when(d->revoked_at, revoked, sizeof revoked);
	printf("    device %s  %-20s  %s%s, last seen %s\n", hex, d->name,
	       d->revoked_at ? "revoked " : "active", d->revoked_at ? revoked : "",
	       d->last_seen_at ? seen : "never");
}

static bool
print_user(struct store *s, const struct store_user *u, json_t *list)
{
	char hex[LSN_ID_HEX + 1], roles[64];
	lsn_id_to_hex(u->id, hex);
	lsn_roles_format(u->roles, roles, sizeof roles);
	if (list) {
		json_t *devices = json_array();
		bool ok = store_device_list(s, u->id, print_device, devices) == LSN_OK;
		json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "id", hex,
						      "rpps", u->rpps, "name", u->name,
						      "profession", u->profession,
						      "org", u->org.name, "roles", roles,
						      "devices", devices));
		return ok;
	}
	printf("%-32s  %-11s  %-18s  %-24s  %-20s  %s\n", hex, u->rpps[0] ? u->rpps : "-",
	       u->profession, u->name, roles, u->org.name);
	return store_device_list(s, u->id, print_device, NULL) == LSN_OK;
}

int
admin_users(const struct config *cfg, int argc, char **argv)
{
	struct opts o;
	int rc = parse_opts(argc, argv, &o);
	struct store *s;
	if (rc || (rc = open_store(cfg, false, &s)))
		return rc;
	struct store_user_query q = {.text = o.query, .limit = 100000};
	struct user_list users = {0};
	json_t *list = o.json ? json_array() : NULL;
	if (!o.json)
		printf("%-32s  %-11s  %-18s  %-24s  %-20s  %s\n", "ID", "RPPS", "PROFESSION", "NAME",
		       "ROLES", "ORGANISATION");
	rc = store_user_search(s, &q, keep_user, &users) == LSN_OK && !users.failed ? 0 : 1;
	for (size_t i = 0; rc == 0 && i < users.n; i++)
		rc = print_user(s, &users.v[i], list) ? 0 : 1;
	if (list) {
		json_dumpf(list, stdout, JSON_COMPACT);
		printf("\n");
		json_decref(list);
	}
	free(users.v);
	store_close(s);
	return rc;
}

/* "user roles --user ID | --rpps N --roles LIST": an enrolled user's roles,
 * e.g. the territory role for a coordinator who works every CPTS. */
static int
user_roles(const struct config *cfg, int argc, char **argv)
{
	struct opts o;
	struct store_user u;
	uint8_t id[LSN_ID_BYTES];
	unsigned roles;
	char text[64];
	int rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc;
	if ((o.user == NULL) == (o.rpps == NULL) || o.roles == NULL ||
	    (o.user && !lsn_id_from_hex(o.user, id)))
		return usage_error("%s", "usage: liaisond user roles --user ID | --rpps N --roles LIST "
					 "(ID: 32 hex characters; see liaisond users)");
	if (!lsn_roles_parse(o.roles, &roles))
		return usage_error("--roles %s: expected a comma list of member, discharge, "
				   "coordinator, territory, admin", o.roles);
	struct store *s;
	if ((rc = open_store(cfg, false, &s)))
		return rc;
	int64_t now = lsn_clock_now_ms();
	lsn_roles_format(roles, text, sizeof text);
	char detail[STORE_AUDIT_DETAIL];
	snprintf(detail, sizeof detail, "roles=%s", text);
	enum lsn_err err = o.user ? store_user_get(s, id, &u) : store_user_find_rpps(s, o.rpps, &u);
	if (err == LSN_OK && (err = store_batch_begin(s)) == LSN_OK) {
		err = store_user_set_roles(s, u.id, roles);
		if (err == LSN_OK)
			err = audit_admin(s, "user_roles", &(struct audit_ids){.target_user = u.id,
					  .detail = detail}, now);
		err = in_transaction(s, err);
	}
	store_close(s);
	if (err == LSN_ERR_NOT_FOUND)
		fprintf(stderr, "liaisond: no such user %s; see liaisond users\n",
			o.user ? o.user : o.rpps);
	else if (err != LSN_OK)
		fprintf(stderr, "liaisond: the roles were not changed (%s)\n", lsn_err_code(err));
	else
		printf("%s now has the roles %s (from their next login).\n", u.name, text);
	return err == LSN_OK ? 0 : 1;
}

struct revoke_all {
	struct store *s;
	int64_t now;
	unsigned count;
	enum lsn_err err;
};

static void
revoke_one(const struct store_device *d, void *arg)
{
	struct revoke_all *r = arg;
	if (d->revoked_at || r->err != LSN_OK)
		return;
	r->err = store_device_revoke(r->s, d->id, r->now);
	if (r->err == LSN_OK)
		r->err = audit_admin(r->s, "device_revoke", &(struct audit_ids){
			.target_user = d->user_id, .target_device = d->id}, r->now);
	r->count++;
}

int
admin_revoke(const struct config *cfg, int argc, char **argv)
{
	struct opts o;
	uint8_t id[LSN_ID_BYTES];
	int rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc;
	const char *ref = o.device ? o.device : o.user;
	if ((o.device == NULL) == (o.user == NULL) || !lsn_id_from_hex(ref, id))
		return usage_error("%s", "usage: liaisond revoke --device ID | --user ID "
					 "(32 hex characters; see liaisond users)");
	struct store *s;
	if ((rc = open_store(cfg, false, &s)))
		return rc;
	struct revoke_all r = {.s = s, .now = lsn_clock_now_ms()};
	enum lsn_err err = store_batch_begin(s);
	if (err == LSN_OK && o.device) {
		struct store_device d;
		err = store_device_revoke(s, id, r.now);
		if (err == LSN_OK)
			err = store_device_get(s, id, &d);
		if (err == LSN_OK)
			err = audit_admin(s, "device_revoke", &(struct audit_ids){
				.target_user = d.user_id, .target_device = id}, r.now);
		r.count = err == LSN_OK;
	} else if (err == LSN_OK) {
		err = store_user_get(s, id, &(struct store_user){0});
		if (err == LSN_OK)
			err = store_device_list(s, id, revoke_one, &r);
		if (err == LSN_OK)
			err = r.err;
	}
	err = in_transaction(s, err);
	store_close(s);
	if (err == LSN_ERR_NOT_FOUND)
		fprintf(stderr, "liaisond: no such %s %s\n", o.device ? "device" : "user", ref);
	else if (err == LSN_ERR_CONFLICT)
		fprintf(stderr, "liaisond: device %s is already revoked\n", ref);
	else if (err != LSN_OK)
		fprintf(stderr, "liaisond: revocation failed (%s)\n", lsn_err_code(err));
	else
		printf("Revoked %u device(s); they can no longer log in, and open sessions end at "
		       "their next request.\n", r.count);
	return err == LSN_OK ? 0 : 1;
}

/* ---- user reset: a lost only device, no key backup ---------------------- */

/* The user named by --rpps or --user. */
static int
reset_find_user(struct store *s, const struct opts *o, struct store_user *u)
{
	uint8_t id[LSN_ID_BYTES];
	enum lsn_err err = o->rpps ? store_user_find_rpps(s, o->rpps, u)
			   : lsn_id_from_hex(o->user, id) ? store_user_get(s, id, u)
							  : LSN_ERR_NOT_FOUND;
	if (err == LSN_OK)
		return 0;
	fprintf(stderr, "liaisond: no user with %s \"%s\"; see \"liaisond users\"\n",
		o->rpps ? "RPPS" : "id", o->rpps ? o->rpps : o->user);
	return 1;
}

/* liaisond user reset --rpps R | --user ID: every device of the person is
 * revoked and an invite is printed that enrols a new identity key for the
 * same account (same user id, roles, channels and cases); their contacts'
 * clients then say that this identity changed (docs/OPERATIONS.md). */
static int
user_reset(const struct config *cfg, const struct opts *o)
{
	int64_t ttl = cfg->invite_ttl_ms;
	if ((o->rpps == NULL) == (o->user == NULL))
		return usage_error("%s", "usage: liaisond user reset --rpps RPPS | --user ID "
					 "[--expires-in 72h] [--json]");
	if (o->expires_in && !config_parse_duration_ms(o->expires_in, &ttl))
		return usage_error("--expires-in %s: expected a duration such as 72h, 30m, 45s or 7d",
				   o->expires_in);
	struct store *s;
	int rc = open_store(cfg, false, &s);
	if (rc)
		return rc;
	struct store_user u;
	if ((rc = reset_find_user(s, o, &u))) {
		store_close(s);
		return rc;
	}
	struct store_invite inv = {.for_user = true, .new_identity = true, .roles = u.roles};
	memcpy(inv.user_id, u.id, LSN_ID_BYTES);
	memcpy(inv.org_id, u.org.id, LSN_ID_BYTES);
	snprintf(inv.rpps, sizeof inv.rpps, "%s", u.rpps);
	snprintf(inv.name, sizeof inv.name, "%s", u.name);
	snprintf(inv.profession, sizeof inv.profession, "%s", u.profession);
	char code[LSN_INVITE_TEXT + 1];
	invite_new_code(&inv, lsn_clock_now_ms(), ttl, code);
	struct revoke_all r = {.s = s, .now = inv.created_at};
	enum lsn_err err = store_batch_begin(s);
	if (err == LSN_OK) {
		err = store_device_list(s, u.id, revoke_one, &r);
		if (err == LSN_OK)
			err = r.err;
		if (err == LSN_OK) /* sealed for the old identity: a new one is set up after */
			err = store_backup_forget(s, u.id);
		if (err == LSN_OK)
			err = store_invite_create(s, &inv);
		if (err == LSN_OK)
			err = audit_admin(s, "identity_reset", &(struct audit_ids){.target_user = u.id},
					  inv.created_at);
		err = in_transaction(s, err);
	}
	store_close(s);
	if (err != LSN_OK) {
		fprintf(stderr, "liaisond: the reset failed, nothing was changed (%s)\n",
			lsn_err_code(err));
		sodium_memzero(code, sizeof code);
		return 1;
	}
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(u.id, hex);
	if (o->json) {
		printf("{\"user\":\"%s\",\"revoked\":%u,\"code\":\"%s\",\"expires_at\":%lld}\n",
		       hex, r.count, code, (long long)inv.expires_at);
	} else {
		char when[64];
		format_time(inv.expires_at, true, when, sizeof when);
		printf("Revoked %u device(s) of %s (%s).\n"
		       "Invite for a NEW IDENTITY of %s — single use, expires %s. Give it to the\n"
		       "person in person or by phone, after checking who they are:\n%s\n"
		       "Their contacts will be told that %s's identity changed and asked to\n"
		       "compare safety numbers (liaison verify) before sharing keys again.\n",
		       r.count, u.name, hex, u.name, when, code, u.name);
	}
	sodium_memzero(code, sizeof code);
	return 0;
}

/* "user roles …" or "user reset …". */
int
admin_user(const struct config *cfg, int argc, char **argv)
{
	struct opts o;
	if (argc >= 1 && strcmp(argv[0], "roles") == 0)
		return user_roles(cfg, argc - 1, argv + 1);
	if (argc >= 1 && strcmp(argv[0], "email") == 0)
		return admin_user_email(cfg, argc - 1, argv + 1);
	if (argc < 1 || strcmp(argv[0], "reset") != 0)
		return usage_error("%s", "usage: liaisond user roles --user ID | --rpps N --roles LIST\n"
					 "       liaisond user reset --rpps RPPS | --user ID "
					 "[--expires-in 72h] [--json]\n"
					 "       liaisond user email --user ID | --rpps N "
					 "[--email ADDRESS|none] [--json]");
	int rc = parse_opts(argc - 1, argv + 1, &o);
	return rc ? rc : user_reset(cfg, &o);
}

int
admin_check(const struct config *cfg)
{
	struct store *s;
	struct lsn_status st = {0};
	if (open_store(cfg, false, &s))
		return 1;
	enum lsn_err err = store_check(s, &st);
	int version = store_schema_version(s);
	store_close(s);
	if (err != LSN_OK)
		return fail(&st);
	printf("Database ok (schema version %d, integrity_check ok)\n", version);
	return 0;
}

/* ---- audit -------------------------------------------------------------- */

/* A time for --since/--until, in the local time zone (TZ): YYYY-MM-DD,
 * YYYY-MM-DD HH:MM[:SS] (or with a T), or a duration ago (2h, 30m, 7d).
 * A bare date given to --until means the end of that day. */
static bool
parse_when(const char *text, bool until, int64_t *out)
{
	int64_t ago;
	if (config_parse_duration_ms(text, &ago)) {
		*out = lsn_clock_now_ms() - ago;
		return true;
	}
	struct tm tm = {0};
	int n = 0, sec = 0;
	char sep = 0;
	if (sscanf(text, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 ||
	    strlen(text) != (size_t)n) {
		n = 0;
		if (sscanf(text, "%4d-%2d-%2d%c%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &sep,
			   &tm.tm_hour, &tm.tm_min, &n) != 6 || (sep != 'T' && sep != ' '))
			return false;
		if (text[n] == ':') {
			int m = 0;
			if (sscanf(text + n, ":%2d%n", &sec, &m) != 1)
				return false;
			n += m;
		}
		if (text[n] != '\0' || tm.tm_hour > 23 || tm.tm_min > 59 || sec > 59)
			return false;
		until = false;
	}
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	if (until)
		tm.tm_mday += 1;
	time_t t = mktime(&tm);
	if (t == (time_t)-1)
		return false;
	*out = (int64_t)t * 1000;
	return true;
}

struct audit_show {
	struct store *s;
	json_t *list;          /* --json */
	unsigned count;
};

/* id=HEX, appended to a details line. */
static void
detail_id(char *line, size_t cap, const char *key, bool present, const uint8_t id[LSN_ID_BYTES])
{
	if (!present)
		return;
	char hex[LSN_ID_HEX + 1];
	size_t len = strlen(line);
	lsn_id_to_hex(id, hex);
	snprintf(line + len, cap - len, "%s%s=%s", len ? " " : "", key, hex);
}

static json_t *
json_id_or_null(bool present, const uint8_t id[LSN_ID_BYTES])
{
	return present ? wire_id(id) : json_null();
}

static void
show_entry(const struct store_audit *e, void *arg)
{
	struct audit_show *a = arg;
	a->count++;
	if (a->list) {
		json_array_append_new(a->list, json_pack(
			"{s:I, s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:s}",
			"seq", (json_int_t)e->seq, "at", (json_int_t)e->at, "action", e->action,
			"outcome", e->outcome, "origin", e->origin,
			"user", json_id_or_null(e->has_actor_user, e->actor_user),
			"device", json_id_or_null(e->has_actor_device, e->actor_device),
			"target_user", json_id_or_null(e->has_target_user, e->target_user),
			"target_device", json_id_or_null(e->has_target_device, e->target_device),
			"channel", json_id_or_null(e->has_channel, e->channel),
			"case", json_id_or_null(e->has_case, e->case_id),
			"peer", e->peer, "detail", e->detail));
		return;
	}
	char when[32], who[LSN_ID_HEX + 1] = "-", name[STORE_NAME_MAX + 1] = "-", more[512] = "";
	struct store_user u;
	format_when(e->at, when, sizeof when);
	if (e->has_actor_user) {
		lsn_id_to_hex(e->actor_user, who);
		if (store_user_get(a->s, e->actor_user, &u) == LSN_OK)
			snprintf(name, sizeof name, "%s", u.name);
		else
			snprintf(name, sizeof name, "(unknown user)");
	} else if (strcmp(e->origin, "admin") == 0) {
		snprintf(who, sizeof who, "(administrator)");
	}
	detail_id(more, sizeof more, "device", e->has_actor_device, e->actor_device);
	detail_id(more, sizeof more, "target", e->has_target_user, e->target_user);
	detail_id(more, sizeof more, "target_device", e->has_target_device, e->target_device);
	detail_id(more, sizeof more, "case", e->has_case, e->case_id);
	detail_id(more, sizeof more, "channel", e->has_channel, e->channel);
	if (e->detail[0]) {
		size_t len = strlen(more);
		snprintf(more + len, sizeof more - len, "%s%s", len ? " " : "", e->detail);
	}
	printf("%-6lld  %-19s  %-14s  %-16s  %-32s  %-24s  %-15s  %s\n", (long long)e->seq, when,
	       e->action, e->outcome, who, name, e->peer[0] ? e->peer : "-", more);
}

/* --user takes a user id or an RPPS number. */
static int
audit_user_ref(struct store *s, const char *ref, uint8_t id[LSN_ID_BYTES])
{
	struct store_user u;
	if (lsn_id_from_hex(ref, id))
		return 0;
	if (store_user_find_rpps(s, ref, &u) == LSN_OK) {
		memcpy(id, u.id, LSN_ID_BYTES);
		return 0;
	}
	return usage_error("--user %s: expected a user id (32 hex characters) or an enrolled RPPS "
			   "number; see liaisond users", ref);
}

static int
audit_show(struct store *s, const struct opts *o)
{
	uint8_t user[LSN_ID_BYTES], case_id[LSN_ID_BYTES];
	struct store_audit_filter f = {0};
	if (o->user) {
		if (audit_user_ref(s, o->user, user))
			return 2;
		f.user = user;
	}
	if (o->case_id) {
		if (!lsn_id_from_hex(o->case_id, case_id))
			return usage_error("--case %s: expected a case id (32 hex characters)", o->case_id);
		f.case_id = case_id;
	}
	if (o->since && !parse_when(o->since, false, &f.since))
		return usage_error("--since %s: expected YYYY-MM-DD, \"YYYY-MM-DD HH:MM[:SS]\" (local "
				   "time) or a duration ago such as 2h, 30m or 7d", o->since);
	if (o->until && !parse_when(o->until, true, &f.until))
		return usage_error("--until %s: expected YYYY-MM-DD (through the end of that day), "
				   "\"YYYY-MM-DD HH:MM[:SS]\" (local time) or a duration ago such as 2h",
				   o->until);
	if (f.since && f.until && f.until <= f.since)
		return usage_error("%s", "--until must be after --since");
	struct audit_show a = {.s = s, .list = o->json ? json_array() : NULL};
	tzset();
	if (!o->json)
		printf("%-6s  %-19s  %-14s  %-16s  %-32s  %-24s  %-15s  %s\n", "SEQ", "TIME", "ACTION",
		       "OUTCOME", "USER", "NAME", "PEER", "DETAILS");
	enum lsn_err err = store_audit_list(s, &f, show_entry, &a);
	if (a.list) {
		json_dumpf(a.list, stdout, JSON_COMPACT);
		printf("\n");
		json_decref(a.list);
	} else if (err == LSN_OK) {
		printf("(%u entr%s; times are local, %s; \"liaisond audit verify\" checks the chain)\n",
		       a.count, a.count == 1 ? "y" : "ies", tzname[0]);
	}
	if (err != LSN_OK) {
		fprintf(stderr, "liaisond: cannot read the audit trail (%s)\n", lsn_err_code(err));
		return 1;
	}
	return 0;
}

static int
audit_verify_cmd(struct store *s, const struct opts *o)
{
	struct audit_report r;
	enum lsn_err err = audit_verify(s, &r);
	char head[2 * AUDIT_HASH_BYTES + 1];
	sodium_bin2hex(head, sizeof head, r.head_hash, sizeof r.head_hash);
	if (err != LSN_OK && err != LSN_ERR_CONFLICT) {
		fprintf(stderr, "liaisond: cannot read the audit trail (%s)\n", lsn_err_code(err));
		return 1;
	}
	if (o->json) {
		json_t *list = json_array();
		for (int i = 0; i < r.problems && i < AUDIT_PROBLEMS_MAX; i++)
			json_array_append_new(list, json_string(r.problem[i]));
		json_t *out = json_pack("{s:b, s:I, s:I, s:s, s:I, s:o}", "ok", err == LSN_OK,
					"entries", (json_int_t)r.entries, "head_seq",
					(json_int_t)r.head_seq, "head_hash", head,
					"first_bad", (json_int_t)r.first_bad, "problems", list);
		json_dumpf(out, stdout, JSON_COMPACT);
		printf("\n");
		json_decref(out);
	}
	if (err == LSN_OK) {
		if (!o->json)
			printf("Audit trail intact: %lld entries, chain head %s\n", (long long)r.entries,
			       head);
		return 0;
	}
	fprintf(stderr, "liaisond: the audit trail was altered: %d problem%s, the first at entry "
		"%lld\n", r.problems, r.problems == 1 ? "" : "s", (long long)r.first_bad);
	for (int i = 0; i < r.problems && i < AUDIT_PROBLEMS_MAX; i++)
		fprintf(stderr, "  %s\n", r.problem[i]);
	if (r.problems > AUDIT_PROBLEMS_MAX)
		fprintf(stderr, "  (%d more not shown)\n", r.problems - AUDIT_PROBLEMS_MAX);
	fprintf(stderr, "Keep this database as evidence (copy it, do not repair it) and compare "
			"with your backups; see docs/AUDIT.md.\n");
	return 1;
}

int
admin_audit(const struct config *cfg, int argc, char **argv)
{
	struct opts o;
	if (argc < 1 || (strcmp(argv[0], "show") != 0 && strcmp(argv[0], "verify") != 0))
		return usage_error("%s", "usage: liaisond audit show [--user ID|RPPS] [--case ID] "
					 "[--since T] [--until T] [--json] | audit verify [--json]");
	int rc = parse_opts(argc - 1, argv + 1, &o);
	if (rc)
		return rc;
	if (strcmp(argv[0], "verify") == 0 && (o.user || o.case_id || o.since || o.until))
		return usage_error("%s", "audit verify checks the whole chain and takes no filter");
	struct store *s;
	if ((rc = open_store(cfg, false, &s)))
		return rc;
	rc = strcmp(argv[0], "show") == 0 ? audit_show(s, &o) : audit_verify_cmd(s, &o);
	store_close(s);
	return rc;
}

/* ---- backup ------------------------------------------------------------- */

int
admin_backup(const struct config *cfg, int argc, char **argv)
{
	if (argc != 1 || argv[0][0] == '-')
		return usage_error("%s", "usage: liaisond backup FILE (a new file; the server may "
					 "keep running)");
	struct store *s;
	struct lsn_status st = {0};
	int64_t pages = 0;
	int rc = open_store(cfg, false, &s);
	if (rc)
		return rc;
	enum lsn_err err = store_backup(s, argv[0], &pages, &st);
	/* a backup is an export of everything: it goes into the audit trail */
	char detail[STORE_AUDIT_DETAIL];
	const char *base = strrchr(argv[0], '/');
	snprintf(detail, sizeof detail, "file=%.80s", base ? base + 1 : argv[0]);
	enum lsn_err aerr = store_batch_begin(s);
	if (aerr == LSN_OK) {
		struct store_audit e = {.at = lsn_clock_now_ms()};
		snprintf(e.action, sizeof e.action, "backup");
		snprintf(e.outcome, sizeof e.outcome, "%s", err == LSN_OK ? "ok" : lsn_err_code(err));
		snprintf(e.origin, sizeof e.origin, "admin");
		snprintf(e.detail, sizeof e.detail, "%s", detail);
		aerr = in_transaction(s, audit_append(s, &e));
	}
	store_close(s);
	if (err != LSN_OK)
		return fail(&st);
	if (aerr != LSN_OK)
		fprintf(stderr, "liaisond: warning: the backup could not be recorded in the audit "
				"trail (%s)\n", lsn_err_code(aerr));
	printf("Backup written: %s (%lld pages, integrity_check ok).\n"
	       "Restore: stop liaisond, copy it to the data directory as liaison.db (removing "
	       "liaison.db-wal and liaison.db-shm), run \"liaisond check\", start liaisond "
	       "(docs/OPERATIONS.md).\n", argv[0], (long long)pages);
	return 0;
}
