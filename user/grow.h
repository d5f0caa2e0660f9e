/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* grow.h: room for one more element in a growing array, the tree's one way. */
#ifndef CS_GROW_H
#define CS_GROW_H

#include <errno.h>
#include <stdlib.h>

/*
 * Room for element n of *v (elements of size bytes, *cap of them
 * allocated): nothing to do below *cap, else twice the capacity (first the
 * first time). 0, or -ENOMEM with *v and *cap unchanged.
 */
static inline int cs_grow(void *v, size_t n, size_t *cap, size_t size, size_t first)
{
	void **pv = (void **)v, *p;
	size_t nc;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : first;
	p = realloc(*pv, nc * size);
	if (!p)
		return -ENOMEM;
	*pv = p;
	*cap = nc;
	return 0;
}

#endif
