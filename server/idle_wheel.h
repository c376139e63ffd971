/* idle_wheel.h — the idle policy of WebSocket connections (ping_after,
 * hangup_after in liaisond.conf) kept in a coarse timer wheel: 1-second
 * slots, a connection re-slotted lazily.
 *
 * Contract: pure (no clock, no libwebsockets, no allocation): the caller
 * gives the time in whole seconds of a monotonic clock, embeds one struct
 * idle_entry per connection, and calls idle_wheel_advance from a timer
 * about once a second. A frame or a pong received costs idle_wheel_touch:
 * two stores, no list operation; an entry moves only when its slot comes
 * up. A connection silent for ping_after seconds is reported once with
 * IDLE_PING (ping it); one silent for hangup_after seconds — no frame and
 * no pong since the last touch — is unlinked and reported with
 * IDLE_HANGUP (close it). When ping_after >= hangup_after no ping is
 * reported, only the hang-up. Times are whole seconds, so a report may
 * come up to one second early and, with a 1 s driving timer, up to one
 * second late; adds and touches take the caller's current second, not the
 * last advance's, so a late timer (a busy or stalled loop) never makes a
 * new connection look silent. Single-threaded: every call on the same
 * thread. */
#ifndef LSN_IDLE_WHEEL_H
#define LSN_IDLE_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDLE_WHEEL_SLOTS 64         /* a power of two; longer deadlines go round again */

struct idle_entry {
	struct idle_entry *prev, *next; /* in a slot's list; NULL when not linked */
	int64_t last;                   /* second of the last frame or pong */
	bool pinged;                    /* a ping was reported since then */
	bool linked;
};

struct idle_wheel {
	struct idle_entry slot[IDLE_WHEEL_SLOTS]; /* list heads (circular) */
	int64_t now;                    /* the second of the last advance */
	unsigned ping_after, hangup_after;
	size_t count;                   /* linked entries */
};

enum idle_action { IDLE_PING, IDLE_HANGUP };

/* Seconds: ping_after and hangup_after of at least 1. */
void idle_wheel_init(struct idle_wheel *w, unsigned ping_after, unsigned hangup_after,
		     int64_t now);
/* A new connection, silent from second now. */
void idle_wheel_add(struct idle_wheel *w, struct idle_entry *e, int64_t now);
/* Take e off the wheel; nothing when it is not on it (already hung up). */
void idle_wheel_remove(struct idle_wheel *w, struct idle_entry *e);
/* A frame or a pong arrived on e's connection at second now. */
static inline void
idle_wheel_touch(struct idle_entry *e, int64_t now)
{
	e->last = now;
	e->pinged = false;
}
/* Move to second now (never backwards) and report, through fn, each entry
 * whose deadline has come in the slots passed. fn may call
 * idle_wheel_remove on the entry it is given (a hung-up entry is already
 * off the wheel) but on no other. Returns the number of reports. */
size_t idle_wheel_advance(struct idle_wheel *w, int64_t now,
			  void (*fn)(struct idle_entry *e, enum idle_action a, void *arg),
			  void *arg);

#endif
