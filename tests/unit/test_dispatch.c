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

#include "chunk_frame.h"
#include "clock.h"
#include "server_fixture.h"
#include "config.h"
#include "dispatch.h"
#include "invite.h"
#include "sigs.h"
#include "store.h"
#include "wire.h"

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

/* A binary frame through dispatch_binary; returns the JSON reply. */
static json_t *
call_binary(struct fx *f, const uint8_t *frame, size_t len, int64_t *id)
{
	struct dispatch_result res;
	dispatch_binary(&f->srv, &f->sess, frame, len, &res);
	assert_false(res.reply_binary);
	json_t *r = json_loadb(res.reply, res.reply_len, 0, NULL);
	assert_non_null(r);
	*id = json_is_integer(json_object_get(r, "id")) ? json_integer_value(json_object_get(r, "id"))
							: -1;
	if (res.in_batch)
		assert_int_equal(store_batch_commit(f->store), LSN_OK);
	dispatch_result_free(&res);
	return r;
}

/* Binary chunk frames (PROTOCOL.md): refused as bad_json without the
 * opt-in, then read as attachment_put with the frame's id, and every
 * malformed header refused with its code. */
static void
test_binary_frames(void **state)
{
	struct fx *f = *state;
	struct device_keys k;
	uint8_t frame[128];
	int64_t id;
	struct chunk_frame c = {.kind = CHUNK_PUT, .id = 42, .index = 0,
				.idem = (const uint8_t *)"idem-1", .idem_len = 6,
				.data = (const uint8_t *)"abc", .data_len = 3};
	memset(c.attachment, 0x5a, sizeof c.attachment);
	size_t len = chunk_frame_encode(&c, frame, sizeof frame);
	assert_int_equal(len, 36 + 6 + 3);

	json_t *r = call_binary(f, frame, len, &id);      /* before login */
	assert_string_equal(err_code(r), "bad_json");
	assert_int_equal(id, -1);
	json_decref(r);

	enrol_ok(f, &k, "10101010105");
	r = call(f, "login", login_body(f, &k, false), NULL);   /* logged in, no opt-in */
	assert_null(json_object_get(r, "binary"));
	json_decref(r);
	r = call_binary(f, frame, len, &id);
	assert_string_equal(err_code(r), "bad_json");
	json_decref(r);

	f->sess.logged_in = false;                         /* again, with the opt-in */
	session_new_challenge(&f->sess);
	json_t *body = login_body(f, &k, false);
	json_object_set_new(body, "binary", json_true());
	r = call(f, "login", body, NULL);
	assert_true(json_is_true(json_object_get(r, "binary")));
	assert_true(f->sess.binary);
	json_decref(r);

	r = call_binary(f, frame, len, &id);               /* read as attachment_put */
	assert_string_equal(err_code(r), "not_found");
	assert_int_equal(id, 42);
	json_decref(r);
	r = call_binary(f, frame, 20, &id);                /* short header */
	assert_string_equal(err_code(r), "bad_request");
	assert_int_equal(id, 42);
	json_decref(r);
	r = call_binary(f, frame, 36 + 6, &id);            /* no data */
	assert_string_equal(err_code(r), "bad_request");
	json_decref(r);
	frame[0] = CHUNK_DATA;                             /* the server's kind */
	r = call_binary(f, frame, len, &id);
	assert_string_equal(err_code(r), "bad_request");
	json_decref(r);
	frame[0] = 0x7f;                                   /* no such kind */
	r = call_binary(f, frame, len, &id);
	assert_string_equal(err_code(r), "unknown_op");
	assert_int_equal(id, 42);
	json_decref(r);
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
		cmocka_unit_test_setup_teardown(test_binary_frames, setup, teardown),
	};
	return cmocka_run_group_tests_name("dispatch", tests, NULL, NULL);
}
