/* idle_wheel.c — the coarse timer wheel of idle_wheel.h. An entry sits in
 * the slot of the second of its next deadline (modulo the wheel's size):
 * last + ping_after before the ping, last + hangup_after after it. A touch
 * only moves last; when the slot comes up the entry is looked at again and
 * either reported or put in the slot of its new deadline. After a ping it
 * comes up ping_after later too (if sooner than the hang-up), since a pong
 * — a touch — makes the next ping due from then. */
#include "idle_wheel.h"

static void
list_init(struct idle_entry *head)
{
	head->prev = head->next = head;
}

static void
unlink_entry(struct idle_entry *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->prev = e->next = NULL;
}

static void
link_tail(struct idle_entry *head, struct idle_entry *e)
{
	e->prev = head->prev;
	e->next = head;
	head->prev->next = e;
	head->prev = e;
}

static bool
pings(const struct idle_wheel *w)
{
	return w->ping_after < w->hangup_after;
}

/* The second of e's next deadline. */
static int64_t
deadline(const struct idle_wheel *w, const struct idle_entry *e)
{
	return e->last + (int64_t)(pings(w) && !e->pinged ? w->ping_after : w->hangup_after);
}

static void
slot_in(struct idle_wheel *w, struct idle_entry *e, int64_t due)
{
	if (due <= w->now)              /* never in a slot already passed */
		due = w->now + 1;
	link_tail(&w->slot[(uint64_t)due & (IDLE_WHEEL_SLOTS - 1)], e);
}

void
idle_wheel_init(struct idle_wheel *w, unsigned ping_after, unsigned hangup_after, int64_t now)
{
	for (size_t i = 0; i < IDLE_WHEEL_SLOTS; i++)
		list_init(&w->slot[i]);
	w->now = now;
	w->ping_after = ping_after ? ping_after : 1;
	w->hangup_after = hangup_after ? hangup_after : 1;
	w->count = 0;
}

void
idle_wheel_add(struct idle_wheel *w, struct idle_entry *e, int64_t now)
{
	e->last = now;
	e->pinged = false;
	e->linked = true;
	slot_in(w, e, deadline(w, e));
	w->count++;
}

void
idle_wheel_remove(struct idle_wheel *w, struct idle_entry *e)
{
	if (!e->linked)
		return;
	unlink_entry(e);
	e->linked = false;
	w->count--;
}

/* Look at every entry of one slot at second w->now. The slot's list is
 * moved aside first, so an entry put back in the same slot (its deadline a
 * whole turn later) is not seen twice. */
static size_t
visit(struct idle_wheel *w, struct idle_entry *head,
      void (*fn)(struct idle_entry *e, enum idle_action a, void *arg), void *arg)
{
	struct idle_entry todo;
	size_t reports = 0;
	if (head->next == head)
		return 0;
	todo.next = head->next;
	todo.prev = head->prev;
	todo.next->prev = &todo;
	todo.prev->next = &todo;
	list_init(head);
	while (todo.next != &todo) {
		struct idle_entry *e = todo.next;
		unlink_entry(e);
		int64_t silent = w->now - e->last;
		if (silent >= (int64_t)w->hangup_after) {
			e->linked = false;
			w->count--;
			reports++;
			fn(e, IDLE_HANGUP, arg);
		} else if (pings(w) && !e->pinged && silent >= (int64_t)w->ping_after) {
			/* back at the hang-up, or sooner if a pong comes: the
			 * next ping is then due ping_after after it */
			e->pinged = true;
			int64_t due = deadline(w, e), again = w->now + (int64_t)w->ping_after;
			slot_in(w, e, again < due ? again : due);
			reports++;
			fn(e, IDLE_PING, arg);
		} else {
			slot_in(w, e, deadline(w, e));
		}
	}
	return reports;
}

size_t
idle_wheel_advance(struct idle_wheel *w, int64_t now,
		   void (*fn)(struct idle_entry *e, enum idle_action a, void *arg), void *arg)
{
	if (now <= w->now)
		return 0;
	int64_t from = w->now + 1;
	if (now - from >= IDLE_WHEEL_SLOTS)   /* a long stall: every slot once */
		from = now - IDLE_WHEEL_SLOTS + 1;
	w->now = now;
	size_t reports = 0;
	for (int64_t t = from; t <= now; t++)
		reports += visit(w, &w->slot[(uint64_t)t & (IDLE_WHEEL_SLOTS - 1)], fn, arg);
	return reports;
}
