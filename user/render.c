// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "render.h"
#include "render_findings.h"
#include "render_groups.h"
#include "stacks.h"
#include "summary.h"

#define LABEL_W 24

const char cs_cell_char[CS_NACC] = {
	[CS_ST_RUNNING] = '#', [CS_ST_READY] = '+', [CS_ST_SLEEP] = '.',
	[CS_ST_IO] = 'D', [CS_ST_LOCK] = 'L', [CS_ST_UNTRACED] = '?',
};
const char *const cs_cell_color[CS_NACC] = {
	[CS_ST_RUNNING] = "\033[32m", [CS_ST_READY] = "\033[33m",
	[CS_ST_SLEEP] = "\033[2m", [CS_ST_IO] = "\033[31m", [CS_ST_LOCK] = "\033[35m",
	[CS_ST_UNTRACED] = "\033[36m",
};
#define RESET "\033[0m"
#define BOLD "\033[1m"

unsigned int cs_term_width(FILE *f)
{
	const char *cols = getenv("COLUMNS");
	struct winsize ws;
	long w = 0;

	if (cols && *cols)
		w = strtol(cols, NULL, 10);
	else if (isatty(fileno(f)) && !ioctl(fileno(f), TIOCGWINSZ, &ws))
		w = ws.ws_col;
	else
		w = 100;
	if (w < 80)
		w = 80;
	if (w > 400)
		w = 400;
	return (unsigned int)w;
}

bool cs_term_color(FILE *f, int when)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (when < 0)
		return false;
	if (when > 0)
		return true;
	if (nc && *nc)
		return false;
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(fileno(f));
}

void cs_fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns < 1000)
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1fus", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.2fms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", (double)ns / 1e9);
}

int cs_render_cell(const struct cs_core *c, const struct cs_thread *t, uint64_t t0, uint64_t t1)
{
	uint64_t w = cs_core_tl_width(c), sum[CS_NACC] = { 0 }, best = 0;
	unsigned int b, b0, b1, s;
	int st = -1;

	if (!t->tl || t1 <= t0)
		return -1;
	b0 = (unsigned int)(t0 / w);
	b1 = (unsigned int)((t1 - 1) / w);
	for (b = b0; b <= b1 && b < CS_TL_BUCKETS; b++)
		for (s = 0; s < CS_NACC; s++)
			sum[s] += t->tl[b * CS_NACC + s];
	for (s = 0; s < CS_NACC; s++) {
		if (sum[s] > best) {
			best = sum[s];
			st = (int)s;
		}
	}
	return st;
}

static uint64_t busy_ns(const struct cs_thread *t)
{
	return t->ns[CS_ST_RUNNING] + t->ns[CS_ST_READY] + t->ns[CS_ST_IO] + t->ns[CS_ST_LOCK];
}

static void lane(FILE *f, const struct cs_core *c, const struct cs_thread *t,
		 unsigned int cells, const struct cs_render_opts *o)
{
	uint64_t dur = cs_core_duration(c);
	int prev = -2;
	unsigned int j;

	fprintf(f, "  %-15.15s %6u |", t->comm, t->tid);
	for (j = 0; j < cells; j++) {
		uint64_t t0 = dur * j / cells, t1 = dur * (j + 1) / cells;
		int st = cs_render_cell(c, t, t0, t1 > t0 ? t1 : t0 + 1);

		if (o->color && st != prev)
			fputs(st >= 0 ? cs_cell_color[st] : RESET, f);
		fputc(st >= 0 ? cs_cell_char[st] : ' ', f);
		prev = st;
	}
	if (o->color)
		fputs(RESET, f);
	fputs("|\n", f);
}

static int by_busy(const void *a, const void *b)
{
	const struct cs_thread *x = *(const struct cs_thread *const *)a;
	const struct cs_thread *y = *(const struct cs_thread *const *)b;
	uint64_t bx = busy_ns(x), by = busy_ns(y);

	return bx < by ? 1 : bx > by ? -1 : (x->tid > y->tid) - (x->tid < y->tid);
}

/* Mark the busiest max_lanes threads to draw; returns how many are left out. */
static size_t choose_lanes(const struct cs_view *v, unsigned int max, const struct cs_thread ***drawn,
			   size_t *ndrawn)
{
	const struct cs_thread **sorted = malloc((v->nthreads ? v->nthreads : 1) * sizeof(*sorted));
	size_t n = v->nthreads < max ? v->nthreads : max;

	*drawn = sorted;
	*ndrawn = 0;
	if (!sorted)
		return v->nthreads;
	memcpy(sorted, v->all, v->nthreads * sizeof(*sorted));
	qsort(sorted, v->nthreads, sizeof(*sorted), by_busy);
	*ndrawn = n;
	return v->nthreads - n;
}

static bool is_drawn(const struct cs_thread *t, const struct cs_thread **drawn, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (drawn[i] == t)
			return true;
	return false;
}

/* head, then title in quotes when there is one, cut to the width. */
static void print_cut(FILE *f, const char *head, const char *title, unsigned int width)
{
	char line[512];
	int n = snprintf(line, sizeof(line), title ? "%s \"%s\"" : "%s", head, title);

	if (n >= (int)width && width > 4 && width < sizeof(line))
		strcpy(line + width - 4, "...");
	fputs(line, f);
}

static void timeline(FILE *f, const struct cs_core *c, const struct cs_view *v,
		     const struct cs_render_opts *o)
{
	unsigned int cells = o->width - LABEL_W - 4, max = o->max_lanes ? o->max_lanes : 24;
	const struct cs_thread **drawn;
	char a[32], per[32];
	size_t i, j, ndrawn, left = choose_lanes(v, max, &drawn, &ndrawn);
	uint64_t rest_run = 0;

	cs_fmt_ns(a, sizeof(a), cs_core_duration(c));
	cs_fmt_ns(per, sizeof(per), cs_core_duration(c) / cells);
	fprintf(f, "%-*s |0%*s|\n", LABEL_W - 1, "timeline", cells - 1, a);
	for (i = 0; i < v->nprocs; i++) {
		const struct cs_proc_view *p = &v->procs[i];
		bool header = false;

		for (j = 0; j < p->nthreads; j++) {
			if (!is_drawn(p->threads[j], drawn, ndrawn)) {
				rest_run += p->threads[j]->ns[CS_ST_RUNNING];
				continue;
			}
			if (!header) {
				char head[256];

				snprintf(head, sizeof(head), "%s (pid %u, %zu thread%s)", p->comm, p->pid,
					 p->nthreads, p->nthreads == 1 ? "" : "s");
				fprintf(f, "%s", o->color ? BOLD : "");
				print_cut(f, head, p->title, o->width);
				fprintf(f, "%s\n", o->color ? RESET : "");
				header = true;
			}
			lane(f, c, p->threads[j], cells, o);
		}
	}
	if (left) {
		cs_fmt_ns(a, sizeof(a), rest_run);
		fprintf(f, "  ... %zu more thread%s not drawn (running %s in all; --lanes shows more)\n",
			left, left == 1 ? "" : "s", a);
	}
	fprintf(f, "legend:");
	for (i = 0; i < CS_NACC; i++)
		fprintf(f, " %s%c%s=%s", o->color ? cs_cell_color[i] : "", cs_cell_char[i],
			o->color ? RESET : "", cs_state_name((enum cs_tstate)i));
	fprintf(f, " blank=not alive; cell=%s\n\n", per);
	free(drawn);
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

static const char *tid_name(const struct cs_core *c, uint64_t key, char *buf, size_t len);

/* A detail line that never runs past the output's width: items that do not fit are dropped. */
struct line {
	char buf[512];
	size_t len, width;
	bool cut;
};

static void line_start(struct line *l, unsigned int width, const char *what)
{
	l->width = width < sizeof(l->buf) - 8 ? width : sizeof(l->buf) - 8;
	l->cut = false;
	l->len = (size_t)snprintf(l->buf, sizeof(l->buf), "%16s %s:", "", what);
}

static void line_item(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line_item(struct line *l, const char *fmt, ...)
{
	char item[160];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	n = (size_t)vsnprintf(item, sizeof(item), fmt, ap);
	va_end(ap);
	if (l->cut || l->len + n + 4 > l->width) {
		l->cut = true;
		return;
	}
	memcpy(l->buf + l->len, item, n + 1);
	l->len += n;
}

static void line_end(FILE *f, struct line *l)
{
	fprintf(f, "%s%s\n", l->buf, l->cut ? " ..." : "");
}

/*
 * "CPU held by: worker/12 41.2ms, idle/0 3.1ms" (by ns), or "woken by:
 * mutexhot/12 x40, timer x3" (by count; interrupt sources by name).
 */
static void topk_line(FILE *f, const struct cs_core *c, const char *what,
		      const struct cs_topk *tk, bool ns, unsigned int width)
{
	struct cs_topk_ent e[CS_TOPK];
	unsigned int i, n = cs_topk_sorted(tk, e);
	struct line l;
	char buf[32];

	if (!n)
		return;
	line_start(&l, width, what);
	for (i = 0; i < n; i++) {
		bool task;
		const char *label = cs_waker_label(c, e[i].key, &task);

		if (ns) {
			cs_fmt_ns(buf, sizeof(buf), e[i].ns);
			line_item(&l, "%s %s/%llu %s", i ? "," : "", label,
				  (unsigned long long)e[i].key, buf);
		} else if (task) {
			line_item(&l, "%s %s/%llu x%llu", i ? "," : "", label,
				  (unsigned long long)e[i].key, (unsigned long long)e[i].count);
		} else {
			line_item(&l, "%s %s x%llu", i ? "," : "", label,
				  (unsigned long long)e[i].count);
		}
	}
	line_end(f, &l);
}

static void blocked_line(FILE *f, const struct cs_thread *t, unsigned int width)
{
	struct cs_topk_ent e[CS_TOPK];
	unsigned int i, n = cs_topk_sorted(&t->blocked, e);
	struct line l;
	char buf[32];

	if (!n)
		return;
	line_start(&l, width, "blocked in");
	for (i = 0; i < n; i++) {
		cs_fmt_ns(buf, sizeof(buf), e[i].ns);
		line_item(&l, "%s %s %s x%llu", i ? "," : "",
			  e[i].key ? cs_syscall_name((int)e[i].key - 1) : "(no syscall)", buf,
			  (unsigned long long)e[i].count);
	}
	line_end(f, &l);
}

/* "waited on hot_lock 412ms x400, released mostly by worker/12" */
static void lockwait_line(FILE *f, const struct cs_core *c, const struct cs_thread *t,
			  unsigned int width)
{
	struct cs_topk_ent e[CS_TOPK], r[CS_TOPK];
	unsigned int i, j, n = cs_topk_sorted(&t->lockwaits, e);
	char label[64], buf[32], who[48];
	struct line ln;

	for (i = 0; i < n && i < 2; i++) {
		const struct cs_lockstat *l = cs_core_lock(c, (size_t)e[i].key);
		unsigned int k;

		/* a wait under 1% of the thread's time is noise here */
		if (!l || e[i].ns * 100 < cs_thread_alive_ns(t))
			continue;
		cs_fmt_ns(buf, sizeof(buf), e[i].ns);
		line_start(&ln, width, "waited on");
		line_item(&ln, " %s (%s) %s x%llu", cs_lock_label(l, label, sizeof(label)),
			  cs_lock_kind_name(l->kind), buf, (unsigned long long)e[i].count);
		k = cs_topk_sorted(&l->releasers, r);
		for (j = 0; j < k && r[j].key == t->tid; j++)
			;
		if (j < k)
			line_item(&ln, cs_releaser_reason(r[j].key) ? ", mostly %s" : ", mostly by %s",
				  tid_name(c, r[j].key, who, sizeof(who)));
		ln.cut = false; /* the lock itself is always shown; a releaser that does not fit is not */
		line_end(f, &ln);
	}
}

/* The kernel's own figures beside ours, and time nobody traced. */
static void kernel_line(FILE *f, const struct cs_thread *t)
{
	char cpu[32], rd[32], un[32];

	if (t->ns[CS_ST_UNTRACED]) {
		cs_fmt_ns(un, sizeof(un), t->ns[CS_ST_UNTRACED]);
		fprintf(f, "%16s untraced: %s (switched without the tracepoint: a chain break)\n",
			"", un);
	}
	if (!t->kernel_figures)
		return;
	cs_fmt_ns(cpu, sizeof(cpu), t->cpu_ns);
	cs_fmt_ns(rd, sizeof(rd), t->run_delay_ns);
	fprintf(f, "%16s kernel: CPU time %s, run-queue wait %s\n", "", cpu, rd);
}

/* The table's columns: the share of the time alive in each state, and the counts. */
static void row_numbers(FILE *f, const uint64_t ns[CS_NACC], uint64_t nvcsw, uint64_t nivcsw,
			uint64_t migrations)
{
	uint64_t all = 0;
	unsigned int s;

	for (s = 0; s < CS_NACC; s++)
		all += ns[s];
	fprintf(f, " %5.1f %5.1f %5.1f %5.1f %5.1f %7llu %7llu %5llu", pct(ns[CS_ST_RUNNING], all),
		pct(ns[CS_ST_READY], all), pct(ns[CS_ST_SLEEP], all), pct(ns[CS_ST_IO], all),
		pct(ns[CS_ST_LOCK], all), (unsigned long long)nvcsw, (unsigned long long)nivcsw,
		(unsigned long long)migrations);
}

#define ROW_W 75 /* the table's columns, TID to MIGR */

static void thread_row(FILE *f, const struct cs_core *c, const struct cs_thread *t,
		       unsigned int width)
{
	char p50[32], p99[32], mx[32], mark[32];

	fprintf(f, "%7u %-15.15s", t->tid, t->comm);
	row_numbers(f, t->ns, t->nvcsw, t->nivcsw, t->migrations);
	/* a policy or nice value that is not the default: at the row's end, where it fits */
	cs_sched_mark(t, mark, sizeof(mark));
	if (*mark && ROW_W + 1 + strlen(mark) < width)
		fprintf(f, " %s", mark);
	fputc('\n', f);
	if (*mark && ROW_W + 1 + strlen(mark) >= width)
		fprintf(f, "%16s sched: %s\n", "", mark);
	if (t->lat.count) {
		cs_fmt_ns(p50, sizeof(p50), cs_hist_quantile(&t->lat, 0.5));
		cs_fmt_ns(p99, sizeof(p99), cs_hist_quantile(&t->lat, 0.99));
		cs_fmt_ns(mx, sizeof(mx), t->lat.max);
		fprintf(f, "%16s wait for CPU: p50 %s  p99 %s  max %s  (%llu wait%s)\n", "", p50,
			p99, mx, (unsigned long long)t->lat.count, t->lat.count == 1 ? "" : "s");
	}
	blocked_line(f, t, width);
	lockwait_line(f, c, t, width);
	cs_stacks_render_thread(f, c, t, width);
	topk_line(f, c, "woken by", &t->wakers, false, width);
	topk_line(f, c, "CPU held by", &t->holders, true, width);
	kernel_line(f, t);
}

/* With several processes, each one's CPU time and parallelism head its rows... */
static void proc_header(FILE *f, const struct cs_proc_view *p)
{
	char cpu[32];

	cs_fmt_ns(cpu, sizeof(cpu), p->totals.ns[CS_ST_RUNNING]);
	fprintf(f, "pid %u %s", p->pid, p->comm);
	if (p->title)
		fprintf(f, " \"%.60s%s\"", p->title, strlen(p->title) > 60 ? "..." : "");
	fprintf(f, ": CPU %s, parallelism %.2f\n", cpu, p->totals.parallelism);
}

/* ... and the shares of all its threads' time and their switches end them. */
static void proc_row(FILE *f, const struct cs_proc_view *p)
{
	char n[32];

	snprintf(n, sizeof(n), "%zu threads", p->nthreads);
	fprintf(f, "%7s %-15.15s", "all", n);
	row_numbers(f, p->totals.ns, p->totals.nvcsw, p->totals.nivcsw, p->totals.migrations);
	fputc('\n', f);
}

static void table_head(FILE *f, const struct cs_render_opts *o)
{
	fprintf(f, "%s%7s %-15s %5s %5s %5s %5s %5s %7s %7s %5s%s\n", o->color ? BOLD : "",
		"TID", "COMM", "RUN%", "RDY%", "SLP%", "IO%", "LCK%", "VCSW", "ICSW", "MIGR",
		o->color ? RESET : "");
}

/* A process's rows: with several processes, under its totals and over its 'all' row. */
static void proc_block(FILE *f, const struct cs_core *c, const struct cs_proc_view *p,
		       const struct cs_render_opts *o, bool several)
{
	size_t j;

	if (several)
		proc_header(f, p);
	for (j = 0; j < p->nthreads; j++)
		thread_row(f, c, p->threads[j], o->width);
	if (several && p->nthreads > 1)
		proc_row(f, p);
}

static void table(FILE *f, const struct cs_core *c, const struct cs_view *v,
		  const struct cs_render_opts *o, bool several)
{
	size_t i;

	table_head(f, o);
	for (i = 0; i < v->nprocs; i++)
		proc_block(f, c, &v->procs[i], o, several);
}

static const char *tid_name(const struct cs_core *c, uint64_t key, char *buf, size_t len)
{
	const char *reason = cs_releaser_reason(key);
	const char *comm;

	if (reason)
		return reason;
	comm = cs_core_comm(c, (uint32_t)key);
	snprintf(buf, len, "%s/%llu", comm ? comm : "?", (unsigned long long)key);
	return buf;
}

/* With filters, a lock is shown when a thread shown waited on it, or it is a shown process's. */
static size_t locks_shown(const struct cs_view *view, const struct cs_render_opts *o,
			  const struct cs_lockstat **v, size_t n)
{
	size_t i, k = 0;
	unsigned int j;

	if (!cs_view_filtered(o->view))
		return n;
	for (i = 0; i < n; i++) {
		bool keep = v[i]->space == CS_SPACE_USER && cs_view_has_pid(view, v[i]->pid);

		for (j = 0; j < v[i]->nwaiters && !keep; j++)
			keep = cs_view_has_tid(view, v[i]->waiters[j]);
		if (keep)
			v[k++] = v[i];
	}
	return k;
}

#define LOCK_W 32 /* the lock table's first column: 79 columns in all */

/*
 * A lock in its column: its name, and for a user-space lock the process it
 * belongs to (the same address in two processes is two locks), which the
 * name gives way to when the column is too narrow for both.
 */
static const char *lock_cell(const struct cs_lockstat *l, char *buf, size_t len)
{
	char name[CS_LOCK_NAME + 8], own[24] = "";
	const char *nm = cs_lock_label(l, name, sizeof(name));

	if (l->space == CS_SPACE_USER)
		snprintf(own, sizeof(own), " (pid %u)", l->pid);
	snprintf(buf, len, "%.*s%s", LOCK_W - (int)strlen(own), nm, own);
	return buf;
}

/*
 * The contended-locks table: what was waited on, how long, who released it;
 * brief (in the summary of many processes): three rows, releasers only at
 * the end of a wide row.
 */
static void locks(FILE *f, const struct cs_core *c, const struct cs_view *view,
		  const struct cs_render_opts *o, bool brief)
{
	const struct cs_lockstat **v;
	size_t i, n = cs_locks_sorted(c, &v, true), shown, max = brief ? 3 : 10;
	bool wide;

	n = locks_shown(view, o, v, n);
	shown = n < max ? n : max;

	if (!n) {
		free(v);
		return;
	}
	fprintf(f, "\n%scontended locks%s (%zu; wait = time from asking to getting it)\n",
		o->color ? BOLD : "", o->color ? RESET : "", n);
	/* releasers go at the end of the row where there is room, else below it */
	wide = o->width >= 110;
	fprintf(f, "  %-*s %-15s %6s %8s %8s %3s%s\n", LOCK_W, "LOCK", "KIND", "WAITS", "TOTAL",
		"MAX", "THR", wide ? " RELEASED BY" : "");
	for (i = 0; i < shown; i++) {
		const struct cs_lockstat *l = v[i];
		struct cs_topk_ent e[CS_TOPK];
		char label[LOCK_W + 1], tot[32], mx[32], who[48];
		unsigned int j, k = cs_topk_sorted(&l->releasers, e);
		struct line ln;

		cs_fmt_ns(tot, sizeof(tot), l->wait_ns);
		cs_fmt_ns(mx, sizeof(mx), l->max_wait_ns);
		/* the kind says kernel or user space: mutex/condition/join are futexes */
		ln.width = o->width < sizeof(ln.buf) - 8 ? o->width : sizeof(ln.buf) - 8;
		ln.cut = false;
		ln.len = (size_t)snprintf(ln.buf, sizeof(ln.buf), "  %-*s %-15s %6llu %8s %8s %3u",
					  LOCK_W, lock_cell(l, label, sizeof(label)),
					  cs_lock_kind_name(l->kind), (unsigned long long)l->waits,
					  tot, mx, l->nwaiters);
		if (!wide) {
			line_end(f, &ln);
			if (brief)
				continue;
			line_start(&ln, o->width, "released by");
		}
		for (j = 0; j < k; j++)
			line_item(&ln, "%s %s x%llu", j ? "," : "", tid_name(c, e[j].key, who, sizeof(who)),
				  (unsigned long long)e[j].count);
		line_end(f, &ln);
		if (!brief)
			cs_stacks_render_lock(f, c, (size_t)(l - cs_core_lock(c, 0)), o->width);
	}
	if (n > shown)
		fprintf(f, "  ... %zu more (all of them in --json)\n", n - shown);
	free(v);
}

static void python_note(FILE *f, const struct cs_core *c);

/* What the core read but could not count, said where the losses are (the JSON's "dropped"). */
static void dropped_note(FILE *f, const struct cs_core_stats *st)
{
	const char *sep = "; dropped: ";

	if (st->locks_dropped) {
		fprintf(f, "%s%llu lock waits over the lock table", sep,
			(unsigned long long)st->locks_dropped);
		sep = ", ";
	}
	if (st->unknown_kind)
		fprintf(f, "%s%llu records of unknown kinds", sep, (unsigned long long)st->unknown_kind);
}

static void totals(FILE *f, const struct cs_core *c, const struct cs_render_opts *o)
{
	const struct cs_core_stats *st = cs_core_stats(c);
	char r[32], q[32], s[32], d[32], l[32], u[32];
	struct cs_totals t;

	cs_core_totals(c, &t);
	cs_fmt_ns(u, sizeof(u), t.ns[CS_ST_UNTRACED]);
	cs_fmt_ns(r, sizeof(r), t.ns[CS_ST_RUNNING]);
	cs_fmt_ns(q, sizeof(q), t.ns[CS_ST_READY]);
	cs_fmt_ns(s, sizeof(s), t.ns[CS_ST_SLEEP]);
	cs_fmt_ns(d, sizeof(d), t.ns[CS_ST_IO]);
	cs_fmt_ns(l, sizeof(l), t.ns[CS_ST_LOCK]);
	fprintf(f, "\ntotal: parallelism %.2f on %u CPUs\n", t.parallelism, o->ncpus);
	fprintf(f, "       running %s, ready %s, sleeping %s, io %s, lock %s", r, q, s, d, l);
	if (t.ns[CS_ST_UNTRACED])
		fprintf(f, ", untraced %s", u);
	fputc('\n', f);
	fprintf(f, "       switches %llu voluntary, %llu involuntary; %llu migrations, %llu wake-ups\n",
		(unsigned long long)t.nvcsw, (unsigned long long)t.nivcsw,
		(unsigned long long)t.migrations, (unsigned long long)t.wakeups);
	fprintf(f, "       events %llu recorded, %s%llu lost%s", (unsigned long long)st->events,
		o->color && st->lost_events ? "\033[31m" : "",
		(unsigned long long)st->lost_events, o->color && st->lost_events ? RESET : "");
	dropped_note(f, st);
	fputc('\n', f);
	python_note(f, c);
}

/* A CPython version (PY_VERSION_HEX): "3.11.2", or "3.12" when only its name said it. */
void cs_fmt_pyversion(char *buf, size_t len, uint64_t v)
{
	if ((v >> 8) & 0xff)
		snprintf(buf, len, "%u.%u.%u", (unsigned int)(v >> 24) & 0xff,
			 (unsigned int)(v >> 16) & 0xff, (unsigned int)(v >> 8) & 0xff);
	else
		snprintf(buf, len, "%u.%u", (unsigned int)(v >> 24) & 0xff, (unsigned int)(v >> 16) & 0xff);
}

/* --stacks and CPython: whose Python frames were read, and a version that is not read. */
static void python_note(FILE *f, const struct cs_core *c)
{
	const struct cs_tracer_fact *fa;
	size_t n = cs_core_tracer_facts(c, &fa);
	uint64_t v, pid = 0, layout = 0;
	char ver[32], lay[32];

	if (cs_core_fact(fa, n, "python_frames", &v)) {
		cs_fmt_pyversion(ver, sizeof(ver), v);
		fprintf(f, "       python: frames of CPython %s read\n", ver);
	}
	if (cs_core_fact(fa, n, "python_unsupported", &v)) {
		cs_core_fact(fa, n, "python_unsupported_pid", &pid);
		cs_core_fact(fa, n, "python_layout", &layout);
		cs_fmt_pyversion(ver, sizeof(ver), v);
		cs_fmt_pyversion(lay, sizeof(lay), layout & 0xffff0000u);
		fprintf(f, "       python: pid %llu runs CPython %s, not supported: its Python frames are "
			"not read (this build reads CPython %s)\n", (unsigned long long)pid, ver,
			layout ? lay : "none: built without python3-dev");
	}
}

/*
 * Lost events, said first: how many, on which CPUs, when, and what stays
 * exact (the totals the kernel side kept) and what does not.
 */
static void loss_warning(FILE *f, const struct cs_core *c, const struct cs_render_opts *o)
{
	const struct cs_core_stats *st = cs_core_stats(c);
	const struct cs_loss_window *w;
	size_t i, n = cs_core_loss_windows(c, &w);
	uint64_t first = 0, last = 0, offered = st->events + st->lost_events;
	char a[32], b[32];
	unsigned int cpu;

	if (!st->lost_events)
		return;
	for (i = 0; i < n; i++) {
		if (w[i].first && (!first || w[i].first < first))
			first = w[i].first;
		if (w[i].last > last)
			last = w[i].last;
	}
	fprintf(f, "%sWARNING: %llu of %llu events lost (%.1f%%)", o->color ? "\033[1;31m" : "",
		(unsigned long long)st->lost_events, (unsigned long long)offered,
		100.0 * (double)st->lost_events / (double)(offered ? offered : 1));
	for (cpu = 0; cpu < 4096; cpu++) {
		uint64_t k = cs_core_lost_on(c, cpu);

		if (k)
			fprintf(f, "%s CPU %u: %llu", cpu == 0 || !cs_core_lost_on(c, cpu - 1) ? ";" : ",",
				cpu, (unsigned long long)k);
		if (cpu > cs_core_ncpus(c) + 1)
			break;
	}
	if (first && last >= first && c) {
		uint64_t begin = cs_core_begin(c);

		cs_fmt_ns(a, sizeof(a), first > begin ? first - begin : 0);
		cs_fmt_ns(b, sizeof(b), last > begin ? last - begin : 0);
		fprintf(f, "; from %s to %s", a, b);
	}
	fprintf(f, "%s\n", o->color ? RESET : "");
	fprintf(f, "  exact anyway (kept in the kernel, %llu thread%s): each thread's time in each "
		"state, switches, wake-ups, CPU time\n  partial: the timeline, waits for a CPU, "
		"wakers, CPU holders, lock waits\n\n", (unsigned long long)st->kernel_totals,
		st->kernel_totals == 1 ? "" : "s");
}

/* With filters: how much of what was traced is shown, and by which filters. */
static void shown_line(FILE *f, const struct cs_view *v, const struct cs_view_opts *vo)
{
	char by[32] = "";

	if (!cs_view_filtered(vo))
		return;
	snprintf(by, sizeof(by), "%s%s%s", vo->npids ? ", --pid" : "", vo->ntids ? ", --tid" : "",
		 vo->ncomms ? ", --comm" : "");
	fprintf(f, "showing %zu of %zu threads (%s): the totals, --json and --csv have them all\n",
		v->nthreads, v->traced, by + 2);
}

static size_t nlines(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static int procs_by_cpu(const void *a, const void *b, void *arg)
{
	const struct cs_proc_view *x = a, *y = b;
	enum cs_sort_key k = *(const enum cs_sort_key *)arg;
	uint64_t kx = cs_sort_value(k, x->totals.ns, x->totals.nvcsw + x->totals.nivcsw);
	uint64_t ky = cs_sort_value(k, y->totals.ns, y->totals.nvcsw + y->totals.nivcsw);

	if (kx != ky)
		return kx < ky ? 1 : -1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* The view's processes, busiest first (by --sort's key; tid: by CPU time); caller frees. */
static struct cs_proc_view *busiest(const struct cs_view *v, const struct cs_render_opts *o)
{
	struct cs_proc_view *p = malloc((v->nprocs ? v->nprocs : 1) * sizeof(*p));
	enum cs_sort_key k = o->view ? o->view->sort : CS_SORT_TID;

	if (p) {
		memcpy(p, v->procs, v->nprocs * sizeof(*p));
		qsort_r(p, v->nprocs, sizeof(*p), procs_by_cpu, &k);
	}
	return p;
}

/* What stays out of the table: how many processes, and how to see them. */
static void more_procs(FILE *f, size_t left, size_t shown)
{
	if (left && shown)
		fprintf(f, "  ... %zu more process%s not shown in full (--top N shows the N busiest, "
			"--top 0 all)\n", left, left == 1 ? "" : "es");
	else if (left)
		fprintf(f, "  (--top N shows the N busiest processes and their threads in full, "
			"--top 0 all)\n");
}

/* A few processes: all of them (the default), or the --top N busiest. */
static void few(FILE *f, const struct cs_core *c, const struct cs_view *v,
		const struct cs_render_opts *o)
{
	struct cs_view top = *v;
	struct cs_proc_view *p = NULL;

	timeline(f, c, v, o);
	if (o->top > 0 && (size_t)o->top < v->nprocs && (p = busiest(v, o))) {
		top.procs = p;
		top.nprocs = (size_t)o->top;
	}
	table(f, c, &top, o, v->nprocs > 1);
	more_procs(f, v->nprocs - top.nprocs, top.nprocs);
	free(p);
	locks(f, c, v, o, false);
}

/*
 * The busiest processes in full, after the rest of the summary (used lines
 * of it, before and after) is known: --top N of them, or by default as many
 * as keep the whole within CS_SUMMARY_LINES.
 */
static void busiest_blocks(FILE *f, const struct cs_core *c, const struct cs_view *v,
			   const struct cs_render_opts *o, size_t used)
{
	struct cs_proc_view *p = busiest(v, o);
	size_t i, shown = 0, want = o->top > 0 ? (size_t)o->top : o->top < 0 ? v->nprocs : 0;

	for (i = 0; p && i < v->nprocs; i++) {
		char *buf = NULL;
		size_t len = 0, n;
		FILE *m = open_memstream(&buf, &len);

		if (!m)
			break;
		proc_block(m, c, &p[i], o, true);
		fclose(m);
		n = nlines(buf) + (shown ? 0 : 2); /* the first comes under a blank line and the head */
		if (want ? shown < want : used + n + 1 <= CS_SUMMARY_LINES) {
			if (!shown) {
				fputc('\n', f);
				table_head(f, o);
			}
			fputs(buf, f);
			used += n;
			shown++;
		}
		free(buf);
		if (want ? shown == want : used + n + 1 > CS_SUMMARY_LINES)
			break;
	}
	more_procs(f, v->nprocs - shown, shown);
	free(p);
}

/* The timeline and the programs table (the busiest lanes o->max_lanes draws), as a string. */
static char *by_program(const struct cs_core *c, const struct cs_view *v,
			const struct cs_groups *gs, const struct cs_render_opts *o)
{
	char *s = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&s, &len);

	if (!m)
		return NULL;
	cs_render_group_timeline(m, c, v, gs, o);
	cs_render_group_table(m, gs, o);
	fclose(m);
	return s;
}

/* The shape of the whole recording, whatever the filters show. */
static void shape(FILE *f, const struct cs_core *c, const struct cs_groups *gs,
		  const struct cs_render_opts *o)
{
	struct cs_groups whole;
	struct cs_view all;

	if (!cs_view_filtered(o->view) || cs_view_build(&all, c)) {
		cs_render_shape(f, c, gs, o);
		return;
	}
	if (!cs_groups_build(&whole, &all, cs_core_duration(c))) {
		cs_render_shape(f, c, &whole, o);
		cs_groups_free(&whole);
	}
	cs_view_free(&all);
}

/*
 * Many processes: the shape, a timeline and a table by program, the lock
 * table's first rows, the busiest processes in full. When the rest (the
 * findings can be long) leaves no room, fewer program lanes are drawn, down
 * to 2, unless --lanes said how many.
 */
static void many(FILE *f, char *const *buf, const struct cs_core *c, const struct cs_view *v,
		 const struct cs_render_opts *o, size_t tail)
{
	struct cs_render_opts lo = *o;
	struct cs_groups gs;
	char *lk = NULL, *body;
	size_t len = 0, used;
	FILE *m;

	if (cs_groups_build(&gs, v, cs_core_duration(c)))
		return;
	cs_groups_sort(&gs, o->view && o->view->sort != CS_SORT_TID ? o->view->sort : CS_SORT_CPU);
	shape(f, c, &gs, o);
	m = open_memstream(&lk, &len);
	if (m) {
		locks(m, c, v, o, true);
		fclose(m);
	}
	fflush(f);
	body = by_program(c, v, &gs, o);
	used = nlines(*buf) + nlines(body) + nlines(lk) + tail;
	if (!o->max_lanes && used > CS_SUMMARY_LINES && gs.n > 2) {
		size_t over = used - CS_SUMMARY_LINES;

		lo.max_lanes = over + 2 >= CS_GROUP_LANES ? 2 : CS_GROUP_LANES - (unsigned int)over;
		free(body);
		body = by_program(c, v, &gs, &lo);
	}
	cs_groups_free(&gs);
	fputs(body ? body : "", f);
	fflush(f);
	busiest_blocks(f, c, v, o, nlines(*buf) + nlines(lk) + tail);
	fputs(lk ? lk : "", f);
	free(body);
	free(lk);
}

/* The totals, the profile and the findings: the whole recording's. */
static char *tail_of(const struct cs_core *c, const struct cs_view *v,
		     const struct cs_render_opts *o, bool grouped)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	totals(m, c, o);
	if (v->nthreads && grouped)
		cs_render_profile_short(m, c, o);
	else if (v->nthreads)
		cs_render_profile(m, c, o);
	if (v->nthreads)
		cs_render_findings(m, c, o);
	if (o->after)
		fputs(o->after, m);
	fclose(m);
	return buf;
}

static void render_view(FILE *f, char *const *buf, const struct cs_core *c, struct cs_view *v,
			const struct cs_render_opts *o)
{
	bool grouped = cs_view_grouped(v);
	char *tail = tail_of(c, v, o, grouped);

	shown_line(f, v, o->view);
	if (!v->nthreads && !v->traced)
		fprintf(f, "no tracked thread was seen in the window\n");
	else if (v->nthreads && grouped)
		many(f, buf, c, v, o, nlines(tail));
	else if (v->nthreads)
		few(f, c, v, o);
	fputs(tail ? tail : "out of memory\n", f);
	free(tail);
}

void cs_render(FILE *out, const struct cs_core *c, const struct cs_render_opts *o)
{
	struct cs_render_opts ro = *o;
	struct cs_view v;
	char dur[32], *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len); /* what is shown depends on how long the rest is */

	if (!f || cs_view_build(&v, c)) {
		fprintf(out, "out of memory\n");
		if (f)
			fclose(f);
		free(buf);
		return;
	}
	if (ro.width < 80)
		ro.width = 80;
	cs_fmt_ns(dur, sizeof(dur), cs_core_duration(c));
	if (o->title)
		fprintf(f, "%s%s%s  (%s)\n", o->color ? BOLD : "", o->title, o->color ? RESET : "", dur);
	loss_warning(f, c, &ro);
	cs_view_shape(&v, o->view);
	render_view(f, &buf, c, &v, &ro);
	cs_view_free(&v);
	fclose(f);
	fwrite(buf, 1, len, out);
	free(buf);
}
