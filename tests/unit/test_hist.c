/* Unit tests: the latency histogram and its stated precision. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "hist.h"

static void small_values_are_exact(void **st)
{
	struct cs_hist h = { 0 };
	uint64_t v;

	(void)st;
	for (v = 0; v < CS_HIST_SUB; v++) {
		uint64_t lo, hi;

		cs_hist_range(cs_hist_index(v), &lo, &hi);
		assert_int_equal(lo, v);
		assert_int_equal(hi, v);
	}
	cs_hist_add(&h, 7);
	assert_int_equal(cs_hist_quantile(&h, 0.5), 7);
	cs_hist_free(&h);
}

static void every_value_is_in_its_bucket_and_within_precision(void **st)
{
	uint64_t v;

	(void)st;
	for (v = 1; v < (1ull << 62); v = v * 3 + 1) {
		unsigned int i = cs_hist_index(v);
		uint64_t lo, hi, mid;
		double err;

		assert_true(i < CS_HIST_BUCKETS);
		cs_hist_range(i, &lo, &hi);
		assert_true(lo <= v && v <= hi);
		mid = lo + (hi - lo) / 2;
		err = mid > v ? (double)(mid - v) / (double)v : (double)(v - mid) / (double)v;
		/* stated: within 1/2^(SUB_BITS+1) = 1.6% */
		assert_true(err <= 1.0 / (2 << CS_HIST_SUB_BITS) + 1e-12);
	}
}

static void buckets_are_contiguous(void **st)
{
	uint64_t prev_hi = 0, lo, hi;
	unsigned int i;

	(void)st;
	for (i = 1; i < CS_HIST_BUCKETS; i++) {
		cs_hist_range(i, &lo, &hi);
		assert_int_equal(lo, prev_hi + 1);
		prev_hi = hi;
		if (hi == UINT64_MAX)
			break;
	}
}

static void quantiles_of_a_known_distribution(void **st)
{
	struct cs_hist h = { 0 };
	uint64_t i, p50, p99;
	double tol;

	(void)st;
	/* 1..10000 us */
	for (i = 1; i <= 10000; i++)
		cs_hist_add(&h, i * 1000);
	p50 = cs_hist_quantile(&h, 0.5);
	p99 = cs_hist_quantile(&h, 0.99);
	/* the stated precision, around the true value (rank 5000 or 5001: 5.000 or 5.001 ms) */
	tol = 1.0 / (2 << CS_HIST_SUB_BITS) + 1e-12;
	assert_true(p50 >= 5000000 * (1 - tol) && p50 <= 5001000 * (1 + tol));
	assert_true(p99 >= 9900000 * (1 - tol) && p99 <= 9901000 * (1 + tol));
	assert_int_equal(h.max, 10000000);
	assert_int_equal(h.count, 10000);
	cs_hist_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(small_values_are_exact),
		cmocka_unit_test(every_value_is_in_its_bucket_and_within_precision),
		cmocka_unit_test(buckets_are_contiguous),
		cmocka_unit_test(quantiles_of_a_known_distribution),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
