/* case_action.c — an action of a client (posting the discharge notice,
 * attaching the letter, closing the discharge reconciliation) completes the
 * steps the pathway template maps to it (case_action.h). */
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "case.h"
#include "case_action.h"
#include "fanout.h"
#include "wire.h"

#define ACTION_STEPS_MAX 16

struct step_codes {
	char code[ACTION_STEPS_MAX][48];
	size_t n;
};

static void
add_code(const char *text, void *arg)
{
	struct step_codes *sc = arg;
	if (sc->n < ACTION_STEPS_MAX)
		snprintf(sc->code[sc->n++], sizeof sc->code[0], "%s", text);
}

/* Per step code, its pending occurrence with the smallest number. */
struct first_pending {
	const struct step_codes *codes;
	struct store_step step[ACTION_STEPS_MAX];
	bool found[ACTION_STEPS_MAX];
};

static void
pick_pending(const struct store_step *st, void *arg)
{
	struct first_pending *fp = arg;
	if (strcmp(st->status, "pending") != 0)
		return;
	for (size_t i = 0; i < fp->codes->n; i++)
		if (strcmp(st->step, fp->codes->code[i]) == 0 &&
		    (!fp->found[i] || st->occurrence < fp->step[i].occurrence)) {
			fp->step[i] = *st;
			fp->found[i] = true;
		}
}

static enum lsn_err
complete(struct handler_ctx *hc, const struct store_case *c, struct store_step *st,
	 const char *action, json_t *done)
{
	snprintf(st->status, sizeof st->status, "done");
	st->has_done_by = true;
	memcpy(st->done_by, hc->sess->user, LSN_ID_BYTES);
	st->done_at = hc->now;
	snprintf(st->done_via, sizeof st->done_via, "%s", action);
	enum lsn_err err = store_step_update(hc->srv->store, st, hc->now);
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "step");
	char detail[STORE_AUDIT_DETAIL];
	snprintf(detail, sizeof detail, "step=%.36s#%d status=done via=%.21s", st->step,
		 (int)st->occurrence, action);
	if ((err = audit_request(hc, "step_done", &(struct audit_ids){.case_id = c->id,
				 .channel = c->channel, .target_user = st->has_assignee ? st->assignee : NULL,
				 .detail = detail})) != LSN_OK)
		return err;
	if (done)
		json_array_append_new(done, case_render_step(st, NULL, hc->now));
	return fanout_channel(hc, c->channel, "case",
			      json_pack("{s:o, s:s, s:I, s:s, s:s}", "case", wire_id(c->id), "change",
					"step_done", "step", (json_int_t)st->id, "status", st->status,
					"via", action), NULL);
}

enum lsn_err
case_action_fulfil(struct handler_ctx *hc, const struct store_case *c, const char *action,
		   json_t *done)
{
	struct step_codes codes = {0};
	enum lsn_err err = store_step_actions(hc->srv->store, c->pathway, c->template_version, action,
					      add_code, &codes);
	if (err != LSN_OK)
		return handler_store_fail(hc, err, "template");
	if (codes.n == 0)
		return LSN_OK;
	struct first_pending fp = {.codes = &codes};
	if ((err = store_step_list(hc->srv->store, c->id, pick_pending, &fp)) != LSN_OK)
		return handler_store_fail(hc, err, "step");
	for (size_t i = 0; i < codes.n; i++)
		if (fp.found[i] && (err = complete(hc, c, &fp.step[i], action, done)) != LSN_OK)
			return err;
	return LSN_OK;
}
