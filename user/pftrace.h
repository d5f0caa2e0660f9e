/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pftrace.h: concscope's trace file, a Perfetto protobuf trace that
 * ui.perfetto.dev opens as it is and that concscope reads back losslessly.
 *
 * The writer takes the same time-ordered record stream as the core
 * (bpf/concscope.h). Scheduler records go into per-CPU FtraceEventBundles
 * as CompactSched arrays (what Perfetto itself writes); everything Perfetto
 * has no field for is kept in private fields with high numbers, which
 * Perfetto ignores. The reader rebuilds exactly the records that were fed,
 * in the same order, so a core fed from the file computes the same results.
 * The format is described in pftrace.c and in
 * tests/perfetto/concscope_trace.proto.
 *
 * Memory is bounded: the writer keeps one group of bundles (a few thousand
 * records per CPU) and per-task names; the reader decodes one group at a
 * time.
 */
#ifndef CS_PFTRACE_H
#define CS_PFTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "concscope.h"
#include "reorder.h"

struct cs_pf_meta {
	const char *sysname, *release, *version, *machine; /* utsname; NULL = "" */
	unsigned int ncpus;
	/* The core's configuration, stored so a report recomputes the same. */
	bool track_all;
	uint64_t tl_width_ns;
};

struct cs_pf_writer;

/*
 * Create PATH's temporary sibling (".NAME.XXXXXX" in PATH's directory) and
 * write the header packets. 0 or -errno.
 */
int cs_pf_open(struct cs_pf_writer **w, const char *path, const struct cs_pf_meta *meta);

/*
 * One record of the ordered stream (a validated record: known kind, exact
 * size, else -EINVAL and nothing is stored). Buffers per CPU and writes
 * bundles as they fill. Returns -errno on a write error (e.g. -ENOSPC);
 * after an error every call returns that same error.
 */
int cs_pf_feed(struct cs_pf_writer *w, const struct cs_hdr *ev);

/*
 * The end timestamp the caller passes to cs_core_finish(), so a report can
 * do the same (cs_pf_info.end_ts). Optional.
 */
void cs_pf_set_end(struct cs_pf_writer *w, uint64_t end_ts);

/*
 * commit=true: flush everything, fsync, rename over PATH; commit=false:
 * unlink the temporary file. Frees *w and sets it NULL. Returns 0 or the
 * first -errno seen (then the temporary file is removed and PATH is left
 * untouched).
 */
int cs_pf_close(struct cs_pf_writer **w, bool commit);

/* Bytes written to the file so far (including what sits in the write buffer). */
uint64_t cs_pf_bytes(const struct cs_pf_writer *w);

/* What a trace says about itself, for the report. */
struct cs_pf_info {
	unsigned int version;
	unsigned int ncpus;
	bool track_all;
	uint64_t tl_width_ns;
	char sysname[65], release[65], version_str[65], machine[65];
	uint64_t records;  /* records emitted */
	uint64_t first_ts, last_ts; /* of the records (0 when none) */
	uint64_t end_ts;   /* from cs_pf_set_end(), else last_ts */
};

/*
 * Read a trace written by cs_pf_open/feed/close and emit its records in
 * order. The whole file is checked before the first record is emitted, so
 * on error nothing has been emitted. 0, or a negative errno (-EINVAL for a
 * file that is not a valid concscope trace, -ENOTSUP for a newer format
 * version, -ENOMEM, or the error of open/read) with one human-readable line
 * in err (e.g. "not a concscope trace", "truncated at byte N",
 * "corrupt packet at byte N: ..."). Never reads out of bounds on arbitrary
 * input.
 */
int cs_pf_read(const char *path, cs_emit_fn emit, void *ctx, char *err, size_t errlen);
/* Same, from memory (used by the fuzzer and tests). */
int cs_pf_read_mem(const void *buf, size_t len, cs_emit_fn emit, void *ctx, char *err,
		   size_t errlen);
/* Same, also filling *info (may be NULL); emit may be NULL to only check. */
int cs_pf_read_info(const char *path, cs_emit_fn emit, void *ctx, struct cs_pf_info *info,
		    char *err, size_t errlen);
int cs_pf_read_mem_info(const void *buf, size_t len, cs_emit_fn emit, void *ctx,
			struct cs_pf_info *info, char *err, size_t errlen);

/*
 * Testing hook: from now on write the file's bytes to fd instead (e.g. an fd
 * of /dev/full to test -ENOSPC). The temporary file is still the one
 * unlinked or renamed at close. 0 or -errno.
 */
int cs_pf_test_redirect(struct cs_pf_writer *w, int fd);

#endif
