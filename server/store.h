/* store.h — the server's storage interface. Handlers reach the database only
 * through these functions; nothing here speaks SQL to its callers, so a second
 * backend (PostgreSQL) can be added behind the same interface.
 *
 * Write path (group commit): the network loop opens a batch with
 * store_batch_begin(), runs each request between store_req_begin() and
 * store_req_end() (a request that fails is undone alone), and commits the
 * whole batch with store_batch_commit(); replies are released only after that.
 *
 * Return values: LSN_OK, LSN_ERR_NOT_FOUND, LSN_ERR_CONFLICT (uniqueness),
 * LSN_ERR_STORAGE (the database refused; logged). */
#ifndef LSN_STORE_H
#define LSN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ident.h"

struct store;

enum store_sync { STORE_SYNC_FULL, STORE_SYNC_NORMAL };

struct store_options {
	enum store_sync sync;
	int busy_timeout_ms;
	bool create;          /* create the database file if missing */
	int migrate_to;       /* 0 = latest; tests migrate to older versions */
};

#define STORE_NAME_MAX       128
#define STORE_DEVNAME_MAX    64
#define STORE_PROFESSION_MAX 31
#define STORE_KIND_MAX       23

struct store_org {
	uint8_t id[LSN_ID_BYTES];
	char name[STORE_NAME_MAX + 1];
	char finess[10];
	char kind[STORE_KIND_MAX + 1];
	int64_t created_at;
};

struct store_user {
	uint8_t id[LSN_ID_BYTES];
	char rpps[12];                 /* "" when the profession is outside RPPS */
	char name[STORE_NAME_MAX + 1];
	char profession[STORE_PROFESSION_MAX + 1];
	unsigned roles;                /* enum lsn_role bits */
	uint8_t ik[32];
	int64_t created_at;
	struct store_org org;
};

struct store_device {
	uint8_t id[LSN_ID_BYTES];
	uint8_t user_id[LSN_ID_BYTES];
	char name[STORE_DEVNAME_MAX + 1];
	uint8_t dk[32];
	int64_t dk_ts;
	uint8_t dk_sig[64];
	uint8_t ak_id[LSN_ID_BYTES];   /* the current agreement key */
	uint8_t ak[32];
	int64_t ak_ts;
	uint8_t ak_sig[64];
	int64_t created_at;
	int64_t last_seen_at;          /* 0 = never */
	int64_t revoked_at;            /* 0 = active */
};

struct store_invite {
	uint8_t hash[32];
	char rpps[12];
	char name[STORE_NAME_MAX + 1];
	char profession[STORE_PROFESSION_MAX + 1];
	uint8_t org_id[LSN_ID_BYTES];
	unsigned roles;
	int64_t created_at;
	int64_t expires_at;
	int64_t used_at;               /* 0 = unused */
};

struct store_user_query {
	const char *text;              /* name substring or RPPS prefix; NULL = any */
	const char *profession;        /* NULL = any */
	const uint8_t *org_id;         /* NULL = any */
	int limit;
};

typedef void (*store_org_cb)(const struct store_org *org, void *arg);
typedef void (*store_user_cb)(const struct store_user *user, void *arg);
typedef void (*store_device_cb)(const struct store_device *dev, void *arg);

/* ---- lifecycle ---- */
enum lsn_err store_open(struct store **out, const char *path, const struct store_options *opt,
			struct lsn_status *st);
void store_close(struct store *s);
int store_schema_version(struct store *s);
int store_schema_latest(void);
/* PRAGMA integrity_check; LSN_OK when "ok", else details in st. */
enum lsn_err store_check(struct store *s, struct lsn_status *st);

/* ---- group commit ---- */
enum lsn_err store_batch_begin(struct store *s);
enum lsn_err store_batch_commit(struct store *s);
void store_batch_rollback(struct store *s);
bool store_in_batch(const struct store *s);
enum lsn_err store_req_begin(struct store *s);
void store_req_end(struct store *s, bool keep);

/* ---- organisations ---- */
enum lsn_err store_org_create(struct store *s, const struct store_org *org);
enum lsn_err store_org_get(struct store *s, const uint8_t id[LSN_ID_BYTES], struct store_org *out);
enum lsn_err store_org_find_finess(struct store *s, const char *finess, struct store_org *out);
enum lsn_err store_org_list(struct store *s, store_org_cb cb, void *arg);

/* ---- invites ---- */
enum lsn_err store_invite_create(struct store *s, const struct store_invite *inv);
enum lsn_err store_invite_get(struct store *s, const uint8_t hash[32], struct store_invite *out);
/* Marks the invite used; LSN_ERR_CONFLICT if it already was. */
enum lsn_err store_invite_consume(struct store *s, const uint8_t hash[32],
				  const uint8_t user_id[LSN_ID_BYTES], int64_t at);

/* ---- users ---- */
enum lsn_err store_user_create(struct store *s, const struct store_user *user);
enum lsn_err store_user_get(struct store *s, const uint8_t id[LSN_ID_BYTES], struct store_user *out);
enum lsn_err store_user_find_rpps(struct store *s, const char *rpps, struct store_user *out);
enum lsn_err store_user_search(struct store *s, const struct store_user_query *q,
			       store_user_cb cb, void *arg);

/* ---- devices ---- */
/* Creates the device and its first agreement key. */
enum lsn_err store_device_create(struct store *s, const struct store_device *dev);
enum lsn_err store_device_get(struct store *s, const uint8_t id[LSN_ID_BYTES],
			      struct store_device *out);
enum lsn_err store_device_list(struct store *s, const uint8_t user_id[LSN_ID_BYTES],
			       store_device_cb cb, void *arg);
/* LSN_ERR_CONFLICT if already revoked. */
enum lsn_err store_device_revoke(struct store *s, const uint8_t id[LSN_ID_BYTES], int64_t at);
enum lsn_err store_device_touch(struct store *s, const uint8_t id[LSN_ID_BYTES], int64_t at);

/* ---- idempotency ---- */
/* On LSN_OK, *op_out and *reply_out are malloc'd copies (caller frees). */
enum lsn_err store_idem_get(struct store *s, const char *scope, const char *key,
			    char **op_out, char **reply_out);
enum lsn_err store_idem_put(struct store *s, const char *scope, const char *key,
			    const char *op, const char *reply, int64_t at);

#endif
