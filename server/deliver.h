/* deliver.h — the last step of a request's life: its reply, its events and
 * its closes reach the output queues of the connections concerned.
 *
 * Contract:
 * - Owns the open peers (the transport-free half of a connection: session,
 *   output queue, close state), their user and device indexes
 *   (conn_index.h) and the queue limits (outq.h): a queue past its hard
 *   limit, or above its soft limit for the grace period, is dropped and its
 *   peer closed with 4008 ("slow consumer").
 * - Never touches the database and never calls libwebsockets: the network
 *   layer registers two hooks (ask to write a peer's queue out, bound how
 *   long a close may take) and writes the queues itself.
 * - Calls nothing above it (commit, dispatch, net). Service thread only
 *   (with service_threads above 1: the core thread); the one thing it
 *   shares with a network thread is a peer's output queue, used under
 *   p->qlock, never held while a hook runs.
 * - Effects given here are applied at once: commit.c gives them only after
 *   the batch that produced them is on disk. */
#ifndef LSN_DELIVER_H
#define LSN_DELIVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "effects.h"
#include "outq.h"
#include "result.h"
#include "session.h"

#define DELIVER_CLOSE_SLOW_CONSUMER 4008
#define DELIVER_CLOSE_TOO_MANY_UNAUTH 4029

struct client {
	struct client *prev, *next;      /* the open peers */
	struct session sess;
	struct outq q;
	pthread_mutex_t *qlock;          /* NULL: one service thread; else the lock of the network
					  * thread that writes q out, held around every use of q */
	bool closing;                  /* close once the queue is written out */
	int close_code;
	char close_reason[96];
	bool indexed;                  /* listed under its user and device */
	bool unauth_indexed;           /* listed under its address: not logged in, not closing */
	uint8_t addr_key[LSN_ID_BYTES]; /* its address (sess.peer) hashed, the key of that list */
	bool close_at_sweep;           /* muted (device revoked): close at the next sweep */
	int64_t soft_since_us;         /* queue above the soft limit since (monotonic); 0: below */
	/* kept by commit.c */
	unsigned pending;              /* replies held until the batch commits */
	size_t pending_bytes;          /* their bytes */
	unsigned deferred;             /* frames waiting for a commit */
	size_t deferred_bytes;
};

struct deliver_hooks {
	void (*want_write)(struct client *p);  /* write p's queue out when the socket allows */
	void (*closing)(struct client *p);     /* p is closing: bound how long that may take */
};

/* 0, or -1 when out of memory. cfg and hooks must outlive deliver_fini(). */
int deliver_init(const struct config *cfg, const struct deliver_hooks *hooks);
void deliver_fini(void);

/* A new peer (zeroed by the caller, its sess.peer address set): numbered,
 * listed, its queue set up with headroom spare bytes before each frame
 * (libwebsockets' LWS_PRE). */
void deliver_client_add(struct client *p, size_t headroom);
/* The peer is gone: off the indexes and the list, queue dropped, session
 * wiped. The caller frees it. */
void deliver_client_remove(struct client *p);
unsigned deliver_client_count(void);
/* Logged-in connections of user (all its devices). */
unsigned deliver_user_conn_count(const uint8_t user[LSN_ID_BYTES]);
/* Open connections from the remote address peer that are not logged in
 * (nor closing); an index lookup, not a walk (a reconnect storm of n
 * clients made the walk cost n²). */
unsigned deliver_unauth_count(const char *peer);

/* Keep the user/device indexes in step with p's login state. */
void deliver_reindex(struct client *p);
/* Queue a copy of frame for p (dropped when p is closing). */
void deliver_send(struct client *p, const char *frame, size_t len);
/* The same for a binary frame (an attachment chunk, PROTOCOL.md). */
void deliver_send_binary(struct client *p, const void *frame, size_t len);
/* Close p after what is queued is written, or at once with the queue
 * dropped. A second close is ignored. */
void deliver_close(struct client *p, int code, const char *reason, bool drop_queue);
/* Push events and close devices, through the indexes. */
void deliver_effects(struct effects *fx);
/* A result that needs no commit: reply, effects, close. res is left for
 * the caller to free. */
void deliver_result(struct client *p, struct dispatch_result *res);
/* Close every connection of device (an administrator revoked it from
 * another process); false when it has none. */
bool deliver_close_device(const uint8_t device[LSN_ID_BYTES], int code, const char *reason);
/* Take every connection of device off the index at once, so that no
 * further event reaches it, and close it at the next sweep: the replies
 * already owed to it (requests that reached the server before the
 * revocation) still go out. False when the device has no connection. */
bool deliver_mute_device(const uint8_t device[LSN_ID_BYTES], int code, const char *reason);
/* Frames of p were written and popped: the soft limit may be cleared. */
void deliver_written(struct client *p);
/* Periodic: close the peers whose queue stayed above the soft limit. */
void deliver_sweep(void);
/* Close every peer after its queue (shutdown). */
void deliver_close_all(int code, const char *reason);

#endif
