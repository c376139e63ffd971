/* ratelimit.c — token buckets and the bounded LRU tables that key them. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ratelimit.h"

/* ---- one bucket --------------------------------------------------------------- */

static int64_t
rule_cap(const struct rl_rule *r)
{
	return (int64_t)(r->burst ? r->burst : 1) * RL_UNITS_PER_TOKEN;
}

static void
refill(struct rl_bucket *b, const struct rl_rule *r, int64_t now_ms)
{
	int64_t cap = rule_cap(r);
	if (!b->started) {
		b->started = true;
		b->units = cap;
		b->last_ms = now_ms;
		return;
	}
	if (now_ms <= b->last_ms) {
		/* a clock that went back: no refill, and no stall either */
		b->last_ms = now_ms;
		return;
	}
	int64_t elapsed = now_ms - b->last_ms;
	int64_t need = cap - b->units;
	b->last_ms = now_ms;
	if (need <= 0)
		b->units = cap;
	else if (elapsed >= need / (int64_t)r->per_min + 1) /* also keeps the product small */
		b->units = cap;
	else
		b->units += elapsed * (int64_t)r->per_min;
	if (b->units > cap)
		b->units = cap;
}

static int64_t
retry_after(const struct rl_bucket *b, const struct rl_rule *r)
{
	int64_t missing = RL_UNITS_PER_TOKEN - b->units;
	int64_t ms = (missing + (int64_t)r->per_min - 1) / (int64_t)r->per_min;
	return ms > 0 ? ms : 1;
}

bool
rl_bucket_check(struct rl_bucket *b, const struct rl_rule *r, int64_t now_ms,
		int64_t *retry_ms)
{
	if (r->per_min == 0)
		return true;
	refill(b, r, now_ms);
	if (b->units >= RL_UNITS_PER_TOKEN)
		return true;
	if (retry_ms)
		*retry_ms = retry_after(b, r);
	return false;
}

bool
rl_bucket_take(struct rl_bucket *b, const struct rl_rule *r, int64_t now_ms, int64_t *retry_ms)
{
	if (!rl_bucket_check(b, r, now_ms, retry_ms))
		return false;
	if (r->per_min)
		b->units -= RL_UNITS_PER_TOKEN;
	return true;
}

void
rl_bucket_charge(struct rl_bucket *b, const struct rl_rule *r, int64_t now_ms)
{
	if (r->per_min == 0)
		return;
	refill(b, r, now_ms);
	b->units = b->units >= RL_UNITS_PER_TOKEN ? b->units - RL_UNITS_PER_TOKEN : 0;
}

/* ---- bounded tables ----------------------------------------------------------- */

#define NIL UINT32_MAX

struct rl_entry {
	uint8_t key[RL_KEY_MAX];
	uint8_t key_len;
	uint32_t chain;            /* next entry in the same hash slot */
	uint32_t older, newer;     /* LRU list */
	struct rl_bucket bucket;
};

struct rl_table {
	struct rl_entry *e;
	uint32_t *slot;            /* hash slot -> first entry, NIL when empty */
	size_t cap, used, nslots;
	uint32_t newest, oldest;
	uint64_t evictions;
	uint8_t hash_key[crypto_shorthash_KEYBYTES];
};

struct rl_table *
rl_table_new(size_t cap)
{
	if (cap == 0 || cap >= NIL / 2 || sodium_init() < 0)
		return NULL;
	struct rl_table *t = calloc(1, sizeof *t);
	if (t == NULL)
		return NULL;
	t->cap = cap;
	t->nslots = 1;
	while (t->nslots < cap * 2)
		t->nslots <<= 1;
	t->e = calloc(cap, sizeof *t->e);
	t->slot = malloc(t->nslots * sizeof *t->slot);
	if (t->e == NULL || t->slot == NULL) {
		rl_table_free(t);
		return NULL;
	}
	for (size_t i = 0; i < t->nslots; i++)
		t->slot[i] = NIL;
	t->newest = t->oldest = NIL;
	randombytes_buf(t->hash_key, sizeof t->hash_key);
	return t;
}

void
rl_table_free(struct rl_table *t)
{
	if (t == NULL)
		return;
	free(t->e);
	free(t->slot);
	free(t);
}

size_t rl_table_count(const struct rl_table *t) { return t->used; }
size_t rl_table_cap(const struct rl_table *t) { return t->cap; }
uint64_t rl_table_evictions(const struct rl_table *t) { return t->evictions; }

static size_t
slot_of(const struct rl_table *t, const uint8_t *key, size_t len)
{
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, key, len, t->hash_key);
	uint64_t v;
	memcpy(&v, h, sizeof v);
	return (size_t)(v & (t->nslots - 1));
}

static void
lru_unlink(struct rl_table *t, uint32_t i)
{
	struct rl_entry *e = &t->e[i];
	if (e->older != NIL)
		t->e[e->older].newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer != NIL)
		t->e[e->newer].older = e->older;
	else
		t->newest = e->older;
}

static void
lru_push_newest(struct rl_table *t, uint32_t i)
{
	struct rl_entry *e = &t->e[i];
	e->newer = NIL;
	e->older = t->newest;
	if (t->newest != NIL)
		t->e[t->newest].newer = i;
	t->newest = i;
	if (t->oldest == NIL)
		t->oldest = i;
}

/* Remove entry i from its hash chain. */
static void
chain_unlink(struct rl_table *t, uint32_t i)
{
	struct rl_entry *e = &t->e[i];
	uint32_t *link = &t->slot[slot_of(t, e->key, e->key_len)];
	while (*link != NIL && *link != i)
		link = &t->e[*link].chain;
	if (*link == i)
		*link = e->chain;
}

struct rl_bucket *
rl_table_get(struct rl_table *t, const void *key, size_t key_len, bool create)
{
	if (key_len > RL_KEY_MAX)
		key_len = RL_KEY_MAX;
	size_t s = slot_of(t, key, key_len);
	for (uint32_t i = t->slot[s]; i != NIL; i = t->e[i].chain) {
		struct rl_entry *e = &t->e[i];
		if (e->key_len == key_len && memcmp(e->key, key, key_len) == 0) {
			if (t->newest != i) {
				lru_unlink(t, i);
				lru_push_newest(t, i);
			}
			return &e->bucket;
		}
	}
	if (!create)
		return NULL;
	uint32_t i;
	if (t->used < t->cap) {
		i = (uint32_t)t->used++;
	} else {
		i = t->oldest;
		lru_unlink(t, i);
		chain_unlink(t, i);
		t->evictions++;
	}
	struct rl_entry *e = &t->e[i];
	memset(e, 0, sizeof *e);
	memcpy(e->key, key, key_len);
	e->key_len = (uint8_t)key_len;
	e->chain = t->slot[s];
	t->slot[s] = i;
	lru_push_newest(t, i);
	return &e->bucket;
}

/* ---- the server's limits ------------------------------------------------------ */

struct ratelimit {
	struct ratelimit_config cfg;
	struct rl_table *table[RL__COUNT];   /* RL_CONN has none: its bucket is in the session */
	uint64_t evictions_reported;
};

static const char *const kind_names[RL__COUNT] = {
	[RL_CONN] = "connection", [RL_USER] = "user",
	[RL_LOGIN_ADDR] = "login_address", [RL_LOGIN_ACCOUNT] = "login_account",
};

const char *
rl_kind_name(enum rl_kind kind)
{
	return (unsigned)kind < RL__COUNT ? kind_names[kind] : "unknown";
}

struct ratelimit *
ratelimit_new(const struct ratelimit_config *cfg)
{
	struct ratelimit *rl = calloc(1, sizeof *rl);
	if (rl == NULL)
		return NULL;
	rl->cfg = *cfg;
	for (int k = RL_USER; k < RL__COUNT; k++)
		if (cfg->rule[k].per_min &&
		    (rl->table[k] = rl_table_new(cfg->table_entries)) == NULL) {
			ratelimit_free(rl);
			return NULL;
		}
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	for (int k = 0; k < RL__COUNT; k++)
		rl_table_free(rl->table[k]);
	free(rl);
}

static bool
refuse(enum rl_kind kind, enum rl_kind *which)
{
	if (which)
		*which = kind;
	return false;
}

bool
ratelimit_request(struct ratelimit *rl, struct rl_bucket *conn, const uint8_t *user,
		  size_t user_len, int64_t now_ms, enum rl_kind *which, int64_t *retry_ms)
{
	if (conn && !rl_bucket_take(conn, &rl->cfg.rule[RL_CONN], now_ms, retry_ms))
		return refuse(RL_CONN, which);
	if (user && rl->table[RL_USER]) {
		struct rl_bucket *b = rl_table_get(rl->table[RL_USER], user, user_len, true);
		if (!rl_bucket_take(b, &rl->cfg.rule[RL_USER], now_ms, retry_ms))
			return refuse(RL_USER, which);
	}
	return true;
}

static bool
keyed_check(struct ratelimit *rl, enum rl_kind kind, const void *key, size_t len,
	    int64_t now_ms, int64_t *retry_ms)
{
	if (key == NULL || len == 0 || rl->table[kind] == NULL)
		return true;
	/* an absent key has a full bucket: nothing to look at, nothing to store */
	struct rl_bucket *b = rl_table_get(rl->table[kind], key, len, false);
	return b == NULL || rl_bucket_check(b, &rl->cfg.rule[kind], now_ms, retry_ms);
}

bool
ratelimit_login_check(struct ratelimit *rl, const char *addr, const uint8_t *account,
		      size_t account_len, int64_t now_ms, enum rl_kind *which, int64_t *retry_ms)
{
	if (!keyed_check(rl, RL_LOGIN_ADDR, addr, addr ? strlen(addr) : 0, now_ms, retry_ms))
		return refuse(RL_LOGIN_ADDR, which);
	if (!keyed_check(rl, RL_LOGIN_ACCOUNT, account, account_len, now_ms, retry_ms))
		return refuse(RL_LOGIN_ACCOUNT, which);
	return true;
}

static void
keyed_charge(struct ratelimit *rl, enum rl_kind kind, const void *key, size_t len,
	     int64_t now_ms)
{
	if (key == NULL || len == 0 || rl->table[kind] == NULL)
		return;
	rl_bucket_charge(rl_table_get(rl->table[kind], key, len, true), &rl->cfg.rule[kind],
			 now_ms);
}

void
ratelimit_login_failed(struct ratelimit *rl, const char *addr, const uint8_t *account,
		       size_t account_len, int64_t now_ms)
{
	keyed_charge(rl, RL_LOGIN_ADDR, addr, addr ? strlen(addr) : 0, now_ms);
	keyed_charge(rl, RL_LOGIN_ACCOUNT, account, account_len, now_ms);
}

uint64_t
ratelimit_take_evictions(struct ratelimit *rl)
{
	uint64_t total = 0;
	for (int k = 0; k < RL__COUNT; k++)
		if (rl->table[k])
			total += rl_table_evictions(rl->table[k]);
	uint64_t delta = total - rl->evictions_reported;
	rl->evictions_reported = total;
	return delta;
}
