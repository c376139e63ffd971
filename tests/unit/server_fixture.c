/* server_fixture.c — see server_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "mlog.h"
#include "server_fixture.h"
#include "sigs.h"
#include "wire.h"

int
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

int
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
void
issue_invite_as(struct fx *f, const char *rpps, const char *profession, unsigned roles,
		int64_t ttl_ms, char code[LSN_INVITE_TEXT + 1])
{
	uint8_t raw[LSN_INVITE_BYTES];
	struct store_invite inv = {0};
	lsn_invite_random(raw);
	lsn_invite_format(raw, code);
	lsn_invite_hash(raw, inv.hash);
	snprintf(inv.rpps, sizeof inv.rpps, "%s", rpps ? rpps : "");
	snprintf(inv.name, sizeof inv.name, "Dr Claire Martin");
	snprintf(inv.profession, sizeof inv.profession, "%s", profession);
	memcpy(inv.org_id, f->org.id, 16);
	inv.roles = roles;
	inv.created_at = lsn_clock_now_ms();
	inv.expires_at = inv.created_at + ttl_ms;
	assert_int_equal(store_invite_create(f->store, &inv), LSN_OK);
}

void
issue_invite(struct fx *f, const char *rpps, int64_t ttl_ms, char code[LSN_INVITE_TEXT + 1])
{
	issue_invite_as(f, rpps, "gp", LSN_ROLE_MEMBER, ttl_ms, code);
}

void
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
json_t *
call_fx(struct fx *f, const char *op, json_t *body, struct dispatch_result *res_out,
	struct effects *fx_out)
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
	if (fx_out)
		effects_move(fx_out, &res.effects);
	if (res_out) {
		*res_out = res;
		res_out->reply = NULL;
		effects_init(&res_out->effects);
	}
	dispatch_result_free(&res);
	return reply;
}

json_t *
call(struct fx *f, const char *op, json_t *body, struct dispatch_result *res_out)
{
	return call_fx(f, op, body, res_out, NULL);
}

const char *
err_code(json_t *reply)
{
	return json_string_value(json_object_get(json_object_get(reply, "error"), "code"));
}

json_t *
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

json_t *
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

void
enrol_ok(struct fx *f, struct device_keys *k, const char *rpps)
{
	char code[LSN_INVITE_TEXT + 1];
	issue_invite(f, rpps, 3600 * 1000, code);
	make_keys(k);
	json_t *r = call(f, "enrol", enrol_body(k, code, "e1"), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
}


void
login_as(struct fx *f, struct actor *who, const char *rpps, const char *profession, unsigned roles)
{
	char code[LSN_INVITE_TEXT + 1];
	memset(&f->sess, 0, sizeof f->sess);
	session_new_challenge(&f->sess);
	issue_invite_as(f, rpps, profession, roles, 3600 * 1000, code);
	make_keys(&who->k);
	json_t *r = call(f, "enrol", enrol_body(&who->k, code, "e1"), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	r = call(f, "login", login_body(f, &who->k, false), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	who->sess = f->sess;
}

json_t *
as(struct fx *f, struct actor *who, const char *op, json_t *body, struct effects *fx_out)
{
	f->sess = who->sess;
	json_t *r = call_fx(f, op, body, NULL, fx_out);
	who->sess = f->sess;
	return r;
}

bool
reply_ok(json_t *r)
{
	bool yes = json_is_true(json_object_get(r, "ok"));
	json_decref(r);
	return yes;
}

const char *
code_of(json_t *r, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", err_code(r) ? err_code(r) : "ok");
	json_decref(r);
	return buf;
}

json_t *
idem(json_t *body)
{
	char key[33];
	uint8_t raw[16];
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(key, sizeof key, raw, sizeof raw);
	json_object_set_new(body, "idem", json_string(key));
	return body;
}

json_t *
thread_entry(struct thread *t, struct actor *who, enum lsn_mlog_action action,
	     const uint8_t subject[16], enum lsn_chan_role role)
{
	struct lsn_mlog_entry e = {0};
	memcpy(e.channel, t->channel, 16);
	e.seq = t->last.seq + 1;
	lsn_mlog_hash(&t->last, e.prev);
	memcpy(e.actor, who->k.user, 16);
	memcpy(e.actor_device, who->k.device, 16);
	e.action = action;
	memcpy(e.subject, subject, 16);
	e.role = role;
	e.ts = lsn_clock_now_ms();
	lsn_mlog_sign(&e, who->k.dk_sk);
	t->last = e;   /* the caller restores it if the server refuses */
	return idem(json_pack("{s:o}", "entry", lsn_mlog_to_json(&e)));
}

void
thread_create(struct fx *f, struct thread *t, struct actor *creator, enum lsn_chan_kind kind)
{
	struct lsn_mlog_entry e = {0};
	randombytes_buf(t->channel, 16);
	memcpy(e.channel, t->channel, 16);
	memcpy(e.actor, creator->k.user, 16);
	memcpy(e.actor_device, creator->k.device, 16);
	memcpy(e.subject, creator->k.user, 16);
	e.action = LSN_MLOG_CREATE;
	e.role = LSN_CROLE_ADMIN;
	e.history = LSN_HISTORY_SHARED;
	e.kind = kind;
	e.ts = lsn_clock_now_ms();
	lsn_mlog_sign(&e, creator->k.dk_sk);
	t->last = e;
	assert_true(reply_ok(as(f, creator, "channel_create",
				idem(json_pack("{s:o}", "entry", lsn_mlog_to_json(&e))), NULL)));
}

void
thread_add(struct fx *f, struct thread *t, struct actor *admin, struct actor *who)
{
	assert_true(reply_ok(as(f, admin, "channel_append",
				thread_entry(t, admin, LSN_MLOG_ADD, who->k.user, LSN_CROLE_MEMBER), NULL)));
}
