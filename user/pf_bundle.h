/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pf_bundle.h: one CPU's FtraceEventBundle in a group, both ways: the
 * writer's half fills its CompactSched arrays from SWITCH and WAKING
 * records, the reader's half rebuilds the records from them. The two halves
 * sit side by side because every default the writer leaves out (pf_format.h:
 * the chain of who runs, the tgid map, the unreported state) must be
 * derived by the reader in exactly the same way.
 */
#ifndef CS_PF_BUNDLE_H
#define CS_PF_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "decode.h"
#include "hashmap.h"
#include "pb.h"
#include "pf_codec.h"
#include "pf_format.h"

/* ---- writer ---- */

/* The FtraceEvents of one CPU's bundle (pf_display.c writes them), and its lost flag. */
struct pf_events {
	struct pb_buf buf; /* FtraceEventBundle.event fields, tags included */
	uint32_t n;
	bool lost;
};

/* Interned comm strings of one bundle. */
struct pf_commtab {
	char (*s)[CS_COMM_LEN];
	uint32_t n;
	size_t cap;
	struct cs_hmap idx; /* the comm's two halves -> index */
	/* the last two comms looked up: a CPU mostly alternates a few tasks */
	char recent[2][CS_COMM_LEN];
	uint32_t recent_idx[2];
	bool recent_ok[2];
};

/* One CPU's bundle being filled. */
struct pf_wcpu {
	uint16_t cpu;
	bool active;       /* in the group (the writer's list of bundles) */
	uint32_t nsw, nwk;
	uint64_t sw_last, wk_last;
	struct pb_buf a[A_N];
	struct pb_buf sw_x, wk_x, sys_tab;
	struct pb_buf wk_flags; /* waking_common_flags, up to the last interrupt wake-up */
	uint32_t nwk_flags;
	struct pf_events ev;
	struct pf_ordenc sw_ord, wk_ord;
	struct pf_commtab comms;
	struct cs_hmap sys;  /* syscall + 1 -> index */
	uint32_t nsys;
	struct cs_hmap tgid; /* tid -> tgid */
	bool chain_known;
	uint32_t chain_tid, chain_pid;
	/*
	 * Perfetto's chain, across groups: who the last switch or link put on
	 * the CPU, and the time of the last one (pf_format.h: links).
	 */
	bool run_known;
	uint32_t run_tid, run_pid;
	uint64_t run_ts;
};

/* A switch, the seq-th record of the group. */
void pf_wcpu_switch(struct pf_wcpu *cb, const struct cs_switch *e, uint64_t seq);
/* Whether the switch's prev is not who Perfetto's chain says runs: it needs a link first. */
static inline bool pf_wcpu_broken(const struct pf_wcpu *cb, const struct cs_switch *e)
{
	return !cb->run_known || cb->run_tid != e->h.tid;
}
/*
 * A link at ts (no earlier than the CPU's last switch) to tid/pid named
 * comm, with record number seq (a number of the group, but no record).
 */
void pf_wcpu_link(struct pf_wcpu *cb, uint64_t ts, uint32_t tid, uint32_t pid, const char *comm,
		  uint64_t seq);
/* A waking; comm: the woken task's name as the writer knows it. */
void pf_wcpu_waking(struct pf_wcpu *cb, const struct cs_waking *e, const char *comm,
		    uint64_t seq);
/* Append the bundle (TracePacket field ftrace_events) to pkt. */
void pf_wcpu_bundle(struct pf_wcpu *cb, struct pb_buf *pkt);
/* 0, or -ENOMEM when any of its buffers failed to grow. */
int pf_wcpu_err(const struct pf_wcpu *cb);
/* Empty it for the next group, keeping its memory. */
void pf_wcpu_reset(struct pf_wcpu *cb);
/* Free it (allocated with calloc) and all it holds; NULL is fine. */
void pf_wcpu_free(struct pf_wcpu *cb);

/* ---- reader ---- */

/* The next exception message (SwitchX / WakingX) of a bundle. */
struct pf_rx {
	struct pb_dec cur; /* over the CompactSched fields after it */
	uint32_t field;
	bool have;
	uint64_t index;
	uint32_t mask;
	uint64_t v[SX_NFIELDS];
};

/* One CPU's bundle in the current group. */
struct pf_rcpu {
	uint16_t cpu;
	unsigned int version; /* the file's format version */
	bool in_group;     /* the reader's: a second bundle of the CPU is an error */
	struct pb_dec a[A_N];
	bool has[A_N];
	struct pb_dec long_wait; /* switch_long_wait, when has_long_wait */
	bool has_long_wait;
	uint32_t nsw, nwk, isw, iwk;
	struct pf_span sw_ord, wk_ord;
	struct pf_span *comms;
	uint32_t ncomms;
	size_t capcomms;
	int16_t *sys;
	uint32_t nsys, capsys;
	struct pf_rx xs, xw;
	uint64_t sw_ts, wk_ts;
	bool chain_known;
	uint32_t chain_tid, chain_pid;
	struct cs_hmap tgid;
	/* who the last switch put on the CPU, in any group: the default waker */
	bool run_known;
	uint32_t run_tid, run_pid;
	const char *why;   /* what was wrong, after an error */
};

/*
 * The reader's functions return 0 or a negative errno: -EINVAL for a
 * malformed bundle, -ENOMEM; rc->why then says what failed.
 */

/* Start a group: forget the previous bundle (not run_*: that spans groups). */
void pf_rcpu_reset(struct pf_rcpu *rc);
/* Parse the CompactSched message p[0..len) of the bundle (kept, not copied). */
int pf_rcpu_parse(struct pf_rcpu *rc, const uint8_t *p, size_t len);
/*
 * The bundle's next switch / waking, in the order of each array. A link
 * (version 4) returns PF_LINK: decoded, but no record.
 */
#define PF_LINK 1
int pf_rcpu_switch(struct pf_rcpu *rc, struct cs_switch *e);
int pf_rcpu_waking(struct pf_rcpu *rc, struct cs_waking *e);
/* Whether an exception message is left that no element took. */
static inline bool pf_rcpu_leftover(const struct pf_rcpu *rc)
{
	return rc->xs.have || rc->xw.have;
}
/* Free it (allocated with calloc) and all it holds; NULL is fine. */
void pf_rcpu_free(struct pf_rcpu *rc);

#endif
