/*
 * Unit tests: every command's --help against the command's own parser
 * (its getopt tables in cmd_*.c and opts.h): each option it accepts is
 * listed, and each option listed is one it accepts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "opts.h"

static const struct cs_cmd_syntax *const cmds[] = {
	&cs_run_syntax, &cs_attach_syntax, &cs_report_syntax,
};

/* The --help text of a command. */
static char *help_of(const struct cs_cmd_syntax *cmd)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	cmd->usage(f);
	fclose(f);
	return text;
}

/* Does text hold opt as a word of its own ("--json FILE", "-o, --output", "--lang=c")? */
static bool lists(const char *text, const char *opt)
{
	size_t n = strlen(opt);
	const char *p;

	for (p = strstr(text, opt); p; p = strstr(p + 1, opt)) {
		char after = p[n];

		if ((p == text || p[-1] == ' ' || p[-1] == '[') &&
		    (after == ' ' || after == ',' || after == '=' || after == '\n' || after == ']'))
			return true;
	}
	return false;
}

static void every_accepted_option_is_listed(void **st)
{
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *text = help_of(cmds[i]), opt[64];
		const struct option *lo;
		const char *s;

		for (lo = cmds[i]->longopts; lo->name; lo++) {
			snprintf(opt, sizeof(opt), "--%s", lo->name);
			if (!lists(text, opt))
				fail_msg("concscope %s --help does not list %s", cmds[i]->name, opt);
		}
		for (s = cmds[i]->shortopts; *s; s++) {
			if (*s == '+' || *s == ':')
				continue;
			snprintf(opt, sizeof(opt), "-%c", *s);
			if (!lists(text, opt))
				fail_msg("concscope %s --help does not list %s", cmds[i]->name, opt);
		}
		free(text);
	}
}

static bool accepts_long(const struct cs_cmd_syntax *cmd, const char *name, size_t n)
{
	const struct option *lo;

	for (lo = cmd->longopts; lo->name; lo++)
		if (strlen(lo->name) == n && !strncmp(lo->name, name, n))
			return true;
	return false;
}

/* Every "--word" and "-x" of the Options: section names an option the command accepts. */
static void every_listed_option_is_accepted(void **st)
{
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *text = help_of(cmds[i]), *p = strstr(text, "Options:\n"), *end;

		assert_non_null(p);
		end = strstr(p, "Examples:");
		if (end)
			*end = 0;
		for (; (p = strchr(p, '-')); p++) {
			size_t n;

			if (p[-1] != ' ' && p[-1] != '\n')
				continue;
			if (p[1] == '-') {
				n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");
				if (n && !accepts_long(cmds[i], p + 2, n))
					fail_msg("concscope %s --help lists --%.*s, which it does not accept",
						 cmds[i]->name, (int)n, p + 2);
			} else if (p[1] >= 'a' && p[1] <= 'z' && (p[2] == ',' || p[2] == ' ')) {
				if (!strchr(cmds[i]->shortopts, p[1]))
					fail_msg("concscope %s --help lists -%c, which it does not accept",
						 cmds[i]->name, p[1]);
			}
		}
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_accepted_option_is_listed),
		cmocka_unit_test(every_listed_option_is_accepted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
