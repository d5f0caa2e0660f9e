// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "findings.h"
#include "models.h"
#include "render.h"
#include "summary.h"

static const char *const all_models[] = { "processes", "threads", "threads-gil", "async" };
static const char *const all_works[] = { "cpu", "io", "mixed" };
#define NMODELS (sizeof(all_models) / sizeof(*all_models))
#define NWORKS (sizeof(all_works) / sizeof(*all_works))

static bool one_of(const char *s, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(s, set[i]))
			return true;
	return false;
}

int cs_models_plan(const struct cs_models_cfg *cfg, struct cs_model_run *runs, size_t max,
		   char *err, size_t errlen)
{
	bool all = !strcmp(cfg->model, "all"), py = !strcmp(cfg->lang, "python");
	const char *works[2];
	size_t nworks = 0, n = 0, w, m;

	if (!all && !one_of(cfg->model, all_models, NMODELS)) {
		snprintf(err, errlen, "unknown model '%s' (processes, threads, threads-gil, async or all)",
			 cfg->model);
		return -EINVAL;
	}
	if (strcmp(cfg->lang, "c") && !py) {
		snprintf(err, errlen, "unknown language '%s' (c or python)", cfg->lang);
		return -EINVAL;
	}
	if (py && !strcmp(cfg->model, "threads-gil")) {
		snprintf(err, errlen, "--lang=python has no threads-gil model: CPython's threads "
			 "already run behind its GIL (use --model=threads)");
		return -EINVAL;
	}
	if (cfg->work && !one_of(cfg->work, all_works, NWORKS)) {
		snprintf(err, errlen, "unknown work '%s' (cpu, io or mixed)", cfg->work);
		return -EINVAL;
	}
	if (cfg->work)
		works[nworks++] = cfg->work;
	else {
		works[nworks++] = "cpu";
		if (all)
			works[nworks++] = "io";
	}
	for (w = 0; w < nworks; w++) {
		for (m = 0; m < NMODELS; m++) {
			const char *model = all_models[m];

			if (!all && strcmp(model, cfg->model))
				continue;
			if (py && !strcmp(model, "threads-gil"))
				continue;
			if (n == max)
				return (int)n;
			memset(&runs[n], 0, sizeof(runs[n]));
			runs[n].model = model;
			runs[n].work = works[w];
			runs[n].lang = py ? "python" : "c";
			runs[n].tasks = cfg->tasks ? cfg->tasks : 4;
			runs[n].status = -1;
			n++;
		}
	}
	return (int)n;
}

void cs_model_title(struct cs_model_run *r)
{
	size_t np = 0, nt = 0;

	if (r->core)
		cs_core_shape(r->core, &np, &nt);
	snprintf(r->title, sizeof(r->title), "%s%s: %zu process%s x %zu thread%s, %s work%s",
		 r->model, strcmp(r->lang, "c") ? " (python)" : "", np, np == 1 ? "" : "es", nt,
		 nt == 1 ? "" : "s", r->work, r->ok ? "" : " [FAILED]");
}

/* ---- measured figures of one run ---- */

struct figures {
	size_t nprocs, nthreads;
	uint64_t wall, cpu, all, ready, blocked, lock, vcsw, icsw;
	double par;
};

static void measure(const struct cs_model_run *r, struct figures *fg)
{
	struct cs_totals t;

	memset(fg, 0, sizeof(*fg));
	if (!r->core)
		return;
	cs_core_totals(r->core, &t);
	cs_core_shape(r->core, &fg->nprocs, &fg->nthreads);
	fg->wall = cs_core_duration(r->core);
	fg->cpu = t.ns[CS_ST_RUNNING];
	fg->ready = t.ns[CS_ST_READY];
	fg->blocked = t.ns[CS_ST_SLEEP] + t.ns[CS_ST_IO];
	fg->lock = t.ns[CS_ST_LOCK];
	fg->all = fg->cpu + fg->ready + fg->blocked + fg->lock;
	fg->vcsw = t.nvcsw;
	fg->icsw = t.nivcsw;
	fg->par = t.parallelism;
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0;
}

static void row(FILE *f, const struct cs_model_run *r, const struct figures *fg)
{
	char wall[16], cpu[16], lock[16], shape[16];
	double secs = (double)fg->wall / 1e9;

	cs_fmt_ns(wall, sizeof(wall), fg->wall);
	cs_fmt_ns(cpu, sizeof(cpu), fg->cpu);
	cs_fmt_ns(lock, sizeof(lock), fg->lock);
	snprintf(shape, sizeof(shape), "%zux%zu", fg->nprocs, fg->nthreads);
	fprintf(f, "%-12s %-5s %7s %9s %9s %5.2f %5.1f %5.1f %5.1f %9s %7llu %7llu %8.0f%s\n",
		r->model, r->work, shape, wall, cpu, fg->par, pct(fg->cpu, fg->all),
		pct(fg->ready, fg->all), pct(fg->blocked, fg->all), lock,
		(unsigned long long)fg->vcsw, (unsigned long long)fg->icsw,
		secs > 0 ? (double)(fg->vcsw + fg->icsw) / secs : 0, r->ok ? "" : "  FAILED");
}

static const struct cs_model_run *find(const struct cs_model_run *runs, const struct figures *fg,
				       size_t n, const char *model, const char *work,
				       const struct figures **out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strcmp(runs[i].model, model) && !strcmp(runs[i].work, work) && runs[i].core) {
			*out = &fg[i];
			return &runs[i];
		}
	}
	return NULL;
}

/* The time a run's ready threads waited behind other programs (other_cpu_ns). */
static uint64_t other_cpu(const struct cs_core *c)
{
	const struct cs_other *o;
	size_t i, n = cs_core_others(c, &o);
	uint64_t ns = 0;

	for (i = 0; i < n; i++)
		ns += o[i].ns;
	return ns;
}

/* Why a run used about one CPU at a time, from its findings and their figures. */
static void why_single(char *buf, size_t len, const struct cs_model_run *r, unsigned int ncpus)
{
	struct cs_findings *own;
	const struct cs_findings *fs = cs_findings_get(r->findings, r->core, ncpus, &own);
	const struct cs_finding *f;
	struct cs_totals t;
	uint64_t other = other_cpu(r->core);
	char b1[16], b2[CS_LOCK_NAME + 32];

	snprintf(buf, len, "its threads ran one at a time");
	if (!fs)
		return;
	cs_core_totals(r->core, &t);
	if ((f = cs_findings_find(fs, CS_FIND_SERIALIZED, 0)) && f->lock) {
		snprintf(buf, len, "its threads queued on one lock, %s",
			 cs_lock_label(f->lock, b2, sizeof(b2)));
	} else if (other * 2 >= t.ns[CS_ST_READY] && t.ns[CS_ST_READY] * 5 >= t.ns[CS_ST_RUNNING]) {
		/* half its threads' wait for a CPU was behind other programs: not its fault */
		cs_fmt_ns(b1, sizeof(b1), other);
		snprintf(buf, len, "other programs held the CPUs (its threads waited %s behind them)",
			 b1);
	} else if ((f = cs_findings_find(fs, CS_FIND_SHAPE, 0)) &&
		   cs_finding_fig(f, "threads_doing_95pct_cpu") == 1) {
		snprintf(buf, len, "one thread did the work");
	}
	free(own);
}

/* Which models used several CPUs, and which could not, and why (from their findings). */
static void find_parallel(FILE *f, const struct cs_model_run *runs, const struct figures *fg,
			  size_t n, const char *work, unsigned int ncpus)
{
	char multi[256] = "", why[160];
	size_t i, len;

	for (i = 0; i < n; i++) {
		if (strcmp(runs[i].work, work) || !runs[i].core)
			continue;
		if (fg[i].par >= 1.5) {
			len = strlen(multi);
			snprintf(multi + len, sizeof(multi) - len, "%s%s %.2f", len ? ", " : "",
				 runs[i].model, fg[i].par);
		} else if (fg[i].par <= 1.2) {
			why_single(why, sizeof(why), &runs[i], ncpus);
			fprintf(f, "- %s work: %s used about one CPU at a time (parallelism %.2f): "
				"%s.\n", work, runs[i].model, fg[i].par, why);
		}
	}
	if (multi[0])
		fprintf(f, "- %s work: more than one of the %u CPUs was used by %s (parallelism).\n",
			work, ncpus, multi);
}

static void find_gil(FILE *f, const struct cs_model_run *runs, const struct figures *fg, size_t n,
		     const char *work)
{
	const struct figures *g, *t;

	if (!find(runs, fg, n, "threads-gil", work, &g))
		return;
	fprintf(f, "- %s work: threads-gil spent %.0f%% of its threads' time waiting for its lock",
		work, pct(g->lock, g->all));
	if (find(runs, fg, n, "threads", work, &t) && t->vcsw && g->vcsw >= 2 * t->vcsw)
		fprintf(f, " and switched voluntarily %.0fx as often as threads (%llu vs %llu)",
			(double)g->vcsw / (double)t->vcsw, (unsigned long long)g->vcsw,
			(unsigned long long)t->vcsw);
	fprintf(f, ".\n");
}

static void find_io(FILE *f, const struct cs_model_run *runs, const struct figures *fg, size_t n,
		    const char *work)
{
	const struct figures *a, *t;
	double lo = 100, hi = 0;
	size_t i;

	if (find(runs, fg, n, "async", work, &a) && find(runs, fg, n, "threads", work, &t)) {
		char aw[16], tw[16];

		cs_fmt_ns(aw, sizeof(aw), a->wall);
		cs_fmt_ns(tw, sizeof(tw), t->wall);
		fprintf(f, "- %s work: async took %s with %zu thread and %llu switches; threads took "
			"%s with %zu threads and %llu switches.\n", work, aw, a->nthreads,
			(unsigned long long)(a->vcsw + a->icsw), tw, t->nthreads,
			(unsigned long long)(t->vcsw + t->icsw));
	}
	for (i = 0; i < n; i++) {
		double b;

		if (strcmp(runs[i].work, work) || !runs[i].core)
			continue;
		b = pct(fg[i].blocked + fg[i].lock, fg[i].all);
		lo = b < lo ? b : lo;
		hi = b > hi ? b : hi;
	}
	if (hi > 0) {
		char range[32];

		if ((int)(lo + 0.5) == (int)(hi + 0.5))
			snprintf(range, sizeof(range), "%.0f%%", hi);
		else
			snprintf(range, sizeof(range), "%.0f%% to %.0f%%", lo, hi);
		fprintf(f, "- %s work: the models were blocked %s of their threads' time: %s\n", work,
			range, lo >= 50 ? "waiting, not computing, is what they do." :
			"they mostly computed.");
	}
}

/* The async loop: was it held up outside its event wait (its loop_blocked finding)? */
static void find_async_loop(FILE *f, const struct cs_model_run *runs, size_t n,
			    unsigned int ncpus)
{
	struct cs_findings *own;
	const struct cs_findings *fs;
	const struct cs_finding *lb, *sh;
	size_t i;
	char th[16];

	for (i = 0; i < n; i++) {
		if (strcmp(runs[i].model, "async") || !runs[i].core)
			continue;
		fs = cs_findings_get(runs[i].findings, runs[i].core, ncpus, &own);
		if (!fs)
			break;
		cs_fmt_ns(th, sizeof(th), cs_ep_threshold(runs[i].core));
		sh = cs_findings_find(fs, CS_FIND_SHAPE, 0);
		if ((lb = cs_findings_find(fs, CS_FIND_LOOP_BLOCKED, 0)))
			fprintf(f, "- %s work: async's %s: a blocking call stalls every task on the "
				"loop.\n", runs[i].work, lb->text);
		else if (!sh || !cs_finding_fig(sh, "event_loops"))
			fprintf(f, "- %s work: async's thread never waited for events: its tasks ran "
				"one after another.\n", runs[i].work);
		else
			fprintf(f, "- %s work: async's loop was never held up %s or more outside its "
				"event wait.\n", runs[i].work, th);
		free(own);
	}
}

static void find_fastest(FILE *f, const struct cs_model_run *runs, const struct figures *fg,
			 size_t n, const char *work)
{
	size_t i, best = n, worst = n;
	char w[16], w2[16];

	for (i = 0; i < n; i++) {
		if (strcmp(runs[i].work, work) || !runs[i].core)
			continue;
		if (best == n || fg[i].wall < fg[best].wall)
			best = i;
		if (worst == n || fg[i].wall > fg[worst].wall)
			worst = i;
	}
	if (best == n)
		return;
	cs_fmt_ns(w, sizeof(w), fg[best].wall);
	cs_fmt_ns(w2, sizeof(w2), fg[worst].wall);
	if (fg[worst].wall * 100 <= fg[best].wall * 105)
		fprintf(f, "- %s work: every model took about as long (%s to %s).\n", work, w, w2);
	else
		fprintf(f, "- %s work: fastest was %s (%s; slowest %s, %s).\n", work,
			runs[best].model, w, runs[worst].model, w2);
}

void cs_models_compare(FILE *f, const struct cs_model_run *runs, size_t n, bool color,
		       unsigned int ncpus)
{
	struct figures fg[CS_MAX_JOBS];
	const char *works[NWORKS];
	size_t i, j, nworks = 0;

	if (n > CS_MAX_JOBS)
		n = CS_MAX_JOBS;
	for (i = 0; i < n; i++) {
		measure(&runs[i], &fg[i]);
		for (j = 0; j < nworks && strcmp(works[j], runs[i].work); j++)
			;
		if (j == nworks && nworks < NWORKS)
			works[nworks++] = runs[i].work;
	}
	fprintf(f, "\n%scomparison%s (PxT = processes x threads; %% of all threads' time)\n",
		color ? "\033[1m" : "", color ? "\033[0m" : "");
	fprintf(f, "%-12s %-5s %7s %9s %9s %5s %5s %5s %5s %9s %7s %7s %8s\n", "MODEL", "WORK", "PxT",
		"WALL", "CPU", "PAR", "RUN%", "RDY%", "BLK%", "LOCK", "VCSW", "ICSW", "SW/s");
	for (i = 0; i < n; i++)
		row(f, &runs[i], &fg[i]);
	fprintf(f, "\nfindings (from the numbers above):\n");
	for (j = 0; j < nworks; j++) {
		find_fastest(f, runs, fg, n, works[j]);
		if (!strcmp(works[j], "cpu"))
			find_parallel(f, runs, fg, n, works[j], ncpus);
		find_gil(f, runs, fg, n, works[j]);
		if (strcmp(works[j], "cpu"))
			find_io(f, runs, fg, n, works[j]);
	}
	find_async_loop(f, runs, n, ncpus);
}

void cs_models_json(struct cs_jsonw *w, const struct cs_model_run *runs, size_t n,
		    unsigned int ncpus)
{
	struct cs_totals sum, t;
	uint64_t dur = 0;
	size_t i;

	memset(&sum, 0, sizeof(sum));
	cs_json_key(w, "models");
	cs_json_arr_begin(w);
	for (i = 0; i < n; i++) {
		if (!runs[i].core)
			continue;
		cs_core_totals(runs[i].core, &t);
		dur += cs_core_duration(runs[i].core);
		cs_totals_add(&sum, &t, dur);
		cs_json_obj_begin(w);
		cs_json_kstr(w, "model", runs[i].model);
		cs_json_kstr(w, "work", runs[i].work);
		cs_json_kstr(w, "lang", runs[i].lang);
		cs_json_ku64(w, "tasks", runs[i].tasks);
		cs_json_key(w, "ok");
		cs_json_bool(w, runs[i].ok);
		cs_json_ku64(w, "wall_ns", cs_core_duration(runs[i].core));
		cs_json_ku64(w, "cpu_ns", t.ns[CS_ST_RUNNING]);
		cs_summary_json_with(w, runs[i].core, ncpus, runs[i].findings);
		cs_json_obj_end(w);
	}
	cs_json_arr_end(w);
	cs_totals_json(w, &sum);
}
