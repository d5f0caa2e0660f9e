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
#define CS_LOCK_STACK 8 /* kernel frames kept at lock contention_begin (a power of two) */
#define CS_WAKE_STACK 8 /* kernel frames kept of a wake-up from an interrupt */

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
	CS_EV_LOST = 66,        /* events lost on a CPU (from BPF too, right after the gap) */
	CS_EV_LOCK_NAME = 67,   /* a resolved name for a lock address */
	CS_EV_THREAD_TOTALS = 68, /* a thread's totals as the kernel side kept them */
	CS_EV_CPU_STATE = 69,   /* who runs on a CPU since when, at a segment's start */
	CS_EV_LOCK_CLASS = 70,  /* addresses of a process that are a known lock (the GIL) */
	CS_EV_WAKE_SOURCE = 71, /* the name of an interrupt wake-up source */
	CS_EV_TITLE = 72,       /* a process's title: its arguments as it rewrote them */
	CS_EV_TASK_SCHED = 73,  /* a thread's scheduling policy, nice value and cgroup */

	/* stacks (--stacks): 80..82, see "call stacks" below */
	CS_EV_STACK = 80,       /* BPF: a thread's stack at a blocking switch or a lock wait */
	CS_EV_STACK_DEF = 81,   /* BPF: a stack's frames, the first time its id is seen */
	CS_EV_FRAME_NAME = 82,  /* user space: a frame's name, after the recording */
	CS_EV_KIND_MAX = 83,
};

/* cs_hdr.flags for CS_EV_SWITCH */
#define CS_SWF_PREEMPT 0x01 /* the switch was a preemption */
#define CS_SWF_NEXT_WAIT 0x02 /* aux holds next's run-queue wait (traces of version 2 only) */
#define CS_SWF_LOCK 0x04      /* prev blocks waiting for a lock (see CS_SWF_VERDICT) */
#define CS_SWF_VERDICT 0x08   /* the tracer decided CS_SWF_LOCK (else the reader derives it) */
#define CS_SWF_WOKEN 0x10     /* prev's block ends at the next wake-up of it, stamped after this
				 switch, though the tracer ran that wake-up first (its record
				 says it ended nothing): the tracer's totals count it ended */

/* cs_hdr.flags for CS_EV_WAKING */
#define CS_WKF_NEW 0x01 /* sched_wakeup_new: first wake-up of a new task */
#define CS_WKF_WAKER_FUTEX 0x02   /* the waker was in a futex call (releasing) */
#define CS_WKF_WAKER_EXITING 0x04 /* the waker was exiting (a joined thread) */
#define CS_WKF_HARDIRQ 0x08 /* run from a hard interrupt: waker_tid is the task it interrupted */
#define CS_WKF_SOFTIRQ 0x10 /* run from a softirq: likewise */
#define CS_WKF_NMI 0x20
#define CS_WKF_ENDED 0x40   /* with CS_WKF_VERDICT: it ended a block (the totals count it) */
#define CS_WKF_VERDICT 0x80 /* the tracer's own state machine judged it (CS_WKF_ENDED): two
			       CPUs can see a wake-up and a switch-out in the other order
			       than their timestamps, and the reader must agree */

/* cs_hdr.flags for CS_EV_FUTEX_ENTER */
#define CS_FXF_AT_SWITCH 0x01 /* read at the switch that blocked the wait; no
				 FUTEX_EXIT follows: the wait ends when the
				 thread runs again */
/* 0x02: unused (earlier versions set it on waits the tracer counted as
 * contention; no reader looked at it, and user/locks.c classifies waits itself) */

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
 * (rounded; 0xffff, 67 ms: that long or more). It is the kernel's own figure
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
	__u32 waker_tid;  /* current task on h.cpu (0: idle); with CS_WKF_*IRQ the task
			     the interrupt came upon, not the waker */
	__u32 waker_pid;
	__u8 prio;
	__u8 letter;      /* the woken task's reported state, cs_letter_index() + 1 (0: not sent) */
	__u8 pad[2];
	__u32 source;     /* with CS_WKF_*IRQ: the kernel stack's id + 1 (0: unknown),
			     named by a CS_EV_WAKE_SOURCE record */
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
	CS_MARK_TRACER = 11,  /* text: a fact of the tracer's own ("own_lock", "slots_taken",
				 ...); value: its value */
	CS_MARK_END = 12,     /* value: why the recording ended (enum cs_end_reason) */
	CS_MARK_SYSTEM = 13,  /* text: what the machine said over the window ("steal_ns",
				 "throttled_ns", "throttled_periods"); value: its value */
};

enum cs_end_reason {
	CS_END_EXITED = 1,      /* the target (run's command, attach's process) exited */
	CS_END_DURATION = 2,    /* attach's duration ended */
	CS_END_INTERRUPTED = 3, /* a signal (Ctrl-C, kill) stopped concscope */
};

#define CS_MARK_TEXT 48
struct cs_mark {
	struct cs_hdr h;  /* aux: enum cs_mark_kind */
	__s64 value;
	char text[CS_MARK_TEXT];
};

/*
 * Records lost on a CPU. The BPF side writes one into the ring with that
 * CPU's next record that fits, so it comes right where the gap is; user
 * space counts what is left at a segment's end, and what failed validation
 * or was skipped (cpu 0xffff).
 */
struct cs_lost {
	struct cs_hdr h;  /* cpu: the CPU, or 0xffff for "not per CPU"; ts: the last loss */
	__u64 count;
	__u64 first_ts;   /* the first loss counted here (0: not known) */
	__u64 upto;       /* the CPU's losses so far, these included (0: not known) */
};

/* Per CPU: records the ring buffer could not take, and when (BPF side). */
struct cs_loss {
	__u64 count;
	__u64 in_ring;    /* how many of them a LOST record in the ring reports */
	__u64 first_ts;   /* the first loss not yet reported */
	__u64 last_ts;
};

#define CS_LOCK_NAME_LEN 64
struct cs_lock_name {
	struct cs_hdr h;  /* aux: 1 for kernel, 2 for user space */
	__u64 addr;
	char name[CS_LOCK_NAME_LEN];
};

/*
 * ---- the kernel side's own per-thread totals ----
 *
 * The programs that emit the events also keep, per tracked thread, the
 * totals the core derives from them (time in each state, switches,
 * wake-ups), by the same rules, so that they stay exact when the ring
 * buffer loses events; and the kernel's own CPU time and run-queue wait.
 * The table is an array indexed by tid (modulo its size) that user space
 * maps; an exited thread's slot is moved to a queue until user space reads it.
 */
enum cs_kstate {
	CS_KS_RUNNING = 0,
	CS_KS_READY = 1,
	CS_KS_SLEEP = 2,
	CS_KS_IO = 3,
	CS_KS_LOCK = 4,
	CS_KS_UNTRACED = 5,  /* switched in or out without the tracepoint saying so */
	CS_KS_NACC = 6,      /* states above are accounted */
	CS_KS_UNKNOWN = 6,   /* not yet known: the first event tells */
	CS_KS_NEW = 7,       /* created, not yet woken */
	CS_KS_DEAD = 8,
};

/* word: since << CS_KW_SHIFT | state; one 64-bit word, updated atomically */
#define CS_KW_SHIFT 4
#define CS_KW_STATE(w) ((unsigned int)((w) & 15))
#define CS_KW_SINCE(w) ((w) >> CS_KW_SHIFT)
#define CS_KW(since, st) (((__u64)(since) << CS_KW_SHIFT) | (st))

#define CS_NLETTERS 8 /* blocked time by the reported state's bit: S D T t X Z P I */

/* cs_kthread.flags */
#define CS_KTF_EXITING 0x01 /* sched_process_exit seen */
#define CS_KTF_CPU_BASE 0x02 /* cpu_base/rd_base are set */

struct cs_kthread {
	__u64 word;             /* current state and when it began */
	__u32 tid, pid;         /* owner; tid 0: a free slot */
	__u64 ns[CS_KS_NACC];   /* time in each state, inside the window */
	__u64 blocked_ns[CS_NLETTERS];
	__u64 cpu_base, cpu_last; /* se.sum_exec_runtime at the window's start, at the last switch */
	__u64 rd_base, rd_last;   /* sched_info.run_delay, likewise */
	__u64 kwait;            /* kernel lock being waited for (first contention_begin), 0 none */
	__u64 woke_at;          /* a wake-up that found it running: its time (see kwake), 0 none */
	__u32 nvcsw, nivcsw, wakeups, migrations;
	__u32 flags;
	__u32 gen;              /* the session's segment when the slot was taken */
};

/* A thread's totals as the kernel side kept them (user space, from cs_kthread). */
struct cs_thread_totals {
	struct cs_hdr h;        /* tid/pid; ts: when read; flags: CS_TTF_*; aux: the letter
				   index of the open state when it is a blocked one */
	__u64 word;             /* the open state and its start (cs_kthread.word) */
	__u64 ns[CS_KS_NACC];
	__u64 blocked_ns[CS_NLETTERS];
	__u64 cpu_ns, run_delay_ns; /* the kernel's, over the window */
	__u32 nvcsw, nivcsw, wakeups, migrations;
};
#define CS_TTF_EXITED 0x01 /* read from the exited queue: final */
#define CS_TTF_FIGURES 0x02 /* cpu_ns and run_delay_ns were read (an event inside the window) */

/* Who runs on a CPU, since when, as the record stream knows it. */
struct cs_cpu_state {
	struct cs_hdr h;        /* cpu; tid/pid: the task on it; ts: the segment's start */
	__u64 since;
	__u8 known;
	__u8 pad[7];
};

/* A range of a process's addresses that is one known lock. */
enum cs_lock_class_kind { CS_LC_GIL = 1 };
struct cs_lock_class {
	struct cs_hdr h;        /* pid; aux: enum cs_lock_class_kind; ts: from when */
	__u64 lo, hi;           /* [lo, hi) */
};

#define CS_WAKE_SOURCE_LEN 40
struct cs_wake_source {
	struct cs_hdr h;        /* aux: unused; ts: first use */
	__u32 id;               /* cs_waking.source */
	__u32 pad;
	char name[CS_WAKE_SOURCE_LEN]; /* "timer", "softirq net_rx", "irq: blk_mq_...", ... */
};

/*
 * A process's title, read from /proc/PID/cmdline while it lives: its
 * arguments joined by spaces, when the program rewrote them after its exec
 * (setproctitle: PostgreSQL, nginx, stress-ng show their role there); ""
 * when they read as it was started again.
 */
#define CS_TITLE_LEN 128
struct cs_title {
	struct cs_hdr h;        /* tid = pid: the process; ts: when it was read */
	char title[CS_TITLE_LEN];
};

/* A thread's scheduling as /proc/PID/task/TID/{stat,cgroup} gave it. */
#define CS_CGROUP_LEN 128
struct cs_task_sched {
	struct cs_hdr h;        /* tid/pid; aux: the policy (SCHED_OTHER 0, FIFO 1, RR 2,
				   BATCH 3, IDLE 5, DEADLINE 6); ts: when it was read */
	__s32 nice;             /* -20..19 */
	__u32 rt_priority;      /* 1..99 for FIFO and RR, else 0 */
	char cgroup[CS_CGROUP_LEN]; /* its cgroup v2 path (its v1 cpu cgroup), or "" */
};

/*
 * The state a switch reports for prev, as the kernel's sched_switch event
 * does (__trace_sched_switch_state()): preemption as TASK_REPORT_MAX (0x100),
 * idle waits as I (0x80), frozen and rtlock waits as D, else the highest of
 * the reported bits R S D T t X Z P. One definition for the BPF programs and
 * user space.
 */
#define CS_TASK_REPORT 0x7f
#define CS_TASK_IDLE 0x402      /* TASK_UNINTERRUPTIBLE | TASK_NOLOAD */
#define CS_TASK_RTLOCK_FROZEN 0x9000 /* TASK_RTLOCK_WAIT | TASK_FROZEN */

static inline unsigned int cs_report_state(int preempt, unsigned int raw, unsigned int exit_state)
{
	unsigned int st;

	if (preempt)
		return 0x100;
	st = (raw | exit_state) & CS_TASK_REPORT;
	if (raw & CS_TASK_RTLOCK_FROZEN)
		return 0x2;
	if ((raw & CS_TASK_IDLE) == CS_TASK_IDLE)
		return 0x80;
	/* the highest set bit, without a loop */
	if (st & 0x40) return 0x40;
	if (st & 0x20) return 0x20;
	if (st & 0x10) return 0x10;
	if (st & 0x08) return 0x08;
	if (st & 0x04) return 0x04;
	if (st & 0x02) return 0x02;
	return st & 0x01;
}

/* The bit's index in CS_NLETTERS order (S=0 ... I=7), for a reported blocked state. */
static inline unsigned int cs_letter_index(unsigned int reported)
{
	unsigned int hi = (reported > 0xf) << 2, mid, lo;

	reported = (reported >> hi) & 0xf;
	mid = (reported > 0x3) << 1;
	reported >>= mid;
	lo = reported > 0x1;
	return hi + mid + lo;
}

/*
 * ---- call stacks (--stacks) ----
 *
 * At each blocking switch-out of a tracked thread and at each kernel lock
 * contention_begin, the BPF side takes the kernel stack (bpf_get_stack)
 * and unwinds the user stack itself, from unwind tables user space built
 * from each mapped file's .eh_frame (no frame pointers needed). The stack
 * is deduplicated in the kernel: its id is a hash of its frames, a
 * CS_EV_STACK_DEF record carries the frames the first time an id is seen,
 * and every capture is one small CS_EV_STACK record with the same
 * timestamp as the record it belongs to (the SWITCH, the FUTEX_ENTER read
 * at that switch, the LOCK_BEGIN), written just before it.
 *
 * A stack's frames are kernel frames, then user frames, innermost first.
 * Names come after the recording as CS_EV_FRAME_NAME records, keyed by
 * (pid, address) (pid 0: kernel), so a saved trace carries them. A later
 * kind of frame (an interpreter's, e.g. CPython's, issue #20) is a third
 * run of frames (nother, between kernel and user: above the native frames
 * that run the interpreter) whose "addresses" are the interpreter's own
 * keys, named by FRAME_NAME records with CS_FNF_OTHER.
 *
 * CPython 3.11's key (CS_PY_KEY): the code object's address in the low 47
 * bits, the frame's instruction index (code units past the code's first)
 * above them; user space names it "file:line function" from the code
 * object, read while the process lives.
 */
#define CS_PY_LASTI_SHIFT 47
#define CS_PY_LASTI_MAX 0x1ffffull
#define CS_PY_KEY(code, lasti) ((code) | ((__u64)(lasti) << CS_PY_LASTI_SHIFT))
#define CS_STACK_KERNEL 16 /* kernel frames kept */
#define CS_STACK_USER 32   /* user frames unwound */
#define CS_STACK_PY 24     /* CPython frames read (#20) */
#define CS_STACK_PART 16   /* frames per CS_EV_STACK_DEF record */

/* cs_stack.h.aux: where the stack was taken */
enum cs_stack_where { CS_STK_SWITCH = 1, CS_STK_LOCK = 2 };
/* cs_stack.h.flags and cs_stack_def.h.flags */
#define CS_STF_NO_TABLE 0x01  /* the user stack stops at an address no table covers */
#define CS_STF_BAD_READ 0x02  /* ... at a stack word that could not be read */
#define CS_STF_TRUNCATED 0x04 /* ... after CS_STACK_USER frames */
#define CS_STF_NO_USER 0x08   /* no user stack (a kernel thread, no registers) */
#define CS_STF_PY_TRUNCATED 0x10 /* more than CS_STACK_PY Python frames: the outer ones are left out */

struct cs_stack {
	struct cs_hdr h;    /* tid/pid; ts: that of the record it belongs to; aux: where */
	__u64 id;           /* the stack (cs_stack_def.id); 0: none could be taken */
};

struct cs_stack_def {
	struct cs_hdr h;    /* pid: whose addresses the user frames are; aux: part index */
	__u64 id;
	__u16 nkernel, nuser; /* frames of the whole stack */
	__u16 nother;       /* CPython frames (#20), between the kernel and user ones */
	__u16 n;            /* frames in this part: [aux * CS_STACK_PART, + n) */
	__u64 pcs[CS_STACK_PART];
};

#define CS_FRAME_NAME_LEN 160 /* the largest that keeps struct cs_frame_name within CS_REC_MAX */
#define CS_FNF_KERNEL 0x01  /* a kernel address (pid 0) */
#define CS_FNF_OTHER 0x02   /* an interpreter's frame (#20) */
#define CS_FNF_MODULE 0x04  /* no symbol: "module+0xoffset" */
#define CS_FNF_LIB 0x08     /* in a system library (/lib, /usr/lib): the terminal view
			       shows such frames only where the program calls them */
#define CS_STACK_NONE 0ull  /* no stack was taken */
#define CS_STACK_BEFORE (~0ull) /* blocked since before the window: not known */
struct cs_frame_name {
	struct cs_hdr h;    /* pid (0: kernel); flags: CS_FNF_* */
	__u64 addr;
	char name[CS_FRAME_NAME_LEN];
};

/*
 * One row of an unwind table: from pc (the file's virtual address) on,
 * until the next row, the caller's frame is found by this rule.
 */
enum cs_uw_type {
	CS_UW_RSP = 0,  /* CFA = rsp + cfa */
	CS_UW_RBP = 1,  /* CFA = rbp + cfa */
	CS_UW_PLT = 2,  /* a PLT entry: CFA = rsp + 8, + 8 once (pc & 15) >= cfa */
	CS_UW_END = 3,  /* the outermost frame: the return address is undefined */
	CS_UW_NONE = 4, /* no rule here (between functions, or one we cannot follow) */
};
struct cs_uw_row {
	__u32 pc;
	__s32 cfa;
	__s16 rbp;      /* rbp is saved at CFA + rbp; 0: unchanged */
	__u8 type;      /* enum cs_uw_type */
	__u8 pad;
	__u32 pad2;     /* an array map's elements are 8-byte aligned: its mapping's stride */
};
struct cs_uw_table {
	__u32 first, n; /* rows [first, first + n) of the rows map, sorted by pc */
};
#define CS_UW_MAPS 32
struct cs_uw_map {
	__u64 start, end; /* [start, end): an executable mapping */
	__u64 bias;       /* the table's pc = address - bias */
	__u32 table;      /* index in the tables map; 0: none */
	__u32 pad;
};
struct cs_uw_proc {
	__u32 n;          /* maps, sorted by start */
	__u32 gen;
	struct cs_uw_map m[CS_UW_MAPS];
};

/* BPF per-CPU stats map slots */
enum cs_stat {
	CS_STAT_RB_FULL = 0, /* retired: records lost are in the losses map (struct cs_loss) */
	CS_STAT_SLOT_TAKEN = 1, /* a thread's slot belonged to another live thread */
	CS_STAT_EXITED_FULL = 2, /* an exited thread's totals did not fit the queue */
	CS_STAT_OWN_LOCK = 3,    /* lock contention inside our own programs, left out */
	CS_STAT_MAX,
};

#endif /* CONCSCOPE_ABI_H */
