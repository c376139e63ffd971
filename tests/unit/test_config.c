/* test_config.c — the liaisond.conf parser: the shipped sample parses to the
 * embedded defaults, every bad line is refused with its line number; the
 * time zone is checked against the tz database. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "config.h"
#include "lsn_config.h"

static void
test_sample_matches_defaults(void **state)
{
	struct config defaults, parsed;
	struct lsn_status st = {0};
	config_defaults(&defaults);
	config_defaults(&parsed);
	/* start the parsed copy from different values so the file must set them */
	parsed.port = 1;
	parsed.max_frame = 4096;
	parsed.synchronous = STORE_SYNC_NORMAL;
	parsed.commit_pipeline = false;
	parsed.checkpoint_pages = parsed.wal_max_pages = 3;
	parsed.db_cache = 5;
	parsed.invite_ttl_ms = 1;
	parsed.production = true;
	parsed.attachment_max = 1;
	parsed.due_soon_ms = parsed.ack_timeout_ms = 1;
	parsed.timer_interval_s = 7;
	parsed.case_backdate_max_days = 1;
	parsed.outq_soft_bytes = 1;
	parsed.outq_soft_grace_s = 1;
	snprintf(parsed.event_loop, sizeof parsed.event_loop, "x");
	parsed.service_threads = 9;
	snprintf(parsed.timezone, sizeof parsed.timezone, "UTC");
	snprintf(parsed.smtp_host, sizeof parsed.smtp_host, "x");
	snprintf(parsed.smtp_ca, sizeof parsed.smtp_ca, "x");
	snprintf(parsed.smtp_user, sizeof parsed.smtp_user, "x");
	snprintf(parsed.smtp_password_file, sizeof parsed.smtp_password_file, "x");
	snprintf(parsed.mail_from, sizeof parsed.mail_from, "x");
	snprintf(parsed.public_url, sizeof parsed.public_url, "x");
	parsed.smtp_port = 1;
	parsed.smtp_starttls = false;
	parsed.mail_delay_ms = parsed.mail_period_ms = 1;
	assert_int_equal(config_load_file(&parsed, LSN_SOURCE_DIR "/server/liaisond.conf.sample", &st),
			 LSN_OK);
	assert_int_equal(parsed.port, defaults.port);
	assert_string_equal(parsed.listen, defaults.listen);
	assert_string_equal(parsed.server_name, defaults.server_name);
	assert_string_equal(parsed.data_dir, defaults.data_dir);
	assert_string_equal(parsed.tls_cert, defaults.tls_cert);
	assert_string_equal(parsed.tls_key, defaults.tls_key);
	assert_int_equal(parsed.synchronous, defaults.synchronous);
	assert_int_equal(parsed.max_frame, defaults.max_frame);
	assert_int_equal(parsed.outq_max_bytes, defaults.outq_max_bytes);
	assert_int_equal(parsed.outq_max_frames, defaults.outq_max_frames);
	assert_int_equal(parsed.outq_soft_bytes, defaults.outq_soft_bytes);
	assert_int_equal(parsed.outq_soft_grace_s, defaults.outq_soft_grace_s);
	assert_string_equal(parsed.event_loop, defaults.event_loop);
	assert_int_equal(parsed.service_threads, defaults.service_threads);
	assert_int_equal(defaults.service_threads, 1);
	assert_int_equal(parsed.ping_after_s, defaults.ping_after_s);
	assert_int_equal(parsed.hangup_after_s, defaults.hangup_after_s);
	assert_int_equal(parsed.commit_delay_us, defaults.commit_delay_us);
	assert_int_equal(parsed.commit_pipeline, defaults.commit_pipeline);
	assert_true(defaults.commit_pipeline);
	assert_int_equal(parsed.checkpoint_pages, defaults.checkpoint_pages);
	assert_int_equal(parsed.wal_max_pages, defaults.wal_max_pages);
	assert_int_equal(defaults.checkpoint_pages, 1000);
	assert_int_equal(parsed.db_cache, defaults.db_cache);
	assert_int_equal(defaults.db_cache, 16 * 1024 * 1024);
	assert_int_equal(defaults.wal_max_pages, 8000);
	assert_int_equal(parsed.attachment_max, defaults.attachment_max);
	assert_int_equal(parsed.due_soon_ms, defaults.due_soon_ms);
	assert_int_equal(parsed.ack_timeout_ms, defaults.ack_timeout_ms);
	assert_string_equal(parsed.smtp_host, defaults.smtp_host);
	assert_string_equal(parsed.smtp_ca, defaults.smtp_ca);
	assert_string_equal(parsed.smtp_user, defaults.smtp_user);
	assert_string_equal(parsed.smtp_password_file, defaults.smtp_password_file);
	assert_string_equal(parsed.mail_from, defaults.mail_from);
	assert_string_equal(parsed.public_url, defaults.public_url);
	assert_int_equal(parsed.smtp_port, defaults.smtp_port);
	assert_int_equal(parsed.smtp_starttls, defaults.smtp_starttls);
	assert_int_equal(parsed.mail_delay_ms, defaults.mail_delay_ms);
	assert_int_equal(parsed.mail_period_ms, defaults.mail_period_ms);
	assert_int_equal(parsed.timer_interval_s, defaults.timer_interval_s);
	assert_int_equal(parsed.case_backdate_max_days, 30);
	assert_int_equal(defaults.case_backdate_max_days, 30);
	assert_int_equal(parsed.invite_ttl_ms, defaults.invite_ttl_ms);
	assert_int_equal(parsed.log_level, defaults.log_level);
	assert_int_equal(parsed.production, defaults.production);
	assert_string_equal(parsed.timezone, "Europe/Paris");
	assert_string_equal(defaults.timezone, "Europe/Paris");
	assert_int_equal(parsed.metrics_allow_n, defaults.metrics_allow_n);
	assert_memory_equal(parsed.metrics_allow, defaults.metrics_allow,
			    sizeof defaults.metrics_allow[0] * defaults.metrics_allow_n);
	assert_string_equal(parsed.metrics_token, defaults.metrics_token);
}

/* An address as the server sees a peer: IPv4 as ::ffff:a.b.c.d. */
static const uint8_t *
addr_of(const char *text)
{
	static uint8_t a[16];
	memset(a, 0, sizeof a);
	if (inet_pton(AF_INET, text, a + 12) == 1)
		a[10] = a[11] = 0xff;
	else if (inet_pton(AF_INET6, text, a) != 1)
		fail_msg("addr_of: %s", text);
	return a;
}

/* /metrics: loopback by default; networks and a bearer token when set. */
static void
test_metrics_access(void **state)
{
	struct config cfg;
	struct lsn_status st = {0};
	config_defaults(&cfg);
	assert_true(config_metrics_allowed(&cfg, addr_of("127.0.0.1"), NULL));
	assert_true(config_metrics_allowed(&cfg, addr_of("127.1.2.3"), NULL));
	assert_true(config_metrics_allowed(&cfg, addr_of("::1"), NULL));
	assert_false(config_metrics_allowed(&cfg, addr_of("192.0.2.2"), NULL));
	assert_false(config_metrics_allowed(&cfg, addr_of("128.0.0.1"), NULL));
	assert_false(config_metrics_allowed(&cfg, addr_of("fd00::2"), NULL));
	assert_false(config_metrics_allowed(&cfg, NULL, NULL));
	/* no token configured: no Authorization header opens it */
	assert_false(config_metrics_allowed(&cfg, addr_of("192.0.2.2"), "Bearer "));
	assert_false(config_metrics_allowed(&cfg, addr_of("192.0.2.2"), "Bearer none"));

	const char *text = "metrics_allow = 10.1.2.0/23 fd00::/16,192.0.2.7\n"
			   "metrics_token = 0123456789abcdef0123\n";
	assert_int_equal(config_parse(&cfg, text, strlen(text), "t.conf", &st), LSN_OK);
	assert_int_equal(cfg.metrics_allow_n, 3);
	assert_true(config_metrics_allowed(&cfg, addr_of("10.1.2.9"), NULL));
	assert_true(config_metrics_allowed(&cfg, addr_of("10.1.3.255"), NULL));
	assert_false(config_metrics_allowed(&cfg, addr_of("10.1.4.0"), NULL));
	assert_false(config_metrics_allowed(&cfg, addr_of("10.1.1.255"), NULL));
	assert_true(config_metrics_allowed(&cfg, addr_of("fd00::2"), NULL));
	assert_false(config_metrics_allowed(&cfg, addr_of("fd01::2"), NULL));
	assert_true(config_metrics_allowed(&cfg, addr_of("192.0.2.7"), NULL));
	assert_false(config_metrics_allowed(&cfg, addr_of("192.0.2.8"), NULL));
	assert_false(config_metrics_allowed(&cfg, addr_of("127.0.0.1"), NULL));
	assert_true(config_metrics_allowed(&cfg, addr_of("127.0.0.1"),
					   "Bearer 0123456789abcdef0123"));
	assert_true(config_metrics_allowed(&cfg, NULL, "Bearer 0123456789abcdef0123"));
	assert_false(config_metrics_allowed(&cfg, addr_of("127.0.0.1"),
					    "Bearer 0123456789abcdef012"));
	assert_false(config_metrics_allowed(&cfg, addr_of("127.0.0.1"),
					    "Bearer 0123456789abcdef01234"));
	assert_false(config_metrics_allowed(&cfg, addr_of("127.0.0.1"),
					    "bearer 0123456789abcdef0123"));
	assert_false(config_metrics_allowed(&cfg, addr_of("127.0.0.1"), "0123456789abcdef0123"));

	text = "metrics_allow = none\nmetrics_token = none\n";
	assert_int_equal(config_parse(&cfg, text, strlen(text), "t.conf", &st), LSN_OK);
	assert_false(config_metrics_allowed(&cfg, addr_of("127.0.0.1"), NULL));
	assert_false(config_metrics_allowed(&cfg, addr_of("127.0.0.1"), "Bearer none"));
	/* 0.0.0.0/0 and ::/0 open it to everyone, explicitly */
	text = "metrics_allow = 0.0.0.0/0\n";
	assert_int_equal(config_parse(&cfg, text, strlen(text), "t.conf", &st), LSN_OK);
	assert_true(config_metrics_allowed(&cfg, addr_of("192.0.2.2"), NULL));
	assert_false(config_metrics_allowed(&cfg, addr_of("fd00::2"), NULL));
}

static void
expect_refused(const char *text, const char *needle)
{
	struct config cfg;
	struct lsn_status st = {0};
	config_defaults(&cfg);
	assert_int_equal(config_parse(&cfg, text, strlen(text), "t.conf", &st), LSN_ERR_BAD_REQUEST);
	if (strstr(st.msg, needle) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", st.msg, needle);
}

/* service_threads: 1 to CONFIG_SERVICE_THREADS_MAX (16), nothing else. */
static void
test_service_threads(void **state)
{
	(void)state;
	struct config cfg;
	struct lsn_status st = {0};
	config_defaults(&cfg);
	const char *text = "service_threads = 4\n";
	assert_int_equal(config_parse(&cfg, text, strlen(text), "t.conf", &st), LSN_OK);
	assert_int_equal(cfg.service_threads, 4);
	text = "service_threads = 16\n";
	assert_int_equal(config_parse(&cfg, text, strlen(text), "t.conf", &st), LSN_OK);
	assert_int_equal(cfg.service_threads, 16);
	expect_refused("service_threads = 0\n", "from 1 to 16");
	expect_refused("service_threads = 17\n", "from 1 to 16");
	expect_refused("service_threads = two\n", "from 1 to 16");
}

/* Keys that constrain each other: config_check after every source. */
static void
test_cross_keys(void **state)
{
	(void)state;
	struct config cfg;
	struct lsn_status st = {0};
	config_defaults(&cfg);
	assert_int_equal(config_check(&cfg, &st), LSN_OK);
	const char *text = "checkpoint_pages = 8\nwal_max_pages = 40\n";
	assert_int_equal(config_parse(&cfg, text, strlen(text), "t.conf", &st), LSN_OK);
	assert_int_equal(config_check(&cfg, &st), LSN_OK);
	/* equal is refused too: the checkpoint thread would never get a turn */
	text = "checkpoint_pages = 40\n";
	assert_int_equal(config_parse(&cfg, text, strlen(text), "t.conf", &st), LSN_OK);
	assert_int_equal(config_check(&cfg, &st), LSN_ERR_BAD_REQUEST);
	assert_non_null(strstr(st.msg, "wal_max_pages (40) must be above checkpoint_pages (40)"));
	assert_non_null(strstr(st.msg, "remove both"));
}

static void
test_bad_lines(void **state)
{
	expect_refused("port = 0\n", "t.conf:1: port");
	expect_refused("\n\nport = 70000\n", "t.conf:3:");
	expect_refused("port = 12ab\n", "port");
	expect_refused("port = -1\n", "port");
	expect_refused("colour = blue\n", "unknown setting \"colour\"");
	expect_refused("just words\n", "key = value");
	expect_refused("synchronous = off\n", "full or normal");
	expect_refused("commit_pipeline = yes\n", "on or off");
	expect_refused("max_frame = 1K\n", "4K to 16M");
	expect_refused("max_frame = 99999999999999999999\n", "max_frame");
	expect_refused("invite_ttl = forever\n", "duration");
	expect_refused("timezone = \n", "timezone");
	expect_refused("web_root = \n", "web_root");
	expect_refused("timezone = ../../etc/passwd\n", "Europe/Paris");
	expect_refused("timezone = /usr/share/zoneinfo/UTC\n", "tz database");
	expect_refused("timezone = Europe Paris\n", "tz database");
	expect_refused("listen = \n", "listen");
	expect_refused("listen = lo\n", "IPv4 or IPv6 address");
	expect_refused("listen = 127.0.0.256\n", "IPv4 or IPv6 address");
	expect_refused("mode = chaos\n", "production or development");
	expect_refused("case_backdate_max = 36h\n", "whole number of days");
	expect_refused("case_backdate_max = 0d\n", "case_backdate_max");
	expect_refused("metrics_allow = \n", "metrics_allow");
	expect_refused("metrics_allow = localhost\n", "addresses or networks");
	expect_refused("metrics_allow = 10.0.0.0/33\n", "metrics_allow");
	expect_refused("metrics_allow = ::1/129\n", "metrics_allow");
	expect_refused("metrics_allow = 10.0.0.0/\n", "metrics_allow");
	expect_refused("metrics_allow = , ,\n", "metrics_allow");
	expect_refused("metrics_token = short\n", "16 to 128");
	expect_refused("metrics_token = has a space in it here\n", "metrics_token");
}

/* The bounds on queues and tables: counts (0 turns one off), durations,
 * the storage quota with its suffix; out-of-range values named. */
static void
test_bounds(void **state)
{
	struct config cfg;
	struct lsn_status st = {0};
	config_defaults(&cfg);
	const char *text = "todevice_max_queued = 0\ntodevice_max_per_sender = 7\n"
			   "todevice_reply_window = 90m\nchannels_per_user = 3\n"
			   "open_cases_per_user = 4\nattachment_unfinished_ttl = 2h\n"
			   "storage_quota = 300K\nidempotency_retention = 1d\n"
			   "notification_retention = 30d\nconn_unauth_per_addr = 5\nconn_per_user = 6\n";
	assert_int_equal(config_parse(&cfg, text, strlen(text), "t.conf", &st), LSN_OK);
	assert_int_equal(cfg.todevice_max_queued, 0);
	assert_int_equal(cfg.todevice_max_per_sender, 7);
	assert_int_equal(cfg.todevice_reply_window_ms, 90LL * 60 * 1000);
	assert_int_equal(cfg.channels_per_user, 3);
	assert_int_equal(cfg.open_cases_per_user, 4);
	assert_int_equal(cfg.attachment_unfinished_ttl_ms, 2LL * 3600 * 1000);
	assert_int_equal(cfg.storage_quota, 300 * 1024);
	assert_int_equal(cfg.idempotency_retention_ms, 86400LL * 1000);
	assert_int_equal(cfg.notification_retention_ms, 30LL * 86400 * 1000);
	assert_int_equal(cfg.conn_unauth_per_addr, 5);
	assert_int_equal(cfg.conn_per_user, 6);
	expect_refused("todevice_max_queued = -1\n", "todevice_max_queued: expected a number");
	expect_refused("conn_per_user = 100001\n", "conn_per_user");
	expect_refused("channels_per_user = many\n", "channels_per_user");
	expect_refused("todevice_reply_window = 0\n", "todevice_reply_window: expected a duration");
	expect_refused("idempotency_retention = soon\n", "idempotency_retention");
	expect_refused("storage_quota = 2T\n", "storage_quota: expected a size");
}

/* The zone must exist in the tz database (Debian's tzdata): checked at
 * start-up with the file it looked for; a good one becomes TZ. */
static void
test_timezone(void **state)
{
	struct config cfg;
	struct lsn_status st = {0};
	config_defaults(&cfg);
	const char *text = "timezone = Europe/Parsi\n";
	assert_int_equal(config_parse(&cfg, text, strlen(text), "t.conf", &st), LSN_OK);
	assert_int_equal(config_apply_timezone(&cfg, true, &st), LSN_ERR_BAD_REQUEST);
	if (strstr(st.msg, "\"Europe/Parsi\" is not a time zone") == NULL ||
	    strstr(st.msg, "tzdata") == NULL)
		fail_msg("message \"%s\"", st.msg);
	config_defaults(&cfg);
	text = "timezone = America/Martinique\n";
	assert_int_equal(config_parse(&cfg, text, strlen(text), "t.conf", &st), LSN_OK);
	assert_int_equal(config_apply_timezone(&cfg, true, &st), LSN_OK);
	assert_string_equal(getenv("TZ"), "America/Martinique");
	/* 2026-11-23 00:00 in Martinique (UTC−4, no daylight saving) is 04:00 UTC */
	struct tm tm = {.tm_year = 126, .tm_mon = 10, .tm_mday = 23, .tm_isdst = -1};
	assert_int_equal((int64_t)mktime(&tm), 1795392000LL + 4 * 3600);
	config_defaults(&cfg);
	assert_int_equal(config_apply_timezone(&cfg, true, &st), LSN_OK);
	assert_string_equal(getenv("TZ"), "Europe/Paris");
}

static void
test_good_lines(void **state)
{
	struct config cfg;
	struct lsn_status st = {0};
	const char *text = "# comment\n  port=8443  \r\nmax_frame = 1M\ninvite_ttl = 7d\n"
			   "synchronous = normal\nmode = production\nserver_name = liaison.cpts.fr\n"
			   "case_backdate_max = 90d\nweb_root = /srv/liaison/web\n"
			   "commit_pipeline = off\n";
	config_defaults(&cfg);
	/* the web root defaults to where meson install puts web/dist */
	assert_string_equal(cfg.web_root, LSN_WEBDIR);
	assert_non_null(strstr(LSN_WEBDIR, "/liaison/web"));
	assert_int_equal(config_parse(&cfg, text, strlen(text), "t.conf", &st), LSN_OK);
	assert_int_equal(cfg.port, 8443);
	assert_int_equal(cfg.max_frame, 1024 * 1024);
	assert_int_equal(cfg.invite_ttl_ms, 7LL * 86400 * 1000);
	assert_int_equal(cfg.synchronous, STORE_SYNC_NORMAL);
	assert_true(cfg.production);
	assert_string_equal(cfg.server_name, "liaison.cpts.fr");
	assert_int_equal(cfg.case_backdate_max_days, 90);
	assert_string_equal(cfg.web_root, "/srv/liaison/web");
	assert_false(cfg.commit_pipeline);
}

static void
test_durations(void **state)
{
	int64_t ms;
	assert_true(config_parse_duration_ms("45s", &ms));
	assert_int_equal(ms, 45000);
	assert_true(config_parse_duration_ms("30m", &ms));
	assert_int_equal(ms, 1800000);
	assert_true(config_parse_duration_ms("72h", &ms));
	assert_int_equal(ms, 72LL * 3600 * 1000);
	assert_true(config_parse_duration_ms("10", &ms));
	assert_int_equal(ms, 10000);
	assert_false(config_parse_duration_ms("0s", &ms));
	assert_false(config_parse_duration_ms("h", &ms));
	assert_false(config_parse_duration_ms("", &ms));
	assert_false(config_parse_duration_ms("5w", &ms));
	assert_false(config_parse_duration_ms("99999999999d", &ms));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sample_matches_defaults),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_good_lines),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_timezone),
		cmocka_unit_test(test_metrics_access),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_service_threads),
		cmocka_unit_test(test_cross_keys),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
