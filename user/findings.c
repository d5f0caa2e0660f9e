// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * findings.c: what limits the traced program, from the core's numbers.
 *
 * Each finding says what it rests on (figures, threads) and how much of the
 * target's time it accounts for (explained_ns): thread time for waits (a
 * second of ready time in each of two threads explains 2 s), wall time for
 * an event loop's episodes. The thresholds below are the ones a reader would
 * call a problem; each is stated where it is used. Nothing here reads a
 * file or the clock: the same core gives the same findings, live or from a
 * saved trace.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "findings.h"
#include "render.h"
#include "stacks.h"
#include "summary.h"

static const char *const kind_names[CS_FIND_NKINDS] = {
	[CS_FIND_SHAPE] = "shape",
	[CS_FIND_CPU_SATURATED] = "cpu_saturated",
	[CS_FIND_SERIALIZED] = "serialized",
	[CS_FIND_LOCK_HOLDER_PREEMPTED] = "lock_holder_preempted",
	[CS_FIND_LOOP_BLOCKED] = "loop_blocked",
	[CS_FIND_IO_BOUND] = "io_bound",
	[CS_FIND_WAKE_CHAIN] = "wake_chain",
	[CS_FIND_THROTTLED] = "throttled",
};

const char *cs_finding_kind_name(enum cs_finding_kind k)
{
	return k < CS_FIND_NKINDS ? kind_names[k] : "?";
}

uint64_t cs_finding_fig(const struct cs_finding *f, const char *name)
{
	unsigned int i;

	for (i = 0; i < f->nfigs; i++)
		if (!strcmp(f->figs[i].name, name))
			return f->figs[i].value;
	return 0;
}

/* ---- building findings ---- */

static struct cs_finding *add(struct cs_findings *fs, enum cs_finding_kind k, uint64_t explained)
{
	struct cs_finding *f;

	if (fs->n >= CS_MAX_FINDINGS)
		return NULL;
	f = &fs->f[fs->n++];
	memset(f, 0, sizeof(*f));
	f->kind = k;
	f->explained_ns = explained;
	return f;
}

static void fig(struct cs_finding *f, const char *name, uint64_t v)
{
	if (f->nfigs < CS_FIND_FIGS)
		f->figs[f->nfigs++] = (struct cs_fig){ name, v };
}

static void tid(struct cs_finding *f, uint32_t t)
{
	unsigned int i;

	for (i = 0; i < f->ntids; i++)
		if (f->tids[i] == t)
			return;
	if (f->ntids < CS_FIND_TIDS)
		f->tids[f->ntids++] = t;
}

/* Append to the finding's text. */
static void say(struct cs_finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct cs_finding *f, const char *fmt, ...)
{
	size_t len = strlen(f->text);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->text + len, sizeof(f->text) - len, fmt, ap);
	va_end(ap);
}

static const char *dur(char *buf, size_t len, uint64_t ns)
{
	cs_fmt_ns(buf, len, ns);
	return buf;
}

static unsigned int pct(uint64_t a, uint64_t b)
{
	return b ? (unsigned int)((a * 100 + b / 2) / b) : 0;
}

/* ---- what every finding reads ---- */

struct sums {
	uint64_t ns[CS_NACC], all;      /* over the present threads */
	uint64_t ready_own, ready_other, ready_idle;
	size_t nthreads, nprocs;
	unsigned int ncpus;
	uint64_t wall;
	const struct cs_view *view; /* the present threads by process, built once */
};

static void sum_up(struct sums *s, const struct cs_core *c, const struct cs_findings_cfg *cfg,
		   const struct cs_view *v)
{
	size_t i;
	unsigned int st;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < cs_core_nthreads(c); i++) {
		const struct cs_thread *t = cs_core_thread(c, i);

		if (!cs_thread_present(t))
			continue;
		for (st = 0; st < CS_NACC; st++)
			s->ns[st] += t->ns[st];
		s->all += cs_thread_alive_ns(t);
		s->ready_own += t->ready_own_ns;
		s->ready_other += t->ready_other_ns;
		s->ready_idle += t->ready_idle_ns;
	}
	s->view = v;
	s->nprocs = v->nprocs;
	s->nthreads = v->nthreads;
	s->ncpus = cfg->ncpus ? cfg->ncpus : cs_core_ncpus(c);
	if (!s->ncpus)
		s->ncpus = 1;
	s->wall = cs_core_duration(c);
}

/* A thread's name for a finding's text. */
static const char *who(const struct cs_thread *t, char *buf, size_t len)
{
	snprintf(buf, len, "%s (tid %u)", t->comm[0] ? t->comm : "?", t->tid);
	return buf;
}


/* ---- shape ---- */

static int by_running(const void *a, const void *b)
{
	const struct cs_thread *x = *(const struct cs_thread *const *)a;
	const struct cs_thread *y = *(const struct cs_thread *const *)b;

	if (x->ns[CS_ST_RUNNING] != y->ns[CS_ST_RUNNING])
		return x->ns[CS_ST_RUNNING] > y->ns[CS_ST_RUNNING] ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* "3 of 41 threads did 95% of the CPU work (a, b, c)". */
static void shape_work(struct cs_finding *f, const struct cs_view *v, const struct sums *s)
{
	const struct cs_thread **t = malloc(v->nthreads * sizeof(*t));
	uint64_t cum = 0;
	size_t i, k = 0;
	char buf[64];

	if (!t)
		return;
	memcpy(t, v->all, v->nthreads * sizeof(*t));
	qsort(t, v->nthreads, sizeof(*t), by_running);
	while (k < v->nthreads && cum * 100 < s->ns[CS_ST_RUNNING] * 95)
		cum += t[k++]->ns[CS_ST_RUNNING];
	fig(f, "threads_doing_95pct_cpu", k);
	if (!s->ns[CS_ST_RUNNING]) {
		say(f, "; no thread ran");
	} else if (v->nthreads > 1) {
		say(f, "; %zu of them did 95%% of the CPU work", k);
		for (i = 0; i < k && i < 3; i++)
			say(f, "%s%s", i ? ", " : " (", who(t[i], buf, sizeof(buf)));
		say(f, "%s", k > 3 ? ", ...)" : ")");
	}
	for (i = 0; i < k && i < CS_FIND_TIDS; i++)
		tid(f, t[i]->tid);
	free(t);
}

/* A thread's name with each run of digits as N: the threads of a pool share it. */
static void stem(const char *comm, char *out, size_t len)
{
	size_t o = 0;

	for (; *comm && o + 1 < len; comm++) {
		if (*comm >= '0' && *comm <= '9') {
			if (!o || out[o - 1] != 'N')
				out[o++] = 'N';
		} else {
			out[o++] = *comm;
		}
	}
	out[o] = 0;
}

/* Pools: three or more threads of one process with one name but for numbers. */
static void shape_pools(struct cs_finding *f, const struct cs_view *v)
{
	char a[CS_COMM_LEN + 8], b[CS_COMM_LEN + 8];
	size_t p, i, j, said = 0;

	for (p = 0; p < v->nprocs && said < 2; p++) {
		const struct cs_proc_view *pv = &v->procs[p];

		for (i = 0; i < pv->nthreads && said < 2; i++) {
			size_t n = 0, first = i;

			stem(pv->threads[i]->comm, a, sizeof(a));
			for (j = 0; j < pv->nthreads; j++) {
				stem(pv->threads[j]->comm, b, sizeof(b));
				if (!strcmp(a, b) && (n++, j < i))
					first = j;
			}
			if (n < 3 || first != i || (!strchr(a, 'N') && n < 3))
				continue;
			say(f, "; a pool of %zu threads named '%s' in pid %u", n, a, pv->pid);
			fig(f, "pool_threads", n);
			said++;
		}
	}
}

/* Does t wait for events in a loop: at least half its blocks in an event wait? */
static bool is_loop(const struct cs_thread *t)
{
	return t->loop && t->loop->waits >= 3 && t->loop->waits * 2 >= t->nvcsw;
}

static void shape_loops(struct cs_finding *f, const struct cs_core *c)
{
	size_t i, n = 0;
	char buf[64];

	for (i = 0; i < cs_core_nthreads(c); i++) {
		const struct cs_thread *t = cs_core_thread(c, i);

		if (!is_loop(t))
			continue;
		if (n++ < 2)
			say(f, "; an event loop: %s, %llu waits for events", who(t, buf, sizeof(buf)),
			    (unsigned long long)t->loop->waits);
		tid(f, t->tid);
	}
	fig(f, "event_loops", n);
}

/* Worker processes: two or more processes of one name. */
static void shape_workers(struct cs_finding *f, const struct cs_view *v)
{
	size_t i, j, said = 0;

	for (i = 0; i < v->nprocs && said < 3; i++) {
		size_t n = 0, first = i;

		for (j = 0; j < v->nprocs; j++)
			if (!strcmp(v->procs[i].comm, v->procs[j].comm) && (n++, j < i))
				first = j;
		if (n < 2 || first != i)
			continue;
		say(f, "; %zu processes named '%s'", n, v->procs[i].comm);
		said++;
	}
}

static void find_shape(struct cs_findings *fs, const struct cs_core *c, const struct sums *s)
{
	struct cs_finding *f = add(fs, CS_FIND_SHAPE, 0);

	if (!f)
		return;
	say(f, "%zu process%s, %zu thread%s", s->nprocs, s->nprocs == 1 ? "" : "es", s->nthreads,
	    s->nthreads == 1 ? "" : "s");
	fig(f, "processes", s->nprocs);
	fig(f, "threads", s->nthreads);
	shape_work(f, s->view, s);
	shape_pools(f, s->view);
	shape_loops(f, c);
	shape_workers(f, s->view);
}

/* ---- cpu_saturated ---- */

/* Time the target's own runnable threads outnumbered the CPUs (some of them ready). */
static uint64_t oversubscribed(const struct cs_core *c, unsigned int ncpus)
{
	const uint64_t *p = cs_core_profile(c, NULL);
	uint64_t ns = 0;
	unsigned int k, r;

	for (k = 0; k <= CS_PROF_RUN; k++)
		for (r = 1; r <= CS_PROF_READY; r++)
			if (k + r > ncpus)
				ns += p[CS_PROF_CELL(k, r)];
	return ns;
}

/* The other programs that held our CPUs, by name, most first: "cc1 0.20s, as 0.05s". */
struct prog { const char *comm; uint64_t ns; };

static int by_prog_ns(const void *a, const void *b)
{
	const struct prog *x = a, *y = b;

	return x->ns != y->ns ? (x->ns > y->ns ? -1 : 1) : strcmp(x->comm, y->comm);
}

static void other_programs(struct cs_finding *f, const struct cs_core *c)
{
	const struct cs_other *o;
	const struct cs_tracer_fact *tf;
	size_t n = cs_core_others(c, &o), nf = cs_core_tracer_facts(c, &tf), i, j, ng = 0;
	struct prog *g = calloc(n ? n : 1, sizeof(*g));
	uint64_t self = 0;
	char buf[16];

	if (!g)
		return;
	cs_core_fact(tf, nf, "pid", &self);
	for (i = 0; i < n; i++) {
		const char *name = self && o[i].pid == self ? "concscope (this tracer)" : o[i].comm;

		for (j = 0; j < ng && strcmp(g[j].comm, name); j++)
			;
		if (j == ng)
			g[ng++].comm = name;
		g[j].ns += o[i].ns;
	}
	qsort(g, ng, sizeof(*g), by_prog_ns);
	for (i = 0; i < 3 && i < ng; i++)
		say(f, "%s%s %s", i ? ", " : " (", g[i].comm, dur(buf, sizeof(buf), g[i].ns));
	if (ng)
		say(f, "%s", ng > 3 ? ", ...)" : ")");
	free(g);
}

static int by_ready(const void *a, const void *b)
{
	const struct cs_thread *x = *(const struct cs_thread *const *)a;
	const struct cs_thread *y = *(const struct cs_thread *const *)b;

	if (x->ns[CS_ST_READY] != y->ns[CS_ST_READY])
		return x->ns[CS_ST_READY] > y->ns[CS_ST_READY] ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* The threads that waited longest for a CPU (sorted in a copy: the view stays by process). */
static void most_ready(struct cs_finding *f, const struct cs_view *v)
{
	const struct cs_thread **t = malloc((v->nthreads ? v->nthreads : 1) * sizeof(*t));
	size_t i;

	if (!t)
		return;
	memcpy(t, v->all, v->nthreads * sizeof(*t));
	qsort(t, v->nthreads, sizeof(*t), by_ready);
	for (i = 0; i < v->nthreads && t[i]->ns[CS_ST_READY]; i++)
		tid(f, t[i]->tid);
	free(t);
}

/* The time the target's cgroup was throttled over the window (CS_MARK_SYSTEM). */
static uint64_t throttled_ns(const struct cs_core *c)
{
	const struct cs_tracer_fact *sf;
	size_t nf = cs_core_system_facts(c, &sf);
	uint64_t thr = 0;

	cs_core_fact(sf, nf, "throttled_ns", &thr);
	return thr;
}

static void find_cpu_saturated(struct cs_findings *fs, const struct cs_core *c,
			       const struct sums *s)
{
	uint64_t ready = s->ns[CS_ST_READY], runnable = ready + s->ns[CS_ST_RUNNING];
	uint64_t over = oversubscribed(c, s->ncpus);
	struct cs_finding *f;
	const char *sep = "";
	char a[16], b[16];

	/* a problem when threads wait for a CPU a tenth of the time they could run and a
	 * twentieth of their whole time (a wake-up's latency in an idle program is not) */
	if (ready < 5000000 || ready * 10 < runnable || ready * 20 < s->all ||
	    !(f = add(fs, CS_FIND_CPU_SATURATED, ready)))
		return;
	say(f, "threads waited %s for a CPU, %u%% of the time they were runnable:",
	    dur(a, sizeof(a), ready), pct(ready, runnable));
	if (s->ready_own * 20 >= ready) {
		say(f, " %s behind the target's own threads", dur(a, sizeof(a), s->ready_own));
		if (over * 100 >= s->wall)
			say(f, " (more of them runnable than the %u CPUs %u%% of the window)",
			    s->ncpus, pct(over, s->wall));
		sep = ";";
	}
	if (s->ready_other * 20 >= ready) {
		say(f, "%s %s behind other programs", sep, dur(b, sizeof(b), s->ready_other));
		other_programs(f, c);
		sep = ";";
	}
	if (s->ready_idle * 20 >= ready)
		say(f, "%s %s with the CPU idle (%s)", sep, dur(a, sizeof(a), s->ready_idle),
		    throttled_ns(c) >= 1000000 ? "the cgroup's CPU limit held the target back: "
		    "see throttled" : "the wake-up's own latency");
	fig(f, "ready_ns", ready);
	fig(f, "runnable_ns", runnable);
	fig(f, "ready_own_ns", s->ready_own);
	fig(f, "other_cpu_ns", s->ready_other);
	fig(f, "ready_idle_ns", s->ready_idle);
	fig(f, "oversubscribed_ns", over);
	fig(f, "cpus", s->ncpus);
	most_ready(f, s->view);
}

/* ---- serialized, lock_holder_preempted ---- */

/* The process's most waited-for contended lock with two waiters or more. */
static const struct cs_lockstat *top_lock(const struct cs_core *c, uint32_t pid)
{
	const struct cs_lockstat **ls, *found = NULL;
	size_t n = cs_locks_sorted(c, &ls, true), i, w;

	for (i = 0; i < n && !found; i++) {
		if (ls[i]->nwaiters < 2)
			continue;
		for (w = 0; w < ls[i]->nwaiters && !found; w++) {
			const struct cs_thread *t = cs_core_find(c, ls[i]->waiters[w]);

			if (t && t->pid == pid)
				found = ls[i];
		}
	}
	free(ls);
	return found;
}

/* Average threads running while any ran, x100 (1 = one at a time). */
static uint64_t avg_running_x100(const struct cs_proc_profile *pp)
{
	uint64_t busy = 0, sum = 0;
	unsigned int k;

	for (k = 1; k <= CS_PROF_RUN; k++) {
		busy += pp->run_ns[k];
		sum += k * pp->run_ns[k];
	}
	return busy ? sum * 100 / busy : 0;
}

static void releaser(struct cs_finding *f, const struct cs_core *c, const struct cs_lockstat *l)
{
	uint64_t key;
	const char *name;

	if (!l->releasers.n)
		return;
	key = l->releasers.e[0].key;
	if (key >= CS_REL_TIMEOUT) {
		say(f, ", most waits ending by %s", cs_releaser_reason(key));
		return;
	}
	name = cs_core_comm(c, (uint32_t)key);
	say(f, ", released most often by %s (tid %llu)", name ? name : "?",
	    (unsigned long long)key);
}

static void holder_preempted(struct cs_findings *fs, uint32_t pid, const struct cs_lockstat *l,
			     const char *label)
{
	uint64_t hp = l->holder_preempted_ns;
	struct cs_finding *f;
	char a[16];

	/* worth saying when it is a twentieth of the waits */
	if (hp < 1000000 || hp * 20 < l->wait_ns ||
	    !(f = add(fs, CS_FIND_LOCK_HOLDER_PREEMPTED, hp)))
		return;
	f->pid = pid;
	f->lock = l;
	say(f, "while threads of pid %u waited for %s, the threads that released it sat preempted "
	    "(ready, without a CPU) for %s of those waits (%u%%): a holder without a CPU keeps "
	    "every waiter waiting", pid, label, dur(a, sizeof(a), hp), pct(hp, l->wait_ns));
	fig(f, "holder_preempted_ns", hp);
	fig(f, "lock_wait_ns", l->wait_ns);
}

static void serialized_one(struct cs_findings *fs, const struct cs_core *c, const struct sums *s,
			   const struct cs_proc_view *pv)
{
	const struct cs_proc_profile *pp = cs_core_proc_profile(c, pv->pid);
	const struct cs_lockstat *l;
	uint64_t lock = 0, all = 0, avg;
	struct cs_finding *f;
	char buf[CS_LOCK_NAME + 32], a[16];
	const char *label;
	size_t i;

	if (!pp || pv->nthreads < 2 || s->ncpus < 2)
		return;
	for (i = 0; i < pv->nthreads; i++) {
		lock += pv->threads[i]->ns[CS_ST_LOCK];
		all += cs_thread_alive_ns(pv->threads[i]);
	}
	avg = avg_running_x100(pp);
	/* one at a time (at most 1.3 on average), a fifth of their time in lock waits,
	 * half of those on one lock (the locks are sorted only for a process that passes
	 * the first two) */
	if (avg > 130 || lock * 5 < all)
		return;
	l = top_lock(c, pv->pid);
	if (!l || l->wait_ns * 2 < lock || !(f = add(fs, CS_FIND_SERIALIZED, l->wait_ns)))
		return;
	f->pid = pv->pid;
	f->lock = l;
	label = cs_lock_label(l, buf, sizeof(buf));
	say(f, "pid %u (%s): its %zu threads ran one at a time (%.2f running on average while any "
	    "ran, of %u CPUs) and spent %u%% of their time waiting for %s: %s in %llu waits by "
	    "%u threads", pv->pid, pv->comm, pv->nthreads, (double)avg / 100, s->ncpus,
	    pct(lock, all), label, dur(a, sizeof(a), l->wait_ns), (unsigned long long)l->waits,
	    l->nwaiters);
	releaser(f, c, l);
	fig(f, "avg_running_x100", avg);
	fig(f, "lock_wait_ns", l->wait_ns);
	fig(f, "thread_ns", all);
	fig(f, "waits", l->waits);
	for (i = 0; i < l->nwaiters; i++)
		tid(f, l->waiters[i]);
	holder_preempted(fs, pv->pid, l, label);
}

static void find_serialized(struct cs_findings *fs, const struct cs_core *c, const struct sums *s)
{
	size_t p;

	for (p = 0; p < s->view->nprocs; p++)
		serialized_one(fs, c, s, &s->view->procs[p]);
}

/* ---- loop_blocked ---- */

/* What the loop did in its longest episode (and where, with --stacks). */
static void episode_what(struct cs_finding *f, const struct cs_core *c, const struct cs_episode *e)
{
	char a[16], b[16], d[16], at[160];
	uint64_t blocked = e->ns[CS_ST_SLEEP] + e->ns[CS_ST_IO] + e->ns[CS_ST_LOCK];

	if (e->call >= 0 && e->call_ns * 2 >= e->dur) {
		say(f, "%s in %s", e->call_lock ? "waiting for a lock" : "blocked",
		    e->call_lock ? "futex" : cs_syscall_name(e->call));
		if (cs_stacks_short(c, e->stack, at, sizeof(at))) {
			say(f, " at %s", at);
			fig(f, "stack", cs_stacks_index(c, e->stack));
		}
	} else if (e->ns[CS_ST_RUNNING] * 2 >= e->dur)
		say(f, "running");
	else if (e->ns[CS_ST_READY] * 2 >= e->dur)
		say(f, "waiting for a CPU");
	else
		say(f, "running %s, waiting for a CPU %s, blocked %s",
		    dur(a, sizeof(a), e->ns[CS_ST_RUNNING]), dur(b, sizeof(b), e->ns[CS_ST_READY]),
		    dur(d, sizeof(d), blocked));
}

static void loop_one(struct cs_findings *fs, const struct cs_core *c, const struct sums *s,
		     const struct cs_thread *t)
{
	const struct cs_loop *lp = t->loop;
	const struct cs_episode *e = &lp->top[0];
	struct cs_finding *f = add(fs, CS_FIND_LOOP_BLOCKED, lp->episode_ns);
	char a[16], b[16], d[16], at[16], w[64];

	if (!f)
		return;
	f->loop = t;
	f->pid = t->pid;
	tid(f, t->tid);
	say(f, "event loop %s was held up %llu time%s for %s or more, %s in all (%u%% of the "
	    "window); the longest %s at +%s, ", who(t, w, sizeof(w)),
	    (unsigned long long)lp->episodes, lp->episodes == 1 ? "" : "s",
	    dur(a, sizeof(a), cs_ep_threshold(c)), dur(b, sizeof(b), lp->episode_ns),
	    pct(lp->episode_ns, s->wall), dur(d, sizeof(d), e->dur),
	    dur(at, sizeof(at), e->start - cs_core_begin(c)));
	episode_what(f, c, e);
	fig(f, "episodes", lp->episodes);
	fig(f, "episode_ns", lp->episode_ns);
	fig(f, "longest_ns", e->dur);
	fig(f, "longest_start_ns", e->start - cs_core_begin(c));
	fig(f, "threshold_ns", cs_ep_threshold(c));
	fig(f, "event_waits", lp->waits);
}

static void find_loops(struct cs_findings *fs, const struct cs_core *c, const struct sums *s)
{
	size_t i;

	for (i = 0; i < cs_core_nthreads(c); i++) {
		const struct cs_thread *t = cs_core_thread(c, i);

		if (is_loop(t) && t->loop->episodes && t->loop->ntop)
			loop_one(fs, c, s, t);
	}
}

/* ---- io_bound ---- */

/* x86-64 system calls that read, write or wait for files and sockets. */
static bool io_call(int nr)
{
	static const short calls[] = {
		0, 1, 2, 17, 18, 19, 20, 40, 42, 43, 44, 45, 46, 47, 74, 75, 76, 77, 162, 208,
		217, 257, 262, 277, 285, 288, 295, 296, 299, 306, 307, 326, 327, 328, 332,
	};
	size_t i;

	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (calls[i] == nr)
			return true;
	return false;
}

struct io_call { int nr; uint64_t ns; };

/* I/O calls' blocked time of the threads that worked (ran 5% of the window or more). */
static void io_sum(const struct cs_core *c, struct io_call *calls, size_t *ncalls, uint64_t *io,
		   uint64_t *all)
{
	uint64_t wall = cs_core_duration(c);
	size_t i, j;
	unsigned int e;

	for (i = 0; i < cs_core_nthreads(c); i++) {
		const struct cs_thread *t = cs_core_thread(c, i);
		const struct cs_topk *b = &t->blocked;

		if (t->ns[CS_ST_RUNNING] * 20 < wall)
			continue; /* a thread that waits and barely works is idle, not I/O bound */
		*all += cs_thread_alive_ns(t);
		for (e = 0; e < b->n; e++) {
			int nr = (int)b->e[e].key - 1;

			if (!io_call(nr))
				continue;
			*io += b->e[e].ns;
			for (j = 0; j < *ncalls && calls[j].nr != nr; j++)
				;
			if (j == *ncalls && *ncalls < 16)
				calls[(*ncalls)++] = (struct io_call){ nr, 0 };
			if (j < *ncalls)
				calls[j].ns += b->e[e].ns;
		}
	}
}

static int by_io_ns(const void *a, const void *b)
{
	const struct io_call *x = a, *y = b;

	return x->ns != y->ns ? (x->ns > y->ns ? -1 : 1) : x->nr - y->nr;
}

static void find_io(struct cs_findings *fs, const struct cs_core *c, const struct sums *s)
{
	struct io_call calls[16];
	size_t ncalls = 0, i;
	uint64_t io = 0, all = 0, d = s->ns[CS_ST_IO];
	struct cs_finding *f;
	char a[16];

	io_sum(c, calls, &ncalls, &io, &all);
	/* a problem when the working threads spend a quarter of their time blocked in I/O */
	if (io < 10000000 || io * 4 < all || !(f = add(fs, CS_FIND_IO_BOUND, io)))
		return;
	qsort(calls, ncalls, sizeof(calls[0]), by_io_ns);
	say(f, "the threads that worked spent %s blocked in I/O calls, %u%% of their time:",
	    dur(a, sizeof(a), io), pct(io, all));
	for (i = 0; i < ncalls && i < 4; i++)
		say(f, "%s %s %s", i ? "," : "", cs_syscall_name(calls[i].nr),
		    dur(a, sizeof(a), calls[i].ns));
	if (d)
		say(f, "; %s of their blocked time was uninterruptible (D: disk or other kernel I/O)",
		    dur(a, sizeof(a), d));
	fig(f, "io_ns", io);
	fig(f, "thread_ns", all);
	fig(f, "uninterruptible_ns", d);
}

/* ---- wake_chain ---- */

struct pair { uint32_t from, to; uint64_t count, lat; };

static int by_count(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	return x->count != y->count ? (x->count > y->count ? -1 : 1) : (int)(x->to - y->to);
}

static size_t wake_pairs(const struct cs_core *c, struct pair *pairs, size_t max,
			 uint64_t *total)
{
	size_t i, n = 0;
	unsigned int e;

	for (i = 0; i < cs_core_nthreads(c); i++) {
		const struct cs_thread *t = cs_core_thread(c, i);

		*total += t->wakeups;
		for (e = 0; e < t->wakers.n && n < max; e++) {
			uint64_t key = t->wakers.e[e].key;
			bool task; /* a thread: not idle, not an interrupt */

			cs_waker_label(c, key, &task);
			if (!task || !cs_core_find(c, (uint32_t)key) || key == t->tid)
				continue;
			pairs[n++] = (struct pair){ (uint32_t)key, t->tid, t->wakers.e[e].count,
						    t->lat.count ? t->lat.sum / t->lat.count : 0 };
		}
	}
	qsort(pairs, n, sizeof(*pairs), by_count);
	return n;
}

static void find_wake_chain(struct cs_findings *fs, const struct cs_core *c, const struct sums *s)
{
	struct pair pairs[256];
	uint64_t total = 0, explained = 0;
	size_t n = wake_pairs(c, pairs, 256, &total), i;
	struct cs_finding *f;
	char a[64], b[64], d[16];

	/* worth saying when one pair makes a tenth of the wake-ups, 50 or more */
	if (!n || pairs[0].count < 50 || pairs[0].count * 10 < total)
		return;
	for (i = 0; i < n && i < 3; i++)
		explained += pairs[i].count * pairs[i].lat;
	if (!(f = add(fs, CS_FIND_WAKE_CHAIN, explained)))
		return;
	say(f, "who wakes whom:");
	for (i = 0; i < n && i < 3 && pairs[i].count * 20 >= total; i++) {
		say(f, "%s %s -> %s %llu times (then %s to run)", i ? "," : "",
		    who(cs_core_find(c, pairs[i].from), a, sizeof(a)),
		    who(cs_core_find(c, pairs[i].to), b, sizeof(b)),
		    (unsigned long long)pairs[i].count, dur(d, sizeof(d), pairs[i].lat));
		tid(f, pairs[i].from);
		tid(f, pairs[i].to);
	}
	say(f, "; %llu wake-ups in all", (unsigned long long)total);
	fig(f, "top_pair_wakeups", pairs[0].count);
	fig(f, "top_pair_latency_ns", pairs[0].lat);
	fig(f, "wakeups", total);
	(void)s;
}

/* ---- throttled ---- */

static void find_throttled(struct cs_findings *fs, const struct cs_core *c, const struct sums *s)
{
	const struct cs_tracer_fact *sf;
	size_t nf = cs_core_system_facts(c, &sf);
	uint64_t steal = 0, thr = 0, periods = 0;
	struct cs_finding *f;
	char a[16];

	cs_core_fact(sf, nf, "steal_ns", &steal);
	cs_core_fact(sf, nf, "throttled_ns", &thr);
	cs_core_fact(sf, nf, "throttled_periods", &periods);
	/* steal is counted in clock ticks (10 ms): two of them or more */
	if (steal >= 20000000 && (f = add(fs, CS_FIND_THROTTLED, steal))) {
		say(f, "the hypervisor took %s of CPU time from this machine's %u CPUs during the "
		    "window (steal: %u%% of their time)", dur(a, sizeof(a), steal), s->ncpus,
		    pct(steal, s->wall * s->ncpus));
		fig(f, "steal_ns", steal);
	}
	if (thr >= 1000000 && (f = add(fs, CS_FIND_THROTTLED, thr))) {
		say(f, "the cgroup's CPU limit (cpu.max; cpu.cfs_quota_us in cgroup v1) throttled the "
		    "target %llu time%s, %s in all",
		    (unsigned long long)periods, periods == 1 ? "" : "s", dur(a, sizeof(a), thr));
		fig(f, "throttled_ns", thr);
		fig(f, "throttled_periods", periods);
	}
}

/* Shape first; then by explained_ns, largest first. */
static int by_rank(const void *a, const void *b)
{
	const struct cs_finding *x = a, *y = b;

	if ((x->kind == CS_FIND_SHAPE) != (y->kind == CS_FIND_SHAPE))
		return x->kind == CS_FIND_SHAPE ? -1 : 1;
	if (x->explained_ns != y->explained_ns)
		return x->explained_ns > y->explained_ns ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

void cs_findings_compute(struct cs_findings *out, const struct cs_core *c,
			 const struct cs_findings_cfg *cfg)
{
	struct sums s;
	struct cs_view v;

	out->n = 0;
	if (cs_view_build(&v, c))
		return;
	sum_up(&s, c, cfg, &v);
	if (!s.nthreads) {
		cs_view_free(&v);
		return;
	}
	find_shape(out, c, &s);
	find_cpu_saturated(out, c, &s);
	find_serialized(out, c, &s);
	find_loops(out, c, &s);
	find_io(out, c, &s);
	find_wake_chain(out, c, &s);
	find_throttled(out, c, &s);
	qsort(out->f, out->n, sizeof(out->f[0]), by_rank);
	cs_view_free(&v);
}

struct cs_findings *cs_findings_new(const struct cs_core *c, unsigned int ncpus)
{
	struct cs_findings_cfg cfg = { .ncpus = ncpus };
	struct cs_findings *fs = malloc(sizeof(*fs));

	if (fs)
		cs_findings_compute(fs, c, &cfg);
	return fs;
}

const struct cs_findings *cs_findings_get(const struct cs_findings *fs, const struct cs_core *c,
					  unsigned int ncpus, struct cs_findings **own)
{
	*own = fs ? NULL : cs_findings_new(c, ncpus);
	return fs ? fs : *own;
}

const struct cs_finding *cs_findings_find(const struct cs_findings *fs, enum cs_finding_kind k,
					  uint32_t pid)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		if (fs->f[i].kind == k && (!pid || fs->f[i].pid == pid))
			return &fs->f[i];
	return NULL;
}
