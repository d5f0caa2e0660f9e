// SPDX-License-Identifier: GPL-2.0
/*
 * concscope.bpf.c: the scheduler tracer.
 *
 * Capture is thin: every program fills one fixed-size record and hands it
 * to a ring buffer; the analysis happens in user space. sched_switch is
 * recorded for every task on every CPU (so each CPU's chain of who ran is
 * complete); every other event is filtered here to the tracked thread
 * groups. Beside the records, the programs keep each tracked thread's
 * totals by the core's own rules (kstate.bpf.h), which lost records cannot
 * falsify.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "concscope.h"
#include "concscope.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Knobs, set by user space between open and load. */
const volatile bool track_all = false;         /* -a: every task is tracked */
const volatile bool futex_waits = true;        /* read futex waits at the switch */
const volatile bool lock_states = true;        /* tell lock waits from sleeps (no --no-locks) */
/* Offsets of runqueues and __preempt_count in the per-CPU area (from vmlinux
 * BTF), to tell interrupt context apart at a wake-up; 0: unknown. */
const volatile __u64 percpu_runqueues = 0;
const volatile __u64 percpu_preempt_count = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by user space before load */
} events SEC(".maps");

/*
 * Tracked thread groups: a bitmap indexed by tgid (bit tgid % 64 of word
 * tgid / 64), set by user space (an atomic OR through its mapping) and by
 * fork. An array lookup is inlined by the verifier: far cheaper than a hash
 * on every wake-up. User space sizes it to pid_max / 64 words before load.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4194304 / 64);
	__type(key, __u32);
	__type(value, __u64);
} tracked SEC(".maps");

/* Kernel lock addresses whose callers were already sent (a stack is dear). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} named_locks SEC(".maps");

/* Per process: the address range of a lock whose waits are contention (the GIL). */
struct cs_bpf_range {
	__u64 lo, hi;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct cs_bpf_range);
} contended_ranges SEC(".maps");

/* Kernel stacks of wake-ups from interrupts: where they came from. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1024);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, CS_WAKE_STACK * sizeof(__u64));
} wake_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CS_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Records lost per CPU, and when. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cs_loss);
} losses SEC(".maps");

/* The consumer is woken when the ring holds more than this (0: never). */
const volatile __u64 wake_bytes = 0;

static __always_inline void count_stat(__u32 key)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &key);

	if (v)
		*v += 1;
}

#include "kstate.bpf.h"

static __always_inline bool is_tracked(__u32 tgid)
{
	__u32 word = tgid / 64;
	__u64 *w;

	if (track_all)
		return true;
	w = bpf_map_lookup_elem(&tracked, &word);
	return w && (*w >> (tgid % 64) & 1);
}

/*
 * A task the totals follow: of a tracked group, or one still in the table
 * whose group is dying (the group's bit is cleared when its last thread
 * exits, before the other threads' last switches).
 */
static __always_inline bool tracked_task(struct task_struct *p)
{
	return is_tracked(p->tgid) || ((p->flags & CS_PF_EXITING) && kthread_find(p->pid));
}

static __always_inline void set_tracked(__u32 tgid, bool on)
{
	__u32 word = tgid / 64;
	__u64 *w = bpf_map_lookup_elem(&tracked, &word);

	if (!w)
		return;
	if (on)
		__sync_fetch_and_or(w, 1ull << (tgid % 64));
	else
		__sync_fetch_and_and(w, ~(1ull << (tgid % 64)));
}

static __always_inline void submit(void *rec);

/*
 * Losses not yet in the ring go in first, as one LOST record stamped with
 * the last of them: it lands right where this CPU's gap is, so the reader
 * stops trusting the CPU's chain of switches exactly there.
 */
static __noinline void report_losses(struct cs_loss *l)
{
	struct cs_lost *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r)
		return;
	r->h.ts = l->last_ts;
	r->h.size = sizeof(*r);
	r->h.kind = CS_EV_LOST;
	r->h.flags = 0;
	r->h.cpu = bpf_get_smp_processor_id();
	r->h.aux = 0;
	r->h.tid = 0;
	r->h.pid = 0;
	r->count = l->count - l->in_ring;
	r->first_ts = l->first_ts;
	r->upto = l->count;
	l->in_ring = l->count;
	submit(r);
}

/* Reserve a record stamped ts and fill its header; NULL (counted) when the ring is full. */
static __always_inline void *reserve(__u32 size, __u8 kind, __u32 tid, __u32 tgid, __u64 ts)
{
	__u32 zero = 0;
	struct cs_loss *l = bpf_map_lookup_elem(&losses, &zero);
	struct cs_hdr *h;

	if (l && l->count != l->in_ring)
		report_losses(l);
	h = bpf_ringbuf_reserve(&events, size, 0);
	if (!h) {
		if (l) {
			if (l->count == l->in_ring)
				l->first_ts = ts;
			l->count++;
			l->last_ts = ts;
		}
		return NULL;
	}
	h->ts = ts;
	h->size = size;
	h->kind = kind;
	h->flags = 0;
	h->cpu = bpf_get_smp_processor_id();
	h->aux = 0;
	h->tid = tid;
	h->pid = tgid;
	return h;
}

/*
 * The consumer drains the ring on a short timer (50 ms); it is woken
 * earlier only when the ring fills past a threshold (a quarter), so a
 * record costs one query of the ring and no notification.
 */
static __always_inline void submit(void *rec)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (wake_bytes && bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > wake_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(rec, flags);
}

#include "stacks.bpf.h"

/*
 * This CPU's preempt count, to tell a wake-up run from an interrupt (the
 * task on the CPU then woke nobody). The per-CPU area's base is this CPU's
 * run queue (reached through the current task's cfs_rq) minus runqueues'
 * offset in it; the address is computed once per CPU.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

static __always_inline __u32 preempt_count(struct cs_bpf_cpu *c)
{
	struct task_struct *cur;
	struct cfs_rq *cfs;
	int *pc;

	if (!percpu_runqueues || !bpf_rdonly_cast)
		return 0;
	if (!c->pc_addr) {
		cur = bpf_get_current_task_btf();
		cfs = cur->se.cfs_rq;
		if (!cfs || !cfs->rq)
			return 0;
		c->pc_addr = (__u64)cfs->rq - percpu_runqueues + percpu_preempt_count;
	}
	pc = bpf_rdonly_cast((void *)c->pc_addr, 0);
	return *pc;
}

#define CS_PC_HARDIRQ 0x000f0000
#define CS_PC_SOFTIRQ_SERVING 0x00000100
#define CS_PC_NMI 0x00f00000

static __always_inline __u8 irq_flags(__u32 pc)
{
	if (pc & CS_PC_NMI)
		return CS_WKF_NMI;
	if (pc & CS_PC_HARDIRQ)
		return CS_WKF_HARDIRQ;
	if (pc & CS_PC_SOFTIRQ_SERVING)
		return CS_WKF_SOFTIRQ;
	return 0;
}

/*
 * Is a futex wait lock contention? A glibc mutex waits with the value 2
 * (locked, with waiters), a PI mutex with FUTEX_LOCK_PI, a glibc rwlock
 * with 3 (1 | PTHREAD_RWLOCK_FUTEX_USED); a wait inside a range user space
 * registered for this process (CPython's GIL) too. Condition variables,
 * semaphores and joins are waiting for work or for an event: sleeping, not
 * contention. The core's classification (user/locks.c) is the same.
 */
static __always_inline bool futex_contended(__u32 tgid, __s16 nr, __u64 uaddr, __u32 op,
					    __u32 val)
{
	struct cs_bpf_range *r;

	if (cs_futex_is_pi_lock(nr, op))
		return true;
	if ((val == 2 || val == 3) && cs_futex_is_value_wait(nr, op))
		return true;
	r = bpf_map_lookup_elem(&contended_ranges, &tgid);
	return r && uaddr >= r->lo && uaddr < r->hi;
}

/*
 * What a futex wait's op, val and timeout are, by system call, from its
 * arguments 2 to 5 (the first is always the address):
 *   futex(uaddr, op, val, timeout, uaddr2, val3)
 *   futex_wait(uaddr, val, mask, flags, timeout, clockid): op is the flags
 *   futex_waitv(waiters, nr_futexes, flags, timeout, clockid): the address
 *     is the array's, val the count, op the flags
 * One mapping for the waits read at the switch and the syscall tracepoints.
 */
struct cs_fwait_args {
	__u64 timeout;
	__u32 op, val;
};

static __always_inline void futex_args(__s16 nr, __u64 a2, __u64 a3, __u64 a4, __u64 a5,
				       struct cs_fwait_args *f)
{
	if (nr == CS_NR_FUTEX) {
		f->op = a2;
		f->val = a3;
		f->timeout = a4;
	} else if (nr == CS_NR_FUTEX_WAIT) {
		f->op = a4;
		f->val = a2;
		f->timeout = a5;
	} else {
		f->op = a3;
		f->val = a2;
		f->timeout = a4;
	}
}

/*
 * Futex waits are read at the switch that blocks them, from the thread's
 * saved registers, instead of from the futex system call tracepoints:
 * enabling any syscall tracepoint sends every system call of every task
 * through the slow path (measured: 1.45x on a pipe storm against 1.14x).
 * A wait that never blocked is, by definition, not a wait. Returns whether
 * the wait is contention.
 */
static __noinline bool futex_wait_record(struct task_struct *prev, struct pt_regs *regs, __s16 nr,
					 __u64 ts)
{
	__u32 tgid = prev->tgid;
	__u64 uaddr = CS_REG_ARG1(regs);
	struct cs_fwait_args f;
	struct cs_futex *e;
	bool contended;

	futex_args(nr, CS_REG_ARG2(regs), CS_REG_ARG3(regs), CS_REG_ARG4(regs), CS_REG_ARG5(regs),
		   &f);
	contended = futex_contended(tgid, nr, uaddr, f.op, f.val);
	if (!futex_waits)
		return contended;
	e = reserve(sizeof(*e), CS_EV_FUTEX_ENTER, prev->pid, tgid, ts);
	if (!e)
		return contended;
	e->h.aux = nr;
	e->h.flags = CS_FXF_AT_SWITCH;
	e->uaddr = uaddr;
	e->ret = 0;
	e->op = f.op;
	e->val = f.val;
	e->timed = f.timeout != 0;
	e->pad = 0;
	submit(e);
	return contended;
}

/* What prev becomes at its switch-out, for the totals: state and letter. */
static __always_inline __u32 after_switch(unsigned int rep, bool lock)
{
	if (rep == 0 || rep == 0x100)
		return CS_KS_READY;
	if (rep == 0x10 || rep == 0x20) /* X, Z */
		return CS_KS_DEAD;
	if (lock)
		return CS_KS_LOCK;
	return rep == 0x2 ? CS_KS_IO : CS_KS_SLEEP;
}

/*
 * prev's side of a switch: its futex wait, its totals; the switch flags.
 * rep is the state the switch reports for prev (cs_report_state()).
 */
static __always_inline __u8 switch_prev(struct task_struct *prev, const struct cs_bpf_cpu *c,
					bool preempt, unsigned int prev_state, unsigned int rep,
					__s16 nr, struct pt_regs *regs, __u64 ts)
{
	struct cs_kfig fig = { .cpu = prev->se.sum_exec_runtime, .rd = prev->sched_info.run_delay };
	struct cs_kthread *k;
	bool lock = false, woken;
	__u32 st;

	if (lock_states && regs && cs_futex_nr_may_wait(nr))
		lock = futex_wait_record(prev, regs, nr, ts);
	k = kthread_take(prev->pid, prev->tgid, ts, CS_KS_UNKNOWN);
	/* blocked while waiting for a kernel lock (after_switch ignores lock for a ready prev) */
	if (k && k->kwait)
		lock = true;
	st = after_switch(rep, lock);
	if (k)
		kswitch_out(k, c, ts, st | cs_letter_index(rep) << 8 |
			    cs_switch_voluntary(preempt, prev_state) << 16, &fig);
	woken = k && st != CS_KS_DEAD && kswitch_woken(k, ts, st);
	return CS_SWF_VERDICT | (st == CS_KS_LOCK ? CS_SWF_LOCK : 0) | (woken ? CS_SWF_WOKEN : 0);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(cs_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	__u64 ts = bpf_ktime_get_boot_ns();
	struct cs_bpf_cpu *c = this_cpu();
	struct pt_regs *regs = NULL;
	struct cs_kthread *k;
	struct cs_switch *e;
	__u8 flags = preempt ? CS_SWF_PREEMPT : 0;
	unsigned int rep;
	__s16 nr;

	if (!c)
		return 0;
	c->busy++;
	chain_break(c, prev->pid);
	nr = cs_switch_syscall(preempt, prev, prev_state, &regs);
	if (prev->pid && tracked_task(prev)) {
		rep = cs_report_state(preempt, prev_state, prev->exit_state);
		if (stacks_on) /* before the records of the switch, with their time */
			stack_at_switch(ctx, prev, rep, ts);
		flags |= switch_prev(prev, c, preempt, prev_state, rep, nr, regs, ts);
	}
	if (next->pid && tracked_task(next)) {
		k = kthread_take(next->pid, next->tgid, ts, CS_KS_UNKNOWN);
		if (k) {
			struct cs_kfig fig = { .cpu = next->se.sum_exec_runtime,
					       .rd_before = next->sched_info.run_delay,
					       .rd = next_run_delay(next) };

			kswitch_in(k, ts, &fig);
		}
	}
	c->cur = next->pid;
	c->since = ts;
	c->known = 1;
	e = reserve(sizeof(*e), CS_EV_SWITCH, prev->pid, prev->tgid, ts);
	if (e) {
		e->h.flags = flags;
		e->next_tid = next->pid;
		e->next_pid = next->tgid;
		e->prev_state = prev_state;
		e->prev_exit_state = prev->exit_state;
		e->next_prio = next->prio;
		e->syscall = nr;
		cs_copy_comm(e->next_comm, next->comm);
		submit(e);
	}
	c->busy--;
	return 0;
}

static __always_inline int emit_waking(void *ctx, struct task_struct *p, __u8 flags)
{
	struct task_struct *cur;
	struct cs_kthread *k;
	struct cs_bpf_cpu *c;
	struct cs_waking *e;
	__u64 ts;
	__u32 letter;
	long src = -1;

	if (!tracked_task(p))
		return 0;
	ts = bpf_ktime_get_boot_ns();
	c = this_cpu();
	if (!c)
		return 0;
	c->busy++;
	flags |= irq_flags(preempt_count(c));
	k = kthread_take(p->pid, p->tgid, ts, CS_KS_UNKNOWN);
	/* the state the wake-up ends, for a thread first seen here (sent as index + 1) */
	letter = k && CS_KW_STATE(k->word) == CS_KS_UNKNOWN ?
		 cs_letter_index(cs_report_state(0, p->__state, 0)) + 1 : 0;
	if (k) {
		struct cs_kfig fig = { .cpu = p->se.sum_exec_runtime, .rd = p->sched_info.run_delay };

		flags |= CS_WKF_VERDICT;
		if (kwake(k, ts, (letter ? letter - 1 : 0) | (flags & CS_WKF_NEW ? 0x100 : 0), &fig))
			flags |= CS_WKF_ENDED;
	}
	if (flags & (CS_WKF_HARDIRQ | CS_WKF_SOFTIRQ | CS_WKF_NMI))
		src = bpf_get_stackid(ctx, &wake_stacks, 0);
	e = reserve(sizeof(*e), CS_EV_WAKING, p->pid, p->tgid, ts);
	if (e) {
		cur = bpf_get_current_task_btf();
		if (!(flags & (CS_WKF_HARDIRQ | CS_WKF_SOFTIRQ | CS_WKF_NMI)))
			flags |= cs_waker_flags(cur);
		e->h.flags = flags;
		e->h.aux = p->thread_info.cpu;
		e->waker_tid = cur->pid;
		e->waker_pid = cur->tgid;
		e->prio = p->prio;
		e->letter = letter;
		e->pad[0] = e->pad[1] = 0;
		e->source = src >= 0 ? (__u32)src + 1 : 0;
		submit(e);
	}
	c->busy--;
	return 0;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(cs_sched_waking, struct task_struct *p)
{
	return emit_waking(ctx, p, 0);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(cs_sched_wakeup_new, struct task_struct *p)
{
	return emit_waking(ctx, p, CS_WKF_NEW);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(cs_sched_process_fork, struct task_struct *parent,
	     struct task_struct *child)
{
	__u32 ctgid = child->tgid;
	struct cs_bpf_cpu *c;
	struct cs_fork *e;
	__u64 ts;

	if (!is_tracked(parent->tgid))
		return 0;
	ts = bpf_ktime_get_boot_ns();
	c = this_cpu();
	if (!c)
		return 0;
	c->busy++;
	/* A new process is tracked from its first instant, before it runs. */
	if (!track_all && ctgid != parent->tgid)
		set_tracked(ctgid, true);
	kthread_take(child->pid, ctgid, ts, CS_KS_NEW);
	e = reserve(sizeof(*e), CS_EV_FORK, parent->pid, parent->tgid, ts);
	if (e) {
		e->h.flags = ctgid == parent->tgid ? CS_FKF_THREAD : 0;
		e->child_tid = child->pid;
		e->child_pid = ctgid;
		cs_copy_comm(e->child_comm, child->comm);
		submit(e);
	}
	c->busy--;
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(cs_sched_process_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct cs_bpf_cpu *c;
	struct cs_exec *e;
	__u64 ts;

	if (!is_tracked(p->tgid))
		return 0;
	ts = bpf_ktime_get_boot_ns();
	/* run: the command's exec opens the window, at this record's time */
	if (p->tgid == root_tgid && !window_begin)
		window_begin = ts;
	c = this_cpu();
	if (!c)
		return 0;
	c->busy++;
	e = reserve(sizeof(*e), CS_EV_EXEC, p->pid, p->tgid, ts);
	if (e) {
		e->old_tid = old_pid;
		e->pad = 0;
		cs_copy_comm(e->comm, p->comm);
		/*
		 * the reader at once: user space looks at what was exec'd (a
		 * CPython's GIL and frames, --stacks' unwind tables) before it
		 * runs much; on the drain timer that took up to 50 ms, while a
		 * program's first block (a join) may last its whole life
		 */
		bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	}
	c->busy--;
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(cs_sched_process_exit, struct task_struct *p, bool group_dead)
{
	__u32 tgid = p->tgid;
	struct cs_kthread *k;
	struct cs_bpf_cpu *c;
	struct cs_exit *e;
	__u64 ts;

	if (!is_tracked(tgid))
		return 0;
	ts = bpf_ktime_get_boot_ns();
	/* run: the command's last thread closes the window, at this record's time */
	if (group_dead && tgid == root_tgid && window_begin && !window_end)
		window_end = ts;
	c = this_cpu();
	if (!c)
		return 0;
	c->busy++;
	k = kthread_find(p->pid);
	if (k)
		k->flags |= CS_KTF_EXITING;
	e = reserve(sizeof(*e), CS_EV_EXIT, p->pid, tgid, ts);
	if (e) {
		e->h.flags = group_dead ? CS_EXF_GROUP_DEAD : 0;
		e->exit_code = p->exit_code;
		e->pad = 0;
		submit(e);
	}
	if (group_dead && !track_all)
		set_tracked(tgid, false);
	c->busy--;
	return 0;
}

SEC("tp_btf/sched_migrate_task")
int BPF_PROG(cs_sched_migrate_task, struct task_struct *p, int dest_cpu)
{
	struct cs_kthread *k;
	struct cs_migrate *e;
	struct cs_bpf_cpu *c;
	__u64 ts;

	if (!tracked_task(p))
		return 0;
	ts = bpf_ktime_get_boot_ns();
	c = this_cpu();
	if (!c)
		return 0;
	c->busy++;
	k = kthread_take(p->pid, p->tgid, ts, CS_KS_UNKNOWN);
	if (k && in_window(ts))
		k->migrations++;
	e = reserve(sizeof(*e), CS_EV_MIGRATE, p->pid, p->tgid, ts);
	if (e) {
		e->h.aux = dest_cpu;
		e->h.flags = p->on_rq ? CS_MGF_QUEUED : 0;
		e->orig_cpu = p->thread_info.cpu;
		e->pad = 0;
		submit(e);
	}
	c->busy--;
	return 0;
}

SEC("tp_btf/task_rename")
int BPF_PROG(cs_task_rename, struct task_struct *task, const char *comm)
{
	struct cs_rename *e;
	struct cs_bpf_cpu *c;

	if (!is_tracked(task->tgid))
		return 0;
	c = this_cpu();
	if (!c)
		return 0;
	c->busy++;
	e = reserve(sizeof(*e), CS_EV_RENAME, task->pid, task->tgid, bpf_ktime_get_boot_ns());
	if (e) {
		bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), comm);
		submit(e);
	}
	c->busy--;
	return 0;
}

/* ---- kernel lock contention (lock:contention_begin/end) ---- */

/*
 * The lock programs stay out of our own work: contention inside one of our
 * programs on this CPU (the ring buffer's lock, a map's) is concscope's,
 * not the program's; and a contention_end fired while this CPU holds the
 * ring's lock must not reserve in that ring (before 6.15 its lock is a
 * plain spinlock: that would spin for ever). Contention from interrupt
 * context is not the interrupted task's either.
 */
__u64 own_lock = 0; /* the last lock our own programs contended on (counted, left out) */

static __always_inline struct cs_bpf_cpu *lock_cpu(void *lock)
{
	struct cs_bpf_cpu *c = this_cpu();

	if (!c)
		return NULL;
	if (c->busy) {
		count_stat(CS_STAT_OWN_LOCK);
		own_lock = (__u64)lock;
		return NULL;
	}
	return irq_flags(preempt_count(c)) ? NULL : c;
}

SEC("tp_btf/contention_begin")
int BPF_PROG(cs_contention_begin, void *lock, unsigned int flags)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct cs_kthread *k;
	struct mm_struct *mm;
	struct cs_bpf_cpu *c;
	struct cs_lock *e;
	__u64 ts;
	long n;

	if (!is_tracked(cur->tgid) || !(c = lock_cpu(lock)))
		return 0;
	c->busy++;
	ts = bpf_ktime_get_boot_ns();
	if (stacks_on)
		stack_capture(ctx, cur, ts, CS_STK_LOCK);
	/* one wait from the first begin to its end: a mutex that spins, then
	 * sleeps, begins twice */
	k = kthread_take(cur->pid, cur->tgid, 0, CS_KS_UNKNOWN);
	if (k && !k->kwait)
		k->kwait = (__u64)lock;
	e = reserve(sizeof(*e), CS_EV_LOCK_BEGIN, cur->pid, cur->tgid, ts);
	if (e) {
		e->h.aux = flags;
		e->addr = (__u64)lock;
		e->ret = 0;
		mm = cur->mm;
		if (mm && (void *)&mm->mmap_lock == lock)
			e->h.flags = CS_LKF_MMAP_LOCK;
		/* the caller names the lock: only its first contention pays for a stack */
		e->nstack = 0;
		if (!bpf_map_lookup_elem(&named_locks, &e->addr)) {
			__u8 one = 1;

			/* bpf_get_stack() zeroes what the stack does not fill */
			n = bpf_get_stack(ctx, e->stack, sizeof(e->stack), CS_LOCK_STACK_SKIP);
			e->nstack = n > 0 ? n / sizeof(__u64) : 0;
			bpf_map_update_elem(&named_locks, &e->addr, &one, BPF_ANY);
		} else {
			/* ring memory is not zeroed: no stale bytes in the files */
			__builtin_memset(e->stack, 0, sizeof(e->stack));
		}
		submit(e);
	}
	c->busy--;
	return 0;
}

SEC("tp_btf/contention_end")
int BPF_PROG(cs_contention_end, void *lock, int ret)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct cs_kthread *k;
	struct cs_bpf_cpu *c;
	struct cs_lock *e;

	if (!is_tracked(cur->tgid) || !(c = lock_cpu(lock)))
		return 0;
	c->busy++;
	k = kthread_find(cur->pid);
	if (k && k->kwait == (__u64)lock)
		k->kwait = 0;
	e = reserve(sizeof(*e), CS_EV_LOCK_END, cur->pid, cur->tgid, bpf_ktime_get_boot_ns());
	if (e) {
		e->addr = (__u64)lock;
		e->ret = ret;
		e->nstack = 0;
		__builtin_memset(e->stack, 0, sizeof(e->stack));
		submit(e);
	}
	c->busy--;
	return 0;
}

/*
 * --futex-syscalls: the futex system calls themselves (classic syscall
 * tracepoints), instead of reading waits at the blocking switch. Exact
 * return codes (ETIMEDOUT, EINTR) and the waits that returned at once
 * (attempts), at a price: with any syscall tracepoint enabled, every system
 * call of every task takes the slow path. Loaded only with the option.
 */
static __always_inline int futex_sys_enter(struct trace_event_raw_sys_enter *ctx, __s16 nr)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct cs_fwait_args f;
	struct cs_futex *e;

	if (!is_tracked(cur->tgid))
		return 0;
	futex_args(nr, ctx->args[1], ctx->args[2], ctx->args[3], ctx->args[4], &f);
	e = reserve(sizeof(*e), CS_EV_FUTEX_ENTER, cur->pid, cur->tgid, bpf_ktime_get_boot_ns());
	if (!e)
		return 0;
	e->h.aux = ctx->id;
	e->uaddr = ctx->args[0];
	e->ret = 0;
	e->op = f.op;
	e->val = f.val;
	e->timed = f.timeout != 0;
	e->pad = 0;
	submit(e);
	return 0;
}

static __always_inline int futex_sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct cs_futex *e;

	if (!is_tracked(cur->tgid))
		return 0;
	e = reserve(sizeof(*e), CS_EV_FUTEX_EXIT, cur->pid, cur->tgid, bpf_ktime_get_boot_ns());
	if (!e)
		return 0;
	e->h.aux = ctx->id;
	e->uaddr = 0;
	e->ret = ctx->ret;
	e->op = 0;
	e->val = 0;
	e->timed = 0;
	e->pad = 0;
	submit(e);
	return 0;
}

/* The arguments of each: futex_args() */
SEC("tracepoint/syscalls/sys_enter_futex")
int cs_futex_sys_enter(struct trace_event_raw_sys_enter *ctx)
{
	return futex_sys_enter(ctx, CS_NR_FUTEX);
}

SEC("tracepoint/syscalls/sys_exit_futex")
int cs_futex_sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	return futex_sys_exit(ctx);
}

SEC("tracepoint/syscalls/sys_enter_futex_wait")
int cs_futex_sys_enter_wait(struct trace_event_raw_sys_enter *ctx)
{
	return futex_sys_enter(ctx, CS_NR_FUTEX_WAIT);
}

SEC("tracepoint/syscalls/sys_exit_futex_wait")
int cs_futex_sys_exit_wait(struct trace_event_raw_sys_exit *ctx)
{
	return futex_sys_exit(ctx);
}

SEC("tracepoint/syscalls/sys_enter_futex_waitv")
int cs_futex_sys_enter_waitv(struct trace_event_raw_sys_enter *ctx)
{
	return futex_sys_enter(ctx, CS_NR_FUTEX_WAITV);
}

SEC("tracepoint/syscalls/sys_exit_futex_waitv")
int cs_futex_sys_exit_waitv(struct trace_event_raw_sys_exit *ctx)
{
	return futex_sys_exit(ctx);
}
