// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "groups.h"
#include "render.h"
#include "stacks.h"
#include "summary.h"
#include "findings_json.h"

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

const char *cs_policy_name(unsigned int policy)
{
	static const char *const names[] = { "other", "fifo", "rr", "batch", "iso", "idle",
					     "deadline" };

	return policy < sizeof(names) / sizeof(names[0]) ? names[policy] : "?";
}

/* A real-time policy: its priority, not its nice value, is what counts. */
static bool rt_policy(const struct cs_thread *t)
{
	return t->policy == SCHED_FIFO || t->policy == SCHED_RR;
}

void cs_sched_mark(const struct cs_thread *t, char *buf, size_t len)
{
	static const char *const marks[] = { "", "FIFO", "RR", "BATCH", "ISO", "IDLE", "DL" };
	const char *m = t->policy < sizeof(marks) / sizeof(marks[0]) ? marks[t->policy] : "?";

	*buf = 0;
	if (!t->sched_known)
		return;
	if (rt_policy(t)) /* FIFO, RR: their priority says it all */
		snprintf(buf, len, "%s/%u", m, t->rt_priority);
	else if (t->nice && t->policy != 6)
		snprintf(buf, len, "%s%snice %d", m, *m ? " " : "", t->nice);
	else
		snprintf(buf, len, "%s", m);
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

/* A process's totals: its threads' counts, its parallelism over the window. */
static void proc_totals(struct cs_proc_view *p, uint64_t dur)
{
	size_t i;

	memset(&p->totals, 0, sizeof(p->totals));
	for (i = 0; i < p->nthreads; i++) {
		const struct cs_thread *t = p->threads[i];
		struct cs_totals one = { .nvcsw = t->nvcsw, .nivcsw = t->nivcsw,
					 .migrations = t->migrations, .wakeups = t->wakeups };

		memcpy(one.ns, t->ns, sizeof(one.ns));
		cs_totals_add(&p->totals, &one, dur);
	}
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
	v->nthreads = v->traced = k;
	qsort(v->all, k, sizeof(*v->all), by_pid_tid);
	for (i = 0; i < k; i++) {
		const struct cs_thread *t = v->all[i];
		struct cs_proc_view *p = v->nprocs ? &v->procs[v->nprocs - 1] : NULL;

		if (!p || p->pid != t->pid) {
			p = &v->procs[v->nprocs++];
			p->pid = t->pid;
			p->threads = &v->all[i];
			p->comm = t->comm;
			p->title = cs_core_title(c, t->pid);
		}
		if (t->tid == t->pid)
			p->comm = t->comm;
		p->nthreads++;
	}
	for (i = 0; i < v->nprocs; i++)
		proc_totals(&v->procs[i], cs_core_duration(c));
	return 0;
}

void cs_view_free(struct cs_view *v)
{
	free(v->all);
	free(v->procs);
	memset(v, 0, sizeof(*v));
}

void cs_core_shape(const struct cs_core *c, size_t *nprocs, size_t *nthreads)
{
	struct cs_view v;

	*nprocs = *nthreads = 0;
	if (cs_view_build(&v, c))
		return;
	*nprocs = v.nprocs;
	*nthreads = v.nthreads;
	cs_view_free(&v);
}

/* The keys a thread and the totals share: time in each state and the counts. */
void cs_json_state_ns(struct cs_jsonw *w, const uint64_t ns[CS_NACC])
{
	cs_json_ku64(w, "running_ns", ns[CS_ST_RUNNING]);
	cs_json_ku64(w, "ready_ns", ns[CS_ST_READY]);
	cs_json_ku64(w, "sleep_ns", ns[CS_ST_SLEEP]);
	cs_json_ku64(w, "io_ns", ns[CS_ST_IO]);
	cs_json_ku64(w, "lock_ns", ns[CS_ST_LOCK]);
	cs_json_ku64(w, "untraced_ns", ns[CS_ST_UNTRACED]);
}

static void counts_json(struct cs_jsonw *w, const uint64_t ns[CS_NACC], uint64_t nvcsw,
			uint64_t nivcsw, uint64_t migrations, uint64_t wakeups)
{
	cs_json_state_ns(w, ns);
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

/* The blocked time by the state letter the switch-out reported (S, D, I, ...). */
static void letters_json(struct cs_jsonw *w, const uint64_t ns[CS_NLETTERS])
{
	unsigned int i;
	char key[2] = "";

	cs_json_key(w, "blocked_ns_by_state");
	cs_json_obj_begin(w);
	for (i = 0; i < CS_NLETTERS; i++) {
		key[0] = cs_letter_char(i);
		if (ns[i] || key[0] == 'S' || key[0] == 'D')
			cs_json_ku64(w, key, ns[i]);
	}
	cs_json_obj_end(w);
}

const char *cs_waker_label(const struct cs_core *c, uint64_t key, bool *is_task)
{
	const char *name;

	*is_task = false;
	if (key >= CS_WAKER_IRQ_BASE) {
		name = cs_core_wake_source(c, (uint32_t)(key - CS_WAKER_IRQ_BASE));
		return name ? name : "irq";
	}
	if (!key)
		return "idle";
	*is_task = true;
	name = cs_core_comm(c, (uint32_t)key);
	return name ? name : "?";
}

static void topk_json(struct cs_jsonw *w, const struct cs_core *c, const char *key,
		      const struct cs_topk *tk, bool with_ns, const char *zero)
{
	struct cs_topk_ent e[CS_TOPK];
	unsigned int i, n = cs_topk_sorted(tk, e);

	cs_json_key(w, key);
	cs_json_arr_begin(w);
	for (i = 0; i < n; i++) {
		bool task;
		const char *label = cs_waker_label(c, e[i].key, &task);

		cs_json_obj_begin(w);
		cs_json_ku64(w, "tid", task ? e[i].key : 0);
		if (e[i].key >= CS_WAKER_IRQ_BASE)
			cs_json_kstr(w, "source", label);
		else
			cs_json_kstr(w, "comm", e[i].key == 0 ? zero : label);
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
	if (t->sched_known) {
		cs_json_kstr(w, "policy", cs_policy_name(t->policy));
		cs_json_ki64(w, "nice", t->nice);
		if (rt_policy(t))
			cs_json_ku64(w, "rt_priority", t->rt_priority);
		cs_json_kstr(w, "cgroup", t->cgroup);
	}
	counts_json(w, t->ns, t->nvcsw, t->nivcsw, t->migrations, t->wakeups);
	letters_json(w, t->blocked_ns);
	cs_json_ku64(w, "untraced_switches", t->untraced);
	if (t->kernel_figures) {
		cs_json_ku64(w, "cpu_time_ns", t->cpu_ns);
		cs_json_ku64(w, "run_delay_ns", t->run_delay_ns);
	}
	cs_json_kstr(w, "totals_from", t->kernel_totals ? "kernel" : "events");
	cs_json_key(w, "from_events");
	cs_json_obj_begin(w);
	counts_json(w, t->events.ns, t->events.nvcsw, t->events.nivcsw, t->events.migrations,
		    t->events.wakeups);
	letters_json(w, t->events.blocked_ns);
	cs_json_obj_end(w);
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
	cs_thread_more_json(w, c, t);
	cs_stacks_thread_json(w, c, t);
	cs_json_obj_end(w);
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

size_t cs_locks_sorted(const struct cs_core *c, const struct cs_lockstat ***out,
		       bool contended_only)
{
	size_t i, n = 0, all = cs_core_nlocks(c);
	const struct cs_lockstat **v = calloc(all ? all : 1, sizeof(*v));

	*out = v;
	if (!v)
		return 0;
	for (i = 0; i < all; i++) {
		const struct cs_lockstat *l = cs_core_lock(c, i);

		if (l->waits && (l->contended || !contended_only))
			v[n++] = l;
	}
	qsort(v, n, sizeof(*v), by_wait_desc);
	return n;
}

void cs_locks_json(struct cs_jsonw *w, const struct cs_core *c)
{
	const struct cs_lockstat **v;
	size_t i, n = cs_locks_sorted(c, &v, false);
	unsigned int j, k;

	cs_json_key(w, "locks");
	cs_json_arr_begin(w);
	for (i = 0; i < n; i++) {
		const struct cs_lockstat *l = v[i];
		struct cs_topk_ent e[CS_TOPK];

		cs_json_obj_begin(w);
		lock_ident_json(w, l);
		cs_json_kstr(w, "space", l->space == CS_SPACE_KERNEL ? "kernel" : "user");
		cs_json_kbool(w, "contention", l->contended);
		if (l->space == CS_SPACE_USER) { /* the process it is in */
			const char *comm = cs_core_comm(c, l->pid);

			cs_json_ku64(w, "pid", l->pid);
			if (comm)
				cs_json_kstr(w, "comm", comm);
		}
		cs_json_ku64(w, "waits", l->waits);
		cs_json_ku64(w, "wait_ns", l->wait_ns);
		cs_json_ku64(w, "max_wait_ns", l->max_wait_ns);
		cs_json_ku64(w, "holder_preempted_ns", l->holder_preempted_ns);
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
		cs_stacks_lock_json(w, c, (size_t)(l - cs_core_lock(c, 0)));
		cs_json_obj_end(w);
	}
	cs_json_arr_end(w);
	free(v);
}

/* A CSV field: quoted when it holds a comma, a quote, a line break or an edge space. */
static void csv_str(FILE *f, const char *s)
{
	size_t n = strlen(s);

	if (!strpbrk(s, ",\"\r\n") && (!n || (s[0] != ' ' && s[n - 1] != ' '))) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void csv_thread(FILE *f, const struct cs_core *c, const struct cs_thread *t)
{
	const char *title = cs_core_title(c, t->pid);
	unsigned int s;
	static const unsigned int order[] = { CS_ST_RUNNING, CS_ST_READY, CS_ST_SLEEP, CS_ST_IO,
					      CS_ST_LOCK, CS_ST_UNTRACED };

	fprintf(f, "%u,%u,", t->pid, t->tid);
	csv_str(f, t->comm);
	fputc(',', f);
	csv_str(f, title ? title : "");
	for (s = 0; s < sizeof(order) / sizeof(order[0]); s++)
		fprintf(f, ",%llu", (unsigned long long)t->ns[order[s]]);
	fprintf(f, ",%llu,%llu,%llu,%llu,", (unsigned long long)t->nvcsw,
		(unsigned long long)t->nivcsw, (unsigned long long)t->migrations,
		(unsigned long long)t->wakeups);
	if (t->sched_known) {
		fprintf(f, "%s,%d,", cs_policy_name(t->policy), t->nice);
		if (rt_policy(t))
			fprintf(f, "%u", t->rt_priority);
		fputc(',', f);
		csv_str(f, t->cgroup);
	} else {
		fputs(",,,", f);
	}
	fputc('\n', f);
}

void cs_summary_csv(FILE *f, const struct cs_core *c, const char *model, const char *work,
		    bool header)
{
	struct cs_view v;
	size_t i;

	if (header)
		fprintf(f, "%spid,tid,comm,title,running_ns,ready_ns,sleep_ns,io_ns,lock_ns,"
			   "untraced_ns,voluntary_switches,involuntary_switches,migrations,wakeups,"
			   "policy,nice,rt_priority,cgroup\n", model ? "model,work," : "");
	if (cs_view_build(&v, c))
		return;
	for (i = 0; i < v.nthreads; i++) {
		if (model)
			fprintf(f, "%s,%s,", model, work);
		csv_thread(f, c, v.all[i]);
	}
	cs_view_free(&v);
}

/* The tracer's own facts: its ring's lock, what did not fit its tables. */
static void tracer_json(struct cs_jsonw *w, const struct cs_core *c)
{
	const struct cs_tracer_fact *f;
	size_t i, n = cs_core_tracer_facts(c, &f);
	char hex[32];

	cs_json_key(w, "tracer");
	cs_json_obj_begin(w);
	for (i = 0; i < n; i++) {
		if (!strcmp(f[i].name, "own_lock")) {
			snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)f[i].value);
			cs_json_kstr(w, f[i].name, hex);
		} else if (!strcmp(f[i].name, "python_frames") || !strcmp(f[i].name, "python_layout") ||
			   !strcmp(f[i].name, "python_unsupported")) { /* versions: "3.11.2" */
			cs_fmt_pyversion(hex, sizeof(hex), f[i].value);
			cs_json_kstr(w, f[i].name, hex);
		} else {
			cs_json_ku64(w, f[i].name, f[i].value);
		}
	}
	cs_json_obj_end(w);
}

/* Where events were lost, and what is partial because of it. */
static void loss_json(struct cs_jsonw *w, const struct cs_core *c)
{
	const struct cs_core_stats *st = cs_core_stats(c);
	const struct cs_loss_window *lw;
	size_t i, n = cs_core_loss_windows(c, &lw);
	unsigned int cpu;
	char key[16];

	cs_json_key(w, "lost_events_by_cpu");
	cs_json_obj_begin(w);
	for (cpu = 0; cpu <= cs_core_ncpus(c); cpu++) {
		if (!cs_core_lost_on(c, cpu))
			continue;
		snprintf(key, sizeof(key), "%u", cpu);
		cs_json_ku64(w, key, cs_core_lost_on(c, cpu));
	}
	if (cs_core_lost_on(c, 0xffff))
		cs_json_ku64(w, "other", cs_core_lost_on(c, 0xffff));
	cs_json_obj_end(w);
	cs_json_key(w, "loss_windows");
	cs_json_arr_begin(w);
	for (i = 0; i < n; i++) {
		cs_json_obj_begin(w);
		if (lw[i].cpu == 0xffff)
			cs_json_kstr(w, "cpu", "other");
		else
			cs_json_ku64(w, "cpu", lw[i].cpu);
		cs_json_ku64(w, "first_ns", lw[i].first);
		cs_json_ku64(w, "last_ns", lw[i].last);
		cs_json_ku64(w, "count", lw[i].count);
		cs_json_obj_end(w);
	}
	cs_json_arr_end(w);
	cs_json_key(w, "partial");
	cs_json_obj_begin(w);
	cs_json_kbool(w, "timeline", st->lost_events > 0);
	cs_json_kbool(w, "details", st->lost_events > 0);
	cs_json_kdouble(w, "lost_share", st->lost_events ?
			(double)st->lost_events / (double)(st->lost_events + st->events) : 0);
	cs_json_ku64(w, "exact_thread_totals", st->kernel_totals);
	cs_json_obj_end(w);
	tracer_json(w, c);
	cs_json_key(w, "dropped");
	cs_json_obj_begin(w);
	cs_json_ku64(w, "late_events", st->late_events);
	cs_json_ku64(w, "locks_over_table", st->locks_dropped);
	cs_json_ku64(w, "unknown_kinds", st->unknown_kind);
	cs_json_obj_end(w);
}

void cs_summary_json(struct cs_jsonw *w, const struct cs_core *c, unsigned int ncpus)
{
	cs_summary_json_with(w, c, ncpus, NULL);
}

void cs_summary_json_with(struct cs_jsonw *w, const struct cs_core *c, unsigned int ncpus,
			  const struct cs_findings *findings)
{
	const struct cs_core_stats *st = cs_core_stats(c);
	struct cs_findings *own;
	const struct cs_findings *fs = cs_findings_get(findings, c, ncpus, &own);
	struct cs_totals tot;
	struct cs_view v;
	size_t i, j;

	cs_core_totals(c, &tot);
	cs_json_ku64(w, "duration_ns", cs_core_duration(c));
	cs_json_ku64(w, "ncpus", ncpus);
	cs_json_ku64(w, "events", st->events);
	cs_json_ku64(w, "lost_events", st->lost_events);
	loss_json(w, c);
	cs_json_ku64(w, "late_events", st->late_events);
	cs_json_ku64(w, "chain_breaks", st->chain_breaks);
	cs_totals_json(w, &tot);
	cs_profile_json(w, c, ncpus);
	cs_other_cpu_json(w, c);
	cs_system_json(w, c);
	if (fs)
		cs_findings_json(w, c, fs);
	free(own);
	cs_json_key(w, "processes");
	cs_json_arr_begin(w);
	if (!cs_view_build(&v, c)) {
		for (i = 0; i < v.nprocs; i++) {
			const struct cs_proc_view *p = &v.procs[i];

			cs_json_obj_begin(w);
			cs_json_ku64(w, "pid", p->pid);
			cs_json_kstr(w, "comm", p->comm);
			if (p->title)
				cs_json_kstr(w, "title", p->title);
			cs_totals_json(w, &p->totals);
			cs_proc_profile_json(w, c, p->pid, ncpus);
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
	cs_groups_json(w, c);
	cs_locks_json(w, c);
	cs_stacks_json(w, c);
}
