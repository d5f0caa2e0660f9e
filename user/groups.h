/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * groups.h: a view's processes grouped by program (their command name),
 * for summaries of many processes (a build, attach -a, a server forking per
 * connection): each group's processes, threads, totals (the sums of its
 * threads') and the calls its threads blocked in longest. Computed from a
 * view (summary.h), so the core knows nothing of it.
 */
#ifndef CS_GROUPS_H
#define CS_GROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include "core.h"
#include "jsonw.h"
#include "summary.h"
#include "topk.h"

/* A view of more processes than this is shown by program (cs_view_grouped). */
#define CS_GROUP_MIN_PROCS 8

struct cs_group {
	const char *comm;
	size_t nprocs, nthreads;
	struct cs_totals totals;  /* its threads' sums; parallelism over the window */
	struct cs_topk blocked;   /* key: syscall nr + 1 (0: none), by ns, over its threads */
};

struct cs_groups {
	struct cs_group *g;       /* most CPU time first (or cs_groups_sort's key) */
	size_t n;
	size_t nprocs, nthreads;  /* of the whole view */
	struct cs_totals totals;  /* the sum of the groups' */
};

/* Group v's processes by comm; 0 or -ENOMEM. dur: the window, for parallelism. */
int cs_groups_build(struct cs_groups *gs, const struct cs_view *v, uint64_t dur);
void cs_groups_free(struct cs_groups *gs);
/* Order the groups by a --sort key, most first (tid: by CPU time); ties by name. */
void cs_groups_sort(struct cs_groups *gs, enum cs_sort_key key);
/* Whether a view has processes enough to be shown by program. */
bool cs_view_grouped(const struct cs_view *v);
/* How many of the first groups it takes to cover pct percent of the CPU time (at least 1). */
size_t cs_groups_covering(const struct cs_groups *gs, unsigned int pct);
/* The "groups" array of --json: comm, processes, threads, totals, every group. */
void cs_groups_json(struct cs_jsonw *w, const struct cs_core *c);

/*
 * The time the target's ready threads waited while a CPU ran a task outside
 * it (other_cpu_ns), and the part of it that was concscope's own (its pid
 * from the tracer's facts).
 */
void cs_other_cpu(const struct cs_core *c, uint64_t *other_ns, uint64_t *tracer_ns);

#endif
