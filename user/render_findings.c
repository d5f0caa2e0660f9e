// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * render_findings.c: the findings and the parallelism profile in the
 * terminal: one finding per paragraph (its kind, how much time it explains,
 * its text wrapped to the width), an event loop's episodes, and a bar per
 * number of threads running.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "findings.h"
#include "render.h"
#include "stacks.h"
#include "render_findings.h"
#include "summary.h"

#define INDENT 4 /* continuation lines */

void cs_render_wrap(FILE *f, const char *text, unsigned int col, unsigned int width)
{
	const char *p = text;

	while (*p) {
		size_t room = width > col + 10 ? width - col : 10, len = strlen(p), cut = len;

		if (len > room) {
			for (cut = room; cut > 0 && p[cut] != ' '; cut--)
				;
			if (!cut)
				cut = room;
		}
		fprintf(f, "%.*s\n", (int)cut, p);
		p += cut;
		while (*p == ' ')
			p++;
		if (*p)
			fprintf(f, "%*s", INDENT, "");
		col = INDENT;
	}
}

/* An event loop's kept episodes, in time order. */
static int by_start(const void *a, const void *b)
{
	const struct cs_episode *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static void episodes(FILE *f, const struct cs_core *c, const struct cs_thread *t,
		     unsigned int width)
{
	struct cs_episode e[CS_LOOP_TOP];
	char line[2048], at[16], d[16], where[64];
	unsigned int i, n = t->loop->ntop;
	size_t len = 0;

	memcpy(e, t->loop->top, n * sizeof(e[0]));
	qsort(e, n, sizeof(e[0]), by_start);
	len += (size_t)snprintf(line, sizeof(line), "episodes:");
	for (i = 0; i < n && len < sizeof(line); i++) {
		cs_fmt_ns(at, sizeof(at), e[i].start - cs_core_begin(c));
		cs_fmt_ns(d, sizeof(d), e[i].dur);
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s +%s %s %s", i ? "," : "",
					at, d, e[i].call >= 0 && e[i].call_ns * 2 >= e[i].dur ?
					(e[i].call_lock ? "lock" : cs_syscall_name(e[i].call)) :
					e[i].ns[CS_ST_RUNNING] * 2 >= e[i].dur ? "running" :
					e[i].ns[CS_ST_READY] * 2 >= e[i].dur ? "ready" : "mixed");
		/* --stacks: where it blocked, its innermost frame or two */
		if (e[i].call >= 0 && e[i].call_ns * 2 >= e[i].dur && len < sizeof(line) &&
		    cs_stacks_short(c, e[i].stack, where, sizeof(where)))
			len += (size_t)snprintf(line + len, sizeof(line) - len, " at %s", where);
	}
	if (t->loop->episodes > n && len < sizeof(line))
		snprintf(line + len, sizeof(line) - len, " (the %u longest of %llu)", n,
			 (unsigned long long)t->loop->episodes);
	fprintf(f, "%*s", INDENT, "");
	cs_render_wrap(f, line, INDENT, width);
}

void cs_render_findings(FILE *f, const struct cs_core *c, const struct cs_render_opts *o)
{
	struct cs_findings *own;
	const struct cs_findings *fs = cs_findings_get(o->findings, c, o->ncpus, &own);
	char ex[16];
	size_t i;

	if (!fs)
		return;
	if (fs->n)
		fprintf(f, "\n%sfindings%s (ranked by the time each explains)\n",
			o->color ? "\033[1m" : "", o->color ? "\033[0m" : "");
	for (i = 0; i < fs->n; i++) {
		const struct cs_finding *fd = &fs->f[i];
		bool hot = o->color && fd->kind != CS_FIND_SHAPE;
		int col;

		if (fd->kind == CS_FIND_SHAPE) {
			col = fprintf(f, "  %s: ", cs_finding_kind_name(fd->kind));
		} else {
			cs_fmt_ns(ex, sizeof(ex), fd->explained_ns);
			col = fprintf(f, "  %s%s%s (%s): ", hot ? "\033[1;33m" : "",
				      cs_finding_kind_name(fd->kind), hot ? "\033[0m" : "", ex);
			col -= hot ? 11 : 0; /* the escapes take no room */
		}
		cs_render_wrap(f, fd->text, col > 0 ? (unsigned int)col : 0, o->width);
		if (fd->kind == CS_FIND_LOOP_BLOCKED && fd->loop && fd->loop->loop)
			episodes(f, c, fd->loop, o->width);
	}
	free(own);
}

/* The profile's time by threads running, and by threads ready (0, 1, 2, 3 or more); the top k. */
static unsigned int profile_sums(const struct cs_core *c, unsigned int ncpus,
				 uint64_t run[CS_PROF_RUN + 1], uint64_t ready[4])
{
	const uint64_t *p = cs_core_profile(c, NULL);
	unsigned int k, r, top = ncpus ? ncpus : 1;

	for (k = 0; k <= CS_PROF_RUN; k++)
		for (r = 0; r <= CS_PROF_READY; r++) {
			run[k] += p[CS_PROF_CELL(k, r)];
			ready[r < 3 ? r : 3] += p[CS_PROF_CELL(k, r)];
			if (p[CS_PROF_CELL(k, r)] && k > top)
				top = k;
		}
	return top;
}

/* The profile in a sentence, for the summary of many processes (its timeline has the strips). */
void cs_render_profile_short(FILE *f, const struct cs_core *c, const struct cs_render_opts *o)
{
	uint64_t run[CS_PROF_RUN + 1] = { 0 }, ready[4] = { 0 }, dur = cs_core_duration(c);
	unsigned int k, top = profile_sums(c, o->ncpus, run, ready);
	char text[1024];
	size_t n = 0;

	if (!dur)
		return;
	n += (size_t)snprintf(text, sizeof(text), "parallelism profile (share of the window with k "
			      "of its threads running):");
	for (k = 0; k <= top && n < sizeof(text); k++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, " %u %.1f%%%s", k,
				      100.0 * (double)run[k] / (double)dur, k < top ? "," : ";");
	if (n < sizeof(text))
		snprintf(text + n, sizeof(text) - n, " ready: none %.1f%%, 1 %.1f%%, 2 %.1f%%, 3 or "
			 "more %.1f%%", 100.0 * (double)ready[0] / (double)dur,
			 100.0 * (double)ready[1] / (double)dur, 100.0 * (double)ready[2] / (double)dur,
			 100.0 * (double)ready[3] / (double)dur);
	fputc('\n', f);
	cs_render_wrap(f, text, 0, o->width);
}

/* "  2 running  ########             31.2%" per k, and the ready counts on one line. */
void cs_render_profile(FILE *f, const struct cs_core *c, const struct cs_render_opts *o)
{
	uint64_t run[CS_PROF_RUN + 1] = { 0 }, ready[4] = { 0 }, dur = cs_core_duration(c);
	unsigned int k, r, top = profile_sums(c, o->ncpus, run, ready);
	unsigned int bar = o->width > 100 ? 40 : 30;

	if (!dur)
		return;
	fprintf(f, "\n%sparallelism profile%s (share of the window with k of its threads running)\n",
		o->color ? "\033[1m" : "", o->color ? "\033[0m" : "");
	for (k = 0; k <= top; k++) {
		unsigned int n = (unsigned int)((run[k] * bar + dur / 2) / dur);

		fprintf(f, "  %2u running  %s", k, o->color ? cs_cell_color[CS_ST_RUNNING] : "");
		for (r = 0; r < bar; r++)
			fputs(r < n ? "#" : (o->color ? "" : "."), f);
		fprintf(f, "%s%*s %5.1f%%\n", o->color ? "\033[0m" : "", o->color ? (int)(bar - n) : 0,
			"", 100.0 * (double)run[k] / (double)dur);
	}
	fprintf(f, "  ready: none %.1f%%, 1 %.1f%%, 2 %.1f%%, 3 or more %.1f%% of the window\n",
		100.0 * (double)ready[0] / (double)dur, 100.0 * (double)ready[1] / (double)dur,
		100.0 * (double)ready[2] / (double)dur, 100.0 * (double)ready[3] / (double)dur);
}
