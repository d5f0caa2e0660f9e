// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * findings_json.c: the findings, the parallelism profile, who held the CPUs
 * our threads waited for, an event loop's episodes and the machine's own
 * figures, as --json writes them (keys in the README's JSON section).
 */
#include <stdlib.h>
#include <string.h>
#include "findings.h"
#include "findings_json.h"
#include "stacks.h"
#include "summary.h"

/* An array of the cells [0, n) with the trailing zeros cut (at least min long). */
static void ns_array(struct cs_jsonw *w, const char *key, const uint64_t *v, size_t n,
		     size_t min)
{
	size_t i, last = min;

	for (i = 0; i < n; i++)
		if (v[i] && i + 1 > last)
			last = i + 1;
	cs_json_key(w, key);
	cs_json_arr_begin(w);
	for (i = 0; i < last && i < n; i++)
		cs_json_u64(w, v[i]);
	cs_json_arr_end(w);
}

void cs_profile_json(struct cs_jsonw *w, const struct cs_core *c, unsigned int ncpus)
{
	const uint64_t *p;
	uint64_t run[CS_PROF_RUN + 1] = { 0 }, ready[CS_PROF_READY + 1] = { 0 }, approx, over = 0;
	unsigned int k, r;

	p = cs_core_profile(c, &approx);
	cs_json_key(w, "parallelism_profile");
	cs_json_obj_begin(w);
	for (k = 0; k <= CS_PROF_RUN; k++)
		for (r = 0; r <= CS_PROF_READY; r++) {
			run[k] += p[CS_PROF_CELL(k, r)];
			ready[r] += p[CS_PROF_CELL(k, r)];
			if (r && k + r > ncpus)
				over += p[CS_PROF_CELL(k, r)];
		}
	ns_array(w, "running_ns", run, CS_PROF_RUN + 1, ncpus + 1);
	ns_array(w, "ready_ns", ready, CS_PROF_READY + 1, 1);
	cs_json_ku64(w, "oversubscribed_ns", over);
	cs_json_ku64(w, "approx_ns", approx);
	cs_json_key(w, "cells");
	cs_json_arr_begin(w);
	for (k = 0; k <= CS_PROF_RUN; k++)
		for (r = 0; r <= CS_PROF_READY; r++) {
			if (!p[CS_PROF_CELL(k, r)])
				continue;
			cs_json_obj_begin(w);
			cs_json_ku64(w, "running", k);
			cs_json_ku64(w, "ready", r);
			cs_json_ku64(w, "ns", p[CS_PROF_CELL(k, r)]);
			cs_json_obj_end(w);
		}
	cs_json_arr_end(w);
	cs_json_obj_end(w);
}

void cs_proc_profile_json(struct cs_jsonw *w, const struct cs_core *c, uint32_t pid,
			  unsigned int ncpus)
{
	const struct cs_proc_profile *pp = cs_core_proc_profile(c, pid);

	if (!pp)
		return;
	cs_json_key(w, "parallelism_profile");
	cs_json_obj_begin(w);
	ns_array(w, "running_ns", pp->run_ns, CS_PROF_RUN + 1, ncpus + 1);
	ns_array(w, "ready_ns", pp->ready_ns, CS_PROF_READY + 1, 1);
	cs_json_obj_end(w);
}

struct prog { const char *comm; uint64_t ns, procs; };

static int by_prog_ns(const void *a, const void *b)
{
	const struct prog *x = a, *y = b;

	return x->ns != y->ns ? (x->ns > y->ns ? -1 : 1) : strcmp(x->comm, y->comm);
}

/* The tasks outside the target that held our CPUs, by program; the tracer apart. */
void cs_other_cpu_json(struct cs_jsonw *w, const struct cs_core *c)
{
	const struct cs_other *o;
	const struct cs_tracer_fact *tf;
	size_t n = cs_core_others(c, &o), nf = cs_core_tracer_facts(c, &tf), i, j, ng = 0;
	uint64_t self = 0, total = 0, tracer = 0;
	struct prog *g = calloc(n ? n : 1, sizeof(*g));

	cs_core_fact(tf, nf, "pid", &self);
	for (i = 0; i < n; i++) {
		total += o[i].ns;
		if (self && o[i].pid == self) {
			tracer += o[i].ns;
			continue;
		}
		for (j = 0; g && j < ng && strcmp(g[j].comm, o[i].comm); j++)
			;
		if (g && j == ng)
			g[ng++].comm = o[i].comm;
		if (g) {
			g[j].ns += o[i].ns;
			g[j].procs++;
		}
	}
	if (g)
		qsort(g, ng, sizeof(*g), by_prog_ns);
	cs_json_ku64(w, "other_cpu_ns", total);
	cs_json_ku64(w, "tracer_cpu_ns", tracer);
	cs_json_key(w, "other_cpu_by_program");
	cs_json_arr_begin(w);
	for (i = 0; i < ng; i++) {
		cs_json_obj_begin(w);
		cs_json_kstr(w, "comm", g[i].comm);
		cs_json_ku64(w, "processes", g[i].procs);
		cs_json_ku64(w, "ns", g[i].ns);
		cs_json_obj_end(w);
	}
	cs_json_arr_end(w);
	free(g);
}

/* A thread's extra keys: who held its CPU while it was ready; its loop, if any. */
void cs_thread_more_json(struct cs_jsonw *w, const struct cs_core *c, const struct cs_thread *t)
{
	const struct cs_loop *lp = t->loop;
	char at[160];
	unsigned int i;

	cs_json_key(w, "ready_behind_ns");
	cs_json_obj_begin(w);
	cs_json_ku64(w, "target", t->ready_own_ns);
	cs_json_ku64(w, "other", t->ready_other_ns);
	cs_json_ku64(w, "idle", t->ready_idle_ns);
	cs_json_obj_end(w);
	if (!lp)
		return;
	cs_json_key(w, "event_waits");
	cs_json_obj_begin(w);
	cs_json_ku64(w, "count", lp->waits);
	cs_json_ku64(w, "ns", lp->wait_ns);
	cs_json_ku64(w, "episodes", lp->episodes);
	cs_json_ku64(w, "episode_ns", lp->episode_ns);
	cs_json_ku64(w, "threshold_ns", cs_ep_threshold(c));
	cs_json_key(w, "longest");
	cs_json_arr_begin(w);
	for (i = 0; i < lp->ntop; i++) {
		const struct cs_episode *e = &lp->top[i];

		cs_json_obj_begin(w);
		cs_json_ku64(w, "start_ns", e->start - cs_core_begin(c));
		cs_json_ku64(w, "dur_ns", e->dur);
		cs_json_ku64(w, "running_ns", e->ns[CS_ST_RUNNING]);
		cs_json_ku64(w, "ready_ns", e->ns[CS_ST_READY]);
		cs_json_ku64(w, "blocked_ns", e->ns[CS_ST_SLEEP] + e->ns[CS_ST_IO] +
			     e->ns[CS_ST_LOCK]);
		cs_json_kstr(w, "call", e->call < 0 ? "" : e->call_lock ? "lock" :
			     cs_syscall_name(e->call));
		cs_json_ku64(w, "call_ns", e->call_ns);
		if (cs_stacks_short(c, e->stack, at, sizeof(at))) { /* --stacks: where */
			cs_json_ku64(w, "stack", cs_stacks_index(c, e->stack));
			cs_json_kstr(w, "at", at);
		}
		cs_json_kbool(w, "open", e->open);
		cs_json_obj_end(w);
	}
	cs_json_arr_end(w);
	cs_json_obj_end(w);
}

void cs_system_json(struct cs_jsonw *w, const struct cs_core *c)
{
	const struct cs_tracer_fact *f;
	size_t i, n = cs_core_system_facts(c, &f);

	cs_json_key(w, "system");
	cs_json_obj_begin(w);
	for (i = 0; i < n; i++)
		cs_json_ku64(w, f[i].name, f[i].value);
	cs_json_obj_end(w);
}

static void evidence_json(struct cs_jsonw *w, const struct cs_core *c, const struct cs_finding *f)
{
	char buf[CS_LOCK_NAME + 32];
	unsigned int i;

	cs_json_key(w, "evidence");
	cs_json_obj_begin(w);
	for (i = 0; i < f->nfigs; i++)
		cs_json_ku64(w, f->figs[i].name, f->figs[i].value);
	cs_json_key(w, "threads");
	cs_json_arr_begin(w);
	for (i = 0; i < f->ntids; i++)
		cs_json_u64(w, f->tids[i]);
	cs_json_arr_end(w);
	if (f->lock)
		cs_json_kstr(w, "lock", cs_lock_label(f->lock, buf, sizeof(buf)));
	if (f->loop)
		cs_thread_more_json(w, c, f->loop);
	cs_json_obj_end(w);
}

void cs_findings_json(struct cs_jsonw *w, const struct cs_core *c, const struct cs_findings *fs)
{
	size_t i;

	cs_json_key(w, "findings");
	cs_json_arr_begin(w);
	for (i = 0; i < fs->n; i++) {
		const struct cs_finding *f = &fs->f[i];

		cs_json_obj_begin(w);
		cs_json_kstr(w, "kind", cs_finding_kind_name(f->kind));
		cs_json_kstr(w, "text", f->text);
		cs_json_ku64(w, "explained_ns", f->explained_ns);
		if (f->pid)
			cs_json_ku64(w, "pid", f->pid);
		evidence_json(w, c, f);
		cs_json_obj_end(w);
	}
	cs_json_arr_end(w);
}
