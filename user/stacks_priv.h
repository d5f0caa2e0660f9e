/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * stacks_priv.h: the tables of stacks.c, shared with its outputs
 * (stacks_out.c) only.
 */
#ifndef CS_STACKS_PRIV_H
#define CS_STACKS_PRIV_H

#include "hashmap.h"
#include "stacks.h"

#define CS_OWNER_LOCK (1ull << 63) /* sums of a lock (| its index); else a thread's */
#define CS_OWNER_GIL (1ull << 62)  /* a thread's waits for CPython's GIL (| the thread) */
#define CS_OWNER_BLOCKED(o) (!((o) & (CS_OWNER_LOCK | CS_OWNER_GIL))) /* a thread's blocked time */

struct stk_def {
	uint64_t id;
	uint32_t pid;
	uint16_t nk, np, nu; /* kernel, Python (CS_FNF_OTHER) and native user frames */
	uint8_t flags;
	uint64_t pcs[CS_STACK_KERNEL + CS_STACK_PY + CS_STACK_USER];
};

struct stk_name {
	uint32_t pid;
	uint8_t flags;
	uint64_t addr;
	char name[CS_FRAME_NAME_LEN];
};

struct stk_agg {
	uint64_t owner, id;
	uint64_t count, ns;
};

struct cs_stacks {
	uint64_t captures;   /* CS_EV_STACK records */
	uint64_t dropped;    /* ns not summed: the table was full */
	struct stk_def *defs;
	size_t ndefs, capdefs;
	struct cs_hmap didx;  /* id -> index in defs */
	struct stk_name *names;
	size_t nnames, capnames;
	struct cs_hmap nidx;  /* (addr, pid) -> index in names */
	struct stk_agg *aggs;
	size_t naggs, capaggs;
	struct cs_hmap aidx;  /* (owner, id) -> index in aggs */
	/*
	 * The outputs (stacks_out.c) sort aggs by owner, heaviest first, once
	 * they read them: after the recording, when the sums no longer change.
	 * naggs then, 0 before.
	 */
	size_t nsorted;
};

struct stk_def *cs_stacks_def(const struct cs_stacks *s, uint64_t id);
const struct stk_name *cs_stacks_name(const struct cs_stacks *s, uint32_t pid, uint64_t addr);

#endif
