/* snap.h: test programs report the kernel's own counters for a thread.
 *
 * A line "SNAP <label> tid=T nvcsw=N nivcsw=M run_ns=R wait_ns=W pre_main_ns=P"
 * is written with one write(2), taken from /proc/self/task/TID/{status,schedstat}
 * just before the thread ends (those files vanish with it). P is the CPU time
 * the process's first thread had used when main() was about to run (its time
 * in the parent before exec, exec itself, the dynamic loader), 0 for other
 * threads: the part of run_ns that may precede a tracer's window.
 */
#ifndef SNAP_H
#define SNAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline long long snap_field(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? atoll(p + strlen(key)) : -1;
}

static long long snap_pre_main_ns;
static pid_t snap_main_tid;

__attribute__((constructor)) static void snap_at_start(void)
{
	struct timespec cpu;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	snap_pre_main_ns = (long long)cpu.tv_sec * 1000000000ll + cpu.tv_nsec;
	snap_main_tid = (pid_t)syscall(SYS_gettid);
}

static inline void snap(const char *label)
{
	char path[128], buf[4096], line[256];
	long long run = -1, wait = -1;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	FILE *f;
	size_t n;

	/*
	 * schedstat's run time is the task's sum_exec_runtime, which the
	 * kernel folds in only at ticks and switches; asking for the thread's
	 * CPU clock brings it up to date first.
	 */
	struct timespec cpu;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lld %lld", &run, &wait) != 2)
			run = wait = -1;
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "r");
	n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	n = (size_t)snprintf(line, sizeof(line), "SNAP %s tid=%d nvcsw=%lld nivcsw=%lld run_ns=%lld wait_ns=%lld pre_main_ns=%lld\n",
			     label, tid, snap_field(buf, "voluntary_ctxt_switches:"),
			     snap_field(buf, "nonvoluntary_ctxt_switches:"), run, wait,
			     tid == snap_main_tid ? snap_pre_main_ns : 0);
	if (write(STDOUT_FILENO, line, n) < 0)
		exit(3);
}

static inline double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Burn CPU for `s` seconds of wall time. */
static inline unsigned long spin_for(double s)
{
	double end = now_s() + s;
	volatile unsigned long x = 0;

	while (now_s() < end)
		for (int i = 0; i < 1000; i++)
			x += (unsigned long)i * 2654435761u;
	return x;
}

#endif
