/* timers.h — the server's periodic work, apart from any request: the
 * deadline scan (case.c: steps due soon or overdue, unacknowledged
 * notices) and the once-a-second sweep (reap a finished commit, drop slow
 * consumers, and the revocation watch: close the connections of devices an
 * administrator revoked from another process), and the e-mails of
 * mail.c (the due scan with the deadline scan, the outbox each second).
 *
 * Contract: the network layer's timers call these on the service thread;
 * nothing here calls libwebsockets. The scan's writes join the open batch
 * like a request's (commit.h) and its events are applied after commit;
 * while a commit is in flight the database is the commit thread's, so the
 * scan comes back soon and the watch waits for the next second. Calls down
 * only: case.h, commit.h, deliver.h, mail.h, store.h. */
#ifndef LSN_TIMERS_H
#define LSN_TIMERS_H

#include <stdint.h>

#include "config.h"
#include "store.h"

/* Remember the database's data_version as the revocation watch's start;
 * start the mail outbox (mail_start). */
void timers_init(struct store *store, const struct config *cfg);
/* Run the deadline scan; returns the delay (µs) until it should run again. */
int64_t timers_deadline_scan(void);
/* The revocation watch before a committed batch's first event (commit.c's
 * before_events hook): the devices revoked from another process since the
 * last look (PRAGMA data_version) are taken off the index at once, so no
 * event of the batch reaches them, and closed at the next sweep, after the
 * replies they are owed. The sweep itself closes them at once. */
void timers_revocation_watch(void);
/* The once-a-second sweep. */
void timers_sweep(void);

#endif
