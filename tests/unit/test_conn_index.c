/* test_conn_index.c — the index of open connections by user and device:
 * add, look up, remove, several connections per id, growth past the first
 * bucket array, and removal of ids that were never added. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "conn_index.h"

static void
id_of(unsigned n, uint8_t id[LSN_ID_BYTES])
{
	memset(id, 0, LSN_ID_BYTES);
	memcpy(id, &n, sizeof n);
	id[15] = (uint8_t)(n * 7);
}

static void
test_add_get_remove(void **state)
{
	struct conn_index *ix = conn_index_new();
	uint8_t a[16], b[16];
	int c1, c2, c3;
	size_t n;
	id_of(1, a);
	id_of(2, b);
	assert_null(conn_index_get(ix, a, &n));
	assert_int_equal(n, 0);
	assert_int_equal(conn_index_add(ix, a, &c1), 0);
	assert_int_equal(conn_index_add(ix, a, &c2), 0);
	assert_int_equal(conn_index_add(ix, b, &c3), 0);
	void *const *list = conn_index_get(ix, a, &n);
	assert_int_equal(n, 2);
	assert_true((list[0] == &c1 && list[1] == &c2) || (list[0] == &c2 && list[1] == &c1));
	conn_index_remove(ix, a, &c1);
	list = conn_index_get(ix, a, &n);
	assert_int_equal(n, 1);
	assert_ptr_equal(list[0], &c2);
	conn_index_remove(ix, a, &c3);        /* not under a: nothing happens */
	assert_non_null(conn_index_get(ix, a, &n));
	assert_int_equal(n, 1);
	conn_index_remove(ix, a, &c2);
	assert_null(conn_index_get(ix, a, &n));
	uint8_t never[16];
	id_of(99, never);
	conn_index_remove(ix, never, &c1);
	list = conn_index_get(ix, b, &n);
	assert_int_equal(n, 1);
	assert_ptr_equal(list[0], &c3);
	conn_index_free(ix);
}

static void
test_many_ids(void **state)
{
	enum { N = 20000 };
	static int conns[N];
	struct conn_index *ix = conn_index_new();
	uint8_t id[16];
	size_t n;
	for (unsigned i = 0; i < N; i++) {
		id_of(i, id);
		assert_int_equal(conn_index_add(ix, id, &conns[i]), 0);
	}
	for (unsigned i = 0; i < N; i++) {
		id_of(i, id);
		void *const *list = conn_index_get(ix, id, &n);
		assert_int_equal(n, 1);
		assert_ptr_equal(list[0], &conns[i]);
	}
	for (unsigned i = 0; i < N; i += 2) {
		id_of(i, id);
		conn_index_remove(ix, id, &conns[i]);
	}
	for (unsigned i = 0; i < N; i++) {
		id_of(i, id);
		conn_index_get(ix, id, &n);
		assert_int_equal(n, i % 2);
	}
	conn_index_free(ix);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_get_remove),
		cmocka_unit_test(test_many_ids),
	};
	return cmocka_run_group_tests_name("conn_index", tests, NULL, NULL);
}
