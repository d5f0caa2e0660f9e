// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* opts.c: the options every command shares, and the one parser of a command line. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "opts.h"
#include "parse.h"

const char cs_common_help[] =
	"  -o, --output FILE     write a Perfetto trace (ui.perfetto.dev opens it; so does\n"
	"                        'concscope report FILE')\n"
	"  -a, --all             track every task on the system, not just the target\n"
	"      --json FILE       write the summary as JSON (keys in the README)\n"
	"      --lanes N         draw the N busiest threads in the timeline (default 24;\n"
	"                        of many processes, the N busiest programs: default 5)\n"
	"      --loop-threshold DUR  an event loop's turn this long is an episode in the\n"
	"                        loop_blocked finding (default 10ms)\n"
	"      --color WHEN      auto (default: only on a terminal, never with NO_COLOR),\n"
	"                        always or never\n"
	"      --buffer-size SZ  ring buffer size, a power of two (default 16M)\n"
	"      --btf FILE        kernel BTF to use instead of /sys/kernel/btf/vmlinux\n"
	"      --ready-fd N      write \"ready\" to file descriptor N once tracing is live\n"
	"      --quiet           no progress line\n"
	"      --no-locks        do not trace kernel lock contention and futex waits\n"
	"      --futex-syscalls  futex waits from the futex system calls: exact return\n"
	"                        codes and attempts, but every system call on the\n"
	"                        machine gets slower (default: read at the switch)\n"
	"      --stacks          kernel and user call stacks where threads block and wait\n"
	"                        for locks (no frame pointers needed; costs: README)\n"
	"      --folded FILE     with --stacks: blocked time per stack, folded for\n"
	"                        flame graphs (\"frame;frame;frame microseconds\")\n"
	"      --dump-raw FILE   also write the raw event records (for debugging and\n"
	"                        tools/bench)\n"
	"      --critical-path TID\n"
	"                        where thread TID's wall time went, back along the\n"
	"                        wake-ups to the window's start (run shows the\n"
	"                        command's without it)\n"
	"  -v, --verbose         libbpf's messages and the BPF object IDs\n"
	"  -h, --help            this help\n";

const char cs_pid_filter_help[] =
	"      --pid LIST        show only these processes (pids, comma-separated)\n";
const char cs_view_help[] =
	"      --tid LIST        show only these threads (tids, comma-separated)\n"
	"      --comm LIST       show only threads of these names, or in processes of\n"
	"                        them (names or shell patterns, comma-separated)\n"
	"      --sort KEY        order processes and threads by cpu, ready, lock or\n"
	"                        switches (most first), or by tid (the default)\n"
	"      --top N           show the N busiest processes (by --sort's key, else\n"
	"                        CPU time) and their threads in full; 0: all of them\n"
	"                        (default: all of a few processes; of many, which are\n"
	"                        shown by program, as many as fit in 50 lines)\n"
	"      --csv FILE        write one row per thread as CSV (--json and --csv\n"
	"                        always have every thread: the filters narrow the view)\n";

/* --comm's names, comma-separated, each up to CS_FILTER_COMM - 1 characters. */
static int comm_list(struct cs_view_opts *v, const char *arg)
{
	const char *p = arg;

	for (;;) {
		size_t n = strcspn(p, ",");

		if (!n || n >= CS_FILTER_COMM || v->ncomms >= CS_FILTER_MAX)
			return -EINVAL;
		snprintf(v->comms[v->ncomms++], CS_FILTER_COMM, "%.*s", (int)n, p);
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

/* The summary's filters and order (the options every command has). */
static enum cs_opt_result view_opt(struct cs_opts *o, int c, const char *arg)
{
	struct cs_view_opts *v = &o->view;
	unsigned long n;

	switch (c) {
	case OPT_CSV: o->csv_path = arg; return CS_OPT_TAKEN;
	case OPT_SHOW_PID:
	case OPT_TID:
		if (cs_parse_id_list(arg, c == OPT_TID ? v->tids : v->pids, CS_FILTER_MAX,
				     c == OPT_TID ? &v->ntids : &v->npids)) {
			cs_err("--%s needs up to %d %s separated by commas (e.g. 1234,1240), not '%s'",
			       c == OPT_TID ? "tid" : "pid", CS_FILTER_MAX,
			       c == OPT_TID ? "thread ids" : "process ids", arg);
			return CS_OPT_BAD;
		}
		return CS_OPT_TAKEN;
	case OPT_COMM:
		if (comm_list(v, arg)) {
			cs_err("--comm needs up to %d names separated by commas (e.g. postgres,nginx), "
			       "not '%s'", CS_FILTER_MAX, arg);
			return CS_OPT_BAD;
		}
		return CS_OPT_TAKEN;
	case OPT_TOP:
		if (cs_parse_uint(arg, 0, 1000000, &n)) {
			cs_err("--top needs a number of processes (0: all of them), not '%s'", arg);
			return CS_OPT_BAD;
		}
		o->top = n ? (int)n : -1;
		return CS_OPT_TAKEN;
	case OPT_SORT:
		if (cs_sort_parse(arg, &v->sort)) {
			cs_err("--sort takes cpu, ready, lock, switches or tid, not '%s'", arg);
			return CS_OPT_BAD;
		}
		return CS_OPT_TAKEN;
	default:
		return CS_OPT_UNKNOWN;
	}
}

/* Handle one common option. */
static enum cs_opt_result common_opt(struct cs_opts *o, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case OPT_JSON: o->json_path = arg; return CS_OPT_TAKEN;
	case 'o': o->trace_path = arg; return CS_OPT_TAKEN;
	case OPT_BTF: o->btf = arg; return CS_OPT_TAKEN;
	case 'a': o->track_all = true; return CS_OPT_TAKEN;
	case 'v': o->verbose = true; return CS_OPT_TAKEN;
	case OPT_QUIET: o->quiet = true; return CS_OPT_TAKEN;
	case OPT_NO_LOCKS: o->no_locks = true; return CS_OPT_TAKEN;
	case OPT_FUTEX_SYSCALLS: o->futex_syscalls = true; return CS_OPT_TAKEN;
	case OPT_DUMP: o->dump_path = arg; return CS_OPT_TAKEN;
	case OPT_STACKS: o->stacks = true; return CS_OPT_TAKEN;
	case OPT_FOLDED: o->folded_path = arg; return CS_OPT_TAKEN;
	case OPT_READY_FD:
		if (cs_parse_uint(arg, 0, INT_MAX, &v)) {
			cs_err("--ready-fd needs a file descriptor number, not '%s'", arg);
			return CS_OPT_BAD;
		}
		o->ready_fd = (int)v;
		return CS_OPT_TAKEN;
	case OPT_LOOP_THRESHOLD:
		if (cs_parse_duration(arg, &o->loop_threshold_ns) || !o->loop_threshold_ns) {
			cs_err("--loop-threshold needs a duration such as 10ms, not '%s'", arg);
			return CS_OPT_BAD;
		}
		return CS_OPT_TAKEN;
	case OPT_CRITPATH:
		if (cs_parse_uint(arg, 1, INT_MAX, &v)) {
			cs_err("--critical-path needs a thread id (a positive number), not '%s'", arg);
			return CS_OPT_BAD;
		}
		o->critpath.tid = (uint32_t)v;
		o->critpath.on = true;
		return CS_OPT_TAKEN;
	case OPT_LANES:
		if (cs_parse_uint(arg, 1, 10000, &v)) {
			cs_err("--lanes needs a number from 1 to 10000, not '%s'", arg);
			return CS_OPT_BAD;
		}
		o->lanes = (unsigned int)v;
		return CS_OPT_TAKEN;
	case OPT_COLOR:
		if (!strcmp(arg, "auto")) o->color = 0;
		else if (!strcmp(arg, "always")) o->color = 1;
		else if (!strcmp(arg, "never")) o->color = -1;
		else {
			cs_err("--color takes auto, always or never, not '%s'", arg);
			return CS_OPT_BAD;
		}
		return CS_OPT_TAKEN;
	case OPT_BUFSZ:
		if (cs_parse_size(arg, &o->rb_bytes) || (o->rb_bytes & (o->rb_bytes - 1)) ||
		    o->rb_bytes < 4096) {
			cs_err("--buffer-size needs a power of two of at least 4K (e.g. 16M), not '%s'", arg);
			return CS_OPT_BAD;
		}
		return CS_OPT_TAKEN;
	default:
		return CS_OPT_UNKNOWN;
	}
}

static void opts_init(struct cs_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ready_fd = -1;
}

/* Unknown option or missing value: getopt printed nothing (opterr = 0). */
static enum cs_parse_result bad_option(const char *cmd, int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		cs_err("option '%s' needs a value (see 'concscope %s --help')", arg, cmd);
	else
		cs_err("unknown option '%s' (see 'concscope %s --help')", arg, cmd);
	return CS_PARSE_USAGE;
}

enum cs_parse_result cs_opts_parse(const struct cs_cmd_syntax *cmd, int argc, char **argv,
				   struct cs_opts *o)
{
	enum cs_opt_result r;
	int c;

	opts_init(o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, cmd->shortopts, cmd->longopts, NULL)) != -1) {
		if (c == 'h') {
			cmd->usage(stdout);
			return CS_PARSE_HELP;
		}
		if (c == '?' || c == ':')
			return bad_option(cmd->name, c, argv);
		r = common_opt(o, c, optarg);
		if (r == CS_OPT_UNKNOWN)
			r = view_opt(o, c, optarg);
		if (r == CS_OPT_UNKNOWN && cmd->own_opt)
			r = cmd->own_opt(o, c, optarg);
		if (r == CS_OPT_BAD)
			return CS_PARSE_USAGE;
		if (r == CS_OPT_UNKNOWN)
			return bad_option(cmd->name, '?', argv);
	}
	if (o->folded_path && !o->stacks && strcmp(cmd->name, "report")) {
		cs_err("--folded writes the stacks: it needs --stacks");
		return CS_PARSE_USAGE;
	}
	if (o->no_locks && o->futex_syscalls) {
		cs_err("--futex-syscalls traces locks, --no-locks does not: choose one");
		return CS_PARSE_USAGE;
	}
	return CS_PARSE_OK;
}

int cs_parse_exit_code(enum cs_parse_result r)
{
	return r == CS_PARSE_USAGE ? CS_EXIT_USAGE : CS_EXIT_OK;
}
