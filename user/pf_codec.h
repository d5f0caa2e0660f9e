/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * pf_codec.h: the small codecs the trace writer and reader share (see
 * pf_format.h for where each is used in the file):
 *
 *   - CRC-32 (IEEE 802.3, reflected), slicing-by-8;
 *   - the order codec: a group's sequence numbers as gaps.
 *
 * What runs once per scheduler event (the order encoder's common case) is
 * inline here: the writer's hot path stays one call deep.
 */
#ifndef CS_PF_CODEC_H
#define CS_PF_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pb.h"

/* A stretch of the input, not owned. */
struct pf_span {
	const uint8_t *p;
	size_t len;
};

/* ---- CRC-32 ---- */

typedef uint32_t pf_crc_table[8][256];

/* Eight tables: slicing-by-8 reads 8 bytes a step. t[0] is the classic table. */
void pf_crc_init(pf_crc_table t);
/* Running CRC: start with 0, feed chunks, the value is the CRC so far. */
uint32_t pf_crc_update(const pf_crc_table t, uint32_t crc, const uint8_t *p, size_t n);

/* ---- order codec ---- */

/*
 * Encoder of one order array: sequence numbers, increasing, put one by one.
 * With next = previous + 1 (starting at 0), an even value x is one element
 * at next + x/2; an odd value x is followed by n and stands for n + 1
 * elements, each at next + x/2 (a run: written for 3 equal gaps or more).
 */
struct pf_ordenc {
	uint64_t next;  /* previous sequence number + 1 */
	uint64_t gap;   /* gap of the pending run */
	uint32_t run;   /* elements in the pending run */
	struct pb_buf out;
};

/* Write the pending run to out: before out is read. */
void pf_ord_flush(struct pf_ordenc *o);

static inline void pf_ord_put(struct pf_ordenc *o, uint64_t seq)
{
	uint64_t gap = seq - o->next;

	if (o->run && gap == o->gap) {
		o->run++;
	} else {
		pf_ord_flush(o);
		o->gap = gap;
		o->run = 1;
	}
	o->next = seq + 1;
}

static inline void pf_ord_reset(struct pf_ordenc *o)
{
	o->next = 0;
	o->run = 0;
	pb_buf_reset(&o->out);
}

/* An owner[] slot no array has claimed yet. */
#define PF_ORD_FREE 0xffff

/*
 * Decode one order array p[0..len) of exactly count elements into owner[]:
 * owner[seq] = id for each, every seq < nrec and owner[seq] PF_ORD_FREE
 * before. 0, or -EINVAL with *why saying what was wrong.
 */
int pf_ord_decode(const uint8_t *p, size_t len, uint32_t count, uint16_t id, uint16_t *owner,
		  uint64_t nrec, const char **why);

#endif
