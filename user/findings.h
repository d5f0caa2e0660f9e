/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * findings.h: what limits the traced program and why it is slow, computed
 * from the core's numbers, each finding with its evidence (the figures and
 * the threads it rests on) and how much of the target's time it accounts
 * for (explained_ns), ranked by it. Pure: it reads a finished core.
 */
#ifndef CS_FINDINGS_H
#define CS_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core.h"

enum cs_finding_kind {
	CS_FIND_SHAPE,
	CS_FIND_CPU_SATURATED,
	CS_FIND_SERIALIZED,
	CS_FIND_LOCK_HOLDER_PREEMPTED,
	CS_FIND_LOOP_BLOCKED,
	CS_FIND_IO_BOUND,
	CS_FIND_WAKE_CHAIN,
	CS_FIND_THROTTLED,
	CS_FIND_NKINDS,
};

#define CS_FIND_FIGS 10
#define CS_FIND_TIDS 8
#define CS_FIND_TEXT 400

/* One figure of the evidence: its name says its unit (_ns, _pct, or a count). */
struct cs_fig {
	const char *name;
	uint64_t value;
};

struct cs_finding {
	enum cs_finding_kind kind;
	char text[CS_FIND_TEXT];
	uint64_t explained_ns;  /* the target's wall or thread time it accounts for */
	struct cs_fig figs[CS_FIND_FIGS];
	unsigned int nfigs;
	uint32_t tids[CS_FIND_TIDS]; /* the threads it rests on */
	unsigned int ntids;
	const struct cs_thread *loop;    /* loop_blocked: the loop (its episodes) */
	const struct cs_lockstat *lock;  /* serialized, lock_holder_preempted */
	uint32_t pid;                    /* the process it is about, 0: the target */
};

#define CS_MAX_FINDINGS 24

struct cs_findings {
	struct cs_finding f[CS_MAX_FINDINGS];
	size_t n;
};

struct cs_findings_cfg {
	unsigned int ncpus;     /* CPUs of the machine (0: as many as the core saw) */
};

/* Compute the findings of a finished core, ranked by explained_ns (shape first). */
void cs_findings_compute(struct cs_findings *out, const struct cs_core *c,
			 const struct cs_findings_cfg *cfg);

/*
 * The findings of a finished core (ncpus: as cs_findings_cfg's) in memory
 * of their own, free() them; NULL without memory. A caller with several
 * outputs of one core computes them once and hands them to each.
 */
struct cs_findings *cs_findings_new(const struct cs_core *c, unsigned int ncpus);
/*
 * What an output reads: fs, the findings its caller computed, or when fs
 * is NULL the core's, computed into *own (free() it after). NULL without
 * memory (the output then has no findings).
 */
const struct cs_findings *cs_findings_get(const struct cs_findings *fs, const struct cs_core *c,
					  unsigned int ncpus, struct cs_findings **own);

const char *cs_finding_kind_name(enum cs_finding_kind k);

/* The value of a finding's named figure (0 when it has none). */
uint64_t cs_finding_fig(const struct cs_finding *f, const char *name);

/* The first finding of a kind (about pid, or any when pid is 0), or NULL. */
const struct cs_finding *cs_findings_find(const struct cs_findings *fs, enum cs_finding_kind k,
					  uint32_t pid);

#endif
