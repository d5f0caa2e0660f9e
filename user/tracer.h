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
 * Events lost so far on each CPU (ring buffer full) into per_cpu[ncpus],
 * and in all (plus program runs the kernel skipped). Returns the total.
 */
uint64_t cs_tracer_lost(struct cs_tracer *t, uint64_t *per_cpu, unsigned int ncpus,
			uint64_t *skipped);
/* Records the ring buffer handed over that failed validation (counted as lost). */
uint64_t cs_tracer_bad_records(const struct cs_tracer *t);
unsigned int cs_tracer_ncpus(const struct cs_tracer *t);
/* Print the IDs of this instance's programs, links and maps (for -v and tests). */
void cs_tracer_print_ids(const struct cs_tracer *t, FILE *f);
void cs_tracer_close(struct cs_tracer **t);

#endif
