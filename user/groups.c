// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * groups.c: a view's processes grouped by program (groups.h). A group's
 * totals are the sums of its threads' counts, so the groups' add up to the
 * view's; the JSON lists every group, the terminal the ones that took most.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "groups.h"

bool cs_view_grouped(const struct cs_view *v)
{
	return v->nprocs > CS_GROUP_MIN_PROCS;
}

/* The group named comm, added when new; NULL when the table is full. */
static struct cs_group *group_of(struct cs_groups *gs, size_t cap, const char *comm)
{
	size_t i;

	for (i = 0; i < gs->n; i++)
		if (!strcmp(gs->g[i].comm, comm))
			return &gs->g[i];
	if (gs->n == cap)
		return NULL;
	gs->g[gs->n].comm = comm;
	gs->g[gs->n].blocked.by_ns = 1;
	return &gs->g[gs->n++];
}

/* Add a thread's counts and the calls it blocked in to its group. */
static void add_thread(struct cs_group *g, const struct cs_thread *t, uint64_t dur)
{
	struct cs_totals one = { .nvcsw = t->nvcsw, .nivcsw = t->nivcsw,
				 .migrations = t->migrations, .wakeups = t->wakeups };
	struct cs_topk_ent e[CS_TOPK];
	unsigned int i, n = cs_topk_sorted(&t->blocked, e);

	memcpy(one.ns, t->ns, sizeof(one.ns));
	cs_totals_add(&g->totals, &one, dur);
	for (i = 0; i < n; i++)
		cs_topk_add(&g->blocked, e[i].key, e[i].count, e[i].ns);
	g->nthreads++;
}

int cs_groups_build(struct cs_groups *gs, const struct cs_view *v, uint64_t dur)
{
	size_t i, j;

	memset(gs, 0, sizeof(*gs));
	gs->g = calloc(v->nprocs ? v->nprocs : 1, sizeof(*gs->g));
	if (!gs->g)
		return -ENOMEM;
	for (i = 0; i < v->nprocs; i++) {
		const struct cs_proc_view *p = &v->procs[i];
		struct cs_group *g = group_of(gs, v->nprocs, p->comm);

		g->nprocs++;
		for (j = 0; j < p->nthreads; j++)
			add_thread(g, p->threads[j], dur);
	}
	for (i = 0; i < gs->n; i++) {
		struct cs_totals one = gs->g[i].totals;

		cs_totals_add(&gs->totals, &one, dur);
		gs->nthreads += gs->g[i].nthreads;
	}
	gs->nprocs = v->nprocs;
	cs_groups_sort(gs, CS_SORT_CPU);
	return 0;
}

void cs_groups_free(struct cs_groups *gs)
{
	free(gs->g);
	memset(gs, 0, sizeof(*gs));
}

static uint64_t group_key(const struct cs_group *g, enum cs_sort_key k)
{
	return cs_sort_value(k, g->totals.ns, g->totals.nvcsw + g->totals.nivcsw);
}

static int by_key(const void *a, const void *b, void *arg)
{
	const struct cs_group *x = a, *y = b;
	enum cs_sort_key k = *(const enum cs_sort_key *)arg;
	uint64_t kx = group_key(x, k), ky = group_key(y, k);

	if (kx != ky)
		return kx < ky ? 1 : -1;
	return strcmp(x->comm, y->comm);
}

void cs_groups_sort(struct cs_groups *gs, enum cs_sort_key key)
{
	qsort_r(gs->g, gs->n, sizeof(*gs->g), by_key, &key);
}

size_t cs_groups_covering(const struct cs_groups *gs, unsigned int pct)
{
	uint64_t all = gs->totals.ns[CS_ST_RUNNING], sum = 0;
	size_t i;

	for (i = 0; i < gs->n; i++) {
		sum += gs->g[i].totals.ns[CS_ST_RUNNING];
		if (sum * 100 >= all * pct)
			return i + 1;
	}
	return gs->n;
}

void cs_groups_json(struct cs_jsonw *w, const struct cs_core *c)
{
	struct cs_groups gs = { 0 };
	struct cs_view v;
	size_t i;

	cs_json_key(w, "groups");
	cs_json_arr_begin(w);
	if (!cs_view_build(&v, c)) {
		if (!cs_groups_build(&gs, &v, cs_core_duration(c)))
			for (i = 0; i < gs.n; i++) {
				cs_json_obj_begin(w);
				cs_json_kstr(w, "comm", gs.g[i].comm);
				cs_json_ku64(w, "processes", gs.g[i].nprocs);
				cs_json_ku64(w, "threads", gs.g[i].nthreads);
				cs_totals_json(w, &gs.g[i].totals);
				cs_json_obj_end(w);
			}
		cs_groups_free(&gs);
		cs_view_free(&v);
	}
	cs_json_arr_end(w);
}

void cs_other_cpu(const struct cs_core *c, uint64_t *other_ns, uint64_t *tracer_ns)
{
	const struct cs_other *o;
	const struct cs_tracer_fact *tf;
	size_t i, n = cs_core_others(c, &o), nf = cs_core_tracer_facts(c, &tf);
	uint64_t self = 0;

	*other_ns = *tracer_ns = 0;
	cs_core_fact(tf, nf, "pid", &self);
	for (i = 0; i < n; i++) {
		*other_ns += o[i].ns;
		if (self && o[i].pid == self)
			*tracer_ns += o[i].ns;
	}
}
