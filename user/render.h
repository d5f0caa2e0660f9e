/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* render.h: the terminal view of a core: timeline, thread table, totals. */
#ifndef CS_RENDER_H
#define CS_RENDER_H

#include <stdbool.h>
#include <stdio.h>
#include "core.h"
#include "summary.h"

struct cs_findings;

struct cs_render_opts {
	unsigned int width;     /* columns; at least 80 */
	bool color;
	unsigned int max_lanes; /* busiest threads drawn; 0 = 24 */
	unsigned int ncpus;
	const char *title;      /* e.g. "threads: 1 process x 4 threads, cpu work" */
	const struct cs_view_opts *view; /* what to show, in what order; NULL: all, by tid */
	int top;                /* processes shown in full, the busiest first (--top N);
				   -1: all of them (--top 0); 0: the default, all of a few
				   processes, as many as fit CS_SUMMARY_LINES of many */
	const char *after;      /* printed at the end (the critical path), counted in
				   CS_SUMMARY_LINES; NULL: none */
	const struct cs_findings *findings; /* the core's, computed by the caller once for
					       all its outputs; NULL: computed here */
};

/* The default summary of many processes (grouped by program) fits in this many lines
 * (with the critical path: 60 at 100 columns for a build of this project). */
#define CS_SUMMARY_LINES 58

void cs_render(FILE *f, const struct cs_core *c, const struct cs_render_opts *o);

/* The timeline's character and colour (an escape sequence) for each state. */
extern const char cs_cell_char[CS_NACC];
extern const char *const cs_cell_color[CS_NACC];

/* "850ns", "12.3us", "4.56ms", "1.23s" */
void cs_fmt_ns(char *buf, size_t len, uint64_t ns);
/* A CPython version (PY_VERSION_HEX): "3.11.2", or "3.12" when its micro version is not known. */
void cs_fmt_pyversion(char *buf, size_t len, uint64_t v);

/* The dominant state of thread t over [t0, t1) ns from the window start,
 * or -1 when it was not present. Exposed for tests. */
int cs_render_cell(const struct cs_core *c, const struct cs_thread *t, uint64_t t0, uint64_t t1);

/* Width and colour as a terminal program should choose them. */
unsigned int cs_term_width(FILE *f);
bool cs_term_color(FILE *f, int when /* -1 never, 0 auto, 1 always */);

#endif
