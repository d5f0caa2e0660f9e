// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdlib.h>
#include "hist.h"

unsigned int cs_hist_index(uint64_t v)
{
	unsigned int msb, shift;

	if (v < CS_HIST_SUB)
		return (unsigned int)v;
	msb = 63 - (unsigned int)__builtin_clzll(v);
	shift = msb - CS_HIST_SUB_BITS;
	/* group g = shift + 1 covers [2^msb, 2^(msb+1)) in CS_HIST_SUB steps */
	return (shift + 1) * CS_HIST_SUB + (unsigned int)((v >> shift) - CS_HIST_SUB);
}

void cs_hist_range(unsigned int idx, uint64_t *lo, uint64_t *hi)
{
	unsigned int g = idx / CS_HIST_SUB, s = idx % CS_HIST_SUB, shift;

	if (g == 0) {
		*lo = *hi = idx;
		return;
	}
	shift = g - 1;
	*lo = ((uint64_t)(CS_HIST_SUB + s)) << shift;
	*hi = *lo + ((uint64_t)1 << shift) - 1;
}

int cs_hist_add(struct cs_hist *h, uint64_t v)
{
	if (!h->b) {
		h->b = calloc(CS_HIST_BUCKETS, sizeof(*h->b));
		if (!h->b)
			return -ENOMEM;
	}
	h->b[cs_hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
	return 0;
}

uint64_t cs_hist_quantile(const struct cs_hist *h, double q)
{
	uint64_t rank, seen = 0, lo, hi;
	unsigned int i;

	if (!h->count || !h->b)
		return 0;
	if (q <= 0)
		q = 0;
	rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	for (i = 0; i < CS_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > rank) {
			cs_hist_range(i, &lo, &hi);
			lo += (hi - lo) / 2;
			return lo > h->max ? h->max : lo;
		}
	}
	return h->max;
}

void cs_hist_free(struct cs_hist *h)
{
	free(h->b);
	h->b = NULL;
}
