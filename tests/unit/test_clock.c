/* test_clock.c — the one clock (shared/clock.c): UTC milliseconds, and the
 * test offset that moves it. */
#include "testutil.h"

#include <time.h>

#include "clock.h"

static int64_t
wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
now_is_utc_ms(void **state)
{
	assert_int_equal(lsn_clock_offset_ms(), 0);
	int64_t before = wall_ms();
	int64_t now = lsn_clock_now_ms();
	int64_t after = wall_ms();
	assert_true(now >= before && now <= after);
	/* sanity: after 2020-01-01 and before 2100-01-01, in milliseconds */
	assert_true(now > 1577836800000LL && now < 4102444800000LL);
}

static void
advance_moves_the_clock(void **state)
{
	int64_t day = 24LL * 3600 * 1000;
	lsn_clock_advance_ms(day);
	assert_int_equal(lsn_clock_offset_ms(), day);
	int64_t now = lsn_clock_now_ms();
	int64_t wall = wall_ms();
	assert_true(now - wall >= day - 1000 && now - wall <= day);
	lsn_clock_advance_ms(day); /* offsets add up */
	assert_int_equal(lsn_clock_offset_ms(), 2 * day);
	lsn_clock_advance_ms(-2 * day);
	assert_int_equal(lsn_clock_offset_ms(), 0);
	now = lsn_clock_now_ms();
	assert_true(now >= wall && now - wall_ms() <= 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(now_is_utc_ms),
		cmocka_unit_test(advance_moves_the_clock),
	};
	return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
