// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* hashmap.c: the tree's one hash map (hashmap.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "hashmap.h"

#define MIN_CAP 16u
#define MAX_CAP (1u << 28)

static int grow(struct cs_hmap *m)
{
	struct cs_hmap nm = { .cap = m->cap ? m->cap * 2 : MIN_CAP, .gen = 1 };
	uint32_t i;

	if (nm.cap > MAX_CAP)
		return -ENOMEM;
	nm.shift = 64 - (uint32_t)__builtin_ctz(nm.cap);
	nm.slot = calloc(nm.cap, sizeof(*nm.slot));
	if (!nm.slot)
		return -ENOMEM;
	for (i = 0; i < m->cap; i++) {
		const struct cs_hmap_slot *s = &m->slot[i];

		if (s->gen == m->gen)
			*cs_hmap_probe_(&nm, s->a, s->b) = (struct cs_hmap_slot){ s->a, s->b, s->val, nm.gen };
	}
	nm.n = m->n;
	free(m->slot);
	*m = nm;
	return 0;
}

int cs_hmap_insert_grow_(struct cs_hmap *m, uint64_t a, uint64_t b, uint32_t val)
{
	if (grow(m))
		return -ENOMEM;
	*cs_hmap_probe_(m, a, b) = (struct cs_hmap_slot){ a, b, val, m->gen };
	m->n++;
	return 1;
}

void cs_hmap_clear(struct cs_hmap *m)
{
	if (!m->n)
		return;
	m->n = 0;
	if (++m->gen == 0) { /* wrapped: slots of an old generation could look current */
		memset(m->slot, 0, (size_t)m->cap * sizeof(*m->slot));
		m->gen = 1;
	}
}

void cs_hmap_free(struct cs_hmap *m)
{
	free(m->slot);
	memset(m, 0, sizeof(*m));
}
