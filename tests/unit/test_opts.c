/* Unit tests: reading a command line into options, and what each outcome exits with. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include "cli.h"
#include "opts.h"

/* cli.c's error printer, counted instead of printed: every refusal says why. */
static int errors;

void cs_err(const char *fmt, ...)
{
	(void)fmt;
	errors++;
}

static int usages;

static void usage(FILE *f)
{
	(void)f;
	usages++;
}

/* A command with one option of its own, -p N, refusing 0: as the real commands do, it
 * says why itself and returns CS_OPT_BAD ("already reported"). */
static enum cs_opt_result own_opt(struct cs_opts *o, int c, const char *arg)
{
	if (c != 'p')
		return CS_OPT_UNKNOWN;
	if (arg[0] == '0') {
		cs_err("-p needs a number above 0, not '%s'", arg);
		return CS_OPT_BAD;
	}
	o->pid = 1;
	return CS_OPT_TAKEN;
}

static const struct option longopts[] = {
	CS_COMMON_LONGOPTS,
	CS_PID_FILTER_LONGOPT,
	{ NULL, 0, NULL, 0 },
};

static const struct cs_cmd_syntax syntax = {
	.name = "test", .shortopts = "+:p:o:avh", .longopts = longopts,
	.own_opt = own_opt, .usage = usage,
};

static enum cs_parse_result parse(struct cs_opts *o, int argc, ...)
{
	static char *argv[16];
	va_list ap;
	int i;

	va_start(ap, argc);
	argv[0] = "test";
	for (i = 1; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	argv[argc] = NULL;
	va_end(ap);
	errors = usages = 0;
	return cs_opts_parse(&syntax, argc, argv, o);
}

/* A command line refused as a usage error, with exactly one error line and no usage text
 * (a macro: a failure names the refusal's own line). */
#define refused(argc, ...) do {								\
		struct cs_opts o_;							\
		assert_int_equal(parse(&o_, (argc), __VA_ARGS__), CS_PARSE_USAGE);	\
		assert_int_equal(errors, 1);						\
		assert_int_equal(usages, 0);						\
	} while (0)

static void options_and_defaults(void **st)
{
	struct cs_opts o;

	(void)st;
	assert_int_equal(parse(&o, 1), CS_PARSE_OK);
	assert_int_equal(o.ready_fd, -1);
	assert_int_equal(o.color, 0);
	assert_false(o.track_all);
	assert_int_equal(parse(&o, 9, "-a", "--lanes=7", "--color", "never", "-p", "5", "--",
			       "cmd"), CS_PARSE_OK);
	assert_true(o.track_all);
	assert_int_equal(o.lanes, 7);
	assert_int_equal(o.color, -1);
	assert_int_equal(o.pid, 1);
	assert_int_equal(optind, 8);
	assert_int_equal(errors, 0);
}

static void filters_sort_and_csv(void **st)
{
	struct cs_opts o;

	(void)st;
	assert_int_equal(parse(&o, 13, "--pid", "7,8", "--pid=9", "--tid", "0", "--comm",
			       "post*,nginx", "--sort", "lock", "--csv", "t.csv", "--comm=x"),
			 CS_PARSE_OK);
	assert_int_equal(o.view.npids, 3);
	assert_int_equal(o.view.pids[2], 9);
	assert_int_equal(o.view.ntids, 1);
	assert_int_equal(o.view.tids[0], 0);
	assert_int_equal(o.view.ncomms, 3);
	assert_string_equal(o.view.comms[0], "post*");
	assert_string_equal(o.view.comms[2], "x");
	assert_int_equal(o.view.sort, CS_SORT_LOCK);
	assert_string_equal(o.csv_path, "t.csv");
	assert_int_equal(errors, 0);
	refused(3, "--pid", "7,,8");
	refused(3, "--pid", "-1");
	refused(3, "--tid", "1,x");
	refused(3, "--tid", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17");
	refused(3, "--comm", "a,");
	refused(3, "--comm", "a-name-far-longer-than-a-comm-is");
	refused(3, "--sort", "fastest");
}

static void help_is_not_an_error(void **st)
{
	struct cs_opts o;

	(void)st;
	assert_int_equal(parse(&o, 3, "-a", "--help"), CS_PARSE_HELP);
	assert_int_equal(usages, 1);
	assert_int_equal(errors, 0);
	assert_int_equal(cs_parse_exit_code(CS_PARSE_HELP), CS_EXIT_OK);
}

static void refusals_are_usage_errors(void **st)
{
	(void)st;
	refused(2, "--bogus");
	refused(2, "--json");                     /* no value */
	refused(2, "--lanes=0");                  /* a common value */
	refused(3, "-p", "0");                    /* the command's own: it said why, once */
	refused(2, "--buffer-size=17179869185G");
	refused(3, "--no-locks", "--futex-syscalls");
	assert_int_equal(cs_parse_exit_code(CS_PARSE_USAGE), CS_EXIT_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(options_and_defaults),
		cmocka_unit_test(filters_sort_and_csv),
		cmocka_unit_test(help_is_not_an_error),
		cmocka_unit_test(refusals_are_usage_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
