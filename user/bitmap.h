/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * bitmap.h: the tracked-set bitmap shared with the BPF programs (bit tgid %
 * 64 of word tgid / 64). The kernel sets and clears bits of the same words
 * at fork and exit with atomic operations; user space must too, or a
 * read-modify-write of its own could undo one of the kernel's (a new child
 * left untracked in BPF while the core tracks it).
 */
#ifndef CS_BITMAP_H
#define CS_BITMAP_H

#include <stdint.h>

static inline void cs_bitmap_set(uint64_t *words, uint32_t bit)
{
	__atomic_fetch_or(&words[bit / 64], 1ull << (bit % 64), __ATOMIC_SEQ_CST);
}

static inline int cs_bitmap_test(const uint64_t *words, uint32_t bit)
{
	return (int)(__atomic_load_n(&words[bit / 64], __ATOMIC_RELAXED) >> (bit % 64) & 1);
}

#endif
