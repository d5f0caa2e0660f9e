// SPDX-License-Identifier: GPL-2.0
/*
 * concscope.bpf.c: the scheduler tracer.
 *
 * Capture is thin: every program fills one fixed-size record and hands it
 * to a single ring buffer; all analysis happens in user space. sched_switch
 * is recorded for every task on every CPU (so each CPU's chain of who ran is
 * complete); every other event is filtered here to the tracked thread groups.
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

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by user space before load */
} events SEC(".maps");

/*
 * Tracked thread groups: a bitmap indexed by tgid (bit tgid % 64 of word
 * tgid / 64), filled by user space and by fork. An array lookup is inlined
 * by the verifier: far cheaper than a hash on every wake-up. User space
 * sizes it to pid_max / 64 words before load.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CS_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline bool is_tracked(__u32 tgid)
{
	__u32 word = tgid / 64;
	__u64 *w;

	if (track_all)
		return true;
	w = bpf_map_lookup_elem(&tracked, &word);
	return w && (*w >> (tgid % 64) & 1);
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

static __always_inline void count_lost(void)
{
	__u32 key = CS_STAT_RB_FULL;
	__u64 *v = bpf_map_lookup_elem(&stats, &key);

	if (v)
		*v += 1;
}

/* Reserve a record and fill its header; NULL (counted) when the ring is full. */
static __always_inline void *reserve(__u32 size, __u8 kind, __u32 tid, __u32 tgid)
{
	struct cs_hdr *h = bpf_ringbuf_reserve(&events, size, 0);

	if (!h) {
		count_lost();
		return NULL;
	}
	h->ts = bpf_ktime_get_boot_ns();
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
 * No wake-ups at all: the consumer drains the buffer on a short timer
 * (50 ms; the default 16 MiB holds about 0.3 s of a million events a
 * second), so a record costs no query of the ring and no notification.
 */
static __always_inline void submit(void *rec)
{
	bpf_ringbuf_submit(rec, BPF_RB_NO_WAKEUP);
}

/*
 * Futex waits are read at the switch that blocks them, from the thread's
 * saved registers, instead of from the futex system call tracepoints:
 * enabling any syscall tracepoint sends every system call of every task
 * through the slow path (measured: 1.45x on a pipe storm against 1.14x).
 * A wait that never blocked is, by definition, not a wait.
 */
static __noinline void futex_wait_record(struct task_struct *prev, struct pt_regs *regs, __s16 nr)
{
	struct cs_futex *e = reserve(sizeof(*e), CS_EV_FUTEX_ENTER, prev->pid, prev->tgid);

	if (!e)
		return;
	e->h.aux = nr;
	e->h.flags = CS_FXF_AT_SWITCH;
	e->uaddr = regs->di;
	e->ret = 0;
	e->pad = 0;
	if (nr == CS_NR_FUTEX) {         /* futex(uaddr, op, val, timeout, ...) */
		e->op = regs->si;
		e->val = regs->dx;
		e->timed = regs->r10 != 0;
	} else if (nr == CS_NR_FUTEX_WAIT) { /* futex_wait(uaddr, val, mask, flags, timeout) */
		e->op = regs->r10;
		e->val = regs->si;
		e->timed = regs->r8 != 0;
	} else {                         /* futex_waitv(waiters, nr, flags, timeout) */
		e->op = regs->dx;
		e->val = regs->si;
		e->timed = regs->r10 != 0;
	}
	submit(e);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(cs_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	struct cs_switch *e;

	struct pt_regs *regs = NULL;
	__s16 nr = cs_switch_syscall(preempt, prev, prev_state, &regs);

	/* a tracked thread blocking in a futex call: what it waits on */
	if (futex_waits && regs && cs_is_futex_wait_nr(nr) && is_tracked(prev->tgid))
		futex_wait_record(prev, regs, nr);
	e = reserve(sizeof(*e), CS_EV_SWITCH, prev->pid, prev->tgid);
	if (!e)
		return 0;
	e->h.flags = preempt ? CS_SWF_PREEMPT : 0;
	if (next->pid && is_tracked(next->tgid)) {
		__u64 wait = cs_next_wait_us(next);

		if (wait) { /* the wait + 1, 0: none known */
			e->h.flags |= CS_SWF_NEXT_WAIT;
			e->h.aux = wait - 1;
		}
	}
	e->next_tid = next->pid;
	e->next_pid = next->tgid;
	e->prev_state = prev_state;
	e->prev_exit_state = prev->exit_state;
	e->next_prio = next->prio;
	e->syscall = nr;
	cs_copy_comm(e->next_comm, next->comm);
	submit(e);
	return 0;
}

static __always_inline int emit_waking(struct task_struct *p, __u8 flags)
{
	struct task_struct *cur;
	struct cs_waking *e;

	if (!is_tracked(p->tgid))
		return 0;
	e = reserve(sizeof(*e), CS_EV_WAKING, p->pid, p->tgid);
	if (!e)
		return 0;
	cur = bpf_get_current_task_btf();
	flags |= cs_waker_flags(cur);
	e->h.flags = flags;
	e->h.aux = p->thread_info.cpu;
	e->waker_tid = cur->pid;
	e->waker_pid = cur->tgid;
	e->prio = p->prio;
	__builtin_memset(e->pad, 0, sizeof(e->pad)); /* ring memory is not zeroed */
	submit(e);
	return 0;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(cs_sched_waking, struct task_struct *p)
{
	return emit_waking(p, 0);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(cs_sched_wakeup_new, struct task_struct *p)
{
	return emit_waking(p, CS_WKF_NEW);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(cs_sched_process_fork, struct task_struct *parent,
	     struct task_struct *child)
{
	__u32 ctgid = child->tgid;
	struct cs_fork *e;

	if (!is_tracked(parent->tgid))
		return 0;
	/* A new process is tracked from its first instant, before it runs. */
	if (!track_all && ctgid != parent->tgid)
		set_tracked(ctgid, true);
	e = reserve(sizeof(*e), CS_EV_FORK, parent->pid, parent->tgid);
	if (!e)
		return 0;
	e->h.flags = ctgid == parent->tgid ? CS_FKF_THREAD : 0;
	e->child_tid = child->pid;
	e->child_pid = ctgid;
	cs_copy_comm(e->child_comm, child->comm);
	submit(e);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(cs_sched_process_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct cs_exec *e;

	if (!is_tracked(p->tgid))
		return 0;
	e = reserve(sizeof(*e), CS_EV_EXEC, p->pid, p->tgid);
	if (!e)
		return 0;
	e->old_tid = old_pid;
	e->pad = 0;
	cs_copy_comm(e->comm, p->comm);
	submit(e);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(cs_sched_process_exit, struct task_struct *p, bool group_dead)
{
	__u32 tgid = p->tgid;
	struct cs_exit *e;

	if (!is_tracked(tgid))
		return 0;
	e = reserve(sizeof(*e), CS_EV_EXIT, p->pid, tgid);
	if (e) {
		e->h.flags = group_dead ? CS_EXF_GROUP_DEAD : 0;
		e->exit_code = p->exit_code;
		e->pad = 0;
		submit(e);
	}
	if (group_dead && !track_all)
		set_tracked(tgid, false);
	return 0;
}

SEC("tp_btf/sched_migrate_task")
int BPF_PROG(cs_sched_migrate_task, struct task_struct *p, int dest_cpu)
{
	struct cs_migrate *e;

	if (!is_tracked(p->tgid))
		return 0;
	e = reserve(sizeof(*e), CS_EV_MIGRATE, p->pid, p->tgid);
	if (!e)
		return 0;
	e->h.aux = dest_cpu;
	e->h.flags = p->on_rq ? CS_MGF_QUEUED : 0;
	e->orig_cpu = p->thread_info.cpu;
	e->pad = 0;
	submit(e);
	return 0;
}

SEC("tp_btf/task_rename")
int BPF_PROG(cs_task_rename, struct task_struct *task, const char *comm)
{
	struct cs_rename *e;

	if (!is_tracked(task->tgid))
		return 0;
	e = reserve(sizeof(*e), CS_EV_RENAME, task->pid, task->tgid);
	if (!e)
		return 0;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), comm);
	submit(e);
	return 0;
}

/* ---- kernel lock contention (lock:contention_begin/end) ---- */

SEC("tp_btf/contention_begin")
int BPF_PROG(cs_contention_begin, void *lock, unsigned int flags)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct mm_struct *mm;
	struct cs_lock *e;
	long n;

	if (!is_tracked(cur->tgid))
		return 0;
	e = reserve(sizeof(*e), CS_EV_LOCK_BEGIN, cur->pid, cur->tgid);
	if (!e)
		return 0;
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

		n = bpf_get_stack(ctx, e->stack, sizeof(e->stack), CS_LOCK_STACK_SKIP);
		e->nstack = n > 0 ? n / sizeof(__u64) : 0;
		bpf_map_update_elem(&named_locks, &e->addr, &one, BPF_ANY);
	}
	submit(e);
	return 0;
}

SEC("tp_btf/contention_end")
int BPF_PROG(cs_contention_end, void *lock, int ret)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct cs_lock *e;

	if (!is_tracked(cur->tgid))
		return 0;
	e = reserve(sizeof(*e), CS_EV_LOCK_END, cur->pid, cur->tgid);
	if (!e)
		return 0;
	e->addr = (__u64)lock;
	e->ret = ret;
	e->nstack = 0;
	submit(e);
	return 0;
}

/*
 * --futex-syscalls: the futex system calls themselves (classic syscall
 * tracepoints), instead of reading waits at the blocking switch. Exact
 * return codes (ETIMEDOUT, EINTR) and the waits that returned at once
 * (attempts), at a price: with any syscall tracepoint enabled, every system
 * call of every task takes the slow path. Loaded only with the option.
 */
static __always_inline int futex_sys_enter(struct trace_event_raw_sys_enter *ctx, __u64 uaddr,
					   __u32 op, __u32 val, __u64 timeout)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct cs_futex *e;

	if (!is_tracked(cur->tgid))
		return 0;
	e = reserve(sizeof(*e), CS_EV_FUTEX_ENTER, cur->pid, cur->tgid);
	if (!e)
		return 0;
	e->h.aux = ctx->id;
	e->uaddr = uaddr;
	e->ret = 0;
	e->op = op;
	e->val = val;
	e->timed = timeout != 0;
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
	e = reserve(sizeof(*e), CS_EV_FUTEX_EXIT, cur->pid, cur->tgid);
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

/* futex(uaddr, op, val, timeout, uaddr2, val3) */
SEC("tracepoint/syscalls/sys_enter_futex")
int cs_futex_sys_enter(struct trace_event_raw_sys_enter *ctx)
{
	return futex_sys_enter(ctx, ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3]);
}

SEC("tracepoint/syscalls/sys_exit_futex")
int cs_futex_sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	return futex_sys_exit(ctx);
}

/* futex_wait(uaddr, val, mask, flags, timeout, clockid): op is the flags */
SEC("tracepoint/syscalls/sys_enter_futex_wait")
int cs_futex_sys_enter_wait(struct trace_event_raw_sys_enter *ctx)
{
	return futex_sys_enter(ctx, ctx->args[0], ctx->args[3], ctx->args[1], ctx->args[4]);
}

SEC("tracepoint/syscalls/sys_exit_futex_wait")
int cs_futex_sys_exit_wait(struct trace_event_raw_sys_exit *ctx)
{
	return futex_sys_exit(ctx);
}

/* futex_waitv(waiters, nr_futexes, flags, timeout, clockid): uaddr is the array */
SEC("tracepoint/syscalls/sys_enter_futex_waitv")
int cs_futex_sys_enter_waitv(struct trace_event_raw_sys_enter *ctx)
{
	return futex_sys_enter(ctx, ctx->args[0], ctx->args[2], ctx->args[1], ctx->args[3]);
}

SEC("tracepoint/syscalls/sys_exit_futex_waitv")
int cs_futex_sys_exit_waitv(struct trace_event_raw_sys_exit *ctx)
{
	return futex_sys_exit(ctx);
}
