/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * arch.h: the kernel's facts that both sides read, in one place: system
 * call numbers, futex operations and which of them wait, where a saved
 * register holds a system call's number and arguments, and the DWARF
 * numbers of the registers the unwinder follows.
 *
 * Included by BPF code (after vmlinux.h: the register macros name struct
 * pt_regs fields) and by user code (after <linux/types.h>). The BPF side
 * is built with -D__TARGET_ARCH_<arch>, user code sees the compiler's own
 * macro; the Makefile detects the architecture. Only x86-64 is described:
 * another architecture stops the build here, saying what to add.
 */
#ifndef CS_ARCH_H
#define CS_ARCH_H

#ifndef __BPF__
#include <stdbool.h>
#include <linux/types.h>
#endif
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#if defined(__TARGET_ARCH_x86) || defined(__x86_64__)

/* system call numbers (arch/x86/entry/syscalls/syscall_64.tbl) */
#define CS_NR_FUTEX 202
#define CS_NR_FUTEX_WAITV 449
#define CS_NR_FUTEX_WAKE 454
#define CS_NR_FUTEX_WAIT 455
/* the ones that wait for any of a set of events (user/episodes.c) */
#define CS_NR_POLL 7
#define CS_NR_SELECT 23
#define CS_NR_EPOLL_WAIT 232
#define CS_NR_PSELECT6 270
#define CS_NR_PPOLL 271
#define CS_NR_EPOLL_PWAIT 281
#define CS_NR_IO_URING_ENTER 426
#define CS_NR_EPOLL_PWAIT2 441

/* struct pt_regs as a blocked task saved it: the call and its arguments */
#define CS_REG_SYSCALL(r) ((r)->orig_ax) /* -1 outside a system call */
#define CS_REG_ARG1(r) ((r)->di)
#define CS_REG_ARG2(r) ((r)->si)
#define CS_REG_ARG3(r) ((r)->dx)
#define CS_REG_ARG4(r) ((r)->r10)
#define CS_REG_ARG5(r) ((r)->r8)
#define CS_REG_IP(r) ((r)->ip)
#define CS_REG_SP(r) ((r)->sp)
#define CS_REG_FP(r) ((r)->bp)

/* DWARF register numbers (the x86-64 psABI): frame pointer, stack pointer, return address */
#define CS_DWARF_FP 6
#define CS_DWARF_SP 7
#define CS_DWARF_RA 16

#else
#error "concscope describes x86-64 only: add this architecture's system call numbers, registers and DWARF numbers to bpf/arch.h (and its unwinding rules to bpf/stacks.bpf.h)"
#endif

/* futex operations (include/uapi/linux/futex.h): the same on every architecture */
#define CS_FUTEX_CMD_MASK 0x7f /* without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME */
#define CS_FUTEX_WAIT 0
#define CS_FUTEX_LOCK_PI 6
#define CS_FUTEX_WAIT_BITSET 9
#define CS_FUTEX_WAIT_REQUEUE_PI 11
#define CS_FUTEX_LOCK_PI2 13

/* A system call of the futex family that can wait (futex() by its op: cs_futex_is_wait). */
static __always_inline bool cs_futex_nr_may_wait(__s16 nr)
{
	return nr == CS_NR_FUTEX || nr == CS_NR_FUTEX_WAIT || nr == CS_NR_FUTEX_WAITV;
}

/* A futex call that waits: futex_wait, futex_waitv, or futex() with a waiting op. */
static __always_inline bool cs_futex_is_wait(__s16 nr, __u32 op)
{
	__u32 cmd = op & CS_FUTEX_CMD_MASK;

	if (nr == CS_NR_FUTEX_WAIT || nr == CS_NR_FUTEX_WAITV)
		return true;
	return nr == CS_NR_FUTEX &&
	       (cmd == CS_FUTEX_WAIT || cmd == CS_FUTEX_WAIT_BITSET || cmd == CS_FUTEX_LOCK_PI ||
		cmd == CS_FUTEX_LOCK_PI2 || cmd == CS_FUTEX_WAIT_REQUEUE_PI);
}

/* A priority-inheritance lock: a mutex by definition. */
static __always_inline bool cs_futex_is_pi_lock(__s16 nr, __u32 op)
{
	__u32 cmd = op & CS_FUTEX_CMD_MASK;

	return nr == CS_NR_FUTEX && (cmd == CS_FUTEX_LOCK_PI || cmd == CS_FUTEX_LOCK_PI2);
}

/* A wait for a word to change from val (futex_wait, or futex() WAIT / WAIT_BITSET). */
static __always_inline bool cs_futex_is_value_wait(__s16 nr, __u32 op)
{
	__u32 cmd = op & CS_FUTEX_CMD_MASK;

	return nr == CS_NR_FUTEX_WAIT ||
	       (nr == CS_NR_FUTEX && (cmd == CS_FUTEX_WAIT || cmd == CS_FUTEX_WAIT_BITSET));
}

#endif
