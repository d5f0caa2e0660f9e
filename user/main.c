// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* main.c: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
} cmds[] = {
	{ "run", cs_cmd_run, "run a command (or the bundled models) and trace it" },
	{ "attach", cs_cmd_attach, "trace a running process" },
	{ "report", cs_cmd_report, "recompute the summary from a saved trace (no root needed)" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: concscope COMMAND [OPTIONS]\n\n"
		   "See when each thread runs, waits for a CPU, or blocks; who woke it;\n"
		   "who held its CPU; and how the process, thread and async models compare.\n\n"
		   "Commands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].what);
	fprintf(f, "\nExamples:\n"
		   "  sudo concscope run                      compare the bundled models\n"
		   "  sudo concscope run -- make -j2          trace a command and its children\n"
		   "  sudo concscope attach -p 1234 -d 5      trace a running process for 5 s\n"
		   "  concscope report trace.pftrace          summary of a saved trace\n\n"
		   "'concscope COMMAND --help' describes each command's options.\n"
		   "Exit status: 0 ok, 1 tracing or writing failed, 2 bad usage,\n"
		   "3 not privileged or no kernel BTF, 4 no such process or command;\n"
		   "'run CMD' exits with CMD's status (128+N for signal N) unless concscope failed.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		/* no command: the main job, the model comparison */
		char *args[] = { argv[0], NULL };

		return cs_cmd_run(1, args);
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return CS_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("concscope %s\n", CS_VERSION);
		return CS_EXIT_OK;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	cs_err("unknown command '%s' (try 'concscope --help')", argv[1]);
	return CS_EXIT_USAGE;
}
