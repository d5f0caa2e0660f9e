/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * hist.h: a log-linear latency histogram of stated precision.
 *
 * Values below 2^CS_HIST_SUB_BITS ns are exact. Above, each power of two is
 * split into 2^CS_HIST_SUB_BITS buckets and a percentile reports the middle
 * of its bucket, so it is within 1/2^(CS_HIST_SUB_BITS+1) = 1.6% of a value
 * that really falls in that bucket. The maximum is kept exactly.
 */
#ifndef CS_HIST_H
#define CS_HIST_H

#include <stdint.h>

#define CS_HIST_SUB_BITS 5
#define CS_HIST_SUB (1u << CS_HIST_SUB_BITS)
#define CS_HIST_GROUPS (64 - CS_HIST_SUB_BITS)
#define CS_HIST_BUCKETS ((CS_HIST_GROUPS + 1) * CS_HIST_SUB)

struct cs_hist {
	uint64_t count;
	uint64_t sum;
	uint64_t max;
	uint32_t *b; /* CS_HIST_BUCKETS counters, allocated on first use */
};

int cs_hist_add(struct cs_hist *h, uint64_t v);
/* The value at quantile q (0..1): the middle of its bucket; 0 when empty. */
uint64_t cs_hist_quantile(const struct cs_hist *h, double q);
void cs_hist_free(struct cs_hist *h);

/* Bucket index and its [lo, hi] range, exposed for tests. */
unsigned int cs_hist_index(uint64_t v);
void cs_hist_range(unsigned int idx, uint64_t *lo, uint64_t *hi);

#endif
