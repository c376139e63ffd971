/* commit.h — the write batch's life, from BEGIN to "on disk": the batch is
 * opened by the first writing request (BEGIN IMMEDIATE), each request runs
 * in its own savepoint (a failed one is undone alone), the batch is
 * committed a little later (group commit, commit_delay_us), and only once
 * it is durable are the held replies and effects given to deliver.c, in
 * arrival order.
 *
 * Contract:
 * - An acknowledgement means on disk: a reply of a request that ran in the
 *   batch, and every reply queued behind it on the same connection, is held
 *   until the batch is durable; a failed COMMIT (or a failed sync) turns
 *   the held successes into "storage" errors and closes their connections
 *   (1011). The replies held for one connection are bounded like its
 *   output queue (outq_max_bytes, outq_max_frames): past that it is closed
 *   (1008) and its held replies dropped, their effects kept.
 * - Pipelined (commit_pipeline = on, synchronous = full; the default): the
 *   service thread owns the database alone. It COMMITs with synchronous =
 *   NORMAL (the WAL written, not synced) and syncer.h's thread fdatasyncs
 *   the WAL; batches are numbered and released in order once a sync covers
 *   them. While a written batch waits for its sync every reply is held
 *   (even a read's: it could show the write), and one sync runs at a time:
 *   meanwhile the open batch stays open and executes what arrives, and is
 *   committed when that sync returns. commit_busy() is always false.
 * - Otherwise, one SQLite user at a time: the COMMIT (fsync) runs on the
 *   commit thread; from the hand-off until commit_reap() sees it finished,
 *   the commit thread owns the database and the service thread does not
 *   touch it (commit_busy() is true): frames that arrive meanwhile are kept
 *   in arrival order (commit_defer) and dispatched by commit_reap(); the
 *   timers wait.
 * - No libwebsockets: the network layer supplies hooks for its timer, its
 *   wake-up and for dispatching a kept frame. Calls down only: store.h,
 *   deliver.h. Every function but the commit thread's runs on the service
 *   thread. */
#ifndef LSN_COMMIT_H
#define LSN_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "deliver.h"
#include "effects.h"
#include "err.h"
#include "result.h"
#include "store.h"

struct commit_hooks {
	/* call commit_run() once, delay_us from now (one pending call at most) */
	void (*schedule)(int64_t delay_us);
	/* forget the scheduled call */
	void (*cancel)(void);
	/* from the commit or sync thread: have the service thread call
	 * commit_reap(false) */
	void (*wake)(void);
	/* dispatch a frame that waited for a commit (as if it had just arrived) */
	void (*run_frame)(struct client *p, const char *data, size_t len, bool discard, bool binary);
	/* once per committed batch, before its first event is delivered (NULL:
	 * none): the revocation watch, so that no event committed after an
	 * administrator's revocation reaches the revoked device */
	void (*before_events)(void);
};

/* Set up; with use_thread, start the sync thread (pipelined, see above)
 * or else the commit thread (if neither can start, commits run on the
 * service thread, logged). */
void commit_init(struct store *store, const struct config *cfg, const struct commit_hooks *hooks,
		 bool use_thread);
/* Stop the sync or commit thread (after commit_drain); pipelined, the
 * connection is set back to synchronous = FULL. */
void commit_fini(void);

/* A writing request begins: open the batch if none is open (BEGIN
 * IMMEDIATE), then the request's savepoint. */
enum lsn_err commit_req_begin(struct store *s);
/* The request ends: keep its writes, or undo them alone. */
void commit_req_end(struct store *s, bool keep);

/* The commit thread owns the database: touch nothing in the store. */
bool commit_busy(void);

/* The result of p's request: held until the batch is durable when it ran
 * in the batch or p already has replies held (replies keep their order)
 * or, pipelined, a written batch waits for its sync; else delivered at
 * once. Takes the reply and effects out of res; the
 * caller still frees res. */
void commit_result(struct client *p, struct dispatch_result *res);
/* Effects that belong to no request (the timers'): applied after commit. */
void commit_hold_effects(struct effects *fx);
/* fn(arg, committed) on the service thread once the open batch's COMMIT
 * has returned (committed: its writes are on disk; false: they were
 * rolled back). The mail outbox uses it to contact the relay only after
 * "sending" is on disk. false when it cannot be held (out of memory): the
 * caller then undoes its writes. */
bool commit_after(void (*fn)(void *arg, bool committed), void *arg);
/* While a commit is in flight (or p has frames waiting), keep p's frame for
 * later and return true (also when it is refused: p is then closing);
 * false: dispatch it now. */
bool commit_defer(struct client *p, const char *data, size_t len, bool discard, bool binary);

/* Commit the open batch now: hand it to the commit thread, or commit here. */
void commit_run(void);
/* If the commit in flight is done (wait: wait for it), release its replies,
 * dispatch the frames that waited and schedule the next commit if they
 * wrote. Pipelined: release the batches the syncs cover (wait: until all
 * written ones are), and schedule the commit that waited for the sync. */
void commit_reap(bool wait);
/* p is gone: forget it in the held replies and waiting frames. */
void commit_forget(struct client *p);
/* Shutdown: finish the commit in flight, then commit what is open on this
 * thread, and from now on every commit. */
void commit_drain(void);

#endif
