// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * locks.c: what tracked threads wait for. Futex calls and kernel lock
 * contention become waits (struct cs_wait, kept on the thread), and each
 * wait that ends is counted on its lock in the lock table: waits, time,
 * waiters and who released it. The state machine (core.c) reads the waits
 * in progress when a thread blocks (lock time, not sleep) and records on
 * them who woke it; the lock table is only ever touched here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core_priv.h"
#include "grow.h"

#define MAX_LOCKS 65536

static bool in_class(const struct cs_core *c, uint32_t pid, uint64_t uaddr, uint64_t *lock);

#define ETIMEDOUT_ 110
#define EINTR_ 4

/*
 * A futex call that a signal interrupted: EINTR, or (as sys_exit sees it,
 * before the signal is handled) one of the kernel's restart codes:
 * ERESTARTSYS 512, ERESTARTNOINTR 513, ERESTARTNOHAND 514,
 * ERESTART_RESTARTBLOCK 516.
 */
static bool interrupted(int64_t ret)
{
	return ret == -EINTR_ || ret == -512 || ret == -513 || ret == -514 || ret == -516;
}

/* lock:contention_begin flags (include/trace/events/lock.h) */
#define LCB_F_SPIN (1u << 0)
#define LCB_F_READ (1u << 1)
#define LCB_F_WRITE (1u << 2)
#define LCB_F_RT (1u << 3)
#define LCB_F_PERCPU (1u << 4)
#define LCB_F_MUTEX (1u << 5)

const char *cs_lock_kind_name(unsigned int kind)
{
	static const char *const names[CS_LK_NKINDS] = {
		[CS_LK_MUTEX] = "mutex", [CS_LK_COND] = "condition/other", [CS_LK_JOIN] = "join",
		[CS_LK_SPIN] = "spinlock", [CS_LK_RWLOCK_R] = "rwlock-read",
		[CS_LK_RWLOCK_W] = "rwlock-write", [CS_LK_RWSEM_R] = "rwsem-read",
		[CS_LK_RWSEM_W] = "rwsem-write", [CS_LK_KMUTEX] = "kernel-mutex",
		[CS_LK_RTMUTEX] = "rt-mutex", [CS_LK_PERCPU_RWSEM] = "percpu-rwsem",
		[CS_LK_URWLOCK] = "rwlock", [CS_LK_GIL] = "CPython GIL",
	};
	return kind < CS_LK_NKINDS ? names[kind] : "?";
}

const char *cs_releaser_reason(uint64_t key)
{
	switch (key) {
	case CS_REL_TIMEOUT: return "timeout";
	case CS_REL_SIGNAL: return "signal";
	case CS_REL_UNKNOWN: return "unknown";
	case CS_REL_SPUN: return "spun";
	case CS_REL_UNFINISHED: return "still waiting";
	case CS_REL_ERROR: return "error";
	default: return NULL;
	}
}

bool cs_lock_kind_contended(unsigned int kind)
{
	return kind != CS_LK_COND && kind != CS_LK_JOIN && kind < CS_LK_NKINDS;
}

enum cs_lock_kind cs_futex_kind(unsigned int nr, uint32_t op, uint32_t val, bool val_is_tid)
{
	if (cs_futex_is_pi_lock(nr, op))
		return CS_LK_MUTEX;
	if (val_is_tid && nr != CS_NR_FUTEX_WAITV)
		return CS_LK_JOIN; /* pthread_join waits on the thread's tid word */
	/* a lock word in the contended state: glibc's lowlevellock waits with 2, its
	 * rwlock with 3 (1 | PTHREAD_RWLOCK_FUTEX_USED); as bpf/concscope.bpf.c does */
	if (cs_futex_is_value_wait(nr, op)) {
		if (val == 2)
			return CS_LK_MUTEX;
		if (val == 3)
			return CS_LK_URWLOCK;
	}
	return CS_LK_COND;
}

enum cs_lock_kind cs_kernel_lock_kind(unsigned int flags)
{
	if (flags & LCB_F_PERCPU)
		return CS_LK_PERCPU_RWSEM;
	if (flags & LCB_F_MUTEX)
		return flags & LCB_F_RT ? CS_LK_RTMUTEX : CS_LK_KMUTEX;
	if (flags & LCB_F_SPIN) {
		if (flags & LCB_F_READ)
			return CS_LK_RWLOCK_R;
		return flags & LCB_F_WRITE ? CS_LK_RWLOCK_W : CS_LK_SPIN;
	}
	if (flags & LCB_F_RT)
		return CS_LK_RTMUTEX;
	return flags & LCB_F_READ ? CS_LK_RWSEM_R : CS_LK_RWSEM_W;
}

/* A lock's key in lockidx besides its address: its process (none for the kernel's) and space. */
static uint64_t lock_key_b(uint32_t pid, unsigned int space)
{
	return (space == CS_SPACE_KERNEL ? 0 : pid) | (uint64_t)space << 32;
}

/* The stats of one lock, created on first sight; NULL when the table is full. */
static struct cs_lockstat *get_lock(struct cs_core *c, uint64_t addr, uint32_t pid,
				    uint8_t space, uint8_t kind)
{
	uint64_t key_b;
	uint32_t *idx;
	struct cs_lockstat *l;

	if (space == CS_SPACE_KERNEL)
		pid = 0;
	key_b = lock_key_b(pid, space);
	idx = cs_hmap_get(&c->lockidx, addr, key_b);
	if (idx)
		return &c->locks[*idx];
	if (c->nlocks >= MAX_LOCKS) {
		c->stats.locks_dropped++;
		return NULL;
	}
	if (cs_grow(&c->locks, c->nlocks, &c->caplocks, sizeof(*c->locks), 64) ||
	    cs_hmap_put(&c->lockidx, addr, key_b, (uint32_t)c->nlocks))
		return NULL;
	l = &c->locks[c->nlocks++];
	memset(l, 0, sizeof(*l));
	l->addr = addr;
	l->pid = pid;
	l->space = space;
	l->kind = kind;
	return l;
}

/*
 * How long the thread that ended a wait [a, b) sat preempted during it: a
 * lock holder without a CPU keeps every waiter waiting. From the releaser's
 * last preempted stretches (a holder preempted more often than that during
 * one wait is counted for the last of them only).
 */
static uint64_t holder_preempted(const struct cs_core *c, uint64_t releaser, uint64_t a,
				 uint64_t b)
{
	const struct cs_thread_priv *r;
	uint64_t ns = 0;
	uint32_t i, n;

	if (!releaser || releaser >= CS_REL_TIMEOUT ||
	    !(r = cs_core_find_thread(c, (uint32_t)releaser)))
		return 0;
	n = r->npreempted < CS_PREEMPT_RING ? r->npreempted : CS_PREEMPT_RING;
	for (i = 0; i < n; i++) {
		uint64_t lo = r->preempted[i].a > a ? r->preempted[i].a : a;
		uint64_t hi = r->preempted[i].b < b ? r->preempted[i].b : b;

		if (hi > lo)
			ns += hi - lo;
	}
	return ns;
}

/* A wait ended at ts (or never, at the end): count it on its lock. */
static void end_wait(struct cs_core *c, struct cs_thread_priv *t, const struct cs_wait *w,
		     uint8_t space, uint64_t ts, uint64_t releaser)
{
	struct cs_lockstat *l = get_lock(c, w->addr, t->pub.pid, space, w->kind);
	uint64_t a = w->begin, b = ts, ns = clip(c, &a, &b);
	unsigned int i;

	if (!l || !ns)
		return;
	/* a name may have created it first; a contended wait makes it a contended lock */
	if (!l->waits || (!l->contended && cs_lock_kind_contended(w->kind))) {
		l->kind = w->kind;
		l->contended = cs_lock_kind_contended(w->kind);
	}
	l->waits++;
	l->wait_ns += ns;
	if (ns > l->max_wait_ns)
		l->max_wait_ns = ns;
	for (i = 0; i < l->nwaiters && l->waiters[i] != t->pub.tid; i++)
		;
	if (i == l->nwaiters && i < CS_LOCK_WAITERS)
		l->waiters[l->nwaiters++] = t->pub.tid;
	cs_topk_add(&l->releasers, releaser, 1, ns);
	cs_topk_add(&t->pub.lockwaits, (uint64_t)(l - c->locks), 1, ns);
	l->holder_preempted_ns += holder_preempted(c, releaser, a, b);
	cs_stacks_on_wait(c, t, (size_t)(l - c->locks), w->kind == CS_LK_GIL, w->stack, ns);
	if (c->slices.wait) {
		struct cs_wait_end e = {
			.tid = t->pub.tid, .pid = t->pub.pid, .begin = a, .end = b,
			.addr = w->addr, .name = l->name, .kind = w->kind,
			.user = space == CS_SPACE_USER, .releaser = releaser,
		};

		c->slices.wait(c->slices.ctx, &e);
	}
}

void cs_locks_on_futex_enter(struct cs_core *c, const struct cs_futex *e, uint64_t ts)
{
	struct cs_thread_priv *t = cs_core_tracked_thread(c, e->h.tid, e->h.pid, ts);
	struct cs_thread_priv *target;
	bool is_tid;

	if (!t || !cs_futex_is_wait(e->h.aux, e->op))
		return;
	target = e->val ? cs_core_find_thread(c, e->val) : NULL;
	is_tid = target && target != t && target->pub.pid == t->pub.pid && !target->pub.exited;
	t->in_futex = true;
	t->fwait = (struct cs_wait){
		.addr = e->uaddr, .begin = ts,
		.kind = (uint8_t)cs_futex_kind(e->h.aux, e->op, e->val, is_tid),
		.at_switch = e->h.flags & CS_FXF_AT_SWITCH, .timed = e->timed != 0,
		.stack = cs_stacks_taken(t, ts, CS_STK_SWITCH),
	};
	/* every word of the GIL (its conditions, its mutexes) is the one GIL */
	if (in_class(c, t->pub.pid, e->uaddr, &t->fwait.addr))
		t->fwait.kind = CS_LK_GIL;
}

/* ---- known locks of a process (CPython's GIL) ---- */

void cs_locks_on_class(struct cs_core *c, const struct cs_lock_class *e)
{
	if (e->h.aux != CS_LC_GIL || c->nclasses >= 4096 ||
	    cs_grow(&c->classes, c->nclasses, &c->capclasses, sizeof(*c->classes), 4))
		return;
	c->classes[c->nclasses++] = (struct cs_lock_range){ e->h.pid, e->lo, e->hi };
}

/* Is uaddr of process pid inside a known lock's range? *lock: its start. */
static bool in_class(const struct cs_core *c, uint32_t pid, uint64_t uaddr, uint64_t *lock)
{
	size_t i;

	for (i = 0; i < c->nclasses; i++) {
		/* (waits before the range was known are the GIL's too; the tracer
		 * counted them as sleep, and its verdict is on each switch) */
		if (c->classes[i].pid == pid && uaddr >= c->classes[i].lo &&
		    uaddr < c->classes[i].hi) {
			*lock = c->classes[i].lo;
			return true;
		}
	}
	return false;
}

/* ---- the state machine asks ---- */

bool cs_locks_block(struct cs_core *c, struct cs_thread_priv *t)
{
	bool lock = t->nkwait > 0;
	unsigned int i;

	for (i = 0; i < t->nkwait; i++)
		t->kwait[i].blocked = true;
	if (t->in_futex) {
		t->fwait.blocked = true;
		lock |= cs_lock_kind_contended(t->fwait.kind);
	}
	return lock;
}

void cs_locks_note_waker(struct cs_thread_priv *t, uint32_t waker, uint8_t flags)
{
	if (t->in_futex && t->fwait.blocked) {
		t->fwait.waker = waker;
		t->fwait.waker_flags = flags;
	}
	if (t->nkwait && t->kwait[t->nkwait - 1].blocked)
		t->kwait[t->nkwait - 1].waker = waker;
}

/*
 * A wait read at its blocking switch ends when the thread runs again. Who
 * released it: the waker if it was releasing a futex or exiting (a join);
 * else a timed wait timed out; else something else woke it (a signal).
 */
void cs_locks_end_switch_wait(struct cs_core *c, struct cs_thread_priv *t, uint64_t ts)
{
	const struct cs_wait *w = &t->fwait;
	uint64_t rel;

	if (w->waker_flags & (CS_WKF_WAKER_FUTEX | CS_WKF_WAKER_EXITING))
		rel = w->waker ? w->waker : CS_REL_UNKNOWN;
	else if (w->timed)
		rel = CS_REL_TIMEOUT;
	else
		rel = CS_REL_UNKNOWN;
	t->in_futex = false;
	end_wait(c, t, w, CS_SPACE_USER, ts, rel);
}

void cs_locks_on_futex_exit(struct cs_core *c, const struct cs_futex *e, uint64_t ts)
{
	struct cs_thread_priv *t = cs_core_tracked_thread(c, e->h.tid, e->h.pid, ts);
	uint64_t rel;

	if (!t || !t->in_futex)
		return;
	t->in_futex = false;
	if (!t->fwait.blocked) {
		/* returned at once (value changed, EAGAIN): an attempt, not a wait */
		struct cs_lockstat *l = get_lock(c, t->fwait.addr, t->pub.pid, CS_SPACE_USER,
						 t->fwait.kind);

		if (l && in_window(c, ts))
			l->attempts++;
		return;
	}
	if (e->ret == -ETIMEDOUT_)
		rel = CS_REL_TIMEOUT;
	else if (interrupted(e->ret))
		rel = CS_REL_SIGNAL;
	else
		rel = t->fwait.waker ? t->fwait.waker : CS_REL_UNKNOWN;
	end_wait(c, t, &t->fwait, CS_SPACE_USER, ts, rel);
}

void cs_locks_on_begin(struct cs_core *c, const struct cs_lock *e, uint64_t ts)
{
	struct cs_thread_priv *t = cs_core_tracked_thread(c, e->h.tid, e->h.pid, ts);
	unsigned int i;

	if (!t || t->nkwait >= CS_KWAIT_DEPTH)
		return;
	/* a mutex that spins, then sleeps, begins twice and ends once: one wait */
	for (i = 0; i < t->nkwait; i++)
		if (t->kwait[i].addr == e->addr)
			return;
	t->kwait[t->nkwait++] = (struct cs_wait){
		.addr = e->addr, .begin = ts, .kind = (uint8_t)cs_kernel_lock_kind(e->h.aux),
		.stack = cs_stacks_taken(t, ts, CS_STK_LOCK),
	};
}

void cs_locks_on_end(struct cs_core *c, const struct cs_lock *e, uint64_t ts)
{
	struct cs_thread_priv *t = cs_core_tracked_thread(c, e->h.tid, e->h.pid, ts);
	struct cs_wait w;
	int i;

	if (!t)
		return;
	for (i = (int)t->nkwait - 1; i >= 0 && t->kwait[i].addr != e->addr; i--)
		;
	if (i < 0)
		return; /* its begin was before we looked */
	w = t->kwait[i];
	memmove(&t->kwait[i], &t->kwait[i + 1], (t->nkwait - (unsigned int)i - 1) * sizeof(w));
	t->nkwait--;
	end_wait(c, t, &w, CS_SPACE_KERNEL, ts,
		 e->ret ? CS_REL_ERROR : !w.blocked ? CS_REL_SPUN :
		 w.waker ? w.waker : CS_REL_UNKNOWN);
}

void cs_locks_on_name(struct cs_core *c, const struct cs_lock_name *e)
{
	uint8_t space = e->h.aux == CS_SPACE_KERNEL ? CS_SPACE_KERNEL : CS_SPACE_USER;
	struct cs_lockstat *l = get_lock(c, e->addr, e->h.pid, space,
					 space == CS_SPACE_KERNEL ? CS_LK_SPIN : CS_LK_COND);

	if (l && !l->name[0]) {
		memcpy(l->name, e->name, sizeof(l->name) - 1);
		l->name[sizeof(l->name) - 1] = 0;
	}
}

size_t cs_core_nlocks(const struct cs_core *c)
{
	return c->nlocks;
}

const struct cs_lockstat *cs_core_lock(const struct cs_core *c, size_t i)
{
	return i < c->nlocks ? &c->locks[i] : NULL;
}

const struct cs_lockstat *cs_core_find_lock(const struct cs_core *c, uint64_t addr, uint32_t pid,
					    unsigned int space)
{
	const uint32_t *idx = cs_hmap_get(&c->lockidx, addr, lock_key_b(pid, space));

	return idx ? &c->locks[*idx] : NULL;
}

void cs_locks_finish_thread(struct cs_core *c, struct cs_thread_priv *t)
{
	if (t->in_futex && t->fwait.blocked)
		end_wait(c, t, &t->fwait, CS_SPACE_USER, c->we, CS_REL_UNFINISHED);
	while (t->nkwait) {
		t->nkwait--;
		end_wait(c, t, &t->kwait[t->nkwait], CS_SPACE_KERNEL, c->we,
			 CS_REL_UNFINISHED);
	}
	t->in_futex = false;
}

void cs_locks_free(struct cs_core *c)
{
	free(c->classes);
	free(c->locks);
	cs_hmap_free(&c->lockidx);
}
