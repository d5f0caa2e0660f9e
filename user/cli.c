// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cli.c: option parsing and the run / attach commands. Each command reads
 * like: parse, check, trace, report.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"
#include "jsonw.h"
#include "models.h"
#include "outfile.h"
#include "pftrace.h"
#include "replay.h"
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
	bool verbose, track_all, quiet, no_locks, futex_syscalls;
	const char *dump_path;
	struct cs_models_cfg models;
	pid_t pid;
	uint64_t duration_ns;
};

enum {
	OPT_JSON = 256, OPT_READY_FD, OPT_COLOR, OPT_LANES, OPT_BUFSZ, OPT_BTF, OPT_QUIET,
	OPT_DUMP, OPT_NO_LOCKS, OPT_FUTEX_SYSCALLS, OPT_MODEL, OPT_WORK, OPT_TASKS, OPT_LANG, OPT_SIZE,
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
	{ "futex-syscalls", no_argument, NULL, OPT_FUTEX_SYSCALLS }, \
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
	"      --futex-syscalls  futex waits from the futex system calls: exact return\n"
	"                        codes and attempts, but every system call on the\n"
	"                        machine gets slower (default: read at the switch)\n"
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
	case OPT_FUTEX_SYSCALLS: o->futex_syscalls = true; return 1;
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
	struct cs_pf_writer *trace;
	const char *trace_path;
};

static int trace_feed(void *ctx, const struct cs_hdr *ev)
{
	return cs_pf_feed(ctx, ev);
}

/* Create the Perfetto trace (a temporary sibling until it is complete). */
static int open_trace(struct outputs *out, const char *path, const struct opts *o)
{
	struct utsname u;
	struct cs_pf_meta meta = { .ncpus = cs_possible_cpus(), .track_all = o->track_all };
	char err[512];
	int ret;

	uname(&u);
	meta.sysname = u.sysname;
	meta.release = u.release;
	meta.version = u.version;
	meta.machine = u.machine;
	ret = cs_outfile_check(path, err, sizeof(err));
	if (ret) {
		cs_err("%s", err);
		return ret;
	}
	ret = cs_pf_open(&out->trace, path, &meta);
	if (ret) {
		cs_err("cannot write '%s': %s", path, strerror(-ret));
		return ret;
	}
	out->trace_path = path;
	return 0;
}

static int open_outputs(struct outputs *out, const struct opts *o)
{
	char err[512];

	memset(out, 0, sizeof(*out));
	if (o->json_path && cs_outfile_open(&out->json, o->json_path, err, sizeof(err))) {
		cs_err("%s", err);
		return CS_EXIT_USAGE;
	}
	if (o->trace_path && open_trace(out, o->trace_path, o)) {
		cs_outfile_close(&out->json, false, NULL, 0);
		return CS_EXIT_USAGE;
	}
	if (o->dump_path && cs_outfile_open(&out->dump, o->dump_path, err, sizeof(err))) {
		cs_err("%s", err);
		cs_outfile_close(&out->json, false, NULL, 0);
		cs_pf_close(&out->trace, false);
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
	if (out->trace) {
		int ret = cs_pf_close(&out->trace, commit);

		if (ret) {
			cs_err("cannot write '%s': %s; no trace was left behind", out->trace_path,
			       strerror(-ret));
			*rc = CS_EXIT_FAIL;
		} else if (commit) {
			cs_chown_to_invoker(out->trace_path);
		}
	}
}

static struct cs_session_opts session_opts(const struct opts *o, const struct outputs *out)
{
	struct cs_session_opts so = {
		.tracer = { .track_all = o->track_all, .rb_bytes = o->rb_bytes,
			    .btf_path = o->btf, .verbose = o->verbose, .no_locks = o->no_locks,
			    .futex_syscalls = o->futex_syscalls },
		.dump = out->dump.f,
		.sink = { .feed = out->trace ? trace_feed : NULL, .ctx = out->trace },
		.ready_fd = o->ready_fd,
		.progress = !o->quiet && isatty(STDERR_FILENO),
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
		       pid_t pid)
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
		cs_json_ki64(&w, "exit_status", exit_code_of(cs_core_cmd_status(c)));
	} else {
		cs_json_ku64(&w, "pid", (uint64_t)pid);
	}
	cs_summary_json(&w, c, ncpus);
	cs_json_obj_end(&w);
}

static void run_title(char *title, size_t len, const char *cmd, const struct cs_core *c)
{
	int code = exit_code_of(cs_core_cmd_status(c));

	if (code < 0 && !cs_core_nthreads(c) && !cs_core_duration(c))
		snprintf(title, len, "%s: not started (interrupted before tracing began)", cmd);
	else if (code < 0)
		snprintf(title, len, "%s: left running", cmd);
	else
		snprintf(title, len, "%s: exited with status %d%s", cmd, code,
			 code > 128 ? " (killed by a signal)" : "");
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

/*
 * What run, attach and the models do before tracing: check privileges and
 * BTF, open the outputs, load and attach. An exit code, CS_EXIT_OK on success.
 */
static int start(struct opts *o, struct outputs *out, struct cs_session **s, unsigned int *ncpus)
{
	struct cs_session_opts so;
	char err[512] = "";
	int rc, ret;

	rc = check_env(o);
	if (rc)
		return rc;
	rc = open_outputs(out, o);
	if (rc)
		return rc;
	so = session_opts(o, out);
	ret = cs_session_open(s, &so, err, sizeof(err));
	if (ret) {
		cs_err("%s", err);
		close_outputs(out, false, &rc);
		return ret == -ENOEXEC ? CS_EXIT_ENV : CS_EXIT_FAIL;
	}
	*ncpus = cs_session_ncpus(*s);
	return CS_EXIT_OK;
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
	fprintf(f, "Usage: concscope run [OPTIONS] -- CMD [ARGS...]\n"
		   "       concscope run --model=MODEL [--work=WORK] [--tasks=N] [--lang=c|python]\n\n"
		   "Start CMD held before exec until tracing is live, then trace it and every\n"
		   "process and thread it creates until it exits. CMD's output passes through;\n"
		   "under sudo it runs as the invoking user. Ctrl-C is passed on to CMD.\n\n"
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
		   "  -o, --output FILE     write a Perfetto trace\n"
		   "%s\n"
		   "Examples:\n"
		   "  sudo concscope run                              compare all models\n"
		   "  sudo concscope run --model=async --work=io      one model's timeline\n"
		   "  sudo concscope run --model=threads --lang=python\n"
		   "  sudo concscope run -- python3 -c 'import time; time.sleep(1)'\n"
		   "  sudo concscope run --json out.json -- make -j2\n", common_help);
}

static int run_opt(struct opts *o, int c, const char *arg)
{
	unsigned long v;

	switch (c) {
	case OPT_MODEL: o->models.model = arg; return 1;
	case OPT_WORK: o->models.work = arg; return 1;
	case OPT_LANG: o->models.lang = arg; return 1;
	case OPT_TASKS:
		if (cs_parse_uint(arg, 1, 64, &v)) {
			cs_err("--tasks needs a number from 1 to 64, not '%s'", arg);
			return -1;
		}
		o->models.tasks = (unsigned int)v;
		return 1;
	case OPT_SIZE:
		if (cs_parse_uint(arg, 1, 1ul << 24, &v)) {
			cs_err("--size needs a number from 1 to 16777216, not '%s'", arg);
			return -1;
		}
		o->models.size = v;
		return 1;
	default:
		return 0;
	}
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
	if (o->no_locks && o->futex_syscalls) {
		cs_err("--futex-syscalls traces locks, --no-locks does not: choose one");
		return -CS_EXIT_USAGE;
	}
	return 0;
}

/* A bundled program next to this binary (build tree) or in libexec (installed). */
static int find_bundled(const char *rel_build, const char *rel_installed, char *out, size_t len)
{
	char exe[PATH_MAX - 64], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return -ENOENT;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = 0;
	snprintf(out, len, "%s/%s", exe, rel_build);
	if (!access(out, R_OK))
		return 0;
	snprintf(out, len, "%s/%s", exe, rel_installed);
	return access(out, R_OK) ? -ENOENT : 0;
}

struct server {
	pid_t pid;
	int in_fd;   /* closing it stops the server */
	unsigned int port;
};

/* Start cs-ioserver, untraced, and read the port it listens on. */
static int start_server(const char *path, struct server *srv)
{
	int in[2], out[2];
	char line[32];
	ssize_t n;
	size_t got = 0;

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		return -errno;
	srv->pid = fork();
	if (srv->pid < 0)
		return -errno;
	if (srv->pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		signal(SIGINT, SIG_IGN); /* Ctrl-C is for the model; the server is stopped after */
		cs_restore_priority();
		cs_drop_to_invoker();
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	srv->in_fd = in[1];
	while (got < sizeof(line) - 1 && (n = read(out[0], line + got, sizeof(line) - 1 - got)) > 0) {
		got += (size_t)n;
		if (memchr(line, '\n', got))
			break;
	}
	close(out[0]);
	line[got] = 0;
	srv->port = (unsigned int)strtoul(line, NULL, 10);
	return srv->port ? 0 : -EIO;
}

static void stop_server(struct server *srv)
{
	if (srv->pid <= 0)
		return;
	close(srv->in_fd);
	kill(srv->pid, SIGTERM);
	waitpid(srv->pid, NULL, 0);
	srv->pid = 0;
}

/* The workload's command line for one run. */
static int model_argv(const struct cs_model_run *r, const struct cs_models_cfg *cfg,
		      unsigned int port, char **argv, char bufs[][96], char prog[PATH_MAX])
{
	static char python[] = "/usr/bin/python3";
	int n = 0, b = 0;
	bool py = !strcmp(r->lang, "python");

	if (py) {
		if (access("/usr/bin/python3", X_OK)) {
			cs_err("--lang=python needs Debian's /usr/bin/python3 (tools/setup.sh installs it)");
			return -ENOENT;
		}
		if (find_bundled("../workloads/python/cs_workload.py",
				 "../share/concscope/cs_workload.py", prog, PATH_MAX)) {
			cs_err("cannot find the python workloads (cs_workload.py)");
			return -ENOENT;
		}
		argv[n++] = python;
	} else if (find_bundled("cs-workload", "../libexec/concscope/cs-workload", prog, PATH_MAX)) {
		cs_err("cannot find the bundled workloads (cs-workload): run 'make' first");
		return -ENOENT;
	}
	argv[n++] = prog;
	snprintf(bufs[b], 96, "--model=%s", r->model);
	argv[n++] = bufs[b++];
	snprintf(bufs[b], 96, "--work=%s", r->work);
	argv[n++] = bufs[b++];
	snprintf(bufs[b], 96, "--tasks=%u", r->tasks);
	argv[n++] = bufs[b++];
	if (cfg->size) {
		snprintf(bufs[b], 96, "--size=%lu", cfg->size);
		argv[n++] = bufs[b++];
	}
	if (port) {
		snprintf(bufs[b], 96, "--server=127.0.0.1:%u", port);
		argv[n++] = bufs[b++];
	}
	argv[n] = NULL;
	return 0;
}

/* Trace one bundled model; its server (for io work) runs untraced. */
static int run_one_model(struct cs_session *s, struct cs_model_run *r,
			 const struct cs_models_cfg *cfg)
{
	struct server srv = { 0 };
	char *argv[12] = { 0 }, bufs[6][96], err[512] = "", srvpath[PATH_MAX], prog[PATH_MAX];
	int ret;

	if (strcmp(r->work, "cpu")) {
		if (find_bundled("cs-ioserver", "../libexec/concscope/cs-ioserver", srvpath,
				 sizeof(srvpath)) || start_server(srvpath, &srv)) {
			cs_err("cannot start the I/O server (cs-ioserver)");
			stop_server(&srv);
			return -EIO;
		}
	}
	ret = model_argv(r, cfg, srv.port, argv, bufs, prog);
	if (!ret) {
		char mark[CS_MARK_TEXT];

		cs_model_mark_text(r, mark, sizeof(mark));
		cs_session_mark(s, CS_MARK_MODEL_BEGIN, 0, mark);
		ret = cs_session_run(s, argv, &r->core, &r->status, err, sizeof(err));
		cs_session_mark(s, CS_MARK_MODEL_END, r->status, mark);
		if (ret)
			cs_err("%s", err);
		r->ok = !ret && r->status == 0;
	}
	stop_server(&srv);
	return ret;
}

static void write_models_json(FILE *f, const struct cs_model_run *runs, size_t n,
			      unsigned int ncpus)
{
	struct cs_jsonw w;

	cs_json_init(&w, f);
	cs_json_obj_begin(&w);
	cs_json_kstr(&w, "concscope_version", CS_VERSION);
	cs_json_ku64(&w, "ncpus", ncpus);
	cs_models_json(&w, runs, n, ncpus);
	cs_json_obj_end(&w);
}

static int run_models(struct opts *o)
{
	struct cs_model_run runs[CS_MAX_JOBS];
	struct cs_session *s = NULL;
	struct outputs out;
	char err[512] = "";
	int n, i, rc, failed = 0;
	unsigned int ncpus;

	if (!o->models.model)
		o->models.model = "all";
	if (!o->models.lang)
		o->models.lang = "c";
	n = cs_models_plan(&o->models, runs, CS_MAX_JOBS, err, sizeof(err));
	if (n < 0) {
		cs_err("%s", err);
		return CS_EXIT_USAGE;
	}
	rc = start(o, &out, &s, &ncpus);
	if (rc)
		return rc;
	for (i = 0; i < n && !cs_session_interrupted(); i++) {
		if (run_one_model(s, &runs[i], &o->models) && !runs[i].core) {
			failed = 1;
			break;
		}
		cs_model_title(&runs[i]);
		show(runs[i].core, o, ncpus, runs[i].title);
		fputc('\n', stdout);
		fflush(stdout);
		failed |= !runs[i].ok;
	}
	n = i;
	cs_session_close(&s);
	if (n > 1)
		cs_models_compare(stdout, runs, (size_t)n, cs_term_color(stdout, o->color), ncpus);
	if (out.json.f)
		write_models_json(out.json.f, runs, (size_t)n, ncpus);
	close_outputs(&out, true, &rc);
	for (i = 0; i < n; i++)
		cs_core_free(&runs[i].core);
	if (failed)
		cs_err("a workload failed its own check of the result (see its output above)");
	return rc ? rc : failed ? CS_EXIT_FAIL : CS_EXIT_OK;
}

int cs_cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "model", required_argument, NULL, OPT_MODEL },
		{ "work", required_argument, NULL, OPT_WORK },
		{ "tasks", required_argument, NULL, OPT_TASKS },
		{ "lang", required_argument, NULL, OPT_LANG },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ NULL, 0, NULL, 0 },
	};
	struct cs_session *s = NULL;
	struct cs_core *core = NULL;
	struct outputs out;
	char err[512] = "";
	char **cmd;
	int rc, status = -1;
	struct opts o;
	unsigned int ncpus;

	opts_init(&o);
	rc = parse_common("run", argc, argv, &o, "+:o:avh", longopts, run_opt, run_usage);
	if (rc)
		return rc == -1000 ? CS_EXIT_OK : -rc;
	cmd = argv + optind;
	if (*cmd && o.models.model) {
		cs_err("give either a command or --model, not both");
		return CS_EXIT_USAGE;
	}
	if (!*cmd || o.models.model)
		return run_models(&o);
	if (o.models.work || o.models.lang || o.models.tasks || o.models.size) {
		cs_err("--work, --tasks, --size and --lang go with --model");
		return CS_EXIT_USAGE;
	}
	if (!runnable(cmd[0])) {
		cs_err("cannot run '%s': no such program", cmd[0]);
		return CS_EXIT_TARGET;
	}
	rc = start(&o, &out, &s, &ncpus);
	if (rc)
		return rc;
	if (cs_session_run(s, cmd, &core, &status, err, sizeof(err))) {
		cs_err("%s", err);
		cs_session_close(&s);
		close_outputs(&out, false, &rc);
		return CS_EXIT_TARGET;
	}
	cs_session_close(&s);
	{
		char title[256];

		run_title(title, sizeof(title), cmd[0], core);
		show(core, &o, ncpus, title);
	}
	if (out.json.f)
		write_json(out.json.f, core, ncpus, cmd, 0);
	close_outputs(&out, true, &rc);
	cs_core_free(&core);
	return rc;
}

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
		   "  -d, --duration D      how long: seconds, or with a unit (500ms, 2s, 1m)\n%s\n"
		   "Examples:\n"
		   "  sudo concscope attach -p $(pidof myserver) -d 10\n"
		   "  sudo concscope attach -p 1234 --json threads.json\n"
		   "  sudo concscope attach -a -d 2 -o system.pftrace\n", common_help);
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
	if (!o.pid && !o.track_all) {
		cs_err("attach needs -p PID, or -a for every task (see 'concscope attach --help')");
		return CS_EXIT_USAGE;
	}
	rc = o.pid ? cs_proc_check_pid(o.pid) : 0;
	if (rc == -EINVAL) {
		cs_err("pid %d is a kernel thread: concscope traces user processes", o.pid);
		return CS_EXIT_TARGET;
	} else if (rc) {
		cs_err("no process with pid %d", o.pid);
		return CS_EXIT_TARGET;
	}
	rc = start(&o, &out, &s, &ncpus);
	if (rc)
		return rc;
	if (cs_session_attach(s, o.pid, o.duration_ns, &core, err, sizeof(err))) {
		cs_err("%s", err);
		cs_session_close(&s);
		close_outputs(&out, false, &rc);
		return CS_EXIT_TARGET;
	}
	cs_session_close(&s);
	if (o.pid)
		snprintf(title, sizeof(title), "pid %d", o.pid);
	else
		snprintf(title, sizeof(title), "every task");
	show(core, &o, ncpus, title);
	if (out.json.f)
		write_json(out.json.f, core, ncpus, NULL, o.pid);
	close_outputs(&out, true, &rc);
	cs_core_free(&core);
	return rc;
}

static void report_usage(FILE *f)
{
	fprintf(f, "Usage: concscope report FILE [--json OUT] [--lanes N] [--color WHEN]\n\n"
		   "Read a trace written with -o and recompute the timeline, tables and summary\n"
		   "through the same code as the live run: the numbers (and --json) are the same.\n"
		   "Needs no privileges.\n\n"
		   "Options:\n"
		   "      --json FILE       write the summary as JSON\n"
		   "      --lanes N         draw the N busiest threads (default 24)\n"
		   "      --color WHEN      auto, always or never\n"
		   "  -h, --help            this help\n\n"
		   "Examples:\n"
		   "  sudo concscope run -o models.pftrace --model=all && concscope report models.pftrace\n"
		   "  concscope report trace.pftrace --json summary.json\n");
}

/* Print and write what one replayed file held: models, or one run or attach. */
static void report_show(struct cs_replay *r, const struct opts *o, unsigned int ncpus, FILE *json)
{
	struct cs_model_run runs[CS_MAX_JOBS];
	size_t i, nm = 0;
	char title[256];

	for (i = 0; i < r->nsegs && nm < CS_MAX_JOBS; i++) {
		if (!r->segs[i]->is_model)
			continue;
		runs[nm] = r->segs[i]->model;
		runs[nm].core = r->segs[i]->core;
		cs_model_title(&runs[nm]);
		show(runs[nm].core, o, ncpus, runs[nm].title);
		fputc('\n', stdout);
		nm++;
	}
	if (nm) {
		if (nm > 1)
			cs_models_compare(stdout, runs, nm, cs_term_color(stdout, o->color), ncpus);
		if (json)
			write_models_json(json, runs, nm, ncpus);
		return;
	}
	for (i = 0; i < r->nsegs; i++) {
		struct cs_segment *g = r->segs[i];

		if (g->argc)
			run_title(title, sizeof(title), g->argv[0], g->core);
		else
			snprintf(title, sizeof(title), g->pid ? "pid %ld" : "every task", g->pid);
		show(g->core, o, ncpus, title);
		if (json && i == r->nsegs - 1)
			write_json(json, g->core, ncpus, g->argc ? g->argv : NULL, (pid_t)g->pid);
	}
}

int cs_cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", required_argument, NULL, OPT_JSON },
		{ "lanes", required_argument, NULL, OPT_LANES },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cs_core_cfg cfg = { 0 };
	struct cs_pf_info info;
	struct cs_replay r;
	struct outputs out;
	char err[512] = "";
	struct opts o;
	int rc;

	opts_init(&o);
	rc = parse_common("report", argc, argv, &o, ":h", longopts, NULL, report_usage);
	if (rc)
		return rc == -1000 ? CS_EXIT_OK : -rc;
	if (optind != argc - 1) {
		cs_err(optind >= argc ? "report needs a trace file (see 'concscope report --help')" :
		       "report takes one trace file (see 'concscope report --help')");
		return CS_EXIT_USAGE;
	}
	/* check the whole file before anything is printed */
	if (cs_pf_read_info(argv[optind], NULL, NULL, &info, err, sizeof(err))) {
		cs_err("%s: %s", argv[optind], err);
		return CS_EXIT_TARGET;
	}
	rc = open_outputs(&out, &o);
	if (rc)
		return rc;
	cfg.track_all = info.track_all;
	cfg.tl_width_ns = info.tl_width_ns;
	cs_replay_init(&r, &cfg);
	if (cs_pf_read(argv[optind], cs_replay_emit, &r, err, sizeof(err)) || r.error) {
		cs_err("%s: %s", argv[optind], *err ? err : "out of memory");
		cs_replay_free(&r);
		close_outputs(&out, false, &rc);
		return CS_EXIT_TARGET;
	}
	cs_replay_finish(&r, info.end_ts);
	if (!r.nsegs)
		cs_err("%s holds no recording (it was stopped before tracing started)", argv[optind]);
	report_show(&r, &o, info.ncpus, out.json.f);
	close_outputs(&out, true, &rc);
	cs_replay_free(&r);
	return rc;
}
