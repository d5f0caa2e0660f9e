// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * storm.c: a context-switch storm for the benchmarks (tools/bench).
 *
 * Each pair is two processes that pass one byte back and forth through two
 * pipes: the leader writes to the partner and reads the answer, the partner
 * reads and answers. With both pinned to one CPU every round trip is two
 * context switches and two wake-ups, with nothing else in between.
 *
 *   storm [-n ROUNDS | -t SECONDS] [-p PAIRS] [-c CPU | -u]
 *     -n ROUNDS   round trips per pair (default 100000)
 *     -t SECONDS  run for this long instead (checked every 256 round trips)
 *     -p PAIRS    ping-pong pairs running at once (default 1)
 *     -c CPU      pin every process to this CPU (default 0)
 *     -u          do not pin
 *
 * Prints one line on stdout:
 *   storm: pairs=P rounds=R elapsed_s=E us_per_rt=U rt_per_s=S
 * us_per_rt is the mean over pairs of (the pair's loop time / its round
 * trips), timed with CLOCK_MONOTONIC around the loop only (after every
 * process exists and has been pinned, before any exits); rt_per_s is all
 * pairs' round trips over the longest pair's loop time.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "pin.h"

#define MAX_PAIRS 256

struct result {
	uint64_t rounds;
	uint64_t ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "storm: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void pin(int cpu)
{
	if (bench_pin(cpu))
		die("sched_setaffinity");
}

static void xread(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len) {
		if (n < 0)
			die("read");
		fprintf(stderr, "storm: short read (%zd)\n", n);
		exit(1);
	}
}

static void xwrite(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len)
		die("write");
}

/* The partner: answer every byte until the leader closes its end. */
static void partner(int in, int out)
{
	char c;
	ssize_t n;

	for (;;) {
		n = read(in, &c, 1);
		if (n == 0)
			_exit(0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		xwrite(out, &c, 1);
	}
}

/*
 * The leader: wait for the start byte, run the loop, report. A stop byte of
 * 0 means "count rounds", else the loop runs until `seconds` have passed.
 */
static void leader(int cpu, uint64_t rounds, double seconds, int start_fd, int result_fd)
{
	int ab[2], ba[2];
	struct result r = { 0, 0 };
	uint64_t t0, deadline = 0, i;
	char c = 'x';
	pid_t p;

	if (pipe(ab) || pipe(ba))
		die("pipe");
	p = fork();
	if (p < 0)
		die("fork");
	if (p == 0) {
		close(ab[1]);
		close(ba[0]);
		close(start_fd);
		close(result_fd);
		pin(cpu);
		partner(ab[0], ba[1]);
	}
	close(ab[0]);
	close(ba[1]);
	pin(cpu);
	/* warm-up: both sides exist and are pinned before timing starts */
	xwrite(ab[1], &c, 1);
	xread(ba[0], &c, 1);
	xread(start_fd, &c, 1);
	close(start_fd);
	t0 = now_ns();
	if (seconds > 0) {
		deadline = t0 + (uint64_t)(seconds * 1e9);
		for (;;) {
			for (i = 0; i < 256; i++) {
				xwrite(ab[1], &c, 1);
				xread(ba[0], &c, 1);
			}
			r.rounds += 256;
			if (now_ns() >= deadline)
				break;
		}
	} else {
		for (i = 0; i < rounds; i++) {
			xwrite(ab[1], &c, 1);
			xread(ba[0], &c, 1);
		}
		r.rounds = rounds;
	}
	r.ns = now_ns() - t0;
	close(ab[1]);
	close(ba[0]);
	waitpid(p, NULL, 0);
	xwrite(result_fd, &r, sizeof(r));
	_exit(0);
}

static void usage(void)
{
	fprintf(stderr, "usage: storm [-n ROUNDS | -t SECONDS] [-p PAIRS] [-c CPU | -u]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long rounds = 100000, pairs = 1;
	double seconds = 0, us_sum = 0;
	uint64_t total = 0, longest = 0;
	int cpu = 0, opt, start[2], res[2], status, failed = 0;
	pid_t pids[MAX_PAIRS];
	unsigned long i;
	char *end;

	while ((opt = getopt(argc, argv, "n:t:p:c:uh")) != -1) {
		switch (opt) {
		case 'n':
			rounds = strtoul(optarg, &end, 10);
			if (*end || !rounds)
				usage();
			break;
		case 't':
			seconds = strtod(optarg, &end);
			if (*end || seconds <= 0)
				usage();
			break;
		case 'p':
			pairs = strtoul(optarg, &end, 10);
			if (*end || !pairs || pairs > MAX_PAIRS)
				usage();
			break;
		case 'c':
			cpu = (int)strtol(optarg, &end, 10);
			if (*end || cpu < 0)
				usage();
			break;
		case 'u':
			cpu = -1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (pipe(start) || pipe(res))
		die("pipe");
	for (i = 0; i < pairs; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (pids[i] == 0) {
			close(start[1]);
			close(res[0]);
			leader(cpu, rounds, seconds, start[0], res[1]);
		}
	}
	close(start[0]);
	close(res[1]);
	/* one start byte per leader: they begin together */
	for (i = 0; i < pairs; i++)
		xwrite(start[1], "g", 1);
	close(start[1]);
	for (i = 0; i < pairs; i++) {
		struct result r;

		xread(res[0], &r, sizeof(r));
		total += r.rounds;
		if (r.ns > longest)
			longest = r.ns;
		us_sum += (double)r.ns / 1e3 / (double)r.rounds;
	}
	for (i = 0; i < pairs; i++) {
		if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			failed = 1;
	}
	printf("storm: pairs=%lu rounds=%llu elapsed_s=%.6f us_per_rt=%.4f rt_per_s=%.0f\n",
	       pairs, (unsigned long long)total, (double)longest / 1e9, us_sum / (double)pairs,
	       (double)total / ((double)longest / 1e9));
	fflush(stdout);
	return failed;
}
