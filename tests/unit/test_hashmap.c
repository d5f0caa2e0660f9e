// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * test_hashmap.c: the tree's one hash map: put, add, replace, both key
 * words count (pids 65,536 apart are two keys), growth, an O(1) clear that
 * survives its generation wrapping, and a long random run against a plain
 * array as the reference.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "hashmap.h"

static void test_empty(void **state)
{
	struct cs_hmap m = { 0 };

	assert_null(cs_hmap_get(&m, 0, 0)); /* never allocated */
	cs_hmap_clear(&m);
	assert_null(cs_hmap_get(&m, 1, 0));
	cs_hmap_free(&m);
	assert_int_equal(m.cap, 0);
}

static void test_put_add_replace(void **state)
{
	struct cs_hmap m = { 0 };

	assert_int_equal(cs_hmap_put(&m, 0, 0, 7), 0); /* the zero key is a key */
	assert_int_equal(*cs_hmap_get(&m, 0, 0), 7);
	assert_int_equal(cs_hmap_put(&m, 0, 0, 8), 0);
	assert_int_equal(*cs_hmap_get(&m, 0, 0), 8);
	assert_int_equal(m.n, 1);
	assert_int_equal(cs_hmap_add(&m, 0, 0, 9), 0); /* there: kept */
	assert_int_equal(*cs_hmap_get(&m, 0, 0), 8);
	assert_int_equal(cs_hmap_add(&m, 5, 0, 9), 1);
	assert_int_equal(*cs_hmap_get(&m, 5, 0), 9);
	assert_int_equal(m.n, 2);
	cs_hmap_free(&m);
	assert_null(cs_hmap_get(&m, 5, 0));
	assert_int_equal(m.n, 0);
}

/* Keys that a folded u64 key once merged are kept apart. */
static void test_both_words(void **state)
{
	struct cs_hmap m = { 0 };
	uint64_t addr = 0x7f0012345678ull;

	assert_int_equal(cs_hmap_add(&m, addr, 100, 1), 1);
	assert_int_equal(cs_hmap_add(&m, addr, 100 + 65536, 2), 1);
	assert_int_equal(cs_hmap_add(&m, addr, 100 | 2ull << 32, 3), 1); /* another space */
	assert_int_equal(cs_hmap_add(&m, addr ^ 100, 0, 4), 1);
	assert_int_equal(cs_hmap_add(&m, 100, addr, 5), 1); /* the words swapped */
	assert_int_equal(*cs_hmap_get(&m, addr, 100), 1);
	assert_int_equal(*cs_hmap_get(&m, addr, 100 + 65536), 2);
	assert_int_equal(*cs_hmap_get(&m, addr, 100 | 2ull << 32), 3);
	assert_int_equal(*cs_hmap_get(&m, addr ^ 100, 0), 4);
	assert_int_equal(*cs_hmap_get(&m, 100, addr), 5);
	assert_null(cs_hmap_get(&m, addr, 101));
	assert_int_equal(m.n, 5);
	cs_hmap_free(&m);
}

static void test_grow(void **state)
{
	struct cs_hmap m = { 0 };
	uint32_t k;

	for (k = 0; k < 100000; k++)
		assert_int_equal(cs_hmap_put(&m, k * 0x100000001ull, k & 7, k), 0);
	assert_int_equal(m.n, 100000);
	assert_true(m.cap >= 2 * m.n); /* at most half full */
	assert_int_equal(m.cap & (m.cap - 1), 0);
	for (k = 0; k < 100000; k++) {
		uint32_t *v = cs_hmap_get(&m, k * 0x100000001ull, k & 7);

		assert_non_null(v);
		assert_int_equal(*v, k);
		assert_null(cs_hmap_get(&m, k * 0x100000001ull, (k & 7) + 8));
	}
	cs_hmap_free(&m);
}

static void test_clear(void **state)
{
	struct cs_hmap m = { 0 };
	struct cs_hmap_slot *mem;
	uint32_t k, cap, round;

	for (k = 0; k < 1000; k++)
		assert_int_equal(cs_hmap_add(&m, k, 0, k), 1);
	mem = m.slot;
	cap = m.cap;
	cs_hmap_clear(&m);
	assert_int_equal(m.n, 0);
	assert_ptr_equal(m.slot, mem); /* memory kept */
	for (k = 0; k < 1000; k++)
		assert_null(cs_hmap_get(&m, k, 0));
	/* refilled, cleared again, up to and across the generation's wrap */
	m.gen = UINT32_MAX - 2;
	memset(m.slot, 0, cap * sizeof(*m.slot)); /* as if every slot were older */
	for (round = 0; round < 5; round++) {
		for (k = 0; k < 600; k++)
			assert_int_equal(cs_hmap_add(&m, k + round, 0, round), 1);
		assert_int_equal(*cs_hmap_get(&m, round, 0), round);
		assert_null(cs_hmap_get(&m, 600 + round, 0));
		cs_hmap_clear(&m);
		assert_int_not_equal(m.gen, 0);
		for (k = 0; k < 601; k++)
			assert_null(cs_hmap_get(&m, k + round, 0));
	}
	assert_int_equal(m.cap, cap); /* never grew: 600 keys fit */
	cs_hmap_free(&m);
}

/* A random run of puts, adds and clears against a plain array. */
static void test_random(void **state)
{
	enum { NK = 512 };
	struct cs_hmap m = { 0 };
	uint32_t ref[NK];
	uint8_t have[NK];
	uint64_t x = 88172645463325252ull;
	int i, k, r;

	memset(have, 0, sizeof(have));
	for (i = 0; i < 200000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		k = (int)(x % NK);
		switch ((x >> 32) % 64) {
		case 0:
			cs_hmap_clear(&m);
			memset(have, 0, sizeof(have));
			break;
		case 1 ... 20:
			r = cs_hmap_add(&m, (uint64_t)k << 40, (uint64_t)k % 3, (uint32_t)i);
			assert_int_equal(r, !have[k]);
			if (!have[k])
				ref[k] = (uint32_t)i;
			have[k] = 1;
			break;
		case 21 ... 30:
			assert_int_equal(cs_hmap_put(&m, (uint64_t)k << 40, (uint64_t)k % 3, (uint32_t)i), 0);
			ref[k] = (uint32_t)i;
			have[k] = 1;
			break;
		default: {
			uint32_t *v = cs_hmap_get(&m, (uint64_t)k << 40, (uint64_t)k % 3);

			if (have[k]) {
				assert_non_null(v);
				assert_int_equal(*v, ref[k]);
			} else {
				assert_null(v);
			}
		}
		}
	}
	for (r = 0, k = 0; k < NK; k++)
		r += have[k];
	assert_int_equal(m.n, r);
	cs_hmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_put_add_replace),
		cmocka_unit_test(test_both_words),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
