/* dispatch.c — the op table and the path of one request through it: rate
 * limits, login check, idempotency, the handler inside its savepoint
 * (commit.h opens the batch), the encoded reply. */
#include <string.h>
#include <time.h>

#include "audit.h"
#include "chunk_frame.h"
#include "clock.h"
#include "commit.h"
#include "dispatch.h"
#include "handlers.h"
#include "lsn_config.h"
#include "log.h"
#include "metrics.h"
#include "wire.h"

enum op_flags {
	OP_LOGIN = 1 << 0,   /* needs a logged-in, non-revoked device */
	OP_WRITE = 1 << 1,   /* writes: runs in the group-commit batch */
	OP_IDEM  = 1 << 2,   /* carries a required idempotency key */
};

struct op_entry {
	const char *name;
	handler_fn fn;
	unsigned flags;
};

static const struct op_entry ops[] = {
	{"ping", handle_ping, 0},
	{"challenge", handle_challenge, 0},
	{"login", handle_login, OP_WRITE},
	{"invite_info", handle_invite_info, 0},
	{"enrol", handle_enrol, OP_WRITE | OP_IDEM},
	{"whoami", handle_whoami, OP_LOGIN},
	{"devices", handle_devices, OP_LOGIN},
	{"device_revoke", handle_device_revoke, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"directory_search", handle_directory_search, OP_LOGIN},
	{"keys", handle_keys, OP_LOGIN},
	{"ak_publish", handle_ak_publish, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"channel_create", handle_channel_create, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"channel_append", handle_channel_append, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"channel_log", handle_channel_log, OP_LOGIN},
	{"channels", handle_channels, OP_LOGIN},
	{"channel_members", handle_channel_members, OP_LOGIN},
	{"send", handle_send, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"messages", handle_messages, OP_LOGIN},
	{"receipt", handle_receipt, OP_LOGIN | OP_WRITE},
	{"receipts", handle_receipts, OP_LOGIN},
	{"to_device_send", handle_to_device_send, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"to_device_fetch", handle_to_device_fetch, OP_LOGIN},
	{"to_device_ack", handle_to_device_ack, OP_LOGIN | OP_WRITE},
	{"attachment_begin", handle_attachment_begin, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"attachment_put", handle_attachment_put, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"attachment_finish", handle_attachment_finish, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"attachment_info", handle_attachment_info, OP_LOGIN},
	{"attachment_get", handle_attachment_get, OP_LOGIN},
	{"backup_identity_put", handle_backup_identity_put, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"backup_identity_get", handle_backup_identity_get, OP_LOGIN},
	{"backup_put", handle_backup_put, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"backup_get", handle_backup_get, OP_LOGIN},
	{"pathways", handle_pathways, OP_LOGIN},
	{"case_open", handle_case_open, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"case_get", handle_case_get, OP_LOGIN},
	{"cases", handle_cases, OP_LOGIN},
	{"step_complete", handle_step_complete, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"step_skip", handle_step_skip, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"step_reopen", handle_step_reopen, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"step_assign", handle_step_assign, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"step_reschedule", handle_step_reschedule, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"late_steps", handle_late_steps, OP_LOGIN},
	{"unacked_notices", handle_unacked_notices, OP_LOGIN},
	{"recent_alerts", handle_recent_alerts, OP_LOGIN},
	{"case_close", handle_case_close, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"case_flag", handle_case_flag, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"case_event", handle_case_event, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"notice_post", handle_notice_post, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"ack", handle_ack, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"alert", handle_alert, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"notifications", handle_notifications, OP_LOGIN},
	{"notifications_seen", handle_notifications_seen, OP_LOGIN | OP_WRITE},
	{"mail_status", handle_mail_status, OP_LOGIN},
	{"mail_set", handle_mail_set, OP_LOGIN | OP_WRITE},
	{"report", handle_report, OP_LOGIN | OP_WRITE},   /* writes its audit entry */
	{"target_set", handle_target_set, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"targets", handle_targets, OP_LOGIN},
	{"circle_session", handle_circle_session, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"conciliation_counts", handle_conciliation_counts, OP_LOGIN | OP_WRITE | OP_IDEM},
	{"clock_advance", handle_clock_advance, OP_LOGIN | OP_WRITE},
};
#define OP_COUNT (sizeof ops / sizeof ops[0])

size_t
dispatch_op_count(void)
{
	return OP_COUNT;
}

const char *
dispatch_op_name(size_t index)
{
	return index < OP_COUNT ? ops[index].name : NULL;
}

static const struct op_entry *
op_find(const char *name, size_t *index)
{
	for (size_t i = 0; i < OP_COUNT; i++)
		if (strcmp(ops[i].name, name) == 0) {
			*index = i;
			return &ops[i];
		}
	return NULL;
}

void
dispatch_result_free(struct dispatch_result *out)
{
	free(out->reply);
	out->reply = NULL;
	effects_free(&out->effects);
}

static void
result_error(struct dispatch_result *out, int64_t id, enum lsn_err err, const char *message)
{
	metrics_error(err);
	out->err = err;
	out->reply = wire_encode_reply_err(id, err, message, &out->reply_len);
}

void
dispatch_error(enum lsn_err err, const char *message, struct dispatch_result *out)
{
	memset(out, 0, sizeof *out);
	effects_init(&out->effects);
	out->id = -1;
	result_error(out, -1, err, message);
}

char *
dispatch_hello(const struct server_ctx *srv, struct session *sess, size_t *len)
{
	session_new_challenge(sess);
	json_t *body = json_pack("{s:s, s:i, s:s, s:o, s:I}", "server", srv->cfg->server_name,
				 "protocol", LSN_PROTOCOL_VERSION, "version", LSN_VERSION,
				 "challenge", wire_b64(sess->challenge, sizeof sess->challenge),
				 "max_frame", (json_int_t)srv->cfg->max_frame);
	return wire_encode_event("hello", body, len);
}

/* ---- rate limits (server/ratelimit.h, docs/OPERATIONS.md) ----------------- */

struct ratelimit *
dispatch_ratelimit_new(const struct config *cfg)
{
	struct ratelimit_config rc = {.table_entries = cfg->rate_table_entries};
	rc.rule[RL_CONN] = (struct rl_rule){cfg->rate_conn_per_s * 60, cfg->rate_conn_burst};
	rc.rule[RL_USER] = (struct rl_rule){cfg->rate_user_per_s * 60, cfg->rate_user_burst};
	rc.rule[RL_LOGIN_ADDR] = (struct rl_rule){cfg->login_fail_addr_per_min,
						  cfg->login_fail_addr_burst};
	rc.rule[RL_LOGIN_ACCOUNT] = (struct rl_rule){cfg->login_fail_account_per_min,
						     cfg->login_fail_account_burst};
	return ratelimit_new(&rc);
}

/* Rate limits run on a monotonic clock: moving the server clock (a testing
 * aid) or a wall-clock step must not refill or stall the buckets. */
static int64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The account a login request names, if it names one readably. */
static bool
login_account(json_t *root, uint8_t account[LSN_ID_BYTES])
{
	bool present = false;
	return root && wire_get_id(root, "user", false, account, &present, NULL) == LSN_OK &&
	       present;
}

/* Before the op: the connection's and the user's request rates, and for a
 * login the failed-login budgets of the address and the account. */
static enum lsn_err
rate_check(struct server_ctx *srv, struct session *sess, bool is_login, json_t *root,
	   int64_t now, int64_t *retry_ms, struct lsn_status *st)
{
	enum rl_kind which = RL__COUNT;
	uint8_t account[LSN_ID_BYTES];
	bool ok = ratelimit_request(srv->rl, &sess->rl, sess->logged_in ? sess->user : NULL,
				    LSN_ID_BYTES, now, &which, retry_ms);
	if (ok && is_login)
		ok = ratelimit_login_check(srv->rl, sess->peer,
					   login_account(root, account) ? account : NULL,
					   LSN_ID_BYTES, now, &which, retry_ms);
	uint64_t evicted = ratelimit_take_evictions(srv->rl);
	if (evicted)
		metrics_ratelimit_evictions(evicted);
	if (ok)
		return LSN_OK;
	metrics_rate_limited(which);
	long long ms = (long long)*retry_ms;
	switch (which) {
	case RL_CONN:
		return lsn_fail(st, LSN_ERR_RATE_LIMITED, "too many requests on this connection "
				"(more than %u a second); retry in %lld ms", srv->cfg->rate_conn_per_s, ms);
	case RL_USER:
		return lsn_fail(st, LSN_ERR_RATE_LIMITED, "too many requests from this user on all "
				"devices (more than %u a second); retry in %lld ms",
				srv->cfg->rate_user_per_s, ms);
	case RL_LOGIN_ADDR:
		return lsn_fail(st, LSN_ERR_RATE_LIMITED, "too many failed logins from this address; "
				"retry in %lld s", (ms + 999) / 1000);
	default:
		return lsn_fail(st, LSN_ERR_RATE_LIMITED, "too many failed logins for this account; "
				"retry in %lld s", (ms + 999) / 1000);
	}
}

/* After a login: a refusal (not one of ours, not the server's fault) is
 * charged to the address and the account. */
static void
rate_login_done(struct server_ctx *srv, struct session *sess, json_t *root, enum lsn_err err,
		int64_t now)
{
	if (err == LSN_OK || err == LSN_ERR_RATE_LIMITED || err == LSN_ERR_STORAGE ||
	    err == LSN_ERR_INTERNAL || err == LSN_ERR_SHUTTING_DOWN)
		return;
	uint8_t account[LSN_ID_BYTES];
	ratelimit_login_failed(srv->rl, sess->peer, login_account(root, account) ? account : NULL,
			       LSN_ID_BYTES, now);
	uint64_t evicted = ratelimit_take_evictions(srv->rl);
	if (evicted)
		metrics_ratelimit_evictions(evicted);
}

/* rate_limited carries retry_after_ms next to code and message. */
static void
result_rate_limited(struct dispatch_result *out, int64_t id, const char *message,
		    int64_t retry_ms)
{
	json_t *error = json_pack("{sssssI}", "code", lsn_err_code(LSN_ERR_RATE_LIMITED),
				  "message", message, "retry_after_ms", (json_int_t)retry_ms);
	json_t *frame = error == NULL ? NULL
		: id >= 0 ? json_pack("{sIsbso}", "id", (json_int_t)id, "ok", 0, "error", error)
			  : json_pack("{snsbso}", "id", "ok", 0, "error", error);
	char *text = wire_dump(frame, NULL);
	json_decref(frame);
	if (text == NULL) {
		result_error(out, id, LSN_ERR_RATE_LIMITED, message);
		return;
	}
	metrics_error(LSN_ERR_RATE_LIMITED);
	out->err = LSN_ERR_RATE_LIMITED;
	out->reply = text;
	out->reply_len = strlen(text);
}

/* Scope of idempotency keys: the logged-in device, else the invite. */
static void
idem_scope(const struct session *sess, json_t *req, char *out, size_t cap)
{
	if (sess->logged_in) {
		char hex[LSN_ID_HEX + 1];
		lsn_id_to_hex(sess->device, hex);
		snprintf(out, cap, "device:%s", hex);
		return;
	}
	const char *code = json_string_value(json_object_get(req, "code"));
	uint8_t hash[32] = {0};
	crypto_generichash(hash, sizeof hash, (const uint8_t *)(code ? code : ""),
			   code ? strlen(code) : 0, NULL, 0);
	char hex[65];
	sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
	snprintf(out, cap, "anon:%s", hex);
}

/* A retry with a known key: replay the stored reply, or refuse a reuse of
 * the key for another op. LSN_ERR_NOT_FOUND when the key is new. */
static enum lsn_err
idem_replay(struct server_ctx *srv, const char *scope, const char *key, const char *op,
	    json_t **body, struct lsn_status *st)
{
	char *stored_op = NULL, *stored_reply = NULL;
	enum lsn_err err = store_idem_get(srv->store, scope, key, &stored_op, &stored_reply);
	if (err != LSN_OK)
		return err;
	if (strcmp(stored_op, op) != 0)
		err = lsn_fail(st, LSN_ERR_CONFLICT,
			       "idempotency key \"%s\" was already used for op \"%s\"; use a new key",
			       key, stored_op);
	else if ((*body = json_loads(stored_reply, 0, NULL)) == NULL)
		err = lsn_fail(st, LSN_ERR_INTERNAL, NULL);
	free(stored_op);
	free(stored_reply);
	return err;
}

/* Login required, and the device must not have been revoked meanwhile
 * (an administrator may revoke it from another process). */
static enum lsn_err
check_login(struct server_ctx *srv, struct session *sess, struct dispatch_result *out,
	    struct lsn_status *st)
{
	if (!sess->logged_in)
		return lsn_fail(st, LSN_ERR_NOT_LOGGED_IN, NULL);
	struct store_device dev;
	enum lsn_err err = store_device_get(srv->store, sess->device, &dev);
	if (err == LSN_OK && !dev.revoked_at)
		return LSN_OK;
	if (err != LSN_OK && err != LSN_ERR_NOT_FOUND)
		return lsn_fail(st, LSN_ERR_STORAGE, NULL);
	sess->logged_in = false;
	out->close_after = true;
	out->close_code = 1008;
	snprintf(out->close_reason, sizeof out->close_reason, "device revoked");
	return lsn_fail(st, LSN_ERR_DEVICE_REVOKED, NULL);
}

/* The raw chunk of a binary attachment_put, and the one attachment_get
 * produced for a client that takes binary frames (handlers.h). */
struct chunk_io {
	const uint8_t *in;
	size_t in_len;
	uint8_t *out;          /* malloc'd by the handler */
	size_t out_len;
};

/* Run the handler (or replay) for one request; returns its error, with body
 * filled on success. Writes happen inside a savepoint of the open batch. */
static enum lsn_err
run_op(struct server_ctx *srv, struct session *sess, const struct op_entry *op,
       struct wire_request *req, json_t **body, struct effects *fx, struct chunk_io *chunk,
       struct lsn_status *st)
{
	const char *key = NULL;
	char scope[96];
	enum lsn_err err;
	if ((op->flags & OP_IDEM) &&
	    (err = wire_get_text(req->root, "idem", true, WIRE_IDEM_MAX, &key, st)) != LSN_OK)
		return err;
	if ((op->flags & OP_WRITE) && commit_req_begin(srv->store) != LSN_OK)
		return lsn_fail(st, LSN_ERR_STORAGE, NULL);
	if (key) {
		idem_scope(sess, req->root, scope, sizeof scope);
		err = idem_replay(srv, scope, key, op->name, body, st);
		if (err != LSN_ERR_NOT_FOUND) {
			commit_req_end(srv->store, false);
			return err;
		}
	}
	struct handler_ctx hc = {.srv = srv, .sess = sess, .effects = fx,
				 .now = lsn_clock_now_ms(), .chunk_in = chunk->in,
				 .chunk_in_len = chunk->in_len};
	*body = json_object();
	err = *body ? op->fn(&hc, req->root, *body) : LSN_ERR_INTERNAL;
	chunk->out = hc.chunk_out;
	chunk->out_len = hc.chunk_out_len;
	if (err != LSN_OK) {
		*st = hc.st;
		st->err = err;
	} else if (key) {
		char *text = wire_dump(*body, NULL);
		err = text ? store_idem_put(srv->store, scope, key, op->name, text, hc.now)
			   : LSN_ERR_INTERNAL;
		free(text);
		if (err != LSN_OK)
			lsn_fail(st, err, NULL);
	}
	if (op->flags & OP_WRITE)
		commit_req_end(srv->store, err == LSN_OK);
	return err;
}

/* An attachment_get reply for a client that opted in: a binary chunk
 * frame (chunk_frame.h) instead of {"id":N,"ok":true,"index":I,"data":...}. */
static bool
result_chunk(struct dispatch_result *out, int64_t id, const struct wire_request *req,
	     const struct chunk_io *chunk)
{
	struct chunk_frame f = {.kind = CHUNK_DATA, .id = id, .data = chunk->out,
				.data_len = chunk->out_len};
	json_int_t index = json_integer_value(json_object_get(req->root, "index"));
	f.index = index;
	if (wire_get_id(req->root, "attachment", true, f.attachment, NULL, NULL) != LSN_OK)
		return false;
	size_t size = chunk_frame_size(0, chunk->out_len);
	uint8_t *frame = malloc(size);
	if (frame == NULL || chunk_frame_encode(&f, frame, size) != size) {
		free(frame);
		return false;
	}
	out->reply = (char *)frame;
	out->reply_len = size;
	out->reply_binary = true;
	return true;
}

/* The path of one request, decoded (err: the decoder's verdict, with req->id
 * set when readable), through rate limits, login, the handler and its reply. */
static void
dispatch_request(struct server_ctx *srv, struct session *sess, struct wire_request *req,
		 enum lsn_err err, struct lsn_status *st, struct chunk_io *chunk,
		 struct dispatch_result *out)
{
	size_t index = 0;
	const struct op_entry *op = err == LSN_OK ? op_find(req->op, &index) : NULL;
	if (err == LSN_OK && op == NULL)
		err = lsn_fail(st, LSN_ERR_UNKNOWN_OP, "unknown op \"%.64s\"; see docs/PROTOCOL.md",
			       req->op);
	metrics_request(op ? (int)index : -1);
	bool is_login = op && op->fn == handle_login;
	int64_t rl_now = 0, retry_ms = 0;
	if (srv->rl) { /* every frame counts, even one that could not be read */
		rl_now = mono_ms();
		enum lsn_err limited = rate_check(srv, sess, is_login, err == LSN_OK ? req->root : NULL,
						  rl_now, &retry_ms, st);
		if (limited != LSN_OK)
			err = limited;
	}
	if (err == LSN_OK && (op->flags & OP_LOGIN))
		err = check_login(srv, sess, out, st);

	json_t *body = NULL;
	if (err == LSN_OK)
		err = run_op(srv, sess, op, req, &body, &out->effects, chunk, st);
	if (srv->rl && is_login && retry_ms == 0)
		rate_login_done(srv, sess, req->root, err, rl_now);
	if (err == LSN_OK && chunk->out) {
		if (!result_chunk(out, req->id, req, chunk))
			result_error(out, req->id, LSN_ERR_INTERNAL, NULL);
		else
			out->err = LSN_OK;
	} else if (err == LSN_OK) {
		out->err = LSN_OK;
		out->reply = wire_encode_reply_ok(req->id, body, &out->reply_len);
		body = NULL;
	} else {
		effects_free(&out->effects);
		if (err == LSN_ERR_RATE_LIMITED && retry_ms > 0)
			result_rate_limited(out, req->id, st->msg, retry_ms);
		else
			result_error(out, req->id, err, st->msg[0] ? st->msg : NULL);
		if (op && strcmp(op->name, "login") == 0)
			log_info("login refused: conn %llu from %s: %s",
				 (unsigned long long)sess->conn_id, sess->peer, lsn_err_code(err));
		/* the refused login's savepoint is undone: its audit entry goes in the batch */
		if (op && op->fn == handle_login && err != LSN_ERR_RATE_LIMITED &&
		    store_in_batch(srv->store))
			audit_login_failed(srv->store, sess, req->root, err, lsn_clock_now_ms());
	}
	free(chunk->out);
	chunk->out = NULL;
	json_decref(body);
	out->id = req->id;
	out->in_batch = store_in_batch(srv->store);
}

void
dispatch_frame(struct server_ctx *srv, struct session *sess, const char *buf, size_t len,
	       struct dispatch_result *out)
{
	struct wire_request req;
	struct lsn_status st = {0};
	struct chunk_io chunk = {0};
	memset(out, 0, sizeof *out);
	effects_init(&out->effects);
	enum lsn_err err = wire_decode_request(buf, len, &req, &st);
	dispatch_request(srv, sess, &req, err, &st, &chunk, out);
	wire_request_free(&req);
}

/* A binary chunk frame as the request it stands for: attachment_put with
 * the header's fields (the data stays raw, passed beside the request). */
static enum lsn_err
chunk_request(const struct chunk_frame *f, struct wire_request *req, struct lsn_status *st)
{
	char hex[LSN_ID_HEX + 1];
	lsn_id_to_hex(f->attachment, hex);
	json_t *idem = json_stringn((const char *)f->idem, f->idem_len);
	if (idem == NULL)
		return lsn_fail(st, LSN_ERR_BAD_REQUEST, "binary frame: the idem key is not UTF-8 text");
	req->root = json_pack("{sI ss so ss sI}", "id", (json_int_t)f->id, "op", "attachment_put",
			      "idem", idem, "attachment", hex, "index", (json_int_t)f->index);
	if (req->root == NULL)
		return lsn_fail(st, LSN_ERR_INTERNAL, NULL);
	req->op = json_string_value(json_object_get(req->root, "op"));
	return LSN_OK;
}

void
dispatch_binary(struct server_ctx *srv, struct session *sess, const uint8_t *buf, size_t len,
		struct dispatch_result *out)
{
	if (!sess->binary) { /* as for every client before binary frames existed */
		dispatch_error(LSN_ERR_BAD_JSON, sess->logged_in
			       ? "binary frames are accepted only from a client that logged in with "
				 "\"binary\":true; send JSON text frames"
			       : "binary frames are accepted only after a login with \"binary\":true; "
				 "send JSON text frames", out);
		return;
	}
	struct wire_request req = {.root = NULL, .id = -1, .op = NULL};
	struct lsn_status st = {0};
	struct chunk_frame f;
	memset(out, 0, sizeof *out);
	effects_init(&out->effects);
	enum lsn_err err = chunk_frame_decode(buf, len, &f, &st);
	req.id = f.id;
	if (err == LSN_OK && f.kind != CHUNK_PUT)
		err = lsn_fail(&st, LSN_ERR_BAD_REQUEST, "binary frame kind 0x%02x is the server's "
			       "chunk reply; a client sends kind 0x01 (attachment_put)", f.kind);
	if (err == LSN_OK)
		err = chunk_request(&f, &req, &st);
	struct chunk_io chunk = {.in = f.data, .in_len = f.data_len};
	dispatch_request(srv, sess, &req, err, &st, &chunk, out);
	wire_request_free(&req);
}
