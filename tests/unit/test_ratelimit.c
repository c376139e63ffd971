/* test_ratelimit.c — server/ratelimit.c on an injected clock (burst, refill,
 * retry times, distinct keys, bounded LRU tables), the rate-limit keys of
 * liaisond.conf, and the dispatcher's hook (retry_after_ms in the reply,
 * failed logins per address and per account, /metrics counters). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "config.h"
#include "dispatch.h"
#include "lsn_config.h"
#include "metrics.h"
#include "ratelimit.h"
#include "server_fixture.h"

/* ---- one bucket ------------------------------------------------------------ */

static void
test_burst_then_refuse(void **state)
{
	(void)state;
	struct rl_rule r = {.per_min = 60, .burst = 5}; /* one a second */
	struct rl_bucket b = {0};
	int64_t retry = -1;
	for (int i = 0; i < 5; i++)
		assert_true(rl_bucket_take(&b, &r, 1000, &retry));
	assert_int_equal(retry, -1);             /* untouched while allowed */
	assert_false(rl_bucket_take(&b, &r, 1000, &retry));
	assert_int_equal(retry, 1000);
	/* a refusal takes nothing: still 1000 ms to wait at the same instant */
	assert_false(rl_bucket_take(&b, &r, 1000, &retry));
	assert_int_equal(retry, 1000);
}

static void
test_refill(void **state)
{
	(void)state;
	struct rl_rule r = {.per_min = 60, .burst = 3};
	struct rl_bucket b = {0};
	int64_t retry = 0;
	for (int i = 0; i < 3; i++)
		assert_true(rl_bucket_take(&b, &r, 0, &retry));
	assert_false(rl_bucket_take(&b, &r, 400, &retry));
	assert_int_equal(retry, 600);
	assert_false(rl_bucket_take(&b, &r, 999, &retry));
	assert_int_equal(retry, 1);
	assert_true(rl_bucket_take(&b, &r, 1000, &retry));   /* exactly one token back */
	assert_false(rl_bucket_take(&b, &r, 1000, &retry));
	/* a long pause refills up to the burst, not beyond */
	for (int i = 0; i < 3; i++)
		assert_true(rl_bucket_take(&b, &r, 3600 * 1000, &retry));
	assert_false(rl_bucket_take(&b, &r, 3600 * 1000, &retry));
}

static void
test_fast_rate_retry(void **state)
{
	(void)state;
	struct rl_rule r = {.per_min = 200 * 60, .burst = 2000}; /* the default per connection */
	struct rl_bucket b = {0};
	int64_t retry = 0, now = 5;
	for (int i = 0; i < 2000; i++)
		assert_true(rl_bucket_take(&b, &r, now, &retry));
	assert_false(rl_bucket_take(&b, &r, now, &retry));
	assert_int_equal(retry, 5);                 /* 200 a second: one every 5 ms */
	/* a steady 200 a second goes through for ever */
	for (int i = 0; i < 10000; i++) {
		now += 5;
		assert_true(rl_bucket_take(&b, &r, now, &retry));
	}
}

static void
test_unlimited_and_check(void **state)
{
	(void)state;
	struct rl_rule off = {.per_min = 0, .burst = 1};
	struct rl_bucket b = {0};
	for (int i = 0; i < 100000; i++)
		assert_true(rl_bucket_take(&b, &off, 0, NULL));
	struct rl_rule r = {.per_min = 6, .burst = 2}; /* one per 10 s */
	struct rl_bucket c = {0};
	int64_t retry = 0;
	for (int i = 0; i < 10; i++)
		assert_true(rl_bucket_check(&c, &r, 0, &retry)); /* check takes nothing */
	rl_bucket_charge(&c, &r, 0);
	rl_bucket_charge(&c, &r, 0);
	assert_false(rl_bucket_check(&c, &r, 0, &retry));
	assert_int_equal(retry, 10000);
	rl_bucket_charge(&c, &r, 0);                    /* never below empty */
	assert_false(rl_bucket_check(&c, &r, 9999, &retry));
	assert_int_equal(retry, 1);
	assert_true(rl_bucket_check(&c, &r, 10000, &retry));
}

static void
test_clock_back_and_extremes(void **state)
{
	(void)state;
	struct rl_rule r = {.per_min = 60, .burst = 1};
	struct rl_bucket b = {0};
	int64_t retry = 0;
	assert_true(rl_bucket_take(&b, &r, 50000, &retry));
	/* the clock goes back: no token appears, and waiting from there works */
	assert_false(rl_bucket_take(&b, &r, 10000, &retry));
	assert_int_equal(retry, 1000);
	assert_true(rl_bucket_take(&b, &r, 11000, &retry));
	/* the largest configurable rule and a huge pause: no overflow (UBSan) */
	struct rl_rule big = {.per_min = 1000000u * 60, .burst = 10000000};
	struct rl_bucket g = {0};
	assert_true(rl_bucket_take(&g, &big, 0, &retry));
	assert_true(rl_bucket_take(&g, &big, INT64_MAX / 2, &retry));
	struct rl_rule slow = {.per_min = 1, .burst = 1};
	struct rl_bucket s = {0};
	assert_true(rl_bucket_take(&s, &slow, 0, &retry));
	assert_false(rl_bucket_take(&s, &slow, 1, &retry));
	assert_int_equal(retry, 59999);
}

/* ---- tables ---------------------------------------------------------------- */

static void
test_distinct_keys(void **state)
{
	(void)state;
	struct rl_table *t = rl_table_new(64);
	assert_non_null(t);
	struct rl_rule r = {.per_min = 60, .burst = 2};
	struct rl_bucket *a = rl_table_get(t, "10.0.0.1", 8, true);
	assert_true(rl_bucket_take(a, &r, 0, NULL));
	assert_true(rl_bucket_take(a, &r, 0, NULL));
	assert_false(rl_bucket_take(rl_table_get(t, "10.0.0.1", 8, true), &r, 0, NULL));
	/* another key, and a key that is a prefix of the first, are untouched */
	assert_true(rl_bucket_take(rl_table_get(t, "10.0.0.2", 8, true), &r, 0, NULL));
	assert_true(rl_bucket_take(rl_table_get(t, "10.0.0.", 7, true), &r, 0, NULL));
	assert_int_equal(rl_table_count(t), 3);
	assert_null(rl_table_get(t, "10.0.0.3", 8, false));   /* lookup does not create */
	assert_int_equal(rl_table_count(t), 3);
	assert_ptr_equal(rl_table_get(t, "10.0.0.1", 8, false), a);
	rl_table_free(t);
}

static void
test_table_bounded_lru(void **state)
{
	(void)state;
	struct rl_table *t = rl_table_new(16);
	assert_non_null(t);
	struct rl_rule r = {.per_min = 1, .burst = 1};
	char key[32];
	/* an attacker with 100,000 addresses: the table never grows past 16 */
	for (int i = 0; i < 100000; i++) {
		int n = snprintf(key, sizeof key, "2001:db8::%x", i);
		struct rl_bucket *b = rl_table_get(t, key, (size_t)n, true);
		assert_non_null(b);
		assert_true(rl_bucket_take(b, &r, 0, NULL));      /* each new key starts full */
		assert_true(rl_table_count(t) <= 16);
		/* keep key 0 in use: it must survive as the most recently used */
		assert_non_null(rl_table_get(t, "2001:db8::0", 11, false));
	}
	assert_int_equal(rl_table_count(t), 16);
	assert_int_equal(rl_table_cap(t), 16);
	assert_int_equal(rl_table_evictions(t), 100000 - 16);
	/* key 0 kept its state (empty), the 15 newest are there, older ones gone */
	struct rl_bucket *zero = rl_table_get(t, "2001:db8::0", 11, false);
	assert_non_null(zero);
	assert_false(rl_bucket_take(zero, &r, 0, NULL));
	for (int i = 100000 - 15; i < 100000; i++) {
		int n = snprintf(key, sizeof key, "2001:db8::%x", i);
		assert_non_null(rl_table_get(t, key, (size_t)n, false));
	}
	int n = snprintf(key, sizeof key, "2001:db8::%x", 100000 - 16);
	assert_null(rl_table_get(t, key, (size_t)n, false));
	/* an evicted key comes back with a full bucket */
	struct rl_bucket *back = rl_table_get(t, key, (size_t)n, true);
	assert_true(rl_bucket_take(back, &r, 0, NULL));
	rl_table_free(t);
}

static void
test_long_keys_truncated(void **state)
{
	(void)state;
	struct rl_table *t = rl_table_new(4);
	char a[100], b[100];
	memset(a, 'x', sizeof a);
	memcpy(b, a, sizeof b);
	b[99] = 'y';  /* differs only after RL_KEY_MAX bytes: the same entry */
	assert_ptr_equal(rl_table_get(t, a, sizeof a, true), rl_table_get(t, b, sizeof b, true));
	assert_int_equal(rl_table_count(t), 1);
	rl_table_free(t);
}

/* ---- the server's limits ------------------------------------------------------ */

static struct ratelimit *
small_limits(void)
{
	struct ratelimit_config c = {.table_entries = 32};
	c.rule[RL_CONN] = (struct rl_rule){.per_min = 600, .burst = 4};       /* 10/s */
	c.rule[RL_USER] = (struct rl_rule){.per_min = 600, .burst = 6};
	c.rule[RL_LOGIN_ADDR] = (struct rl_rule){.per_min = 6, .burst = 3};   /* 1 per 10 s */
	c.rule[RL_LOGIN_ACCOUNT] = (struct rl_rule){.per_min = 6, .burst = 2};
	return ratelimit_new(&c);
}

static void
test_request_conn_then_user(void **state)
{
	(void)state;
	struct ratelimit *rl = small_limits();
	assert_non_null(rl);
	uint8_t user[16] = {1}, other[16] = {2};
	struct rl_bucket c1 = {0}, c2 = {0}, c3 = {0};
	enum rl_kind which = RL__COUNT;
	int64_t retry = 0;
	for (int i = 0; i < 4; i++)
		assert_true(ratelimit_request(rl, &c1, user, 16, 0, &which, &retry));
	assert_false(ratelimit_request(rl, &c1, user, 16, 0, &which, &retry));
	assert_int_equal(which, RL_CONN);
	assert_int_equal(retry, 100);
	/* the same user on a second connection: 2 left in the user's burst of 6 */
	assert_true(ratelimit_request(rl, &c2, user, 16, 0, &which, &retry));
	assert_true(ratelimit_request(rl, &c2, user, 16, 0, &which, &retry));
	assert_false(ratelimit_request(rl, &c2, user, 16, 0, &which, &retry));
	assert_int_equal(which, RL_USER);
	/* another user, and a connection not logged in, are not affected */
	assert_true(ratelimit_request(rl, &c3, other, 16, 0, &which, &retry));
	struct rl_bucket anon = {0};
	assert_true(ratelimit_request(rl, &anon, NULL, 0, 0, &which, &retry));
	/* served again once the bucket refilled */
	assert_true(ratelimit_request(rl, &c1, user, 16, 200, &which, &retry));
	ratelimit_free(rl);
}

static void
test_login_failures(void **state)
{
	(void)state;
	struct ratelimit *rl = small_limits();
	uint8_t acct[16] = {7}, acct2[16] = {8};
	enum rl_kind which = RL__COUNT;
	int64_t retry = 0;
	/* checks alone store nothing (successful logins cost no memory) */
	for (int i = 0; i < 100; i++)
		assert_true(ratelimit_login_check(rl, "192.0.2.1", acct, 16, 0, &which, &retry));
	assert_int_equal(ratelimit_take_evictions(rl), 0);
	/* two failures for acct from two addresses: the account is locked */
	ratelimit_login_failed(rl, "192.0.2.1", acct, 16, 0);
	ratelimit_login_failed(rl, "192.0.2.2", acct, 16, 0);
	assert_false(ratelimit_login_check(rl, "192.0.2.3", acct, 16, 0, &which, &retry));
	assert_int_equal(which, RL_LOGIN_ACCOUNT);
	assert_int_equal(retry, 10000);
	assert_true(ratelimit_login_check(rl, "192.0.2.3", acct2, 16, 0, &which, &retry));
	/* a third failure from 192.0.2.1 (another account): the address is locked */
	ratelimit_login_failed(rl, "192.0.2.1", acct2, 16, 0);
	ratelimit_login_failed(rl, "192.0.2.1", NULL, 0, 0);
	assert_false(ratelimit_login_check(rl, "192.0.2.1", NULL, 0, 0, &which, &retry));
	assert_int_equal(which, RL_LOGIN_ADDR);
	assert_true(ratelimit_login_check(rl, "192.0.2.9", NULL, 0, 0, &which, &retry));
	/* 10 s later each has one attempt again */
	assert_true(ratelimit_login_check(rl, "192.0.2.1", acct, 16, 10000, &which, &retry));
	/* many addresses: bounded table, evictions reported once */
	char addr[32];
	for (int i = 0; i < 100; i++) {
		snprintf(addr, sizeof addr, "198.51.100.%d", i);
		ratelimit_login_failed(rl, addr, NULL, 0, 0);
	}
	assert_true(ratelimit_take_evictions(rl) > 0);
	assert_int_equal(ratelimit_take_evictions(rl), 0);
	ratelimit_free(rl);
}

/* ---- config ------------------------------------------------------------------ */

static void
test_config_keys(void **state)
{
	(void)state;
	struct config d, c;
	struct lsn_status st = {0};
	config_defaults(&d);
	config_defaults(&c);
	c.rate_conn_per_s = c.rate_conn_burst = c.rate_user_per_s = c.rate_user_burst = 3;
	c.login_fail_addr_per_min = c.login_fail_addr_burst = 3;
	c.login_fail_account_per_min = c.login_fail_account_burst = c.rate_table_entries = 3;
	assert_int_equal(config_load_file(&c, LSN_SOURCE_DIR "/server/liaisond.conf.sample", &st),
			 LSN_OK);
	assert_int_equal(c.rate_conn_per_s, d.rate_conn_per_s);
	assert_int_equal(c.rate_conn_burst, d.rate_conn_burst);
	assert_int_equal(c.rate_user_per_s, d.rate_user_per_s);
	assert_int_equal(c.rate_user_burst, d.rate_user_burst);
	assert_int_equal(c.login_fail_addr_per_min, d.login_fail_addr_per_min);
	assert_int_equal(c.login_fail_addr_burst, d.login_fail_addr_burst);
	assert_int_equal(c.login_fail_account_per_min, d.login_fail_account_per_min);
	assert_int_equal(c.login_fail_account_burst, d.login_fail_account_burst);
	assert_int_equal(c.rate_table_entries, d.rate_table_entries);
	/* the defaults never limit the benchmark's busiest connection (1-2 msg/s) */
	assert_true(d.rate_conn_per_s >= 100 && d.rate_conn_burst >= 1000);

	assert_int_equal(config_set(&c, "rate_conn_per_s", "0", &st), LSN_OK);
	assert_int_equal(c.rate_conn_per_s, 0);
	assert_int_equal(config_set(&c, "login_fail_account_burst", "5", &st), LSN_OK);
	assert_int_equal(c.login_fail_account_burst, 5);
	const char *bad[][2] = {{"rate_conn_burst", "0"}, {"rate_user_per_s", "-1"},
				{"rate_table_entries", "15"}, {"login_fail_addr_per_min", "1e3"},
				{"rate_user_burst", "10000001"}, {"login_fail_addr_burst", ""}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		st.msg[0] = '\0';
		assert_int_equal(config_set(&c, bad[i][0], bad[i][1], &st), LSN_ERR_BAD_REQUEST);
		assert_non_null(strstr(st.msg, bad[i][0]));        /* the message names the key */
		assert_non_null(strstr(st.msg, "expected"));
	}
}

/* ---- through the dispatcher ------------------------------------------------------ */

static int64_t
metric_value(const char *sample)
{
	size_t len;
	char *text = metrics_render(dispatch_op_name, dispatch_op_count(), &len);
	assert_non_null(text);
	char *p = strstr(text, sample);
	int64_t v = p ? strtoll(p + strlen(sample), NULL, 10) : -1;
	free(text);
	return v;
}

static void
test_dispatch_conn_limit(void **state)
{
	struct fx *f = *state;
	f->cfg.rate_conn_per_s = 2;
	f->cfg.rate_conn_burst = 3;
	f->srv.rl = dispatch_ratelimit_new(&f->cfg);
	assert_non_null(f->srv.rl);
	int64_t before = metric_value("liaison_rate_limited_total{limit=\"connection\"} ");
	for (int i = 0; i < 3; i++) {
		json_t *r = call(f, "ping", NULL, NULL);
		assert_true(json_is_true(json_object_get(r, "ok")));
		json_decref(r);
	}
	json_t *r = call(f, "ping", NULL, NULL);
	assert_string_equal(err_code(r), "rate_limited");
	json_t *e = json_object_get(r, "error");
	json_int_t retry = json_integer_value(json_object_get(e, "retry_after_ms"));
	assert_true(retry >= 1 && retry <= 500);
	const char *msg = json_string_value(json_object_get(e, "message"));
	assert_non_null(strstr(msg, "retry in"));
	assert_non_null(json_object_get(r, "id"));
	json_decref(r);
	/* even an unreadable frame counts and is refused */
	struct dispatch_result res;
	dispatch_frame(&f->srv, &f->sess, "{", 1, &res);
	assert_int_equal(res.err, LSN_ERR_RATE_LIMITED);
	dispatch_result_free(&res);
	assert_int_equal(metric_value("liaison_rate_limited_total{limit=\"connection\"} "),
			 before + 2);
	/* another connection is served */
	struct session other = {0};
	session_new_challenge(&other);
	dispatch_frame(&f->srv, &other, "{\"id\":1,\"op\":\"ping\"}", 20, &res);
	assert_int_equal(res.err, LSN_OK);
	dispatch_result_free(&res);
	ratelimit_free(f->srv.rl);
	f->srv.rl = NULL;
}

static void
test_dispatch_login_failures(void **state)
{
	struct fx *f = *state;
	f->cfg.login_fail_addr_per_min = 1;
	f->cfg.login_fail_addr_burst = 5;
	f->cfg.login_fail_account_per_min = 1;
	f->cfg.login_fail_account_burst = 2;
	f->srv.rl = dispatch_ratelimit_new(&f->cfg);
	snprintf(f->sess.peer, sizeof f->sess.peer, "203.0.113.5");
	struct device_keys k, k2;
	enrol_ok(f, &k, "10101010105");
	/* enrol consumed no login budget; two forged logins for k's account */
	for (int i = 0; i < 2; i++) {
		session_new_challenge(&f->sess);
		json_t *r = call(f, "login", login_body(f, &k, true), NULL);
		assert_string_equal(err_code(r), "bad_signature");
		json_decref(r);
	}
	/* now even the right signature is refused, before it is checked */
	session_new_challenge(&f->sess);
	json_t *r = call(f, "login", login_body(f, &k, false), NULL);
	assert_string_equal(err_code(r), "rate_limited");
	json_int_t retry = json_integer_value(
		json_object_get(json_object_get(r, "error"), "retry_after_ms"));
	assert_true(retry > 50000 && retry <= 60000);
	assert_false(f->sess.logged_in);
	json_decref(r);
	assert_true(metric_value("liaison_rate_limited_total{limit=\"login_account\"} ") >= 1);
	/* another account from the same address still logs in; success is free */
	memset(&f->sess, 0, sizeof f->sess);
	snprintf(f->sess.peer, sizeof f->sess.peer, "203.0.113.5");
	enrol_ok(f, &k2, "20202020202");
	session_new_challenge(&f->sess);
	r = call(f, "login", login_body(f, &k2, false), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	/* three more failures from the address (5 in all) lock the address */
	memset(&f->sess, 0, sizeof f->sess);
	snprintf(f->sess.peer, sizeof f->sess.peer, "203.0.113.5");
	for (int i = 0; i < 3; i++) {
		session_new_challenge(&f->sess);
		struct device_keys stranger;
		make_keys(&stranger);
		r = call(f, "login", login_body(f, &stranger, false), NULL);
		assert_string_equal(err_code(r), "unknown_device");
		json_decref(r);
	}
	session_new_challenge(&f->sess);
	r = call(f, "login", login_body(f, &k2, false), NULL);
	assert_string_equal(err_code(r), "rate_limited");
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r, "error"),
								   "message")), "address"));
	json_decref(r);
	ratelimit_free(f->srv.rl);
	f->srv.rl = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_refuse),
		cmocka_unit_test(test_refill),
		cmocka_unit_test(test_fast_rate_retry),
		cmocka_unit_test(test_unlimited_and_check),
		cmocka_unit_test(test_clock_back_and_extremes),
		cmocka_unit_test(test_distinct_keys),
		cmocka_unit_test(test_table_bounded_lru),
		cmocka_unit_test(test_long_keys_truncated),
		cmocka_unit_test(test_request_conn_then_user),
		cmocka_unit_test(test_login_failures),
		cmocka_unit_test(test_config_keys),
		cmocka_unit_test_setup_teardown(test_dispatch_conn_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_login_failures, setup, teardown),
	};
	return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
