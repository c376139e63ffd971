/* mail_policy.h — the pure decisions of the "something is waiting" e-mails
 * (docs/OPERATIONS.md, "Mail"): whether a person is due a mail now, and
 * how long to wait before trying a failed one again.
 *
 * Contract: no I/O, no clock, no database: every time is a parameter (ms
 * since the epoch on the server's clock). A leaf: includes nothing of the
 * server. */
#ifndef LSN_MAIL_POLICY_H
#define LSN_MAIL_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* What the store knows of one person with an address and mail on. */
struct mail_person {
	int64_t oldest_new;     /* the oldest item not yet announced (unseen
				   notification, unacknowledged notice) created
				   after mailed_upto; 0 = none */
	int64_t last_sent_at;   /* when the last mail left (or may have); 0 = never */
	bool batch_open;        /* a mail is pending or being sent */
};

/* Due now: something unannounced has waited at least delay, no mail of
 * this person is still on its way, and the last one left at least period
 * ago. */
bool mail_due(const struct mail_person *p, int64_t now, int64_t delay, int64_t period);
/* What a new mail announces: items created up to this time (the next mail
 * announces only newer ones). */
int64_t mail_announced_upto(int64_t now, int64_t delay);
/* The wait before attempt attempts + 1 after attempts failed ones: one
 * minute, doubled each time, at most one hour. */
int64_t mail_backoff_ms(int64_t attempts);

#endif
