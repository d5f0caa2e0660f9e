// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* pf_stacks.c: stacks as interned callstacks on instants, for the Perfetto UI (pf_stacks.h). */
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "pf_format.h"
#include "pf_stacks.h"
#include "stacks.h"

#define MAX_SPOOL (1ull << 26) /* instants per segment */

struct pf_stk_def {
	uint64_t id;
	uint32_t pid;
	uint16_t n, nk;
	uint64_t pcs[CS_STACK_KERNEL + CS_STACK_PY + CS_STACK_USER]; /* kernel, Python, native */
};

struct spool_rec {
	uint64_t ts, id;
	uint32_t tid, pid_where; /* pid << 2 | where */
};

static void on_def(struct pf_stacks *s, const struct cs_stack_def *e)
{
	uint32_t *slot = cs_hmap_get(&s->defidx, e->id, 0), i, base = e->h.aux * CS_STACK_PART;
	struct pf_stk_def *d;

	if (e->nkernel > CS_STACK_KERNEL || e->nother > CS_STACK_PY || e->nuser > CS_STACK_USER)
		return;
	if (!slot) {
		if (cs_grow(&s->defs, s->ndefs, &s->capdefs, sizeof(*s->defs), 64) ||
		    cs_hmap_put(&s->defidx, e->id, 0, s->ndefs))
			return;
		d = &s->defs[s->ndefs++];
		memset(d, 0, sizeof(*d));
		d->id = e->id;
		d->pid = e->h.pid;
		d->nk = e->nkernel;
		d->n = (uint16_t)(e->nkernel + e->nother + e->nuser);
	} else {
		d = &s->defs[*slot];
	}
	for (i = 0; i < e->n && i < CS_STACK_PART && base + i < d->n; i++)
		d->pcs[base + i] = e->pcs[i];
}

static void on_name(struct pf_stacks *s, const struct cs_frame_name *e)
{
	if (cs_hmap_get(&s->nameidx, e->addr, e->h.pid) ||
	    cs_grow(&s->names, s->nnames, &s->capnames, sizeof(*s->names), 256) ||
	    cs_hmap_put(&s->nameidx, e->addr, e->h.pid, s->nnames))
		return;
	memcpy(s->names[s->nnames], e->name, CS_FRAME_NAME_LEN);
	s->names[s->nnames++][CS_FRAME_NAME_LEN - 1] = 0;
}

/* A packet on sequence 1 that uses its interned data. */
static size_t pkt_begin(struct pb_buf *b, uint64_t ts)
{
	size_t m = pf_packet_begin(b, ts, PF_SEQ);

	pb_uint(b, TP_SEQ_FLAGS, SEQ_NEEDS_INCREMENTAL_STATE);
	return m;
}

/*
 * Interned data: a function name and a frame (no mapping: a "dummy" frame,
 * named) per (pid, address) a stack uses, with iid = 1 + the name's index
 * (kernel frames and unnamed ones get one past them); a callstack per
 * stack, iid = 1 + its index, root first.
 */
static void interned(struct pf_stacks *s, struct pb_buf *b, uint64_t ts)
{
	size_t m = pkt_begin(b, ts), mi = pb_nest_begin(b, TP_INTERNED), x;
	uint32_t i, j, iid;

	for (i = 0; i < s->nnames; i++) {
		x = pb_nest_begin(b, 5);
		pb_uint(b, 1, i + 1);
		pb_strn(b, 2, s->names[i], CS_FRAME_NAME_LEN);
		pb_nest_end(b, x);
		x = pb_nest_begin(b, 6);
		pb_uint(b, 1, i + 1);
		pb_uint(b, 2, i + 1);
		pb_nest_end(b, x);
	}
	x = pb_nest_begin(b, 5); /* "?": a frame with no name */
	pb_uint(b, 1, s->nnames + 1);
	pb_str(b, 2, "?");
	pb_nest_end(b, x);
	x = pb_nest_begin(b, 6);
	pb_uint(b, 1, s->nnames + 1);
	pb_uint(b, 2, s->nnames + 1);
	pb_nest_end(b, x);
	for (i = 0; i < s->ndefs; i++) {
		const struct pf_stk_def *d = &s->defs[i];

		x = pb_nest_begin(b, 7);
		pb_uint(b, 1, i + 1);
		for (j = d->n; j-- > 0;) {
			uint32_t *slot = cs_hmap_get(&s->nameidx, d->pcs[j], j < d->nk ? 0 : d->pid);

			if (slot && j < d->nk && cs_stacks_glue(s->names[*slot]))
				continue;
			iid = slot ? *slot + 1 : s->nnames + 1;
			pb_uint(b, 2, iid);
		}
		pb_nest_end(b, x);
	}
	pb_nest_end(b, mi);
	pb_nest_end(b, m);
}

/* The segment's captures, as instants with their callstacks. */
static void flush(struct pf_stacks *s, struct pb_buf *b, uint64_t ts, pf_thread_track_fn *track,
		  void *ctx)
{
	struct spool_rec r;
	size_t m, mt;

	if (!s->spool || !s->nspool)
		return;
	interned(s, b, ts);
	rewind(s->spool);
	while (fread(&r, sizeof(r), 1, s->spool) == 1) {
		uint32_t *slot = cs_hmap_get(&s->defidx, r.id, 0);

		if (!slot)
			continue;
		track(ctx, r.ts, r.tid, r.pid_where >> 2);
		m = pkt_begin(b, r.ts);
		mt = pb_nest_begin(b, TP_TRACK_EVENT);
		pb_uint(b, 9, 3); /* TYPE_INSTANT */
		pb_uint(b, 11, UUID_THREAD(r.tid));
		pb_str(b, 23, (r.pid_where & 3) == CS_STK_LOCK ? "lock wait" : "blocked");
		pb_uint(b, 56, *slot + 1);
		pb_nest_end(b, mt);
		pb_nest_end(b, m);
	}
	fclose(s->spool);
	s->spool = NULL;
	s->nspool = 0;
}

void pf_stacks_feed(struct pf_stacks *s, const union cs_rec *r, struct pb_buf *pkts,
		    pf_thread_track_fn *track, void *ctx)
{
	struct spool_rec sr;

	switch (r->h.kind) {
	case CS_EV_STACK:
		if (!r->stk.id || r->stk.id == CS_STACK_BEFORE || s->nspool >= MAX_SPOOL)
			return;
		if (!s->spool && !(s->spool = tmpfile()))
			return;
		sr = (struct spool_rec){ r->h.ts, r->stk.id, r->h.tid,
					 r->h.pid << 2 | (r->h.aux & 3) };
		if (fwrite(&sr, sizeof(sr), 1, s->spool) == 1)
			s->nspool++;
		break;
	case CS_EV_STACK_DEF:
		on_def(s, &r->sdef);
		break;
	case CS_EV_FRAME_NAME:
		on_name(s, &r->fname);
		break;
	case CS_EV_MARK:
		if (r->mark.h.aux == CS_MARK_SEGMENT_END)
			flush(s, pkts, r->h.ts, track, ctx);
		break;
	}
}

void pf_stacks_free(struct pf_stacks *s)
{
	if (s->spool)
		fclose(s->spool);
	free(s->defs);
	free(s->names);
	cs_hmap_free(&s->defidx);
	cs_hmap_free(&s->nameidx);
	memset(s, 0, sizeof(*s));
}
