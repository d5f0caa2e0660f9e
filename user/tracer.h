/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * tracer.h: the only module that talks to BPF. It loads and attaches the
 * programs, fills the tracked map, drains the ring buffer into a callback
 * (validated records only) and reads the loss counters.
 */
#ifndef CS_TRACER_H
#define CS_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "concscope.h"

struct cs_tracer_opts {
	bool track_all;
	size_t rb_bytes;       /* ring buffer size (power of two), 0 = default */
	const char *btf_path;  /* kernel BTF, NULL = /sys/kernel/btf/vmlinux */
	bool verbose;          /* libbpf's own messages */
	bool no_locks;         /* leave out kernel lock and futex tracing */
	bool futex_syscalls;   /* futex waits from the system calls, not the switch */
	bool stacks;           /* call stacks at blocking switches and lock waits */
};

typedef void (*cs_rec_fn)(const struct cs_hdr *ev, void *ctx);

struct cs_tracer;

/* Open and load (not yet attached). -errno with a message in err. */
int cs_tracer_open(struct cs_tracer **t, const struct cs_tracer_opts *o,
		   cs_rec_fn fn, void *ctx, char *err, size_t errlen);
int cs_tracer_attach(struct cs_tracer *t, char *err, size_t errlen);
int cs_tracer_track(struct cs_tracer *t, uint32_t tgid);
/* Wait up to timeout_ms for data, then consume all there is. */
int cs_tracer_poll(struct cs_tracer *t, int timeout_ms);
/*
 * The same, but give the caller back its turn after about slice_ns of
 * consuming (1: records may be waiting still). A ring that fills as fast as
 * it is read would otherwise keep the caller from its clock, its child and
 * its signals until the traced programs stop.
 */
int cs_tracer_poll_slice(struct cs_tracer *t, int timeout_ms, uint64_t slice_ns);
/*
 * Each CPU's losses so far (per_cpu[ncpus]), and the total of them plus the
 * program runs the kernel skipped (*skipped).
 */
uint64_t cs_tracer_lost(struct cs_tracer *t, struct cs_loss *per_cpu, unsigned int ncpus,
			uint64_t *skipped);
/*
 * The recording window as the BPF programs clip their totals to it
 * (CLOCK_BOOTTIME ns; 0: not open / still open). For run, the root's exec
 * opens it and its last thread's exit closes it, in the kernel; the
 * setters are for attach and for a window user space closes.
 */
void cs_tracer_set_window(struct cs_tracer *t, uint64_t begin, uint64_t end);
void cs_tracer_get_window(const struct cs_tracer *t, uint64_t *begin, uint64_t *end);
/* run: the command whose exec opens and exit closes the window (0: none). */
void cs_tracer_set_root(struct cs_tracer *t, uint32_t tgid);
/* A new segment: the kernel side's per-thread slots start over. */
void cs_tracer_new_segment(struct cs_tracer *t);

/* One thread's totals as the kernel side kept them; exited: final. */
typedef void (*cs_totals_fn)(const struct cs_kthread *k, bool exited, void *ctx);
/* Hand over the exited threads' totals waiting in the queue; how many. */
unsigned int cs_tracer_drain_exited(struct cs_tracer *t, cs_totals_fn fn, void *ctx);
/* Hand over the totals of every thread of this segment still in the table. */
unsigned int cs_tracer_read_live(struct cs_tracer *t, cs_totals_fn fn, void *ctx);
/* The last lock our own programs contended on (the lock programs leave those out), or 0. */
uint64_t cs_tracer_own_lock(const struct cs_tracer *t);
/* Counters of the kernel side's own limits: CS_STAT_SLOT_TAKEN, CS_STAT_EXITED_FULL. */
uint64_t cs_tracer_stat(struct cs_tracer *t, unsigned int stat);

/* Futex waits of tgid inside [lo, hi) are lock contention (CPython's GIL). */
int cs_tracer_set_contended_range(struct cs_tracer *t, uint32_t tgid, uint64_t lo, uint64_t hi);
/* The kernel stack of a wake-up from an interrupt (cs_waking.source - 1); frames or -errno. */
int cs_tracer_wake_stack(struct cs_tracer *t, uint32_t id, uint64_t *ips, unsigned int max);

/*
 * Unwind tables (--stacks; the unwinding worker's calls): append one file's
 * rows (sorted by pc) and get its table's id (> 0), or -ENOSPC when the
 * rows map is full; tell which table covers each executable mapping of a
 * process.
 */
int cs_tracer_uw_add_table(struct cs_tracer *t, const struct cs_uw_row *rows, uint32_t n);
int cs_tracer_uw_set_proc(struct cs_tracer *t, uint32_t tgid, const struct cs_uw_proc *p);
/*
 * CPython frames (--stacks): tgid runs the CPython this build knows the
 * layout of; its main interpreter's pointer is at interp_ptr.
 */
int cs_tracer_py_set_proc(struct cs_tracer *t, uint32_t tgid, uint64_t interp_ptr);
/* Rows used and room for rows. */
void cs_tracer_uw_usage(const struct cs_tracer *t, uint32_t *used, uint32_t *cap);

/* Records the ring buffer handed over that failed validation (counted as lost). */
uint64_t cs_tracer_bad_records(const struct cs_tracer *t);
unsigned int cs_tracer_ncpus(const struct cs_tracer *t);
/* Print the IDs of this instance's programs, links and maps (for -v and tests). */
void cs_tracer_print_ids(const struct cs_tracer *t, FILE *f);
void cs_tracer_close(struct cs_tracer **t);

#endif
