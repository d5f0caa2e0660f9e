/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pf_display.h: the parts of a trace file that exist only for the Perfetto
 * UI: the process tree, track descriptors, track events (lock waits and
 * untraced time as the core counted them, model and window marks, the
 * lost-events counter) and the
 * FtraceEvents of forks, execs, exits, renames and migrations. concscope's
 * reader skips all of it (it reads the private copies, pf_format.h).
 *
 * The writer (pf_writer.c) hands every private record to the display,
 * writes the display packets of a group before its bundles, and asks it for
 * task names (a waking's comm in CompactSched is the woken task's name).
 */
#ifndef CS_PF_DISPLAY_H
#define CS_PF_DISPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include "decode.h"
#include "hashmap.h"
#include "pb.h"
#include "pf_bundle.h"
#include "pf_stacks.h"
#include "pftrace.h"

struct pf_task;

/* The traced command's arguments, for its process's cmdline. */
#define PF_ARGS_MAX 64
struct pf_args {
	uint32_t pid;
	uint32_t n;
	uint16_t off[PF_ARGS_MAX];
	size_t len;
	char buf[2048];
};

/*
 * The strings of the track events (all on sequence 1, whose interned state
 * only the header clears), interned: an event's name, argument name or
 * string value is written once, in the InternedData of the first packet
 * that uses it, and by its iid (1 + its index) after that. A critical path
 * or a lock's waits repeat a few names thousands of times. (Sequence 2's
 * track descriptors use none.)
 */
enum { PF_IN_NAMES, PF_IN_ARG_NAMES, PF_IN_VALUES, PF_IN_TABLES };
#define PF_INTERN_MAX 65536 /* strings per table; past it, written in place */
struct pf_intern {
	struct cs_hmap idx; /* (hash, length) -> index */
	char **str;
	size_t n, cap;
};

struct pf_display {
	struct pb_buf pkts; /* the group's display TracePackets, tags included */
	struct pf_intern in[PF_IN_TABLES];
	struct pb_buf fresh; /* InternedData entries the packet being built adds */
	bool te_iid;         /* the packet being built refers to an interned string */
	/* the whole file */
	struct cs_hmap taskidx;
	struct pf_task *tasks;
	uint32_t ntasks;
	size_t captasks;
	struct pf_args args;
	uint64_t lost_total;
	/* per CPU, the last slot for "not per CPU" (PF_MAX_CPU + 1, allocated at a loss) */
	uint64_t *lost_cpu;
	struct pf_lossw { uint64_t first, last, count; bool track; } *lossw; /* being merged */
	bool lost_track;
	uint32_t models_open;
	struct pf_stacks stk; /* --stacks: pf_stacks.c's */
	char model[CS_MARK_TEXT + 1]; /* the model running, "" none */
	uint32_t window_pid;          /* the process whose window is open, 0 none */
};

/* The header's third packet: the TrackDescriptor of the models track (into pkt). */
void pf_display_header(struct pb_buf *pkt);

/* Whether a record of this kind writes into its CPU's bundle (pf_events). */
bool pf_display_needs_bundle(unsigned int kind);

/*
 * One private record (not a compact SWITCH or WAKING): its display packets
 * into d->pkts, its FtraceEvent (or lost flag) into ev, the bundle of its
 * CPU when it needs one (NULL: none, e.g. for a CPU >= PF_MAX_CPU).
 */
void pf_display_feed(struct pf_display *d, const union cs_rec *r, struct pf_events *ev);

/*
 * What concscope counted (cs_core_slices), as slices: a thread's
 * untraced time on its "untraced" track, a lock wait on its own track
 * (named after the lock, with its kind, address and releaser).
 */
struct cs_wait_end;
void pf_display_untraced(struct pf_display *d, uint32_t tid, uint32_t pid, uint64_t a, uint64_t b);
void pf_display_wait(struct pf_display *d, const struct cs_wait_end *e);

/* The name a task goes by from now on (a switch's next, a fork's child...). */
void pf_display_name(struct pf_display *d, uint32_t tid, const char *comm);
/* Its name, or "" when none was seen. */
const char *pf_display_comm(struct pf_display *d, uint32_t tid);

/*
 * At the end: the loss windows still being merged, as slices (into
 * d->pkts); then the FtraceStats packet of a phase (1 START_OF_TRACE: no
 * overrun; 2 END_OF_TRACE: the events lost per CPU), into pkt.
 */
void pf_display_end_losses(struct pf_display *d);
void pf_display_ftrace_stats(const struct pf_display *d, struct pb_buf *pkt, unsigned int ncpus,
			     unsigned int phase);
/* A track of its own (a TrackDescriptor), and a slice on it, into d->pkts. */
void pf_display_track(struct pf_display *d, uint64_t uuid, const char *name);
void pf_display_slice(struct pf_display *d, uint64_t uuid, uint64_t ts, uint64_t dur,
		      const char *name, const struct cs_pf_arg *args, unsigned int nargs);

void pf_display_free(struct pf_display *d);

#endif
