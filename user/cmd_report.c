// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cmd_report.c: concscope report: a saved trace read back through the
 * same code as the live run, so the numbers (and --json) are the same.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include "cli.h"
#include "findings.h"
#include "models.h"
#include "opts.h"
#include "pftrace.h"
#include "render.h"
#include "replay.h"
#include "stacks.h"
#include "summary.h"

static void report_usage(FILE *f)
{
	fprintf(f, "Usage: concscope report FILE [--json OUT] [--csv OUT] [OPTIONS]\n\n"
		   "Read a trace written with -o and recompute the timeline, tables and summary\n"
		   "through the same code as the live run: the numbers (and --json) are the same.\n"
		   "Needs no privileges.\n\n"
		   "Options:\n"
		   "      --json FILE       write the summary as JSON\n"
		   "      --folded FILE     blocked time per stack, folded (of a trace\n"
		   "                        recorded with call stacks)\n"
		   "      --lanes N         draw the N busiest threads (default 24; of many\n"
		   "                        processes, the N busiest programs: default 5)\n"
		   "      --loop-threshold DUR  an event loop's turn this long is an episode\n"
		   "                        (default 10ms)\n"
		   "      --color WHEN      auto, always or never\n"
		   "      --critical-path TID\n"
		   "                        where thread TID's wall time went, back along the\n"
		   "                        wake-ups to the window's start (a run's trace shows\n"
		   "                        the command's without it)\n"
		   "%s%s"
		   "  -h, --help            this help\n\n"
		   "Examples:\n"
		   "  sudo concscope run -o models.pftrace --model=all && concscope report models.pftrace\n"
		   "  concscope report trace.pftrace --json summary.json\n"
		   "  concscope report trace.pftrace --pid 1234 --sort ready --csv threads.csv\n",
		cs_pid_filter_help, cs_view_help);
}

/* Print and write what one replayed file held: models, or one run or attach. */
static void report_show(struct cs_replay *r, const struct cs_opts *o, unsigned int ncpus,
			FILE *json, FILE *csv, FILE *folded)
{
	struct cs_model_run runs[CS_MAX_JOBS];
	size_t i, nm = 0;

	for (i = 0; i < r->nsegs && nm < CS_MAX_JOBS; i++) {
		if (!r->segs[i]->is_model)
			continue;
		runs[nm] = r->segs[i]->model;
		runs[nm].core = r->segs[i]->core;
		cs_model_title(&runs[nm]);
		/* once, for the terminal, the comparison and the JSON */
		runs[nm].findings = cs_findings_new(runs[nm].core, ncpus);
		cs_show(runs[nm].core, o, ncpus, runs[nm].title, runs[nm].findings);
		fputc('\n', stdout);
		nm++;
	}
	if (nm) {
		if (nm > 1)
			cs_models_compare(stdout, runs, nm, cs_term_color(stdout, o->color), ncpus);
		if (json)
			cs_write_models_json(json, runs, nm, ncpus);
		if (csv)
			cs_write_models_csv(csv, runs, nm);
		for (i = 0; i < nm; i++)
			free(runs[i].findings);
		return;
	}
	for (i = 0; i < r->nsegs; i++) {
		struct cs_segment *g = r->segs[i];
		struct cs_target t = { .argv = g->argc ? g->argv : NULL, .pid = g->pid };

		struct cs_findings *fs = cs_findings_new(g->core, ncpus); /* for both */

		cs_show_target(g->core, o, ncpus, &t, fs);
		if (json && i == r->nsegs - 1)
			cs_write_json(json, g->core, ncpus, &t, fs);
		free(fs);
		if (folded && i == r->nsegs - 1)
			cs_stacks_folded(folded, g->core);
		if (csv && i == r->nsegs - 1)
			cs_summary_csv(csv, g->core, NULL, NULL, true);
	}
}

static const struct option report_longopts[] = {
	{ "json", required_argument, NULL, OPT_JSON },
	{ "folded", required_argument, NULL, OPT_FOLDED },
	{ "lanes", required_argument, NULL, OPT_LANES },
	{ "loop-threshold", required_argument, NULL, OPT_LOOP_THRESHOLD },
	{ "color", required_argument, NULL, OPT_COLOR },
	{ "critical-path", required_argument, NULL, OPT_CRITPATH },
	{ "help", no_argument, NULL, 'h' },
	CS_VIEW_LONGOPTS,
	CS_PID_FILTER_LONGOPT,
	{ NULL, 0, NULL, 0 },
};

const struct cs_cmd_syntax cs_report_syntax = {
	.name = "report", .shortopts = ":h", .longopts = report_longopts,
	.own_opt = NULL, .usage = report_usage,
};

int cs_cmd_report(int argc, char **argv)
{
	struct cs_core_cfg cfg = { 0 };
	struct cs_pf_reader *pf;
	struct cs_pf_info info;
	struct cs_replay r;
	struct outputs out;
	char err[512] = "";
	enum cs_parse_result pr;
	struct cs_opts o;
	int rc;

	pr = cs_opts_parse(&cs_report_syntax, argc, argv, &o);
	if (pr != CS_PARSE_OK)
		return cs_parse_exit_code(pr);
	if (optind != argc - 1) {
		cs_err(optind >= argc ? "report needs a trace file (see 'concscope report --help')" :
		       "report takes one trace file (see 'concscope report --help')");
		return CS_EXIT_USAGE;
	}
	/* the header gives the cores' configuration; the records come in one pass */
	if (cs_pf_load(&pf, argv[optind], &info, err, sizeof(err))) {
		cs_err("%s: %s", argv[optind], err);
		return CS_EXIT_TARGET;
	}
	cfg.track_all = info.track_all;
	cfg.tl_width_ns = info.tl_width_ns;
	cfg.loop_threshold_ns = o.loop_threshold_ns;
	/* a run's critical path is shown as the live run showed it */
	o.critpath.on = true;
	cfg.on_new = cs_critpath_attach;
	cfg.on_new_arg = &o.critpath;
	cs_replay_init(&r, &cfg);
	rc = cs_pf_stream(pf, cs_replay_emit, &r, &info, err, sizeof(err));
	cs_pf_unload(&pf);
	/* a fault anywhere: what was replayed is dropped, nothing was printed */
	if (rc || r.error) {
		cs_err("%s: %s", argv[optind], *err ? err : "out of memory");
		cs_replay_free(&r);
		return CS_EXIT_TARGET;
	}
	rc = open_outputs(&out, &o);
	if (rc) {
		cs_replay_free(&r);
		return rc;
	}
	cs_replay_finish(&r, info.end_ts);
	if (!r.nsegs)
		cs_err("%s holds no recording (it was stopped before tracing started)", argv[optind]);
	report_show(&r, &o, info.ncpus, out.json.f, out.csv.f, out.folded.f);
	close_outputs(&out, true, &rc);
	cs_replay_free(&r);
	return rc;
}
