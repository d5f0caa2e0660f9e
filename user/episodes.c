// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * episodes.c: what a thread that waits for events did between its waits.
 *
 * An event loop blocks in one call that waits for any of its events
 * (epoll_wait, poll, select, io_uring_enter); what it does between two such
 * waits is one turn of the loop. A turn that lasts long, whether the loop
 * ran, waited for a CPU or blocked in another call (a sleep, a read, a
 * lock), is an episode in which nothing else the loop serves could run.
 * Every thread that blocks in an event wait has its turns measured here,
 * from the state intervals the state machine closes (in time order per
 * thread); the ones of at least cfg.loop_threshold_ns are kept (the longest
 * CS_LOOP_TOP of them in full, all of them counted). Which threads are
 * event loops is the findings' call (findings.c), from these figures.
 */
#include <stdlib.h>
#include <string.h>
#include "core_priv.h"

#define DEFAULT_THRESHOLD_NS 10000000ull

/* System calls that wait for any of a set of events (their numbers: bpf/arch.h). */
static bool event_wait(int nr)
{
	switch (nr) {
	case CS_NR_POLL:
	case CS_NR_SELECT:
	case CS_NR_EPOLL_WAIT:
	case CS_NR_PSELECT6:
	case CS_NR_PPOLL:
	case CS_NR_EPOLL_PWAIT:
	case CS_NR_IO_URING_ENTER:
	case CS_NR_EPOLL_PWAIT2:
		return true;
	default:
		return false;
	}
}

static bool is_blocked(unsigned int st)
{
	return st == CS_ST_SLEEP || st == CS_ST_IO || st == CS_ST_LOCK;
}

uint64_t cs_ep_threshold(const struct cs_core *c)
{
	return c->cfg.loop_threshold_ns ? c->cfg.loop_threshold_ns : DEFAULT_THRESHOLD_NS;
}

/*
 * Blocked time of the turn in progress, by call (lock waits apart), and
 * where (--stacks): the stack of the call's longest block.
 */
static void turn_block(struct cs_turn *tn, int nr, bool lock, uint64_t ns, uint64_t stack)
{
	unsigned int i, least = 0;

	for (i = 0; i < CS_TURN_CALLS; i++) {
		if (tn->calls[i].ns && tn->calls[i].nr == nr && tn->calls[i].lock == lock) {
			if (ns > tn->calls[i].ns)
				tn->calls[i].stack = stack;
			tn->calls[i].ns += ns;
			return;
		}
		if (tn->calls[i].ns < tn->calls[least].ns)
			least = i;
	}
	if (tn->calls[least].ns >= ns)
		return; /* the turn's CS_TURN_CALLS biggest are kept */
	tn->calls[least].nr = nr;
	tn->calls[least].lock = lock;
	tn->calls[least].ns = ns;
	tn->calls[least].stack = stack;
}

/* Keep a long turn: counted, and among the longest. */
static void keep(struct cs_loop *lp, const struct cs_turn *tn, uint64_t end, bool open)
{
	struct cs_episode e = { .start = tn->start, .dur = end - tn->start, .open = open };
	unsigned int i, at;

	memcpy(e.ns, tn->ns, sizeof(e.ns));
	e.call = -1;
	for (i = 0; i < CS_TURN_CALLS; i++) {
		if (tn->calls[i].ns > e.call_ns) {
			e.call = tn->calls[i].nr;
			e.call_lock = tn->calls[i].lock;
			e.call_ns = tn->calls[i].ns;
			e.stack = tn->calls[i].stack;
		}
	}
	lp->episodes++;
	lp->episode_ns += e.dur;
	for (at = lp->ntop; at > 0 && lp->top[at - 1].dur < e.dur; at--)
		;
	if (at >= CS_LOOP_TOP)
		return;
	if (lp->ntop < CS_LOOP_TOP)
		lp->ntop++;
	memmove(&lp->top[at + 1], &lp->top[at], (lp->ntop - 1 - at) * sizeof(e));
	lp->top[at] = e;
}

static void end_turn(struct cs_core *c, struct cs_loop *lp, uint64_t end, bool open)
{
	struct cs_turn *tn = &lp->turn;

	if (tn->active && end > tn->start && end - tn->start >= cs_ep_threshold(c))
		keep(lp, tn, end, open);
	tn->active = false;
}

/* t's interval [a, b) in state st, inside the window, just closed. */
void cs_ep_account(struct cs_core *c, struct cs_thread_priv *t, unsigned int st, uint64_t a,
		   uint64_t b)
{
	struct cs_loop *lp = t->pub.loop;
	bool wait = is_blocked(st) && st != CS_ST_LOCK && event_wait(t->block_syscall);

	if (!lp && !wait)
		return;
	if (!lp) {
		lp = t->pub.loop = calloc(1, sizeof(*lp));
		if (!lp)
			return;
	}
	if (wait) {
		end_turn(c, lp, a, false);
		lp->waits++;
		lp->wait_ns += b - a;
		memset(&lp->turn, 0, sizeof(lp->turn));
		lp->turn.active = true;
		lp->turn.start = b;
		return;
	}
	if (!lp->turn.active)
		return;
	lp->turn.ns[st] += b - a;
	if (is_blocked(st))
		turn_block(&lp->turn, t->block_syscall, st == CS_ST_LOCK, b - a,
			   t->seen_block ? t->block_stk : 0);
}

/*
 * The window closes: a turn still going counts up to its end. A thread that
 * exited ended its last turn by exiting: that is the program's shutdown,
 * not its loop held up.
 */
void cs_ep_finish(struct cs_core *c, struct cs_thread_priv *t)
{
	if (!t->pub.loop)
		return;
	if (t->pub.exited)
		t->pub.loop->turn.active = false;
	end_turn(c, t->pub.loop, c->we, true);
}
