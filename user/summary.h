/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * summary.h: the results of a core, grouped by process, and their --json
 * form. Shared by the terminal renderer and the JSON writer.
 */
#ifndef CS_SUMMARY_H
#define CS_SUMMARY_H

#include <stddef.h>
#include <stdio.h>
#include "core.h"
#include "jsonw.h"

struct cs_findings;

struct cs_proc_view {
	uint32_t pid;
	const char *comm;
	const char *title;                /* its title (cs_core_title), or NULL */
	size_t nthreads;
	const struct cs_thread **threads; /* sorted by tid */
	struct cs_totals totals;          /* its threads' (parallelism over the window) */
};

struct cs_view {
	size_t nprocs;
	struct cs_proc_view *procs; /* sorted by pid */
	const struct cs_thread **all; /* backing store */
	size_t nthreads;
	size_t traced;              /* threads before cs_view_shape() left some out */
};

/* Group the threads that were present in the window; 0 or -ENOMEM. */
int cs_view_build(struct cs_view *v, const struct cs_core *c);
void cs_view_free(struct cs_view *v);

/* What the terminal shows of a view (--pid, --tid, --comm, --sort); files have it all. */
enum cs_sort_key { CS_SORT_TID = 0, CS_SORT_CPU, CS_SORT_READY, CS_SORT_LOCK, CS_SORT_SWITCHES };
#define CS_FILTER_MAX 16
#define CS_FILTER_COMM 32
struct cs_view_opts {
	uint32_t pids[CS_FILTER_MAX], tids[CS_FILTER_MAX];
	char comms[CS_FILTER_MAX][CS_FILTER_COMM]; /* names or fnmatch(3) patterns */
	unsigned int npids, ntids, ncomms;
	enum cs_sort_key sort;
};

/* Whether o leaves threads out. */
bool cs_view_filtered(const struct cs_view_opts *o);
/*
 * Keep the threads o selects (each filter given must match: its pid, its
 * tid, its comm or its process's), drop the processes left empty, and
 * order processes and threads by o's key (most first; tid: by pid and tid).
 * A process's totals stay its whole.
 */
void cs_view_shape(struct cs_view *v, const struct cs_view_opts *o);
/* Is thread tid, or process pid, in the view? */
bool cs_view_has_tid(const struct cs_view *v, uint32_t tid);
bool cs_view_has_pid(const struct cs_view *v, uint32_t pid);
/* The key a --sort name gives; -EINVAL for none. */
int cs_sort_parse(const char *name, enum cs_sort_key *key);
/*
 * What --sort orders by, most first, of a thread's, process's or program's
 * time in each state and switches: tid (where an order by amount is still
 * needed, the busiest processes and programs) by CPU time.
 */
uint64_t cs_sort_value(enum cs_sort_key k, const uint64_t ns[CS_NACC], uint64_t switches);
/* Counts of processes and threads seen in a core's window (0 and 0 without memory). */
void cs_core_shape(const struct cs_core *c, size_t *nprocs, size_t *nthreads);

/* Whether a thread had any time or switch inside the window. */
bool cs_thread_present(const struct cs_thread *t);

/* A scheduling policy's name: "other", "fifo", "rr", "batch", "idle", "deadline". */
const char *cs_policy_name(unsigned int policy);
/*
 * A thread's scheduling when it is not the default (SCHED_OTHER at nice 0),
 * compactly: "FIFO/99", "RR/5", "nice 10", "BATCH nice 5", "IDLE", "DL";
 * "" otherwise, or when it was not read.
 */
void cs_sched_mark(const struct cs_thread *t, char *buf, size_t len);

/* Name of a system call number; "-" for none (-1). */
const char *cs_syscall_name(int nr);

/* The time in each state, as running_ns ... untraced_ns keys (a thread, the totals). */
void cs_json_state_ns(struct cs_jsonw *w, const uint64_t ns[CS_NACC]);

/*
 * Write the summary keys of one core into an open JSON object:
 * duration_ns, ncpus, events, lost_events, totals, processes.
 */
void cs_summary_json(struct cs_jsonw *w, const struct cs_core *c, unsigned int ncpus);
/* ... with its findings computed by the caller (NULL: computed here). */
void cs_summary_json_with(struct cs_jsonw *w, const struct cs_core *c, unsigned int ncpus,
			  const struct cs_findings *fs);
void cs_totals_json(struct cs_jsonw *w, const struct cs_totals *t);
/*
 * One CSV row per thread (header first): pid, tid, comm, title, the time in
 * each state, switches, migrations, wake-ups, policy, nice, rt_priority,
 * cgroup; with model (the bundled models), model and work first.
 */
void cs_summary_csv(FILE *f, const struct cs_core *c, const char *model, const char *work,
		    bool header);
/* The "locks" array: contended locks, most waited-on first. */
void cs_locks_json(struct cs_jsonw *w, const struct cs_core *c);

/* Locks with at least one wait, sorted by total wait (caller frees). */
size_t cs_locks_sorted(const struct cs_core *c, const struct cs_lockstat ***out,
		       bool contended_only);
/* A lock's display name: its symbol, or its address. */
const char *cs_lock_label(const struct cs_lockstat *l, char *buf, size_t len);
/* Who a waker key names: a task's comm (*is_task), "idle", or an interrupt source's name. */
const char *cs_waker_label(const struct cs_core *c, uint64_t key, bool *is_task);

#endif
