// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * render_groups.c: many processes by program (render_groups.h). Short-lived
 * processes (a build's compilers, a server's per-connection children) make
 * poor lanes of their own: a program's lane shows how many of its threads
 * ran in each cell, and the strips above it how many of the whole target's
 * did, so the shape of the run is on one screen.
 */
#include <stdlib.h>
#include <string.h>
#include "groups.h"
#include "render.h"
#include "render_findings.h"
#include "render_groups.h"

#define LABEL_W 24
#define TABLE_MAX 8  /* rows of the programs table */
#define COVER_PCT 90 /* ... enough of them to cover this share of the CPU time */

static int by_procs(const void *a, const void *b)
{
	const struct cs_group *x = *(const struct cs_group *const *)a;
	const struct cs_group *y = *(const struct cs_group *const *)b;

	if (x->nprocs != y->nprocs)
		return x->nprocs < y->nprocs ? 1 : -1;
	return strcmp(x->comm, y->comm);
}

/* " (100 cc1, 89 cc, 47 mv, ...)": the programs with most processes (two or more). */
static size_t most_procs(char *buf, size_t len, const struct cs_groups *gs)
{
	const struct cs_group **v = malloc((gs->n ? gs->n : 1) * sizeof(*v));
	size_t i, n = 0;

	if (!v)
		return (size_t)snprintf(buf, len, " (...)");
	for (i = 0; i < gs->n; i++)
		v[i] = &gs->g[i];
	qsort(v, gs->n, sizeof(*v), by_procs);
	*buf = 0;
	for (i = 0; i < gs->n && i < 4 && v[i]->nprocs > 1 && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%zu %s", i ? ", " : " (", v[i]->nprocs,
				      v[i]->comm);
	if (n && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%s)", i < gs->n ? ", ..." : "");
	free(v);
	return n;
}

void cs_render_shape(FILE *f, const struct cs_core *c, const struct cs_groups *gs,
		     const struct cs_render_opts *o)
{
	char text[640], list[256], dur[32];
	struct cs_totals t;
	uint64_t other, tracer;
	size_t n;

	cs_core_totals(c, &t);
	cs_other_cpu(c, &other, &tracer);
	most_procs(list, sizeof(list), gs);
	cs_fmt_ns(dur, sizeof(dur), cs_core_duration(c));
	n = (size_t)snprintf(text, sizeof(text), "%zu processes%s", gs->nprocs, list);
	if (gs->nthreads != gs->nprocs)
		n += (size_t)snprintf(text + n, sizeof(text) - n, " with %zu threads", gs->nthreads);
	n += (size_t)snprintf(text + n, sizeof(text) - n, ", %s, parallelism %.2f of %u CPUs", dur,
			      t.parallelism, o->ncpus);
	if (t.ns[CS_ST_READY] && other > tracer && n < sizeof(text))
		n += (size_t)snprintf(text + n, sizeof(text) - n, "; other programs held the CPUs "
				      "%.0f%% of the time our threads were ready",
				      100.0 * (double)(other - tracer) / (double)t.ns[CS_ST_READY]);
	if (t.ns[CS_ST_READY] && tracer && n < sizeof(text))
		snprintf(text + n, sizeof(text) - n, " (concscope itself %.0f%%)",
			 100.0 * (double)tracer / (double)t.ns[CS_ST_READY]);
	cs_render_wrap(f, text, 0, o->width);
}

char cs_group_cell(double running, double ready, double alive)
{
	long k = (long)(running + 0.5);

	if (alive <= 0)
		return ' ';
	if (running >= 0.5)
		return k > 9 ? '*' : (char)('0' + k);
	if (ready >= 0.5 || (running + ready >= 0.5 && ready > running))
		return '+';
	if (running > 0 || ready > 0)
		return ':';
	return '.';
}

/* The buckets a cell [t0, t1) covers: their time in each state summed into sum; their span. */
static uint64_t cell_sum(const struct cs_core *c, const struct cs_thread *t, uint64_t t0,
			 uint64_t t1, uint64_t sum[CS_NACC])
{
	uint64_t w = cs_core_tl_width(c), dur = cs_core_duration(c), end;
	unsigned int b, b0 = (unsigned int)(t0 / w), b1 = (unsigned int)((t1 - 1) / w), s;

	for (b = b0; t && t->tl && b <= b1 && b < CS_TL_BUCKETS; b++)
		for (s = 0; s < CS_NACC; s++)
			sum[s] += t->tl[b * CS_NACC + s];
	end = (uint64_t)(b1 + 1) * w;
	if (end > dur)
		end = dur;
	return end > (uint64_t)b0 * w ? end - (uint64_t)b0 * w : 1;
}

/* Sum the cell over the threads of the processes named comm (NULL: every process). */
static uint64_t cell_of(const struct cs_core *c, const struct cs_view *v, const char *comm,
			uint64_t t0, uint64_t t1, uint64_t sum[CS_NACC])
{
	uint64_t span = 1;
	size_t i, j;

	memset(sum, 0, CS_NACC * sizeof(*sum));
	for (i = 0; i < v->nprocs; i++) {
		if (comm && strcmp(v->procs[i].comm, comm))
			continue;
		for (j = 0; j < v->procs[i].nthreads; j++)
			span = cell_sum(c, v->procs[i].threads[j], t0, t1, sum);
	}
	return span;
}

/* On a terminal: running green, ready yellow, blocked dim, as in the thread lanes. */
static void put_cell(FILE *f, char ch, bool ready_strip, bool color, const char **prev)
{
	const char *esc = ch == '+' || (ready_strip && ch != '.') ? cs_cell_color[CS_ST_READY] :
			  (ch >= '1' && ch <= '9') || ch == '*' ? cs_cell_color[CS_ST_RUNNING] :
			  ch == '.' || ch == ':' ? cs_cell_color[CS_ST_SLEEP] : "\033[0m";

	if (color && esc != *prev)
		fputs(esc, f);
	fputc(ch, f);
	*prev = esc;
}

/* One lane: a program's (comm) cells, or a strip of the whole target's running or ready counts. */
static void lane(FILE *f, const struct cs_core *c, const struct cs_view *v, const char *comm,
		 int strip, const struct cs_render_opts *o)
{
	uint64_t dur = cs_core_duration(c), sum[CS_NACC];
	unsigned int j, s, cells = o->width - LABEL_W - 4;
	const char *prev = NULL;

	for (j = 0; j < cells; j++) {
		uint64_t t0 = dur * j / cells, t1 = dur * (j + 1) / cells, alive = 0, span;
		double run, rdy;
		long k;

		span = cell_of(c, v, comm, t0, t1 > t0 ? t1 : t0 + 1, sum);
		for (s = 0; s < CS_NACC; s++)
			alive += sum[s];
		run = (double)sum[CS_ST_RUNNING] / (double)span;
		rdy = (double)sum[CS_ST_READY] / (double)span;
		k = (long)((strip == CS_ST_READY ? rdy : run) + 0.5);
		if (strip >= 0)
			put_cell(f, !k ? '.' : k > 9 ? '*' : (char)('0' + k), strip == CS_ST_READY,
				 o->color, &prev);
		else
			put_cell(f, cs_group_cell(run, rdy, (double)alive / (double)span), false,
				 o->color, &prev);
	}
	fputs(o->color ? "\033[0m|\n" : "|\n", f);
}

void cs_render_group_timeline(FILE *f, const struct cs_core *c, const struct cs_view *v,
			      const struct cs_groups *gs, const struct cs_render_opts *o)
{
	unsigned int cells = o->width - LABEL_W - 4, max = o->max_lanes ? o->max_lanes : CS_GROUP_LANES;
	char a[32], label[64];
	uint64_t rest = 0;
	size_t i;

	cs_fmt_ns(a, sizeof(a), cs_core_duration(c));
	fprintf(f, "%-*s |0%*s|\n", LABEL_W - 1, "timeline", cells - 1, a);
	fprintf(f, "%-*s |", LABEL_W, "threads running");
	lane(f, c, v, NULL, CS_ST_RUNNING, o);
	fprintf(f, "%-*s |", LABEL_W, "threads ready");
	lane(f, c, v, NULL, CS_ST_READY, o);
	for (i = 0; i < gs->n; i++) {
		if (i >= max) {
			rest += gs->g[i].totals.ns[CS_ST_RUNNING];
			continue;
		}
		snprintf(label, sizeof(label), "%.*s x%zu", LABEL_W - 8, gs->g[i].comm,
			 gs->g[i].nprocs);
		fprintf(f, "  %-*s |", LABEL_W - 2, label);
		lane(f, c, v, gs->g[i].comm, -1, o);
	}
	if (gs->n > max) {
		cs_fmt_ns(a, sizeof(a), rest);
		fprintf(f, "  ... %zu more programs not drawn (running %s in all; --lanes shows more)\n",
			gs->n - max, a);
	}
	cs_fmt_ns(a, sizeof(a), cs_core_duration(c) / cells);
	fprintf(f, "legend: 1-9=threads running (mean over the cell), +=ready, :=less, .=blocked;"
		"%scell=%s\n\n", o->width < 100 ? "\n        " : " ", a);
}

/* "read 1.23s, wait4 30.12ms" while it fits in room columns. */
static void calls(FILE *f, const struct cs_group *g, size_t room)
{
	struct cs_topk_ent e[CS_TOPK];
	unsigned int i, n = cs_topk_sorted(&g->blocked, e);
	char item[64], ns[32];
	size_t used = 0;

	for (i = 0; i < n && i < 3; i++) {
		size_t len;

		cs_fmt_ns(ns, sizeof(ns), e[i].ns);
		len = (size_t)snprintf(item, sizeof(item), "%s%s %s", i ? ", " : " ",
				       e[i].key ? cs_syscall_name((int)e[i].key - 1) : "(no syscall)",
				       ns);
		if (used + len > room)
			break;
		fputs(item, f);
		used += len;
	}
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

static void group_row(FILE *f, const struct cs_group *g, uint64_t cpu, unsigned int width)
{
	uint64_t all = 0;
	char ns[32];
	unsigned int s;
	int n;

	for (s = 0; s < CS_NACC; s++)
		all += g->totals.ns[s];
	cs_fmt_ns(ns, sizeof(ns), g->totals.ns[CS_ST_RUNNING]);
	n = fprintf(f, "%-15.15s %5zu %8s %5.1f %5.1f %5.1f %5.1f %5.1f %8llu", g->comm, g->nprocs,
		    ns, share(g->totals.ns[CS_ST_RUNNING], cpu), share(g->totals.ns[CS_ST_RUNNING], all),
		    share(g->totals.ns[CS_ST_READY], all),
		    share(g->totals.ns[CS_ST_SLEEP] + g->totals.ns[CS_ST_IO], all),
		    share(g->totals.ns[CS_ST_LOCK], all),
		    (unsigned long long)(g->totals.nvcsw + g->totals.nivcsw));
	calls(f, g, n > 0 && (unsigned int)n < width ? width - (unsigned int)n : 0);
	fputc('\n', f);
}

void cs_render_group_table(FILE *f, const struct cs_groups *gs, const struct cs_render_opts *o)
{
	uint64_t cpu = gs->totals.ns[CS_ST_RUNNING], rest = 0;
	size_t i, shown = cs_groups_covering(gs, COVER_PCT);

	if (shown > TABLE_MAX)
		shown = TABLE_MAX;
	fprintf(f, "%s%-15s %5s %8s %5s %5s %5s %5s %5s %8s%s%s\n", o->color ? "\033[1m" : "",
		"PROGRAM", "PROCS", "CPU", "CPU%", "RUN%", "RDY%", "BLK%", "LCK%", "SWITCHES",
		o->width >= 90 ? " BLOCKED IN" : "", o->color ? "\033[0m" : "");
	for (i = 0; i < gs->n; i++) {
		if (i < shown)
			group_row(f, &gs->g[i], cpu, o->width);
		else
			rest += gs->g[i].totals.ns[CS_ST_RUNNING];
	}
	if (gs->n > shown)
		fprintf(f, "  ... %zu more programs: %.1f%% of the CPU time (--json has every one)\n",
			gs->n - shown, share(rest, cpu));
}
