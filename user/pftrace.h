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
 * The format is described in pf_format.h and in
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
#include "emit.h"

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
 * What the core counted, for the UI only (the reader skips it): a thread's
 * untraced time and its lock waits as slices. cs_pf_slices() fills o so
 * that a core (cs_core_slices_to) writes them into w; a writer fed without
 * a core has no such slices.
 */
struct cs_core_slices;
void cs_pf_slices(struct cs_pf_writer *w, struct cs_core_slices *o);

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

/*
 * Slices on a track of concscope's own, for the Perfetto UI only (the
 * reader skips them), written after the records (e.g. the critical path,
 * computed once the recording is over). cs_pf_track() names the track
 * (once, before its slices); uuid is the caller's id for it
 * (CS_PF_UUID_*). Each slice is [ts, ts + dur) with string (str) or
 * number arguments. 0 or the writer's error.
 */
/*
 * Small numbers: a track uuid is in every event on the track, and these
 * tracks hold one slice per stretch of a critical path (one byte instead of
 * nine, twice a slice). Every other uuid concscope writes is above 2^32
 * (pf_format.h's UUID_*), so these are its own.
 */
#define CS_PF_UUID_CRITPATH 3ull
#define CS_PF_UUID_FINDINGS 4ull
#define CS_PF_UUID_EPISODES 5ull
struct cs_pf_arg {
	const char *key;
	const char *str;      /* NULL: num */
	uint64_t num;
};
int cs_pf_track(struct cs_pf_writer *w, uint64_t uuid, const char *name);
int cs_pf_slice(struct cs_pf_writer *w, uint64_t uuid, uint64_t ts, uint64_t dur,
		const char *name, const struct cs_pf_arg *args, unsigned int nargs);

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
 * Reading a trace in one pass (what `report` does): the header first, then
 * every record.
 *
 * cs_pf_load() maps PATH (or reads it, when it is not a regular file) and
 * reads its header: *info then has the version, ncpus, track_all,
 * tl_width_ns and utsname (the rest comes with cs_pf_stream()).
 * cs_pf_stream() decodes and checks the whole file and emits its records in
 * order as it goes, each group's records once the group's checksum and
 * structure are checked; it stops at the first fault. Records emitted
 * before an error are not to be trusted: the caller discards them. It
 * fills *info (may be NULL) and can be called again (it starts over).
 * cs_pf_unload() frees the reader (NULL is fine) and sets *r NULL.
 *
 * Errors: 0, or a negative errno (-EINVAL for a file that is not a valid
 * concscope trace, -ENOTSUP for a newer format version, -ENOMEM, or the
 * error of open/read) with one human-readable line in err (e.g. "not a
 * concscope trace", "truncated at byte N", "corrupt packet at byte N:
 * ..."). On a load error *r is NULL. Never reads out of bounds on
 * arbitrary input.
 */
struct cs_pf_reader;

int cs_pf_load(struct cs_pf_reader **r, const char *path, struct cs_pf_info *info, char *err,
	       size_t errlen);
/* Same, from memory the caller keeps until cs_pf_unload() (the fuzzer, tests). */
int cs_pf_load_mem(struct cs_pf_reader **r, const void *buf, size_t len,
		   struct cs_pf_info *info, char *err, size_t errlen);
int cs_pf_stream(struct cs_pf_reader *r, cs_emit_fn emit, void *ctx, struct cs_pf_info *info,
		 char *err, size_t errlen);
void cs_pf_unload(struct cs_pf_reader **r);

/*
 * Read a trace written by cs_pf_open/feed/close and emit its records in
 * order, checking the whole file before the first record is emitted (it is
 * decoded twice): on error nothing has been emitted. Errors as above.
 */
int cs_pf_read(const char *path, cs_emit_fn emit, void *ctx, char *err, size_t errlen);
/* Same, from memory (used by the fuzzer and tests). */
int cs_pf_read_mem(const void *buf, size_t len, cs_emit_fn emit, void *ctx, char *err,
		   size_t errlen);
/* Same, also filling *info (may be NULL); emit may be NULL to only check. */
int cs_pf_read_info(const char *path, cs_emit_fn emit, void *ctx, struct cs_pf_info *info,
		    char *err, size_t errlen);

/*
 * Testing hook: from now on write the file's bytes to fd instead (e.g. an fd
 * of /dev/full to test -ENOSPC). The temporary file is still the one
 * unlinked or renamed at close. 0 or -errno.
 */
int cs_pf_test_redirect(struct cs_pf_writer *w, int fd);

#endif
