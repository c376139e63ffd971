/* case_action.h — actions that fulfil pathway steps. Which steps an action
 * fulfils is template data (pathway_step_actions, schema/008_case_actions.sql);
 * the action codes are the server's fixed vocabulary. */
#ifndef LSN_CASE_ACTION_H
#define LSN_CASE_ACTION_H

#include <jansson.h>

#include "handlers.h"

#define CASE_ACTION_NOTICE_POSTED "notice_posted"
#define CASE_ACTION_LETTER_ATTACHED "letter_attached"
#define CASE_ACTION_RECONCILIATION_CLOSED "reconciliation_closed"

/* The caller did `action` on case c: the first pending occurrence of every
 * step the case's template version maps to it becomes done (done_by the
 * caller, done_at now, done_via the action); a step already done or skipped
 * is left alone. Each change is audited (step_done) and announced to the
 * thread like a step_complete. If done is not NULL, the changed steps are
 * appended to it as the wire renders them. Nothing to fulfil is not an
 * error. */
enum lsn_err case_action_fulfil(struct handler_ctx *hc, const struct store_case *c,
				const char *action, json_t *done);

#endif
