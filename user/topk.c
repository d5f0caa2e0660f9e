// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <stdlib.h>
#include <string.h>
#include "topk.h"

static uint64_t weight(const struct cs_topk *t, const struct cs_topk_ent *e)
{
	return t->by_ns ? e->ns : e->count;
}

void cs_topk_add(struct cs_topk *t, uint64_t key, uint64_t count, uint64_t ns)
{
	unsigned int i, min = 0;

	for (i = 0; i < t->n; i++) {
		if (t->e[i].key == key) {
			t->e[i].count += count;
			t->e[i].ns += ns;
			return;
		}
		if (weight(t, &t->e[i]) < weight(t, &t->e[min]))
			min = i;
	}
	if (t->n < CS_TOPK) {
		t->e[t->n++] = (struct cs_topk_ent){ key, count, ns };
		return;
	}
	t->e[min].key = key;
	t->e[min].count += count;
	t->e[min].ns += ns;
}

static int by_ns_desc(const void *a, const void *b)
{
	const struct cs_topk_ent *x = a, *y = b;

	return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : (x->key > y->key) - (x->key < y->key);
}

static int by_count_desc(const void *a, const void *b)
{
	const struct cs_topk_ent *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return by_ns_desc(a, b);
}

unsigned int cs_topk_sorted(const struct cs_topk *t, struct cs_topk_ent *out)
{
	memcpy(out, t->e, t->n * sizeof(*out));
	qsort(out, t->n, sizeof(*out), t->by_ns ? by_ns_desc : by_count_desc);
	return t->n;
}
