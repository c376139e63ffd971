/* commit.c — the write batch's life: BEGIN, savepoints, group COMMIT
 * (pipelined: written here, synced by syncer.c; or whole on the commit
 * thread), held replies and the frames that wait for it (commit.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commit.h"
#include "log.h"
#include "metrics.h"
#include "syncer.h"
#include "wire.h"

#define DEFERRED_MAX_BYTES (8u << 20) /* per connection, while one commit runs */
#define CLOSE_POLICY 1008

/* A received frame kept while the commit thread owns the database. */
struct deferred {
	struct deferred *next;
	struct client *peer;             /* NULL once the connection is gone */
	bool discard, binary;
	size_t len;
	char data[];
};

/* A reply (and its effects) held until the open batch commits. */
struct pending {
	struct pending *next;
	struct client *peer;             /* NULL once the connection is gone; NULL for the timers' */
	int64_t req_id;
	bool ok;
	char *frame;
	size_t len;
	size_t held;                     /* counted in peer->pending_bytes */
	bool binary;                     /* frame is a binary chunk frame */
	struct effects effects;
	bool close_after;
	int close_code;
	char close_reason[96];
	void (*after)(void *arg, bool committed); /* commit_after's call, or NULL */
	void *after_arg;
};

/* Pipelined: a batch whose COMMIT returned (or failed), waiting for the
 * sync that covers it; released in order. */
struct written {
	struct written *next;
	uint64_t seq;                    /* the last batch committed up to it */
	bool ok;                         /* false: rolled back */
	struct pending *head;
	unsigned count;
	int64_t t0;                      /* when its COMMIT began (metrics) */
};

static struct {
	struct store *store;
	const struct config *cfg;
	struct commit_hooks hooks;
	struct pending *pend_head, **pend_tail;
	unsigned pend_count;
	bool scheduled;
	bool batch_failed;             /* rolled back: held replies become "storage" */
	/* the commit in flight on the commit thread, and what waits for it */
	bool inflight, again, sync_commits;
	struct pending *infl_head;
	unsigned infl_count;
	bool infl_failed;
	struct deferred *def_head, **def_tail;
	/* pipelined: batches written, waiting for their sync, in order */
	bool pipeline;
	uint64_t committed;            /* batches whose COMMIT returned */
	struct written *wr_head, **wr_tail;
} cm = {.pend_tail = &cm.pend_head, .def_tail = &cm.def_head, .wr_tail = &cm.wr_head};

/* ---- the request's savepoint in the open batch ------------------------- */

enum lsn_err
commit_req_begin(struct store *s)
{
	if (store_batch_begin(s) != LSN_OK || store_req_begin(s) != LSN_OK)
		return LSN_ERR_STORAGE;
	return LSN_OK;
}

void
commit_req_end(struct store *s, bool keep)
{
	store_req_end(s, keep);
}

/* ---- the commit thread --------------------------------------------------- */

/* COMMIT with synchronous=FULL waits for fsync; on the service thread that
 * wait stopped everything else (W2 in docs/PERFORMANCE.md: the thread was
 * ~30 % of its time in COMMIT at saturation). Now the service thread hands
 * the open batch to this thread and goes on writing replies out and reading
 * new frames while the disk syncs. The database stays single-owner: while a
 * commit is in flight the service thread does not touch it (new frames are
 * kept in arrival order and dispatched when the commit is done), so SQLite
 * sees one user at a time and an acknowledgement still means "on disk". */
static struct {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool running, request, done, quit;
	enum lsn_err result;
	int64_t us;
} committer = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* COMMIT the open batch; *us: how long it took, fsync included. */
static int64_t
now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

static enum lsn_err
timed_commit(int64_t *us)
{
	int64_t t0 = now_us();
	enum lsn_err err = store_batch_commit(cm.store);
	*us = now_us() - t0;
	return err;
}

static void *
committer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&committer.mu);
	for (;;) {
		while (!committer.request && !committer.quit)
			pthread_cond_wait(&committer.cv, &committer.mu);
		if (committer.quit)
			break;
		committer.request = false;
		pthread_mutex_unlock(&committer.mu);
		int64_t us = 0;
		enum lsn_err err = timed_commit(&us);
		pthread_mutex_lock(&committer.mu);
		committer.result = err;
		committer.us = us;
		committer.done = true;
		pthread_cond_broadcast(&committer.cv);
		pthread_mutex_unlock(&committer.mu);
		cm.hooks.wake();               /* the service thread: commit_reap */
		pthread_mutex_lock(&committer.mu);
	}
	pthread_mutex_unlock(&committer.mu);
	return NULL;
}

void
commit_init(struct store *store, const struct config *cfg, const struct commit_hooks *hooks,
	    bool use_thread)
{
	memset(&cm, 0, sizeof cm);
	cm.store = store;
	cm.cfg = cfg;
	cm.hooks = *hooks;
	cm.pend_tail = &cm.pend_head;
	cm.def_tail = &cm.def_head;
	cm.wr_tail = &cm.wr_head;
	committer.request = committer.done = committer.quit = false;
	committer.running = false;
	if (use_thread && cfg->commit_pipeline && cfg->synchronous == STORE_SYNC_FULL) {
		/* the sync thread first, then COMMIT without its own sync: never
		 * a moment when a COMMIT neither syncs nor is followed by a sync */
		char wal[4096];
		if (store_wal_path(store, wal, sizeof wal) == LSN_OK &&
		    syncer_start(wal, hooks->wake)) {
			if (store_set_sync(store, STORE_SYNC_NORMAL) == LSN_OK) {
				cm.pipeline = true;
				log_info("commit: pipelined (COMMIT writes the WAL; a sync thread "
					 "syncs it before replies go out)");
				return;
			}
			syncer_stop();
		}
		log_warn("cannot start the pipelined commit; committing on the commit thread");
	}
	committer.running = use_thread &&
			    pthread_create(&committer.thread, NULL, committer_main, NULL) == 0;
	if (use_thread && !committer.running)
		log_warn("cannot start the commit thread; committing on the service thread");
}

void
commit_fini(void)
{
	if (cm.pipeline) {
		syncer_stop();
		/* back to syncing COMMITs for whatever runs after */
		store_set_sync(cm.store, STORE_SYNC_FULL);
		cm.pipeline = false;
	}
	if (!committer.running)
		return;
	pthread_mutex_lock(&committer.mu);
	committer.quit = true;
	pthread_cond_broadcast(&committer.cv);
	pthread_mutex_unlock(&committer.mu);
	pthread_join(committer.thread, NULL);
	committer.running = false;
}

bool
commit_busy(void)
{
	return cm.inflight;
}

/* ---- held replies --------------------------------------------------------- */

static void
pending_release(struct pending *p, bool committed, bool unsynced)
{
	struct client *c = p->peer;
	if (c) {
		c->pending--;
		c->pending_bytes -= p->held;
	}
	if (!committed && p->ok) {
		free(p->frame);
		p->binary = false;
		p->frame = wire_encode_reply_err(p->req_id, LSN_ERR_STORAGE,
						 unsynced ? "the server could not make this request "
							    "durable; retry it with the same idem key"
							  : "the server could not commit this request; nothing "
							    "was stored; retry it with the same idem key",
						 &p->len);
		metrics_error(LSN_ERR_STORAGE);
	}
	if (c) {
		if (p->binary)
			deliver_send_binary(c, p->frame, p->len);
		else
			deliver_send(c, p->frame, p->len);
		if (!committed)
			deliver_close(c, 1011, "storage failure; reconnect and retry", false);
		else if (p->close_after)
			deliver_close(c, p->close_code, p->close_reason, false);
	}
	if (committed)
		deliver_effects(&p->effects);
	if (p->after)
		p->after(p->after_arg, committed);
	effects_free(&p->effects);
	free(p->frame);
	free(p);
}

/* Release the replies of a finished commit, in arrival order. Before the
 * first event of the batch goes out, the before_events hook runs (the
 * revocation watch): no event committed after a revocation reaches the
 * revoked device, while the replies before it still go out (their requests
 * reached the server first). */
static void
commit_finish(struct pending *p, unsigned count, bool ok, int64_t us, bool unsynced)
{
	bool checked = false;
	metrics_commit(count, us, ok);
	if (!ok)
		log_error("group commit of %u requests failed%s; they were answered with \"storage\"",
			  count, unsynced ? " (the WAL could not be synced)" : "");
	while (p) {
		struct pending *next = p->next;
		if (ok && !checked && p->effects.head && cm.hooks.before_events) {
			cm.hooks.before_events();
			checked = true;
		}
		pending_release(p, ok, unsynced);
		p = next;
	}
}

static void
schedule_commit(void)
{
	if (!cm.scheduled) {
		cm.scheduled = true;
		cm.hooks.schedule((int64_t)cm.cfg->commit_delay_us);
	}
}

static void
pending_append(struct pending *p)
{
	*cm.pend_tail = p;
	cm.pend_tail = &p->next;
	cm.pend_count++;
}

/* The replies held for one connection are bounded as its output queue is
 * (outq_max_bytes, outq_max_frames): released together they would pass its
 * hard limit anyway. Past it — a client that keeps sending while a slow
 * disk holds every reply (pipelined: a long sync) — the connection is
 * closed: its requests stop, the held replies are dropped when released
 * (the client retries with the same idem keys), their effects still go
 * out once durable. */
static void
held_bound(struct client *c)
{
	if (c->closing || (c->pending_bytes <= cm.cfg->outq_max_bytes &&
			   c->pending <= cm.cfg->outq_max_frames))
		return;
	log_warn("conn %llu: %u replies (%zu bytes) waiting for the disk; disconnecting",
		 (unsigned long long)c->sess.conn_id, c->pending, c->pending_bytes);
	deliver_close(c, CLOSE_POLICY,
		      "too many requests waiting for the disk; wait for replies before sending more",
		      true);
}

static void
hold_until_commit(struct client *c, struct dispatch_result *res)
{
	struct pending *p = calloc(1, sizeof *p);
	if (p == NULL) {
		/* cannot hold the reply: fail the whole batch rather than answer
		 * early; the replies already held are answered "storage" */
		store_batch_rollback(cm.store);
		cm.batch_failed = true;
		schedule_commit();
		deliver_close(c, 1011, "server out of memory", true);
		return;
	}
	p->peer = c;
	p->req_id = res->id;
	p->ok = res->err == LSN_OK;
	p->frame = res->reply;
	p->len = res->reply_len;
	p->binary = res->reply_binary;
	res->reply = NULL;
	effects_init(&p->effects);
	effects_move(&p->effects, &res->effects);
	p->close_after = res->close_after;
	p->close_code = res->close_code;
	memcpy(p->close_reason, res->close_reason, sizeof p->close_reason);
	pending_append(p);
	c->pending++;
	p->held = p->len;
	c->pending_bytes += p->held;
	schedule_commit();
	held_bound(c);
}

/* Send a result now, or hold it while a batch is open (so nothing is told
 * to anyone before it is durable, and replies keep their order). */
void
commit_result(struct client *c, struct dispatch_result *res)
{
	if (res->in_batch || c->pending || cm.wr_head)
		hold_until_commit(c, res);
	else
		deliver_result(c, res);
}

void
commit_hold_effects(struct effects *fx)
{
	if (fx->head == NULL) {   /* nothing to push: the batch still commits */
		schedule_commit();
		return;
	}
	struct pending *p = calloc(1, sizeof *p);
	if (p == NULL) {
		effects_free(fx);
		return;
	}
	p->ok = true;
	effects_init(&p->effects);
	effects_move(&p->effects, fx);
	pending_append(p);
	schedule_commit();
}

bool
commit_after(void (*fn)(void *arg, bool committed), void *arg)
{
	struct pending *p = calloc(1, sizeof *p);
	if (p == NULL)
		return false;
	p->ok = true;
	effects_init(&p->effects);
	p->after = fn;
	p->after_arg = arg;
	pending_append(p);
	schedule_commit();
	return true;
}

/* ---- frames that wait for the commit ------------------------------------ */

/* While the commit thread owns the database, frames wait in arrival order
 * (a connection's later frames wait behind its earlier ones). */
bool
commit_defer(struct client *c, const char *data, size_t len, bool discard, bool binary)
{
	if (!cm.inflight && !c->deferred)
		return false;
	if (discard)
		len = 0;
	if (c->deferred_bytes + len > DEFERRED_MAX_BYTES) {
		log_warn("conn %llu: more than %u bytes of requests during one commit; disconnecting",
			 (unsigned long long)c->sess.conn_id, DEFERRED_MAX_BYTES);
		deliver_close(c, CLOSE_POLICY,
			      "too many requests in flight; wait for replies before sending more", true);
		return true;
	}
	struct deferred *d = malloc(sizeof *d + len + 1);
	if (d == NULL) {
		deliver_close(c, 1011, "server out of memory", true);
		return true;
	}
	d->next = NULL;
	d->peer = c;
	d->discard = discard;
	d->binary = binary;
	d->len = len;
	memcpy(d->data, data ? data : "", len);
	d->data[len] = '\0';
	*cm.def_tail = d;
	cm.def_tail = &d->next;
	c->deferred++;
	c->deferred_bytes += len;
	return true;
}

static void
run_deferred(void)
{
	struct deferred *d = cm.def_head;
	cm.def_head = NULL;
	cm.def_tail = &cm.def_head;
	while (d) {
		struct deferred *next = d->next;
		struct client *c = d->peer;
		if (c) {
			c->deferred--;
			c->deferred_bytes -= d->len;
			if (!c->closing)
				cm.hooks.run_frame(c, d->data, d->len, d->discard, d->binary);
		}
		free(d);
		d = next;
	}
}

/* ---- pipelined: COMMIT here, sync on the sync thread ---------------------- */

/* Release, in order, the written batches the syncs cover: a batch is
 * released once every batch committed up to it is on disk (or at once,
 * answered "storage", when it failed and the batches before it are out). */
static void
release_written(void)
{
	bool sync_failed = false;
	uint64_t covered = syncer_covered(&sync_failed);
	while (cm.wr_head) {
		struct written *w = cm.wr_head;
		bool unsynced = w->seq > covered;
		if (unsynced && !sync_failed)
			break;
		cm.wr_head = w->next;
		if (cm.wr_head == NULL)
			cm.wr_tail = &cm.wr_head;
		commit_finish(w->head, w->count, w->ok && !unsynced, now_us() - w->t0,
			      w->ok && unsynced);
		free(w);
	}
}

/* A sync is running for batches already written (and has not failed). */
static bool
sync_in_flight(void)
{
	bool failed = false;
	return syncer_covered(&failed) < cm.committed && !failed;
}

/* COMMIT the open batch on this thread (synchronous = NORMAL: the WAL is
 * written, not synced) and queue its replies until the sync thread has
 * covered it. Held replies of no batch wait for the batches before them. */
static void
pipeline_commit(struct pending *p, unsigned count, bool failed)
{
	struct written *w = calloc(1, sizeof *w);
	if (w == NULL) {
		/* cannot queue the replies: roll the batch back, answer "storage"
		 * (but never before the batches ahead of them) */
		store_batch_rollback(cm.store);
		syncer_wait(cm.committed);
		release_written();
		commit_finish(p, count, false, 0, false);
		return;
	}
	w->t0 = now_us();
	w->ok = !failed;
	if (store_in_batch(cm.store)) {
		if (store_batch_commit(cm.store) != LSN_OK) {
			w->ok = false;
		} else {               /* synced even when answered "storage" */
			cm.committed++;
			syncer_request(cm.committed);
		}
	}
	w->seq = cm.committed;
	w->head = p;
	w->count = count;
	*cm.wr_tail = w;
	cm.wr_tail = &w->next;
	release_written();
}

/* ---- commit and reap ------------------------------------------------------ */

void
commit_reap(bool wait)
{
	if (cm.pipeline) {
		if (wait)
			syncer_wait(cm.committed);
		release_written();
		/* the sync is done: the batch that grew meanwhile commits now */
		if (cm.again && !sync_in_flight()) {
			cm.again = false;
			schedule_commit();
		}
		return;
	}
	if (!cm.inflight)
		return;
	pthread_mutex_lock(&committer.mu);
	while (wait && !committer.done)
		pthread_cond_wait(&committer.cv, &committer.mu);
	bool done = committer.done;
	committer.done = false;
	enum lsn_err result = committer.result;
	int64_t us = committer.us;
	pthread_mutex_unlock(&committer.mu);
	if (!done)
		return;
	struct pending *p = cm.infl_head;
	unsigned count = cm.infl_count;
	bool ok = result == LSN_OK && !cm.infl_failed;
	cm.infl_head = NULL;
	cm.infl_count = 0;
	cm.inflight = false;
	commit_finish(p, count, ok, us, false);
	run_deferred();
	if (cm.again || cm.pend_head || store_in_batch(cm.store)) {
		cm.again = false;
		schedule_commit();
	}
}

/* Commit the open batch, then release every held reply in arrival order
 * (on the commit thread when it runs, else here). */
void
commit_run(void)
{
	cm.scheduled = false;
	cm.hooks.cancel();
	if (cm.inflight) {
		cm.again = true;
		return;
	}
	/* Pipelined: one sync at a time. While it runs, the open batch stays
	 * open and takes the requests that arrive (they execute now); it is
	 * committed, and its own sync begins, as soon as that sync is done.
	 * Committing at every turn of the loop instead made many small
	 * transactions: more WAL written per request, longer syncs, more
	 * checkpoints (docs/PERFORMANCE.md, "Issue 17 item 2"). */
	if (cm.pipeline && !cm.sync_commits && sync_in_flight()) {
		cm.again = true;
		return;
	}
	if (!store_in_batch(cm.store) && cm.pend_head == NULL) {
		cm.batch_failed = false;
		return;
	}
	struct pending *p = cm.pend_head;
	unsigned count = cm.pend_count;
	bool failed = cm.batch_failed;
	cm.pend_head = NULL;
	cm.pend_tail = &cm.pend_head;
	cm.pend_count = 0;
	cm.batch_failed = false;
	if (cm.pipeline) {
		pipeline_commit(p, count, failed);
		if (cm.sync_commits)
			commit_reap(true);
		return;
	}
	if (committer.running && !cm.sync_commits && store_in_batch(cm.store)) {
		cm.infl_head = p;
		cm.infl_count = count;
		cm.infl_failed = failed;
		cm.inflight = true;
		pthread_mutex_lock(&committer.mu);
		committer.request = true;
		pthread_cond_broadcast(&committer.cv);
		pthread_mutex_unlock(&committer.mu);
		return;
	}
	int64_t us = 0;
	bool ok = timed_commit(&us) == LSN_OK && !failed;
	commit_finish(p, count, ok, us, false);
}

void
commit_forget(struct client *c)
{
	if (c->pending) {
		for (struct pending *p = cm.pend_head; p; p = p->next)
			if (p->peer == c)
				p->peer = NULL;
		for (struct pending *p = cm.infl_head; p; p = p->next)
			if (p->peer == c)
				p->peer = NULL;
		for (struct written *w = cm.wr_head; w; w = w->next)
			for (struct pending *p = w->head; p; p = p->next)
				if (p->peer == c)
					p->peer = NULL;
	}
	if (c->deferred)
		for (struct deferred *d = cm.def_head; d; d = d->next)
			if (d->peer == c)
				d->peer = NULL;
}

void
commit_drain(void)
{
	commit_reap(true);             /* the commit in flight, then what waited for it */
	cm.sync_commits = true;
	commit_run();
	commit_reap(true);             /* pipelined: every written batch synced and released */
}
