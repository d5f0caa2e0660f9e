// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * critpath.c: the recorder of state intervals and the walk back along the
 * wake-ups (critpath.h).
 *
 * Each thread's intervals are kept in the order the core closes them, in
 * chunks of CP_CHUNK records (32 bytes each). Every chunk is also in one
 * queue in the order chunks were taken; at the memory cap the oldest full
 * chunk is reused (a thread's chunks enter the queue in its own order, so
 * that is always the oldest of its owner's). The walk only goes back in
 * time, so each thread has a cursor that only moves back: one pass over
 * what was kept, whatever the path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "critpath.h"
#include "grow.h"
#include "hashmap.h"

#define CP_CHUNK 100        /* records per chunk: about 4 KiB */
#define CP_MAX_HOPS 16      /* wake-ups followed at one instant before the walk stays */
#define CP_HOLDERS 4        /* CPU holders summed per ready wait (the heaviest kept) */

/* rec.flags */
#define CPR_WOKEN 0x01
#define CPR_IRQ 0x02
#define CPR_HOLDER 0x04     /* ready: other is the task that held the CPU longest */

/* 32 bytes: a long recording writes millions, each to memory not in cache */
struct cp_rec {
	uint64_t a, b;
	uint32_t other;     /* woken: the waker; ready: the CPU's main holder */
	uint32_t source;    /* woken by an interrupt: its source */
	uint32_t lock;      /* blocked in a wait: its lock's index in locks + 1, 0 none */
	int16_t syscall;
	uint8_t state;      /* enum cs_tstate */
	uint8_t flags;      /* CPR_* */
};

/* A lock a blocked interval waited on, kept once. */
struct cp_lock {
	uint64_t addr;
	uint32_t pid;
	uint8_t space, kind;
};
#define CP_MAX_LOCKS 65536

struct cp_chunk {
	struct cp_chunk *prev, *next; /* the owner's chunks, oldest first */
	uint32_t owner, n;
	struct cp_rec r[CP_CHUNK];
};

struct cp_thread {
	uint32_t tid, pid;
	struct cp_chunk *head, *tail;
	uint64_t lost_upto;        /* the latest end among its dropped intervals */
	/* the ready wait in progress: who held its CPU, how long (the core says it
	 * piece by piece, at every switch on that CPU: on a busy machine, far more
	 * often than the thread's own state changes) */
	struct { uint32_t tid; uint64_t ns; } held[CP_HOLDERS];
	uint32_t nheld;
	struct cp_chunk *cc;       /* the walk's cursor: before r[ci] of chunk cc */
	uint32_t ci;
};

struct cs_critpath {
	struct cs_critpath_cfg cfg;
	struct cp_thread *th;
	size_t nth, capth;
	struct cs_hmap tidx;       /* tid -> index in th */
	struct cp_chunk **fifo;    /* every chunk, in the order it was taken: a ring */
	size_t fifo_head, fifo_n, max_chunks;
	uint64_t kept, dropped, refused;
	struct cp_lock *locks;
	uint32_t nlocks;
	size_t caplocks;
	struct cs_hmap lockidx;    /* (addr, pid | space << 32) -> index in locks */
	int path_state;            /* 0: not walked; 1: path holds it; < 0: the error */
	struct cs_cp_path path;
};

/* ---- threads by tid ---- */

static struct cp_thread *thread_find(const struct cs_critpath *cp, uint32_t tid)
{
	const uint32_t *i = cs_hmap_get(&cp->tidx, tid, 0);

	return i ? &cp->th[*i] : NULL;
}

static struct cp_thread *thread_get(struct cs_critpath *cp, uint32_t tid, uint32_t pid)
{
	struct cp_thread *t = thread_find(cp, tid);

	if (t)
		return t;
	if (cs_grow(&cp->th, cp->nth, &cp->capth, sizeof(*cp->th), 64) ||
	    cs_hmap_put(&cp->tidx, tid, 0, (uint32_t)cp->nth))
		return NULL;
	t = &cp->th[cp->nth++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->pid = pid;
	return t;
}

/* ---- chunks, under the cap ---- */

/* Unlink the oldest full chunk from its owner, to reuse; NULL when none is full. */
static struct cp_chunk *reclaim(struct cs_critpath *cp)
{
	size_t tries;

	for (tries = 0; tries < cp->fifo_n; tries++) {
		struct cp_chunk *k = cp->fifo[cp->fifo_head];
		struct cp_thread *o = &cp->th[k->owner];
		uint32_t i;

		cp->fifo_head = (cp->fifo_head + 1) % cp->max_chunks;
		if (k->n < CP_CHUNK) { /* its owner is filling it: to the back */
			cp->fifo[(cp->fifo_head + cp->fifo_n - 1) % cp->max_chunks] = k;
			continue;
		}
		cp->fifo_n--;
		o->head = k->next;
		if (o->head)
			o->head->prev = NULL;
		else
			o->tail = NULL;
		for (i = 0; i < k->n; i++)
			if (k->r[i].b > o->lost_upto)
				o->lost_upto = k->r[i].b;
		cp->dropped += k->n;
		return k;
	}
	return NULL;
}

static struct cp_chunk *chunk_new(struct cs_critpath *cp)
{
	struct cp_chunk *k = NULL;

	if (!cp->fifo) {
		cp->fifo = calloc(cp->max_chunks, sizeof(*cp->fifo));
		if (!cp->fifo)
			return NULL;
	}
	if (cp->fifo_n < cp->max_chunks)
		k = malloc(sizeof(*k));
	else
		k = reclaim(cp);
	if (!k)
		return NULL;
	cp->fifo[(cp->fifo_head + cp->fifo_n++) % cp->max_chunks] = k;
	return k;
}

/* The next record of t, to fill in; NULL when there is no memory for it. */
static struct cp_rec *slot(struct cs_critpath *cp, struct cp_thread *t)
{
	struct cp_chunk *k = t->tail;

	if (!k || k->n == CP_CHUNK) {
		k = chunk_new(cp);
		if (!k) {
			cp->refused++;
			return NULL;
		}
		k->owner = (uint32_t)(t - cp->th);
		k->n = 0;
		k->next = NULL;
		k->prev = t->tail;
		if (t->tail)
			t->tail->next = k;
		else
			t->head = k;
		t->tail = k;
	}
	cp->kept++;
	return &k->r[k->n++];
}

/* ---- locks waited on ---- */

/* The index + 1 of the lock iv waited on, kept on first sight; 0: none, or no room. */
static uint32_t lock_of(struct cs_critpath *cp, const struct cs_interval *iv)
{
	uint32_t pid = iv->lock_space == CS_SPACE_KERNEL ? 0 : iv->pid;
	uint64_t key_b = pid | (uint64_t)iv->lock_space << 32;
	const uint32_t *i;

	if (!iv->lock_space)
		return 0;
	i = cs_hmap_get(&cp->lockidx, iv->lock_addr, key_b);
	if (i)
		return *i + 1;
	if (cp->nlocks >= CP_MAX_LOCKS)
		return 0;
	if (cs_grow(&cp->locks, cp->nlocks, &cp->caplocks, sizeof(*cp->locks), 32) ||
	    cs_hmap_put(&cp->lockidx, iv->lock_addr, key_b, cp->nlocks))
		return 0;
	cp->locks[cp->nlocks] = (struct cp_lock){ iv->lock_addr, pid, iv->lock_space, iv->lock_kind };
	return ++cp->nlocks;
}

/* ---- the observer ---- */

static void on_interval(void *ctx, const struct cs_interval *iv)
{
	struct cs_critpath *cp = ctx;
	struct cp_thread *t = thread_get(cp, iv->tid, iv->pid);
	uint32_t other = 0, source = 0, i, best = 0;
	uint8_t flags = 0;
	struct cp_rec *r;

	if (!t) {
		cp->refused++;
		return;
	}
	t->pid = iv->pid; /* a held piece may have come first */
	if (iv->state == CS_ST_READY && t->nheld) {
		for (i = 1; i < t->nheld; i++)
			if (t->held[i].ns > t->held[best].ns)
				best = i;
		other = t->held[best].tid;
		flags = CPR_HOLDER;
	}
	t->nheld = 0; /* what was held belongs to the wait that just closed */
	if (iv->woken) {
		flags = CPR_WOKEN;
		other = iv->waker;
		/* the idle task never wakes anyone itself: an interrupt did */
		if ((iv->wake_flags & (CS_WKF_HARDIRQ | CS_WKF_SOFTIRQ | CS_WKF_NMI)) || !iv->waker) {
			flags |= CPR_IRQ;
			source = iv->source;
		}
	}
	r = slot(cp, t);
	if (r) /* filled in place: no copy through the stack */
		*r = (struct cp_rec){ iv->a, iv->b, other, source, lock_of(cp, iv), iv->syscall,
				      iv->state, flags };
}

/* A piece of a ready wait: summed by holder (space-saving: a newcomer past
 * CP_HOLDERS takes the lightest one's place and weight). */
static void on_held(void *ctx, uint32_t tid, uint32_t holder, uint64_t a, uint64_t b)
{
	struct cs_critpath *cp = ctx;
	struct cp_thread *t = thread_get(cp, tid, 0);
	uint32_t i, low = 0;

	if (!t)
		return;
	for (i = 0; i < t->nheld && t->held[i].tid != holder; i++)
		if (t->held[i].ns < t->held[low].ns)
			low = i;
	if (i == t->nheld && t->nheld < CP_HOLDERS)
		t->held[t->nheld++].ns = 0;
	else if (i == t->nheld)
		i = low;
	t->held[i].tid = holder;
	t->held[i].ns += b - a;
}

static void on_free(void *ctx)
{
	struct cs_critpath *cp = ctx;
	size_t i;

	for (i = 0; i < cp->fifo_n; i++)
		free(cp->fifo[(cp->fifo_head + i) % cp->max_chunks]);
	free(cp->fifo);
	free(cp->locks);
	cs_hmap_free(&cp->lockidx);
	free(cp->th);
	cs_hmap_free(&cp->tidx);
	cs_cp_path_free(&cp->path);
	free(cp);
}

void cs_critpath_attach(struct cs_core *c, const void *arg)
{
	const struct cs_critpath_cfg *cfg = arg;
	struct cs_critpath *cp;
	struct cs_core_observer o = { on_interval, on_held, on_free, NULL };

	if (!cfg || !cfg->on || !(cp = calloc(1, sizeof(*cp))))
		return;
	cp->cfg = *cfg;
	if (!cp->cfg.cap_bytes)
		cp->cfg.cap_bytes = CS_CRITPATH_CAP;
	cp->max_chunks = cp->cfg.cap_bytes / sizeof(struct cp_chunk);
	if (cp->max_chunks < 2)
		cp->max_chunks = 2;
	o.ctx = cp;
	cs_core_set_observer(c, &o);
}

struct cs_critpath *cs_critpath_of(const struct cs_core *c)
{
	const struct cs_core_observer *o = cs_core_observer(c);

	return o && o->interval == on_interval ? o->ctx : NULL;
}

const struct cs_critpath_cfg *cs_critpath_cfg(const struct cs_critpath *cp)
{
	return &cp->cfg;
}

/* ---- the walk ---- */

/* Every cursor at its thread's last record. */
static void cursors_reset(struct cs_critpath *cp)
{
	size_t i;

	for (i = 0; i < cp->nth; i++) {
		cp->th[i].cc = cp->th[i].tail;
		cp->th[i].ci = cp->th[i].tail ? cp->th[i].tail->n : 0;
	}
}

/*
 * th's last interval that began before t, the cursor moved onto it (records
 * after it are never needed again: t only goes back).
 */
static const struct cp_rec *find(struct cp_thread *th, uint64_t t)
{
	while (th->cc) {
		const struct cp_rec *r;

		if (!th->ci) {
			th->cc = th->cc->prev;
			th->ci = th->cc ? th->cc->n : 0;
			continue;
		}
		r = &th->cc->r[th->ci - 1];
		/* a thread created and woken at one instant: its start is still at t */
		if (r->a < t || (r->state == CS_ST_NEW && r->b >= t))
			return r;
		th->ci--;
	}
	return NULL;
}

struct walk {
	struct cs_critpath *cp;
	struct cs_cp_path *p;
	size_t cap, capwaits;
	int err;
	struct cp_thread *root;    /* the thread whose path it is */
	struct frame {             /* a wait being explained: whose, back to when */
		struct cp_thread *th;
		uint64_t bound;
	} *st;
	size_t depth, capst;
	unsigned int hops;         /* wake-ups followed at this instant */
};

/* A stretch, found going back: merged into the one after it when they are alike. */
static void emit(struct walk *w, const struct cs_cp_seg *s)
{
	struct cs_cp_seg *last = w->p->nsegs ? &w->p->segs[w->p->nsegs - 1] : NULL;

	if (!s->dur)
		return;
	if (last && last->tid == s->tid && last->state == s->state && last->flags == s->flags &&
	    last->syscall == s->syscall && last->who == s->who && last->source == s->source &&
	    last->lock_addr == s->lock_addr && last->start == s->start + s->dur) {
		last->start = s->start;
		last->dur += s->dur;
		return;
	}
	if (cs_grow(&w->p->segs, w->p->nsegs, &w->cap, sizeof(*w->p->segs), 256)) {
		w->err = -ENOMEM;
		return;
	}
	w->p->segs[w->p->nsegs++] = *s;
}

/* The lock r waited on, into s. */
static void lock_fill(const struct cs_critpath *cp, const struct cp_rec *r, struct cs_cp_seg *s)
{
	const struct cp_lock *l = r->lock ? &cp->locks[r->lock - 1] : NULL;

	if (!l)
		return;
	s->lock_space = l->space;
	s->lock_kind = l->kind;
	s->lock_addr = l->addr;
}

/* The stretch [a, t) of th's interval r, as th's own. */
static void emit_own(struct walk *w, const struct cp_thread *th, const struct cp_rec *r,
		     uint64_t a, uint64_t t, uint8_t flags)
{
	struct cs_cp_seg s = {
		.start = a, .dur = t - a, .tid = th->tid, .pid = th->pid, .state = r->state,
		.flags = flags, .syscall = r->syscall,
	};

	lock_fill(w->cp, r, &s);

	if (r->flags & CPR_HOLDER) {
		s.who = r->other;
		s.flags |= CS_CPF_HOLDER;
	} else if (r->flags & CPR_WOKEN) {
		s.who = r->other;
		s.source = r->source;
	}
	emit(w, &s);
}

/* Time of th before t that nothing explains: dropped at the cap, or never seen. */
static void emit_gap(struct walk *w, const struct cp_thread *th, uint64_t a, uint64_t t)
{
	struct cs_cp_seg s = {
		.start = a, .dur = t - a, .tid = th->tid, .pid = th->pid,
		.state = CS_ST_UNTRACED, .syscall = -1,
		.flags = th->lost_upto > a ? CS_CPF_NOT_KEPT : CS_CPF_NO_DATA,
	};

	emit(w, &s);
}

/*
 * The waker to go over to from th's block r, which a wake-up ended at t:
 * a traced task with an interval there. NULL: the walk stays, and *why
 * (0 on entry) holds the stretch's flags.
 */
static struct cp_thread *waker_of(struct walk *w, const struct cp_thread *th,
				  const struct cp_rec *r, uint64_t t, uint8_t *why)
{
	struct cp_thread *x;
	const struct cp_rec *xr;

	if (!(r->flags & CPR_WOKEN))
		return NULL;
	*why = CS_CPF_WOKEN;
	if (r->flags & CPR_IRQ) {
		*why |= CS_CPF_IRQ;
		return NULL;
	}
	if (r->b != t) /* woken after t: that explains nothing before it */
		return NULL;
	x = thread_find(w->cp, r->other);
	xr = x && x != th ? find(x, t) : NULL;
	if (!xr || xr->b < t) {
		*why |= CS_CPF_UNSEEN;
		return NULL;
	}
	return x;
}

/*
 * The walk goes back on a thread's own time; where it waited for a wake-up
 * from a traced task, it goes over to the waker and on back along the
 * wakers, down to the start of that wait and no further: there the thread
 * that waited is on the path again. This is how Perfetto's
 * _thread_executing_span_critical_path reads a wait (each one explained back
 * to its own start), at every level: the waits being explained are a stack,
 * each bound no earlier than the one below it.
 */
static uint64_t lower(const struct walk *w)
{
	return w->depth ? w->st[w->depth - 1].bound : w->p->start;
}

/* Note th's block r, explained from a to t by the waker x. */
static void note_wait(struct walk *w, const struct cp_thread *th, const struct cp_rec *r,
		      uint64_t a, uint64_t t, const struct cp_thread *x)
{
	struct cs_cp_path *p = w->p;

	if (cs_grow(&p->waits, p->nwaits, &w->capwaits, sizeof(*p->waits), 64)) {
		w->err = -ENOMEM;
		return;
	}
	p->waits[p->nwaits] = (struct cs_cp_seg){
		.start = a, .dur = t - a, .tid = th->tid, .pid = th->pid, .state = r->state,
		.flags = CS_CPF_WOKEN, .syscall = r->syscall, .who = x->tid,
	};
	lock_fill(w->cp, r, &p->waits[p->nwaits++]);
}

/* Explain th's block r, ended at t by x, back to its start; false: no memory. */
static bool push(struct walk *w, struct cp_thread *th, const struct cp_rec *r, uint64_t t,
		 const struct cp_thread *x)
{
	uint64_t lo = lower(w), a = r->a > lo ? r->a : lo;

	note_wait(w, th, r, a, t, x);
	if (cs_grow(&w->st, w->depth, &w->capst, sizeof(*w->st), 16)) {
		w->err = -ENOMEM;
		return false;
	}
	w->st[w->depth++] = (struct frame){ th, a };
	return !w->err;
}

/* At t: the waits that began at t are explained; back on the first of them. */
static void pop_to(struct walk *w, struct cp_thread **th, uint64_t t)
{
	while (w->depth && w->st[w->depth - 1].bound >= t)
		*th = w->st[--w->depth].th;
	w->hops = 0;
}

/* One step back from t on *th: emits, moves t and maybe *th; false at the start. */
static bool step(struct walk *w, struct cp_thread **th, uint64_t *t)
{
	uint64_t start = w->p->start, lo = lower(w);
	const struct cp_rec *r = find(*th, *t);
	struct cp_thread *x = NULL;
	uint8_t why = 0;

	if (r && r->b > lo && r->b < *t) { /* a stretch nothing covers */
		emit_gap(w, *th, r->b, *t);
		*t = r->b;
		return true;
	}
	if (r && r->b > lo && r->state != CS_ST_RUNNING && r->state != CS_ST_READY &&
	    r->state != CS_ST_UNTRACED && (r->state != CS_ST_NEW || *th != w->root))
		x = waker_of(w, *th, r, *t, &why);
	if (x && ++w->hops <= CP_MAX_HOPS) {
		/* a new thread's creator goes on within the same wait */
		if (r->state != CS_ST_NEW && !push(w, *th, r, *t, x))
			return false;
		w->p->jumps++;
		*th = x;
		return true;
	}
	if (!r || r->b <= lo || r->state == CS_ST_NEW) {
		emit_gap(w, *th, lo, *t); /* nothing of it before t, down to lo */
		*t = lo;
	} else {
		uint64_t a = r->a > lo ? r->a : lo;

		emit_own(w, *th, r, a, *t, why);
		*t = a;
	}
	pop_to(w, th, *t);
	return *t > start;
}

static void reverse(struct cs_cp_seg *s, size_t n)
{
	size_t i;

	for (i = 0; i < n / 2; i++) {
		struct cs_cp_seg x = s[i];

		s[i] = s[n - 1 - i];
		s[n - 1 - i] = x;
	}
}

/* Where thread tid's path ends: its exit inside the window, else the window's end. */
static uint64_t end_of(const struct cs_core *c, uint32_t tid)
{
	const struct cs_thread *t = cs_core_find(c, tid);
	uint64_t begin = cs_core_begin(c), end = begin + cs_core_duration(c);

	if (t && t->exited && t->exit_ts > begin && t->exit_ts < end)
		return t->exit_ts;
	return end;
}

int cs_critpath_walk(struct cs_critpath *cp, const struct cs_core *c, uint32_t tid,
		     struct cs_cp_path *out)
{
	struct walk w = { .cp = cp, .p = out };
	struct cp_thread *th = thread_find(cp, tid);
	uint64_t begin = cs_core_begin(c), t;

	memset(out, 0, sizeof(*out));
	if (!th || !cs_core_find(c, tid))
		return -ESRCH;
	out->tid = tid;
	out->start = begin;
	out->end = t = end_of(c, tid);
	out->kept = cp->kept - cp->dropped;
	out->dropped = cp->dropped;
	out->refused = cp->refused;
	out->cap_bytes = cp->cfg.cap_bytes;
	cursors_reset(cp);
	w.root = th;
	while (t > begin && !w.err && step(&w, &th, &t))
		;
	free(w.st);
	if (w.err) {
		cs_cp_path_free(out);
		return w.err;
	}
	reverse(out->segs, out->nsegs);
	reverse(out->waits, out->nwaits);
	return 0;
}

void cs_cp_path_free(struct cs_cp_path *p)
{
	free(p->segs);
	free(p->waits);
	memset(p, 0, sizeof(*p));
}

uint32_t cs_critpath_run_tid(const struct cs_core *c)
{
	uint32_t root = cs_core_root(c), best = 0;
	uint64_t last = 0;
	size_t i;

	if (!root)
		return 0;
	for (i = 0; i < cs_core_nthreads(c); i++) {
		const struct cs_thread *t = cs_core_thread(c, i);

		if (t->pid == root && t->exited && t->exit_ts >= last) {
			last = t->exit_ts;
			best = t->tid;
		}
	}
	if (!best && cs_core_find(c, root))
		best = root;
	return best;
}

const struct cs_cp_path *cs_critpath_get(const struct cs_core *c, bool is_run)
{
	struct cs_critpath *cp = cs_critpath_of(c);
	uint32_t tid;

	if (!cp)
		return NULL;
	if (!cp->path_state) {
		tid = cp->cfg.tid ? cp->cfg.tid : is_run ? cs_critpath_run_tid(c) : 0;
		cp->path_state = tid ? cs_critpath_walk(cp, c, tid, &cp->path) : -ESRCH;
		if (!cp->path_state)
			cp->path_state = 1;
	}
	return cp->path_state == 1 ? &cp->path : NULL;
}
