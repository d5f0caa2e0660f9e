// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * view.c: what the terminal shows of a view (summary.h): the threads the
 * filters select (--pid, --tid, --comm) and the order --sort asks for. The
 * view is built whole (the JSON and CSV are written from it whole); this
 * only narrows and orders what is drawn.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include "summary.h"

static const char *const sort_names[] = {
	[CS_SORT_TID] = "tid", [CS_SORT_CPU] = "cpu", [CS_SORT_READY] = "ready",
	[CS_SORT_LOCK] = "lock", [CS_SORT_SWITCHES] = "switches",
};

int cs_sort_parse(const char *name, enum cs_sort_key *key)
{
	size_t i;

	for (i = 0; i < sizeof(sort_names) / sizeof(sort_names[0]); i++) {
		if (!strcmp(name, sort_names[i])) {
			*key = (enum cs_sort_key)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool cs_view_filtered(const struct cs_view_opts *o)
{
	return o && (o->npids || o->ntids || o->ncomms);
}

static bool listed(const uint32_t *v, unsigned int n, uint32_t x)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return !n;
}

static bool comm_matches(const struct cs_view_opts *o, const char *comm)
{
	unsigned int i;

	for (i = 0; i < o->ncomms; i++)
		if (!fnmatch(o->comms[i], comm, 0))
			return true;
	return false;
}

static bool shown(const struct cs_view_opts *o, const struct cs_proc_view *p,
		  const struct cs_thread *t)
{
	return listed(o->pids, o->npids, t->pid) && listed(o->tids, o->ntids, t->tid) &&
	       (!o->ncomms || comm_matches(o, t->comm) || comm_matches(o, p->comm));
}

uint64_t cs_sort_value(enum cs_sort_key k, const uint64_t ns[CS_NACC], uint64_t switches)
{
	switch (k) {
	case CS_SORT_READY: return ns[CS_ST_READY];
	case CS_SORT_LOCK: return ns[CS_ST_LOCK];
	case CS_SORT_SWITCHES: return switches;
	default: return ns[CS_ST_RUNNING];
	}
}

static int by_key_desc(uint64_t a, uint64_t b, uint32_t ida, uint32_t idb)
{
	if (a != b)
		return a < b ? 1 : -1;
	return (ida > idb) - (ida < idb);
}

static int threads_by_key(const void *a, const void *b, void *arg)
{
	const struct cs_thread *x = *(const struct cs_thread *const *)a;
	const struct cs_thread *y = *(const struct cs_thread *const *)b;
	enum cs_sort_key k = *(const enum cs_sort_key *)arg;

	return by_key_desc(cs_sort_value(k, x->ns, x->nvcsw + x->nivcsw),
			   cs_sort_value(k, y->ns, y->nvcsw + y->nivcsw), x->tid, y->tid);
}

static int procs_by_key(const void *a, const void *b, void *arg)
{
	const struct cs_proc_view *x = a, *y = b;
	enum cs_sort_key k = *(const enum cs_sort_key *)arg;

	return by_key_desc(cs_sort_value(k, x->totals.ns, x->totals.nvcsw + x->totals.nivcsw),
			   cs_sort_value(k, y->totals.ns, y->totals.nvcsw + y->totals.nivcsw), x->pid,
			   y->pid);
}

void cs_view_shape(struct cs_view *v, const struct cs_view_opts *o)
{
	size_t i, j, k = 0, np = 0;

	if (!o)
		return;
	/* each process's threads keep their place in all[], moved down over the ones left out */
	for (i = 0; i < v->nprocs; i++) {
		struct cs_proc_view p = v->procs[i];
		size_t start = k;

		for (j = 0; j < p.nthreads; j++)
			if (shown(o, &p, p.threads[j]))
				v->all[k++] = p.threads[j];
		if (k == start)
			continue;
		p.threads = &v->all[start];
		p.nthreads = k - start;
		v->procs[np++] = p;
	}
	v->nprocs = np;
	v->nthreads = k;
	if (o->sort == CS_SORT_TID) /* the view's order already */
		return;
	for (i = 0; i < v->nprocs; i++)
		qsort_r(v->procs[i].threads, v->procs[i].nthreads, sizeof(*v->all), threads_by_key,
			(void *)&o->sort);
	qsort_r(v->procs, v->nprocs, sizeof(*v->procs), procs_by_key, (void *)&o->sort);
}

bool cs_view_has_tid(const struct cs_view *v, uint32_t tid)
{
	size_t i;

	for (i = 0; i < v->nthreads; i++)
		if (v->all[i]->tid == tid)
			return true;
	return false;
}

bool cs_view_has_pid(const struct cs_view *v, uint32_t pid)
{
	size_t i;

	for (i = 0; i < v->nprocs; i++)
		if (v->procs[i].pid == pid)
			return true;
	return false;
}
