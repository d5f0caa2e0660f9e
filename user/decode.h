/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * decode.h: validation of raw event records (from the ring buffer or a raw
 * dump) before anything trusts their fields.
 */
#ifndef CS_DECODE_H
#define CS_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "concscope.h"

/* Largest record of any kind, in bytes. */
#define CS_REC_MAX 192

/* Any one record, by kind, with room for the largest. */
union cs_rec {
	struct cs_hdr h;
	struct cs_switch sw;
	struct cs_waking wk;
	struct cs_fork fork;
	struct cs_exec exec;
	struct cs_exit exit;
	struct cs_migrate mig;
	struct cs_rename ren;
	struct cs_lock lock;
	struct cs_futex futex;
	struct cs_thread_info ti;
	struct cs_mark mark;
	struct cs_lost lost;
	struct cs_lock_name ln;
	struct cs_thread_totals tt;
	struct cs_cpu_state cst;
	struct cs_lock_class lc;
	struct cs_wake_source ws;
	struct cs_title title;
	struct cs_task_sched tsch;
	struct cs_stack stk;
	struct cs_stack_def sdef;
	struct cs_frame_name fname;
	unsigned char raw[CS_REC_MAX];
};

/* The exact size of a record of this kind, or 0 for an unknown kind. */
size_t cs_kind_size(unsigned int kind);

/*
 * Check that data[0..len) holds one well-formed record: a known kind whose
 * size field equals both len and the kind's size. Returns the record or
 * NULL.
 */
const struct cs_hdr *cs_decode(const void *data, size_t len);

/*
 * Walk a buffer of back-to-back records (a raw dump). Returns the next
 * record and advances *off, NULL at the end or at a malformed record
 * (then *off is left where the bad record starts).
 */
const struct cs_hdr *cs_decode_next(const void *buf, size_t len, size_t *off);

/* A mark record (window, model, segment...) not tied to a CPU; text may be NULL. */
void cs_mark_init(struct cs_mark *m, uint64_t ts, unsigned int kind, uint32_t pid,
		  int64_t value, const char *text);

#endif
