/* SPDX-License-Identifier: GPL-2.0 */
/* concscope.bpf.h: helpers for the BPF side only. */
#ifndef CONCSCOPE_BPF_H
#define CONCSCOPE_BPF_H

#ifndef __BPF__
#error "concscope.bpf.h is for BPF programs; user space includes concscope.h only"
#endif

#include "arch.h"

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
/* The kernel's own rule for nvcsw: not a preemption, and the task was not running. */
static __always_inline bool cs_switch_voluntary(bool preempt, unsigned int prev_state)
{
	return !preempt && prev_state != 0;
}

/*
 * The system call a task is blocked in, read from its saved user registers
 * (-1 outside a system call, e.g. in a page fault). Only asked at
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
	return (__s16)CS_REG_SYSCALL(regs);
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
	nr = CS_REG_SYSCALL(regs);
	return nr == CS_NR_FUTEX || nr == CS_NR_FUTEX_WAKE ? CS_WKF_WAKER_FUTEX : 0;
}

#endif /* CONCSCOPE_BPF_H */
