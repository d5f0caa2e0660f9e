/* evloop: an event loop (epoll on a timerfd ticking every 2 ms) that, on
 * three known turns, does something that holds the loop up: it sleeps
 * SLEEP_MS, reads a pipe that a helper thread writes READ_MS later, and
 * computes for SPIN_MS. Every other turn takes microseconds. Then it
 * reports when each episode began and how long it took (CLOCK_BOOTTIME, ns),
 * one line each: "EPISODE <what> start=<ns> dur=<ns>".
 * usage: evloop [SLEEP_MS=120] [READ_MS=90] [SPIN_MS=60] */
#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include "snap.h"

static int pipefd[2];
static long read_ms;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts))
		;
}

/* The helper: told to go, it waits read_ms and writes the pipe. */
static void *writer(void *arg)
{
	int go = *(int *)arg;
	char c;

	if (read(go, &c, 1) != 1)
		exit(2);
	sleep_ms(read_ms);
	if (write(pipefd[1], "x", 1) != 1)
		exit(2);
	return NULL;
}

static void episode(const char *what, int turn, long ms, int go)
{
	uint64_t t0 = now_ns(), t1;
	char c;

	if (turn == 0) {
		sleep_ms(ms);
	} else if (turn == 1) {
		if (write(go, "g", 1) != 1 || read(pipefd[0], &c, 1) != 1)
			exit(2);
	} else {
		while (now_ns() - t0 < (uint64_t)ms * 1000000)
			;
	}
	t1 = now_ns();
	printf("EPISODE %s start=%llu dur=%llu\n", what, (unsigned long long)t0,
	       (unsigned long long)(t1 - t0));
}

int main(int argc, char **argv)
{
	long ms[3] = { 120, 90, 60 };
	const char *what[3] = { "sleep", "read", "spin" };
	struct itimerspec it = { { 0, 2000000 }, { 0, 2000000 } };
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int tfd, ep, gopipe[2], turn, next = 0, i;
	pthread_t th;
	uint64_t ticks;

	for (i = 0; i < 3 && i + 1 < argc; i++)
		ms[i] = atol(argv[i + 1]);
	read_ms = ms[1];
	if (pipe(pipefd) || pipe(gopipe) || pthread_create(&th, NULL, writer, &gopipe[0]))
		return 2;
	tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	ep = epoll_create1(0);
	ev.data.fd = tfd;
	if (tfd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) ||
	    timerfd_settime(tfd, 0, &it, NULL))
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* 30 quick turns between the episodes, and after the last */
	for (turn = 0; turn < 120; turn++) {
		if (epoll_wait(ep, &out, 1, -1) != 1 || read(tfd, &ticks, sizeof(ticks)) != 8)
			return 2;
		if (turn % 30 == 29 && next < 3) {
			episode(what[next], next, ms[next], gopipe[1]);
			next++;
		}
	}
	pthread_join(th, NULL);
	return 0;
}
