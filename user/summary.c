// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
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
		p->running_ns += t->ns[CS_ST_RUNNING];
	}
	return 0;
}

void cs_view_free(struct cs_view *v)
{
	free(v->all);
	free(v->procs);
	memset(v, 0, sizeof(*v));
}

void cs_totals_json(struct cs_jsonw *w, const struct cs_totals *t)
{
	cs_json_key(w, "totals");
	cs_json_obj_begin(w);
	cs_json_ku64(w, "running_ns", t->ns[CS_ST_RUNNING]);
	cs_json_ku64(w, "ready_ns", t->ns[CS_ST_READY]);
	cs_json_ku64(w, "sleep_ns", t->ns[CS_ST_SLEEP]);
	cs_json_ku64(w, "io_ns", t->ns[CS_ST_IO]);
	cs_json_ku64(w, "lock_ns", t->ns[CS_ST_LOCK]);
	cs_json_ku64(w, "voluntary_switches", t->nvcsw);
	cs_json_ku64(w, "involuntary_switches", t->nivcsw);
	cs_json_ku64(w, "migrations", t->migrations);
	cs_json_ku64(w, "wakeups", t->wakeups);
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

static void thread_json(struct cs_jsonw *w, const struct cs_core *c, const struct cs_thread *t)
{
	struct cs_topk_ent e[CS_TOPK];
	unsigned int i, n;

	cs_json_obj_begin(w);
	cs_json_ku64(w, "tid", t->tid);
	cs_json_kstr(w, "comm", t->comm);
	cs_json_ku64(w, "running_ns", t->ns[CS_ST_RUNNING]);
	cs_json_ku64(w, "ready_ns", t->ns[CS_ST_READY]);
	cs_json_ku64(w, "sleep_ns", t->ns[CS_ST_SLEEP]);
	cs_json_ku64(w, "io_ns", t->ns[CS_ST_IO]);
	cs_json_ku64(w, "lock_ns", t->ns[CS_ST_LOCK]);
	cs_json_ku64(w, "voluntary_switches", t->nvcsw);
	cs_json_ku64(w, "involuntary_switches", t->nivcsw);
	cs_json_ku64(w, "migrations", t->migrations);
	cs_json_ku64(w, "wakeups", t->wakeups);
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
	topk_json(w, c, "wakers", &t->wakers, false, "(idle/irq)");
	topk_json(w, c, "cpu_held_by", &t->holders, true, "(idle)");
	cs_json_obj_end(w);
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
}
