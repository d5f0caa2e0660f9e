// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * runner.c: the bundled models under the tracer. Each workload is found in
 * the build tree or the install, given its command line, and traced in turn
 * in one session; an io run's server (cs-ioserver) runs beside it,
 * untraced. Then the runs are compared side by side.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"
#include "findings.h"
#include "models.h"
#include "opts.h"
#include "render.h"
#include "replay.h"
#include "runner.h"
#include "session.h"

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

/*
 * Trace the planned runs one after another in one session, showing each as
 * it ends. Returns how many ran: a run that could not start at all is not
 * counted and stops the rest. *failed: a run failed, or its own check did.
 */
static int trace_models(struct cs_live *l, const struct cs_opts *o,
			const struct cs_models_cfg *cfg, struct cs_model_run *runs, int n,
			bool *failed)
{
	int i;

	for (i = 0; i < n && !cs_session_interrupted(); i++) {
		if (run_one_model(l->s, &runs[i], cfg) && !runs[i].core) {
			*failed = true;
			break;
		}
		cs_model_title(&runs[i]);
		/* once, for the terminal, the comparison and the JSON */
		runs[i].findings = runs[i].core ? cs_findings_new(runs[i].core, l->ncpus) : NULL;
		cs_show(runs[i].core, o, l->ncpus, runs[i].title, runs[i].findings);
		fputc('\n', stdout);
		fflush(stdout);
		*failed |= !runs[i].ok;
	}
	return i;
}

int cs_run_models(const struct cs_opts *o)
{
	struct cs_models_cfg cfg = o->models;
	struct cs_model_run runs[CS_MAX_JOBS];
	struct cs_live live;
	char err[512] = "";
	bool failed = false;
	int n, i, rc;

	if (!cfg.model)
		cfg.model = "all";
	if (!cfg.lang)
		cfg.lang = "c";
	n = cs_models_plan(&cfg, runs, CS_MAX_JOBS, err, sizeof(err));
	if (n < 0) {
		cs_err("%s", err);
		return CS_EXIT_USAGE;
	}
	rc = cs_live_start(&live, o);
	if (rc)
		return rc;
	n = trace_models(&live, o, &cfg, runs, n, &failed);
	if (!n && !failed && cs_session_interrupted()) /* said, as run -- CMD says it */
		printf("--model=%s: not started (interrupted before tracing began)\n", cfg.model);
	drop_failed_outputs(&live.out, cs_session_close(&live.s));
	if (n > 1)
		cs_models_compare(stdout, runs, (size_t)n, cs_term_color(stdout, o->color),
				  live.ncpus);
	if (live.out.json.f)
		cs_write_models_json(live.out.json.f, runs, (size_t)n, live.ncpus);
	if (live.out.csv.f)
		cs_write_models_csv(live.out.csv.f, runs, (size_t)n);
	close_outputs(&live.out, true, &rc);
	for (i = 0; i < n; i++) {
		cs_core_free(&runs[i].core);
		free(runs[i].findings);
	}
	if (failed)
		cs_err("a workload failed its own check of the result (see its output above)");
	return rc ? rc : failed ? CS_EXIT_FAIL : CS_EXIT_OK;
}
