/* test_dispatch.c — requests through the real dispatcher and handlers on a
 * real store, without sockets: enrolment with invite checks, login signature
 * check and challenge consumption, revocation, idempotent retry, group-commit
 * flags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "clock.h"
#include "config.h"
#include "dispatch.h"
#include "invite.h"
#include "sigs.h"
#include "store.h"
#include "wire.h"

struct device_keys {
	uint8_t user[16], device[16], ak_id[16];
	uint8_t ik_pk[32], ik_sk[64], dk_pk[32], dk_sk[64], ak_pk[32], ak_sk[32];
};

struct fx {
	char dir[64], path[128];
	struct config cfg;
	struct store *store;
	struct server_ctx srv;
	struct store_org org;
	struct session sess;
	int64_t next_id;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/lsn-disp-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/liaison.db", f->dir);
	config_defaults(&f->cfg);
	struct store_options opt = {.sync = STORE_SYNC_NORMAL, .create = true};
	struct lsn_status st = {0};
	assert_int_equal(store_open(&f->store, f->path, &opt, &st), LSN_OK);
	f->srv.store = f->store;
	f->srv.cfg = &f->cfg;
	randombytes_buf(f->org.id, 16);
	snprintf(f->org.name, sizeof f->org.name, "CPTS Test");
	snprintf(f->org.finess, sizeof f->org.finess, "450000005");
	snprintf(f->org.kind, sizeof f->org.kind, "cpts");
	assert_int_equal(store_org_create(f->store, &f->org), LSN_OK);
	session_new_challenge(&f->sess);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->store);
	char p[160];
	const char *suffixes[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Issue an invite directly in the store; returns its text code. */
static void
issue_invite(struct fx *f, const char *rpps, int64_t ttl_ms, char code[LSN_INVITE_TEXT + 1])
{
	uint8_t raw[LSN_INVITE_BYTES];
	struct store_invite inv = {0};
	lsn_invite_random(raw);
	lsn_invite_format(raw, code);
	lsn_invite_hash(raw, inv.hash);
	snprintf(inv.rpps, sizeof inv.rpps, "%s", rpps);
	snprintf(inv.name, sizeof inv.name, "Dr Claire Martin");
	snprintf(inv.profession, sizeof inv.profession, "gp");
	memcpy(inv.org_id, f->org.id, 16);
	inv.roles = LSN_ROLE_MEMBER;
	inv.created_at = lsn_clock_now_ms();
	inv.expires_at = inv.created_at + ttl_ms;
	assert_int_equal(store_invite_create(f->store, &inv), LSN_OK);
}

static void
make_keys(struct device_keys *k)
{
	randombytes_buf(k->user, 16);
	randombytes_buf(k->device, 16);
	randombytes_buf(k->ak_id, 16);
	crypto_sign_keypair(k->ik_pk, k->ik_sk);
	crypto_sign_keypair(k->dk_pk, k->dk_sk);
	crypto_kx_keypair(k->ak_pk, k->ak_sk);
}

/* Dispatch one request (body is stolen) and return the parsed reply. Any
 * batch the request opened is committed, as the network loop would. */
static json_t *
call(struct fx *f, const char *op, json_t *body, struct dispatch_result *res_out)
{
	size_t len;
	char *text = wire_encode_request(f->next_id++, op, body, &len);
	struct dispatch_result res;
	dispatch_frame(&f->srv, &f->sess, text, len, &res);
	free(text);
	assert_non_null(res.reply);
	json_t *reply = json_loadb(res.reply, res.reply_len, 0, NULL);
	assert_non_null(reply);
	if (res.in_batch)
		assert_int_equal(store_batch_commit(f->store), LSN_OK);
	if (res_out) {
		*res_out = res;
		res_out->reply = NULL;
		effects_init(&res_out->effects);
	}
	dispatch_result_free(&res);
	return reply;
}

static const char *
err_code(json_t *reply)
{
	return json_string_value(json_object_get(json_object_get(reply, "error"), "code"));
}

static json_t *
enrol_body(const struct device_keys *k, const char *code, const char *idem)
{
	uint8_t msg[LSN_SIGNED_MAX], dk_sig[64], ak_sig[64];
	size_t len = lsn_signed_device_cert(msg, k->user, k->device, k->dk_pk, 1000);
	crypto_sign_detached(dk_sig, NULL, msg, len, k->ik_sk);
	len = lsn_signed_ak_cert(msg, k->device, k->ak_id, k->ak_pk, 1001);
	crypto_sign_detached(ak_sig, NULL, msg, len, k->dk_sk);
	return json_pack("{s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:i, s:o, s:o, s:o, s:i, s:o}",
			 "idem", idem, "code", code, "user", wire_id(k->user),
			 "device", wire_id(k->device), "device_name", "test-pc",
			 "ik", wire_b64(k->ik_pk, 32), "dk", wire_b64(k->dk_pk, 32),
			 "dk_ts", 1000, "dk_sig", wire_b64(dk_sig, 64),
			 "ak_id", wire_id(k->ak_id), "ak", wire_b64(k->ak_pk, 32),
			 "ak_ts", 1001, "ak_sig", wire_b64(ak_sig, 64));
}

static json_t *
login_body(struct fx *f, const struct device_keys *k, bool tamper)
{
	uint8_t msg[LSN_SIGNED_MAX], sig[64];
	size_t len = lsn_signed_login(msg, f->cfg.server_name, k->user, k->device,
				      f->sess.challenge);
	crypto_sign_detached(sig, NULL, msg, len, k->dk_sk);
	if (tamper)
		sig[10] ^= 0x01;
	return json_pack("{s:o, s:o, s:o}", "user", wire_id(k->user), "device",
			 wire_id(k->device), "sig", wire_b64(sig, 64));
}

static void
enrol_ok(struct fx *f, struct device_keys *k, const char *rpps)
{
	char code[LSN_INVITE_TEXT + 1];
	issue_invite(f, rpps, 3600 * 1000, code);
	make_keys(k);
	json_t *r = call(f, "enrol", enrol_body(k, code, "e1"), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
}

static void
test_enrol_login_whoami(void **state)
{
	struct fx *f = *state;
	struct device_keys k;
	enrol_ok(f, &k, "10101010105");
	json_t *r = call(f, "whoami", NULL, NULL);
	assert_string_equal(err_code(r), "not_logged_in");
	json_decref(r);

	struct dispatch_result res;
	r = call(f, "login", login_body(f, &k, false), &res);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_true(res.in_batch);                      /* login records last_seen */
	assert_true(f->sess.logged_in);
	json_decref(r);

	r = call(f, "whoami", NULL, &res);
	assert_false(res.in_batch);                     /* reads need no commit */
	json_t *user = json_object_get(r, "user");
	assert_string_equal(json_string_value(json_object_get(user, "rpps")), "10101010105");
	assert_string_equal(json_string_value(json_object_get(user, "profession")), "gp");
	assert_string_equal(json_string_value(json_object_get(json_object_get(user, "org"), "finess")),
			    "450000005");
	json_decref(r);

	r = call(f, "login", login_body(f, &k, false), NULL);
	assert_string_equal(err_code(r), "already_logged_in");
	json_decref(r);
}

static void
test_login_tampered_and_replayed(void **state)
{
	struct fx *f = *state;
	struct device_keys k;
	enrol_ok(f, &k, "10101010105");
	json_t *r = call(f, "login", login_body(f, &k, true), NULL);
	assert_string_equal(err_code(r), "bad_signature");
	assert_false(f->sess.logged_in);
	json_decref(r);
	/* the challenge was consumed: even a good signature over it now fails */
	f->sess.has_challenge = true;   /* forge the old state to sign over... */
	json_t *body = login_body(f, &k, false);
	f->sess.has_challenge = false;  /* ...but the server has no challenge */
	r = call(f, "login", body, NULL);
	assert_string_equal(err_code(r), "no_challenge");
	json_decref(r);
	/* a signature for another server name does not verify */
	r = call(f, "challenge", NULL, NULL);
	json_decref(r);
	snprintf(f->cfg.server_name, sizeof f->cfg.server_name, "other.example");
	body = login_body(f, &k, false);
	snprintf(f->cfg.server_name, sizeof f->cfg.server_name, "localhost");
	r = call(f, "login", body, NULL);
	assert_string_equal(err_code(r), "bad_signature");
	json_decref(r);
}

static void
test_invite_reuse_expiry_unknown(void **state)
{
	struct fx *f = *state;
	char code[LSN_INVITE_TEXT + 1];
	struct device_keys k1, k2;
	issue_invite(f, "10101010105", 60 * 1000, code);
	make_keys(&k1);
	make_keys(&k2);
	json_t *r = call(f, "enrol", enrol_body(&k1, code, "a"), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	r = call(f, "enrol", enrol_body(&k2, code, "b"), NULL);
	assert_string_equal(err_code(r), "invite_used");
	json_decref(r);

	issue_invite(f, "10000000009", 60 * 1000, code);
	lsn_clock_advance_ms(61 * 1000);
	r = call(f, "enrol", enrol_body(&k2, code, "c"), NULL);
	assert_string_equal(err_code(r), "invite_expired");
	json_decref(r);
	r = call(f, "invite_info", json_pack("{s:s}", "code", code), NULL);
	assert_string_equal(err_code(r), "invite_expired");
	json_decref(r);
	lsn_clock_advance_ms(-61 * 1000);

	r = call(f, "enrol", enrol_body(&k2, "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA", "d"), NULL);
	assert_string_equal(err_code(r), "invite_unknown");
	json_decref(r);
	r = call(f, "enrol", enrol_body(&k2, "not a code", "e"), NULL);
	assert_string_equal(err_code(r), "bad_request");
	json_decref(r);
}

static void
test_enrol_bad_certificate(void **state)
{
	struct fx *f = *state;
	char code[LSN_INVITE_TEXT + 1];
	struct device_keys k, other;
	issue_invite(f, "10101010105", 60 * 1000, code);
	make_keys(&k);
	make_keys(&other);
	json_t *body = enrol_body(&k, code, "x");
	/* claim a different identity key than the one that signed DK */
	json_object_set_new(body, "ik", wire_b64(other.ik_pk, 32));
	json_t *r = call(f, "enrol", body, NULL);
	assert_string_equal(err_code(r), "bad_signature");
	json_decref(r);
	/* nothing was written: the invite is still usable */
	r = call(f, "enrol", enrol_body(&k, code, "y"), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
}

static void
test_enrol_idempotent_retry(void **state)
{
	struct fx *f = *state;
	char code[LSN_INVITE_TEXT + 1];
	struct device_keys k;
	issue_invite(f, "10101010105", 60 * 1000, code);
	make_keys(&k);
	json_t *first = call(f, "enrol", enrol_body(&k, code, "same-key"), NULL);
	json_t *again = call(f, "enrol", enrol_body(&k, code, "same-key"), NULL);
	assert_true(json_is_true(json_object_get(again, "ok")));
	assert_true(json_equal(json_object_get(first, "user"), json_object_get(again, "user")));
	json_decref(first);
	json_decref(again);
	json_t *r = call(f, "enrol", json_pack("{s:s}", "code", code), NULL);
	assert_string_equal(err_code(r), "bad_request");   /* idem is required */
	json_decref(r);
}

static void
test_revoked_device(void **state)
{
	struct fx *f = *state;
	struct device_keys k;
	enrol_ok(f, &k, "10101010105");
	json_t *r = call(f, "login", login_body(f, &k, false), NULL);
	json_decref(r);
	/* an administrator revokes the device from another process */
	assert_int_equal(store_device_revoke(f->store, k.device, lsn_clock_now_ms()), LSN_OK);
	struct dispatch_result res;
	r = call(f, "whoami", NULL, &res);
	assert_string_equal(err_code(r), "device_revoked");
	assert_true(res.close_after);
	assert_int_equal(res.close_code, 1008);
	assert_false(f->sess.logged_in);
	json_decref(r);
	/* and it cannot log in again */
	r = call(f, "challenge", NULL, NULL);
	json_decref(r);
	r = call(f, "login", login_body(f, &k, false), NULL);
	assert_string_equal(err_code(r), "device_revoked");
	json_decref(r);
}

static void
test_self_revoke_needs_ik(void **state)
{
	struct fx *f = *state;
	struct device_keys k;
	enrol_ok(f, &k, "10101010105");
	json_decref(call(f, "login", login_body(f, &k, false), NULL));
	uint8_t msg[LSN_SIGNED_MAX], sig[64];
	size_t len = lsn_signed_revoke(msg, k.user, k.device, 5000);
	crypto_sign_detached(sig, NULL, msg, len, k.dk_sk);  /* wrong key: DK */
	json_t *r = call(f, "device_revoke",
			 json_pack("{s:s,s:o,s:i,s:o}", "idem", "r1", "device", wire_id(k.device),
				   "ts", 5000, "sig", wire_b64(sig, 64)), NULL);
	assert_string_equal(err_code(r), "bad_signature");
	json_decref(r);
	crypto_sign_detached(sig, NULL, msg, len, k.ik_sk);
	struct dispatch_result res;
	r = call(f, "device_revoke",
		 json_pack("{s:s,s:o,s:i,s:o}", "idem", "r2", "device", wire_id(k.device),
			   "ts", 5000, "sig", wire_b64(sig, 64)), &res);
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
}

static void
test_directory_search(void **state)
{
	struct fx *f = *state;
	struct device_keys k;
	enrol_ok(f, &k, "10101010105");
	json_decref(call(f, "login", login_body(f, &k, false), NULL));
	json_t *r = call(f, "directory_search", json_pack("{s:s}", "q", "MARTIN"), NULL);
	assert_int_equal(json_array_size(json_object_get(r, "users")), 1);
	json_decref(r);
	r = call(f, "directory_search", json_pack("{s:s}", "profession", "nurse"), NULL);
	assert_int_equal(json_array_size(json_object_get(r, "users")), 0);
	json_decref(r);
	r = call(f, "directory_search", json_pack("{s:s}", "profession", "wizard"), NULL);
	assert_string_equal(err_code(r), "bad_request");
	json_decref(r);
	r = call(f, "directory_search", json_pack("{s:i}", "limit", 1000), NULL);
	assert_string_equal(err_code(r), "bad_request");
	json_decref(r);
}

static void
test_malformed_frames(void **state)
{
	struct fx *f = *state;
	struct dispatch_result res;
	const char *frames[] = {"", "nope", "[1]", "{\"op\":\"ping\"}", "{\"id\":-1,\"op\":\"ping\"}",
				"{\"id\":1}", "{\"id\":1,\"op\":7}", "{\"id\":1,\"op\":\"ping\",\"id\":2}"};
	const char *expect[] = {"bad_json", "bad_json", "bad_json", "bad_request", "bad_request",
				"bad_request", "bad_request", "bad_json"};
	for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
		dispatch_frame(&f->srv, &f->sess, frames[i], strlen(frames[i]), &res);
		json_t *r = json_loadb(res.reply, res.reply_len, 0, NULL);
		assert_non_null(r);
		assert_string_equal(err_code(r), expect[i]);
		json_decref(r);
		dispatch_result_free(&res);
	}
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_enrol_login_whoami, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_tampered_and_replayed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invite_reuse_expiry_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enrol_bad_certificate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enrol_idempotent_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoked_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_revoke_needs_ik, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_frames, setup, teardown),
	};
	return cmocka_run_group_tests_name("dispatch", tests, NULL, NULL);
}
