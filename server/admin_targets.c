/* admin_targets.c — "liaisond targets": the administrator sets or lists a
 * CPTS's quantified targets for the indicator report (table report_targets,
 * migration 009; a coordinator of the CPTS does the same with the op
 * target_set). Like the other subcommands it opens the database directly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin.h"
#include "audit.h"
#include "clock.h"
#include "handlers.h"
#include "wire.h"

static const char targets_usage[] =
	"usage: liaisond targets set --cpts FINESS|ID --indicator ID --value N [--direction ge|le]\n"
	"       liaisond targets remove --cpts FINESS|ID --indicator ID\n"
	"       liaisond targets [list] [--cpts FINESS|ID] [--json]";

struct target_opts {
	const char *cpts, *indicator, *value, *direction;
	bool json;
};

static int
targets_parse(int argc, char **argv, struct target_opts *o)
{
	memset(o, 0, sizeof *o);
	for (int i = 0; i < argc; i++) {
		const char **slot = strcmp(argv[i], "--cpts") == 0        ? &o->cpts
				    : strcmp(argv[i], "--indicator") == 0 ? &o->indicator
				    : strcmp(argv[i], "--value") == 0     ? &o->value
				    : strcmp(argv[i], "--direction") == 0 ? &o->direction
									  : NULL;
		if (strcmp(argv[i], "--json") == 0) {
			o->json = true;
		} else if (slot && i + 1 < argc) {
			*slot = argv[++i];
		} else {
			fprintf(stderr, "liaisond: %s %s\n%s\n", argv[i],
				slot ? "needs a value" : "is not an option of targets", targets_usage);
			return 2;
		}
	}
	return 0;
}

static int
targets_org(struct store *s, const char *ref, struct store_org *org)
{
	uint8_t id[LSN_ID_BYTES];
	if (ref && ((lsn_id_from_hex(ref, id) && store_org_get(s, id, org) == LSN_OK) ||
		    store_org_find_finess(s, ref, org) == LSN_OK))
		return 0;
	fprintf(stderr, "liaisond: no organisation with FINESS or id \"%s\"; see \"liaisond org "
			"list\"\n", ref ? ref : "");
	return 1;
}

struct target_list {
	struct store *s;
	json_t *json;
};

static void
print_target(const struct store_target *t, void *arg)
{
	struct target_list *l = arg;
	struct store_org org = {0};
	store_org_get(l->s, t->cpts, &org);
	if (l->json) {
		json_array_append_new(l->json, json_pack("{s:s, s:s, s:f, s:s, s:b}", "cpts",
			org.finess, "indicator", t->indicator, "value", (double)t->value_milli / 1000.0,
			"direction", t->direction, "set_by_admin", !t->has_set_by));
		return;
	}
	printf("%-9s  %-9s  %s %-10.3g  %s\n", org.finess, t->indicator,
	       strcmp(t->direction, "le") == 0 ? "<=" : ">=", (double)t->value_milli / 1000.0,
	       t->has_set_by ? "coordinator" : "administrator");
}

static int
targets_write(struct store *s, const struct target_opts *o, bool set)
{
	struct store_org org;
	const char *better = report_indicator_direction(o->indicator);
	char *end = NULL;
	double v = o->value ? strtod(o->value, &end) : -1;
	if (better == NULL || (set && (end == NULL || *end != '\0' || v < 0 || v > 1e9)) ||
	    (o->direction && strcmp(o->direction, "ge") != 0 && strcmp(o->direction, "le") != 0)) {
		fprintf(stderr, "liaisond: expected --indicator as an id of the report (1a … 9c), "
				"--value a number from 0 (%% for ratios), --direction ge or le\n%s\n",
			targets_usage);
		return 2;
	}
	if (targets_org(s, o->cpts, &org))
		return 1;
	struct store_target t = {.value_milli = (int64_t)(v * 1000.0 + 0.5),
				 .set_at = lsn_clock_now_ms()};
	memcpy(t.cpts, org.id, LSN_ID_BYTES);
	snprintf(t.indicator, sizeof t.indicator, "%s", o->indicator);
	snprintf(t.direction, sizeof t.direction, "%s", o->direction ? o->direction : better);
	char detail[48];
	snprintf(detail, sizeof detail, "%s %s %s", org.finess, t.indicator,
		 set ? t.direction : "removed");
	enum lsn_err err = store_batch_begin(s);
	if (err == LSN_OK) {
		err = set ? store_target_put(s, &t) : store_target_delete(s, t.cpts, t.indicator);
		if (err == LSN_OK)
			err = audit_admin(s, "target_set", &(struct audit_ids){.detail = detail},
					  t.set_at);
		if (err != LSN_OK)
			store_batch_rollback(s);
		else
			err = store_batch_commit(s);
	}
	if (err == LSN_ERR_NOT_FOUND) {
		printf("%s had no target for indicator %s.\n", org.finess, t.indicator);
		return 0;
	}
	if (err != LSN_OK) {
		fprintf(stderr, "liaisond: could not store the target (%s)\n", lsn_err_code(err));
		return 1;
	}
	if (set)
		printf("Target of %s (%s) for indicator %s: %s %g\n", org.name, org.finess,
		       t.indicator, strcmp(t.direction, "le") == 0 ? "at most" : "at least", v);
	else
		printf("Target of %s (%s) for indicator %s removed.\n", org.name, org.finess,
		       t.indicator);
	return 0;
}

int
admin_targets(const struct config *cfg, int argc, char **argv)
{
	const char *sub = argc > 0 && argv[0][0] != '-' ? argv[0] : "list";
	int skip = argc > 0 && argv[0][0] != '-' ? 1 : 0;
	struct target_opts o;
	if (strcmp(sub, "set") != 0 && strcmp(sub, "remove") != 0 && strcmp(sub, "list") != 0) {
		fprintf(stderr, "liaisond: unknown targets command \"%s\"\n%s\n", sub, targets_usage);
		return 2;
	}
	int rc = targets_parse(argc - skip, argv + skip, &o);
	if (rc)
		return rc;
	struct store *s = NULL;
	struct lsn_status st = {0};
	struct store_options opt = {.sync = cfg->synchronous, .busy_timeout_ms = 10000};
	char path[CONFIG_PATH_MAX + 16];
	config_db_path(cfg, path, sizeof path);
	if (store_open(&s, path, &opt, &st) != LSN_OK) {
		fprintf(stderr, "liaisond: %s\n", st.msg);
		return 1;
	}
	if (strcmp(sub, "list") != 0) {
		rc = targets_write(s, &o, strcmp(sub, "set") == 0);
	} else {
		struct store_org org;
		struct target_list l = {.s = s, .json = o.json ? json_array() : NULL};
		if (o.cpts && (rc = targets_org(s, o.cpts, &org)) != 0) {
			json_decref(l.json);
			store_close(s);
			return rc;
		}
		if (!o.json)
			printf("%-9s  %-9s  %-13s  %s\n", "CPTS", "INDICATOR", "TARGET", "SET BY");
		rc = store_target_list(s, o.cpts ? org.id : NULL, print_target, &l) == LSN_OK ? 0 : 1;
		if (l.json) {
			json_dumpf(l.json, stdout, JSON_COMPACT);
			printf("\n");
			json_decref(l.json);
		}
	}
	store_close(s);
	return rc;
}
