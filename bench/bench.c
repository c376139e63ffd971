/* bench.c — liaison-bench: a load generator that drives a real liaisond over
 * TLS with the real liaison.v1 protocol, from many WebSocket connections (one
 * lws client context per process, one wsi per simulated device; --procs N
 * forks N generator processes, see below).
 *
 * Workloads (docs/PERFORMANCE.md):
 *   busy  (W1)  enrol --users professionals (invites issued by one
 *               "liaisond invite --csv" on --data-dir), log them in with their
 *               device keys, create case channels of --channel-size members
 *               (signed membership-log entries), then send --rate envelopes
 *               per second for --duration seconds (open loop) and measure, per
 *               message, the ack latency (send -> reply, which the server
 *               sends after commit) and the delivery latency (send ->
 *               "message" event at each other member).
 *   saturation (W2)  the same setup, then steps of rising rate on the same
 *               connections (--rate-start, times --rate-factor or plus
 *               --rate-step, each --warmup + --step-duration seconds, then a
 *               drain); stops after the first step that fails (ack p99 over
 *               --p99-limit-ms, a loss or an error) or above --rate-max.
 *   idle  (W3)  open --conns TLS WebSocket connections that only receive
 *               hello, and report server RSS growth per connection.
 *   storm (W4)  --users clients in channels of --channel-size, plus one
 *               poster per channel (the channel's creator); the clients
 *               disconnect, each poster sends --missed messages, then every
 *               client reconnects at once (TLS, login) and catches up with
 *               "messages" after the last sequence number it had seen.
 *   documents (W5)  one client uploads a --doc-size attachment of random
 *               bytes in chunks, then --downloaders clients download it at
 *               once; each download's BLAKE2b-256 is checked.
 *
 * --procs N: the parent issues the invites, then forks N workers; worker w
 * drives whole channels (every member of a channel is in the same process,
 * so delivery accounting stays local). At the end of each phase (setup, a
 * saturation step, ...) every worker writes its counters and histograms to
 * the parent through a pipe; the parent merges them, prints, and answers
 * continue or stop through a second pipe, which also starts the next phase in
 * every worker at the same moment. With --procs 1 (the default) the same
 * phases run in one process.
 *
 * Binary chunks: the bench logs in with "binary": true (unless --json-chunks)
 * and, when the server echoes it, W5 sends attachment_put and reads
 * attachment_get's reply as binary chunk frames (PROTOCOL.md "Binary chunk
 * frames", shared/chunk_frame.h); --json-chunks measures the JSON form.
 *
 * Frame coalescing: the bench logs in with "batch": true (unless --no-batch);
 * a {"batch":[F1,F2,...]} frame is unpacked and each Fi handled as if it had
 * arrived alone.
 *
 * Event loop: where lws has its libev plugin, each process runs lws inside an
 * epoll-backed libev loop (as liaisond does), so a turn costs what is ready
 * rather than a poll() over every connection; --poll keeps lws's own loop.
 *
 * Envelopes are random bytes behind a well-formed 80-byte header (CRYPTO.md
 * §4): the server neither decrypts nor verifies them. The header's
 * session_id carries the bench's tag (message number, send time) so the
 * receiver can time the delivery. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libwebsockets.h>
#include <sodium.h>
#if defined(LSN_HAVE_LIBEV)
#include <ev.h>
#endif

#include "chunk_frame.h"
#include "hist.h"
#include "lsn_config.h"
#include "mlog.h"
#include "msg_header.h"
#include "sigs.h"
#include "wire.h"

#define TAG_MAGIC      0x424e4348u /* "BNCH" */
#define TAG_OFF        20          /* session_id starts after "LSN" v channel */
#define CONNECT_WINDOW 64          /* TLS handshakes in flight at once (setup) */
#define DOC_CHUNK      65536       /* attachment chunk (CRYPTO.md §8 plaintext size) */
#define FETCH_LIMIT    200         /* "messages" page size in the storm */

/* ---- options ------------------------------------------------------------ */

struct opts {
	const char *workload;
	const char *host;
	int port;
	const char *server_name;
	const char *ca;
	const char *liaisond;
	const char *data_dir;
	const char *org;
	int server_pid;
	int users;
	int channel_size;
	double rate;
	double duration;
	int msg_size;
	int conns;
	double drain;
	int procs;
	/* saturation */
	double rate_start, rate_factor, rate_step, rate_max, warmup, step_duration, p99_limit_ms;
	/* storm */
	int missed;
	int storm_window;
	double storm_timeout;
	/* documents */
	int doc_size;
	int downloaders;
	int window;
	bool json;
	bool quiet;
	bool no_batch;
	bool json_chunks;             /* attachment chunks in JSON (base64), not binary */
	bool poll;                    /* lws's poll() loop even where libev is there */
};

static struct opts O = {
	.workload = "busy", .host = "localhost", .port = 7443, .server_name = "localhost",
	.ca = LSN_DEV_CA, .liaisond = NULL, .data_dir = NULL, .org = "450000005",
	.server_pid = 0, .users = 100, .channel_size = 5, .rate = 200, .duration = 10,
	.msg_size = 512, .conns = 1000, .drain = 15, .procs = 1,
	.rate_start = 1000, .rate_factor = 1.5, .rate_step = 0, .rate_max = 100000,
	.warmup = 1, .step_duration = 5, .p99_limit_ms = 50,
	.missed = 100, .storm_window = 0, .storm_timeout = 120,
	.doc_size = 10 * 1024 * 1024, .downloaders = 20, .window = 16,
	.json = false, .quiet = false, .no_batch = false,
};

enum workload { W_BUSY, W_SAT, W_IDLE, W_STORM, W_DOCS };
static enum workload WL;

/* ---- connections -------------------------------------------------------- */

enum cstate {
	C_NEW, C_CONNECTING, C_OPEN, C_ENROL, C_CHALLENGE, C_LOGIN, C_READY, C_CLOSED,
};

enum pkind {
	P_ENROL, P_CHALLENGE, P_LOGIN, P_CREATE, P_APPEND, P_SEND, P_FETCH,
	P_ATT_BEGIN, P_ATT_PUT, P_ATT_FINISH, P_ATT_GET,
};

struct pend {
	enum pkind kind;
	int64_t id;
	uint64_t t_ns;
	uint64_t aux;                 /* message number (send), chunk index (attachments) */
};

struct frame {
	struct frame *next;
	size_t len;
	bool binary;
	unsigned char data[];
};

struct bconn {
	int idx;                      /* global index (before the --procs slicing) */
	struct lws *wsi;
	enum cstate st;
	bool hello;
	bool enrolled;                /* log in again with the hello challenge */
	bool closing;                 /* we close it on purpose (storm) */
	uint8_t challenge[LSN_CHALLENGE_BYTES];
	uint8_t user[LSN_ID_BYTES], device[LSN_ID_BYTES], ak_id[LSN_ID_BYTES];
	uint8_t ik_pk[32], ik_sk[64], dk_pk[32], dk_sk[64], ak_pk[32];
	char user_hex[33], dev_hex[33];
	char invite[64];
	int chan;
	int64_t next_id;
	struct frame *tx_head, *tx_tail;
	struct pend *pq;
	size_t pq_head, pq_len, pq_cap;
	char *rx;
	size_t rx_len, rx_cap;
	/* channel creation, for the channel's first member */
	int setup_next;               /* next member to add; -1 when not a creator */
	struct lsn_mlog_entry last;
	/* storm */
	int64_t last_seq;             /* highest message sequence number seen */
	int missed_got;
	bool sync_done;               /* caught up, failed or gave up */
	/* documents */
	int next_chunk;               /* next chunk to request (put or get) */
	int chunks_done;
	uint64_t doc_bytes;
	crypto_generichash_state hs;
	bool doc_done;
	bool binary;                  /* the server agreed to binary chunk frames */
};

struct bchan {
	uint8_t id[LSN_ID_BYTES];
	char hex[33];
	int first;
	bool done;
};

static struct lws_context *ctx;
static struct bconn *C;
static int nconn;                     /* connections driven by this process */
static struct bchan *CH;
static int nchan;
static int gsize;                     /* connections per channel in C[] */
static int total_conns, total_chans;  /* over every worker */
static int *cq;                       /* connection queue (indices into C) */
static int cq_len, cq_pos;
static int connect_window = CONNECT_WINDOW;
static int connecting;
static int n_open, n_ready, n_closed, n_conn_errors, chans_done, n_closed_on_purpose;
static bool fatal;
static char fatal_msg[256];
static char run_nonce[9];
static int worker_no = -1;            /* -1: the only process */

/* measurements of the current phase (sent to the parent at its end) */
struct stats {
	int phase;
	int fatal;
	int ev_loop;                  /* the generator ran on epoll (libev) */
	char fatal_msg[256];
	int users, chans;
	double rate;                  /* offered, whole run (all workers) */
	uint64_t sent, acked, ack_errors, deliveries, expected, dup, self_echo, foreign,
		unexpected_close, conn_errors, batch_frames, batched;
	uint64_t acked_window;        /* acks that arrived inside the measured window */
	double window_s, send_window_s, measured_s;
	double srv_cpu;               /* -1 when not measured */
	long rss_kib, hwm_kib;
	double bench_cpu;
	double t_login, t_chan;
	/* storm */
	uint64_t clients, synced, missed_expected, missed_got, login_fail;
	double storm_s;
	/* documents */
	double up_s, down_s;
	uint64_t doc_bytes, down_ok, down_bad;
	struct hist ack, deliv, sync, login;
};
static struct stats S;
static uint64_t g_batch_frames, g_batched;

/* message numbering and the measured range */
static uint64_t next_msg;
static uint64_t meas_lo, meas_hi = UINT64_MAX;
static uint8_t *deliv_count;          /* per message number */
static size_t deliv_cap;
static bool win_open;

static uint64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int64_t
wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
die(const char *fmt, ...)
{
	if (fatal)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fatal_msg, sizeof fatal_msg, fmt, ap);
	va_end(ap);
	fatal = true;
}

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	if (O.quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (worker_no >= 0)
		fprintf(stderr, "liaison-bench[%d]: ", worker_no);
	else
		fprintf(stderr, "liaison-bench: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void
stats_reset(int phase)
{
	memset(&S, 0, sizeof S);
	S.phase = phase;
	S.users = nconn;
	S.chans = nchan;
	S.srv_cpu = -1;
}

/* ---- outgoing ----------------------------------------------------------- */

static void
pend_push(struct bconn *c, enum pkind kind, int64_t id, uint64_t t, uint64_t aux)
{
	if (c->pq_len == c->pq_cap) {
		size_t cap = c->pq_cap ? c->pq_cap * 2 : 16;
		struct pend *n = malloc(cap * sizeof *n);
		if (n == NULL) {
			die("out of memory");
			return;
		}
		for (size_t i = 0; i < c->pq_len; i++)
			n[i] = c->pq[(c->pq_head + i) % c->pq_cap];
		free(c->pq);
		c->pq = n;
		c->pq_cap = cap;
		c->pq_head = 0;
	}
	c->pq[(c->pq_head + c->pq_len) % c->pq_cap] = (struct pend){kind, id, t, aux};
	c->pq_len++;
}

static bool
pend_pop(struct bconn *c, struct pend *out)
{
	if (c->pq_len == 0)
		return false;
	*out = c->pq[c->pq_head];
	c->pq_head = (c->pq_head + 1) % c->pq_cap;
	c->pq_len--;
	return true;
}

/* Queue a frame; payload NULL: the caller fills it. */
static struct frame *
queue_frame(struct bconn *c, const void *payload, size_t len, bool binary)
{
	struct frame *f = malloc(sizeof *f + LWS_PRE + len);
	if (f == NULL) {
		die("out of memory");
		return NULL;
	}
	f->next = NULL;
	f->len = len;
	f->binary = binary;
	if (payload)
		memcpy(f->data + LWS_PRE, payload, len);
	if (c->tx_tail)
		c->tx_tail->next = f;
	else
		c->tx_head = f;
	c->tx_tail = f;
	if (c->wsi)
		lws_callback_on_writable(c->wsi);
	return f;
}

static void
queue_text(struct bconn *c, const char *text, size_t len)
{
	queue_frame(c, text, len, false);
}

static void
drop_queues(struct bconn *c)
{
	while (c->tx_head) {
		struct frame *f = c->tx_head;
		c->tx_head = f->next;
		free(f);
	}
	c->tx_tail = NULL;
	c->pq_len = 0;
	c->pq_head = 0;
	c->rx_len = 0;
}

/* Send a request built with jansson (body stolen). */
static void
request(struct bconn *c, enum pkind kind, const char *op, json_t *body, uint64_t aux)
{
	size_t len;
	int64_t id = c->next_id++;
	char *text = wire_encode_request(id, op, body, &len);
	if (text == NULL) {
		die("cannot encode %s", op);
		return;
	}
	pend_push(c, kind, id, now_ns(), aux);
	queue_text(c, text, len);
	free(text);
}

static json_t *
b64(const uint8_t *p, size_t n)
{
	return wire_b64(p, n);
}

static void
send_enrol(struct bconn *c)
{
	int64_t ts = wall_ms();
	uint8_t buf[LSN_SIGNED_MAX], dk_sig[64], ak_sig[64];
	size_t n = lsn_signed_device_cert(buf, c->user, c->device, c->dk_pk, (uint64_t)ts);
	crypto_sign_detached(dk_sig, NULL, buf, n, c->ik_sk);
	n = lsn_signed_ak_cert(buf, c->device, c->ak_id, c->ak_pk, (uint64_t)ts);
	crypto_sign_detached(ak_sig, NULL, buf, n, c->dk_sk);
	char idem[48];
	snprintf(idem, sizeof idem, "enrol-%s", c->dev_hex);
	json_t *b = json_pack("{s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:I, s:o, s:o, s:o, s:I, s:o}",
			      "idem", idem, "code", c->invite, "user", wire_id(c->user),
			      "device", wire_id(c->device), "device_name", "bench",
			      "ik", b64(c->ik_pk, 32), "dk", b64(c->dk_pk, 32), "dk_ts", (json_int_t)ts,
			      "dk_sig", b64(dk_sig, 64), "ak_id", wire_id(c->ak_id),
			      "ak", b64(c->ak_pk, 32), "ak_ts", (json_int_t)ts, "ak_sig", b64(ak_sig, 64));
	c->st = C_ENROL;
	request(c, P_ENROL, "enrol", b, 0);
}

static void
send_login(struct bconn *c)
{
	uint8_t buf[LSN_SIGNED_MAX], sig[64];
	size_t n = lsn_signed_login(buf, O.server_name, c->user, c->device, c->challenge);
	crypto_sign_detached(sig, NULL, buf, n, c->dk_sk);
	c->st = C_LOGIN;
	json_t *b = json_pack("{s:o, s:o, s:o}", "user", wire_id(c->user), "device",
			      wire_id(c->device), "sig", b64(sig, 64));
	if (!O.no_batch)
		json_object_set_new(b, "batch", json_true());
	if (!O.json_chunks)
		json_object_set_new(b, "binary", json_true());
	request(c, P_LOGIN, "login", b, 0);
}

/* The creator's next membership-log entry: create, then one add per member. */
static void
send_mlog_next(struct bconn *c)
{
	struct bchan *ch = &CH[c->chan];
	struct lsn_mlog_entry e;
	memset(&e, 0, sizeof e);
	memcpy(e.channel, ch->id, LSN_ID_BYTES);
	memcpy(e.actor, c->user, LSN_ID_BYTES);
	memcpy(e.actor_device, c->device, LSN_ID_BYTES);
	e.ts = wall_ms();
	bool create = c->setup_next == ch->first;
	if (create) {
		e.seq = 0;
		e.action = LSN_MLOG_CREATE;
		memcpy(e.subject, c->user, LSN_ID_BYTES);
		e.role = LSN_CROLE_ADMIN;
		e.history = LSN_HISTORY_SHARED;
		e.kind = LSN_KIND_CASE;
	} else {
		e.seq = c->last.seq + 1;
		lsn_mlog_hash(&c->last, e.prev);
		e.action = LSN_MLOG_ADD;
		memcpy(e.subject, C[c->setup_next].user, LSN_ID_BYTES);
		e.role = LSN_CROLE_MEMBER;
	}
	lsn_mlog_sign(&e, c->dk_sk);
	c->last = e;
	char idem[64];
	snprintf(idem, sizeof idem, "mlog-%s-%s-%" PRIu64, run_nonce, ch->hex, e.seq);
	json_t *entry = lsn_mlog_to_json(&e);
	request(c, create ? P_CREATE : P_APPEND, create ? "channel_create" : "channel_append",
		json_pack("{s:s, s:o}", "idem", idem, "entry", entry), 0);
	c->setup_next++;
}

static void
send_message(struct bconn *c)
{
	static char *text;
	static size_t text_cap;
	size_t env_len = (size_t)O.msg_size;
	uint8_t env[LSN_MSG_MAX_BYTES];
	uint64_t msg = next_msg;
	if (msg >= deliv_cap) {
		size_t cap = deliv_cap ? deliv_cap * 2 : 65536;
		while (cap <= msg)
			cap *= 2;
		uint8_t *n = realloc(deliv_count, cap);
		if (n == NULL) {
			die("out of memory");
			return;
		}
		memset(n + deliv_cap, 0, cap - deliv_cap);
		deliv_count = n;
		deliv_cap = cap;
	}
	struct lsn_msg_header h;
	memset(&h, 0, sizeof h);
	h.version = LSN_MSG_VERSION;
	memcpy(h.channel, CH[c->chan].id, LSN_ID_BYTES);
	memcpy(h.sender_device, c->device, LSN_ID_BYTES);
	h.ts_ms = (uint64_t)wall_ms();
	lsn_msg_header_write(&h, env);
	randombytes_buf(env + LSN_MSG_HEADER_BYTES, env_len - LSN_MSG_HEADER_BYTES);
	uint64_t t = now_ns();
	uint32_t magic = TAG_MAGIC;
	memcpy(env + TAG_OFF, &magic, 4);
	memcpy(env + TAG_OFF + 4, &msg, 8);
	memcpy(env + TAG_OFF + 12, &t, 8);
	randombytes_buf(env + TAG_OFF + 20, 12);

	size_t b64_len = sodium_base64_ENCODED_LEN(env_len, sodium_base64_VARIANT_ORIGINAL);
	size_t need = b64_len + 256;
	if (need > text_cap) {
		char *n = realloc(text, need);
		if (n == NULL) {
			die("out of memory");
			return;
		}
		text = n;
		text_cap = need;
	}
	int64_t id = c->next_id++;
	int head = snprintf(text, text_cap,
			    "{\"id\":%" PRId64 ",\"op\":\"send\",\"idem\":\"m%s-%" PRIu64
			    "\",\"channel\":\"%s\",\"envelope\":\"",
			    id, run_nonce, msg, CH[c->chan].hex);
	sodium_bin2base64(text + head, text_cap - (size_t)head, env, env_len,
			  sodium_base64_VARIANT_ORIGINAL);
	size_t len = (size_t)head + strlen(text + head);
	memcpy(text + len, "\"}", 2);
	len += 2;
	pend_push(c, P_SEND, id, t, msg);
	queue_text(c, text, len);
	next_msg++;
	S.sent++;
}

static void
send_fetch(struct bconn *c)
{
	request(c, P_FETCH, "messages",
		json_pack("{s:s, s:I, s:i}", "channel", CH[c->chan].hex, "after",
			  (json_int_t)c->last_seq, "limit", FETCH_LIMIT), 0);
}

/* ---- documents state ---------------------------------------------------- */

static uint8_t *doc;                  /* the upload (random bytes) */
static int doc_chunks;
static uint8_t doc_hash[32];
static uint8_t att_id[LSN_ID_BYTES];
static char att_hex[33];
static uint64_t doc_t0, doc_t1;
static int docs_done;
static bool upload_done;

static void
send_put(struct bconn *c)
{
	int i = c->next_chunk++;
	size_t off = (size_t)i * DOC_CHUNK;
	size_t n = (size_t)O.doc_size - off < DOC_CHUNK ? (size_t)O.doc_size - off : DOC_CHUNK;
	char idem[64];
	snprintf(idem, sizeof idem, "put-%s-%d", att_hex, i);
	if (c->binary) {
		struct chunk_frame cf = {.kind = CHUNK_PUT, .id = c->next_id++, .index = i,
					 .idem = (const uint8_t *)idem, .idem_len = strlen(idem),
					 .data = doc + off, .data_len = n};
		memcpy(cf.attachment, att_id, LSN_ID_BYTES);
		size_t size = chunk_frame_size(cf.idem_len, n);
		struct frame *f = queue_frame(c, NULL, size, true);
		if (f == NULL)
			return;
		if (chunk_frame_encode(&cf, f->data + LWS_PRE, size) != size) {
			die("cannot frame chunk %d", i);
			return;
		}
		pend_push(c, P_ATT_PUT, cf.id, now_ns(), (uint64_t)i);
		return;
	}
	request(c, P_ATT_PUT, "attachment_put",
		json_pack("{s:s, s:s, s:i, s:o}", "idem", idem, "attachment", att_hex, "index", i,
			  "data", b64(doc + off, n)), (uint64_t)i);
}

static void
send_get(struct bconn *c)
{
	int i = c->next_chunk++;
	request(c, P_ATT_GET, "attachment_get",
		json_pack("{s:s, s:i}", "attachment", att_hex, "index", i), (uint64_t)i);
}

/* ---- incoming ----------------------------------------------------------- */

/* The bench tag of an envelope (base64): false if it is not one of ours. */
static bool
read_tag(const char *env, uint64_t *msg, uint64_t *t)
{
	/* only the first 72 characters (54 bytes: header up to the tag) */
	uint8_t head[64];
	size_t got = 0;
	size_t elen = strlen(env);
	if (sodium_base642bin(head, sizeof head, env, elen < 72 ? elen : 72, NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || got < TAG_OFF + 20)
		return false;
	uint32_t magic;
	memcpy(&magic, head + TAG_OFF, 4);
	memcpy(msg, head + TAG_OFF + 4, 8);
	memcpy(t, head + TAG_OFF + 12, 8);
	return magic == TAG_MAGIC;
}

static bool
measured(uint64_t msg)
{
	return msg >= meas_lo && msg < meas_hi;
}

static void
on_message_event(struct bconn *c, json_t *root)
{
	const char *env = json_string_value(json_object_get(root, "envelope"));
	const char *sender = json_string_value(json_object_get(root, "sender_device"));
	if (env == NULL)
		return;
	uint64_t t_rx = now_ns();
	uint64_t msg, t;
	if (!read_tag(env, &msg, &t) || msg >= next_msg) {
		S.foreign++;
		return;
	}
	if (sender && strcmp(sender, c->dev_hex) == 0) {
		S.self_echo++;
		return;
	}
	if (WL == W_STORM) {
		/* the warm-up message, before the clients disconnect */
		json_int_t seq = json_integer_value(json_object_get(root, "seq"));
		if (seq > c->last_seq)
			c->last_seq = seq;
		S.deliveries++;
		return;
	}
	if (deliv_count[msg] == 255 || ++deliv_count[msg] > (unsigned)(gsize - 1)) {
		S.dup++;
		return;
	}
	S.deliveries++;
	if (measured(msg))
		hist_add(&S.deliv, (t_rx - t) / 1000);
}

static uint64_t storm_t0;

static void
on_fetch_reply(struct bconn *c, json_t *root)
{
	json_t *list = json_object_get(root, "messages");
	size_t i;
	json_t *m;
	json_array_foreach(list, i, m) {
		json_int_t seq = json_integer_value(json_object_get(m, "seq"));
		const char *env = json_string_value(json_object_get(m, "envelope"));
		uint64_t msg, t;
		if (seq <= c->last_seq) {
			S.dup++;
			continue;
		}
		if (env == NULL || !read_tag(env, &msg, &t)) {
			S.foreign++;
			continue;
		}
		c->last_seq = seq;
		c->missed_got++;
	}
	if (json_is_true(json_object_get(root, "more")) && json_array_size(list) > 0) {
		send_fetch(c);
		return;
	}
	c->sync_done = true;
	S.missed_got += (uint64_t)c->missed_got;
	if (c->missed_got >= O.missed) {
		S.synced++;
		hist_add(&S.sync, (now_ns() - storm_t0) / 1000);
	}
}

/* One downloaded chunk (base64 text b64[0..n)): hash it, ask for the next. */
static void got_bytes(struct bconn *c, const uint8_t *buf, size_t got);

static void
got_chunk(struct bconn *c, const struct pend *p, const char *b64text, size_t n)
{
	static uint8_t *buf;
	if (buf == NULL && (buf = malloc(DOC_CHUNK + 64)) == NULL) {
		die("out of memory");
		return;
	}
	size_t got = 0;
	if (sodium_base642bin(buf, DOC_CHUNK + 64, b64text, n, NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || got == 0) {
		die("connection %d: chunk %" PRIu64 " is not base64 of 1 to %d bytes", c->idx,
		    p->aux, DOC_CHUNK + 64);
		return;
	}
	got_bytes(c, buf, got);
}

/* A downloaded chunk's bytes: hash them, ask for the next. */
static void
got_bytes(struct bconn *c, const uint8_t *buf, size_t got)
{
	crypto_generichash_update(&c->hs, buf, got);
	c->doc_bytes += got;
	c->chunks_done++;
	if (c->next_chunk < doc_chunks) {
		send_get(c);
	} else if (c->chunks_done == doc_chunks) {
		uint8_t h[32];
		crypto_generichash_final(&c->hs, h, sizeof h);
		bool same = c->doc_bytes == (uint64_t)O.doc_size &&
			    sodium_memcmp(h, doc_hash, sizeof h) == 0;
		if (same)
			S.down_ok++;
		else
			S.down_bad++;
		S.doc_bytes += c->doc_bytes;
		c->doc_done = true;
		docs_done++;
	}
}

/* The generator's own cost must not be the download's limit: an
 * attachment_get reply (one frame, {"id":N,...,"data":"<base64>"}) is read
 * without building a JSON tree when it has exactly the expected shape (id,
 * "ok":true and "index" of the oldest outstanding request outside the data
 * string). Anything else, an error reply included, goes through jansson. */
static bool
fast_get_reply(struct bconn *c, const char *buf, size_t len)
{
	if (c->pq_len == 0 || c->pq[c->pq_head].kind != P_ATT_GET)
		return false;
	const struct pend *p = &c->pq[c->pq_head];
	char idk[40], okk[] = "\"ok\":true", ixk[40];
	int idn = snprintf(idk, sizeof idk, "{\"id\":%" PRId64 ",", p->id);
	int ixn = snprintf(ixk, sizeof ixk, "\"index\":%" PRIu64, p->aux);
	static const char dk[] = "\"data\":\"";
	if (len < (size_t)idn || memcmp(buf, idk, (size_t)idn) != 0)
		return false;
	const char *d = memmem(buf, len, dk, sizeof dk - 1);
	if (d == NULL)
		return false;
	const char *start = d + sizeof dk - 1;
	const char *end = memchr(start, '"', len - (size_t)(start - buf));
	if (end == NULL)
		return false;
	size_t pre = (size_t)(d - buf), post = len - (size_t)(end - buf);
	bool ok = memmem(buf, pre, okk, sizeof okk - 1) || memmem(end, post, okk, sizeof okk - 1);
	const char *ix = memmem(buf, pre, ixk, (size_t)ixn);
	if (ix == NULL && (ix = memmem(end, post, ixk, (size_t)ixn)) == NULL)
		return false;
	char after = ix + ixn < buf + len ? ix[ixn] : '\0';
	if (!ok || (after != ',' && after != '}'))
		return false;
	for (const char *q = start; q < end; q++)
		if (*q == '\\')
			return false; /* escapes: not plain base64 */
	struct pend taken;
	pend_pop(c, &taken);
	got_chunk(c, &taken, start, (size_t)(end - start));
	return true;
}

static void
on_reply(struct bconn *c, json_t *root)
{
	struct pend p;
	if (!pend_pop(c, &p)) {
		die("connection %d: a reply with nothing outstanding", c->idx);
		return;
	}
	bool ok = json_is_true(json_object_get(root, "ok"));
	json_t *err = json_object_get(root, "error");
	const char *code = json_string_value(json_object_get(err, "code"));
	const char *msg = json_string_value(json_object_get(err, "message"));
	if (p.kind == P_SEND) {
		if (ok) {
			S.acked++;
			if (win_open)
				S.acked_window++;
			if (measured(p.aux))
				hist_add(&S.ack, (now_ns() - p.t_ns) / 1000);
		} else {
			S.ack_errors++;
			if (S.ack_errors <= 5)
				say("send refused on connection %d: %s: %s", c->idx,
				    code ? code : "?", msg ? msg : "?");
		}
		return;
	}
	if (!ok) {
		if (p.kind == P_LOGIN && WL == W_STORM && c->enrolled) {
			S.login_fail++;
			c->sync_done = true;
			say("connection %d: login refused: %s: %s", c->idx, code ? code : "?",
			    msg ? msg : "?");
			return;
		}
		if (p.kind == P_FETCH) {
			c->sync_done = true;
			S.missed_got += (uint64_t)c->missed_got;
			say("connection %d: messages refused: %s: %s", c->idx, code ? code : "?",
			    msg ? msg : "?");
			return;
		}
		static const char *const names[] = {
			"enrol", "challenge", "login", "channel_create", "channel_append", "send",
			"messages", "attachment_begin", "attachment_put", "attachment_finish",
			"attachment_get",
		};
		die("connection %d: %s refused: %s: %s", c->idx, names[p.kind], code ? code : "?",
		    msg ? msg : "?");
		return;
	}
	switch (p.kind) {
	case P_ENROL:
		c->enrolled = true;
		c->st = C_CHALLENGE;
		request(c, P_CHALLENGE, "challenge", NULL, 0);
		break;
	case P_CHALLENGE: {
		size_t got = 0;
		const char *ch = json_string_value(json_object_get(root, "challenge"));
		if (ch == NULL || !wire_b64_decode(ch, c->challenge, sizeof c->challenge, &got) ||
		    got != LSN_CHALLENGE_BYTES) {
			die("connection %d: bad challenge reply", c->idx);
			return;
		}
		send_login(c);
		break;
	}
	case P_LOGIN:
		c->binary = json_is_true(json_object_get(root, "binary"));
		c->st = C_READY;
		n_ready++;
		if (WL == W_STORM && storm_t0) {
			hist_add(&S.login, (now_ns() - storm_t0) / 1000);
			send_fetch(c);
		}
		break;
	case P_CREATE:
	case P_APPEND: {
		struct bchan *ch = &CH[c->chan];
		if (c->setup_next < ch->first + gsize) {
			send_mlog_next(c);
		} else {
			ch->done = true;
			chans_done++;
		}
		break;
	}
	case P_FETCH:
		on_fetch_reply(c, root);
		break;
	case P_ATT_BEGIN:
		c->next_chunk = 0;
		for (int k = 0; k < O.window && c->next_chunk < doc_chunks; k++)
			send_put(c);
		break;
	case P_ATT_PUT:
		c->chunks_done++;
		if (c->next_chunk < doc_chunks) {
			send_put(c);
		} else if (c->chunks_done == doc_chunks) {
			char idem[64];
			snprintf(idem, sizeof idem, "fin-%s", att_hex);
			request(c, P_ATT_FINISH, "attachment_finish",
				json_pack("{s:s, s:s, s:o}", "idem", idem, "attachment", att_hex,
					  "hash", b64(doc_hash, sizeof doc_hash)), 0);
		}
		break;
	case P_ATT_FINISH:
		doc_t1 = now_ns();
		upload_done = true;
		break;
	case P_ATT_GET: {
		const char *data = json_string_value(json_object_get(root, "data"));
		if (data == NULL ||
		    json_integer_value(json_object_get(root, "index")) != (json_int_t)p.aux) {
			die("connection %d: bad attachment_get reply for chunk %" PRIu64, c->idx,
			    p.aux);
			return;
		}
		got_chunk(c, &p, data, strlen(data));
		break;
	}
	case P_SEND:
		break;
	}
}

static void
dispatch(struct bconn *c, json_t *root)
{
	const char *ev = json_string_value(json_object_get(root, "ev"));
	if (ev == NULL) {
		on_reply(c, root);
	} else if (strcmp(ev, "message") == 0) {
		on_message_event(c, root);
	} else if (strcmp(ev, "hello") == 0 && !c->hello) {
		c->hello = true;
		size_t got = 0;
		const char *ch = json_string_value(json_object_get(root, "challenge"));
		if (ch && wire_b64_decode(ch, c->challenge, sizeof c->challenge, &got) &&
		    got == LSN_CHALLENGE_BYTES) {
			if (c->enrolled)
				send_login(c);  /* reconnection: hello's challenge */
			else if (c->invite[0])
				send_enrol(c);
			else
				c->st = C_OPEN; /* idle workload: stay silent */
		} else {
			die("connection %d: hello without a challenge", c->idx);
		}
	}
}

/* A binary frame: the chunk replying to the oldest outstanding attachment_get. */
static void
on_binary(struct bconn *c, const uint8_t *buf, size_t len)
{
	struct chunk_frame cf;
	struct lsn_status st;
	struct pend p;
	if (chunk_frame_decode(buf, len, &cf, &st) != LSN_OK || cf.kind != CHUNK_DATA) {
		die("connection %d: bad binary frame: %s", c->idx, st.msg);
		return;
	}
	if (c->pq_len == 0 || c->pq[c->pq_head].kind != P_ATT_GET ||
	    c->pq[c->pq_head].id != cf.id || c->pq[c->pq_head].aux != (uint64_t)cf.index ||
	    memcmp(cf.attachment, att_id, LSN_ID_BYTES) != 0) {
		die("connection %d: a chunk frame for request %" PRId64 " out of order", c->idx,
		    cf.id);
		return;
	}
	pend_pop(c, &p);
	got_bytes(c, cf.data, cf.data_len);
}

static void
on_frame(struct bconn *c, const char *buf, size_t len)
{
	if (len > 4096 && fast_get_reply(c, buf, len))
		return;
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, 0, &jerr);
	if (root == NULL) {
		die("connection %d: unreadable frame: %s", c->idx, jerr.text);
		return;
	}
	json_t *batch = json_object_get(root, "batch");
	if (json_is_array(batch)) {
		/* coalesced frames: each element as if it had arrived alone */
		size_t i;
		json_t *f;
		g_batch_frames++;
		json_array_foreach(batch, i, f) {
			g_batched++;
			if (!json_is_object(f)) {
				die("connection %d: a batch element is not an object", c->idx);
				break;
			}
			dispatch(c, f);
		}
	} else {
		dispatch(c, root);
	}
	json_decref(root);
}

/* ---- lws ---------------------------------------------------------------- */

static void connect_more(void);

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct bconn *c = lws_get_opaque_user_data(wsi);
	if (c == NULL)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		n_conn_errors++;
		S.conn_errors++;
		connecting--;
		c->st = C_CLOSED;
		c->wsi = NULL;
		c->sync_done = true;
		if (n_conn_errors <= 5)
			say("connection %d failed: %.*s", c->idx, in ? (int)len : 0,
			    in ? (const char *)in : "");
		connect_more();
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		connecting--;
		n_open++;
		c->st = C_OPEN;
		connect_more();
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (c->rx_len + len + 1 > c->rx_cap) {
			size_t cap = c->rx_cap ? c->rx_cap : 4096;
			while (cap < c->rx_len + len + 1)
				cap *= 2;
			char *n = realloc(c->rx, cap);
			if (n == NULL) {
				die("out of memory");
				return -1;
			}
			c->rx = n;
			c->rx_cap = cap;
		}
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += len;
		if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
			if (lws_frame_is_binary(wsi))
				on_binary(c, (const uint8_t *)c->rx, c->rx_len);
			else
				on_frame(c, c->rx, c->rx_len);
			c->rx_len = 0;
		}
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE: {
		if (c->closing)
			return -1;
		struct frame *f = c->tx_head;
		if (f == NULL)
			break;
		c->tx_head = f->next;
		if (c->tx_head == NULL)
			c->tx_tail = NULL;
		int n = lws_write(wsi, f->data + LWS_PRE, f->len,
				  f->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
		bool short_write = n < (int)f->len;
		free(f);
		if (short_write) {
			die("connection %d: write failed", c->idx);
			return -1;
		}
		if (c->tx_head)
			lws_callback_on_writable(wsi);
		break;
	}
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c->st != C_CLOSED) {
			n_closed++;
			if (c->closing)
				n_closed_on_purpose++;
			else if (c->st == C_READY)
				S.unexpected_close++;
			if (!c->closing)
				c->sync_done = true;
		}
		c->st = C_CLOSED;
		c->wsi = NULL;
		c->hello = false;
		drop_queues(c);
		break;
	default:
		break;
	}
	(void)user;
	return 0;
}

static const struct lws_protocols protocols[] = {
	{LSN_PROTOCOL_NAME, callback, 0, 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

static void
connect_more(void)
{
	while ((connect_window == 0 || connecting < connect_window) && cq_pos < cq_len &&
	       !fatal) {
		struct bconn *c = &C[cq[cq_pos++]];
		struct lws_client_connect_info cci;
		memset(&cci, 0, sizeof cci);
		cci.context = ctx;
		cci.address = O.host;
		cci.port = O.port;
		cci.path = "/";
		cci.host = O.server_name;
		cci.origin = O.server_name;
		cci.protocol = LSN_PROTOCOL_NAME;
		cci.ssl_connection = LCCSCF_USE_SSL;
		cci.opaque_user_data = c;
		cci.pwsi = &c->wsi;
		c->st = C_CONNECTING;
		c->closing = false;
		connecting++;
		if (lws_client_connect_via_info(&cci) == NULL && c->st == C_CONNECTING) {
			connecting--;
			n_conn_errors++;
			S.conn_errors++;
			c->st = C_CLOSED;
			c->sync_done = true;
		}
	}
}

/* Queue connections [from, to) of C (every step-th one from `from`, skipping
 * the channel's first member when skip_first) and start connecting. */
static void
connect_range(bool skip_first)
{
	cq_len = 0;
	cq_pos = 0;
	for (int i = 0; i < nconn; i++)
		if (!skip_first || i % gsize != 0)
			cq[cq_len++] = i;
	connect_more();
}

static lws_sorted_usec_list_t tick;
static void
on_tick(lws_sorted_usec_list_t *sul)
{
	(void)sul;
}

#if defined(LSN_HAVE_LIBEV)
static struct ev_loop *evl;           /* NULL: lws's own poll() loop */
static ev_timer ev_tick;

static void
on_ev_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}
#endif

/* One turn of the event loop (wakes up at the latest after a 1 ms tick). */
static int
loop_once(void)
{
#if defined(LSN_HAVE_LIBEV)
	if (evl) {
		if (!ev_is_active(&ev_tick)) {
			ev_timer_init(&ev_tick, on_ev_tick, 0.001, 0.001);
			ev_timer_start(evl, &ev_tick);
		}
		ev_run(evl, EVRUN_ONCE);
		return 0;
	}
#endif
	lws_sul_schedule(ctx, 0, &tick, on_tick, 1000);
	return lws_service(ctx, 0);
}

static bool
loop_is_ev(void)
{
#if defined(LSN_HAVE_LIBEV)
	return evl != NULL;
#else
	return false;
#endif
}

/* Service the loop for up to seconds, or until done() (checked every wake-up). */
static void
serve_until(bool (*done)(void), double seconds, void (*each)(void))
{
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
	while (!fatal && (done == NULL || !done()) && now_ns() < end) {
		if (loop_once() < 0)
			break;
		if (each)
			each();
	}
}

/* ---- /proc -------------------------------------------------------------- */

struct proc_sample {
	bool ok;
	double cpu_s;
	long rss_kib, hwm_kib;
};

static struct proc_sample
proc_read(int pid)
{
	struct proc_sample s = {0};
	if (pid <= 0)
		return s;
	char path[64], buf[2048];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return s;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	unsigned long ut = 0, stt = 0;
	if (p == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %18lu %18lu", &ut, &stt) != 2)
		return s;
	s.cpu_s = (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return s;
	while (fgets(buf, sizeof buf, f)) {
		if (strncmp(buf, "VmRSS:", 6) == 0)
			s.rss_kib = strtol(buf + 6, NULL, 10);
		else if (strncmp(buf, "VmHWM:", 6) == 0)
			s.hwm_kib = strtol(buf + 6, NULL, 10);
	}
	fclose(f);
	s.ok = true;
	return s;
}

static double
self_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Server CPU seconds and RSS over [s0, now] into S. */
static void
stats_server(struct proc_sample s0)
{
	struct proc_sample s1 = proc_read(O.server_pid);
	S.srv_cpu = s0.ok && s1.ok ? s1.cpu_s - s0.cpu_s : -1;
	S.rss_kib = s1.rss_kib;
	S.hwm_kib = s1.hwm_kib;
}

/* ---- setup -------------------------------------------------------------- */

static void
raise_nofile(int want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rlim_t target = rl.rlim_max;
	if (target == RLIM_INFINITY || target > 1048576)
		target = 1048576;
	rl.rlim_cur = target;
	setrlimit(RLIMIT_NOFILE, &rl);
	if ((rlim_t)want + 64 > target)
		say("warning: %d connections but RLIMIT_NOFILE is %lu; raise the hard limit "
		    "(ulimit -Hn) or use --procs", want, (unsigned long)target);
}

/* An RPPS number (11 digits, Luhn check digit) unique to this run and user. */
static void
make_rpps(int i, char out[12])
{
	static uint32_t base;
	if (base == 0)
		base = randombytes_uniform(900000) * 1000u;
	snprintf(out, 12, "8%09u", (unsigned)((base + (uint32_t)i) % 1000000000u));
	int sum = 0;
	for (int k = 9; k >= 0; k--) { /* payload digits, rightmost doubled first */
		int d = out[k] - '0';
		if ((9 - k) % 2 == 0) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	out[10] = (char)('0' + (10 - sum % 10) % 10);
	out[11] = '\0';
}

/* Every bench user's invite in one "liaisond invite --csv FILE --json"
 * (one process, one transaction): a sheet in the data directory, one row
 * per user, the codes back in the rows' order. */
static bool
make_invites(void)
{
	char sheet[1024], cmd[3072], rpps[12];
	snprintf(sheet, sizeof sheet, "%s/bench-invites.csv", O.data_dir);
	FILE *f = fopen(sheet, "w");
	if (f == NULL)
		return false;
	fprintf(f, "name,profession,rpps,org,roles\n");
	for (int i = 0; i < nconn; i++) {
		make_rpps(i, rpps);
		fprintf(f, "Bench User %d,gp,%s,%s,member\n", i, rpps, O.org);
	}
	if (fclose(f) != 0)
		return false;
	snprintf(cmd, sizeof cmd,
		 "'%s' --data-dir '%s' --synchronous normal invite --csv '%s' --json",
		 O.liaisond, O.data_dir, sheet);
	/* banned-ok(popen): liaison-bench is a developer's tool, never installed;
	   the shell runs the operator's own liaisond with the operator's options */
	FILE *p = popen(cmd, "r");
	if (p == NULL)
		return false;
	json_error_t jerr;
	json_t *all = json_loadf(p, 0, &jerr);
	int rc = pclose(p);
	bool ok = rc == 0 && json_is_array(all) && json_array_size(all) == (size_t)nconn;
	for (int i = 0; ok && i < nconn; i++) {
		const char *code = json_string_value(json_object_get(json_array_get(all, (size_t)i), "code"));
		ok = code && strlen(code) < sizeof C[i].invite;
		if (ok)
			snprintf(C[i].invite, sizeof C[i].invite, "%s", code);
	}
	json_decref(all);
	return ok;
}

static void
init_identity(struct bconn *c)
{
	randombytes_buf(c->user, sizeof c->user);
	randombytes_buf(c->device, sizeof c->device);
	randombytes_buf(c->ak_id, sizeof c->ak_id);
	crypto_sign_keypair(c->ik_pk, c->ik_sk);
	crypto_sign_keypair(c->dk_pk, c->dk_sk);
	uint8_t ak_sk[32];
	crypto_kx_keypair(c->ak_pk, ak_sk);
	sodium_memzero(ak_sk, sizeof ak_sk);
	sodium_bin2hex(c->user_hex, sizeof c->user_hex, c->user, sizeof c->user);
	sodium_bin2hex(c->dev_hex, sizeof c->dev_hex, c->device, sizeof c->device);
}

static int
make_context(int conns)
{
	raise_nofile(conns);
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.gid = -1;
	info.uid = -1;
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	info.fd_limit_per_thread = (unsigned)(rl.rlim_cur > 1048576 ? 1048576 : rl.rlim_cur);
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
		       LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	info.client_ssl_ca_filepath = O.ca;
	info.timeout_secs = 60;
#if defined(LSN_HAVE_LIBEV)
	if (!O.poll && (evl = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV)) != NULL) {
		void *loops[1] = {evl};
		info.options |= LWS_SERVER_OPTION_LIBEV;
		info.foreign_loops = loops;
		ctx = lws_create_context(&info);
		info.options &= ~(uint64_t)LWS_SERVER_OPTION_LIBEV;
		info.foreign_loops = NULL;
		if (ctx == NULL) {
			ev_loop_destroy(evl);
			evl = NULL;
			say("the epoll event loop is not available (is libwebsockets-evlib-ev "
			    "installed?); using poll()");
		}
	}
#endif
	if (ctx == NULL)
		ctx = lws_create_context(&info);
	if (ctx == NULL) {
		fprintf(stderr, "liaison-bench: cannot create the lws context (CA %s)\n", O.ca);
		return 1;
	}
	return 0;
}

/* Identities, invites and the channel layout of every worker (before fork). */
static int
prepare_users(void)
{
	C = calloc((size_t)nconn, sizeof *C);
	CH = calloc((size_t)nchan, sizeof *CH);
	cq = calloc((size_t)nconn, sizeof *cq);
	if (C == NULL || CH == NULL || cq == NULL)
		return 1;
	uint64_t t0 = now_ns();
	for (int i = 0; i < nconn; i++) {
		C[i].idx = i;
		C[i].chan = i / gsize;
		C[i].setup_next = -1;
		init_identity(&C[i]);
	}
	if (!make_invites()) {
		fprintf(stderr, "liaison-bench: \"%s invite --csv\" failed for %d users\n",
			O.liaisond, nconn);
		return 1;
	}
	say("%d invites issued in %.1f s", nconn, (double)(now_ns() - t0) / 1e9);
	for (int k = 0; k < nchan; k++) {
		randombytes_buf(CH[k].id, sizeof CH[k].id);
		sodium_bin2hex(CH[k].hex, sizeof CH[k].hex, CH[k].id, sizeof CH[k].id);
		CH[k].first = k * gsize;
	}
	return 0;
}

/* Keep only channels [lo, hi) in this worker. */
static void
take_slice(int lo, int hi)
{
	int first = lo * gsize;
	C += first;
	CH += lo;
	nchan = hi - lo;
	nconn = nchan * gsize;
	for (int i = 0; i < nconn; i++)
		C[i].chan -= lo;
	for (int k = 0; k < nchan; k++)
		CH[k].first -= first;
}

static bool all_ready(void) { return n_ready >= nconn || n_conn_errors > 0; }
static bool all_chans(void) { return chans_done >= nchan; }

/* Connect, enrol, log in and create the channels of this process. */
static void
setup_worker(void)
{
	uint64_t t0 = now_ns();
	connect_range(false);
	serve_until(all_ready, 300, NULL);
	if (fatal || n_ready < nconn) {
		die("only %d of %d devices logged in (%d connection errors)%s%s", n_ready, nconn,
		    n_conn_errors, fatal ? ": " : "", fatal ? fatal_msg : "");
		return;
	}
	S.t_login = (double)(now_ns() - t0) / 1e9;
	say("%d devices enrolled and logged in in %.1f s", nconn, S.t_login);
	t0 = now_ns();
	for (int k = 0; k < nchan; k++) {
		struct bconn *c = &C[CH[k].first];
		c->setup_next = CH[k].first;
		send_mlog_next(c);
	}
	serve_until(all_chans, 300, NULL);
	if (fatal || chans_done < nchan) {
		if (!fatal)
			die("only %d of %d channels set up", chans_done, nchan);
		return;
	}
	S.t_chan = (double)(now_ns() - t0) / 1e9;
	say("%d channels of %d members in %.1f s", nchan, gsize, S.t_chan);
	/* let the channel_log pushes settle */
	serve_until(NULL, 0.5, NULL);
}

/* ---- phases and workers ------------------------------------------------- */

static int to_parent = -1, from_parent = -1;
static int decision = -1;
static int coord_phase(struct stats *m);

static bool
write_all(int fd, const void *p, size_t n)
{
	const char *b = p;
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		b += w;
		n -= (size_t)w;
	}
	return true;
}

static bool
read_all(int fd, void *p, size_t n)
{
	char *b = p;
	while (n > 0) {
		ssize_t r = read(fd, b, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		b += r;
		n -= (size_t)r;
	}
	return true;
}

static void
poll_parent(void)
{
	unsigned char d;
	ssize_t r = read(from_parent, &d, 1);
	if (r == 1)
		decision = d;
	else if (r == 0)
		decision = 0;
}

static bool decided(void) { return decision >= 0; }

/* End of a phase: hand this process's stats to the coordinator (in this
 * process, or the parent through the pipe) and return its decision: 1 go on
 * with the next phase, 0 stop. The connections are serviced while waiting. */
static int
barrier(void)
{
	S.batch_frames = g_batch_frames;
	S.batched = g_batched;
	S.fatal = fatal;
	S.ev_loop = loop_is_ev();
	if (fatal)
		snprintf(S.fatal_msg, sizeof S.fatal_msg, "%s", fatal_msg);
	if (to_parent < 0)
		return coord_phase(&S);
	if (!write_all(to_parent, &S, sizeof S))
		return 0;
	decision = -1;
	if (ctx == NULL || fatal) {
		unsigned char d;
		return read_all(from_parent, &d, 1) ? d : 0;
	}
	while (decision < 0) {
		serve_until(decided, 3600, poll_parent);
		if (fatal && decision < 0) { /* broken while waiting: block */
			unsigned char d;
			return read_all(from_parent, &d, 1) ? d : 0;
		}
	}
	return decision;
}

/* pacing of the open-loop sender */
static bool sending;
static double pace_rate, pace_len, pace_warm;
static uint64_t pace_start, pace_count, win_t0, win_t1;
static struct proc_sample win_s0;

static void
pace_begin(double rate, double warm, double len)
{
	pace_rate = rate;
	pace_warm = warm;
	pace_len = warm + len;
	pace_count = 0;
	pace_start = now_ns();
	sending = true;
	if (warm <= 0) {
		meas_lo = next_msg;
		meas_hi = UINT64_MAX;
		win_open = true;
		win_t0 = pace_start;
		win_s0 = proc_read(O.server_pid);
	} else {
		meas_lo = UINT64_MAX;
		win_open = false;
	}
}

static void
pace(void)
{
	if (!sending)
		return;
	uint64_t now = now_ns();
	double el = (double)(now - pace_start) / 1e9;
	if (!win_open && el >= pace_warm) {
		meas_lo = next_msg;
		meas_hi = UINT64_MAX;
		win_open = true;
		win_t0 = now;
		win_s0 = proc_read(O.server_pid);
	}
	if (el > pace_len)
		el = pace_len;
	uint64_t target = (uint64_t)(el * pace_rate);
	while (pace_count < target && !fatal) {
		struct bconn *c = &C[(int)(pace_count % (uint64_t)nconn)];
		pace_count++;
		if (c->st != C_READY) {
			S.sent++; /* counted as sent and never acked: shows up as loss */
			next_msg++;
			continue;
		}
		send_message(c);
	}
	if (el >= pace_len) {
		sending = false;
		meas_hi = next_msg;
		win_open = false;
		win_t1 = now_ns();
		S.window_s = (double)(win_t1 - win_t0) / 1e9;
		stats_server(win_s0);
	}
}

static bool send_done(void) { return !sending; }

static bool
drained(void)
{
	return S.acked + S.ack_errors >= S.sent &&
	       S.deliveries >= S.acked * (uint64_t)(gsize - 1);
}

static void
finish_send_stats(void)
{
	S.expected = S.acked * (uint64_t)(gsize - 1);
}

static double share;              /* this worker's part of the total rate */

static double
step_rate(int k)
{
	double r = O.rate_start;
	for (int i = 0; i < k; i++)
		r = O.rate_step > 0 ? r + O.rate_step : r * O.rate_factor;
	return r;
}

static void
work_busy(void)
{
	stats_reset(1);
	S.rate = O.rate;
	say("sending %.0f msg/s for %.0f s ...", O.rate * share, O.duration);
	double b0 = self_cpu();
	uint64_t t0 = now_ns();
	pace_begin(O.rate * share, 0, O.duration);
	serve_until(send_done, O.duration + 60, pace);
	S.send_window_s = (double)(now_ns() - t0) / 1e9;
	serve_until(drained, O.drain, NULL);
	S.measured_s = (double)(now_ns() - t0) / 1e9;
	stats_server(win_s0); /* over sending + drain, as before */
	S.window_s = S.measured_s;
	S.bench_cpu = self_cpu() - b0;
	finish_send_stats();
	barrier();
}

static void
work_saturation(void)
{
	for (int k = 0;; k++) {
		double rate = step_rate(k);
		stats_reset(1 + k);
		S.rate = rate;
		double b0 = self_cpu();
		uint64_t t0 = now_ns();
		pace_begin(rate * share, O.warmup, O.step_duration);
		serve_until(send_done, O.warmup + O.step_duration + 60, pace);
		S.send_window_s = (double)(now_ns() - t0) / 1e9;
		serve_until(drained, O.drain, NULL);
		S.measured_s = (double)(now_ns() - t0) / 1e9;
		S.bench_cpu = self_cpu() - b0;
		finish_send_stats();
		if (barrier() != 1)
			break;
	}
}

static bool
warm_done(void)
{
	return S.deliveries >= (uint64_t)nchan * (uint64_t)(gsize - 1);
}
static bool
closed_done(void)
{
	return n_closed_on_purpose >= nchan * (gsize - 1);
}
static bool posted(void) { return S.acked + S.ack_errors >= S.sent; }

static bool
all_synced(void)
{
	for (int i = 0; i < nconn; i++)
		if (i % gsize != 0 && !C[i].sync_done)
			return false;
	return true;
}

static void
work_storm(void)
{
	/* phase 1: one message each poster, then the clients go offline */
	stats_reset(1);
	meas_lo = UINT64_MAX;
	for (int k = 0; k < nchan; k++)
		send_message(&C[CH[k].first]);
	serve_until(warm_done, O.drain, NULL);
	S.expected = (uint64_t)nchan * (uint64_t)(gsize - 1);
	for (int i = 0; i < nconn; i++) {
		if (i % gsize == 0)
			continue;
		C[i].closing = true;
		if (C[i].wsi)
			lws_callback_on_writable(C[i].wsi);
	}
	serve_until(closed_done, 30, NULL);
	serve_until(NULL, 1, NULL); /* let the server see the closes */
	S.clients = (uint64_t)n_closed_on_purpose;
	if (barrier() != 1)
		return;

	/* phase 2: each poster sends --missed messages, all at once */
	stats_reset(2);
	meas_lo = next_msg;
	meas_hi = UINT64_MAX;
	uint64_t t0 = now_ns();
	for (int m = 0; m < O.missed; m++)
		for (int k = 0; k < nchan; k++)
			send_message(&C[CH[k].first]);
	serve_until(posted, O.drain + 60, NULL);
	S.measured_s = (double)(now_ns() - t0) / 1e9;
	if (barrier() != 1)
		return;

	/* phase 3: every client reconnects at once and catches up */
	stats_reset(3);
	for (int i = 0; i < nconn; i++) {
		if (i % gsize == 0)
			continue;
		C[i].sync_done = false;
		C[i].missed_got = 0;
		C[i].next_id = 0;
		S.clients++;
		S.missed_expected += (uint64_t)O.missed;
	}
	n_ready = 0;
	n_conn_errors = 0;
	connect_window = O.storm_window;
	struct proc_sample s0 = proc_read(O.server_pid);
	double b0 = self_cpu();
	storm_t0 = now_ns();
	connect_range(true);
	serve_until(all_synced, O.storm_timeout, NULL);
	S.storm_s = (double)(now_ns() - storm_t0) / 1e9;
	stats_server(s0);
	S.bench_cpu = self_cpu() - b0;
	for (int i = 0; i < nconn; i++)
		if (i % gsize != 0 && !C[i].sync_done)
			S.missed_got += (uint64_t)C[i].missed_got; /* timed out */
	barrier();
}

static bool up_done(void) { return upload_done; }
static bool
down_done(void)
{
	return docs_done >= nconn - 1;
}

static void
work_documents(void)
{
	/* phase 1: upload */
	stats_reset(1);
	doc_chunks = (O.doc_size + DOC_CHUNK - 1) / DOC_CHUNK;
	doc = malloc((size_t)O.doc_size);
	if (doc == NULL) {
		die("out of memory for a %d-byte document", O.doc_size);
		barrier();
		return;
	}
	randombytes_buf(doc, (size_t)O.doc_size);
	crypto_generichash(doc_hash, sizeof doc_hash, doc, (size_t)O.doc_size, NULL, 0);
	randombytes_buf(att_id, sizeof att_id);
	sodium_bin2hex(att_hex, sizeof att_hex, att_id, sizeof att_id);
	struct bconn *up = &C[0];
	char idem[64];
	snprintf(idem, sizeof idem, "att-%s", att_hex);
	struct proc_sample s0 = proc_read(O.server_pid);
	doc_t0 = now_ns();
	request(up, P_ATT_BEGIN, "attachment_begin",
		json_pack("{s:s, s:s, s:s, s:i, s:i}", "idem", idem, "attachment", att_hex,
			  "channel", CH[0].hex, "size", O.doc_size, "chunks", doc_chunks), 0);
	serve_until(up_done, 300, NULL);
	if (!upload_done && !fatal)
		die("the upload did not finish in 300 s");
	S.up_s = (double)(doc_t1 - doc_t0) / 1e9;
	stats_server(s0);
	if (barrier() != 1)
		return;

	/* phase 2: every other member downloads it at once */
	stats_reset(2);
	s0 = proc_read(O.server_pid);
	double b0 = self_cpu();
	uint64_t t0 = now_ns();
	for (int i = 1; i < nconn; i++) {
		struct bconn *c = &C[i];
		crypto_generichash_init(&c->hs, NULL, 0, 32);
		c->next_chunk = 0;
		for (int k = 0; k < O.window && c->next_chunk < doc_chunks; k++)
			send_get(c);
	}
	serve_until(down_done, 600, NULL);
	S.down_s = (double)(now_ns() - t0) / 1e9;
	stats_server(s0);
	S.bench_cpu = self_cpu() - b0;
	barrier();
}

static void
run_worker(void)
{
	stats_reset(0);
	if (make_context(nconn)) {
		die("cannot create the lws context (CA %s)", O.ca);
		barrier();
		return;
	}
	setup_worker();
	if (barrier() != 1)
		return;
	switch (WL) {
	case W_BUSY: work_busy(); break;
	case W_SAT: work_saturation(); break;
	case W_STORM: work_storm(); break;
	case W_DOCS: work_documents(); break;
	case W_IDLE: break;
	}
}

/* ---- output (the coordinator) ------------------------------------------ */

static int final_rc;
static char machine[512];
static struct proc_sample srv_before;   /* before any connection */
static json_t *sat_steps;
static double sat_best = -1;
static bool sat_failed;

static void
stats_merge(struct stats *into, const struct stats *f)
{
	if (f->fatal && !into->fatal) {
		into->fatal = 1;
		memcpy(into->fatal_msg, f->fatal_msg, sizeof into->fatal_msg);
	}
	into->phase = f->phase;
	into->ev_loop |= f->ev_loop;
	into->rate = f->rate;
	into->users += f->users;
	into->chans += f->chans;
#define SUM(x) into->x += f->x
	SUM(sent); SUM(acked); SUM(ack_errors); SUM(deliveries); SUM(expected); SUM(dup);
	SUM(self_echo); SUM(foreign); SUM(unexpected_close); SUM(conn_errors);
	SUM(batch_frames); SUM(batched); SUM(acked_window); SUM(bench_cpu);
	SUM(clients); SUM(synced); SUM(missed_expected); SUM(missed_got); SUM(login_fail);
	SUM(doc_bytes); SUM(down_ok); SUM(down_bad);
#undef SUM
#define MAX(x) if (f->x > into->x) into->x = f->x
	MAX(window_s); MAX(send_window_s); MAX(measured_s); MAX(srv_cpu); MAX(rss_kib);
	MAX(hwm_kib); MAX(t_login); MAX(t_chan); MAX(storm_s); MAX(up_s); MAX(down_s);
#undef MAX
	hist_merge(&into->ack, &f->ack);
	hist_merge(&into->deliv, &f->deliv);
	hist_merge(&into->sync, &f->sync);
	hist_merge(&into->login, &f->login);
}

static json_t *
hist_json(const struct hist *h)
{
	return json_pack("{s:I, s:f, s:I, s:I, s:I, s:I}", "count", (json_int_t)h->count,
			 "mean_us", h->count ? (double)h->sum / (double)h->count : 0.0,
			 "p50_us", (json_int_t)hist_quantile(h, 0.50),
			 "p99_us", (json_int_t)hist_quantile(h, 0.99),
			 "p999_us", (json_int_t)hist_quantile(h, 0.999),
			 "max_us", (json_int_t)h->max);
}

static void
print_hist(const char *name, const struct hist *h)
{
	printf("  %-18s %10" PRIu64 " %9.2f %9.2f %9.2f %9.2f\n", name, h->count,
	       (double)hist_quantile(h, 0.50) / 1000.0, (double)hist_quantile(h, 0.99) / 1000.0,
	       (double)hist_quantile(h, 0.999) / 1000.0, (double)h->max / 1000.0);
}

static double
ms(const struct hist *h, double q)
{
	return (double)hist_quantile(h, q) / 1000.0;
}

static void
machine_line(char *out, size_t cap)
{
	char model[256] = "?";
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f) {
		char line[512];
		while (fgets(line, sizeof line, f)) {
			if (strncmp(line, "model name", 10) == 0) {
				char *p = strchr(line, ':');
				if (p) {
					snprintf(model, sizeof model, "%s", p + 2);
					model[strcspn(model, "\n")] = '\0';
				}
				break;
			}
		}
		fclose(f);
	}
	char kernel[256] = "?";
	f = fopen("/proc/sys/kernel/osrelease", "r");
	if (f) {
		if (fgets(kernel, sizeof kernel, f))
			kernel[strcspn(kernel, "\n")] = '\0';
		fclose(f);
	}
	snprintf(out, cap, "%ld CPU (%s), Linux %s", sysconf(_SC_NPROCESSORS_ONLN), model,
		 kernel);
}

static int gen_ev = -1;               /* the workers' loop, from their stats */

static void
emit_json(json_t *j)
{
	if (gen_ev < 0)
		gen_ev = loop_is_ev();
	json_object_set_new(j, "generator_loop", json_string(gen_ev ? "epoll" : "poll"));
	json_object_set_new(j, "machine", json_string(machine));
	json_object_set_new(j, "procs", json_integer(O.procs));
	json_object_set_new(j, "batch_requested", json_boolean(!O.no_batch));
	json_dumpf(j, stdout, JSON_INDENT(2));
	putchar('\n');
	fflush(stdout);
	json_decref(j);
}

static void
print_batch_line(const struct stats *m)
{
	printf("  coalesced frames received: %" PRIu64 " carrying %" PRIu64 " frames (%s); "
	       "generator loop: %s\n", m->batch_frames, m->batched,
	       O.no_batch ? "not requested" : "requested", m->ev_loop ? "epoll (libev)" : "poll");
}

static void
report_setup(const struct stats *m)
{
	if (m->fatal) {
		fprintf(stderr, "liaison-bench: setup failed: %s\n", m->fatal_msg);
		final_rc = 1;
		return;
	}
	say("setup done: %d devices, %d channels; enrol+login %.1f s, channels %.1f s",
	    m->users, m->chans, m->t_login, m->t_chan);
}

static int
report_busy(const struct stats *m, const struct stats *setup)
{
	uint64_t lost_acks = m->sent - m->acked - m->ack_errors;
	uint64_t lost_deliv = m->expected > m->deliveries ? m->expected - m->deliveries : 0;
	double total = m->measured_s > 0 ? m->measured_s : 1;
	double rss_per = srv_before.ok && m->rss_kib ?
		(double)(m->rss_kib - srv_before.rss_kib) / m->users : -1;
	if (m->fatal)
		fprintf(stderr, "liaison-bench: %s\n", m->fatal_msg);
	if (O.json) {
		json_t *j = json_pack(
			"{s:s, s:{s:i, s:i, s:i, s:f, s:f, s:i}, s:f, s:f, s:I, s:I, s:I, s:I,"
			" s:I, s:I, s:I, s:I, s:f, s:f, s:o, s:o, s:f, s:f, s:f}",
			"workload", "busy",
			"params", "users", m->users, "channels", m->chans, "channel_size", gsize,
			"rate", O.rate, "duration_s", O.duration, "msg_size", O.msg_size,
			"send_window_s", m->send_window_s, "measured_s", total,
			"sent", (json_int_t)m->sent, "acked", (json_int_t)m->acked,
			"ack_errors", (json_int_t)m->ack_errors, "lost_acks", (json_int_t)lost_acks,
			"deliveries", (json_int_t)m->deliveries, "expected_deliveries",
			(json_int_t)m->expected, "lost_deliveries", (json_int_t)lost_deliv,
			"unexpected_closes", (json_int_t)m->unexpected_close,
			"ack_rate_per_s", (double)m->acked / total,
			"delivery_rate_per_s", (double)m->deliveries / total,
			"ack_latency", hist_json(&m->ack), "delivery_latency", hist_json(&m->deliv),
			"server_cpu_s", m->srv_cpu, "bench_cpu_s", m->bench_cpu,
			"login_s", setup->t_login);
		json_object_set_new(j, "server_rss_before_kib", json_integer(srv_before.rss_kib));
		json_object_set_new(j, "server_rss_kib", json_integer(m->rss_kib));
		json_object_set_new(j, "server_peak_rss_kib", json_integer(m->hwm_kib));
		json_object_set_new(j, "server_rss_per_conn_kib", json_real(rss_per));
		json_object_set_new(j, "server_cpu_pct",
				    json_real(m->srv_cpu >= 0 ? 100.0 * m->srv_cpu / total : -1));
		json_object_set_new(j, "server_cpu_ms_per_msg",
				    json_real(m->srv_cpu >= 0 && m->acked
						      ? 1000.0 * m->srv_cpu / (double)m->acked : -1));
		json_object_set_new(j, "channels_s", json_real(setup->t_chan));
		json_object_set_new(j, "duplicates", json_integer((json_int_t)m->dup));
		json_object_set_new(j, "batch_frames", json_integer((json_int_t)m->batch_frames));
		json_object_set_new(j, "batched_frames", json_integer((json_int_t)m->batched));
		emit_json(j);
	} else {
		printf("W1 busy: %d users, %d case channels of %d, %.0f msg/s offered for %.0f s, "
		       "%d-byte envelopes, %d generator process%s\n", m->users, m->chans, gsize,
		       O.rate, O.duration, O.msg_size, O.procs, O.procs > 1 ? "es" : "");
		printf("machine: %s\n", machine);
		printf("  setup: enrol+login %.1f s, channels %.1f s\n", setup->t_login,
		       setup->t_chan);
		printf("  sent %" PRIu64 " in %.2f s, acked %" PRIu64 " (%.0f/s), ack errors %" PRIu64
		       ", deliveries %" PRIu64 "/%" PRIu64 " (%.0f/s)\n", m->sent, m->send_window_s,
		       m->acked, (double)m->acked / total, m->ack_errors, m->deliveries,
		       m->expected, (double)m->deliveries / total);
		printf("  loss: %" PRIu64 " acks, %" PRIu64 " deliveries; duplicates %" PRIu64
		       "; unexpected closes %" PRIu64 "\n", lost_acks, lost_deliv, m->dup,
		       m->unexpected_close);
		printf("  %-18s %10s %9s %9s %9s %9s\n", "latency (ms)", "count", "p50", "p99",
		       "p99.9", "max");
		print_hist("ack", &m->ack);
		print_hist("delivery", &m->deliv);
		if (m->srv_cpu >= 0)
			printf("  server: %.2f CPU s over %.2f s (%.0f %% of one core, %.3f ms per acked "
			       "message), RSS %ld KiB (%.1f KiB per connection over the %ld KiB before), "
			       "peak RSS %ld KiB\n",
			       m->srv_cpu, total, 100.0 * m->srv_cpu / total,
			       m->acked ? 1000.0 * m->srv_cpu / (double)m->acked : 0.0, m->rss_kib,
			       rss_per, srv_before.rss_kib, m->hwm_kib);
		else
			printf("  server: CPU and RSS not measured (pass --server-pid)\n");
		printf("  bench:  %.2f CPU s (same host: it competes with the server)\n",
		       m->bench_cpu);
		print_batch_line(m);
	}
	bool clean = !m->fatal && lost_acks == 0 && lost_deliv == 0 && m->ack_errors == 0 &&
		     m->dup == 0;
	return clean ? 0 : 3;
}

/* One saturation step: print its row; 1 to go on, 0 to stop. */
static int
report_step(const struct stats *m)
{
	uint64_t lost_acks = m->sent - m->acked - m->ack_errors;
	uint64_t lost_deliv = m->expected > m->deliveries ? m->expected - m->deliveries : 0;
	double achieved = m->window_s > 0 ? (double)m->acked_window / m->window_s : 0;
	double cpu = m->srv_cpu >= 0 && m->window_s > 0 ? 100.0 * m->srv_cpu / m->window_s : -1;
	double p99 = ms(&m->ack, 0.99);
	bool pass = !m->fatal && lost_acks == 0 && lost_deliv == 0 && m->ack_errors == 0 &&
		    m->dup == 0 && m->unexpected_close == 0 && p99 < O.p99_limit_ms &&
		    achieved >= 0.95 * m->rate;
	if (pass && m->rate > sat_best)
		sat_best = m->rate;
	if (m->fatal)
		fprintf(stderr, "liaison-bench: %s\n", m->fatal_msg);
	if (O.json) {
		json_t *s = json_pack("{s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:f, s:f, s:b}",
				      "offered_per_s", m->rate, "achieved_per_s", achieved,
				      "sent", (json_int_t)m->sent, "acked", (json_int_t)m->acked,
				      "ack_errors", (json_int_t)m->ack_errors,
				      "lost_acks", (json_int_t)lost_acks,
				      "lost_deliveries", (json_int_t)lost_deliv,
				      "ack_latency", hist_json(&m->ack),
				      "delivery_latency", hist_json(&m->deliv),
				      "server_cpu_s", m->srv_cpu, "window_s", m->window_s, "pass", pass);
		json_object_set_new(s, "server_cpu_pct", json_real(cpu));
		json_object_set_new(s, "server_rss_kib", json_integer(m->rss_kib));
		json_object_set_new(s, "bench_cpu_s", json_real(m->bench_cpu));
		json_object_set_new(s, "step_s", json_real(m->measured_s));
		json_array_append_new(sat_steps, s);
	} else {
		if (m->phase == 1) {
			printf("W2 saturation: %d users, %d case channels of %d, %d-byte envelopes, "
			       "steps of %.0f s after %.0f s warm-up, pass = ack p99 < %.0f ms, "
			       "no loss, achieved >= 95 %% of offered; %d generator process%s\n",
			       m->users, m->chans, gsize, O.msg_size, O.step_duration, O.warmup,
			       O.p99_limit_ms, O.procs, O.procs > 1 ? "es" : "");
			printf("machine: %s\n", machine);
			printf("  %9s %9s %8s %8s %9s %7s %7s %6s %7s %6s  %s\n", "offered/s",
			       "achieved", "ack p50", "ack p99", "deliv p99", "lost", "errors", "srv %",
			       "ms/msg", "gen %", "");
		}
		/* server CPU per message: its CPU over the window / acks in it */
		printf("  %9.0f %9.0f %8.2f %8.2f %9.2f %7" PRIu64 " %7" PRIu64 " %6.0f %7.3f %6.0f"
		       "  %s\n",
		       m->rate, achieved, ms(&m->ack, 0.5), p99, ms(&m->deliv, 0.99),
		       lost_acks + lost_deliv, m->ack_errors, cpu,
		       m->srv_cpu >= 0 && achieved > 0 && m->window_s > 0
			       ? 1000.0 * m->srv_cpu / (achieved * m->window_s) : 0.0,
		       m->measured_s > 0 ? 100.0 * m->bench_cpu / m->measured_s : 0.0,
		       pass ? "pass" : "FAIL");
		fflush(stdout);
	}
	if (m->fatal)
		final_rc = 1;
	if (!pass) {
		sat_failed = true;
		return 0;
	}
	return step_rate(m->phase) <= O.rate_max ? 1 : 0;
}

static void
report_sat_end(const struct stats *last)
{
	if (O.json) {
		json_t *j = json_pack("{s:s, s:{s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f}, s:o}",
				      "workload", "saturation", "params", "users", last->users,
				      "channels", last->chans, "channel_size", gsize,
				      "msg_size", O.msg_size, "rate_start", O.rate_start,
				      "rate_factor", O.rate_factor, "rate_step", O.rate_step,
				      "rate_max", O.rate_max, "warmup_s", O.warmup,
				      "step_s", O.step_duration, "p99_limit_ms", O.p99_limit_ms,
				      "steps", sat_steps);
		json_object_set_new(j, "highest_durable_rate_per_s",
				    sat_best > 0 ? json_real(sat_best) : json_null());
		json_object_set_new(j, "stopped_by",
				    json_string(sat_failed ? "a failing step" : "--rate-max"));
		json_object_set_new(j, "batch_frames", json_integer((json_int_t)last->batch_frames));
		json_object_set_new(j, "batched_frames", json_integer((json_int_t)last->batched));
		sat_steps = NULL;
		emit_json(j);
	} else {
		if (sat_best > 0)
			printf("  highest durable rate: %.0f msg/s (%.0f deliveries/s)%s\n", sat_best,
			       sat_best * (gsize - 1),
			       sat_failed ? "" : " (stopped by --rate-max, not by a failing step)");
		else
			printf("  highest durable rate: none (the first step, %.0f msg/s, failed)\n",
			       O.rate_start);
		print_batch_line(last);
	}
}

static int
report_storm(const struct stats *m, const struct stats *warm, const struct stats *post)
{
	uint64_t lost = m->missed_expected > m->missed_got ? m->missed_expected - m->missed_got : 0;
	uint64_t unsynced = m->clients - m->synced;
	uint64_t lost_posts = post->sent - post->acked - post->ack_errors;
	double all_in_sync = m->synced == m->clients ? (double)m->sync.max / 1e6 : -1;
	if (m->fatal)
		fprintf(stderr, "liaison-bench: %s\n", m->fatal_msg);
	if (O.json) {
		json_t *j = json_pack("{s:s, s:{s:i, s:i, s:i, s:i, s:i}, s:I, s:I, s:I, s:I, s:I,"
				      " s:I, s:I, s:o, s:o, s:f, s:f, s:f}",
				      "workload", "storm", "params", "clients", (int)m->clients,
				      "channels", m->chans, "channel_size", gsize - 1,
				      "missed", O.missed, "storm_window", O.storm_window,
				      "synced", (json_int_t)m->synced,
				      "unsynced", (json_int_t)unsynced,
				      "missed_expected", (json_int_t)m->missed_expected,
				      "missed_received", (json_int_t)m->missed_got,
				      "lost", (json_int_t)lost, "duplicates", (json_int_t)m->dup,
				      "connection_errors", (json_int_t)m->conn_errors,
				      "time_to_sync", hist_json(&m->sync),
				      "time_to_login", hist_json(&m->login),
				      "server_cpu_s", m->srv_cpu, "storm_s", m->storm_s,
				      "bench_cpu_s", m->bench_cpu);
		json_object_set_new(j, "all_in_sync_s", all_in_sync >= 0 ? json_real(all_in_sync)
									  : json_null());
		json_object_set_new(j, "posted", json_integer((json_int_t)post->acked));
		json_object_set_new(j, "post_s", json_real(post->measured_s));
		json_object_set_new(j, "server_rss_kib", json_integer(m->rss_kib));
		json_object_set_new(j, "server_peak_rss_kib", json_integer(m->hwm_kib));
		json_object_set_new(j, "batch_frames", json_integer((json_int_t)m->batch_frames));
		json_object_set_new(j, "batched_frames", json_integer((json_int_t)m->batched));
		emit_json(j);
	} else {
		printf("W4 reconnect storm: %" PRIu64 " clients in %d channels of %d (+1 poster each) "
		       "each missed %d messages; all reconnect at once%s; %d generator process%s\n",
		       m->clients, m->chans, gsize - 1, O.missed,
		       O.storm_window ? " (limited handshake window)" : "", O.procs,
		       O.procs > 1 ? "es" : "");
		printf("machine: %s\n", machine);
		printf("  before: %" PRIu64 "/%" PRIu64 " warm-up deliveries; %" PRIu64
		       " messages posted while offline in %.2f s (%" PRIu64 " errors, %" PRIu64
		       " unacked)\n", warm->deliveries, warm->expected, post->acked, post->measured_s,
		       post->ack_errors, lost_posts);
		if (all_in_sync >= 0)
			printf("  all %" PRIu64 " clients in sync %.2f s after the reconnect started\n",
			       m->clients, all_in_sync);
		else
			printf("  NOT all in sync: %" PRIu64 " of %" PRIu64 " clients after %.1f s\n",
			       m->synced, m->clients, m->storm_s);
		printf("  missed messages received %" PRIu64 "/%" PRIu64 ", lost %" PRIu64
		       ", duplicates %" PRIu64 ", connection errors %" PRIu64 ", login failures %"
		       PRIu64 "\n", m->missed_got, m->missed_expected, lost, m->dup, m->conn_errors,
		       m->login_fail);
		printf("  %-18s %10s %9s %9s %9s %9s\n", "per client (ms)", "count", "p50", "p99",
		       "p99.9", "max");
		print_hist("logged in", &m->login);
		print_hist("in sync", &m->sync);
		if (m->srv_cpu >= 0)
			printf("  server: %.2f CPU s over %.2f s, RSS %ld KiB, peak %ld KiB\n",
			       m->srv_cpu, m->storm_s, m->rss_kib, m->hwm_kib);
		printf("  bench:  %.2f CPU s\n", m->bench_cpu);
		print_batch_line(m);
	}
	bool clean = !m->fatal && lost == 0 && unsynced == 0 && m->dup == 0 && lost_posts == 0 &&
		     post->ack_errors == 0 && warm->deliveries >= warm->expected;
	return clean ? 0 : 3;
}

static int
report_docs(const struct stats *up, const struct stats *m)
{
	double mb = (double)O.doc_size / 1e6;
	double up_rate = up->up_s > 0 ? mb / up->up_s : 0;
	double down_rate = m->down_s > 0 ? (double)m->doc_bytes / 1e6 / m->down_s : 0;
	int downloaders = O.downloaders;
	if (m->fatal)
		fprintf(stderr, "liaison-bench: %s\n", m->fatal_msg);
	if (O.json) {
		json_t *j = json_pack("{s:s, s:{s:i, s:i, s:i, s:i}, s:f, s:f, s:f, s:f, s:I, s:I,"
				      " s:I, s:f, s:f}",
				      "workload", "documents", "params", "size", O.doc_size,
				      "chunk", DOC_CHUNK, "downloaders", downloaders,
				      "window", O.window, "upload_s", up->up_s,
				      "upload_mb_per_s", up_rate, "download_s", m->down_s,
				      "download_mb_per_s", down_rate,
				      "downloads_ok", (json_int_t)m->down_ok,
				      "downloads_bad", (json_int_t)m->down_bad,
				      "bytes_downloaded", (json_int_t)m->doc_bytes,
				      "server_cpu_upload_s", up->srv_cpu,
				      "server_cpu_download_s", m->srv_cpu);
		json_object_set_new(j, "bench_cpu_download_s", json_real(m->bench_cpu));
		json_object_set_new(j, "chunks", json_string(O.json_chunks ? "json" : "binary"));
		json_object_set_new(j, "server_peak_rss_kib", json_integer(m->hwm_kib));
		emit_json(j);
	} else {
		printf("W5 documents: one %d-byte attachment (random bytes, %d chunks of %d), "
		       "uploaded once then downloaded by %d clients at once (%d requests in "
		       "flight each); chunks in %s\n", O.doc_size,
		       (O.doc_size + DOC_CHUNK - 1) / DOC_CHUNK, DOC_CHUNK, downloaders, O.window,
		       O.json_chunks ? "JSON (base64, --json-chunks)" : "binary frames");
		printf("machine: %s\n", machine);
		printf("  upload:   %.2f s, %.1f MB/s (MB = 10^6 bytes; begin -> finish acknowledged)"
		       "; server %.2f CPU s\n", up->up_s, up_rate, up->srv_cpu);
		printf("  download: %" PRIu64 " bytes in %.2f s, %.1f MB/s aggregate; %" PRIu64
		       " of %d downloads identical to the upload (BLAKE2b-256 and size), %" PRIu64
		       " different; server %.2f CPU s, peak RSS %ld KiB\n", m->doc_bytes, m->down_s,
		       down_rate, m->down_ok, downloaders, m->down_bad, m->srv_cpu, m->hwm_kib);
		printf("  bench:  %.2f CPU s during the download\n", m->bench_cpu);
	}
	return !m->fatal && m->down_ok == (uint64_t)downloaders && m->down_bad == 0 ? 0 : 3;
}

/* The coordinator: called with the merged stats at the end of each phase. */
static int
coord_phase(struct stats *m)
{
	static struct stats *saved; /* setup, storm warm-up, storm posting */
	if (saved == NULL && (saved = calloc(3, sizeof *saved)) == NULL) {
		final_rc = 1;
		return 0;
	}
	gen_ev = m->ev_loop;
	if (m->phase == 0) {
		saved[0] = *m;
		report_setup(m);
		return m->fatal ? 0 : 1;
	}
	switch (WL) {
	case W_BUSY:
		final_rc = report_busy(m, &saved[0]);
		return 0;
	case W_SAT: {
		int go = report_step(m);
		if (!go)
			report_sat_end(m);
		return go;
	}
	case W_STORM:
		if (m->phase < 3) {
			saved[m->phase] = *m;
			if (m->fatal) {
				fprintf(stderr, "liaison-bench: %s\n", m->fatal_msg);
				final_rc = 1;
				return 0;
			}
			if (m->phase == 1)
				say("%" PRIu64 "/%" PRIu64 " warm-up deliveries; %" PRIu64
				    " clients offline", m->deliveries, m->expected, m->clients);
			else
				say("%" PRIu64 " messages posted in %.2f s", m->acked, m->measured_s);
			return 1;
		}
		final_rc = report_storm(m, &saved[1], &saved[2]);
		return 0;
	case W_DOCS:
		if (m->phase == 1) {
			saved[1] = *m;
			if (m->fatal) {
				fprintf(stderr, "liaison-bench: %s\n", m->fatal_msg);
				final_rc = 1;
				return 0;
			}
			return 1;
		}
		final_rc = report_docs(&saved[1], m);
		return 0;
	case W_IDLE:
		break;
	}
	return 0;
}

/* Fork the workers, then merge their phases until one says stop. */
static int
run_procs(void)
{
	int P = O.procs;
	int *up = calloc((size_t)P, sizeof *up), *down = calloc((size_t)P, sizeof *down);
	pid_t *pids = calloc((size_t)P, sizeof *pids);
	struct stats *tmp = malloc(sizeof *tmp), *m = malloc(sizeof *m);
	if (!up || !down || !pids || !tmp || !m)
		return 1;
	fflush(stdout);
	fflush(stderr);
	int lo = 0;
	for (int w = 0; w < P; w++) {
		int hi = (int)((int64_t)nchan * (w + 1) / P);
		int a[2], b[2];
		if (pipe(a) != 0 || pipe(b) != 0) {
			perror("liaison-bench: pipe");
			return 1;
		}
		pid_t pid = fork();
		if (pid < 0) {
			perror("liaison-bench: fork");
			return 1;
		}
		if (pid == 0) {
			for (int k = 0; k < w; k++) {
				close(up[k]);
				close(down[k]);
			}
			close(a[0]);
			close(b[1]);
			to_parent = a[1];
			from_parent = b[0];
			fcntl(from_parent, F_SETFL, O_NONBLOCK);
			worker_no = w;
			uint8_t nb[4];
			randombytes_buf(nb, sizeof nb);
			sodium_bin2hex(run_nonce, sizeof run_nonce, nb, sizeof nb);
			share = 0; /* set below from the slice */
			int total = nconn;
			take_slice(lo, hi);
			share = (double)nconn / total;
			run_worker();
			if (ctx)
				lws_context_destroy(ctx);
			_exit(0);
		}
		close(a[1]);
		close(b[0]);
		up[w] = a[0];
		down[w] = b[1];
		pids[w] = pid;
		lo = hi;
	}
	for (;;) {
		memset(m, 0, sizeof *m);
		m->srv_cpu = -1;
		bool broken = false;
		for (int w = 0; w < P; w++) {
			if (!read_all(up[w], tmp, sizeof *tmp)) {
				broken = true;
				continue;
			}
			stats_merge(m, tmp);
		}
		unsigned char d = 0;
		if (broken) {
			fprintf(stderr, "liaison-bench: a generator process ended early\n");
			final_rc = 1;
		} else {
			d = (unsigned char)coord_phase(m);
		}
		for (int w = 0; w < P; w++)
			if (!write_all(down[w], &d, 1))
				broken = true;
		if (d != 1)
			break;
	}
	for (int w = 0; w < P; w++) {
		int st = 0;
		close(down[w]);
		waitpid(pids[w], &st, 0);
		close(up[w]);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "liaison-bench: generator process %d ended badly\n", w);
			if (final_rc == 0)
				final_rc = 1;
		}
	}
	free(up);
	free(down);
	free(pids);
	free(tmp);
	free(m);
	return final_rc;
}

/* ---- W3 idle (one process) ---------------------------------------------- */

static bool
all_hello(void)
{
	return n_conn_errors > 0 || (cq_pos >= cq_len && connecting == 0 && n_open >= nconn);
}

static int
count_hello(void)
{
	int n = 0;
	for (int i = 0; i < nconn; i++)
		n += C[i].hello;
	return n;
}

static bool all_hello_seen(void) { return count_hello() + n_conn_errors >= nconn; }

static int
run_idle(void)
{
	nconn = O.conns;
	gsize = 1;
	C = calloc((size_t)nconn, sizeof *C);
	cq = calloc((size_t)nconn, sizeof *cq);
	if (C == NULL || cq == NULL)
		return 1;
	for (int i = 0; i < nconn; i++)
		C[i].idx = i;
	if (make_context(nconn))
		return 1;
	struct proc_sample s0 = proc_read(O.server_pid);
	uint64_t t0 = now_ns();
	connect_range(false);
	serve_until(all_hello, 300, NULL);
	serve_until(all_hello_seen, 30, NULL);
	double t_open = (double)(now_ns() - t0) / 1e9;
	serve_until(NULL, 2, NULL); /* settle */
	struct proc_sample s1 = proc_read(O.server_pid);
	int open = count_hello();
	double per = s0.ok && s1.ok && open ? (double)(s1.rss_kib - s0.rss_kib) / open : -1;
	if (O.json) {
		json_t *j = json_pack("{s:s, s:i, s:i, s:i, s:f, s:I, s:I, s:I, s:f, s:f}",
				      "workload", "idle", "conns", nconn,
				      "open", open, "errors", n_conn_errors, "open_s", t_open,
				      "server_rss_before_kib", (json_int_t)s0.rss_kib,
				      "server_rss_after_kib", (json_int_t)s1.rss_kib,
				      "server_peak_rss_kib", (json_int_t)s1.hwm_kib,
				      "server_kib_per_conn", per,
				      "server_cpu_s", s0.ok && s1.ok ? s1.cpu_s - s0.cpu_s : -1.0);
		emit_json(j);
	} else {
		printf("W3 idle: %d TLS WebSocket connections (hello received, not logged in)\n",
		       nconn);
		printf("machine: %s\n", machine);
		printf("  open: %d, errors %d, in %.1f s (%.0f handshakes/s); generator loop: %s\n",
		       open, n_conn_errors, t_open, open / t_open,
		       loop_is_ev() ? "epoll (libev)" : "poll");
		if (per >= 0)
			printf("  server RSS %ld -> %ld KiB: %.1f KiB per connection (peak %ld KiB)\n",
			       s0.rss_kib, s1.rss_kib, per, s1.hwm_kib);
		else
			printf("  server RSS not measured (pass --server-pid)\n");
	}
	return open == nconn ? 0 : 3;
}

/* ---- main --------------------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: liaison-bench [--workload busy|saturation|idle|storm|documents] [options]\n"
		"  (aliases w1 busy, w2 saturation, w3 idle, w4 storm, w5 documents)\n"
		"  --host H --port N --server-name NAME --ca FILE   the liaisond to drive\n"
		"                                   (default localhost:7443, dev CA)\n"
		"  --server-pid PID                 read server CPU and RSS from /proc/PID\n"
		"  --liaisond BIN --data-dir DIR --org FINESS   issue the invites (all but idle)\n"
		"  --procs N (1)                    N generator processes, whole channels each\n"
		"  --no-batch                       do not ask for coalesced {\"batch\":[...]} frames\n"
		"  --json-chunks                    attachment chunks in JSON (base64), not binary frames\n"
		"  --poll                           lws's poll() loop instead of epoll (libev)\n"
		"  busy (W1): --users N (100) --channel-size N (5) --rate MSG/S (200)\n"
		"             --duration S (10) --msg-size BYTES (512) --drain S (15)\n"
		"  saturation (W2): --users --channel-size --msg-size as busy, and\n"
		"             --rate-start MSG/S (1000) --rate-factor X (1.5) or --rate-step MSG/S\n"
		"             (added instead) --rate-max MSG/S (100000) --warmup S (1)\n"
		"             --step-duration S (5) --p99-limit-ms MS (50) --drain S (15)\n"
		"  idle (W3): --conns N (1000)\n"
		"  storm (W4): --users N clients (100) --channel-size N (5; plus one poster per\n"
		"             channel) --missed N (100) --storm-window N (0: every handshake at\n"
		"             once) --storm-timeout S (120)\n"
		"  documents (W5): --doc-size BYTES (10485760) --downloaders N (20)\n"
		"             --window N (16 chunk requests in flight per client)\n"
		"  --json                           machine-readable result on stdout\n"
		"  --quiet                          no progress on stderr\n"
		"exit status: 0 clean run, 3 loss or errors, 1 setup failure, 2 usage\n");
}

/* A whole non-negative integer, or -1. */
static int
parse_int(const char *v)
{
	char *end = NULL;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end != '\0' || n < 0 || n > INT32_MAX)
		return -1;
	return (int)n;
}

/* A whole positive number, or -1. */
static double
parse_dbl(const char *v)
{
	char *end = NULL;
	errno = 0;
	double d = strtod(v, &end);
	if (errno || end == v || *end != '\0' || !(d >= 0) || d > 1e9)
		return -1;
	return d;
}

static int
bad_value(const char *flag, const char *v)
{
	fprintf(stderr, "liaison-bench: %s %s: expected a non-negative number\n", flag, v);
	return 2;
}

/* The options that take a value, by type and place in struct opts. */
static const struct {
	const char *flag;
	char type;                     /* 's' string, 'i' int, 'd' double */
	size_t offset;
} option_table[] = {
	{"--workload", 's', offsetof(struct opts, workload)},
	{"--host", 's', offsetof(struct opts, host)},
	{"--port", 'i', offsetof(struct opts, port)},
	{"--server-name", 's', offsetof(struct opts, server_name)},
	{"--ca", 's', offsetof(struct opts, ca)},
	{"--liaisond", 's', offsetof(struct opts, liaisond)},
	{"--data-dir", 's', offsetof(struct opts, data_dir)},
	{"--org", 's', offsetof(struct opts, org)},
	{"--server-pid", 'i', offsetof(struct opts, server_pid)},
	{"--users", 'i', offsetof(struct opts, users)},
	{"--channel-size", 'i', offsetof(struct opts, channel_size)},
	{"--rate", 'd', offsetof(struct opts, rate)},
	{"--duration", 'd', offsetof(struct opts, duration)},
	{"--msg-size", 'i', offsetof(struct opts, msg_size)},
	{"--conns", 'i', offsetof(struct opts, conns)},
	{"--drain", 'd', offsetof(struct opts, drain)},
	{"--procs", 'i', offsetof(struct opts, procs)},
	{"--rate-start", 'd', offsetof(struct opts, rate_start)},
	{"--rate-factor", 'd', offsetof(struct opts, rate_factor)},
	{"--rate-step", 'd', offsetof(struct opts, rate_step)},
	{"--rate-max", 'd', offsetof(struct opts, rate_max)},
	{"--warmup", 'd', offsetof(struct opts, warmup)},
	{"--step-duration", 'd', offsetof(struct opts, step_duration)},
	{"--p99-limit-ms", 'd', offsetof(struct opts, p99_limit_ms)},
	{"--missed", 'i', offsetof(struct opts, missed)},
	{"--storm-window", 'i', offsetof(struct opts, storm_window)},
	{"--storm-timeout", 'd', offsetof(struct opts, storm_timeout)},
	{"--doc-size", 'i', offsetof(struct opts, doc_size)},
	{"--downloaders", 'i', offsetof(struct opts, downloaders)},
	{"--window", 'i', offsetof(struct opts, window)},
};

/* Store the value of option a into O: 1 when used, 0 when a is not a valued
 * option (or v is missing), -1 when v is not a valid number. */
static int
option_value(const char *a, const char *v)
{
	for (size_t k = 0; v && k < sizeof option_table / sizeof option_table[0]; k++) {
		if (strcmp(a, option_table[k].flag) != 0)
			continue;
		char *field = (char *)&O + option_table[k].offset;
		if (option_table[k].type == 's') {
			*(const char **)(void *)field = v;
		} else if (option_table[k].type == 'i') {
			int n = parse_int(v);
			if (n < 0)
				return -1;
			*(int *)(void *)field = n;
		} else {
			double d = parse_dbl(v);
			if (d < 0)
				return -1;
			*(double *)(void *)field = d;
		}
		return 1;
	}
	return 0;
}

static int
usage_error(const char *msg)
{
	fprintf(stderr, "liaison-bench: %s\n", msg);
	return 2;
}

/* Check the options of the workload and lay out its users and channels. */
static int
plan(void)
{
	if (O.procs < 1 || O.procs > 256)
		return usage_error("--procs must be 1..256");
	if (O.msg_size < LSN_MSG_MIN_BYTES || O.msg_size > LSN_MSG_MAX_BYTES) {
		fprintf(stderr, "liaison-bench: --msg-size must be %d..%d\n", LSN_MSG_MIN_BYTES,
			LSN_MSG_MAX_BYTES);
		return 2;
	}
	if (O.liaisond == NULL || O.data_dir == NULL)
		return usage_error("this workload needs --liaisond BIN and --data-dir DIR to issue "
				   "the invites");
	switch (WL) {
	case W_BUSY:
	case W_SAT:
	case W_STORM:
		if (O.channel_size < 2 || O.users < O.channel_size)
			return usage_error("need --channel-size >= 2 and --users >= it");
		nchan = O.users / O.channel_size;
		gsize = O.channel_size + (WL == W_STORM ? 1 : 0);
		if (WL == W_SAT && (O.rate_start <= 0 || O.step_duration <= 0 ||
				    (O.rate_step <= 0 && O.rate_factor <= 1)))
			return usage_error("saturation needs --rate-start > 0, --step-duration > 0 "
					   "and --rate-factor > 1 or --rate-step > 0");
		if (WL == W_BUSY && (O.rate <= 0 || O.duration <= 0))
			return usage_error("busy needs --rate > 0 and --duration > 0");
		if (WL == W_STORM && O.missed < 1)
			return usage_error("--missed must be at least 1");
		break;
	case W_DOCS:
		if (O.downloaders < 1 || O.doc_size < 1 || O.window < 1)
			return usage_error("documents needs --downloaders, --doc-size and --window "
					   ">= 1");
		if (O.procs > 1) {
			say("documents runs in one process (--procs ignored)");
			O.procs = 1;
		}
		nchan = 1;
		gsize = O.downloaders + 1;
		break;
	case W_IDLE:
		break;
	}
	nconn = nchan * gsize;
	if (O.procs > nchan)
		return usage_error("--procs is larger than the number of channels");
	total_conns = nconn;
	total_chans = nchan;
	return 0;
}

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int used = option_value(a, v);
		if (used < 0)
			return bad_value(a, v);
		if (used > 0) {
			i++;
			continue;
		}
		if (strcmp(a, "--json") == 0) {
			O.json = true;
			continue;
		}
		if (strcmp(a, "--quiet") == 0) {
			O.quiet = true;
			continue;
		}
		if (strcmp(a, "--no-batch") == 0) {
			O.no_batch = true;
			continue;
		}
		if (strcmp(a, "--json-chunks") == 0) {
			O.json_chunks = true;
			continue;
		}
		if (strcmp(a, "--poll") == 0) {
			O.poll = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		fprintf(stderr, "liaison-bench: unknown or incomplete option %s\n", a);
		usage(stderr);
		return 2;
	}
	static const struct {
		const char *name, *alias;
		enum workload w;
	} names[] = {
		{"busy", "w1", W_BUSY}, {"saturation", "w2", W_SAT}, {"idle", "w3", W_IDLE},
		{"storm", "w4", W_STORM}, {"documents", "w5", W_DOCS},
	};
	bool known = false;
	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
		if (strcmp(O.workload, names[k].name) == 0 || strcmp(O.workload, names[k].alias) == 0) {
			WL = names[k].w;
			known = true;
		}
	if (!known) {
		fprintf(stderr, "liaison-bench: unknown workload %s\n", O.workload);
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	lws_set_log_level(LLL_ERR, NULL);
	machine_line(machine, sizeof machine);
	uint8_t nb[4];
	randombytes_buf(nb, sizeof nb);
	sodium_bin2hex(run_nonce, sizeof run_nonce, nb, sizeof nb);
	if (WL == W_IDLE) {
		int rc = run_idle();
		if (ctx)
			lws_context_destroy(ctx);
		return rc;
	}
	int rc = plan();
	if (rc)
		return rc;
	if (O.json)
		sat_steps = json_array();
	srv_before = proc_read(O.server_pid);
	if (prepare_users())
		return 1;
	if (O.procs > 1)
		return run_procs();
	share = 1;
	run_worker();
	if (ctx)
		lws_context_destroy(ctx);
	return final_rc;
}
