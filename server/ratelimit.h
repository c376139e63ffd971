/* ratelimit.h — token buckets for request rates and login attempts.
 *
 * Pure: no I/O, no clock of its own. Every call takes "now" in milliseconds
 * from a monotonic clock chosen by the caller (the dispatcher uses
 * CLOCK_MONOTONIC, the unit tests a counter), so refill is testable.
 *
 * A bucket holds up to `burst` tokens and gains `per_min` tokens a minute;
 * a request takes one token. Tokens are kept as integers in units of
 * 1/60000 token, so a refill of elapsed_ms * per_min units is exact.
 *
 * Keyed buckets (per user, per peer address, per account) live in fixed-size
 * tables: when a table is full, the least recently used entry is evicted, so
 * an attacker presenting many keys cannot grow memory. An evicted key starts
 * again with a full bucket. Keys are hashed with SipHash under a random key,
 * so chosen keys cannot pile into one hash chain. */
#ifndef LSN_RATELIMIT_H
#define LSN_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RL_UNITS_PER_TOKEN 60000LL
#define RL_KEY_MAX 64

struct rl_rule {
	uint32_t per_min;   /* refill rate, tokens per minute; 0 = no limit */
	uint32_t burst;     /* bucket capacity, >= 1 when per_min > 0 */
};

/* All zero is a valid, full bucket (it is filled on first use). */
struct rl_bucket {
	int64_t units;
	int64_t last_ms;
	bool started;
};

/* Take one token. true: allowed. false: refused, and *retry_ms (if not NULL)
 * is how long until a token is available again (>= 1). */
bool rl_bucket_take(struct rl_bucket *b, const struct rl_rule *r, int64_t now_ms,
		    int64_t *retry_ms);
/* Is a token available? Does not take it. */
bool rl_bucket_check(struct rl_bucket *b, const struct rl_rule *r, int64_t now_ms,
		     int64_t *retry_ms);
/* Take one token if there is one (a charge after the fact: never below 0). */
void rl_bucket_charge(struct rl_bucket *b, const struct rl_rule *r, int64_t now_ms);

struct rl_table;

/* A table of at most cap keyed buckets (cap >= 1). NULL when out of memory. */
struct rl_table *rl_table_new(size_t cap);
void rl_table_free(struct rl_table *t);
/* The bucket of key (1..RL_KEY_MAX bytes; longer keys are truncated), created
 * full when absent, evicting the least recently used entry when the table is
 * full. With create false, NULL when absent. Marks the entry recently used. */
struct rl_bucket *rl_table_get(struct rl_table *t, const void *key, size_t key_len,
			       bool create);
size_t rl_table_count(const struct rl_table *t);
size_t rl_table_cap(const struct rl_table *t);
uint64_t rl_table_evictions(const struct rl_table *t);

/* ---- the server's limits ---------------------------------------------------- */

enum rl_kind {
	RL_CONN,            /* requests per connection */
	RL_USER,            /* requests per logged-in user, all devices together */
	RL_LOGIN_ADDR,      /* failed logins per peer address */
	RL_LOGIN_ACCOUNT,   /* failed logins per account (user id of the request) */
	RL__COUNT
};

struct ratelimit_config {
	struct rl_rule rule[RL__COUNT];
	size_t table_entries;   /* capacity of each keyed table */
};

struct ratelimit;

struct ratelimit *ratelimit_new(const struct ratelimit_config *cfg);
void ratelimit_free(struct ratelimit *rl);
/* Metric label of a kind: "connection", "user", "login_address", "login_account". */
const char *rl_kind_name(enum rl_kind kind);

/* One request: takes a token from the connection's bucket, then (user not
 * NULL) from the user's. false: refused; *which and *retry_ms say by what
 * and for how long. */
bool ratelimit_request(struct ratelimit *rl, struct rl_bucket *conn, const uint8_t *user,
		       size_t user_len, int64_t now_ms, enum rl_kind *which, int64_t *retry_ms);
/* Before a login: refused while the address or the account (may be NULL)
 * has no failure left. Takes nothing. */
bool ratelimit_login_check(struct ratelimit *rl, const char *addr, const uint8_t *account,
			   size_t account_len, int64_t now_ms, enum rl_kind *which,
			   int64_t *retry_ms);
/* After a failed login: charge the address and the account (may be NULL). */
void ratelimit_login_failed(struct ratelimit *rl, const char *addr, const uint8_t *account,
			    size_t account_len, int64_t now_ms);
/* Evictions from the keyed tables since the last call (for /metrics). */
uint64_t ratelimit_take_evictions(struct ratelimit *rl);

#endif
