/* testutil.h — small helpers shared by the cmocka unit tests: the cmocka
 * includes in the order it needs, and hex literals to bytes. */
#ifndef LSN_TESTUTIL_H
#define LSN_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* Decode a hex literal (no separators) into out; fails the test on bad input. */
static inline size_t
hex_to_bytes(const char *hex, uint8_t *out, size_t cap)
{
	size_t len = strlen(hex);
	assert_int_equal(len % 2, 0);
	assert_true(len / 2 <= cap);
	for (size_t i = 0; i < len / 2; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return len / 2;
}

/* Fill out[0..n) with start, start+1, ... */
static inline void
fill_seq(uint8_t *out, size_t n, uint8_t start)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(start + i);
}

#endif
