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
#include "concscope.h"
#include "hist.h"
#include "state.h"
#include "topk.h"

#define CS_TL_BUCKETS 256
#define CS_KWAIT_DEPTH 4     /* nested kernel lock waits kept per thread */
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
	CS_LK_NKINDS = 11,
};

enum cs_lock_space { CS_SPACE_KERNEL = 1, CS_SPACE_USER = 2 };

/* Releaser keys that are not threads (topk keys above any tid). */
#define CS_REL_TIMEOUT (1ull << 40)
#define CS_REL_SIGNAL (CS_REL_TIMEOUT + 1)
#define CS_REL_UNKNOWN (CS_REL_TIMEOUT + 2)  /* woken by nobody seen */
#define CS_REL_SPUN (CS_REL_TIMEOUT + 3)     /* acquired without sleeping */
#define CS_REL_UNFINISHED (CS_REL_TIMEOUT + 4) /* still waiting at the end */
#define CS_REL_ERROR (CS_REL_TIMEOUT + 5)    /* the wait failed */

struct cs_lockstat {
	uint64_t addr;
	uint32_t pid;          /* owning process for user addresses, 0 for kernel */
	uint8_t space;         /* enum cs_lock_space */
	uint8_t kind;          /* enum cs_lock_kind, of the first wait */
	uint8_t nwaiters;
	char name[CS_LOCK_NAME];
	uint64_t waits, wait_ns, max_wait_ns, attempts;
	uint32_t waiters[CS_LOCK_WAITERS];
	struct cs_topk releasers; /* key: releaser tid or CS_REL_*; by count */
};

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
};

struct cs_core_cfg {
	bool track_all;       /* every task is tracked (-a) */
	uint64_t tl_width_ns; /* initial timeline bucket width; 0 = 1 ms */
};

struct cs_thread {
	uint32_t tid, pid;
	char comm[CS_COMM_LEN];
	uint8_t state;        /* enum cs_tstate */
	bool pending_r;       /* 'R' from /proc: running or ready, not yet known */
	bool exited;
	uint8_t woke_from;    /* ready since a wake-up: the blocked state before it, else 0 */
	bool queued_move;     /* ... and moved between run queues since (no single enqueue) */
	bool early_wake;      /* woken while we still saw it running (see on_waking) */
	uint8_t early_flags;
	uint32_t early_waker;
	uint64_t early_ts;
	uint16_t cpu;         /* last known CPU */
	int16_t block_syscall; /* system call of the current block, -1 none */
	uint64_t since;       /* when the current state began */
	uint64_t wait_from;   /* ready: start of the wait not yet charged to a holder */
	uint64_t first_ts, exit_ts;

	uint64_t ns[CS_NACC]; /* time in each state, inside the window */
	uint64_t nvcsw, nivcsw, migrations, wakeups;
	uint64_t untraced;    /* switched out after an untraced switch-in (a chain break) */
	uint64_t untraced_ns; /* ... and the time since the CPU's last known switch: at most
				 this much of its running time may have been someone else's */
	struct cs_hist lat;   /* ready -> running, ns */
	struct cs_topk wakers;  /* key: waker tid (0: interrupt/idle); by count */
	struct cs_topk holders; /* key: tid running on my CPU while I was ready; by ns */
	struct cs_topk blocked; /* key: syscall nr + 1 (0: none); by ns */
	struct cs_topk lockwaits; /* key: lock index (cs_core_lock); by ns */
	uint64_t *tl;         /* [CS_TL_BUCKETS][CS_NACC] ns */

	struct cs_wait fwait; /* futex wait in progress, if in_futex */
	bool in_futex;
	uint8_t nkwait;
	struct cs_wait kwait[CS_KWAIT_DEPTH];
};

struct cs_totals {
	uint64_t ns[CS_NACC];
	uint64_t nvcsw, nivcsw, migrations, wakeups;
	double parallelism;   /* ns[CS_ST_RUNNING] / duration */
};

struct cs_core_stats {
	uint64_t locks_dropped; /* waits on locks past the table's size */
	uint64_t events;       /* records fed */
	uint64_t lost_events;  /* from CS_EV_LOST records */
	uint64_t late_events;  /* records older than one already processed */
	uint64_t chain_breaks; /* a CPU switched away from a task we did not see switch in */
	uint64_t unknown_kind; /* records of kinds the core does not know */
};

struct cs_core;

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
size_t cs_core_nthreads(const struct cs_core *c);
const struct cs_thread *cs_core_thread(const struct cs_core *c, size_t i);
const struct cs_thread *cs_core_find(const struct cs_core *c, uint32_t tid);
void cs_core_totals(const struct cs_core *c, struct cs_totals *t);
/* Add t's counts into sum, and set sum's parallelism over dur ns. */
void cs_totals_add(struct cs_totals *sum, const struct cs_totals *t, uint64_t dur);
const struct cs_core_stats *cs_core_stats(const struct cs_core *c);
uint64_t cs_core_duration(const struct cs_core *c);
unsigned int cs_core_ncpus(const struct cs_core *c);
/* Timeline geometry: bucket i covers [begin + i*width, begin + (i+1)*width). */
uint64_t cs_core_tl_width(const struct cs_core *c);
unsigned int cs_core_tl_used(const struct cs_core *c);
/* Name of any task seen (tracked or not), or NULL. */
const char *cs_core_comm(const struct cs_core *c, uint32_t tid);
/* Contended locks (valid after cs_core_finish). */
size_t cs_core_nlocks(const struct cs_core *c);
const struct cs_lockstat *cs_core_lock(const struct cs_core *c, size_t i);
const char *cs_lock_kind_name(unsigned int kind);
/* Classify a futex wait (exposed for tests). */
enum cs_lock_kind cs_futex_kind(unsigned int nr, uint32_t op, uint32_t val, bool val_is_tid);
/* Whether a futex call waits (vs wakes or requeues). */
bool cs_futex_is_wait(unsigned int nr, uint32_t op);
enum cs_lock_kind cs_kernel_lock_kind(unsigned int flags);

/* The command's wait status from CS_MARK_CMD_EXIT, or -1. */
int cs_core_cmd_status(const struct cs_core *c);

#endif
