/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kstate.bpf.h: the kernel side's per-thread state machine (BPF only).
 *
 * The same rules as the core's (user/core.c), applied to the same events at
 * the same timestamps, so that the totals kept here equal the ones the core
 * derives from the records, and stay exact when the ring buffer loses some:
 *
 *   running   from a switch-in to the switch-out
 *   ready     from a wake-up (sched_waking) or a preemption to the switch-in
 *   blocked   from the switch-out to the wake-up (sleep, io or lock by what
 *             the switch-out says); a wake-up that comes before the
 *             switch-out of the sleep it ends leaves the thread blocked
 *             until it runs (Perfetto's rule)
 *   untraced  where a CPU's chain of switches broke: the kernel switched a
 *             task in or out without calling the tracepoint
 *
 * Each thread's state and its start are one 64-bit word, changed with a
 * compare-and-swap where two CPUs can meet (a wake-up racing the switch-out
 * of the sleep it ends, a chain break seen on one CPU while the thread runs
 * again on another). Totals are only ever added by the CPU that won the
 * state change, so plain additions suffice.
 */
#ifndef CS_KSTATE_BPF_H
#define CS_KSTATE_BPF_H

#ifndef __BPF__
#error "kstate.bpf.h is for BPF programs"
#endif

/* Included by concscope.bpf.c after count_stat(), which the slots' bookkeeping uses. */

/* Set by user space (and, for run, by the root's exec and exit). */
__u64 window_begin = 0; /* 0: the window is not open yet */
__u64 window_end = 0;   /* 0: still open */
__u32 root_tgid = 0;    /* run: the command; its exec opens the window, its exit closes it */
__u32 gen = 1;          /* the session's segment: slots of an older one are retaken */

const volatile __u32 nslots = 32768; /* power of two, set before load */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 32768); /* = nslots */
	__type(key, __u32);
	__type(value, struct cs_kthread);
} threads SEC(".maps");

/* Exited threads' final totals, until user space reads them. */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 16384);
	__type(value, struct cs_kthread);
} exited SEC(".maps");

/* What this CPU runs, as the chain of traced switches says. */
struct cs_bpf_cpu {
	__u64 since;     /* when cur switched in */
	__u32 cur;       /* tid */
	__u32 known;     /* a switch was seen on this CPU */
	__u64 pc_addr;   /* this CPU's __preempt_count, 0 not yet known */
	__u32 busy;      /* inside one of our programs (lock programs stay out) */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cs_bpf_cpu);
} cpus SEC(".maps");

static __always_inline struct cs_bpf_cpu *this_cpu(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cpus, &zero);
}

static __always_inline bool in_window(__u64 ts)
{
	__u64 wb = window_begin, we = window_end;

	return wb && ts >= wb && (!we || ts <= we);
}

/* Add [a, b) clipped to the window to ns[st]; returns what was added. */
static __always_inline __u64 acc(struct cs_kthread *k, unsigned int st, __u64 a, __u64 b)
{
	__u64 wb = window_begin, we = window_end;

	if (!wb || st >= CS_KS_NACC)
		return 0;
	if (a < wb)
		a = wb;
	if (we && b > we)
		b = we;
	if (b <= a)
		return 0;
	k->ns[st & 7] += b - a;
	return b - a;
}

static __always_inline bool blocked(unsigned int st)
{
	return st == CS_KS_SLEEP || st == CS_KS_IO || st == CS_KS_LOCK;
}

/* Close a blocked interval: its time also goes to the letter it blocked with. */
static __always_inline void acc_blocked(struct cs_kthread *k, unsigned int st, __u32 letter,
					__u64 a, __u64 b)
{
	__u64 ns = acc(k, st, a, b);

	k->blocked_ns[letter & (CS_NLETTERS - 1)] += ns;
}

static __always_inline struct cs_kthread *slot_of(__u32 tid)
{
	__u32 i = tid & (nslots - 1);

	return bpf_map_lookup_elem(&threads, &i);
}

/* The slot of a task we already track this segment, or NULL. */
static __always_inline struct cs_kthread *kthread_find(__u32 tid)
{
	struct cs_kthread *k = slot_of(tid);

	return k && k->tid == tid && k->gen == gen ? k : NULL;
}

/*
 * The slot of a tracked task, taken on first sight in state st (UNKNOWN:
 * since the window's start; NEW: a fork at ts). NULL when another live
 * thread of this segment holds it (counted).
 */
static __always_inline struct cs_kthread *kthread_take(__u32 tid, __u32 pid, __u64 ts, __u32 st)
{
	struct cs_kthread *k = slot_of(tid);

	if (!k)
		return NULL;
	if (k->tid == tid && k->gen == gen && st != CS_KS_NEW)
		return k;
	if (k->tid && k->tid != tid && k->gen == gen && !(k->flags & CS_KTF_EXITING)) {
		count_stat(CS_STAT_SLOT_TAKEN);
		return NULL;
	}
	/* a thread that exited without a traced last switch: keep its totals */
	if (k->tid && k->gen == gen && (k->flags & CS_KTF_EXITING) &&
	    bpf_map_push_elem(&exited, k, 0))
		count_stat(CS_STAT_EXITED_FULL);
	__builtin_memset(k, 0, sizeof(*k));
	k->tid = tid;
	k->pid = pid;
	k->gen = gen;
	k->word = st == CS_KS_NEW ? CS_KW(ts, CS_KS_NEW) : CS_KW(0, CS_KS_UNKNOWN);
	return k;
}

/*
 * The kernel's figures at an event inside the window: the first sets the
 * bases (cpu_ran: how much of cpu the thread ran inside the window before
 * this event, when it was running as the window opened).
 */
static __always_inline void kernel_figures(struct cs_kthread *k, __u64 ts, __u64 cpu, __u64 rd,
					   __u64 rd_base, __u64 cpu_ran)
{
	if (!in_window(ts))
		return;
	if (!(k->flags & CS_KTF_CPU_BASE)) {
		k->cpu_base = cpu > cpu_ran ? cpu - cpu_ran : 0;
		k->rd_base = rd_base;
		k->flags |= CS_KTF_CPU_BASE;
	}
	k->cpu_last = cpu;
	k->rd_last = rd;
}

#define barrier() asm volatile("" ::: "memory")

/* The kernel's figures at an event: se.sum_exec_runtime, sched_info.run_delay. */
struct cs_kfig {
	__u64 cpu, rd, rd_before;
};

/*
 * next->sched_info.run_delay as it will be right after this switch:
 * sched_info_arrive() adds the wait since last_queued, measured on the
 * run queue's clock (updated before the pick). The rq is reached through
 * next's cfs_rq (set for tasks of every class).
 */
static __always_inline __u64 next_run_delay(struct task_struct *next)
{
	__u64 rd = next->sched_info.run_delay, queued = next->sched_info.last_queued, clock;
	struct cfs_rq *cfs;
	struct rq *rq;

	if (!queued)
		return rd;
	cfs = next->se.cfs_rq;
	if (!cfs)
		return rd;
	rq = cfs->rq;
	if (!rq)
		return rd;
	clock = rq->clock;
	return clock > queued ? rd + clock - queued : rd;
}

/* The exited thread's totals go to the queue, its slot is freed. */
static __always_inline void kthread_retire(struct cs_kthread *k)
{
	if (bpf_map_push_elem(&exited, k, 0))
		count_stat(CS_STAT_EXITED_FULL);
	k->tid = 0;
}

/*
 * A chain break on this CPU: the switch's prev is not the task the last
 * traced switch put here. That task left without the tracepoint saying so;
 * its running since then is untraced (unless it already ran again elsewhere).
 */
static __always_inline void chain_break(const struct cs_bpf_cpu *c, __u32 prev_tid)
{
	struct cs_kthread *x;
	__u64 w;

	if (!c->known || c->cur == prev_tid || !c->cur)
		return;
	x = kthread_find(c->cur);
	if (!x)
		return;
	w = x->word;
	if (CS_KW_STATE(w) == CS_KS_RUNNING && CS_KW_SINCE(w) == c->since)
		__sync_val_compare_and_swap(&x->word, w, CS_KW(c->since, CS_KS_UNTRACED));
}

/*
 * prev leaves the CPU at ts; how: its new state (READY, SLEEP, IO, LOCK or
 * DEAD) | the reported state's letter index << 8 | voluntary << 16.
 */
static __always_inline void kswitch_out(struct cs_kthread *k, const struct cs_bpf_cpu *c,
				   __u64 ts, __u32 how, const struct cs_kfig *fig)
{
	__u64 w = k->word, s = CS_KW_SINCE(w), mid;
	unsigned int old = CS_KW_STATE(w), st = how & 0xff, letter = (how >> 8) & 0xff;

	if (old == CS_KS_RUNNING) {
		acc(k, CS_KS_RUNNING, s, ts);
	} else if (old == CS_KS_UNKNOWN) {
		/* first sight: it ran since the window opened, unless the chain broke */
		if (c->known && c->cur != k->tid)
			acc(k, CS_KS_UNTRACED, s, ts);
		else
			acc(k, CS_KS_RUNNING, s, ts);
	} else {
		/* its switch-in was not traced: what it was, then untraced */
		mid = c->known && c->since > s ? c->since : s;
		if (blocked(old))
			acc_blocked(k, old, k->flags >> 8, s, mid);
		else
			acc(k, old, s, mid);
		acc(k, CS_KS_UNTRACED, mid, ts);
	}
	if (in_window(ts)) {
		if (how >> 16)
			k->nvcsw++;
		else
			k->nivcsw++;
	}
	/* first seen running: the CPU time it had at the window's start is not
	 * known exactly; its running inside the window is taken as ours */
	kernel_figures(k, ts, fig->cpu, fig->rd, fig->rd, ts - (s > window_begin ? s : window_begin));
	k->flags = (k->flags & 0xff) | (letter << 8);
	barrier(); /* the letter before the word: a wake-up elsewhere reads them in that order */
	k->word = CS_KW(ts, st);
	if (st == CS_KS_DEAD)
		kthread_retire(k);
}

/*
 * After kswitch_out: a wake-up that another CPU ran while this switch was
 * on its way, stamped after it, ends the block it began (kwake found the
 * thread running and left its time in woke_at). The exchange after the
 * word's store pairs with kwake's exchange before its load of the word:
 * one of the two sides sees the other, and only the one that takes woke_at
 * ends the block. A wake-up stamped before the switch-out (it beat the
 * sleep) leaves the thread blocked until it runs, as before. True: ended
 * here (the switch's record says CS_SWF_WOKEN).
 */
static __always_inline bool kswitch_woken(struct cs_kthread *k, __u64 ts, unsigned int st)
{
	__u64 w = CS_KW(ts, st), at = __sync_lock_test_and_set(&k->woke_at, 0);

	if (!blocked(st) || at <= ts)
		return false;
	if (__sync_val_compare_and_swap(&k->word, w, CS_KW(at, CS_KS_READY)) != w)
		return false;
	acc_blocked(k, st, k->flags >> 8, ts, at);
	if (in_window(at))
		k->wakeups++;
	return true;
}

/* next runs on the CPU from ts. */
static __always_inline void kswitch_in(struct cs_kthread *k, __u64 ts, const struct cs_kfig *fig)
{
	__u64 w = k->word, s = CS_KW_SINCE(w);
	unsigned int old = CS_KW_STATE(w);

	if (old == CS_KS_READY || old == CS_KS_UNKNOWN)
		acc(k, CS_KS_READY, s, ts);
	else if (blocked(old))
		acc_blocked(k, old, k->flags >> 8, s, ts);
	else if (old == CS_KS_RUNNING || old == CS_KS_UNTRACED)
		acc(k, CS_KS_UNTRACED, s, ts);
	/* the wait that ends here counts in full, as schedstat's does */
	kernel_figures(k, ts, fig->cpu, fig->rd, fig->rd_before, 0);
	k->word = CS_KW(ts, CS_KS_RUNNING);
}

/*
 * A wake-up at ts. how: the woken task's reported state now, as a letter
 * index (for a thread first seen here) | 0x100 for its first wake-up (a
 * new task). Returns true when it ended a block (a wake-up the totals
 * count); false for one that found the thread runnable, or running (it
 * beat the switch-out of the sleep it ends).
 */
static __always_inline bool kwake(struct cs_kthread *k, __u64 ts, __u32 how, const struct cs_kfig *fig)
{
	__u64 w = k->word, s = CS_KW_SINCE(w);
	unsigned int old = CS_KW_STATE(w), st, letter = how & 0xff;
	bool is_new = how & 0x100;

	if (is_new) {
		if (old == CS_KS_NEW || old == CS_KS_UNKNOWN)
			k->word = CS_KW(ts, CS_KS_READY);
		return false;
	}
	if (old == CS_KS_RUNNING) {
		/* inside the switch-out of the sleep this ends? (kswitch_woken) */
		__sync_lock_test_and_set(&k->woke_at, ts);
		w = k->word;
		s = CS_KW_SINCE(w);
		old = CS_KW_STATE(w);
		if (!blocked(old) || s > ts || __sync_lock_test_and_set(&k->woke_at, 0) != ts)
			return false;
	}
	if (!(blocked(old) && s <= ts) && old != CS_KS_UNKNOWN && old != CS_KS_UNTRACED)
		return false;
	if (__sync_val_compare_and_swap(&k->word, w, CS_KW(ts, CS_KS_READY)) != w)
		return false;
	if (old == CS_KS_UNKNOWN) {
		st = letter == 1 ? CS_KS_IO : CS_KS_SLEEP; /* index 1: D */
		acc_blocked(k, st, letter, s, ts);
	} else if (old == CS_KS_UNTRACED) {
		acc(k, CS_KS_UNTRACED, s, ts);
	} else {
		acc_blocked(k, old, k->flags >> 8, s, ts);
	}
	kernel_figures(k, ts, fig->cpu, fig->rd, fig->rd, 0);
	if (in_window(ts))
		k->wakeups++;
	return true;
}

#endif /* CS_KSTATE_BPF_H */
