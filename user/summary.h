/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * summary.h: the results of a core, grouped by process, and their --json
 * form. Shared by the terminal renderer and the JSON writer.
 */
#ifndef CS_SUMMARY_H
#define CS_SUMMARY_H

#include <stddef.h>
#include "core.h"
#include "jsonw.h"

struct cs_proc_view {
	uint32_t pid;
	const char *comm;
	size_t nthreads;
	const struct cs_thread **threads; /* sorted by tid */
};

struct cs_view {
	size_t nprocs;
	struct cs_proc_view *procs; /* sorted by pid */
	const struct cs_thread **all; /* backing store */
	size_t nthreads;
};

/* Group the threads that were present in the window; 0 or -ENOMEM. */
int cs_view_build(struct cs_view *v, const struct cs_core *c);
void cs_view_free(struct cs_view *v);

/* Whether a thread had any time or switch inside the window. */
bool cs_thread_present(const struct cs_thread *t);

/* Name of a system call number; "-" for none (-1). */
const char *cs_syscall_name(int nr);

/*
 * Write the summary keys of one core into an open JSON object:
 * duration_ns, ncpus, events, lost_events, totals, processes.
 */
void cs_summary_json(struct cs_jsonw *w, const struct cs_core *c, unsigned int ncpus);
void cs_totals_json(struct cs_jsonw *w, const struct cs_totals *t);
/* The "locks" array: contended locks, most waited-on first. */
void cs_locks_json(struct cs_jsonw *w, const struct cs_core *c);

/* Locks with at least one wait, sorted by total wait (caller frees). */
size_t cs_locks_sorted(const struct cs_core *c, const struct cs_lockstat ***out);
/* A lock's display name: its symbol, or its address. */
const char *cs_lock_label(const struct cs_lockstat *l, char *buf, size_t len);
/* "timeout", "signal", ... for a non-thread releaser key, NULL for a thread. */
const char *cs_releaser_reason(uint64_t key);

#endif
