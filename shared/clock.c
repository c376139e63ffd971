/* clock.c — wall clock plus a test offset. */
#include <time.h>

#include "clock.h"

static int64_t clock_offset_ms;

int64_t
lsn_clock_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + clock_offset_ms;
}

void
lsn_clock_advance_ms(int64_t offset_ms)
{
	clock_offset_ms += offset_ms;
}

int64_t
lsn_clock_offset_ms(void)
{
	return clock_offset_ms;
}
