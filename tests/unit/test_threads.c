/* test_threads.c — the server side of encrypted threads through the real
 * dispatcher: membership log authorisation, envelopes and sequence numbers,
 * catch-up limits for former members, receipts, the to-device queue,
 * attachments, key backup, and who receives which event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "clock.h"
#include "mlog.h"
#include "msg_header.h"
#include "server_fixture.h"
#include "sigs.h"
#include "wire.h"

struct world {
	struct fx *f;
	struct actor a, b, c;     /* a creates the channel, b joins, c stays outside */
	struct thread t;
};

/* Shorthands over the fixture. */
#define ok reply_ok
#define entry(w, who, action, subject, role) \
	thread_entry(&(w)->t, (who), (action), (subject)->k.user, (role))

static json_t *
w_as(struct world *w, struct actor *who, const char *op, json_t *body, struct effects *fx)
{
	return as(w->f, who, op, body, fx);
}

static size_t
count_events(struct effects *fx, const char *ev, enum effect_kind kind, const uint8_t target[16])
{
	size_t n = 0;
	char needle[64];
	snprintf(needle, sizeof needle, "\"ev\":\"%s\"", ev);
	for (struct effect *e = fx->head; e; e = e->next)
		if (e->kind == kind && memcmp(e->target, target, 16) == 0 && e->frame &&
		    strstr(e->frame, needle))
			n++;
	return n;
}

static int
world_setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	setup((void **)&w->f);
	login_as(w->f, &w->a, "10101010105", "gp", LSN_ROLE_MEMBER);
	login_as(w->f, &w->b, "10000000009", "gp", LSN_ROLE_MEMBER);
	login_as(w->f, &w->c, "10123456781", "gp", LSN_ROLE_MEMBER);
	randombytes_buf(w->t.channel, 16);
	struct lsn_mlog_entry e = {0};
	memcpy(e.channel, w->t.channel, 16);
	memcpy(e.actor, w->a.k.user, 16);
	memcpy(e.actor_device, w->a.k.device, 16);
	memcpy(e.subject, w->a.k.user, 16);
	e.action = LSN_MLOG_CREATE;
	e.role = LSN_CROLE_ADMIN;
	e.history = LSN_HISTORY_SHARED;
	e.kind = LSN_KIND_CASE;
	e.ts = lsn_clock_now_ms();
	lsn_mlog_sign(&e, w->a.k.dk_sk);
	w->t.last = e;
	struct effects fx;
	effects_init(&fx);
	assert_true(ok(w_as(w, &w->a, "channel_create",
			  json_pack("{s:s, s:o}", "idem", "c1", "entry", lsn_mlog_to_json(&e)), &fx)));
	assert_int_equal(count_events(&fx, "channel_log", EFFECT_EVENT_USER, w->a.k.user), 1);
	effects_free(&fx);
	*state = w;
	return 0;
}

static int
world_teardown(void **state)
{
	struct world *w = *state;
	void *f = w->f;
	teardown(&f);
	free(w);
	return 0;
}

static void
add_b(struct world *w)
{
	struct effects fx;
	effects_init(&fx);
	assert_true(ok(w_as(w, &w->a, "channel_append", entry(w, &w->a, LSN_MLOG_ADD, &w->b,
								  LSN_CROLE_MEMBER), &fx)));
	assert_int_equal(count_events(&fx, "channel_log", EFFECT_EVENT_USER, w->b.k.user), 1);
	assert_int_equal(count_events(&fx, "channel_log", EFFECT_EVENT_USER, w->a.k.user), 1);
	effects_free(&fx);
}

static json_t *
envelope_body(struct world *w, struct actor *who, const uint8_t channel[16], const uint8_t device[16])
{
	uint8_t env[LSN_MSG_MIN_BYTES + 10];
	struct lsn_msg_header h = {0};
	memcpy(h.channel, channel, 16);
	memcpy(h.sender_device, device, 16);
	h.index = 7;
	lsn_msg_header_write(&h, env);
	randombytes_buf(env + LSN_MSG_HEADER_BYTES, sizeof env - LSN_MSG_HEADER_BYTES);
	(void)who;
	return idem(json_pack("{s:o, s:o}", "channel", wire_id(w->t.channel), "envelope",
			      wire_b64(env, sizeof env)));
}

static void
test_membership_authorisation(void **state)
{
	struct world *w = *state;
	char c[32];
	struct lsn_mlog_entry saved = w->t.last;
	/* a non-member cannot add */
	assert_string_equal(code_of(w_as(w, &w->c, "channel_append",
				       entry(w, &w->c, LSN_MLOG_ADD, &w->c, LSN_CROLE_MEMBER), NULL),
				    c, sizeof c), "forbidden");
	w->t.last = saved;
	add_b(w);
	saved = w->t.last;
	/* a plain member cannot add */
	assert_string_equal(code_of(w_as(w, &w->b, "channel_append",
				       entry(w, &w->b, LSN_MLOG_ADD, &w->c, LSN_CROLE_MEMBER), NULL),
				    c, sizeof c), "forbidden");
	w->t.last = saved;
	/* an entry signed by someone else's device: refused before any rule */
	json_t *body = entry(w, &w->a, LSN_MLOG_ADD, &w->c, LSN_CROLE_MEMBER);
	assert_string_equal(code_of(w_as(w, &w->b, "channel_append", body, NULL), c, sizeof c),
			    "forbidden");
	w->t.last = saved;
	/* a stale prev */
	body = entry(w, &w->a, LSN_MLOG_ADD, &w->c, LSN_CROLE_MEMBER);
	json_object_set_new(json_object_get(body, "entry"), "prev", wire_b64((uint8_t[32]){1}, 32));
	assert_string_equal(code_of(w_as(w, &w->a, "channel_append", body, NULL), c, sizeof c),
			    "bad_signature");  /* prev is signed: changing it breaks the signature */
	w->t.last = saved;
	/* a tampered signature */
	body = entry(w, &w->a, LSN_MLOG_ADD, &w->c, LSN_CROLE_MEMBER);
	json_object_set_new(json_object_get(body, "entry"), "ts", json_integer(1));
	assert_string_equal(code_of(w_as(w, &w->a, "channel_append", body, NULL), c, sizeof c),
			    "bad_signature");
	w->t.last = saved;
	/* the outsider sees nothing of the channel */
	assert_string_equal(code_of(w_as(w, &w->c, "channel_log",
				       json_pack("{s:o}", "channel", wire_id(w->t.channel)), NULL), c, sizeof c),
			    "not_found");
	json_t *r = w_as(w, &w->b, "channel_log", json_pack("{s:o}", "channel", wire_id(w->t.channel)), NULL);
	assert_int_equal(json_array_size(json_object_get(r, "entries")), 2);
	json_decref(r);
	r = w_as(w, &w->b, "channel_members", json_pack("{s:o}", "channel", wire_id(w->t.channel)), NULL);
	assert_int_equal(json_array_size(json_object_get(r, "members")), 2);
	json_decref(r);
}

/* The pushed "message" event and the "messages" item are one object: the
 * event's fields (less "ev") equal the item's, envelope included, so a
 * client can verify and decrypt the event alone. */
static void
test_message_event_equals_item(void **state)
{
	struct world *w = *state;
	add_b(w);
	struct effects fx;
	effects_init(&fx);
	assert_true(ok(w_as(w, &w->a, "send", envelope_body(w, &w->a, w->t.channel, w->a.k.device),
			    &fx)));
	json_t *event = NULL;
	for (struct effect *e = fx.head; e && event == NULL; e = e->next)
		if (e->kind == EFFECT_EVENT_USER && memcmp(e->target, w->b.k.user, 16) == 0)
			event = json_loadb(e->frame, e->frame_len, 0, NULL);
	effects_free(&fx);
	assert_non_null(event);
	assert_string_equal(json_string_value(json_object_get(event, "ev")), "message");
	json_object_del(event, "ev");
	json_t *r = w_as(w, &w->b, "messages", json_pack("{s:o}", "channel", wire_id(w->t.channel)),
			 NULL);
	json_t *item = json_array_get(json_object_get(r, "messages"), 0);
	assert_non_null(item);
	assert_int_equal(json_object_size(item), 6);
	assert_non_null(json_object_get(item, "channel"));
	assert_non_null(json_object_get(item, "envelope"));
	assert_true(json_equal(event, item));
	json_decref(r);
	json_decref(event);
}

static void
test_messages_and_former_members(void **state)
{
	struct world *w = *state;
	char c[32];
	add_b(w);
	struct effects fx;
	effects_init(&fx);
	json_t *r = w_as(w, &w->a, "send", envelope_body(w, &w->a, w->t.channel, w->a.k.device), &fx);
	assert_int_equal(json_integer_value(json_object_get(r, "seq")), 1);
	json_decref(r);
	assert_int_equal(count_events(&fx, "message", EFFECT_EVENT_USER, w->b.k.user), 1);
	assert_int_equal(count_events(&fx, "message", EFFECT_EVENT_USER, w->c.k.user), 0);
	effects_free(&fx);
	/* the header must name this channel and the sending device */
	uint8_t other[16] = {9};
	assert_string_equal(code_of(w_as(w, &w->a, "send", envelope_body(w, &w->a, other, w->a.k.device),
				       NULL), c, sizeof c), "bad_request");
	assert_string_equal(code_of(w_as(w, &w->a, "send", envelope_body(w, &w->a, w->t.channel, w->b.k.device),
				       NULL), c, sizeof c), "forbidden");
	assert_string_equal(code_of(w_as(w, &w->c, "send", envelope_body(w, &w->c, w->t.channel, w->c.k.device),
				       NULL), c, sizeof c), "not_found");
	r = w_as(w, &w->b, "messages", json_pack("{s:o, s:i}", "channel", wire_id(w->t.channel), "after", 0), NULL);
	assert_int_equal(json_array_size(json_object_get(r, "messages")), 1);
	assert_false(json_is_true(json_object_get(r, "more")));
	json_decref(r);
	/* receipts */
	assert_true(ok(w_as(w, &w->b, "receipt", json_pack("{s:o, s:s, s:i}", "channel", wire_id(w->t.channel),
								"kind", "read", "seq", 1), NULL)));
	assert_string_equal(code_of(w_as(w, &w->b, "receipt", json_pack("{s:o, s:s, s:i}", "channel",
				       wire_id(w->t.channel), "kind", "read", "seq", 5), NULL), c, sizeof c),
			    "bad_request");
	r = w_as(w, &w->a, "receipts", json_pack("{s:o}", "channel", wire_id(w->t.channel)), NULL);
	json_t *first = json_array_get(json_object_get(r, "receipts"), 0);
	assert_int_equal(json_integer_value(json_object_get(first, "read")), 1);
	assert_int_equal(json_integer_value(json_object_get(first, "delivered")), 1);
	json_decref(r);
	/* b is removed: later messages stay out of reach */
	effects_init(&fx);
	assert_true(ok(w_as(w, &w->a, "channel_append", entry(w, &w->a, LSN_MLOG_REMOVE, &w->b,
								  LSN_CROLE_NONE), &fx)));
	assert_int_equal(count_events(&fx, "channel_log", EFFECT_EVENT_USER, w->b.k.user), 1);
	effects_free(&fx);
	assert_true(ok(w_as(w, &w->a, "send", envelope_body(w, &w->a, w->t.channel, w->a.k.device), NULL)));
	assert_string_equal(code_of(w_as(w, &w->b, "send", envelope_body(w, &w->b, w->t.channel, w->b.k.device),
				       NULL), c, sizeof c), "forbidden");
	r = w_as(w, &w->b, "messages", json_pack("{s:o}", "channel", wire_id(w->t.channel)), NULL);
	assert_int_equal(json_array_size(json_object_get(r, "messages")), 1);
	json_decref(r);
	r = w_as(w, &w->b, "channels", json_object(), NULL);
	json_t *ch = json_array_get(json_object_get(r, "channels"), 0);
	assert_false(json_is_true(json_object_get(ch, "member")));
	assert_int_equal(json_integer_value(json_object_get(ch, "last_seq")), 1);
	json_decref(r);
}

static void
test_to_device_queue(void **state)
{
	struct world *w = *state;
	char c[32];
	struct effects fx;
	/* before b joins a's channel, a and b share none: refused */
	json_t *body = idem(json_pack("{s:[{s:o, s:o, s:s}]}", "messages", "user", wire_id(w->b.k.user),
				      "device", wire_id(w->b.k.device), "body", "eA=="));
	assert_string_equal(code_of(w_as(w, &w->a, "to_device_send", body, NULL), c, sizeof c),
			    "todevice_not_allowed");
	add_b(w);
	effects_init(&fx);
	body = idem(json_pack("{s:[{s:o, s:o, s:s}]}", "messages", "user", wire_id(w->b.k.user),
			      "device", wire_id(w->b.k.device), "body", "a2V5IHNoYXJl"));
	assert_true(ok(w_as(w, &w->a, "to_device_send", body, &fx)));
	assert_int_equal(count_events(&fx, "to_device", EFFECT_EVENT_DEVICE, w->b.k.device), 1);
	effects_free(&fx);
	/* a device of another user, or an unknown one */
	body = idem(json_pack("{s:[{s:o, s:o, s:s}]}", "messages", "user", wire_id(w->c.k.user),
			      "device", wire_id(w->b.k.device), "body", "eA=="));
	assert_string_equal(code_of(w_as(w, &w->a, "to_device_send", body, NULL), c, sizeof c), "not_found");
	/* c shares no channel with a, and has never written to a */
	body = idem(json_pack("{s:[{s:o, s:o, s:s}]}", "messages", "user", wire_id(w->c.k.user),
			      "device", wire_id(w->c.k.device), "body", "eA=="));
	assert_string_equal(code_of(w_as(w, &w->a, "to_device_send", body, NULL), c, sizeof c),
			    "todevice_not_allowed");
	json_t *r = w_as(w, &w->b, "to_device_fetch", json_object(), NULL);
	json_t *msgs = json_object_get(r, "messages");
	assert_int_equal(json_array_size(msgs), 1);
	json_int_t id = json_integer_value(json_object_get(json_array_get(msgs, 0), "id"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 0), "body")),
			    "a2V5IHNoYXJl");
	json_decref(r);
	/* nothing is deleted without the recipient's ack; a's ack does not touch b's queue */
	r = w_as(w, &w->a, "to_device_ack", json_pack("{s:I}", "upto", id), NULL);
	assert_int_equal(json_integer_value(json_object_get(r, "deleted")), 0);
	json_decref(r);
	r = w_as(w, &w->b, "to_device_ack", json_pack("{s:I}", "upto", id), NULL);
	assert_int_equal(json_integer_value(json_object_get(r, "deleted")), 1);
	json_decref(r);
	r = w_as(w, &w->b, "to_device_fetch", json_object(), NULL);
	assert_int_equal(json_array_size(json_object_get(r, "messages")), 0);
	json_decref(r);
	/* the caps: 2 entries from one sender, 3 in all, then todevice_queue_full */
	w->f->cfg.todevice_max_per_sender = 2;
	w->f->cfg.todevice_max_queued = 3;
	for (int i = 0; i < 3; i++) {
		body = idem(json_pack("{s:[{s:o, s:o, s:s}]}", "messages", "user", wire_id(w->b.k.user),
				      "device", wire_id(w->b.k.device), "body", "eA=="));
		r = w_as(w, &w->a, "to_device_send", body, NULL);
		if (i < 2)
			assert_true(ok(r));
		else
			assert_string_equal(code_of(r, c, sizeof c), "todevice_queue_full");
	}
	/* b's own queue from itself (another sender) still has room for one */
	body = idem(json_pack("{s:[{s:o, s:o, s:s}]}", "messages", "user", wire_id(w->b.k.user),
			      "device", wire_id(w->b.k.device), "body", "eA=="));
	assert_true(ok(w_as(w, &w->b, "to_device_send", body, NULL)));
	body = idem(json_pack("{s:[{s:o, s:o, s:s}]}", "messages", "user", wire_id(w->b.k.user),
			      "device", wire_id(w->b.k.device), "body", "eA=="));
	assert_string_equal(code_of(w_as(w, &w->b, "to_device_send", body, NULL), c, sizeof c),
			    "todevice_queue_full");
	r = w_as(w, &w->b, "to_device_fetch", json_object(), NULL);
	assert_int_equal(json_array_size(json_object_get(r, "messages")), 3);
	json_decref(r);
	w->f->cfg.todevice_max_per_sender = 100;
	w->f->cfg.todevice_max_queued = 1000;
}

static void
test_attachments(void **state)
{
	struct world *w = *state;
	char c[32];
	add_b(w);
	uint8_t att[16], chunk0[30], chunk1[10], hash[32];
	randombytes_buf(att, sizeof att);
	randombytes_buf(chunk0, sizeof chunk0);
	randombytes_buf(chunk1, sizeof chunk1);
	crypto_generichash_state h;
	crypto_generichash_init(&h, NULL, 0, 32);
	crypto_generichash_update(&h, chunk0, sizeof chunk0);
	crypto_generichash_update(&h, chunk1, sizeof chunk1);
	crypto_generichash_final(&h, hash, 32);
	assert_true(ok(w_as(w, &w->a, "attachment_begin",
			  idem(json_pack("{s:o, s:o, s:i, s:i}", "attachment", wire_id(att), "channel",
					 wire_id(w->t.channel), "size", 40, "chunks", 2)), NULL)));
	assert_true(ok(w_as(w, &w->a, "attachment_put", idem(json_pack("{s:o, s:i, s:o}", "attachment",
			  wire_id(att), "index", 0, "data", wire_b64(chunk0, sizeof chunk0))), NULL)));
	/* finishing with a chunk missing, then with a wrong hash */
	assert_string_equal(code_of(w_as(w, &w->a, "attachment_finish", idem(json_pack("{s:o, s:o}",
				"attachment", wire_id(att), "hash", wire_b64(hash, 32))), NULL), c, sizeof c),
			    "conflict");
	assert_true(ok(w_as(w, &w->a, "attachment_put", idem(json_pack("{s:o, s:i, s:o}", "attachment",
			  wire_id(att), "index", 1, "data", wire_b64(chunk1, sizeof chunk1))), NULL)));
	/* not readable before it is complete */
	assert_string_equal(code_of(w_as(w, &w->b, "attachment_get", json_pack("{s:o, s:i}", "attachment",
				wire_id(att), "index", 0), NULL), c, sizeof c), "not_found");
	uint8_t wrong[32] = {0};
	assert_string_equal(code_of(w_as(w, &w->a, "attachment_finish", idem(json_pack("{s:o, s:o}",
				"attachment", wire_id(att), "hash", wire_b64(wrong, 32))), NULL), c, sizeof c),
			    "conflict");
	assert_true(ok(w_as(w, &w->a, "attachment_finish", idem(json_pack("{s:o, s:o}", "attachment",
			  wire_id(att), "hash", wire_b64(hash, 32))), NULL)));
	json_t *r = w_as(w, &w->b, "attachment_get", json_pack("{s:o, s:i}", "attachment", wire_id(att),
							     "index", 1), NULL);
	uint8_t back[10];
	size_t len = 0;
	assert_true(wire_b64_decode(json_string_value(json_object_get(r, "data")), back, sizeof back, &len));
	assert_int_equal(len, 10);
	assert_memory_equal(back, chunk1, 10);
	json_decref(r);
	/* outsiders learn nothing; the size cap holds */
	assert_string_equal(code_of(w_as(w, &w->c, "attachment_info", json_pack("{s:o}", "attachment",
				wire_id(att)), NULL), c, sizeof c), "not_found");
	randombytes_buf(att, sizeof att);
	assert_string_equal(code_of(w_as(w, &w->a, "attachment_begin", idem(json_pack("{s:o, s:o, s:I, s:i}",
				"attachment", wire_id(att), "channel", wire_id(w->t.channel),
				"size", (json_int_t)51 * 1024 * 1024, "chunks", 800)), NULL), c, sizeof c),
			    "too_large");
}

static void
test_backup_keeps_lowest_index(void **state)
{
	struct world *w = *state;
	uint8_t session[32];
	randombytes_buf(session, sizeof session);
	int firsts[] = {5, 7, 2};
	int stored[] = {1, 0, 1};
	for (int i = 0; i < 3; i++) {
		json_t *r = w_as(w, &w->a, "backup_put", idem(json_pack("{s:[{s:o, s:o, s:i, s:s}]}", "entries",
			       "channel", wire_id(w->t.channel), "session_id", wire_b64(session, 32),
			       "first_index", firsts[i], "data", "c2VhbGVk")), NULL);
		assert_int_equal(json_integer_value(json_object_get(r, "stored")), stored[i]);
		json_decref(r);
	}
	json_t *r = w_as(w, &w->a, "backup_get", json_object(), NULL);
	json_t *entries = json_object_get(r, "entries");
	assert_int_equal(json_array_size(entries), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(entries, 0), "first_index")), 2);
	json_decref(r);
	/* another user's backup is theirs alone */
	r = w_as(w, &w->b, "backup_get", json_object(), NULL);
	assert_int_equal(json_array_size(json_object_get(r, "entries")), 0);
	json_decref(r);
	assert_true(ok(w_as(w, &w->a, "backup_identity_put", idem(json_pack("{s:s}", "blob", "aWs=")), NULL)));
	char c[32];
	assert_string_equal(code_of(w_as(w, &w->b, "backup_identity_get", json_object(), NULL), c, sizeof c),
			    "not_found");
}

static void
test_keys(void **state)
{
	struct world *w = *state;
	json_t *r = w_as(w, &w->a, "keys", json_pack("{s:[o,o]}", "users", wire_id(w->b.k.user),
						   wire_id(w->c.k.user)), NULL);
	json_t *users = json_object_get(r, "users");
	assert_int_equal(json_array_size(users), 2);
	json_t *devs = json_object_get(json_array_get(users, 0), "devices");
	assert_int_equal(json_array_size(devs), 1);
	json_decref(r);
	char c[32];
	uint8_t nobody[16] = {3};
	assert_string_equal(code_of(w_as(w, &w->a, "keys", json_pack("{s:[o]}", "users", wire_id(nobody)),
				       NULL), c, sizeof c), "not_found");
}

static json_t *
ak_body(struct actor *who, const uint8_t *signer_sk, int64_t ts, uint8_t ak_id[16], uint8_t ak[32])
{
	uint8_t msg[LSN_SIGNED_MAX], sig[64], sk[32];
	randombytes_buf(ak_id, 16);
	crypto_kx_keypair(ak, sk);
	size_t len = lsn_signed_ak_cert(msg, who->k.device, ak_id, ak, (uint64_t)ts);
	crypto_sign_detached(sig, NULL, msg, len, signer_sk);
	return idem(json_pack("{s:o, s:o, s:I, s:o}", "ak_id", wire_id(ak_id), "ak", wire_b64(ak, 32),
			      "ak_ts", (json_int_t)ts, "ak_sig", wire_b64(sig, 64)));
}

static void
test_agreement_key_rotation(void **state)
{
	struct world *w = *state;
	char c[32];
	uint8_t ak_id[16], ak[32];
	int64_t now = lsn_clock_now_ms();
	/* signed by the identity key instead of the device key */
	assert_string_equal(code_of(w_as(w, &w->a, "ak_publish", ak_body(&w->a, w->a.k.ik_sk, now, ak_id, ak),
				       NULL), c, sizeof c), "bad_signature");
	/* not newer than the current key */
	assert_string_equal(code_of(w_as(w, &w->a, "ak_publish", ak_body(&w->a, w->a.k.dk_sk, 5, ak_id, ak),
				       NULL), c, sizeof c), "conflict");
	struct effects fx;
	effects_init(&fx);
	assert_true(ok(w_as(w, &w->a, "ak_publish", ak_body(&w->a, w->a.k.dk_sk, now, ak_id, ak), &fx)));
	assert_int_equal(count_events(&fx, "device_list", EFFECT_EVENT_USER, w->a.k.user), 1);
	effects_free(&fx);
	json_t *r = w_as(w, &w->b, "keys", json_pack("{s:[o]}", "users", wire_id(w->a.k.user)), NULL);
	json_t *dev = json_array_get(json_object_get(json_array_get(json_object_get(r, "users"), 0),
						     "devices"), 0);
	char hex[33];
	lsn_id_to_hex(ak_id, hex);
	assert_string_equal(json_string_value(json_object_get(dev, "ak_id")), hex);
	json_decref(r);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_membership_authorisation, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_message_event_equals_item, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_messages_and_former_members, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_to_device_queue, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_attachments, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_backup_keeps_lowest_index, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_keys, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_agreement_key_rotation, world_setup, world_teardown),
	};
	return cmocka_run_group_tests_name("threads", tests, NULL, NULL);
}
