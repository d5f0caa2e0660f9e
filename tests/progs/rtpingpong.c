/* rtpingpong: PAIRS pairs of threads ping-ponging a byte through two pipes,
 * pair i pinned to CPU i % ncpus, for SECONDS, at SCHED_FIFO priority PRIO
 * (0: SCHED_OTHER); then each thread reports its counters (snap.h).
 * A real-time load above concscope's reader starves it: with a small ring
 * buffer, events are lost, and the totals must stay exact anyway.
 * usage: rtpingpong [PAIRS=2] [SECONDS=2] [PRIO=1] */
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include "snap.h"

struct side {
	int in, out, cpu;
	bool first;
};

static double seconds = 2;
static int prio = 1;
static pthread_barrier_t started;

static void *pingpong(void *arg)
{
	struct side *s = arg;
	double end;
	cpu_set_t set;
	char c = 'x';

	CPU_ZERO(&set);
	CPU_SET(s->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		exit(4);
	if (prio) {
		struct sched_param sp = { .sched_priority = prio };

		if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp))
			exit(5);
	}
	pthread_barrier_wait(&started);
	end = now_s() + seconds;
	if (s->first && write(s->out, &c, 1) != 1)
		exit(3);
	while (read(s->in, &c, 1) == 1) {
		if (now_s() >= end) {
			close(s->out); /* the other side reads EOF and stops */
			break;
		}
		if (write(s->out, &c, 1) != 1)
			break;
	}
	snap("pingpong");
	return NULL;
}

int main(int argc, char **argv)
{
	int pairs = argc > 1 ? atoi(argv[1]) : 2, n = 0, i;
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t th[64];
	struct side sides[64];

	seconds = argc > 2 ? atof(argv[2]) : 2;
	prio = argc > 3 ? atoi(argv[3]) : 1;
	if (pairs < 1 || pairs > 32 || ncpus < 1)
		return 2;
	pthread_barrier_init(&started, NULL, (unsigned)(2 * pairs + 1));
	for (i = 0; i < pairs; i++) {
		int a[2], b[2];

		if (pipe(a) || pipe(b))
			return 2;
		sides[n] = (struct side){ a[0], b[1], (int)(i % ncpus), true };
		sides[n + 1] = (struct side){ b[0], a[1], (int)(i % ncpus), false };
		n += 2;
	}
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, pingpong, &sides[i]))
			return 2;
	pthread_barrier_wait(&started);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	snap("main");
	return 0;
}
