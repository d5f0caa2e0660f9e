/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * core.h: the pure core. It turns a time-ordered stream of event records
 * (bpf/concscope.h) into per-thread states, a bucketed timeline and metrics.
 * It knows nothing of BPF, files or terminals: it is fed by the live tracer
 * or by a saved trace, and tested alone on synthetic streams.
 *
 * Memory is bounded: time is aggregated as it goes into a fixed number of
 * timeline buckets per thread (which merge pairwise as the recording grows),
 * top-K tables and histograms; no interval is ever kept.
 */
#ifndef CS_CORE_H
#define CS_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "arch.h"
#include "concscope.h"
#include "emit.h"
#include "hist.h"
#include "state.h"
#include "topk.h"

#define CS_TL_BUCKETS 256
#define CS_LOCK_WAITERS 16   /* distinct waiter tids kept per lock */
#define CS_LOCK_NAME 64

/* What a wait was for. */
enum cs_lock_kind {
	CS_LK_MUTEX = 0,     /* futex: a lock word in the contended state, PI locks */
	CS_LK_COND = 1,      /* futex: condition variables, semaphores, anything else */
	CS_LK_JOIN = 2,      /* futex: a thread's clear-child-tid word (pthread_join) */
	CS_LK_SPIN = 3,      /* kernel spinlock */
	CS_LK_RWLOCK_R = 4,
	CS_LK_RWLOCK_W = 5,
	CS_LK_RWSEM_R = 6,
	CS_LK_RWSEM_W = 7,
	CS_LK_KMUTEX = 8,    /* kernel mutex */
	CS_LK_RTMUTEX = 9,
	CS_LK_PERCPU_RWSEM = 10,
	CS_LK_URWLOCK = 11,  /* futex: a glibc rwlock (the value 3) */
	CS_LK_GIL = 12,      /* futex: CPython's GIL (its range, from the interpreter's symbols) */
	CS_LK_NKINDS = 13,
};

/* Is waiting for a lock of this kind contention (vs waiting for work: a condition, a join)? */
bool cs_lock_kind_contended(unsigned int kind);

enum cs_lock_space { CS_SPACE_KERNEL = 1, CS_SPACE_USER = 2 };

/* Waker keys for wake-ups from interrupts: their source's id (cs_waking.source). */
#define CS_WAKER_IRQ_BASE (1ull << 41)
#define CS_WAKER_IRQ(src) (CS_WAKER_IRQ_BASE + (uint64_t)(src))

/* Releaser keys that are not threads (topk keys above any tid). */
#define CS_REL_TIMEOUT (1ull << 40)
#define CS_REL_SIGNAL (CS_REL_TIMEOUT + 1)
#define CS_REL_UNKNOWN (CS_REL_TIMEOUT + 2)  /* woken by nobody seen */
#define CS_REL_SPUN (CS_REL_TIMEOUT + 3)     /* acquired without sleeping */
#define CS_REL_UNFINISHED (CS_REL_TIMEOUT + 4) /* still waiting at the end */
#define CS_REL_ERROR (CS_REL_TIMEOUT + 5)    /* the wait failed */
/* "timeout", "signal", ... for a non-thread releaser key, NULL for a thread. */
const char *cs_releaser_reason(uint64_t key);

struct cs_lockstat {
	uint64_t addr;
	uint32_t pid;          /* owning process for user addresses, 0 for kernel */
	uint8_t space;         /* enum cs_lock_space */
	uint8_t kind;          /* enum cs_lock_kind, of the first wait */
	bool contended;        /* waiting for it is contention (cs_lock_kind_contended) */
	uint8_t nwaiters;
	char name[CS_LOCK_NAME];
	uint64_t waits, wait_ns, max_wait_ns, attempts;
	uint64_t holder_preempted_ns; /* of the waits, the time the thread that ended each
					 sat preempted (ready, without a CPU) */
	uint32_t waiters[CS_LOCK_WAITERS];
	struct cs_topk releasers; /* key: releaser tid or CS_REL_*; by count */
};

struct cs_core;

struct cs_core_cfg {
	bool track_all;       /* every task is tracked (-a) */
	uint64_t tl_width_ns; /* initial timeline bucket width; 0 = 1 ms */
	uint64_t loop_threshold_ns; /* a loop's turn this long is an episode; 0 = 10 ms */
	/* called by cs_core_new() with the new core (to set an observer); NULL: none */
	void (*on_new)(struct cs_core *c, const void *arg);
	const void *on_new_arg;
};

/*
 * A thread that waits for events (epoll_wait, poll, select, io_uring_enter):
 * its turns, from the end of one event wait to the start of the next, and
 * the ones that lasted at least the threshold, its episodes (episodes.c).
 */
#define CS_LOOP_TOP 8     /* longest episodes kept in full */
#define CS_TURN_CALLS 4   /* blocking calls kept per turn */

struct cs_episode {
	uint64_t start, dur;
	uint64_t ns[CS_NACC];  /* time in each state during it */
	int call;              /* the system call it blocked in longest, -1 none */
	bool call_lock;        /* ... waiting for a contended lock */
	bool open;             /* still going when the window closed */
	uint64_t call_ns;
	uint64_t stack;        /* --stacks: where it blocked in that call (a stack id), 0 none */
};

struct cs_turn {           /* the turn in progress */
	bool active;
	uint64_t start;
	uint64_t ns[CS_NACC];
	struct { int nr; bool lock; uint64_t ns, stack; } calls[CS_TURN_CALLS];
};

struct cs_loop {
	uint64_t waits, wait_ns;       /* blocks in an event wait, their time */
	uint64_t episodes, episode_ns; /* turns of at least the threshold */
	struct cs_episode top[CS_LOOP_TOP]; /* the longest, longest first */
	unsigned int ntop;
	struct cs_turn turn;
};

/* A thread's totals over the window. */
struct cs_counts {
	uint64_t ns[CS_NACC];               /* time in each state */
	uint64_t blocked_ns[CS_NLETTERS];   /* blocked time by the state the switch-out
					       reported (S D T t X Z P I): sums to sleep+io+lock */
	uint64_t nvcsw, nivcsw, migrations, wakeups;
};

/*
 * One thread's results, as renderers and exporters read them. The state
 * machine's working fields (current state, waits in progress, ...) are the
 * core's own (core_priv.h).
 */
struct cs_thread {
	uint32_t tid, pid;
	char comm[CS_COMM_LEN];
	bool exited;
	bool kernel_totals;   /* the totals below are the ones the BPF side kept (exact
				 when records were lost); else derived from the records */
	bool kernel_figures;  /* cpu_ns and run_delay_ns were read from the kernel */
	uint64_t first_ts, exit_ts;

	uint64_t ns[CS_NACC]; /* time in each state, inside the window */
	uint64_t blocked_ns[CS_NLETTERS];
	uint64_t nvcsw, nivcsw, migrations, wakeups;
	uint64_t cpu_ns;      /* CPU time the kernel charged (schedstat field 1), over the window */
	uint64_t run_delay_ns; /* the kernel's run-queue wait (schedstat field 2), likewise */
	struct cs_counts events; /* the totals as derived from the records alone */
	/* ready time by who held the CPU it waited for (from the records): a thread of
	 * the target, a task outside it, the idle task (the wake-up's own latency) */
	uint64_t ready_own_ns, ready_other_ns, ready_idle_ns;
	uint64_t untraced;    /* chain breaks it took part in (its untraced time: ns[CS_ST_UNTRACED]) */
	bool sched_known;     /* policy .. cgroup were read (CS_EV_TASK_SCHED) */
	uint8_t policy;       /* SCHED_OTHER 0, FIFO 1, RR 2, BATCH 3, IDLE 5, DEADLINE 6 */
	int8_t nice;
	uint8_t rt_priority;  /* FIFO and RR: 1..99 */
	char cgroup[CS_CGROUP_LEN];
	struct cs_hist lat;   /* ready -> running, ns */
	struct cs_topk wakers;  /* key: waker tid (0: interrupt/idle); by count */
	struct cs_topk holders; /* key: tid running on my CPU while I was ready; by ns */
	struct cs_topk blocked; /* key: syscall nr + 1 (0: none); by ns */
	struct cs_topk lockwaits; /* key: lock index (cs_core_lock); by ns */
	uint64_t *tl;         /* [CS_TL_BUCKETS][CS_NACC] ns */
	struct cs_loop *loop; /* NULL: it never waited for events */
};

struct cs_totals {
	uint64_t ns[CS_NACC];
	uint64_t nvcsw, nivcsw, migrations, wakeups;
	double parallelism;   /* ns[CS_ST_RUNNING] / duration */
};

struct cs_core_stats {
	uint64_t kernel_totals; /* threads whose totals came from the BPF side */
	uint64_t locks_dropped; /* waits on locks past the table's size */
	uint64_t events;       /* records fed */
	uint64_t lost_events;  /* from CS_EV_LOST records */
	uint64_t late_events;  /* records older than one already processed */
	uint64_t chain_breaks; /* a CPU switched away from a task we did not see switch in */
	uint64_t unknown_kind; /* records of kinds the core does not know */
};

/* Events lost on a CPU from first to last (losses within 10 ms merge into one window). */
#define CS_LOSS_MERGE_NS 10000000ull
struct cs_loss_window {
	unsigned int cpu;      /* 0xffff: not per CPU (skipped program runs, bad records) */
	uint64_t first, last;  /* 0: not known */
	uint64_t count;
};

/* A fact of the tracer's own (its ring's lock, what did not fit its tables). */
struct cs_tracer_fact {
	char name[24];
	uint64_t value;
};

/*
 * The parallelism profile: how long the window spent with k of the target's
 * threads running and r ready, from the records (profile.c). Counts at or
 * over the last index are in it.
 */
#define CS_PROF_RUN 64
#define CS_PROF_READY 32
#define CS_PROF_CELL(k, r) ((k) * (CS_PROF_READY + 1) + (r))

/* One process's: time with k of its threads running; with r ready. */
struct cs_proc_profile {
	uint32_t pid;
	uint64_t run_ns[CS_PROF_RUN + 1];
	uint64_t ready_ns[CS_PROF_READY + 1];
};

/* A task outside the target that held a CPU a thread of the target waited for. */
struct cs_other {
	uint32_t pid;
	char comm[CS_COMM_LEN];
	uint64_t ns;   /* the waits it caused, summed over the waiting threads */
};

/* The profile's cells, [CS_PROF_CELL(k, r)] ns; approx_ns: time placed approximately. */
const uint64_t *cs_core_profile(const struct cs_core *c, uint64_t *approx_ns);
/* A process's profile, or NULL. */
const struct cs_proc_profile *cs_core_proc_profile(const struct cs_core *c, uint32_t pid);
/* The tasks outside the target that held CPUs our ready threads waited for. */
size_t cs_core_others(const struct cs_core *c, const struct cs_other **o);

/*
 * What the core counts, interval by interval, as it counts it: for the
 * Perfetto writer's slices (pftrace.h), which then show exactly the time
 * concscope counts. Every interval is clipped to the window and not empty.
 */
struct cs_wait_end {
	uint32_t tid, pid;       /* the waiting thread */
	uint64_t begin, end;
	uint64_t addr;           /* the lock's address */
	const char *name;        /* its name ("" when it has none) */
	unsigned int kind;       /* enum cs_lock_kind */
	bool user;               /* a futex (else a kernel lock) */
	uint64_t releaser;       /* who released it: a tid, or CS_REL_* */
};
struct cs_core_slices {
	/* a thread's untraced time [a, b) */
	void (*untraced)(void *ctx, uint32_t tid, uint32_t pid, uint64_t a, uint64_t b);
	/* a wait that ended (or was still on when the recording ended) */
	void (*wait)(void *ctx, const struct cs_wait_end *w);
	void *ctx;
};
void cs_core_slices_to(struct cs_core *c, const struct cs_core_slices *o);

#define CS_MAX_FACTS 16

/* The tracer's own facts (CS_MARK_TRACER); how many. */
size_t cs_core_tracer_facts(const struct cs_core *c, const struct cs_tracer_fact **f);
/* What the machine said over the window (CS_MARK_SYSTEM): steal, cgroup throttling. */
size_t cs_core_system_facts(const struct cs_core *c, const struct cs_tracer_fact **f);
/* The value of a named fact among f[n]; false if absent. */
bool cs_core_fact(const struct cs_tracer_fact *f, size_t n, const char *name, uint64_t *value);

/* The windows in which events were lost, in order; how many (at most CS_LOSS_WINDOWS). */
#define CS_LOSS_WINDOWS 256
size_t cs_core_loss_windows(const struct cs_core *c, const struct cs_loss_window **w);
/* Events lost on cpu (0xffff: not per CPU). */
uint64_t cs_core_lost_on(const struct cs_core *c, unsigned int cpu);

struct cs_core *cs_core_new(const struct cs_core_cfg *cfg);
void cs_core_free(struct cs_core **core);

/* Feed one validated record. Records should come in timestamp order. */
void cs_core_feed(struct cs_core *c, const struct cs_hdr *ev);

/* Close every open interval at end_ts (or the window end if marked). */
void cs_core_finish(struct cs_core *c, uint64_t end_ts);

/* Tracking set: a thread group whose threads the core keeps. */
void cs_core_track(struct cs_core *c, uint32_t tgid);
bool cs_core_is_tracked(const struct cs_core *c, uint32_t tgid);

/* Results, valid after cs_core_finish(). */
/* A thread's time in the window: the sum of its states' (its life in the window). */
uint64_t cs_thread_alive_ns(const struct cs_thread *t);
size_t cs_core_nthreads(const struct cs_core *c);
const struct cs_thread *cs_core_thread(const struct cs_core *c, size_t i);
const struct cs_thread *cs_core_find(const struct cs_core *c, uint32_t tid);
void cs_core_totals(const struct cs_core *c, struct cs_totals *t);
/* Add t's counts into sum, and set sum's parallelism over dur ns. */
void cs_totals_add(struct cs_totals *sum, const struct cs_totals *t, uint64_t dur);
const struct cs_core_stats *cs_core_stats(const struct cs_core *c);
uint64_t cs_core_duration(const struct cs_core *c);
/* When the window began (CLOCK_BOOTTIME ns). */
uint64_t cs_core_begin(const struct cs_core *c);
unsigned int cs_core_ncpus(const struct cs_core *c);
/* Timeline geometry: bucket i covers [begin + i*width, begin + (i+1)*width). */
uint64_t cs_core_tl_width(const struct cs_core *c);
/* Name of any task seen (tracked or not), or NULL. */
const char *cs_core_comm(const struct cs_core *c, uint32_t tid);
/* A process's title (CS_EV_TITLE: the arguments it rewrote), or NULL when it has none. */
const char *cs_core_title(const struct cs_core *c, uint32_t pid);
/* Contended locks (valid after cs_core_finish). */
size_t cs_core_nlocks(const struct cs_core *c);
const struct cs_lockstat *cs_core_lock(const struct cs_core *c, size_t i);
/* The lock at addr in space (CS_SPACE_*) of process pid (any, for the kernel's), or NULL. */
const struct cs_lockstat *cs_core_find_lock(const struct cs_core *c, uint64_t addr, uint32_t pid,
					    unsigned int space);
const char *cs_lock_kind_name(unsigned int kind);
/* Classify a futex wait (exposed for tests). */
enum cs_lock_kind cs_futex_kind(unsigned int nr, uint32_t op, uint32_t val, bool val_is_tid);
enum cs_lock_kind cs_kernel_lock_kind(unsigned int flags);

/* The name of an interrupt wake-up source (cs_waking.source), or NULL. */
const char *cs_core_wake_source(const struct cs_core *c, uint32_t id);

/* The threshold a loop's turn needs to be an episode. */
uint64_t cs_ep_threshold(const struct cs_core *c);

/* The command's wait status from CS_MARK_CMD_EXIT, or -1. */
int cs_core_cmd_status(const struct cs_core *c);
/* Why the recording ended (enum cs_end_reason, from CS_MARK_END), or 0: not said. */
int cs_core_end_reason(const struct cs_core *c);
/* The thread group whose window it is (the WINDOW_BEGIN mark's: run's command, attach's
 * pid; 0 with -a or none). */
uint32_t cs_core_root(const struct cs_core *c);

/*
 * An observer of the intervals the core closes. The core keeps no interval
 * (its memory is bounded); an observer may (critpath.c), and is told, as
 * each tracked thread's state interval closes inside the window, what it
 * was, and, while a thread is ready, who holds its CPU. Callbacks run inside
 * cs_core_feed() and cs_core_finish(), in time order for each thread.
 */
struct cs_interval {
	uint32_t tid, pid;
	uint64_t a, b;          /* [a, b), clipped to the window */
	uint8_t state;          /* enum cs_tstate; CS_ST_NEW: from a thread's creation to
				   its first wake-up (not time it lived) */
	int16_t syscall;        /* blocked: the system call it blocked in, -1 none */
	uint8_t lock_space;     /* blocked in a wait: CS_SPACE_* of the lock, 0 none */
	uint8_t lock_kind;      /* enum cs_lock_kind */
	uint64_t lock_addr;
	bool woken;             /* a blocked (or new) interval a wake-up ended */
	uint8_t wake_flags;     /* that wake-up's CS_WKF_* */
	uint32_t waker;         /* the task that ran it (with CS_WKF_*IRQ: the one it
				   interrupted; 0: the idle task) */
	uint32_t source;        /* with CS_WKF_*IRQ: its source (cs_core_wake_source) */
};

struct cs_core_observer {
	void (*interval)(void *ctx, const struct cs_interval *iv);
	/* thread tid, ready, waited [a, b) on a CPU that holder ran on (0: idle) */
	void (*held)(void *ctx, uint32_t tid, uint32_t holder, uint64_t a, uint64_t b);
	void (*free)(void *ctx); /* by cs_core_free(); may be NULL */
	void *ctx;
};

/* Set (or with NULL, clear) the one observer. */
void cs_core_set_observer(struct cs_core *c, const struct cs_core_observer *o);
/* The observer set, or NULL. */
const struct cs_core_observer *cs_core_observer(const struct cs_core *c);

#endif
