/* mutexhot: NTHREADS threads take one global mutex ITERS times each and
 * compute a little inside it, so they queue on it; then report counters.
 * usage: mutexhot [NTHREADS=4] [ITERS=2000] */
#include <pthread.h>
#include "snap.h"

pthread_mutex_t hot_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long shared_sum;
static int iters = 2000;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < iters; i++) {
		pthread_mutex_lock(&hot_lock);
		shared_sum += spin_for(0.0002);
		pthread_mutex_unlock(&hot_lock);
		spin_for(0.00005);
	}
	snap("worker");
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	pthread_t th[64];

	iters = argc > 2 ? atoi(argv[2]) : 2000;
	if (n < 1 || n > 64)
		return 2;
	for (int i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, worker, NULL))
			return 2;
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	printf("hot_lock at %p\n", (void *)&hot_lock);
	snap("main");
	return 0;
}
