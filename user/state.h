/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * state.h: the one conversion from the raw prev_state of a sched_switch to
 * what the kernel reports to ftrace, and from that to concscope's states.
 * Used by the core and by the Perfetto writer alike.
 */
#ifndef CS_STATE_H
#define CS_STATE_H

#include <stdbool.h>

/* Reported states, as bits (the kernel's TASK_REPORT layout, >= 4.14). */
#define CS_REPORT_RUNNING 0x000
#define CS_REPORT_S 0x001     /* interruptible sleep */
#define CS_REPORT_D 0x002     /* uninterruptible sleep */
#define CS_REPORT_T 0x004     /* stopped */
#define CS_REPORT_t 0x008     /* traced */
#define CS_REPORT_X 0x010     /* EXIT_DEAD */
#define CS_REPORT_Z 0x020     /* EXIT_ZOMBIE */
#define CS_REPORT_P 0x040     /* parked */
#define CS_REPORT_I 0x080     /* idle: uninterruptible with TASK_NOLOAD */
#define CS_REPORT_PREEMPT 0x100 /* TASK_REPORT_MAX: preempted while running */

/*
 * Per-thread states concscope accounts time to; the same numbers as the
 * BPF side's enum cs_kstate (bpf/concscope.h), which keeps the same totals.
 */
enum cs_tstate {
	CS_ST_RUNNING = 0,
	CS_ST_READY = 1,    /* runnable, waiting for a CPU */
	CS_ST_SLEEP = 2,    /* S, I, stopped, parked */
	CS_ST_IO = 3,       /* D without TASK_NOLOAD */
	CS_ST_LOCK = 4,     /* waiting for a contended lock (kernel, futex mutex, the GIL) */
	CS_ST_UNTRACED = 5, /* the kernel switched it in or out without the tracepoint */
	CS_NACC = 6,        /* states above are accounted */
	CS_ST_UNKNOWN = 6,  /* not yet known: its first event tells */
	CS_ST_NEW = 7,      /* created, not yet woken */
	CS_ST_DEAD = 8,
};

/*
 * The value the kernel's sched_switch trace event reports for prev_state,
 * computed from the raw task state and exit_state the way
 * __trace_sched_switch_state() does: preemption as TASK_REPORT_MAX, idle
 * waits as I, frozen and rtlock waits as D, otherwise the highest reported
 * bit.
 */
unsigned int cs_state_report(bool preempt, unsigned int raw_state,
			     unsigned int exit_state);

/* The state a task enters when it switches out with this reported state. */
enum cs_tstate cs_state_after_switch(unsigned int reported);

/*
 * The kernel's own rule for nvcsw vs nivcsw: a switch is voluntary when it
 * was not a preemption and the task was not running.
 */
bool cs_switch_voluntary(bool preempt, unsigned int raw_state);

/* The ftrace letter of index i of the blocked-by-letter totals (S D T t X Z P I). */
char cs_letter_char(unsigned int i);
/* Its inverse: the index of a state letter (as /proc/PID/stat has it), or -1. */
int cs_letter_from_char(char letter);

/* concscope's state for a /proc/PID/stat state letter. */
enum cs_tstate cs_state_from_proc(char letter);

const char *cs_state_name(enum cs_tstate st);

/*
 * A raw (state, exit_state, preempt) triple that reports as `reported`: the
 * inverse of cs_state_report(), for reading a saved trace back.
 */
void cs_state_unreport(unsigned int reported, unsigned int *raw_state,
		       unsigned int *exit_state, bool *preempt);

#endif
