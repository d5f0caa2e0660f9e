// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "summary.h"

extern const char *const cs_syscall_names[];
extern const size_t cs_syscall_count;

const char *cs_syscall_name(int nr)
{
	if (nr < 0)
		return "-";
	if ((size_t)nr < cs_syscall_count && cs_syscall_names[nr])
		return cs_syscall_names[nr];
	return "?";
}

bool cs_thread_present(const struct cs_thread *t)
{
	unsigned int s;

	for (s = 0; s < CS_NACC; s++)
		if (t->ns[s])
			return true;
	return t->nvcsw || t->nivcsw;
}

static int by_pid_tid(const void *a, const void *b)
{
	const struct cs_thread *x = *(const struct cs_thread *const *)a;
	const struct cs_thread *y = *(const struct cs_thread *const *)b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->first_ts < y->first_ts ? -1 : x->first_ts > y->first_ts;
}

int cs_view_build(struct cs_view *v, const struct cs_core *c)
{
	size_t i, n = cs_core_nthreads(c), k = 0;

	memset(v, 0, sizeof(*v));
	v->all = calloc(n ? n : 1, sizeof(*v->all));
	v->procs = calloc(n ? n : 1, sizeof(*v->procs));
	if (!v->all || !v->procs) {
		cs_view_free(v);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		if (cs_thread_present(cs_core_thread(c, i)))
			v->all[k++] = cs_core_thread(c, i);
	v->nthreads = k;
	qsort(v->all, k, sizeof(*v->all), by_pid_tid);
	for (i = 0; i < k; i++) {
		const struct cs_thread *t = v->all[i];
		struct cs_proc_view *p = v->nprocs ? &v->procs[v->nprocs - 1] : NULL;

		if (!p || p->pid != t->pid) {
			p = &v->procs[v->nprocs++];
			p->pid = t->pid;
			p->threads = &v->all[i];
			p->comm = t->comm;
		}
		if (t->tid == t->pid)
			p->comm = t->comm;
		p->nthreads++;
	}
	return 0;
}

void cs_view_free(struct cs_view *v)
{
	free(v->all);
	free(v->procs);
	memset(v, 0, sizeof(*v));
}

/* The keys a thread and the totals share: time in each state and the counts. */
static void counts_json(struct cs_jsonw *w, const uint64_t ns[CS_NACC], uint64_t nvcsw,
			uint64_t nivcsw, uint64_t migrations, uint64_t wakeups)
{
	cs_json_ku64(w, "running_ns", ns[CS_ST_RUNNING]);
	cs_json_ku64(w, "ready_ns", ns[CS_ST_READY]);
	cs_json_ku64(w, "sleep_ns", ns[CS_ST_SLEEP]);
	cs_json_ku64(w, "io_ns", ns[CS_ST_IO]);
	cs_json_ku64(w, "lock_ns", ns[CS_ST_LOCK]);
	cs_json_ku64(w, "voluntary_switches", nvcsw);
	cs_json_ku64(w, "involuntary_switches", nivcsw);
	cs_json_ku64(w, "migrations", migrations);
	cs_json_ku64(w, "wakeups", wakeups);
}

void cs_totals_json(struct cs_jsonw *w, const struct cs_totals *t)
{
	cs_json_key(w, "totals");
	cs_json_obj_begin(w);
	counts_json(w, t->ns, t->nvcsw, t->nivcsw, t->migrations, t->wakeups);
	cs_json_kdouble(w, "parallelism", t->parallelism);
	cs_json_obj_end(w);
}

static void topk_json(struct cs_jsonw *w, const struct cs_core *c, const char *key,
		      const struct cs_topk *tk, bool with_ns, const char *zero)
{
	struct cs_topk_ent e[CS_TOPK];
	unsigned int i, n = cs_topk_sorted(tk, e);

	cs_json_key(w, key);
	cs_json_arr_begin(w);
	for (i = 0; i < n; i++) {
		const char *comm = cs_core_comm(c, (uint32_t)e[i].key);

		cs_json_obj_begin(w);
		cs_json_ku64(w, "tid", e[i].key);
		cs_json_kstr(w, "comm", e[i].key == 0 ? zero : comm ? comm : "?");
		cs_json_ku64(w, "count", e[i].count);
		if (with_ns)
			cs_json_ku64(w, "ns", e[i].ns);
		cs_json_obj_end(w);
	}
	cs_json_arr_end(w);
}

/* A lock's "address", "symbol" and "kind", as both lock lists write them. */
static void lock_ident_json(struct cs_jsonw *w, const struct cs_lockstat *l)
{
	char addr[32];

	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)l->addr);
	cs_json_kstr(w, "address", addr);
	cs_json_kstr(w, "symbol", l->name);
	cs_json_kstr(w, "kind", cs_lock_kind_name(l->kind));
}

static void thread_json(struct cs_jsonw *w, const struct cs_core *c, const struct cs_thread *t)
{
	struct cs_topk_ent e[CS_TOPK];
	unsigned int i, n;

	cs_json_obj_begin(w);
	cs_json_ku64(w, "tid", t->tid);
	cs_json_kstr(w, "comm", t->comm);
	counts_json(w, t->ns, t->nvcsw, t->nivcsw, t->migrations, t->wakeups);
	cs_json_ku64(w, "untraced_switches", t->untraced);
	cs_json_ku64(w, "untraced_ns", t->untraced_ns);
	cs_json_key(w, "sched_latency_ns");
	cs_json_obj_begin(w);
	cs_json_ku64(w, "count", t->lat.count);
	cs_json_ku64(w, "p50", cs_hist_quantile(&t->lat, 0.50));
	cs_json_ku64(w, "p99", cs_hist_quantile(&t->lat, 0.99));
	cs_json_ku64(w, "max", t->lat.max);
	cs_json_obj_end(w);
	cs_json_key(w, "blocked_in");
	cs_json_arr_begin(w);
	n = cs_topk_sorted(&t->blocked, e);
	for (i = 0; i < n; i++) {
		cs_json_obj_begin(w);
		cs_json_kstr(w, "syscall", cs_syscall_name((int)e[i].key - 1));
		cs_json_ku64(w, "count", e[i].count);
		cs_json_ku64(w, "ns", e[i].ns);
		cs_json_obj_end(w);
	}
	cs_json_arr_end(w);
	cs_json_key(w, "lock_waits");
	cs_json_arr_begin(w);
	n = cs_topk_sorted(&t->lockwaits, e);
	for (i = 0; i < n; i++) {
		const struct cs_lockstat *l = cs_core_lock(c, (size_t)e[i].key);

		if (!l)
			continue;
		cs_json_obj_begin(w);
		lock_ident_json(w, l);
		cs_json_ku64(w, "count", e[i].count);
		cs_json_ku64(w, "ns", e[i].ns);
		cs_json_obj_end(w);
	}
	cs_json_arr_end(w);
	topk_json(w, c, "wakers", &t->wakers, false, "(idle/irq)");
	topk_json(w, c, "cpu_held_by", &t->holders, true, "(idle)");
	cs_json_obj_end(w);
}

const char *cs_releaser_reason(uint64_t key)
{
	switch (key) {
	case CS_REL_TIMEOUT: return "timeout";
	case CS_REL_SIGNAL: return "signal";
	case CS_REL_UNKNOWN: return "unknown";
	case CS_REL_SPUN: return "spun";
	case CS_REL_UNFINISHED: return "still waiting";
	case CS_REL_ERROR: return "error";
	default: return NULL;
	}
}

const char *cs_lock_label(const struct cs_lockstat *l, char *buf, size_t len)
{
	if (l->name[0])
		return l->name;
	snprintf(buf, len, "0x%llx", (unsigned long long)l->addr);
	return buf;
}

static int by_wait_desc(const void *a, const void *b)
{
	const struct cs_lockstat *x = *(const struct cs_lockstat *const *)a;
	const struct cs_lockstat *y = *(const struct cs_lockstat *const *)b;

	if (x->wait_ns != y->wait_ns)
		return x->wait_ns < y->wait_ns ? 1 : -1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

size_t cs_locks_sorted(const struct cs_core *c, const struct cs_lockstat ***out)
{
	size_t i, n = 0, all = cs_core_nlocks(c);
	const struct cs_lockstat **v = calloc(all ? all : 1, sizeof(*v));

	*out = v;
	if (!v)
		return 0;
	for (i = 0; i < all; i++)
		if (cs_core_lock(c, i)->waits)
			v[n++] = cs_core_lock(c, i);
	qsort(v, n, sizeof(*v), by_wait_desc);
	return n;
}

void cs_locks_json(struct cs_jsonw *w, const struct cs_core *c)
{
	const struct cs_lockstat **v;
	size_t i, n = cs_locks_sorted(c, &v);
	unsigned int j, k;

	cs_json_key(w, "locks");
	cs_json_arr_begin(w);
	for (i = 0; i < n; i++) {
		const struct cs_lockstat *l = v[i];
		struct cs_topk_ent e[CS_TOPK];

		cs_json_obj_begin(w);
		lock_ident_json(w, l);
		cs_json_kstr(w, "space", l->space == CS_SPACE_KERNEL ? "kernel" : "user");
		if (l->space == CS_SPACE_USER)
			cs_json_ku64(w, "pid", l->pid);
		cs_json_ku64(w, "waits", l->waits);
		cs_json_ku64(w, "wait_ns", l->wait_ns);
		cs_json_ku64(w, "max_wait_ns", l->max_wait_ns);
		if (l->attempts) /* seen only with --futex-syscalls */
			cs_json_ku64(w, "attempts", l->attempts);
		cs_json_key(w, "waiters");
		cs_json_arr_begin(w);
		for (j = 0; j < l->nwaiters; j++)
			cs_json_u64(w, l->waiters[j]);
		cs_json_arr_end(w);
		cs_json_key(w, "releasers");
		cs_json_arr_begin(w);
		k = cs_topk_sorted(&l->releasers, e);
		for (j = 0; j < k; j++) {
			const char *reason = cs_releaser_reason(e[j].key);

			cs_json_obj_begin(w);
			cs_json_ku64(w, "tid", reason ? 0 : e[j].key);
			if (reason)
				cs_json_kstr(w, "reason", reason);
			cs_json_ku64(w, "count", e[j].count);
			cs_json_obj_end(w);
		}
		cs_json_arr_end(w);
		cs_json_obj_end(w);
	}
	cs_json_arr_end(w);
	free(v);
}

void cs_summary_json(struct cs_jsonw *w, const struct cs_core *c, unsigned int ncpus)
{
	const struct cs_core_stats *st = cs_core_stats(c);
	struct cs_totals tot;
	struct cs_view v;
	size_t i, j;

	cs_core_totals(c, &tot);
	cs_json_ku64(w, "duration_ns", cs_core_duration(c));
	cs_json_ku64(w, "ncpus", ncpus);
	cs_json_ku64(w, "events", st->events);
	cs_json_ku64(w, "lost_events", st->lost_events);
	cs_json_ku64(w, "late_events", st->late_events);
	cs_json_ku64(w, "chain_breaks", st->chain_breaks);
	cs_totals_json(w, &tot);
	cs_json_key(w, "processes");
	cs_json_arr_begin(w);
	if (!cs_view_build(&v, c)) {
		for (i = 0; i < v.nprocs; i++) {
			const struct cs_proc_view *p = &v.procs[i];

			cs_json_obj_begin(w);
			cs_json_ku64(w, "pid", p->pid);
			cs_json_kstr(w, "comm", p->comm);
			cs_json_key(w, "threads");
			cs_json_arr_begin(w);
			for (j = 0; j < p->nthreads; j++)
				thread_json(w, c, p->threads[j]);
			cs_json_arr_end(w);
			cs_json_obj_end(w);
		}
		cs_view_free(&v);
	}
	cs_json_arr_end(w);
	cs_locks_json(w, c);
}
