/* lockpool: NTHREADS threads of a pool each take one global mutex ITERS
 * times and do all their work inside it (INSIDE_US of computing), with a
 * moment outside (OUTSIDE_US): the pool runs one thread at a time, its
 * threads queued on the lock.
 * usage: lockpool [NTHREADS=4] [ITERS=400] [INSIDE_US=2000] [OUTSIDE_US=20] */
#include <pthread.h>
#include "snap.h"

pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static int iters = 400;
static double inside = 0.002, outside = 0.00002;
static unsigned long total;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < iters; i++) {
		pthread_mutex_lock(&pool_lock);
		total += spin_for(inside);
		pthread_mutex_unlock(&pool_lock);
		spin_for(outside);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	pthread_t th[64];
	char name[16];

	iters = argc > 2 ? atoi(argv[2]) : iters;
	inside = argc > 3 ? atof(argv[3]) / 1e6 : inside;
	outside = argc > 4 ? atof(argv[4]) / 1e6 : outside;
	if (n < 1 || n > 64)
		return 2;
	for (int i = 0; i < n; i++) {
		if (pthread_create(&th[i], NULL, worker, NULL))
			return 2;
		snprintf(name, sizeof(name), "pool-%d", i);
		pthread_setname_np(th[i], name);
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	printf("total %lu\n", total);
	return 0;
}
