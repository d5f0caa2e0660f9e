// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * critpath_show.c: the critical path in the terminal, in --json and in the
 * Perfetto trace (critpath_show.h). The split by program and state, and
 * what the path blocked in and waited for, are summed here from the
 * stretches; the stretches themselves go to --json and the trace.
 */
#include <stdlib.h>
#include <string.h>
#include "critpath_show.h"
#include "pftrace.h"
#include "render.h"
#include "summary.h"

#define LABEL_W 24       /* as the timeline's labels (render.c) */
#define MAX_PROGRAMS 8   /* rows of the table */

#define RESET "\033[0m"
#define BOLD "\033[1m"

static bool blocked(unsigned int st)
{
	return st == CS_ST_SLEEP || st == CS_ST_IO || st == CS_ST_LOCK;
}

static const char *comm_of(const struct cs_core *c, uint32_t tid)
{
	const char *comm = cs_core_comm(c, tid);

	return comm && *comm ? comm : "?";
}

/* The lock a stretch blocked on, by its name in the core's lock table. */
static const char *lock_of(const struct cs_core *c, const struct cs_cp_seg *s, char *buf,
			   size_t len)
{
	const struct cs_lockstat *l = cs_core_find_lock(c, s->lock_addr, s->pid, s->lock_space);

	if (l)
		return cs_lock_label(l, buf, len);
	snprintf(buf, len, "0x%llx", (unsigned long long)s->lock_addr);
	return buf;
}

const char *cs_cp_what(const struct cs_core *c, const struct cs_cp_seg *s, char *buf,
		       size_t len)
{
	char lk[64];

	switch (s->state) {
	case CS_ST_READY:
		if (!(s->flags & CS_CPF_HOLDER))
			return "(not seen)";
		if (!s->who)
			return "idle";
		snprintf(buf, len, "%s/%u", comm_of(c, s->who), s->who);
		return buf;
	case CS_ST_UNTRACED:
		return s->flags & CS_CPF_NOT_KEPT ? "not kept (memory cap)" :
		       s->flags & CS_CPF_NO_DATA ? "not seen" : "chain break";
	case CS_ST_LOCK:
		if (s->lock_space) {
			snprintf(buf, len, "%s (%s)", lock_of(c, s, lk, sizeof(lk)),
				 cs_lock_kind_name(s->lock_kind));
			return buf;
		}
		/* fall through */
	case CS_ST_SLEEP:
	case CS_ST_IO:
		return s->syscall >= 0 ? cs_syscall_name(s->syscall) : "(no syscall)";
	default:
		return "";
	}
}

const char *cs_cp_woken_by(const struct cs_core *c, const struct cs_cp_seg *s, char *buf,
			   size_t len)
{
	const char *name;

	if (!blocked(s->state) || !(s->flags & CS_CPF_WOKEN))
		return NULL;
	if (s->flags & CS_CPF_IRQ) {
		name = s->source ? cs_core_wake_source(c, s->source) : NULL;
		return name ? name : "interrupt";
	}
	snprintf(buf, len, "%s/%u%s", comm_of(c, s->who), s->who,
		 s->flags & CS_CPF_UNSEEN ? " (not seen)" : "");
	return buf;
}

/* ---- sums: by program, and by cause ---- */

/*
 * Both are sums over the stretches by a key (a program's name, a cause's
 * label): one entry per stretch, sorted by key and merged, then sorted by
 * weight. A long path has many stretches and many keys (a build starts
 * thousands of processes): no table is searched per stretch.
 */
struct program {
	char comm[CS_COMM_LEN];
	uint32_t nthreads, tid; /* tid: while merging, the last thread counted */
	uint64_t ns[CS_NACC], total;
};

struct sums {
	struct program *progs;
	size_t nprogs;
	uint64_t ns[CS_NACC];
};

static int by_comm_tid(const void *a, const void *b)
{
	const struct program *x = a, *y = b;
	int d = strncmp(x->comm, y->comm, CS_COMM_LEN);

	return d ? d : (x->tid > y->tid) - (x->tid < y->tid);
}

static int by_total(const void *a, const void *b)
{
	const struct program *x = a, *y = b;

	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return strcmp(x->comm, y->comm);
}

/* Time on the path by program and state, heaviest program first; 0 or -ENOMEM. */
static int sums_build(struct sums *m, const struct cs_core *c, const struct cs_cp_path *p)
{
	struct program *v = calloc(p->nsegs ? p->nsegs : 1, sizeof(*v));
	size_t i, n = 0;

	memset(m, 0, sizeof(*m));
	if (!v)
		return -1;
	for (i = 0; i < p->nsegs; i++) {
		const struct cs_cp_seg *s = &p->segs[i];

		snprintf(v[i].comm, sizeof(v[i].comm), "%s", comm_of(c, s->tid));
		v[i].tid = s->tid;
		v[i].nthreads = 1;
		v[i].ns[s->state] = v[i].total = s->dur;
		m->ns[s->state] += s->dur;
	}
	qsort(v, p->nsegs, sizeof(*v), by_comm_tid);
	for (i = 0; i < p->nsegs; i++) {
		struct program *g = n ? &v[n - 1] : NULL;
		unsigned int st;

		if (!g || strncmp(g->comm, v[i].comm, CS_COMM_LEN)) {
			v[n++] = v[i];
			continue;
		}
		g->nthreads += g->tid != v[i].tid;
		g->tid = v[i].tid;
		for (st = 0; st < CS_NACC; st++)
			g->ns[st] += v[i].ns[st];
		g->total += v[i].total;
	}
	qsort(v, n, sizeof(*v), by_total);
	m->progs = v;
	m->nprogs = n;
	return 0;
}

static void sums_free(struct sums *m)
{
	free(m->progs);
}

struct tally {
	char key[96];
	uint64_t ns;
};

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct tally *)a)->key, ((const struct tally *)b)->key);
}

static int by_ns(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;

	return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : strcmp(x->key, y->key);
}

/* n entries summed by key, heaviest first; how many keys. */
static size_t tally_merge(struct tally *t, size_t n)
{
	size_t i, k = 0;

	qsort(t, n, sizeof(*t), by_key);
	for (i = 0; i < n; i++) {
		if (k && !strcmp(t[k - 1].key, t[i].key))
			t[k - 1].ns += t[i].ns;
		else
			t[k++] = t[i];
	}
	qsort(t, k, sizeof(*t), by_ns);
	return k;
}

/*
 * The causes of the stretches in one state (t: room for one per stretch):
 * blocked: the call or lock, the program, what ended it when the walk
 * stayed; ready: who held the CPU.
 */
static size_t causes(const struct cs_core *c, const struct cs_cp_path *p, bool want_blocked,
		     struct tally *t)
{
	char what[96], by[64];
	size_t i, n = 0;

	for (i = 0; i < p->nsegs; i++) {
		const struct cs_cp_seg *s = &p->segs[i];
		const char *w, *wb;

		if (want_blocked ? !blocked(s->state) : s->state != CS_ST_READY)
			continue;
		w = cs_cp_what(c, s, what, sizeof(what));
		wb = want_blocked ? cs_cp_woken_by(c, s, by, sizeof(by)) : NULL;
		if (!want_blocked)
			snprintf(t[n].key, sizeof(t[n].key), "%s", w);
		else if (wb && (s->flags & (CS_CPF_IRQ | CS_CPF_UNSEEN)))
			snprintf(t[n].key, sizeof(t[n].key), "%s (%s, woken by %s)", w,
				 comm_of(c, s->tid), wb);
		else
			snprintf(t[n].key, sizeof(t[n].key), "%s (%s)", w, comm_of(c, s->tid));
		t[n++].ns = s->dur;
	}
	return tally_merge(t, n);
}

/* ---- the terminal ---- */

/* The path's dominant state in each cell of the window, like a timeline lane. */
static void strip(FILE *f, const struct cs_cp_path *p, unsigned int cells, bool color)
{
	uint64_t dur = p->end - p->start;
	size_t k = 0;
	unsigned int j, s;
	int prev = -2;

	fprintf(f, "  %-*s|", LABEL_W - 2, "critical path");
	for (j = 0; j < cells; j++) {
		uint64_t t0 = p->start + dur * j / cells, t1 = p->start + dur * (j + 1) / cells;
		uint64_t ns[CS_NACC] = { 0 }, best = 0;
		size_t i;
		int st = -1;

		while (k < p->nsegs && p->segs[k].start + p->segs[k].dur <= t0)
			k++;
		for (i = k; i < p->nsegs && p->segs[i].start < t1; i++) {
			uint64_t a = p->segs[i].start, b = a + p->segs[i].dur;

			ns[p->segs[i].state] += (b < t1 ? b : t1) - (a > t0 ? a : t0);
		}
		for (s = 0; s < CS_NACC; s++)
			if (ns[s] > best)
				best = ns[s], st = (int)s;
		if (color && st != prev)
			fputs(st >= 0 ? cs_cell_color[st] : RESET, f);
		fputc(st >= 0 ? cs_cell_char[st] : ' ', f);
		prev = st;
	}
	fprintf(f, "%s|\n", color ? RESET : "");
}

static void row(FILE *f, const char *name, uint32_t nthreads, const uint64_t ns[CS_NACC],
		uint64_t total, uint64_t dur)
{
	char r[32], q[32], b[32], u[32];

	cs_fmt_ns(r, sizeof(r), ns[CS_ST_RUNNING]);
	cs_fmt_ns(q, sizeof(q), ns[CS_ST_READY]);
	cs_fmt_ns(b, sizeof(b), ns[CS_ST_SLEEP] + ns[CS_ST_IO] + ns[CS_ST_LOCK]);
	cs_fmt_ns(u, sizeof(u), ns[CS_ST_UNTRACED]);
	fprintf(f, "  %-16.16s %4u %9s %9s %9s %9s %6.1f%%\n", name, nthreads, r, q, b, u,
		dur ? 100.0 * (double)total / (double)dur : 0);
}

/* "label: item 1.2ms, item 300us ..." within the width. */
static void detail(FILE *f, const char *label, const struct tally *t, size_t n,
		   unsigned int width)
{
	char line[1024], ns[32];
	size_t len, i;

	if (!n)
		return;
	len = (size_t)snprintf(line, sizeof(line), "  %s:", label);
	for (i = 0; i < n; i++) {
		char item[160];
		size_t k;

		cs_fmt_ns(ns, sizeof(ns), t[i].ns);
		k = (size_t)snprintf(item, sizeof(item), "%s %s %s", i ? "," : "", t[i].key, ns);
		if (len + k + 4 > width || len + k >= sizeof(line)) {
			memcpy(line + len, " ...", 5);
			len += 4;
			break;
		}
		memcpy(line + len, item, k + 1);
		len += k;
	}
	fprintf(f, "%s\n", line);
}

static void table(FILE *f, const struct sums *m, const struct cs_cp_path *p, bool color)
{
	uint64_t dur = p->end - p->start, rest[CS_NACC] = { 0 }, rest_total = 0;
	uint32_t rest_threads = 0, all_threads = 0;
	size_t i, s;

	fprintf(f, "%s  %-16s %4s %9s %9s %9s %9s %7s%s\n", color ? BOLD : "", "PROGRAM", "THR",
		"RUNNING", "READY", "BLOCKED", "UNTRACED", "SHARE", color ? RESET : "");
	for (i = 0; i < m->nprogs; i++) {
		const struct program *g = &m->progs[i];

		all_threads += g->nthreads;
		if (i < MAX_PROGRAMS) {
			row(f, g->comm, g->nthreads, g->ns, g->total, dur);
			continue;
		}
		for (s = 0; s < CS_NACC; s++)
			rest[s] += g->ns[s];
		rest_total += g->total;
		rest_threads += g->nthreads;
	}
	if (m->nprogs > MAX_PROGRAMS) {
		char name[32];

		snprintf(name, sizeof(name), "(%zu more)", m->nprogs - MAX_PROGRAMS);
		row(f, name, rest_threads, rest, rest_total, dur);
	}
	row(f, "total", all_threads, m->ns, dur, dur);
}

/* Time the walk could not place, and why. */
static void untraced_line(FILE *f, const struct cs_cp_path *p, const struct sums *m)
{
	char a[32];

	if (p->dropped || p->refused) {
		fprintf(f, "  over the memory cap (%zu MiB): %llu intervals dropped, %llu not kept; "
			"the path's start is untraced\n", p->cap_bytes >> 20,
			(unsigned long long)p->dropped, (unsigned long long)p->refused);
	}
	if (!m->ns[CS_ST_UNTRACED])
		return;
	cs_fmt_ns(a, sizeof(a), m->ns[CS_ST_UNTRACED]);
	fprintf(f, "  untraced: %s (chain breaks, time not seen or not kept)\n", a);
}

void cs_critpath_show(FILE *f, const struct cs_core *c, bool is_run, unsigned int width,
		      bool color)
{
	const struct cs_cp_path *p = cs_critpath_get(c, is_run);
	struct cs_critpath *cp = cs_critpath_of(c);
	struct tally *t;
	char dur[32];
	struct sums m;
	size_t n;

	if (!p) {
		if (cp && cs_critpath_cfg(cp)->tid)
			fprintf(f, "\ncritical path: thread %u was not traced in the window\n",
				cs_critpath_cfg(cp)->tid);
		return;
	}
	t = calloc(p->nsegs ? p->nsegs : 1, sizeof(*t));
	if (!t || sums_build(&m, c, p)) {
		fprintf(f, "\ncritical path: out of memory\n");
		free(t);
		return;
	}
	cs_fmt_ns(dur, sizeof(dur), p->end - p->start);
	fprintf(f, "\n%scritical path%s of %s/%u: %s, from its end back to the start "
		"(%llu wake-up%s followed, %zu stretch%s)\n", color ? BOLD : "",
		color ? RESET : "", comm_of(c, p->tid), p->tid, dur, (unsigned long long)p->jumps,
		p->jumps == 1 ? "" : "s", p->nsegs, p->nsegs == 1 ? "" : "es");
	if (cs_core_stats(c)->lost_events)
		fprintf(f, "  partial: events were lost, and with them wake-ups the walk may miss\n");
	strip(f, p, (width < 80 ? 80 : width) - LABEL_W - 4, color);
	table(f, &m, p, color);
	n = causes(c, p, true, t);
	detail(f, "blocked in", t, n, width);
	n = causes(c, p, false, t);
	detail(f, "ready, the CPU held by", t, n, width);
	untraced_line(f, p, &m);
	sums_free(&m);
	free(t);
}

/* ---- --json ---- */

static void seg_json(struct cs_jsonw *w, const struct cs_core *c, const struct cs_cp_seg *s)
{
	char what[96], by[64];
	const char *wb = cs_cp_woken_by(c, s, by, sizeof(by));

	cs_json_obj_begin(w);
	cs_json_ku64(w, "tid", s->tid);
	cs_json_ku64(w, "pid", s->pid);
	cs_json_kstr(w, "comm", comm_of(c, s->tid));
	cs_json_kstr(w, "state", cs_state_name((enum cs_tstate)s->state));
	cs_json_kstr(w, "what", cs_cp_what(c, s, what, sizeof(what)));
	if (wb) { /* a wait the walk stayed on: who ended it (an interrupt: tid 0) */
		cs_json_kstr(w, "woken_by", wb);
		cs_json_ku64(w, "waker_tid", s->flags & CS_CPF_IRQ ? 0 : s->who);
	}
	cs_json_ku64(w, "start_ns", s->start);
	cs_json_ku64(w, "dur_ns", s->dur);
	cs_json_obj_end(w);
}

/* A wait the path explains: whose, in what, from when to the wake-up, and whose. */
static void wait_json(struct cs_jsonw *w, const struct cs_core *c, const struct cs_cp_seg *s)
{
	char what[96];

	cs_json_obj_begin(w);
	cs_json_ku64(w, "tid", s->tid);
	cs_json_kstr(w, "comm", comm_of(c, s->tid));
	cs_json_kstr(w, "state", cs_state_name((enum cs_tstate)s->state));
	cs_json_kstr(w, "what", cs_cp_what(c, s, what, sizeof(what)));
	cs_json_ku64(w, "start_ns", s->start);
	cs_json_ku64(w, "dur_ns", s->dur);
	cs_json_ku64(w, "waker_tid", s->who);
	cs_json_kstr(w, "waker_comm", comm_of(c, s->who));
	cs_json_obj_end(w);
}

static void programs_json(struct cs_jsonw *w, const struct sums *m)
{
	size_t i;

	cs_json_key(w, "by_program");
	cs_json_arr_begin(w);
	for (i = 0; i < m->nprogs; i++) {
		const struct program *g = &m->progs[i];

		cs_json_obj_begin(w);
		cs_json_kstr(w, "comm", g->comm);
		cs_json_ku64(w, "threads", g->nthreads);
		cs_json_ku64(w, "running_ns", g->ns[CS_ST_RUNNING]);
		cs_json_ku64(w, "ready_ns", g->ns[CS_ST_READY]);
		cs_json_ku64(w, "blocked_ns", g->ns[CS_ST_SLEEP] + g->ns[CS_ST_IO] + g->ns[CS_ST_LOCK]);
		cs_json_ku64(w, "untraced_ns", g->ns[CS_ST_UNTRACED]);
		cs_json_obj_end(w);
	}
	cs_json_arr_end(w);
}

static void states_json(struct cs_jsonw *w, const uint64_t ns[CS_NACC])
{
	cs_json_key(w, "by_state");
	cs_json_obj_begin(w);
	cs_json_state_ns(w, ns);
	cs_json_obj_end(w);
}

/*
 * The JSON keeps a bounded number of a path's segments and waits (a second of
 * a ping-pong is 130,000 segments, 20 MB of JSON): the longest, in time order,
 * with how many and how long the rest were. The Perfetto track has them all.
 */
#define CP_JSON_SEGS 4096
#define CP_JSON_WAITS 1024

static int cmp_u64_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The shortest duration kept of n segments when at most max are (0: all are). */
static uint64_t keep_from(const struct cs_cp_seg *v, size_t n, size_t max)
{
	uint64_t *d, at;
	size_t i;

	if (n <= max || !(d = malloc(n * sizeof(*d))))
		return 0;
	for (i = 0; i < n; i++)
		d[i] = v[i].dur;
	qsort(d, n, sizeof(*d), cmp_u64_desc);
	at = d[max - 1];
	free(d);
	return at;
}

/* key: the segments of v kept (at most max, the longest), then key_left_out. */
static void segs_json(struct cs_jsonw *w, const struct cs_core *c, const char *key,
		      const struct cs_cp_seg *v, size_t n, size_t max,
		      void (*one)(struct cs_jsonw *, const struct cs_core *,
				  const struct cs_cp_seg *))
{
	uint64_t at = keep_from(v, n, max), left_ns = 0;
	size_t i, kept = 0, ties = 0;
	char k[48];

	/* equal durations at the cut: the first ones in time order */
	for (i = 0; at && i < n; i++)
		ties += v[i].dur > at;
	ties = at ? max - ties : 0;
	cs_json_key(w, key);
	cs_json_arr_begin(w);
	for (i = 0; i < n; i++) {
		bool keep = !at || v[i].dur > at || (v[i].dur == at && ties && ties--);

		if (keep) {
			one(w, c, &v[i]);
			kept++;
		} else {
			left_ns += v[i].dur;
		}
	}
	cs_json_arr_end(w);
	snprintf(k, sizeof(k), "%s_left_out", key);
	cs_json_key(w, k);
	cs_json_obj_begin(w);
	cs_json_ku64(w, "count", n - kept);
	cs_json_ku64(w, "ns", left_ns);
	cs_json_obj_end(w);
}

void cs_critpath_json(struct cs_jsonw *w, const struct cs_core *c, bool is_run)
{
	const struct cs_cp_path *p = cs_critpath_get(c, is_run);
	struct sums m;

	if (!p || sums_build(&m, c, p))
		return;
	cs_json_key(w, "critical_path");
	cs_json_obj_begin(w);
	cs_json_ku64(w, "tid", p->tid);
	cs_json_kstr(w, "comm", comm_of(c, p->tid));
	cs_json_ku64(w, "start_ns", p->start);
	cs_json_ku64(w, "end_ns", p->end);
	cs_json_ku64(w, "duration_ns", p->end - p->start);
	cs_json_ku64(w, "wakeups_followed", p->jumps);
	cs_json_ku64(w, "intervals_kept", p->kept);
	cs_json_ku64(w, "intervals_dropped", p->dropped);
	cs_json_ku64(w, "intervals_not_kept", p->refused);
	cs_json_ku64(w, "memory_cap_bytes", p->cap_bytes);
	states_json(w, m.ns);
	programs_json(w, &m);
	segs_json(w, c, "segments", p->segs, p->nsegs, CP_JSON_SEGS, seg_json);
	segs_json(w, c, "waits", p->waits, p->nwaits, CP_JSON_WAITS, wait_json);
	cs_json_obj_end(w);
	sums_free(&m);
}

/* ---- the Perfetto trace ---- */

int cs_critpath_trace(struct cs_pf_writer *pf, const struct cs_core *c, bool is_run)
{
	const struct cs_cp_path *p = cs_critpath_get(c, is_run);
	char what[96], by[64], name[128];
	size_t i;
	int ret;

	if (!p || !p->nsegs)
		return 0;
	ret = cs_pf_track(pf, CS_PF_UUID_CRITPATH, "concscope critical path");
	for (i = 0; i < p->nsegs && !ret; i++) {
		const struct cs_cp_seg *s = &p->segs[i];
		const char *wt = cs_cp_what(c, s, what, sizeof(what));
		const char *wb = cs_cp_woken_by(c, s, by, sizeof(by));
		struct cs_pf_arg args[4] = {
			{ "tid", NULL, s->tid },
			{ "state", cs_state_name((enum cs_tstate)s->state), 0 },
			{ "what", wt, 0 },
			{ "woken_by", wb, 0 },
		};

		snprintf(name, sizeof(name), "%s %u %s%s%s", comm_of(c, s->tid), s->tid,
			 cs_state_name((enum cs_tstate)s->state), *wt ? ": " : "", wt);
		ret = cs_pf_slice(pf, CS_PF_UUID_CRITPATH, s->start, s->dur, name, args,
				  wb ? 4 : 3);
	}
	return ret;
}
