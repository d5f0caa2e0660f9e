// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * test_bitmap.c: setting a tracked bit never undoes the kernel's own
 * concurrent updates of the same word.
 *
 * A second thread plays the kernel: it sets and clears its own bits of the
 * word with atomic operations (as fork and exit do in BPF) and checks each
 * time that its bit is still there. The harness is first run against a
 * read-modify-write (what user space used to do through the map's system
 * calls), to show it catches a lost update, then against cs_bitmap_set().
 */
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <time.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "bitmap.h"

#define ROUNDS 2000000

static uint64_t word;
static volatile int stop, started;
static volatile uint64_t lost;

static void *kernel(void *arg)
{
	uint32_t bit = 32;

	(void)arg;
	started = 1;
	while (!stop) {
		__atomic_fetch_or(&word, 1ull << bit, __ATOMIC_SEQ_CST);
		if (!(__atomic_load_n(&word, __ATOMIC_SEQ_CST) >> bit & 1))
			lost++;
		__atomic_fetch_and(&word, ~(1ull << bit), __ATOMIC_SEQ_CST);
		bit = bit == 63 ? 32 : bit + 1;
	}
	return NULL;
}

static void rmw_set(uint64_t *w, uint32_t bit)
{
	uint64_t v = __atomic_load_n(&w[bit / 64], __ATOMIC_SEQ_CST);

	for (volatile int i = 0; i < 20; i++) /* the gap the system calls made */
		;
	__atomic_store_n(&w[bit / 64], v | 1ull << (bit % 64), __ATOMIC_SEQ_CST);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Kernel-side updates lost while user space set and cleared its bits, over
 * ROUNDS rounds or, looking for a loss, until one (a busy machine may not
 * run both threads at once for a while; 30 s at most).
 */
static uint64_t run(void (*set)(uint64_t *, uint32_t), bool until_lost)
{
	double deadline = now_s() + 30;
	pthread_t th;
	uint32_t i;

	word = 0;
	stop = 0;
	started = 0;
	lost = 0;
	assert_int_equal(pthread_create(&th, NULL, kernel, NULL), 0);
	while (!started)
		sched_yield();
	for (i = 0; !lost && (i < ROUNDS || (until_lost && (i % 4096 || now_s() < deadline)));
	     i++) {
		set(&word, i % 32);
		assert_true(cs_bitmap_test(&word, i % 32));
		__atomic_fetch_and(&word, ~(1ull << (i % 32)), __ATOMIC_SEQ_CST);
	}
	stop = 1;
	pthread_join(th, NULL);
	return lost;
}

static void test_the_harness_catches_a_read_modify_write(void **state)
{
	(void)state;
	assert_true(run(rmw_set, true) > 0);
}

static void test_set_keeps_the_kernels_bits(void **state)
{
	(void)state;
	assert_int_equal(run(cs_bitmap_set, false), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_harness_catches_a_read_modify_write),
		cmocka_unit_test(test_set_keeps_the_kernels_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
