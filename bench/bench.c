/* bench.c — liaison-bench: a load generator that drives a real liaisond over
 * TLS with the real liaison.v1 protocol, from many WebSocket connections in
 * one process (one lws client context, one wsi per simulated device).
 *
 * Workloads (docs/PERFORMANCE.md):
 *   busy  (W1)  enrol --users professionals (invites issued with
 *               "liaisond invite" on --data-dir), log them in with their
 *               device keys, create case channels of --channel-size members
 *               (signed membership-log entries), then send --rate envelopes
 *               per second for --duration seconds (open loop) and measure, per
 *               message, the ack latency (send -> reply, which the server
 *               sends after commit) and the delivery latency (send ->
 *               "message" event at each other member).
 *   idle  (W3)  open --conns TLS WebSocket connections that only receive
 *               hello, and report server RSS growth per connection.
 *
 * Envelopes are random bytes behind a well-formed 80-byte header (CRYPTO.md
 * §4): the server neither decrypts nor verifies them. The header's
 * session_id carries the bench's tag (message number, send time) so the
 * receiver can time the delivery. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libwebsockets.h>
#include <sodium.h>

#include "hist.h"
#include "lsn_config.h"
#include "mlog.h"
#include "msg_header.h"
#include "sigs.h"
#include "wire.h"

#define TAG_MAGIC      0x424e4348u /* "BNCH" */
#define TAG_OFF        20          /* session_id starts after "LSN" v channel */
#define CONNECT_WINDOW 64          /* TLS handshakes in flight at once */

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
	bool json;
	bool quiet;
};

static struct opts O = {
	.workload = "busy", .host = "localhost", .port = 7443, .server_name = "localhost",
	.ca = LSN_DEV_CA, .liaisond = NULL, .data_dir = NULL, .org = "450000005",
	.server_pid = 0, .users = 100, .channel_size = 5, .rate = 200, .duration = 10,
	.msg_size = 512, .conns = 1000, .drain = 15, .json = false, .quiet = false,
};

/* ---- connections -------------------------------------------------------- */

enum cstate {
	C_NEW, C_CONNECTING, C_OPEN, C_ENROL, C_CHALLENGE, C_LOGIN, C_READY, C_CLOSED,
};

enum pkind { P_ENROL, P_CHALLENGE, P_LOGIN, P_CREATE, P_APPEND, P_SEND };

struct pend {
	enum pkind kind;
	int64_t id;
	uint64_t t_ns;
};

struct frame {
	struct frame *next;
	size_t len;
	unsigned char data[];
};

struct bconn {
	int idx;
	struct lws *wsi;
	enum cstate st;
	bool hello;
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
};

struct bchan {
	uint8_t id[LSN_ID_BYTES];
	char hex[33];
	int first;
	bool done;
};

static struct lws_context *ctx;
static struct bconn *C;
static int nconn;
static struct bchan *CH;
static int nchan;
static int next_to_connect;
static int connecting;
static int n_open, n_ready, n_closed, n_conn_errors, chans_done;
static bool fatal;
static char fatal_msg[512];
static bool running;          /* the measured sending window is open */
static char run_nonce[9];

/* measurements */
static struct hist h_ack, h_deliv;
static uint64_t sent, acked_ok, ack_errors, deliveries, dup_deliveries, self_echo,
	foreign_msgs, unexpected_close;
static uint8_t *deliv_count;  /* per message number */
static size_t deliv_cap;

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
	fprintf(stderr, "liaison-bench: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- outgoing ----------------------------------------------------------- */

static void
pend_push(struct bconn *c, enum pkind kind, int64_t id, uint64_t t)
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
	c->pq[(c->pq_head + c->pq_len) % c->pq_cap] = (struct pend){kind, id, t};
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

static void
queue_text(struct bconn *c, const char *text, size_t len)
{
	struct frame *f = malloc(sizeof *f + LWS_PRE + len);
	if (f == NULL) {
		die("out of memory");
		return;
	}
	f->next = NULL;
	f->len = len;
	memcpy(f->data + LWS_PRE, text, len);
	if (c->tx_tail)
		c->tx_tail->next = f;
	else
		c->tx_head = f;
	c->tx_tail = f;
	if (c->wsi)
		lws_callback_on_writable(c->wsi);
}

/* Send a request built with jansson (body stolen). */
static void
request(struct bconn *c, enum pkind kind, const char *op, json_t *body)
{
	size_t len;
	int64_t id = c->next_id++;
	char *text = wire_encode_request(id, op, body, &len);
	if (text == NULL) {
		die("cannot encode %s", op);
		return;
	}
	pend_push(c, kind, id, now_ns());
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
	request(c, P_ENROL, "enrol", b);
}

static void
send_login(struct bconn *c)
{
	uint8_t buf[LSN_SIGNED_MAX], sig[64];
	size_t n = lsn_signed_login(buf, O.server_name, c->user, c->device, c->challenge);
	crypto_sign_detached(sig, NULL, buf, n, c->dk_sk);
	c->st = C_LOGIN;
	request(c, P_LOGIN, "login",
		json_pack("{s:o, s:o, s:o}", "user", wire_id(c->user), "device", wire_id(c->device),
			  "sig", b64(sig, 64)));
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
		json_pack("{s:s, s:o}", "idem", idem, "entry", entry));
	c->setup_next++;
}

static void
send_message(struct bconn *c)
{
	static char *text;
	static size_t text_cap;
	size_t env_len = (size_t)O.msg_size;
	uint8_t env[LSN_MSG_MAX_BYTES];
	uint64_t msg = sent;
	if (msg >= deliv_cap) {
		size_t cap = deliv_cap ? deliv_cap * 2 : 65536;
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
	pend_push(c, P_SEND, id, t);
	queue_text(c, text, len);
	sent++;
}

/* ---- incoming ----------------------------------------------------------- */

static void
on_message_event(struct bconn *c, json_t *root)
{
	const char *env = json_string_value(json_object_get(root, "envelope"));
	const char *sender = json_string_value(json_object_get(root, "sender_device"));
	if (env == NULL)
		return;
	uint64_t t_rx = now_ns();
	/* only the first 72 characters (54 bytes: header up to the tag) */
	uint8_t head[64];
	size_t got = 0;
	size_t elen = strlen(env);
	if (sodium_base642bin(head, sizeof head, env, elen < 72 ? elen : 72, NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || got < TAG_OFF + 20) {
		foreign_msgs++;
		return;
	}
	uint32_t magic;
	uint64_t msg, t;
	memcpy(&magic, head + TAG_OFF, 4);
	memcpy(&msg, head + TAG_OFF + 4, 8);
	memcpy(&t, head + TAG_OFF + 12, 8);
	if (magic != TAG_MAGIC || msg >= sent) {
		foreign_msgs++;
		return;
	}
	if (sender && strcmp(sender, c->dev_hex) == 0) {
		self_echo++;
		return;
	}
	if (deliv_count[msg] == 255 || ++deliv_count[msg] > (unsigned)(O.channel_size - 1)) {
		dup_deliveries++;
		return;
	}
	deliveries++;
	hist_add(&h_deliv, (t_rx - t) / 1000);
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
			acked_ok++;
			hist_add(&h_ack, (now_ns() - p.t_ns) / 1000);
		} else {
			ack_errors++;
			if (ack_errors <= 5)
				say("send refused on connection %d: %s: %s", c->idx,
				    code ? code : "?", msg ? msg : "?");
		}
		return;
	}
	if (!ok) {
		die("connection %d: %s refused: %s: %s", c->idx,
		    p.kind == P_ENROL ? "enrol" : p.kind == P_LOGIN ? "login" :
		    p.kind == P_CHALLENGE ? "challenge" : "membership-log entry",
		    code ? code : "?", msg ? msg : "?");
		return;
	}
	switch (p.kind) {
	case P_ENROL:
		c->st = C_CHALLENGE;
		request(c, P_CHALLENGE, "challenge", NULL);
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
		c->st = C_READY;
		n_ready++;
		break;
	case P_CREATE:
	case P_APPEND: {
		struct bchan *ch = &CH[c->chan];
		if (c->setup_next < ch->first + O.channel_size) {
			send_mlog_next(c);
		} else {
			ch->done = true;
			chans_done++;
		}
		break;
	}
	case P_SEND:
		break;
	}
}

static void
on_frame(struct bconn *c, const char *buf, size_t len)
{
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, 0, &jerr);
	if (root == NULL) {
		die("connection %d: unreadable frame: %s", c->idx, jerr.text);
		return;
	}
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
			if (c->invite[0])
				send_enrol(c);
			else
				c->st = C_OPEN; /* idle workload: stay silent */
		} else {
			die("connection %d: hello without a challenge", c->idx);
		}
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
		connecting--;
		c->st = C_CLOSED;
		c->wsi = NULL;
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
			on_frame(c, c->rx, c->rx_len);
			c->rx_len = 0;
		}
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE: {
		struct frame *f = c->tx_head;
		if (f == NULL)
			break;
		c->tx_head = f->next;
		if (c->tx_head == NULL)
			c->tx_tail = NULL;
		int n = lws_write(wsi, f->data + LWS_PRE, f->len, LWS_WRITE_TEXT);
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
			if (running || c->st == C_READY)
				unexpected_close++;
		}
		c->st = C_CLOSED;
		c->wsi = NULL;
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
	while (connecting < CONNECT_WINDOW && next_to_connect < nconn && !fatal) {
		struct bconn *c = &C[next_to_connect++];
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
		connecting++;
		if (lws_client_connect_via_info(&cci) == NULL && c->st == C_CONNECTING) {
			connecting--;
			n_conn_errors++;
			c->st = C_CLOSED;
		}
	}
}

static lws_sorted_usec_list_t tick;
static void
on_tick(lws_sorted_usec_list_t *sul)
{
	(void)sul;
}

/* Service the loop for up to ms, or until done() (checked every wake-up). */
static void
serve_until(bool (*done)(void), double seconds, void (*each)(void))
{
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
	while (!fatal && (done == NULL || !done()) && now_ns() < end) {
		lws_sul_schedule(ctx, 0, &tick, on_tick, 1000);
		if (lws_service(ctx, 0) < 0)
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
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stt) != 2)
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
		    "(ulimit -Hn) or run several processes", want, (unsigned long)target);
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

static bool
make_invite(int i, char *code, size_t cap)
{
	char cmd[2048], rpps[12];
	make_rpps(i, rpps);
	snprintf(cmd, sizeof cmd,
		 "'%s' --data-dir '%s' --synchronous normal invite --name 'Bench User %d' "
		 "--profession gp --rpps %s --org '%s' --roles member --json",
		 O.liaisond, O.data_dir, i, rpps, O.org);
	FILE *p = popen(cmd, "r");
	if (p == NULL)
		return false;
	char line[512] = "";
	bool ok = fgets(line, sizeof line, p) != NULL;
	int rc = pclose(p);
	if (!ok || rc != 0)
		return false;
	json_error_t jerr;
	json_t *j = json_loads(line, 0, &jerr);
	const char *s = json_string_value(json_object_get(j, "code"));
	ok = s && strlen(s) < cap;
	if (ok)
		snprintf(code, cap, "%s", s);
	json_decref(j);
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

static bool all_ready(void) { return n_ready >= nconn || n_conn_errors > 0; }
static bool all_chans(void) { return chans_done >= nchan; }

static bool
drained(void)
{
	return acked_ok + ack_errors >= sent &&
	       deliveries >= acked_ok * (uint64_t)(O.channel_size - 1);
}

static uint64_t run_start;

static void
pace(void)
{
	if (!running)
		return;
	double el = (double)(now_ns() - run_start) / 1e9;
	if (el > O.duration)
		el = O.duration;
	uint64_t target = (uint64_t)(el * O.rate);
	int users = nchan * O.channel_size;
	while (sent < target && !fatal) {
		struct bconn *c = &C[(int)(sent % (uint64_t)users)];
		if (c->st != C_READY) {
			sent++; /* counted as sent and never acked: shows up as loss */
			continue;
		}
		send_message(c);
	}
}

static bool
send_done(void)
{
	return sent >= (uint64_t)(O.duration * O.rate);
}

/* ---- output ------------------------------------------------------------- */

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

/* ---- workloads ---------------------------------------------------------- */

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
	ctx = lws_create_context(&info);
	if (ctx == NULL) {
		fprintf(stderr, "liaison-bench: cannot create the lws context (CA %s)\n", O.ca);
		return 1;
	}
	return 0;
}

static int
run_busy(void)
{
	if (O.channel_size < 2 || O.users < O.channel_size) {
		fprintf(stderr, "liaison-bench: need --channel-size >= 2 and --users >= it\n");
		return 2;
	}
	if (O.msg_size < LSN_MSG_MIN_BYTES || O.msg_size > LSN_MSG_MAX_BYTES) {
		fprintf(stderr, "liaison-bench: --msg-size must be %d..%d\n", LSN_MSG_MIN_BYTES,
			LSN_MSG_MAX_BYTES);
		return 2;
	}
	if (O.liaisond == NULL || O.data_dir == NULL) {
		fprintf(stderr, "liaison-bench: busy needs --liaisond BIN and --data-dir DIR to "
			"issue the invites\n");
		return 2;
	}
	nchan = O.users / O.channel_size;
	nconn = nchan * O.channel_size;
	C = calloc((size_t)nconn, sizeof *C);
	CH = calloc((size_t)nchan, sizeof *CH);
	if (C == NULL || CH == NULL)
		return 1;
	uint64_t t0 = now_ns();
	for (int i = 0; i < nconn; i++) {
		C[i].idx = i;
		C[i].chan = i / O.channel_size;
		C[i].setup_next = -1;
		init_identity(&C[i]);
		if (!make_invite(i, C[i].invite, sizeof C[i].invite)) {
			fprintf(stderr, "liaison-bench: \"%s invite\" failed for user %d\n",
				O.liaisond, i);
			return 1;
		}
	}
	say("%d invites issued in %.1f s", nconn, (double)(now_ns() - t0) / 1e9);
	for (int k = 0; k < nchan; k++) {
		randombytes_buf(CH[k].id, sizeof CH[k].id);
		sodium_bin2hex(CH[k].hex, sizeof CH[k].hex, CH[k].id, sizeof CH[k].id);
		CH[k].first = k * O.channel_size;
	}
	if (make_context(nconn))
		return 1;

	t0 = now_ns();
	connect_more();
	serve_until(all_ready, 300, NULL);
	if (fatal || n_ready < nconn) {
		fprintf(stderr, "liaison-bench: only %d of %d devices logged in (%d connection "
			"errors)%s%s\n", n_ready, nconn, n_conn_errors, fatal ? ": " : "",
			fatal ? fatal_msg : "");
		return 1;
	}
	double t_login = (double)(now_ns() - t0) / 1e9;
	say("%d devices enrolled and logged in in %.1f s", nconn, t_login);

	t0 = now_ns();
	for (int k = 0; k < nchan; k++) {
		struct bconn *c = &C[CH[k].first];
		c->setup_next = CH[k].first;
		send_mlog_next(c);
	}
	serve_until(all_chans, 300, NULL);
	if (fatal || chans_done < nchan) {
		fprintf(stderr, "liaison-bench: only %d of %d channels set up%s%s\n", chans_done,
			nchan, fatal ? ": " : "", fatal ? fatal_msg : "");
		return 1;
	}
	double t_chan = (double)(now_ns() - t0) / 1e9;
	say("%d case channels of %d members in %.1f s", nchan, O.channel_size, t_chan);
	/* let the channel_log pushes settle */
	serve_until(NULL, 0.5, NULL);

	say("sending %.0f msg/s for %.0f s ...", O.rate, O.duration);
	struct proc_sample s0 = proc_read(O.server_pid);
	double b0 = self_cpu();
	run_start = now_ns();
	running = true;
	serve_until(send_done, O.duration + 60, pace);
	double send_window = (double)(now_ns() - run_start) / 1e9;
	serve_until(drained, O.drain, NULL);
	running = false;
	double total = (double)(now_ns() - run_start) / 1e9;
	struct proc_sample s1 = proc_read(O.server_pid);
	double bench_cpu = self_cpu() - b0;
	if (fatal)
		fprintf(stderr, "liaison-bench: %s\n", fatal_msg);

	uint64_t expected = acked_ok * (uint64_t)(O.channel_size - 1);
	uint64_t lost_acks = sent - acked_ok - ack_errors;
	uint64_t lost_deliv = expected > deliveries ? expected - deliveries : 0;
	double srv_cpu = s0.ok && s1.ok ? s1.cpu_s - s0.cpu_s : -1;
	char machine[512];
	machine_line(machine, sizeof machine);

	if (O.json) {
		json_t *j = json_pack(
			"{s:s, s:s, s:{s:i, s:i, s:i, s:f, s:f, s:i}, s:f, s:f, s:I, s:I, s:I, s:I,"
			" s:I, s:I, s:I, s:I, s:f, s:f, s:o, s:o, s:f, s:f, s:f}",
			"workload", "busy", "machine", machine,
			"params", "users", nconn, "channels", nchan, "channel_size", O.channel_size,
			"rate", O.rate, "duration_s", O.duration, "msg_size", O.msg_size,
			"send_window_s", send_window, "measured_s", total,
			"sent", (json_int_t)sent, "acked", (json_int_t)acked_ok,
			"ack_errors", (json_int_t)ack_errors, "lost_acks", (json_int_t)lost_acks,
			"deliveries", (json_int_t)deliveries, "expected_deliveries",
			(json_int_t)expected, "lost_deliveries", (json_int_t)lost_deliv,
			"unexpected_closes", (json_int_t)unexpected_close,
			"ack_rate_per_s", (double)acked_ok / total,
			"delivery_rate_per_s", (double)deliveries / total,
			"ack_latency", hist_json(&h_ack), "delivery_latency", hist_json(&h_deliv),
			"server_cpu_s", srv_cpu, "bench_cpu_s", bench_cpu, "login_s", t_login);
		json_object_set_new(j, "server_rss_kib", json_integer(s1.rss_kib));
		json_object_set_new(j, "server_peak_rss_kib", json_integer(s1.hwm_kib));
		json_object_set_new(j, "channels_s", json_real(t_chan));
		json_dumpf(j, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(j);
	} else {
		printf("W1 busy: %d users, %d case channels of %d, %.0f msg/s offered for %.0f s, "
		       "%d-byte envelopes\n", nconn, nchan, O.channel_size, O.rate, O.duration,
		       O.msg_size);
		printf("machine: %s\n", machine);
		printf("  setup: enrol+login %.1f s, channels %.1f s\n", t_login, t_chan);
		printf("  sent %" PRIu64 " in %.2f s, acked %" PRIu64 " (%.0f/s), ack errors %" PRIu64
		       ", deliveries %" PRIu64 "/%" PRIu64 " (%.0f/s)\n", sent, send_window, acked_ok,
		       (double)acked_ok / total, ack_errors, deliveries, expected,
		       (double)deliveries / total);
		printf("  loss: %" PRIu64 " acks, %" PRIu64 " deliveries; duplicates %" PRIu64
		       "; unexpected closes %" PRIu64 "\n", lost_acks, lost_deliv, dup_deliveries,
		       unexpected_close);
		printf("  %-18s %10s %9s %9s %9s %9s\n", "latency (ms)", "count", "p50", "p99",
		       "p99.9", "max");
		print_hist("ack", &h_ack);
		print_hist("delivery", &h_deliv);
		if (srv_cpu >= 0)
			printf("  server: %.2f CPU s over %.2f s (%.0f %% of one core), RSS %ld KiB, "
			       "peak RSS %ld KiB\n", srv_cpu, total, 100.0 * srv_cpu / total,
			       s1.rss_kib, s1.hwm_kib);
		else
			printf("  server: CPU and RSS not measured (pass --server-pid)\n");
		printf("  bench:  %.2f CPU s (same host: it competes with the server)\n", bench_cpu);
	}
	bool clean = !fatal && lost_acks == 0 && lost_deliv == 0 && ack_errors == 0 &&
		     dup_deliveries == 0;
	return clean ? 0 : 3;
}

static bool
all_hello(void)
{
	return n_conn_errors > 0 ||
	       (next_to_connect >= nconn && connecting == 0 && n_open >= nconn);
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
	C = calloc((size_t)nconn, sizeof *C);
	if (C == NULL)
		return 1;
	for (int i = 0; i < nconn; i++)
		C[i].idx = i;
	if (make_context(nconn))
		return 1;
	struct proc_sample s0 = proc_read(O.server_pid);
	uint64_t t0 = now_ns();
	connect_more();
	serve_until(all_hello, 300, NULL);
	serve_until(all_hello_seen, 30, NULL);
	double t_open = (double)(now_ns() - t0) / 1e9;
	serve_until(NULL, 2, NULL); /* settle */
	struct proc_sample s1 = proc_read(O.server_pid);
	int open = count_hello();
	char machine[512];
	machine_line(machine, sizeof machine);
	double per = s0.ok && s1.ok && open ? (double)(s1.rss_kib - s0.rss_kib) / open : -1;
	if (O.json) {
		json_t *j = json_pack("{s:s, s:s, s:i, s:i, s:i, s:f, s:I, s:I, s:I, s:f, s:f}",
				      "workload", "idle", "machine", machine, "conns", nconn,
				      "open", open, "errors", n_conn_errors, "open_s", t_open,
				      "server_rss_before_kib", (json_int_t)s0.rss_kib,
				      "server_rss_after_kib", (json_int_t)s1.rss_kib,
				      "server_peak_rss_kib", (json_int_t)s1.hwm_kib,
				      "server_kib_per_conn", per,
				      "server_cpu_s", s0.ok && s1.ok ? s1.cpu_s - s0.cpu_s : -1.0);
		json_dumpf(j, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(j);
	} else {
		printf("W3 idle: %d TLS WebSocket connections (hello received, not logged in)\n",
		       nconn);
		printf("machine: %s\n", machine);
		printf("  open: %d, errors %d, in %.1f s (%.0f handshakes/s)\n", open, n_conn_errors,
		       t_open, open / t_open);
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
		"usage: liaison-bench [--workload busy|idle] [options]\n"
		"  --host H --port N --server-name NAME --ca FILE   the liaisond to drive\n"
		"                                   (default localhost:7443, dev CA)\n"
		"  --server-pid PID                 read server CPU and RSS from /proc/PID\n"
		"  --liaisond BIN --data-dir DIR --org FINESS   issue the invites (busy)\n"
		"  busy (W1): --users N (100) --channel-size N (5) --rate MSG/S (200)\n"
		"             --duration S (10) --msg-size BYTES (512) --drain S (15)\n"
		"  idle (W3): --conns N (1000)\n"
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
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		fprintf(stderr, "liaison-bench: unknown or incomplete option %s\n", a);
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	lws_set_log_level(LLL_ERR, NULL);
	uint8_t nb[4];
	randombytes_buf(nb, sizeof nb);
	sodium_bin2hex(run_nonce, sizeof run_nonce, nb, sizeof nb);
	int rc;
	if (strcmp(O.workload, "busy") == 0 || strcmp(O.workload, "w1") == 0)
		rc = run_busy();
	else if (strcmp(O.workload, "idle") == 0 || strcmp(O.workload, "w3") == 0)
		rc = run_idle();
	else {
		usage(stderr);
		return 2;
	}
	if (ctx)
		lws_context_destroy(ctx);
	return rc;
}
