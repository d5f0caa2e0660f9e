/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * critpath.h: the critical path of a recording: where a thread's wall time
 * went, across threads and processes.
 *
 * A recorder, set as the core's observer (core.h), keeps every tracked
 * thread's state intervals as the core closes them, compactly, under a
 * memory cap: past it, the oldest intervals are dropped (whole chunks,
 * oldest first; counted). After cs_core_finish(), the walk starts where the
 * chosen thread ended and goes back in time to the window's start: through
 * the thread's own running, ready and blocked time; at a block that a
 * wake-up from another traced task ended, over to that waker at the instant
 * of the wake-up, and on back from there; through a new thread's start, to
 * the task that created it. A block an interrupt ended (a timer, an I/O
 * completion) or a task we do not trace stays on the thread, named. So the
 * path is one chain of contiguous stretches from the window's start to the
 * end, each one thread in one state.
 *
 * Pure: no file, terminal or BPF. critpath_show.c renders it.
 */
#ifndef CS_CRITPATH_H
#define CS_CRITPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core.h"

#define CS_CRITPATH_CAP (8u << 20) /* bytes of intervals kept by default (about 260,000) */

struct cs_critpath_cfg {
	bool on;            /* record the intervals */
	uint32_t tid;       /* the thread to walk back from; 0: the command's end (run) */
	size_t cap_bytes;   /* memory for intervals; 0: CS_CRITPATH_CAP */
};

/* cs_core_cfg.on_new: record the new core's intervals (arg: a struct cs_critpath_cfg). */
void cs_critpath_attach(struct cs_core *c, const void *arg);

/* cs_cp_seg.flags */
#define CS_CPF_WOKEN 0x01    /* a block a wake-up ended (who: the waker, or its source) */
#define CS_CPF_IRQ 0x02      /* ... from an interrupt: source names it; the walk stays */
#define CS_CPF_UNSEEN 0x04   /* ... from a task whose time then we have not (not traced,
				or its records lost): the walk stays on the thread */
#define CS_CPF_NOT_KEPT 0x08 /* untraced: the intervals were dropped over the memory cap */
#define CS_CPF_NO_DATA 0x10  /* untraced: nothing was recorded of the thread then */
#define CS_CPF_HOLDER 0x20   /* ready: who is the task that held the CPU longest in the wait */

/* One stretch of the path: one thread in one state. */
struct cs_cp_seg {
	uint64_t start, dur;
	uint32_t tid, pid;
	uint8_t state;       /* CS_ST_RUNNING .. CS_ST_UNTRACED */
	uint8_t flags;       /* CS_CPF_* */
	int16_t syscall;     /* blocked: the system call, -1 none */
	uint32_t who;        /* ready (with CS_CPF_HOLDER): the task that held the CPU
				longest in that wait (0: idle); blocked and woken: the waker */
	uint32_t source;     /* woken by an interrupt: its source (cs_core_wake_source) */
	uint8_t lock_space;  /* blocked in a wait: CS_SPACE_*, 0 none */
	uint8_t lock_kind;
	uint64_t lock_addr;
};

struct cs_cp_path {
	uint32_t tid;           /* the thread the walk began at */
	uint64_t start, end;    /* the window's start; where the walk began */
	struct cs_cp_seg *segs; /* in time order, contiguous: they cover [start, end) */
	size_t nsegs;
	/* the waits the path explains by their wakers (not on it themselves), in
	 * the order of their wake-ups: a thread's block from where its
	 * explanation starts to the wake-up (who: the waker) */
	struct cs_cp_seg *waits;
	size_t nwaits;
	uint64_t jumps;         /* wake-ups (and thread starts) followed to another thread */
	uint64_t kept, dropped; /* intervals kept, and dropped over the memory cap */
	uint64_t refused;       /* intervals not kept: no memory for them at all */
	size_t cap_bytes;
};

/* The recorder behind a core, or NULL. */
struct cs_critpath *cs_critpath_of(const struct cs_core *c);
const struct cs_critpath_cfg *cs_critpath_cfg(const struct cs_critpath *cp);

/*
 * The path back from thread tid's end (its exit, or the window's end) to the
 * window's start; 0, -ENOMEM, or -ESRCH when tid was not traced. After
 * cs_core_finish(). Free with cs_cp_path_free().
 */
int cs_critpath_walk(struct cs_critpath *cp, const struct cs_core *c, uint32_t tid,
		     struct cs_cp_path *out);
void cs_cp_path_free(struct cs_cp_path *p);

/*
 * The thread a run's path starts from: the last thread of the command's
 * process to exit (the one whose exit closed the window), else its main
 * thread; 0 when the core has no command.
 */
uint32_t cs_critpath_run_tid(const struct cs_core *c);

/*
 * The path this recording asks for, computed once and kept with the
 * recorder: the chosen thread's (cfg.tid), or with is_run the command's;
 * NULL when there is none (no recorder, no thread chosen, not traced).
 */
const struct cs_cp_path *cs_critpath_get(const struct cs_core *c, bool is_run);

#endif
