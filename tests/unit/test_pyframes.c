/*
 * Unit tests: CPython 3.11 line tables (pyframes.c's cs_py_line), against
 * the interpreter itself: /usr/bin/python3 compiles a sample with every
 * kind of table entry (short forms, one-line forms, no column, the long
 * form with big line jumps, no location) and prints each code object's
 * table and the line co_positions() gives each code unit; every code unit's
 * line must be the same here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "pyframes.h"

static const char *script =
	"import sys\n"
	"if sys.version_info[:2] != (3, 11): sys.exit(3)\n"
	"src = '''\n"
	"def short(x):\n"
	"    y = x + 1\n"
	"    return y\n"
	"\n"
	"def jumps(a):\n"
	"    b = [a,\n"
	"         a + 1,\n"
	"         a + 2]\n"
	"#GAP\n"
	  "    c = sum(b) if a else len(b)\n"
	  "    for i in range(3):\n"
	  "        c += i * (a or 1)\n"
	  "    try:\n"
	  "        c = c / a\n"
	  "    except ZeroDivisionError:\n"
	  "        pass\n"
	  "    return c + very_long_name_to_force_a_long_column_entry_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa if a else c\n"
	  "\n"
	  "class K:\n"
	  "    def m(self):\n"
	  "        async def inner():\n"
	  "            return [q for q in range(3)]\n"
	  "        return inner\n"
	  "'''\n"
	  "src = src.replace('#GAP', '\\n' * 40)  # a line jump the short forms cannot say\n"
	  "def walk(co):\n"
	  "    yield co\n"
	  "    for k in co.co_consts:\n"
	  "        if hasattr(k, 'co_code'):\n"
	  "            yield from walk(k)\n"
	  "for co in walk(compile(src, 'sample.py', 'exec')):\n"
	  "    lines = [-1 if p[0] is None else p[0] for p in co.co_positions()]\n"
	  "    print(co.co_firstlineno, co.co_linetable.hex(), len(lines), *lines)\n";

/* Each code object of the sample: every code unit's line as the interpreter says. */
static void every_code_unit_has_the_interpreters_line(void **state)
{
	FILE *f = fopen("/tmp/cs_test_pyframes.py", "w"), *p;
	char *line = NULL, hex[8192];
	size_t cap = 0, codes = 0, units = 0, kinds = 0;
	unsigned int seen[16] = { 0 };
	int st;

	assert_non_null(f);
	fputs(script, f);
	fclose(f);
	p = popen("/usr/bin/python3 /tmp/cs_test_pyframes.py", "r");
	assert_non_null(p);
	while (getline(&line, &cap, p) > 0) {
		uint8_t tab[4096];
		size_t n = 0, i, count;
		int first, off = 0, used;
		char *at;

		assert_int_equal(sscanf(line, "%d %8191s %zu%n", &first, hex, &count, &off), 3);
		for (i = 0; hex[2 * i] && i < sizeof(tab); i++, n++)
			assert_int_equal(sscanf(hex + 2 * i, "%2hhx", &tab[i]), 1);
		for (i = 0; i < n; i++) /* which entry kinds the sample covers */
			if (tab[i] & 0x80)
				seen[(tab[i] >> 3) & 15] = 1;
		at = line + off;
		for (i = 0; i < count; i++) {
			int want;

			assert_int_equal(sscanf(at, "%d%n", &want, &used), 1);
			at += used;
			assert_int_equal(cs_py_line(tab, n, first, (uint32_t)i), want);
			units++;
		}
		/* past the end: no line */
		assert_int_equal(cs_py_line(tab, n, first, (uint32_t)count + 1), -1);
		codes++;
	}
	free(line);
	st = pclose(p);
	unlink("/tmp/cs_test_pyframes.py");
	if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
		skip(); /* another Python: its tables are another format */
	assert_int_equal(st, 0);
	assert_true(codes >= 5);
	assert_true(units > 100);
	/* the sample has the long form, no-column, one-line and short entries */
	assert_true(seen[14]);
	assert_true(seen[13] || seen[15]);
	assert_true(seen[10] || seen[11] || seen[12]);
	for (st = 0; st < 10; st++)
		kinds += seen[st];
	assert_true(kinds > 0);
}

/* A table this code does not know (no entry start) reads as no line, never a wrong one. */
static void a_broken_table_has_no_line(void **state)
{
	const uint8_t bad[] = { 0x12, 0x34 }, cut[] = { 0xf0 | 0x80 /* code 14 */, 0x42 };

	assert_int_equal(cs_py_line(bad, sizeof(bad), 10, 0), -1);
	assert_int_equal(cs_py_line(cut, sizeof(cut), 10, 0), -1);
	assert_int_equal(cs_py_line(NULL, 0, 10, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_code_unit_has_the_interpreters_line),
		cmocka_unit_test(a_broken_table_has_no_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
