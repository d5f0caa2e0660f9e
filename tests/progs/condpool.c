/* condpool: a pool of NTHREADS workers waiting on a condition variable for
 * work that comes only after SECONDS, then one item each; the main thread
 * joins them. An idle pool: its workers wait for work, not for a lock.
 * usage: condpool [NTHREADS=4] [SECONDS=1] */
#include <pthread.h>
#include "snap.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int work;

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	while (!work)
		pthread_cond_wait(&cv, &mu);
	work--;
	pthread_mutex_unlock(&mu);
	snap("worker");
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	double seconds = argc > 2 ? atof(argv[2]) : 1;
	struct timespec ts = { (time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9) };
	pthread_t th[64];

	if (n < 1 || n > 64)
		return 2;
	for (int i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, worker, NULL))
			return 2;
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&mu);
	work = n;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	snap("main");
	return 0;
}
