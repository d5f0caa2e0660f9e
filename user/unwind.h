/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * unwind.h: the unwind tables the BPF side unwinds user stacks with
 * (--stacks). A worker thread of its own reads a process's executable
 * mappings from /proc/PID/maps, builds each file's table from its
 * .eh_frame once (ehframe.c; files are cached by build ID, else by path)
 * and tells the BPF side which table covers which mapping. The drain path
 * only asks (cs_unwind_want: a queue push); nothing slow runs there.
 *
 * It keeps each process's mappings as last read, so that the addresses of
 * a process that has exited can still be named after the recording.
 */
#ifndef CS_UNWIND_H
#define CS_UNWIND_H

#include <stdint.h>
#include "tracer.h"

struct cs_unwind;

struct cs_unwind_stats {
	uint32_t files, procs;   /* tables built, processes given tables */
	uint32_t rows, rows_cap; /* rows used of the room for them */
	uint32_t failed;         /* files without a usable .eh_frame */
	uint64_t build_ns;       /* time spent building tables */
};

/* Start the worker; NULL without memory or a thread. */
struct cs_unwind *cs_unwind_new(struct cs_tracer *t);
/* Ask for pid's tables (again: its mappings may have changed). Cheap; rate-limited. */
void cs_unwind_want(struct cs_unwind *u, uint32_t pid);
/* Wait until every request so far is done (tests, the end of a recording). */
void cs_unwind_sync(struct cs_unwind *u);
/* The mapped file that holds addr in pid's memory, as last read, and the offset in it. */
int cs_unwind_locate(struct cs_unwind *u, uint32_t pid, uint64_t addr, const char **path,
		     uint64_t *off);
void cs_unwind_stats(struct cs_unwind *u, struct cs_unwind_stats *st);
/* Stop the worker and free everything. */
void cs_unwind_free(struct cs_unwind **u);

#endif
