// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * states.c: the thread state machine, from the tracepoints' own timestamps.
 *
 *   running   from a switch-in to the switch-out
 *   ready     from a wake-up (sched_waking) or a preemption to the switch-in
 *   blocked   from the switch-out to the wake-up: lock when the tracer said
 *             the thread waits for a contended lock, io for D, else sleeping;
 *             a wake-up that comes before the switch-out of the sleep it ends
 *             leaves the thread blocked until it runs (Perfetto's rule; the
 *             wake-up still names who released its lock)
 *   untraced  where a CPU's chain of switches broke: the kernel switched a
 *             task in or out without calling the tracepoint
 *
 * These are the rules Perfetto derives its thread states by, and the ones
 * the BPF side applies to the same events at the same timestamps
 * (bpf/kstate.bpf.h): keep the two in step. A thread first seen in the
 * window (attach) is in no known state until its first event tells: a
 * switch-out says it was running, a switch-in that it was ready, a wake-up
 * that it slept (with the state the wake-up found). The kernel side's totals
 * replace the ones derived here whenever it kept them (states.c:
 * cs_states_on_totals).
 */
#include <string.h>
#include "core_priv.h"

static bool is_blocked(unsigned int st)
{
	return st == CS_ST_SLEEP || st == CS_ST_IO || st == CS_ST_LOCK;
}

/* Close a blocked interval: its time also goes to the letter it blocked with. */
static void account_blocked(struct cs_core *c, struct cs_thread_priv *t, unsigned int st,
			    unsigned int letter, uint64_t a, uint64_t b)
{
	uint64_t ns = cs_core_account(c, t, st, a, b);

	t->pub.events.blocked_ns[letter % CS_NLETTERS] += ns;
	cs_stacks_on_blocked(c, t, ns);
}

/* Enter st at ts, its interval already closed by the caller. */
static void enter(struct cs_core *c, struct cs_thread_priv *t, unsigned int st, uint64_t ts)
{
	if (t->state == CS_ST_READY)
		cs_core_ready_leave(c, t);
	cs_prof_enter(c, t, t->state, st, ts);
	t->state = (uint8_t)st;
	t->since = ts;
	if (st == CS_ST_READY)
		cs_core_ready_enter(c, t, ts);
}

/* Time blocked [a, b) in the current block's system call: count blocks, or more of one. */
static void add_blocked(struct cs_core *c, struct cs_thread_priv *t, uint64_t a, uint64_t b,
			uint64_t count)
{
	uint64_t ns;

	if (!in_window(c, b))
		return;
	ns = clip(c, &a, &b);
	if (count || ns)
		cs_topk_add(&t->pub.blocked, (uint64_t)(t->block_syscall + 1), count, ns);
}

/* Who holds a CPU a ready thread waits for. */
enum holder { HOLDER_IDLE, HOLDER_OWN, HOLDER_OTHER };

static enum holder holder_of(const struct cs_core *c, const struct cs_cpu *cpu)
{
	if (!cpu->cur)
		return HOLDER_IDLE;
	return cs_core_is_tracked(c, cpu->cur_pid) ? HOLDER_OWN : HOLDER_OTHER;
}

/* Charge the wait of r on this CPU, up to ts, to whoever runs there (holder: its kind). */
static void charge_one(struct cs_core *c, struct cs_cpu *cpu, enum holder holder,
		       struct cs_thread_priv *r, uint64_t ts)
{
	uint64_t a = r->wait_from > cpu->since ? r->wait_from : cpu->since, b = ts;
	uint64_t ns = cpu->known && ts > a ? clip(c, &a, &b) : 0;

	r->wait_from = ts;
	if (!ns)
		return;
	cs_topk_add(&r->pub.holders, cpu->cur, 1, ns);
	cs_core_observe_held(c, r, cpu->cur, a, b);
	if (holder == HOLDER_IDLE) {
		r->pub.ready_idle_ns += ns;
	} else if (holder == HOLDER_OWN) {
		r->pub.ready_own_ns += ns;
	} else {
		r->pub.ready_other_ns += ns;
		cs_core_other_add(c, cpu->cur_pid, cpu->cur, ns);
	}
}

/* Charge the time prev held this CPU to each tracked thread waiting on it. */
static void charge_holders(struct cs_core *c, struct cs_cpu *cpu, uint64_t ts)
{
	enum holder holder;
	unsigned int i;

	if (!cpu->nready)
		return;
	holder = holder_of(c, cpu); /* once per switch, not once per waiting thread */
	for (i = 0; i < cpu->nready; i++)
		charge_one(c, cpu, holder, cpu->ready[i], ts);
}

/*
 * A chain break on this CPU: the switch's prev is not the task the last
 * traced switch put here. That task left without the tracepoint saying so:
 * its running since then is untraced, unless it already ran again elsewhere.
 */
static void chain_break(struct cs_core *c, struct cs_cpu *cpu, uint32_t prev, uint64_t ts)
{
	struct cs_thread_priv *x;

	if (!cpu->known || cpu->cur == prev)
		return;
	if (in_window(c, ts))
		c->stats.chain_breaks++;
	x = cpu->cur ? cs_core_find_thread(c, cpu->cur) : NULL;
	if (x && x->state == CS_ST_RUNNING && x->since == cpu->since) {
		cs_prof_fix(c, x, -1, 0, x->since, ts);
		cs_prof_enter(c, x, CS_ST_RUNNING, CS_ST_UNTRACED, ts);
		x->state = CS_ST_UNTRACED;
		if (in_window(c, ts))
			x->pub.untraced++;
	}
}

/* The state prev enters at its switch-out, and the letter it blocked with. */
static unsigned int state_after(struct cs_core *c, struct cs_thread_priv *t,
				const struct cs_switch *e, unsigned int *letter)
{
	bool preempt = e->h.flags & CS_SWF_PREEMPT, lock;
	unsigned int rep = cs_state_report(preempt, e->prev_state, e->prev_exit_state);
	enum cs_tstate st = cs_state_after_switch(rep);

	*letter = cs_letter_index(rep);
	if (st != CS_ST_SLEEP && st != CS_ST_IO)
		return st;
	/* the waits in progress are blocked now (and name who releases them) */
	lock = cs_locks_block(c, t);
	if (e->h.flags & CS_SWF_VERDICT)
		lock = e->h.flags & CS_SWF_LOCK;
	return lock ? CS_ST_LOCK : st;
}

static void switch_out(struct cs_core *c, struct cs_thread_priv *t, const struct cs_switch *e,
		       struct cs_cpu *cpu, uint64_t ts)
{
	unsigned int old = t->state, st, letter;
	uint64_t s = t->since, mid;

	if (old == CS_ST_RUNNING) {
		cs_core_account(c, t, CS_ST_RUNNING, s, ts);
	} else if (old == CS_ST_UNKNOWN) {
		/* first sight: it ran since the window opened, unless the chain broke */
		if (cpu->known && cpu->cur != t->pub.tid) {
			cs_core_account(c, t, CS_ST_UNTRACED, s, ts);
		} else {
			cs_core_account(c, t, CS_ST_RUNNING, s, ts);
			cs_prof_fix(c, t, 1, 0, s, ts);
		}
	} else {
		/* its switch-in was not traced: what it was, then untraced */
		mid = cpu->known && cpu->since > s ? cpu->since : s;
		if (is_blocked(old))
			account_blocked(c, t, old, t->letter, s, mid);
		else
			cs_core_account(c, t, old, s, mid);
		cs_core_account(c, t, CS_ST_UNTRACED, mid, ts);
		if (old == CS_ST_READY)
			cs_prof_fix(c, t, 0, -1, mid, ts);
		if (in_window(c, ts))
			t->pub.untraced++;
	}
	if (in_window(c, ts)) {
		if (cs_switch_voluntary(e->h.flags & CS_SWF_PREEMPT, e->prev_state))
			t->pub.events.nvcsw++;
		else
			t->pub.events.nivcsw++;
	}
	t->cpu = e->h.cpu;
	t->block_syscall = e->syscall;
	st = state_after(c, t, e, &letter);
	cs_stacks_on_block(c, t, st, ts);
	if (!is_blocked(st))
		t->early_wake = false; /* it did not block: that wake-up found it awake */
	t->woken_late = is_blocked(st) && (e->h.flags & CS_SWF_WOKEN);
	t->letter = (uint8_t)letter;
	enter(c, t, st, ts);
	t->preempt_since = st == CS_ST_READY ? ts : 0;
}

/* A preempted stretch ends: kept, for the locks it may have held (locks.c). */
static void preempted_until(struct cs_thread_priv *t, uint64_t ts)
{
	if (!t->preempt_since)
		return;
	t->preempted[t->npreempted % CS_PREEMPT_RING].a = t->preempt_since;
	t->preempted[t->npreempted % CS_PREEMPT_RING].b = ts;
	t->npreempted++;
	t->preempt_since = 0;
}

/* The wake-up that came before the switch-out of this block released its lock. */
static void late_release(struct cs_core *c, struct cs_thread_priv *t)
{
	t->early_wake = false;
	cs_locks_note_waker(t, t->early_waker, t->early_flags);
}

static void switch_in(struct cs_core *c, struct cs_thread_priv *t, const struct cs_switch *e,
		      uint64_t ts)
{
	unsigned int old = t->state;
	uint64_t s = t->since;

	if (!t->pub.comm[0]) /* first seen switching out, before anything named it */
		cs_core_set_comm(c, t, e->next_tid, e->next_comm);
	if (old == CS_ST_READY) {
		cs_core_account(c, t, CS_ST_READY, s, ts);
		if (in_window(c, ts) && in_window(c, s))
			cs_hist_add(&t->pub.lat, ts - s);
	} else if (old == CS_ST_UNKNOWN) {
		cs_core_account(c, t, CS_ST_READY, s, ts);
		cs_prof_fix(c, t, 0, 1, s, ts);
	} else if (is_blocked(old)) {
		/* no wake-up since it blocked: it was blocked until now */
		if (t->early_wake)
			late_release(c, t);
		account_blocked(c, t, old, t->letter, s, ts);
		add_blocked(c, t, s, ts, 1);
	} else if (old == CS_ST_RUNNING || old == CS_ST_UNTRACED) {
		cs_core_account(c, t, CS_ST_UNTRACED, s, ts);
		if (old == CS_ST_RUNNING)
			cs_prof_fix(c, t, -1, 0, s, ts);
	}
	if (t->in_futex && t->fwait.at_switch && t->fwait.blocked)
		cs_locks_end_switch_wait(c, t, ts);
	t->woken_late = false;
	preempted_until(t, ts);
	t->cpu = e->h.cpu;
	enter(c, t, CS_ST_RUNNING, ts);
}

void cs_states_on_switch(struct cs_core *c, const struct cs_switch *e, uint64_t ts)
{
	struct cs_cpu *cpu = cs_core_cpu(c, e->h.cpu);
	struct cs_thread_priv *prev, *next;

	if (!cpu)
		return;
	chain_break(c, cpu, e->h.tid, ts);
	charge_holders(c, cpu, ts);
	cs_core_set_name(c, e->next_tid, e->next_comm);
	prev = e->h.tid ? cs_core_tracked_thread(c, e->h.tid, e->h.pid, ts) : NULL;
	if (prev)
		switch_out(c, prev, e, cpu, ts);
	next = e->next_tid && e->next_tid != e->h.tid ?
	       cs_core_tracked_thread(c, e->next_tid, e->next_pid, ts) : NULL;
	if (next)
		switch_in(c, next, e, ts);
	/* entering a run queue may have grown (moved) the CPU array */
	cpu = &c->cpus[e->h.cpu];
	cpu->cur = e->next_tid;
	cpu->cur_pid = e->next_pid;
	cpu->since = ts;
	cpu->known = true;
}

/* The blocked state and letter of a thread first seen at its wake-up. */
static unsigned int first_block(const struct cs_thread_priv *t, const struct cs_waking *e,
				unsigned int *letter)
{
	if (e->letter) { /* the tracer read the woken task's state */
		*letter = e->letter - 1u;
		return cs_letter_char(*letter) == 'D' ? CS_ST_IO : CS_ST_SLEEP;
	}
	/* a trace without it: what /proc said, D (io) or I; anything else reads as S */
	*letter = t->proc_state == 'D' || t->proc_state == 'I' ?
		  (unsigned int)cs_letter_from_char(t->proc_state) : 0;
	return cs_state_from_proc(t->proc_state) == CS_ST_IO ? CS_ST_IO : CS_ST_SLEEP;
}

/* A wake-up that ended a block (or an unknown or untraced stretch) at ts. */
static void wake_up(struct cs_core *c, struct cs_thread_priv *t, const struct cs_waking *e,
		    uint64_t ts)
{
	unsigned int old = t->state, st, letter;
	uint64_t s = t->since;

	c->waking = e; /* the observer hears who ended the block */
	if (old == CS_ST_UNKNOWN) {
		st = first_block(t, e, &letter);
		account_blocked(c, t, st, letter, s, ts);
	} else if (old == CS_ST_UNTRACED || old == CS_ST_RUNNING) {
		/* running: a chain break the tracer saw first made it untraced */
		cs_core_account(c, t, CS_ST_UNTRACED, s, ts);
		if (old == CS_ST_RUNNING)
			cs_prof_fix(c, t, -1, 0, s, ts);
	} else {
		account_blocked(c, t, old, t->letter, s, ts);
		add_blocked(c, t, s, ts, 1);
	}
	c->waking = NULL;
	cs_locks_note_waker(t, e->waker_tid, e->h.flags);
	if (in_window(c, ts))
		t->pub.events.wakeups++;
	t->early_wake = t->woken_late = false;
	t->cpu = e->h.aux;
	enter(c, t, CS_ST_READY, ts);
}

/* Who to credit for a wake-up: the task that ran it, or its interrupt's source. */
static uint64_t waker_key(const struct cs_core *c, const struct cs_waking *e)
{
	if (e->h.flags & (CS_WKF_HARDIRQ | CS_WKF_SOFTIRQ | CS_WKF_NMI))
		return CS_WAKER_IRQ(cs_core_wake_source_id(c, e->source));
	return e->waker_tid;
}

/*
 * Does this wake-up end a block (or an unknown or untraced stretch)? The
 * tracer says, when it judged it: a wake-up on one CPU can see the
 * switch-out of the sleep it ends, on another, before or after that
 * switch-out's timestamp; its verdict is what its totals count.
 */
static bool ends_block(const struct cs_thread_priv *t, const struct cs_waking *e, uint64_t ts)
{
	unsigned int old = t->state;

	/* the tracer ran it before the switch-out stamped earlier, which ended the block */
	if (t->woken_late && is_blocked(old) && t->since <= ts)
		return true;
	if (e->h.flags & CS_WKF_VERDICT)
		return (e->h.flags & CS_WKF_ENDED) && old != CS_ST_READY && old != CS_ST_NEW &&
		       old != CS_ST_DEAD;
	return (is_blocked(old) && t->since <= ts) || old == CS_ST_UNKNOWN ||
	       old == CS_ST_UNTRACED;
}

void cs_states_on_waking(struct cs_core *c, const struct cs_waking *e, uint64_t ts)
{
	struct cs_thread_priv *t = cs_core_tracked_thread(c, e->h.tid, e->h.pid, ts);
	unsigned int old;

	if (!t)
		return;
	old = t->state;
	if (e->h.flags & CS_WKF_NEW) {
		if (old == CS_ST_NEW || old == CS_ST_UNKNOWN) {
			cs_core_observe_new(c, t, e, ts);
			t->cpu = e->h.aux;
			enter(c, t, CS_ST_READY, ts);
		}
		return;
	}
	if (in_window(c, ts) && old != CS_ST_READY)
		cs_topk_add(&t->pub.wakers, waker_key(c, e), 1, 0);
	if (ends_block(t, e, ts)) {
		wake_up(c, t, e, ts);
	} else if (old == CS_ST_RUNNING || is_blocked(old)) {
		/*
		 * It beat the switch-out of the sleep it ends (the waker starts
		 * while the thread is still inside schedule()): the thread stays
		 * blocked until it runs, and this wake-up released its lock.
		 */
		t->early_wake = true;
		t->early_waker = e->waker_tid;
		t->early_flags = e->h.flags;
	}
}

void cs_states_on_migrate(struct cs_core *c, const struct cs_migrate *e, uint64_t ts)
{
	struct cs_thread_priv *t = cs_core_tracked_thread(c, e->h.tid, e->h.pid, ts);
	struct cs_cpu *from;

	if (!t)
		return;
	if (in_window(c, ts))
		t->pub.events.migrations++;
	if (t->state == CS_ST_READY) {
		from = t->cpu < c->ncpus ? &c->cpus[t->cpu] : NULL;
		if (from)
			charge_one(c, from, holder_of(c, from), t, ts);
		cs_core_ready_leave(c, t);
		t->cpu = e->h.aux;
		cs_core_ready_enter(c, t, ts);
	} else {
		t->cpu = e->h.aux;
	}
}

void cs_states_on_fork(struct cs_core *c, const struct cs_fork *e, uint64_t ts)
{
	struct cs_thread_priv *t, *old;

	if (!cs_core_is_tracked(c, e->h.pid))
		return;
	cs_core_track(c, e->child_pid);
	old = cs_core_find_thread(c, e->child_tid);
	if (old && !old->pub.exited && old->state != CS_ST_UNKNOWN)
		return; /* already known */
	t = old && !old->pub.exited ? old : cs_core_tracked_thread(c, e->child_tid, e->child_pid, ts);
	if (!t)
		return;
	t->state = CS_ST_NEW;
	t->since = ts;
	cs_core_set_comm(c, t, e->child_tid, e->child_comm);
}

/*
 * /proc when the window opened (attach): the thread's name, and its state
 * for as long as no event tells more (a thread that sleeps throughout has
 * no event at all).
 */
void cs_states_on_thread_info(struct cs_core *c, const struct cs_thread_info *e, uint64_t ts)
{
	struct cs_thread_priv *t;

	cs_core_track(c, e->h.pid);
	t = cs_core_tracked_thread(c, e->h.tid, e->h.pid, ts);
	cs_core_set_comm(c, t, e->h.tid, e->comm);
	if (!t || !e->state || t->state != CS_ST_UNKNOWN)
		return;
	t->proc_state = (char)e->state;
	t->cpu = e->h.aux;
	t->block_syscall = e->syscall;
}

/* Who runs on a CPU as a segment starts: the chain goes on from there. */
void cs_states_on_cpu_state(struct cs_core *c, const struct cs_cpu_state *e)
{
	struct cs_cpu *cpu = cs_core_cpu(c, e->h.cpu);

	if (!cpu || cpu->known)
		return;
	cpu->cur = e->h.tid;
	cpu->cur_pid = e->h.pid;
	cpu->since = e->since;
	cpu->known = e->known;
}

void cs_states_on_totals(struct cs_core *c, const struct cs_thread_totals *e, uint64_t ts)
{
	/* an exited thread's come after its death: the latest thread of that tid */
	struct cs_thread_priv *t = cs_core_find_thread(c, e->h.tid);

	if (!t || t->pub.pid != e->h.pid)
		t = cs_core_tracked_thread(c, e->h.tid, e->h.pid, ts);
	if (!t)
		return;
	t->k = *e;
	t->has_k = true;
}

/* The state a thread in no known state at the end was in: what /proc said. */
static unsigned int unknown_state(const struct cs_thread_priv *t, unsigned int *letter)
{
	enum cs_tstate st = cs_state_from_proc(t->proc_state);

	*letter = 0;
	if (st == CS_ST_IO || st == CS_ST_SLEEP) /* D; S, I, T, t, P */
		*letter = (unsigned int)cs_letter_from_char(t->proc_state);
	/* R: no switch in the whole window, it ran; X, Z or none: untraced */
	return st == CS_ST_DEAD || st == CS_ST_UNKNOWN ? CS_ST_UNTRACED : st;
}

/* Close an open interval [since, end) of state st by the rules above, into n. */
static void close_open(struct cs_core *c, const struct cs_thread_priv *t, unsigned int st,
		       unsigned int letter, uint64_t since, struct cs_counts *n)
{
	uint64_t a = since, b = c->we, ns;

	if (st == CS_ST_UNKNOWN)
		st = unknown_state(t, &letter);
	if (st >= CS_NACC || !(ns = clip(c, &a, &b)))
		return;
	n->ns[st] += ns;
	if (is_blocked(st))
		n->blocked_ns[letter % CS_NLETTERS] += ns;
}

/* The kernel side's totals, with its open interval closed the same way. */
static void kernel_totals(struct cs_core *c, struct cs_thread_priv *t)
{
	const struct cs_thread_totals *k = &t->k;
	struct cs_counts n;
	unsigned int st = CS_KW_STATE(k->word);

	memcpy(n.ns, k->ns, sizeof(n.ns));
	memcpy(n.blocked_ns, k->blocked_ns, sizeof(n.blocked_ns));
	n.nvcsw = k->nvcsw;
	n.nivcsw = k->nivcsw;
	n.wakeups = k->wakeups;
	n.migrations = k->migrations;
	close_open(c, t, st, k->h.aux, CS_KW_SINCE(k->word), &n);
	memcpy(t->pub.ns, n.ns, sizeof(n.ns));
	memcpy(t->pub.blocked_ns, n.blocked_ns, sizeof(n.blocked_ns));
	t->pub.nvcsw = n.nvcsw;
	t->pub.nivcsw = n.nivcsw;
	t->pub.wakeups = n.wakeups;
	t->pub.migrations = n.migrations;
	t->pub.cpu_ns = k->cpu_ns;
	t->pub.run_delay_ns = k->run_delay_ns;
	/* running at the end: the kernel folds that in at its next switch */
	if (st == CS_ST_RUNNING)
		t->pub.cpu_ns += n.ns[CS_ST_RUNNING] - k->ns[CS_ST_RUNNING];
	t->pub.kernel_totals = true;
	t->pub.kernel_figures = k->h.flags & CS_TTF_FIGURES;
	c->stats.kernel_totals++;
}

void cs_states_finish_thread(struct cs_core *c, struct cs_thread_priv *t)
{
	struct cs_counts *ev = &t->pub.events;

	/* the open interval, into the timeline too */
	if (t->state == CS_ST_UNKNOWN) {
		unsigned int letter, st = unknown_state(t, &letter);

		if (is_blocked(st)) {
			account_blocked(c, t, st, letter, t->since, c->we);
		} else {
			cs_core_account(c, t, st, t->since, c->we);
			cs_prof_fix(c, t, st == CS_ST_RUNNING, 0, t->since, c->we);
		}
	} else if (is_blocked(t->state)) {
		account_blocked(c, t, t->state, t->letter, t->since, c->we);
	} else {
		cs_core_account(c, t, t->state, t->since, c->we);
	}
	t->since = c->we;
	memcpy(t->pub.ns, ev->ns, sizeof(ev->ns));
	memcpy(t->pub.blocked_ns, ev->blocked_ns, sizeof(ev->blocked_ns));
	t->pub.nvcsw = ev->nvcsw;
	t->pub.nivcsw = ev->nivcsw;
	t->pub.wakeups = ev->wakeups;
	t->pub.migrations = ev->migrations;
	if (t->has_k)
		kernel_totals(c, t);
}
