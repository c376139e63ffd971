/* net.c — the only module that calls libwebsockets: the TLS context and
 * its event loop, the liaison.v1 WebSocket protocol (a connection opens,
 * frames arrive, queued frames are written when the socket is writable,
 * it closes), HTTP /healthz, /metrics and the browser client's files
 * (web_static.c finds them and names their headers), the timers that
 * drive commit.c and timers.c, and graceful shutdown. A received frame goes to dispatch.c
 * (or waits in commit.c while a commit is in flight); its result goes to
 * commit.c, which holds or delivers it; deliver.c fills the output queues
 * that this file writes out. No database access and no domain code here. */
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* A WebSocket connection: the transport-free peer (deliver.h) and what
 * libwebsockets needs. */
struct conn {
	struct client peer;              /* first: a peer is its conn */
	struct lws *wsi;
	char *rx;
	size_t rx_len, rx_cap;
	bool rx_discard, rx_binary;
	struct idle_entry idle;          /* the idle policy (idle_wheel.h) */
	bool ping_due;                   /* a ping waits for WRITEABLE */
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
	lws_sorted_usec_list_t idle_sul;
	struct idle_wheel idle;
	unsigned char *batch_buf;      /* LWS_PRE, then a {"batch":[...]} payload */
	size_t batch_cap;
	volatile sig_atomic_t stop;
	bool stopping;
#if defined(LSN_HAVE_LIBEV)
	struct ev_loop *ev;            /* NULL: lws's own poll() loop */
#endif
} net;

static struct conn *
conn_of(struct client *p)
{
	return (struct conn *)p;
}

/* ---- hooks for deliver.c and commit.c ----------------------------------- */

static void
hook_want_write(struct client *p)
{
	lws_callback_on_writable(conn_of(p)->wsi);
}

static void
hook_closing(struct client *p)
{
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
	lws_sul_schedule(net.ctx, 0, &net.commit_sul, commit_cb, (lws_usec_t)delay_us);
}

static void
hook_cancel(void)
{
	lws_sul_cancel(&net.commit_sul);
}

/* Called by the commit or sync thread: lws_cancel_service is the one lws
 * call that is safe from another thread; the service thread then reaps. */
static void
hook_wake(void)
{
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
		  (unsigned long long)c->peer.sess.conn_id, net.cfg->hangup_after_s);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

static void
idle_cb(lws_sorted_usec_list_t *sul)
{
	idle_wheel_advance(&net.idle, idle_now(), idle_report, NULL);
	lws_sul_schedule(net.ctx, 0, sul, idle_cb, LWS_US_PER_SEC);
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
	if (outq_peek(&c->peer.q) || c->peer.closing)
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
	idle_wheel_add(&net.idle, &c->idle, idle_now());
	lws_get_peer_simple(wsi, c->peer.sess.peer, sizeof c->peer.sess.peer);
	deliver_client_add(&c->peer, LWS_PRE);
	return c;
}

static void
conn_free(struct conn *c)
{
	commit_forget(&c->peer);
	idle_wheel_remove(&net.idle, &c->idle);
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

static void
rx_frame_done(struct conn *c)
{
	if (!commit_defer(&c->peer, c->rx, c->rx_len, c->rx_discard, c->rx_binary))
		frame_process(&c->peer, c->rx, c->rx_len, c->rx_discard, c->rx_binary);
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
batch_pack(struct client *c, size_t *out_len)
{
	static const char open[] = "{\"batch\":[", close[] = "]}";
	struct outq_frame *f = outq_peek(&c->q);
	if (!c->sess.batch || f == NULL || f->next == NULL || f->binary)
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
	struct client *p = &c->peer;
	struct outq_frame *f = outq_peek(&p->q);
	if (f == NULL) {
		if (p->closing) {
			lws_close_reason(c->wsi, (enum lws_close_status)p->close_code,
					 (unsigned char *)p->close_reason, strlen(p->close_reason));
			return -1;
		}
		return 0;
	}
	size_t len = 0;
	unsigned packed = batch_pack(p, &len);
	unsigned char *payload = packed ? net.batch_buf + LWS_PRE : outq_payload(&p->q, f);
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

static int
ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct conn **slot = (struct conn **)user;
	struct conn *c = slot ? *slot : NULL;
	if (c && (reason == LWS_CALLBACK_RECEIVE || reason == LWS_CALLBACK_RECEIVE_PONG))
		idle_wheel_touch(&c->idle, idle_now());
	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		if (net.stopping || (*slot = conn_new(wsi)) == NULL)
			return -1;
		if (conn_over_unauth_cap(*slot))
			return 0;
		conn_hello(*slot);
		return 0;
	case LWS_CALLBACK_RECEIVE:
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
		if (c && c->ping_due && !c->peer.closing)
			return idle_ping_write(c);
		return c ? conn_writeable(c) : 0;
	case LWS_CALLBACK_CLOSED:
		if (c) {
			conn_free(c);
			*slot = NULL;
		}
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
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
	idle_wheel_init(&net.idle, cfg->ping_after_s, cfg->hangup_after_s, idle_now());
	net.srv.store = store;
	net.srv.cfg = cfg;
	net.srv.user_conns = deliver_user_conn_count;
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
	if (deliver_init(cfg, &deliver_hooks) != 0) {
		ratelimit_free(net.srv.rl);
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	}
	if ((err = net_create(st)) != LSN_OK) {
		deliver_fini();
		ratelimit_free(net.srv.rl);
		return err;
	}
	log_info("liaisond %s listening on wss://%s:%d (server name %s, synchronous=%s, %s loop)",
		 LSN_VERSION, cfg->listen, cfg->port, cfg->server_name,
		 cfg->synchronous == STORE_SYNC_FULL ? "full" : "normal", net_loop_name());
	if (web_static_root_ok(cfg->web_root))
		log_info("serving the browser client from %s at https://%s:%d/", cfg->web_root,
			 cfg->listen, cfg->port);
	else
		log_info("no browser client is installed (web_root %s is not a readable "
			 "directory): / answers 404; see docs/OPERATIONS.md", cfg->web_root);
	commit_init(store, cfg, &commit_hooks, true);
	timers_init(store, cfg);
	lws_sul_schedule(net.ctx, 0, &net.timer_sul, timer_cb, LWS_US_PER_SEC);
	lws_sul_schedule(net.ctx, 0, &net.sweep_sul, sweep_cb, LWS_US_PER_SEC);
	lws_sul_schedule(net.ctx, 0, &net.idle_sul, idle_cb, LWS_US_PER_SEC);
	while (!net.stop)
		if (net_service() < 0)
			break;
	lws_sul_cancel(&net.timer_sul);
	lws_sul_cancel(&net.sweep_sul);
	lws_sul_cancel(&net.idle_sul);
	log_info("shutting down: committing and closing %u connections", deliver_client_count());
	net_drain();
	commit_fini();
	net_destroy();
	deliver_fini();
	ratelimit_free(net.srv.rl);
	net.srv.rl = NULL;
	free(net.batch_buf);
	log_info("stopped");
	return LSN_OK;
}
