/*
 * Unit tests: the parallelism profile (profile.c) on synthetic streams. The
 * profile is counted as threads change state and corrected when the state
 * machine settles an interval after the fact; whatever the stream, its
 * time-weighted counts must equal the threads' running and ready totals as
 * derived from the records, overall and per process.
 */
#include <stdio.h>
#include <stdlib.h>
#include "stream.h"

#define CELL(p, k, r) ((p)[CS_PROF_CELL(k, r)])

static const struct cs_thread *th_ready(struct cs_core *c, uint32_t tid)
{
	const struct cs_thread *t = cs_core_find(c, tid);

	assert_non_null(t);
	return t;
}

/* Two threads of 1 and one of 2 on two CPUs; an untracked task holds CPU 1 once. */
static void counts_running_and_ready(void **st)
{
	struct cs_core *c = tracking(1);
	const uint64_t *p;
	const struct cs_proc_profile *pp;
	const struct cs_other *o;

	(void)st;
	cs_core_track(c, 2);
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 1);
	sw(c, 0, 0, 0, 0, 0, 0, 10, 1);          /* 10 runs on CPU 0 */
	wake(c, 2 * MS, 0, 11, 1, 0);            /* 11 ready for CPU 0 (10 holds it) */
	sw(c, 3 * MS, 1, 0, 0, 0, 0, 99, 99);    /* an untracked task on CPU 1 */
	wake(c, 4 * MS, 0, 20, 2, 1);            /* 20 (process 2) ready for CPU 1 */
	sw(c, 6 * MS, 1, 99, 99, 1, 0, 20, 2);   /* 20 runs */
	sw(c, 7 * MS, 0, 10, 1, 1, 0, 11, 1);    /* 10 sleeps, 11 runs */
	sw(c, 9 * MS, 1, 20, 2, 1, 0, 0, 0);
	sw(c, 10 * MS, 0, 11, 1, 1, 0, 0, 0);
	cs_core_finish(c, 10 * MS);
	p = cs_core_profile(c, NULL);
	/* 0-2: 1 running; 2-4: 1 + 1 ready; 4-6: 1 + 2 ready; 6-7: 2 + 1 ready;
	 * 7-9: 2 running; 9-10: 1 running */
	assert_int_equal(CELL(p, 1, 0), 2 * MS + 1 * MS);
	assert_int_equal(CELL(p, 1, 1), 2 * MS);
	assert_int_equal(CELL(p, 1, 2), 2 * MS);
	assert_int_equal(CELL(p, 2, 1), 1 * MS);
	assert_int_equal(CELL(p, 2, 0), 2 * MS);
	pp = cs_core_proc_profile(c, 2);
	assert_non_null(pp);
	assert_int_equal(pp->run_ns[1], 3 * MS);
	assert_int_equal(pp->ready_ns[1], 2 * MS);
	assert_int_equal(pp->run_ns[0], 7 * MS);
	/* 20 waited 2 ms for CPU 1, held by 99, outside the target */
	assert_int_equal(th_ready(c, 20)->ready_other_ns, 2 * MS);
	assert_int_equal(th_ready(c, 11)->ready_own_ns, 5 * MS);
	assert_int_equal(cs_core_others(c, &o), 1);
	assert_int_equal(o[0].pid, 99);
	assert_int_equal(o[0].ns, 2 * MS);
	assert_string_equal(o[0].comm, "task99");
	cs_core_free(&c);
}

/* ---- random streams ---- */

static uint64_t rng;

static unsigned int rnd(unsigned int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned int)(rng % n);
}

#define NCPU 3
#define NTID 8

static uint32_t pid_of(uint32_t tid)
{
	return tid <= 4 ? 1 : tid <= 7 ? 2 : 9; /* 9: untracked */
}

static void random_switch(struct cs_core *c, uint64_t ts, uint32_t *cur)
{
	unsigned int cpu = rnd(NCPU), states[] = { 0, 1, 1, 2, 0x80 };
	uint32_t prev = rnd(10) ? cur[cpu] : 1 + rnd(NTID);  /* sometimes a chain break */
	uint32_t next = rnd(4) ? 1 + rnd(NTID) : 0;
	struct cs_switch e = mk_switch(ts, cpu, prev, prev ? pid_of(prev) : 0,
				       states[rnd(5)], rnd(3) == 0, next, next ? pid_of(next) : 0);

	if (e.prev_state == 0x80) {
		e.prev_state = 0;
		e.prev_exit_state = 16; /* EXIT_DEAD */
	}
	cur[cpu] = next;
	stream_cur[cpu] = next;
	cs_core_feed(c, &e.h);
}

static void random_wake(struct cs_core *c, uint64_t ts)
{
	struct cs_waking e;
	uint32_t tid = 1 + rnd(NTID);
	uint8_t flags[] = { 0, 0, CS_WKF_VERDICT | CS_WKF_ENDED, CS_WKF_VERDICT, CS_WKF_NEW };

	hdr(&e.h, CS_EV_WAKING, sizeof(e), ts, rnd(NCPU), tid, pid_of(tid));
	e.h.aux = (uint16_t)rnd(NCPU);
	e.h.flags = flags[rnd(5)];
	e.waker_tid = stream_cur[e.h.cpu];
	e.letter = (uint8_t)rnd(3);
	cs_core_feed(c, &e.h);
}

static void random_other(struct cs_core *c, uint64_t ts)
{
	uint32_t tid = 1 + rnd(NTID);
	struct cs_lost l;

	switch (rnd(3)) {
	case 0:
		migrate(c, ts, rnd(NCPU), tid, pid_of(tid), rnd(NCPU), rnd(NCPU));
		break;
	case 1:
		hdr(&l.h, CS_EV_LOST, sizeof(l), ts, rnd(NCPU), 0, 0);
		l.count = 1;
		l.first_ts = ts;
		cs_core_feed(c, &l.h);
		break;
	default: {
		struct cs_fork f;

		hdr(&f.h, CS_EV_FORK, sizeof(f), ts, rnd(NCPU), tid, pid_of(tid));
		f.child_tid = 1 + rnd(NTID);
		f.child_pid = pid_of(f.child_tid);
		cs_core_feed(c, &f.h);
	}
	}
}

/* The state when the window opens: /proc's view of some threads, who runs where. */
static void random_start(struct cs_core *c, uint64_t ts, uint32_t *cur)
{
	unsigned int cpu;
	uint32_t tid;

	for (tid = 1; tid <= NTID; tid++)
		if (rnd(2))
			info(c, ts, tid, pid_of(tid), "RSD"[rnd(3)], rnd(NCPU));
	for (cpu = 0; cpu < NCPU; cpu++) {
		struct cs_cpu_state e;

		if (!rnd(3))
			continue;
		cur[cpu] = rnd(3) ? 1 + rnd(NTID) : 0;
		hdr(&e.h, CS_EV_CPU_STATE, sizeof(e), ts, cpu, cur[cpu],
		    cur[cpu] ? pid_of(cur[cpu]) : 0);
		e.since = ts;
		e.known = 1;
		cs_core_feed(c, &e.h);
	}
}

static struct cs_core *random_stream(uint64_t seed, unsigned int n)
{
	struct cs_core *c = tracking(1);
	uint32_t cur[NCPU] = { 0 };
	uint64_t ts = 1 * MS, begin = 0;
	unsigned int i, r;

	rng = seed * 0x9e3779b97f4a7c15ull + 1;
	cs_core_track(c, 2);
	if (rnd(2)) { /* attach: the window opens on a running system */
		begin = ts;
		mark(c, ts, CS_MARK_WINDOW_BEGIN, 1);
		random_start(c, ts, cur);
	}
	for (i = 0; i < n; i++) {
		ts += rnd(4) ? rnd(3 * MS) : 0;
		if (!begin && i == n / 8) {
			begin = ts;
			mark(c, ts, CS_MARK_WINDOW_BEGIN, 1);
		}
		r = rnd(10);
		if (r < 5)
			random_switch(c, ts, cur);
		else if (r < 9)
			random_wake(c, ts);
		else
			random_other(c, ts);
	}
	cs_core_finish(c, ts + rnd(5 * MS));
	return c;
}

/* Time-weighted counts equal the totals derived from the records. */
static void check_sums(struct cs_core *c, uint64_t seed)
{
	const uint64_t *p = cs_core_profile(c, NULL);
	uint64_t dur = cs_core_duration(c), sum = 0, run = 0, ready = 0, trun = 0, tready = 0;
	unsigned int k, r;
	size_t i;

	for (k = 0; k <= CS_PROF_RUN; k++)
		for (r = 0; r <= CS_PROF_READY; r++) {
			sum += CELL(p, k, r);
			run += k * CELL(p, k, r);
			ready += r * CELL(p, k, r);
		}
	for (i = 0; i < cs_core_nthreads(c); i++) {
		trun += cs_core_thread(c, i)->events.ns[CS_ST_RUNNING];
		tready += cs_core_thread(c, i)->events.ns[CS_ST_READY];
	}
	if (sum != dur || run != trun || ready != tready)
		fail_msg("seed %llu: window %llu vs %llu, running %llu vs %llu, ready %llu vs %llu",
			 (unsigned long long)seed, (unsigned long long)sum,
			 (unsigned long long)dur, (unsigned long long)run,
			 (unsigned long long)trun, (unsigned long long)ready,
			 (unsigned long long)tready);
}

/* Per process likewise. */
static void check_process(struct cs_core *c, uint32_t pid, uint64_t seed)
{
	const struct cs_proc_profile *pp = cs_core_proc_profile(c, pid);
	uint64_t run = 0, ready = 0, trun = 0, tready = 0, sum = 0;
	unsigned int k;
	size_t i;

	for (i = 0; i < cs_core_nthreads(c); i++) {
		const struct cs_thread *t = cs_core_thread(c, i);

		if (t->pid != pid)
			continue;
		trun += t->events.ns[CS_ST_RUNNING];
		tready += t->events.ns[CS_ST_READY];
	}
	if (!pp) {
		assert_int_equal(trun + tready, 0);
		return;
	}
	for (k = 0; k <= CS_PROF_RUN; k++) {
		run += k * pp->run_ns[k];
		sum += pp->run_ns[k];
	}
	for (k = 0; k <= CS_PROF_READY; k++)
		ready += k * pp->ready_ns[k];
	if (sum != cs_core_duration(c) || run != trun || ready != tready)
		fail_msg("seed %llu pid %u: window %llu, running %llu vs %llu, ready %llu vs %llu",
			 (unsigned long long)seed, pid, (unsigned long long)sum,
			 (unsigned long long)run, (unsigned long long)trun,
			 (unsigned long long)ready, (unsigned long long)tready);
}

static void random_streams_keep_the_sums(void **st)
{
	uint64_t seed;

	(void)st;
	for (seed = 1; seed <= 3000; seed++) {
		struct cs_core *c = random_stream(seed, 20 + (unsigned int)(seed % 400));

		check_sums(c, seed);
		check_process(c, 1, seed);
		check_process(c, 2, seed);
		cs_core_free(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counts_running_and_ready),
		cmocka_unit_test(random_streams_keep_the_sums),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
