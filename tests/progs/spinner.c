/* spinner: NTHREADS threads each spin for SECONDS, pinned to CPU (or not,
 * with -1), then report their counters; the main thread joins them.
 * usage: spinner [SECONDS=1] [NTHREADS=1] [CPU=-1] */
#include <pthread.h>
#include <sched.h>
#include "snap.h"

static double seconds = 1.0;
static int cpu = -1;

static void *worker(void *arg)
{
	(void)arg;
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			exit(2);
		sched_yield(); /* move to the CPU now, before the measured part */
	}
	spin_for(seconds);
	snap("worker");
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 1;
	pthread_t th[64];

	seconds = argc > 1 ? atof(argv[1]) : 1.0;
	cpu = argc > 3 ? atoi(argv[3]) : -1;
	if (n < 1 || n > 64)
		return 2;
	for (int i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, worker, NULL))
			return 2;
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	snap("main");
	return 0;
}
