// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * stacks.c: the stacks of blocked time and lock waits, summed per thread
 * and per lock (stacks.h). Three tables, each an array indexed by a hash
 * map: stack definitions by id, frame names by (pid, address), sums by
 * (owner, stack).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core_priv.h"
#include "grow.h"
#include "stacks_priv.h"

#define MAX_ENTRIES (1u << 22)

/* Room for one more element of size sz in *v, up to MAX_ENTRIES. */
static int grow(void *v, size_t n, size_t *cap, size_t sz)
{
	return n >= MAX_ENTRIES ? -ENOSPC : cs_grow(v, n, cap, sz, 64);
}

/* ---- definitions ---- */

struct stk_def *cs_stacks_def(const struct cs_stacks *s, uint64_t id)
{
	const uint32_t *i = s ? cs_hmap_get(&s->didx, id, 0) : NULL;

	return i ? &s->defs[*i] : NULL;
}

static void on_def(struct cs_stacks *s, const struct cs_stack_def *e)
{
	unsigned int n = e->nkernel + e->nother + e->nuser, base = e->h.aux * CS_STACK_PART, i;
	struct stk_def *d = cs_stacks_def(s, e->id);

	if (e->nkernel > CS_STACK_KERNEL || e->nother > CS_STACK_PY || e->nuser > CS_STACK_USER ||
	    base >= n)
		return;
	if (!d) {
		if (grow(&s->defs, s->ndefs, &s->capdefs, sizeof(*s->defs)) ||
		    cs_hmap_put(&s->didx, e->id, 0, (uint32_t)s->ndefs))
			return;
		d = &s->defs[s->ndefs++];
		memset(d, 0, sizeof(*d));
		d->id = e->id;
		d->pid = e->h.pid;
		d->nk = e->nkernel;
		d->np = e->nother;
		d->nu = e->nuser;
		d->flags = e->h.flags;
	}
	for (i = 0; i < e->n && i < CS_STACK_PART && base + i < n; i++)
		d->pcs[base + i] = e->pcs[i];
}

/* ---- frame names ---- */

const struct stk_name *cs_stacks_name(const struct cs_stacks *s, uint32_t pid, uint64_t addr)
{
	const uint32_t *i = s ? cs_hmap_get(&s->nidx, addr, pid) : NULL;

	return i ? &s->names[*i] : NULL;
}

static void on_name(struct cs_stacks *s, const struct cs_frame_name *e)
{
	struct stk_name *n;

	if (cs_stacks_name(s, e->h.pid, e->addr))
		return;
	if (grow(&s->names, s->nnames, &s->capnames, sizeof(*s->names)) ||
	    cs_hmap_put(&s->nidx, e->addr, e->h.pid, (uint32_t)s->nnames))
		return;
	n = &s->names[s->nnames++];
	n->pid = e->h.pid;
	n->addr = e->addr;
	n->flags = e->h.flags;
	memcpy(n->name, e->name, sizeof(n->name) - 1);
	n->name[sizeof(n->name) - 1] = 0;
}

/* ---- sums ---- */

static void add(struct cs_stacks *s, uint64_t owner, uint64_t id, uint64_t count, uint64_t ns)
{
	uint32_t *i = cs_hmap_get(&s->aidx, owner, id);
	struct stk_agg *a;

	if (!i) {
		if (grow(&s->aggs, s->naggs, &s->capaggs, sizeof(*s->aggs)) ||
		    cs_hmap_put(&s->aidx, owner, id, (uint32_t)s->naggs)) {
			s->dropped += ns;
			return;
		}
		s->aggs[s->naggs] = (struct stk_agg){ owner, id, 0, 0 };
		a = &s->aggs[s->naggs++];
	} else {
		a = &s->aggs[*i];
	}
	a->count += count;
	a->ns += ns;
}

/* ---- the core's hooks ---- */

static struct cs_stacks *get(struct cs_core *c)
{
	if (!c->stacks)
		c->stacks = calloc(1, sizeof(*c->stacks));
	return c->stacks;
}

bool cs_stacks_feed(struct cs_core *c, const struct cs_hdr *ev)
{
	struct cs_stacks *s;
	struct cs_thread_priv *t;

	if (ev->kind != CS_EV_MARK && ev->kind != CS_EV_STACK && ev->kind != CS_EV_STACK_DEF &&
	    ev->kind != CS_EV_FRAME_NAME)
		return false;
	s = get(c);
	if (!s)
		return true;
	switch (ev->kind) {
	case CS_EV_MARK: /* "stacks were taken": sums start, even before the first */
		break;
	case CS_EV_STACK:
		t = cs_core_tracked_thread(c, ev->tid, ev->pid, ev->ts);
		if (t) {
			t->stk_id = ((const struct cs_stack *)ev)->id;
			t->stk_ts = ev->ts;
			t->stk_where = (uint8_t)ev->aux;
		}
		s->captures++;
		break;
	case CS_EV_STACK_DEF:
		on_def(s, (const struct cs_stack_def *)ev);
		break;
	case CS_EV_FRAME_NAME:
		on_name(s, (const struct cs_frame_name *)ev);
		break;
	}
	return true;
}

uint64_t cs_stacks_taken(const struct cs_thread_priv *t, uint64_t ts, unsigned int where)
{
	return t->stk_ts == ts && t->stk_where == where ? t->stk_id : CS_STACK_NONE;
}

void cs_stacks_on_block(struct cs_core *c, struct cs_thread_priv *t, unsigned int st, uint64_t ts)
{
	if (!c->stacks || (st != CS_ST_SLEEP && st != CS_ST_IO && st != CS_ST_LOCK))
		return;
	t->block_stk = cs_stacks_taken(t, ts, CS_STK_SWITCH);
	t->seen_block = true;
	if (in_window(c, ts))
		add(c->stacks, (uint64_t)(uintptr_t)t, t->block_stk, 1, 0);
}

void cs_stacks_on_blocked(struct cs_core *c, struct cs_thread_priv *t, uint64_t ns)
{
	if (!c->stacks || !ns)
		return;
	/* a thread first seen blocked (attach) blocked before the window */
	add(c->stacks, (uint64_t)(uintptr_t)t, t->seen_block ? t->block_stk : CS_STACK_BEFORE, 0, ns);
}

void cs_stacks_on_wait(struct cs_core *c, struct cs_thread_priv *t, size_t lock, bool gil,
		       uint64_t id, uint64_t ns)
{
	if (!c->stacks)
		return;
	add(c->stacks, CS_OWNER_LOCK | lock, id, 1, ns);
	if (gil) /* where each Python thread waited for the GIL */
		add(c->stacks, CS_OWNER_GIL | (uint64_t)(uintptr_t)t, id, 1, ns);
}

void cs_stacks_free(struct cs_stacks **sp)
{
	struct cs_stacks *s = *sp;

	if (!s)
		return;
	free(s->defs);
	cs_hmap_free(&s->didx);
	free(s->names);
	cs_hmap_free(&s->nidx);
	free(s->aggs);
	cs_hmap_free(&s->aidx);
	free(s);
	*sp = NULL;
}

bool cs_stacks_present(const struct cs_core *c)
{
	return c->stacks != NULL;
}
