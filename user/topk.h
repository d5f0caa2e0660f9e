/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * topk.h: a fixed-size "top K" table (space-saving): bounded memory however
 * many distinct keys a long recording sees. Exact while there are at most
 * CS_TOPK distinct keys; beyond, a newcomer replaces the smallest entry and
 * inherits its weight, so heavy keys are never lost.
 */
#ifndef CS_TOPK_H
#define CS_TOPK_H

#include <stdint.h>

#define CS_TOPK 8

struct cs_topk_ent {
	uint64_t key;
	uint64_t count;
	uint64_t ns;
};

struct cs_topk {
	uint8_t n;
	uint8_t by_ns; /* rank by ns (else by count) */
	struct cs_topk_ent e[CS_TOPK];
};

void cs_topk_add(struct cs_topk *t, uint64_t key, uint64_t count, uint64_t ns);
/* Sort entries, heaviest first, into out (at most CS_TOPK); returns how many. */
unsigned int cs_topk_sorted(const struct cs_topk *t, struct cs_topk_ent *out);

#endif
