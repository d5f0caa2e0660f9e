/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * core_priv.h: the core's private state, shared by its own files only:
 * core.c (the thread state machine, run queues, timeline, results) and
 * locks.c (futex and kernel lock waits, the lock table). No other module
 * includes it; renderers and exporters read results through core.h. Unit
 * tests of the core's internals may include it, and say so.
 */
#ifndef CS_CORE_PRIV_H
#define CS_CORE_PRIV_H

#include "core.h"
#include "hashmap.h"
#include "stacks.h"

#define NOT_SET UINT64_MAX
#define CS_KWAIT_DEPTH 4     /* nested kernel lock waits kept per thread */
#define CS_PREEMPT_RING 8    /* preempted stretches kept per thread (lock holders') */

/* One wait in progress (futex call or kernel lock contention). */
struct cs_wait {
	uint64_t addr;
	uint64_t begin;
	uint32_t waker;        /* who woke the thread during the wait */
	uint8_t waker_flags;   /* CS_WKF_WAKER_* of that wake-up */
	uint8_t kind;
	bool blocked;          /* the thread switched out while waiting */
	bool at_switch;        /* read at the blocking switch: ends when it runs */
	bool timed;            /* the wait had a timeout */
	uint64_t stack;        /* the stack it waits at (--stacks; stacks.h), 0 none */
};

/*
 * A tracked thread as the core keeps it: its public results (what
 * cs_core_thread() hands out) and the state machine's working fields.
 */
struct cs_thread_priv {
	struct cs_thread pub;
	uint8_t state;        /* enum cs_tstate */
	uint8_t letter;       /* blocked: the reported state's index (cs_letter_index) */
	char proc_state;      /* its state letter in /proc when the window opened, or 0 */
	bool has_k;           /* k holds the BPF side's totals */
	struct cs_thread_totals k;
	bool early_wake;      /* woken while we still saw it running (see on_waking) */
	uint8_t early_flags;
	uint32_t early_waker;
	bool woken_late;      /* its switch-out said CS_SWF_WOKEN: the next wake-up ends the block */
	uint16_t cpu;         /* last known CPU */
	int16_t block_syscall; /* system call of the current block, -1 none */
	uint64_t since;       /* when the current state began */
	uint64_t wait_from;   /* ready: start of the wait not yet charged to a holder */
	uint64_t preempt_since; /* ready since a preemption (else 0) */
	struct { uint64_t a, b; } preempted[CS_PREEMPT_RING]; /* its last preempted stretches */
	uint32_t npreempted;  /* how many were ever kept (the ring's next slot, mod its size) */

	struct cs_wait fwait; /* futex wait in progress, if in_futex */
	bool in_futex;
	uint8_t nkwait;
	struct cs_wait kwait[CS_KWAIT_DEPTH];
	/* --stacks (stacks.c): the last stack taken, and the current block's */
	uint64_t stk_id, stk_ts, block_stk;
	uint8_t stk_where;
	bool seen_block;
};

/* The core's own view of a thread it handed out (tests of its internals). */
static inline const struct cs_thread_priv *cs_thread_priv_of(const struct cs_thread *t)
{
	return (const struct cs_thread_priv *)((const char *)t -
					       offsetof(struct cs_thread_priv, pub));
}

/* One change of the profile's counts (profile.c). */
struct cs_prof_change {
	uint64_t ts;
	uint32_t pidx;     /* the process's index in procs */
	int8_t drun, dready;
};

/* A process's profile as it accumulates. */
struct cs_proc_prof {
	struct cs_proc_profile pub;
	int run, ready;    /* its threads running and ready now */
	uint64_t last;     /* its cells hold the time up to here */
};

/* The parallelism profile as it accumulates (profile.c). */
struct cs_prof {
	int run, ready;    /* the target's threads running and ready now */
	uint64_t last;     /* cells hold the time up to here */
	uint64_t cells[(CS_PROF_RUN + 1) * (CS_PROF_READY + 1)];
	struct cs_proc_prof *procs;
	size_t nprocs, capprocs;
	struct cs_hmap pidx;  /* pid -> index in procs */
	struct cs_prof_change *log; /* recent changes, in time order */
	size_t nlog, caplog;
	uint64_t log_floor;  /* changes before this were dropped from the log */
	uint64_t approx_ns;  /* corrected time placed at the log's oldest counts */
};

struct cs_cpu {
	uint32_t cur;      /* tid running here */
	uint32_t cur_pid;  /* its process */
	bool known;        /* cur/since come from a switch seen on this CPU */
	uint64_t since;    /* when cur started running */
	struct cs_thread_priv **ready; /* tracked threads waiting in this run queue */
	unsigned int nready, capready;
};

struct cs_core {
	struct cs_core_cfg cfg;
	struct cs_core_stats stats;
	uint64_t wb, we;     /* recording window */
	uint64_t last_ts;
	uint64_t tl_width;
	int cmd_status;
	int end_reason;         /* enum cs_end_reason, 0: not said */
	uint32_t root;          /* the WINDOW_BEGIN mark's pid */
	struct cs_core_observer obs; /* obs.interval NULL: none (core_observe.c) */
	const struct cs_waking *waking; /* the wake-up ending the block being closed */

	struct cs_thread_priv **threads;
	size_t nthreads, capthreads;
	struct cs_hmap tidx;     /* tid -> index in threads */
	struct cs_hmap tracked;  /* tgid -> 1 */
	struct cs_hmap nameidx;  /* tid -> index in names */
	char (*names)[CS_COMM_LEN];
	size_t nnames, capnames;
	struct cs_hmap titleidx; /* pid -> index in titles */
	char (*titles)[CS_TITLE_LEN];
	size_t ntitles, captitles;

	struct cs_cpu *cpus;
	unsigned int ncpus;
	struct cs_prof prof;
	struct cs_other *other; /* tasks outside the target that held our CPUs */
	size_t nother, capother;
	struct cs_hmap otheridx; /* pid -> index in other */
	bool finished;
	struct cs_core_slices slices;

	struct cs_tracer_fact facts[CS_MAX_FACTS];
	unsigned int nfacts;
	struct cs_tracer_fact sysfacts[CS_MAX_FACTS];
	unsigned int nsysfacts;
	struct cs_loss_window losses[CS_LOSS_WINDOWS];
	size_t nlosses;
	uint64_t *lost_by_cpu;  /* [nlost_cpus + 1]: the last is "not per CPU" */
	unsigned int nlost_cpus;
	struct { uint32_t id, canon; char name[CS_WAKE_SOURCE_LEN]; } *sources; /* interrupt
										    wake-up sources */
	size_t nsources, capsources;
	struct cs_hmap sourceidx; /* id -> index in sources */

	/* the lock table, locks.c's */
	struct cs_lock_range { uint32_t pid; uint64_t lo, hi; } *classes; /* the GILs */
	size_t nclasses, capclasses;
	struct cs_lockstat *locks;
	size_t nlocks, caplocks;
	struct cs_hmap lockidx; /* (addr, pid | space << 32) -> index in locks */

	struct cs_stacks *stacks; /* --stacks: stacks.c's, NULL without */
};

/* ---- time accounting (both files) ---- */

static inline bool in_window(const struct cs_core *c, uint64_t ts)
{
	return c->wb != NOT_SET && ts >= c->wb && (c->we == NOT_SET || ts <= c->we);
}

/* Clip [a, b) to the window; returns its length (0 outside). */
static inline uint64_t clip(const struct cs_core *c, uint64_t *a, uint64_t *b)
{
	if (c->wb == NOT_SET)
		return 0;
	if (*a < c->wb)
		*a = c->wb;
	if (c->we != NOT_SET && *b > c->we)
		*b = c->we;
	return *b > *a ? *b - *a : 0;
}

/* ---- core.c, for its other files ---- */

/* A task outside the target (pid, tid) held a CPU a ready thread waited for, ns. */
void cs_core_other_add(struct cs_core *c, uint32_t pid, uint32_t tid, uint64_t ns);

/* ---- profile.c, for states.c and core.c ---- */

/* t goes from state from to state to at ts (in time order). */
void cs_prof_enter(struct cs_core *c, const struct cs_thread_priv *t, unsigned int from,
		   unsigned int to, uint64_t ts);
/* t's state was counted wrong over [a, now): it was running (+1) or not (-1) more than
 * counted, and ready likewise. */
void cs_prof_fix(struct cs_core *c, const struct cs_thread_priv *t, int drun, int dready,
		 uint64_t a, uint64_t now);
void cs_prof_finish(struct cs_core *c);
void cs_prof_free(struct cs_core *c);

/* ---- episodes.c, for core.c ---- */

/* t's interval [a, b) in state st, inside the window, just closed (in time order). */
void cs_ep_account(struct cs_core *c, struct cs_thread_priv *t, unsigned int st, uint64_t a,
		   uint64_t b);
void cs_ep_finish(struct cs_core *c, struct cs_thread_priv *t);

/* ---- core.c, for locks.c ---- */

/* The thread of tid, or NULL. */
struct cs_thread_priv *cs_core_find_thread(const struct cs_core *c, uint32_t tid);
/* The thread for a tracked task, created on first sight; NULL if untracked. */
struct cs_thread_priv *cs_core_tracked_thread(struct cs_core *c, uint32_t tid, uint32_t pid,
					      uint64_t ts);

/* ---- core.c, for states.c ---- */

/* Add [a, b), clipped to the window, to t's time in st (and its timeline). */
uint64_t cs_core_account(struct cs_core *c, struct cs_thread_priv *t, unsigned int st,
			 uint64_t a, uint64_t b);
struct cs_cpu *cs_core_cpu(struct cs_core *c, unsigned int cpu);
void cs_core_ready_enter(struct cs_core *c, struct cs_thread_priv *t, uint64_t ts);
void cs_core_ready_leave(struct cs_core *c, struct cs_thread_priv *t);
void cs_core_set_name(struct cs_core *c, uint32_t tid, const char *comm);
void cs_core_set_comm(struct cs_core *c, struct cs_thread_priv *t, uint32_t tid, const char *comm);

/* The source id a wake-up is credited to: the first one of its name. */
uint32_t cs_core_wake_source_id(const struct cs_core *c, uint32_t id);

/* ---- core_observe.c: telling the observer (core.h), for core.c and states.c ---- */

/* An interval of t closed (already clipped to the window) in state st. */
void cs_core_observe(struct cs_core *c, const struct cs_thread_priv *t, unsigned int st,
		     uint64_t a, uint64_t b);
/* t, new, had its first wake-up at ts (e: that wake-up). */
void cs_core_observe_new(struct cs_core *c, const struct cs_thread_priv *t,
			 const struct cs_waking *e, uint64_t ts);
/* t, ready, waited [a, b) (clipped) while holder ran on its CPU. */
static inline void cs_core_observe_held(struct cs_core *c, const struct cs_thread_priv *t,
					uint32_t holder, uint64_t a, uint64_t b)
{
	if (c->obs.held)
		c->obs.held(c->obs.ctx, t->pub.tid, holder, a, b);
}

/* ---- states.c: the state machine (the rules bpf/kstate.bpf.h mirrors) ---- */

void cs_states_on_switch(struct cs_core *c, const struct cs_switch *e, uint64_t ts);
void cs_states_on_waking(struct cs_core *c, const struct cs_waking *e, uint64_t ts);
void cs_states_on_migrate(struct cs_core *c, const struct cs_migrate *e, uint64_t ts);
void cs_states_on_fork(struct cs_core *c, const struct cs_fork *e, uint64_t ts);
void cs_states_on_thread_info(struct cs_core *c, const struct cs_thread_info *e, uint64_t ts);
void cs_states_on_cpu_state(struct cs_core *c, const struct cs_cpu_state *e);
void cs_states_on_totals(struct cs_core *c, const struct cs_thread_totals *e, uint64_t ts);
/* Close t's open interval at the window's end; the totals shown are then settled. */
void cs_states_finish_thread(struct cs_core *c, struct cs_thread_priv *t);

/* ---- locks.c, for core.c ---- */

void cs_locks_on_futex_enter(struct cs_core *c, const struct cs_futex *e, uint64_t ts);
void cs_locks_on_futex_exit(struct cs_core *c, const struct cs_futex *e, uint64_t ts);
void cs_locks_on_begin(struct cs_core *c, const struct cs_lock *e, uint64_t ts);
void cs_locks_on_end(struct cs_core *c, const struct cs_lock *e, uint64_t ts);
void cs_locks_on_name(struct cs_core *c, const struct cs_lock_name *e);
/* Is t's wait in progress (a kernel lock, a futex) lock contention? For
 * traces whose switches do not carry the tracer's verdict. Marks the waits blocked. */
bool cs_locks_block(struct cs_core *c, struct cs_thread_priv *t);
/* Whoever woke t released what it waited for. */
void cs_locks_note_waker(struct cs_thread_priv *t, uint32_t waker, uint8_t flags);
/* A GIL (or other known lock) range of a process: its futex words are that lock. */
void cs_locks_on_class(struct cs_core *c, const struct cs_lock_class *e);
/* t's futex wait, read at its blocking switch, ends: t runs again at ts. */
void cs_locks_end_switch_wait(struct cs_core *c, struct cs_thread_priv *t, uint64_t ts);
/* At the window's end: t's waits in progress count as unfinished. */
void cs_locks_finish_thread(struct cs_core *c, struct cs_thread_priv *t);
void cs_locks_free(struct cs_core *c);

#endif
