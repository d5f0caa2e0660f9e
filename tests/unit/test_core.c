/* Unit tests: the core on synthetic event streams. */
#include <stdio.h>
#include <stdlib.h>
#include "stream.h"
#include "reorder.h"
#include "core_priv.h" /* a few tests check the state machine's own fields */

static const struct cs_thread *th(struct cs_core *c, uint32_t tid)
{
	const struct cs_thread *t = cs_core_find(c, tid);

	assert_non_null(t);
	return t;
}

static void preemption_vs_voluntary(void **st)
{
	struct cs_core *c = tracking(100);
	const struct cs_thread *t;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 100);
	sw(c, 0, 0, 0, 0, 0, 0, 100, 100);             /* idle -> 100 */
	sw(c, 10 * MS, 0, 100, 100, 0, 1, 200, 200);   /* preempted by 200 */
	sw(c, 15 * MS, 0, 200, 200, 0, 1, 100, 100);
	sw(c, 20 * MS, 0, 100, 100, 0, 0, 200, 200);   /* running, not preempt: involuntary */
	sw(c, 22 * MS, 0, 200, 200, 1, 0, 100, 100);
	sw(c, 25 * MS, 0, 100, 100, 1, 0, 0, 0);       /* sleeps: voluntary */
	wake(c, 30 * MS, 0, 100, 100, 0);
	sw(c, 31 * MS, 0, 0, 0, 0, 0, 100, 100);
	cs_core_finish(c, 40 * MS);
	t = th(c, 100);
	assert_int_equal(t->nivcsw, 2);
	assert_int_equal(t->nvcsw, 1);
	assert_int_equal(t->ns[CS_ST_RUNNING], 10 * MS + 5 * MS + 3 * MS + 9 * MS);
	assert_int_equal(t->ns[CS_ST_READY], 5 * MS + 2 * MS + 1 * MS);
	assert_int_equal(t->ns[CS_ST_SLEEP], 5 * MS);
	assert_int_equal(t->wakeups, 1);
	assert_int_equal(t->wakers.e[0].key, 0); /* the idle CPU's interrupt */
	assert_int_equal(t->lat.count, 3);
	assert_int_equal(t->lat.max, 5 * MS);
	/* while 100 waited, 200 held the CPU for 5 + 2 ms; idle for 1 ms */
	assert_int_equal(t->holders.n, 2);
	assert_int_equal(t->holders.e[0].key, 200);
	assert_int_equal(t->holders.e[0].ns, 7 * MS);
	assert_int_equal(t->blocked.e[0].key, 1); /* read (0) + 1 */
	assert_int_equal(t->blocked.e[0].ns, 5 * MS);
	assert_null(cs_core_find(c, 200)); /* untracked */
	assert_int_equal(cs_core_duration(c), 40 * MS);
	cs_core_free(&c);
}

static void wakeup_ready_running_latency(void **st)
{
	struct cs_core *c = tracking(7);
	const struct cs_thread *t;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 7);
	info(c, 0, 7, 7, 'S', 1);
	sw(c, 1 * MS, 1, 0, 0, 0, 0, 300, 300);        /* 300 runs on CPU 1 */
	wake(c, 2 * MS, 1, 7, 7, 1);                    /* woken by 300 */
	sw(c, 2 * MS + 250000, 1, 300, 300, 0, 1, 7, 7); /* runs 250 us later */
	cs_core_finish(c, 3 * MS);
	t = th(c, 7);
	assert_int_equal(t->lat.count, 1);
	assert_int_equal(t->lat.max, 250000);
	assert_true(cs_hist_quantile(&t->lat, 0.5) >= 250000 * 0.984);
	assert_int_equal(t->wakers.e[0].key, 300);
	assert_int_equal(t->ns[CS_ST_SLEEP], 2 * MS);
	assert_int_equal(t->ns[CS_ST_READY], 250000);
	assert_int_equal(t->ns[CS_ST_RUNNING], 750000);
	cs_core_free(&c);
}

/*
 * Ready runs from the wake-up (sched_waking) to the switch-in, as Perfetto
 * draws Runnable; a run-queue wait the switch may carry (version-2 traces)
 * changes nothing.
 */
static void ready_from_the_waking(void **st)
{
	struct cs_core *c = tracking(7);
	struct cs_switch e;
	const struct cs_thread *t;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 7);
	info(c, 0, 7, 7, 'S', 1);
	wake(c, 2 * MS, 0, 7, 7, 1);
	e = mk_switch(2 * MS + 400000, 1, 0, 0, 0, 0, 7, 7);
	e.h.flags |= CS_SWF_NEXT_WAIT;
	e.h.aux = 100; /* 102.4 us on the run queue, says the kernel: not our clock */
	stream_cur[1] = 7;
	cs_core_feed(c, &e.h);
	sw(c, 3 * MS, 1, 7, 7, 1, 0, 0, 0);  /* sleeps again */
	wake(c, 4 * MS, 0, 7, 7, 1);
	sw(c, 5 * MS, 1, 0, 0, 0, 0, 7, 7);
	sw(c, 6 * MS, 1, 7, 7, 0, 1, 0, 0);  /* preempted: ready from here */
	sw(c, 6 * MS + 50000, 1, 0, 0, 0, 0, 7, 7);
	cs_core_finish(c, 10 * MS);
	t = th(c, 7);
	assert_int_equal(t->ns[CS_ST_READY], 400000 + 1 * MS + 50000);
	assert_int_equal(t->ns[CS_ST_SLEEP], 2 * MS + 1 * MS);
	assert_int_equal(t->blocked_ns[0], 3 * MS); /* S */
	assert_int_equal(t->lat.count, 3);
	assert_int_equal(t->lat.sum, 400000 + 1 * MS + 50000);
	assert_int_equal(t->wakeups, 2);
	cs_core_free(&c);
}

/*
 * A wake-up that beats the switch-out of the sleep it ends (the waker runs
 * while the thread is still inside schedule()): by Perfetto's rule the
 * thread stays blocked until it runs, and the wake-up is not counted; it
 * still names who woke it.
 */
static void a_wake_up_before_the_switch_out_leaves_it_blocked(void **st)
{
	struct cs_core *c = tracking(7);
	const struct cs_thread *t;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 7);
	sw(c, 0, 1, 0, 0, 0, 0, 300, 300);               /* 300 runs on CPU 1 */
	sw(c, 0, 0, 0, 0, 0, 0, 7, 7);                   /* 7 runs on CPU 0 */
	wake(c, 1 * MS, 1, 7, 7, 0);                     /* 300 wakes 7 ... */
	sw(c, 1 * MS + 10000, 0, 7, 7, 1, 0, 0, 0);      /* ... before its switch-out (S) */
	sw(c, 1 * MS + 200000, 0, 0, 0, 0, 0, 7, 7);     /* runs */
	sw(c, 3 * MS, 0, 7, 7, 1, 0, 0, 0);              /* sleeps; woken properly later */
	wake(c, 4 * MS, 1, 7, 7, 0);
	sw(c, 4 * MS + 5000, 0, 0, 0, 0, 0, 7, 7);
	cs_core_finish(c, 5 * MS);
	t = th(c, 7);
	assert_int_equal(t->wakeups, 1);
	assert_int_equal(t->wakers.e[0].key, 300);
	assert_int_equal(t->wakers.e[0].count, 2);
	assert_int_equal(t->nvcsw, 2);
	assert_int_equal(t->ns[CS_ST_READY], 5000);
	assert_int_equal(t->ns[CS_ST_SLEEP], 190000 + 1 * MS);
	assert_int_equal(t->lat.count, 1);
	cs_core_free(&c);
}

/* The tracer's verdict on a wake-up is the rule, whatever the timestamps say. */
static void the_tracers_verdict_on_a_wake_up(void **st)
{
	struct cs_core *c = tracking(7);
	const struct cs_thread *t;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 7);
	sw(c, 0, 0, 0, 0, 0, 0, 7, 7);
	sw(c, 1 * MS, 0, 7, 7, 1, 0, 0, 0);              /* sleeps at 1 ms */
	/* the waking's program read the state before the switch-out's wrote it */
	wake_judged(c, 2 * MS, 1, 7, 7, 0, 0);
	sw(c, 3 * MS, 0, 0, 0, 0, 0, 7, 7);              /* so: blocked until it ran */
	sw(c, 4 * MS, 0, 7, 7, 1, 0, 0, 0);
	wake_judged(c, 5 * MS, 1, 7, 7, 0, 1);           /* this one ended the block */
	sw(c, 6 * MS, 0, 0, 0, 0, 0, 7, 7);
	cs_core_finish(c, 7 * MS);
	t = th(c, 7);
	assert_int_equal(t->ns[CS_ST_SLEEP], 2 * MS + 1 * MS);
	assert_int_equal(t->ns[CS_ST_READY], 1 * MS);
	assert_int_equal(t->ns[CS_ST_RUNNING], 1 * MS + 1 * MS + 1 * MS);
	assert_int_equal(t->wakeups, 1);
	cs_core_free(&c);
}

/*
 * The same race, the other way round in time: the waking's program ran first,
 * but the wake-up is stamped after the switch-out. The switch-out's program
 * found its time (CS_SWF_WOKEN) and ended the block there: ready from the
 * wake-up on, as the timestamps (and Perfetto) say.
 */
static void a_wake_up_stamped_after_the_switch_out_ends_the_block(void **st)
{
	struct cs_core *c = tracking(7);
	struct cs_switch e;
	const struct cs_thread *t;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 7);
	sw(c, 0, 0, 0, 0, 0, 0, 7, 7);
	e = mk_switch(1 * MS, 0, 7, 7, 1, 0, 0, 0);      /* sleeps at 1 ms ... */
	e.h.flags |= CS_SWF_VERDICT | CS_SWF_WOKEN;
	cs_core_feed(c, &e.h);
	wake_judged(c, 1 * MS + 47, 1, 7, 7, 0, 0);      /* ... woken 47 ns later */
	sw(c, 1 * MS + 5554, 0, 0, 0, 0, 0, 7, 7);
	sw(c, 2 * MS, 0, 7, 7, 1, 0, 0, 0);              /* the flag lasts one block */
	wake_judged(c, 3 * MS, 1, 7, 7, 0, 0);
	sw(c, 4 * MS, 0, 0, 0, 0, 0, 7, 7);
	cs_core_finish(c, 5 * MS);
	t = th(c, 7);
	assert_int_equal(t->ns[CS_ST_SLEEP], 47 + 2 * MS);
	assert_int_equal(t->ns[CS_ST_READY], 5507);
	assert_int_equal(t->wakeups, 1);
	assert_int_equal(t->nvcsw, 2);
	assert_int_equal(t->lat.count, 1);
	cs_core_free(&c);
}

/*
 * A chain break: a CPU switches away from a task the last traced switch did
 * not put there. The task that was on it left untraced; the one that
 * switches out ran untraced since then.
 */
static void a_chain_break_is_untraced_time(void **st)
{
	struct cs_core *c = tracking(1);
	const struct cs_thread *x, *p;
	uint64_t sum = 0;
	unsigned int s;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 1);
	sw(c, 0, 0, 0, 0, 0, 0, 2, 1);                   /* 2 runs on CPU 0 */
	wake(c, 1 * MS, 1, 3, 1, 0);                     /* 3 woken for CPU 0 */
	/* 2 left and 3 came in without the tracepoint; then 3 switches out */
	sw(c, 4 * MS, 0, 3, 1, 1, 0, 0, 0);
	wake(c, 6 * MS, 1, 2, 1, 0);
	sw(c, 7 * MS, 0, 0, 0, 0, 0, 2, 1);
	cs_core_finish(c, 8 * MS);
	x = th(c, 2);
	p = th(c, 3);
	assert_int_equal(cs_core_stats(c)->chain_breaks, 1);
	assert_int_equal(x->ns[CS_ST_RUNNING], 1 * MS);  /* 7..8 */
	assert_int_equal(x->ns[CS_ST_UNTRACED], 6 * MS); /* 0..6 */
	assert_int_equal(x->ns[CS_ST_READY], 1 * MS);
	assert_int_equal(p->ns[CS_ST_UNTRACED], 3 * MS); /* 1..4: ready, then ran */
	assert_int_equal(p->ns[CS_ST_READY], 0);
	assert_int_equal(p->ns[CS_ST_SLEEP], 1 * MS + 4 * MS); /* before its wake-up, and after */
	for (s = 0; s < CS_NACC; s++)
		sum += x->ns[s];
	assert_int_equal(sum, 8 * MS); /* every instant of its life in one state */
	cs_core_free(&c);
}

/* A thread first seen in the window: its first event tells what it was doing. */
static void the_first_event_tells_the_state_before_it(void **st)
{
	struct cs_core *c = tracking(1);
	struct cs_waking w;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 1);
	info(c, 0, 2, 1, 'R', 0);
	info(c, 0, 3, 1, 'R', 1);
	info(c, 0, 4, 1, 'S', 1);
	info(c, 0, 5, 1, 'D', 1);
	sw(c, 2 * MS, 0, 2, 1, 1, 0, 0, 0);     /* 2 switches out: it was running */
	sw(c, 3 * MS, 1, 0, 0, 0, 0, 3, 1);     /* 3 switches in: it was ready */
	hdr(&w.h, CS_EV_WAKING, sizeof(w), 4 * MS, 0, 4, 1);
	w.letter = 1 + 1;                       /* the wake-up found it in D */
	cs_core_feed(c, &w.h);
	cs_core_finish(c, 5 * MS);              /* 5 had no event: /proc's D all along */
	assert_int_equal(th(c, 2)->ns[CS_ST_RUNNING], 2 * MS);
	assert_int_equal(th(c, 3)->ns[CS_ST_READY], 3 * MS);
	assert_int_equal(th(c, 4)->ns[CS_ST_IO], 4 * MS);
	assert_int_equal(th(c, 4)->blocked_ns[1], 4 * MS);
	assert_int_equal(th(c, 5)->ns[CS_ST_IO], 5 * MS);
	cs_core_free(&c);
}

/* The kernel side's totals replace the derived ones, its open state closed the same way. */
static void the_kernel_sides_totals_are_shown(void **st)
{
	struct cs_core *c = tracking(1);
	struct cs_thread_totals k;
	const struct cs_thread *t;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 1);
	sw(c, 0, 0, 0, 0, 0, 0, 2, 1);
	sw(c, 1 * MS, 0, 2, 1, 1, 0, 0, 0);     /* what the records say (some were lost) */
	hdr(&k.h, CS_EV_THREAD_TOTALS, sizeof(k), 9 * MS, 0, 2, 1);
	k.h.flags = CS_TTF_FIGURES;
	k.h.aux = 0;                            /* blocked in S */
	k.word = CS_KW(6 * MS, CS_KS_SLEEP);
	k.ns[CS_KS_RUNNING] = 4 * MS;
	k.ns[CS_KS_READY] = 2 * MS;
	k.nvcsw = 7;
	k.cpu_ns = 3900000;
	k.run_delay_ns = 1500000;
	cs_core_feed(c, &k.h);
	cs_core_finish(c, 10 * MS);
	t = th(c, 2);
	assert_true(t->kernel_totals);
	assert_int_equal(t->ns[CS_ST_RUNNING], 4 * MS);
	assert_int_equal(t->ns[CS_ST_SLEEP], 4 * MS);  /* open since 6 ms */
	assert_int_equal(t->blocked_ns[0], 4 * MS);
	assert_int_equal(t->nvcsw, 7);
	assert_int_equal(t->cpu_ns, 3900000);
	assert_int_equal(t->events.ns[CS_ST_RUNNING], 1 * MS); /* the records' own */
	assert_int_equal(t->events.ns[CS_ST_SLEEP], 9 * MS);
	assert_int_equal(cs_core_stats(c)->kernel_totals, 1);
	cs_core_free(&c);
}

static void uninterruptible_is_io_but_idle_is_sleep(void **st)
{
	struct cs_core *c = tracking(5);
	const struct cs_thread *t;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 5);
	sw(c, 0, 0, 0, 0, 0, 0, 5, 5);
	sw(c, 1 * MS, 0, 5, 5, 0x102, 0, 0, 0); /* killable: D */
	wake(c, 4 * MS, 0, 5, 5, 0);
	sw(c, 4 * MS, 0, 0, 0, 0, 0, 5, 5);
	sw(c, 5 * MS, 0, 5, 5, 0x402, 0, 0, 0); /* idle wait: I */
	wake(c, 9 * MS, 0, 5, 5, 0);
	sw(c, 9 * MS, 0, 0, 0, 0, 0, 5, 5);
	cs_core_finish(c, 10 * MS);
	t = th(c, 5);
	assert_int_equal(t->ns[CS_ST_IO], 3 * MS);
	assert_int_equal(t->ns[CS_ST_SLEEP], 4 * MS);
	assert_int_equal(t->nvcsw, 2);
	cs_core_free(&c);
}

static void migration_moves_the_wait(void **st)
{
	struct cs_core *c = tracking(9);
	const struct cs_thread *t;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 9);
	sw(c, 0, 1, 0, 0, 0, 0, 400, 400);         /* 400 busy on CPU 1 */
	sw(c, 0, 0, 0, 0, 0, 0, 9, 9);
	sw(c, 2 * MS, 0, 9, 9, 0, 1, 500, 500);    /* preempted on CPU 0 */
	migrate(c, 3 * MS, 1, 9, 9, 0, 1);         /* pulled to CPU 1 */
	sw(c, 6 * MS, 1, 400, 400, 0, 1, 9, 9);    /* runs there */
	cs_core_finish(c, 8 * MS);
	t = th(c, 9);
	assert_int_equal(t->migrations, 1);
	assert_int_equal(cs_thread_priv_of(t)->cpu, 1);
	assert_int_equal(t->ns[CS_ST_READY], 4 * MS);
	/* 500 held CPU 0 for 1 ms of the wait, 400 held CPU 1 for 3 ms */
	assert_int_equal(t->holders.n, 2);
	{
		struct cs_topk_ent e[CS_TOPK];

		cs_topk_sorted(&t->holders, e);
		assert_int_equal(e[0].key, 400);
		assert_int_equal(e[0].ns, 3 * MS);
		assert_int_equal(e[1].key, 500);
		assert_int_equal(e[1].ns, 1 * MS);
	}
	cs_core_free(&c);
}

static void thread_exit_stops_accounting(void **st)
{
	struct cs_core *c = tracking(11);
	struct cs_exit ex;
	const struct cs_thread *t;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 11);
	sw(c, 0, 0, 0, 0, 0, 0, 12, 11);
	hdr(&ex.h, CS_EV_EXIT, sizeof(ex), 3 * MS, 0, 12, 11);
	cs_core_feed(c, &ex.h);
	cs_core_finish(c, 10 * MS);
	t = th(c, 12);
	assert_true(t->exited);
	assert_int_equal(t->exit_ts, 3 * MS);
	cs_core_free(&c);

	c = tracking(11);
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 11);
	sw(c, 0, 0, 0, 0, 0, 0, 12, 11);
	{
		struct cs_switch e = mk_switch(4 * MS, 0, 12, 11, 0x80, 0, 0, 0);

		e.prev_exit_state = 0x10;
		cs_core_feed(c, &e.h);
	}
	cs_core_finish(c, 10 * MS);
	t = th(c, 12);
	assert_int_equal(cs_thread_priv_of(t)->state, CS_ST_DEAD);
	assert_int_equal(t->ns[CS_ST_RUNNING], 4 * MS);
	assert_int_equal(t->ns[CS_ST_READY] + t->ns[CS_ST_SLEEP], 0);
	assert_int_equal(t->nvcsw, 1);
	cs_core_free(&c);
}

static void untracked_tasks_are_ignored(void **st)
{
	struct cs_core *c = tracking(1);

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 1);
	sw(c, 0, 0, 0, 0, 0, 0, 50, 50);
	sw(c, 1 * MS, 0, 50, 50, 1, 0, 60, 60);
	wake(c, 2 * MS, 0, 50, 50, 0);
	cs_core_finish(c, 3 * MS);
	assert_int_equal(cs_core_nthreads(c), 0);
	assert_string_equal(cs_core_comm(c, 60), "task60"); /* names still known */
	cs_core_free(&c);
}

static void fork_tracks_the_child(void **st)
{
	struct cs_core *c = tracking(1);
	struct cs_fork f;
	const struct cs_thread *t;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 1);
	hdr(&f.h, CS_EV_FORK, sizeof(f), 1 * MS, 0, 1, 1);
	f.child_tid = 2;
	f.child_pid = 2;
	strcpy(f.child_comm, "child");
	cs_core_feed(c, &f.h);
	assert_true(cs_core_is_tracked(c, 2));
	{
		struct cs_waking w;

		hdr(&w.h, CS_EV_WAKING, sizeof(w), 1 * MS, 0, 2, 2);
		w.h.flags = CS_WKF_NEW;
		cs_core_feed(c, &w.h);
	}
	sw(c, 3 * MS, 0, 0, 0, 0, 0, 2, 2);
	cs_core_finish(c, 4 * MS);
	t = th(c, 2);
	assert_string_equal(t->comm, "child");
	assert_int_equal(t->ns[CS_ST_READY], 2 * MS);
	assert_int_equal(t->ns[CS_ST_RUNNING], 1 * MS);
	assert_int_equal(t->wakeups, 0); /* the first wake-up of a new task is not counted */
	cs_core_free(&c);
}

static void first_seen_mid_interval(void **st)
{
	struct cs_core *c = tracking(20);
	const struct cs_thread *t;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 20);
	/* /proc said R for both: one was running, one was waiting */
	info(c, 0, 21, 20, 'R', 0);
	info(c, 0, 22, 20, 'R', 0);
	sw(c, 4 * MS, 0, 21, 20, 0, 1, 22, 20);
	/* 23 was never described: first seen switching out on a known CPU */
	sw(c, 5 * MS, 1, 0, 0, 0, 0, 30, 30);
	sw(c, 6 * MS, 1, 30, 30, 0, 1, 23, 20);
	sw(c, 7 * MS, 1, 23, 20, 1, 0, 0, 0);
	cs_core_finish(c, 8 * MS);
	t = th(c, 21);
	assert_int_equal(t->ns[CS_ST_RUNNING], 4 * MS);
	assert_int_equal(t->ns[CS_ST_READY], 4 * MS);
	t = th(c, 22);
	assert_int_equal(t->ns[CS_ST_READY], 4 * MS);
	assert_int_equal(t->ns[CS_ST_RUNNING], 4 * MS);
	assert_int_equal(t->lat.count, 0); /* its wait began before we knew */
	t = th(c, 23);
	assert_int_equal(t->ns[CS_ST_RUNNING], 1 * MS);
	assert_int_equal(t->ns[CS_ST_SLEEP], 1 * MS);
	cs_core_free(&c);
}

static void window_clips_time_and_switches(void **st)
{
	struct cs_core *c = tracking(3);
	const struct cs_thread *t;

	(void)st;
	sw(c, 0, 0, 0, 0, 0, 0, 3, 3);
	sw(c, 1 * MS, 0, 3, 3, 0, 1, 0, 0);          /* before the window */
	sw(c, 2 * MS, 0, 0, 0, 0, 0, 3, 3);
	mark(c, 5 * MS, CS_MARK_WINDOW_BEGIN, 3);
	sw(c, 6 * MS, 0, 3, 3, 1, 0, 0, 0);
	mark(c, 7 * MS, CS_MARK_WINDOW_END, 3);
	sw(c, 8 * MS, 0, 0, 0, 0, 0, 3, 3);
	cs_core_finish(c, 9 * MS);
	t = th(c, 3);
	assert_int_equal(t->ns[CS_ST_RUNNING], 1 * MS);
	assert_int_equal(t->ns[CS_ST_SLEEP], 1 * MS);
	assert_int_equal(t->nivcsw, 0);
	assert_int_equal(t->nvcsw, 1);
	assert_int_equal(cs_core_duration(c), 2 * MS);
	cs_core_free(&c);
}

/* Emit into a core through the reorder buffer. */
static void to_core(const struct cs_hdr *ev, void *ctx)
{
	cs_core_feed(ctx, ev);
}

static void reordered_events_across_cpus(void **st)
{
	struct cs_switch s[6];
	struct cs_core *a = tracking(40), *b = tracking(40);
	struct cs_reorder r;
	struct cs_mark m;
	unsigned int i;
	static const unsigned int arrival[] = { 1, 0, 3, 2, 5, 4 };

	(void)st;
	hdr(&m.h, CS_EV_MARK, sizeof(m), 0, 0xffff, 40, 40);
	m.h.aux = CS_MARK_WINDOW_BEGIN;
	/* two threads ping-ponging on two CPUs, a few us apart */
	s[0] = mk_switch(1000, 0, 0, 0, 0, 0, 41, 40);
	s[1] = mk_switch(1500, 1, 0, 0, 0, 0, 42, 40);
	s[2] = mk_switch(900000, 0, 41, 40, 1, 0, 0, 0);
	s[3] = mk_switch(900400, 1, 42, 40, 0, 1, 43, 43);
	s[4] = mk_switch(2000000, 0, 0, 0, 0, 0, 41, 40);
	s[5] = mk_switch(2000100, 1, 43, 43, 0, 1, 42, 40);
	cs_core_feed(a, &m.h);
	for (i = 0; i < 6; i++)
		cs_core_feed(a, &s[i].h);
	cs_core_finish(a, 3000000);

	assert_int_equal(cs_reorder_init(&r, 16, 2000000, to_core, b), 0);
	cs_reorder_push(&r, &m.h);
	for (i = 0; i < 6; i++)
		cs_reorder_push(&r, &s[arrival[i]].h);
	cs_reorder_flush(&r);
	cs_core_finish(b, 3000000);
	assert_int_equal(cs_core_stats(b)->late_events, 0);
	for (i = 41; i <= 42; i++) {
		const struct cs_thread *x = th(a, i), *y = th(b, i);

		assert_memory_equal(x->ns, y->ns, sizeof(x->ns));
		assert_int_equal(x->nvcsw, y->nvcsw);
		assert_int_equal(x->nivcsw, y->nivcsw);
	}
	assert_int_equal(r.forced, 0);
	cs_reorder_free(&r);
	cs_core_free(&a);
	cs_core_free(&b);
}

static void full_reorder_buffer_releases_the_oldest(void **st)
{
	struct cs_core *c = tracking(1);
	struct cs_reorder r;
	struct cs_lost l;
	unsigned int i;

	(void)st;
	assert_int_equal(cs_reorder_init(&r, 4, 1000 * MS, to_core, c), 0);
	hdr(&l.h, CS_EV_LOST, sizeof(l), 0, 0, 0, 0);
	l.count = 1;
	for (i = 0; i < 10; i++) {
		l.h.ts = i;
		cs_reorder_push(&r, &l.h);
	}
	assert_int_equal(r.forced, 6);
	assert_int_equal(cs_core_stats(c)->events, 6);
	cs_reorder_flush(&r);
	assert_int_equal(cs_core_stats(c)->events, 10);
	cs_reorder_free(&r);
	cs_core_free(&c);
}

static void timeline_merges_and_keeps_totals(void **st)
{
	struct cs_core *c = tracking(8);
	const struct cs_thread *t;
	uint64_t ts, sum[CS_NACC] = { 0 };
	unsigned int b, s;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 8);
	/* 10 s of 3 ms running / 7 ms sleeping: far beyond 256 x 1 ms */
	for (ts = 0; ts < 10000 * MS; ts += 10 * MS) {
		wake(c, ts, 0, 8, 8, 0);
		sw(c, ts, 0, 0, 0, 0, 0, 8, 8);
		sw(c, ts + 3 * MS, 0, 8, 8, 1, 0, 0, 0);
	}
	cs_core_finish(c, 10000 * MS);
	t = th(c, 8);
	assert_true(cs_core_tl_width(c) * CS_TL_BUCKETS >= 10000 * MS);
	for (b = 0; b < CS_TL_BUCKETS; b++)
		for (s = 0; s < CS_NACC; s++)
			sum[s] += t->tl[b * CS_NACC + s];
	assert_memory_equal(sum, t->ns, sizeof(sum));
	assert_int_equal(t->ns[CS_ST_RUNNING], 3000 * MS);
	assert_int_equal(t->ns[CS_ST_SLEEP], 7000 * MS);
	assert_int_equal(t->nvcsw, 1000);
	assert_int_equal(t->wakeups, 1000);
	cs_core_free(&c);
}

/* A thread woken onto a CPU not seen yet, then switched in elsewhere:
 * entering that CPU's run queue grows the CPU array under the switch. */
static void run_queue_on_an_unseen_cpu(void **st)
{
	struct cs_core *c = tracking(100);

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 100);
	info(c, 0, 101, 100, 'S', 0);
	wake(c, 500000, 0, 101, 100, 3);
	sw(c, 1 * MS, 0, 0, 0, 0, 0, 101, 100);
	sw(c, 2 * MS, 0, 101, 100, 0, 1, 0, 0);
	cs_core_finish(c, 3 * MS);
	assert_int_equal(th(c, 101)->ns[CS_ST_READY], 1500000);
	assert_int_equal(th(c, 101)->ns[CS_ST_RUNNING], 1 * MS);
	assert_true(cs_core_ncpus(c) >= 4);
	cs_core_free(&c);
}

/* Found by the fuzzer: an absurd timestamp made the timeline's width overflow and spin. */
static void huge_timestamps_do_not_hang_the_timeline(void **st)
{
	struct cs_core *c = tracking(5);
	const struct cs_thread *t;

	(void)st;
	mark(c, 1, CS_MARK_WINDOW_BEGIN, 5);
	sw(c, 1, 0, 0, 0, 0, 0, 5, 5);
	sw(c, UINT64_MAX - 10, 0, 5, 5, 1, 0, 0, 0);
	cs_core_finish(c, UINT64_MAX - 1);
	t = th(c, 5);
	assert_int_equal(t->ns[CS_ST_RUNNING], UINT64_MAX - 11);
	cs_core_free(&c);
}

static void lost_events_are_counted(void **st)
{
	struct cs_core *c = tracking(1);
	struct cs_lost l;

	(void)st;
	hdr(&l.h, CS_EV_LOST, sizeof(l), 5, 1, 0, 0);
	l.count = 17;
	cs_core_feed(c, &l.h);
	cs_core_feed(c, &l.h);
	cs_core_finish(c, 10);
	assert_int_equal(cs_core_stats(c)->lost_events, 34);
	cs_core_free(&c);
}

/*
 * Tasks outside the target that held a CPU a thread waited for: one entry a
 * process, named after its thread that held the CPU last; past 1,024 of
 * them the last entry takes the rest.
 */
static void others_are_kept_per_process(void **st)
{
	struct cs_core *c = tracking(1);
	const struct cs_other *o;
	uint64_t ts = 1 * MS, sum = 0;
	uint32_t k, prev = 1;
	size_t i, n;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 1);
	sw(c, 0, 0, 0, 0, 0, 0, 1, 1);
	for (k = 0; k < 1100; k++, ts += MS) { /* 1 waits while 2000, 2001, ... run */
		sw(c, ts, 0, prev, prev, 0, 1, 2000 + k, 2000 + k);
		prev = 2000 + k;
	}
	sw(c, ts, 0, prev, prev, 0, 1, 5000, 2000); /* another thread of 2000 */
	sw(c, ts + MS, 0, 5000, 2000, 0, 1, 1, 1);
	cs_core_finish(c, ts + 2 * MS);
	assert_int_equal(th(c, 1)->ready_other_ns, 1101 * MS);
	n = cs_core_others(c, &o);
	assert_int_equal(n, 1024);
	assert_int_equal(o[0].pid, 2000);
	assert_int_equal(o[0].ns, 2 * MS);
	assert_string_equal(o[0].comm, "task5000");
	assert_int_equal(o[1].pid, 2001);
	assert_int_equal(o[1].ns, 1 * MS);
	assert_string_equal(o[1].comm, "task2001");
	assert_int_equal(o[1023].pid, 3023);
	assert_int_equal(o[1023].ns, 77 * MS); /* 3023 to 3099 */
	assert_string_equal(o[1023].comm, "task3023");
	for (i = 0; i < n; i++)
		sum += o[i].ns;
	assert_int_equal(sum, 1101 * MS);
	cs_core_free(&c);
}

static void wake_source_ev(struct cs_core *c, uint32_t id, const char *name)
{
	struct cs_wake_source e;

	hdr(&e.h, CS_EV_WAKE_SOURCE, sizeof(e), 1, 0, 0, 0);
	e.id = id;
	snprintf(e.name, sizeof(e.name), "%s", name);
	cs_core_feed(c, &e.h);
}

/* Interrupt wake-up sources: the first name of an id stays; one name, one source. */
static void wake_sources_by_id_and_name(void **st)
{
	struct cs_core *c = tracking(1);
	uint32_t id;

	(void)st;
	for (id = 100; id < 5000; id++) /* 4,096 kept, the rest dropped */
		wake_source_ev(c, id, id % 2 ? "irq: odd" : "timer");
	wake_source_ev(c, 100, "renamed");
	assert_string_equal(cs_core_wake_source(c, 100), "timer");
	assert_string_equal(cs_core_wake_source(c, 101), "irq: odd");
	assert_int_equal(cs_core_wake_source_id(c, 100), 100);
	assert_int_equal(cs_core_wake_source_id(c, 101), 101);
	assert_int_equal(cs_core_wake_source_id(c, 4195), 101);
	assert_int_equal(cs_core_wake_source_id(c, 4194), 100);
	assert_null(cs_core_wake_source(c, 4196));
	assert_int_equal(cs_core_wake_source_id(c, 4196), 4196);
	assert_null(cs_core_wake_source(c, 7));
	assert_int_equal(cs_core_wake_source_id(c, 7), 7);
	cs_core_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(preemption_vs_voluntary),
		cmocka_unit_test(wakeup_ready_running_latency),
		cmocka_unit_test(ready_from_the_waking),
		cmocka_unit_test(a_wake_up_before_the_switch_out_leaves_it_blocked),
		cmocka_unit_test(a_wake_up_stamped_after_the_switch_out_ends_the_block),
		cmocka_unit_test(the_tracers_verdict_on_a_wake_up),
		cmocka_unit_test(a_chain_break_is_untraced_time),
		cmocka_unit_test(the_first_event_tells_the_state_before_it),
		cmocka_unit_test(the_kernel_sides_totals_are_shown),
		cmocka_unit_test(uninterruptible_is_io_but_idle_is_sleep),
		cmocka_unit_test(migration_moves_the_wait),
		cmocka_unit_test(thread_exit_stops_accounting),
		cmocka_unit_test(untracked_tasks_are_ignored),
		cmocka_unit_test(fork_tracks_the_child),
		cmocka_unit_test(first_seen_mid_interval),
		cmocka_unit_test(window_clips_time_and_switches),
		cmocka_unit_test(reordered_events_across_cpus),
		cmocka_unit_test(full_reorder_buffer_releases_the_oldest),
		cmocka_unit_test(timeline_merges_and_keeps_totals),
		cmocka_unit_test(run_queue_on_an_unseen_cpu),
		cmocka_unit_test(lost_events_are_counted),
		cmocka_unit_test(others_are_kept_per_process),
		cmocka_unit_test(wake_sources_by_id_and_name),
		cmocka_unit_test(huge_timestamps_do_not_hang_the_timeline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
