/* mixer: NTHREADS threads that alternate 5 ms of computing with 5 ms of
 * sleeping, forever (for attach), or for SECONDS then report counters.
 * Prints "ready" once every thread is running.
 * usage: mixer NTHREADS [SECONDS=0 (forever)] */
#include <pthread.h>
#include "snap.h"

static double seconds;
static pthread_barrier_t started;

static void *worker(void *arg)
{
	struct timespec ts = { 0, 5000000 };
	double end = now_s() + seconds;

	(void)arg;
	pthread_barrier_wait(&started);
	while (!seconds || now_s() < end) {
		spin_for(0.005);
		nanosleep(&ts, NULL);
	}
	snap("worker");
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	pthread_t th[64];

	seconds = argc > 2 ? atof(argv[2]) : 0;
	if (n < 1 || n > 64)
		return 2;
	pthread_barrier_init(&started, NULL, (unsigned)n + 1);
	for (int i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, worker, NULL))
			return 2;
	pthread_barrier_wait(&started);
	if (write(STDOUT_FILENO, "ready\n", 6) < 0)
		return 3;
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	snap("main");
	return 0;
}
