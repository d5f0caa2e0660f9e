/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * concscope.h: the event records shared by the BPF programs and user space.
 *
 * This header is the ABI between the two sides. Every record starts with
 * struct cs_hdr and carries its own size, so a reader can skip what it does
 * not know. Kind numbers are explicit and never reused: a retired kind keeps
 * its number and is simply never produced again.
 *
 * Kinds below CS_EV_USER_BASE are produced by the BPF programs. Kinds from
 * CS_EV_USER_BASE up are produced by user space (from /proc, from the
 * session, from a saved trace) and travel through the same pipeline, so the
 * core has one input whether it is fed live or from a file.
 *
 * Included by BPF code (after vmlinux.h) and by user code (after
 * <linux/types.h>); it must use only __u8.. __u64 and fixed-size arrays.
 */
#ifndef CONCSCOPE_ABI_H
#define CONCSCOPE_ABI_H

#define CS_COMM_LEN 16
#define CS_LOCK_STACK 6 /* kernel frames kept at lock contention_begin */

enum cs_kind {
	/* produced by BPF */
	CS_EV_SWITCH = 1,      /* every sched_switch on every CPU */
	CS_EV_WAKING = 2,      /* sched_waking / sched_wakeup_new of a tracked task */
	CS_EV_FORK = 3,        /* a tracked task created a task */
	CS_EV_EXEC = 4,        /* a tracked task exec'd */
	CS_EV_EXIT = 5,        /* a tracked task exited */
	CS_EV_MIGRATE = 6,     /* a tracked task moved to another CPU */
	CS_EV_RENAME = 7,      /* a tracked task changed its comm */
	CS_EV_LOCK_BEGIN = 8,  /* lock:contention_begin of a tracked task */
	CS_EV_LOCK_END = 9,    /* lock:contention_end of a tracked task */
	CS_EV_FUTEX_ENTER = 10, /* a tracked task waits in a futex system call */
	CS_EV_FUTEX_EXIT = 11, /* ... and returned from it (only with --futex-syscalls;
				  waits read at the switch, CS_FXF_AT_SWITCH, have none) */

	/* produced by user space */
	CS_EV_USER_BASE = 64,
	CS_EV_THREAD_INFO = 64, /* a thread seen in /proc (attach) or a name */
	CS_EV_MARK = 65,        /* window and model boundaries */
	CS_EV_LOST = 66,        /* events lost on a CPU */
	CS_EV_LOCK_NAME = 67,   /* a resolved name for a lock address */
	CS_EV_KIND_MAX = 68,
};

/* cs_hdr.flags for CS_EV_SWITCH */
#define CS_SWF_PREEMPT 0x01 /* the switch was a preemption */
#define CS_SWF_NEXT_WAIT 0x02 /* aux holds next's run-queue wait (see cs_switch) */
#define CS_WAIT_SHIFT 10      /* ... in units of 1 << CS_WAIT_SHIFT ns (1.024 us) */
#define CS_WAIT_MAX 0xffff    /* that many units (67 ms) or more: not known exactly */

/* cs_hdr.flags for CS_EV_WAKING */
#define CS_WKF_NEW 0x01 /* sched_wakeup_new: first wake-up of a new task */
#define CS_WKF_WAKER_FUTEX 0x02   /* the waker was in a futex call (releasing) */
#define CS_WKF_WAKER_EXITING 0x04 /* the waker was exiting (a joined thread) */

/* cs_hdr.flags for CS_EV_FUTEX_ENTER */
#define CS_FXF_AT_SWITCH 0x01 /* read at the switch that blocked the wait; no
				 FUTEX_EXIT follows: the wait ends when the
				 thread runs again */

/* cs_hdr.flags for CS_EV_LOCK_BEGIN */
#define CS_LKF_MMAP_LOCK 0x01 /* the lock is the task's mm->mmap_lock */

/* cs_hdr.flags for CS_EV_MIGRATE */
#define CS_MGF_QUEUED 0x01 /* moved while on a run queue (not at its wake-up) */

/* cs_hdr.flags for CS_EV_EXIT */
#define CS_EXF_GROUP_DEAD 0x01 /* the last thread of its group: the process is gone */

/* cs_hdr.flags for CS_EV_FORK */
#define CS_FKF_THREAD 0x01 /* the new task is a thread of the same process */

struct cs_hdr {
	__u64 ts;   /* CLOCK_BOOTTIME, ns */
	__u16 size; /* bytes in the whole record, header included */
	__u8 kind;  /* enum cs_kind */
	__u8 flags; /* kind-specific CS_*F_* bits */
	__u16 cpu;  /* the CPU the event happened on */
	__u16 aux;  /* kind-specific small value */
	__u32 tid;  /* the task the event is about (for a switch: prev) */
	__u32 pid;  /* its thread group id */
};

/*
 * Recorded for every task on every CPU so each CPU's chain of who ran is
 * complete. prev_state and prev_exit_state are the raw kernel values: user
 * space turns them into the reported state with cs_state_report() (one
 * conversion, used by the core and by the Perfetto writer).
 */
/*
 * With CS_SWF_NEXT_WAIT (set for a tracked next), aux is how long next waited
 * on this run queue since it was last enqueued, in units of 1.024 us
 * (rounded; CS_WAIT_MAX: that long or more). It is the kernel's own figure
 * (the rq clock minus sched_info.last_queued, the increment schedstat's
 * run-queue wait gets at this switch): the enqueue of a wake-up can come
 * well after its sched_waking (through another CPU's wake list), and only
 * the kernel knows when.
 */
struct cs_switch {
	struct cs_hdr h;        /* tid/pid: prev; flags: CS_SWF_*; aux: see above */
	__u32 next_tid;
	__u32 next_pid;
	__u32 prev_state;       /* raw prev->__state at the switch */
	__s16 syscall;          /* prev's system call at a voluntary switch, -1 none */
	__u8 prev_exit_state;   /* raw prev->exit_state (EXIT_ZOMBIE/EXIT_DEAD) */
	__u8 next_prio;         /* next->prio (0..139) */
	char next_comm[CS_COMM_LEN];
};

struct cs_waking {
	struct cs_hdr h;  /* tid/pid: the woken task; flags: CS_WKF_*; aux: target CPU */
	__u32 waker_tid;  /* current task on h.cpu, 0 from interrupts of idle */
	__u32 waker_pid;
	__u8 prio;
	__u8 pad[7];
};

struct cs_fork {
	struct cs_hdr h;  /* tid/pid: the parent; flags: CS_FKF_* */
	__u32 child_tid;
	__u32 child_pid;
	char child_comm[CS_COMM_LEN];
};

struct cs_exec {
	struct cs_hdr h;  /* tid/pid: the task after exec; aux: unused */
	__u32 old_tid;    /* its tid before exec (differs when a thread exec'd) */
	__u32 pad;
	char comm[CS_COMM_LEN];
};

struct cs_exit {
	struct cs_hdr h;  /* flags: CS_EXF_* */
	__s32 exit_code;  /* raw task->exit_code */
	__u32 pad;
};

struct cs_migrate {
	struct cs_hdr h;  /* aux: destination CPU; the origin is in orig_cpu */
	__u32 orig_cpu;
	__u32 pad;
};

struct cs_rename {
	struct cs_hdr h;
	char comm[CS_COMM_LEN];
};

/* lock:contention_begin/end (kernel locks) */
struct cs_lock {
	struct cs_hdr h;  /* aux: flags of contention_begin (LCB_F_*) */
	__u64 addr;       /* lock address */
	__s32 ret;        /* contention_end's ret, 0 at begin */
	__u32 nstack;     /* valid entries in stack (begin only) */
	__u64 stack[CS_LOCK_STACK];
};

/* futex system calls of tracked tasks */
struct cs_futex {
	struct cs_hdr h;  /* aux: system call number */
	__u64 uaddr;
	__s64 ret;        /* return value at exit, 0 at entry */
	__u32 op;         /* futex op (FUTEX_* with flags) or futex2 flags */
	__u32 val;        /* expected value (wait) or count (wake) */
	__u32 timed;      /* 1 when a timeout was given */
	__u32 pad;
};

/* ---- user-space records ---- */

/* cs_thread_info.state: the state letter of /proc/PID/task/TID/stat */
struct cs_thread_info {
	struct cs_hdr h;  /* tid/pid; aux: last CPU from stat */
	__u32 ppid;
	__u8 state;       /* 'R', 'S', 'D', 'I', 'T', ..., or 0 for "name only" */
	__u8 pad;
	__s16 syscall;    /* from /proc/PID/task/TID/syscall when blocked, -1 none */
	char comm[CS_COMM_LEN];
};

enum cs_mark_kind {
	CS_MARK_WINDOW_BEGIN = 1,
	CS_MARK_WINDOW_END = 2,
	CS_MARK_MODEL_BEGIN = 3,
	CS_MARK_MODEL_END = 4,
	CS_MARK_TRACK = 5, /* h.tid's thread group is tracked from h.ts on */
	CS_MARK_CMD_EXIT = 6, /* value: the command's wait status */
	/*
	 * A segment is what one core was fed: from SEGMENT_BEGIN to SEGMENT_END
	 * (value: the end time the core was finished with). A saved trace is
	 * replayed segment by segment into fresh cores.
	 */
	CS_MARK_SEGMENT_BEGIN = 7,
	CS_MARK_SEGMENT_END = 8,
	CS_MARK_ARG = 9,      /* text: one argument of the traced command; value: its index */
	CS_MARK_ATTACH = 10,  /* value: the pid attach traced */
};

#define CS_MARK_TEXT 48
struct cs_mark {
	struct cs_hdr h;  /* aux: enum cs_mark_kind */
	__s64 value;
	char text[CS_MARK_TEXT];
};

struct cs_lost {
	struct cs_hdr h;  /* cpu: the CPU, or 0xffff for "not per CPU" */
	__u64 count;
};

#define CS_LOCK_NAME_LEN 64
struct cs_lock_name {
	struct cs_hdr h;  /* aux: 1 for kernel, 2 for user space */
	__u64 addr;
	char name[CS_LOCK_NAME_LEN];
};

/* BPF per-CPU stats map slots */
enum cs_stat {
	CS_STAT_RB_FULL = 0, /* records that could not be reserved */
	CS_STAT_MAX,
};

#endif /* CONCSCOPE_ABI_H */
