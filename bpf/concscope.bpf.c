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
const volatile __u64 wakeup_bytes = 256 << 10; /* wake the consumer past this */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by user space before load */
} events SEC(".maps");

/* Tracked thread groups: tgid -> 1. Filled by user space and by fork. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u8);
} tracked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CS_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline bool is_tracked(__u32 tgid)
{
	return track_all || bpf_map_lookup_elem(&tracked, &tgid);
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
 * Wake the consumer only when the unread data crosses wakeup_bytes, not per
 * record: the consumer also polls on a short timeout, so a quiet trace is
 * still drained promptly.
 */
static __always_inline void submit(void *rec, __u32 size)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (avail >= wakeup_bytes && avail < wakeup_bytes + size)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(rec, flags);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(cs_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	struct cs_switch *e;

	e = reserve(sizeof(*e), CS_EV_SWITCH, prev->pid, prev->tgid);
	if (!e)
		return 0;
	e->h.flags = preempt ? CS_SWF_PREEMPT : 0;
	e->next_tid = next->pid;
	e->next_pid = next->tgid;
	e->prev_state = prev_state;
	e->prev_exit_state = prev->exit_state;
	e->next_prio = next->prio;
	e->syscall = cs_switch_syscall(preempt, prev, prev_state);
	cs_copy_comm(e->next_comm, next->comm);
	submit(e, sizeof(*e));
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
	e->h.flags = flags;
	e->h.aux = p->thread_info.cpu;
	e->waker_tid = cur->pid;
	e->waker_pid = cur->tgid;
	e->prio = p->prio;
	submit(e, sizeof(*e));
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
	__u8 one = 1;

	if (!is_tracked(parent->tgid))
		return 0;
	/* A new process is tracked from its first instant, before it runs. */
	if (!track_all && ctgid != parent->tgid)
		bpf_map_update_elem(&tracked, &ctgid, &one, BPF_ANY);
	e = reserve(sizeof(*e), CS_EV_FORK, parent->pid, parent->tgid);
	if (!e)
		return 0;
	e->h.flags = ctgid == parent->tgid ? CS_FKF_THREAD : 0;
	e->child_tid = child->pid;
	e->child_pid = ctgid;
	cs_copy_comm(e->child_comm, child->comm);
	submit(e, sizeof(*e));
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
	submit(e, sizeof(*e));
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
		e->h.flags = group_dead ? 1 : 0;
		e->exit_code = p->exit_code;
		e->pad = 0;
		submit(e, sizeof(*e));
	}
	if (group_dead && !track_all)
		bpf_map_delete_elem(&tracked, &tgid);
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
	e->orig_cpu = p->thread_info.cpu;
	e->pad = 0;
	submit(e, sizeof(*e));
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
	submit(e, sizeof(*e));
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
	n = bpf_get_stack(ctx, e->stack, sizeof(e->stack), CS_LOCK_STACK_SKIP);
	e->nstack = n > 0 ? n / sizeof(__u64) : 0;
	submit(e, sizeof(*e));
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
	submit(e, sizeof(*e));
	return 0;
}

/* ---- futex system calls (classic syscall tracepoints: no cost to other calls) ---- */

static __always_inline int futex_enter(struct trace_event_raw_sys_enter *ctx, __u64 uaddr,
				       __u32 op, __u32 val, __u64 timeout)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct cs_futex *e;

	if (!is_tracked(id >> 32))
		return 0;
	e = reserve(sizeof(*e), CS_EV_FUTEX_ENTER, (__u32)id, id >> 32);
	if (!e)
		return 0;
	e->h.aux = ctx->id;
	e->uaddr = uaddr;
	e->ret = 0;
	e->op = op;
	e->val = val;
	e->timed = timeout != 0;
	e->pad = 0;
	submit(e, sizeof(*e));
	return 0;
}

static __always_inline int futex_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct cs_futex *e;

	if (!is_tracked(id >> 32))
		return 0;
	e = reserve(sizeof(*e), CS_EV_FUTEX_EXIT, (__u32)id, id >> 32);
	if (!e)
		return 0;
	e->h.aux = ctx->id;
	e->uaddr = 0;
	e->ret = ctx->ret;
	e->op = e->val = e->timed = e->pad = 0;
	submit(e, sizeof(*e));
	return 0;
}

/* futex(uaddr, op, val, timeout/val2, uaddr2, val3) */
SEC("tracepoint/syscalls/sys_enter_futex")
int cs_enter_futex(struct trace_event_raw_sys_enter *ctx)
{
	return futex_enter(ctx, ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3]);
}

SEC("tracepoint/syscalls/sys_exit_futex")
int cs_exit_futex(struct trace_event_raw_sys_exit *ctx)
{
	return futex_exit(ctx);
}

/* futex_wait(uaddr, val, mask, flags, timeout, clockid): op carries the flags */
SEC("tracepoint/syscalls/sys_enter_futex_wait")
int cs_enter_futex_wait(struct trace_event_raw_sys_enter *ctx)
{
	return futex_enter(ctx, ctx->args[0], ctx->args[3], ctx->args[1], ctx->args[4]);
}

SEC("tracepoint/syscalls/sys_exit_futex_wait")
int cs_exit_futex_wait(struct trace_event_raw_sys_exit *ctx)
{
	return futex_exit(ctx);
}

/* futex_waitv(waiters, nr_futexes, flags, timeout, clockid): uaddr = waiters */
SEC("tracepoint/syscalls/sys_enter_futex_waitv")
int cs_enter_futex_waitv(struct trace_event_raw_sys_enter *ctx)
{
	return futex_enter(ctx, ctx->args[0], ctx->args[2], ctx->args[1], ctx->args[3]);
}

SEC("tracepoint/syscalls/sys_exit_futex_waitv")
int cs_exit_futex_waitv(struct trace_event_raw_sys_exit *ctx)
{
	return futex_exit(ctx);
}

/* futex_wake(uaddr, mask, nr, flags) */
SEC("tracepoint/syscalls/sys_enter_futex_wake")
int cs_enter_futex_wake(struct trace_event_raw_sys_enter *ctx)
{
	return futex_enter(ctx, ctx->args[0], ctx->args[3], ctx->args[2], 0);
}

SEC("tracepoint/syscalls/sys_exit_futex_wake")
int cs_exit_futex_wake(struct trace_event_raw_sys_exit *ctx)
{
	return futex_exit(ctx);
}
