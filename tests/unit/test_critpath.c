/* Unit tests: the critical path, walked on synthetic event streams. */
#include <stdio.h>
#include <stdlib.h>
#include "stream.h"
#include "critpath.h"

/* A core that records its intervals for the critical path. */
static struct cs_core *recording(uint32_t pid, const struct cs_critpath_cfg *cp)
{
	struct cs_core_cfg cfg = { .on_new = cs_critpath_attach, .on_new_arg = cp };
	struct cs_core *c;

	memset(stream_cur, 0, sizeof(stream_cur));
	c = cs_core_new(&cfg);
	assert_non_null(c);
	assert_non_null(cs_critpath_of(c));
	cs_core_track(c, pid);
	return c;
}

static const struct cs_critpath_cfg on = { .on = true };

/* A sleep (S) in system call nr. */
static void sleep_in(struct cs_core *c, uint64_t ts, unsigned int cpu, uint32_t tid,
		     uint32_t pid, int nr, uint32_t next, uint32_t next_pid)
{
	struct cs_switch e = mk_switch(ts, cpu, tid, pid, 1, 0, next, next_pid);

	e.syscall = (int16_t)nr;
	stream_cur[cpu % 64] = next;
	cs_core_feed(c, &e.h);
}

/* A wake-up from an interrupt (a timer) on cpu. */
static void wake_irq(struct cs_core *c, uint64_t ts, unsigned int cpu, uint32_t tid, uint32_t pid)
{
	struct cs_waking e;

	hdr(&e.h, CS_EV_WAKING, sizeof(e), ts, cpu, tid, pid);
	e.h.aux = (uint16_t)cpu;
	e.h.flags = CS_WKF_HARDIRQ;
	e.waker_tid = stream_cur[cpu % 64];
	e.source = 5;
	cs_core_feed(c, &e.h);
}

/* parent forks child at ts on cpu, and wakes it (sched_wakeup_new) on target. */
static void fork_wake(struct cs_core *c, uint64_t ts, unsigned int cpu, uint32_t parent,
		      uint32_t ppid, uint32_t child, unsigned int target)
{
	struct cs_fork f;
	struct cs_waking w;

	hdr(&f.h, CS_EV_FORK, sizeof(f), ts, cpu, parent, ppid);
	f.child_tid = f.child_pid = child;
	snprintf(f.child_comm, sizeof(f.child_comm), "child%u", child);
	cs_core_feed(c, &f.h);
	hdr(&w.h, CS_EV_WAKING, sizeof(w), ts, cpu, child, child);
	w.h.aux = (uint16_t)target;
	w.h.flags = CS_WKF_NEW;
	w.waker_tid = stream_cur[cpu % 64];
	cs_core_feed(c, &w.h);
}

static void exit_of(struct cs_core *c, uint64_t ts, uint32_t tid, uint32_t pid)
{
	struct cs_exit e;

	hdr(&e.h, CS_EV_EXIT, sizeof(e), ts, 0, tid, pid);
	e.h.flags = CS_EXF_GROUP_DEAD;
	cs_core_feed(c, &e.h);
}

/* The path covers [start, end) with contiguous stretches. */
static void assert_contiguous(const struct cs_cp_path *p)
{
	uint64_t at = p->start;
	size_t i;

	for (i = 0; i < p->nsegs; i++) {
		assert_int_equal(p->segs[i].start, at);
		assert_true(p->segs[i].dur > 0);
		at += p->segs[i].dur;
	}
	assert_int_equal(at, p->end);
}

/* Time on the path of tid in state st. */
static uint64_t on_path(const struct cs_cp_path *p, uint32_t tid, unsigned int st)
{
	uint64_t ns = 0;
	size_t i;

	for (i = 0; i < p->nsegs; i++)
		if (p->segs[i].tid == tid && p->segs[i].state == st)
			ns += p->segs[i].dur;
	return ns;
}

/*
 * The parent sleeps 200 ms (a timer wakes it), forks a child that runs
 * 300 ms, and waits for it: the path goes from the parent's end to the
 * child's exit, through the child's run back to the start of the parent's
 * wait, and on back on the parent, through the timer's sleep.
 */
static void a_fork_and_a_wait(void **st)
{
	struct cs_core *c = recording(100, &on);
	const struct cs_cp_path *p;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 100);
	sw(c, 0, 0, 0, 0, 0, 0, 100, 100);
	sleep_in(c, 10 * MS, 0, 100, 100, 230 /* clock_nanosleep */, 0, 0);
	wake_irq(c, 210 * MS, 0, 100, 100);
	sw(c, 211 * MS, 0, 0, 0, 0, 0, 100, 100);
	fork_wake(c, 215 * MS, 0, 100, 100, 101, 1);
	sw(c, 216 * MS, 1, 0, 0, 0, 0, 101, 101);
	sleep_in(c, 220 * MS, 0, 100, 100, 61 /* wait4 */, 0, 0);
	wake(c, 516 * MS, 1, 100, 100, 0);               /* the child's exit wakes it */
	sw(c, 517 * MS, 1, 101, 101, 0x10, 0, 0, 0);
	sw(c, 518 * MS, 0, 0, 0, 0, 0, 100, 100);
	exit_of(c, 520 * MS, 100, 100);
	mark(c, 520 * MS, CS_MARK_WINDOW_END, 100);
	cs_core_finish(c, 520 * MS);
	assert_int_equal(cs_critpath_run_tid(c), 100);
	p = cs_critpath_get(c, true);
	assert_non_null(p);
	assert_contiguous(p);
	assert_int_equal(p->end - p->start, 520 * MS);
	/* the child from the start of the parent's wait: its first 4 ms ran beside it */
	assert_int_equal(on_path(p, 101, CS_ST_RUNNING), 296 * MS);
	assert_int_equal(on_path(p, 101, CS_ST_READY), 0);
	assert_int_equal(on_path(p, 100, CS_ST_SLEEP), 200 * MS);
	assert_int_equal(on_path(p, 100, CS_ST_READY), 1 * MS + 2 * MS);
	assert_int_equal(on_path(p, 100, CS_ST_RUNNING), 10 * MS + 9 * MS + 2 * MS);
	assert_int_equal(p->jumps, 1);
	/* the sleep: clock_nanosleep, ended by the timer, named */
	assert_int_equal(p->segs[1].state, CS_ST_SLEEP);
	assert_int_equal(p->segs[1].syscall, 230);
	assert_true(p->segs[1].flags & CS_CPF_IRQ);
	assert_int_equal(p->segs[1].source, 5);
	cs_core_free(&c);
}

/*
 * A chain: the root waits for 101, which waits for 102, created by 101
 * before; each wait is explained back to its own start.
 */
static void a_chain_of_waits(void **st)
{
	struct cs_core *c = recording(100, &on);
	const struct cs_cp_path *p;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 100);
	sw(c, 0, 0, 0, 0, 0, 0, 100, 100);
	fork_wake(c, 1 * MS, 0, 100, 100, 101, 1);
	sw(c, 1 * MS, 1, 0, 0, 0, 0, 101, 101);
	sleep_in(c, 2 * MS, 0, 100, 100, 61, 0, 0);      /* the root waits from 2 ms */
	fork_wake(c, 3 * MS, 1, 101, 101, 102, 0);       /* 101 makes 102 */
	sw(c, 3 * MS, 0, 0, 0, 0, 0, 102, 102);
	sleep_in(c, 4 * MS, 1, 101, 101, 0, 0, 0);       /* and waits for it */
	wake(c, 50 * MS, 0, 101, 101, 1);                /* 102 ends 101's wait */
	sw(c, 51 * MS, 0, 102, 102, 0x10, 0, 0, 0);
	sw(c, 51 * MS, 1, 0, 0, 0, 0, 101, 101);
	wake(c, 60 * MS, 1, 100, 100, 0);                /* 101 ends the root's */
	sw(c, 61 * MS, 1, 101, 101, 0x10, 0, 0, 0);
	sw(c, 61 * MS, 0, 0, 0, 0, 0, 100, 100);
	cs_core_finish(c, 70 * MS);
	p = cs_critpath_get(c, true);
	assert_non_null(p);
	assert_contiguous(p);
	/* 101 woke the root, 102 woke 101; 102's run explains 101's wait back
	 * to its start (4 ms), 101's own run the root's, back to 2 ms */
	assert_int_equal(p->jumps, 2);
	assert_int_equal(on_path(p, 100, CS_ST_RUNNING), 2 * MS + 9 * MS);
	assert_int_equal(on_path(p, 100, CS_ST_READY), 1 * MS);
	assert_int_equal(on_path(p, 101, CS_ST_RUNNING), 2 * MS + 9 * MS);
	assert_int_equal(on_path(p, 102, CS_ST_RUNNING), 46 * MS);
	assert_int_equal(on_path(p, 101, CS_ST_READY), 1 * MS);
	/* the waits it explained, by their wake-ups: 101's from 4 ms, the root's from 2 */
	assert_int_equal(p->nwaits, 2);
	assert_int_equal(p->waits[1].tid, 100);
	assert_int_equal(p->waits[1].start, 2 * MS);
	assert_int_equal(p->waits[1].dur, 58 * MS);
	assert_int_equal(p->waits[1].who, 101);
	assert_int_equal(p->waits[1].syscall, 61);
	assert_int_equal(p->waits[0].tid, 101);
	assert_int_equal(p->waits[0].start, 4 * MS);
	assert_int_equal(p->waits[0].dur, 46 * MS);
	assert_int_equal(p->waits[0].who, 102);
	cs_core_free(&c);
}

/* While a thread is ready, the path says who held its CPU. */
static void ready_names_the_holder(void **st)
{
	struct cs_core *c = recording(7, &on);
	const struct cs_cp_path *p;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 7);
	sw(c, 0, 0, 0, 0, 0, 0, 7, 7);
	sw(c, 10 * MS, 0, 7, 7, 0, 1, 300, 300);  /* preempted by 300 for 5 ms */
	sw(c, 15 * MS, 0, 300, 300, 0, 1, 400, 400);  /* then 400 for 1 ms */
	sw(c, 16 * MS, 0, 400, 400, 0, 1, 7, 7);
	cs_core_finish(c, 20 * MS);
	assert_int_equal(cs_critpath_run_tid(c), 7); /* no exit: its main thread */
	p = cs_critpath_get(c, true);
	assert_non_null(p);
	assert_contiguous(p);
	assert_int_equal(p->nsegs, 3);
	assert_int_equal(p->segs[1].state, CS_ST_READY);
	assert_int_equal(p->segs[1].dur, 6 * MS);
	assert_int_equal(p->segs[1].who, 300);
	cs_core_free(&c);
}

/*
 * A wake-up from a task we do not trace (here 999, another process) and a
 * lock wait: the walk stays on the thread, and says what it waited for.
 */
static void unseen_wakers_and_locks_stay(void **st)
{
	struct cs_core *c = recording(7, &on);
	const struct cs_cp_path *p;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 7);
	sw(c, 0, 0, 0, 0, 0, 0, 7, 7);
	sleep_in(c, 1 * MS, 0, 7, 7, 0 /* read */, 999, 999);
	wake(c, 5 * MS, 0, 7, 7, 1);                    /* 999 wakes it */
	sw(c, 5 * MS, 1, 0, 0, 0, 0, 7, 7);
	fx_enter(c, 6 * MS, 7, 7, 202, 0x1000, 0, 2);   /* a mutex's futex (val 2) */
	sleep_in(c, 6 * MS, 1, 7, 7, 202, 0, 0);
	wake(c, 9 * MS, 0, 7, 7, 1);                    /* 999 again */
	sw(c, 9 * MS, 1, 0, 0, 0, 0, 7, 7);
	fx_exit(c, 9 * MS, 7, 7, 202, 0);
	cs_core_finish(c, 10 * MS);
	p = cs_critpath_get(c, true);
	assert_non_null(p);
	assert_contiguous(p);
	assert_int_equal(p->jumps, 0);
	assert_int_equal(on_path(p, 7, CS_ST_SLEEP), 4 * MS);
	assert_int_equal(on_path(p, 7, CS_ST_LOCK), 3 * MS);
	assert_int_equal(p->segs[1].who, 999);
	assert_true(p->segs[1].flags & CS_CPF_UNSEEN);
	assert_int_equal(p->segs[3].state, CS_ST_LOCK);
	assert_int_equal(p->segs[3].lock_addr, 0x1000);
	assert_int_equal(p->segs[3].lock_space, CS_SPACE_USER);
	cs_core_free(&c);
}

/* Two threads pass a token on two CPUs; every hand-over is on the path. */
static void ping_pong_is_all_path(void **st)
{
	struct cs_core *c = recording(7, &on);
	const struct cs_cp_path *p;
	uint64_t ts = 0;
	int i;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 7);
	sw(c, 0, 0, 0, 0, 0, 0, 7, 7);
	sw(c, 0, 1, 0, 0, 0, 0, 8, 7);
	sleep_in(c, 1, 1, 8, 7, 202, 0, 0);
	for (i = 0; i < 100; i++) {
		unsigned int me = i % 2, other = 1 - me;
		uint32_t t = 7 + me, o = 7 + other;

		ts += 2 * MS;
		wake(c, ts, me, o, 7, other);
		sw(c, ts + 10000, other, 0, 0, 0, 0, o, 7);
		sleep_in(c, ts + 20000, me, t, 7, 202, 0, 0);
	}
	cs_core_finish(c, ts + 1 * MS);
	p = cs_critpath_get(c, true); /* from 7's end: it runs last */
	assert_non_null(p);
	assert_contiguous(p);
	/* 7's 50 waits, each explained by 8's run; 7's own time between */
	assert_int_equal(p->jumps, 50);
	assert_int_equal(on_path(p, 7, CS_ST_READY), 50 * 10000);
	assert_int_equal(on_path(p, 8, CS_ST_READY), 0);
	cs_core_free(&c);
}

/*
 * Over the memory cap the oldest intervals go: the path still covers the
 * window, its start untraced ("not kept"), and the drop is counted.
 */
static void the_cap_drops_the_oldest(void **st)
{
	struct cs_critpath_cfg small = { .on = true, .cap_bytes = 3 * 4096 };
	struct cs_core *c = recording(7, &small);
	const struct cs_cp_path *p;
	uint64_t ts = 0;
	int i;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 7);
	sw(c, 0, 0, 0, 0, 0, 0, 7, 7);
	for (i = 0; i < 1000; i++) {
		sleep_in(c, ts + 100000, 0, 7, 7, 0, 0, 0);
		wake_irq(c, ts + 200000, 0, 7, 7);
		sw(c, ts + 300000, 0, 0, 0, 0, 0, 7, 7);
		ts += 300000;
	}
	cs_core_finish(c, ts + 1 * MS);
	p = cs_critpath_get(c, true);
	assert_non_null(p);
	assert_contiguous(p);
	assert_true(p->dropped > 0);
	assert_true(p->kept + p->dropped == 3000 + 1); /* running, sleep, ready */
	assert_int_equal(p->segs[0].state, CS_ST_UNTRACED);
	assert_true(p->segs[0].flags & CS_CPF_NOT_KEPT);
	assert_true(p->segs[0].dur > 0 && p->segs[0].dur < ts);
	cs_core_free(&c);
}

/* Without a recorder, nothing; with one, a thread not traced is no path. */
static void no_recorder_no_path(void **st)
{
	struct cs_critpath_cfg pick = { .on = true, .tid = 4242 };
	struct cs_core *c = tracking(7);

	(void)st;
	assert_null(cs_critpath_of(c));
	cs_core_finish(c, 1 * MS);
	assert_null(cs_critpath_get(c, true));
	cs_core_free(&c);
	c = recording(7, &pick);
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 7);
	sw(c, 0, 0, 0, 0, 0, 0, 7, 7);
	cs_core_finish(c, 1 * MS);
	assert_null(cs_critpath_get(c, true));
	cs_core_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_fork_and_a_wait),
		cmocka_unit_test(a_chain_of_waits),
		cmocka_unit_test(ready_names_the_holder),
		cmocka_unit_test(unseen_wakers_and_locks_stay),
		cmocka_unit_test(ping_pong_is_all_path),
		cmocka_unit_test(the_cap_drops_the_oldest),
		cmocka_unit_test(no_recorder_no_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
