/* test_mail.c — the pure parts of the "something is waiting" e-mails and
 * their outbox: when a mail is due (delay, period, a mail still on its
 * way), the retry back-off; the fixed message (headers, quoted-printable,
 * CRLF, short lines, the link and nothing else from the server); the mail
 * keys of liaisond.conf and their checks together; the outbox's states in
 * a real store (pending → sending → pending/sent, interrupted at start-up,
 * dropped, swept); the ops mail_status and mail_set through the
 * dispatcher. The SMTP side is tests/integration/test_mail.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "mail_compose.h"
#include "mail_policy.h"
#include "server_fixture.h"
#include "store_internal.h"

#define MIN (60LL * 1000)
#define HOUR (60 * MIN)

/* ---- when a mail is due ------------------------------------------------------ */

static void
test_due(void **state)
{
	(void)state;
	int64_t now = 1000 * HOUR, delay = 10 * MIN, period = HOUR;
	struct mail_person p = {0};
	assert_false(mail_due(&p, now, delay, period));            /* nothing waits */
	p.oldest_new = now - 9 * MIN;
	assert_false(mail_due(&p, now, delay, period));            /* not long enough */
	p.oldest_new = now - 10 * MIN;
	assert_true(mail_due(&p, now, delay, period));             /* exactly the delay */
	p.batch_open = true;
	assert_false(mail_due(&p, now, delay, period));            /* one on its way */
	p.batch_open = false;
	p.last_sent_at = now - 59 * MIN;
	assert_false(mail_due(&p, now, delay, period));            /* within the period */
	p.last_sent_at = now - HOUR;
	assert_true(mail_due(&p, now, delay, period));             /* the period is over */
	assert_int_equal(mail_announced_upto(now, delay), now - delay);
}

static void
test_backoff(void **state)
{
	(void)state;
	assert_int_equal(mail_backoff_ms(0), MIN);
	assert_int_equal(mail_backoff_ms(1), MIN);
	assert_int_equal(mail_backoff_ms(2), 2 * MIN);
	assert_int_equal(mail_backoff_ms(3), 4 * MIN);
	assert_int_equal(mail_backoff_ms(6), 32 * MIN);
	assert_int_equal(mail_backoff_ms(7), HOUR);
	assert_int_equal(mail_backoff_ms(1000000), HOUR);
}

/* ---- the message ----------------------------------------------------------------- */

static void
test_compose(void **state)
{
	(void)state;
	char msg[MAIL_MESSAGE_MAX];
	struct mail_compose_in in = {.from = "liaison@cpts-test.fr", .to = "claire@example.fr",
				     .link = "https://liaison.cpts-test.fr/", .batch_id = 42,
				     .created_at = 1796000000000, .date_ms = 1796000000000};
	size_t len = mail_compose(&in, msg, sizeof msg);
	assert_true(len > 0 && len == strlen(msg));
	assert_non_null(strstr(msg, "Subject: Quelque chose vous attend dans Liaison\r\n"));
	assert_non_null(strstr(msg, "From: Liaison <liaison@cpts-test.fr>\r\n"));
	assert_non_null(strstr(msg, "To: <claire@example.fr>\r\n"));
	assert_non_null(strstr(msg, "Message-ID: <liaison.42.1796000000000@cpts-test.fr>\r\n"));
	assert_non_null(strstr(msg, "Date: Mon, 30 Nov 2026 00:53:20 +0000\r\n"));
	assert_non_null(strstr(msg, "Content-Transfer-Encoding: quoted-printable\r\n"));
	assert_non_null(strstr(msg, "Auto-Submitted: auto-generated\r\n"));
	assert_non_null(strstr(msg, "\r\nhttps://liaison.cpts-test.fr/\r\n"));
	assert_non_null(strstr(msg, "=C3=A9tape"));               /* é, quoted-printable */
	assert_non_null(strstr(msg, "liaison mail off"));
	/* CRLF only, every line under 78 characters, 7-bit */
	size_t col = 0;
	for (size_t i = 0; i < len; i++) {
		assert_true((unsigned char)msg[i] < 0x80);
		if (msg[i] == '\n') {
			assert_true(i > 0 && msg[i - 1] == '\r');
			col = 0;
		} else {
			assert_true(++col <= 77);
		}
	}
	/* the body as the person reads it says nothing but that something waits */
	const char *body = mail_body_text();
	assert_non_null(strstr(body, "Quelque chose vous attend dans Liaison"));
	assert_non_null(strstr(body, "{LINK}"));
	assert_null(strstr(body, "%"));                            /* no field to fill */
	/* too small a buffer: 0, never a cut message */
	assert_int_equal(mail_compose(&in, msg, 200), 0);
}

static void
test_compose_long_link(void **state)
{
	(void)state;
	char msg[MAIL_MESSAGE_MAX], link[256], to[255];
	memset(link, 'a', sizeof link - 1);
	link[sizeof link - 1] = '\0';
	memcpy(link, "https://", 8);
	memset(to, 'b', sizeof to - 1);
	to[sizeof to - 1] = '\0';
	to[60] = '@';
	struct mail_compose_in in = {.from = "liaison@cpts-test.fr", .to = to, .link = link,
				     .batch_id = 1, .created_at = 1, .date_ms = 0};
	size_t len = mail_compose(&in, msg, sizeof msg);
	assert_true(len > 0);
	assert_non_null(strstr(msg, "=\r\naaaa"));                 /* soft line breaks */
}

/* ---- the configuration ------------------------------------------------------------- */

static enum lsn_err
set(struct config *c, const char *key, const char *value)
{
	struct lsn_status st = {0};
	return config_set(c, key, value, &st);
}

static void
test_config(void **state)
{
	(void)state;
	struct config c;
	struct lsn_status st = {0};
	char url[CONFIG_URL_MAX + 64];
	config_defaults(&c);
	assert_string_equal(c.smtp_host, "");
	assert_int_equal(c.smtp_port, 587);
	assert_true(c.smtp_starttls);
	assert_int_equal(c.mail_delay_ms, HOUR);
	assert_int_equal(c.mail_period_ms, 4 * HOUR);
	assert_int_equal(config_check_mail(&c, &st), LSN_OK);    /* mail off */
	config_public_url(&c, url, sizeof url);
	assert_string_equal(url, "https://localhost:7443/");
	assert_int_equal(set(&c, "port", "443"), LSN_OK);
	config_public_url(&c, url, sizeof url);
	assert_string_equal(url, "https://localhost/");
	assert_int_equal(set(&c, "public_url", "https://liaison.cpts.fr/"), LSN_OK);
	config_public_url(&c, url, sizeof url);
	assert_string_equal(url, "https://liaison.cpts.fr/");
	/* values refused */
	assert_int_not_equal(set(&c, "public_url", "http://liaison.cpts.fr/"), LSN_OK);
	assert_int_not_equal(set(&c, "public_url", "https://a b/"), LSN_OK);
	assert_int_not_equal(set(&c, "public_url", "https://x/\"<script>"), LSN_OK);
	assert_int_not_equal(set(&c, "smtp_host", "smtp.example.fr\r\nRCPT"), LSN_OK);
	assert_int_not_equal(set(&c, "smtp_host", "-smtp"), LSN_OK);
	assert_int_not_equal(set(&c, "smtp_port", "0"), LSN_OK);
	assert_int_not_equal(set(&c, "smtp_starttls", "yes"), LSN_OK);
	assert_int_not_equal(set(&c, "mail_from", "liaison"), LSN_OK);
	assert_int_not_equal(set(&c, "mail_from", "Liaison <l@x.fr>"), LSN_OK);
	assert_int_not_equal(set(&c, "mail_delay", "0"), LSN_OK);
	assert_int_not_equal(set(&c, "mail_period", "soon"), LSN_OK);
	/* checked together */
	assert_int_equal(set(&c, "smtp_host", "smtp.example.fr"), LSN_OK);
	assert_int_equal(config_check_mail(&c, &st), LSN_ERR_BAD_REQUEST);
	assert_non_null(strstr(st.msg, "mail_from"));
	assert_int_equal(set(&c, "mail_from", "liaison@cpts.fr"), LSN_OK);
	assert_int_equal(config_check_mail(&c, &st), LSN_OK);
	assert_int_equal(set(&c, "smtp_user", "liaison"), LSN_OK);
	assert_int_equal(config_check_mail(&c, &st), LSN_ERR_BAD_REQUEST);
	assert_non_null(strstr(st.msg, "smtp_password_file"));
	assert_int_equal(set(&c, "smtp_password_file", "/etc/liaison/smtp-password"), LSN_OK);
	assert_int_equal(config_check_mail(&c, &st), LSN_OK);
	assert_int_equal(set(&c, "smtp_starttls", "off"), LSN_OK);
	assert_int_equal(config_check_mail(&c, &st), LSN_ERR_BAD_REQUEST);
	assert_non_null(strstr(st.msg, "in clear"));
	for (const char *h = "127.0.0.1"; h; h = strcmp(h, "127.0.0.1") == 0 ? "::1"
					    : strcmp(h, "::1") == 0 ? "localhost" : NULL) {
		assert_int_equal(set(&c, "smtp_host", h), LSN_OK);
		assert_int_equal(config_check_mail(&c, &st), LSN_OK);
	}
	assert_false(config_host_is_loopback("128.0.0.1"));
	assert_false(config_host_is_loopback("::2"));
	assert_int_equal(set(&c, "smtp_host", "none"), LSN_OK);
	assert_string_equal(c.smtp_host, "");
	assert_int_equal(set(&c, "smtp_ca", "system"), LSN_OK);
	assert_string_equal(c.smtp_ca, "");
}

static void
test_address(void **state)
{
	(void)state;
	const char *good[] = {"claire.martin@example.fr", "c+liaison@sub.example.fr",
			      "x@localhost", "o'neil@example.ie"};
	const char *bad[] = {"", "claire", "@example.fr", "claire@", "a@b@c.fr", "claire martin@x.fr",
			     "claire@exa mple.fr", "<claire@x.fr>", "claire@x.fr\r\nBcc: y@z.fr",
			     "claire@.x.fr", "claire@x..fr", "claire@x.fr.", "cl\"aire@x.fr",
			     "clé@x.fr", "claire@x_y.fr", "a,b@x.fr"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_true(config_address_ok(good[i]));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(config_address_ok(bad[i]));
	char long_local[80];
	memset(long_local, 'a', 65);
	snprintf(long_local + 65, sizeof long_local - 65, "@x.fr");
	assert_false(config_address_ok(long_local));
}

/* ---- the outbox in a real store, and the ops ------------------------------------ */

static int64_t
state_count(struct store *s, const char *state)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;
	assert_int_equal(sqlite3_prepare_v2(s->db, "SELECT count(*) FROM mail_outbox WHERE state = ?",
					    -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

struct jobs {
	int n;
	struct store_mail_job last;
};

static void
keep_job(const struct store_mail_job *j, void *arg)
{
	struct jobs *js = arg;
	js->n++;
	js->last = *j;
}

static void
test_outbox(void **state)
{
	struct fx *f = *state;
	struct actor gp;
	struct jobs js = {0};
	int64_t n = 0, t0 = 1000 * HOUR;
	login_as(f, &gp, "10101010105", "gp", LSN_ROLE_MEMBER);
	struct store *s = f->store;
	assert_int_equal(store_batch_begin(s), LSN_OK);
	assert_int_equal(store_mail_address_set(s, gp.k.user, "claire@example.fr", t0), LSN_OK);
	assert_int_equal(store_mail_batch_add(s, gp.k.user, t0, t0 - 10 * MIN), LSN_OK);
	assert_int_equal(store_mail_due(s, t0 - 1, 10, keep_job, &js), LSN_OK);
	assert_int_equal(js.n, 0);                                 /* not yet its time */
	assert_int_equal(store_mail_due(s, t0, 10, keep_job, &js), LSN_OK);
	assert_int_equal(js.n, 1);
	assert_string_equal(js.last.address, "claire@example.fr");
	assert_true(js.last.enabled);
	assert_false(js.last.waiting);                             /* no case: nothing waits */
	assert_int_equal(js.last.attempts, 0);
	int64_t id = js.last.id;
	/* an attempt fails: pending again, later */
	assert_int_equal(store_mail_sending(s, id, t0), LSN_OK);
	assert_int_equal(store_mail_sending(s, id, t0), LSN_ERR_NOT_FOUND); /* claimed once */
	assert_int_equal(store_mail_retry(s, id, t0 + MIN, "cannot connect"), LSN_OK);
	js.n = 0;
	assert_int_equal(store_mail_due(s, t0 + MIN - 1, 10, keep_job, &js), LSN_OK);
	assert_int_equal(js.n, 0);
	assert_int_equal(store_mail_due(s, t0 + MIN, 10, keep_job, &js), LSN_OK);
	assert_int_equal(js.last.attempts, 1);
	/* the next one is sent: last_sent_at noted */
	assert_int_equal(store_mail_sending(s, id, t0 + MIN), LSN_OK);
	assert_int_equal(store_mail_finish(s, id, STORE_MAIL_SENT, t0 + MIN, NULL), LSN_OK);
	assert_int_equal(state_count(s, "sent"), 1);
	struct store_mail_settings ms;
	assert_int_equal(store_mail_settings_get(s, gp.k.user, &ms), LSN_OK);
	assert_int_equal(ms.last_sent_at, t0 + MIN);
	assert_int_equal(ms.mailed_upto, t0 - 10 * MIN);
	/* a stopped server left one "sending": interrupted, counted as sent */
	assert_int_equal(store_mail_batch_add(s, gp.k.user, t0 + HOUR, t0), LSN_OK);
	js.n = 0;
	assert_int_equal(store_mail_due(s, t0 + HOUR, 10, keep_job, &js), LSN_OK);
	assert_int_equal(store_mail_sending(s, js.last.id, t0 + HOUR), LSN_OK);
	assert_int_equal(store_mail_recover(s, t0 + 2 * HOUR, &n), LSN_OK);
	assert_int_equal(n, 1);
	assert_int_equal(state_count(s, "interrupted"), 1);
	assert_int_equal(state_count(s, "sending"), 0);
	assert_int_equal(store_mail_settings_get(s, gp.k.user, &ms), LSN_OK);
	assert_int_equal(ms.last_sent_at, t0 + HOUR);
	/* dropped, then everything finished is swept after retention */
	assert_int_equal(store_mail_batch_add(s, gp.k.user, t0 + 3 * HOUR, t0), LSN_OK);
	js.n = 0;
	assert_int_equal(store_mail_due(s, t0 + 3 * HOUR, 10, keep_job, &js), LSN_OK);
	assert_int_equal(store_mail_finish(s, js.last.id, STORE_MAIL_DROPPED, t0 + 3 * HOUR,
					   "nothing waits"), LSN_OK);
	assert_int_equal(store_mail_sweep(s, t0 + 2 * HOUR + 1, &n), LSN_OK);
	assert_int_equal(n, 2);                                    /* sent, interrupted */
	assert_int_equal(state_count(s, "dropped"), 1);
	assert_int_equal(store_batch_commit(s), LSN_OK);
}

static void
test_ops(void **state)
{
	struct fx *f = *state;
	struct actor gp;
	login_as(f, &gp, "10101010105", "gp", LSN_ROLE_MEMBER);
	json_t *r = as(f, &gp, "mail_status", json_object(), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_true(json_is_null(json_object_get(r, "address")));
	assert_true(json_is_true(json_object_get(r, "enabled")));     /* nobody said no */
	assert_true(json_is_false(json_object_get(r, "relay")));      /* no smtp_host */
	json_decref(r);
	assert_int_equal(store_mail_address_set(f->store, gp.k.user, "claire@example.fr", 1), LSN_OK);
	r = as(f, &gp, "mail_set", json_pack("{s:b}", "enabled", 0), NULL);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_string_equal(json_string_value(json_object_get(r, "address")), "claire@example.fr");
	assert_true(json_is_false(json_object_get(r, "enabled")));
	json_decref(r);
	r = as(f, &gp, "mail_set", json_pack("{s:s}", "enabled", "no"), NULL);
	assert_string_equal(err_code(r), "bad_request");
	json_decref(r);
	r = as(f, &gp, "mail_set", json_object(), NULL);
	assert_string_equal(err_code(r), "bad_request");
	json_decref(r);
	r = as(f, &gp, "mail_set", json_pack("{s:b}", "enabled", 1), NULL);
	assert_true(json_is_true(json_object_get(r, "enabled")));
	json_decref(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_compose),
		cmocka_unit_test(test_compose_long_link),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_address),
		cmocka_unit_test_setup_teardown(test_outbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ops, setup, teardown),
	};
	return cmocka_run_group_tests_name("mail", tests, NULL, NULL);
}
