/* proctitle: a stand-in for PostgreSQL in the tests. The parent forks NCHILD
 * workers; each rewrites its own argv in place, the way PostgreSQL, nginx and
 * stress-ng do on Linux (the title over argv[0], NUL bytes over the rest of
 * the arguments' area, so that /proc/PID/cmdline reads "proctitle: worker N"
 * while its comm stays "proctitle"), sets its nice value to NICE, then
 * computes 5 ms and sleeps 5 ms in turn for SECONDS (0: until killed) and
 * exits. The parent prints "ready" once every worker has its title, and with
 * TITLE_PARENT 1 retitles itself "proctitle: parent" after that.
 * usage: proctitle [NCHILD=3] [SECONDS=0.5] [NICE=0] [TITLE_PARENT=0] */
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "snap.h"

/* Write title over the arguments' area, NUL-padded to its end. */
static void set_title(int argc, char **argv, const char *title)
{
	char *end = argv[0];
	size_t room, n;
	int i;

	for (i = 0; i < argc && argv[i] == end; i++)
		end = argv[i] + strlen(argv[i]) + 1; /* the arguments lie back to back */
	room = (size_t)(end - argv[0]);
	n = strlen(title) < room - 1 ? strlen(title) : room - 1;
	memcpy(argv[0], title, n);
	memset(argv[0] + n, 0, room - n);
}

static void worker(int argc, char **argv, int i, double seconds, int nice_value, int ready)
{
	struct timespec ts = { 0, 5000000 };
	char title[64];
	double end;

	snprintf(title, sizeof(title), "proctitle: worker %d", i);
	set_title(argc, argv, title);
	if (nice_value && setpriority(PRIO_PROCESS, 0, nice_value))
		_exit(4);
	if (write(ready, "x", 1) != 1)
		_exit(5);
	end = now_s() + seconds;
	while (!seconds || now_s() < end) {
		spin_for(0.005);
		nanosleep(&ts, NULL);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3, nice_value = argc > 3 ? atoi(argv[3]) : 0;
	double seconds = argc > 2 ? atof(argv[2]) : 0.5;
	bool title_parent = argc > 4 && atoi(argv[4]);
	int p[2], i, st, fails = 0;
	char c;

	if (n < 1 || n > 64 || pipe(p))
		return 2;
	for (i = 1; i <= n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 3;
		if (pid == 0) {
			close(p[0]);
			worker(argc, argv, i, seconds, nice_value, p[1]);
		}
	}
	close(p[1]);
	for (i = 0; i < n; i++)
		if (read(p[0], &c, 1) != 1)
			return 6;
	printf("ready\n");
	fflush(stdout);
	if (title_parent)
		set_title(argc, argv, "proctitle: parent");
	while (wait(&st) > 0)
		fails += !WIFEXITED(st) || WEXITSTATUS(st);
	return fails ? 1 : 0;
}
