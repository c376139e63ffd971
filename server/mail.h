/* mail.h — "quelque chose vous attend dans Liaison": the e-mail a
 * professional gets when a discharge notice, an alert or a step
 * notification has waited unseen for mail_delay, at most one per
 * mail_period, unless they turned it off (docs/OPERATIONS.md, "Mail").
 *
 * The life of one mail, each step in the server's usual transactions:
 *   1. mail_scan (inside the deadline scan's batch) finds who is due
 *      (mail_policy.c) and adds a pending row to the outbox, noting what it
 *      announces;
 *   2. mail_sweep (once a second) marks due rows "sending" and, once that
 *      is on disk (commit_after), hands them to the mail thread
 *      (mail_worker.c → mail_smtp.c, libcurl);
 *   3. a later mail_sweep records the outcome: sent; or pending again with
 *      a back-off (nothing reached the relay); or interrupted (the whole
 *      message went out and no answer came: it may have been taken, so it
 *      is never sent again). A server stopped while a row was "sending"
 *      finds it at start-up and marks it interrupted too (mail_init).
 * So a mail is never sent twice, and a failure is logged and retried.
 *
 * Contract: mail_init and mail_fini run in main.c around the server loop
 * (no commit thread then); mail_start, mail_scan and mail_sweep on the
 * service thread, from timers.c (mail_start once the server listens, before
 * any request: no batch is open). Logs name the outbox row and the user id, never the
 * address, never anything clinical. Calls down only: store.h, commit.h,
 * mail_policy.h, mail_compose.h, mail_worker.h, metrics.h, log.h. */
#ifndef LSN_MAIL_H
#define LSN_MAIL_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "store.h"

/* Check the mail keys and read smtp_password_file (refused when group or
 * others have any right on it): a mistake stops liaisond before it
 * serves. LSN_OK with mail off when smtp_host is not set. */
enum lsn_err mail_init(struct store *s, const struct config *cfg, struct lsn_status *st);
/* Mark the mails a stopped server left "sending" as interrupted (in its
 * own transaction), then start the mail thread. */
void mail_start(void);
/* Queue the mails due at now, and forget finished ones past
 * notification_retention; in the caller's savepoint. */
enum lsn_err mail_scan(struct store *s, int64_t now);
/* Record finished sends, hand the due ones to the mail thread. */
void mail_sweep(int64_t now);
/* Stop the mail thread (aborting a send in progress) and record what it
 * did; wipe the password. */
void mail_fini(void);

#endif
