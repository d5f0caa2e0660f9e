// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cli.c: what the commands (cmd_*.c) share: the error printer, the output
 * files, a live trace from its checks to its shown result, and the title,
 * terminal view and JSON of a traced core.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"
#include "critpath_show.h"
#include "findings.h"
#include "findings_trace.h"
#include "jsonw.h"
#include "stacks.h"
#include "models.h"
#include "opts.h"
#include "outfile.h"
#include "pftrace.h"
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

/* Checks that need no tracing: privileges and kernel BTF. */
static int check_env(const struct cs_opts *o)
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

static int trace_feed(void *ctx, const struct cs_hdr *ev)
{
	return cs_pf_feed(ctx, ev);
}

/* Create the Perfetto trace (a temporary sibling until it is complete). */
static int open_trace(struct outputs *out, const char *path, const struct cs_opts *o)
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

int open_outputs(struct outputs *out, const struct cs_opts *o)
{
	char err[512];

	memset(out, 0, sizeof(*out));
	if ((o->json_path && cs_outfile_open(&out->json, o->json_path, err, sizeof(err))) ||
	    (o->csv_path && cs_outfile_open(&out->csv, o->csv_path, err, sizeof(err)))) {
		cs_err("%s", err);
		cs_outfile_close(&out->json, false, NULL, 0);
		return CS_EXIT_USAGE;
	}
	if (o->trace_path && open_trace(out, o->trace_path, o)) {
		cs_outfile_close(&out->json, false, NULL, 0);
		cs_outfile_close(&out->csv, false, NULL, 0);
		return CS_EXIT_USAGE;
	}
	if ((o->dump_path && cs_outfile_open(&out->dump, o->dump_path, err, sizeof(err))) ||
	    (o->folded_path && cs_outfile_open(&out->folded, o->folded_path, err, sizeof(err)))) {
		cs_err("%s", err);
		cs_outfile_close(&out->json, false, NULL, 0);
		cs_outfile_close(&out->csv, false, NULL, 0);
		cs_outfile_close(&out->dump, false, NULL, 0);
		cs_pf_close(&out->trace, false);
		return CS_EXIT_USAGE;
	}
	return CS_EXIT_OK;
}

void drop_failed_outputs(struct outputs *out, int trace_err)
{
	if (out->trace && trace_err) {
		cs_pf_close(&out->trace, false);
		out->trace_err = trace_err;
	}
	if (out->dump.f && ferror(out->dump.f) &&
	    !cs_outfile_close(&out->dump, false, out->dump_err, sizeof(out->dump_err)))
		snprintf(out->dump_err, sizeof(out->dump_err), "cannot write the raw dump");
}

void close_outputs(struct outputs *out, bool commit, int *rc)
{
	char err[512];
	int ret = out->trace_err;

	if (cs_outfile_close(&out->json, commit, err, sizeof(err))) {
		cs_err("%s", err);
		*rc = CS_EXIT_FAIL;
	}
	if (cs_outfile_close(&out->csv, commit, err, sizeof(err)) ||
	    cs_outfile_close(&out->folded, commit, err, sizeof(err))) {
		cs_err("%s", err);
		*rc = CS_EXIT_FAIL;
	}
	if (cs_outfile_close(&out->dump, commit, err, sizeof(err)) || out->dump_err[0]) {
		cs_err("%s", out->dump_err[0] ? out->dump_err : err);
		*rc = CS_EXIT_FAIL;
	}
	if (out->trace)
		ret = cs_pf_close(&out->trace, commit);
	if (ret) {
		cs_err("cannot write '%s': %s; no trace was left behind", out->trace_path,
		       strerror(-ret));
		*rc = CS_EXIT_FAIL;
	} else if (commit && out->trace_path) {
		cs_chown_to_invoker(out->trace_path);
	}
	out->trace_err = 0;
	out->dump_err[0] = 0;
}

static struct cs_session_opts session_opts(const struct cs_opts *o, const struct outputs *out)
{
	struct cs_session_opts so = {
		.tracer = { .track_all = o->track_all, .rb_bytes = o->rb_bytes,
			    .btf_path = o->btf, .verbose = o->verbose, .no_locks = o->no_locks,
			    .futex_syscalls = o->futex_syscalls, .stacks = o->stacks },
		.dump = out->dump.f,
		.sink = { .feed = out->trace ? trace_feed : NULL, .ctx = out->trace },
		.ready_fd = o->ready_fd,
		.progress = !o->quiet && isatty(STDERR_FILENO),
		.signal_grace_ms = 2000,
		.loop_threshold_ns = o->loop_threshold_ns,
		.on_core = o->critpath.on ? cs_critpath_attach : NULL,
		.on_core_arg = &o->critpath,
	};
	if (out->trace) /* the untraced time and the lock waits, as slices */
		cs_pf_slices(out->trace, &so.sink.slices);
	return so;
}

int cs_exit_code_of(int status)
{
	if (status < 0)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/* Why a recording ended, for the terminal (or the JSON's end_reason); NULL: not said. */
static const char *end_reason(const struct cs_core *c, bool json)
{
	switch (cs_core_end_reason(c)) {
	case CS_END_EXITED: return json ? "target_exited" : "target exited";
	case CS_END_DURATION: return json ? "duration_ended" : "duration ended";
	case CS_END_INTERRUPTED: return "interrupted";
	default: return NULL;
	}
}

void cs_write_json(FILE *f, const struct cs_core *c, unsigned int ncpus,
		   const struct cs_target *t, const struct cs_findings *fs)
{
	struct cs_jsonw w;
	int i;

	cs_json_init(&w, f);
	cs_json_obj_begin(&w);
	cs_json_kstr(&w, "concscope_version", CS_VERSION);
	if (t->argv) {
		cs_json_key(&w, "command");
		cs_json_arr_begin(&w);
		for (i = 0; t->argv[i]; i++)
			cs_json_str(&w, t->argv[i]);
		cs_json_arr_end(&w);
		cs_json_ki64(&w, "exit_status", cs_exit_code_of(cs_core_cmd_status(c)));
	} else {
		cs_json_ku64(&w, "pid", (uint64_t)(pid_t)t->pid); /* a saved trace's, as pid_t */
	}
	if (end_reason(c, true))
		cs_json_kstr(&w, "end_reason", end_reason(c, true));
	cs_summary_json_with(&w, c, ncpus, fs);
	cs_critpath_json(&w, c, t->argv != NULL);
	cs_json_obj_end(&w);
}

void cs_write_models_json(FILE *f, const struct cs_model_run *runs, size_t n,
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

void cs_write_models_csv(FILE *f, const struct cs_model_run *runs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cs_summary_csv(f, runs[i].core, runs[i].model, runs[i].work, i == 0);
}

static void run_title(char *title, size_t len, const char *cmd, const struct cs_core *c)
{
	int code = cs_exit_code_of(cs_core_cmd_status(c));

	if (code < 0 && !cs_core_nthreads(c) && !cs_core_duration(c))
		snprintf(title, len, "%s: not started (interrupted before tracing began)", cmd);
	else if (code < 0)
		snprintf(title, len, "%s: left running", cmd);
	else
		snprintf(title, len, "%s: exited with status %d%s", cmd, code,
			 code > 128 ? " (killed by a signal)" : "");
}

/* The summary, then after (NULL: nothing), within the default length. */
static void show_then(const struct cs_core *c, const struct cs_opts *o, unsigned int ncpus,
		      const char *title, const char *after, const struct cs_findings *fs)
{
	struct cs_render_opts ro = {
		.width = cs_term_width(stdout),
		.color = cs_term_color(stdout, o->color),
		.max_lanes = o->lanes,
		.ncpus = ncpus,
		.title = title,
		.view = &o->view,
		.top = o->top,
		.after = after,
		.findings = fs,
	};

	cs_render(stdout, c, &ro);
}

void cs_show(const struct cs_core *c, const struct cs_opts *o, unsigned int ncpus,
	     const char *title, const struct cs_findings *fs)
{
	show_then(c, o, ncpus, title, NULL, fs);
}

void cs_show_target(const struct cs_core *c, const struct cs_opts *o, unsigned int ncpus,
		    const struct cs_target *t, const struct cs_findings *fs)
{
	char title[256], *after = NULL;
	size_t len = 0;
	FILE *path;

	if (t->argv)
		run_title(title, sizeof(title), t->argv[0], c);
	else if (t->pid)
		snprintf(title, sizeof(title), "pid %ld%s%s", t->pid, end_reason(c, false) ? ": " : "",
			 end_reason(c, false) ? end_reason(c, false) : "");
	else
		snprintf(title, sizeof(title), "every task%s%s", end_reason(c, false) ? ": " : "",
			 end_reason(c, false) ? end_reason(c, false) : "");
	/* the critical path comes last, and counts in the summary's length */
	path = open_memstream(&after, &len);
	if (path) {
		cs_critpath_show(path, c, t->argv != NULL, cs_term_width(stdout),
				 cs_term_color(stdout, o->color));
		fclose(path);
	}
	show_then(c, o, ncpus, title, after, fs);
	free(after);
}

int cs_live_start(struct cs_live *l, const struct cs_opts *o)
{
	struct cs_session_opts so;
	char err[512] = "";
	int rc, ret;

	l->s = NULL;
	rc = check_env(o);
	if (rc)
		return rc;
	rc = open_outputs(&l->out, o);
	if (rc)
		return rc;
	so = session_opts(o, &l->out);
	ret = cs_session_open(&l->s, &so, err, sizeof(err));
	if (ret) {
		cs_err("%s", err);
		close_outputs(&l->out, false, &rc);
		return ret == -ENOEXEC ? CS_EXIT_ENV : CS_EXIT_FAIL;
	}
	l->ncpus = cs_session_ncpus(l->s);
	return CS_EXIT_OK;
}

int cs_live_finish(struct cs_live *l, const struct cs_opts *o, const struct cs_target *t,
		   int traced, const char *err, struct cs_core **core)
{
	int rc = CS_EXIT_OK, terr;
	struct cs_findings *fs;

	if (traced) {
		cs_err("%s", err);
		cs_session_close(&l->s);
		close_outputs(&l->out, false, &rc);
		return CS_EXIT_TARGET;
	}
	terr = cs_session_close(&l->s);
	fs = cs_findings_new(*core, l->ncpus); /* once, for the trace, the terminal and the JSON */
	/* the critical path's track goes into the trace before the JSON is written, so that
	 * a trace that fills the disk is removed first and leaves the JSON its room */
	if (!terr && l->out.trace)
		terr = cs_critpath_trace(l->out.trace, *core, t->argv != NULL);
	if (!terr && l->out.trace)
		terr = cs_findings_trace(l->out.trace, *core, l->ncpus, fs);
	drop_failed_outputs(&l->out, terr);
	cs_show_target(*core, o, l->ncpus, t, fs);
	if (l->out.json.f)
		cs_write_json(l->out.json.f, *core, l->ncpus, t, fs);
	free(fs);
	if (l->out.folded.f)
		cs_stacks_folded(l->out.folded.f, *core);
	if (l->out.csv.f)
		cs_summary_csv(l->out.csv.f, *core, NULL, NULL, true);
	close_outputs(&l->out, true, &rc);
	cs_core_free(core);
	return rc;
}
