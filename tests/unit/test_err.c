/* test_err.c — the one error enumeration (shared/err.c): wire codes match
 * docs/PROTOCOL.md, messages exist, lsn_fail formats and truncates safely,
 * the messages stay English where the locale is not set (the server) and are
 * French in a client that set a French locale. */
#include <libintl.h>
#include <locale.h>
#include <stdlib.h>
#include <unistd.h>

#include "testutil.h"

#include "err.h"
#include "lsn_config.h"

static void
err_table(void **state)
{
	/* codes are distinct, lower_snake_case, and map back */
	for (int e = 0; e < LSN_ERR__COUNT; e++) {
		const char *code = lsn_err_code((enum lsn_err)e);
		assert_non_null(code);
		assert_true(strlen(code) > 0);
		for (const char *p = code; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') || *p == '_');
		assert_true(strlen(lsn_err_message((enum lsn_err)e)) > 0);
		assert_int_equal(lsn_err_from_code(code), e);
		for (int f = e + 1; f < LSN_ERR__COUNT; f++)
			assert_string_not_equal(code, lsn_err_code((enum lsn_err)f));
	}
	/* the codes of docs/PROTOCOL.md, in its order */
	const char *doc[] = {"bad_json", "bad_request", "unknown_op", "too_large",
		"not_logged_in", "already_logged_in", "no_challenge", "bad_signature",
		"invite_unknown", "invite_used", "invite_expired", "unknown_device",
		"device_revoked", "not_found", "forbidden", "conflict", "invalid_rpps",
		"invalid_finess", "rate_limited", "storage", "shutting_down", "internal",
		"case_closed", "case_already_closed", "step_done", "step_skipped", "step_pending",
		"not_assignee", "coordinator_only", "no_cpts", "already_alerted", "case_backdated",
		"todevice_not_allowed", "todevice_queue_full", "too_many_channels", "too_many_cases",
		"storage_quota", "too_many_connections"};
	assert_int_equal(sizeof doc / sizeof doc[0], LSN_ERR__COUNT - 1);
	for (size_t i = 0; i < sizeof doc / sizeof doc[0]; i++)
		assert_string_equal(lsn_err_code((enum lsn_err)(i + 1)), doc[i]);

	assert_int_equal(lsn_err_from_code("no_such_code"), LSN_ERR_INTERNAL);
	assert_int_equal(lsn_err_from_code(NULL), LSN_ERR_INTERNAL);
	assert_string_equal(lsn_err_code(LSN_ERR__COUNT), "internal");
	assert_string_equal(lsn_err_code((enum lsn_err)-1), "internal");
	assert_string_equal(lsn_err_message((enum lsn_err)1000),
			    lsn_err_message(LSN_ERR_INTERNAL));
}

static void
err_fail(void **state)
{
	struct lsn_status st = {0};
	assert_int_equal(lsn_fail(NULL, LSN_ERR_CONFLICT, "x %d", 1), LSN_ERR_CONFLICT);
	assert_int_equal(lsn_fail(&st, LSN_ERR_CONFLICT, NULL), LSN_ERR_CONFLICT);
	assert_int_equal(st.err, LSN_ERR_CONFLICT);
	assert_string_equal(st.msg, lsn_err_message(LSN_ERR_CONFLICT));
	assert_int_equal(lsn_fail(&st, LSN_ERR_BAD_REQUEST, "field \"%s\": %d", "user", 42),
			 LSN_ERR_BAD_REQUEST);
	assert_string_equal(st.msg, "field \"user\": 42");
	/* a long message is truncated, never overflows */
	char big[1000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	lsn_fail(&st, LSN_ERR_INTERNAL, "%s", big);
	assert_int_equal(strlen(st.msg), sizeof st.msg - 1);
}

/* liaisond never calls setlocale: it runs in the C locale, where gettext
 * returns the English text whatever LANG or LANGUAGE say, so its replies stay
 * English even with the client's catalogue bound. The client (i18n_init)
 * sets the locale: the same message is then French and its code unchanged. */
static void
err_locale(void **state)
{
	setenv("LANG", "fr_FR.UTF-8", 1);
	setenv("LANGUAGE", "fr", 1);
	bindtextdomain("liaison", LSN_BUILD_LOCALEDIR);
	bind_textdomain_codeset("liaison", "UTF-8");
	textdomain("liaison");
	struct lsn_status st = {0};
	assert_string_equal(lsn_err_message(LSN_ERR_NOT_FOUND), "no such object");
	lsn_fail(&st, LSN_ERR_FORBIDDEN, NULL);
	assert_string_equal(st.msg, "your roles do not allow this; ask a coordinator or "
			    "administrator");

	if (access(LSN_BUILD_LOCALEDIR "/fr/LC_MESSAGES/liaison.mo", R_OK) != 0 ||
	    setlocale(LC_ALL, "fr_FR.UTF-8") == NULL)
		skip(); /* no catalogue built, or no French locale on this computer */
	assert_string_equal(lsn_err_message(LSN_ERR_NOT_FOUND), "objet introuvable");
	lsn_fail(&st, LSN_ERR_FORBIDDEN, NULL);
	assert_string_equal(st.msg, "vos rôles ne le permettent pas ; adressez-vous à un "
			    "coordinateur ou à un administrateur");
	assert_string_equal(lsn_err_code(LSN_ERR_NOT_FOUND), "not_found");
	assert_int_equal(lsn_err_from_code("not_found"), LSN_ERR_NOT_FOUND);
	setlocale(LC_ALL, "C");
	assert_string_equal(lsn_err_message(LSN_ERR_NOT_FOUND), "no such object");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(err_table),
		cmocka_unit_test(err_fail),
		cmocka_unit_test(err_locale),
	};
	return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
