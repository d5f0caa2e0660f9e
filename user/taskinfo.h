/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * taskinfo.h: what a session reads in /proc about the tasks it tracks,
 * while they live: a process's title (its arguments as it rewrote them,
 * setproctitle-style) and a thread's scheduling policy, nice value, RT
 * priority and cgroup. Each becomes a record of the stream (CS_EV_TITLE,
 * CS_EV_TASK_SCHED), so that a saved trace carries them.
 *
 * Never on the record path but at a task's fork, exec or exit, and then only
 * bookkeeping, except at an exec: its arguments are read there, to compare
 * with later (the command's own are known: run exec'd them). A new task's
 * facts are read once it has lived CS_TASKINFO_AFTER_NS (a program sets its
 * title and policy after it starts), at the first drain after that, and
 * again at the end for those still alive. A task's /proc is empty by the time its exit comes out of the ring,
 * so a task that lives less than that may have none.
 */
#ifndef CS_TASKINFO_H
#define CS_TASKINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "concscope.h"
#include "emit.h"

#define CS_TASKINFO_AFTER_NS 40000000ull /* 40 ms: about one drain of the ring */
#define CS_CMDLINE_MAX 4096              /* bytes of /proc/PID/cmdline read */

struct cs_taskinfo;

struct cs_taskinfo *cs_taskinfo_new(void);
void cs_taskinfo_free(struct cs_taskinfo **ti);
/* Forget every task (a new segment). */
void cs_taskinfo_reset(struct cs_taskinfo *ti);

/* A record from the ring, as it comes: forks, execs and exits are noted. */
void cs_taskinfo_note(struct cs_taskinfo *ti, const struct cs_hdr *ev);
/* run: the command's process, before its exec, and the arguments it is exec'd with. */
void cs_taskinfo_command(struct cs_taskinfo *ti, uint32_t pid, char *const argv[],
			 uint64_t now);
/* attach: a thread found in /proc (its process's exec'd arguments are not known). */
void cs_taskinfo_found(struct cs_taskinfo *ti, uint32_t tid, uint32_t pid, uint64_t now);

/* Was tid seen as a thread of pid (alive or gone)? */
bool cs_taskinfo_knows(const struct cs_taskinfo *ti, uint32_t tid, uint32_t pid);

/*
 * Read what is due by now (final: every task still alive); what changed
 * since it was last read goes to emit as a record stamped ts.
 */
void cs_taskinfo_read(struct cs_taskinfo *ti, uint64_t now, bool final, uint64_t ts,
		      cs_emit_fn emit, void *ctx);

/* ---- the title rule (exposed for tests) ---- */

/* A hash of the arguments in raw[0..n) (a cmdline), their trailing NULs left out. */
uint64_t cs_args_hash(const char *raw, size_t n);
/*
 * The title a cmdline raw[0..n) shows, into title (len bytes): its
 * arguments joined by spaces, control characters as spaces, no space at
 * the end; "" when the
 * program did not rewrite them. They were rewritten when they differ from
 * the ones it was exec'd with (exec_known, exec_hash); when those are not
 * known (a process found by attach), when they do not end in exactly one
 * NUL: rewriting in place pads the rest of the arguments' area with NULs
 * (PostgreSQL, nginx, stress-ng, libbsd's setproctitle), or writes past it.
 */
void cs_title_judge(const char *raw, size_t n, bool exec_known, uint64_t exec_hash,
		    char *title, size_t len);

#endif
