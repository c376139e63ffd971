/* mail_policy.c — when a mail is due, and the retry back-off (mail_policy.h). */
#include "mail_policy.h"

#define BACKOFF_FIRST_MS (60LL * 1000)
#define BACKOFF_MAX_MS   (3600LL * 1000)

bool
mail_due(const struct mail_person *p, int64_t now, int64_t delay, int64_t period)
{
	if (p->oldest_new <= 0 || p->batch_open)
		return false;
	if (p->oldest_new > now - delay)          /* not unseen for long enough yet */
		return false;
	return p->last_sent_at <= 0 || p->last_sent_at <= now - period;
}

int64_t
mail_announced_upto(int64_t now, int64_t delay)
{
	return now - delay;
}

int64_t
mail_backoff_ms(int64_t attempts)
{
	int64_t ms = BACKOFF_FIRST_MS;
	for (int64_t i = 1; i < attempts && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}
