/* critchain: a chain of processes whose critical path is known, for the
 * critical-path test.
 *
 * The parent sleeps 200 ms (a timer wakes it), then forks a child and
 * waits for it. The child runs 300 ms of CPU time, then forks a grandchild
 * and waits for it. The grandchild makes a pipe, forks a worker and reads
 * the pipe; the worker runs 100 ms of CPU time and writes a byte. Then each
 * exits and its parent with it. So the parent's path back from its exit:
 * the worker's 100 ms, the child's 300 ms, the parent's 200 ms of sleep,
 * and a few ms of forks, exits and waiting for a CPU.
 *
 * Each process names itself (cp-parent, cp-child, cp-grandchild,
 * cp-worker) and prints "critchain NAME PID" as it starts.
 * usage: critchain */
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Run until this thread has had ms of CPU time (preemption does not count). */
static void run_cpu_ms(long ms)
{
	struct timespec ts;
	volatile unsigned long x = 0;
	long long end;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	end = ts.tv_sec * 1000000000ll + ts.tv_nsec + ms * 1000000ll;
	do {
		for (int i = 0; i < 1000; i++)
			x += (unsigned long)i * 2654435761u;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	} while (ts.tv_sec * 1000000000ll + ts.tv_nsec < end);
}

static void named(const char *name)
{
	prctl(PR_SET_NAME, name);
	printf("critchain %s %d\n", name, getpid());
	fflush(stdout);
}

/* Fork fn's process and wait for it; exit 2 if anything fails. */
static void fork_wait(void (*fn)(void))
{
	int st;
	pid_t p = fork();

	if (p < 0)
		exit(2);
	if (!p) {
		fn();
		exit(0);
	}
	if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st))
		exit(2);
}

static void grandchild(void)
{
	int fd[2];
	char c;
	pid_t w;

	named("cp-grandchild");
	if (pipe(fd))
		exit(2);
	w = fork();
	if (w < 0)
		exit(2);
	if (!w) {
		named("cp-worker");
		run_cpu_ms(100);
		if (write(fd[1], "x", 1) != 1)
			exit(2);
		exit(0);
	}
	if (read(fd[0], &c, 1) != 1 || waitpid(w, NULL, 0) != w)
		exit(2);
}

static void child(void)
{
	named("cp-child");
	run_cpu_ms(300);
	fork_wait(grandchild);
}

int main(void)
{
	struct timespec d = { 0, 200 * 1000000l };

	named("cp-parent");
	nanosleep(&d, NULL);
	fork_wait(child);
	return 0;
}
