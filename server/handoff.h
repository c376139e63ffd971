/* handoff.h — what the network threads tell the core thread (service_threads
 * above 1, docs/ARCHITECTURE.md "Threads"): a connection opened, a frame
 * arrived on it, it closed. One list in arrival order under a mutex, and an
 * eventfd that wakes the core thread; the same eventfd is the core's wake-up
 * for the commit and sync threads and the stop signal.
 *
 * Contract:
 * - handoff_post() and handoff_wake() from any thread (handoff_wake() also
 *   from a signal handler); handoff_wait() and handoff_take() from the core
 *   thread only.
 * - A connection's messages keep the order they were posted in: "opened"
 *   first, "closed" last; after posting "closed" the network thread never
 *   touches that connection again, and the core frees it.
 * - Transport-free: a connection is an opaque pointer. Calls nothing above
 *   it (no libwebsockets, no database). */
#ifndef LSN_HANDOFF_H
#define LSN_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>

enum handoff_kind { HANDOFF_OPENED, HANDOFF_FRAME, HANDOFF_CLOSED };

struct handoff_msg {
	struct handoff_msg *next;
	enum handoff_kind kind;
	void *conn;
	bool binary;                 /* FRAME: a binary WebSocket frame */
	bool discard;                /* FRAME: larger than max_frame, its bytes dropped */
	size_t len;                  /* FRAME: payload bytes in data */
	char data[];                 /* FRAME: payload, then a NUL */
};

/* 0, or -1 when the eventfd cannot be made. */
int handoff_init(void);
/* Free what was never taken (the caller has freed the connections). */
void handoff_fini(void);

/* A message with room for len payload bytes (data[len] set to NUL), or NULL
 * when out of memory. */
struct handoff_msg *handoff_msg_new(enum handoff_kind kind, void *conn, size_t len);
/* Append m (taken over) and wake the core thread if the list was empty. */
void handoff_post(struct handoff_msg *m);
/* Wake the core thread (async-signal-safe). */
void handoff_wake(void);
/* Sleep until woken or timeout_ms (-1: no timeout) has passed. */
void handoff_wait(int timeout_ms);
/* Every posted message, oldest first (NULL: none); the caller frees each
 * with free(). */
struct handoff_msg *handoff_take(void);

#endif
