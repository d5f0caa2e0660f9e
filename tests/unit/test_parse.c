/* Unit tests: option value parsers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdint.h>
#include <cmocka.h>
#include "parse.h"

static void durations(void **st)
{
	uint64_t ns;

	(void)st;
	assert_int_equal(cs_parse_duration("3", &ns), 0);
	assert_int_equal(ns, 3000000000ull);
	assert_int_equal(cs_parse_duration("1.5s", &ns), 0);
	assert_int_equal(ns, 1500000000ull);
	assert_int_equal(cs_parse_duration("250ms", &ns), 0);
	assert_int_equal(ns, 250000000ull);
	assert_int_equal(cs_parse_duration("2m", &ns), 0);
	assert_int_equal(ns, 120000000000ull);
	assert_int_equal(cs_parse_duration("1h", &ns), 0);
	assert_int_equal(ns, 3600000000000ull);
	assert_int_equal(cs_parse_duration("0.5h", &ns), 0);
	assert_int_equal(ns, 1800000000000ull);
	assert_int_equal(cs_parse_duration("20us", &ns), 0);
	assert_int_equal(ns, 20000ull);
	assert_int_not_equal(cs_parse_duration("1d", &ns), 0);
	assert_int_not_equal(cs_parse_duration("1hh", &ns), 0);
	assert_int_not_equal(cs_parse_duration("0", &ns), 0);
	assert_int_not_equal(cs_parse_duration("-1", &ns), 0);
	assert_int_not_equal(cs_parse_duration("abc", &ns), 0);
	assert_int_not_equal(cs_parse_duration("5x", &ns), 0);
	assert_int_not_equal(cs_parse_duration("", &ns), 0);
	assert_int_not_equal(cs_parse_duration("nan", &ns), 0);
	assert_int_not_equal(cs_parse_duration("inf", &ns), 0);
}

static void sizes_and_numbers(void **st)
{
	unsigned long v;
	size_t sz;

	(void)st;
	assert_int_equal(cs_parse_size("16M", &sz), 0);
	assert_int_equal(sz, 16u << 20);
	assert_int_equal(cs_parse_size("64k", &sz), 0);
	assert_int_equal(sz, 64u << 10);
	assert_int_not_equal(cs_parse_size("-4K", &sz), 0);
	assert_int_not_equal(cs_parse_size("4Q", &sz), 0);
	assert_int_not_equal(cs_parse_size("0", &sz), 0);
	assert_int_equal(cs_parse_uint("42", 1, 64, &v), 0);
	assert_int_equal(v, 42);
	assert_int_not_equal(cs_parse_uint("0", 1, 64, &v), 0);
	assert_int_not_equal(cs_parse_uint("65", 1, 64, &v), 0);
	assert_int_not_equal(cs_parse_uint("-3", 1, 64, &v), 0);
	assert_int_not_equal(cs_parse_uint("3x", 1, 64, &v), 0);
	assert_int_not_equal(cs_parse_uint("", 1, 64, &v), 0);
	assert_int_not_equal(cs_parse_uint("99999999999999999999999", 1, 64, &v), 0);
}

/*
 * A size whose bytes do not fit in 64 bits wrapped around when shifted:
 * 17179869185G is 2^34 + 1 GiB, which wrapped to exactly 1 GiB.
 */
static void sizes_that_overflow_are_rejected(void **st)
{
	size_t sz = 7;

	(void)st;
	assert_int_not_equal(cs_parse_size("17179869185G", &sz), 0);
	assert_int_not_equal(cs_parse_size("17179869184G", &sz), 0);
	assert_int_not_equal(cs_parse_size("18014398509481985K", &sz), 0);
	assert_int_not_equal(cs_parse_size("17592186044417M", &sz), 0);
	assert_int_not_equal(cs_parse_size("18446744073709551616", &sz), 0);
	assert_int_equal(sz, 7);
	/* the largest value still accepted, in each unit */
	assert_int_equal(cs_parse_size("2G", &sz), 0);
	assert_int_equal(sz, 1ul << 31);
	assert_int_equal(cs_parse_size("2048M", &sz), 0);
	assert_int_equal(sz, 1ul << 31);
	assert_int_not_equal(cs_parse_size("2049M", &sz), 0);
}

/*
 * strtoul and strtoull skip blanks, then take a sign and negate modulo 2^64:
 * a blank before the '-' got past the sign check, so " -18446744073709551615"
 * was read as 1 and " -18446744073709547520" as 4096 bytes.
 */
static void negative_numbers_that_wrap_are_rejected(void **st)
{
	unsigned long v = 7;
	size_t sz = 7;

	(void)st;
	assert_int_not_equal(cs_parse_uint(" -18446744073709551615", 1, 64, &v), 0);
	assert_int_not_equal(cs_parse_uint("\t-18446744073709551614", 0, INT_MAX, &v), 0);
	assert_int_not_equal(cs_parse_uint(" -1", 0, ULONG_MAX, &v), 0);
	assert_int_not_equal(cs_parse_uint(" +5", 1, 64, &v), 0);
	assert_int_equal(v, 7);
	assert_int_not_equal(cs_parse_size(" -18446744073709547520", &sz), 0);
	assert_int_not_equal(cs_parse_size("\n-18446744073709547520", &sz), 0);
	assert_int_not_equal(cs_parse_size(" -18014398509480960K", &sz), 0);
	assert_int_not_equal(cs_parse_size("+16M", &sz), 0);
	assert_int_equal(sz, 7);
}

/*
 * Durations go through a double and are capped at 1e18 ns before the cast,
 * so nothing wraps: the largest is accepted exactly, anything above it (or
 * too large for a double) is refused.
 */
static void durations_that_overflow_are_rejected(void **st)
{
	uint64_t ns = 7;

	(void)st;
	assert_int_not_equal(cs_parse_duration("1000000001", &ns), 0);
	assert_int_not_equal(cs_parse_duration("16666667m", &ns), 0);
	assert_int_not_equal(cs_parse_duration("18446744073709551616us", &ns), 0);
	assert_int_not_equal(cs_parse_duration("1e400", &ns), 0);
	assert_int_not_equal(cs_parse_duration(" -5", &ns), 0);
	assert_int_equal(ns, 7);
	assert_int_equal(cs_parse_duration("1000000000", &ns), 0);
	assert_int_equal(ns, 1000000000000000000ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations),
		cmocka_unit_test(sizes_and_numbers),
		cmocka_unit_test(sizes_that_overflow_are_rejected),
		cmocka_unit_test(negative_numbers_that_wrap_are_rejected),
		cmocka_unit_test(durations_that_overflow_are_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
