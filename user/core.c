// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * core.c: event stream -> thread states, timeline and metrics.
 *
 * Each tracked thread is in exactly one state at a time; an event closes the
 * current interval (accounted only inside the recording window) and opens the
 * next. Each CPU remembers who is running on it and which tracked threads are
 * waiting in its run queue, so a preempted or woken thread can be told who
 * held the CPU while it waited. What a blocked thread waits for (futexes,
 * kernel locks) and the lock table are locks.c's; core_priv.h is the seam.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core_priv.h"
#include "grow.h"

#define MAX_NAMES (1u << 20)

struct cs_core *cs_core_new(const struct cs_core_cfg *cfg)
{
	struct cs_core *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cfg = *cfg;
	c->wb = c->we = NOT_SET;
	c->tl_width = cfg->tl_width_ns ? cfg->tl_width_ns : 1000000;
	c->cmd_status = -1;
	if (cfg->on_new)
		cfg->on_new(c, cfg->on_new_arg);
	return c;
}

void cs_core_free(struct cs_core **core)
{
	struct cs_core *c = *core;
	size_t i;

	if (!c)
		return;
	if (c->obs.free)
		c->obs.free(c->obs.ctx);
	for (i = 0; i < c->nthreads; i++) {
		cs_hist_free(&c->threads[i]->pub.lat);
		free(c->threads[i]->pub.loop);
		free(c->threads[i]->pub.tl);
		free(c->threads[i]);
	}
	for (i = 0; i < c->ncpus; i++)
		free(c->cpus[i].ready);
	free(c->threads);
	free(c->cpus);
	cs_locks_free(c);
	cs_prof_free(c);
	free(c->other);
	cs_hmap_free(&c->otheridx);
	cs_stacks_free(&c->stacks);
	free(c->names);
	free(c->titles);
	free(c->sources);
	cs_hmap_free(&c->sourceidx);
	free(c->lost_by_cpu);
	cs_hmap_free(&c->tidx);
	cs_hmap_free(&c->tracked);
	cs_hmap_free(&c->nameidx);
	cs_hmap_free(&c->titleidx);
	free(c);
	*core = NULL;
}

void cs_core_track(struct cs_core *c, uint32_t tgid)
{
	cs_hmap_put(&c->tracked, tgid, 0, 1);
}

bool cs_core_is_tracked(const struct cs_core *c, uint32_t tgid)
{
	return c->cfg.track_all || cs_hmap_get(&c->tracked, tgid, 0);
}

/* ---- names of every task seen ---- */

/* A comm from a record, always terminated (a saved trace may hold anything). */
static void copy_comm(char *dst, const char *src)
{
	memcpy(dst, src, CS_COMM_LEN);
	dst[CS_COMM_LEN - 1] = 0;
}

void cs_core_set_name(struct cs_core *c, uint32_t tid, const char *comm)
{
	uint32_t *slot = cs_hmap_get(&c->nameidx, tid, 0);

	if (slot) {
		copy_comm(c->names[*slot], comm);
		return;
	}
	if (c->nnames >= MAX_NAMES)
		return;
	if (c->nnames == c->capnames) {
		size_t cap = c->capnames ? c->capnames * 2 : 256;
		void *p = realloc(c->names, cap * CS_COMM_LEN);

		if (!p)
			return;
		c->names = p;
		c->capnames = cap;
	}
	copy_comm(c->names[c->nnames], comm);
	if (!cs_hmap_put(&c->nameidx, tid, 0, (uint32_t)c->nnames))
		c->nnames++;
}

const char *cs_core_comm(const struct cs_core *c, uint32_t tid)
{
	uint32_t *slot = cs_hmap_get(&c->nameidx, tid, 0);

	return slot ? c->names[*slot] : NULL;
}

#define MAX_TITLES (1u << 16)

/* A process's title; the last one read wins ("": it has none again). */
static void set_title(struct cs_core *c, const struct cs_title *e)
{
	uint32_t *slot = cs_hmap_get(&c->titleidx, e->h.pid, 0);
	char *dst;

	if (!slot) {
		if (!e->title[0] || c->ntitles >= MAX_TITLES)
			return;
		if (c->ntitles == c->captitles) {
			size_t cap = c->captitles ? c->captitles * 2 : 64;
			void *p = realloc(c->titles, cap * CS_TITLE_LEN);

			if (!p)
				return;
			c->titles = p;
			c->captitles = cap;
		}
		if (cs_hmap_put(&c->titleidx, e->h.pid, 0, (uint32_t)c->ntitles))
			return;
		slot = cs_hmap_get(&c->titleidx, e->h.pid, 0);
		c->ntitles++;
	}
	dst = c->titles[*slot];
	memcpy(dst, e->title, CS_TITLE_LEN);
	dst[CS_TITLE_LEN - 1] = 0;
}

const char *cs_core_title(const struct cs_core *c, uint32_t pid)
{
	uint32_t *slot = cs_hmap_get(&c->titleidx, pid, 0);

	return slot && c->titles[*slot][0] ? c->titles[*slot] : NULL;
}

/* A thread's policy, nice value, RT priority and cgroup, as /proc last gave them. */
static void task_sched(struct cs_core *c, const struct cs_task_sched *e, uint64_t ts)
{
	struct cs_thread_priv *t = cs_core_tracked_thread(c, e->h.tid, e->h.pid, ts);

	if (!t)
		return;
	t->pub.sched_known = true;
	t->pub.policy = (uint8_t)e->h.aux;
	t->pub.nice = (int8_t)(e->nice < -20 ? -20 : e->nice > 19 ? 19 : e->nice);
	t->pub.rt_priority = (uint8_t)(e->rt_priority > 99 ? 99 : e->rt_priority);
	memcpy(t->pub.cgroup, e->cgroup, CS_CGROUP_LEN);
	t->pub.cgroup[CS_CGROUP_LEN - 1] = 0;
}

/* ---- CPUs ---- */

struct cs_cpu *cs_core_cpu(struct cs_core *c, unsigned int cpu)
{
	if (cpu >= 4096)
		return NULL;
	if (cpu >= c->ncpus) {
		unsigned int n = cpu + 1;
		struct cs_cpu *p = realloc(c->cpus, n * sizeof(*p));

		if (!p)
			return NULL;
		memset(p + c->ncpus, 0, (n - c->ncpus) * sizeof(*p));
		c->cpus = p;
		c->ncpus = n;
	}
	return &c->cpus[cpu];
}

void cs_core_ready_enter(struct cs_core *c, struct cs_thread_priv *t, uint64_t ts)
{
	struct cs_cpu *cpu = cs_core_cpu(c, t->cpu);

	t->wait_from = ts;
	if (!cpu)
		return;
	if (cpu->nready == cpu->capready) {
		unsigned int cap = cpu->capready ? cpu->capready * 2 : 8;
		void *p = realloc(cpu->ready, cap * sizeof(*cpu->ready));

		if (!p)
			return;
		cpu->ready = p;
		cpu->capready = cap;
	}
	cpu->ready[cpu->nready++] = t;
}

void cs_core_ready_leave(struct cs_core *c, struct cs_thread_priv *t)
{
	struct cs_cpu *cpu = t->cpu < c->ncpus ? &c->cpus[t->cpu] : NULL;
	unsigned int i;

	if (!cpu)
		return;
	for (i = 0; i < cpu->nready; i++) {
		if (cpu->ready[i] == t) {
			cpu->ready[i] = cpu->ready[--cpu->nready];
			return;
		}
	}
}

/* ---- time accounting ---- */

/* Double the bucket width, merging buckets pairwise, for every thread. */
static void tl_halve(struct cs_core *c)
{
	size_t i;
	unsigned int b, s;

	for (i = 0; i < c->nthreads; i++) {
		uint64_t *tl = c->threads[i]->pub.tl;

		if (!tl)
			continue;
		for (b = 0; b < CS_TL_BUCKETS / 2; b++)
			for (s = 0; s < CS_NACC; s++)
				tl[b * CS_NACC + s] = tl[2 * b * CS_NACC + s] +
						      tl[(2 * b + 1) * CS_NACC + s];
		memset(tl + CS_TL_BUCKETS / 2 * CS_NACC, 0,
		       CS_TL_BUCKETS / 2 * CS_NACC * sizeof(*tl));
	}
	c->tl_width *= 2;
}

static void tl_add(struct cs_core *c, struct cs_thread_priv *t, unsigned int st,
		   uint64_t a, uint64_t b)
{
	uint64_t off_a, off_b, w;
	unsigned int i, last;

	/* wider buckets until b fits, short of overflowing (absurd times: the end is cut) */
	while (b - c->wb > c->tl_width * CS_TL_BUCKETS &&
	       c->tl_width <= UINT64_MAX / 2 / CS_TL_BUCKETS)
		tl_halve(c);
	if (!t->pub.tl) {
		t->pub.tl = calloc(CS_TL_BUCKETS * CS_NACC, sizeof(*t->pub.tl));
		if (!t->pub.tl)
			return;
	}
	w = c->tl_width;
	off_a = a - c->wb;
	off_b = b - c->wb;
	last = (unsigned int)((off_b - 1) / w);
	for (i = (unsigned int)(off_a / w); i <= last && i < CS_TL_BUCKETS; i++) {
		uint64_t lo = (uint64_t)i * w, hi = lo + w;

		if (lo < off_a)
			lo = off_a;
		if (hi > off_b)
			hi = off_b;
		t->pub.tl[i * CS_NACC + st] += hi - lo;
	}
}

void cs_core_slices_to(struct cs_core *c, const struct cs_core_slices *o)
{
	c->slices = *o;
}

uint64_t cs_core_account(struct cs_core *c, struct cs_thread_priv *t, unsigned int st,
			 uint64_t a, uint64_t b)
{
	if (st >= CS_NACC || b <= a || !clip(c, &a, &b))
		return 0;
	if (st == CS_ST_UNTRACED && c->slices.untraced)
		c->slices.untraced(c->slices.ctx, t->pub.tid, t->pub.pid, a, b);
	t->pub.events.ns[st] += b - a;
	tl_add(c, t, st, a, b);
	cs_ep_account(c, t, st, a, b);
	if (c->obs.interval)
		cs_core_observe(c, t, st, a, b);
	return b - a;
}

/* ---- threads ---- */

struct cs_thread_priv *cs_core_find_thread(const struct cs_core *c, uint32_t tid)
{
	uint32_t *slot = cs_hmap_get(&c->tidx, tid, 0);

	return slot ? c->threads[*slot] : NULL;
}

static struct cs_thread_priv *new_thread(struct cs_core *c, uint32_t tid, uint32_t pid,
					 uint64_t ts)
{
	struct cs_thread_priv *t;

	if (c->nthreads == c->capthreads) {
		size_t cap = c->capthreads ? c->capthreads * 2 : 64;
		void *p = realloc(c->threads, cap * sizeof(*c->threads));

		if (!p)
			return NULL;
		c->threads = p;
		c->capthreads = cap;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->pub.tid = tid;
	t->pub.pid = pid;
	t->state = CS_ST_UNKNOWN;
	t->since = 0; /* unknown since the window opened: its first event tells */
	t->pub.first_ts = ts;
	t->block_syscall = -1;
	t->pub.holders.by_ns = 1;
	t->pub.blocked.by_ns = 1;
	t->pub.lockwaits.by_ns = 1;
	if (cs_hmap_put(&c->tidx, tid, 0, (uint32_t)c->nthreads)) {
		free(t);
		return NULL;
	}
	c->threads[c->nthreads++] = t;
	{
		const char *comm = cs_core_comm(c, tid);

		if (comm)
			memcpy(t->pub.comm, comm, CS_COMM_LEN);
	}
	return t;
}

struct cs_thread_priv *cs_core_tracked_thread(struct cs_core *c, uint32_t tid, uint32_t pid,
					      uint64_t ts)
{
	struct cs_thread_priv *t = cs_core_find_thread(c, tid);

	if (t && !(t->pub.exited && t->state == CS_ST_DEAD))
		return t;
	if (!tid || !cs_core_is_tracked(c, pid))
		return NULL;
	return new_thread(c, tid, pid, ts);
}

void cs_core_set_comm(struct cs_core *c, struct cs_thread_priv *t, uint32_t tid,
		      const char *comm)
{
	cs_core_set_name(c, tid, comm);
	if (t)
		copy_comm(t->pub.comm, comm);
}

static void wake_source(struct cs_core *c, const struct cs_wake_source *e);

/* ---- lost events ---- */

static void count_lost_on(struct cs_core *c, unsigned int cpu, uint64_t n)
{
	unsigned int want = cpu == 0xffff ? 0 : cpu + 1, i = cpu == 0xffff ? 0 : cpu + 1;

	if (want >= c->nlost_cpus) {
		uint64_t *p = realloc(c->lost_by_cpu, (want + 1) * sizeof(*p));

		if (!p)
			return;
		memset(p + c->nlost_cpus, 0, (want + 1 - c->nlost_cpus) * sizeof(*p));
		c->lost_by_cpu = p;
		c->nlost_cpus = want + 1;
	}
	c->lost_by_cpu[i] += n; /* slot 0: not per CPU */
}

uint64_t cs_core_lost_on(const struct cs_core *c, unsigned int cpu)
{
	unsigned int i = cpu == 0xffff ? 0 : cpu + 1;

	return i < c->nlost_cpus ? c->lost_by_cpu[i] : 0;
}

/* Events lost on a CPU: its chain of switches is broken from there. */
static void on_lost(struct cs_core *c, const struct cs_lost *e, uint64_t ts)
{
	struct cs_loss_window *w = NULL;
	uint64_t first = e->first_ts ? e->first_ts : e->h.ts;
	size_t i;

	c->stats.lost_events += e->count;
	count_lost_on(c, e->h.cpu, e->count);
	if (e->h.cpu < c->ncpus)
		c->cpus[e->h.cpu].known = false;
	for (i = c->nlosses; i-- > 0 && !w;)
		if (c->losses[i].cpu == e->h.cpu && first <= c->losses[i].last + CS_LOSS_MERGE_NS)
			w = &c->losses[i];
	if (!w && c->nlosses < CS_LOSS_WINDOWS) {
		w = &c->losses[c->nlosses++];
		*w = (struct cs_loss_window){ e->h.cpu, first, e->h.ts, 0 };
	} else if (!w) {
		w = &c->losses[CS_LOSS_WINDOWS - 1]; /* the last one takes the rest */
	}
	if (first < w->first)
		w->first = first;
	if (e->h.ts > w->last)
		w->last = e->h.ts;
	w->count += e->count;
	(void)ts;
}

size_t cs_core_loss_windows(const struct cs_core *c, const struct cs_loss_window **w)
{
	*w = c->losses;
	return c->nlosses;
}

/* A named fact into facts[CS_MAX_FACTS] (the tracer's, or the machine's). */
static void set_fact(struct cs_tracer_fact *facts, unsigned int *n, const struct cs_mark *e)
{
	struct cs_tracer_fact *f = NULL;
	unsigned int i;

	for (i = 0; i < *n && !f; i++)
		if (!strncmp(facts[i].name, e->text, sizeof(f->name) - 1))
			f = &facts[i];
	if (!f && *n < CS_MAX_FACTS) {
		f = &facts[(*n)++];
		memcpy(f->name, e->text, sizeof(f->name) - 1);
		f->name[sizeof(f->name) - 1] = 0;
	}
	if (f)
		f->value = (uint64_t)e->value;
}

size_t cs_core_tracer_facts(const struct cs_core *c, const struct cs_tracer_fact **f)
{
	*f = c->facts;
	return c->nfacts;
}

size_t cs_core_system_facts(const struct cs_core *c, const struct cs_tracer_fact **f)
{
	*f = c->sysfacts;
	return c->nsysfacts;
}

bool cs_core_fact(const struct cs_tracer_fact *f, size_t n, const char *name, uint64_t *value)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strcmp(f[i].name, name)) {
			*value = f[i].value;
			return true;
		}
	}
	return false;
}

static void on_mark(struct cs_core *c, const struct cs_mark *e, uint64_t ts)
{
	switch (e->h.aux) {
	case CS_MARK_WINDOW_BEGIN:
		if (c->wb == NOT_SET) {
			c->wb = ts;
			c->root = e->h.pid;
		}
		break;
	case CS_MARK_WINDOW_END:
		c->we = ts;
		break;
	case CS_MARK_TRACK:
		cs_core_track(c, e->h.pid);
		break;
	case CS_MARK_CMD_EXIT:
		c->cmd_status = (int)e->value;
		break;
	case CS_MARK_END:
		c->end_reason = (int)e->value;
		break;
	case CS_MARK_TRACER:
		set_fact(c->facts, &c->nfacts, e);
		if (!strncmp(e->text, "stacks", sizeof(e->text)) && e->value)
			cs_stacks_feed(c, &e->h); /* from the segment's start: every block counts */
		break;
	case CS_MARK_SYSTEM:
		set_fact(c->sysfacts, &c->nsysfacts, e);
		break;
	default:
		break;
	}
}

/* What a task is and does besides its states: exec, exit, rename, title, scheduling. */
static bool on_task(struct cs_core *c, const struct cs_hdr *ev, uint64_t ts)
{
	struct cs_thread_priv *t;

	switch (ev->kind) {
	case CS_EV_EXEC:
		t = cs_core_tracked_thread(c, ev->tid, ev->pid, ts);
		cs_core_set_comm(c, t, ev->tid, ((const struct cs_exec *)ev)->comm);
		return true;
	case CS_EV_EXIT:
		t = cs_core_tracked_thread(c, ev->tid, ev->pid, ts);
		if (t) {
			t->pub.exited = true;
			t->pub.exit_ts = ts;
		}
		return true;
	case CS_EV_RENAME:
		t = cs_core_tracked_thread(c, ev->tid, ev->pid, ts);
		cs_core_set_comm(c, t, ev->tid, ((const struct cs_rename *)ev)->comm);
		return true;
	case CS_EV_TITLE:
		set_title(c, (const struct cs_title *)ev);
		return true;
	case CS_EV_TASK_SCHED:
		task_sched(c, (const struct cs_task_sched *)ev, ts);
		return true;
	default:
		return false;
	}
}

void cs_core_feed(struct cs_core *c, const struct cs_hdr *ev)
{
	uint64_t ts = ev->ts;

	c->stats.events++;
	if (ts < c->last_ts) {
		c->stats.late_events++;
		ts = c->last_ts;
	}
	c->last_ts = ts;
	switch (ev->kind) {
	case CS_EV_SWITCH:
		cs_states_on_switch(c, (const struct cs_switch *)ev, ts);
		break;
	case CS_EV_WAKING:
		cs_states_on_waking(c, (const struct cs_waking *)ev, ts);
		break;
	case CS_EV_FORK:
		cs_states_on_fork(c, (const struct cs_fork *)ev, ts);
		break;
	case CS_EV_MIGRATE:
		cs_states_on_migrate(c, (const struct cs_migrate *)ev, ts);
		break;
	case CS_EV_THREAD_INFO:
		cs_states_on_thread_info(c, (const struct cs_thread_info *)ev, ts);
		break;
	case CS_EV_THREAD_TOTALS:
		cs_states_on_totals(c, (const struct cs_thread_totals *)ev, ts);
		break;
	case CS_EV_CPU_STATE:
		cs_states_on_cpu_state(c, (const struct cs_cpu_state *)ev);
		break;
	case CS_EV_LOCK_CLASS:
		cs_locks_on_class(c, (const struct cs_lock_class *)ev);
		break;
	case CS_EV_WAKE_SOURCE:
		wake_source(c, (const struct cs_wake_source *)ev);
		break;
	case CS_EV_MARK:
		on_mark(c, (const struct cs_mark *)ev, ts);
		break;
	case CS_EV_LOST:
		on_lost(c, (const struct cs_lost *)ev, ts);
		break;
	case CS_EV_LOCK_BEGIN:
		cs_locks_on_begin(c, (const struct cs_lock *)ev, ts);
		break;
	case CS_EV_LOCK_END:
		cs_locks_on_end(c, (const struct cs_lock *)ev, ts);
		break;
	case CS_EV_FUTEX_ENTER:
		cs_locks_on_futex_enter(c, (const struct cs_futex *)ev, ts);
		break;
	case CS_EV_FUTEX_EXIT:
		cs_locks_on_futex_exit(c, (const struct cs_futex *)ev, ts);
		break;
	case CS_EV_LOCK_NAME:
		cs_locks_on_name(c, (const struct cs_lock_name *)ev);
		break;
	default: /* the tasks' facts, the stacks' kinds, else unknown */
		if (!on_task(c, ev, ts) && !cs_stacks_feed(c, ev))
			c->stats.unknown_kind++;
		break;
	}
}

void cs_core_finish(struct cs_core *c, uint64_t end_ts)
{
	size_t i;

	if (c->finished)
		return;
	if (c->we == NOT_SET)
		c->we = end_ts > c->last_ts ? end_ts : c->last_ts;
	if (c->wb == NOT_SET)
		c->wb = c->we;
	for (i = 0; i < c->nthreads; i++) {
		struct cs_thread_priv *t = c->threads[i];

		cs_states_finish_thread(c, t);
		cs_locks_finish_thread(c, t);
		cs_ep_finish(c, t);
	}
	cs_prof_finish(c);
	c->finished = true;
}

uint64_t cs_thread_alive_ns(const struct cs_thread *t)
{
	uint64_t sum = 0;
	unsigned int s;

	for (s = 0; s < CS_NACC; s++)
		sum += t->ns[s];
	return sum;
}

size_t cs_core_nthreads(const struct cs_core *c)
{
	return c->nthreads;
}

const struct cs_thread *cs_core_thread(const struct cs_core *c, size_t i)
{
	return i < c->nthreads ? &c->threads[i]->pub : NULL;
}

const struct cs_thread *cs_core_find(const struct cs_core *c, uint32_t tid)
{
	const struct cs_thread_priv *t = cs_core_find_thread(c, tid);

	return t ? &t->pub : NULL;
}

void cs_core_totals(const struct cs_core *c, struct cs_totals *tot)
{
	uint64_t dur = cs_core_duration(c);
	size_t i;
	unsigned int s;

	memset(tot, 0, sizeof(*tot));
	for (i = 0; i < c->nthreads; i++) {
		const struct cs_thread *t = &c->threads[i]->pub;

		for (s = 0; s < CS_NACC; s++)
			tot->ns[s] += t->ns[s];
		tot->nvcsw += t->nvcsw;
		tot->nivcsw += t->nivcsw;
		tot->migrations += t->migrations;
		tot->wakeups += t->wakeups;
	}
	tot->parallelism = dur ? (double)tot->ns[CS_ST_RUNNING] / (double)dur : 0;
}

void cs_totals_add(struct cs_totals *sum, const struct cs_totals *t, uint64_t dur)
{
	unsigned int s;

	for (s = 0; s < CS_NACC; s++)
		sum->ns[s] += t->ns[s];
	sum->nvcsw += t->nvcsw;
	sum->nivcsw += t->nivcsw;
	sum->migrations += t->migrations;
	sum->wakeups += t->wakeups;
	sum->parallelism = dur ? (double)sum->ns[CS_ST_RUNNING] / (double)dur : 0;
}

const struct cs_core_stats *cs_core_stats(const struct cs_core *c)
{
	return &c->stats;
}

uint64_t cs_core_duration(const struct cs_core *c)
{
	if (c->wb == NOT_SET || c->we == NOT_SET || c->we < c->wb)
		return 0;
	return c->we - c->wb;
}

uint64_t cs_core_begin(const struct cs_core *c)
{
	return c->wb == NOT_SET ? 0 : c->wb;
}

unsigned int cs_core_ncpus(const struct cs_core *c)
{
	return c->ncpus;
}

uint64_t cs_core_tl_width(const struct cs_core *c)
{
	return c->tl_width;
}

/* ---- tasks outside the target that held our CPUs ---- */

#define MAX_OTHERS 1024

/* The entry of pid, made on first sight; NULL when out of memory. */
static struct cs_other *other_of(struct cs_core *c, uint32_t pid)
{
	uint32_t *slot = cs_hmap_get(&c->otheridx, pid, 0);
	struct cs_other *o;

	if (slot)
		return &c->other[*slot];
	if (c->nother >= MAX_OTHERS)
		return &c->other[MAX_OTHERS - 1]; /* the last takes the rest */
	if (cs_grow(&c->other, c->nother, &c->capother, sizeof(*c->other), 16) ||
	    cs_hmap_put(&c->otheridx, pid, 0, (uint32_t)c->nother))
		return NULL;
	o = &c->other[c->nother++];
	memset(o, 0, sizeof(*o));
	o->pid = pid;
	return o;
}

void cs_core_other_add(struct cs_core *c, uint32_t pid, uint32_t tid, uint64_t ns)
{
	struct cs_other *o = other_of(c, pid);
	const char *comm;

	if (!o)
		return;
	/* its own entry: the name of the task that held the CPU last */
	if (o->pid == pid || !o->comm[0]) {
		comm = cs_core_comm(c, tid);
		if (comm)
			memcpy(o->comm, comm, CS_COMM_LEN);
	}
	o->ns += ns;
}

size_t cs_core_others(const struct cs_core *c, const struct cs_other **o)
{
	*o = c->other;
	return c->nother;
}

/* ---- names of interrupt wake-up sources ---- */

#define MAX_SOURCES 4096

static void wake_source(struct cs_core *c, const struct cs_wake_source *e)
{
	uint32_t canon = e->id;
	size_t i;

	if (cs_hmap_get(&c->sourceidx, e->id, 0) || c->nsources >= MAX_SOURCES)
		return;
	/* one source by name: the stacks of one timer's wake-ups vary (once per source) */
	for (i = 0; i < c->nsources; i++) {
		if (!strncmp(c->sources[i].name, e->name, CS_WAKE_SOURCE_LEN)) {
			canon = c->sources[i].canon;
			break;
		}
	}
	if (cs_grow(&c->sources, c->nsources, &c->capsources, sizeof(*c->sources), 16) ||
	    cs_hmap_put(&c->sourceidx, e->id, 0, (uint32_t)c->nsources))
		return;
	c->sources[c->nsources].id = e->id;
	c->sources[c->nsources].canon = canon;
	memcpy(c->sources[c->nsources].name, e->name, CS_WAKE_SOURCE_LEN);
	c->sources[c->nsources].name[CS_WAKE_SOURCE_LEN - 1] = 0;
	c->nsources++;
}

uint32_t cs_core_wake_source_id(const struct cs_core *c, uint32_t id)
{
	uint32_t *slot = cs_hmap_get(&c->sourceidx, id, 0);

	return slot ? c->sources[*slot].canon : id;
}

const char *cs_core_wake_source(const struct cs_core *c, uint32_t id)
{
	uint32_t *slot = cs_hmap_get(&c->sourceidx, id, 0);

	return slot ? c->sources[*slot].name : NULL;
}

int cs_core_cmd_status(const struct cs_core *c)
{
	return c->cmd_status;
}

int cs_core_end_reason(const struct cs_core *c)
{
	return c->end_reason;
}
