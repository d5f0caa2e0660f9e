// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * core_observe.c: the core's one observer (core.h: struct cs_core_observer).
 * The state machine closes an interval (cs_core_account) and this file
 * tells the observer what it was: the state, and for a blocked one what it
 * blocked in and who ended it. The core does nothing with what the
 * observer does; without one, nothing here runs.
 */
#include <string.h>
#include "core_priv.h"

void cs_core_set_observer(struct cs_core *c, const struct cs_core_observer *o)
{
	if (o)
		c->obs = *o;
	else
		memset(&c->obs, 0, sizeof(c->obs));
}

const struct cs_core_observer *cs_core_observer(const struct cs_core *c)
{
	return c->obs.interval ? &c->obs : NULL;
}

uint32_t cs_core_root(const struct cs_core *c)
{
	return c->root;
}

/* The wait t is blocked in: its innermost kernel lock, else its futex. */
static void blocked_wait(const struct cs_thread_priv *t, struct cs_interval *iv)
{
	const struct cs_wait *w = NULL;

	if (t->nkwait && t->kwait[t->nkwait - 1].blocked) {
		w = &t->kwait[t->nkwait - 1];
		iv->lock_space = CS_SPACE_KERNEL;
	} else if (t->in_futex && t->fwait.blocked) {
		w = &t->fwait;
		iv->lock_space = CS_SPACE_USER;
	}
	if (!w)
		return;
	iv->lock_kind = w->kind;
	iv->lock_addr = w->addr;
}

/* Who ran the wake-up e: a task, or an interrupt's source. */
static void woken_by(const struct cs_core *c, const struct cs_waking *e, struct cs_interval *iv)
{
	iv->woken = true;
	iv->wake_flags = e->h.flags;
	iv->waker = e->waker_tid;
	if (e->h.flags & (CS_WKF_HARDIRQ | CS_WKF_SOFTIRQ | CS_WKF_NMI))
		iv->source = cs_core_wake_source_id(c, e->source);
}

void cs_core_observe(struct cs_core *c, const struct cs_thread_priv *t, unsigned int st,
		     uint64_t a, uint64_t b)
{
	struct cs_interval iv = {
		.tid = t->pub.tid, .pid = t->pub.pid, .a = a, .b = b, .state = (uint8_t)st,
		.syscall = -1,
	};

	if (st == CS_ST_SLEEP || st == CS_ST_IO || st == CS_ST_LOCK) {
		iv.syscall = t->block_syscall;
		blocked_wait(t, &iv);
		if (c->waking)
			woken_by(c, c->waking, &iv);
	}
	c->obs.interval(c->obs.ctx, &iv);
}

void cs_core_observe_new(struct cs_core *c, const struct cs_thread_priv *t,
			 const struct cs_waking *e, uint64_t ts)
{
	struct cs_interval iv = {
		.tid = t->pub.tid, .pid = t->pub.pid, .a = t->since, .b = ts,
		.state = CS_ST_NEW, .syscall = -1,
	};

	/* kept even when empty (created and woken at one instant): the walk
	 * goes from a thread's start to its creator */
	if (!c->obs.interval || !in_window(c, ts))
		return;
	if (iv.a < c->wb || iv.a > ts)
		iv.a = iv.a > ts ? ts : c->wb;
	woken_by(c, e, &iv);
	c->obs.interval(c->obs.ctx, &iv);
}
