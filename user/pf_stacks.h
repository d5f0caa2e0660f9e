/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pf_stacks.h: the stacks of a trace (--stacks) for the Perfetto UI. Each
 * capture becomes an instant on its thread's track ("blocked" at a blocking
 * switch, "lock wait" at a kernel lock's contention_begin) with an interned
 * callstack, at the capture's time: the same time as the lock-wait slice
 * it belongs to, so a query joins them on track and time (README).
 *
 * Frames are named only after the recording, and interned data must come
 * before the packets that use it: so captures are spooled to a temporary
 * file (24 bytes each, memory stays flat) and written at the segment's end,
 * after the names: one InternedData packet (function names, frames,
 * callstacks), then the instants. concscope's reader skips all of it (the
 * private records carry the stacks for report).
 */
#ifndef CS_PF_STACKS_H
#define CS_PF_STACKS_H

#include <stdint.h>
#include <stdio.h>
#include "decode.h"
#include "hashmap.h"
#include "pb.h"

struct pf_stk_def;

struct pf_stacks {
	FILE *spool;
	uint64_t nspool;
	struct pf_stk_def *defs;
	uint32_t ndefs;
	size_t capdefs;
	struct cs_hmap defidx;   /* stack id -> index */
	char (*names)[CS_FRAME_NAME_LEN];
	uint32_t nnames;
	size_t capnames;
	struct cs_hmap nameidx;  /* (pid, address) -> index */
};

/*
 * The thread track of a capture's thread, written by whom owns the tracks
 * (pf_display.c: once per thread, on PF_SEQ_TRACKS) into the same pkts.
 */
typedef void pf_thread_track_fn(void *ctx, uint64_t ts, uint32_t tid, uint32_t pid);

/* One private record: spool captures, keep definitions and names; at a
 * segment's end, write the display packets into pkts, track(ctx, ...)
 * before each capture's instant. */
void pf_stacks_feed(struct pf_stacks *s, const union cs_rec *r, struct pb_buf *pkts,
		    pf_thread_track_fn *track, void *ctx);
void pf_stacks_free(struct pf_stacks *s);

#endif
