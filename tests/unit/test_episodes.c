/* Unit tests: an event loop's turns and episodes (episodes.c) on synthetic streams. */
#include <stdio.h>
#include <stdlib.h>
#include "stream.h"

#define EPOLL_WAIT 232
#define NANOSLEEP 230
#define READ 0

/* Thread 1 switches out at ts, blocked (S) in system call nr. */
static void block_in(struct cs_core *c, uint64_t ts, int nr)
{
	struct cs_switch e = mk_switch(ts, 0, 1, 1, 1, 0, 0, 0);

	e.syscall = (int16_t)nr;
	stream_cur[0] = 0;
	cs_core_feed(c, &e.h);
}

/* Woken at ts, it runs at ts + lat. */
static void resume(struct cs_core *c, uint64_t ts, uint64_t lat)
{
	wake(c, ts, 0, 1, 1, 0);
	sw(c, ts + lat, 0, 0, 0, 0, 0, 1, 1);
}

static const struct cs_loop *loop_of(struct cs_core *c)
{
	const struct cs_thread *t = cs_core_find(c, 1);

	assert_non_null(t);
	assert_non_null(t->loop);
	return t->loop;
}

/*
 * Turns of 1 ms between epoll waits, and three long ones: a 50 ms sleep, a
 * 30 ms stretch of running, a 20 ms read that waited 5 ms for a CPU after it.
 */
static void long_turns_are_episodes(void **st)
{
	struct cs_core *c = tracking(1);
	const struct cs_loop *lp;
	uint64_t ts = 0;
	int i;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 1);
	sw(c, 0, 0, 0, 0, 0, 0, 1, 1);
	for (i = 0; i < 10; i++) {
		block_in(c, ts + 1 * MS, EPOLL_WAIT);
		resume(c, ts + 2 * MS, 0);
		ts += 2 * MS;
	}
	/* 20 ms: a turn that sleeps 50 ms */
	block_in(c, ts + 1 * MS, NANOSLEEP);
	resume(c, ts + 51 * MS, 0);
	block_in(c, ts + 52 * MS, EPOLL_WAIT);    /* episode 1: 20..72, 52 ms */
	resume(c, ts + 53 * MS, 0);
	block_in(c, ts + 83 * MS, EPOLL_WAIT);    /* episode 2: 73..103, 30 ms running */
	resume(c, ts + 84 * MS, 0);
	block_in(c, ts + 85 * MS, READ);
	resume(c, ts + 105 * MS, 5 * MS);         /* episode 3: 104..111 */
	block_in(c, ts + 111 * MS, EPOLL_WAIT);
	resume(c, ts + 112 * MS, 0);
	block_in(c, ts + 113 * MS, EPOLL_WAIT);   /* 1 ms: not an episode */
	cs_core_finish(c, ts + 120 * MS);
	lp = loop_of(c);
	assert_int_equal(lp->episodes, 3);
	assert_int_equal(lp->top[0].dur, 52 * MS);
	assert_int_equal(lp->top[0].call, NANOSLEEP);
	assert_int_equal(lp->top[0].call_ns, 50 * MS);
	assert_int_equal(lp->top[0].ns[CS_ST_RUNNING], 2 * MS);
	assert_int_equal(lp->top[1].dur, 30 * MS);
	assert_int_equal(lp->top[1].call, -1);
	assert_int_equal(lp->top[1].ns[CS_ST_RUNNING], 30 * MS);
	assert_int_equal(lp->top[2].dur, 27 * MS);
	assert_int_equal(lp->top[2].call, READ);
	assert_int_equal(lp->top[2].ns[CS_ST_READY], 5 * MS);
	assert_int_equal(lp->top[2].start, ts + 84 * MS);
	assert_int_equal(lp->episode_ns, (52 + 30 + 27) * MS);
	assert_int_equal(lp->waits, 10 + 4);
	cs_core_free(&c);
}

/* A thread that never waits for events has no loop figures; the threshold is a setting. */
static void threshold_and_non_loops(void **st)
{
	struct cs_core_cfg cfg = { .loop_threshold_ns = 40 * MS };
	struct cs_core *c = cs_core_new(&cfg);

	(void)st;
	cs_core_track(c, 1);
	cs_core_track(c, 2);
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 1);
	sw(c, 0, 0, 0, 0, 0, 0, 1, 1);
	block_in(c, 1 * MS, EPOLL_WAIT);
	resume(c, 2 * MS, 0);
	block_in(c, 32 * MS, EPOLL_WAIT);        /* 30 ms: under 40 */
	resume(c, 33 * MS, 0);
	sw(c, 90 * MS, 1, 0, 0, 0, 0, 2, 2);     /* 2 runs to the end */
	cs_core_finish(c, 100 * MS);             /* 1's open turn: 33..100 */
	assert_int_equal(cs_ep_threshold(c), 40 * MS);
	assert_int_equal(loop_of(c)->episodes, 1);
	assert_true(loop_of(c)->top[0].open);
	assert_int_equal(loop_of(c)->top[0].dur, 67 * MS);
	assert_null(cs_core_find(c, 2)->loop);
	cs_core_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(long_turns_are_episodes),
		cmocka_unit_test(threshold_and_non_loops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
