// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "session.h"
#include "outfile.h"
#include "procfs.h"
#include "reorder.h"
#include "python.h"
#include "symbols.h"
#include "frames.h"
#include "hashmap.h"
#include "unwind.h"
#include "taskinfo.h"

#define POLL_MS 50 /* the tracer never wakes us: drain this often */
/*
 * ... and look up from the ring at least this often: at the clock (-d), the
 * child, signals and the tasks' /proc facts, which are read 40 ms after a
 * fork and miss a thread whose life ends before the reader looks.
 */
#define SLICE_MS 20
#define CLOSE_AHEAD_NS 2000000ull /* a window user space closes ends this far ahead */

/* Who runs on a CPU, as the ordered stream says (for the next segment's core). */
struct chain {
	uint32_t tid, pid;
	uint64_t since;
	bool known;
};

struct cs_session {
	struct cs_session_opts o;
	struct cs_tracer *tr;
	struct cs_reorder ro;
	struct cs_core *core;     /* the core being fed, or NULL */
	uint32_t root;            /* tgid whose exec opens and exit closes the window */
	bool window_open, window_closed, root_gone;
	uint64_t records;
	uint64_t last_out;        /* timestamp of the last record fed out */
	uint64_t *lost_seen;      /* per CPU: its losses so far that the stream has */
	uint64_t lost_total;      /* for the progress line */
	uint64_t skipped_seen;
	int sink_err;
	uint64_t started;
	uint64_t last_progress;
	struct cs_symcache *syms;
	struct cs_taskinfo *ti;   /* titles, scheduling: read from /proc while tasks live */
	struct cs_hmap named;     /* what was named: (addr, what << 32 | pid), first_sight */
	uint64_t window_end;      /* the window's end, as the BPF side clipped its totals,
				     once known (attach -d: from the start) */
	struct chain *chain;      /* per CPU */
	unsigned int ncpus;
	struct cs_py_gil { uint32_t pid; uint64_t lo, hi; } *gils; /* CPython processes seen */
	size_t ngils;
	/* the machine's counters when the segment began (steal, the root's cgroup) */
	bool have_steal, have_throttle;
	uint64_t steal0, throttled0, periods0;
	struct cs_unwind *uw;     /* --stacks: the unwind tables' worker */
	struct cs_frames *frames; /* --stacks: the addresses to name at the end */
};

/*
 * --stacks, on the drain path: a process's tables are asked for when it
 * execs and again when a stack stops at an address no table covers (a
 * library loaded since); a new stack's addresses are noted for naming.
 */
static void stacks_on_record(struct cs_session *s, const struct cs_hdr *ev)
{
	if (ev->kind == CS_EV_EXEC ||
	    (ev->kind == CS_EV_STACK && (ev->flags & CS_STF_NO_TABLE)))
		cs_unwind_want(s->uw, ev->pid);
	else if (ev->kind == CS_EV_STACK_DEF)
		cs_frames_note(s->frames, (const struct cs_stack_def *)ev);
}

/* What first_sight tells apart, with the address (or id) and the pid. */
enum sight { SIGHT_WAKE_SOURCE = 1, SIGHT_KERNEL_LOCK, SIGHT_USER_LOCK };

/* Remember (what, pid, addr); true when it was new. */
static bool first_sight(struct cs_session *s, enum sight what, uint32_t pid, uint64_t addr)
{
	return cs_hmap_add(&s->named, addr, (uint64_t)what << 32 | pid, 0) == 1;
}

/* A lock's name into the stream, stamped like the record it came with. */
static void push_name(struct cs_session *s, const struct cs_hdr *ev, unsigned int space,
		      uint64_t addr, const char *name)
{
	struct cs_lock_name n;

	memset(&n, 0, sizeof(n));
	n.h.ts = ev->ts;
	n.h.size = sizeof(n);
	n.h.kind = CS_EV_LOCK_NAME;
	n.h.aux = (uint16_t)space;
	n.h.cpu = ev->cpu;
	n.h.tid = ev->tid;
	n.h.pid = ev->pid;
	n.addr = addr;
	snprintf(n.name, sizeof(n.name), "%s", name);
	cs_reorder_push(&s->ro, &n.h);
}

static bool in_gil(const struct cs_session *s, uint32_t pid, uint64_t addr)
{
	size_t i;

	for (i = 0; i < s->ngils; i++)
		if (s->gils[i].pid == pid && addr >= s->gils[i].lo && addr < s->gils[i].hi)
			return true;
	return false;
}

/* A mark into the stream, stamped ts. */
static void push_mark(struct cs_session *s, uint64_t ts, unsigned int kind, uint32_t pid,
		      int64_t value, const char *text)
{
	struct cs_mark m;

	cs_mark_init(&m, ts, kind, pid, value, text);
	cs_reorder_push(&s->ro, &m.h);
}

/* A tracer fact into the stream now (the core keeps the last value of each). */
static void push_fact(struct cs_session *s, uint32_t pid, const char *name, int64_t value)
{
	push_mark(s, cs_now_boot(), CS_MARK_TRACER, pid, value, name);
}

/*
 * A CPython process: its GIL's waits are lock contention. The BPF side is
 * told (its totals count them as lock), and the stream too, from now on.
 * With --stacks, the BPF side reads its threads' Python frames; a CPython
 * of another version is said to be one whose frames are not read.
 */
static void find_python(struct cs_session *s, uint32_t pid)
{
	struct cs_lock_class r;
	struct cs_py_proc py;
	uint64_t lo, hi;
	void *p;

	if (cs_py_inspect(s->syms, (pid_t)pid, &py) || !py.python)
		return;
	if (!py.supported) {
		push_fact(s, pid, "python_unsupported", (int64_t)py.version);
		push_fact(s, pid, "python_unsupported_pid", pid);
		push_fact(s, pid, "python_layout", cs_py_layout_version());
		return;
	}
	/* CS_PY_FRAMES=0: native stacks only (the benchmark's baseline for their cost) */
	if (s->uw && !(getenv("CS_PY_FRAMES") && !strcmp(getenv("CS_PY_FRAMES"), "0")) &&
	    !cs_tracer_py_set_proc(s->tr, pid, cs_py_interp_ptr(&py)))
		push_fact(s, pid, "python_frames", (int64_t)py.version);
	if (s->o.tracer.no_locks)
		return;
	cs_py_gil_range(&py, &lo, &hi);
	p = realloc(s->gils, (s->ngils + 1) * sizeof(*s->gils));
	if (!p)
		return;
	s->gils = p;
	s->gils[s->ngils++] = (struct cs_py_gil){ pid, lo, hi };
	cs_tracer_set_contended_range(s->tr, pid, lo, hi);
	memset(&r, 0, sizeof(r));
	r.h.ts = cs_now_boot();
	r.h.size = sizeof(r);
	r.h.kind = CS_EV_LOCK_CLASS;
	r.h.aux = CS_LC_GIL;
	r.h.tid = r.h.pid = pid;
	r.lo = lo;
	r.hi = hi;
	cs_reorder_push(&s->ro, &r.h);
	push_name(s, &r.h, CS_SPACE_USER, lo, "CPython GIL");
}

/*
 * Name an interrupt wake-up's source the first time it is seen: its kernel
 * stack (kept by the BPF side) says what woke the thread.
 */
static void name_wake_source(struct cs_session *s, const struct cs_waking *w)
{
	struct cs_wake_source n;
	uint64_t ips[CS_WAKE_STACK];
	int nips;

	if (!w->source || !first_sight(s, SIGHT_WAKE_SOURCE, 0, w->source))
		return;
	memset(&n, 0, sizeof(n));
	nips = cs_tracer_wake_stack(s->tr, w->source - 1, ips, CS_WAKE_STACK);
	cs_sym_wake_source(s->syms, ips, nips > 0 ? (unsigned int)nips : 0, w->h.flags,
			   n.name, sizeof(n.name));
	n.h.ts = w->h.ts;
	n.h.size = sizeof(n);
	n.h.kind = CS_EV_WAKE_SOURCE;
	n.h.cpu = w->h.cpu;
	n.id = w->source;
	cs_reorder_push(&s->ro, &n.h);
}

/*
 * Name a lock the first time it is waited on, while its process is alive
 * (a user address needs its /proc/PID/maps); the name joins the stream.
 */
static void name_lock(struct cs_session *s, const struct cs_hdr *ev)
{
	char name[CS_LOCK_NAME_LEN] = "";
	unsigned int space;
	uint64_t addr;

	if (ev->kind == CS_EV_LOCK_BEGIN) {
		const struct cs_lock *l = (const struct cs_lock *)ev;

		if (!first_sight(s, SIGHT_KERNEL_LOCK, 0, l->addr))
			return;
		space = CS_SPACE_KERNEL; /* only for a lock seen the first time */
		addr = l->addr;
		cs_sym_kernel_lock(s->syms, (const uint64_t *)l->stack, l->nstack < CS_LOCK_STACK ? l->nstack : CS_LOCK_STACK,
				   l->h.flags & CS_LKF_MMAP_LOCK, name, sizeof(name));
	} else {
		const struct cs_futex *f = (const struct cs_futex *)ev;

		if (!cs_futex_is_wait(f->h.aux, f->op) ||
		    !first_sight(s, SIGHT_USER_LOCK, f->h.pid, f->uaddr))
			return;
		space = CS_SPACE_USER;
		addr = f->uaddr;
		if (in_gil(s, f->h.pid, f->uaddr))
			snprintf(name, sizeof(name), "CPython GIL");
		else /* a join waits on the joined thread's tid, in that thread's descriptor */
			cs_sym_user(s->syms, (pid_t)f->h.pid, f->uaddr,
				    cs_taskinfo_knows(s->ti, f->val, f->h.pid) ? f->val : 0, name,
				    sizeof(name));
	}
	push_name(s, ev, space, addr, name);
}

static volatile sig_atomic_t got_signal;
static int user_nice = 0x7fff; /* the nice value before concscope raised its own */

/*
 * The consumer must keep up with busy threads on few CPUs, real-time ones
 * included: at the same priority it was starved and the ring buffer
 * overflowed (measured: 41% lost at 16 ping-pong pairs on 2 CPUs, 0% at
 * nice -10), and under SCHED_FIFO threads no nice value helps (stress-ng's
 * mutex stressor: 83% lost at nice -10). So it runs SCHED_FIFO at
 * CS_READER_PRIO, above common real-time loads and below the kernel's own
 * threads, with SCHED_RESET_ON_FORK so that what it starts runs as the
 * user's ordinary tasks; where that is refused, at nice -10. Children get
 * the user's nice value back before they exec.
 */
#define CS_READER_PRIO 50

static void raise_priority(void)
{
	struct sched_param sp = { .sched_priority = CS_READER_PRIO };
	const char *how = getenv("CONCSCOPE_READER"); /* "nice": the benchmark's comparison */

	errno = 0;
	user_nice = getpriority(PRIO_PROCESS, 0);
	if (errno)
		user_nice = 0x7fff;
	if ((!how || strcmp(how, "nice")) &&
	    !sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp))
		return;
	if (user_nice != 0x7fff && user_nice > -10 && setpriority(PRIO_PROCESS, 0, -10))
		user_nice = 0x7fff; /* not allowed: stay as we are */
}

void cs_restore_priority(void)
{
	struct sched_param sp = { 0 };

	/* a child forked without SCHED_RESET_ON_FORK's help (not FIFO) */
	if (sched_getscheduler(0) != SCHED_OTHER)
		sched_setscheduler(0, SCHED_OTHER, &sp);
	if (user_nice != 0x7fff)
		(void)!setpriority(PRIO_PROCESS, 0, user_nice);
}

static volatile sig_atomic_t signal_from_user; /* kill(), not the terminal */

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	got_signal = sig;
	signal_from_user = si && si->si_code <= 0; /* SI_USER, SI_QUEUE, ... */
}

/* Install the signal handlers (done by open). */
static void cs_session_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: poll returns on a signal */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool cs_session_interrupted(void)
{
	return got_signal != 0;
}

int cs_session_signal(void)
{
	return got_signal;
}

/* Follow each CPU's chain of switches, as the core of the next segment will need it. */
static void follow_chain(struct cs_session *s, const struct cs_hdr *ev)
{
	struct chain *ch;

	if (ev->cpu >= s->ncpus)
		return;
	ch = &s->chain[ev->cpu];
	if (ev->kind == CS_EV_SWITCH) {
		const struct cs_switch *e = (const struct cs_switch *)ev;

		*ch = (struct chain){ e->next_tid, e->next_pid, ev->ts, true };
	} else if (ev->kind == CS_EV_LOST) {
		ch->known = false;
	}
}

static void feed_out(struct cs_session *s, const struct cs_hdr *ev)
{
	s->records++;
	if (ev->ts > s->last_out)
		s->last_out = ev->ts;
	follow_chain(s, ev);
	if (s->core)
		cs_core_feed(s->core, ev);
	if (s->o.sink.feed && !s->sink_err) {
		int ret = s->o.sink.feed(s->o.sink.ctx, ev);

		if (ret)
			s->sink_err = ret;
	}
}

/* A mark fed straight out, stamped no earlier than what went before it. */
static void feed_mark(struct cs_session *s, uint64_t ts, unsigned int kind, uint32_t pid,
		      int64_t value, const char *text)
{
	struct cs_mark m;

	cs_mark_init(&m, ts > s->last_out ? ts : s->last_out, kind, pid, value, text);
	feed_out(s, &m.h);
}

/*
 * Ordered records arrive here. The root's exec opens the window and its
 * exit closes it; those marks go into the stream itself, so a saved trace
 * replays the same window.
 */
static void on_ordered(const struct cs_hdr *ev, void *ctx)
{
	struct cs_session *s = ctx;
	struct cs_mark m;

	if (s->core && s->root && !s->window_open && ev->kind == CS_EV_EXEC &&
	    ev->pid == s->root) {
		cs_mark_init(&m, ev->ts, CS_MARK_WINDOW_BEGIN, s->root, 0, NULL);
		feed_out(s, &m.h);
		s->window_open = true;
	}
	feed_out(s, ev);
	if (s->core && s->root && ev->kind == CS_EV_EXIT && ev->pid == s->root &&
	    (ev->flags & CS_EXF_GROUP_DEAD)) {
		s->root_gone = true;
		if (s->window_open && !s->window_closed) {
			cs_mark_init(&m, ev->ts, CS_MARK_WINDOW_END, s->root, 0, NULL);
			feed_out(s, &m.h);
			s->window_closed = true;
		}
	}
}

static bool ring_lost(struct cs_session *s, struct cs_lost *l);
static void on_record(const struct cs_hdr *ev, void *ctx)
{
	struct cs_session *s = ctx;

	/*
	 * The window's end goes into the stream before the first record after
	 * it: a reader that lags behind the ring may have let such records
	 * out of the reorder window before it learns that the time is up.
	 */
	if (s->window_end && s->window_open && !s->window_closed && ev->ts > s->window_end) {
		push_mark(s, s->window_end, CS_MARK_WINDOW_END, s->root, 0, NULL);
		s->window_closed = true;
	}
	if (s->uw)
		stacks_on_record(s, ev);
	if (s->o.dump && fwrite(ev, ev->size, 1, s->o.dump) != 1) {
		fprintf(stderr, "concscope: writing the raw dump failed; it stops here\n");
		s->o.dump = NULL;
	}
	if (ev->kind == CS_EV_LOST) {
		struct cs_lost l = *(const struct cs_lost *)ev;

		if (ring_lost(s, &l))
			cs_reorder_push(&s->ro, &l.h);
		return;
	}
	if (ev->kind == CS_EV_FORK || ev->kind == CS_EV_EXEC || ev->kind == CS_EV_EXIT)
		cs_taskinfo_note(s->ti, ev);
	if (ev->kind == CS_EV_LOCK_BEGIN || ev->kind == CS_EV_FUTEX_ENTER) {
		name_lock(s, ev);
	} else if (ev->kind == CS_EV_EXEC && (!s->o.tracer.no_locks || s->uw)) {
		cs_sym_remember(s->syms, (pid_t)ev->pid); /* while it is surely alive */
		find_python(s, ev->pid);
	} else if (ev->kind == CS_EV_WAKING) {
		name_wake_source(s, (const struct cs_waking *)ev);
	}
	cs_reorder_push(&s->ro, ev);
}

void cs_session_mark(struct cs_session *s, unsigned int kind, int64_t value,
		     const char *text)
{
	push_mark(s, cs_now_boot(), kind, 0, value, text);
}

int cs_session_open(struct cs_session **out, const struct cs_session_opts *o,
		    char *err, size_t errlen)
{
	struct cs_session *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->o = *o;
	cs_session_signals();
	raise_priority();
	s->syms = cs_symcache_new();
	s->ti = cs_taskinfo_new();
	if (!s->syms || !s->ti) {
		cs_symcache_free(&s->syms);
		cs_taskinfo_free(&s->ti);
		free(s);
		return -ENOMEM;
	}
	ret = cs_reorder_init(&s->ro, CS_REORDER_CAP, CS_REORDER_WINDOW_NS, on_ordered, s);
	if (ret)
		goto fail;
	ret = cs_tracer_open(&s->tr, &o->tracer, on_record, s, err, errlen);
	if (ret)
		goto fail;
	s->ncpus = cs_tracer_ncpus(s->tr);
	if (o->tracer.stacks) {
		s->uw = cs_unwind_new(s->tr);
		s->frames = cs_frames_new();
		if (!s->uw || !s->frames) {
			ret = -ENOMEM;
			goto fail;
		}
	}
	s->lost_seen = calloc(s->ncpus, sizeof(*s->lost_seen));
	s->chain = calloc(s->ncpus, sizeof(*s->chain));
	/* kernel symbols now, before attaching: nothing slow on the drain path */
	cs_sym_kernel(s->syms, 0, NULL);
	if (!s->lost_seen || !s->chain) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = cs_tracer_attach(s->tr, err, errlen);
	if (ret)
		goto fail;
	if (o->tracer.verbose)
		cs_tracer_print_ids(s->tr, stderr);
	*out = s;
	return 0;
fail:
	cs_unwind_free(&s->uw);
	cs_frames_free(&s->frames);
	cs_tracer_close(&s->tr);
	cs_reorder_free(&s->ro);
	cs_symcache_free(&s->syms);
	cs_taskinfo_free(&s->ti);
	free(s->lost_seen);
	free(s->chain);
	free(s);
	return ret;
}

static void push_lost(struct cs_session *s, uint16_t cpu, uint64_t count, uint64_t ts,
		      uint64_t first, uint64_t upto)
{
	struct cs_lost l;

	memset(&l, 0, sizeof(l));
	l.h.ts = ts;
	l.h.size = sizeof(l);
	l.h.kind = CS_EV_LOST;
	l.h.cpu = cpu;
	l.count = count;
	l.first_ts = first;
	l.upto = upto;
	cs_reorder_push(&s->ro, &l.h);
}

/*
 * Losses into the stream. A CPU's own come through the ring, right after
 * its gap (the BPF side writes them with its next record); at a segment's
 * end (final) what the ring has not said yet is said here. Program runs the
 * kernel skipped and records that failed validation are lost too, never
 * silently (cpu 0xffff).
 */
static void check_lost(struct cs_session *s, bool final)
{
	unsigned int i, n = s->ncpus;
	struct cs_loss per_cpu[n > 0 ? n : 1];
	uint64_t skipped = 0, now = cs_now_boot();

	s->lost_total = cs_tracer_lost(s->tr, per_cpu, n, &skipped);
	/* records that failed validation are lost too, never silently */
	skipped += cs_tracer_bad_records(s->tr);
	s->lost_total += cs_tracer_bad_records(s->tr);
	if (skipped > s->skipped_seen) {
		push_lost(s, 0xffff, skipped - s->skipped_seen, now, 0, 0);
		s->skipped_seen = skipped;
	}
	for (i = 0; final && i < n; i++) {
		uint64_t said = per_cpu[i].in_ring > s->lost_seen[i] ? per_cpu[i].in_ring :
								      s->lost_seen[i];

		if (per_cpu[i].count <= said)
			continue;
		push_lost(s, (uint16_t)i, per_cpu[i].count - said,
			  per_cpu[i].last_ts ? per_cpu[i].last_ts : now, per_cpu[i].first_ts,
			  per_cpu[i].count);
		s->lost_seen[i] = per_cpu[i].count;
	}
}

/* A LOST record from the ring: only what was not said already (by check_lost). */
static bool ring_lost(struct cs_session *s, struct cs_lost *l)
{
	uint64_t from;

	if (l->h.cpu >= s->ncpus || !l->upto)
		return true;
	from = l->upto - l->count;
	if (s->lost_seen[l->h.cpu] > from)
		from = s->lost_seen[l->h.cpu];
	if (l->upto <= from)
		return false;
	l->count = l->upto - from;
	s->lost_seen[l->h.cpu] = l->upto;
	return true;
}

static void progress(struct cs_session *s, bool final)
{
	uint64_t now = cs_now_boot();
	uint64_t lost = 0;

	if (!s->o.progress)
		return;
	if (final) {
		fprintf(stderr, "\r\033[K");
		return;
	}
	if (now - s->last_progress < 1000000000ull)
		return;
	s->last_progress = now;
	lost = s->lost_total;
	fprintf(stderr, "\r\033[Kconcscope: %.1fs  %llu events  %llu lost  (Ctrl-C to stop)",
		(double)(now - s->started) / 1e9, (unsigned long long)s->records,
		(unsigned long long)lost);
}

/* A thread's totals as the BPF side kept them, into the stream. */
static void push_totals(const struct cs_kthread *k, bool exited, void *ctx)
{
	struct cs_session *s = ctx;
	struct cs_thread_totals r;

	memset(&r, 0, sizeof(r));
	/* an exited thread's at its death, a live one's at the window's end */
	r.h.ts = exited ? CS_KW_SINCE(k->word) : s->window_end;
	if (r.h.ts < s->last_out)
		r.h.ts = s->last_out;
	r.h.size = sizeof(r);
	r.h.kind = CS_EV_THREAD_TOTALS;
	r.h.flags = (exited ? CS_TTF_EXITED : 0) | (k->flags & CS_KTF_CPU_BASE ? CS_TTF_FIGURES : 0);
	r.h.aux = (uint16_t)((k->flags >> 8) & 0xff);
	r.h.tid = k->tid;
	r.h.pid = k->pid;
	r.word = k->word;
	memcpy(r.ns, k->ns, sizeof(r.ns));
	memcpy(r.blocked_ns, k->blocked_ns, sizeof(r.blocked_ns));
	if (k->flags & CS_KTF_CPU_BASE) {
		r.cpu_ns = k->cpu_last - k->cpu_base;
		r.run_delay_ns = k->rd_last - k->rd_base;
	}
	r.nvcsw = k->nvcsw;
	r.nivcsw = k->nivcsw;
	r.wakeups = k->wakeups;
	r.migrations = k->migrations;
	cs_reorder_push(&s->ro, &r.h);
}

static void push_record(const struct cs_hdr *ev, void *ctx)
{
	struct cs_session *s = ctx;

	cs_reorder_push(&s->ro, ev);
}

/*
 * What /proc says of the tasks now (final: of all still alive), stamped
 * with the newest record's time: a later stamp would put records still in
 * the ring behind the reorder window.
 */
static void read_tasks(struct cs_session *s, bool final)
{
	uint64_t ts = s->ro.newest > s->last_out ? s->ro.newest : s->last_out;

	cs_taskinfo_read(s->ti, cs_now_boot(), final, ts, push_record, s);
}

static int poll_once(struct cs_session *s, int timeout_ms)
{
	int ret = cs_tracer_poll_slice(s->tr, timeout_ms, SLICE_MS * 1000000ull);

	if (s->core) {
		cs_tracer_drain_exited(s->tr, push_totals, s);
		read_tasks(s, false);
	}
	check_lost(s, false);
	progress(s, false);
	return ret;
}

static void signal_ready(struct cs_session *s)
{
	if (s->o.ready_fd >= 0) {
		/* a reader that went away needs no answer */
		(void)!write(s->o.ready_fd, "ready\n", 6);
		close(s->o.ready_fd);
		s->o.ready_fd = -1;
	}
	if (s->o.tracer.verbose)
		fprintf(stderr, "concscope: tracing\n");
}

/* The CPUs' chains as the stream knows them, for a new core to go on from. */
static void feed_chains(struct cs_session *s, uint64_t ts)
{
	struct cs_cpu_state e;
	unsigned int i;

	for (i = 0; i < s->ncpus; i++) {
		if (!s->chain[i].known)
			continue;
		memset(&e, 0, sizeof(e));
		e.h.ts = ts;
		e.h.size = sizeof(e);
		e.h.kind = CS_EV_CPU_STATE;
		e.h.cpu = (uint16_t)i;
		e.h.tid = s->chain[i].tid;
		e.h.pid = s->chain[i].pid;
		e.since = s->chain[i].since;
		e.known = 1;
		feed_out(s, &e.h);
	}
}

/* The machine's counters as a segment begins (read off the drain path). */
static void system_begin(struct cs_session *s, uint32_t root)
{
	s->have_steal = !cs_sys_steal_ns(&s->steal0);
	s->have_throttle = !cs_cgroup_throttled(root ? (pid_t)root : getpid(), &s->throttled0,
						&s->periods0);
}

static int begin(struct cs_session *s, uint32_t root, char *err, size_t errlen)
{
	struct cs_core_cfg cfg = { .track_all = s->o.tracer.track_all,
				   .loop_threshold_ns = s->o.loop_threshold_ns,
				   .on_new = s->o.on_core, .on_new_arg = s->o.on_core_arg };
	uint64_t ts;

	/* what came before belongs to no core: push it out first */
	cs_tracer_poll(s->tr, 0);
	cs_reorder_flush(&s->ro);
	s->core = cs_core_new(&cfg);
	if (!s->core) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (s->o.sink.feed)
		cs_core_slices_to(s->core, &s->o.sink.slices);
	/* the BPF side's per-thread totals start over, with no window yet */
	cs_tracer_new_segment(s->tr);
	cs_taskinfo_reset(s->ti);
	cs_tracer_set_root(s->tr, root);
	ts = cs_now_boot();
	feed_mark(s, ts, CS_MARK_SEGMENT_BEGIN, root, 0, NULL);
	if (s->uw) /* the core sums stacks from here, every block included */
		feed_mark(s, ts, CS_MARK_TRACER, root, 1, "stacks");
	feed_chains(s, s->last_out);
	system_begin(s, root);
	s->root = root;
	s->window_open = s->window_closed = s->root_gone = false;
	s->window_end = 0;
	s->started = s->last_progress = cs_now_boot();
	return 0;
}

/*
 * Where the window ends. For run, the command's exit closed it in the
 * kernel (the BPF side clipped its totals there), and attach's duration
 * may have passed; otherwise (a window still open, or set to end later
 * than now: attach -d stopped early by a signal) it is closed now, a little
 * ahead, so that the BPF side clips its totals at that very instant: the
 * time is set before it comes, and passes before the totals are read.
 */
static uint64_t close_window(struct cs_session *s, uint64_t end_ts)
{
	uint64_t wb, we, now = cs_now_boot();
	struct timespec pause = { 0, 0 };

	cs_tracer_get_window(s->tr, &wb, &we);
	if (we && we <= now)
		return we;
	if (!end_ts || end_ts < now)
		end_ts = now + CLOSE_AHEAD_NS;
	cs_tracer_set_window(s->tr, wb, end_ts);
	while ((now = cs_now_boot()) <= end_ts + 100000) {
		pause.tv_nsec = (long)(end_ts + 100000 - now);
		nanosleep(&pause, NULL);
	}
	return end_ts;
}

/* How they moved over the segment, into the stream. */
static void system_facts(struct cs_session *s, uint64_t ts)
{
	uint64_t v, n;

	if (s->have_steal && !cs_sys_steal_ns(&v) && v >= s->steal0)
		feed_mark(s, ts, CS_MARK_SYSTEM, s->root, (int64_t)(v - s->steal0), "steal_ns");
	/* the root may be gone: its cgroup was ours, or one it moved to and left */
	if (s->have_throttle && (!cs_cgroup_throttled(s->root ? (pid_t)s->root : getpid(), &v, &n) ||
				 !cs_cgroup_throttled(getpid(), &v, &n)) && v >= s->throttled0) {
		feed_mark(s, ts, CS_MARK_SYSTEM, s->root, (int64_t)(v - s->throttled0),
			  "throttled_ns");
		feed_mark(s, ts, CS_MARK_SYSTEM, s->root, (int64_t)(n - s->periods0),
			  "throttled_periods");
	}
}

/* What the tracer's own limits and self-filtering were, into the stream. */
static void tracer_facts(struct cs_session *s)
{
	uint64_t ts = s->last_out;

	feed_mark(s, ts, CS_MARK_TRACER, s->root, getpid(), "pid");
	system_facts(s, ts);
	feed_mark(s, ts, CS_MARK_TRACER, s->root, (int64_t)cs_tracer_own_lock(s->tr), "own_lock");
	feed_mark(s, ts, CS_MARK_TRACER, s->root,
		  (int64_t)cs_tracer_stat(s->tr, CS_STAT_OWN_LOCK), "own_lock_waits");
	feed_mark(s, ts, CS_MARK_TRACER, s->root,
		  (int64_t)cs_tracer_stat(s->tr, CS_STAT_SLOT_TAKEN), "slots_taken");
	feed_mark(s, ts, CS_MARK_TRACER, s->root,
		  (int64_t)cs_tracer_stat(s->tr, CS_STAT_EXITED_FULL), "exited_queue_full");
}

static void feed_name(const struct cs_hdr *ev, void *ctx)
{
	feed_out(ctx, ev);
}

/* Drain everything, close the window, read the kernel side's totals, finish. */
static struct cs_core *end(struct cs_session *s, uint64_t end_ts)
{
	struct cs_core *c;

	s->window_end = close_window(s, end_ts);
	cs_tracer_poll(s->tr, 0);
	check_lost(s, true);
	if (s->window_open && !s->window_closed) {
		push_mark(s, s->window_end, CS_MARK_WINDOW_END, s->root, 0, NULL);
		s->window_closed = true;
	}
	cs_tracer_drain_exited(s->tr, push_totals, s);
	cs_tracer_read_live(s->tr, push_totals, s);
	read_tasks(s, true);
	cs_reorder_flush(&s->ro);
	if (s->uw) { /* after the recording: the stacks' frames get their names */
		cs_unwind_sync(s->uw);
		cs_frames_name(s->frames, s->uw, s->syms, s->last_out, feed_name, s);
	}
	tracer_facts(s);
	progress(s, true);
	c = s->core;
	if (s->window_end > s->last_out)
		end_ts = s->window_end;
	else
		end_ts = s->last_out;
	feed_mark(s, end_ts, CS_MARK_SEGMENT_END, s->root, (int64_t)end_ts, NULL);
	cs_core_finish(c, end_ts);
	s->core = NULL;
	s->root = 0;
	return c;
}

void cs_drop_to_invoker(void)
{
	const char *user = getenv("SUDO_USER");
	uid_t uid;
	gid_t gid;

	if (!cs_invoker_ids(&uid, &gid))
		return;
	if ((user && initgroups(user, gid)) || setgid(gid) || setuid(uid)) {
		perror("concscope: cannot drop privileges to the invoking user");
		_exit(126);
	}
}

static void child_exec(char *const argv[], int go, int errp, const sigset_t *old)
{
	char c;
	int e;

	/* default dispositions first, then let through what was held */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, old, NULL);
	cs_restore_priority();
	if (read(go, &c, 1) != 1)
		_exit(126); /* concscope gave up before tracing started */
	close(go);
	cs_drop_to_invoker();
	execvp(argv[0], argv);
	e = errno;
	(void)!write(errp, &e, sizeof(e)); /* else the parent sees EOF and exit 127 */
	_exit(127);
}

static int start_child(pid_t *child, char *const argv[], int *go_w, int *errp_r,
		       char *err, size_t errlen)
{
	int go[2], errp[2], e;
	sigset_t block, old;

	if (pipe2(go, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -errno;
	}
	/* a signal before the child resets its handlers must not be lost */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	*child = fork();
	if (*child == 0) {
		close(go[1]);
		close(errp[0]);
		child_exec(argv, go[0], errp[1], &old);
	}
	e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (*child < 0) {
		snprintf(err, errlen, "fork: %s", strerror(e));
		return -e;
	}
	close(go[0]);
	close(errp[1]);
	*go_w = go[1];
	*errp_r = errp[0];
	return 0;
}

static int release_child(int go_w, int errp_r, const char *cmd, char *err, size_t errlen)
{
	int e = 0;
	ssize_t n;

	if (write(go_w, "x", 1) != 1) {
		snprintf(err, errlen, "cannot release '%s': %s", cmd, strerror(errno));
		close(go_w);
		close(errp_r);
		return -EIO;
	}
	close(go_w);
	n = read(errp_r, &e, sizeof(e));
	close(errp_r);
	if (n == sizeof(e)) {
		snprintf(err, errlen, "cannot run '%s': %s", cmd, strerror(e));
		return -e;
	}
	return 0;
}

/* Forward a signal from kill() to the command; the terminal sends its own. */
static void forward_signal(pid_t child)
{
	if (signal_from_user)
		kill(child, got_signal);
}

/* The command, for a saved trace: each argument in marks of up to 47 bytes. */
static void feed_args(struct cs_session *s, uint32_t pid, char *const argv[])
{
	int i;

	for (i = 0; argv[i]; i++) {
		size_t off = 0, len = strlen(argv[i]);

		do {
			char chunk[CS_MARK_TEXT];

			snprintf(chunk, sizeof(chunk), "%.*s", (int)(sizeof(chunk) - 1), argv[i] + off);
			feed_mark(s, 0, CS_MARK_ARG, pid, i, chunk);
			off += sizeof(chunk) - 1;
		} while (off < len);
	}
}

int cs_session_run(struct cs_session *s, char *const argv[], struct cs_core **core,
		   int *status, char *err, size_t errlen)
{
	uint64_t deadline = 0;
	int go_w = -1, errp_r = -1, ret, st = -1;
	pid_t child = -1;

	*core = NULL;
	*status = -1;
	if (got_signal) { /* interrupted before anything ran: an empty result */
		if (begin(s, 0, err, errlen))
			return -ENOMEM;
		feed_args(s, 0, argv); /* so that report names the command too */
		*core = end(s, cs_now_boot());
		return 0;
	}
	ret = start_child(&child, argv, &go_w, &errp_r, err, errlen);
	if (ret)
		return ret;
	ret = begin(s, (uint32_t)child, err, errlen);
	if (!ret)
		cs_taskinfo_command(s->ti, (uint32_t)child, argv, cs_now_boot());
	if (!ret)
		feed_args(s, (uint32_t)child, argv);
	if (!ret)
		ret = cs_tracer_track(s->tr, (uint32_t)child);
	if (ret) {
		close(go_w);
		close(errp_r);
		waitpid(child, NULL, 0);
		if (!*err)
			snprintf(err, errlen, "cannot track pid %d: %s", child, strerror(-ret));
		cs_core_free(&s->core);
		return ret;
	}
	push_mark(s, cs_now_boot(), CS_MARK_TRACK, (uint32_t)child, 0, NULL);
	signal_ready(s);
	cs_unwind_want(s->uw, (uint32_t)child); /* its libraries, as soon as it maps them */
	ret = release_child(go_w, errp_r, argv[0], err, errlen);
	if (ret) {
		waitpid(child, NULL, 0);
		*core = end(s, cs_now_boot());
		cs_core_free(core);
		return ret;
	}
	for (;;) {
		pid_t w = waitpid(child, &st, WNOHANG);

		if (w == child)
			break;
		if (got_signal && !deadline) {
			forward_signal(child);
			deadline = cs_now_boot() + s->o.signal_grace_ms * 1000000ull;
		}
		if (deadline && cs_now_boot() > deadline) {
			fprintf(stderr, "concscope: '%s' (pid %d) did not exit within %u ms of the signal; "
				"stopping the trace and leaving it running\n",
				argv[0], child, s->o.signal_grace_ms);
			st = -1;
			break;
		}
		poll_once(s, POLL_MS);
	}
	*status = st;
	if (st != -1)
		push_mark(s, cs_now_boot(), CS_MARK_CMD_EXIT, (uint32_t)child, st, NULL);
	push_mark(s, cs_now_boot(), CS_MARK_END, (uint32_t)child,
		  st != -1 ? CS_END_EXITED : CS_END_INTERRUPTED, NULL);
	*core = end(s, cs_now_boot());
	return 0;
}

static void on_info(const struct cs_thread_info *ti, void *ctx)
{
	struct cs_session *s = ctx;

	if (ti->h.pid != s->root && !s->o.tracer.track_all)
		cs_tracer_track(s->tr, ti->h.pid);
	if (ti->h.tid == ti->h.pid)
		cs_unwind_want(s->uw, ti->h.pid);
	cs_taskinfo_found(s->ti, ti->h.tid, ti->h.pid, ti->h.ts);
	if (ti->h.tid == ti->h.pid && (!s->o.tracer.no_locks || s->uw)) {
		cs_sym_remember(s->syms, (pid_t)ti->h.pid);
		find_python(s, ti->h.pid);
	}
	cs_reorder_push(&s->ro, &ti->h);
}

int cs_session_attach(struct cs_session *s, pid_t pid, uint64_t duration_ns,
		      struct cs_core **core, char *err, size_t errlen)
{
	uint64_t ts0, stop;
	int ret, n;

	*core = NULL;
	ret = begin(s, (uint32_t)pid, err, errlen);
	if (ret)
		return ret;
	feed_mark(s, 0, CS_MARK_ATTACH, (uint32_t)pid, pid, NULL);
	/* pid 0: the whole system (-a), everything is tracked already */
	ret = pid ? cs_tracer_track(s->tr, (uint32_t)pid) : 0;
	if (ret) {
		snprintf(err, errlen, "cannot track pid %d: %s", pid, strerror(-ret));
		cs_core_free(&s->core);
		return ret;
	}
	/* The window opens now; /proc tells each thread's state at this instant. */
	ts0 = cs_now_boot();
	stop = duration_ns ? ts0 + duration_ns : 0;
	cs_tracer_set_window(s->tr, ts0, stop);
	s->window_end = stop;
	push_mark(s, ts0, CS_MARK_TRACK, (uint32_t)pid, 0, NULL);
	push_mark(s, ts0, CS_MARK_WINDOW_BEGIN, (uint32_t)pid, 0, NULL);
	s->window_open = true;
	n = pid ? cs_proc_scan(pid, ts0, true, on_info, s) : cs_proc_scan_all(ts0, on_info, s);
	if (n <= 0) {
		if (pid)
			snprintf(err, errlen, "pid %d exited before tracing started", pid);
		else
			snprintf(err, errlen, "cannot read the threads in /proc: %s",
				 strerror(n ? -n : ENOENT));
		*core = end(s, cs_now_boot());
		cs_core_free(core);
		return -ESRCH;
	}
	signal_ready(s);
	while (!got_signal && !s->root_gone && (!stop || cs_now_boot() < stop)) {
		uint64_t left = stop ? stop - cs_now_boot() : POLL_MS * 1000000ull;
		int ms = left < POLL_MS * 1000000ull ? (int)(left / 1000000) : POLL_MS;

		poll_once(s, ms > 0 ? ms : 1);
	}
	/* why it ended, for the title and --json: a signal first, as it was checked first */
	push_mark(s, cs_now_boot(), CS_MARK_END, (uint32_t)pid, got_signal ? CS_END_INTERRUPTED :
		  s->root_gone ? CS_END_EXITED : CS_END_DURATION, NULL);
	*core = end(s, stop && cs_now_boot() > stop ? stop : 0);
	return 0;
}

int cs_session_close(struct cs_session **sp)
{
	struct cs_session *s = *sp;
	int ret;

	if (!s)
		return 0;
	cs_tracer_poll(s->tr, 0);
	cs_reorder_flush(&s->ro);
	ret = s->sink_err;
	cs_unwind_free(&s->uw); /* its worker first: it writes to the tracer's maps */
	cs_frames_free(&s->frames);
	cs_tracer_close(&s->tr);
	cs_reorder_free(&s->ro);
	cs_symcache_free(&s->syms);
	cs_taskinfo_free(&s->ti);
	cs_hmap_free(&s->named);
	free(s->lost_seen);
	free(s->chain);
	free(s->gils);
	free(s);
	*sp = NULL;
	return ret;
}

unsigned int cs_session_ncpus(const struct cs_session *s)
{
	return cs_tracer_ncpus(s->tr);
}
