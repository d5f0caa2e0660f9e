// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * profile.c: the parallelism profile, how long the window spent with k of
 * the target's threads running and r ready (overall, jointly), and with k
 * running and r ready in each process.
 *
 * Counts change as threads enter and leave running and ready (states.c
 * calls cs_prof_enter at each state change, in time order), and time
 * accumulates in the cell of the counts it was spent at. The state machine
 * also settles some intervals after the fact: a thread first seen at its
 * switch-out ran since the window opened; a chain break makes a running
 * stretch untraced. states.c reports each such correction (cs_prof_fix),
 * and the time already spent is moved between cells by walking back a log
 * of the recent changes, so that, by construction, the time-weighted counts
 * equal the threads' running and ready totals as derived from the events
 * (a unit test holds them to it). A correction reaching past the log's
 * oldest entry (1 Mi changes) is applied at the counts of that entry, and
 * the time so placed is counted (profile_approx_ns).
 */
#include <stdlib.h>
#include <string.h>
#include "core_priv.h"
#include "grow.h"

#define LOG_MAX (1u << 20)

static bool counts_run(unsigned int st)
{
	return st == CS_ST_RUNNING;
}

static bool counts_ready(unsigned int st)
{
	return st == CS_ST_READY;
}

static unsigned int cap_run(int n)
{
	return n < 0 ? 0 : n > CS_PROF_RUN ? CS_PROF_RUN : (unsigned int)n;
}

static unsigned int cap_ready(int n)
{
	return n < 0 ? 0 : n > CS_PROF_READY ? CS_PROF_READY : (unsigned int)n;
}

/* The process's profile, created on first use; NULL without memory. */
static struct cs_proc_prof *proc_of(struct cs_core *c, uint32_t pid)
{
	struct cs_prof *p = &c->prof;
	uint32_t *slot = cs_hmap_get(&p->pidx, pid, 0);
	struct cs_proc_prof *pp;

	if (slot)
		return &p->procs[*slot];
	if (cs_grow(&p->procs, p->nprocs, &p->capprocs, sizeof(*p->procs), 64))
		return NULL;
	pp = &p->procs[p->nprocs];
	memset(pp, 0, sizeof(*pp));
	pp->pub.pid = pid;
	if (cs_hmap_put(&p->pidx, pid, 0, (uint32_t)p->nprocs))
		return NULL;
	p->nprocs++;
	return pp;
}

/* The part of [a, b) inside the window. */
static uint64_t window_part(const struct cs_core *c, uint64_t a, uint64_t b)
{
	return clip(c, &a, &b);
}

/* Bring the overall cells up to ts. */
static void acc_all(struct cs_core *c, uint64_t ts)
{
	struct cs_prof *p = &c->prof;

	if (ts > p->last) {
		p->cells[cap_run(p->run) * (CS_PROF_READY + 1) + cap_ready(p->ready)] +=
			window_part(c, p->last, ts);
		p->last = ts;
	}
}

/* Bring a process's cells up to ts. */
static void acc_proc(struct cs_core *c, struct cs_proc_prof *pp, uint64_t ts)
{
	uint64_t ns;

	if (ts <= pp->last)
		return;
	ns = window_part(c, pp->last, ts);
	pp->pub.run_ns[cap_run(pp->run)] += ns;
	pp->pub.ready_ns[cap_ready(pp->ready)] += ns;
	pp->last = ts;
}

/* Room for one more change (the oldest half goes when the log is full). */
static bool log_reserve(struct cs_prof *p)
{
	if (p->nlog == LOG_MAX) {
		/* corrections reach back this far at most */
		p->log_floor = p->log[LOG_MAX / 2 - 1].ts;
		memmove(p->log, p->log + LOG_MAX / 2, (LOG_MAX / 2) * sizeof(*p->log));
		p->nlog = LOG_MAX / 2;
	}
	return !cs_grow(&p->log, p->nlog, &p->caplog, sizeof(*p->log), 4096);
}

static void log_push(struct cs_prof *p, uint64_t ts, uint32_t pidx, int drun, int dready)
{
	if (log_reserve(p))
		p->log[p->nlog++] = (struct cs_prof_change){ ts, pidx, (int8_t)drun,
							     (int8_t)dready };
}

/* Counts change for t's process at ts (in time order). */
static void change(struct cs_core *c, const struct cs_thread_priv *t, int drun, int dready,
		   uint64_t ts)
{
	struct cs_prof *p = &c->prof;
	struct cs_proc_prof *pp = proc_of(c, t->pub.pid);

	acc_all(c, ts);
	p->run += drun;
	p->ready += dready;
	if (!pp)
		return;
	acc_proc(c, pp, ts);
	pp->run += drun;
	pp->ready += dready;
	log_push(p, ts, (uint32_t)(pp - p->procs), drun, dready);
}

void cs_prof_enter(struct cs_core *c, const struct cs_thread_priv *t, unsigned int from,
		   unsigned int to, uint64_t ts)
{
	int drun = (int)counts_run(to) - (int)counts_run(from);
	int dready = (int)counts_ready(to) - (int)counts_ready(from);

	if (drun || dready)
		change(c, t, drun, dready, ts);
}

/* Move up to ns from cell *from to *to (never more than it holds). */
static void move(uint64_t *from, uint64_t *to, uint64_t ns)
{
	if (ns > *from)
		ns = *from;
	*from -= ns;
	*to += ns;
}

/* Move ns spent at (run, ready) to (run + drun, ready + dready). */
static void move_all(struct cs_prof *p, int run, int ready, int drun, int dready, uint64_t ns)
{
	move(&p->cells[cap_run(run) * (CS_PROF_READY + 1) + cap_ready(ready)],
	     &p->cells[cap_run(run + drun) * (CS_PROF_READY + 1) + cap_ready(ready + dready)], ns);
}

static void move_proc(struct cs_proc_prof *pp, int run, int ready, int drun, int dready,
		      uint64_t ns)
{
	move(&pp->pub.run_ns[cap_run(run)], &pp->pub.run_ns[cap_run(run + drun)], ns);
	move(&pp->pub.ready_ns[cap_ready(ready)], &pp->pub.ready_ns[cap_ready(ready + dready)], ns);
}

/* Log a change at ts, in its place (after the changes at ts already logged). */
static void log_insert(struct cs_prof *p, struct cs_prof_change ch)
{
	size_t at;

	if (!log_reserve(p))
		return;
	at = p->nlog;
	while (at > 0 && p->log[at - 1].ts > ch.ts)
		at--;
	memmove(p->log + at + 1, p->log + at, (p->nlog - at) * sizeof(*p->log));
	p->log[at] = ch;
	p->nlog++;
}

/*
 * t's counted state was wrong over [a, now): it was running (drun = +1) or
 * not (-1), ready (dready) or not, where the counts said otherwise. Walk
 * the log back to a, moving the time spent at each count; then log the
 * correction's own changes at a and now, so later walks see it.
 */
void cs_prof_fix(struct cs_core *c, const struct cs_thread_priv *t, int drun, int dready,
		 uint64_t a, uint64_t now)
{
	struct cs_prof *p = &c->prof;
	struct cs_proc_prof *pp = proc_of(c, t->pub.pid);
	uint32_t pidx;
	int run = p->run, ready = p->ready, prun, pready;
	uint64_t hi = now;
	size_t i;

	if (c->wb == NOT_SET || (!drun && !dready))
		return;
	if (a < c->wb) /* no time before the window is counted */
		a = c->wb;
	if (!pp || a >= now)
		return;
	acc_all(c, now);
	acc_proc(c, pp, now);
	pidx = (uint32_t)(pp - p->procs);
	prun = pp->run;
	pready = pp->ready;
	for (i = p->nlog; i > 0 && hi > a; i--) {
		const struct cs_prof_change *e = &p->log[i - 1];
		uint64_t lo = e->ts > a ? e->ts : a, ns = hi > lo ? window_part(c, lo, hi) : 0;

		move_all(p, run, ready, drun, dready, ns);
		move_proc(pp, prun, pready, drun, dready, ns);
		hi = lo;
		run -= e->drun;
		ready -= e->dready;
		if (e->pidx == pidx) {
			prun -= e->drun;
			pready -= e->dready;
		}
	}
	if (hi > a) { /* past the log: at the oldest counts known */
		uint64_t ns = window_part(c, a, hi);

		move_all(p, run, ready, drun, dready, ns);
		move_proc(pp, prun, pready, drun, dready, ns);
		if (p->log_floor && a < p->log_floor)
			p->approx_ns += ns;
	}
	log_insert(p, (struct cs_prof_change){ a, pidx, (int8_t)drun, (int8_t)dready });
	log_push(p, now, pidx, -drun, -dready);
}

void cs_prof_finish(struct cs_core *c)
{
	struct cs_prof *p = &c->prof;
	size_t i;

	acc_all(c, c->we);
	for (i = 0; i < p->nprocs; i++)
		acc_proc(c, &p->procs[i], c->we);
}

void cs_prof_free(struct cs_core *c)
{
	free(c->prof.procs);
	free(c->prof.log);
	cs_hmap_free(&c->prof.pidx);
}

const uint64_t *cs_core_profile(const struct cs_core *c, uint64_t *approx_ns)
{
	if (approx_ns)
		*approx_ns = c->prof.approx_ns;
	return c->prof.cells;
}

const struct cs_proc_profile *cs_core_proc_profile(const struct cs_core *c, uint32_t pid)
{
	uint32_t *slot = cs_hmap_get(&c->prof.pidx, pid, 0);

	return slot ? &c->prof.procs[*slot].pub : NULL;
}
