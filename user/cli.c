// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cli.c: option parsing and the run / attach commands. Each command reads
 * like: parse, check, trace, report.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"
#include "jsonw.h"
#include "outfile.h"
#include "procfs.h"
#include "render.h"
#include "session.h"
#include "summary.h"

void cs_err(const char *fmt, ...)
{
	va_list ap;

	fputs("concscope: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Options shared by run and attach. */
struct opts {
	const char *json_path;
	const char *trace_path;
	const char *btf;
	int ready_fd;
	int color;  /* -1 never, 0 auto, 1 always */
	unsigned int lanes;
	size_t rb_bytes;
	bool verbose, track_all, quiet, no_locks;
	const char *dump_path;
	pid_t pid;
	uint64_t duration_ns;
};

enum {
	OPT_JSON = 256, OPT_READY_FD, OPT_COLOR, OPT_LANES, OPT_BUFSZ, OPT_BTF, OPT_QUIET,
	OPT_DUMP, OPT_NO_LOCKS,
};

#define COMMON_LONGOPTS \
	{ "json", required_argument, NULL, OPT_JSON }, \
	{ "output", required_argument, NULL, 'o' }, \
	{ "ready-fd", required_argument, NULL, OPT_READY_FD }, \
	{ "color", required_argument, NULL, OPT_COLOR }, \
	{ "lanes", required_argument, NULL, OPT_LANES }, \
	{ "buffer-size", required_argument, NULL, OPT_BUFSZ }, \
	{ "btf", required_argument, NULL, OPT_BTF }, \
	{ "all", no_argument, NULL, 'a' }, \
	{ "quiet", no_argument, NULL, OPT_QUIET }, \
	{ "no-locks", no_argument, NULL, OPT_NO_LOCKS }, \
	{ "dump-raw", required_argument, NULL, OPT_DUMP }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "help", no_argument, NULL, 'h' }

static const char common_help[] =
	"  -a, --all             track every task on the system, not just the target\n"
	"      --json FILE       write the summary as JSON (keys in the README)\n"
	"      --lanes N         draw the N busiest threads in the timeline (default 24)\n"
	"      --color WHEN      auto (default: only on a terminal, never with NO_COLOR),\n"
	"                        always or never\n"
	"      --buffer-size SZ  ring buffer size, a power of two (default 16M)\n"
	"      --btf FILE        kernel BTF to use instead of /sys/kernel/btf/vmlinux\n"
	"      --ready-fd N      write \"ready\" to file descriptor N once tracing is live\n"
	"      --quiet           no progress line\n"
	"      --no-locks        do not trace kernel lock contention and futex waits\n"
	"      --dump-raw FILE   also write the raw event records (for debugging and\n"
	"                        tools/bench)\n"
	"  -v, --verbose         libbpf's messages and the BPF object IDs\n"
	"  -h, --help            this help\n";

/* Handle one common option; 1 if handled, 0 if not common, -1 on a bad value. */
static int common_opt(struct opts *o, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case OPT_JSON: o->json_path = arg; return 1;
	case 'o': o->trace_path = arg; return 1;
	case OPT_BTF: o->btf = arg; return 1;
	case 'a': o->track_all = true; return 1;
	case 'v': o->verbose = true; return 1;
	case OPT_QUIET: o->quiet = true; return 1;
	case OPT_NO_LOCKS: o->no_locks = true; return 1;
	case OPT_DUMP: o->dump_path = arg; return 1;
	case OPT_READY_FD:
		if (cs_parse_uint(arg, 0, INT_MAX, &v)) {
			cs_err("--ready-fd needs a file descriptor number, not '%s'", arg);
			return -1;
		}
		o->ready_fd = (int)v;
		return 1;
	case OPT_LANES:
		if (cs_parse_uint(arg, 1, 10000, &v)) {
			cs_err("--lanes needs a number from 1 to 10000, not '%s'", arg);
			return -1;
		}
		o->lanes = (unsigned int)v;
		return 1;
	case OPT_COLOR:
		if (!strcmp(arg, "auto")) o->color = 0;
		else if (!strcmp(arg, "always")) o->color = 1;
		else if (!strcmp(arg, "never")) o->color = -1;
		else {
			cs_err("--color takes auto, always or never, not '%s'", arg);
			return -1;
		}
		return 1;
	case OPT_BUFSZ:
		if (cs_parse_size(arg, &o->rb_bytes) || (o->rb_bytes & (o->rb_bytes - 1)) ||
		    o->rb_bytes < 4096) {
			cs_err("--buffer-size needs a power of two of at least 4K (e.g. 16M), not '%s'", arg);
			return -1;
		}
		return 1;
	default:
		return 0;
	}
}

static void opts_init(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ready_fd = -1;
}

/* Unknown option or missing value: getopt printed nothing (opterr = 0). */
static int bad_option(const char *cmd, int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		cs_err("option '%s' needs a value (see 'concscope %s --help')", arg, cmd);
	else
		cs_err("unknown option '%s' (see 'concscope %s --help')", arg, cmd);
	return CS_EXIT_USAGE;
}

/* Checks that need no tracing: privileges and kernel BTF. */
static int check_env(const struct opts *o)
{
	char why[160];

	if (cs_check_privileges(why, sizeof(why))) {
		cs_err("%s", why);
		return CS_EXIT_ENV;
	}
	if (o->btf ? access(o->btf, R_OK) : access("/sys/kernel/btf/vmlinux", R_OK)) {
		if (o->btf)
			cs_err("cannot read the BTF file '%s': %s", o->btf, strerror(errno));
		else
			cs_err("this kernel has no BTF (/sys/kernel/btf/vmlinux): it needs "
			       "CONFIG_DEBUG_INFO_BTF=y, or give one with --btf FILE");
		return CS_EXIT_ENV;
	}
	return CS_EXIT_OK;
}

struct outputs {
	struct cs_outfile json;
	struct cs_outfile dump;
};

static int open_outputs(struct outputs *out, const struct opts *o)
{
	char err[512];

	memset(out, 0, sizeof(*out));
	if (o->trace_path) {
		cs_err("-o (Perfetto traces) is not available in this build yet");
		return CS_EXIT_USAGE;
	}
	if (o->json_path && cs_outfile_open(&out->json, o->json_path, err, sizeof(err))) {
		cs_err("%s", err);
		return CS_EXIT_USAGE;
	}
	if (o->dump_path && cs_outfile_open(&out->dump, o->dump_path, err, sizeof(err))) {
		cs_err("%s", err);
		cs_outfile_close(&out->json, false, NULL, 0);
		return CS_EXIT_USAGE;
	}
	return CS_EXIT_OK;
}

static void close_outputs(struct outputs *out, bool commit, int *rc)
{
	char err[512];

	if (cs_outfile_close(&out->json, commit, err, sizeof(err))) {
		cs_err("%s", err);
		*rc = CS_EXIT_FAIL;
	}
	if (cs_outfile_close(&out->dump, commit, err, sizeof(err))) {
		cs_err("%s", err);
		*rc = CS_EXIT_FAIL;
	}
}

static struct cs_session_opts session_opts(const struct opts *o, const struct outputs *out)
{
	struct cs_session_opts so = {
		.tracer = { .track_all = o->track_all, .rb_bytes = o->rb_bytes,
			    .btf_path = o->btf, .verbose = o->verbose, .no_locks = o->no_locks },
		.dump = out->dump.f,
		.ready_fd = o->ready_fd,
		.progress = !o->quiet && isatty(STDERR_FILENO),
		.verbose = o->verbose,
		.signal_grace_ms = 2000,
	};
	return so;
}

static int exit_code_of(int status)
{
	if (status < 0)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

static void write_json(FILE *f, const struct cs_core *c, unsigned int ncpus, char **argv,
		       pid_t pid, int status)
{
	struct cs_jsonw w;
	int i;

	cs_json_init(&w, f);
	cs_json_obj_begin(&w);
	cs_json_kstr(&w, "concscope_version", CS_VERSION);
	if (argv) {
		cs_json_key(&w, "command");
		cs_json_arr_begin(&w);
		for (i = 0; argv[i]; i++)
			cs_json_str(&w, argv[i]);
		cs_json_arr_end(&w);
		cs_json_ki64(&w, "exit_status", exit_code_of(status));
	} else {
		cs_json_ku64(&w, "pid", (uint64_t)pid);
	}
	cs_summary_json(&w, c, ncpus);
	cs_json_obj_end(&w);
}

static void show(const struct cs_core *c, const struct opts *o, unsigned int ncpus,
		 const char *title)
{
	struct cs_render_opts ro = {
		.width = cs_term_width(stdout),
		.color = cs_term_color(stdout, o->color),
		.max_lanes = o->lanes,
		.ncpus = ncpus,
		.title = title,
	};

	cs_render(stdout, c, &ro);
}

/* Is argv0 something execvp can run? */
static bool runnable(const char *argv0)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	char *copy, *dir, *save;
	bool ok = false;

	if (strchr(argv0, '/'))
		return !access(argv0, X_OK);
	copy = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	for (dir = strtok_r(copy, ":", &save); dir && !ok; dir = strtok_r(NULL, ":", &save)) {
		struct stat st;

		snprintf(buf, sizeof(buf), "%s/%s", *dir ? dir : ".", argv0);
		ok = !access(buf, X_OK) && !stat(buf, &st) && S_ISREG(st.st_mode);
	}
	free(copy);
	return ok;
}

static void run_usage(FILE *f)
{
	fprintf(f, "Usage: concscope run [OPTIONS] -- CMD [ARGS...]\n\n"
		   "Start CMD held before exec until tracing is live, then trace it and every\n"
		   "process and thread it creates until it exits. CMD's output passes through;\n"
		   "under sudo it runs as the invoking user. Ctrl-C is passed on to CMD.\n\n"
		   "Options:\n%s\n"
		   "Examples:\n"
		   "  sudo concscope run -- python3 -c 'import time; time.sleep(1)'\n"
		   "  sudo concscope run --json out.json -- make -j2\n", common_help);
}

static int parse_common(const char *cmd, int argc, char **argv, struct opts *o,
			const char *shortopts, const struct option *longopts,
			int (*extra)(struct opts *, int, const char *), void (*usage)(FILE *))
{
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return -CS_EXIT_OK - 1000;
		}
		if (c == '?' || c == ':')
			return -bad_option(cmd, c, argv);
		r = common_opt(o, c, optarg);
		if (r == 0 && extra)
			r = extra(o, c, optarg);
		if (r < 0)
			return -CS_EXIT_USAGE;
		if (r == 0)
			return -bad_option(cmd, '?', argv);
	}
	return 0;
}

int cs_cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = { COMMON_LONGOPTS, { NULL, 0, NULL, 0 } };
	struct cs_session *s = NULL;
	struct cs_core *core = NULL;
	struct outputs out;
	struct cs_session_opts so;
	char err[512] = "";
	char **cmd;
	int rc, status = -1;
	struct opts o;
	unsigned int ncpus;

	opts_init(&o);
	rc = parse_common("run", argc, argv, &o, "+:o:avh", longopts, NULL, run_usage);
	if (rc)
		return rc == -1000 ? CS_EXIT_OK : -rc;
	cmd = argv + optind;
	if (!*cmd) {
		cs_err("nothing to run: give a command after '--' (see 'concscope run --help')");
		return CS_EXIT_USAGE;
	}
	if (!runnable(cmd[0])) {
		cs_err("cannot run '%s': no such program", cmd[0]);
		return CS_EXIT_TARGET;
	}
	rc = check_env(&o);
	if (rc)
		return rc;
	rc = open_outputs(&out, &o);
	if (rc)
		return rc;
	so = session_opts(&o, &out);
	if (cs_session_open(&s, &so, err, sizeof(err))) {
		cs_err("%s", err);
		close_outputs(&out, false, &rc);
		return CS_EXIT_FAIL;
	}
	ncpus = cs_session_ncpus(s);
	if (cs_session_run(s, cmd, &core, &status, err, sizeof(err))) {
		cs_err("%s", err);
		cs_session_close(&s);
		close_outputs(&out, false, &rc);
		return CS_EXIT_TARGET;
	}
	cs_session_close(&s);
	{
		char title[256];
		int code = exit_code_of(status);

		snprintf(title, sizeof(title), "%s: %s", cmd[0],
			 code < 0 ? "left running" : code == 0 ? "exited with status 0" : "");
		if (code > 0)
			snprintf(title, sizeof(title), "%s: exited with status %d%s", cmd[0], code,
				 code > 128 ? " (killed by a signal)" : "");
		show(core, &o, ncpus, title);
	}
	if (out.json.f)
		write_json(out.json.f, core, ncpus, cmd, 0, status);
	close_outputs(&out, true, &rc);
	cs_core_free(&core);
	return rc;
}

static void attach_usage(FILE *f)
{
	fprintf(f, "Usage: concscope attach -p PID [-d DURATION] [OPTIONS]\n\n"
		   "Trace every thread of a running process, and every process it creates,\n"
		   "until DURATION passes, Ctrl-C, or the process exits. Threads that already\n"
		   "exist start in the state /proc gives them.\n\n"
		   "Options:\n"
		   "  -p, --pid PID         the process to trace (required)\n"
		   "  -d, --duration D      how long: seconds, or with a unit (500ms, 2s, 1m)\n%s\n"
		   "Examples:\n"
		   "  sudo concscope attach -p $(pidof myserver) -d 10\n"
		   "  sudo concscope attach -p 1234 --json threads.json\n", common_help);
}

static int attach_opt(struct opts *o, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case 'p':
		if (cs_parse_uint(arg, 1, INT_MAX, &v)) {
			cs_err("-p needs a process id (a positive number), not '%s'", arg);
			return -1;
		}
		o->pid = (pid_t)v;
		return 1;
	case 'd':
		if (cs_parse_duration(arg, &o->duration_ns)) {
			cs_err("-d needs a positive duration (e.g. 5, 1.5, 500ms), not '%s'", arg);
			return -1;
		}
		return 1;
	default:
		return 0;
	}
}

int cs_cmd_attach(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct cs_session *s = NULL;
	struct cs_core *core = NULL;
	struct cs_session_opts so;
	struct outputs out;
	char err[512] = "", title[128];
	unsigned int ncpus;
	struct opts o;
	int rc;

	opts_init(&o);
	rc = parse_common("attach", argc, argv, &o, ":p:d:o:avh", longopts, attach_opt,
			  attach_usage);
	if (rc)
		return rc == -1000 ? CS_EXIT_OK : -rc;
	if (optind < argc) {
		cs_err("unexpected argument '%s' (see 'concscope attach --help')", argv[optind]);
		return CS_EXIT_USAGE;
	}
	if (!o.pid) {
		cs_err("attach needs -p PID (see 'concscope attach --help')");
		return CS_EXIT_USAGE;
	}
	rc = cs_proc_check_pid(o.pid);
	if (rc == -EINVAL) {
		cs_err("pid %d is a kernel thread: concscope traces user processes", o.pid);
		return CS_EXIT_TARGET;
	} else if (rc) {
		cs_err("no process with pid %d", o.pid);
		return CS_EXIT_TARGET;
	}
	rc = check_env(&o);
	if (rc)
		return rc;
	rc = open_outputs(&out, &o);
	if (rc)
		return rc;
	so = session_opts(&o, &out);
	if (cs_session_open(&s, &so, err, sizeof(err))) {
		cs_err("%s", err);
		close_outputs(&out, false, &rc);
		return CS_EXIT_FAIL;
	}
	ncpus = cs_session_ncpus(s);
	if (cs_session_attach(s, o.pid, o.duration_ns, &core, err, sizeof(err))) {
		cs_err("%s", err);
		cs_session_close(&s);
		close_outputs(&out, false, &rc);
		return CS_EXIT_TARGET;
	}
	cs_session_close(&s);
	snprintf(title, sizeof(title), "pid %d", o.pid);
	show(core, &o, ncpus, title);
	if (out.json.f)
		write_json(out.json.f, core, ncpus, NULL, o.pid, -1);
	close_outputs(&out, true, &rc);
	cs_core_free(&core);
	return rc;
}
