/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* render.h: the terminal view of a core: timeline, thread table, totals. */
#ifndef CS_RENDER_H
#define CS_RENDER_H

#include <stdbool.h>
#include <stdio.h>
#include "core.h"

struct cs_render_opts {
	unsigned int width;     /* columns; at least 80 */
	bool color;
	unsigned int max_lanes; /* busiest threads drawn; 0 = 24 */
	unsigned int ncpus;
	const char *title;      /* e.g. "threads: 1 process x 4 threads, cpu work" */
};

void cs_render(FILE *f, const struct cs_core *c, const struct cs_render_opts *o);

/* "850ns", "12.3us", "4.56ms", "1.23s" */
void cs_fmt_ns(char *buf, size_t len, uint64_t ns);

/* The dominant state of thread t over [t0, t1) ns from the window start,
 * or -1 when it was not present. Exposed for tests. */
int cs_render_cell(const struct cs_core *c, const struct cs_thread *t, uint64_t t0, uint64_t t1);

/* Width and colour as a terminal program should choose them. */
unsigned int cs_term_width(FILE *f);
bool cs_term_color(FILE *f, int when /* -1 never, 0 auto, 1 always */);

#endif
