/* test_mlog.c — the signed membership log (shared/mlog.c): signed bytes and
 * signatures against vectors computed independently, the hash chain, every
 * rule of who may append what, and the JSON form.
 *
 * Vectors (docs/CRYPTO.md, "Membership log"): the signed bytes and hashes
 * were built with python3 (struct.pack + hashlib.blake2b(digest_size=32))
 * from the layout in mlog.h; the signatures with OpenSSL:
 *   printf '302e020100300506032b657004220420%s' 0001..1f | xxd -r -p > seed.der
 *   openssl pkey -inform DER -in seed.der -out seed.pem
 *   openssl pkeyutl -sign -inkey seed.pem -rawin -in e0.bin | xxd -p -c 128 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "mlog.h"

static const char e0_hex[] =
	"6c696169736f6e2d6d6c6f672d7631010010d0d1d2d3d4d5d6d7d8d9dadbdcdddedf0000000000000000"
	"00000010a0a1a2a3a4a5a6a7a8a9aaabacadaeaf0010b0b1b2b3b4b5b6b7b8b9babbbcbdbebf010010a0"
	"a1a2a3a4a5a6a7a8a9aaabacadaeaf0201010000019ab0a20700";
static const char h0_hex[] = "7cf874330de7468a941e625a8e29505a914646a88304b56a3742ecb866e49ca3";
static const char e1_hex[] =
	"6c696169736f6e2d6d6c6f672d7631010010d0d1d2d3d4d5d6d7d8d9dadbdcdddedf0000000000000001"
	"00207cf874330de7468a941e625a8e29505a914646a88304b56a3742ecb866e49ca30010a0a1a2a3a4a5"
	"a6a7a8a9aaabacadaeaf0010b0b1b2b3b4b5b6b7b8b9babbbcbdbebf020010e0e1e2e3e4e5e6e7e8e9ea"
	"ebecedeeef0100000000019ab0a20ae8";
static const char h1_hex[] = "1b8e0e3e086cc2d515d1dea3a99af353dbf21627afbcc3aabe51bcec890a0e41";
static const char sig0_hex[] =
	"c4dfa8b8d0e7d0a6ebef4223cbca4f5b01cf2801da36bdb098491e793fe017910833429ec2e166a486c3483b"
	"4504a0231ac23f2e13597eeddb32b5a3ef81da08";
static const char sig1_hex[] =
	"036d2b4e1844391b9c1519b49511b9805e7995cbc2d3e0481a5364205b53523d731ab1cf7ed2c2161a58e340"
	"9febca7f3549913689b18b5a3164da8a18ac2f0b";

static void
fill(uint8_t *p, uint8_t start, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(start + i);
}

static void
hex(const uint8_t *p, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, p, n);
}

static struct lsn_mlog_entry
vector_create(void)
{
	struct lsn_mlog_entry e = {0};
	fill(e.channel, 0xd0, 16);
	fill(e.actor, 0xa0, 16);
	fill(e.actor_device, 0xb0, 16);
	memcpy(e.subject, e.actor, 16);
	e.action = LSN_MLOG_CREATE;
	e.role = LSN_CROLE_ADMIN;
	e.history = LSN_HISTORY_SHARED;
	e.kind = LSN_KIND_CASE;
	e.ts = 1763900000000LL;
	return e;
}

static struct lsn_mlog_entry
vector_add(const struct lsn_mlog_entry *e0)
{
	struct lsn_mlog_entry e = *e0;
	e.seq = 1;
	lsn_mlog_hash(e0, e.prev);
	e.action = LSN_MLOG_ADD;
	fill(e.subject, 0xe0, 16);
	e.role = LSN_CROLE_MEMBER;
	e.history = LSN_HISTORY_NONE;
	e.kind = LSN_KIND_NONE;
	e.ts = 1763900001000LL;
	return e;
}

static void
keypair(uint8_t pk[32], uint8_t sk[64])
{
	uint8_t seed[32];
	fill(seed, 0, 32);
	crypto_sign_seed_keypair(pk, sk, seed);
}

static void
test_vectors(void **state)
{
	uint8_t bytes[LSN_MLOG_SIGNED_MAX], h[32], pk[32], sk[64];
	char text[2 * LSN_MLOG_SIGNED_MAX + 1];
	keypair(pk, sk);
	struct lsn_mlog_entry e0 = vector_create(), e1 = vector_add(&e0);
	size_t n = lsn_mlog_signed_bytes(&e0, bytes);
	hex(bytes, n, text);
	assert_string_equal(text, e0_hex);
	lsn_mlog_hash(&e0, h);
	hex(h, 32, text);
	assert_string_equal(text, h0_hex);
	n = lsn_mlog_signed_bytes(&e1, bytes);
	hex(bytes, n, text);
	assert_string_equal(text, e1_hex);
	lsn_mlog_hash(&e1, h);
	hex(h, 32, text);
	assert_string_equal(text, h1_hex);
	lsn_mlog_sign(&e0, sk);
	lsn_mlog_sign(&e1, sk);
	hex(e0.sig, 64, text);
	assert_string_equal(text, sig0_hex);
	hex(e1.sig, 64, text);
	assert_string_equal(text, sig1_hex);
	assert_true(lsn_mlog_verify_sig(&e0, pk));
	e0.ts++;
	assert_false(lsn_mlog_verify_sig(&e0, pk));
}

/* A signed chain builder for the rule tests (signatures are not part of
 * lsn_mlog_apply, which only needs the hash chain). */
struct chain {
	struct lsn_mlog_state st;
	struct lsn_mlog_entry last;
};

static uint8_t users[4][16];

static enum lsn_err
step(struct chain *c, enum lsn_mlog_action action, int actor, int subject, enum lsn_chan_role role)
{
	struct lsn_mlog_entry e = {0};
	struct lsn_status status = {0};
	memcpy(e.channel, c->last.channel, 16);
	e.seq = c->st.next_seq;
	lsn_mlog_hash(&c->last, e.prev);
	memcpy(e.actor, users[actor], 16);
	memcpy(e.subject, users[subject], 16);
	e.action = action;
	e.role = role;
	e.ts = 1;
	enum lsn_err err = lsn_mlog_apply(&c->st, &e, &status);
	if (err == LSN_OK)
		c->last = e;
	return err;
}

static struct chain *
new_chain(enum lsn_chan_kind kind)
{
	struct chain *c = calloc(1, sizeof *c);
	struct lsn_status status = {0};
	for (int i = 0; i < 4; i++)
		fill(users[i], (uint8_t)(0x10 * (i + 1)), 16);
	c->last = vector_create();
	memcpy(c->last.actor, users[0], 16);
	memcpy(c->last.subject, users[0], 16);
	c->last.kind = kind;
	lsn_mlog_state_init(&c->st);
	assert_int_equal(lsn_mlog_apply(&c->st, &c->last, &status), LSN_OK);
	return c;
}

static void
test_rules(void **state)
{
	struct chain *c = new_chain(LSN_KIND_CASE);
	/* user 1 is not a member: cannot add */
	assert_int_equal(step(c, LSN_MLOG_ADD, 1, 2, LSN_CROLE_MEMBER), LSN_ERR_FORBIDDEN);
	assert_int_equal(step(c, LSN_MLOG_ADD, 0, 1, LSN_CROLE_MEMBER), LSN_OK);
	assert_int_equal(step(c, LSN_MLOG_ADD, 0, 1, LSN_CROLE_MEMBER), LSN_ERR_FORBIDDEN); /* twice */
	assert_int_equal(step(c, LSN_MLOG_ADD, 0, 2, LSN_CROLE_NONE), LSN_ERR_FORBIDDEN);   /* no role */
	/* a plain member may not add, remove or change roles */
	assert_int_equal(step(c, LSN_MLOG_ADD, 1, 2, LSN_CROLE_MEMBER), LSN_ERR_FORBIDDEN);
	assert_int_equal(step(c, LSN_MLOG_REMOVE, 1, 0, LSN_CROLE_NONE), LSN_ERR_FORBIDDEN);
	assert_int_equal(step(c, LSN_MLOG_ROLE, 1, 1, LSN_CROLE_ADMIN), LSN_ERR_FORBIDDEN);
	/* the last admin can neither leave nor step down while others remain */
	assert_int_equal(step(c, LSN_MLOG_LEAVE, 0, 0, LSN_CROLE_NONE), LSN_ERR_FORBIDDEN);
	assert_int_equal(step(c, LSN_MLOG_ROLE, 0, 0, LSN_CROLE_MEMBER), LSN_ERR_FORBIDDEN);
	/* leave is one's own */
	assert_int_equal(step(c, LSN_MLOG_LEAVE, 1, 0, LSN_CROLE_NONE), LSN_ERR_FORBIDDEN);
	assert_int_equal(step(c, LSN_MLOG_ADD, 0, 2, LSN_CROLE_ADMIN), LSN_OK);
	assert_int_equal(step(c, LSN_MLOG_REMOVE, 2, 1, LSN_CROLE_NONE), LSN_OK);
	assert_null(lsn_mlog_member(&c->st, users[1]));
	assert_int_equal(step(c, LSN_MLOG_REMOVE, 2, 2, LSN_CROLE_NONE), LSN_ERR_FORBIDDEN); /* self */
	assert_int_equal(step(c, LSN_MLOG_LEAVE, 0, 0, LSN_CROLE_NONE), LSN_OK); /* 2 is admin too */
	assert_int_equal(c->st.count, 1);
	assert_int_equal(lsn_mlog_member(&c->st, users[2])->role, LSN_CROLE_ADMIN);
	/* a removed member cannot act */
	assert_int_equal(step(c, LSN_MLOG_ADD, 1, 3, LSN_CROLE_MEMBER), LSN_ERR_FORBIDDEN);
	free(c);

	c = new_chain(LSN_KIND_DIRECT);
	assert_int_equal(step(c, LSN_MLOG_ADD, 0, 1, LSN_CROLE_MEMBER), LSN_OK);
	assert_int_equal(step(c, LSN_MLOG_ADD, 0, 2, LSN_CROLE_MEMBER), LSN_ERR_FORBIDDEN);
	free(c);
}

static void
test_chain_integrity(void **state)
{
	struct chain *c = new_chain(LSN_KIND_TEAM);
	struct lsn_status status = {0};
	struct lsn_mlog_entry e = c->last;
	e.seq = 1;
	lsn_mlog_hash(&c->last, e.prev);
	e.action = LSN_MLOG_ADD;
	fill(e.subject, 0x77, 16);
	e.role = LSN_CROLE_MEMBER;
	e.history = LSN_HISTORY_NONE;
	e.kind = LSN_KIND_NONE;
	struct lsn_mlog_entry bad = e;
	bad.prev[0] ^= 1;                                  /* broken chain */
	assert_int_equal(lsn_mlog_apply(&c->st, &bad, &status), LSN_ERR_CONFLICT);
	bad = e;
	bad.seq = 2;                                       /* gap */
	assert_int_equal(lsn_mlog_apply(&c->st, &bad, &status), LSN_ERR_CONFLICT);
	bad = e;
	bad.channel[0] ^= 1;                               /* other channel */
	assert_int_equal(lsn_mlog_apply(&c->st, &bad, &status), LSN_ERR_FORBIDDEN);
	bad = e;
	bad.history = LSN_HISTORY_FROM_JOIN;               /* history is fixed at create */
	assert_int_equal(lsn_mlog_apply(&c->st, &bad, &status), LSN_ERR_FORBIDDEN);
	bad = e;
	bad.action = LSN_MLOG_CREATE;                      /* create only first */
	assert_int_equal(lsn_mlog_apply(&c->st, &bad, &status), LSN_ERR_FORBIDDEN);
	assert_int_equal(lsn_mlog_apply(&c->st, &e, &status), LSN_OK);
	assert_int_equal(c->st.next_seq, 2);
	free(c);

	struct lsn_mlog_state *st = calloc(1, sizeof *st);
	lsn_mlog_state_init(st);
	e.seq = 0;                                          /* first entry must be create */
	assert_int_equal(lsn_mlog_apply(st, &e, &status), LSN_ERR_FORBIDDEN);
	struct lsn_mlog_entry cr = vector_create();
	cr.history = LSN_HISTORY_NONE;
	assert_int_equal(lsn_mlog_apply(st, &cr, &status), LSN_ERR_FORBIDDEN);
	free(st);
}

static void
test_json_round_trip(void **state)
{
	uint8_t pk[32], sk[64];
	keypair(pk, sk);
	struct lsn_mlog_entry e0 = vector_create(), e1, back;
	e1 = vector_add(&e0);
	lsn_mlog_sign(&e1, sk);
	struct lsn_status st = {0};
	json_t *obj = lsn_mlog_to_json(&e1);
	assert_non_null(obj);
	assert_string_equal(json_string_value(json_object_get(obj, "action")), "add");
	assert_string_equal(json_string_value(json_object_get(obj, "role")), "member");
	assert_true(json_is_null(json_object_get(obj, "kind")));
	assert_int_equal(lsn_mlog_from_json(obj, &back, &st), LSN_OK);
	assert_memory_equal(&back, &e1, sizeof back);
	assert_true(lsn_mlog_verify_sig(&back, pk));
	json_object_set_new(obj, "action", json_string("promote"));
	assert_int_equal(lsn_mlog_from_json(obj, &back, &st), LSN_ERR_BAD_REQUEST);
	json_object_set_new(obj, "action", json_string("add"));
	json_object_del(obj, "prev");                       /* seq 1 needs prev */
	assert_int_equal(lsn_mlog_from_json(obj, &back, &st), LSN_ERR_BAD_REQUEST);
	json_decref(obj);
}

/* The membership-log heads bound into messages and key shares, against
 * values computed by tests/unit/crypto_vectors.py (python3 hashlib and
 * base64, not this code): CRYPTO.md "Membership bound into messages". */
static const char e2_hex[] =
	"6c696169736f6e2d6d6c6f672d7631010010d0d1d2d3d4d5d6d7d8d9dadbdcdddedf000000000000000200"
	"201b8e0e3e086cc2d515d1dea3a99af353dbf21627afbcc3aabe51bcec890a0e410010a0a1a2a3a4a5a6a7"
	"a8a9aaabacadaeaf0010b0b1b2b3b4b5b6b7b8b9babbbcbdbebf030010e0e1e2e3e4e5e6e7e8e9eaebeced"
	"eeef0000000000019ab0a20ed0";
static const char h2_hex[] = "baa4ae1794f203778305f51f631d9940464b6f4d7109017508e6b62b2fb75851";
static const char *const head_json[3] = {
	"{\"seq\":0,\"hash\":\"fPh0Mw3nRoqUHmJajilQWpFGRqiDBLVqN0LsuGbknKM=\"}",
	"{\"seq\":1,\"hash\":\"G44OPghswtUV0d6jqZrzU9vyFievvMOqvlG87IkKDkE=\"}",
	"{\"seq\":2,\"hash\":\"uqSuF5TyA3eDBfUfYx2ZQEZLb01xCQF1COa2Ky+3WFE=\"}",
};

static void
test_head_vectors(void **state)
{
	(void)state;
	uint8_t bytes[LSN_MLOG_SIGNED_MAX], h[32], back[32];
	char text[2 * LSN_MLOG_SIGNED_MAX + 1];
	struct lsn_mlog_entry e[3];
	e[0] = vector_create();
	e[1] = vector_add(&e[0]);
	e[2] = e[1];                          /* remove e0…ef, seq 2 */
	e[2].seq = 2;
	lsn_mlog_hash(&e[1], e[2].prev);
	e[2].action = LSN_MLOG_REMOVE;
	e[2].role = LSN_CROLE_NONE;
	e[2].ts = 1763900002000LL;
	size_t n = lsn_mlog_signed_bytes(&e[2], bytes);
	hex(bytes, n, text);
	assert_string_equal(text, e2_hex);
	lsn_mlog_hash(&e[2], h);
	hex(h, 32, text);
	assert_string_equal(text, h2_hex);
	for (int i = 0; i < 3; i++) {
		json_t *head = lsn_mlog_head_json(&e[i]);
		char *dump = json_dumps(head, JSON_COMPACT);
		assert_string_equal(dump, head_json[i]);
		uint64_t seq = 99;
		assert_true(lsn_mlog_head_parse(head, &seq, back));
		assert_int_equal(seq, (uint64_t)i);
		lsn_mlog_hash(&e[i], h);
		assert_memory_equal(back, h, 32);
		free(dump);
		json_decref(head);
	}
	/* what a receiver refuses as a malformed head */
	static const char *const bad[] = {
		"{\"seq\":1}", "{\"hash\":\"G44OPghswtUV0d6jqZrzU9vyFievvMOqvlG87IkKDkE=\"}",
		"{\"seq\":-1,\"hash\":\"G44OPghswtUV0d6jqZrzU9vyFievvMOqvlG87IkKDkE=\"}",
		"{\"seq\":\"1\",\"hash\":\"G44OPghswtUV0d6jqZrzU9vyFievvMOqvlG87IkKDkE=\"}",
		"{\"seq\":1,\"hash\":\"G44OPghswtUV0d6jqZrzU9vyFievvMOqvlG87IkKDk=\"}",
		"{\"seq\":1,\"hash\":\"G44OPghswtUV0d6jqZrzU9vyFievvMOqvlG87IkKDkE=\",\"x\":1}",
		"[1,2]",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *obj = json_loads(bad[i], 0, NULL);
		uint64_t seq = 0;
		assert_non_null(obj);
		assert_false(lsn_mlog_head_parse(obj, &seq, back));
		json_decref(obj);
	}
}

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_chain_integrity),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_head_vectors),
	};
	return cmocka_run_group_tests_name("mlog", tests, NULL, NULL);
}
