/* net.c — the only module that calls libwebsockets: the TLS context, the
 * liaison.v1 WebSocket protocol, /healthz and /metrics, per-connection output
 * queues, group-commit scheduling and graceful shutdown. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>
#if defined(LSN_HAVE_LIBEV)
#include <ev.h>
#endif

#include "case.h"
#include "clock.h"
#include "conn_index.h"
#include "dispatch.h"
#include "log.h"
#include "lsn_config.h"
#include "metrics.h"
#include "net.h"
#include "outq.h"
#include "wire.h"

#define CLOSE_SLOW_CONSUMER 4008
#define RX_KEEP_MAX         16384   /* rx buffers above this are freed between frames */
#define BATCH_MAX_BYTES     65536   /* a coalesced frame stays under this (unless one frame is larger) */
#define BATCH_MAX_FRAMES    256

struct conn {
	struct conn *prev, *next;
	struct lws *wsi;
	struct session sess;
	struct outq q;
	char *rx;
	size_t rx_len, rx_cap;
	bool rx_discard, rx_binary;
	unsigned pending;              /* replies held until the batch commits */
	bool closing;
	int close_code;
	char close_reason[96];
	bool indexed;                  /* listed under its user and device */
	lws_usec_t soft_since;         /* queue above the soft limit since then; 0: below */
	unsigned deferred;             /* frames of this connection waiting for a commit */
	size_t deferred_bytes;
};

/* A received frame kept while the commit thread owns the database. */
struct deferred {
	struct deferred *next;
	struct conn *conn;             /* NULL once the connection is gone */
	bool discard, binary;
	size_t len;
	char data[];
};

#define DEFERRED_MAX_BYTES (8u << 20) /* per connection, while one commit runs */

/* A reply (and its effects) held until the open batch commits. */
struct pending {
	struct pending *next;
	struct conn *conn;             /* NULL once the connection is gone */
	int64_t req_id;
	bool ok;
	char *frame;
	size_t len;
	struct effects effects;
	bool close_after;
	int close_code;
	char close_reason[96];
};

struct http_pss {
	unsigned char *body;           /* LWS_PRE headroom, then payload */
	size_t len;
};

static struct {
	struct lws_context *ctx;
	struct server_ctx srv;
	const struct config *cfg;
	lws_retry_bo_t retry;
	struct conn *conns;
	unsigned conn_count;
	struct conn_index *by_user, *by_device;
	uint64_t next_conn_id;
	struct pending *pend_head, **pend_tail;
	unsigned pend_count;
	lws_sorted_usec_list_t commit_sul;
	bool commit_scheduled;
	bool batch_failed;             /* rolled back: held replies become "storage" */
	/* the commit in flight on the commit thread, and what waits for it */
	bool commit_inflight, commit_again, sync_commits;
	struct pending *infl_head;
	unsigned infl_count;
	bool infl_failed;
	struct deferred *def_head, **def_tail;
	lws_sorted_usec_list_t timer_sul;
	lws_sorted_usec_list_t sweep_sul;
	int64_t data_version, data_version_at; /* external_revocations: last seen, when */
	unsigned char *batch_buf;      /* LWS_PRE, then a {"batch":[...]} payload */
	size_t batch_cap;
	volatile sig_atomic_t stop;
	bool stopping;
#if defined(LSN_HAVE_LIBEV)
	struct ev_loop *ev;            /* NULL: lws's own poll() loop */
#endif
} net;

/* ---- connections and their queues -------------------------------------- */

/* Close after what is already queued has been written (or at once, with the
 * queue dropped, for a slow consumer). */
static void
conn_close(struct conn *c, int code, const char *reason, bool drop_queue)
{
	if (c->closing)
		return;
	c->closing = true;
	c->close_code = code;
	snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
	if (drop_queue)
		outq_clear(&c->q);
	/* a peer that never reads must not hold the socket forever */
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, 5);
	lws_callback_on_writable(c->wsi);
}

static void
slow_consumer(struct conn *c, bool soft)
{
	metrics_outq_drop(soft);
	if (soft) {
		log_warn("conn %llu: output queue above %zu bytes for %u s (%zu bytes, %u frames); "
			 "disconnecting", (unsigned long long)c->sess.conn_id, net.cfg->outq_soft_bytes,
			 net.cfg->outq_soft_grace_s, c->q.bytes, c->q.frames);
		conn_close(c, CLOSE_SLOW_CONSUMER,
			   "slow consumer: output queue stayed above its soft limit, reconnect and resync",
			   true);
	} else {
		log_warn("conn %llu: output queue full (%zu bytes, %u frames); disconnecting",
			 (unsigned long long)c->sess.conn_id, c->q.bytes, c->q.frames);
		conn_close(c, CLOSE_SLOW_CONSUMER, "slow consumer: output queue full, reconnect and resync",
			   true);
	}
}

/* The soft limit: a queue may pass outq_soft_bytes for a burst, but one that
 * stays above it for outq_soft_grace_s belongs to a peer that is not reading
 * fast enough; it is dropped before it reaches the hard limit. Checked when
 * a frame is queued, when one is written and by the periodic timer. */
static void
soft_limit_check(struct conn *c, lws_usec_t now)
{
	if (c->closing)
		return;
	if (c->q.bytes <= net.cfg->outq_soft_bytes) {
		c->soft_since = 0;
		return;
	}
	if (c->soft_since == 0)
		c->soft_since = now;
	else if (now - c->soft_since >= (lws_usec_t)net.cfg->outq_soft_grace_s * LWS_US_PER_SEC)
		slow_consumer(c, true);
}

static void
conn_send(struct conn *c, const char *frame, size_t len)
{
	if (c->closing || frame == NULL)
		return;
	if (!outq_push(&c->q, frame, len)) {
		slow_consumer(c, false);
		return;
	}
	if (c->q.bytes > net.cfg->outq_soft_bytes)
		soft_limit_check(c, lws_now_usecs());
	/* No lws_rx_flow_control() to slow a peer that does not read: in lws
	 * 4.1 it can spin the service loop at 100% CPU on buffered rx
	 * (warmcat/libwebsockets#2360). The queue limits above are the
	 * policy instead: such a peer is dropped with 4008 and resyncs. */
	if (!c->closing)
		lws_callback_on_writable(c->wsi);
}

/* Keep the user/device indexes in step with the session's login state. */
static void
conn_reindex(struct conn *c)
{
	if (c->indexed == c->sess.logged_in)
		return;
	if (c->sess.logged_in) {
		/* out of memory: the connection just misses live events; it resyncs */
		if (conn_index_add(net.by_user, c->sess.user, c) == 0 &&
		    conn_index_add(net.by_device, c->sess.device, c) != 0)
			conn_index_remove(net.by_user, c->sess.user, c);
		else
			c->indexed = true;
	} else {
		conn_index_remove(net.by_user, c->sess.user, c);
		conn_index_remove(net.by_device, c->sess.device, c);
		c->indexed = false;
	}
}

static void
apply_effect(struct effect *e)
{
	size_t n = 0;
	const struct conn_index *ix = e->kind == EFFECT_EVENT_USER ? net.by_user : net.by_device;
	void *const *list = conn_index_get(ix, e->target, &n);
	if (e->kind != EFFECT_CLOSE_DEVICE) {
		for (size_t i = 0; i < n; i++)
			conn_send(list[i], e->frame, e->frame_len);
		return;
	}
	/* closing changes the index: take the connections off it one by one */
	while ((list = conn_index_get(ix, e->target, &n)) != NULL && n > 0) {
		struct conn *c = list[0];
		c->sess.logged_in = false;
		conn_reindex(c);
		conn_close(c, e->close_code, e->reason, false);
	}
}

static void
apply_effects(struct effects *fx)
{
	for (struct effect *e = fx->head; e; e = e->next)
		apply_effect(e);
}

/* ---- group commit ------------------------------------------------------- */

static void
pending_release(struct pending *p, bool committed)
{
	struct conn *c = p->conn;
	if (c)
		c->pending--;
	if (!committed && p->ok) {
		free(p->frame);
		p->frame = wire_encode_reply_err(p->req_id, LSN_ERR_STORAGE,
						 "the server could not commit this request; nothing "
						 "was stored; retry it with the same idem key",
						 &p->len);
		metrics_error(LSN_ERR_STORAGE);
	}
	if (c) {
		conn_send(c, p->frame, p->len);
		if (!committed)
			conn_close(c, 1011, "storage failure; reconnect and retry", false);
		else if (p->close_after)
			conn_close(c, p->close_code, p->close_reason, false);
	}
	if (committed)
		apply_effects(&p->effects);
	effects_free(&p->effects);
	free(p->frame);
	free(p);
}

/* The commit thread. COMMIT with synchronous=FULL waits for fsync; on the
 * service thread that wait stopped everything else (W2 in
 * docs/PERFORMANCE.md: the thread was ~30 % of its time in COMMIT at
 * saturation). Now the service thread hands the open batch to this thread
 * and goes on writing replies out and reading new frames while the disk
 * syncs. The database stays single-owner: while a commit is in flight the
 * service thread does not touch it (new frames are kept in arrival order
 * and dispatched when the commit is done), so SQLite sees one user at a
 * time and an acknowledgement still means "on disk". */
static struct {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool running, request, done, quit;
	enum lsn_err result;
	int64_t us;
} committer = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* COMMIT the open batch; *us: how long it took, fsync included. */
static enum lsn_err
timed_commit(int64_t *us)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	enum lsn_err err = store_batch_commit(net.srv.store);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*us = (t1.tv_sec - t0.tv_sec) * 1000000LL + (t1.tv_nsec - t0.tv_nsec) / 1000;
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
		lws_cancel_service(net.ctx);   /* wake the service thread: commit_reap */
		pthread_mutex_lock(&committer.mu);
	}
	pthread_mutex_unlock(&committer.mu);
	return NULL;
}

static void
committer_start(void)
{
	committer.request = committer.done = committer.quit = false;
	committer.running = pthread_create(&committer.thread, NULL, committer_main, NULL) == 0;
	if (!committer.running)
		log_warn("cannot start the commit thread; committing on the service thread");
}

static void
committer_stop(void)
{
	if (!committer.running)
		return;
	pthread_mutex_lock(&committer.mu);
	committer.quit = true;
	pthread_cond_broadcast(&committer.cv);
	pthread_mutex_unlock(&committer.mu);
	pthread_join(committer.thread, NULL);
	committer.running = false;
}

static void external_revocations(void);

/* Release the replies of a finished commit, in arrival order. Before the
 * first event of the batch goes out, the devices an administrator revoked
 * from another process are closed, so no event committed after the
 * revocation reaches them (the replies before it still do: the requests
 * reached the server first). */
static void
commit_finish(struct pending *p, unsigned count, bool ok, int64_t us)
{
	bool checked = false;
	metrics_commit(count, us, ok);
	if (!ok)
		log_error("group commit of %u requests failed; they were answered with \"storage\"",
			  count);
	while (p) {
		struct pending *next = p->next;
		if (ok && !checked && p->effects.head) {
			external_revocations();
			checked = true;
		}
		pending_release(p, ok);
		p = next;
	}
}

static void run_deferred(void);
static void schedule_commit(void);

/* On the service thread: if the commit thread is done, release its batch,
 * dispatch the frames that waited, and commit again if they wrote. */
static void
commit_reap(bool wait)
{
	if (!net.commit_inflight)
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
	struct pending *p = net.infl_head;
	unsigned count = net.infl_count;
	bool ok = result == LSN_OK && !net.infl_failed;
	net.infl_head = NULL;
	net.infl_count = 0;
	net.commit_inflight = false;
	commit_finish(p, count, ok, us);
	run_deferred();
	if (net.commit_again || net.pend_head || store_in_batch(net.srv.store)) {
		net.commit_again = false;
		schedule_commit();
	}
}

/* Commit the open batch, then release every held reply in arrival order
 * (on the commit thread when it runs, else here). */
static void
commit_now(void)
{
	net.commit_scheduled = false;
	lws_sul_cancel(&net.commit_sul);
	if (net.commit_inflight) {
		net.commit_again = true;
		return;
	}
	if (!store_in_batch(net.srv.store) && net.pend_head == NULL) {
		net.batch_failed = false;
		return;
	}
	struct pending *p = net.pend_head;
	unsigned count = net.pend_count;
	bool failed = net.batch_failed;
	net.pend_head = NULL;
	net.pend_tail = &net.pend_head;
	net.pend_count = 0;
	net.batch_failed = false;
	if (committer.running && !net.sync_commits && store_in_batch(net.srv.store)) {
		net.infl_head = p;
		net.infl_count = count;
		net.infl_failed = failed;
		net.commit_inflight = true;
		pthread_mutex_lock(&committer.mu);
		committer.request = true;
		pthread_cond_broadcast(&committer.cv);
		pthread_mutex_unlock(&committer.mu);
		return;
	}
	int64_t us = 0;
	bool ok = timed_commit(&us) == LSN_OK && !failed;
	commit_finish(p, count, ok, us);
}

static void
commit_cb(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	commit_now();
}

static void
schedule_commit(void)
{
	if (!net.commit_scheduled) {
		net.commit_scheduled = true;
		lws_sul_schedule(net.ctx, 0, &net.commit_sul, commit_cb,
				 (lws_usec_t)net.cfg->commit_delay_us);
	}
}

static void
hold_until_commit(struct conn *c, struct dispatch_result *res, int64_t req_id)
{
	struct pending *p = calloc(1, sizeof *p);
	if (p == NULL) {
		/* cannot hold the reply: fail the whole batch rather than answer
		 * early; the replies already held are answered "storage" */
		store_batch_rollback(net.srv.store);
		net.batch_failed = true;
		schedule_commit();
		conn_close(c, 1011, "server out of memory", true);
		dispatch_result_free(res);
		return;
	}
	p->conn = c;
	p->req_id = req_id;
	p->ok = res->err == LSN_OK;
	p->frame = res->reply;
	p->len = res->reply_len;
	res->reply = NULL;
	effects_init(&p->effects);
	effects_move(&p->effects, &res->effects);
	p->close_after = res->close_after;
	p->close_code = res->close_code;
	memcpy(p->close_reason, res->close_reason, sizeof p->close_reason);
	*net.pend_tail = p;
	net.pend_tail = &p->next;
	net.pend_count++;
	c->pending++;
	schedule_commit();
}

/* Effects that belong to no request (the timer's): applied after commit. */
static void
hold_effects(struct effects *fx)
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
	*net.pend_tail = p;
	net.pend_tail = &p->next;
	net.pend_count++;
	schedule_commit();
}

/* The deadline scan: steps due soon or overdue, unacknowledged notices.
 * Its writes join the group commit like any request's. */
static void
timer_cb(lws_sorted_usec_list_t *sul)
{
	struct effects fx;
	unsigned pushed = 0;
	if (net.commit_inflight) {     /* the database is the commit thread's: soon */
		lws_sul_schedule(net.ctx, 0, sul, timer_cb, 20 * LWS_US_PER_MS);
		return;
	}
	effects_init(&fx);
	if (!net.stopping && store_batch_begin(net.srv.store) == LSN_OK &&
	    store_req_begin(net.srv.store) == LSN_OK) {
		enum lsn_err err = case_tick(net.srv.store, net.cfg, &fx, lsn_clock_now_ms(), &pushed);
		store_req_end(net.srv.store, err == LSN_OK);
		if (err != LSN_OK)
			log_error("deadline scan failed (%s); it runs again in %u s", lsn_err_code(err),
				  net.cfg->timer_interval_s);
		if (pushed)
			log_info("deadline scan: %u notification(s)", pushed);
		hold_effects(&fx);
	}
	effects_free(&fx);
	lws_sul_schedule(net.ctx, 0, sul, timer_cb, (lws_usec_t)net.cfg->timer_interval_s * LWS_US_PER_SEC);
}

static void
close_revoked(const uint8_t id[LSN_ID_BYTES], void *arg)
{
	struct effect e = {.kind = EFFECT_CLOSE_DEVICE, .close_code = 1008};
	(void)arg;
	memcpy(e.target, id, LSN_ID_BYTES);
	snprintf(e.reason, sizeof e.reason, "device revoked");
	size_t n = 0;
	if (conn_index_get(net.by_device, id, &n) && n) {
		char hex[LSN_ID_HEX + 1];
		lsn_id_to_hex(id, hex);
		log_info("device %s was revoked by an administrator; closing its connections", hex);
		apply_effect(&e);
	}
}

/* An administrator's "liaisond revoke" runs in another process: when the
 * database changed from outside (PRAGMA data_version), close the
 * connections of devices revoked since the last look, so a revoked device
 * gets no further event (its next request would be refused anyway). */
static void
external_revocations(void)
{
	int64_t v = 0, now = lsn_clock_now_ms() - lsn_clock_offset_ms(); /* wall time */
	if (net.commit_inflight || store_in_batch(net.srv.store) ||
	    store_data_version(net.srv.store, &v) != LSN_OK || v == net.data_version)
		return;
	/* a minute of margin for the other process's clock and commit */
	store_devices_revoked_since(net.srv.store, net.data_version_at - 60000, close_revoked, NULL);
	net.data_version = v;
	net.data_version_at = now;
}

/* Once a second: drop the peers whose queue stayed above the soft limit
 * even though nothing new was queued for them; act on revocations made by
 * an administrator from another process. */
static void
soft_sweep_cb(lws_sorted_usec_list_t *sul)
{
	lws_usec_t now = lws_now_usecs();
	commit_reap(false);            /* a safety net, should a wake-up ever be missed */
	for (struct conn *c = net.conns; c; c = c->next)
		if (c->soft_since)
			soft_limit_check(c, now);
	external_revocations();
	lws_sul_schedule(net.ctx, 0, sul, soft_sweep_cb, LWS_US_PER_SEC);
}

/* Send a result now, or hold it while a batch is open (so nothing is told
 * to anyone before it is durable, and replies keep their order). */
static void
deliver(struct conn *c, struct dispatch_result *res, int64_t req_id)
{
	if (res->in_batch || c->pending) {
		hold_until_commit(c, res, req_id);
		return;
	}
	conn_send(c, res->reply, res->reply_len);
	apply_effects(&res->effects);
	if (res->close_after)
		conn_close(c, res->close_code, res->close_reason, false);
	dispatch_result_free(res);
}

/* ---- WebSocket protocol ------------------------------------------------- */

static void
conn_hello(struct conn *c)
{
	session_new_challenge(&c->sess);
	json_t *body = json_pack("{s:s, s:i, s:s, s:o, s:I}", "server", net.cfg->server_name,
				 "protocol", LSN_PROTOCOL_VERSION, "version", LSN_VERSION,
				 "challenge", wire_b64(c->sess.challenge, sizeof c->sess.challenge),
				 "max_frame", (json_int_t)net.cfg->max_frame);
	size_t len = 0;
	char *frame = wire_encode_event("hello", body, &len);
	conn_send(c, frame, len);
	free(frame);
}

static struct conn *
conn_new(struct lws *wsi)
{
	struct conn *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->wsi = wsi;
	c->sess.conn_id = ++net.next_conn_id;
	lws_get_peer_simple(wsi, c->sess.peer, sizeof c->sess.peer);
	outq_init(&c->q, LWS_PRE, net.cfg->outq_max_bytes, net.cfg->outq_max_frames);
	c->next = net.conns;
	if (net.conns)
		net.conns->prev = c;
	net.conns = c;
	net.conn_count++;
	metrics_conn_open();
	return c;
}

static void
conn_free(struct conn *c)
{
	if (c->pending) {
		for (struct pending *p = net.pend_head; p; p = p->next)
			if (p->conn == c)
				p->conn = NULL;
		for (struct pending *p = net.infl_head; p; p = p->next)
			if (p->conn == c)
				p->conn = NULL;
	}
	if (c->deferred)
		for (struct deferred *d = net.def_head; d; d = d->next)
			if (d->conn == c)
				d->conn = NULL;
	c->sess.logged_in = false;
	conn_reindex(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		net.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	net.conn_count--;
	metrics_conn_close();
	outq_clear(&c->q);
	free(c->rx);
	sodium_memzero(&c->sess, sizeof c->sess);
	free(c);
}

/* Append a fragment to the frame being received; past max_frame the rest
 * of the frame is discarded and answered with too_large. */
static void
rx_append(struct conn *c, const void *in, size_t len)
{
	if (c->rx_discard)
		return;
	if (len > net.cfg->max_frame - c->rx_len) {
		c->rx_discard = true;
		return;
	}
	if (c->rx_len + len + 1 > c->rx_cap) {
		size_t cap = c->rx_cap ? c->rx_cap : 4096;
		while (cap < c->rx_len + len + 1)
			cap *= 2;
		char *p = realloc(c->rx, cap);
		if (p == NULL) {
			c->rx_discard = true;
			return;
		}
		c->rx = p;
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
}

static void
frame_process(struct conn *c, const char *buf, size_t len, bool discard, bool binary)
{
	struct dispatch_result res;
	if (discard) {
		char msg[128];
		snprintf(msg, sizeof msg, "frame larger than %zu bytes; send large data in chunks",
			 net.cfg->max_frame);
		dispatch_error(LSN_ERR_TOO_LARGE, msg, &res);
	} else if (binary) {
		dispatch_error(LSN_ERR_BAD_JSON, "binary frames are not accepted; send JSON text frames",
			       &res);
	} else if (net.stopping) {
		dispatch_error(LSN_ERR_SHUTTING_DOWN, NULL, &res);
	} else {
		dispatch_frame(&net.srv, &c->sess, buf, len, &res);
		conn_reindex(c);   /* login, or a revoked device logged out */
	}
	deliver(c, &res, res.id);
}

/* While the commit thread owns the database, frames wait in arrival order
 * (a connection's later frames wait behind its earlier ones). */
static bool
frame_defer(struct conn *c)
{
	size_t len = c->rx_discard ? 0 : c->rx_len;
	if (c->deferred_bytes + len > DEFERRED_MAX_BYTES) {
		log_warn("conn %llu: more than %u bytes of requests during one commit; disconnecting",
			 (unsigned long long)c->sess.conn_id, DEFERRED_MAX_BYTES);
		conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION,
			   "too many requests in flight; wait for replies before sending more", true);
		return false;
	}
	struct deferred *d = malloc(sizeof *d + len + 1);
	if (d == NULL) {
		conn_close(c, 1011, "server out of memory", true);
		return false;
	}
	d->next = NULL;
	d->conn = c;
	d->discard = c->rx_discard;
	d->binary = c->rx_binary;
	d->len = len;
	memcpy(d->data, c->rx ? c->rx : "", len);
	d->data[len] = '\0';
	*net.def_tail = d;
	net.def_tail = &d->next;
	c->deferred++;
	c->deferred_bytes += len;
	return true;
}

static void
run_deferred(void)
{
	struct deferred *d = net.def_head;
	net.def_head = NULL;
	net.def_tail = &net.def_head;
	while (d) {
		struct deferred *next = d->next;
		struct conn *c = d->conn;
		if (c) {
			c->deferred--;
			c->deferred_bytes -= d->len;
			if (!c->closing)
				frame_process(c, d->data, d->len, d->discard, d->binary);
		}
		free(d);
		d = next;
	}
}

static void
rx_frame_done(struct conn *c)
{
	if (net.commit_inflight || c->deferred)
		frame_defer(c);
	else
		frame_process(c, c->rx, c->rx_len, c->rx_discard, c->rx_binary);
	c->rx_len = 0;
	c->rx_discard = false;
	c->rx_binary = false;
	if (c->rx_cap > RX_KEEP_MAX) {
		free(c->rx);
		c->rx = NULL;
		c->rx_cap = 0;
	}
}

/* Coalescing: when several frames wait for a client that opted in ("batch"
 * at login), they leave as one WebSocket frame {"batch":[F1,F2,...]} — one
 * TLS record and one write instead of one per frame. Each Fi is the frame's
 * JSON text as it would have been sent alone, so nothing is re-encoded.
 * Returns the number of queued frames packed (0: send the head alone). */
static unsigned
batch_pack(struct conn *c, size_t *out_len)
{
	static const char open[] = "{\"batch\":[", close[] = "]}";
	struct outq_frame *f = outq_peek(&c->q);
	if (!c->sess.batch || f == NULL || f->next == NULL)
		return 0;
	size_t len = sizeof open - 1;
	unsigned n = 0;
	for (; f && n < BATCH_MAX_FRAMES; f = f->next) {
		size_t add = f->len + (n ? 1 : 0);
		if (n >= 1 && len + add + sizeof close - 1 > BATCH_MAX_BYTES)
			break;
		len += add;
		n++;
	}
	if (n < 2)
		return 0;
	len += sizeof close - 1;
	if (LWS_PRE + len > net.batch_cap) {
		unsigned char *p = realloc(net.batch_buf, LWS_PRE + len);
		if (p == NULL)
			return 0;          /* out of memory: frames go one by one */
		net.batch_buf = p;
		net.batch_cap = LWS_PRE + len;
	}
	unsigned char *w = net.batch_buf + LWS_PRE;
	memcpy(w, open, sizeof open - 1);
	w += sizeof open - 1;
	f = outq_peek(&c->q);
	for (unsigned i = 0; i < n; i++, f = f->next) {
		if (i)
			*w++ = ',';
		memcpy(w, outq_payload(&c->q, f), f->len);
		w += f->len;
	}
	memcpy(w, close, sizeof close - 1);
	*out_len = len;
	return n;
}

static int
conn_writeable(struct conn *c)
{
	struct outq_frame *f = outq_peek(&c->q);
	if (f == NULL) {
		if (c->closing) {
			lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
					 (unsigned char *)c->close_reason, strlen(c->close_reason));
			return -1;
		}
		return 0;
	}
	size_t len = 0;
	unsigned packed = batch_pack(c, &len);
	unsigned char *payload = packed ? net.batch_buf + LWS_PRE : outq_payload(&c->q, f);
	if (!packed)
		len = f->len;
	int n = lws_write(c->wsi, payload, len, LWS_WRITE_TEXT);
	if (n < (int)len) {
		log_warn("conn %llu: write failed; closing", (unsigned long long)c->sess.conn_id);
		return -1;
	}
	if (packed)
		metrics_batch_out(packed);
	for (unsigned i = 0; i < (packed ? packed : 1); i++) {
		metrics_frame_out(outq_peek(&c->q)->len);
		outq_pop(&c->q);
	}
	if (c->soft_since && c->q.bytes <= net.cfg->outq_soft_bytes)
		c->soft_since = 0;
	if (outq_peek(&c->q) || c->closing)
		lws_callback_on_writable(c->wsi);
	return 0;
}

static int
ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct conn **slot = (struct conn **)user;
	struct conn *c = slot ? *slot : NULL;
	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		if (net.stopping || (*slot = conn_new(wsi)) == NULL)
			return -1;
		conn_hello(*slot);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (c == NULL || c->closing)
			return 0;
		if (lws_is_first_fragment(wsi))
			c->rx_binary = lws_frame_is_binary(wsi);
		rx_append(c, in, len);
		if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
			rx_frame_done(c);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return c ? conn_writeable(c) : 0;
	case LWS_CALLBACK_CLOSED:
		if (c) {
			conn_free(c);
			*slot = NULL;
		}
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		commit_reap(false);        /* the commit thread may be done */
		return 0;
	default:
		return 0;
	}
}

/* ---- HTTP: /healthz and /metrics --------------------------------------- */

static int
http_respond(struct lws *wsi, struct http_pss *pss, unsigned status, const char *type,
	     const char *body, size_t len)
{
	unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof hdr;
	pss->body = malloc(LWS_PRE + len + 1);
	if (pss->body == NULL)
		return -1;
	memcpy(pss->body + LWS_PRE, body, len);
	pss->len = len;
	if (lws_add_http_common_headers(wsi, status, type, (lws_filepos_t)len, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
					 (const unsigned char *)"no-store", 8, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int
http_request(struct lws *wsi, struct http_pss *pss, const char *path)
{
	if (strcmp(path, "/healthz") == 0)
		return http_respond(wsi, pss, HTTP_STATUS_OK, "text/plain", "ok\n", 3);
	if (strcmp(path, "/metrics") == 0) {
		size_t len = 0;
		char *text = metrics_render(&len);
		if (text == NULL)
			return -1;
		int rc = http_respond(wsi, pss, HTTP_STATUS_OK,
				      "text/plain; version=0.0.4; charset=utf-8", text, len);
		free(text);
		return rc;
	}
	static const char not_found[] = "not found: this server answers /healthz, /metrics "
					"and WebSocket (liaison.v1) on /\n";
	return http_respond(wsi, pss, HTTP_STATUS_NOT_FOUND, "text/plain", not_found,
			    sizeof not_found - 1);
}

static int
http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct http_pss *pss = user;
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return http_request(wsi, pss, (const char *)in);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (pss == NULL || pss->body == NULL)
			return 0;
		if (lws_write(wsi, pss->body + LWS_PRE, pss->len, LWS_WRITE_HTTP_FINAL) < (int)pss->len)
			return -1;
		free(pss->body);
		pss->body = NULL;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	case LWS_CALLBACK_CLOSED_HTTP:
		if (pss) {
			free(pss->body);
			pss->body = NULL;
		}
		return 0;
	case LWS_CALLBACK_ESTABLISHED:
		/* a WebSocket upgrade without the liaison.v1 subprotocol */
		return -1;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
	{"http", http_callback, sizeof(struct http_pss), 0, 0, NULL, 0},
	{LSN_PROTOCOL_NAME, ws_callback, sizeof(struct conn *), 4096, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- lifecycle ---------------------------------------------------------- */

static void
lws_log_emit(int level, const char *line)
{
	char copy[512];
	snprintf(copy, sizeof copy, "%s", line);
	size_t n = strlen(copy);
	while (n && (copy[n - 1] == '\n' || copy[n - 1] == '\r'))
		copy[--n] = '\0';
	log_msg(level == LLL_ERR ? LOG_WARN : LOG_DEBUG, "lws: %s", copy);
}

static void
on_signal(int sig)
{
	(void)sig;
	net.stop = 1;
	if (net.ctx)
		lws_cancel_service(net.ctx);
}

static enum lsn_err
check_readable(const char *what, const char *path, struct lsn_status *st)
{
	if (access(path, R_OK) == 0)
		return LSN_OK;
	return lsn_fail(st, LSN_ERR_NOT_FOUND,
			"cannot read the TLS %s %s; run certs/make-dev-certs.sh for development, "
			"or set tls_%s in liaisond.conf (see docs/OPERATIONS.md)",
			what, path, strcmp(what, "certificate") == 0 ? "cert" : "key");
}

/* lws 4.1's own loop calls poll() over every descriptor at each wake-up:
 * with thousands of connections that scan was a fifth of the server's time.
 * Where lws has its libev plugin, the server owns an epoll-backed libev loop
 * and lets lws join it (a "foreign" loop), so a wake-up costs what is ready,
 * not what is open. Without the plugin it falls back to poll(). */
static struct lws_context *
net_try_create(struct lws_context_creation_info *info, bool use_ev)
{
#if defined(LSN_HAVE_LIBEV)
	if (use_ev) {
		net.ev = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV);
		if (net.ev == NULL)
			return NULL;
		void *loops[1] = {net.ev};
		info->options |= LWS_SERVER_OPTION_LIBEV;
		info->foreign_loops = loops;
		struct lws_context *ctx = lws_create_context(info);
		info->options &= ~(uint64_t)LWS_SERVER_OPTION_LIBEV;
		info->foreign_loops = NULL;
		if (ctx == NULL) {
			ev_loop_destroy(net.ev);
			net.ev = NULL;
		}
		return ctx;
	}
#endif
	(void)use_ev;
	return lws_create_context(info);
}

static enum lsn_err
net_create(struct lsn_status *st)
{
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	net.retry.secs_since_valid_ping = (uint16_t)net.cfg->ping_after_s;
	net.retry.secs_since_valid_hangup = (uint16_t)net.cfg->hangup_after_s;
	info.port = net.cfg->port;
	info.iface = net.cfg->listen;
	info.protocols = protocols;
	info.vhost_name = net.cfg->server_name;
	info.ssl_cert_filepath = net.cfg->tls_cert;
	info.ssl_private_key_filepath = net.cfg->tls_key;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	/* lws binds an IPv4 literal to the wildcard address when IPv6 is on:
	 * keep IPv6 off for IPv4 listen addresses so 127.0.0.1 means loopback */
	if (strchr(net.cfg->listen, ':') == NULL)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	info.retry_and_idle_policy = &net.retry;
	info.count_threads = 1;
	info.timeout_secs = 20;
	bool use_ev = strcmp(net.cfg->event_loop, "poll") != 0;
	net.ctx = net_try_create(&info, use_ev);
	if (net.ctx == NULL && use_ev) {
		log_warn("the epoll event loop is not available (is libwebsockets-evlib-ev installed?); "
			 "using poll(), which costs more CPU with many connections");
		net.ctx = net_try_create(&info, false);
	}
	if (net.ctx == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL,
				"cannot start the TLS listener on %s:%d (port in use, bad certificate "
				"or key?); see the lines above", net.cfg->listen, net.cfg->port);
	return LSN_OK;
}

/* One turn of the event loop: wait for something, handle it. */
static int
net_service(void)
{
#if defined(LSN_HAVE_LIBEV)
	if (net.ev) {
		ev_run(net.ev, EVRUN_ONCE);
		return 0;
	}
#endif
	return lws_service(net.ctx, 0);
}

static const char *
net_loop_name(void)
{
#if defined(LSN_HAVE_LIBEV)
	if (net.ev)
		return "epoll (libev)";
#endif
	return "poll";
}

static void
net_destroy(void)
{
	lws_context_destroy(net.ctx);
	net.ctx = NULL;
#if defined(LSN_HAVE_LIBEV)
	if (net.ev) {
		ev_loop_destroy(net.ev);
		net.ev = NULL;
	}
#endif
}

/* lws_service() sleeps until the next event; while draining, this timer
 * wakes it often enough to notice the deadline. */
static void
drain_tick(lws_sorted_usec_list_t *sul)
{
	lws_sul_schedule(net.ctx, 0, sul, drain_tick, 50 * LWS_US_PER_MS);
}

/* Finish the transaction in flight, close every connection with a reason,
 * and give peers up to 3 s to receive it; the context destruction that
 * follows drops whoever is still there. */
static void
net_drain(void)
{
	lws_sorted_usec_list_t tick;
	memset(&tick, 0, sizeof tick);
	net.stopping = true;
	commit_reap(true);             /* the commit in flight, then what waited for it */
	net.sync_commits = true;
	commit_now();
	for (struct conn *c = net.conns; c; c = c->next)
		conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down", false);
	drain_tick(&tick);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	time_t deadline = now.tv_sec + 3;
	while (net.conns && now.tv_sec < deadline) {
		if (net_service() < 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
	}
	lws_sul_cancel(&tick);
	commit_now();
}

enum lsn_err
net_run(const struct config *cfg, struct store *store, struct lsn_status *st)
{
	memset(&net, 0, sizeof net);
	net.cfg = cfg;
	net.srv.store = store;
	net.srv.cfg = cfg;
	net.pend_tail = &net.pend_head;
	net.def_tail = &net.def_head;
	enum lsn_err err;
	if ((err = check_readable("certificate", cfg->tls_cert, st)) != LSN_OK ||
	    (err = check_readable("key", cfg->tls_key, st)) != LSN_OK)
		return err;
	if ((net.srv.rl = dispatch_ratelimit_new(cfg)) == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory (rate-limit tables)");
	lws_set_log_level(LLL_ERR | (cfg->log_level >= LOG_DEBUG ? LLL_WARN | LLL_NOTICE : 0),
			  lws_log_emit);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	net.by_user = conn_index_new();
	net.by_device = conn_index_new();
	if (net.by_user == NULL || net.by_device == NULL ||
	    (err = net_create(st)) != LSN_OK) {
		conn_index_free(net.by_user);
		conn_index_free(net.by_device);
		return net.by_user && net.by_device ? err : lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	}
	log_info("liaisond %s listening on wss://%s:%d (server name %s, synchronous=%s, %s loop)",
		 LSN_VERSION, cfg->listen, cfg->port, cfg->server_name,
		 cfg->synchronous == STORE_SYNC_FULL ? "full" : "normal", net_loop_name());
	committer_start();
	net.data_version_at = lsn_clock_now_ms() - lsn_clock_offset_ms();
	if (store_data_version(store, &net.data_version) != LSN_OK)
		net.data_version = -1;
	lws_sul_schedule(net.ctx, 0, &net.timer_sul, timer_cb, LWS_US_PER_SEC);
	lws_sul_schedule(net.ctx, 0, &net.sweep_sul, soft_sweep_cb, LWS_US_PER_SEC);
	while (!net.stop)
		if (net_service() < 0)
			break;
	lws_sul_cancel(&net.timer_sul);
	lws_sul_cancel(&net.sweep_sul);
	log_info("shutting down: committing and closing %u connections", net.conn_count);
	net_drain();
	committer_stop();
	net_destroy();
	conn_index_free(net.by_user);
	conn_index_free(net.by_device);
	ratelimit_free(net.srv.rl);
	net.srv.rl = NULL;
	free(net.batch_buf);
	log_info("stopped");
	return LSN_OK;
}
