/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * wl-gil.c: the threads-gil model: the threads model behind one global
 * lock, the way CPython runs threads behind its GIL.
 *
 * The lock is the pthread mutex `gil` below. A thread holds it for as long
 * as it computes, so the other threads really block on it (a futex wait on
 * the address of `gil`). A plain lock/compute/unlock loop would let the
 * holder take the lock back again and again before a sleeping waiter wakes
 * up, so the hand-off follows CPython's ceval_gil.c:
 *
 *  - a waiter waits on `gil` for at most one switch interval
 *    (pthread_mutex_timedlock); if it times out and the lock has not
 *    changed hands during that interval, it sets gil_drop_request;
 *  - the holder looks at gil_drop_request after every small compute chunk
 *    (WL_CHUNK numbers, a few microseconds); when set, it unlocks `gil` and
 *    then waits on gil_switch_cv until another thread has taken `gil`
 *    (gil_switches moved on), and only then asks for `gil` again;
 *  - around every blocking network call a thread simply releases `gil`,
 *    as CPython releases the GIL around blocking system calls.
 *
 * Every acquisition of `gil` counts as one turn of the thread.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cs-workload.h"

/* The global interpreter lock. Global on purpose: static storage, and a
 * symbol a profiler can resolve the lock's address to. */
pthread_mutex_t gil = PTHREAD_MUTEX_INITIALIZER;

/* The hand-off. gil_switches and gil_waiting are under gil_switch_mu. */
static pthread_mutex_t gil_switch_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gil_switch_cv = PTHREAD_COND_INITIALIZER;
static uint64_t gil_switches; /* acquisitions of gil so far */
static int gil_waiting;       /* threads inside gil_take() */
static atomic_int gil_drop_request;
static long gil_interval_ns;

static void check(int err, const char *what)
{
	if (err)
		wl_die("%s: %s", what, strerror(err));
}

static void gil_take(struct wl_thread *g)
{
	uint64_t seen;

	check(pthread_mutex_lock(&gil_switch_mu), "lock");
	gil_waiting++;
	seen = gil_switches;
	check(pthread_mutex_unlock(&gil_switch_mu), "unlock");

	if (pthread_mutex_trylock(&gil) != 0) {
		for (;;) {
			struct timespec dl;
			int err;

			/*
			 * timedlock (CLOCK_REALTIME) rather than clocklock: a clock
			 * step only stretches or cuts one interval, and tools such
			 * as ThreadSanitizer know timedlock.
			 */
			clock_gettime(CLOCK_REALTIME, &dl);
			dl.tv_nsec += gil_interval_ns;
			dl.tv_sec += dl.tv_nsec / 1000000000L;
			dl.tv_nsec %= 1000000000L;
			err = pthread_mutex_timedlock(&gil, &dl);
			if (err == 0)
				break;
			if (err != ETIMEDOUT)
				check(err, "gil");
			/* a whole interval without a switch: ask the holder */
			check(pthread_mutex_lock(&gil_switch_mu), "lock");
			if (gil_switches == seen)
				atomic_store(&gil_drop_request, 1);
			seen = gil_switches;
			check(pthread_mutex_unlock(&gil_switch_mu), "unlock");
		}
	}

	/* we own gil: record the switch, wake a holder waiting for it */
	check(pthread_mutex_lock(&gil_switch_mu), "lock");
	gil_waiting--;
	gil_switches++;
	atomic_store(&gil_drop_request, 0);
	check(pthread_cond_broadcast(&gil_switch_cv), "broadcast");
	check(pthread_mutex_unlock(&gil_switch_mu), "unlock");
	g->turns++;
}

static void gil_release(void)
{
	check(pthread_mutex_unlock(&gil), "gil unlock");
}

/* Asked to drop: let go, wait until someone else got it, queue up again */
static void gil_yield(struct wl_thread *g)
{
	uint64_t mine;

	check(pthread_mutex_lock(&gil_switch_mu), "lock");
	mine = gil_switches; /* stable: only a gil holder changes it */
	check(pthread_mutex_unlock(&gil_switch_mu), "unlock");

	gil_release();

	check(pthread_mutex_lock(&gil_switch_mu), "lock");
	while (gil_switches == mine && gil_waiting > 0)
		check(pthread_cond_wait(&gil_switch_cv, &gil_switch_mu), "wait");
	check(pthread_mutex_unlock(&gil_switch_mu), "unlock");

	gil_take(g);
}

static void gil_tick(void *arg)
{
	if (atomic_load_explicit(&gil_drop_request, memory_order_relaxed))
		gil_yield(arg);
}

static void gil_io_begin(void *arg)
{
	(void)arg;
	gil_release();
}

static void gil_io_end(void *arg)
{
	gil_take(arg);
}

static void *gil_thread_main(void *p)
{
	struct wl_thread *g = p;
	struct wl_hooks h = {
		.compute_tick = gil_tick,
		.io_begin = gil_io_begin,
		.io_end = gil_io_end,
		.arg = g,
	};

	gil_take(g);
	wl_run_task_blocking(g->cfg, &g->task, &h, g->part);
	gil_release();
	return NULL;
}

int wl_model_threads_gil(const struct wl_config *cfg, struct wl_part *parts,
			 uint64_t *turns)
{
	gil_interval_ns = cfg->switch_interval_us * 1000L;
	return wl_run_threads(cfg, parts, gil_thread_main, turns);
}
