/* net.c — the only module that calls libwebsockets: the TLS context and
 * its event loop, the liaison.v1 WebSocket protocol (a connection opens,
 * frames arrive, queued frames are written when the socket is writable,
 * it closes), HTTP /healthz, /metrics and the browser client's files
 * (web_static.c finds them and names their headers), the timers that
 * drive commit.c and timers.c, and graceful shutdown. A received frame goes to dispatch.c
 * (or waits in commit.c while a commit is in flight); its result goes to
 * commit.c, which holds or delivers it; deliver.c fills the output queues
 * that this file writes out. No database access and no domain code here.
 * With service_threads > 1, the network threads (each its own lws context
 * and libev loop, its own SO_REUSEPORT listener) and the core thread's loop
 * are here too; handoff.c carries what the network threads tell the core
 * (docs/ARCHITECTURE.md "Threads"). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <sodium.h>
#if defined(LSN_HAVE_LIBEV)
#include <ev.h>
#endif

#include "commit.h"
#include "deliver.h"
#include "dispatch.h"
#include "handoff.h"
#include "idle_wheel.h"
#include "log.h"
#include "lsn_config.h"
#include "metrics.h"
#include "net.h"
#include "timers.h"
#include "tls_suites.h"
#include "web_static.h"
#include "wire.h"

#define RX_KEEP_MAX         0       /* rx buffers above this are freed between frames: all
                                       (an idle connection keeps none; rx_whole) */
#define BATCH_MAX_BYTES     65536   /* a coalesced frame stays under this (unless one frame is larger) */
#define BATCH_MAX_FRAMES    256
/* service_threads > 1: a connection's frames waiting for the core thread;
 * above RX_WAIT_MAX its network thread stops reading it (rx flow control)
 * until the core is back under RX_WAIT_RESUME */
#define RX_WAIT_MAX         (1024 * 1024)
#define RX_WAIT_RESUME      (256 * 1024)

/* What the core thread asks of a connection's network thread (kick). */
#define KICK_WRITE   1u
#define KICK_CLOSE   2u
#define KICK_RESUME  4u

struct conn;

/* A network thread (service_threads > 1; with 1, the one thread that does
 * everything uses io[0] for its context and batch buffer). */
struct iot {
	struct lws_context *ctx;
#if defined(LSN_HAVE_LIBEV)
	struct ev_loop *ev;            /* NULL: lws's own poll() loop */
	ev_io accept_w;                /* several threads: its listening socket */
#endif
	int lfd;                       /* several threads: its SO_REUSEPORT listening socket; else -1 */
	struct lws_vhost *vh;
	pthread_t thread;
	bool started;
	int stop;                      /* atomic: leave the service loop */
	pthread_mutex_t mu;            /* its connections' output queues and io_ fields, kick list */
	struct conn *kick;             /* connections the core asked something of */
	unsigned char *batch_buf;      /* LWS_PRE, then a {"batch":[...]} payload */
	size_t batch_cap;
	/* the idle policy of its connections (idle_wheel.h), on a 1 s timer of
	 * its own context */
	struct idle_wheel idle;
	lws_sorted_usec_list_t idle_sul;
};

/* A WebSocket connection: the transport-free peer (deliver.h) and what
 * libwebsockets needs. */
struct conn {
	struct client peer;              /* first: a peer is its conn */
	struct lws *wsi;
	char *rx;
	size_t rx_len, rx_cap;
	bool rx_discard, rx_binary;
	struct iot *io;                /* the thread that owns wsi (io[0] with one thread) */
	/* service_threads > 1 (docs/ARCHITECTURE.md "Threads") */
	size_t waiting;                /* atomic: frame bytes posted, not yet handled by the core */
	int paused;                    /* atomic: the network thread stopped reading it */
	bool rx_paused;                /* network thread only */
	/* under io->mu: the core's requests, copied for the network thread */
	struct conn *kick_next;
	unsigned kick;                 /* KICK_* pending; non-zero: on io->kick */
	bool gone;                     /* "closed" posted: the core frees it, nobody kicks it */
	bool io_batch;                 /* sess.batch, as the core last saw it */
	bool io_closing;
	int io_close_code;
	char io_close_reason[96];
	uint64_t io_id;                /* sess.conn_id, for the log */
	struct conn *io_next;          /* network thread only: the kicks being handled */
	unsigned io_kick;
	struct idle_entry idle;        /* in io->idle (idle_wheel.h); network thread only */
	bool ping_due;                 /* a ping waits for WRITEABLE; network thread only */
	struct handoff_msg *closed_msg; /* "closed", allocated up front: it cannot fail */
	/* one service thread: queued frames written at the end of the loop's turn */
	struct conn *flush_next;
	bool on_flush;
};

struct http_pss {
	unsigned char *body;           /* LWS_PRE headroom, then payload */
	size_t len, off;               /* off: bytes already written */
	bool finishing;                /* body written, lws still flushing part of it */
	bool head;                     /* HEAD: headers only */
	bool refuse_after_body;        /* 405 once the request body is read */
};

/* An HTTP body leaves in pieces of at most this, one per WRITEABLE
 * callback. Over HTTP/2 one lws_write() is one DATA frame, which must stay
 * under the peer's SETTINGS_MAX_FRAME_SIZE (16 KiB unless raised); and the
 * transaction is completed only once lws has flushed what it buffered:
 * /metrics was written whole at once, the socket took about 4 KiB, lws kept
 * the rest on the network connection, and completing the HTTP/2 stream at
 * once reset the connection (curl got 4,107 of 6,953 bytes). */
#define HTTP_CHUNK 2048

static struct {
	struct lws_context *ctx;
	struct server_ctx srv;
	const struct config *cfg;
	lws_retry_bo_t retry;
	lws_sorted_usec_list_t commit_sul;
	lws_sorted_usec_list_t timer_sul;
	lws_sorted_usec_list_t sweep_sul;
	volatile sig_atomic_t stop;
	bool stopping;
	bool threaded;                 /* service_threads > 1: a core thread and nio network threads */
	unsigned nio;
	struct iot io[CONFIG_SERVICE_THREADS_MAX];
	/* the core thread's deadlines (monotonic µs; 0: none) */
	int64_t commit_at, timer_at, sweep_at;
	/* one service thread: connections with frames queued in this turn of
	 * the loop (net_flush) */
	struct conn *flush;
} net;

static struct conn *
conn_of(struct client *p)
{
	return (struct conn *)p;
}

/* ---- hooks for deliver.c and commit.c ----------------------------------- */

static int64_t
mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void kick(struct conn *c, unsigned what);

/* One service thread: the connection is written at the end of this turn
 * of the loop (net_flush), not on a WRITEABLE callback. */
static void
hook_want_write(struct client *p)
{
	struct conn *c = conn_of(p);
	if (net.threaded) {
		kick(c, KICK_WRITE);
	} else if (!c->on_flush) {
		c->on_flush = true;
		c->flush_next = net.flush;
		net.flush = c;
	}
}

static void
hook_closing(struct client *p)
{
	if (net.threaded)
		kick(conn_of(p), KICK_CLOSE);
	else
		lws_set_timeout(conn_of(p)->wsi, PENDING_TIMEOUT_CLOSE_SEND, 5);
}

static void
commit_cb(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	commit_run();
}

static void
hook_schedule(int64_t delay_us)
{
	if (net.threaded)
		net.commit_at = mono_us() + (delay_us > 0 ? delay_us : 0);
	else
		lws_sul_schedule(net.ctx, 0, &net.commit_sul, commit_cb, (lws_usec_t)delay_us);
}

static void
hook_cancel(void)
{
	if (net.threaded)
		net.commit_at = 0;
	else
		lws_sul_cancel(&net.commit_sul);
}

/* Called by the commit or sync thread: lws_cancel_service is the one lws
 * call that is safe from another thread; the service thread then reaps.
 * With service_threads > 1 the core thread's eventfd. */
static void
hook_wake(void)
{
	if (net.threaded)
		handoff_wake();
	else
		lws_cancel_service(net.ctx);
}

/* A received frame (or one that waited for a commit) goes to the
 * dispatcher; its result goes to commit.c, which holds or delivers it. */
static void
frame_process(struct client *p, const char *buf, size_t len, bool discard, bool binary)
{
	struct dispatch_result res;
	if (discard) {
		char msg[128];
		snprintf(msg, sizeof msg, "frame larger than %zu bytes; send large data in chunks",
			 net.cfg->max_frame);
		dispatch_error(LSN_ERR_TOO_LARGE, msg, &res);
	} else if (net.stopping) {
		dispatch_error(LSN_ERR_SHUTTING_DOWN, NULL, &res);
	} else if (binary) {  /* an attachment chunk, or bad_json (dispatch.h) */
		dispatch_binary(&net.srv, &p->sess, (const uint8_t *)buf, len, &res);
	} else {
		dispatch_frame(&net.srv, &p->sess, buf, len, &res);
		deliver_reindex(p);   /* login, or a revoked device logged out */
	}
	commit_result(p, &res);
	dispatch_result_free(&res);
}

static const struct deliver_hooks deliver_hooks = {hook_want_write, hook_closing};
static const struct commit_hooks commit_hooks = {hook_schedule, hook_cancel, hook_wake,
						 frame_process, timers_revocation_watch};

/* ---- timers --------------------------------------------------------------- */

static void
timer_cb(lws_sorted_usec_list_t *sul)
{
	int64_t next = (int64_t)net.cfg->timer_interval_s * LWS_US_PER_SEC;
	if (!net.stopping)
		next = timers_deadline_scan();
	lws_sul_schedule(net.ctx, 0, sul, timer_cb, (lws_usec_t)next);
}

static void
sweep_cb(lws_sorted_usec_list_t *sul)
{
	timers_sweep();
	lws_sul_schedule(net.ctx, 0, sul, sweep_cb, LWS_US_PER_SEC);
}

/* ---- the idle policy: ping_after, hangup_after ----------------------------
 * lws 4.1's own (retry_and_idle_policy) re-inserted each connection's
 * deadline in one sorted list at every frame received: 5.3 % of the
 * server's time at 8,000 connections (docs/PERFORMANCE.md). It is off
 * (net_create); a frame or a pong costs a clock read and a timestamp write
 * instead, and this
 * 1 s timer walks the slots of idle_wheel.c. */

/* Whole seconds: the coarse clock is enough, and cheap at every frame. */
static int64_t
idle_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec;
}

static void
idle_report(struct idle_entry *e, enum idle_action a, void *arg)
{
	(void)arg;
	struct conn *c = (struct conn *)((char *)e - offsetof(struct conn, idle));
	if (a == IDLE_PING) {
		c->ping_due = true;
		lws_callback_on_writable(c->wsi);
		return;
	}
	log_debug("conn %llu: nothing received for %u s; hanging up",
		  (unsigned long long)(net.threaded ? c->io_id : c->peer.sess.conn_id),
		  net.cfg->hangup_after_s);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

/* Each network thread (or the one thread) has its wheel and its timer, on
 * its own context: only that thread touches its connections' entries. */
static void
idle_cb(lws_sorted_usec_list_t *sul)
{
	struct iot *io = (struct iot *)((char *)sul - offsetof(struct iot, idle_sul));
	idle_wheel_advance(&io->idle, idle_now(), idle_report, NULL);
	lws_sul_schedule(io->ctx, 0, sul, idle_cb, LWS_US_PER_SEC);
}

/* On WRITEABLE, before the output queue: the ping idle_report asked for.
 * It carries one byte: lws 4.1 does not pass an empty pong (the echo of an
 * empty ping) to the protocol's callback, so it would not count.
 * Returns lws's verdict for the callback (-1: close). */
static int
idle_ping_write(struct conn *c)
{
	unsigned char buf[LWS_PRE + 1];
	buf[LWS_PRE] = 'p';
	c->ping_due = false;
	if (lws_write(c->wsi, buf + LWS_PRE, 1, LWS_WRITE_PING) < 1)
		return -1;
	/* several threads: the queue is the core's to look at; ask anyway */
	if (net.threaded || outq_peek(&c->peer.q) || c->peer.closing)
		lws_callback_on_writable(c->wsi);
	return 0;
}

/* ---- WebSocket protocol ------------------------------------------------- */

static void
conn_hello(struct conn *c)
{
	size_t len = 0;
	char *frame = dispatch_hello(&net.srv, &c->peer.sess, &len);
	deliver_send(&c->peer, frame, len);
	free(frame);
}

static struct conn *
conn_new(struct lws *wsi)
{
	struct conn *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->wsi = wsi;
	c->io = &net.io[0];
	idle_wheel_add(&c->io->idle, &c->idle, idle_now());
	lws_get_peer_simple(wsi, c->peer.sess.peer, sizeof c->peer.sess.peer);
	deliver_client_add(&c->peer, LWS_PRE);
	return c;
}

static void
conn_free(struct conn *c)
{
	if (c->on_flush) {
		struct conn **pp = &net.flush;
		while (*pp != c)
			pp = &(*pp)->flush_next;
		*pp = c->flush_next;
	}
	commit_forget(&c->peer);
	if (!net.threaded)         /* else the network thread did, at CLOSED */
		idle_wheel_remove(&c->io->idle, &c->idle);
	deliver_client_remove(&c->peer);
	free(c->rx);
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

/* A frame that arrives whole in one callback — the usual request, up to
 * the protocol's rx_buffer_size — is handled from lws's buffer: no copy,
 * and no buffer of our own kept per connection (4 KiB of the RSS of each
 * idle logged-in connection, docs/PERFORMANCE.md). false: it comes in
 * pieces, and rx_append gathers them. */
static bool
rx_whole(struct conn *c, struct lws *wsi, const void *in, size_t len)
{
	if (c->rx_len || c->rx_discard || len > net.cfg->max_frame ||
	    !lws_is_first_fragment(wsi) || !lws_is_final_fragment(wsi) ||
	    lws_remaining_packet_payload(wsi))
		return false;
	if (!commit_defer(&c->peer, in, len, false, c->rx_binary))
		frame_process(&c->peer, in, len, false, c->rx_binary);
	c->rx_binary = false;
	return true;
}

/* The frame was handed on: the next one starts empty, and a large buffer
 * is not kept. */
static void
rx_reset(struct conn *c)
{
	c->rx_len = 0;
	c->rx_discard = false;
	c->rx_binary = false;
	if (c->rx_cap > RX_KEEP_MAX) {
		free(c->rx);
		c->rx = NULL;
		c->rx_cap = 0;
	}
}

static void
rx_frame_done(struct conn *c)
{
	if (!commit_defer(&c->peer, c->rx, c->rx_len, c->rx_discard, c->rx_binary))
		frame_process(&c->peer, c->rx, c->rx_len, c->rx_discard, c->rx_binary);
	rx_reset(c);
}

/* Coalescing: when several frames wait for a client that opted in ("batch"
 * at login), they leave as one WebSocket frame {"batch":[F1,F2,...]} — one
 * TLS record and one write instead of one per frame. Each Fi is the frame's
 * JSON text as it would have been sent alone, so nothing is re-encoded.
 * Returns the number of queued frames packed (0: send the head alone). */
static unsigned
batch_pack(struct iot *io, struct outq *q, bool batch, size_t *out_len)
{
	static const char open[] = "{\"batch\":[", close[] = "]}";
	struct outq_frame *f = outq_peek(q);
	if (!batch || f == NULL || f->next == NULL || f->binary)
		return 0;
	size_t len = sizeof open - 1;
	unsigned n = 0;
	/* a binary frame (an attachment chunk) ends the batch: it leaves alone,
	 * after the frames queued before it */
	for (; f && !f->binary && n < BATCH_MAX_FRAMES; f = f->next) {
		size_t add = f->len + (n ? 1 : 0);
		if (n >= 1 && len + add + sizeof close - 1 > BATCH_MAX_BYTES)
			break;
		len += add;
		n++;
	}
	if (n < 2)
		return 0;
	len += sizeof close - 1;
	if (LWS_PRE + len > io->batch_cap) {
		unsigned char *p = realloc(io->batch_buf, LWS_PRE + len);
		if (p == NULL)
			return 0;          /* out of memory: frames go one by one */
		io->batch_buf = p;
		io->batch_cap = LWS_PRE + len;
	}
	unsigned char *w = io->batch_buf + LWS_PRE;
	memcpy(w, open, sizeof open - 1);
	w += sizeof open - 1;
	f = outq_peek(q);
	for (unsigned i = 0; i < n; i++, f = f->next) {
		if (i)
			*w++ = ',';
		memcpy(w, outq_payload(q, f), f->len);
		w += f->len;
	}
	memcpy(w, close, sizeof close - 1);
	*out_len = len;
	return n;
}

/* The close frame of a peer being closed (4008, 4029, …) goes out once
 * nothing it sent waits unread: a socket closed with unread input is reset
 * (RFC 1122 4.2.2.13), and the reset destroys the close frame, reason and
 * all, before the peer reads it. A peer still pipelining requests when it is
 * dropped (their frames are read and ignored meanwhile) is looked at again
 * every CLOSE_DRAIN_US; one that never stops sending is cut by the
 * PENDING_TIMEOUT_CLOSE_SEND of hook_closing. Returns the callback's
 * answer: -1 closes now. */
#define CLOSE_DRAIN_US 20000
static int
close_when_drained(struct lws *wsi, int code, const char *reason)
{
	int unread = 0;
	if (ioctl(lws_get_socket_fd(wsi), FIONREAD, &unread) == 0 && unread > 0) {
		lws_set_timer_usecs(wsi, CLOSE_DRAIN_US);   /* LWS_CALLBACK_TIMER */
		return 0;
	}
	lws_close_reason(wsi, (enum lws_close_status)code, (unsigned char *)reason,
			 strlen(reason));
	return -1;
}

static int
conn_writeable(struct conn *c)
{
	struct client *p = &c->peer;
	struct outq_frame *f = outq_peek(&p->q);
	if (f == NULL) {
		if (p->closing)
			return close_when_drained(c->wsi, p->close_code, p->close_reason);
		return 0;
	}
	size_t len = 0;
	unsigned packed = batch_pack(&net.io[0], &p->q, p->sess.batch, &len);
	unsigned char *payload = packed ? net.io[0].batch_buf + LWS_PRE : outq_payload(&p->q, f);
	if (!packed)
		len = f->len;
	int n = lws_write(c->wsi, payload, len,
			  !packed && f->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
	if (n < (int)len) {
		log_warn("conn %llu: write failed; closing", (unsigned long long)p->sess.conn_id);
		return -1;
	}
	if (packed)
		metrics_batch_out(packed);
	for (unsigned i = 0; i < (packed ? packed : 1); i++) {
		metrics_frame_out(outq_peek(&p->q)->len);
		outq_pop(&p->q);
	}
	deliver_written(p);
	if (outq_peek(&p->q) || p->closing)
		lws_callback_on_writable(c->wsi);
	return 0;
}

/* One service thread: the end of a turn of the event loop, before it
 * waits again. Each connection given frames during the turn is written
 * now, from its queue (batched as on WRITEABLE), instead of on a WRITEABLE
 * callback: asking lws for one turns POLLOUT on in epoll and the callback
 * turns it off again, two epoll_ctl calls and one more wake-up for every
 * frame a socket could take at once (7 epoll_ctl per message at W1,
 * docs/PERFORMANCE.md). Writing outside the callback is safe with lws
 * 4.1 when nothing of the connection is buffered in lws (checked): what
 * the socket does not take, lws keeps and asks WRITEABLE for itself, the
 * same as for a write in the callback, so no more than one batch is ever
 * held by lws. A ping due, a close, or lws still holding part of a write
 * go through WRITEABLE as before. */
static void
net_flush(void)
{
	struct conn *c;
	while ((c = net.flush) != NULL) {
		net.flush = c->flush_next;
		c->flush_next = NULL;
		c->on_flush = false;
		if (c->ping_due || c->peer.closing || lws_partial_buffered(c->wsi)) {
			lws_callback_on_writable(c->wsi);
			continue;
		}
		if (conn_writeable(c) < 0)   /* the write failed: lws closes it at once */
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
	}
}

/* conn_unauth_per_addr (docs/OPERATIONS.md, "Bounds"): a new connection
 * past it is closed at once with 4029, before its hello. */
static bool
conn_over_unauth_cap(struct conn *c)
{
	unsigned cap = net.cfg->conn_unauth_per_addr;
	if (cap == 0 || deliver_unauth_count(c->peer.sess.peer) <= cap)
		return false;
	metrics_conn_refused(METRICS_REFUSED_UNAUTH_PER_ADDR);
	log_debug("conn %llu: more than %u unauthenticated connections from one address; closing",
		 (unsigned long long)c->peer.sess.conn_id, cap);
	deliver_close(&c->peer, DELIVER_CLOSE_TOO_MANY_UNAUTH,
		      "too many unauthenticated connections from this address", true);
	return true;
}

/* ---- several service threads (docs/ARCHITECTURE.md "Threads") ----------
 * service_threads = N > 1: N network threads, each with its own lws context
 * (and libev loop) listening on the same port (SO_REUSEPORT: the kernel
 * spreads new connections), do TLS, WebSocket frames in and out, pings and
 * HTTP; the core thread (the one that called net_run) does everything
 * else. A network thread hands "opened", "frame", "closed" to the core
 * (handoff.h); the core pushes frames into a connection's output queue
 * under its network thread's lock and kicks the connection (below). */

/* Core thread: ask c's network thread to write, close or read again. The
 * lws calls themselves run on that thread (mt_kicks). Nothing once the
 * network thread has said "closed". */
static void
kick(struct conn *c, unsigned what)
{
	struct iot *io = c->io;
	bool wake = false;
	pthread_mutex_lock(&io->mu);
	if (!c->gone) {
		c->io_batch = c->peer.sess.batch;
		c->io_id = c->peer.sess.conn_id;
		if (what & KICK_CLOSE) {
			c->io_closing = true;
			c->io_close_code = c->peer.close_code;
			snprintf(c->io_close_reason, sizeof c->io_close_reason, "%s",
				 c->peer.close_reason);
		}
		if (c->kick == 0) {
			c->kick_next = io->kick;
			io->kick = c;
			wake = c->kick_next == NULL;   /* else a wake-up is on its way */
		}
		c->kick |= what;
	}
	pthread_mutex_unlock(&io->mu);
	if (wake)
		lws_cancel_service(io->ctx);
}

/* Network thread, on LWS_CALLBACK_EVENT_WAIT_CANCELLED: the kicks. */
static void
mt_kicks(struct iot *io)
{
	pthread_mutex_lock(&io->mu);
	struct conn *list = NULL;
	for (struct conn *c = io->kick; c; c = c->kick_next) {
		c->io_kick = c->kick;
		c->kick = 0;
		c->io_next = list;
		list = c;
	}
	io->kick = NULL;
	pthread_mutex_unlock(&io->mu);
	/* only this thread says "closed": every c of the list is alive */
	while (list) {
		struct conn *c = list;
		list = c->io_next;
		if (c->io_kick & KICK_CLOSE)
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, 5);
		if (c->io_kick & (KICK_WRITE | KICK_CLOSE))
			lws_callback_on_writable(c->wsi);
		if ((c->io_kick & KICK_RESUME) && c->rx_paused) {
			c->rx_paused = false;
			__atomic_store_n(&c->paused, 0, __ATOMIC_SEQ_CST);
			lws_rx_flow_control(c->wsi, 1);
		}
	}
}

static int
mt_established(struct lws *wsi, struct conn **slot)
{
	struct iot *io = lws_context_user(lws_get_context(wsi));
	struct conn *c = calloc(1, sizeof *c);
	struct handoff_msg *opened = handoff_msg_new(HANDOFF_OPENED, c, 0);
	struct handoff_msg *closed = handoff_msg_new(HANDOFF_CLOSED, c, 0);
	if (c == NULL || opened == NULL || closed == NULL) {
		free(c);
		free(opened);
		free(closed);
		return -1;
	}
	c->wsi = wsi;
	c->io = io;
	c->closed_msg = closed;
	c->peer.qlock = &io->mu;
	lws_get_peer_simple(wsi, c->peer.sess.peer, sizeof c->peer.sess.peer);
	*slot = c;
	idle_wheel_add(&io->idle, &c->idle, idle_now());
	handoff_post(opened);
	return 0;
}

/* A whole frame goes to the core (copied: lws's buffer is reused); past
 * RX_WAIT_MAX bytes waiting there, stop reading this connection (the core
 * resumes it, KICK_RESUME). */
static int
mt_post(struct conn *c, struct lws *wsi, const void *data, size_t n, bool binary, bool discard)
{
	struct handoff_msg *m = handoff_msg_new(HANDOFF_FRAME, c, n);
	if (m == NULL) {
		log_warn("conn: out of memory for a received frame; closing");
		return -1;
	}
	if (n)
		memcpy(m->data, data, n);
	m->binary = binary;
	m->discard = discard;
	size_t waiting = __atomic_add_fetch(&c->waiting, n + 1, __ATOMIC_SEQ_CST);
	handoff_post(m);
	if (waiting > RX_WAIT_MAX && !c->rx_paused) {
		c->rx_paused = true;
		__atomic_store_n(&c->paused, 1, __ATOMIC_SEQ_CST);
		lws_rx_flow_control(wsi, 0);
		/* the core may have caught up before it could see "paused" */
		if (__atomic_load_n(&c->waiting, __ATOMIC_SEQ_CST) < RX_WAIT_RESUME) {
			c->rx_paused = false;
			__atomic_store_n(&c->paused, 0, __ATOMIC_SEQ_CST);
			lws_rx_flow_control(wsi, 1);
		}
	}
	return 0;
}

static int
mt_receive(struct conn *c, struct lws *wsi, const void *in, size_t len)
{
	bool first = lws_is_first_fragment(wsi);
	if (first)
		c->rx_binary = lws_frame_is_binary(wsi);
	bool last = lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi);
	if (first && last && c->rx_len == 0 && !c->rx_discard && len <= net.cfg->max_frame) {
		c->rx_binary = false;  /* whole in one callback: straight from lws's buffer */
		return mt_post(c, wsi, in, len, lws_frame_is_binary(wsi), false);
	}
	rx_append(c, in, len);
	if (!last)
		return 0;
	bool binary = c->rx_binary, discard = c->rx_discard;
	size_t n = discard ? 0 : c->rx_len;
	int rc = mt_post(c, wsi, c->rx, n, binary, discard);
	rx_reset(c);
	return rc;
}

/* The output queue is shared with the core: the frames to write are taken
 * out under the lock, written without it. */
static int
mt_writeable(struct conn *c)
{
	struct iot *io = c->io;
	struct outq *q = &c->peer.q;
	pthread_mutex_lock(&io->mu);
	struct outq_frame *f = outq_peek(q);
	if (f == NULL) {
		bool closing = c->io_closing;
		int code = c->io_close_code;
		char reason[sizeof c->io_close_reason];
		memcpy(reason, c->io_close_reason, sizeof reason);
		pthread_mutex_unlock(&io->mu);
		return closing ? close_when_drained(c->wsi, code, reason) : 0;
	}
	size_t len = 0;
	struct outq_frame *taken = NULL;
	unsigned char *payload;
	unsigned packed = batch_pack(io, q, c->io_batch, &len);
	if (packed) {
		for (unsigned i = 0; i < packed; i++) {
			metrics_frame_out(outq_peek(q)->len);
			outq_pop(q);
		}
		payload = io->batch_buf + LWS_PRE;
	} else {
		taken = outq_take(q);
		len = taken->len;
		payload = taken->data + q->headroom;
		metrics_frame_out(len);
	}
	bool more = outq_peek(q) != NULL || c->io_closing;
	uint64_t id = c->io_id;
	pthread_mutex_unlock(&io->mu);
	int n = lws_write(c->wsi, payload, len,
			  taken && taken->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
	free(taken);
	if (n < (int)len) {
		log_warn("conn %llu: write failed; closing", (unsigned long long)id);
		return -1;
	}
	if (packed)
		metrics_batch_out(packed);
	if (more)
		lws_callback_on_writable(c->wsi);
	return 0;
}

/* The network thread is done with c: off its kick list, "closed" to the
 * core, which frees it. */
static void
mt_closed(struct conn *c)
{
	struct iot *io = c->io;
	free(c->rx);
	c->rx = NULL;
	idle_wheel_remove(&io->idle, &c->idle);
	pthread_mutex_lock(&io->mu);
	c->gone = true;
	if (c->kick) {
		for (struct conn **pp = &io->kick; *pp; pp = &(*pp)->kick_next)
			if (*pp == c) {
				*pp = c->kick_next;
				break;
			}
		c->kick = 0;
	}
	pthread_mutex_unlock(&io->mu);
	handoff_post(c->closed_msg);
}

/* Core thread: what the network threads said, in order. */
static void
core_opened(struct conn *c)
{
	deliver_client_add(&c->peer, LWS_PRE);
	if (net.stopping) {
		deliver_close(&c->peer, LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down", true);
		return;
	}
	if (conn_over_unauth_cap(c))
		return;
	conn_hello(c);
}

static void
core_frame(struct conn *c, struct handoff_msg *m)
{
	size_t waiting = __atomic_sub_fetch(&c->waiting, m->len + 1, __ATOMIC_SEQ_CST);
	if (!c->peer.closing &&
	    !commit_defer(&c->peer, m->data, m->len, m->discard, m->binary))
		frame_process(&c->peer, m->data, m->len, m->discard, m->binary);
	if (waiting < RX_WAIT_RESUME && __atomic_load_n(&c->paused, __ATOMIC_SEQ_CST))
		kick(c, KICK_RESUME);
}

static void
core_messages(void)
{
	struct handoff_msg *m = handoff_take();
	while (m) {
		struct handoff_msg *next = m->next;
		struct conn *c = m->conn;
		switch (m->kind) {
		case HANDOFF_OPENED:
			core_opened(c);
			break;
		case HANDOFF_FRAME:
			core_frame(c, m);
			break;
		case HANDOFF_CLOSED:
			conn_free(c);      /* m is c->closed_msg: freed below */
			break;
		}
		free(m);
		m = next;
	}
}

/* The core's own timers: the commit (commit_delay), the deadline scan and
 * the 1 s sweep; lws's timers belong to the network threads. */
static void
core_deadlines(void)
{
	int64_t now = mono_us();
	if (net.commit_at && now >= net.commit_at) {
		net.commit_at = 0;     /* commit_run may schedule the next */
		commit_run();
	}
	if (net.timer_at && now >= net.timer_at) {
		int64_t next = (int64_t)net.cfg->timer_interval_s * 1000000;
		if (!net.stopping)
			next = timers_deadline_scan();
		net.timer_at = mono_us() + next;
	}
	if (net.sweep_at && now >= net.sweep_at) {
		timers_sweep();
		net.sweep_at = now + 1000000;
	}
}

static int
core_timeout_ms(int max_ms)
{
	int64_t now = mono_us(), next = now + (int64_t)max_ms * 1000;
	int64_t at[3] = {net.commit_at, net.timer_at, net.sweep_at};
	for (int i = 0; i < 3; i++)
		if (at[i] && at[i] < next)
			next = at[i];
	return next <= now ? 0 : (int)((next - now + 999) / 1000);
}

static void
core_turn(int max_ms)
{
	handoff_wait(core_timeout_ms(max_ms));
	core_messages();
	commit_reap(false);        /* the commit or a sync may be done */
	core_deadlines();
}

static int io_service(struct iot *io);

static void *
io_main(void *arg)
{
	struct iot *io = arg;
	while (!__atomic_load_n(&io->stop, __ATOMIC_ACQUIRE))
		if (io_service(io) < 0)
			break;
	return NULL;
}

/* The network threads get no signal: SIGINT and SIGTERM reach the core. */
static bool
io_start_all(void)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	bool ok = true;
	for (unsigned i = 0; i < net.nio && ok; i++) {
		ok = pthread_create(&net.io[i].thread, NULL, io_main, &net.io[i]) == 0;
		net.io[i].started = ok;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!ok)
		log_error("cannot start the network threads (service_threads = %u)", net.nio);
	return ok;
}

static void
io_stop_all(void)
{
	for (unsigned i = 0; i < net.nio; i++) {
		__atomic_store_n(&net.io[i].stop, 1, __ATOMIC_RELEASE);
		if (net.io[i].ctx)
			lws_cancel_service(net.io[i].ctx);
	}
	for (unsigned i = 0; i < net.nio; i++)
		if (net.io[i].started) {
			pthread_join(net.io[i].thread, NULL);
			net.io[i].started = false;
		}
}

/* Serve until a stop signal (core thread), then as net_drain does: commit
 * what is in flight, close every connection with a reason, up to 3 s. */
static void
core_run(void)
{
	int64_t now = mono_us();
	net.timer_at = net.sweep_at = now + 1000000;
	while (!net.stop)
		core_turn(1000);
	log_info("shutting down: committing and closing %u connections", deliver_client_count());
	net.stopping = true;
	net.timer_at = net.sweep_at = 0;
	commit_drain();
	deliver_close_all(LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
	int64_t deadline = mono_us() + 3000000;
	while (deliver_client_count() && mono_us() < deadline)
		core_turn(50);
	commit_run();
}

static int
ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct conn **slot = (struct conn **)user;
	struct conn *c = slot ? *slot : NULL;
	if (c && (reason == LWS_CALLBACK_RECEIVE || reason == LWS_CALLBACK_RECEIVE_PONG))
		idle_wheel_touch(&c->idle, idle_now());
	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		if (net.threaded)
			return mt_established(wsi, slot);
		if (net.stopping || (*slot = conn_new(wsi)) == NULL)
			return -1;
		if (conn_over_unauth_cap(*slot))
			return 0;
		conn_hello(*slot);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (net.threaded)          /* the core drops a closing peer's frames */
			return c ? mt_receive(c, wsi, in, len) : 0;
		if (c == NULL || c->peer.closing)
			return 0;
		if (lws_is_first_fragment(wsi))
			c->rx_binary = lws_frame_is_binary(wsi);
		if (rx_whole(c, wsi, in, len))
			return 0;
		rx_append(c, in, len);
		if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
			rx_frame_done(c);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (c == NULL)
			return 0;
		if (c->ping_due && (net.threaded || !c->peer.closing))
			return idle_ping_write(c);
		return net.threaded ? mt_writeable(c) : conn_writeable(c);
	case LWS_CALLBACK_TIMER:           /* close_when_drained's next look */
		if (c)
			lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (c) {
			if (net.threaded)
				mt_closed(c);
			else
				conn_free(c);
			*slot = NULL;
		}
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (net.threaded)
			mt_kicks(lws_context_user(lws_get_context(wsi)));
		else
			commit_reap(false);        /* the commit or a sync may be done */
		return 0;
	default:
		return 0;
	}
}

/* ---- HTTP: /healthz, /metrics and the browser client's files ---------- */

/* How a file of the web root is encoded: not a file (no Vary), a file
 * sent as it is, or its precompressed FILE.gz. */
enum http_enc { HTTP_ENC_NONE, HTTP_ENC_IDENTITY, HTTP_ENC_GZIP };

/* Send the status line and headers — the security set of web_static.c
 * with cache's Cache-Control on every answer, and for a file of the web
 * root "Vary: Accept-Encoding" (and Content-Encoding when gzip) — then
 * body (LWS_PRE headroom, then len bytes; owned from now on) on WRITEABLE
 * callbacks; a HEAD request gets the headers alone. */
static int
http_send(struct lws *wsi, struct http_pss *pss, unsigned status, const char *type,
	  enum web_cache cache, unsigned char *body, size_t len, const char *allow,
	  enum http_enc enc)
{
	unsigned char hdr[LWS_PRE + 2048], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof hdr;
	free(pss->body);
	pss->body = body;
	pss->len = len;
	pss->off = 0;
	pss->finishing = false;
	const struct web_header *h = NULL;
	size_t n = web_static_headers(cache, &h);
	if (lws_add_http_common_headers(wsi, status, type, (lws_filepos_t)len, &p, end))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)h[i].name,
						(const unsigned char *)h[i].value,
						(int)strlen(h[i].value), &p, end))
			return -1;
	if (allow && lws_add_http_header_by_name(wsi, (const unsigned char *)"allow:",
						 (const unsigned char *)allow, (int)strlen(allow),
						 &p, end))
		return -1;
	if (enc != HTTP_ENC_NONE &&
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"vary:",
					(const unsigned char *)"accept-encoding", 15, &p, end))
		return -1;
	if (enc == HTTP_ENC_GZIP &&
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"content-encoding:",
					(const unsigned char *)"gzip", 4, &p, end))
		return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

/* A short text body (copied). */
static int
http_respond(struct lws *wsi, struct http_pss *pss, unsigned status, const char *type,
	     const char *body, size_t len)
{
	unsigned char *copy = malloc(LWS_PRE + len + 1);
	if (copy == NULL)
		return -1;
	memcpy(copy + LWS_PRE, body, len);
	return http_send(wsi, pss, status, type, WEB_CACHE_NO_STORE, copy, len, NULL,
			 HTTP_ENC_NONE);
}

/* The next piece of the body; the last one ends the transaction (over
 * HTTP/2: END_STREAM). Each piece is written in place: the bytes before it
 * (already sent) serve as lws's LWS_PRE headroom. */
static int
http_write_more(struct lws *wsi, struct http_pss *pss)
{
	if (pss->head)                 /* nothing after the headers: end the stream */
		pss->off = pss->len;
	size_t n = pss->len - pss->off;
	if (n > HTTP_CHUNK)
		n = HTTP_CHUNK;
	lws_fileofs_t allow = n ? lws_get_peer_write_allowance(wsi) : -1;
	if (allow == 0) {              /* HTTP/2 flow control: wait for credit */
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (allow > 0 && (size_t)allow < n)
		n = (size_t)allow;
	bool last = pss->off + n == pss->len;
	if (lws_write(wsi, pss->body + LWS_PRE + pss->off, n,
		      last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
		return -1;
	pss->off += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	free(pss->body);
	pss->body = NULL;
	if (lws_partial_buffered(lws_get_network_wsi(wsi))) {
		/* lws holds the rest of the last write (on the network
		 * connection, for an HTTP/2 stream): the next WRITEABLE comes once
		 * it is sent; completing now would drop it */
		pss->finishing = true;
		lws_callback_on_writable(wsi);
		return 0;
	}
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* /metrics is for the operator's scraper: the peer's address must be in
 * metrics_allow (default loopback), or the request must carry
 * "Authorization: Bearer <metrics_token>". */
static bool
metrics_allowed(struct lws *wsi)
{
	uint8_t addr[16];
	bool have_addr = false;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int fd = (int)lws_get_socket_fd(lws_get_network_wsi(wsi));
	if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			const struct sockaddr_in *in4 = (const struct sockaddr_in *)&ss;
			memset(addr, 0, 10);
			addr[10] = addr[11] = 0xff;
			memcpy(addr + 12, &in4->sin_addr, 4);
			have_addr = true;
		} else if (ss.ss_family == AF_INET6) {
			memcpy(addr, &((const struct sockaddr_in6 *)&ss)->sin6_addr, 16);
			have_addr = true;
		}
	}
	char auth[CONFIG_METRICS_TOKEN_MAX + 32];
	bool have_auth = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION) > 0 &&
			 lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION) < (int)sizeof auth &&
			 lws_hdr_copy(wsi, auth, sizeof auth, WSI_TOKEN_HTTP_AUTHORIZATION) > 0;
	bool ok = config_metrics_allowed(net.cfg, have_addr ? addr : NULL, have_auth ? auth : NULL);
	sodium_memzero(auth, sizeof auth);
	return ok;
}

/* Any other path: a file of the web root (web_static.c), else 404. The
 * 404 and 405 answers say nothing about what exists. */
static int
http_static(struct lws *wsi, struct http_pss *pss, const char *path, size_t len)
{
	char ae[256];
	int ae_len = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_ACCEPT_ENCODING);
	bool gzip_ok = ae_len > 0 && ae_len < (int)sizeof ae &&
		       lws_hdr_copy(wsi, ae, sizeof ae, WSI_TOKEN_HTTP_ACCEPT_ENCODING) > 0 &&
		       web_static_accepts_gzip(ae);
	struct web_file f;
	if (web_static_load(net.cfg->web_root, path, len, LWS_PRE, gzip_ok, &f) == 0)
		return http_send(wsi, pss, HTTP_STATUS_OK, f.mime, f.cache, f.buf, f.len, NULL,
				 f.gzip ? HTTP_ENC_GZIP : HTTP_ENC_IDENTITY);
	static const char not_found[] = "Introuvable. Not found.\n";
	return http_respond(wsi, pss, HTTP_STATUS_NOT_FOUND, "text/plain; charset=utf-8",
			    not_found, sizeof not_found - 1);
}

/* path: the decoded request path, len bytes (a decoded %00 makes it
 * longer than its C string). */
static int
http_request(struct lws *wsi, struct http_pss *pss, const char *path, size_t len)
{
	char *uri = NULL;
	int uri_len = 0;
	int method = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
	pss->head = method == LWSHUMETH_HEAD;
	if (method != LWSHUMETH_GET && method != LWSHUMETH_HEAD) {
		/* a request with a body (POST...) is answered once lws has read it:
		 * over HTTP/1.1 an answer sent while it reads is cut off */
		if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
		    !pss->refuse_after_body) {
			pss->refuse_after_body = true;
			return 0;
		}
		static const char not_allowed[] = "M\xc3\xa9thode non autoris\xc3\xa9" "e. "
						  "Method not allowed.\n";
		unsigned char *copy = malloc(LWS_PRE + sizeof not_allowed);
		if (copy == NULL)
			return -1;
		memcpy(copy + LWS_PRE, not_allowed, sizeof not_allowed - 1);
		return http_send(wsi, pss, HTTP_STATUS_METHOD_NOT_ALLOWED,
				 "text/plain; charset=utf-8", WEB_CACHE_NO_STORE, copy,
				 sizeof not_allowed - 1, "GET, HEAD", HTTP_ENC_NONE);
	}
	if (strcmp(path, "/healthz") == 0)
		return http_respond(wsi, pss, HTTP_STATUS_OK, "text/plain", "ok\n", 3);
	if (strcmp(path, "/metrics") == 0) {
		if (!metrics_allowed(wsi)) {
			static const char forbidden[] =
				"forbidden: /metrics answers the addresses in metrics_allow (default: "
				"loopback) or a request with \"Authorization: Bearer <metrics_token>\"; "
				"see docs/OPERATIONS.md\n";
			metrics_forbidden();
			return http_respond(wsi, pss, HTTP_STATUS_FORBIDDEN, "text/plain", forbidden,
					    sizeof forbidden - 1);
		}
		size_t text_len = 0;
		char *text = metrics_render(dispatch_op_name, dispatch_op_count(), &text_len);
		if (text == NULL)
			return -1;
		int rc = http_respond(wsi, pss, HTTP_STATUS_OK,
				      "text/plain; version=0.0.4; charset=utf-8", text, text_len);
		free(text);
		return rc;
	}
	return http_static(wsi, pss, path, len);
}

static int
http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct http_pss *pss = user;
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (pss == NULL)
			return -1;
		pss->refuse_after_body = false;
		return http_request(wsi, pss, (const char *)in, len);
	case LWS_CALLBACK_HTTP_BODY:
		return 0;                  /* no request of ours has a body */
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (pss && pss->refuse_after_body)
			return http_request(wsi, pss, "", 0);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (pss && pss->finishing) {
			pss->finishing = false;
			return lws_http_transaction_completed(wsi) ? -1 : 0;
		}
		if (pss == NULL || pss->body == NULL)
			return 0;
		return http_write_more(wsi, pss);
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

/* liaison.v1: lws keeps a receive buffer of WS_RX_BUFFER bytes for each
 * connection's whole life (a frame larger than it arrives in pieces, which
 * rx_append gathers); 2 KiB holds a usual request (a message with its
 * envelope) and saves 2 KiB per connection over 4 KiB (docs/PERFORMANCE.md,
 * "RSS per connection"). lws also cuts each socket write at tx_packet_size,
 * or at rx_buffer_size when that is 0: WS_TX_PACKET keeps writes as they
 * were with 4 KiB. */
#define WS_RX_BUFFER 2048
#define WS_TX_PACKET 4096

static const struct lws_protocols protocols[] = {
	{"http", http_callback, sizeof(struct http_pss), 0, 0, NULL, 0},
	{LSN_PROTOCOL_NAME, ws_callback, sizeof(struct conn *), WS_RX_BUFFER, 0, NULL,
	 WS_TX_PACKET},
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
	if (net.threaded)
		handoff_wake();
	else if (net.ctx)
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
net_try_create(struct lws_context_creation_info *info, bool use_ev, struct iot *io)
{
	info->user = io;
#if defined(LSN_HAVE_LIBEV)
	if (use_ev) {
		io->ev = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV);
		if (io->ev == NULL)
			return NULL;
		void *loops[1] = {io->ev};
		info->options |= LWS_SERVER_OPTION_LIBEV;
		info->foreign_loops = loops;
		struct lws_context *ctx = lws_create_context(info);
		info->options &= ~(uint64_t)LWS_SERVER_OPTION_LIBEV;
		info->foreign_loops = NULL;
		if (ctx == NULL) {
			ev_loop_destroy(io->ev);
			io->ev = NULL;
		}
		return ctx;
	}
#endif
	(void)use_ev;
	return lws_create_context(info);
}

/* Several network threads: lws 4.1 cannot share a listening port between
 * contexts (no SO_REUSEPORT), so each thread has its own socket bound with
 * SO_REUSEPORT — the kernel spreads new connections over them — and hands
 * what it accepts to its context (lws_adopt_socket_vhost). */
static enum lsn_err
io_listen(struct iot *io, struct lsn_status *st)
{
	struct addrinfo hints, *ai = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	char port[16];
	snprintf(port, sizeof port, "%d", net.cfg->port);
	int rc = getaddrinfo(net.cfg->listen, port, &hints, &ai);
	if (rc != 0)
		return lsn_fail(st, LSN_ERR_INTERNAL, "cannot listen on %s:%d: %s", net.cfg->listen,
				net.cfg->port, gai_strerror(rc));
	int one = 1, fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return lsn_fail(st, LSN_ERR_INTERNAL, "cannot listen on %s:%d: %s", net.cfg->listen,
				net.cfg->port, strerror(e));
	}
	freeaddrinfo(ai);
	io->lfd = fd;
	return LSN_OK;
}

#if defined(LSN_HAVE_LIBEV)
static void
io_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct iot *io = (struct iot *)((char *)w - offsetof(struct iot, accept_w));
	for (int i = 0; i < 64; i++) {     /* then let the others run */
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		int fd = accept4(io->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		/* what lws's own listener sets on what it accepts: without it,
		 * Nagle and the peer's delayed ACK held small frames ~40 ms */
		int one = 1;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
			log_debug("TCP_NODELAY: %s", strerror(errno));
		if (lws_adopt_socket_vhost(io->vh, fd) == NULL)   /* lws closed fd */
			log_debug("a new connection could not be adopted (out of memory?)");
	}
}
#endif

static enum lsn_err
net_create_threads(struct lws_context_creation_info *info, struct lsn_status *st)
{
#if defined(LSN_HAVE_LIBEV)
	info->port = CONTEXT_PORT_NO_LISTEN_SERVER;
	for (unsigned i = 0; i < net.nio; i++) {
		struct iot *io = &net.io[i];
		enum lsn_err err = io_listen(io, st);
		if (err != LSN_OK)
			return err;
		io->ctx = net_try_create(info, true, io);
		if (io->ctx == NULL || (io->vh = lws_get_vhost_by_name(io->ctx,
								       net.cfg->server_name)) == NULL)
			return lsn_fail(st, LSN_ERR_INTERNAL,
					"cannot start network thread %u's TLS context (is "
					"libwebsockets-evlib-ev installed? bad certificate or key?); "
					"see the lines above", i + 1);
		ev_io_init(&io->accept_w, io_accept_cb, io->lfd, EV_READ);
		ev_io_start(io->ev, &io->accept_w);
		lws_sul_schedule(io->ctx, 0, &io->idle_sul, idle_cb, LWS_US_PER_SEC);
	}
	net.ctx = net.io[0].ctx;
	return LSN_OK;
#else
	(void)info;
	return lsn_fail(st, LSN_ERR_BAD_REQUEST, "service_threads above 1 needs libwebsockets' libev "
			"loop, which this build lacks; set service_threads = 1");
#endif
}

static enum lsn_err
net_create(struct lsn_status *st)
{
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	/* lws's idle policy off (a hang-up time of 0; the ping time must not be
	 * 0, or lws keeps its default of 300/310 s): idle_wheel.c does it */
	net.retry.secs_since_valid_ping = 1;
	net.retry.secs_since_valid_hangup = 0;
	info.port = net.cfg->port;
	info.iface = net.cfg->listen;
	info.protocols = protocols;
	info.vhost_name = net.cfg->server_name;
	info.ssl_cert_filepath = net.cfg->tls_cert;
	info.ssl_private_key_filepath = net.cfg->tls_key;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	/* TLS 1.3 when the client has it; TLS 1.2 only with forward-secret
	 * AEAD suites, in our order; nothing older (tls_suites.h) */
	info.ssl_cipher_list = LSN_TLS12_CIPHERS;
	info.tls1_3_plus_cipher_list = LSN_TLS13_CIPHERS;
	info.ssl_options_set = (long)(LSN_TLS_OPTIONS | SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* lws binds an IPv4 literal to the wildcard address when IPv6 is on:
	 * keep IPv6 off for IPv4 listen addresses so 127.0.0.1 means loopback */
	if (strchr(net.cfg->listen, ':') == NULL)
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	/* HTTP/1.1 only: over h2 (RFC 8441, Chromium's default on a TLS origin)
	 * lws 4.1 replenishes the stream's flow-control window a few bytes at a
	 * time, so a browser sends a 64 KiB attachment chunk in thousands of
	 * tiny DATA frames, and a reply larger than the window drops the
	 * connection (docs/WEB.md "Attachments") */
	info.alpn = "http/1.1";
	info.retry_and_idle_policy = &net.retry;
	info.count_threads = 1;
	info.timeout_secs = 20;
	if (net.threaded) {
		if (strcmp(net.cfg->event_loop, "poll") == 0)
			return lsn_fail(st, LSN_ERR_BAD_REQUEST, "service_threads above 1 needs "
					"event_loop = epoll");
		return net_create_threads(&info, st);
	}
	bool use_ev = strcmp(net.cfg->event_loop, "poll") != 0;
	for (unsigned i = 0; i < net.nio; i++) {
		struct iot *io = &net.io[i];
		io->ctx = net_try_create(&info, use_ev, io);
		if (io->ctx == NULL && use_ev) {
			log_warn("the epoll event loop is not available (is libwebsockets-evlib-ev "
				 "installed?); using poll(), which costs more CPU with many connections");
			use_ev = false;
			io->ctx = net_try_create(&info, false, io);
		}
		if (io->ctx == NULL)
			return lsn_fail(st, LSN_ERR_INTERNAL,
					"cannot start the TLS listener on %s:%d (port in use, bad "
					"certificate or key?); see the lines above", net.cfg->listen,
					net.cfg->port);
	}
	net.ctx = net.io[0].ctx;
	return LSN_OK;
}

/* One turn of an event loop: wait for something, handle it. */
static int
io_service(struct iot *io)
{
#if defined(LSN_HAVE_LIBEV)
	if (io->ev) {
		ev_run(io->ev, EVRUN_ONCE);
		return 0;
	}
#endif
	return lws_service(io->ctx, 0);
}

static int
net_service(void)
{
	int n = io_service(&net.io[0]);
	net_flush();
	return n;
}

static const char *
net_loop_name(void)
{
#if defined(LSN_HAVE_LIBEV)
	if (net.io[0].ev)
		return "epoll (libev)";
#endif
	return "poll";
}

static void
net_destroy(void)
{
	for (unsigned i = 0; i < CONFIG_SERVICE_THREADS_MAX; i++) {
		struct iot *io = &net.io[i];
#if defined(LSN_HAVE_LIBEV)
		if (io->ev && io->lfd >= 0)
			ev_io_stop(io->ev, &io->accept_w);
#endif
		if (io->lfd >= 0)
			close(io->lfd);
		io->lfd = -1;
		if (io->ctx && net.threaded)
			lws_sul_cancel(&io->idle_sul);
		if (io->ctx)
			lws_context_destroy(io->ctx);
		io->ctx = NULL;
#if defined(LSN_HAVE_LIBEV)
		if (io->ev) {
			ev_loop_destroy(io->ev);
			io->ev = NULL;
		}
#endif
	}
	net.ctx = NULL;
}

static void
io_free_all(void)
{
	for (unsigned i = 0; i < CONFIG_SERVICE_THREADS_MAX; i++) {
		free(net.io[i].batch_buf);
		net.io[i].batch_buf = NULL;
		pthread_mutex_destroy(&net.io[i].mu);
	}
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
	commit_drain();
	deliver_close_all(LWS_CLOSE_STATUS_GOINGAWAY, "server shutting down");
	drain_tick(&tick);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	time_t deadline = now.tv_sec + 3;
	while (deliver_client_count() && now.tv_sec < deadline) {
		if (net_service() < 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
	}
	lws_sul_cancel(&tick);
	commit_run();
}

enum lsn_err
net_run(const struct config *cfg, struct store *store, struct lsn_status *st)
{
	memset(&net, 0, sizeof net);
	net.cfg = cfg;
	net.srv.store = store;
	net.srv.cfg = cfg;
	net.srv.user_conns = deliver_user_conn_count;
	net.threaded = cfg->service_threads > 1;
	net.nio = net.threaded ? cfg->service_threads : 1;
	enum lsn_err err;
	if ((err = check_readable("certificate", cfg->tls_cert, st)) != LSN_OK ||
	    (err = check_readable("key", cfg->tls_key, st)) != LSN_OK)
		return err;
	if (net.threaded && handoff_init() != 0) {
		handoff_fini();
		return lsn_fail(st, LSN_ERR_INTERNAL, "cannot make an eventfd for the core thread");
	}
	for (unsigned i = 0; i < CONFIG_SERVICE_THREADS_MAX; i++) {
		pthread_mutex_init(&net.io[i].mu, NULL);
		net.io[i].lfd = -1;
		idle_wheel_init(&net.io[i].idle, cfg->ping_after_s, cfg->hangup_after_s, idle_now());
	}
	if ((net.srv.rl = dispatch_ratelimit_new(cfg)) == NULL) {
		io_free_all();
		handoff_fini();
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory (rate-limit tables)");
	}
	lws_set_log_level(LLL_ERR | (cfg->log_level >= LOG_DEBUG ? LLL_WARN | LLL_NOTICE : 0),
			  lws_log_emit);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (deliver_init(cfg, &deliver_hooks) != 0) {
		ratelimit_free(net.srv.rl);
		io_free_all();
		handoff_fini();
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	}
	if ((err = net_create(st)) != LSN_OK) {
		net_destroy();
		deliver_fini();
		ratelimit_free(net.srv.rl);
		io_free_all();
		handoff_fini();
		return err;
	}
	log_info("liaisond %s listening on wss://%s:%d (server name %s, synchronous=%s, %s loop, "
		 "%u network thread%s%s)", LSN_VERSION, cfg->listen, cfg->port, cfg->server_name,
		 cfg->synchronous == STORE_SYNC_FULL ? "full" : "normal", net_loop_name(), net.nio,
		 net.nio > 1 ? "s" : "", net.threaded ? " and a core thread" : "");
	if (web_static_root_ok(cfg->web_root))
		log_info("serving the browser client from %s at https://%s:%d/", cfg->web_root,
			 cfg->listen, cfg->port);
	else
		log_info("no browser client is installed (web_root %s is not a readable "
			 "directory): / answers 404; see docs/OPERATIONS.md", cfg->web_root);
	commit_init(store, cfg, &commit_hooks, true);
	timers_init(store, cfg);
	if (net.threaded) {
		if (!io_start_all())
			net.stop = 1;
		core_run();
		io_stop_all();
		net_destroy();         /* "closed" for whoever was still there */
		core_messages();       /* ...and the core frees them */
		commit_fini();
	} else {
		lws_sul_schedule(net.ctx, 0, &net.timer_sul, timer_cb, LWS_US_PER_SEC);
		lws_sul_schedule(net.ctx, 0, &net.sweep_sul, sweep_cb, LWS_US_PER_SEC);
		lws_sul_schedule(net.ctx, 0, &net.io[0].idle_sul, idle_cb, LWS_US_PER_SEC);
		while (!net.stop)
			if (net_service() < 0)
				break;
		lws_sul_cancel(&net.timer_sul);
		lws_sul_cancel(&net.sweep_sul);
		lws_sul_cancel(&net.io[0].idle_sul);
		log_info("shutting down: committing and closing %u connections",
			 deliver_client_count());
		net_drain();
		commit_fini();
		net_destroy();
	}
	deliver_fini();
	ratelimit_free(net.srv.rl);
	net.srv.rl = NULL;
	io_free_all();
	handoff_fini();
	log_info("stopped");
	return LSN_OK;
}
