/* shmlock: NPROC forked processes of 2 threads each take turns on two mutexes
 * for SECONDS: one process-shared, in anonymous shared memory the parent
 * mapped before forking (as PostgreSQL and stress-ng keep theirs), and one
 * of each process's own, own_lock, at the same address in every process.
 * Each turn holds a lock 200 us.
 * usage: shmlock [NPROC=2] [SECONDS=0.5] */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "snap.h"

static pthread_mutex_t own_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t *shared_lock;
static double seconds = 0.5;

static void *worker(void *arg)
{
	double end = now_s() + seconds;

	(void)arg;
	while (now_s() < end) {
		pthread_mutex_lock(shared_lock);
		spin_for(0.0002);
		pthread_mutex_unlock(shared_lock);
		pthread_mutex_lock(&own_lock);
		spin_for(0.0002);
		pthread_mutex_unlock(&own_lock);
	}
	return NULL;
}

static void child(void)
{
	pthread_t th[2];
	int i;

	for (i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, worker, NULL))
			_exit(4);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	_exit(0);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2, i, st, fails = 0;
	pthread_mutexattr_t a;

	if (argc > 2)
		seconds = atof(argv[2]);
	shared_lock = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared_lock == MAP_FAILED || n < 1 || n > 16)
		return 2;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(shared_lock, &a);
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 3;
		if (pid == 0)
			child();
	}
	while (wait(&st) > 0)
		fails += !WIFEXITED(st) || WEXITSTATUS(st);
	printf("shared_lock at %p, own_lock at %p\n", (void *)shared_lock, (void *)&own_lock);
	return fails ? 1 : 0;
}
