/* test_handoff.c — network threads → core thread messages: taken in the
 * order posted, from several threads; the eventfd wakes a waiting core and
 * a wait with nothing posted times out. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "handoff.h"

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_order(void **state)
{
	(void)state;
	assert_int_equal(handoff_init(), 0);
	int conn = 0;
	struct handoff_msg *m = handoff_msg_new(HANDOFF_OPENED, &conn, 0);
	handoff_post(m);
	m = handoff_msg_new(HANDOFF_FRAME, &conn, 5);
	memcpy(m->data, "hello", 5);
	m->binary = true;
	handoff_post(m);
	handoff_post(handoff_msg_new(HANDOFF_CLOSED, &conn, 0));
	handoff_wait(1000);            /* posted: returns at once */
	struct handoff_msg *list = handoff_take();
	assert_non_null(list);
	assert_int_equal(list->kind, HANDOFF_OPENED);
	assert_ptr_equal(list->conn, &conn);
	assert_int_equal(list->next->kind, HANDOFF_FRAME);
	assert_int_equal(list->next->len, 5);
	assert_memory_equal(list->next->data, "hello", 6);  /* NUL-terminated */
	assert_true(list->next->binary);
	assert_int_equal(list->next->next->kind, HANDOFF_CLOSED);
	assert_null(list->next->next->next);
	while (list) {
		struct handoff_msg *next = list->next;
		free(list);
		list = next;
	}
	assert_null(handoff_take());
	int64_t t0 = now_ms();
	handoff_wait(50);              /* nothing posted: the timeout */
	assert_true(now_ms() - t0 >= 40);
	handoff_fini();
}

#define PER_THREAD 2000

static void *
poster(void *arg)
{
	for (uintptr_t i = 0; i < PER_THREAD; i++) {
		struct handoff_msg *m = handoff_msg_new(HANDOFF_FRAME, arg, sizeof i);
		memcpy(m->data, &i, sizeof i);
		handoff_post(m);
	}
	return NULL;
}

/* Two posting threads: every message arrives once, and each thread's in
 * the order it posted them. */
static void
test_two_threads(void **state)
{
	(void)state;
	assert_int_equal(handoff_init(), 0);
	int a = 0, b = 0;
	pthread_t ta, tb;
	assert_int_equal(pthread_create(&ta, NULL, poster, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, poster, &b), 0);
	uintptr_t next_a = 0, next_b = 0;
	int64_t deadline = now_ms() + 10000;
	while ((next_a < PER_THREAD || next_b < PER_THREAD) && now_ms() < deadline) {
		handoff_wait(100);
		for (struct handoff_msg *m = handoff_take(), *next; m; m = next) {
			next = m->next;
			uintptr_t i;
			memcpy(&i, m->data, sizeof i);
			if (m->conn == &a)
				assert_int_equal(i, next_a++);
			else
				assert_int_equal(i, next_b++);
			free(m);
		}
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(next_a, PER_THREAD);
	assert_int_equal(next_b, PER_THREAD);
	handoff_fini();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_two_threads),
	};
	return cmocka_run_group_tests_name("handoff", tests, NULL, NULL);
}
