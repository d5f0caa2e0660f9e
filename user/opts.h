/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * opts.h: the options of run, attach and report. A command describes its
 * command line (struct cs_cmd_syntax); cs_opts_parse fills one struct
 * cs_opts from it, which is passed as const from then on. The options all
 * commands share, and their help text, live here.
 */
#ifndef CS_OPTS_H
#define CS_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "critpath.h"
#include "models.h"
#include "summary.h"

struct cs_opts {
	const char *json_path;
	const char *csv_path;
	struct cs_view_opts view;    /* what the summary shows: --pid, --tid, --comm, --sort */
	const char *trace_path;
	const char *btf;
	int ready_fd;
	int color;  /* -1 never, 0 auto, 1 always */
	unsigned int lanes;
	int top;    /* --top N: N, -1 for 0 (all), 0 when not given (cs_render_opts.top) */
	size_t rb_bytes;
	bool verbose, track_all, quiet, no_locks, futex_syscalls, stacks;
	const char *folded_path;     /* --folded: off-CPU time per stack */
	const char *dump_path;
	struct cs_models_cfg models; /* run --model ... */
	struct cs_critpath_cfg critpath; /* --critical-path TID; run -- CMD turns it on */
	pid_t pid;                   /* attach -p */
	uint64_t duration_ns;        /* attach -d */
	uint64_t loop_threshold_ns;  /* --loop-threshold; 0: the core's default */
};

/* getopt_long's values for the long options that have no short form. */
enum {
	OPT_JSON = 256, OPT_READY_FD, OPT_COLOR, OPT_LANES, OPT_BUFSZ, OPT_BTF, OPT_QUIET,
	OPT_DUMP, OPT_NO_LOCKS, OPT_FUTEX_SYSCALLS, OPT_MODEL, OPT_WORK, OPT_TASKS, OPT_LANG, OPT_SIZE,
	OPT_LOOP_THRESHOLD,
	OPT_STACKS, OPT_FOLDED,
	OPT_SHOW_PID, OPT_TID, OPT_COMM, OPT_SORT, OPT_CSV, OPT_TOP,
	OPT_CRITPATH,
};

/*
 * The summary's filters, order and CSV, on every command (cs_view_help);
 * the --pid filter (cs_pid_filter_help) on run and report, for attach's
 * --pid is the process to trace.
 */
#define CS_VIEW_LONGOPTS \
	{ "tid", required_argument, NULL, OPT_TID }, \
	{ "comm", required_argument, NULL, OPT_COMM }, \
	{ "sort", required_argument, NULL, OPT_SORT }, \
	{ "top", required_argument, NULL, OPT_TOP }, \
	{ "csv", required_argument, NULL, OPT_CSV }
#define CS_PID_FILTER_LONGOPT { "pid", required_argument, NULL, OPT_SHOW_PID }
extern const char cs_view_help[], cs_pid_filter_help[];

/* The long options of run and attach; shortopts hold "o:avh" for them (cs_common_help). */
#define CS_COMMON_LONGOPTS \
	{ "json", required_argument, NULL, OPT_JSON }, \
	{ "output", required_argument, NULL, 'o' }, \
	{ "ready-fd", required_argument, NULL, OPT_READY_FD }, \
	{ "color", required_argument, NULL, OPT_COLOR }, \
	{ "lanes", required_argument, NULL, OPT_LANES }, \
	{ "loop-threshold", required_argument, NULL, OPT_LOOP_THRESHOLD }, \
	{ "buffer-size", required_argument, NULL, OPT_BUFSZ }, \
	{ "btf", required_argument, NULL, OPT_BTF }, \
	{ "all", no_argument, NULL, 'a' }, \
	{ "quiet", no_argument, NULL, OPT_QUIET }, \
	{ "no-locks", no_argument, NULL, OPT_NO_LOCKS }, \
	{ "futex-syscalls", no_argument, NULL, OPT_FUTEX_SYSCALLS }, \
	{ "dump-raw", required_argument, NULL, OPT_DUMP }, \
	{ "stacks", no_argument, NULL, OPT_STACKS }, \
	{ "folded", required_argument, NULL, OPT_FOLDED }, \
	{ "critical-path", required_argument, NULL, OPT_CRITPATH }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "help", no_argument, NULL, 'h' }, \
	CS_VIEW_LONGOPTS

/* Their lines in --help. */
extern const char cs_common_help[];

/* What an option handler did with one option. */
enum cs_opt_result {
	CS_OPT_UNKNOWN,  /* not one of its options */
	CS_OPT_TAKEN,    /* stored in the options */
	CS_OPT_BAD,      /* a bad value, already reported */
};

/* How a command's line is read. */
struct cs_cmd_syntax {
	const char *name;              /* in "see 'concscope NAME --help'" */
	const char *shortopts;         /* getopt's, ':' first (after any '+'): missing values */
	const struct option *longopts;
	/* the command's own options, tried after the common ones; NULL: none */
	enum cs_opt_result (*own_opt)(struct cs_opts *o, int c, const char *arg);
	void (*usage)(FILE *f);        /* --help */
};

/* What reading a command line came to. */
enum cs_parse_result {
	CS_PARSE_OK,     /* go on; argv[optind] is the first operand */
	CS_PARSE_HELP,   /* --help was shown: exit with CS_EXIT_OK */
	CS_PARSE_USAGE,  /* a bad option or value, already reported: CS_EXIT_USAGE */
};

/* Each command's line (cmd_*.c): the tests hold their --help against them. */
extern const struct cs_cmd_syntax cs_run_syntax, cs_attach_syntax, cs_report_syntax;

/* Fill o from the defaults and argv, reporting what is wrong on stderr. */
enum cs_parse_result cs_opts_parse(const struct cs_cmd_syntax *cmd, int argc, char **argv,
				   struct cs_opts *o);

/* The exit code for a result other than CS_PARSE_OK. */
int cs_parse_exit_code(enum cs_parse_result r);

#endif
