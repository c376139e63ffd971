/* server_fixture.h — a real store and dispatcher without sockets, for the
 * server unit tests: enrolled users with real keys, requests in, replies out. */
#ifndef LSN_SERVER_FIXTURE_H
#define LSN_SERVER_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <sodium.h>

#include "config.h"
#include "dispatch.h"
#include "invite.h"
#include "mlog.h"
#include "store.h"

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

/* cmocka setup/teardown: a fresh database in a temp dir, one organisation. */
int setup(void **state);
int teardown(void **state);
void issue_invite(struct fx *f, const char *rpps, int64_t ttl_ms, char code[LSN_INVITE_TEXT + 1]);
void issue_invite_as(struct fx *f, const char *rpps, const char *profession, unsigned roles,
		     int64_t ttl_ms, char code[LSN_INVITE_TEXT + 1]);
void make_keys(struct device_keys *k);
/* Dispatch op (body stolen) on f->sess; commits an opened batch; returns the reply. */
json_t *call(struct fx *f, const char *op, json_t *body, struct dispatch_result *res_out);
/* Same, appending the request's deferred effects (events, closes) to fx_out. */
json_t *call_fx(struct fx *f, const char *op, json_t *body, struct dispatch_result *res_out,
		struct effects *fx_out);
const char *err_code(json_t *reply);
json_t *enrol_body(const struct device_keys *k, const char *code, const char *idem);
json_t *login_body(struct fx *f, const struct device_keys *k, bool tamper);
/* Issue an invite and enrol k through the dispatcher. */
void enrol_ok(struct fx *f, struct device_keys *k, const char *rpps);

/* Several users on one store: each keeps its own session. */
struct actor {
	struct device_keys k;
	struct session sess;
};
/* A channel's membership log as its test client keeps it. */
struct thread {
	uint8_t channel[16];
	struct lsn_mlog_entry last;
};

/* Enrol (invite with profession and roles) and log in. */
void login_as(struct fx *f, struct actor *who, const char *rpps, const char *profession,
	      unsigned roles);
/* Run op as who; effects kept in fx_out if not NULL. */
json_t *as(struct fx *f, struct actor *who, const char *op, json_t *body, struct effects *fx_out);
/* Frees r; whether it was ok. */
bool reply_ok(json_t *r);
/* Frees r; its error code, or "ok". */
const char *code_of(json_t *r, char *buf, size_t cap);
/* Adds a fresh random "idem" to body. */
json_t *idem(json_t *body);
/* The next signed entry of t by who, as a request body. */
json_t *thread_entry(struct thread *t, struct actor *who, enum lsn_mlog_action action,
		     const uint8_t subject[16], enum lsn_chan_role role);
void thread_create(struct fx *f, struct thread *t, struct actor *creator, enum lsn_chan_kind kind);
void thread_add(struct fx *f, struct thread *t, struct actor *admin, struct actor *who);

#endif
