/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * render_groups.h: the terminal view of many processes by program: the
 * shape of the run in a sentence, a timeline of program lanes under strips
 * of how many of the target's threads ran and waited, and a table of the
 * programs that took the CPU time.
 */
#ifndef CS_RENDER_GROUPS_H
#define CS_RENDER_GROUPS_H

#include <stdio.h>
#include "core.h"
#include "groups.h"
#include "render.h"

/* "631 processes (100 cc1, 89 cc, ...), 12.65s, parallelism 1.28 of 2 CPUs; other ..." */
void cs_render_shape(FILE *f, const struct cs_core *c, const struct cs_groups *gs,
		     const struct cs_render_opts *o);
/* Program lanes drawn by default. */
#define CS_GROUP_LANES 5

/* The strips and the busiest programs' lanes (o->max_lanes of them; 0: CS_GROUP_LANES). */
void cs_render_group_timeline(FILE *f, const struct cs_core *c, const struct cs_view *v,
			      const struct cs_groups *gs, const struct cs_render_opts *o);
/* The programs covering 90% of the CPU time (8 rows at most), most first. */
void cs_render_group_table(FILE *f, const struct cs_groups *gs, const struct cs_render_opts *o);

/* A cell's lane character for a group: its threads' mean running, ready and alive counts. */
char cs_group_cell(double running, double ready, double alive);

#endif
