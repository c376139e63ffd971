/* handle_conciliation.c — de-identified counts of a medication
 * reconciliation episode, sent by the client with each change of the
 * (encrypted) episode. The request is checked to hold numbers and fixed
 * vocabulary only: there is nowhere a drug name or a note could go. */
#include <stdlib.h>
#include <string.h>

#include "case_action.h"
#include "handlers.h"
#include "wire.h"

#define COUNT_MAX 10000
#define RESOLUTIONS_MAX 500

static const char *const transitions[] = {"admission", "transfer", "discharge",
					  "community_post_discharge", NULL};
static const char *const statuses[] = {"draft", "bmo_done", "compared", "awaiting_prescriber",
				       "closed", NULL};
static const char *const types[] = {"omission", "addition", "dose_change", "frequency_change",
				    "route_change", "form_change", "substitution", "duplication",
				    "incomplete", "other", NULL};
static const char *const intents[] = {"intentional_documented", "intentional_undocumented",
				      "unintentional", "undetermined", NULL};

static bool
in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; s && list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* {"omission": 2, ...}: known keys, integer counts; *sum their total. The
 * compact re-encoding is what is stored. */
static enum lsn_err
count_map(struct handler_ctx *hc, json_t *req, const char *field, const char *const *keys,
	  int64_t *sum, char **text)
{
	json_t *obj = json_object_get(req, field), *v;
	const char *k;
	*sum = 0;
	if (!json_is_object(obj))
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "field \"%s\": expected an object of counts",
				field);
	json_object_foreach(obj, k, v) {
		if (!in_list(keys, k))
			return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "field \"%s\": unknown key \"%.40s\"",
					field, k);
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > COUNT_MAX)
			return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
					"field \"%s.%s\": expected a count from 0 to %d", field, k, COUNT_MAX);
		*sum += json_integer_value(v);
	}
	*text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	return *text ? LSN_OK : lsn_fail(&hc->st, LSN_ERR_INTERNAL, NULL);
}

static enum lsn_err
resolution_times(struct handler_ctx *hc, json_t *req, int64_t resolved, char **text)
{
	json_t *arr = json_object_get(req, "resolution_ms"), *v;
	size_t i;
	if (!json_is_array(arr) || json_array_size(arr) > RESOLUTIONS_MAX ||
	    (int64_t)json_array_size(arr) > resolved)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"field \"resolution_ms\": expected at most one duration per resolved "
				"discrepancy");
	json_array_foreach(arr, i, v)
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
					"resolution_ms[%zu]: expected a duration in ms", i);
	*text = json_dumps(arr, JSON_COMPACT);
	return *text ? LSN_OK : lsn_fail(&hc->st, LSN_ERR_INTERNAL, NULL);
}

static enum lsn_err
read_counts(struct handler_ctx *hc, json_t *req, struct store_conciliation *k)
{
	const char *transition = NULL, *status = NULL;
	enum lsn_err err;
	if ((err = wire_get_id(req, "episode", true, k->episode, NULL, &hc->st)) ||
	    (err = wire_get_str(req, "transition", true, 31, &transition, &hc->st)) ||
	    (err = wire_get_str(req, "status", true, 23, &status, &hc->st)) ||
	    (err = wire_get_int(req, "source_types", true, 0, 14, &k->source_types, &hc->st)) ||
	    (err = wire_get_int(req, "lines_bmo", true, 0, COUNT_MAX, &k->lines_bmo, &hc->st)) ||
	    (err = wire_get_int(req, "lines_order", true, 0, COUNT_MAX, &k->lines_order, &hc->st)) ||
	    (err = wire_get_int(req, "unintentional", true, 0, COUNT_MAX, &k->unintentional, &hc->st)) ||
	    (err = wire_get_int(req, "resolved", true, 0, COUNT_MAX, &k->resolved, &hc->st)) ||
	    (err = wire_get_int(req, "started_at", true, 0, WIRE_ID_MAX, &k->started_at, &hc->st)) ||
	    (err = wire_get_int(req, "compared_at", false, 0, WIRE_ID_MAX, &k->compared_at, &hc->st)) ||
	    (err = wire_get_int(req, "closed_at", false, 0, WIRE_ID_MAX, &k->closed_at, &hc->st)))
		return err;
	if (!in_list(transitions, transition) || !in_list(statuses, status))
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "fields \"transition\" and \"status\": "
				"unknown value; see docs/PROTOCOL.md, \"Medication reconciliation\"");
	snprintf(k->transition, sizeof k->transition, "%s", transition);
	snprintf(k->status, sizeof k->status, "%s", status);
	if (strcmp(status, "draft") != 0 && k->source_types < 3)
		return lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST,
				"a BMO needs at least 3 distinct source types before it is complete");
	return LSN_OK;
}

enum lsn_err
handle_conciliation_counts(struct handler_ctx *hc, json_t *req, json_t *reply)
{
	struct store_conciliation k = {0};
	struct store_case c;
	struct store_member me;
	char *by_type = NULL, *by_intent = NULL, *times = NULL;
	int64_t intent_sum = 0;
	enum lsn_err err;
	if ((err = wire_get_id(req, "case", true, k.case_id, NULL, &hc->st)) != LSN_OK)
		return err;
	err = store_case_get(hc->srv->store, k.case_id, &c);
	if (err == LSN_OK && (store_member_get(hc->srv->store, c.channel, hc->sess->user, &me) != LSN_OK ||
			      !me.current))
		err = LSN_ERR_NOT_FOUND;
	if (err != LSN_OK)
		return err == LSN_ERR_NOT_FOUND ? lsn_fail(&hc->st, err, "no such case among yours")
						: handler_store_fail(hc, err, "case");
	if ((err = read_counts(hc, req, &k)) ||
	    (err = count_map(hc, req, "by_type", types, &k.discrepancies, &by_type)) ||
	    (err = count_map(hc, req, "by_intent", intents, &intent_sum, &by_intent)) ||
	    (err = resolution_times(hc, req, k.resolved, &times)))
		goto out;
	json_t *unint = json_object_get(json_object_get(req, "by_intent"), "unintentional");
	if (intent_sum != k.discrepancies || k.resolved > k.discrepancies ||
	    k.unintentional != (unint ? json_integer_value(unint) : 0)) {
		err = lsn_fail(&hc->st, LSN_ERR_BAD_REQUEST, "the counts do not add up: by_type and "
			       "by_intent must each total the discrepancies, unintentional must equal "
			       "by_intent.unintentional, resolved at most the discrepancies");
		goto out;
	}
	k.by_type = by_type;
	k.by_intent = by_intent;
	k.resolution_ms = times;
	memcpy(k.reported_by, hc->sess->user, LSN_ID_BYTES);
	if ((err = store_conciliation_put(hc->srv->store, &k, hc->now)) != LSN_OK) {
		err = handler_store_fail(hc, err, "reconciliation");
		goto out;
	}
	json_object_set_new(reply, "episode", wire_id(k.episode));
	/* closing the discharge reconciliation completes its step (template data) */
	if (strcmp(k.status, "closed") == 0 && strcmp(k.transition, "discharge") == 0 &&
	    strcmp(c.status, "open") == 0) {
		json_t *done = json_array();
		json_object_set_new(reply, "steps_done", done);
		err = case_action_fulfil(hc, &c, CASE_ACTION_RECONCILIATION_CLOSED, done);
	}
out:
	free(by_type);
	free(by_intent);
	free(times);
	return err;
}
