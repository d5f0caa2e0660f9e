/* SPDX-License-Identifier: GPL-2.0 */
/* concscope.bpf.h: helpers for the BPF side only. */
#ifndef CONCSCOPE_BPF_H
#define CONCSCOPE_BPF_H

#ifndef __BPF__
#error "concscope.bpf.h is for BPF programs; user space includes concscope.h only"
#endif

#define CS_PF_KTHREAD 0x00200000 /* include/linux/sched.h */
/* frames of the tracepoint and BPF glue above the contended lock's caller */
#define CS_LOCK_STACK_SKIP 2

/* Copy a 16-byte comm with two 8-byte loads (no helper call). */
static __always_inline void cs_copy_comm(char *dst, const char *src)
{
	__u64 *d = (__u64 *)dst;
	const __u64 *s = (const __u64 *)src;

	d[0] = s[0];
	d[1] = s[1];
}

#define CS_PF_EXITING 0x00000004 /* include/linux/sched.h */
#define CS_NR_FUTEX 202           /* x86-64 system call numbers */
#define CS_NR_FUTEX_WAKE 454
#define CS_NR_FUTEX_WAIT 455
#define CS_NR_FUTEX_WAITV 449

static __always_inline bool cs_is_futex_wait_nr(__s16 nr)
{
	return nr == CS_NR_FUTEX || nr == CS_NR_FUTEX_WAIT || nr == CS_NR_FUTEX_WAITV;
}

/*
 * The system call a task is blocked in, read from its saved user registers
 * (orig_ax is -1 outside a system call, e.g. in a page fault). Only asked at
 * a voluntary switch of a user task: the kernel's own rule for nvcsw is
 * "not a preemption and not running". *regsp gets the registers.
 */
static __always_inline __s16 cs_switch_syscall(bool preempt, struct task_struct *prev,
					       unsigned int prev_state, struct pt_regs **regsp)
{
	struct pt_regs *regs;

	if (preempt || !prev_state || (prev->flags & CS_PF_KTHREAD))
		return -1;
	regs = (struct pt_regs *)bpf_task_pt_regs(prev);
	if (!regs)
		return -1;
	*regsp = regs;
	return (__s16)regs->orig_ax;
}

/* What the waker was doing: releasing a futex, or exiting (a joined thread). */
static __always_inline __u8 cs_waker_flags(struct task_struct *cur)
{
	struct pt_regs *regs;
	long nr;

	if (cur->flags & CS_PF_KTHREAD)
		return 0;
	if (cur->flags & CS_PF_EXITING)
		return CS_WKF_WAKER_EXITING;
	regs = (struct pt_regs *)bpf_task_pt_regs(cur);
	if (!regs)
		return 0;
	nr = regs->orig_ax;
	return nr == CS_NR_FUTEX || nr == CS_NR_FUTEX_WAKE ? CS_WKF_WAKER_FUTEX : 0;
}

/*
 * How long next waited on this CPU's run queue since its last enqueue, in
 * units of 1 << CS_WAIT_SHIFT ns rounded (a shift, not a division), plus one
 * (0: not queued, or not knowable here). This is what
 * sched_info_arrive() will add to next's run_delay right after this
 * tracepoint: the rq clock it uses was updated before the pick, and
 * last_queued is still set. The rq is reached through next's cfs_rq (set
 * for tasks of every class, and next is on this CPU): per-CPU kernel
 * variables are not visible to BPF on this kernel (no KALLSYMS_ALL).
 */
static __always_inline __u64 cs_next_wait_us(struct task_struct *next)
{
	struct cfs_rq *cfs;
	struct rq *rq;
	__u64 queued, clock;

	if (!bpf_core_field_exists(next->sched_info.last_queued) ||
	    !bpf_core_field_exists(cfs->rq))
		return 0;
	queued = next->sched_info.last_queued;
	if (!queued)
		return 0;
	cfs = next->se.cfs_rq;
	if (!cfs)
		return 0;
	rq = cfs->rq;
	if (!rq)
		return 0;
	clock = rq->clock;
	clock = clock > queued ?
		(clock - queued + (1 << (CS_WAIT_SHIFT - 1))) >> CS_WAIT_SHIFT : 0;
	return (clock < CS_WAIT_MAX ? clock : CS_WAIT_MAX) + 1;
}

#endif /* CONCSCOPE_BPF_H */
