// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cmd_attach.c: concscope attach: a running process and what it starts, or
 * with -a every task, for a duration or until Ctrl-C. Parse, check, trace,
 * report.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include "cli.h"
#include "opts.h"
#include "parse.h"
#include "procfs.h"
#include "session.h"

static void attach_usage(FILE *f)
{
	fprintf(f, "Usage: concscope attach -p PID [-d DURATION] [OPTIONS]\n"
		   "       concscope attach -a [-d DURATION] [OPTIONS]\n\n"
		   "Trace every thread of a running process, and every process it creates,\n"
		   "until DURATION passes, Ctrl-C, or the process exits; with -a and no -p,\n"
		   "every task on the system until DURATION passes or Ctrl-C. Threads that\n"
		   "already exist start in the state /proc gives them.\n\n"
		   "Options:\n"
		   "  -p, --pid PID         the process to trace (or -a: every task)\n"
		   "  -d, --duration D      how long: seconds, or with a unit (500ms, 2s, 1m, 1h)\n"
		   "%s%s\n"
		   "Examples:\n"
		   "  sudo concscope attach -p $(pidof myserver) -d 10\n"
		   "  sudo concscope attach -p 1234 --json threads.json\n"
		   "  sudo concscope attach -a -d 2 -o system.pftrace\n"
		   "  sudo concscope attach -a -d 5 --comm postgres --sort cpu --csv pg.csv\n",
		cs_view_help, cs_common_help);
}

static enum cs_opt_result attach_opt(struct cs_opts *o, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case 'p':
		if (cs_parse_uint(arg, 1, INT_MAX, &v)) {
			cs_err("-p needs a process id (a positive number), not '%s'", arg);
			return CS_OPT_BAD;
		}
		o->pid = (pid_t)v;
		return CS_OPT_TAKEN;
	case 'd':
		if (cs_parse_duration(arg, &o->duration_ns)) {
			cs_err("-d needs a positive duration (e.g. 5, 1.5, 500ms, 2m, 1h), not '%s'", arg);
			return CS_OPT_BAD;
		}
		return CS_OPT_TAKEN;
	default:
		return CS_OPT_UNKNOWN;
	}
}

static const struct option attach_longopts[] = {
	CS_COMMON_LONGOPTS,
	{ "pid", required_argument, NULL, 'p' },
	{ "duration", required_argument, NULL, 'd' },
	{ NULL, 0, NULL, 0 },
};

const struct cs_cmd_syntax cs_attach_syntax = {
	.name = "attach", .shortopts = ":p:d:o:avh", .longopts = attach_longopts,
	.own_opt = attach_opt, .usage = attach_usage,
};

/* Operands, and a target that can be traced. */
static int check_attach(const struct cs_opts *o, int argc, char **argv)
{
	int ret;

	if (optind < argc) {
		cs_err("unexpected argument '%s' (see 'concscope attach --help')", argv[optind]);
		return CS_EXIT_USAGE;
	}
	if (!o->pid && !o->track_all) {
		cs_err("attach needs -p PID, or -a for every task (see 'concscope attach --help')");
		return CS_EXIT_USAGE;
	}
	ret = o->pid ? cs_proc_check_pid(o->pid) : 0;
	if (ret == -EINVAL) {
		cs_err("pid %d is a kernel thread: concscope traces user processes", o->pid);
		return CS_EXIT_TARGET;
	} else if (ret) {
		cs_err("no process with pid %d", o->pid);
		return CS_EXIT_TARGET;
	}
	return CS_EXIT_OK;
}

int cs_cmd_attach(int argc, char **argv)
{
	struct cs_core *core = NULL;
	enum cs_parse_result pr;
	struct cs_live live;
	char err[512] = "";
	struct cs_opts o;
	int rc, traced;

	pr = cs_opts_parse(&cs_attach_syntax, argc, argv, &o);
	if (pr != CS_PARSE_OK)
		return cs_parse_exit_code(pr);
	rc = check_attach(&o, argc, argv);
	if (rc)
		return rc;
	rc = cs_live_start(&live, &o);
	if (rc)
		return rc;
	traced = cs_session_attach(live.s, o.pid, o.duration_ns, &core, err, sizeof(err));
	return cs_live_finish(&live, &o, &(struct cs_target){ .pid = o.pid }, traced, err, &core);
}
