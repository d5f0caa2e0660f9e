// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cmd_run.c: concscope run: a command held before exec until tracing is
 * live, then traced with everything it starts; or, with --model or nothing,
 * the bundled models (runner.c). Parse, check, trace, report.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "opts.h"
#include "parse.h"
#include "runner.h"
#include "session.h"

/*
 * Can the file at path be run? 0, or what is wrong: -ENOENT (no such file),
 * -EISDIR, -ENOEXEC (no execute permission), -EACCES (not allowed, e.g. a
 * directory on the way that cannot be searched).
 */
static int check_file(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return errno == EACCES ? -EACCES : -ENOENT;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (access(path, X_OK))
		return errno == EACCES && !(st.st_mode & 0111) ? -ENOEXEC : -EACCES;
	return 0;
}

/* How much a reason says: a file that is there but cannot be run says more than none. */
static int telling(int err)
{
	return !err ? 3 : err == -ENOENT ? 0 : err == -EISDIR ? 1 : 2;
}

/*
 * Can execvp run argv0? 0, or why not, as check_file says; for a name
 * looked up in PATH, the most telling reason of the directories' files.
 */
static int find_program(const char *argv0)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	char *copy, *dir, *save;
	int ret = -ENOENT, r;

	if (strchr(argv0, '/'))
		return check_file(argv0);
	copy = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	if (!copy)
		return -ENOMEM;
	for (dir = strtok_r(copy, ":", &save); dir && ret; dir = strtok_r(NULL, ":", &save)) {
		snprintf(buf, sizeof(buf), "%s/%s", *dir ? dir : ".", argv0);
		r = check_file(buf);
		if (telling(r) > telling(ret))
			ret = r;
	}
	free(copy);
	return ret;
}

/* Why a program cannot run, in words. */
static const char *program_error(int err, const char *argv0)
{
	switch (err) {
	case -ENOENT:
		return strchr(argv0, '/') ? "no such program (no such file)" :
					    "no such program (not found in PATH)";
	case -EISDIR: return "it is a directory";
	case -ENOEXEC: return "not executable (it has no execute permission)";
	case -EACCES: return "permission denied";
	default: return strerror(-err);
	}
}

static void run_usage(FILE *f)
{
	fprintf(f, "Usage: concscope run [OPTIONS] -- CMD [ARGS...]\n"
		   "       concscope run --model=MODEL [--work=WORK] [--tasks=N] [--lang=c|python]\n\n"
		   "Start CMD held before exec until tracing is live, then trace it and every\n"
		   "process and thread it creates until it exits. CMD's output passes through;\n"
		   "under sudo it runs as the invoking user. Ctrl-C is passed on to CMD.\n"
		   "concscope then exits with CMD's status (128+N when signal N killed it),\n"
		   "unless it failed itself (exit codes in 'concscope --help').\n\n"
		   "With --model, run the bundled workloads instead: the same job done by many\n"
		   "processes, many threads, threads behind one global lock (like CPython's\n"
		   "GIL) or one thread with an event loop; each is traced like CMD, then they\n"
		   "are compared side by side. With no CMD and no --model: --model=all.\n\n"
		   "Options:\n"
		   "      --model MODEL     processes, threads, threads-gil, async, or all\n"
		   "      --work WORK       cpu (sum a long sequence), io (requests to a local\n"
		   "                        server answering after 10 ms) or mixed; default:\n"
		   "                        cpu and io for all, cpu for one model\n"
		   "      --tasks N         tasks the job is split into, 1..64 (default 4)\n"
		   "      --size N          cpu/mixed job size in units of 65536 numbers\n"
		   "      --lang LANG       c (default) or python (/usr/bin/python3: the real GIL)\n"
		   "%s%s%s\n"
		   "Examples:\n"
		   "  sudo concscope run                              compare all models\n"
		   "  sudo concscope run --model=async --work=io      one model's timeline\n"
		   "  sudo concscope run --model=threads --lang=python\n"
		   "  sudo concscope run -- python3 -c 'import time; time.sleep(1)'\n"
		   "  sudo concscope run --json out.json -- make -j2\n"
		   "  sudo concscope run --sort cpu --comm 'stress-ng*' -- stress-ng --cpu 2 -t 2\n",
		cs_pid_filter_help, cs_view_help, cs_common_help);
}

static enum cs_opt_result run_opt(struct cs_opts *o, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case OPT_MODEL: o->models.model = arg; return CS_OPT_TAKEN;
	case OPT_WORK: o->models.work = arg; return CS_OPT_TAKEN;
	case OPT_LANG: o->models.lang = arg; return CS_OPT_TAKEN;
	case OPT_TASKS:
		if (cs_parse_uint(arg, 1, 64, &v)) {
			cs_err("--tasks needs a number from 1 to 64, not '%s'", arg);
			return CS_OPT_BAD;
		}
		o->models.tasks = (unsigned int)v;
		return CS_OPT_TAKEN;
	case OPT_SIZE:
		if (cs_parse_uint(arg, 1, 1ul << 24, &v)) {
			cs_err("--size needs a number from 1 to 16777216, not '%s'", arg);
			return CS_OPT_BAD;
		}
		o->models.size = v;
		return CS_OPT_TAKEN;
	default:
		return CS_OPT_UNKNOWN;
	}
}

/* A command to run: no model options, and a program execvp can run. */
static int check_command(const struct cs_opts *o, char **cmd)
{
	int ret;

	if (o->models.work || o->models.lang || o->models.tasks || o->models.size) {
		cs_err("--work, --tasks, --size and --lang go with --model");
		return CS_EXIT_USAGE;
	}
	ret = find_program(cmd[0]);
	if (ret) {
		cs_err("cannot run '%s': %s", cmd[0], program_error(ret, cmd[0]));
		return CS_EXIT_TARGET;
	}
	return CS_EXIT_OK;
}

/*
 * run exits as the command did, as time(1) and strace(1) do: its exit code,
 * or 128 + N when signal N killed it; when it was left running (or never
 * started), 128 + the signal that stopped concscope.
 */
static int command_exit(int status)
{
	int code = cs_exit_code_of(status), sig = cs_session_signal();

	if (code >= 0)
		return code;
	return sig ? 128 + sig : CS_EXIT_FAIL;
}

static const struct option run_longopts[] = {
	CS_COMMON_LONGOPTS,
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "work", required_argument, NULL, OPT_WORK },
	{ "tasks", required_argument, NULL, OPT_TASKS },
	{ "lang", required_argument, NULL, OPT_LANG },
	{ "size", required_argument, NULL, OPT_SIZE },
	CS_PID_FILTER_LONGOPT,
	{ NULL, 0, NULL, 0 },
};

const struct cs_cmd_syntax cs_run_syntax = {
	.name = "run", .shortopts = "+:o:avh", .longopts = run_longopts,
	.own_opt = run_opt, .usage = run_usage,
};

int cs_cmd_run(int argc, char **argv)
{
	struct cs_core *core = NULL;
	enum cs_parse_result pr;
	struct cs_live live;
	char err[512] = "";
	int rc, traced, status = -1;
	struct cs_opts o;
	char **cmd;

	pr = cs_opts_parse(&cs_run_syntax, argc, argv, &o);
	if (pr != CS_PARSE_OK)
		return cs_parse_exit_code(pr);
	cmd = argv + optind;
	if (*cmd && o.models.model) {
		cs_err("give either a command or --model, not both");
		return CS_EXIT_USAGE;
	}
	if (o.critpath.on && (!*cmd || o.models.model)) {
		cs_err("--critical-path goes with a command, not with the models");
		return CS_EXIT_USAGE;
	}
	if (!*cmd || o.models.model)
		return cs_run_models(&o);
	rc = check_command(&o, cmd);
	if (rc)
		return rc;
	o.critpath.on = true; /* a command's critical path is always shown */
	rc = cs_live_start(&live, &o);
	if (rc)
		return rc;
	traced = cs_session_run(live.s, cmd, &core, &status, err, sizeof(err));
	rc = cs_live_finish(&live, &o, &(struct cs_target){ .argv = cmd }, traced, err, &core);
	return rc ? rc : command_exit(status);
}
