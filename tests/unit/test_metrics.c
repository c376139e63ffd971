/* test_metrics.c — the /metrics page: rendered whole whatever its size
 * (the builder grows past its first 16 KiB instead of stopping mid-line),
 * and the forbidden counter that GET /metrics refusals feed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static char long_name[300];

static const char *
name_of(size_t i)
{
	(void)i;
	return long_name;
}

static const char *
short_name(size_t i)
{
	static const char *const names[] = {"ping", "login"};
	return names[i % 2];
}

/* The text is exactly len bytes, ends with a newline, and its last line is
 * the last sample rendered (nothing cut after it). */
static void
assert_whole(const char *text, size_t len)
{
	assert_int_equal(strlen(text), len);
	assert_true(len > 1 && text[len - 1] == '\n');
	size_t start = len - 1;
	while (start > 0 && text[start - 1] != '\n')
		start--;
	assert_int_equal(strncmp(text + start, "liaison_metrics_forbidden_total ", 32), 0);
}

static void
test_large_page_whole(void **state)
{
	memset(long_name, 'x', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	size_t len = 0;
	char *text = metrics_render(name_of, 64, &len);
	assert_non_null(text);
	assert_true(len > 16384 + 4096);     /* past the builder's first buffer */
	assert_whole(text, len);
	/* each of the 64 op lines is there whole */
	size_t lines = 0;
	for (const char *p = text; (p = strstr(p, long_name)) != NULL; p += sizeof long_name - 1)
		lines++;
	assert_int_equal(lines, 64);
	free(text);
}

static void
test_forbidden_counted(void **state)
{
	size_t len = 0;
	char *before = metrics_render(short_name, 2, &len);
	assert_non_null(before);
	assert_whole(before, len);
	assert_non_null(strstr(before, "\nliaison_metrics_forbidden_total 0\n"));
	metrics_forbidden();
	metrics_forbidden();
	char *after = metrics_render(short_name, 2, &len);
	assert_non_null(after);
	assert_non_null(strstr(after, "\nliaison_metrics_forbidden_total 2\n"));
	free(before);
	free(after);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forbidden_counted),
		cmocka_unit_test(test_large_page_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
