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
	uint16_t cpu;         /* last known CPU */
	int16_t block_syscall; /* system call of the current block, -1 none */
	uint64_t since;       /* when the current state began */
	uint64_t wait_from;   /* ready: start of the wait not yet charged to a holder */
	uint64_t first_ts, exit_ts;

	uint64_t ns[CS_NACC]; /* time in each state, inside the window */
	uint64_t nvcsw, nivcsw, migrations, wakeups;
	struct cs_hist lat;   /* ready -> running, ns */
	struct cs_topk wakers;  /* key: waker tid (0: interrupt/idle); by count */
	struct cs_topk holders; /* key: tid running on my CPU while I was ready; by ns */
	struct cs_topk blocked; /* key: syscall nr + 1 (0: none); by ns */
	uint64_t *tl;         /* [CS_TL_BUCKETS][CS_NACC] ns */
};

struct cs_totals {
	uint64_t ns[CS_NACC];
	uint64_t nvcsw, nivcsw, migrations, wakeups;
	uint64_t running_ns;
	double parallelism;
};

struct cs_core_stats {
	uint64_t events;       /* records fed */
	uint64_t lost_events;  /* from CS_EV_LOST records */
	uint64_t late_events;  /* records older than one already processed */
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
const struct cs_core_stats *cs_core_stats(const struct cs_core *c);
uint64_t cs_core_window_begin(const struct cs_core *c);
uint64_t cs_core_window_end(const struct cs_core *c);
uint64_t cs_core_duration(const struct cs_core *c);
unsigned int cs_core_ncpus(const struct cs_core *c);
/* Timeline geometry: bucket i covers [begin + i*width, begin + (i+1)*width). */
uint64_t cs_core_tl_width(const struct cs_core *c);
unsigned int cs_core_tl_used(const struct cs_core *c);
/* Name of any task seen (tracked or not), or NULL. */
const char *cs_core_comm(const struct cs_core *c, uint32_t tid);
/* The command's wait status from CS_MARK_CMD_EXIT, or -1. */
int cs_core_cmd_status(const struct cs_core *c);

#endif
