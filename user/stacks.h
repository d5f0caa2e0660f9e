/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * stacks.h: where threads block and wait (--stacks), on the core's side.
 *
 * The core hands this module the stack records (bpf/concscope.h, "call
 * stacks") and tells it when a thread blocks, how long each blocked
 * interval was, and how long each lock wait lasted; it sums, per thread
 * and per lock, the time and count of each stack. Every nanosecond of
 * blocked time the core counts goes to one stack (a "[no stack]" or
 * "[blocked before the window]" one when none was taken), so the stacks
 * of a thread add up to its sleep + io + lock time.
 *
 * Frames are named by the CS_EV_FRAME_NAME records that come after the
 * recording; the outputs (terminal lines, JSON, folded) read them then.
 */
#ifndef CS_STACKS_H
#define CS_STACKS_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "core.h"
#include "jsonw.h"

struct cs_stacks;
struct cs_thread_priv;

/* Kernel frames of the tracepoint and BPF glue, not of the thread (left out everywhere). */
static inline bool cs_stacks_glue(const char *name)
{
	return !strncmp(name, "bpf_", 4) || !strncmp(name, "__bpf_", 6) ||
	       !strncmp(name, "__traceiter_", 12) || !strncmp(name, "trace_contention", 16);
}

/* ---- the core's hooks (core.c, states.c, locks.c) ---- */

/* A stack record (or the "stacks" mark); false for a kind that is none of them. */
bool cs_stacks_feed(struct cs_core *c, const struct cs_hdr *ev);
/* t switched out at ts into blocked state st (or not blocked): its block's stack. */
void cs_stacks_on_block(struct cs_core *c, struct cs_thread_priv *t, unsigned int st, uint64_t ts);
/* ns more of t's blocked time, in its current block. */
void cs_stacks_on_blocked(struct cs_core *c, struct cs_thread_priv *t, uint64_t ns);
/* The stack taken for t at ts (where: enum cs_stack_where), or 0. */
uint64_t cs_stacks_taken(const struct cs_thread_priv *t, uint64_t ts, unsigned int where);
/* A wait of t with stack id on lock index lock ended after ns; gil: the lock is CPython's GIL. */
void cs_stacks_on_wait(struct cs_core *c, struct cs_thread_priv *t, size_t lock, bool gil,
		       uint64_t id, uint64_t ns);
void cs_stacks_free(struct cs_stacks **s);

/* ---- results ---- */

/* Whether any stack was recorded. */
bool cs_stacks_present(const struct cs_core *c);
/*
 * Terminal lines: a thread's "blocked at" and "waited for the GIL at", a
 * lock's "waiters at" (the top ones).
 */
void cs_stacks_render_thread(FILE *f, const struct cs_core *c, const struct cs_thread *t,
			     unsigned int width);
void cs_stacks_render_lock(FILE *f, const struct cs_core *c, size_t lock, unsigned int width);
/*
 * JSON: the top-level "stacks" array, a thread's "blocked_at" and
 * "gil_waits_at", a lock's "waiters_at".
 */
void cs_stacks_json(struct cs_jsonw *w, const struct cs_core *c);
void cs_stacks_thread_json(struct cs_jsonw *w, const struct cs_core *c, const struct cs_thread *t);
void cs_stacks_lock_json(struct cs_jsonw *w, const struct cs_core *c, size_t lock);
/*
 * The folded format (one line per process and stack: "comm;root;...;leaf
 * us", kernel frames marked _[k]), each thread's blocked time, as
 * offcputime writes it. The lines' microseconds are rounded so that their
 * sum is the blocked time's, rounded. Returns the total in ns.
 */
uint64_t cs_stacks_folded(FILE *f, const struct cs_core *c);

/*
 * A stack as the terminal shows it ("app.py:12 work <- app.py:30 main",
 * "take_hot <- contend_loop <- ..."), within len; false (buf "") for no
 * stack. Its index in the JSON's "stacks" array.
 */
bool cs_stacks_short(const struct cs_core *c, uint64_t id, char *buf, size_t len);
uint64_t cs_stacks_index(const struct cs_core *c, uint64_t id);

#endif
