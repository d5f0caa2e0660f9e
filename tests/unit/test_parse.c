/* Unit tests: option value parsers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "cli.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations),
		cmocka_unit_test(sizes_and_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
