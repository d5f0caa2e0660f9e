// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "render.h"
#include "summary.h"

#define LABEL_W 24

static const char cell_char[CS_NACC] = {
	[CS_ST_RUNNING] = '#', [CS_ST_READY] = '+', [CS_ST_SLEEP] = '.',
	[CS_ST_IO] = 'D', [CS_ST_LOCK] = 'L',
};
static const char *const cell_color[CS_NACC] = {
	[CS_ST_RUNNING] = "\033[32m", [CS_ST_READY] = "\033[33m",
	[CS_ST_SLEEP] = "\033[2m", [CS_ST_IO] = "\033[31m", [CS_ST_LOCK] = "\033[35m",
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

static uint64_t alive_ns(const struct cs_thread *t)
{
	uint64_t sum = 0;
	unsigned int s;

	for (s = 0; s < CS_NACC; s++)
		sum += t->ns[s];
	return sum;
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
			fputs(st >= 0 ? cell_color[st] : RESET, f);
		fputc(st >= 0 ? cell_char[st] : ' ', f);
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
				fprintf(f, "%s%s (pid %u, %zu thread%s)%s\n", o->color ? BOLD : "",
					p->comm, p->pid, p->nthreads, p->nthreads == 1 ? "" : "s",
					o->color ? RESET : "");
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
		fprintf(f, " %s%c%s=%s", o->color ? cell_color[i] : "", cell_char[i],
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

static void topk_line(FILE *f, const struct cs_core *c, const char *what,
		      const struct cs_topk *tk, bool ns, const char *zero, unsigned int width)
{
	struct cs_topk_ent e[CS_TOPK];
	unsigned int i, n = cs_topk_sorted(tk, e);
	struct line l;
	char buf[32];

	if (!n)
		return;
	line_start(&l, width, what);
	for (i = 0; i < n; i++) {
		const char *comm = e[i].key ? cs_core_comm(c, (uint32_t)e[i].key) : zero;

		if (ns) {
			cs_fmt_ns(buf, sizeof(buf), e[i].ns);
			line_item(&l, "%s %s/%llu %s", i ? "," : "", comm ? comm : "?",
				  (unsigned long long)e[i].key, buf);
		} else {
			line_item(&l, "%s %s/%llu x%llu", i ? "," : "", comm ? comm : "?",
				  (unsigned long long)e[i].key, (unsigned long long)e[i].count);
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

		/* joins are sleeping; a lock under 1% of the thread's time is noise here */
		if (!l || l->kind == CS_LK_JOIN || e[i].ns * 100 < alive_ns(t))
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

static void thread_row(FILE *f, const struct cs_core *c, const struct cs_thread *t,
		       unsigned int width)
{
	uint64_t all = alive_ns(t);
	char p50[32], p99[32], mx[32];

	fprintf(f, "%7u %-15.15s %5.1f %5.1f %5.1f %5.1f %5.1f %7llu %7llu %5llu\n", t->tid,
		t->comm, pct(t->ns[CS_ST_RUNNING], all), pct(t->ns[CS_ST_READY], all),
		pct(t->ns[CS_ST_SLEEP], all), pct(t->ns[CS_ST_IO], all),
		pct(t->ns[CS_ST_LOCK], all), (unsigned long long)t->nvcsw,
		(unsigned long long)t->nivcsw, (unsigned long long)t->migrations);
	if (t->lat.count) {
		cs_fmt_ns(p50, sizeof(p50), cs_hist_quantile(&t->lat, 0.5));
		cs_fmt_ns(p99, sizeof(p99), cs_hist_quantile(&t->lat, 0.99));
		cs_fmt_ns(mx, sizeof(mx), t->lat.max);
		fprintf(f, "%16s wait for CPU: p50 %s  p99 %s  max %s  (%llu wait%s)\n", "", p50,
			p99, mx, (unsigned long long)t->lat.count, t->lat.count == 1 ? "" : "s");
	}
	blocked_line(f, t, width);
	lockwait_line(f, c, t, width);
	topk_line(f, c, "woken by", &t->wakers, false, "idle/irq", width);
	topk_line(f, c, "CPU held by", &t->holders, true, "idle", width);
}

static void table(FILE *f, const struct cs_core *c, const struct cs_view *v,
		  const struct cs_render_opts *o)
{
	size_t i, j;

	fprintf(f, "%s%7s %-15s %5s %5s %5s %5s %5s %7s %7s %5s%s\n", o->color ? BOLD : "",
		"TID", "COMM", "RUN%", "RDY%", "SLP%", "IO%", "LCK%", "VCSW", "ICSW", "MIGR",
		o->color ? RESET : "");
	for (i = 0; i < v->nprocs; i++) {
		const struct cs_proc_view *p = &v->procs[i];

		if (v->nprocs > 1)
			fprintf(f, "pid %u %s\n", p->pid, p->comm);
		for (j = 0; j < p->nthreads; j++)
			thread_row(f, c, p->threads[j], o->width);
	}
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

/* The contended-locks table: what was waited on, how long, who released it. */
static void locks(FILE *f, const struct cs_core *c, const struct cs_render_opts *o)
{
	const struct cs_lockstat **v;
	size_t i, n = cs_locks_sorted(c, &v), shown = n < 10 ? n : 10;
	bool wide;

	if (!n) {
		free(v);
		return;
	}
	fprintf(f, "\n%scontended locks%s (%zu; wait = time from asking to getting it)\n",
		o->color ? BOLD : "", o->color ? RESET : "", n);
	/* releasers go at the end of the row where there is room, else below it */
	wide = o->width >= 110;
	fprintf(f, "  %-26s %-15s %6s %8s %8s %3s%s\n", "LOCK", "KIND", "WAITS", "TOTAL", "MAX",
		"THR", wide ? " RELEASED BY" : "");
	for (i = 0; i < shown; i++) {
		const struct cs_lockstat *l = v[i];
		struct cs_topk_ent e[CS_TOPK];
		char label[64], tot[32], mx[32], who[48];
		unsigned int j, k = cs_topk_sorted(&l->releasers, e);
		struct line ln;

		cs_fmt_ns(tot, sizeof(tot), l->wait_ns);
		cs_fmt_ns(mx, sizeof(mx), l->max_wait_ns);
		/* the kind says kernel or user space: mutex/condition/join are futexes */
		ln.width = o->width < sizeof(ln.buf) - 8 ? o->width : sizeof(ln.buf) - 8;
		ln.cut = false;
		ln.len = (size_t)snprintf(ln.buf, sizeof(ln.buf), "  %-26.26s %-15s %6llu %8s %8s %3u",
					  cs_lock_label(l, label, sizeof(label)),
					  cs_lock_kind_name(l->kind), (unsigned long long)l->waits,
					  tot, mx, l->nwaiters);
		if (!wide) {
			line_end(f, &ln);
			line_start(&ln, o->width, "released by");
		}
		for (j = 0; j < k; j++)
			line_item(&ln, "%s %s x%llu", j ? "," : "", tid_name(c, e[j].key, who, sizeof(who)),
				  (unsigned long long)e[j].count);
		line_end(f, &ln);
	}
	if (n > shown)
		fprintf(f, "  ... %zu more (all of them in --json)\n", n - shown);
	free(v);
}

static void totals(FILE *f, const struct cs_core *c, const struct cs_render_opts *o)
{
	const struct cs_core_stats *st = cs_core_stats(c);
	char r[32], q[32], s[32], d[32], l[32];
	struct cs_totals t;

	cs_core_totals(c, &t);
	cs_fmt_ns(r, sizeof(r), t.ns[CS_ST_RUNNING]);
	cs_fmt_ns(q, sizeof(q), t.ns[CS_ST_READY]);
	cs_fmt_ns(s, sizeof(s), t.ns[CS_ST_SLEEP]);
	cs_fmt_ns(d, sizeof(d), t.ns[CS_ST_IO]);
	cs_fmt_ns(l, sizeof(l), t.ns[CS_ST_LOCK]);
	fprintf(f, "\ntotal: parallelism %.2f on %u CPUs\n", t.parallelism, o->ncpus);
	fprintf(f, "       running %s, ready %s, sleeping %s, io %s, lock %s\n", r, q, s, d, l);
	fprintf(f, "       switches %llu voluntary, %llu involuntary; %llu migrations, %llu wake-ups\n",
		(unsigned long long)t.nvcsw, (unsigned long long)t.nivcsw,
		(unsigned long long)t.migrations, (unsigned long long)t.wakeups);
	fprintf(f, "       events %llu recorded, %s%llu lost%s\n", (unsigned long long)st->events,
		o->color && st->lost_events ? "\033[31m" : "",
		(unsigned long long)st->lost_events, o->color && st->lost_events ? RESET : "");
}

void cs_render(FILE *f, const struct cs_core *c, const struct cs_render_opts *o)
{
	struct cs_render_opts ro = *o;
	struct cs_view v;
	char dur[32];

	if (ro.width < 80)
		ro.width = 80;
	cs_fmt_ns(dur, sizeof(dur), cs_core_duration(c));
	if (o->title)
		fprintf(f, "%s%s%s  (%s)\n", o->color ? BOLD : "", o->title, o->color ? RESET : "", dur);
	if (cs_view_build(&v, c)) {
		fprintf(f, "out of memory\n");
		return;
	}
	if (!v.nthreads)
		fprintf(f, "no tracked thread was seen in the window\n");
	else {
		timeline(f, c, &v, &ro);
		table(f, c, &v, &ro);
		locks(f, c, &ro);
	}
	totals(f, c, &ro);
	cs_view_free(&v);
}
