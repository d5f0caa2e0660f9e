// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "reorder.h"

int cs_reorder_init(struct cs_reorder *r, size_t cap, uint64_t window_ns,
		    cs_emit_fn emit, void *ctx)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->order = calloc(cap, sizeof(*r->order));
	r->free_slots = calloc(cap, sizeof(*r->free_slots));
	r->slots = malloc(cap * CS_REC_MAX);
	if (!r->order || !r->free_slots || !r->slots) {
		cs_reorder_free(r);
		return -ENOMEM;
	}
	for (i = 0; i < cap; i++)
		r->free_slots[i] = (uint32_t)(cap - 1 - i);
	r->nfree = cap;
	r->cap = cap;
	r->window = window_ns;
	r->emit = emit;
	r->ctx = ctx;
	return 0;
}

static const struct cs_hdr *at(const struct cs_reorder *r, size_t i)
{
	return (const struct cs_hdr *)r->slots[r->order[(r->head + i) % r->cap]];
}

static void release_oldest(struct cs_reorder *r)
{
	uint32_t slot = r->order[r->head];

	r->emit((const struct cs_hdr *)r->slots[slot], r->ctx);
	r->free_slots[r->nfree++] = slot;
	r->head = (r->head + 1) % r->cap;
	r->n--;
}

void cs_reorder_push(struct cs_reorder *r, const struct cs_hdr *ev)
{
	uint32_t slot;
	size_t i;

	if (!r->nfree) {
		r->forced++;
		release_oldest(r);
	}
	slot = r->free_slots[--r->nfree];
	memcpy(r->slots[slot], ev, ev->size);
	/* insertion from the tail: stable for equal timestamps */
	i = r->n;
	while (i > 0 && at(r, i - 1)->ts > ev->ts) {
		r->order[(r->head + i) % r->cap] = r->order[(r->head + i - 1) % r->cap];
		i--;
	}
	r->order[(r->head + i) % r->cap] = slot;
	r->n++;
	if (ev->ts > r->newest)
		r->newest = ev->ts;
	while (r->n && at(r, 0)->ts + r->window < r->newest)
		release_oldest(r);
}

void cs_reorder_flush(struct cs_reorder *r)
{
	while (r->n)
		release_oldest(r);
}

void cs_reorder_reset(struct cs_reorder *r)
{
	cs_reorder_flush(r);
	r->newest = 0;
}

void cs_reorder_free(struct cs_reorder *r)
{
	free(r->order);
	free(r->free_slots);
	free(r->slots);
	memset(r, 0, sizeof(*r));
}
