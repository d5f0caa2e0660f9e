/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * hashmap.h: the tree's one hash map, a key of two 64-bit words -> a 32-bit
 * value (in every use an index into the caller's own array).
 *
 * Two words hold every key the tree has without folding it into one: a tid
 * or pid (b = 0), a lock (address, pid and space), a stack address in a
 * process, a 16-byte comm. A folded key aliases: pid << 48 once made pids
 * 65,536 apart one key.
 *
 * Open addressing, linear probing, at most half full; a slot is in use when
 * its generation is the map's, so clearing (between the writer's groups) is
 * O(1). No removal: nothing in the tree forgets a key short of a clear.
 * A zeroed struct is an empty map. The look-up is inline: it runs for
 * nearly every record on the replay and drain paths.
 */
#ifndef CS_HASHMAP_H
#define CS_HASHMAP_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

struct cs_hmap_slot {
	uint64_t a, b;
	uint32_t val;
	uint32_t gen; /* in use when equal to the map's gen */
};

struct cs_hmap {
	struct cs_hmap_slot *slot;
	uint32_t cap;  /* a power of two, or 0 before the first put */
	uint32_t n;    /* keys held */
	uint32_t gen;  /* the generation of the slots in use, never 0 once allocated */
	uint32_t shift; /* 64 - log2(cap) */
};

/*
 * Multiplicative (Fibonacci) hashing: the slot is the top bits of the
 * product, which depend on every bit of the key below them. Cheaper than a
 * full mixer on the look-up that runs for nearly every record, and good
 * enough at half full: tids in a row land far apart.
 */
static inline uint32_t cs_hmap_slot_of(const struct cs_hmap *m, uint64_t a, uint64_t b)
{
	return (uint32_t)(((a ^ (b * 0xc2b2ae3d27d4eb4full)) * 0x9e3779b97f4a7c15ull) >> m->shift);
}

/* Key (a, b)'s slot, or the free slot where it would go (the map is allocated). */
static inline struct cs_hmap_slot *cs_hmap_probe_(const struct cs_hmap *m, uint64_t a, uint64_t b)
{
	uint32_t i, mask = m->cap - 1;
	struct cs_hmap_slot *s;

	for (i = cs_hmap_slot_of(m, a, b);; i = (i + 1) & mask) {
		s = &m->slot[i];
		if (s->gen != m->gen || (s->a == a && s->b == b))
			return s;
	}
}

/* The value of key (a, b), or NULL. */
static inline uint32_t *cs_hmap_get(const struct cs_hmap *m, uint64_t a, uint64_t b)
{
	struct cs_hmap_slot *s;

	if (!m->cap)
		return NULL;
	s = cs_hmap_probe_(m, a, b);
	return s->gen == m->gen ? &s->val : NULL;
}

/* Insert a key known to be absent when the map is full: hashmap.c. */
int cs_hmap_insert_grow_(struct cs_hmap *m, uint64_t a, uint64_t b, uint32_t val);

/* Insert when absent: 1 inserted, 0 already there (value kept), or -ENOMEM. */
static inline int cs_hmap_add(struct cs_hmap *m, uint64_t a, uint64_t b, uint32_t val)
{
	struct cs_hmap_slot *s = m->cap ? cs_hmap_probe_(m, a, b) : NULL;

	if (s && s->gen == m->gen)
		return 0;
	if (!s || (m->n + 1) * 2 > m->cap)
		return cs_hmap_insert_grow_(m, a, b, val);
	*s = (struct cs_hmap_slot){ a, b, val, m->gen };
	m->n++;
	return 1;
}

/* Insert or replace; 0, or -ENOMEM (then the map is unchanged). */
static inline int cs_hmap_put(struct cs_hmap *m, uint64_t a, uint64_t b, uint32_t val)
{
	struct cs_hmap_slot *s = m->cap ? cs_hmap_probe_(m, a, b) : NULL;

	if (s && s->gen == m->gen) {
		s->val = val;
		return 0;
	}
	if (!s || (m->n + 1) * 2 > m->cap)
		return cs_hmap_insert_grow_(m, a, b, val) < 0 ? -ENOMEM : 0;
	*s = (struct cs_hmap_slot){ a, b, val, m->gen };
	m->n++;
	return 0;
}

/* FNV-1a of n bytes from h (0xcbf29ce484222325 to start): keys made of strings. */
static inline uint64_t cs_hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ c[i]) * 0x100000001b3ull;
	return h;
}

#define CS_HASH_SEED 0xcbf29ce484222325ull

/* Empty it, keeping its memory. */
void cs_hmap_clear(struct cs_hmap *m);
/* Free its memory; it is an empty map again. */
void cs_hmap_free(struct cs_hmap *m);

#endif
