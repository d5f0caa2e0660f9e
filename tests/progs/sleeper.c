/* sleeper: sleeps COUNT times for MS milliseconds, then reports its counters.
 * usage: sleeper [COUNT=20] [MS=50] */
#include <stdlib.h>
#include <time.h>
#include "snap.h"

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 20, ms = argc > 2 ? atoi(argv[2]) : 50;
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	for (int i = 0; i < count; i++)
		nanosleep(&ts, NULL);
	snap("main");
	return 0;
}
