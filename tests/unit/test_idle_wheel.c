/* test_idle_wheel.c — the idle policy's timer wheel: a silent entry is
 * pinged at ping_after and hung up at hangup_after; a touch (frame or pong)
 * puts both off; no ping when ping_after >= hangup_after; deadlines longer
 * than the wheel; a stalled clock; a late timer; removal, including from
 * the callback; many entries touched at random against a plain model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "idle_wheel.h"

struct conn {
	struct idle_entry e;            /* first: an entry is its conn */
	unsigned pings, hangups;
	int64_t ping_at, hangup_at;
	bool remove_on_ping;
	struct idle_wheel *w;
};

static void
on_report(struct idle_entry *e, enum idle_action a, void *arg)
{
	int64_t now = *(const int64_t *)arg;
	struct conn *c = (struct conn *)e;
	if (a == IDLE_PING) {
		c->pings++;
		c->ping_at = now;
		if (c->remove_on_ping)
			idle_wheel_remove(c->w, e);
	} else {
		c->hangups++;
		c->hangup_at = now;
		idle_wheel_remove(c->w, e); /* already off: must do nothing */
	}
}

static size_t
run_to(struct idle_wheel *w, int64_t *now, int64_t to)
{
	size_t n = 0;
	while (*now < to) {
		++*now;
		n += idle_wheel_advance(w, *now, on_report, now);
	}
	return n;
}

static void
test_silent_is_pinged_then_hung_up(void **state)
{
	(void)state;
	struct idle_wheel w;
	int64_t now = 1000;
	idle_wheel_init(&w, 30, 75, now);
	struct conn c = {.w = &w};
	idle_wheel_add(&w, &c.e, now);
	assert_int_equal(w.count, 1);
	run_to(&w, &now, 1029);
	assert_int_equal(c.pings, 0);
	run_to(&w, &now, 1030);
	assert_int_equal(c.pings, 1);
	assert_int_equal(c.ping_at, 1030);
	run_to(&w, &now, 1074);
	assert_int_equal(c.pings, 1);    /* one ping, not one per second */
	assert_int_equal(c.hangups, 0);
	run_to(&w, &now, 1075);
	assert_int_equal(c.hangups, 1);
	assert_int_equal(c.hangup_at, 1075);
	assert_int_equal(w.count, 0);
	assert_false(c.e.linked);
	run_to(&w, &now, 1300);
	assert_int_equal(c.hangups, 1);
	idle_wheel_remove(&w, &c.e);     /* the connection closes: nothing happens */
	assert_int_equal(w.count, 0);
}

static void
test_touch_puts_off(void **state)
{
	(void)state;
	struct idle_wheel w;
	int64_t now = 0;
	idle_wheel_init(&w, 3, 10, now);
	struct conn frames = {.w = &w}, pongs = {.w = &w};
	idle_wheel_add(&w, &frames.e, now);
	idle_wheel_add(&w, &pongs.e, now);
	/* one sends a frame every 2 s: never pinged, never hung up */
	while (now < 200) {
		run_to(&w, &now, now + 1);
		if (now % 2 == 0)
			idle_wheel_touch(&frames.e, now);
		/* the other answers each ping (at once) */
		if (pongs.pings && pongs.ping_at == now)
			idle_wheel_touch(&pongs.e, now);
	}
	assert_int_equal(frames.pings, 0);
	assert_int_equal(frames.hangups, 0);
	assert_int_equal(pongs.pings, 66);  /* every 3 s: 3, 6, ..., 198 */
	assert_int_equal(pongs.hangups, 0);
	assert_int_equal(w.count, 2);
	/* both fall silent at 200: pinged at 203, hung up at 210 */
	unsigned before = frames.pings;
	run_to(&w, &now, 215);
	assert_int_equal(frames.pings, before + 1);
	assert_int_equal(frames.ping_at, 203);
	assert_int_equal(frames.hangup_at, 210);
	assert_int_equal(pongs.hangups, 1);
	assert_int_equal(w.count, 0);
}

/* A touch just before the hang-up after a ping keeps the connection. */
static void
test_late_pong(void **state)
{
	(void)state;
	struct idle_wheel w;
	int64_t now = 0;
	idle_wheel_init(&w, 1, 3, now);
	struct conn c = {.w = &w};
	idle_wheel_add(&w, &c.e, now);
	run_to(&w, &now, 2);
	assert_int_equal(c.pings, 1);
	idle_wheel_touch(&c.e, now);      /* the pong, at 2 */
	run_to(&w, &now, 4);
	assert_int_equal(c.hangups, 0);
	assert_int_equal(c.pings, 2);    /* silent again since 2: pinged at 3 */
	assert_int_equal(c.ping_at, 3);
	run_to(&w, &now, 5);
	assert_int_equal(c.hangups, 1);
	assert_int_equal(c.hangup_at, 5);
}

static void
test_no_ping_when_hangup_first(void **state)
{
	(void)state;
	struct idle_wheel w;
	int64_t now = 0;
	idle_wheel_init(&w, 20, 20, now);
	struct conn c = {.w = &w};
	idle_wheel_add(&w, &c.e, now);
	run_to(&w, &now, 30);
	assert_int_equal(c.pings, 0);
	assert_int_equal(c.hangups, 1);
	assert_int_equal(c.hangup_at, 20);
}

/* Deadlines several turns of the wheel away. */
static void
test_longer_than_the_wheel(void **state)
{
	(void)state;
	struct idle_wheel w;
	int64_t now = 5;
	idle_wheel_init(&w, 300, 3600, now);
	struct conn c = {.w = &w};
	idle_wheel_add(&w, &c.e, now);
	run_to(&w, &now, 304);
	assert_int_equal(c.pings, 0);
	run_to(&w, &now, 305);
	assert_int_equal(c.pings, 1);
	run_to(&w, &now, 3604);
	assert_int_equal(c.hangups, 0);
	run_to(&w, &now, 3605);
	assert_int_equal(c.hangups, 1);
}

/* The clock jumps (the loop was blocked): the deadlines passed are
 * reported at the next advance, each once; a backward clock does nothing. */
static void
test_stall(void **state)
{
	(void)state;
	struct idle_wheel w;
	int64_t now = 100;
	idle_wheel_init(&w, 5, 8, now);
	struct conn a = {.w = &w}, b = {.w = &w};
	idle_wheel_add(&w, &a.e, now);
	run_to(&w, &now, 103);
	idle_wheel_add(&w, &b.e, now);
	now = 106;                       /* a is due (105), b not (108) */
	idle_wheel_advance(&w, now, on_report, &now);
	assert_int_equal(a.pings, 1);
	assert_int_equal(b.pings, 0);
	assert_int_equal(idle_wheel_advance(&w, 90, on_report, &now), 0);
	now = 1000;                      /* far past both: hung up, once */
	idle_wheel_advance(&w, now, on_report, &now);
	assert_int_equal(a.hangups, 1);
	assert_int_equal(b.hangups, 1);
	assert_int_equal(b.pings, 0);    /* already past the hang-up: no ping first */
	assert_int_equal(w.count, 0);
}

/* The driving timer is late (the loop was busy): a connection that arrives
 * meanwhile is silent from its own second, not from the last advance. */
static void
test_add_while_timer_late(void **state)
{
	(void)state;
	struct idle_wheel w;
	int64_t now = 100;
	idle_wheel_init(&w, 5, 8, now);
	struct conn c = {.w = &w};
	now = 110;                       /* no advance since 100 */
	idle_wheel_add(&w, &c.e, now);
	assert_int_equal(idle_wheel_advance(&w, 111, on_report, &now), 0);
	now = 111;
	run_to(&w, &now, 114);
	assert_int_equal(c.pings + c.hangups, 0);
	run_to(&w, &now, 115);
	assert_int_equal(c.pings, 1);
	assert_int_equal(c.ping_at, 115);
	run_to(&w, &now, 118);
	assert_int_equal(c.hangups, 1);
	assert_int_equal(c.hangup_at, 118);
}

static void
test_remove_from_callback(void **state)
{
	(void)state;
	struct idle_wheel w;
	int64_t now = 0;
	idle_wheel_init(&w, 2, 4, now);
	struct conn c[3];
	memset(c, 0, sizeof c);
	for (int i = 0; i < 3; i++) {
		c[i].w = &w;
		c[i].remove_on_ping = i == 1;
		idle_wheel_add(&w, &c[i].e, now);
	}
	run_to(&w, &now, 10);
	assert_int_equal(c[1].pings, 1);
	assert_int_equal(c[1].hangups, 0);
	assert_int_equal(c[0].hangups, 1);
	assert_int_equal(c[2].hangups, 1);
	assert_int_equal(w.count, 0);
}

/* A fixed pseudo-random sequence (xorshift32): the same run every time. */
static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Many entries, touched at random: each report happens exactly when a
 * plain per-entry model says it should. */
static void
test_model(void **state)
{
	(void)state;
	enum { N = 500 };
	struct idle_wheel w;
	int64_t now = 7;
	const unsigned ping_after = 4, hangup_after = 9;
	idle_wheel_init(&w, ping_after, hangup_after, now);
	struct conn *c = calloc(N, sizeof *c);
	int64_t *last = calloc(N, sizeof *last);
	bool *pinged = calloc(N, sizeof *pinged), *gone = calloc(N, sizeof *gone);
	assert_non_null(c);
	assert_non_null(last);
	assert_non_null(pinged);
	assert_non_null(gone);
	for (int i = 0; i < N; i++) {
		c[i].w = &w;
		idle_wheel_add(&w, &c[i].e, now);
		last[i] = now;
	}
	uint32_t seed = 17;
	for (int step = 0; step < 400; step++) {
		now++;
		idle_wheel_advance(&w, now, on_report, &now);
		for (int i = 0; i < N; i++) {
			if (gone[i])
				continue;
			int64_t silent = now - last[i];
			if (silent >= hangup_after) {
				assert_int_equal(c[i].hangups, 1);
				assert_int_equal(c[i].hangup_at, now);
				gone[i] = true;
				continue;
			}
			assert_int_equal(c[i].hangups, 0);
			if (silent >= ping_after && !pinged[i]) {
				assert_int_equal(c[i].ping_at, now);
				pinged[i] = true;
			}
			/* a frame or a pong: often on even entries, seldom on odd */
			uint32_t r = xorshift(&seed);
			if (i % 2 ? r % 6 == 0 : r % 4 != 0) {
				idle_wheel_touch(&c[i].e, now);
				last[i] = now;
				pinged[i] = false;
			}
		}
	}
	size_t alive = 0;
	for (int i = 0; i < N; i++)
		alive += !gone[i];
	assert_int_equal(w.count, alive);
	assert_true(alive > 0 && alive < N);
	free(c);
	free(last);
	free(pinged);
	free(gone);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_silent_is_pinged_then_hung_up),
		cmocka_unit_test(test_touch_puts_off),
		cmocka_unit_test(test_late_pong),
		cmocka_unit_test(test_no_ping_when_hangup_first),
		cmocka_unit_test(test_longer_than_the_wheel),
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_add_while_timer_late),
		cmocka_unit_test(test_remove_from_callback),
		cmocka_unit_test(test_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
