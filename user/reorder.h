/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * reorder.h: puts records from all CPUs back in timestamp order.
 *
 * Records leave the shared ring buffer in reservation order, which can be a
 * few microseconds off timestamp order across CPUs. The buffer holds each
 * record until a newer one is more than `window` ns ahead of it, then
 * releases it; insertion from the tail makes nearly sorted input cheap.
 */
#ifndef CS_REORDER_H
#define CS_REORDER_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "concscope.h"
#include "decode.h"
#include "emit.h"

/* What a tracing session uses (and the benchmark's replay, to be like it) */
#define CS_REORDER_CAP 65536
#define CS_REORDER_WINDOW_NS 2000000ull /* 2 ms: cross-CPU skew is microseconds */

struct cs_reorder {
	uint64_t window;
	size_t cap, head, n;     /* ring of slot indices, oldest at head */
	uint32_t *order;         /* order[(head + i) % cap] = slot */
	unsigned char (*slots)[CS_REC_MAX];
	uint32_t *free_slots;
	size_t nfree;
	uint64_t newest;
	cs_emit_fn emit;
	void *ctx;
	uint64_t forced;         /* released early because the buffer was full */
};

int cs_reorder_init(struct cs_reorder *r, size_t cap, uint64_t window_ns,
		    cs_emit_fn emit, void *ctx);
/* Copy one validated record in; may release older ones. */
void cs_reorder_push(struct cs_reorder *r, const struct cs_hdr *ev);
/* Release everything, in order. */
void cs_reorder_flush(struct cs_reorder *r);
/* Flush, and start over in time (the next record may be older than the last). */
void cs_reorder_reset(struct cs_reorder *r);
void cs_reorder_free(struct cs_reorder *r);

#endif
