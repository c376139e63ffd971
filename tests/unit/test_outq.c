/* test_outq.c — the output queue as the network threads use it
 * (service_threads): outq_take hands the head frame over with the counts
 * updated, frames leave in order, and went_below records that a frame
 * taken out left the queue at or under the soft limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "outq.h"

static void
test_take_in_order(void **state)
{
	(void)state;
	struct outq q;
	outq_init(&q, 16, 1 << 20, 100);
	assert_true(outq_push(&q, "one", 3));
	assert_true(outq_push_binary(&q, "\x01\x02", 2));
	assert_int_equal(q.frames, 2);
	assert_int_equal(q.bytes, 5);
	struct outq_frame *f = outq_take(&q);
	assert_non_null(f);
	assert_null(f->next);
	assert_false(f->binary);
	assert_memory_equal(f->data + q.headroom, "one", 3);
	assert_int_equal(q.frames, 1);
	assert_int_equal(q.bytes, 2);
	free(f);
	f = outq_take(&q);
	assert_non_null(f);
	assert_true(f->binary);
	assert_int_equal(f->len, 2);
	free(f);
	assert_null(outq_take(&q));
	assert_null(outq_peek(&q));
	assert_int_equal(q.frames, 0);
	assert_int_equal(q.bytes, 0);
	/* the queue is usable again after being emptied by takes */
	assert_true(outq_push(&q, "two", 3));
	assert_non_null(outq_peek(&q));
	outq_clear(&q);
}

static void
test_went_below(void **state)
{
	(void)state;
	struct outq q;
	char big[100];
	memset(big, 'x', sizeof big);
	outq_init(&q, 0, 1 << 20, 100);
	q.soft_bytes = 150;
	assert_true(outq_push(&q, big, 100));
	assert_true(outq_push(&q, big, 100));
	assert_true(outq_push(&q, big, 100));
	assert_false(q.went_below);
	outq_pop(&q);                  /* 200 left: still above */
	assert_false(q.went_below);
	free(outq_take(&q));           /* 100 left: at or under 150 */
	assert_true(q.went_below);
	q.went_below = false;          /* the owner reads and clears it */
	assert_true(outq_push(&q, big, 100));
	assert_false(q.went_below);
	outq_clear(&q);
	assert_true(q.went_below);     /* emptied: under the soft limit */
}

static void
test_limits(void **state)
{
	(void)state;
	struct outq q;
	outq_init(&q, 8, 10, 2);
	assert_true(outq_push(&q, "12345", 5));
	assert_false(outq_push(&q, "1234567", 7)); /* past max_bytes: nothing queued */
	assert_int_equal(q.frames, 1);
	assert_true(outq_push(&q, "123", 3));
	assert_false(outq_push(&q, "1", 1));       /* past max_frames */
	assert_int_equal(q.frames, 2);
	assert_int_equal(q.bytes, 8);
	outq_clear(&q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_in_order),
		cmocka_unit_test(test_went_below),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests_name("outq", tests, NULL, NULL);
}
