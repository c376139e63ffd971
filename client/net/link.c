/* link.c — the libwebsockets transport (link.h's struct link_ops): TLS
 * connection, hello, synchronous request/reply, fragment reassembly,
 * buffered events, close handling. Each server frame is decoded once, by
 * wire_decode_json, when it arrives; a reply is handed over as decoded.
 * Attachment chunks travel in binary frames (chunk_frame.h) once the
 * server agreed at login ("binary":true in both; LIAISON_BINARY_CHUNKS=0
 * in the environment keeps the JSON form). */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <libwebsockets.h>
#include <sodium.h>

#include "chunk_frame.h"
#include "link.h"
#include "link_diag.h"
#include "server_error.h"
#include "tls_suites.h"
#include "url.h"
#include "wire.h"

enum link_state { LINK_CONNECTING, LINK_OPEN, LINK_CLOSED };

/* A queued outgoing text frame, with LWS_PRE bytes of headroom for lws. */
struct link_frame {
	struct link_frame *next;
	size_t len;
	bool binary;
	unsigned char data[];
};

struct ws_conn {
	struct link base;       /* first: the transport the core sees */
	struct lws_context *ctx;
	struct lws *wsi;
	enum link_state state;
	struct url url;
	char url_text[300];
	char ca_label[320];
	int timeout_ms;
	lws_sorted_usec_list_t deadline;
	bool timed_out;

	char failure[300];      /* first local failure, shown to the user */
	int close_code;         /* from the server's close frame, 0 if none */
	char close_reason[124];

	char *rx;               /* reassembly of a fragmented message */
	size_t rx_len, rx_cap;

	struct link_frame *tx_head, *tx_tail;
	bool want_close;

	int64_t next_id;
	int64_t awaited_id;     /* -1 when no request is outstanding */
	struct wire_frame reply; /* decoded once, on arrival; root NULL: none yet */
	bool binary;            /* the server agreed to binary chunk frames at login */
	uint8_t *chunk;         /* a binary chunk reply to awaited_id (malloc'd), or NULL */
	size_t chunk_len;
	int64_t chunk_index;
	uint8_t chunk_att[LSN_ID_BYTES];

	bool hello_seen;
	struct link_hello hello;

	volatile sig_atomic_t interrupted;

	json_t *events[LINK_EVENTS_MAX];
	size_t ev_head, ev_count;
	uint64_t ev_dropped;
};

static void
set_failure(struct ws_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_failure(struct ws_conn *c, const char *fmt, ...)
{
	if (c->failure[0])
		return; /* the first cause is the useful one */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->failure, sizeof c->failure, fmt, ap);
	va_end(ap);
}

/* ---- incoming ----------------------------------------------------------- */

static void
queue_event(struct ws_conn *c, json_t *ev)
{
	if (c->ev_count == LINK_EVENTS_MAX) {
		json_decref(c->events[c->ev_head]);
		c->ev_head = (c->ev_head + 1) % LINK_EVENTS_MAX;
		c->ev_count--;
		c->ev_dropped++;
	}
	c->events[(c->ev_head + c->ev_count) % LINK_EVENTS_MAX] = json_incref(ev);
	c->ev_count++;
}

static void
take_hello(struct ws_conn *c, json_t *root)
{
	struct lsn_status st;
	const char *server = NULL, *version = NULL;
	if (wire_get_text(root, "server", true, LSN_SERVER_NAME_MAX, &server, &st) != LSN_OK ||
	    wire_get_int(root, "protocol", true, 0, INT32_MAX, &c->hello.protocol, &st) != LSN_OK ||
	    wire_get_str(root, "version", false, sizeof c->hello.version - 1, &version, &st) !=
		    LSN_OK ||
	    wire_get_int(root, "max_frame", false, 1, INT32_MAX, &c->hello.max_frame, &st) !=
		    LSN_OK ||
	    wire_get_b64(root, "challenge", false, c->hello.challenge, LSN_CHALLENGE_BYTES, &st) !=
		    LSN_OK) {
		set_failure(c, "the server at %s sent an invalid hello (%s); is it a liaisond "
			    "server of a matching version?", c->url_text, st.msg);
		return;
	}
	snprintf(c->hello.server, sizeof c->hello.server, "%s", server);
	snprintf(c->hello.version, sizeof c->hello.version, "%s", version ? version : "?");
	c->hello.challenge_fresh = json_object_get(root, "challenge") != NULL &&
				   !json_is_null(json_object_get(root, "challenge"));
	c->hello_seen = true;
}

/* One frame from the server (one element of a coalesced frame, or a whole
 * message); takes ownership of root. */
static void
dispatch_one(struct ws_conn *c, json_t *root)
{
	struct wire_frame fr;
	struct lsn_status st;
	if (wire_decode_json(root, &fr, &st) != LSN_OK) {
		link_diag_debug("ignoring an unreadable frame from the server: %s", st.msg);
	} else if (fr.kind == WIRE_EVENT) {
		if (!c->hello_seen && strcmp(fr.ev, "hello") == 0)
			take_hello(c, fr.root);
		else
			queue_event(c, fr.root);
	} else if (c->awaited_id >= 0 && c->reply.root == NULL &&
		   (fr.id == c->awaited_id || fr.id < 0)) {
		/* replies come in request order, so an id-null error (too_large) is ours */
		c->reply = fr;
		return;
	} else {
		link_diag_debug("ignoring a reply to request %lld", (long long)fr.id);
	}
	wire_frame_free(&fr);
}

/* One complete text message from the server: a frame, or several coalesced
 * into {"batch":[...]} (the client asks for those at login). */
static void
dispatch(struct ws_conn *c, const char *buf, size_t len)
{
	json_t *root = wire_load_frame(buf, len);
	json_t *items = wire_batch_items(root);
	if (items == NULL) {
		dispatch_one(c, root);
		return;
	}
	size_t i;
	json_t *item;
	json_array_foreach(items, i, item)
		dispatch_one(c, json_incref(item));
	json_decref(root);
}

/* One binary message: the chunk replying to the awaited attachment_get. */
static void
take_chunk(struct ws_conn *c, const uint8_t *buf, size_t len)
{
	struct chunk_frame f;
	struct lsn_status st;
	if (chunk_frame_decode(buf, len, &f, &st) != LSN_OK || f.kind != CHUNK_DATA) {
		link_diag_debug("ignoring a binary message from the server: %s",
				f.kind == CHUNK_PUT ? "not a chunk reply" : st.msg);
		return;
	}
	if (c->awaited_id < 0 || f.id != c->awaited_id || c->reply.root || c->chunk) {
		link_diag_debug("ignoring a chunk reply to request %lld", (long long)f.id);
		return;
	}
	if ((c->chunk = malloc(f.data_len)) == NULL) {
		set_failure(c, "out of memory reading from the server");
		return;
	}
	memcpy(c->chunk, f.data, f.data_len);
	c->chunk_len = f.data_len;
	c->chunk_index = f.index;
	memcpy(c->chunk_att, f.attachment, LSN_ID_BYTES);
}

static int
on_receive(struct ws_conn *c, struct lws *wsi, const void *in, size_t len)
{
	if (len > LINK_RX_MAX - c->rx_len) {
		set_failure(c, "the server sent a message larger than %u MiB; closing",
			    LINK_RX_MAX >> 20);
		return -1;
	}
	if (c->rx_len + len + 1 > c->rx_cap) {
		size_t cap = c->rx_cap ? c->rx_cap : 4096;
		while (cap < c->rx_len + len + 1)
			cap *= 2;
		char *grown = realloc(c->rx, cap);
		if (grown == NULL) {
			set_failure(c, "out of memory reading from the server");
			return -1;
		}
		c->rx = grown;
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (!lws_is_final_fragment(wsi))
		return 0;
	if (lws_frame_is_binary(wsi))
		take_chunk(c, (const uint8_t *)c->rx, c->rx_len);
	else
		dispatch(c, c->rx, c->rx_len);
	c->rx_len = 0;
	return 0;
}

static void
on_peer_close(struct ws_conn *c, const unsigned char *in, size_t len)
{
	if (len < 2)
		return;
	c->close_code = (in[0] << 8) | in[1];
	size_t reason_len = len - 2 < sizeof c->close_reason - 1 ? len - 2
								   : sizeof c->close_reason - 1;
	memcpy(c->close_reason, in + 2, reason_len);
	c->close_reason[reason_len] = '\0';
}

/* ---- outgoing ----------------------------------------------------------- */

static int
on_writeable(struct ws_conn *c, struct lws *wsi)
{
	struct link_frame *f = c->tx_head;
	if (f == NULL) {
		if (!c->want_close)
			return 0;
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bye", 3);
		return -1;
	}
	c->tx_head = f->next;
	if (c->tx_head == NULL)
		c->tx_tail = NULL;
	int n = lws_write(wsi, f->data + LWS_PRE, f->len,
			  f->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
	bool short_write = n < (int)f->len;
	free(f);
	if (short_write) {
		set_failure(c, "cannot send to %s: the connection failed", c->url_text);
		return -1;
	}
	if (c->tx_head || c->want_close)
		lws_callback_on_writable(wsi);
	return 0;
}

/* Queue a frame; payload NULL: the caller fills it (link_frame_payload). */
static struct link_frame *
queue_frame(struct ws_conn *c, const void *payload, size_t len, bool binary)
{
	struct link_frame *f = malloc(sizeof *f + LWS_PRE + len);
	if (f == NULL)
		return NULL;
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
	lws_callback_on_writable(c->wsi);
	return f;
}

/* ---- the lws callback --------------------------------------------------- */

static int
link_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
	      size_t len)
{
	struct ws_conn *c = lws_context_user(lws_get_context(wsi));
	if (c == NULL)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		link_diag_connect_error(c->failure, sizeof c->failure, c->url_text,
					    c->url.host, c->url.port, c->ca_label, in, len);
		c->state = LINK_CLOSED;
		c->wsi = NULL;
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->state = LINK_OPEN;
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return on_receive(c, wsi, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(c, wsi);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		on_peer_close(c, in, len);
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
	case LWS_CALLBACK_WSI_DESTROY:
		if (wsi == c->wsi) {
			c->state = LINK_CLOSED;
			c->wsi = NULL;
		}
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols conn_protocols[] = {
	{LSN_PROTOCOL_NAME, link_callback, 0, 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- waiting on the event loop ------------------------------------------ */

static void
on_deadline(lws_sorted_usec_list_t *sul)
{
	struct ws_conn *c = lws_container_of(sul, struct ws_conn, deadline);
	c->timed_out = true;
}

/* Service the loop until done(c), the connection closes or timeout_ms pass.
 * The deadline is checked against the clock after every service call and
 * the timer re-armed for what is left: lws 4.1 can wake a millisecond
 * before a timer is ripe and then sleep until its next timer (a ping, tens
 * of seconds later) instead of ours. */
static bool
link_wait(struct ws_conn *c, bool (*done)(const struct ws_conn *), int timeout_ms)
{
	lws_usec_t deadline = lws_now_usecs() + (lws_usec_t)timeout_ms * LWS_US_PER_MS;
	c->timed_out = false;
	while (!done(c) && !c->timed_out && c->state != LINK_CLOSED) {
		lws_usec_t left = deadline - lws_now_usecs();
		if (left <= 0) {
			c->timed_out = true;
			break;
		}
		lws_sul_schedule(c->ctx, 0, &c->deadline, on_deadline, left + LWS_US_PER_MS);
		if (lws_service(c->ctx, 0) < 0)
			break;
	}
	lws_sul_schedule(c->ctx, 0, &c->deadline, on_deadline, LWS_SET_TIMER_USEC_CANCEL);
	return done(c);
}

static bool
hello_done(const struct ws_conn *c)
{
	return c->hello_seen || c->failure[0];
}

static bool
reply_done(const struct ws_conn *c)
{
	return c->reply.root != NULL || c->chunk != NULL || c->failure[0];
}

static bool
closed_done(const struct ws_conn *c)
{
	return c->state == LINK_CLOSED;
}

/* Why the connection is unusable, as a user-facing message; op is the
 * request being made, NULL while connecting. */
static enum lsn_err
lost(struct ws_conn *c, const char *op, struct lsn_status *st)
{
	if (c->failure[0])
		return lsn_fail(st, LSN_ERR_INTERNAL, "%s", c->failure);
	if (c->close_code)
		return server_error_close(st, c->close_code, c->close_reason);
	if (c->timed_out && op == NULL) {
		link_diag_timeout(c->failure, sizeof c->failure, c->url_text, c->timeout_ms / 1000);
		return lsn_fail(st, LSN_ERR_INTERNAL, "%s", c->failure);
	}
	if (c->timed_out)
		return lsn_fail(st, LSN_ERR_INTERNAL,
				"no reply from %s to the \"%s\" request within %d s; check the "
				"server, then retry", c->url_text, op, c->timeout_ms / 1000);
	return lsn_fail(st, LSN_ERR_INTERNAL,
			"the connection to %s was closed %s%s%s; retry, and check the server if "
			"it happens again", c->url_text, op ? "during the \"" : "while connecting",
			op ? op : "", op ? "\" request" : "");
}

/* ---- open, request, close ----------------------------------------------- */

/* lws indexes its descriptor table by fd number: size it from the limit. */
static int
fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > 65536)
		return 65536;
	return rl.rlim_cur < 64 ? 64 : (int)rl.rlim_cur;
}

static enum lsn_err
create_context(struct ws_conn *c, const struct link_ca *ca, struct lsn_status *st)
{
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = conn_protocols;
	info.gid = -1;
	info.uid = -1;
	info.user = c;
	info.fd_limit_per_thread = (unsigned int)fd_limit();
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	/* the same versions and suites as the server (tls_suites.h): a server,
	 * or whoever answers in its place, offering less is refused */
	info.client_ssl_cipher_list = LSN_TLS12_CIPHERS;
	info.client_tls_1_3_plus_cipher_list = LSN_TLS13_CIPHERS;
	info.ssl_client_options_set = (long)LSN_TLS_OPTIONS;
	if (ca && ca->file) {
		info.client_ssl_ca_filepath = ca->file;
		info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	} else if (ca && ca->pem) {
		/* lws 4.1 loads one certificate from memory, replacing the store */
		info.client_ssl_ca_mem = ca->pem;
		info.client_ssl_ca_mem_len = (unsigned int)strlen(ca->pem);
		info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	}
	c->ctx = lws_create_context(&info);
	if (c->ctx && link_diag_ca_load_failed())
		return lsn_fail(st, LSN_ERR_BAD_REQUEST,
				"cannot load %s: it is not a PEM certificate; pass the server's CA "
				"certificate (PEM) with --ca FILE", c->ca_label);
	if (c->ctx == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL,
				"cannot set up TLS with the certificate authority %s (%s); pass a "
				"readable PEM CA certificate with --ca FILE", c->ca_label,
				link_diag_last_error());
	return LSN_OK;
}

static enum lsn_err
start_connect(struct ws_conn *c, struct lsn_status *st)
{
	struct lws_client_connect_info cci;
	memset(&cci, 0, sizeof cci);
	cci.context = c->ctx;
	cci.address = c->url.host;
	cci.port = c->url.port;
	cci.path = c->url.path;
	cci.host = c->url.host;
	cci.origin = c->url.host;
	cci.protocol = LSN_PROTOCOL_NAME;
	/* verification stays on: no ALLOW_SELFSIGNED, no SKIP_..._HOSTNAME_CHECK */
	cci.ssl_connection = LCCSCF_USE_SSL;
	cci.pwsi = &c->wsi;
	if (lws_client_connect_via_info(&cci) == NULL && c->failure[0] == '\0')
		link_diag_connect_error(c->failure, sizeof c->failure, c->url_text,
					    c->url.host, c->url.port, c->ca_label, NULL, 0);
	if (c->failure[0])
		return lsn_fail(st, LSN_ERR_INTERNAL, "%s", c->failure);
	return LSN_OK;
}

static enum lsn_err
await_hello(struct ws_conn *c, struct lsn_status *st)
{
	if (!link_wait(c, hello_done, c->timeout_ms) || c->failure[0])
		return lost(c, NULL, st);
	if (c->hello.protocol != LSN_PROTOCOL_VERSION)
		return lsn_fail(st, LSN_ERR_UNKNOWN_OP,
				"the server at %s speaks protocol %lld but this liaison speaks "
				"protocol %d; use matching versions of liaison and liaisond",
				c->url_text, (long long)c->hello.protocol, LSN_PROTOCOL_VERSION);
	return LSN_OK;
}

/* ---- the transport's operations ----------------------------------------- */

static struct ws_conn *
ws(struct link *base)
{
	return (struct ws_conn *)base;
}

static const struct ws_conn *
ws_const(const struct link *base)
{
	return (const struct ws_conn *)base;
}

static const struct link_hello *
ws_hello(const struct link *base)
{
	return &ws_const(base)->hello;
}

static bool
ws_take_challenge(struct link *base, uint8_t out[LSN_CHALLENGE_BYTES])
{
	struct ws_conn *c = ws(base);
	if (!c->hello.challenge_fresh)
		return false;
	memcpy(out, c->hello.challenge, LSN_CHALLENGE_BYTES);
	c->hello.challenge_fresh = false;
	return true;
}

/* Turn the reply, decoded when it arrived (dispatch_one), into the caller's
 * result: the whole object, or the server's error in words. */
static enum lsn_err
take_reply(struct wire_frame *fr, json_t **reply, struct lsn_status *st)
{
	if (fr->ok) {
		*reply = fr->root;
		fr->root = NULL;
		return LSN_OK;
	}
	enum lsn_err err = server_error_status(st, fr->err_code, fr->err_message);
	json_t *after = json_object_get(json_object_get(fr->root, "error"), "retry_after_ms");
	if (err == LSN_ERR_RATE_LIMITED && st && json_is_integer(after) &&
	    json_integer_value(after) > 0)
		st->retry_after_ms = json_integer_value(after) > 3600000
					     ? 3600000 : (uint32_t)json_integer_value(after);
	wire_frame_free(fr);
	return err;
}

/* LIAISON_BINARY_CHUNKS=0 keeps attachment chunks in JSON (a test aid, and
 * a way around a middlebox that mangles binary frames). */
static bool
binary_wanted(void)
{
	const char *v = getenv("LIAISON_BINARY_CHUNKS");
	return v == NULL || strcmp(v, "0") != 0;
}

static enum lsn_err
frame_fits(const struct ws_conn *c, const char *op, size_t len, struct lsn_status *st)
{
	if (c->hello.max_frame > 0 && len > (size_t)c->hello.max_frame)
		return lsn_fail(st, LSN_ERR_TOO_LARGE,
				"the %s request is %zu bytes, above the server's limit of %lld",
				op, len, (long long)c->hello.max_frame);
	return LSN_OK;
}

/* Wait for the reply to request id (queued): a JSON reply decoded into
 * *reply, or a binary chunk kept in c->chunk (then *reply stays NULL). */
static enum lsn_err
await_reply(struct ws_conn *c, int64_t id, const char *op, json_t **reply, struct lsn_status *st)
{
	*reply = NULL;
	c->awaited_id = id;
	bool got = link_wait(c, reply_done, c->timeout_ms) && (c->reply.root || c->chunk);
	c->awaited_id = -1;
	if (!got)
		return lost(c, op, st);
	if (c->chunk)
		return LSN_OK;
	struct wire_frame fr = c->reply;
	memset(&c->reply, 0, sizeof c->reply);
	enum lsn_err err = take_reply(&fr, reply, st);
	wire_frame_free(&fr);
	return err;
}

/* A JSON request; its reply may be a binary chunk (left in c->chunk). */
static enum lsn_err
request_json(struct link *base, const char *op, json_t *body, json_t **reply,
	     struct lsn_status *st)
{
	struct ws_conn *c = ws(base);
	*reply = NULL;
	if (c->state != LINK_OPEN || c->wsi == NULL) {
		json_decref(body);
		return lost(c, op, st);
	}
	bool login = strcmp(op, "login") == 0;
	if (login && binary_wanted() && body)
		json_object_set_new(body, "binary", json_true());
	int64_t id = ++c->next_id;
	size_t len = 0;
	char *text = wire_encode_request(id, op, body, &len);
	if (text == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory encoding the %s request", op);
	enum lsn_err err = frame_fits(c, op, len, st);
	struct link_frame *f = err == LSN_OK ? queue_frame(c, text, len, false) : NULL;
	free(text);
	if (err != LSN_OK)
		return err;
	if (f == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	err = await_reply(c, id, op, reply, st);
	if (login && err == LSN_OK)
		c->binary = json_is_true(json_object_get(*reply, "binary"));
	return err;
}

static enum lsn_err
ws_request(struct link *base, const char *op, json_t *body, json_t **reply,
	   struct lsn_status *st)
{
	struct ws_conn *c = ws(base);
	enum lsn_err err = request_json(base, op, body, reply, st);
	if (err == LSN_OK && c->chunk) { /* only attachment_get (ws_chunk_get) takes one */
		free(c->chunk);
		c->chunk = NULL;
		err = lsn_fail(st, LSN_ERR_BAD_JSON, "the server answered \"%s\" with a binary "
			       "frame", op);
	}
	return err;
}

static bool
ws_binary(const struct link *base)
{
	return ws_const(base)->binary;
}

static enum lsn_err
ws_chunk_put(struct link *base, const char *idem, const uint8_t attachment[LSN_ID_BYTES],
	     int64_t index, const uint8_t *data, size_t len, struct lsn_status *st)
{
	struct ws_conn *c = ws(base);
	if (c->state != LINK_OPEN || c->wsi == NULL)
		return lost(c, "attachment_put", st);
	int64_t id = ++c->next_id;
	struct chunk_frame f = {.kind = CHUNK_PUT, .id = id, .index = index,
				.idem = (const uint8_t *)idem, .idem_len = strlen(idem),
				.data = data, .data_len = len};
	memcpy(f.attachment, attachment, LSN_ID_BYTES);
	uint8_t head[CHUNK_FRAME_HEADER + CHUNK_FRAME_IDEM_MAX];
	size_t head_len = chunk_frame_encode_header(&f, head, sizeof head);
	if (head_len == 0)
		return lsn_fail(st, LSN_ERR_INTERNAL, "chunk %lld cannot be framed (idem or size "
				"out of range)", (long long)index);
	size_t size = chunk_frame_size(f.idem_len, len);
	enum lsn_err err = frame_fits(c, "attachment_put", size, st);
	if (err != LSN_OK)
		return err;
	struct link_frame *q = queue_frame(c, NULL, size, true);
	if (q == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	memcpy(q->data + LWS_PRE, head, head_len);
	memcpy(q->data + LWS_PRE + head_len, data, len);
	json_t *reply = NULL;
	err = await_reply(c, id, "attachment_put", &reply, st);
	json_decref(reply);
	return err;
}

static enum lsn_err
ws_chunk_get(struct link *base, const uint8_t attachment[LSN_ID_BYTES], int64_t index,
	     uint8_t *out, size_t cap, size_t *len, struct lsn_status *st)
{
	struct ws_conn *c = ws(base);
	json_t *reply = NULL;
	json_t *body = json_pack("{s:o, s:I}", "attachment", wire_id(attachment), "index",
				 (json_int_t)index);
	if (body == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	enum lsn_err err = request_json(base, "attachment_get", body, &reply, st);
	uint8_t *chunk = c->chunk;
	c->chunk = NULL;
	if (err != LSN_OK) {
		free(chunk);
		return err;
	}
	if (chunk) { /* the binary reply */
		bool same = c->chunk_index == index &&
			    memcmp(c->chunk_att, attachment, LSN_ID_BYTES) == 0;
		if (!same || c->chunk_len > cap)
			err = lsn_fail(st, LSN_ERR_BAD_JSON, "the server sent %s for chunk %lld",
				       same ? "too many bytes" : "another chunk", (long long)index);
		else {
			memcpy(out, chunk, c->chunk_len);
			*len = c->chunk_len;
		}
		free(chunk);
		return err;
	}
	/* a JSON reply all the same: read it as such */
	err = link_chunk_from_json(reply, index, out, cap, len, st);
	json_decref(reply);
	return err;
}

static bool
ws_alive(const struct link *base)
{
	const struct ws_conn *c = ws_const(base);
	return c->state == LINK_OPEN && c->wsi != NULL && c->failure[0] == '\0';
}

static json_t *
next_event(struct ws_conn *c)
{
	if (c->ev_count == 0)
		return NULL;
	json_t *ev = c->events[c->ev_head];
	c->ev_head = (c->ev_head + 1) % LINK_EVENTS_MAX;
	c->ev_count--;
	return ev;
}

static json_t *
ws_next_event(struct link *base)
{
	return next_event(ws(base));
}

static bool
event_done(const struct ws_conn *c)
{
	return c->ev_count > 0 || c->interrupted || c->failure[0];
}

static bool
ws_wait_event(struct link *base, int timeout_ms)
{
	struct ws_conn *c = ws(base);
	if (c->ev_count > 0)
		return true;
	if (c->state == LINK_CLOSED)
		return false;
	c->interrupted = 0;
	link_wait(c, event_done, timeout_ms);
	return c->ev_count > 0;
}

static void
ws_interrupt(struct link *base)
{
	/* the signal itself interrupts poll() inside lws_service */
	ws(base)->interrupted = 1;
}

static uint64_t
ws_events_dropped(const struct link *base)
{
	return ws_const(base)->ev_dropped;
}

static void
ws_free(struct ws_conn *c)
{
	if (c->ctx && c->wsi && c->state == LINK_OPEN) {
		c->want_close = true;
		lws_callback_on_writable(c->wsi);
		link_wait(c, closed_done, 1000);
	}
	if (c->ctx)
		lws_context_destroy(c->ctx);
	while (c->tx_head) {
		struct link_frame *next = c->tx_head->next;
		free(c->tx_head);
		c->tx_head = next;
	}
	json_t *ev;
	while ((ev = next_event(c)) != NULL)
		json_decref(ev);
	wire_frame_free(&c->reply);
	free(c->chunk);
	free(c->rx);
	sodium_memzero(&c->hello, sizeof c->hello);
	free(c);
}

static void
ws_close(struct link *base)
{
	ws_free(ws(base));
}

static const struct link_ops ws_ops = {
	.request = ws_request,
	.next_event = ws_next_event,
	.wait_event = ws_wait_event,
	.interrupt = ws_interrupt,
	.alive = ws_alive,
	.events_dropped = ws_events_dropped,
	.hello = ws_hello,
	.take_challenge = ws_take_challenge,
	.close = ws_close,
	.binary = ws_binary,
	.chunk_put = ws_chunk_put,
	.chunk_get = ws_chunk_get,
};

enum lsn_err
link_open(const char *url, const struct link_ca *ca, int timeout_ms, struct link **out,
	  struct lsn_status *st)
{
	*out = NULL;
	link_diag_setup();
	struct ws_conn *c = calloc(1, sizeof *c);
	if (c == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, "out of memory");
	c->base.ops = &ws_ops;
	c->awaited_id = -1;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 15000;
	snprintf(c->url_text, sizeof c->url_text, "%s", url);
	snprintf(c->ca_label, sizeof c->ca_label, "%s",
		 ca && ca->label[0] ? ca->label : "the system trust store");
	enum lsn_err err = url_parse(url, &c->url, st);
	if (err == LSN_OK)
		err = create_context(c, ca, st);
	if (err == LSN_OK)
		err = start_connect(c, st);
	if (err == LSN_OK)
		err = await_hello(c, st);
	if (err != LSN_OK) {
		ws_free(c);
		return err;
	}
	*out = &c->base;
	return LSN_OK;
}
