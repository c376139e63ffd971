/* test_client_core.c — the client core against a fake server: a transport
 * (transport.h) that answers `messages` from a list of stored messages and
 * counts every request by op, and a real profile (sealed store, SQLite) in a
 * temporary LIAISON_HOME. It drives the one delivery path (thread_deliver):
 * a message event decrypted from the event alone, a gap in seq fetched with
 * `messages` once, an event already synced ignored; and a failure path: a
 * store whose transaction cannot begin while a page of messages is taken
 * (fetch_page must not free what it never filled). The per-sender link and
 * gaps (thread_gaps.h): a message deleted and the later seqs renumbered is
 * revealed by the next message's "link", receipts stop before it, and the
 * pure gap and receipt-mark rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "clock.h"
#include "day.h"
#include "e2e.h"
#include "group_session.h"
#include "mlog.h"
#include "mlog_verify.h"
#include "local.h"
#include "local_alarm.h"
#include "profile.h"
#include "seal.h"
#include "sql.h"
#include "thread.h"
#include "thread_gaps.h"
#include "transport.h"
#include "wire.h"

#define PASS "correct horse battery staple"
#define MAX_STORED 16

/* ---- the fake server ---------------------------------------------------------------- */

struct fake {
	struct link base;                    /* first: what the core holds */
	struct link_hello hello;
	json_t *stored[MAX_STORED];          /* message items, seq = index + 1 */
	size_t n_stored;
	size_t requests;                     /* every request */
	size_t messages_requests;            /* `messages` ones */
	size_t log_requests;                 /* `channel_log` ones */
	int64_t last_after;                  /* `after` of the last `messages` */
	json_t *users;                       /* what `directory_search` answers */
	json_t *channels;                    /* what `channels` answers */
	int64_t shown_last;                  /* `messages`' last_seq; 0: n_stored */
	unsigned rate_limited;               /* refuse this many requests with rate_limited */
	uint32_t retry_ms;                   /* … and this retry_after_ms */
};

static struct fake *
fake_of(struct link *c)
{
	return (struct fake *)c;
}

static enum lsn_err
fake_request(struct link *c, const char *op, json_t *body, json_t **reply, struct lsn_status *st)
{
	struct fake *f = fake_of(c);
	*reply = NULL;
	f->requests++;
	if (f->rate_limited) {
		f->rate_limited--;
		json_decref(body);
		lsn_fail(st, LSN_ERR_RATE_LIMITED, "too many requests");
		st->retry_after_ms = f->retry_ms;
		return LSN_ERR_RATE_LIMITED;
	}
	if (strcmp(op, "directory_search") == 0 || strcmp(op, "channels") == 0) {
		bool dir = op[0] == 'd';
		json_t *list = dir ? f->users : f->channels;
		/* "o" takes the reference: the fake's own list is lent (incref), an
		 * empty one is new */
		*reply = json_pack("{s:b, s:o}", "ok", 1, dir ? "users" : "channels",
				   list ? json_incref(list) : json_array());
		json_decref(body);
		return LSN_OK;
	}
	if (strcmp(op, "channel_log") == 0) { /* a channel this fake does not serve */
		f->log_requests++;
		json_decref(body);
		return lsn_fail(st, LSN_ERR_NOT_FOUND, "no such channel");
	}
	if (strcmp(op, "messages") != 0) {
		json_decref(body);
		return lsn_fail(st, LSN_ERR_UNKNOWN_OP, "the fake server has no op %s", op);
	}
	f->messages_requests++;
	f->last_after = json_integer_value(json_object_get(body, "after"));
	json_t *list = json_array();
	for (size_t i = 0; i < f->n_stored; i++)
		if ((int64_t)i + 1 > f->last_after)
			json_array_append(list, f->stored[i]);
	*reply = json_pack("{s:b, s:O, s:I, s:o, s:b}", "ok", 1, "channel",
			   json_object_get(body, "channel"), "last_seq",
			   (json_int_t)(f->shown_last ? f->shown_last : (int64_t)f->n_stored),
			   "messages", list, "more", 0);
	json_decref(body);
	return LSN_OK;
}

static json_t *fake_next_event(struct link *c) { (void)c; return NULL; }
static bool fake_wait_event(struct link *c, int ms) { (void)c; (void)ms; return false; }
static void fake_interrupt(struct link *c) { (void)c; }
static bool fake_alive(const struct link *c) { (void)c; return true; }
static uint64_t fake_dropped(const struct link *c) { (void)c; return 0; }
static const struct link_hello *fake_hello(const struct link *c)
{
	return &((const struct fake *)c)->hello;
}
static bool fake_take_challenge(struct link *c, uint8_t out[LSN_CHALLENGE_BYTES])
{
	(void)c;
	(void)out;
	return false;
}
static void fake_close(struct link *c) { (void)c; }

static const struct link_ops fake_ops = {
	.request = fake_request,
	.next_event = fake_next_event,
	.wait_event = fake_wait_event,
	.interrupt = fake_interrupt,
	.alive = fake_alive,
	.events_dropped = fake_dropped,
	.hello = fake_hello,
	.take_challenge = fake_take_challenge,
	.close = fake_close,
};

/* ---- the world: a profile, a channel, a sender's session ------------------------------ */

struct world {
	char home[64];
	struct fake fake;
	struct e2e e;
	struct chan_view v;
	uint8_t ever[1][LSN_ID_BYTES];
	uint8_t sender_user[LSN_ID_BYTES];
	uint8_t sender_device[LSN_ID_BYTES];
	struct lsn_gs_outbound out;          /* the sender's session */
	json_t *mlog;                        /* put into the next messages sealed, if set */
	struct lsn_mlog_entry log[2];        /* the verified log, when a test gives v one */
};

static struct profile *
make_profile(void)
{
	struct lsn_status st = {0};
	struct profile *p = NULL;
	assert_int_equal(profile_reserve("core", &p, &st), LSN_OK);
	p->keys = profile_keys_new();
	assert_non_null(p->keys);
	lsn_id_random(p->user);
	lsn_id_random(p->device);
	lsn_id_random(p->ak_id);
	crypto_sign_keypair(p->ik_pk, p->keys->ik_sk);
	crypto_sign_keypair(p->dk_pk, p->keys->dk_sk);
	crypto_kx_keypair(p->ak_pk, p->keys->ak_sk);
	p->created_at = p->dk_ts = p->ak_ts = lsn_clock_now_ms();
	p->server_url = strdup("wss://localhost:1");
	p->server_name = strdup("localhost");
	p->device_name = strdup("unit");
	assert_int_equal(profile_write_new(p, PASS, &st), LSN_OK);
	assert_int_equal(profile_commit_new(p, &st), LSN_OK);
	profile_close(p);
	p = NULL;
	assert_int_equal(profile_open("core", &p, &st), LSN_OK);
	assert_int_equal(profile_unlock(p, PASS, &st), LSN_OK);
	return p;
}

/* The sender's message seq as the server stores it (and pushes it). */
static json_t *
seal_message(struct world *w, int64_t seq, const char *body)
{
	char channel[LSN_ID_HEX + 1], sender[LSN_ID_HEX + 1];
	lsn_id_to_hex(w->v.channel, channel);
	lsn_id_to_hex(w->sender_user, sender);
	json_t *content = json_pack("{s:s, s:s, s:s, s:s}", "type", "text", "body", body,
				    "channel", channel, "sender", sender);
	if (w->mlog)
		json_object_set(content, "mlog", w->mlog);
	char *plain = json_dumps(content, JSON_COMPACT);
	json_decref(content);
	uint8_t mk[32], *env = NULL;
	size_t env_len = 0;
	uint32_t index = 0;
	int64_t ts = lsn_clock_now_ms();
	lsn_gs_ratchet_step(&w->out, mk, &index);
	assert_int_equal(lsn_gs_seal(&w->out, index, mk, w->sender_device, (uint64_t)ts,
				     (const uint8_t *)plain, strlen(plain), &env, &env_len), 0);
	json_t *item = json_pack("{s:I, s:I, s:o, s:o, s:o}", "seq", (json_int_t)seq, "ts",
				 (json_int_t)ts, "sender_user", wire_id(w->sender_user),
				 "sender_device", wire_id(w->sender_device), "envelope",
				 wire_b64(env, env_len));
	free(env);
	free(plain);
	return item;
}

/* An event as the server pushes it: the item's fields plus ev and channel. */
static json_t *
event_of(struct world *w, json_t *item)
{
	json_t *ev = json_deep_copy(item);
	json_object_set_new(ev, "ev", json_string("message"));
	json_object_set_new(ev, "channel", wire_id(w->v.channel));
	return ev;
}

static void
store_on_server(struct world *w, const char *body)
{
	assert_true(w->fake.n_stored < MAX_STORED);
	w->fake.stored[w->fake.n_stored] = seal_message(w, (int64_t)w->fake.n_stored + 1, body);
	w->fake.n_stored++;
}

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	assert_non_null(w);
	snprintf(w->home, sizeof w->home, "/tmp/lsn-core-XXXXXX");
	assert_non_null(mkdtemp(w->home));
	setenv("LIAISON_HOME", w->home, 1);
	w->fake.base.ops = &fake_ops;
	w->e.p = w->e.s.profile = make_profile();
	w->e.s.link = &w->fake.base;
	lsn_id_to_hex(w->e.p->user, w->e.me_hex);
	/* a valid channel whose log admitted the sender */
	lsn_id_random(w->v.channel);
	lsn_id_random(w->sender_user);
	lsn_id_random(w->sender_device);
	w->v.valid = true;
	memcpy(w->ever[0], w->sender_user, LSN_ID_BYTES);
	w->v.ever = w->ever;
	w->v.n_ever = 1;
	w->v.last_departure_seq = -1;
	struct lsn_status st = {0};
	struct local_channel c = {.present = true, .last_seq = 0, .log_seq = -1, .valid = true};
	snprintf(c.kind, sizeof c.kind, "case");
	snprintf(c.history, sizeof c.history, "shared");
	assert_int_equal(local_channel_put(w->e.p, w->v.channel, &c, &st), LSN_OK);
	/* the sender's session, its key already received by this device */
	lsn_gs_outbound_new(&w->out, w->v.channel, lsn_clock_now_ms());
	struct local_inbound in;
	memset(&in, 0, sizeof in);
	lsn_gs_inbound_from_outbound(&in.gs, &w->out, w->sender_device);
	memcpy(in.sender_user, w->sender_user, LSN_ID_BYTES);
	memcpy(in.via_device, w->sender_device, LSN_ID_BYTES);
	in.direct_index = 0;
	in.received_at = lsn_clock_now_ms();
	assert_int_equal(local_inbound_put(w->e.p, &in, &st), LSN_OK);
	sodium_memzero(&in, sizeof in);
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;
	for (size_t i = 0; i < w->fake.n_stored; i++)
		json_decref(w->fake.stored[i]);
	json_decref(w->fake.users);
	json_decref(w->fake.channels);
	lsn_gs_outbound_wipe(&w->out);
	json_decref(w->mlog);
	profile_close(w->e.p);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", w->home);
	/* banned-ok(system): a test removing the directory its own mkdtemp
	   made from a fixed template: no outside input reaches the shell */
	assert_int_equal(system(cmd), 0);
	free(w);
	return 0;
}

static int64_t
last_seq(struct world *w)
{
	struct local_channel c;
	struct lsn_status st = {0};
	assert_int_equal(local_channel_get(w->e.p, w->v.channel, &c, &st), LSN_OK);
	return c.last_seq;
}

/* Message seq as cached: its status, and its body when readable. */
static void
expect_cached(struct world *w, int64_t seq, const char *status, const char *body)
{
	struct local_msg m;
	bool found = false;
	struct lsn_status st = {0};
	assert_int_equal(local_msg_get(w->e.p, w->v.channel, seq, &m, &found, &st), LSN_OK);
	assert_true(found);
	assert_string_equal(m.status, status);
	if (body) {
		json_t *content = json_loads(m.plain, 0, NULL);
		assert_non_null(content);
		assert_string_equal(json_string_value(json_object_get(content, "body")), body);
		json_decref(content);
	}
	local_msg_clear(&m);
}

static void
expect_absent(struct world *w, int64_t seq)
{
	struct local_msg m;
	bool found = true;
	struct lsn_status st = {0};
	assert_int_equal(local_msg_get(w->e.p, w->v.channel, seq, &m, &found, &st), LSN_OK);
	assert_false(found);
	local_msg_clear(&m);
}

/* ---- the tests ----------------------------------------------------------------------- */

/* The next message's event is verified, decrypted and cached on its own. */
static void
test_event_decrypted_without_request(void **state)
{
	struct world *w = *state;
	struct thread_fetch_result r;
	struct lsn_status st = {0};
	store_on_server(w, "Bisoprolol 2,5 mg le matin.");
	json_t *ev = event_of(w, w->fake.stored[0]);
	assert_int_equal(thread_deliver(&w->e, &w->v, ev, &r, &st), LSN_OK);
	json_decref(ev);
	assert_int_equal(r.fetched, 1);
	assert_int_equal(r.decrypted, 1);
	assert_false(r.refetched);
	assert_int_equal(w->fake.requests, 0);
	assert_int_equal(last_seq(w), 1);
	expect_cached(w, 1, "ok", "Bisoprolol 2,5 mg le matin.");
}

/* seq skips: the missing messages (and the event's) come with one `messages`
 * request after the last synced seq; an event already synced changes nothing. */
static void
test_gap_falls_back_to_messages_once(void **state)
{
	struct world *w = *state;
	struct thread_fetch_result r;
	struct lsn_status st = {0};
	store_on_server(w, "un");
	store_on_server(w, "deux");
	store_on_server(w, "trois");
	json_t *first = event_of(w, w->fake.stored[0]);
	assert_int_equal(thread_deliver(&w->e, &w->v, first, &r, &st), LSN_OK);
	assert_int_equal(w->fake.requests, 0);
	/* the event of seq 2 was missed: seq 3 arrives */
	json_t *third = event_of(w, w->fake.stored[2]);
	assert_int_equal(thread_deliver(&w->e, &w->v, third, &r, &st), LSN_OK);
	assert_true(r.refetched);
	assert_int_equal(w->fake.messages_requests, 1);
	assert_int_equal(w->fake.last_after, 1);
	assert_int_equal(r.fetched, 2);
	assert_int_equal(last_seq(w), 3);
	expect_cached(w, 1, "ok", "un");
	expect_cached(w, 2, "ok", "deux");
	expect_cached(w, 3, "ok", "trois");
	assert_int_equal(w->fake.requests, 1);
	/* the same events again (already synced): no request, nothing new */
	assert_int_equal(thread_deliver(&w->e, &w->v, third, &r, &st), LSN_OK);
	assert_int_equal(thread_deliver(&w->e, &w->v, first, &r, &st), LSN_OK);
	assert_int_equal(r.fetched, 0);
	assert_int_equal(w->fake.requests, 1);
	assert_int_equal(last_seq(w), 3);
	json_decref(first);
	json_decref(third);
}

/* A message whose key this device does not hold is cached with its reason,
 * and the event path still needs no request. */
static void
test_event_without_key_waits(void **state)
{
	struct world *w = *state;
	struct thread_fetch_result r;
	struct lsn_status st = {0};
	struct lsn_gs_outbound other = w->out;
	lsn_gs_outbound_new(&w->out, w->v.channel, lsn_clock_now_ms()); /* never shared */
	store_on_server(w, "secret");
	json_t *ev = event_of(w, w->fake.stored[0]);
	w->v.valid = false; /* no history rule to apply: plain "waiting" */
	assert_int_equal(thread_deliver(&w->e, &w->v, ev, &r, &st), LSN_OK);
	json_decref(ev);
	assert_int_equal(r.waiting, 1);
	assert_int_equal(w->fake.requests, 0);
	expect_cached(w, 1, "waiting", NULL);
	lsn_gs_outbound_wipe(&other);
}

/* Fill the stack below us with garbage, so that a struct read before it is
 * written holds garbage too (what an uninitialised local would see). */
static void __attribute__((noinline))
dirty_stack(void)
{
	volatile unsigned char junk[16384];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = 0xA5;
}

/* The store cannot begin its transaction (another connection holds the
 * database's write lock) while a page of messages is taken: an error comes
 * back, nothing is cached, nothing uninitialised is freed. */
static void
test_fetch_when_store_begin_fails(void **state)
{
	struct world *w = *state;
	struct thread_fetch_result r;
	struct lsn_status st = {0};
	store_on_server(w, "un");
	store_on_server(w, "deux");
	char path[160];
	snprintf(path, sizeof path, "%s/profiles/core/profile.db", w->home);
	/* the database is encrypted: the other connection needs its key */
	uint8_t dbk[SEAL_DB_KEYBYTES];
	seal_db_key(w->e.p->local_key, dbk);
	struct profile_db *other = sql_open_key(path, false, dbk, NULL, &st);
	assert_non_null(other);
	sqlite3 *db = other->h;
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	/* the profile waits SQL_BUSY_MS (30 s) for another process's write
	 * lock before giving up; the outcome is the same after a tenth of a
	 * second, and the suite need not wait the rest */
	assert_int_equal(sqlite3_busy_timeout(w->e.p->db->h, 100), SQLITE_OK);
	dirty_stack();
	enum lsn_err err = thread_fetch(&w->e, &w->v, &r, &st);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sql_close(other);
	assert_int_not_equal(err, LSN_OK);
	assert_non_null(strstr(st.msg, "cannot start a transaction"));
	assert_int_equal(w->fake.messages_requests, 1);
	assert_int_equal(last_seq(w), 0);
	expect_absent(w, 1);
	/* once the lock is gone the same fetch takes both */
	assert_int_equal(thread_fetch(&w->e, &w->v, &r, &st), LSN_OK);
	assert_int_equal(r.fetched, 2);
	expect_cached(w, 2, "ok", "deux");
}

/* USER text that matches several people: a usage error whose candidates
 * come back for the caller to show; an exact name among them wins. */
static void
test_ambiguous_user_returns_candidates(void **state)
{
	struct world *w = *state;
	struct lsn_status st = {0};
	struct e2e_pick pick;
	uint8_t user[LSN_ID_BYTES];
	w->fake.users = json_pack("[{s:s, s:s, s:s}, {s:s, s:s, s:s}]",
				  "id", "0123456789abcdef0123456789abcdef", "name", "Dr Claire Martin",
				  "rpps", "10000000009",
				  "id", "fedcba9876543210fedcba9876543210", "name", "Dr Hélène Roux",
				  "rpps", "10101010105");
	assert_int_not_equal(e2e_find_user(&w->e, "Dr", user, &pick, &st), LSN_OK);
	assert_true(pick.usage);
	assert_int_equal(json_array_size(pick.candidates), 2);
	assert_string_equal(st.msg, "\"Dr\" matches 2 people; give the user id or a more "
			    "precise name or RPPS:");
	json_decref(pick.candidates);
	assert_int_equal(e2e_find_user(&w->e, "dr claire martin", user, &pick, &st), LSN_OK);
	assert_null(pick.candidates);
	assert_int_equal(user[0], 0x01);
	/* a channel prefix shared by two channels */
	w->fake.channels = json_pack("[{s:s}, {s:s}]",
				     "channel", "abcd1000000000000000000000000001",
				     "channel", "abcd2000000000000000000000000002");
	assert_int_not_equal(e2e_find_channel(&w->e, "abcd", user, &pick, &st), LSN_OK);
	assert_true(pick.usage);
	assert_null(pick.candidates);
	assert_string_equal(st.msg, "\"abcd\" starts 2 of your channels; give more characters "
			    "(see liaison channel list)");
	/* a longer prefix names one of them */
	assert_int_equal(e2e_find_channel(&w->e, "abcd2", user, &pick, &st), LSN_OK);
	assert_int_equal(user[2], 0x20);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* rate_limited with retry_after_ms: the request is sent again, the same,
 * after that wait; a wait past the budget is not made, the error is the
 * caller's at once; the budget counts every wait of one request. */
static void
test_rate_limited_waits_then_retries(void **state)
{
	struct world *w = *state;
	struct lsn_status st = {0};
	struct e2e_pick pick;
	uint8_t user[LSN_ID_BYTES];
	w->fake.users = json_pack("[{s:s, s:s, s:s}]", "id", "0123456789abcdef0123456789abcdef",
				  "name", "Dr Claire Martin", "rpps", "10000000009");
	w->fake.rate_limited = 2;
	w->fake.retry_ms = 40;
	int64_t t0 = mono_ms();
	assert_int_equal(e2e_find_user(&w->e, "Claire", user, &pick, &st), LSN_OK);
	assert_true(mono_ms() - t0 >= 80);
	assert_int_equal(w->fake.requests, 3);
	assert_int_equal(user[0], 0x01);
	/* a wait longer than the whole budget: not made */
	w->fake.requests = 0;
	w->fake.rate_limited = 1;
	w->fake.retry_ms = E2E_RATE_WAIT_MAX_MS + 1;
	t0 = mono_ms();
	assert_int_equal(e2e_find_user(&w->e, "Claire", user, &pick, &st), LSN_ERR_RATE_LIMITED);
	assert_true(mono_ms() - t0 < 1000);
	assert_int_equal(w->fake.requests, 1);
	assert_int_equal(st.retry_after_ms, E2E_RATE_WAIT_MAX_MS + 1);
	/* the budget is for all the waits of one request */
	struct e2e_retry r = {.waited_ms = E2E_RATE_WAIT_MAX_MS - 10};
	st.err = LSN_ERR_RATE_LIMITED;
	st.retry_after_ms = 11;
	assert_false(e2e_retry(&w->e, LSN_ERR_RATE_LIMITED, &st, &r));
	st.retry_after_ms = 10;
	assert_true(e2e_retry(&w->e, LSN_ERR_RATE_LIMITED, &st, &r));
	assert_int_equal(r.waited_ms, E2E_RATE_WAIT_MAX_MS);
	st.retry_after_ms = 1;
	assert_false(e2e_retry(&w->e, LSN_ERR_RATE_LIMITED, &st, &r));
	/* no retry_after_ms given: no wait, no retry */
	struct e2e_retry r2 = {0};
	st.retry_after_ms = 0;
	assert_false(e2e_retry(&w->e, LSN_ERR_RATE_LIMITED, &st, &r2));
	/* another error is not waited out */
	st.retry_after_ms = 5;
	assert_false(e2e_retry(&w->e, LSN_ERR_FORBIDDEN, &st, &r2));
}

/* A message of the sender naming prev (hex, or NULL: none) as its previous
 * one, stored by the server at seq; hash: BLAKE2b-256 of its envelope,
 * computed here with libsodium's generichash, not by the code under test. */
static json_t *
seal_linked(struct world *w, int64_t seq, const char *body, const char *prev, uint8_t hash[32])
{
	char channel[LSN_ID_HEX + 1], sender[LSN_ID_HEX + 1];
	lsn_id_to_hex(w->v.channel, channel);
	lsn_id_to_hex(w->sender_user, sender);
	json_t *content = json_pack("{s:s, s:s, s:s, s:s}", "type", "text", "body", body,
				    "channel", channel, "sender", sender);
	if (prev)
		json_object_set_new(content, "link", json_string(prev));
	char *plain = json_dumps(content, JSON_COMPACT);
	json_decref(content);
	uint8_t mk[32], *env = NULL;
	size_t env_len = 0;
	uint32_t index = 0;
	int64_t ts = lsn_clock_now_ms();
	lsn_gs_ratchet_step(&w->out, mk, &index);
	assert_int_equal(lsn_gs_seal(&w->out, index, mk, w->sender_device, (uint64_t)ts,
				     (const uint8_t *)plain, strlen(plain), &env, &env_len), 0);
	crypto_generichash(hash, 32, env, env_len, NULL, 0);
	json_t *item = json_pack("{s:I, s:I, s:o, s:o, s:o}", "seq", (json_int_t)seq, "ts",
				 (json_int_t)ts, "sender_user", wire_id(w->sender_user),
				 "sender_device", wire_id(w->sender_device), "envelope",
				 wire_b64(env, env_len));
	free(env);
	free(plain);
	return item;
}

static void
expect_link(struct world *w, int64_t seq, bool missing, const uint8_t prev[32],
	    const uint8_t env_hash[32])
{
	struct local_msg m;
	bool found = false;
	struct lsn_status st = {0};
	assert_int_equal(local_msg_get(w->e.p, w->v.channel, seq, &m, &found, &st), LSN_OK);
	assert_true(found);
	assert_int_equal(m.prev_missing, missing);
	if (missing)
		assert_memory_equal(m.prev, prev, 32);
	assert_true(m.has_env_hash);
	assert_memory_equal(m.env_hash, env_hash, 32);
	local_msg_clear(&m);
}

/* #2 deleted and #3 served as #2: no seq is missing, but #2's prev names an
 * envelope never received; receipts stop at #1. */
static void
test_link_reveals_renumbered_deletion(void **state)
{
	struct world *w = *state;
	struct thread_fetch_result r;
	struct lsn_status st = {0};
	uint8_t h1[32], h2[32], h3[32];
	char hex1[65], hex2[65];
	w->fake.stored[0] = seal_linked(w, 1, "un", NULL, h1);
	sodium_bin2hex(hex1, sizeof hex1, h1, 32);
	json_t *deleted = seal_linked(w, 2, "ALERTE poids", hex1, h2);
	sodium_bin2hex(hex2, sizeof hex2, h2, 32);
	w->fake.stored[1] = seal_linked(w, 3, "trois", hex2, h3);
	json_object_set_new(w->fake.stored[1], "seq", json_integer(2)); /* renumbered */
	w->fake.n_stored = 2;
	json_decref(deleted);
	assert_int_equal(thread_fetch(&w->e, &w->v, &r, &st), LSN_OK);
	assert_int_equal(r.fetched, 2);
	expect_cached(w, 1, "ok", "un");
	expect_cached(w, 2, "ok", "trois");
	expect_link(w, 1, false, NULL, h1);
	expect_link(w, 2, true, h2, h3);
	int64_t delivered = -1, read = -1;
	assert_int_equal(thread_receipt_marks_load(w->e.p, w->v.channel, &delivered, &read, &st),
			 LSN_OK);
	assert_int_equal(delivered, 1);
	assert_int_equal(read, 1);
}

/* The same messages all served: every link is found, receipts go to #3. A
 * prev that is not 64 lowercase hex characters makes the message invalid. */
static void
test_link_found_and_malformed(void **state)
{
	struct world *w = *state;
	struct thread_fetch_result r;
	struct lsn_status st = {0};
	uint8_t h1[32], h2[32], h3[32], h4[32];
	char hex1[65], hex2[65];
	w->fake.stored[0] = seal_linked(w, 1, "un", NULL, h1);
	sodium_bin2hex(hex1, sizeof hex1, h1, 32);
	w->fake.stored[1] = seal_linked(w, 2, "deux", hex1, h2);
	sodium_bin2hex(hex2, sizeof hex2, h2, 32);
	w->fake.stored[2] = seal_linked(w, 3, "trois", hex2, h3);
	w->fake.n_stored = 3;
	assert_int_equal(thread_fetch(&w->e, &w->v, &r, &st), LSN_OK);
	expect_link(w, 2, false, NULL, h2);
	expect_link(w, 3, false, NULL, h3);
	int64_t delivered = -1, read = -1;
	assert_int_equal(thread_receipt_marks_load(w->e.p, w->v.channel, &delivered, &read, &st),
			 LSN_OK);
	assert_int_equal(delivered, 3);
	assert_int_equal(read, 3);
	for (size_t i = 0; hex2[i]; i++)
		hex2[i] = (char)(hex2[i] >= 'a' ? hex2[i] - 'a' + 'A' : hex2[i]);
	w->fake.stored[3] = seal_linked(w, 4, "quatre", hex2, h4);
	w->fake.n_stored = 4;
	assert_int_equal(thread_fetch(&w->e, &w->v, &r, &st), LSN_OK);
	expect_cached(w, 4, "invalid", NULL);
	assert_int_equal(thread_receipt_marks_load(w->e.p, w->v.channel, &delivered, &read, &st),
			 LSN_OK);
	assert_int_equal(delivered, 3);
	assert_int_equal(read, 3);
}

/* #2 and #3 synced, then the `messages` reply says last_seq 1: the
 * range is noted (joined with a later one), the copies kept, and receipts
 * stop at #1. */
static void
test_server_shows_fewer(void **state)
{
	struct world *w = *state;
	struct thread_fetch_result r;
	struct lsn_status st = {0};
	struct local_channel c;
	uint8_t h1[32], h2[32], h3[32];
	char hex1[65], hex2[65];
	w->fake.stored[0] = seal_linked(w, 1, "un", NULL, h1);
	sodium_bin2hex(hex1, sizeof hex1, h1, 32);
	w->fake.stored[1] = seal_linked(w, 2, "deux", hex1, h2);
	sodium_bin2hex(hex2, sizeof hex2, h2, 32);
	w->fake.stored[2] = seal_linked(w, 3, "trois", hex2, h3);
	w->fake.n_stored = 3;
	assert_int_equal(thread_fetch(&w->e, &w->v, &r, &st), LSN_OK);
	assert_int_equal(local_channel_get(w->e.p, w->v.channel, &c, &st), LSN_OK);
	assert_int_equal(c.cut_from, 0);
	/* the server now counts 1 message (the fake's last_seq: n_stored) */
	json_decref(w->fake.stored[1]);
	json_decref(w->fake.stored[2]);
	w->fake.n_stored = 1;
	assert_int_equal(thread_fetch(&w->e, &w->v, &r, &st), LSN_OK);
	assert_int_equal(local_channel_get(w->e.p, w->v.channel, &c, &st), LSN_OK);
	assert_int_equal(c.cut_from, 2);
	assert_int_equal(c.cut_to, 3);
	assert_int_equal(c.last_seq, 3);
	expect_cached(w, 2, "ok", "deux");
	expect_cached(w, 3, "ok", "trois");
	int64_t delivered = -1, read = -1;
	assert_int_equal(thread_receipt_marks_load(w->e.p, w->v.channel, &delivered, &read, &st),
			 LSN_OK);
	assert_int_equal(delivered, 1);
	assert_int_equal(read, 1);
	w->fake.shown_last = 2;
	assert_int_equal(thread_fetch(&w->e, &w->v, &r, &st), LSN_OK);
	assert_int_equal(local_channel_get(w->e.p, w->v.channel, &c, &st), LSN_OK);
	assert_int_equal(c.cut_from, 2); /* the noted range never shrinks */
	assert_int_equal(c.cut_to, 3);
}

/* The envelope of CRYPTO.md "Group session ratchet and message envelope"
 * cached as this device's message: the store records its BLAKE2b-256, the
 * next "link" of this device, as the vector (python3 hashlib, CRYPTO.md
 * "Gaps and the per-sender link"). */
static void
test_prev_vector(void **state)
{
	struct world *w = *state;
	static const char env_hex[] =
		"4c534e01f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
		"29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7"
		"00000001b0b1b2b3b4b5b6b7b8b9babbbcbdbebf0000019ab0a20700"
		"808182838485868788898a8b8c8d8e8f9091929394959697"
		"a4e7148caf1f9ba309b513ce106045fa84173ba26b3e29b9497ae2b86c7ec831"
		"dc6d7fa37e44eb22fdb73544dd644230dec6cb24f9c069264fa25063"
		"ec86935e422c8fd81c6f57829dc92ed4fdd865ef4c5a0526470cfb97746190fc"
		"d1f3dcaa0f7007ce434a8bc3059b0e36892913f40a8d116339ef16f3fd979301";
	uint8_t env[228], hash[32];
	size_t len = 0;
	char hex[65];
	bool found = false;
	struct lsn_status st = {0};
	assert_int_equal(sodium_hex2bin(env, sizeof env, env_hex, strlen(env_hex), NULL, &len, NULL),
			 0);
	assert_int_equal(len, 228);
	struct local_msg m;
	memset(&m, 0, sizeof m);
	memcpy(m.channel, w->v.channel, LSN_ID_BYTES);
	m.seq = 1;
	memcpy(m.sender_user, w->e.p->user, LSN_ID_BYTES);
	memcpy(m.sender_device, w->e.p->device, LSN_ID_BYTES);
	snprintf(m.status, sizeof m.status, "ok");
	m.envelope = env;
	m.env_len = len;
	assert_int_equal(local_msg_put(w->e.p, &m, &st), LSN_OK);
	assert_int_equal(local_msg_last_of_device(w->e.p, w->v.channel, w->e.p->device, hash,
						  &found, &st), LSN_OK);
	assert_true(found);
	assert_string_equal(sodium_bin2hex(hex, sizeof hex, hash, sizeof hash),
			    "9f54a4dbad36ae85d0f6d2eee7672dd20eb2ce66934ca94e0d7615c88ad1e644");
	/* another device's messages are not this device's predecessor */
	assert_int_equal(local_msg_last_of_device(w->e.p, w->v.channel, w->sender_device, hash,
						  &found, &st), LSN_OK);
	assert_false(found);
}

static void
brief(struct local_msg_brief *b, int64_t seq, const char *status, bool prev_missing)
{
	b->seq = seq;
	snprintf(b->status, sizeof b->status, "%s", status);
	b->prev_missing = prev_missing;
}

/* The pure rules: which seqs are missing, how far receipts may go. */
static void
test_gap_and_receipt_rules(void **state)
{
	(void)state;
	int64_t from = 0, to = 0, d = -1, r = -1;
	assert_true(thread_gap_between(2, 4, 4, &from, &to));
	assert_int_equal(from, 3);
	assert_int_equal(to, 3);
	assert_true(thread_gap_between(0, 5, 9, &from, &to));
	assert_int_equal(from, 1);
	assert_int_equal(to, 4);
	/* above the last synced seq nothing is missing yet (our own send at 7) */
	assert_true(thread_gap_between(2, 7, 4, &from, &to));
	assert_int_equal(to, 4);
	assert_false(thread_gap_between(4, 7, 4, &from, &to));
	assert_false(thread_gap_between(2, 3, 9, &from, &to));
	assert_false(thread_gap_between(-1, 9, 9, &from, &to));

	struct local_msg_brief b[6];
	brief(&b[0], 1, "ok", false);
	brief(&b[1], 2, "ok", false);
	brief(&b[2], 4, "ok", false);
	thread_receipt_marks(b, 3, 4, &d, &r);
	assert_int_equal(d, 2);
	assert_int_equal(r, 2);
	brief(&b[2], 3, "ok", false);
	thread_receipt_marks(b, 3, 2, &d, &r); /* #3 is our own send, not synced */
	assert_int_equal(d, 2);
	assert_int_equal(r, 2);
	brief(&b[1], 2, "waiting", false);
	thread_receipt_marks(b, 3, 3, &d, &r);
	assert_int_equal(d, 3);
	assert_int_equal(r, 1);
	brief(&b[1], 2, "bad_signature", false);
	thread_receipt_marks(b, 3, 3, &d, &r);
	assert_int_equal(d, 1);
	assert_int_equal(r, 1);
	brief(&b[1], 2, "ok", true);
	thread_receipt_marks(b, 3, 3, &d, &r);
	assert_int_equal(d, 1);
	assert_int_equal(r, 1);
	/* joined later: the messages before our first key do not stop receipts */
	brief(&b[0], 1, "before_first", false);
	brief(&b[1], 2, "before_first", false);
	brief(&b[2], 3, "ok", false);
	brief(&b[3], 4, "before_first", false);
	brief(&b[4], 5, "ok", false);
	thread_receipt_marks(b, 3, 5, &d, &r);
	assert_int_equal(d, 3);
	assert_int_equal(r, 3);
	/* but one after a readable message is not read */
	thread_receipt_marks(b, 5, 5, &d, &r);
	assert_int_equal(d, 5);
	assert_int_equal(r, 3);
	thread_receipt_marks(b, 0, 5, &d, &r);
	assert_int_equal(d, 0);
	assert_int_equal(r, 0);
	assert_true(thread_status_refused("unknown_session"));
	assert_false(thread_status_refused("waiting"));

	bool has = true;
	uint8_t prev[32];
	json_t *c = json_pack("{s:s}", "type", "text");
	assert_true(thread_prev_parse(c, &has, prev));
	assert_false(has);
	json_object_set_new(c, "link", json_string("00ff"));
	assert_false(thread_prev_parse(c, &has, prev));
	json_object_set_new(c, "link", json_integer(7));
	assert_false(thread_prev_parse(c, &has, prev));
	json_object_set_new(c, "link", json_string("000102030405060708090a0b0c0d0e0f"
						   "101112131415161718191a1b1c1d1eff"));
	assert_true(thread_prev_parse(c, &has, prev));
	assert_true(has);
	assert_int_equal(prev[0], 0x00);
	assert_int_equal(prev[10], 0x0a);
	assert_int_equal(prev[31], 0xff);
	json_decref(c);
}

/* Today is the user's date, in this computer's zone (TZ), not UTC's: at
 * 00:30 in Paris the UTC date is still yesterday. Fixed-offset zones 14 h
 * east and 12 h west of UTC differ from UTC's date at every hour of the
 * day but one or the other; compared with the UTC clock shifted by hand. */
static void
test_today_is_local(void **state)
{
	(void)state;
	const char *saved = getenv("TZ");
	char *keep = saved ? strdup(saved) : NULL;
	static const struct {
		const char *tz;
		int64_t offset_s;
	} zones[] = {{"Etc/GMT-14", 14 * 3600}, {"Etc/GMT+12", -12 * 3600}, {"UTC", 0}};
	for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
		setenv("TZ", zones[i].tz, 1);
		tzset();
		int64_t before = ((int64_t)time(NULL) + zones[i].offset_s) / 86400;
		int64_t today = day_today();
		int64_t after = ((int64_t)time(NULL) + zones[i].offset_s) / 86400;
		/* midnight may pass between the two reads: today is one of them */
		assert_true(today == before || today == after);
	}
	if (keep) {
		setenv("TZ", keep, 1);
		free(keep);
	} else {
		unsetenv("TZ");
	}
	tzset();
}

/* Days the server sends (docs/PROTOCOL.md "Care pathways"): local midnights
 * and ends of local days of the CPTS's zone, read without that zone. Times
 * from `TZ=Europe/Paris date -d ... +%s` and `TZ=America/Martinique ...`. */
static void
test_days_of_the_server(void **state)
{
	(void)state;
	char out[DAY_TEXT];
	int64_t j0 = 1795388400000LL;   /* 2026-11-23 00:00 Paris = 2026-11-22T23:00Z */
	assert_string_equal(day_format_start(j0, out), "2026-11-23");
	/* J2 ends 2026-11-25 23:59:59.999 Paris = 22:59:59.999Z */
	assert_string_equal(day_format_due(1795647599999LL, out), "2026-11-25");
	assert_int_equal(day_offset(j0, 1795647599999LL), 2);
	/* the 23-hour day: J0 Fri 2027-03-26 (23:00Z the day before), J2 Sun 28
	 * ends at 21:59:59.999Z, J7 Fri 2 April at 21:59:59.999Z */
	int64_t spring = 1806015600000LL;
	assert_int_equal(day_offset(spring, 1806271199999LL), 2);
	assert_string_equal(day_format_due(1806271199999LL, out), "2027-03-28");
	assert_int_equal(day_offset(spring, 1806703199999LL), 7);
	/* the 25-hour day: J0 Fri 2027-10-29 (22:00Z the day before), J2 Sun 31
	 * ends at 2027-10-31T22:59:59.999Z */
	int64_t autumn = 1824760800000LL;
	assert_string_equal(day_format_start(autumn, out), "2027-10-29");
	assert_int_equal(day_offset(autumn, 1825023599999LL), 2);
	assert_string_equal(day_format_due(1825023599999LL, out), "2027-10-31");
	/* west of UTC: Martinique, 2026-11-23 00:00 = 04:00Z; J0 ends 2026-11-24T03:59:59.999Z */
	assert_string_equal(day_format_start(1795406400000LL, out), "2026-11-23");
	assert_string_equal(day_format_due(1795492799999LL, out), "2026-11-23");
	assert_int_equal(day_offset(1795406400000LL, 1795492799999LL), 0);
	/* and the old UTC days still read the same */
	assert_string_equal(day_format_start(1795392000000LL, out), "2026-11-23");
	assert_string_equal(day_format_due(1795478399999LL, out), "2026-11-23");
	assert_string_equal(day_format_due(0, out), "-");
}

/* ---- membership-log heads (CRYPTO.md "Membership bound into messages") ----------- */

static bool
count_state(void *arg, const struct local_alarm *a)
{
	size_t *n = arg;
	(void)a;
	(*n)++;
	return true;
}

static bool
first_id(void *arg, const struct local_alarm *a)
{
	*(int64_t *)arg = a->id;
	return false;
}

static size_t
alarms_in(struct world *w, const char *state)
{
	size_t n = 0;
	struct lsn_status st = {0};
	assert_int_equal(local_alarm_each(w->e.p, w->v.channel, state, count_state, &n, &st),
			 LSN_OK);
	return n;
}

/* A head found in the verified log: nothing noted, no request. A malformed
 * one: the message is refused. One beyond the log: noted, the log fetched
 * again at once (here the fake serves no log: the pending head is dropped,
 * not retried forever). */
static void
test_heads_checked_on_delivery(void **state)
{
	struct world *w = *state;
	struct thread_fetch_result r;
	struct lsn_status st = {0};
	for (int i = 0; i < 2; i++) {          /* two entries; only their hashes matter */
		memcpy(w->log[i].channel, w->v.channel, LSN_ID_BYTES);
		w->log[i].seq = (uint64_t)i;
		w->log[i].action = i ? LSN_MLOG_ADD : LSN_MLOG_CREATE;
		w->log[i].ts = 1763900000000LL + i;
	}
	w->v.entries = w->log;
	w->v.n_entries = w->v.n_verified = 2;

	w->mlog = lsn_mlog_head_json(&w->log[1]);
	store_on_server(w, "lié au journal vérifié");
	json_decref(w->mlog);
	w->mlog = json_pack("{s:i}", "seq", 1);              /* no hash */
	store_on_server(w, "tête malformée");
	json_decref(w->mlog);
	w->mlog = lsn_mlog_head_json(&w->log[1]);
	json_object_set_new(w->mlog, "seq", json_integer(5)); /* beyond the log */
	store_on_server(w, "lié à un journal plus récent");

	json_t *ev = event_of(w, w->fake.stored[0]);
	assert_int_equal(thread_deliver(&w->e, &w->v, ev, &r, &st), LSN_OK);
	json_decref(ev);
	expect_cached(w, 1, "ok", "lié au journal vérifié");
	assert_int_equal(w->fake.requests, 0);
	assert_int_equal(alarms_in(w, NULL), 0);

	ev = event_of(w, w->fake.stored[1]);
	assert_int_equal(thread_deliver(&w->e, &w->v, ev, &r, &st), LSN_OK);
	json_decref(ev);
	expect_cached(w, 2, "invalid", NULL);
	assert_int_equal(alarms_in(w, NULL), 0);

	ev = event_of(w, w->fake.stored[2]);
	assert_int_equal(thread_deliver(&w->e, &w->v, ev, &r, &st), LSN_OK);
	json_decref(ev);
	expect_cached(w, 3, "ok", "lié à un journal plus récent");
	assert_int_equal(w->fake.log_requests, 1);
	assert_int_equal(alarms_in(w, NULL), 0);
	w->v.entries = NULL;
}

/* The store keeps one open row per head, at most LOCAL_ALARM_OPEN_MAX open
 * rows per channel, and a cleared row apart from a new one for the same head. */
static void
test_alarm_store(void **state)
{
	struct world *w = *state;
	struct lsn_status st = {0};
	struct local_alarm a;
	bool added = false;
	memset(&a, 0, sizeof a);
	memcpy(a.channel, w->v.channel, LSN_ID_BYTES);
	a.head_seq = 3;
	memset(a.head_hash, 0x33, 32);
	snprintf(a.source, sizeof a.source, "message");
	a.has_by = true;
	memcpy(a.by_user, w->sender_user, LSN_ID_BYTES);
	a.msg_seq = 7;
	snprintf(a.state, sizeof a.state, "pending");
	assert_int_equal(local_alarm_note(w->e.p, &a, &added, &st), LSN_OK);
	assert_true(added);
	snprintf(a.source, sizeof a.source, "key_share");
	assert_int_equal(local_alarm_note(w->e.p, &a, &added, &st), LSN_OK);
	assert_false(added);                                  /* the same head: one row */
	assert_true(local_alarm_any(w->e.p, w->v.channel, "pending"));
	assert_false(local_alarm_any(w->e.p, w->v.channel, "active"));
	assert_int_equal(local_alarm_drop_pending(w->e.p, w->v.channel, &st), LSN_OK);
	assert_int_equal(alarms_in(w, NULL), 0);

	snprintf(a.state, sizeof a.state, "active");
	assert_int_equal(local_alarm_note(w->e.p, &a, &added, &st), LSN_OK);
	assert_true(added);
	assert_int_equal(local_alarm_drop_pending(w->e.p, w->v.channel, &st), LSN_OK);
	assert_int_equal(alarms_in(w, "active"), 1);          /* only pending rows go */
	int64_t id = 0;
	assert_int_equal(local_alarm_each(w->e.p, w->v.channel, "active", first_id, &id, &st),
			 LSN_OK);
	assert_true(id > 0);
	assert_int_equal(local_alarm_set_state(w->e.p, id, "cleared", 1234, &st), LSN_OK);
	assert_int_equal(alarms_in(w, "cleared"), 1);
	assert_int_equal(local_alarm_note(w->e.p, &a, &added, &st), LSN_OK);
	assert_true(added);                                   /* cleared once, raised again */
	assert_int_equal(alarms_in(w, "active"), 1);

	for (int i = 0; i < LOCAL_ALARM_OPEN_MAX + 10; i++) {
		a.head_seq = 100 + i;
		assert_int_equal(local_alarm_note(w->e.p, &a, &added, &st), LSN_OK);
	}
	assert_int_equal(alarms_in(w, "active"), LOCAL_ALARM_OPEN_MAX);
	assert_int_equal(alarms_in(w, "cleared"), 1);
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_event_decrypted_without_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_falls_back_to_messages_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_without_key_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_when_store_begin_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ambiguous_user_returns_candidates, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rate_limited_waits_then_retries, setup,
						teardown),
		cmocka_unit_test(test_today_is_local),
		cmocka_unit_test(test_days_of_the_server),
		cmocka_unit_test_setup_teardown(test_link_reveals_renumbered_deletion, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_link_found_and_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_shows_fewer, setup, teardown),
		cmocka_unit_test(test_gap_and_receipt_rules),
		cmocka_unit_test_setup_teardown(test_prev_vector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heads_checked_on_delivery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarm_store, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
