/* Unit tests: futex waits and kernel lock contention on synthetic streams. */
#include <stdlib.h>
#include "stream.h"
#include "core_priv.h" /* one test checks that no futex wait is left open */

#define NR_FUTEX 202
#define WAIT_PRIVATE 128
#define WAKE_PRIVATE 129
#define WAIT_BITSET_RT 265
#define LOCK_ADDR 0x5000
#define COND_ADDR 0x6000

static const struct cs_lockstat *lock_at(struct cs_core *c, uint64_t addr)
{
	size_t i;

	for (i = 0; i < cs_core_nlocks(c); i++)
		if (cs_core_lock(c, i)->addr == addr)
			return cs_core_lock(c, i);
	fail_msg("no lock at 0x%llx", (unsigned long long)addr);
	return NULL;
}

/* Threads 2 and 3 of process 1 on CPU 0; 2 waits on a mutex that 3 releases. */
static struct cs_core *mutex_wait(int64_t ret)
{
	struct cs_core *c = tracking(1);

	mark(c, 0, CS_MARK_WINDOW_BEGIN, 1);
	sw(c, 0, 0, 0, 0, 0, 0, 2, 1);
	fx_enter(c, 1 * MS, 2, 1, NR_FUTEX, LOCK_ADDR, WAIT_PRIVATE, 2);
	sw(c, 1 * MS, 0, 2, 1, 1, 0, 3, 1);        /* 2 blocks, 3 runs */
	fx_enter(c, 5 * MS, 3, 1, NR_FUTEX, LOCK_ADDR, WAKE_PRIVATE, 1);
	wake(c, 5 * MS, 0, 2, 1, 0);              /* 3 wakes 2 */
	fx_exit(c, 5 * MS, 3, 1, NR_FUTEX, 1);
	sw(c, 6 * MS, 0, 3, 1, 0, 1, 2, 1);
	fx_exit(c, 6 * MS, 2, 1, NR_FUTEX, ret);
	cs_core_finish(c, 8 * MS);
	return c;
}

static void a_blocked_mutex_wait_is_lock_time_released_by_the_waker(void **st)
{
	struct cs_core *c = mutex_wait(0);
	const struct cs_thread *t = cs_core_find(c, 2);
	const struct cs_lockstat *l = lock_at(c, LOCK_ADDR);

	(void)st;
	assert_int_equal(t->ns[CS_ST_LOCK], 4 * MS);
	assert_int_equal(t->ns[CS_ST_SLEEP], 0);
	assert_int_equal(l->kind, CS_LK_MUTEX);
	assert_int_equal(l->space, CS_SPACE_USER);
	assert_int_equal(l->waits, 1);
	assert_int_equal(l->wait_ns, 5 * MS);    /* asked at 1 ms, got it at 6 ms */
	assert_int_equal(l->nwaiters, 1);
	assert_int_equal(l->waiters[0], 2);
	assert_int_equal(l->releasers.e[0].key, 3);
	assert_int_equal(t->lockwaits.e[0].ns, 5 * MS);
	/* found by address, process and space: a user lock is its process's */
	assert_ptr_equal(cs_core_find_lock(c, LOCK_ADDR, 1, CS_SPACE_USER), l);
	assert_null(cs_core_find_lock(c, LOCK_ADDR, 7, CS_SPACE_USER));
	assert_null(cs_core_find_lock(c, LOCK_ADDR, 1, CS_SPACE_KERNEL));
	assert_null(cs_core_find_lock(c, LOCK_ADDR + 8, 1, CS_SPACE_USER));
	cs_core_free(&c);
}

static void timed_out_and_interrupted_waits_count_in_full(void **st)
{
	struct cs_core *c = mutex_wait(-110);
	const struct cs_lockstat *l = lock_at(c, LOCK_ADDR);

	(void)st;
	assert_int_equal(l->waits, 1);
	assert_int_equal(l->wait_ns, 5 * MS);
	assert_int_equal(l->releasers.e[0].key, CS_REL_TIMEOUT);
	cs_core_free(&c);
	c = mutex_wait(-4);
	l = lock_at(c, LOCK_ADDR);
	assert_int_equal(l->releasers.e[0].key, CS_REL_SIGNAL);
	cs_core_free(&c);
	/* at sys_exit a signal shows as a restart code (EINTR comes later) */
	c = mutex_wait(-516); /* ERESTART_RESTARTBLOCK: a timed wait */
	l = lock_at(c, LOCK_ADDR);
	assert_int_equal(l->releasers.e[0].key, CS_REL_SIGNAL);
	cs_core_free(&c);
	c = mutex_wait(-512); /* ERESTARTSYS */
	l = lock_at(c, LOCK_ADDR);
	assert_int_equal(l->releasers.e[0].key, CS_REL_SIGNAL);
	cs_core_free(&c);
}

static void a_return_without_blocking_is_an_attempt(void **st)
{
	struct cs_core *c = tracking(1);
	const struct cs_lockstat *l;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 1);
	sw(c, 0, 0, 0, 0, 0, 0, 2, 1);
	fx_enter(c, 1 * MS, 2, 1, NR_FUTEX, LOCK_ADDR, WAIT_PRIVATE, 2);
	fx_exit(c, 1 * MS + 500, 2, 1, NR_FUTEX, -11); /* EAGAIN: value changed */
	cs_core_finish(c, 2 * MS);
	l = lock_at(c, LOCK_ADDR);
	assert_int_equal(l->waits, 0);
	assert_int_equal(l->attempts, 1);
	assert_int_equal(cs_core_find(c, 2)->ns[CS_ST_LOCK], 0);
	cs_core_free(&c);
}

static void a_never_ended_wait_is_counted_to_the_end(void **st)
{
	struct cs_core *c = tracking(1);
	const struct cs_lockstat *l;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 1);
	sw(c, 0, 0, 0, 0, 0, 0, 2, 1);
	fx_enter(c, 1 * MS, 2, 1, NR_FUTEX, COND_ADDR, WAIT_PRIVATE, 7);
	sw(c, 1 * MS, 0, 2, 1, 1, 0, 0, 0);
	cs_core_finish(c, 10 * MS);
	l = lock_at(c, COND_ADDR);
	assert_int_equal(l->kind, CS_LK_COND);
	assert_false(l->contended);
	assert_int_equal(l->waits, 1);
	assert_int_equal(l->wait_ns, 9 * MS);
	assert_int_equal(l->releasers.e[0].key, CS_REL_UNFINISHED);
	/* waiting on a condition is waiting for work: sleeping, not contention */
	assert_int_equal(cs_core_find(c, 2)->ns[CS_ST_LOCK], 0);
	assert_int_equal(cs_core_find(c, 2)->ns[CS_ST_SLEEP], 9 * MS);
	cs_core_free(&c);
}

static void a_join_is_sleep_released_by_the_exiting_thread(void **st)
{
	struct cs_core *c = tracking(1);
	const struct cs_lockstat *l;
	const struct cs_thread *t;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 1);
	sw(c, 0, 1, 0, 0, 0, 0, 2, 1);             /* thread 2 runs on CPU 1 */
	sw(c, 0, 0, 0, 0, 0, 0, 1, 1);             /* main thread on CPU 0 */
	fx_enter(c, 1 * MS, 1, 1, NR_FUTEX, 0x7000, WAIT_BITSET_RT, 2); /* val = tid 2 */
	sw(c, 1 * MS, 0, 1, 1, 1, 0, 0, 0);
	{
		struct cs_waking w;

		hdr(&w.h, CS_EV_WAKING, sizeof(w), 5 * MS, 1, 1, 1);
		w.h.aux = 0;
		w.waker_tid = 2; /* the exiting thread, on CPU 1 */
		cs_core_feed(c, &w.h);
	}
	sw(c, 5 * MS, 0, 0, 0, 0, 0, 1, 1);
	fx_exit(c, 5 * MS, 1, 1, NR_FUTEX, 0);
	cs_core_finish(c, 6 * MS);
	t = cs_core_find(c, 1);
	assert_int_equal(t->ns[CS_ST_SLEEP], 4 * MS);
	assert_int_equal(t->ns[CS_ST_LOCK], 0);
	l = lock_at(c, 0x7000);
	assert_int_equal(l->kind, CS_LK_JOIN);
	assert_int_equal(l->releasers.e[0].key, 2);
	cs_core_free(&c);
}

static void nested_kernel_locks(void **st)
{
	struct cs_core *c = tracking(1);
	const struct cs_lockstat *outer, *inner;
	const struct cs_thread *t;

	(void)st;
	mark(c, 0, CS_MARK_WINDOW_BEGIN, 1);
	sw(c, 0, 0, 0, 0, 0, 0, 2, 1);
	lock_name(c, 0, 1, CS_SPACE_KERNEL, 0xA000, "mmap_lock in do_user_addr_fault");
	klock(c, 1 * MS, CS_EV_LOCK_BEGIN, 2, 1, 0xA000, 1u << 2, 0);   /* rwsem write */
	klock(c, 1 * MS, CS_EV_LOCK_BEGIN, 2, 1, 0xB000, 1u << 0, 0);   /* its spinlock */
	klock(c, 1 * MS + 2000, CS_EV_LOCK_END, 2, 1, 0xB000, 0, 0);
	sw(c, 2 * MS, 0, 2, 1, 2, 0, 3, 1);                             /* sleeps in D */
	wake(c, 7 * MS, 0, 2, 1, 0);
	sw(c, 7 * MS, 0, 3, 1, 0, 1, 2, 1);
	klock(c, 8 * MS, CS_EV_LOCK_END, 2, 1, 0xA000, 0, 0);
	cs_core_finish(c, 9 * MS);
	t = cs_core_find(c, 2);
	assert_int_equal(t->ns[CS_ST_LOCK], 5 * MS);     /* not io: a lock */
	assert_int_equal(t->ns[CS_ST_IO], 0);
	inner = lock_at(c, 0xB000);
	outer = lock_at(c, 0xA000);
	assert_int_equal(inner->kind, CS_LK_SPIN);
	assert_int_equal(inner->wait_ns, 2000);
	assert_int_equal(inner->releasers.e[0].key, CS_REL_SPUN);
	assert_int_equal(outer->kind, CS_LK_RWSEM_W);
	assert_string_equal(outer->name, "mmap_lock in do_user_addr_fault");
	assert_int_equal(outer->wait_ns, 7 * MS);
	assert_int_equal(outer->releasers.e[0].key, 3);
	assert_int_equal(outer->space, CS_SPACE_KERNEL);
	/* a kernel lock is the same lock whichever process waits for it */
	assert_ptr_equal(cs_core_find_lock(c, 0xA000, 1, CS_SPACE_KERNEL), outer);
	assert_ptr_equal(cs_core_find_lock(c, 0xA000, 9, CS_SPACE_KERNEL), outer);
	assert_null(cs_core_find_lock(c, 0xA000, 1, CS_SPACE_USER));
	cs_core_free(&c);
}

/* The live tracer reads a futex wait at the switch that blocks it; the wait
 * ends when the thread runs again, released by what the waker was doing. */
static struct cs_core *switch_wait(unsigned int waker_flags, int timed)
{
	struct cs_core *c = tracking(1);
	struct cs_futex fx;
	struct cs_waking w;

	mark(c, 0, CS_MARK_WINDOW_BEGIN, 1);
	sw(c, 0, 0, 0, 0, 0, 0, 2, 1);
	hdr(&fx.h, CS_EV_FUTEX_ENTER, sizeof(fx), 1 * MS, 0, 2, 1);
	fx.h.aux = NR_FUTEX;
	fx.h.flags = CS_FXF_AT_SWITCH;
	fx.uaddr = LOCK_ADDR;
	fx.op = WAIT_PRIVATE;
	fx.val = 2;
	fx.timed = (uint32_t)timed;
	cs_core_feed(c, &fx.h);
	sw(c, 1 * MS, 0, 2, 1, 1, 0, 3, 1);          /* 2 blocks; 3 runs */
	hdr(&w.h, CS_EV_WAKING, sizeof(w), 4 * MS, 0, 2, 1);
	w.h.flags = (uint8_t)waker_flags;
	w.waker_tid = 3;
	cs_core_feed(c, &w.h);                       /* 3 wakes 2 */
	sw(c, 5 * MS, 0, 3, 1, 1, 0, 2, 1);          /* 2 runs again: the wait ends */
	cs_core_finish(c, 6 * MS);
	return c;
}

static void waits_read_at_the_switch(void **st)
{
	struct cs_core *c = switch_wait(CS_WKF_WAKER_FUTEX, 0);
	const struct cs_lockstat *l = lock_at(c, LOCK_ADDR);
	const struct cs_thread *t = cs_core_find(c, 2);

	(void)st;
	assert_int_equal(l->kind, CS_LK_MUTEX);
	assert_int_equal(l->waits, 1);
	assert_int_equal(l->wait_ns, 4 * MS);        /* blocked 3 ms + ready 1 ms */
	assert_int_equal(l->releasers.e[0].key, 3);
	assert_int_equal(t->ns[CS_ST_LOCK], 3 * MS);
	assert_false(cs_thread_priv_of(t)->in_futex);
	cs_core_free(&c);
	/* a timed wait woken by someone not releasing a futex timed out */
	c = switch_wait(0, 1);
	assert_int_equal(lock_at(c, LOCK_ADDR)->releasers.e[0].key, CS_REL_TIMEOUT);
	cs_core_free(&c);
	/* an untimed one woken that way: something else (a signal) */
	c = switch_wait(0, 0);
	assert_int_equal(lock_at(c, LOCK_ADDR)->releasers.e[0].key, CS_REL_UNKNOWN);
	cs_core_free(&c);
	/* a waker that is exiting released it (a join) */
	c = switch_wait(CS_WKF_WAKER_EXITING, 0);
	assert_int_equal(lock_at(c, LOCK_ADDR)->releasers.e[0].key, 3);
	cs_core_free(&c);
}

static void kinds(void **st)
{
	(void)st;
	assert_true(cs_futex_is_wait(202, 128));
	assert_true(cs_futex_is_wait(202, 265));
	assert_true(cs_futex_is_wait(202, 6 | 128));       /* LOCK_PI */
	assert_false(cs_futex_is_wait(202, 129));          /* WAKE */
	assert_true(cs_futex_is_wait(455, 0));             /* futex_wait */
	assert_false(cs_futex_is_wait(454, 0));            /* futex_wake */
	assert_int_equal(cs_futex_kind(202, 128, 2, false), CS_LK_MUTEX);
	assert_int_equal(cs_futex_kind(202, 128, 1, false), CS_LK_COND);
	assert_int_equal(cs_futex_kind(202, 6, 0, false), CS_LK_MUTEX);
	assert_int_equal(cs_futex_kind(202, 265, 1234, true), CS_LK_JOIN);
	assert_int_equal(cs_futex_kind(202, 393, 0, false), CS_LK_COND); /* cond var */
	assert_int_equal(cs_kernel_lock_kind(1), CS_LK_SPIN);
	assert_int_equal(cs_kernel_lock_kind(1 | 2), CS_LK_RWLOCK_R);
	assert_int_equal(cs_kernel_lock_kind(2), CS_LK_RWSEM_R);
	assert_int_equal(cs_kernel_lock_kind(4), CS_LK_RWSEM_W);
	assert_int_equal(cs_kernel_lock_kind(32), CS_LK_KMUTEX);
	assert_int_equal(cs_kernel_lock_kind(32 | 8), CS_LK_RTMUTEX);
	assert_int_equal(cs_kernel_lock_kind(16 | 2), CS_LK_PERCPU_RWSEM);
	assert_string_equal(cs_lock_kind_name(CS_LK_COND), "condition/other");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_blocked_mutex_wait_is_lock_time_released_by_the_waker),
		cmocka_unit_test(timed_out_and_interrupted_waits_count_in_full),
		cmocka_unit_test(a_return_without_blocking_is_an_attempt),
		cmocka_unit_test(a_never_ended_wait_is_counted_to_the_end),
		cmocka_unit_test(a_join_is_sleep_released_by_the_exiting_thread),
		cmocka_unit_test(nested_kernel_locks),
		cmocka_unit_test(waits_read_at_the_switch),
		cmocka_unit_test(kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
