// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * stackhot: N threads contend on one mutex, taken in a function of this
 * program's own (take_hot, called by contend_loop), built without frame
 * pointers (-O2 -fomit-frame-pointer): the stacks of its lock waits can only
 * be unwound from .eh_frame. Usage: stackhot [threads] [rounds]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "snap.h"

static pthread_mutex_t hot_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long sink;

static unsigned long spin(unsigned long x, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	return x;
}

/* Work while holding the lock (about 200 us): long enough that the others queue. */
__attribute__((noinline, noclone)) void take_hot(unsigned long *mine)
{
	unsigned long x = *mine;

	pthread_mutex_lock(&hot_lock);
	x = spin(x, 200000);
	sink += x;
	pthread_mutex_unlock(&hot_lock);
	*mine = x;
	__asm__ volatile("" ::: "memory"); /* no tail call: take_hot stays a frame */
}

__attribute__((noinline, noclone)) void contend_loop(long rounds)
{
	unsigned long mine = 1;
	long r;

	for (r = 0; r < rounds; r++) {
		take_hot(&mine);
		mine = spin(mine, 50000); /* and a little outside it */
		__asm__ volatile("" ::: "memory");
	}
	sink += mine;
}

static long rounds = 500;

static void *worker(void *arg)
{
	(void)arg;
	contend_loop(rounds);
	snap("worker");
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3, i;
	pthread_t *t;

	if (argc > 2)
		rounds = atol(argv[2]);
	if (n < 1 || n > 64 || rounds < 1) {
		fprintf(stderr, "usage: stackhot [threads 1..64] [rounds]\n");
		return 2;
	}
	t = calloc((size_t)n, sizeof(*t));
	for (i = 0; t && i < n; i++)
		if (pthread_create(&t[i], NULL, worker, NULL))
			return 1;
	for (i = 0; t && i < n; i++)
		pthread_join(t[i], NULL);
	snap("main");
	free(t);
	return 0;
}
