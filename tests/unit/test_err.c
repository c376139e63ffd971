/* test_err.c — the one error enumeration (shared/err.c): wire codes match
 * docs/PROTOCOL.md, messages exist, lsn_fail formats and truncates safely. */
#include "testutil.h"

#include "err.h"

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
		"not_assignee", "coordinator_only", "no_cpts"};
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(err_table),
		cmocka_unit_test(err_fail),
	};
	return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
