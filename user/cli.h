/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * cli.h: the subcommands, their exit codes and the one error printer; and
 * what the commands share (cli.c): their output files, a live trace from
 * start to shown result, and how a traced core is titled, shown and written.
 */
#ifndef CS_CLI_H
#define CS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "outfile.h"

struct cs_core;
struct cs_findings;
struct cs_model_run;
struct cs_opts;
struct cs_pf_writer;
struct cs_session;

/*
 * Exit codes (documented in --help and the README). run CMD exits with
 * CMD's status instead, unless concscope itself failed.
 */
enum cs_exit_code {
	CS_EXIT_OK = 0,
	CS_EXIT_FAIL = 1,    /* tracing or writing failed */
	CS_EXIT_USAGE = 2,   /* bad option, value or output path */
	CS_EXIT_ENV = 3,     /* not privileged, no kernel BTF */
	CS_EXIT_TARGET = 4,  /* no such process, or the command cannot run */
};

int cs_cmd_run(int argc, char **argv);
int cs_cmd_attach(int argc, char **argv);
int cs_cmd_report(int argc, char **argv);

/* A wait status as an exit code: N, 128 + signal, or -1 (none: left running). */
int cs_exit_code_of(int status);

/* Print "concscope: <msg>" on stderr. */
void cs_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The files a command writes (--json, -o, --dump-raw), each whole or not at all. */
struct outputs {
	struct cs_outfile json;
	struct cs_outfile csv;
	struct cs_outfile dump;
	struct cs_outfile folded;
	struct cs_pf_writer *trace;
	const char *trace_path;
	int trace_err;       /* the error that made drop_failed_outputs() remove the trace */
	char dump_err[256];  /* what went wrong with the dump it removed, or "" */
};

/* Create the files o names: an exit code, each failure reported. */
int open_outputs(struct outputs *out, const struct cs_opts *o);
/*
 * After tracing, before the summary is written: remove the outputs that
 * already failed (the trace, given its writer's error trace_err; a raw dump
 * with a write error), so that the room they took on a full disk is free
 * for the JSON. close_outputs() reports them.
 */
void drop_failed_outputs(struct outputs *out, int trace_err);
/*
 * Keep them (commit) or remove them, the JSON first and the trace last; a
 * failure is reported, one line per file, and sets *rc.
 */
void close_outputs(struct outputs *out, bool commit, int *rc);

/* A live trace: its session, the files it writes, the CPUs it saw. */
struct cs_live {
	struct cs_session *s;
	struct outputs out;
	unsigned int ncpus;
};

/*
 * Before tracing (run, attach and the models): check privileges and BTF,
 * open the outputs, load and attach. An exit code, CS_EXIT_OK on success.
 */
int cs_live_start(struct cs_live *l, const struct cs_opts *o);

/* What a core traced: a command (argv), else a process (pid; 0: every task). */
struct cs_target {
	char *const *argv;
	long pid;
};

/*
 * The end of run and attach, given what tracing returned (traced: 0, or an
 * error described in err): close the session; show the core and write its
 * JSON; keep the outputs only if tracing worked; free the core. An exit code.
 */
int cs_live_finish(struct cs_live *l, const struct cs_opts *o, const struct cs_target *t,
		   int traced, const char *err, struct cs_core **core);

/*
 * The terminal view of one core under a title; fs: its findings, computed
 * once for all of the core's outputs (cs_findings_new; NULL: computed here).
 */
void cs_show(const struct cs_core *c, const struct cs_opts *o, unsigned int ncpus,
	     const char *title, const struct cs_findings *fs);
/* ... under its target's title: "CMD: exited with status N", "pid N", "every task". */
void cs_show_target(const struct cs_core *c, const struct cs_opts *o, unsigned int ncpus,
		    const struct cs_target *t, const struct cs_findings *fs);
/* The --json document of one traced core (fs: as cs_show's), and of the bundled models. */
void cs_write_json(FILE *f, const struct cs_core *c, unsigned int ncpus,
		   const struct cs_target *t, const struct cs_findings *fs);
void cs_write_models_json(FILE *f, const struct cs_model_run *runs, size_t n,
			  unsigned int ncpus);
/* The --csv table of the bundled models' threads (model and work first). */
void cs_write_models_csv(FILE *f, const struct cs_model_run *runs, size_t n);

#endif
